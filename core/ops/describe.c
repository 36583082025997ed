/*
** describe.c -- t:describe(), per-column statistics, made of the grouping
** module's aggregates over each column alone and of value_counts.
*/
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/table.h"

enum { D_NAME, D_TYPE, D_COUNT, D_NULLS, D_DISTINCT, D_MEAN, D_STD, D_MIN, D_Q25, D_Q50,
       D_Q75, D_MAX, D_TOP, D_NCOLS };

static const char *const dnames[D_NCOLS] = {
  "name", "type", "count", "nulls", "distinct", "mean", "std", "min", "25%", "50%", "75%",
  "max", "top"
};

/* The aggregates of a column "x", in the order of the output from D_COUNT;
** the numeric ones (from mean on) only for numbers. */
static const char *const ddefs[] = {
  "count(x)", "count_distinct(x)", "mean(x)", "stddev(x)", "min(x)", "quantile(x, 0.25)",
  "median(x)", "quantile(x, 0.75)", "max(x)"
};
#define DDEFS_ALL ((int)(sizeof ddefs / sizeof *ddefs))

/* Appends row 0 of c to the float builder b: numbers as floats. */
static tl_status append_float(tl_builder *b, const tl_column *c, tl_error *err) {
  tl_scalar v;
  tl_column_get(c, 0, &v);
  if (v.is_null) return tl_builder_append_null(b, err);
  return tl_builder_append_float(b, v.type == TL_FLOAT ? v.v.f : (double)v.v.i, err);
}

/* The most frequent non-null value of c as text, appended to b. */
static tl_status append_top(tl_builder *b, const tl_column *c, tl_error *err) {
  tl_table *vc;
  TL_TRY(tl_column_value_counts(c, &vc, err));
  const tl_column *v = tl_table_column(vc, 0);
  int64_t i = 0;
  while (i < tl_table_nrows(vc) && tl_column_is_null(v, i)) i++;   /* at most one null */
  tl_status st;
  if (i == tl_table_nrows(vc)) {
    st = tl_builder_append_null(b, err);
  } else {
    tl_scalar s;
    tl_column_get(v, i, &s);
    if (s.type == TL_STRING) {
      st = tl_builder_append_string(b, s.v.s.ptr, s.v.s.len, err);
    } else {
      char buf[64];
      size_t len = tl_scalar_format(&s, buf, sizeof buf);
      st = tl_builder_append_string(b, buf, len < sizeof buf ? len : sizeof buf - 1, err);
    }
  }
  tl_table_release(vc);
  return st;
}

/* Row j of the description into the builders. */
static tl_status describe_column(const tl_table *t, int j, tl_builder **bs, tl_error *err) {
  tl_column *c = t->cols[j];
  tl_type type = tl_column_type(c);
  int num = type == TL_INT || type == TL_FLOAT;
  int ndefs = num ? DDEFS_ALL : 2;
  const char *x = "x";
  tl_table *one = NULL, *agg = NULL;
  TL_TRY(tl_table_new(1, &x, &c, &one, err));
  tl_status st = tl_table_agg(one, ndefs, ddefs, &agg, err);
  tl_table_release(one);
  if (st != TL_OK) return st;
  const char *name = t->names[j], *tn = tl_type_name(type);
  st = tl_builder_append_string(bs[D_NAME], name, strlen(name), err);
  if (st == TL_OK) st = tl_builder_append_string(bs[D_TYPE], tn, strlen(tn), err);
  if (st == TL_OK) st = tl_builder_append_int(bs[D_COUNT], tl_column_count(c), err);
  if (st == TL_OK) st = tl_builder_append_int(bs[D_NULLS], tl_column_null_count(c), err);
  if (st == TL_OK) {
    tl_scalar v;
    tl_column_get(tl_table_column(agg, 1), 0, &v);
    st = tl_builder_append_int(bs[D_DISTINCT], v.is_null ? 0 : v.v.i, err);
  }
  for (int k = D_MEAN; k <= D_MAX && st == TL_OK; k++)
    st = num ? append_float(bs[k], tl_table_column(agg, k - D_MEAN + 2), err)
             : tl_builder_append_null(bs[k], err);
  if (st == TL_OK) st = append_top(bs[D_TOP], c, err);
  tl_table_release(agg);
  return st;
}

tl_status tl_table_describe(const tl_table *t, tl_table **out, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "describe", err));
  static const tl_type types[D_NCOLS] = {
    TL_STRING, TL_STRING, TL_INT, TL_INT, TL_INT, TL_FLOAT, TL_FLOAT, TL_FLOAT, TL_FLOAT,
    TL_FLOAT, TL_FLOAT, TL_FLOAT, TL_STRING
  };
  tl_builder *bs[D_NCOLS] = { 0 };
  tl_column *cols[D_NCOLS] = { 0 };
  tl_status st = TL_OK;
  for (int k = 0; k < D_NCOLS && st == TL_OK; k++)
    st = tl_builder_new(types[k], t->ncol, &bs[k], err);
  for (int j = 0; j < t->ncol && st == TL_OK; j++)
    st = tl_interrupted() ? tl_error_interrupted(err, "describe") : describe_column(t, j, bs, err);
  if (st == TL_EINTR) tl_error_interrupted(err, "describe");   /* an aggregate's, as ours */
  for (int k = 0; k < D_NCOLS; k++) {
    if (st == TL_OK) st = tl_builder_finish(bs[k], &cols[k], err);
    else tl_builder_free(bs[k]);   /* finish frees it, also on error */
  }
  if (st == TL_OK) st = tl_table_new(D_NCOLS, dnames, cols, out, err);
  for (int k = 0; k < D_NCOLS; k++) tl_column_release(cols[k]);
  if (st != TL_OK && strcmp(tl_error_op(err), "agg") == 0)
    tl_error_rename(err, "describe");   /* the aggregates' errors are describe's */
  return st;
}
