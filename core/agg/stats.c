/*
** stats.c -- whole-column statistics: sum, mean, min, max, count.
** Each skips nulls; integer sums are exact or an error, float sums are
** compensated (Neumaier), so that {1e308, 3.0, -1e308} sums to 3.
*/
#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "partial.h"
#include "base/pool.h"

int64_t tl_column_count(const tl_column *c) { return c->length - c->null_count; }

static void set_null(tl_scalar *out, tl_type type) {
  memset(out, 0, sizeof *out);
  out->type = type;
  out->is_null = 1;
}

/* The reductions run over ranges of tl_group_range_rows() rows on the
** worker threads, and the ranges' results are combined in range order, as
** the aggregates of group_by and agg combine theirs: the ranges never
** depend on the thread count, so neither do the results, and sum(x) here
** equals t:agg("sum(x)") to the bit. */
typedef struct reduce {
  const tl_column *c;
  int64_t rows;          /* per range */
  int sign;              /* extreme: -1 min, 1 max */
  double *fs, *comp;     /* float sums: per range, the sum and its compensation */
  tl_i128 *is;           /* int sums */
  int64_t *best, *nan;   /* extremes: per range, the winning row and the first NaN */
} reduce;

/* The rounding error of t = u + y, exactly (Knuth's TwoSum). */
static inline double sum_error(double u, double y, double t) {
  double bp = t - u;
  return (u - (t - bp)) + (y - bp);
}

static void float_range(void *ctx, int64_t r, int worker) {
  const reduce *R = ctx;
  const double *v = R->c->values;
  int64_t a = r * R->rows, b = a + R->rows < R->c->length ? a + R->rows : R->c->length;
  double s = 0, comp = 0;
  (void)worker;
  TL_FOR_VALID_RANGE(R->c->validity, a, b, i, {
    double y = v[i], t = s + y;
    if (isfinite(t)) comp += sum_error(s, y, t);   /* Neumaier */
    s = t;
  });
  R->fs[r] = s;
  R->comp[r] = comp;
}

static void int_range(void *ctx, int64_t r, int worker) {
  const reduce *R = ctx;
  const int64_t *v = R->c->values;
  int64_t a = r * R->rows, b = a + R->rows < R->c->length ? a + R->rows : R->c->length;
  tl_i128 s = 0;
  (void)worker;
  TL_FOR_VALID_RANGE(R->c->validity, a, b, i, s += v[i]);
  R->is[r] = s;
}

static int64_t nranges(const tl_column *c, int64_t rows) {
  return c->length ? (c->length + rows - 1) / rows : 1;
}

/* Neumaier's compensated sum over the valid values: *ok 0 when out of
** memory. */
static double float_sum(const tl_column *c, int *ok) {
  reduce R = { c, tl_group_range_rows(), 0, NULL, NULL, NULL, NULL, NULL };
  int64_t nr = nranges(c, R.rows);
  R.fs = tl_alloc((size_t)nr * sizeof *R.fs);
  R.comp = tl_alloc((size_t)nr * sizeof *R.comp);
  double s = 0, comp = 0;
  *ok = R.fs && R.comp;
  if (*ok) {
    tl_parallel_for(nr, float_range, &R);
    for (int64_t r = 0; r < nr; r++) {
      double t = s + R.fs[r];
      comp += R.comp[r];
      if (isfinite(t)) comp += sum_error(s, R.fs[r], t);
      s = t;
    }
  }
  tl_free(R.fs);
  tl_free(R.comp);
  return isfinite(s) ? s + comp : s;   /* an infinity or NaN needs no correction */
}

/* Exact sum of an int column: 128 bits cannot overflow below 2^64 rows. */
static tl_i128 int_sum(const tl_column *c, int *ok) {
  reduce R = { c, tl_group_range_rows(), 0, NULL, NULL, NULL, NULL, NULL };
  int64_t nr = nranges(c, R.rows);
  tl_i128 s = 0;
  R.is = tl_alloc((size_t)nr * sizeof *R.is);
  *ok = R.is != NULL;
  if (*ok) {
    tl_parallel_for(nr, int_range, &R);
    for (int64_t r = 0; r < nr; r++) s += R.is[r];
  }
  tl_free(R.is);
  return s;
}

