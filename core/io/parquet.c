/*
** parquet.c -- read_parquet: a Parquet file of flat columns into a table.
** The footer is decoded by parquet_meta.c; the selected columns are checked
** against what the reader supports, then every (column, row group) pair is
** a task of the thread pool that reads one column chunk (parquet_page.c):
** fixed-width values straight into the result, strings, validity and
** booleans into the task's own buffers. The tasks' pieces are then joined
** column by column, in parallel: strings that every chunk kept as
** dictionary codes become one dictionary column (the chunks' dictionaries
** merged), others are gathered into offsets and bytes. Errors name the
** file and the part: footer, row group, column, page.
*/
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <xxhash.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/pool.h"
#include "base/table.h"
#include "io/parquet_read.h"

#define OP PQ_OP

size_t pq_small_file = (size_t)1 << 20;

tl_status pq_fail(pq_task *t, tl_status code, const char *fmt, ...) {
  char what[512], page[32] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (t->page >= 0) snprintf(page, sizeof page, ", page %d", t->page);
  return tl_error_set(t->err, code, "%s: %s: row group %d, column '%s'%s: %s", OP, t->file,
                      t->group, t->c->f->name, page, what);
}

const char *pq_encoding_name(int32_t e) {
  static const char *const names[] = { "PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE",
                                       "BIT_PACKED", "DELTA_BINARY_PACKED",
                                       "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                       "RLE_DICTIONARY", "BYTE_STREAM_SPLIT" };
  return e >= 0 && e < 10 ? names[e] : "unknown";
}

const char *pq_physical_name(int32_t t) {
  static const char *const names[] = { "BOOLEAN", "INT32", "INT64", "INT96", "FLOAT",
                                       "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY" };
  return t >= 0 && t < 8 ? names[t] : "unknown";
}

/* ---------------------------------------------------------------------------
** Types: what each leaf becomes.
*/

static const char *logical_name(int l) {
  static const char *const names[] = { "?", "STRING", "MAP", "LIST", "ENUM", "DECIMAL",
                                       "DATE", "TIME", "TIMESTAMP", "?", "INTEGER", "UNKNOWN",
                                       "JSON", "BSON", "UUID", "FLOAT16", "VARIANT",
                                       "GEOMETRY", "GEOGRAPHY" };
  return l > 0 && l < 19 ? names[l] : "unknown";
}

/* The kind of an annotated integer or decimal, or -1. */
static int annotated(const pq_field *f) {
  int l = f->logical, t = f->type, c = f->converted;
  int is_int = t == PQ_INT32 || t == PQ_INT64, is_bytes = t == PQ_FLBA || t == PQ_BYTE_ARRAY;
  if (l == 1 || l == 4 || l == 12) return t == PQ_BYTE_ARRAY ? PK_STRING : -1;
  if (l == 5) return is_int ? PK_DECIMAL : is_bytes ? PK_DECIMAL_BYTES : -1;
  if (l == 6) return t == PQ_INT32 ? PK_DATE : -1;
  if (l == 8) {
    if (t != PQ_INT64) return -1;
    return f->ts_unit == 1 ? PK_TS_MS : f->ts_unit == 2 ? PK_TS_US : f->ts_unit == 3 ? PK_TS_NS : -1;
  }
  if (l == 10) {
    if (!is_int) return -1;
    if (f->int_signed) return PK_INT;
    return t == PQ_INT32 ? PK_UINT32 : PK_UINT64;
  }
  if (l) return -1;
  if (c == 0 || c == 4 || c == 19) return t == PQ_BYTE_ARRAY ? PK_STRING : -1;
  if (c == 5) return is_int ? PK_DECIMAL : is_bytes ? PK_DECIMAL_BYTES : -1;
  if (c == 6) return t == PQ_INT32 ? PK_DATE : -1;
  if (c == 9 || c == 10) return t == PQ_INT64 ? (c == 9 ? PK_TS_MS : PK_TS_US) : -1;
  if (c >= 11 && c <= 14) return !is_int ? -1 : t == PQ_INT32 ? PK_UINT32 : PK_UINT64;
  if (c >= 15 && c <= 18) return is_int ? PK_INT : -1;
  return -1;
}

/* The kind and tally type of field f, or an error naming what is missing. */
tl_status pq_field_kind(const char *file, const pq_field *f, int *kind, tl_type *type,
                            tl_error *err) {
  static const tl_type types[] = { TL_BOOL, TL_INT, TL_INT, TL_INT, TL_FLOAT, TL_DATE,
                                   TL_TIMESTAMP, TL_TIMESTAMP, TL_TIMESTAMP, TL_FLOAT,
                                   TL_STRING, TL_TIMESTAMP, TL_FLOAT };
  int k = -1;
  if (f->logical || f->converted >= 0) {
    k = annotated(f);
    if (k < 0 && f->logical)
      return tl_error_set(err, TL_ETYPE, "%s: %s: column '%s': logical type %s of %s is not "
                          "supported", OP, file, f->name, logical_name(f->logical),
                          pq_physical_name(f->type));
    if (k < 0)
      return tl_error_set(err, TL_ETYPE, "%s: %s: column '%s': converted type %d of %s is "
                          "not supported yet", OP, file, f->name, (int)f->converted,
                          pq_physical_name(f->type));
  } else {
    switch (f->type) {
      case PQ_BOOLEAN: k = PK_BOOL; break;
      case PQ_INT32: case PQ_INT64: k = PK_INT; break;
      case PQ_FLOAT: case PQ_DOUBLE: k = PK_FLOAT; break;
      case PQ_BYTE_ARRAY: k = PK_STRING; break;
      case PQ_INT96: k = PK_INT96; break;
      default:
        return tl_error_set(err, TL_ETYPE, "%s: %s: column '%s': physical type %s is not "
                            "supported yet", OP, file, f->name, pq_physical_name(f->type));
    }
  }
  if ((k == PK_DECIMAL || k == PK_DECIMAL_BYTES) && (f->scale < 0 || f->scale > 38))
    return tl_error_set(err, TL_EPARSE, "%s: %s: column '%s': decimal scale %d out of range",
                        OP, file, f->name, (int)f->scale);
  *kind = k;
  *type = types[k];
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Joining the tasks' pieces into each column.
*/

typedef struct pq_run {
  const pq_meta *m;
  pq_col *cols;
  int ncols;
  pq_task *tasks;           /* column k's tasks at k * ngroups + g */
  pthread_mutex_t lock;
  int64_t failed;           /* the lowest failed task, or ntasks */
  tl_status st;
  tl_error err;
} pq_run;

static void task_free(pq_task *t) {
  pq_scratch_free(t);
  tl_free(t->valid);
  tl_free(t->bools);
  tl_free(t->offs);
  tl_free(t->bytes);
  tl_free(t->dict);
  tl_free(t->dict_buf);
  tl_free(t->dict_scratch);
  t->valid = t->bools = t->dict_buf = t->dict_scratch = NULL;
  t->offs = NULL;
  t->bytes = NULL;
  t->dict = NULL;
}

/* ORs bits [0, n) of src into dst from bit `at` (dst's bits there are 0). */
static void or_bits(uint8_t *dst, int64_t at, const uint8_t *src, int64_t n) {
  int s = (int)(at & 7);
  uint8_t *d = dst + (at >> 3);
  int64_t nb = (n + 7) / 8;
  for (int64_t i = 0; i < nb; i++) {
    uint8_t b = src[i];
    if (i == nb - 1 && (n & 7)) b &= (uint8_t)((1u << (n & 7)) - 1);
    d[i] |= (uint8_t)(b << s);
    if (s && (b >> (8 - s))) d[i + 1] |= (uint8_t)(b >> (8 - s));
  }
}

/* A hash set of strings (spans of the tasks' dictionaries) for the merge. */
typedef struct sset {
  uint32_t *slots, cap, n;
  pv *e;
} sset;

static int64_t sset_add(sset *d, const pv *v) {
  uint64_t h = XXH3_64bits(v->s.p, v->s.n);
  uint32_t mask = d->cap - 1, k = (uint32_t)h & mask;
  for (;;) {
    uint32_t s = d->slots[k];
    if (!s) break;
    const pv *e = &d->e[s - 1];
    if (e->s.n == v->s.n && memcmp(e->s.p, v->s.p, v->s.n) == 0) return s - 1;
    k = (k + 1) & mask;
  }
  d->e[d->n] = *v;
  d->slots[k] = ++d->n;
  return d->n - 1;
}

/* The merged dictionary of column k's tasks and each task's remapping,
** when that is worth it: *dict stays NULL otherwise. */
static tl_status merge_dicts(pq_run *run, int k, int32_t **remap, tl_column **dict,
                             tl_error *err) {
  pq_task *ts = run->tasks + (int64_t)k * run->m->ngroups;
  int64_t total = 0, nrows = run->m->num_rows;
  for (int g = 0; g < run->m->ngroups; g++) total += ts[g].ndict;
  if (total == 0 || total > INT32_MAX / 4) return TL_OK;
  sset d = { 0 };
  d.cap = 16;
  while (d.cap < 2 * total) d.cap *= 2;
  d.slots = tl_calloc(d.cap, sizeof *d.slots);
  d.e = tl_alloc((size_t)total * sizeof *d.e);
  tl_status st = d.slots && d.e ? TL_OK : tl_error_oom(err, OP);
  int64_t nbytes = 0;
  for (int g = 0; st == TL_OK && g < run->m->ngroups; g++) {
    remap[g] = tl_alloc((size_t)(ts[g].ndict ? ts[g].ndict : 1) * sizeof **remap);
    if (!remap[g]) { st = tl_error_oom(err, OP); break; }
    for (int64_t j = 0; j < ts[g].ndict; j++) {
      uint32_t before = d.n;
      remap[g][j] = (int32_t)sset_add(&d, &ts[g].dict[j]);
      if (d.n > before) nbytes += ts[g].dict[j].s.n;
    }
  }
  if (st == TL_OK && (int64_t)d.n * 2 <= nrows) {
    tl_column *c;
    st = tl_column_alloc(TL_STRING, d.n, 0, nbytes, &c, err);
    if (st == TL_OK) {
      int64_t *off = c->values, pos = 0;
      for (uint32_t i = 0; i < d.n; i++) {
        memcpy(c->bytes + pos, d.e[i].s.p, d.e[i].s.n);
        pos += d.e[i].s.n;
        off[i + 1] = pos;
      }
      *dict = c;
    }
  }
  tl_free(d.slots);
  tl_free(d.e);
  return st;
}

/* Column k's codes made a dictionary column in place, when every chunk kept
** its codes and the merged dictionary is worth it (*kept set). */
static tl_status join_dict(pq_run *run, int k, int *kept, tl_error *err) {
  pq_col *c = &run->cols[k];
  int ng = run->m->ngroups;
  pq_task *ts = run->tasks + (int64_t)k * ng;
  *kept = 0;
  for (int g = 0; g < ng; g++)
    if (!ts[g].dict_mode) return TL_OK;
  int32_t **remap = tl_calloc(ng ? (size_t)ng : 1, sizeof *remap);
  tl_column *dict = NULL;
  tl_status st = remap ? merge_dicts(run, k, remap, &dict, err) : tl_error_oom(err, OP);
  if (st == TL_OK && dict) {
    int32_t *codes = c->col->values;
    for (int g = 0; g < ng; g++) {
      pq_task *t = &ts[g];
      int32_t *cd = codes + t->row0;
      for (int64_t r = 0; r < t->nrows; r++)
        cd[r] = t->valid && !TL_BIT_GET(t->valid, r) ? 0 : remap[g][cd[r]];
    }
    c->col->type = TL_STRING;
    c->col->dict = tl_column_retain(dict);
    *kept = 1;
  }
  for (int g = 0; remap && g < ng; g++) tl_free(remap[g]);
  tl_free(remap);
  tl_column_release(dict);
  return st;
}

/* Column k as offsets and bytes, from strings and codes alike. */
static tl_status join_strings(pq_run *run, int k, tl_error *err) {
  pq_col *c = &run->cols[k];
  int ng = run->m->ngroups;
  pq_task *ts = run->tasks + (int64_t)k * ng;
  int64_t nbytes = 0;
  for (int g = 0; g < ng; g++) {
    pq_task *t = &ts[g];
    if (!t->dict_mode) { nbytes += t->nbytes; continue; }
    for (int64_t r = 0; r < t->nrows; r++)
      if (!t->valid || TL_BIT_GET(t->valid, r)) nbytes += t->dict[t->codes[r]].s.n;
  }
  tl_column *out;
  TL_TRY(tl_column_alloc(TL_STRING, run->m->num_rows, c->f->repetition == 1, nbytes, &out,
                         err));
  int64_t *off = out->values, pos = 0;
  for (int g = 0; g < ng; g++) {
    pq_task *t = &ts[g];
    if (!t->dict_mode) {
      for (int64_t r = 0; r < t->nrows; r++) off[t->row0 + r + 1] = pos + t->offs[r + 1];
      if (t->nbytes) memcpy(out->bytes + pos, t->bytes, (size_t)t->nbytes);
      pos += t->nbytes;
    } else {
      for (int64_t r = 0; r < t->nrows; r++) {
        if (!t->valid || TL_BIT_GET(t->valid, r)) {
          const pv *x = &t->dict[t->codes[r]];
          if (x->s.n) memcpy(out->bytes + pos, x->s.p, x->s.n);
          pos += x->s.n;
        }
        off[t->row0 + r + 1] = pos;
      }
    }
    tl_free(t->bytes);
    tl_free(t->offs);
    t->bytes = NULL;
    t->offs = NULL;
  }
  tl_column_release(c->col);                     /* the codes */
  c->col = out;
  return TL_OK;
}

/* A task of tl_parallel_for: column k from its tasks' pieces. */
static void join_column(void *ctx, int64_t k, int worker) {
  pq_run *run = ctx;
  pq_col *c = &run->cols[k];
  pq_task *ts = run->tasks + k * run->m->ngroups;
  tl_error err;
  tl_status st = TL_OK;
  (void)worker;
  if (c->kind == PK_STRING) {
    int kept;
    st = join_dict(run, (int)k, &kept, &err);
    if (st == TL_OK && !kept) st = join_strings(run, (int)k, &err);
  }
  if (st == TL_OK && c->col->validity) {
    memset(c->col->validity, 0, TL_BITMAP_BYTES(c->col->length));
    for (int g = 0; g < run->m->ngroups; g++)
      if (ts[g].valid) or_bits(c->col->validity, ts[g].row0, ts[g].valid, ts[g].nrows);
  }
  if (st == TL_OK && c->kind == PK_BOOL)
    for (int g = 0; g < run->m->ngroups; g++)
      or_bits(c->col->values, ts[g].row0, ts[g].bools, ts[g].nrows);
  if (st == TL_OK) tl_column_seal(c->col);
  for (int g = 0; g < run->m->ngroups; g++) task_free(&ts[g]);
  if (st != TL_OK) {
    pthread_mutex_lock(&run->lock);
    if (run->st == TL_OK) { run->st = st; run->err = err; }
    pthread_mutex_unlock(&run->lock);
  }
}

/* A task of tl_parallel_for: one column chunk. After a failure the tasks
** past it are skipped; the lowest failed one is told, whatever the count
** of threads. */
static void run_task(void *ctx, int64_t k, int worker) {
  pq_run *run = ctx;
  pq_task *t = &run->tasks[k];
  tl_error err;
  (void)worker;
  pthread_mutex_lock(&run->lock);
  int64_t failed = run->failed;
  pthread_mutex_unlock(&run->lock);
  if (failed < k) return;
  t->err = &err;
  t->st = tl_interrupted() ? tl_error_interrupted(&err, OP) : pq_read_chunk(t);
  t->err = NULL;
  if (t->st == TL_OK) return;
  pthread_mutex_lock(&run->lock);
  if (k < run->failed) {
    run->failed = k;
    run->st = t->st;
    run->err = err;
  }
  pthread_mutex_unlock(&run->lock);
}

/* ---------------------------------------------------------------------------
** The file: magic, footer, selection, the columns in parallel.
*/

void tl_parquet_options_init(tl_parquet_options *opts) {
  memset(opts, 0, sizeof *opts);
}

tl_status pq_footer(const char *name, const uint8_t *d, size_t len, pq_meta *m,
                        size_t *data_end, tl_error *err) {
  const char *msg;
  size_t where;
  if (len < 12 || memcmp(d, "PAR1", 4) != 0 || memcmp(d + len - 4, "PAR1", 4) != 0)
    return tl_error_set(err, TL_EPARSE, "%s: %s: not a Parquet file (no PAR1 magic at its "
                        "start and end)", OP, name);
  uint32_t flen = pq_le32(d + len - 8);
  if (flen > len - 12)
    return tl_error_set(err, TL_EPARSE, "%s: %s: footer: its length %u is past the start of "
                        "the file (%zu bytes)", OP, name, flen, len);
  *data_end = len - 8 - flen;
  if (pq_meta_read(d + *data_end, flen, m, &msg, &where) < 0) {
    pq_meta_free(m);
    return tl_error_set(err, TL_EPARSE, "%s: %s: footer: %s (at byte %zu of its %u)", OP,
                        name, msg, where, flen);
  }
  int64_t rows = 0;
  for (int g = 0; g < m->ngroups; g++) {
    if (m->groups[g].nchunks != m->nleaves) {
      tl_error_set(err, TL_EPARSE, "%s: %s: footer: row group %d has %d column chunks for "
                   "%d columns", OP, name, g, m->groups[g].nchunks, m->nleaves);
      pq_meta_free(m);
      return TL_EPARSE;
    }
    if (__builtin_add_overflow(rows, m->groups[g].num_rows, &rows)) rows = -1;
  }
  if (rows != m->num_rows) {
    tl_error_set(err, TL_EPARSE, "%s: %s: footer: the row groups hold %lld rows, the file "
                 "says %lld", OP, name, (long long)rows, (long long)m->num_rows);
    pq_meta_free(m);
    return TL_EPARSE;
  }
  return TL_OK;
}

static tl_status unknown_column(const char *name, const pq_meta *m, const char *col,
                                tl_error *err) {
  char list[256] = "";
  size_t used = 0;
  for (int j = 0; j < m->nfields && used < sizeof list - 8; j++) {
    int w = snprintf(list + used, sizeof list - used, "%s'%s'", j ? ", " : "",
                     m->fields[j].name);
    used = w < 0 ? sizeof list : used + (size_t)w;
  }
  if (used >= sizeof list - 8) memcpy(list + sizeof list - 5, "...", 4);
  return tl_error_set(err, TL_EINVAL, "%s: %s: unknown column '%s' (the file has %s)", OP,
                      name, col, list);
}

/* The fields to read, in order, into sel (m->nfields entries at most). */
tl_status pq_select_fields(const char *name, const pq_meta *m,
                               const tl_parquet_options *o, int *sel, int *nsel,
                               tl_error *err) {
  int n = 0;
  if (o && o->columns) {
    for (int k = 0; k < o->ncolumns; k++) {
      int j = 0;
      while (j < m->nfields && strcmp(m->fields[j].name, o->columns[k]) != 0) j++;
      if (j == m->nfields) return unknown_column(name, m, o->columns[k], err);
      for (int q = 0; q < n; q++)
        if (sel[q] == j)
          return tl_error_set(err, TL_EINVAL, "%s: %s: column '%s' listed twice", OP, name,
                              o->columns[k]);
      sel[n++] = j;
    }
  } else {
    for (int j = 0; j < m->nfields; j++) sel[n++] = j;
  }
  for (int k = 0; k < n; k++) {
    const pq_field *f = &m->fields[sel[k]];
    if (!f->name[0])
      return tl_error_set(err, TL_EPARSE, "%s: %s: footer: column %d has an empty name", OP,
                          name, sel[k] + 1);
    for (int q = 0; q < k; q++)
      if (strcmp(m->fields[sel[q]].name, f->name) == 0)
        return tl_error_set(err, TL_EPARSE, "%s: %s: footer: two columns are named '%s'", OP,
                            name, f->name);
    if (f->nested)
      return tl_error_set(err, TL_ETYPE, "%s: %s: column '%s' is nested (a list, struct or "
                          "map), which is not supported yet; the option columns can leave "
                          "it out", OP, name, f->name);
  }
  *nsel = n;
  return TL_OK;
}

tl_status pq_read_columns(const char *name, const uint8_t *d, size_t data_end,
                          const tl_mapfile *map, const pq_meta *m, int group0, const int *sel,
                          int nsel, int64_t skip, int64_t take, tl_table **out,
                          tl_error *err) {
  pq_run run;
  int ng = m->ngroups;
  memset(&run, 0, sizeof run);
  run.m = m;
  run.ncols = nsel;
  run.cols = tl_calloc(nsel ? (size_t)nsel : 1, sizeof *run.cols);
  run.tasks = tl_calloc((size_t)nsel * (size_t)ng + 1, sizeof *run.tasks);
  run.failed = (int64_t)nsel * ng;
  char **names = tl_calloc(nsel ? (size_t)nsel : 1, sizeof *names);
  tl_column **tc = tl_calloc(nsel ? (size_t)nsel : 1, sizeof *tc);
  tl_status st = run.cols && run.tasks && names && tc ? TL_OK : tl_error_oom(err, OP);
  for (int k = 0; st == TL_OK && k < nsel; k++) {
    pq_col *c = &run.cols[k];
    c->f = &m->fields[sel[k]];
    st = pq_field_kind(name, c->f, &c->kind, &c->type, err);
    if (st == TL_OK && c->kind == PK_BOOL)       /* a zeroed bitmap: bits are only set */
      st = tl_column_alloc(c->type, m->num_rows, c->f->repetition == 1, 0, &c->col, err);
    else if (st == TL_OK)                        /* strings: their codes, for now */
      st = tl_column_alloc_raw(c->kind == PK_STRING ? TL_DATE : c->type, m->num_rows,
                               c->f->repetition == 1, &c->col, err);
    int64_t row0 = 0;
    for (int g = 0; st == TL_OK && g < ng; g++) {
      pq_task *t = &run.tasks[(int64_t)k * ng + g];
      t->file = name;
      t->data = d;
      t->footer = data_end;
      t->g = &m->groups[g];
      t->c = c;
      t->group = group0 + g;
      t->page = -1;
      t->map = map;
      t->row0 = row0;
      t->nrows = take >= 0 ? take : m->groups[g].num_rows;
      t->skip = take >= 0 ? skip : 0;
      row0 += t->nrows;
    }
  }
  if (st == TL_OK) {
    pthread_mutex_init(&run.lock, NULL);
    int64_t ntasks = (int64_t)nsel * ng;
    if (data_end >= pq_small_file) {
      tl_parallel_for(ntasks, run_task, &run);
      if (run.st == TL_OK) tl_parallel_for(nsel, join_column, &run);
    } else {                                     /* not worth waking the workers */
      for (int64_t k = 0; k < ntasks; k++) run_task(&run, k, 0);
      for (int k = 0; run.st == TL_OK && k < nsel; k++) join_column(&run, k, 0);
    }
    pthread_mutex_destroy(&run.lock);
    st = run.st;
    if (st != TL_OK) *err = run.err;
  }
  for (int64_t k = 0; run.tasks && k < (int64_t)nsel * ng; k++) task_free(&run.tasks[k]);
  tl_free(run.tasks);
  for (int k = 0; st == TL_OK && k < nsel; k++) {
    names[k] = tl_strdup(run.cols[k].f->name);
    if (!names[k]) st = tl_error_oom(err, OP);
  }
  if (st == TL_OK) {
    for (int k = 0; k < nsel; k++) tc[k] = run.cols[k].col;
    st = tl_table_adopt(nsel, names, tc, out, err);   /* owns names, tc and columns now */
    tl_free(run.cols);
    return st;
  }
  for (int k = 0; run.cols && k < nsel; k++) tl_column_release(run.cols[k].col);
  for (int k = 0; names && k < nsel; k++) tl_free(names[k]);
  tl_free(names);
  tl_free(tc);
  tl_free(run.cols);
  return st;
}

/* The file in [data, data + len); `map`: read_parquet's own mapping of it, or NULL. */
static tl_status read_buffer(const uint8_t *data, size_t len, const char *name,
                             const tl_mapfile *map,
                             const tl_parquet_options *opts, tl_table **out, tl_error *err) {
  pq_meta m;
  size_t data_end = 0;
  *out = NULL;
  if (!name) name = "<buffer>";
  TL_TRY(pq_footer(name, data, len, &m, &data_end, err));
  int *sel = tl_alloc(((size_t)m.nfields + (opts ? (size_t)opts->ncolumns : 0) + 1) *
                      sizeof *sel);
  int nsel = 0;
  tl_status st = sel ? TL_OK : tl_error_oom(err, OP);
  if (st == TL_OK) st = pq_select_fields(name, &m, opts, sel, &nsel, err);
  if (st == TL_OK) st = pq_read_columns(name, data, data_end, map, &m, 0, sel, nsel, 0, -1, out,
                                       err);
  tl_free(sel);
  pq_meta_free(&m);
  return st;
}

tl_status tl_read_parquet_buffer(const void *data, size_t len, const char *name,
                                 const tl_parquet_options *opts, tl_table **out,
                                 tl_error *err) {
  return read_buffer(data, len, name, NULL, opts, out, err);
}

tl_status tl_read_parquet(const char *path, const tl_parquet_options *opts, tl_table **out,
                          tl_error *err) {
  static const tl_mapfile_kind PARQUET = { OP, "Parquet file", "read", "read" };
  tl_mapfile *m;
  *out = NULL;
  TL_TRY(tl_mapfile_open(path, 0, &PARQUET, &m, err));
  tl_status st = m->size < 12
    ? tl_error_set(err, TL_EPARSE, "%s: %s: not a Parquet file (%zu bytes)", OP, path, m->size)
    : read_buffer(m->data, m->size, path, m, opts, out, err);
  tl_mapfile_release(m);
  return st;
}
