/*
** stats.c -- whole-column statistics: sum, mean, min, max, count.
** Each skips nulls; integer sums are exact or an error, float sums are
** compensated (Neumaier), so that {1e308, 3.0, -1e308} sums to 3.
*/
#include <math.h>
#include <string.h>

#include "column.h"
#include "error.h"

int64_t tl_column_count(const tl_column *c) { return c->length - c->null_count; }

static void set_null(tl_scalar *out, tl_type type) {
  memset(out, 0, sizeof *out);
  out->type = type;
  out->is_null = 1;
}

/* Neumaier's compensated sum over the valid values. */
static double float_sum(const tl_column *c) {
  const double *v = c->values;
  double s = 0, comp = 0;
  TL_FOR_VALID(c, i, {
    double x = v[i], t = s + x;
    if (isfinite(t)) comp += fabs(s) >= fabs(x) ? (s - t) + x : (x - t) + s;
    s = t;
  });
  return isfinite(s) ? s + comp : s;   /* an infinity or NaN needs no correction */
}

/* Exact sum of an int column: 128 bits cannot overflow below 2^64 rows. */
static tl_i128 int_sum(const tl_column *c) {
  const int64_t *v = c->values;
  tl_i128 s = 0;
  TL_FOR_VALID(c, i, s += v[i]);
  return s;
}

tl_status tl_column_sum(const tl_column *c, tl_scalar *out, tl_error *err) {
  int64_t n = tl_column_count(c);
  switch (c->type) {
    case TL_INT: {
      tl_i128 s = int_sum(c);
      if (s > INT64_MAX || s < INT64_MIN)
        return tl_error_set(err, TL_ERANGE, "sum: integer overflow (the sum leaves int64)");
      set_null(out, TL_INT);
      out->v.i = (int64_t)s;
      out->is_null = n == 0;
      return TL_OK;
    }
    case TL_FLOAT:
      set_null(out, TL_FLOAT);
      out->v.f = float_sum(c);
      out->is_null = n == 0;
      return TL_OK;
    case TL_BOOL: {
      int64_t k = 0;
      TL_FOR_VALID(c, i, k += TL_BIT_GET((const uint8_t *)c->values, i));
      set_null(out, TL_INT);
      out->v.i = k;
      out->is_null = n == 0;
      return TL_OK;
    }
    default:
      return tl_error_set(err, TL_ETYPE, "sum: %s columns have no sum", tl_type_name(c->type));
  }
}

tl_status tl_column_mean(const tl_column *c, tl_scalar *out, tl_error *err) {
  int64_t n = tl_column_count(c);
  double m;
  switch (c->type) {
    case TL_INT: m = n ? (double)int_sum(c) / (double)n : 0; break;
    case TL_FLOAT: m = n ? float_sum(c) / (double)n : 0; break;
    default:
      return tl_error_set(err, TL_ETYPE, "mean: %s columns have no mean", tl_type_name(c->type));
  }
  set_null(out, TL_FLOAT);
  out->is_null = n == 0;
  out->v.f = m;
  return TL_OK;
}

/* min (sign < 0) or max (sign > 0) of any type: the winning row, or -1.
** NaN loses to every number; it wins only when there is nothing else. */
static int64_t extreme(const tl_column *c, int sign) {
  int64_t best = -1;
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP: {
      const int64_t *v = c->values;
      TL_FOR_VALID(c, i, {
        if (best < 0 || (sign < 0 ? v[i] < v[best] : v[i] > v[best])) best = i;
      });
      return best;
    }
    case TL_DATE: {
      const int32_t *v = c->values;
      TL_FOR_VALID(c, i, {
        if (best < 0 || (sign < 0 ? v[i] < v[best] : v[i] > v[best])) best = i;
      });
      return best;
    }
    case TL_FLOAT: {
      const double *v = c->values;
      int64_t nan = -1;
      TL_FOR_VALID(c, i, {
        if (v[i] != v[i]) { if (nan < 0) nan = i; }
        else if (best < 0 || (sign < 0 ? v[i] < v[best] : v[i] > v[best])) best = i;
      });
      return best >= 0 ? best : nan;
    }
    default:
      TL_FOR_VALID(c, i, {
        if (best < 0 || tl_column_compare_values(c, i, c, best) * sign > 0) best = i;
      });
      return best;
  }
}

static tl_status pick(const tl_column *c, int sign, tl_scalar *out) {
  int64_t best = extreme(c, sign);
  if (best < 0) set_null(out, c->type);
  else tl_column_get(c, best, out);
  return TL_OK;
}

tl_status tl_column_min(const tl_column *c, tl_scalar *out, tl_error *err) {
  (void)err;
  return pick(c, -1, out);
}

tl_status tl_column_max(const tl_column *c, tl_scalar *out, tl_error *err) {
  (void)err;
  return pick(c, 1, out);
}