tl_status tl_column_sum(const tl_column *c, tl_scalar *out, tl_error *err) {
  TL_TRY(tl_column_check_file(c, "sum", err));
  int64_t n = tl_column_count(c);
  switch (c->type) {
    case TL_INT: {
      int ok;
      tl_i128 s = int_sum(c, &ok);
      if (!ok) return tl_error_oom(err, "sum");
      if (s > INT64_MAX || s < INT64_MIN)
        return tl_error_set(err, TL_ERANGE, "sum: integer overflow (the sum leaves int64)");
      set_null(out, TL_INT);
      out->v.i = (int64_t)s;
      out->is_null = n == 0;
      return TL_OK;
    }
    case TL_FLOAT: {
      int ok;
      double f = float_sum(c, &ok);
      if (!ok) return tl_error_oom(err, "sum");
      set_null(out, TL_FLOAT);
      out->v.f = f;
      out->is_null = n == 0;
      return TL_OK;
    }
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
  TL_TRY(tl_column_check_file(c, "mean", err));
  int64_t n = tl_column_count(c);
  double m;
  int ok = 1;
  switch (c->type) {
    case TL_INT: m = n ? (double)int_sum(c, &ok) / (double)n : 0; break;
    case TL_FLOAT: m = n ? float_sum(c, &ok) / (double)n : 0; break;
    default:
      return tl_error_set(err, TL_ETYPE, "mean: %s columns have no mean", tl_type_name(c->type));
  }
  if (!ok) return tl_error_oom(err, "mean");
  set_null(out, TL_FLOAT);
  out->is_null = n == 0;
  out->v.f = m;
  return TL_OK;
}

/* Row i beats row b (a valid row or -1) for min (sign < 0) or max: the
** earlier row keeps a tie. NaN rows are kept apart by the caller. */
static inline int beats(const tl_column *c, int sign, int64_t i, int64_t b) {
  if (b < 0) return 1;
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP: {
      const int64_t *v = c->values;
      return sign < 0 ? v[i] < v[b] : v[i] > v[b];
    }
    case TL_DATE: {
      const int32_t *v = c->values;
      return sign < 0 ? v[i] < v[b] : v[i] > v[b];
    }
    case TL_FLOAT: {
      const double *v = c->values;
      return sign < 0 ? v[i] < v[b] : v[i] > v[b];
    }
    default:
      return tl_column_compare_values(c, i, c, b) * sign > 0;
  }
}

/* The first row of [a, b) (a < b) holding the least (sign < 0) or the
** greatest value of v: the extreme in a loop without branches, then its
** first row, found again in the range the loop just brought into cache. */
#define EXTREME_FIRST(T, v, a, b, sign, out) do { \
    T m_ = (v)[a]; \
    if ((sign) < 0) for (int64_t i_ = (a) + 1; i_ < (b); i_++) m_ = (v)[i_] < m_ ? (v)[i_] : m_; \
    else for (int64_t i_ = (a) + 1; i_ < (b); i_++) m_ = (v)[i_] > m_ ? (v)[i_] : m_; \
    int64_t k_ = (a); \
    while ((v)[k_] != m_) k_++; \
    (out) = k_; \
  } while (0)

static void extreme_range(void *ctx, int64_t r, int worker) {
  const reduce *R = ctx;
  const tl_column *c = R->c;
  int64_t a = r * R->rows, b = a + R->rows < c->length ? a + R->rows : c->length;
  int64_t best = -1, nan = -1;
  (void)worker;
  if (!c->validity && a < b && (c->type == TL_INT || c->type == TL_TIMESTAMP)) {
    EXTREME_FIRST(int64_t, (const int64_t *)c->values, a, b, R->sign, best);
  } else if (!c->validity && a < b && c->type == TL_DATE) {
    EXTREME_FIRST(int32_t, (const int32_t *)c->values, a, b, R->sign, best);
  } else if (c->type == TL_FLOAT) {
    const double *v = c->values;
    TL_FOR_VALID_RANGE(c->validity, a, b, i, {
      if (v[i] != v[i]) { if (nan < 0) nan = i; }
      else if (beats(c, R->sign, i, best)) best = i;
    });
  } else {
    TL_FOR_VALID_RANGE(c->validity, a, b, i, { if (beats(c, R->sign, i, best)) best = i; });
  }
  R->best[r] = best;
  R->nan[r] = nan;
}

/* min (sign < 0) or max (sign > 0) of any type: the winning row, -1 when
** there is none, -2 when out of memory. NaN loses to every number; it wins
** only when there is nothing else. */
static int64_t extreme(const tl_column *c, int sign) {
  reduce R = { c, tl_group_range_rows(), sign, NULL, NULL, NULL, NULL, NULL };
  int64_t nr = nranges(c, R.rows), best = -1, nan = -1;
  R.best = tl_alloc((size_t)nr * sizeof *R.best);
  R.nan = tl_alloc((size_t)nr * sizeof *R.nan);
  if (!R.best || !R.nan) best = -2;
  else {
    tl_parallel_for(nr, extreme_range, &R);
    for (int64_t r = 0; r < nr; r++) {
      if (R.best[r] >= 0 && beats(c, sign, R.best[r], best)) best = R.best[r];
      if (nan < 0) nan = R.nan[r];
    }
  }
  tl_free(R.best);
  tl_free(R.nan);
  return best != -1 ? best : nan;
}

static tl_status pick(const tl_column *c, int sign, tl_scalar *out, tl_error *err) {
  int64_t best = extreme(c, sign);
  if (best == -2) return tl_error_oom(err, sign < 0 ? "min" : "max");
  if (best < 0) set_null(out, c->type);
  else tl_column_get(c, best, out);
  return TL_OK;
}

tl_status tl_column_min(const tl_column *c, tl_scalar *out, tl_error *err) {
  TL_TRY(tl_column_check_file(c, "min", err));
  return pick(c, -1, out, err);
}

tl_status tl_column_max(const tl_column *c, tl_scalar *out, tl_error *err) {
  TL_TRY(tl_column_check_file(c, "max", err));
  return pick(c, 1, out, err);
}
