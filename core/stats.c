/*
** stats.c -- whole-column statistics: sum, mean, min, max, count.
** Each skips nulls; integer sums are exact or an error, float sums are
** compensated (Neumaier), so that {1e308, 3.0, -1e308} sums to 3.
*/
#include <math.h>
#include <string.h>

#include "column.h"
#include "error.h"

#define VALID(c, i) (!(c)->validity || TL_BIT_GET((c)->validity, i))

int64_t tl_column_count(const tl_column *c) { return c->length - c->null_count; }

static void set_null(tl_scalar *out, tl_type type) {
  memset(out, 0, sizeof *out);
  out->type = type;
  out->is_null = 1;
}

/* Neumaier's compensated sum over the valid values; *n gets their count. */
static double float_sum(const tl_column *c, int64_t *n) {
  const double *v = c->values;
  double s = 0, comp = 0;
  int64_t k = 0;
  for (int64_t i = 0; i < c->length; i++) {
    if (!VALID(c, i)) continue;
    double x = v[i], t = s + x;
    if (fabs(s) >= fabs(x)) comp += (s - t) + x;
    else comp += (x - t) + s;
    s = t;
    k++;
  }
  *n = k;
  return s + comp;
}

/* Exact sum of an int column: 128 bits cannot overflow below 2^64 rows. */
static tl_i128 int_sum(const tl_column *c) {
  const int64_t *v = c->values;
  tl_i128 s = 0;
  if (!c->validity) {
    for (int64_t i = 0; i < c->length; i++) s += v[i];
  } else {
    for (int64_t i = 0; i < c->length; i++)
      if (TL_BIT_GET(c->validity, i)) s += v[i];
  }
  return s;
}

tl_status tl_column_sum(const tl_column *c, tl_scalar *out, tl_error *err) {
  switch (c->type) {
    case TL_INT: {
      tl_i128 s = int_sum(c);
      if (s > INT64_MAX || s < INT64_MIN)
        return tl_error_set(err, TL_ERANGE, "sum: integer overflow (the sum leaves int64)");
      memset(out, 0, sizeof *out);
      out->type = TL_INT;
      out->v.i = (int64_t)s;
      if (tl_column_count(c) == 0) out->is_null = 1;
      return TL_OK;
    }
    case TL_FLOAT: {
      int64_t n;
      double s = float_sum(c, &n);
      memset(out, 0, sizeof *out);
      out->type = TL_FLOAT;
      out->v.f = s;
      out->is_null = n == 0;
      return TL_OK;
    }
    case TL_BOOL: {
      int64_t k = 0;
      for (int64_t i = 0; i < c->length; i++)
        if (VALID(c, i) && TL_BIT_GET((const uint8_t *)c->values, i)) k++;
      memset(out, 0, sizeof *out);
      out->type = TL_INT;
      out->v.i = k;
      out->is_null = tl_column_count(c) == 0;
      return TL_OK;
    }
    default:
      return tl_error_set(err, TL_ETYPE, "sum: %s columns have no sum", tl_type_name(c->type));
  }
}

tl_status tl_column_mean(const tl_column *c, tl_scalar *out, tl_error *err) {
  int64_t n = tl_column_count(c);
  double m = 0;
  switch (c->type) {
    case TL_INT: {
      tl_i128 s = int_sum(c);
      m = n ? (double)s / (double)n : 0;
      break;
    }
    case TL_FLOAT: {
      double s = float_sum(c, &n);
      m = n ? s / (double)n : 0;
      break;
    }
    default:
      return tl_error_set(err, TL_ETYPE, "mean: %s columns have no mean", tl_type_name(c->type));
  }
  set_null(out, TL_FLOAT);
  out->is_null = n == 0;
  out->v.f = m;
  return TL_OK;
}

/* min (sign < 0) or max (sign > 0) of any type; NaN is skipped unless every
** value is NaN. */
static tl_status extreme(const tl_column *c, int sign, tl_scalar *out) {
  int64_t best = -1;
  for (int64_t i = 0; i < c->length; i++) {
    if (!VALID(c, i)) continue;
    if (c->type == TL_FLOAT && isnan(((const double *)c->values)[i])) {
      if (best < 0) best = i;
      continue;
    }
    if (best < 0 || (c->type == TL_FLOAT && isnan(((const double *)c->values)[best])) ||
        tl_column_compare_values(c, i, c, best) * sign > 0)
      best = i;
  }
  if (best < 0) { set_null(out, c->type); return TL_OK; }
  tl_column_get(c, best, out);
  return TL_OK;
}

tl_status tl_column_min(const tl_column *c, tl_scalar *out, tl_error *err) {
  (void)err;
  return extreme(c, -1, out);
}

tl_status tl_column_max(const tl_column *c, tl_scalar *out, tl_error *err) {
  (void)err;
  return extreme(c, 1, out);
}
