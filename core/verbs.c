/*
** verbs.c -- filter, take, mutate, select, drop, rename: the verbs that keep
** or add columns and rows. Columns that do not change are shared.
*/
#include <string.h>

#include "alloc.h"
#include "column.h"
#include "error.h"
#include "expr.h"
#include "table.h"
#include "verbs.h"

/* Rows `rows[0..n)` of column c, gathered into a new column. */
tl_status tl_column_take(const tl_column *c, const int64_t *rows, int64_t n, tl_column **out,
                         tl_error *err) {
  if (c->dict) {   /* gather the codes; the dictionary is shared */
    tl_column *r;
    int nullable = 0;
    for (int64_t k = 0; c->validity && k < n && !nullable; k++)
      nullable = !TL_BIT_GET(c->validity, rows[k]);
    TL_TRY(tl_column_alloc_dict(c->dict, n, nullable, &r, err));
    const int32_t *s = c->values;
    int32_t *d = r->values;
    for (int64_t k = 0; k < n; k++) d[k] = s[rows[k]];
    if (nullable)
      for (int64_t k = 0; k < n; k++)
        if (!TL_BIT_GET(c->validity, rows[k])) TL_BIT_CLEAR(r->validity, k);
    tl_column_seal(r);
    *out = r;
    return TL_OK;
  }
  int64_t nbytes = 0;
  const int64_t *so = c->type == TL_STRING ? c->values : NULL;
  if (so)
    for (int64_t k = 0; k < n; k++) nbytes += so[rows[k] + 1] - so[rows[k]];
  int nullable = 0;
  if (c->validity)
    for (int64_t k = 0; k < n && !nullable; k++) nullable = !TL_BIT_GET(c->validity, rows[k]);
  tl_column *r;
  TL_TRY(tl_column_alloc(c->type, n, nullable, nbytes, &r, err));
  if (nullable)
    for (int64_t k = 0; k < n; k++)
      if (!TL_BIT_GET(c->validity, rows[k])) TL_BIT_CLEAR(r->validity, k);
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP: {
      const int64_t *s = c->values;
      int64_t *d = r->values;
      for (int64_t k = 0; k < n; k++) d[k] = s[rows[k]];
      break;
    }
    case TL_FLOAT: {
      const double *s = c->values;
      double *d = r->values;
      for (int64_t k = 0; k < n; k++) d[k] = s[rows[k]];
      break;
    }
    case TL_DATE: {
      const int32_t *s = c->values;
      int32_t *d = r->values;
      for (int64_t k = 0; k < n; k++) d[k] = s[rows[k]];
      break;
    }
    case TL_BOOL:
      for (int64_t k = 0; k < n; k++)
        if (TL_BIT_GET((const uint8_t *)c->values, rows[k])) TL_BIT_SET((uint8_t *)r->values, k);
      break;
    case TL_STRING: {
      int64_t *d = r->values, pos = 0;
      d[0] = 0;
      for (int64_t k = 0; k < n; k++) {
        int64_t len = so[rows[k] + 1] - so[rows[k]];
        memcpy(r->bytes + pos, c->bytes + so[rows[k]], (size_t)len);
        pos += len;
        d[k + 1] = pos;
      }
      break;
    }
  }
  tl_column_seal(r);
  *out = r;
  return TL_OK;
}

tl_status tl_table_take(const tl_table *t, const int64_t *rows, int64_t n, tl_table **out,
                        tl_error *err) {
  for (int64_t k = 0; k < n; k++)
    if (rows[k] < 0 || rows[k] >= t->nrows)
      return tl_error_set(err, TL_ERANGE, "take: row %lld out of range (the table has %lld rows)",
                          (long long)rows[k] + 1, (long long)t->nrows);
  tl_column **cols = tl_calloc((size_t)t->ncol + 1, sizeof *cols);
  if (!cols) return tl_error_oom(err, "take");
  tl_status st = TL_OK;
  for (int j = 0; j < t->ncol && st == TL_OK; j++)
    st = tl_column_take(t->cols[j], rows, n, &cols[j], err);
  if (st == TL_OK) st = tl_table_new(t->ncol, (const char *const *)t->names, cols, out, err);
  for (int j = 0; j < t->ncol; j++) tl_column_release(cols[j]);
  tl_free(cols);
  return st;
}

