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

typedef struct take_job {
  const tl_table *t;
  const int64_t *rows;
  int64_t n;
  tl_column **cols;
  tl_status *st;
  tl_error *errs;
} take_job;

static void take_task(void *ctx, int64_t j, int worker) {
  take_job *tj = ctx;
  (void)worker;
  if (tl_interrupted()) { tj->st[j] = tl_error_interrupted(&tj->errs[j], "take"); return; }
  tj->st[j] = tl_column_take(tj->t->cols[j], tj->rows, tj->n, &tj->cols[j], &tj->errs[j]);
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
  tl_column **cols = tl_calloc((size_t)t->ncol + 1, sizeof *cols);
  tl_status *sts = tl_calloc((size_t)t->ncol + 1, sizeof *sts);
  tl_error *errs = tl_alloc(((size_t)t->ncol + 1) * sizeof *errs);
  tl_status st = (cols && sts && errs) ? TL_OK : tl_error_oom(err, "take");
  if (st == TL_OK) {   /* the columns are gathered in parallel */
    take_job tj = { t, rows, n, cols, sts, errs };
    if (n >= 4096) tl_parallel_for(t->ncol, take_task, &tj);
    else for (int j = 0; j < t->ncol; j++) take_task(&tj, j, 0);
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

tl_status tl_table_concat(int n, const tl_table *const *tables, tl_table **out, tl_error *err) {
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
  for (int q = 0; q < m && st == TL_OK; q++)
    st = tl_interrupted() ? tl_error_interrupted(err, "concat")
                          : concat_column(n, tables, names[q], types[q], total, &cols[q], err);
  if (st == TL_OK) st = tl_table_new(m, names, cols, out, err);
  for (int q = 0; q < m && cols; q++) tl_column_release(cols[q]);
  tl_free(names);
  tl_free(types);
  tl_free(first);
  tl_free(cols);
  return st;
}
