/*
** rows.c -- tables made of other tables' rows and columns: gathering rows
** (take), replacing or adding a column, finding a column by name, and
** stacking tables (concat). Every verb that keeps a subset of rows ends here.
*/
#include <string.h>

#include "alloc.h"
#include "column.h"
#include "error.h"
#include "pool.h"
#include "table.h"

/* 1 when row k of the gather is null: a negative index or a null value. */
#define TAKE_NULL(c, rows, k) \
  ((rows)[k] < 0 || ((c)->validity && !TL_BIT_GET((c)->validity, (rows)[k])))

/* Gathers one fixed-width array; negative indexes give 0. */
#define GATHER(T, c, r, rows, n) do { \
    const T *s_ = (c)->values; \
    T *d_ = (r)->values; \
    for (int64_t k = 0; k < (n); k++) d_[k] = (rows)[k] >= 0 ? s_[(rows)[k]] : 0; \
  } while (0)

/* Rows `rows[0..n)` of column c, gathered into a new column; a negative
** index gives a null (outer joins use that). */
tl_status tl_column_take(const tl_column *c, const int64_t *rows, int64_t n, tl_column **out,
                         tl_error *err) {
  TL_TRY(tl_column_check_file(c, "take", err));
  int nullable = 0;
  for (int64_t k = 0; k < n && !nullable; k++) nullable = TAKE_NULL(c, rows, k);
  int64_t nbytes = 0;
  const int64_t *so = c->type == TL_STRING && !c->dict ? c->values : NULL;
  if (so)
    for (int64_t k = 0; k < n; k++)
      if (rows[k] >= 0) nbytes += so[rows[k] + 1] - so[rows[k]];
  tl_column *r;
  if (c->dict) TL_TRY(tl_column_alloc_dict(c->dict, n, nullable, &r, err));   /* shared */
  else if (so || c->type == TL_BOOL) TL_TRY(tl_column_alloc(c->type, n, nullable, nbytes, &r, err));
  else TL_TRY(tl_column_alloc_raw(c->type, n, nullable, &r, err));   /* GATHER writes every value */
  if (nullable)
    for (int64_t k = 0; k < n; k++)
      if (TAKE_NULL(c, rows, k)) TL_BIT_CLEAR(r->validity, k);
  switch (c->dict ? TL_DATE : c->type) {   /* codes are int32, as dates */
    case TL_INT: case TL_TIMESTAMP: GATHER(int64_t, c, r, rows, n); break;
    case TL_FLOAT: GATHER(double, c, r, rows, n); break;
    case TL_DATE: GATHER(int32_t, c, r, rows, n); break;
    case TL_BOOL:
      for (int64_t k = 0; k < n; k++)
        if (rows[k] >= 0 && TL_BIT_GET((const uint8_t *)c->values, rows[k]))
          TL_BIT_SET((uint8_t *)r->values, k);
      break;
    case TL_STRING: {
      int64_t *d = r->values, pos = 0;
      d[0] = 0;
      for (int64_t k = 0; k < n; k++) {
        if (rows[k] >= 0) {
          int64_t len = so[rows[k] + 1] - so[rows[k]];
          memcpy(r->bytes + pos, c->bytes + so[rows[k]], (size_t)len);
          pos += len;
        }
        d[k + 1] = pos;
      }
      break;
    }
  }
  tl_column_seal(r);
  *out = r;
  return TL_OK;
}

/* A table with t's names and a column made by make(ctx, j, ...) for each of
** t's, the columns made on the worker threads when the result has a few
** thousand rows or more (`rows`): take and gather. */
typedef tl_status (*make_column_fn)(void *ctx, int j, tl_column **out, tl_error *err);

typedef struct columns_job {
  make_column_fn make;
  void *ctx;
  const char *op;
  tl_column **cols;
  tl_status *st;
  tl_error *errs;
} columns_job;

