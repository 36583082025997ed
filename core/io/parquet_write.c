/*
** parquet_write.c -- tl_write_parquet: a table as a Parquet file. Rows are
** cut into row groups; the column chunks of a few row groups at a time are
** encoded in parallel (parquet_chunk.c), then written in order, and each
** row group's entry in the footer (FileMetaData, Thrift compact) is added
** as its chunks land. The file is written beside the target and renamed
** over it at the end, so that a failure leaves no partial file.
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/parse.h"
#include "base/pool.h"
#include "base/table.h"
#include "io/parquet.h"
#include "io/parquet_write.h"
#include "io/stream_write.h"
#include "io/thrift_write.h"

#define OP "write_parquet"
#define DEFAULT_ROW_GROUP ((int64_t)1 << 20)

static const struct { const char *name; int codec; } codecs[] = {
  { "zstd", PQ_ZSTD }, { "snappy", PQ_SNAPPY }, { "gzip", PQ_GZIP }, { "lz4", PQ_LZ4_RAW },
  { "none", PQ_UNCOMPRESSED },
};

void tl_parquet_write_options_init(tl_parquet_write_options *opts) {
  memset(opts, 0, sizeof *opts);
}

/* One file being written. */
typedef struct writer {
  const tl_table *t;
  const char *path;
  FILE *f;
  int64_t pos;                      /* bytes written so far */
  int codec;
  int64_t group_rows;
  th_writer meta;                   /* the footer */
  th_writer groups;                 /* its row groups, added as they land */
  int64_t ngroups, nrows;           /* written so far */
  pqw_chunk *chunks;                /* a batch: ncol chunks per row group */
  size_t nchunks;
  tl_error *err;
} writer;

static tl_status io_error(writer *w, int e) {
  return tl_error_set(w->err, TL_EIO, "%s: %s: cannot write: %s", OP, w->path, strerror(e));
}

static tl_status put(writer *w, const void *p, size_t n) {
  if (n && fwrite(p, 1, n, w->f) != n) return io_error(w, errno ? errno : EIO);
  w->pos += (int64_t)n;
  return TL_OK;
}

/* The schema element of column j: its physical, converted and logical type. */
static void schema_column(th_writer *m, const char *name, tl_type type) {
  thw_begin(m);
  thw_field_i32(m, 1, pqw_physical(type));
  thw_field_i32(m, 3, 1);                        /* OPTIONAL */
  thw_field_string(m, 4, name);
  if (type == TL_STRING) {
    thw_field_i32(m, 6, 0);                      /* UTF8 */
    thw_field_struct(m, 10);
    thw_field_empty(m, 1);                       /* STRING */
    thw_end(m);
  } else if (type == TL_DATE) {
    thw_field_i32(m, 6, 6);                      /* DATE */
    thw_field_struct(m, 10);
    thw_field_empty(m, 6);
    thw_end(m);
  } else if (type == TL_TIMESTAMP) {
    thw_field_i32(m, 6, 10);                     /* TIMESTAMP_MICROS */
    thw_field_struct(m, 10);
    thw_field_struct(m, 8);                      /* TIMESTAMP */
    thw_field_bool(m, 1, 0);                     /* isAdjustedToUTC: a local time */
    thw_field_struct(m, 2);
    thw_field_empty(m, 2);                       /* MICROS */
    thw_end(m);
    thw_end(m);
    thw_end(m);
  }
  thw_end(m);
}

/* FileMetaData up to the header of the row group list. */
static void footer_head(writer *w) {
  th_writer *m = &w->meta;
  const tl_table *t = w->t;
  thw_begin(m);
  thw_field_i32(m, 1, 1);
  thw_field_list(m, 2, TH_STRUCT, (uint32_t)t->ncol + 1);
  thw_begin(m);
  thw_field_string(m, 4, "schema");
  thw_field_i32(m, 5, t->ncol);
  thw_end(m);
  for (int j = 0; j < t->ncol; j++) schema_column(m, t->names[j], t->cols[j]->type);
  thw_field_i64(m, 3, w->nrows);
  thw_field_list(m, 4, TH_STRUCT, (uint32_t)w->ngroups);
}

static void footer_tail(writer *w) {
  th_writer *m = &w->meta;
  thw_field_string(m, 6, "tally version " TALLY_VERSION);
  thw_field_list(m, 7, TH_STRUCT, (uint32_t)w->t->ncol);
  for (int j = 0; j < w->t->ncol; j++) {
    thw_begin(m);
    thw_field_empty(m, 1);                       /* TYPE_ORDER */
    thw_end(m);
  }
  thw_end(m);
}

