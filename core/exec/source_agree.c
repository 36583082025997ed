/*
** source_agree.c -- the schema several files of a scan agree on, whatever
** their format: the same names in the same order, each column of one type,
** an int column meeting a float one read as float. A CSV sample whose
** column holds only nulls says nothing of its type (`sampled`); a
** Parquet file declares its types. Also the widening of a batch's int
** columns to the float the files agreed on, and the check that a batch has
** the agreed types (a file replaced after the scan was made may not).
*/
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "source.h"

static tl_status first_file(tl_agree *a, const tl_table *t, int sampled, tl_error *err) {
  int n = tl_table_ncols(t);
  a->names = tl_calloc((size_t)n + 1, sizeof *a->names);
  a->types = tl_calloc((size_t)n + 1, sizeof *a->types);
  a->seen = tl_calloc((size_t)n + 1, 1);
  if (!a->names || !a->types || !a->seen) return tl_error_oom(err, "scan");
  for (int j = 0; j < n; j++, a->ncol++) {
    const tl_column *c = tl_table_column(t, j);
    if (!(a->names[j] = tl_strdup(tl_table_name(t, j)))) return tl_error_oom(err, "scan");
    a->types[j] = tl_column_type(c);
    a->seen[j] = !sampled || tl_column_null_count(c) < tl_table_nrows(t);
  }
  return TL_OK;
}

tl_status tl_agree_add(tl_agree *a, int f, const char *path, const char *path0,
                       const tl_table *t, int sampled, tl_error *err) {
  if (f == 0) return first_file(a, t, sampled, err);
  int n = tl_table_ncols(t);
  if (n != a->ncol)
    return tl_error_set(err, TL_ETYPE, "scan: %s: %d columns, but %s has %d", path, n, path0,
                        a->ncol);
  for (int j = 0; j < n; j++) {
    const tl_column *col = tl_table_column(t, j);
    tl_type ty = tl_column_type(col), was = a->types[j];
    int has = !sampled || tl_column_null_count(col) < tl_table_nrows(t);
    if (strcmp(tl_table_name(t, j), a->names[j]) != 0)
      return tl_error_set(err, TL_ETYPE, "scan: %s: column %d is '%s', but '%s' in %s", path,
                          j + 1, tl_table_name(t, j), a->names[j], path0);
    if (ty == was || !has) continue;
    if (!a->seen[j]) a->types[j] = ty;
    else if ((ty == TL_INT || ty == TL_FLOAT) && (was == TL_INT || was == TL_FLOAT))
      a->types[j] = TL_FLOAT;
    else
      return tl_error_set(err, TL_ETYPE, "scan: %s: column '%s' is %s, but %s in the files "
                          "before it", path, a->names[j], tl_type_name(ty), tl_type_name(was));
    a->seen[j] = 1;
  }
  return TL_OK;
}

void tl_agree_free(tl_agree *a) {
  for (int j = 0; a->names && j < a->ncol; j++) tl_free(a->names[j]);
  tl_free(a->names);
  tl_free(a->types);
  tl_free(a->seen);
  memset(a, 0, sizeof *a);
}

tl_status tl_agree_schema(const tl_agree *a, tl_table **out, tl_error *err) {
  tl_column **cols = tl_calloc((size_t)a->ncol + 1, sizeof *cols);
  if (!cols) return tl_error_oom(err, "scan");
  tl_status st = TL_OK;
  for (int j = 0; j < a->ncol && st == TL_OK; j++) {
    tl_builder *b = NULL;
    st = tl_builder_new(a->types[j], 0, &b, err);
    if (st == TL_OK) st = tl_builder_finish(b, &cols[j], err);   /* frees b */
  }
  if (st == TL_OK) st = tl_table_new(a->ncol, (const char *const *)a->names, cols, out, err);
  for (int j = 0; j < a->ncol; j++) tl_column_release(cols[j]);
  tl_free(cols);
  return st;
}

/* An int column as floats, nulls kept. */
static tl_status to_float(const tl_column *c, tl_column **out, tl_error *err) {
  TL_TRY(tl_column_alloc(TL_FLOAT, c->length, c->validity != NULL, 0, out, err));
  const int64_t *v = c->values;
  double *d = (*out)->values;
  for (int64_t i = 0; i < c->length; i++) d[i] = (double)v[i];
  if (c->validity) memcpy((*out)->validity, c->validity, TL_BITMAP_BYTES(c->length));
  tl_column_seal(*out);
  return TL_OK;
}

static tl_status widen(const tl_table *schema, const char *path, tl_table **t, tl_error *err) {
  for (int j = 0; j < tl_table_ncols(*t); j++) {
    const tl_column *c = tl_table_column(*t, j);
    int k = tl_table_find(schema, tl_table_name(*t, j));
    if (k < 0) continue;
    tl_type ty = tl_column_type(c), want = tl_column_type(tl_table_column(schema, k));
    if (ty == want) continue;
    if (ty != TL_INT || want != TL_FLOAT)   /* the batches must have the plan's types */
      return tl_error_set(err, TL_ETYPE, "scan: %s: column '%s' is %s, but %s when the scan "
                          "was made (the file has changed since)", path, tl_table_name(*t, j),
                          tl_type_name(ty), tl_type_name(want));
    tl_column *f = NULL;
    tl_table *u = NULL;
    TL_TRY(to_float(c, &f, err));
    tl_status st = tl_table_set_column(*t, tl_table_name(*t, j), f, &u, err);
    tl_column_release(f);
    if (st != TL_OK) return st;
    tl_table_release(*t);
    *t = u;
  }
  return TL_OK;
}

tl_status tl_agree_widen(const tl_table *schema, const char *path, tl_table **t, tl_error *err) {
  tl_status st = widen(schema, path, t, err);
  if (st != TL_OK) {   /* the reader's callers take no batch with an error */
    tl_table_release(*t);
    *t = NULL;
  }
  return st;
}