/* Appends the rows of a vector where the condition holds to *rows. */
static tl_status collect(const vec *v, int64_t start, int n, int64_t **rows, int64_t *count,
                         int64_t *cap, tl_error *err) {
  if (*count + n > *cap) {
    int64_t ncap = *cap ? *cap : 4096;
    while (ncap < *count + n) ncap *= 2;
    int64_t *nr = tl_realloc(*rows, (size_t)ncap * sizeof *nr);
    if (!nr) return tl_error_oom(err, "filter");
    *rows = nr;
    *cap = ncap;
  }
  int64_t *r = *rows + *count, k = 0;
  if (!v->type) return TL_OK;
  if (v->valid) {
    for (int i = 0; i < n; i++) { r[k] = start + i; k += v->b[i] & v->valid[i]; }
  } else {
    for (int i = 0; i < n; i++) { r[k] = start + i; k += v->b[i]; }   /* branch-free */
  }
  *count += k;
  return TL_OK;
}

static tl_status filter_rows(const tl_table *t, int64_t *rows, int64_t count, tl_table **out,
                             tl_error *err) {
  if (count == t->nrows) { *out = tl_table_retain((tl_table *)t); return TL_OK; }
  return tl_table_take(t, rows, count, out, err);
}

tl_status tl_table_filter(const tl_table *t, const char *src, tl_table **out, tl_error *err) {
  expr *e;
  TL_TRY(tl_expr_parse(src, "filter", NULL, &e, err));
  tl_status st = tl_expr_bind(e, t, "filter", src, NULL, NULL, err);
  if (st == TL_OK && e->type && e->type != TL_BOOL)
    st = tl_error_set(err, TL_ETYPE, "filter: \"%s\": the condition is %s, not bool", src,
                      tl_type_name(e->type));
  int64_t *rows = NULL, count = 0, cap = 0;
  for (int64_t start = 0; start < t->nrows && st == TL_OK; start += TL_VEC) {
    int n = (int)(t->nrows - start < TL_VEC ? t->nrows - start : TL_VEC);
    st = tl_expr_eval(e, t->cols, NULL, start, n, "filter", err);
    if (st == TL_OK) st = collect(&e->out, start, n, &rows, &count, &cap, err);
  }
  if (st == TL_OK) st = filter_rows(t, rows, count, out, err);
  tl_free(rows);
  tl_expr_free(e);
  return st;
}