static void column_task(void *ctx, int64_t j, int worker) {
  columns_job *cj = ctx;
  (void)worker;
  if (tl_interrupted()) { cj->st[j] = tl_error_interrupted(&cj->errs[j], cj->op); return; }
  cj->st[j] = cj->make(cj->ctx, (int)j, &cj->cols[j], &cj->errs[j]);
}

static tl_status columns_of(const tl_table *t, int64_t rows, make_column_fn make, void *ctx,
                            const char *op, tl_table **out, tl_error *err) {
  tl_column **cols = tl_calloc((size_t)t->ncol + 1, sizeof *cols);
  tl_status *sts = tl_calloc((size_t)t->ncol + 1, sizeof *sts);
  tl_error *errs = tl_alloc(((size_t)t->ncol + 1) * sizeof *errs);
  tl_status st = (cols && sts && errs) ? TL_OK : tl_error_oom(err, op);
  if (st == TL_OK) {
    columns_job cj = { make, ctx, op, cols, sts, errs };
    if (rows >= 4096) tl_parallel_for(t->ncol, column_task, &cj);
    else for (int j = 0; j < t->ncol; j++) column_task(&cj, j, 0);
    for (int j = 0; j < t->ncol && st == TL_OK; j++)
      if ((st = sts[j]) != TL_OK && err) *err = errs[j];
  }
  if (st == TL_OK) st = tl_table_new(t->ncol, (const char *const *)t->names, cols, out, err);
  for (int j = 0; cols && j < t->ncol; j++) tl_column_release(cols[j]);
  tl_free(cols);
  tl_free(sts);
  tl_free(errs);
  return st;
}

typedef struct take_job {
  const tl_table *t;
  const int64_t *rows;
  int64_t n;
} take_job;

static tl_status take_column(void *ctx, int j, tl_column **out, tl_error *err) {
  const take_job *tj = ctx;
  return tl_column_take(tj->t->cols[j], tj->rows, tj->n, out, err);
}

tl_status tl_table_take(const tl_table *t, const int64_t *rows, int64_t n, tl_table **out,
                        tl_error *err) {
  TL_TRY(tl_table_check_files(t, "take", err));
  for (int64_t k = 0; k < n; k++) {
    if ((k & 0xffff) == 0 && tl_interrupted()) return tl_error_interrupted(err, "take");
    if (rows[k] < 0 || rows[k] >= t->nrows)
      return tl_error_set(err, TL_ERANGE, "take: row %lld out of range (the table has %lld rows)",
                          (long long)rows[k] + 1, (long long)t->nrows);
  }
  take_job tj = { t, rows, n };
  return columns_of(t, n, take_column, &tj, "take", out, err);
}

/* ---------------------------------------------------------------------------
** gather: take over several tables
*/

typedef struct gather_job {
  int n;
  const tl_table *const *parts;
  const int32_t *part;
  const int64_t *row;
  int64_t m;
} gather_job;

#define SRC(g, j, k) ((g)->parts[(g)->part[k]]->cols[j])
#define NULL_AT(c, i) ((c)->validity && !TL_BIT_GET((c)->validity, i))

