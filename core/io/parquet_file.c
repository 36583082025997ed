/*
** parquet_file.c -- a Parquet file kept open for a lazy scan: mapped once,
** its footer decoded once, then each row group read on its own (the scan's
** morsels, or batches of its rows) with parquet.c's column readers, and the statistics of each
** column chunk turned into bounds on its values in tally's types, for the
** scan to skip the row groups that its filters exclude.
*/
#include "io/parquet_file.h"

#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "io/parquet_read.h"

struct pq_file {
  char *path;
  tl_mapfile *map;
  size_t data_end;
  pq_meta m;
};

tl_status pq_file_open(const char *path, pq_file **out, tl_error *err) {
  static const tl_mapfile_kind SCAN = { "scan", "Parquet file", "read", "read" };
  tl_mapfile *map;
  *out = NULL;
  TL_TRY(tl_mapfile_open(path, 0, &SCAN, &map, err));
  if (map->size < 12) {
    tl_status st = tl_error_set(err, TL_EPARSE, "%s: %s: not a Parquet file (%zu bytes)", PQ_OP,
                                path, map->size);
    tl_mapfile_release(map);
    return st;
  }
  pq_file *f = tl_calloc(1, sizeof *f);
  if (!f || !(f->path = tl_strdup(path))) {
    tl_free(f);
    tl_mapfile_release(map);
    return tl_error_oom(err, "scan");
  }
  f->map = map;
  tl_status st = pq_footer(path, map->data, map->size, &f->m, &f->data_end, err);
  if (st != TL_OK) {
    memset(&f->m, 0, sizeof f->m);   /* freed by pq_footer */
    pq_file_close(f);
    return st;
  }
  *out = f;
  return TL_OK;
}

void pq_file_close(pq_file *f) {
  if (!f) return;
  pq_meta_free(&f->m);
  tl_mapfile_release(f->map);
  tl_free(f->path);
  tl_free(f);
}

int pq_file_groups(const pq_file *f) { return f->m.ngroups; }
int64_t pq_file_group_rows(const pq_file *f, int g) { return f->m.groups[g].num_rows; }
int64_t pq_file_bytes(const pq_file *f) { return (int64_t)f->map->size; }

tl_status pq_file_schema(const pq_file *f, tl_table **out, tl_error *err) {
  return pq_file_read_group(f, -1, 0, NULL, out, err);
}

/* The fields named by cols into sel; every field when cols is NULL. */
static tl_status selection(const pq_file *f, int ncols, const char *const *cols, int **sel,
                           int *nsel, tl_error *err) {
  tl_parquet_options o;
  tl_parquet_options_init(&o);
  o.columns = cols;
  o.ncolumns = ncols;
  *sel = tl_alloc(((size_t)f->m.nfields + (size_t)ncols + 1) * sizeof **sel);
  if (!*sel) return tl_error_oom(err, "scan");
  return pq_select_fields(f->path, &f->m, cols ? &o : NULL, *sel, nsel, err);
}

tl_status pq_file_read_rows(const pq_file *f, int g, int64_t from, int64_t n, int ncols,
                            const char *const *cols, tl_table **out, tl_error *err) {
  int *sel = NULL, nsel = 0;
  *out = NULL;
  if (g >= 0 && (from < 0 || n < 0 || n > f->m.groups[g].num_rows - from))
    return tl_error_set(err, TL_EINVAL, "scan: %s: row group %d: rows %lld to %lld are not "
                        "among its %lld", f->path, g, (long long)from, (long long)(from + n),
                        (long long)f->m.groups[g].num_rows);
  tl_status st = selection(f, ncols, g < 0 ? NULL : cols, &sel, &nsel, err);
  if (st == TL_OK) {
    pq_meta sub = f->m;             /* the one row group (none: the schema) */
    sub.ngroups = g < 0 ? 0 : 1;
    sub.groups = g < 0 ? NULL : &f->m.groups[g];
    sub.num_rows = g < 0 ? 0 : n;
    st = pq_read_columns(f->path, f->map->data, f->data_end, f->map, &sub, g < 0 ? 0 : g, sel,
                         nsel, g < 0 ? 0 : from, g < 0 ? -1 : n, out, err);
  }
  tl_free(sel);
  return st;
}