tl_status tl_table_filter_mask(const tl_table *t, const tl_column *mask, tl_table **out,
                               tl_error *err) {
  if (mask->type != TL_BOOL)
    return tl_error_set(err, TL_ETYPE, "filter: the mask must be a bool column, not %s",
                        tl_type_name(mask->type));
  if (mask->length != t->nrows)
    return tl_error_set(err, TL_EINVAL, "filter: the mask has %lld rows, the table %lld",
                        (long long)mask->length, (long long)t->nrows);
  int64_t *rows = tl_alloc((size_t)(t->nrows + 1) * sizeof *rows), count = 0;
  if (!rows) return tl_error_oom(err, "filter");
  const uint8_t *bits = mask->values;
  for (int64_t i = 0; i < t->nrows; i++) {
    rows[count] = i;
    count += TL_BIT_GET(bits, i) & (!mask->validity || TL_BIT_GET(mask->validity, i));
  }
  tl_status st = filter_rows(t, rows, count, out, err);
  tl_free(rows);
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

tl_status tl_table_eval(const tl_table *t, const char *src, const char *op, tl_column **out,
                        tl_error *err) {
  expr *e;
  TL_TRY(tl_expr_parse(src, op, NULL, &e, err));
  tl_status st = tl_expr_bind(e, t, op, src, NULL, NULL, err);
  if (st == TL_OK) st = tl_expr_column(e, t->cols, NULL, t->nrows, op, out, err);
  tl_expr_free(e);
  return st;
}

tl_status tl_table_mutate(const tl_table *t, int n, const char *const *defs, tl_table **out,
                          tl_error *err) {
  tl_table *cur = tl_table_retain((tl_table *)t);
  for (int k = 0; k < n; k++) {
    char *name = NULL;
    expr *e;
    tl_status st = tl_expr_parse(defs[k], "mutate", &name, &e, err);
    if (st != TL_OK) { tl_table_release(cur); return st; }
    if (!name && !(name = tl_expr_default_name(defs[k]))) st = tl_error_oom(err, "mutate");
    tl_column *c = NULL;
    if (st == TL_OK) st = tl_expr_bind(e, cur, "mutate", defs[k], NULL, NULL, err);
    if (st == TL_OK) st = tl_expr_column(e, cur->cols, NULL, cur->nrows, "mutate", &c, err);
    tl_table *next = NULL;
    if (st == TL_OK) st = tl_table_set_column(cur, name, c, &next, err);
    tl_column_release(c);
    tl_expr_free(e);
    tl_free(name);
    tl_table_release(cur);
    if (st != TL_OK) return st;
    cur = next;
  }
  *out = cur;
  return TL_OK;
}

tl_status tl_table_lookup(const tl_table *t, const char *name, const char *op, int *j,
                          tl_error *err) {
  *j = tl_table_find(t, name);
  if (*j >= 0) return TL_OK;
  const char *s = tl_table_suggest(t, name);
  if (s) return tl_error_set(err, TL_EINVAL, "%s: unknown column '%s' (did you mean '%s'?)", op, name, s);
  return tl_error_set(err, TL_EINVAL, "%s: unknown column '%s'", op, name);
}

tl_status tl_table_select(const tl_table *t, int n, const char *const *names, tl_table **out,
                          tl_error *err) {
  tl_column **cols = tl_calloc((size_t)n + 1, sizeof *cols);
  if (!cols) return tl_error_oom(err, "select");
  tl_status st = TL_OK;
  for (int k = 0; k < n && st == TL_OK; k++) {
    int j;
    if ((st = tl_table_lookup(t, names[k], "select", &j, err)) == TL_OK) cols[k] = t->cols[j];
  }
  if (st == TL_OK) st = tl_table_new(n, names, cols, out, err);
  tl_free(cols);
  return st;
}

tl_status tl_table_drop(const tl_table *t, int n, const char *const *names, tl_table **out,
                        tl_error *err) {
  char *gone = tl_calloc((size_t)t->ncol + 1, 1);
  const char **keep = tl_calloc((size_t)t->ncol + 1, sizeof *keep);
  tl_status st = (gone && keep) ? TL_OK : tl_error_oom(err, "drop");
  for (int k = 0; k < n && st == TL_OK; k++) {
    int j;
    if ((st = tl_table_lookup(t, names[k], "drop", &j, err)) == TL_OK) gone[j] = 1;
  }
  int m = 0;
  for (int j = 0; j < t->ncol && st == TL_OK; j++)
    if (!gone[j]) keep[m++] = t->names[j];
  if (st == TL_OK) st = tl_table_select(t, m, keep, out, err);
  tl_free(gone);
  tl_free(keep);
  return st;
}

tl_status tl_table_rename(const tl_table *t, int n, const char *const *from,
                          const char *const *to, tl_table **out, tl_error *err) {
  const char **names = tl_calloc((size_t)t->ncol + 1, sizeof *names);
  if (!names) return tl_error_oom(err, "rename");
  for (int j = 0; j < t->ncol; j++) names[j] = t->names[j];
  tl_status st = TL_OK;
  for (int k = 0; k < n && st == TL_OK; k++) {
    int j;
    if ((st = tl_table_lookup(t, from[k], "rename", &j, err)) == TL_OK) names[j] = to[k];
  }
  if (st == TL_OK) st = tl_table_new(t->ncol, names, t->cols, out, err);
  if (st == TL_EINVAL && err && strncmp(err->message, "table:", 6) == 0) {
    char msg[TL_ERROR_SIZE];
    memcpy(msg, err->message, sizeof msg);
    tl_error_set(err, TL_EINVAL, "rename:%s", msg + 6);
  }
  tl_free(names);
  return st;
}