static tl_status gather_column(void *ctx, int j, tl_column **out, tl_error *err) {
  const gather_job *g = ctx;
  const tl_column *c0 = g->parts[0]->cols[j], *dict = c0->dict;
  int nullable = 0;
  int64_t m = g->m, nbytes = 0;
  for (int i = 0; i < g->n; i++) {
    const tl_column *c = g->parts[i]->cols[j];
    nullable |= c->null_count > 0;
    if (c->dict != dict) dict = NULL;
  }
  if (c0->type == TL_STRING && !dict)
    for (int64_t k = 0; k < m; k++) {
      size_t len = 0;
      if (!NULL_AT(SRC(g, j, k), g->row[k])) tl_column_string_at(SRC(g, j, k), g->row[k], &len);
      nbytes += (int64_t)len;
    }
  tl_column *r;
  if (dict) TL_TRY(tl_column_alloc_dict((tl_column *)dict, m, nullable, &r, err));
  else if (c0->type == TL_STRING || c0->type == TL_BOOL)
    TL_TRY(tl_column_alloc(c0->type, m, nullable, nbytes, &r, err));
  else TL_TRY(tl_column_alloc_raw(c0->type, m, nullable, &r, err));
  if (nullable)
    for (int64_t k = 0; k < m; k++)
      if (NULL_AT(SRC(g, j, k), g->row[k])) TL_BIT_CLEAR(r->validity, k);
  switch (dict ? TL_DATE : c0->type) {   /* codes are int32, as dates */
    case TL_INT: case TL_TIMESTAMP:
      for (int64_t k = 0; k < m; k++)
        ((int64_t *)r->values)[k] = ((const int64_t *)SRC(g, j, k)->values)[g->row[k]];
      break;
    case TL_FLOAT:
      for (int64_t k = 0; k < m; k++)
        ((double *)r->values)[k] = ((const double *)SRC(g, j, k)->values)[g->row[k]];
      break;
    case TL_DATE:
      for (int64_t k = 0; k < m; k++)
        ((int32_t *)r->values)[k] = ((const int32_t *)SRC(g, j, k)->values)[g->row[k]];
      break;
    case TL_BOOL:
      for (int64_t k = 0; k < m; k++)
        if (TL_BIT_GET((const uint8_t *)SRC(g, j, k)->values, g->row[k]))
          TL_BIT_SET((uint8_t *)r->values, k);
      break;
    case TL_STRING: {
      int64_t *d = r->values, pos = 0;
      d[0] = 0;
      for (int64_t k = 0; k < m; k++) {
        size_t len = 0;
        if (!NULL_AT(SRC(g, j, k), g->row[k])) {
          const char *s = tl_column_string_at(SRC(g, j, k), g->row[k], &len);
          memcpy(r->bytes + pos, s, len);
        }
        pos += (int64_t)len;
        d[k + 1] = pos;
      }
      break;
    }
  }
  tl_column_seal(r);
  *out = r;
  return TL_OK;
}

tl_status tl_table_gather(int n, const tl_table *const *parts, const int32_t *part,
                          const int64_t *row, int64_t m, tl_table **out, tl_error *err) {
  if (n < 1) return tl_error_set(err, TL_EINVAL, "gather: no tables");
  const tl_table *t = parts[0];
  for (int i = 0; i < n; i++) {
    TL_TRY(tl_table_check_files(parts[i], "gather", err));
    int same = parts[i]->ncol == t->ncol;
    for (int j = 0; same && j < t->ncol; j++)
      same = parts[i]->cols[j]->type == t->cols[j]->type && strcmp(parts[i]->names[j], t->names[j]) == 0;
    if (!same) return tl_error_set(err, TL_EINVAL, "gather: table %d's columns differ from table 1's", i + 1);
  }
  for (int64_t k = 0; k < m; k++)
    if (part[k] < 0 || part[k] >= n || row[k] < 0 || row[k] >= parts[part[k]]->nrows)
      return tl_error_set(err, TL_ERANGE, "gather: row %lld of table %d out of range",
                          (long long)row[k] + 1, (int)part[k] + 1);
  gather_job g = { n, parts, part, row, m };
  return columns_of(t, m, gather_column, &g, "gather", out, err);
}

tl_status tl_table_set_column(const tl_table *t, const char *name, tl_column *c,
                              tl_table **out, tl_error *err) {
  if (t->ncol > 0 && c->length != t->nrows)
    return tl_error_set(err, TL_EINVAL, "set_column: column '%s' has %lld rows, the table %lld",
                        name, (long long)c->length, (long long)t->nrows);
  int j = tl_table_find(t, name);
  int ncol = t->ncol + (j < 0);
  const char **names = tl_calloc((size_t)ncol + 1, sizeof *names);
  tl_column **cols = tl_calloc((size_t)ncol + 1, sizeof *cols);
  if (!names || !cols) { tl_free(names); tl_free(cols); return tl_error_oom(err, "set_column"); }
  for (int k = 0; k < t->ncol; k++) { names[k] = t->names[k]; cols[k] = t->cols[k]; }
  if (j < 0) j = t->ncol;
  names[j] = name;
  cols[j] = c;
  tl_status st = tl_table_new(ncol, names, cols, out, err);
  tl_free(names);
  tl_free(cols);
  return st;
}