tl_status pq_file_read_group(const pq_file *f, int g, int ncols, const char *const *cols,
                             tl_table **out, tl_error *err) {
  return pq_file_read_rows(f, g, 0, g < 0 ? 0 : f->m.groups[g].num_rows, ncols, cols, out, err);
}

/* ---------------------------------------------------------------------------
** Statistics
*/

static int64_t le_int(const uint8_t *p, uint32_t n, int is_signed) {
  uint64_t v = 0;
  for (uint32_t k = 0; k < n; k++) v |= (uint64_t)p[k] << (8 * k);
  if (is_signed && n == 4) return (int32_t)(uint32_t)v;
  return (int64_t)v;
}

static double le_float(const uint8_t *p, uint32_t n) {
  if (n == 4) {
    uint32_t u = (uint32_t)le_int(p, 4, 0);
    float x;
    memcpy(&x, &u, 4);
    return x;
  }
  uint64_t u = (uint64_t)le_int(p, 8, 0);
  double x;
  memcpy(&x, &u, 8);
  return x;
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b < 0); }
static int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b > 0); }

/* Integer-like bounds: ints, dates and timestamps in microseconds. */
static int int_bounds(const pq_chunk *ch, int kind, pq_stat *s) {
  uint32_t w = ch->type == PQ_INT32 ? 4 : 8;
  if (ch->smin_len != w || ch->smax_len != w) return 0;
  int uns = kind == PK_UINT32 || kind == PK_UINT64;
  if (uns && ch->legacy) return 0;          /* a signed order says nothing of these */
  int64_t lo = le_int(ch->smin, w, !uns), hi = le_int(ch->smax, w, !uns);
  if (kind == PK_UINT64 && (lo < 0 || hi < 0)) return 0;   /* past int64: not read anyway */
  if (kind == PK_TS_MS) {
    if (__builtin_mul_overflow(lo, 1000, &lo) || __builtin_mul_overflow(hi, 1000, &hi)) return 0;
  } else if (kind == PK_TS_NS) {
    lo = floor_div(lo, 1000);
    hi = ceil_div(hi, 1000);
  }
  s->imin = lo;
  s->imax = hi;
  return 1;
}

static int bounds(const pq_chunk *ch, int kind, pq_stat *s) {
  if (!ch->smin || !ch->smax) return 0;
  switch (kind) {
    case PK_INT: case PK_UINT32: case PK_UINT64: case PK_DATE: case PK_TS_MS: case PK_TS_US:
    case PK_TS_NS:
      if (ch->type != PQ_INT32 && ch->type != PQ_INT64) return 0;
      return int_bounds(ch, kind, s);
    case PK_FLOAT: {
      uint32_t w = ch->type == PQ_FLOAT ? 4 : ch->type == PQ_DOUBLE ? 8 : 0;
      if (!w || ch->smin_len != w || ch->smax_len != w) return 0;
      s->fmin = le_float(ch->smin, w);
      s->fmax = NAN;                        /* NaN, greatest of all, is left out by writers */
      return !isnan(s->fmin);
    }
    case PK_STRING:
      if (ch->legacy || ch->type != PQ_BYTE_ARRAY) return 0;   /* signed bytes: no order */
      s->smin = (const char *)ch->smin;
      s->smax = (const char *)ch->smax;
      s->lmin = ch->smin_len;
      s->lmax = ch->smax_len;
      return 1;
    default: return 0;
  }
}

int pq_file_stat(const pq_file *f, int g, const char *col, pq_stat *out) {
  const pq_meta *m = &f->m;
  int j = 0;
  while (j < m->nfields && strcmp(m->fields[j].name, col) != 0) j++;
  if (j == m->nfields || m->fields[j].nested) return 0;
  const pq_field *fd = &m->fields[j];
  const pq_chunk *ch = &m->groups[g].chunks[fd->leaf];
  tl_error err;
  int kind;
  memset(out, 0, sizeof *out);
  out->rows = m->groups[g].num_rows;
  out->nulls = fd->repetition == 0 ? 0 : ch->null_count;   /* REQUIRED: none */
  if (pq_field_kind(f->path, fd, &kind, &out->type, &err) != TL_OK) return 0;
  out->has_range = bounds(ch, kind, out);
  return 1;
}
