/*
** arrow_ipc_write.c -- tl_write_arrow: a table as an Arrow IPC file or
** stream. The schema maps tally's types to int64, float64, bool,
** large_utf8 (tally's int64 offsets, written as they are), date32 and
** timestamp[us]; a dictionary column becomes dictionary<int32, large_utf8>
** with one dictionary batch. Record batches take the column's buffers
** directly (aligned to 64 bytes in the body), each compressed on its own
** with an 8-byte length prefix when a codec is asked for. The flatbuffers
** are built by flatbuf.c.
*/
#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "arrow_ipc.h"
#include "io/stream_write.h"
#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/table.h"
#include "flatbuf.h"

#define OP "write_arrow"
#define V5 4

void tl_arrow_write_options_init(tl_arrow_write_options *opts) { memset(opts, 0, sizeof *opts); }

typedef struct block { int64_t offset; int32_t meta; int64_t body; } block;

typedef struct writer {
  const tl_table *t;
  const tl_arrow_write_options *o;
  tl_error *err;
  const char *path;
  int fd;
  int64_t pos;               /* bytes written */
  block *dicts, *batches;
  int ndicts;
  int64_t nbatches;
} writer;

static void put64(uint8_t *p, int64_t v) {
  for (int k = 0; k < 8; k++) p[k] = (uint8_t)((uint64_t)v >> (8 * k));
}

static tl_status io_error(writer *W, int e) {
  return tl_error_set(W->err, TL_EIO, "%s: cannot write '%s': %s", OP, W->path, strerror(e));
}

static tl_status out(writer *W, const void *p, size_t n) {
  const char *s = p;
  while (n > 0) {
    if (tl_interrupted()) return tl_error_interrupted(W->err, OP);
    size_t chunk = n > ((size_t)1 << 26) ? (size_t)1 << 26 : n;
    ssize_t k = write(W->fd, s, chunk);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return io_error(W, k == 0 ? EIO : errno);
    s += k;
    n -= (size_t)k;
    W->pos += k;
  }
  return TL_OK;
}