/* The ColumnChunk entry of chunk c, which starts at file offset `at`. */
static void chunk_meta(writer *w, const pqw_chunk *c, int64_t at) {
  th_writer *m = &w->groups;
  thw_begin(m);
  thw_field_i64(m, 2, at);
  thw_field_struct(m, 3);
  thw_field_i32(m, 1, pqw_physical(c->col->type));
  thw_field_list(m, 2, TH_I32, c->has_dict ? 3 : 2);
  thw_i32(m, PQ_PLAIN);
  thw_i32(m, PQ_RLE);
  if (c->has_dict) thw_i32(m, PQ_RLE_DICTIONARY);
  thw_field_list(m, 3, TH_BINARY, 1);
  thw_string(m, c->name);
  thw_field_i32(m, 4, w->codec);
  thw_field_i64(m, 5, c->nrows);
  thw_field_i64(m, 6, c->uncompressed);
  thw_field_i64(m, 7, (int64_t)c->len);
  thw_field_i64(m, 9, at + (int64_t)c->data_off);
  if (c->has_dict) thw_field_i64(m, 11, at);
  thw_field_struct(m, 12);
  thw_field_i64(m, 3, c->null_count);
  if (c->has_minmax) {
    thw_field_binary(m, 5, c->max, c->max_len);
    thw_field_binary(m, 6, c->min, c->min_len);
  }
  thw_end(m);
  thw_end(m);
  thw_end(m);
}

/* Writes row group g (its chunks encoded) and adds its footer entry. */
static tl_status put_group(writer *w, pqw_chunk *cs, int g) {
  int ncol = w->t->ncol;
  int64_t start = w->pos, usize = 0;
  th_writer *m = &w->groups;
  thw_begin(m);
  thw_field_list(m, 1, TH_STRUCT, (uint32_t)ncol);
  for (int j = 0; j < ncol; j++) {
    pqw_chunk *c = &cs[j];
    chunk_meta(w, c, w->pos);
    usize += c->uncompressed;
    TL_TRY(put(w, c->buf, c->len));
    pqw_chunk_free(c);
  }
  thw_field_i64(m, 2, usize);
  thw_field_i64(m, 3, cs[0].nrows);
  thw_field_i64(m, 5, start);
  thw_field_i64(m, 6, w->pos - start);
  thw_field(m, 7, TH_I16);
  thw_i32(m, g);
  thw_end(m);
  return TL_OK;
}

static void encode_task(void *ctx, int64_t task, int worker) {
  (void)worker;
  pqw_chunk_encode(&((writer *)ctx)->chunks[task]);
}

/* Row groups [g0, g1): encoded in parallel, then written in order. */
static tl_status put_batch(writer *w, int64_t g0, int64_t g1) {
  const tl_table *t = w->t;
  int ncol = t->ncol;
  int64_t n = (g1 - g0) * ncol;
  for (int64_t k = 0; k < n; k++) {
    pqw_chunk *c = &w->chunks[k];
    int64_t g = g0 + k / ncol;
    int j = (int)(k % ncol);
    memset(c, 0, sizeof *c);
    c->col = t->cols[j];
    c->file = w->path;
    c->name = t->names[j];
    c->group = (int)(w->ngroups + g);
    c->row0 = g * w->group_rows;
    c->nrows = t->nrows - c->row0 < w->group_rows ? t->nrows - c->row0 : w->group_rows;
    c->codec = w->codec;
  }
  tl_parallel_for(n, encode_task, w);
  tl_status st = TL_OK;
  for (int64_t k = 0; k < n && st == TL_OK; k++)
    if (w->chunks[k].st != TL_OK) {
      st = w->chunks[k].st;
      *w->err = w->chunks[k].err;
    }
  for (int64_t g = g0; g < g1 && st == TL_OK; g++)
    st = put_group(w, &w->chunks[(g - g0) * ncol], (int)(w->ngroups + g));
  for (int64_t k = 0; k < n; k++) pqw_chunk_free(&w->chunks[k]);
  return st;
}

/* The rows of w->t as the next row groups. */
static tl_status write_groups(writer *w) {
  const tl_table *t = w->t;
  int64_t ngroups = t->ncol ? (t->nrows + w->group_rows - 1) / w->group_rows : 0;
  int threads = tl_env_get_threads(tl_env_current());
  int64_t batch = t->ncol == 0 || t->ncol >= threads ? 1 : (threads + t->ncol - 1) / t->ncol;
  if (w->ngroups + ngroups > 0x7fff) return tl_error_set(w->err, TL_ELIMIT,
      "%s: %s: %lld row groups: over 32767, set a larger row_group_size", OP, w->path,
      (long long)(w->ngroups + ngroups));
  size_t need = (size_t)(batch * (t->ncol ? t->ncol : 1));
  if (need > w->nchunks) {
    tl_free(w->chunks);
    if (!(w->chunks = tl_calloc(need, sizeof *w->chunks))) return tl_error_oom(w->err, OP);
    w->nchunks = need;
  }
  for (int64_t g = 0; g < ngroups; g += batch) {
    if (tl_interrupted()) return tl_error_interrupted(w->err, OP);
    TL_TRY(put_batch(w, g, g + batch < ngroups ? g + batch : ngroups));
  }
  w->ngroups += ngroups;
  w->nrows += t->nrows;
  return TL_OK;
}