tl_status tl_table_lookup(const tl_table *t, const char *name, const char *op, int *j,
                          tl_error *err) {
  *j = tl_table_find(t, name);
  if (*j >= 0) return TL_OK;
  const char *s = tl_table_suggest(t, name);
  if (s) return tl_error_set(err, TL_EINVAL, "%s: unknown column '%s' (did you mean '%s'?)", op, name, s);
  return tl_error_set(err, TL_EINVAL, "%s: unknown column '%s'", op, name);
}

/* ---------------------------------------------------------------------------
** concat
*/

/* Column `name` of type `type` over every table's rows, null where a table
** lacks it. */
static tl_status concat_column(int n, const tl_table *const *tables, const char *name,
                               tl_type type, int64_t total, tl_column **out, tl_error *err) {
  const tl_column **src = tl_calloc((size_t)n + 1, sizeof *src);
  if (!src) return tl_error_oom(err, "concat");
  int nullable = 0;
  const tl_column *dict = NULL;
  int same_dict = type == TL_STRING;
  int64_t nbytes = 0;
  for (int i = 0; i < n; i++) {
    int j = tl_table_find(tables[i], name);
    const tl_column *c = j >= 0 ? tables[i]->cols[j] : NULL;
    src[i] = c;
    if (!c) { nullable |= tables[i]->nrows > 0; continue; }
    nullable |= c->null_count > 0;
    if (type != TL_STRING) continue;
    if (!c->dict || (dict && c->dict != dict)) same_dict = 0;
    if (c->dict) dict = c->dict;
    if (!c->dict) {
      const int64_t *off = c->values;
      nbytes += off[c->length] - off[0];
    } else {
      const int64_t *doff = c->dict->values;
      const int32_t *codes = c->values;
      for (int64_t r = 0; r < c->length; r++) nbytes += doff[codes[r] + 1] - doff[codes[r]];
    }
  }
  if (!dict) same_dict = 0;
  tl_column *r;
  tl_status st = same_dict ? tl_column_alloc_dict((tl_column *)dict, total, nullable, &r, err)
                           : tl_column_alloc(type, total, nullable, nbytes, &r, err);
  if (st != TL_OK) { tl_free(src); return st; }
  int64_t at = 0, pos = 0;
  for (int i = 0; i < n; i++) {
    if (tl_interrupted()) {   /* between tables: r is dropped whole */
      tl_free(src);
      tl_column_release(r);
      return tl_error_interrupted(err, "concat");
    }
    const tl_column *c = src[i];
    int64_t len = tables[i]->nrows;
    if (!c) {
      for (int64_t q = 0; q < len; q++) TL_BIT_CLEAR(r->validity, at + q);
      if (type == TL_STRING && !same_dict)
        for (int64_t q = 0; q < len; q++) ((int64_t *)r->values)[at + q + 1] = pos;
      at += len;
      continue;
    }
    if (c->validity)
      for (int64_t q = 0; q < len; q++)
        if (!TL_BIT_GET(c->validity, q)) TL_BIT_CLEAR(r->validity, at + q);
    if (same_dict) {
      memcpy((int32_t *)r->values + at, c->values, (size_t)len * sizeof(int32_t));
    } else if (type == TL_STRING) {
      int64_t *d = r->values;
      for (int64_t q = 0; q < len; q++) {
        size_t sl;
        const char *s = tl_column_string_at(c, q, &sl);
        memcpy(r->bytes + pos, s, sl);
        pos += (int64_t)sl;
        d[at + q + 1] = pos;
      }
    } else if (type == TL_FLOAT && c->type == TL_INT) {
      const int64_t *s = c->values;
      double *d = (double *)r->values + at;
      for (int64_t q = 0; q < len; q++) d[q] = (double)s[q];
    } else if (type == TL_BOOL) {
      for (int64_t q = 0; q < len; q++)
        if (TL_BIT_GET((const uint8_t *)c->values, q)) TL_BIT_SET((uint8_t *)r->values, at + q);
    } else {
      size_t w = tl_type_width(type);
      memcpy((char *)r->values + (size_t)at * w, c->values, (size_t)len * w);
    }
    at += len;
  }
  tl_free(src);
  tl_column_seal(r);
  *out = r;
  return TL_OK;
}