static tl_status zeros(writer *W, size_t n) {
  static const uint8_t z[64];
  while (n > 0) {
    size_t k = n > sizeof z ? sizeof z : n;
    TL_TRY(out(W, z, k));
    n -= k;
  }
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Metadata
*/

static fb_ref type_table(fbb *b, const tl_column *c, uint8_t *type_id) {
  fbb_start(b);
  switch (c->type) {
    case TL_INT: *type_id = AT_INT; fbb_add_i32(b, 0, 64); fbb_add_u8(b, 1, 1); break;
    case TL_FLOAT: *type_id = AT_FLOAT; fbb_add_i16(b, 0, FP_DOUBLE); break;
    case TL_BOOL: *type_id = AT_BOOL; break;
    case TL_DATE: *type_id = AT_DATE; fbb_add_i16(b, 0, DATE_DAY); break;
    case TL_TIMESTAMP: *type_id = AT_TIMESTAMP; fbb_add_i16(b, 0, UNIT_MICRO); break;
    default: *type_id = AT_LARGE_UTF8; break;
  }
  return fbb_end(b);
}

static fb_ref schema_table(fbb *b, const tl_table *t) {
  fb_ref *fields = tl_calloc((size_t)t->ncol + 1, sizeof *fields);
  if (!fields) { b->oom = 1; return 0; }
  for (int j = 0; j < t->ncol; j++) {
    const tl_column *c = t->cols[j];
    fb_ref name = fbb_string(b, t->names[j], strlen(t->names[j]));
    uint8_t tid;
    fb_ref type = type_table(b, c, &tid);
    fb_ref kids = fbb_vector_refs(b, NULL, 0);
    fb_ref dict = 0;
    if (c->dict) {
      fbb_start(b);
      fbb_add_i32(b, 0, 32);
      fbb_add_u8(b, 1, 1);
      fb_ref index = fbb_end(b);
      fbb_start(b);
      fbb_add_i64(b, 0, j);
      fbb_add_ref(b, 1, index);
      dict = fbb_end(b);
    }
    fbb_start(b);
    fbb_add_ref(b, 0, name);
    fbb_add_u8(b, 1, 1);
    fbb_add_u8(b, 2, tid);
    fbb_add_ref(b, 3, type);
    if (dict) fbb_add_ref(b, 4, dict);
    fbb_add_ref(b, 5, kids);
    fields[j] = fbb_end(b);
  }
  fb_ref vec = fbb_vector_refs(b, fields, (uint32_t)t->ncol);
  tl_free(fields);
  fbb_start(b);
  fbb_add_i16(b, 0, 0);   /* little-endian */
  fbb_add_ref(b, 1, vec);
  return fbb_end(b);
}

/* Writes a message: marker, length, metadata padded to 8, then the body
** (written by the caller). The block's metadata length is set. */
static tl_status put_message(writer *W, fbb *b, uint8_t type, fb_ref header, int64_t body,
                             block *blk) {
  fbb_start(b);
  fbb_add_i16(b, 0, V5);
  fbb_add_u8(b, 1, type);
  fbb_add_ref(b, 2, header);
  fbb_add_i64(b, 3, body);
  fb_ref msg = fbb_end(b);
  size_t len;
  const uint8_t *p = fbb_finish(b, msg, &len);
  if (!p) return tl_error_oom(W->err, OP);
  size_t padded = (len + 7) & ~(size_t)7;
  uint8_t pre[8] = { 0xff, 0xff, 0xff, 0xff };
  for (int k = 0; k < 4; k++) pre[4 + k] = (uint8_t)(padded >> (8 * k));
  blk->offset = W->pos;
  blk->meta = (int32_t)(8 + padded);
  blk->body = body;
  TL_TRY(out(W, pre, 8));
  TL_TRY(out(W, p, len));
  return zeros(W, padded - len);
}

/* ---------------------------------------------------------------------------
** Record batches
*/

typedef struct wbuf {
  const uint8_t *p;
  int64_t len;
  uint8_t *owned;            /* tl_alloc'ed: compressed, or rebased offsets */
} wbuf;

typedef struct wbatch {
  int64_t rows;
  int ncols;
  int64_t *nodes;            /* length, null count per column */
  wbuf *bufs;
  int nbufs;
} wbatch;

static int64_t count_nulls(const uint8_t *vb, int64_t from, int64_t n) {
  int64_t valid = 0;
  TL_FOR_VALID_RANGE(vb, from, from + n, i, (void)i; valid++);
  return n - valid;
}

/* The buffers of rows [r0, r0 + n) of c (r0 a multiple of 8): validity,
** then values (or codes), then string bytes. */
static tl_status slice(writer *W, const tl_column *c, int64_t r0, int64_t n, wbatch *B) {
  wbuf *v = &B->bufs[B->nbufs];
  int64_t nulls = c->validity ? count_nulls(c->validity, r0, n) : 0;
  B->nodes[2 * B->ncols] = n;
  B->nodes[2 * B->ncols + 1] = nulls;
  B->ncols++;
  v[0].p = nulls ? c->validity + r0 / 8 : NULL;
  v[0].len = nulls ? (n + 7) / 8 : 0;
  B->nbufs += 2;
  if (c->dict) { v[1].p = (const uint8_t *)c->values + r0 * 4; v[1].len = n * 4; return TL_OK; }
  switch (c->type) {
    case TL_BOOL: v[1].p = (const uint8_t *)c->values + r0 / 8; v[1].len = (n + 7) / 8; break;
    case TL_DATE: v[1].p = (const uint8_t *)c->values + r0 * 4; v[1].len = n * 4; break;
    case TL_STRING: {
      const int64_t *off = (const int64_t *)c->values + r0;
      int64_t base = off[0];
      B->nbufs++;
      v[2].p = (const uint8_t *)c->bytes + base;
      v[2].len = off[n] - base;
      v[1].len = (n + 1) * 8;
      if (base == 0) { v[1].p = (const uint8_t *)off; break; }
      int64_t *re = tl_alloc((size_t)(n + 1) * 8);   /* Arrow readers expect offsets from 0 */
      if (!re) return tl_error_oom(W->err, OP);
      for (int64_t i = 0; i <= n; i++) re[i] = off[i] - base;
      v[1].p = v[1].owned = (uint8_t *)re;
      break;
    }
    default: v[1].p = (const uint8_t *)c->values + r0 * 8; v[1].len = n * 8; break;
  }
  return TL_OK;
}

/* Replaces buffer b by its compressed form: an 8-byte length, then the
** frame; or -1 and the bytes as they are when compressing does not help. */
static tl_status compress(writer *W, wbuf *b) {
  if (b->len == 0) return TL_OK;
  int zstd = W->o->compression == TL_ARROW_ZSTD;
  size_t bound = zstd ? ZSTD_compressBound((size_t)b->len)
                      : LZ4F_compressFrameBound((size_t)b->len, NULL);
  uint8_t *dst = tl_alloc(bound + 8);
  if (!dst) return tl_error_oom(W->err, OP);
  size_t r = zstd ? ZSTD_compress(dst + 8, bound, b->p, (size_t)b->len, 1)
                  : LZ4F_compressFrame(dst + 8, bound, b->p, (size_t)b->len, NULL);
  if (zstd ? ZSTD_isError(r) : LZ4F_isError(r)) {
    tl_free(dst);
    return tl_error_set(W->err, TL_EIO, "%s: '%s': the %s compressor failed", OP, W->path,
                        zstd ? "zstd" : "LZ4");
  }
  if (r >= (size_t)b->len) {
    put64(dst, -1);
    memcpy(dst + 8, b->p, (size_t)b->len);
    r = (size_t)b->len;
  } else {
    put64(dst, b->len);
  }
  tl_free(b->owned);
  b->p = b->owned = dst;
  b->len = (int64_t)r + 8;
  return TL_OK;
}

static int64_t align64(int64_t n) { return (n + 63) & ~(int64_t)63; }

/* The RecordBatch table of B, its body laid out at 64-byte offsets. */
static fb_ref batch_table(writer *W, fbb *b, const wbatch *B, int64_t *body) {
  uint8_t *nodes = tl_alloc((size_t)B->ncols * 16 + 1);
  uint8_t *bufs = tl_alloc((size_t)B->nbufs * 16 + 1);
  if (!nodes || !bufs) { tl_free(nodes); tl_free(bufs); b->oom = 1; return 0; }
  for (int k = 0; k < 2 * B->ncols; k++) put64(nodes + 8 * k, B->nodes[k]);
  int64_t off = 0;
  for (int k = 0; k < B->nbufs; k++) {
    put64(bufs + 16 * k, off);
    put64(bufs + 16 * k + 8, B->bufs[k].len);
    off = align64(off + B->bufs[k].len);
  }
  *body = off;
  fb_ref nv = fbb_vector(b, nodes, (uint32_t)B->ncols, 16, 8);
  fb_ref bv = fbb_vector(b, bufs, (uint32_t)B->nbufs, 16, 8);
  tl_free(nodes);
  tl_free(bufs);
  fb_ref comp = 0;
  if (W->o->compression != TL_ARROW_UNCOMPRESSED) {
    fbb_start(b);
    fbb_add_u8(b, 0, W->o->compression == TL_ARROW_ZSTD ? IPC_ZSTD : IPC_LZ4_FRAME);
    fbb_add_u8(b, 1, 0);
    comp = fbb_end(b);
  }
  fbb_start(b);
  fbb_add_i64(b, 0, B->rows);
  fbb_add_ref(b, 1, nv);
  fbb_add_ref(b, 2, bv);
  if (comp) fbb_add_ref(b, 3, comp);
  return fbb_end(b);
}

static tl_status put_body(writer *W, const wbatch *B) {
  int64_t at = 0;
  for (int k = 0; k < B->nbufs; k++) {
    if (B->bufs[k].len) TL_TRY(out(W, B->bufs[k].p, (size_t)B->bufs[k].len));
    at += B->bufs[k].len;
    TL_TRY(zeros(W, (size_t)(align64(at) - at)));
    at = align64(at);
  }
  return TL_OK;
}

/* Writes batch B (a record batch, or with `dict_id` >= 0 a dictionary
** batch) and frees its buffers. */
static tl_status put_batch(writer *W, wbatch *B, int64_t dict_id, block *blk) {
  tl_status st = TL_OK;
  for (int k = 0; k < B->nbufs && st == TL_OK && W->o->compression; k++)
    st = compress(W, &B->bufs[k]);
  fbb b;
  fbb_init(&b);
  int64_t body = 0;
  if (st == TL_OK) {
    fb_ref rb = batch_table(W, &b, B, &body);
    fb_ref header = rb;
    if (dict_id >= 0) {
      fbb_start(&b);
      fbb_add_i64(&b, 0, dict_id);
      fbb_add_ref(&b, 1, rb);
      header = fbb_end(&b);
    }
    st = put_message(W, &b, dict_id >= 0 ? MH_DICTIONARY : MH_RECORD_BATCH, header, body, blk);
  }
  fbb_free(&b);
  if (st == TL_OK) st = put_body(W, B);
  for (int k = 0; k < B->nbufs; k++) tl_free(B->bufs[k].owned);
  return st;
}

static tl_status write_batch(writer *W, const tl_column *const *cols, int ncols, int64_t r0,
                             int64_t n, int64_t dict_id, block *blk) {
  wbatch B;
  memset(&B, 0, sizeof B);
  B.rows = n;
  B.nodes = tl_calloc((size_t)ncols * 2 + 1, sizeof *B.nodes);
  B.bufs = tl_calloc((size_t)ncols * 3 + 1, sizeof *B.bufs);
  tl_status st = B.nodes && B.bufs ? TL_OK : tl_error_oom(W->err, OP);
  for (int j = 0; j < ncols && st == TL_OK; j++) st = slice(W, cols[j], r0, n, &B);
  if (st == TL_OK) st = put_batch(W, &B, dict_id, blk);
  else for (int k = 0; k < B.nbufs; k++) tl_free(B.bufs[k].owned);
  tl_free(B.nodes);
  tl_free(B.bufs);
  return st;
}

/* ---------------------------------------------------------------------------
** The file
*/

static fb_ref blocks(fbb *b, const block *bl, int64_t n) {
  uint8_t *v = tl_calloc((size_t)n * 24 + 1, 1);
  if (!v) { b->oom = 1; return 0; }
  for (int64_t k = 0; k < n; k++) {
    put64(v + 24 * k, bl[k].offset);
    for (int i = 0; i < 4; i++) v[24 * k + 8 + i] = (uint8_t)((uint32_t)bl[k].meta >> (8 * i));
    put64(v + 24 * k + 16, bl[k].body);
  }
  fb_ref r = fbb_vector(b, v, (uint32_t)n, 24, 8);
  tl_free(v);
  return r;
}

static tl_status put_footer(writer *W) {
  fbb b;
  fbb_init(&b);
  fb_ref schema = schema_table(&b, W->t);
  fb_ref d = blocks(&b, W->dicts, W->ndicts);
  fb_ref r = blocks(&b, W->batches, W->nbatches);
  fbb_start(&b);
  fbb_add_i16(&b, 0, V5);
  fbb_add_ref(&b, 1, schema);
  fbb_add_ref(&b, 2, d);
  fbb_add_ref(&b, 3, r);
  fb_ref footer = fbb_end(&b);
  size_t len;
  const uint8_t *p = fbb_finish(&b, footer, &len);
  tl_status st = p ? out(W, p, len) : tl_error_oom(W->err, OP);
  uint8_t tail[10] = { (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
                       (uint8_t)(len >> 24), 'A', 'R', 'R', 'O', 'W', '1' };
  if (st == TL_OK) st = out(W, tail, 10);
  fbb_free(&b);
  return st;
}

static tl_status write_all(writer *W) {
  const tl_table *t = W->t;
  int64_t rows = t->nrows, step = W->o->batch_rows;
  if (step <= 0) step = rows > 0 ? rows : 1;   /* one batch: it reads back without a copy */
  step = (step + 63) & ~(int64_t)63;   /* slices start on whole bytes of the bitmaps */
  if (!W->o->stream) TL_TRY(out(W, "ARROW1\0\0", 8));
  fbb b;
  fbb_init(&b);
  block blk;
  tl_status st = put_message(W, &b, MH_SCHEMA, schema_table(&b, t), 0, &blk);
  fbb_free(&b);
  TL_TRY(st);
  for (int j = 0; j < t->ncol; j++) {
    const tl_column *d = t->cols[j]->dict;
    if (!d) continue;
    TL_TRY(write_batch(W, &d, 1, 0, d->length, j, &W->dicts[W->ndicts]));
    W->ndicts++;
  }
  for (int64_t r0 = 0; r0 < rows || (rows == 0 && r0 == 0); r0 += step) {
    int64_t n = rows - r0 < step ? rows - r0 : step;
    TL_TRY(write_batch(W, (const tl_column *const *)t->cols, t->ncol, r0, n, -1,
                       &W->batches[W->nbatches]));
    W->nbatches++;
    if (rows == 0) break;
  }
  static const uint8_t eos[8] = { 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
  TL_TRY(out(W, eos, 8));
  return W->o->stream ? TL_OK : put_footer(W);
}

tl_status tl_write_arrow(const tl_table *t, const char *path, const tl_arrow_write_options *opts,
                         tl_error *err) {
  tl_arrow_write_options dflt;
  tl_arrow_write_options_init(&dflt);
  if (!opts) opts = &dflt;
  if (opts->compression > TL_ARROW_ZSTD || opts->compression < 0)
    return tl_error_set(err, TL_EINVAL, "%s: unknown compression %d", OP, (int)opts->compression);
  TL_TRY(tl_table_check_files(t, OP, err));
  writer W;
  memset(&W, 0, sizeof W);
  W.t = t;
  W.o = opts;
  W.err = err;
  W.path = path;
  int64_t step = opts->batch_rows > 0 ? opts->batch_rows : t->nrows;
  int64_t nb = t->nrows / ((step + 63) & ~(int64_t)63 ? (step + 63) & ~(int64_t)63 : 64) + 2;
  W.dicts = tl_calloc((size_t)t->ncol + 1, sizeof *W.dicts);
  W.batches = tl_calloc((size_t)nb, sizeof *W.batches);
  size_t plen = strlen(path);
  char *tmp = tl_alloc(plen + 5);
  if (!W.dicts || !W.batches || !tmp) {
    tl_free(W.dicts);
    tl_free(W.batches);
    tl_free(tmp);
    return tl_error_oom(err, OP);
  }
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp", 5);
  tl_status st;
  W.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (W.fd < 0) {
    st = tl_error_set(err, TL_EIO, "%s: cannot open '%s': %s", OP, tmp, strerror(errno));
  } else {
    st = write_all(&W);
    if (close(W.fd) != 0 && st == TL_OK) st = io_error(&W, errno);
    if (st == TL_OK && rename(tmp, path) != 0) st = io_error(&W, errno);
    if (st != TL_OK) unlink(tmp);
  }
  tl_free(tmp);
  tl_free(W.dicts);
  tl_free(W.batches);
  return st;
}

/* ---------------------------------------------------------------------------
** Written batch by batch (stream_write.h).
*/
struct arw_stream {
  writer W;
  tl_arrow_write_options o;
  tl_table *schema;
  char *path, *tmp;
  int64_t cap;
};

static void astream_free(arw_stream *s) {
  if (s->W.fd >= 0) close(s->W.fd);
  if (s->tmp) unlink(s->tmp);
  tl_table_release(s->schema);
  tl_free(s->W.dicts);
  tl_free(s->W.batches);
  tl_free(s->path);
  tl_free(s->tmp);
  tl_free(s);
}

static tl_status plain(const tl_column *c, tl_column **out, tl_error *err);

/* The schema with its dictionary columns as plain strings. */
static tl_status plain_schema(const tl_table *t, tl_table **out, tl_error *err) {
  *out = tl_table_retain((tl_table *)t);
  for (int j = 0; j < t->ncol; j++) {
    if (!t->cols[j]->dict) continue;
    tl_column *c = NULL;
    tl_table *u = NULL;
    TL_TRY(plain(t->cols[j], &c, err));
    tl_status st = tl_table_set_column(*out, t->names[j], c, &u, err);
    tl_column_release(c);
    if (st != TL_OK) return st;
    tl_table_release(*out);
    *out = u;
  }
  return TL_OK;
}

tl_status arw_stream_open(const char *path, const tl_table *schema,
                          const tl_arrow_write_options *opts, arw_stream **res, tl_error *err) {
  *res = NULL;
  if (opts && (opts->compression > TL_ARROW_ZSTD || opts->compression < 0))
    return tl_error_set(err, TL_EINVAL, "%s: unknown compression %d", OP, (int)opts->compression);
  arw_stream *s = tl_calloc(1, sizeof *s);
  if (!s) return tl_error_oom(err, OP);
  s->W.fd = -1;
  if (opts) s->o = *opts;
  else tl_arrow_write_options_init(&s->o);
  size_t plen = strlen(path);
  s->path = tl_strdup(path);
  s->tmp = tl_alloc(plen + 5);
  s->W.dicts = tl_calloc(1, sizeof *s->W.dicts);
  if (!s->path || !s->tmp || !s->W.dicts) {
    tl_free(s->tmp);
    s->tmp = NULL;
    astream_free(s);
    return tl_error_oom(err, OP);
  }
  memcpy(s->tmp, path, plen);
  memcpy(s->tmp + plen, ".tmp", 5);
  tl_status pst = plain_schema(schema, &s->schema, err);
  if (pst != TL_OK) { astream_free(s); return pst; }
  s->W.t = s->schema;
  s->W.o = &s->o;
  s->W.err = err;
  s->W.path = s->path;
  s->W.fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (s->W.fd < 0) {
    tl_status st = tl_error_set(err, TL_EIO, "%s: cannot open '%s': %s", OP, s->tmp,
                                strerror(errno));
    tl_free(s->tmp);
    s->tmp = NULL;
    astream_free(s);
    return st;
  }
  tl_status st = s->o.stream ? TL_OK : out(&s->W, "ARROW1\0\0", 8);
  if (st == TL_OK) {
    fbb b;
    fbb_init(&b);
    block blk;
    st = put_message(&s->W, &b, MH_SCHEMA, schema_table(&b, s->schema), 0, &blk);
    fbb_free(&b);
  }
  if (st != TL_OK) { astream_free(s); return st; }
  *res = s;
  return TL_OK;
}

/* A dictionary column as plain strings. */
static tl_status plain(const tl_column *c, tl_column **out, tl_error *err) {
  int64_t nbytes = 0;
  for (int64_t i = 0; i < c->length; i++) {
    size_t n = 0;
    if (!c->validity || TL_BIT_GET(c->validity, i)) tl_column_string_at(c, i, &n);
    nbytes += (int64_t)n;
  }
  TL_TRY(tl_column_alloc(TL_STRING, c->length, c->validity != NULL, nbytes, out, err));
  int64_t *off = (*out)->values, pos = 0;
  for (int64_t i = 0; i < c->length; i++) {
    size_t n = 0;
    const char *p = !c->validity || TL_BIT_GET(c->validity, i) ? tl_column_string_at(c, i, &n)
                                                               : NULL;
    if (n) memcpy((*out)->bytes + pos, p, n);
    pos += (int64_t)n;
    off[i + 1] = pos;
  }
  if (c->validity) memcpy((*out)->validity, c->validity, TL_BITMAP_BYTES(c->length));
  tl_column_seal(*out);
  return TL_OK;
}

/* Room for one more block in the footer's list. */
static tl_status more_blocks(arw_stream *s, tl_error *err) {
  if (s->W.nbatches < s->cap) return TL_OK;
  int64_t cap = s->cap ? 2 * s->cap : 64;
  block *b = tl_realloc(s->W.batches, (size_t)cap * sizeof *b);
  if (!b) return tl_error_oom(err, OP);
  s->W.batches = b;
  s->cap = cap;
  return TL_OK;
}

tl_status arw_stream_put(arw_stream *s, const tl_table *t, tl_error *err) {
  if (t->nrows == 0) return TL_OK;
  s->W.err = err;
  tl_column **cols = tl_calloc((size_t)t->ncol + 1, sizeof *cols);
  if (!cols) return tl_error_oom(err, OP);
  tl_status st = TL_OK;
  for (int j = 0; j < t->ncol && st == TL_OK; j++)
    st = t->cols[j]->dict ? plain(t->cols[j], &cols[j], err)
                          : (cols[j] = tl_column_retain(t->cols[j]), TL_OK);
  int64_t step = s->o.batch_rows > 0 ? (s->o.batch_rows + 63) & ~(int64_t)63 : t->nrows;
  for (int64_t r0 = 0; st == TL_OK && r0 < t->nrows; r0 += step) {
    int64_t n = t->nrows - r0 < step ? t->nrows - r0 : step;
    st = more_blocks(s, err);
    if (st == TL_OK)
      st = write_batch(&s->W, (const tl_column *const *)cols, t->ncol, r0, n, -1,
                       &s->W.batches[s->W.nbatches]);
    if (st == TL_OK) s->W.nbatches++;
  }
  for (int j = 0; j < t->ncol; j++) tl_column_release(cols[j]);
  tl_free(cols);
  return st;
}

tl_status arw_stream_close(arw_stream *s, int ok, tl_error *err) {
  tl_status st = TL_OK;
  s->W.err = err;
  if (ok) {
    static const uint8_t eos[8] = { 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 };
    if (s->W.nbatches == 0) {   /* no rows: one empty batch, as tl_write_arrow writes */
      st = more_blocks(s, err);
      if (st == TL_OK)
        st = write_batch(&s->W, (const tl_column *const *)s->schema->cols, s->schema->ncol, 0,
                         0, -1, &s->W.batches[s->W.nbatches]);
      if (st == TL_OK) s->W.nbatches++;
    }
    if (st == TL_OK) st = out(&s->W, eos, 8);
    if (st == TL_OK && !s->o.stream) st = put_footer(&s->W);
    int bad = close(s->W.fd) != 0;
    s->W.fd = -1;
    if (st == TL_OK && bad) st = io_error(&s->W, errno);
    if (st == TL_OK && rename(s->tmp, s->path) != 0) st = io_error(&s->W, errno);
    if (st == TL_OK) { tl_free(s->tmp); s->tmp = NULL; }
  }
  astream_free(s);
  return st;
}