/* The footer (w->t gives the names and types) and the closing magic. */
static tl_status write_footer(writer *w) {
  footer_head(w);
  thw_bytes(&w->meta, w->groups.buf, w->groups.len);
  footer_tail(w);
  if (w->meta.failed || w->groups.failed) return tl_error_oom(w->err, OP);
  uint8_t tail[8] = { (uint8_t)w->meta.len, (uint8_t)(w->meta.len >> 8),
                      (uint8_t)(w->meta.len >> 16), (uint8_t)(w->meta.len >> 24),
                      'P', 'A', 'R', '1' };
  TL_TRY(put(w, w->meta.buf, w->meta.len));
  return put(w, tail, 8);
}

static tl_status write_body(writer *w) {
  TL_TRY(put(w, "PAR1", 4));
  TL_TRY(write_groups(w));
  return write_footer(w);
}

static tl_status check_options(const tl_parquet_write_options *opts, writer *w) {
  w->codec = PQ_ZSTD;
  w->group_rows = DEFAULT_ROW_GROUP;
  if (!opts) return TL_OK;
  if (opts->row_group_size < 0)
    return tl_error_set(w->err, TL_EINVAL, "%s: row_group_size must be positive, got %lld", OP,
                        (long long)opts->row_group_size);
  if (opts->row_group_size > 0x7fffffff)
    return tl_error_set(w->err, TL_EINVAL, "%s: row_group_size of %lld: over 2147483647 rows",
                        OP, (long long)opts->row_group_size);
  if (opts->row_group_size > 0) w->group_rows = opts->row_group_size;
  if (!opts->compression) return TL_OK;
  for (size_t k = 0; k < sizeof codecs / sizeof *codecs; k++)
    if (strcmp(opts->compression, codecs[k].name) == 0) {
      w->codec = codecs[k].codec;
      return TL_OK;
    }
  return tl_error_set(w->err, TL_EINVAL, "%s: unknown compression '%s' (one of zstd, snappy, "
                      "gzip, lz4, none)", OP, opts->compression);
}

tl_status tl_write_parquet(const tl_table *t, const char *path,
                           const tl_parquet_write_options *opts, tl_error *err) {
  writer w;
  memset(&w, 0, sizeof w);
  w.t = t;
  w.path = path;
  w.err = err;
  TL_TRY(check_options(opts, &w));
  TL_TRY(tl_table_check_files(t, OP, err));
  TL_TRY(tl_table_check_utf8(t, OP, err));   /* readers want UTF-8 strings */
  if (tl_interrupted()) return tl_error_interrupted(err, OP);
  size_t plen = strlen(path);
  char *tmp = tl_alloc(plen + 5);
  if (!tmp) return tl_error_oom(err, OP);
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp", 5);
  thw_init(&w.meta);
  thw_init(&w.groups);
  tl_status st = TL_OK;
  w.f = fopen(tmp, "wb");
  if (!w.f) {
    st = tl_error_set(err, TL_EIO, "%s: %s: cannot open '%s': %s", OP, path, tmp,
                      strerror(errno));
  } else {
    st = write_body(&w);
    int bad = fclose(w.f) != 0;
    if (st == TL_OK && bad) st = io_error(&w, errno);
    if (st == TL_OK && rename(tmp, path) != 0)
      st = tl_error_set(err, TL_EIO, "%s: %s: cannot rename '%s' to it: %s", OP, path, tmp,
                        strerror(errno));
    if (st != TL_OK) remove(tmp);
  }
  thw_free(&w.meta);
  thw_free(&w.groups);
  tl_free(w.chunks);
  tl_free(tmp);
  return st;
}

/* ---------------------------------------------------------------------------
** Written batch by batch (stream_write.h).
*/
struct pqw_stream {
  writer w;
  tl_table *schema;
  char *path, *tmp;
  tl_table **pending;       /* rows not yet in a row group */
  int npending, cap;
  int64_t prows;
};

static void stream_free(pqw_stream *s) {
  for (int k = 0; k < s->npending; k++) tl_table_release(s->pending[k]);
  tl_free(s->pending);
  if (s->w.f) fclose(s->w.f);
  if (s->tmp) remove(s->tmp);
  thw_free(&s->w.meta);
  thw_free(&s->w.groups);
  tl_free(s->w.chunks);
  tl_table_release(s->schema);
  tl_free(s->path);
  tl_free(s->tmp);
  tl_free(s);
}