/* A column of every table that no one else holds (`tables` being the
** caller's), let go once the result's column is made from it. */
static void let_go(int n, const tl_table *const *tables, const char *name) {
  for (int i = 0; i < n; i++) {
    tl_table *t = (tl_table *)tables[i];
    int j = tl_table_find(t, name);
    if (j < 0 || atomic_load(&t->refs) != 1) continue;
    tl_column_release(t->cols[j]);
    t->cols[j] = NULL;
  }
}

static tl_status concat(int n, const tl_table *const *tables, int consume, tl_table **out,
                        tl_error *err);

tl_status tl_table_concat(int n, const tl_table *const *tables, tl_table **out, tl_error *err) {
  return concat(n, tables, 0, out, err);
}

tl_status tl_table_concat_consume(int n, tl_table *const *tables, tl_table **out, tl_error *err) {
  return concat(n, (const tl_table *const *)tables, 1, out, err);
}

static tl_status concat(int n, const tl_table *const *tables, int consume, tl_table **out,
                        tl_error *err) {
  if (n < 0) return tl_error_set(err, TL_EINVAL, "concat: negative table count");
  for (int i = 0; i < n; i++) TL_TRY(tl_table_check_files(tables[i], "concat", err));
  if (n == 1) { *out = tl_table_retain((tl_table *)tables[0]); return TL_OK; }
  int cap = 0;
  int64_t total = 0;
  for (int i = 0; i < n; i++) {
    cap += tables[i]->ncol;
    total += tables[i]->nrows;
  }
  const char **names = tl_calloc((size_t)cap + 1, sizeof *names);
  tl_type *types = tl_calloc((size_t)cap + 1, sizeof *types);
  int *first = tl_calloc((size_t)cap + 1, sizeof *first);   /* the table that brought it */
  tl_column **cols = tl_calloc((size_t)cap + 1, sizeof *cols);
  tl_status st = names && types && first && cols ? TL_OK : tl_error_oom(err, "concat");
  int m = 0;
  for (int i = 0; i < n && st == TL_OK; i++)
    for (int j = 0; j < tables[i]->ncol && st == TL_OK; j++) {
      const char *name = tables[i]->names[j];
      tl_type ty = tables[i]->cols[j]->type;
      int q = 0;
      while (q < m && strcmp(names[q], name) != 0) q++;
      if (q == m) {
        names[m] = name;
        types[m] = ty;
        first[m++] = i;
      } else if (ty != types[q]) {
        if ((ty == TL_INT || ty == TL_FLOAT) && (types[q] == TL_INT || types[q] == TL_FLOAT)) {
          types[q] = TL_FLOAT;
        } else {
          tl_type was = tables[first[q]]->cols[tl_table_find(tables[first[q]], name)]->type;
          st = tl_error_set(err, TL_ETYPE, "concat: column '%s' is %s in table %d but %s in "
                            "table %d", name, tl_type_name(was), first[q] + 1,
                            tl_type_name(ty), i + 1);
        }
      }
    }
  for (int q = 0; q < m && st == TL_OK; q++) {
    st = tl_interrupted() ? tl_error_interrupted(err, "concat")
                          : concat_column(n, tables, names[q], types[q], total, &cols[q], err);
    if (st == TL_OK && consume) let_go(n, tables, names[q]);
  }
  if (st == TL_OK) st = tl_table_new(m, names, cols, out, err);
  for (int q = 0; q < m && cols; q++) tl_column_release(cols[q]);
  tl_free(names);
  tl_free(types);
  tl_free(first);
  tl_free(cols);
  return st;
}