tl_status pqw_stream_open(const char *path, const tl_table *schema,
                          const tl_parquet_write_options *opts, pqw_stream **out,
                          tl_error *err) {
  *out = NULL;
  pqw_stream *s = tl_calloc(1, sizeof *s);
  if (!s) return tl_error_oom(err, OP);
  s->w.err = err;
  thw_init(&s->w.meta);
  thw_init(&s->w.groups);
  tl_status st = check_options(opts, &s->w);
  size_t plen = strlen(path);
  if (st == TL_OK && (!(s->path = tl_strdup(path)) || !(s->tmp = tl_alloc(plen + 5))))
    st = tl_error_oom(err, OP);
  if (st != TL_OK) { stream_free(s); return st; }
  memcpy(s->tmp, path, plen);
  memcpy(s->tmp + plen, ".tmp", 5);
  s->schema = tl_table_retain((tl_table *)schema);
  s->w.t = s->schema;
  s->w.path = s->path;
  if (!(s->w.f = fopen(s->tmp, "wb"))) {
    st = tl_error_set(err, TL_EIO, "%s: %s: cannot open '%s': %s", OP, path, s->tmp,
                      strerror(errno));
    tl_free(s->tmp);
    s->tmp = NULL;
    stream_free(s);
    return st;
  }
  st = put(&s->w, "PAR1", 4);
  if (st != TL_OK) { stream_free(s); return st; }
  *out = s;
  return TL_OK;
}

/* The pending rows as one table, emptied. */
static tl_status take_pending(pqw_stream *s, tl_table **all, tl_error *err) {
  tl_status st = s->npending == 1 ? (*all = tl_table_retain(s->pending[0]), TL_OK)
               : tl_table_concat(s->npending, (const tl_table *const *)s->pending, all, err);
  for (int k = 0; k < s->npending; k++) tl_table_release(s->pending[k]);
  s->npending = 0;
  s->prows = 0;
  return st;
}

/* Writes the pending rows as row groups: all of them (`all`), or the full
** groups, keeping the rest pending. */
static tl_status flush(pqw_stream *s, int all, tl_error *err) {
  tl_table *t = NULL, *head = NULL, *rest = NULL;
  int64_t g = s->w.group_rows;
  if (s->npending == 0) return TL_OK;
  TL_TRY(take_pending(s, &t, err));
  int64_t n = all ? t->nrows : t->nrows / g * g;
  tl_status st = tl_table_slice(t, 0, n, &head, err);
  if (st == TL_OK && n < t->nrows) st = tl_table_slice(t, n, t->nrows - n, &rest, err);
  if (st == TL_OK && rest) { s->pending[s->npending++] = rest; s->prows = rest->nrows; rest = NULL; }
  if (st == TL_OK) st = tl_table_check_utf8(head, OP, err);
  if (st == TL_OK) {
    s->w.t = head;
    s->w.err = err;
    st = write_groups(&s->w);
    s->w.t = s->schema;
  }
  tl_table_release(t);
  tl_table_release(head);
  tl_table_release(rest);
  return st;
}

tl_status pqw_stream_put(pqw_stream *s, const tl_table *t, tl_error *err) {
  if (t->nrows == 0) return TL_OK;
  if (s->npending == s->cap) {
    int cap = s->cap ? 2 * s->cap : 16;
    tl_table **v = tl_realloc(s->pending, (size_t)cap * sizeof *v);
    if (!v) return tl_error_oom(err, OP);
    s->pending = v;
    s->cap = cap;
  }
  s->pending[s->npending++] = tl_table_retain((tl_table *)t);
  s->prows += t->nrows;
  return s->prows >= s->w.group_rows ? flush(s, 0, err) : TL_OK;
}

tl_status pqw_stream_close(pqw_stream *s, int ok, tl_error *err) {
  tl_status st = TL_OK;
  if (ok) {
    s->w.err = err;
    st = flush(s, 1, err);
    if (st == TL_OK) st = write_footer(&s->w);
    int bad = fclose(s->w.f) != 0;
    s->w.f = NULL;
    if (st == TL_OK && bad) st = io_error(&s->w, errno);
    if (st == TL_OK && rename(s->tmp, s->path) != 0)
      st = tl_error_set(err, TL_EIO, "%s: %s: cannot rename '%s' to it: %s", OP, s->path,
                        s->tmp, strerror(errno));
    if (st == TL_OK) { tl_free(s->tmp); s->tmp = NULL; }
  }
  stream_free(s);
  return st;
}
