/*
** window_fns.c -- the window functions of mutate past lag, lead, cumsum,
** rank and row_number (window.c): ranks and distributions (dense_rank,
** percent_rank, cume_dist, ntile), the frame's ends (first_value,
** last_value), running values row by row (cummax, cummin, cumprod,
** cumcount) and rolling values over the n rows ending at each row
** (rolling_sum, rolling_mean, rolling_min, rolling_max, rolling_std), each
** one pass along the window's order, partition by partition.
**
** NaN is a float greater than every other number, as the design has it:
** a running or rolling max that has seen one is NaN, a min passes over it
** unless it has seen nothing else; sums and means with one in their rows
** are NaN.
*/
#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/table.h"
#include "agg/sum.h"
#include "expr/registry.h"
#include "window.h"

/* Whether row i of c is null: tl_column_is_null, inlined for the loops. */
static inline int null_at(const tl_column *c, int64_t i) {
  return c->validity && !TL_BIT_GET(c->validity, i);
}

#define STOP(p) (((p) & 0xffff) == 0 && tl_interrupted())

/* The last position of p's peers (p's own without an order). */
static int64_t peer_end(const tl_window *w, int64_t p) {
  if (!w->peer) return w->end[p] - 1;
  int64_t q = p;
  while (q + 1 < w->end[p] && w->peer[q + 1] == w->peer[p]) q++;
  return q;
}

/* dense_rank, percent_rank, cume_dist and ntile(k). */
tl_status tl_window_ranks(const tl_window *w, int id, int64_t k, tl_column **out,
                          tl_error *err) {
  int isf = id == W_PERCENT_RANK || id == W_CUME_DIST;
  tl_column *c;
  TL_TRY(tl_column_alloc(isf ? TL_FLOAT : TL_INT, w->n, 0, 0, &c, err));
  int64_t *iv = c->values;
  double *fv = c->values;
  int64_t dense = 0, last_end = -1;
  for (int64_t p = 0; p < w->n; p++) {
    if (STOP(p)) { tl_column_release(c); return tl_error_interrupted(err, "mutate"); }
    int64_t row = w->perm[p], first = w->first[p], m = w->end[p] - first, i = p - first;
    int64_t rank = (w->peer ? w->peer[p] : first) - first;   /* 0-based */
    if (p == first) dense = 0;
    if (w->peer && p > first && w->peer[p] == p) dense++;
    switch (id) {
      case W_DENSE_RANK: iv[row] = dense + 1; break;
      case W_PERCENT_RANK: fv[row] = m > 1 ? (double)rank / (double)(m - 1) : 0; break;
      case W_CUME_DIST:
        if (p > last_end) last_end = peer_end(w, p);
        fv[row] = (double)(last_end - first + 1) / (double)m;
        break;
      default: {                                   /* ntile: the first m % k tiles are larger */
        int64_t q = m / k, r = m % k;
        iv[row] = q == 0 ? i + 1 : i < r * (q + 1) ? i / (q + 1) + 1 : (i - r) / q + 1;
      }
    }
    if (p + 1 < w->n && w->first[p + 1] != first) last_end = -1;
  }
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

/* first_value and last_value: x at the frame's first row (the partition's)
** or its last (the current row's last peer; the partition's last row
** without order_by). Nulls are values here, as in SQL. */
tl_status tl_window_ends(const tl_window *w, int id, const tl_column *x, tl_column **out,
                         tl_error *err) {
  int64_t *idx = tl_alloc(((size_t)w->n + 1) * sizeof *idx);
  if (!idx) return tl_error_oom(err, "mutate");
  int64_t last_end = -1;
  for (int64_t p = 0; p < w->n; p++) {
    if (STOP(p)) { tl_free(idx); return tl_error_interrupted(err, "mutate"); }
    if (p > last_end || w->first[p] == p) last_end = peer_end(w, p);
    idx[w->perm[p]] = w->perm[id == W_FIRST_VALUE ? w->first[p] : last_end];
  }
  tl_status st = tl_column_take(x, idx, w->n, out, err);
  tl_free(idx);
  return st;
}

static void put(tl_column *c, int64_t row, int isf, double f, int64_t i) {
  if (isf) ((double *)c->values)[row] = f;
  else if (c->type == TL_DATE) ((int32_t *)c->values)[row] = (int32_t)i;
  else ((int64_t *)c->values)[row] = i;
}

/* cummax, cummin, cumprod, cumcount: row by row along the order, nulls
** passed over (null until the first value). */
tl_status tl_window_running(const tl_window *w, int id, const tl_column *x, tl_column **out,
                            tl_error *err) {
  tl_type ot = id == W_CUMCOUNT ? TL_INT : x->type == TL_BOOL ? TL_INT : x->type;
  int isf = ot == TL_FLOAT;
  tl_column *c;
  TL_TRY(tl_column_alloc(ot, w->n, 1, 0, &c, err));
  double fa = 0;
  int64_t ia = 0, cnt = 0;
  for (int64_t p = 0; p < w->n; p++) {
    if (STOP(p)) { tl_column_release(c); return tl_error_interrupted(err, "mutate"); }
    int64_t row = w->perm[p];
    if (w->first[p] == p) { fa = 0; ia = 0; cnt = 0; }
    if (!x || !null_at(x, row)) {
      if (id == W_CUMCOUNT) {
        ia = ++cnt;
      } else if (isf) {
        double v = num_at(x, row);
        fa = cnt == 0 ? v : id == W_CUMMAX ? (less(fa, v) ? v : fa)
           : id == W_CUMMIN ? (less(v, fa) ? v : fa) : fa * v;
        cnt++;
      } else {
        int64_t v = int_at(x, row);
        if (cnt == 0) ia = v;
        else if (id == W_CUMMAX) ia = v > ia ? v : ia;
        else if (id == W_CUMMIN) ia = v < ia ? v : ia;
        else if (__builtin_mul_overflow(ia, v, &ia)) {
          tl_column_release(c);
          return tl_error_set(err, TL_ERANGE, "mutate: integer overflow in cumprod at row %lld",
                              (long long)row + 1);
        }
        cnt++;
      }
    }
    if (cnt == 0 && id != W_CUMCOUNT) TL_BIT_CLEAR(c->validity, row);
    else put(c, row, isf, fa, id == W_CUMCOUNT ? cnt : ia);
  }
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

/* The values in a rolling frame: counts of what a float sum cannot take
** back (NaN, infinities), the compensated sum of the finite ones, and a
** mean and M2 (Welford's) for the deviation. */
typedef struct roll {
  int64_t n, nan, pinf, ninf;
  double s, c;          /* finite floats */
  int64_t si;           /* ints */
  double mean, m2;
} roll;

static void roll_add(roll *r, double v, int sign) {
  if (isnan(v)) { r->nan += sign; return; }
  if (isinf(v)) { if (v > 0) r->pinf += sign; else r->ninf += sign; return; }
  tl_sum_add(&r->s, &r->c, sign * v);
  int64_t k = r->n - r->nan - r->pinf - r->ninf;   /* finite values now in the frame */
  if (sign > 0) {
    double d = v - r->mean;
    r->mean += d / (double)k;
    r->m2 += d * (v - r->mean);
  } else if (k == 0) {
    r->mean = r->m2 = 0;
  } else {
    double d = v - r->mean;
    r->mean -= d / (double)k;
    r->m2 -= d * (v - r->mean);
    if (r->m2 < 0) r->m2 = 0;
  }
}

/* A monotonic queue of positions for rolling_min and rolling_max: the
** front is the extreme of the frame. */
typedef struct mq { int64_t *q, head, tail; } mq;

/* Frames of up to this many values get their deviation in two passes over
** the values (exact where a running M2 would leave a residue: a frame of
** equal values has 0); longer ones take the running M2. */
#define EXACT_FRAME 256

static double frame_std(const tl_window *w, const tl_column *x, int64_t p, int64_t k) {
  int64_t from = p - k + 1 > w->first[p] ? p - k + 1 : w->first[p], n = 0;
  double s = 0, c = 0, m2 = 0;
  for (int64_t q = from; q <= p; q++)
    if (!null_at(x, w->perm[q])) { tl_sum_add(&s, &c, num_at(x, w->perm[q])); n++; }
  double mean = tl_sum_value(s, c) / (double)n;
  for (int64_t q = from; q <= p; q++)
    if (!null_at(x, w->perm[q])) {
      double d = num_at(x, w->perm[q]) - mean;
      m2 += d * d;
    }
  return sqrt(m2 / (double)(n - 1));
}

/* rolling_*(x, k): over the k rows ending at each row, within its
** partition, nulls passed over; null where the frame holds no value
** (rolling_std: fewer than two). */
tl_status tl_window_rolling(const tl_window *w, int id, const tl_column *x, int64_t k,
                            tl_column **out, tl_error *err) {
  int xf = x->type == TL_FLOAT;
  tl_type ot = id == W_ROLLING_MEAN || id == W_ROLLING_STD ? TL_FLOAT
             : id == W_ROLLING_SUM ? (xf ? TL_FLOAT : TL_INT)
             : x->type == TL_BOOL ? TL_INT : x->type;
  tl_column *c;
  TL_TRY(tl_column_alloc(ot, w->n, 1, 0, &c, err));
  mq m = {tl_alloc(((size_t)w->n + 1) * sizeof *m.q), 0, 0};
  if (!m.q) { tl_column_release(c); return tl_error_oom(err, "mutate"); }
  roll r;
  int minmax = id == W_ROLLING_MIN || id == W_ROLLING_MAX;
  for (int64_t p = 0; p < w->n; p++) {
    if (STOP(p)) { tl_free(m.q); tl_column_release(c); return tl_error_interrupted(err, "mutate"); }
    int64_t row = w->perm[p], first = w->first[p];
    if (p == first) { memset(&r, 0, sizeof r); m.head = m.tail = 0; }
    if (!null_at(x, row)) {          /* in: the current row */
      double v = num_at(x, row);
      r.n++;
      if (minmax) {
        while (m.tail > m.head) {
          double b = num_at(x, w->perm[m.q[m.tail - 1]]);
          if (id == W_ROLLING_MAX ? !less(b, v) && !(b == v) : !less(v, b) && !(b == v)) break;
          m.tail--;
        }
        m.q[m.tail++] = p;
      } else if (!xf) {
        if (__builtin_add_overflow(r.si, int_at(x, row), &r.si)) {
          tl_free(m.q);
          tl_column_release(c);
          return tl_error_set(err, TL_ERANGE, "mutate: integer overflow in rolling_sum at "
                              "row %lld", (long long)row + 1);
        }
        roll_add(&r, v, 1);
      } else {
        roll_add(&r, v, 1);
      }
    }
    int64_t out_p = p - k;                      /* out: the row leaving the frame */
    if (out_p >= first && !null_at(x, w->perm[out_p])) {
      double v = num_at(x, w->perm[out_p]);
      r.n--;
      if (minmax) {
        if (m.tail > m.head && m.q[m.head] == out_p) m.head++;
      } else {
        if (!xf) r.si -= int_at(x, w->perm[out_p]);
        roll_add(&r, v, -1);
      }
    }
    int64_t finite = r.n - r.nan - r.pinf - r.ninf;
    if (r.n == 0 || (id == W_ROLLING_STD && r.n < 2)) {
      TL_BIT_CLEAR(c->validity, row);
      continue;
    }
    double f = 0;
    switch (id) {
      case W_ROLLING_SUM: case W_ROLLING_MEAN:
        f = r.nan || (r.pinf && r.ninf) ? NAN : r.pinf ? INFINITY : r.ninf ? -INFINITY
          : tl_sum_value(r.s, r.c);
        if (id == W_ROLLING_MEAN) f = isfinite(f) ? f / (double)r.n : f;
        if (id == W_ROLLING_SUM && !xf) { put(c, row, 0, 0, r.si); continue; }
        break;
      case W_ROLLING_STD:
        f = finite < r.n ? NAN : r.n <= EXACT_FRAME ? frame_std(w, x, p, k) : sqrt(r.m2 / (double)(r.n - 1));
        break;
      default: {
        int64_t best = m.q[m.head];
        if (ot == TL_FLOAT) f = num_at(x, w->perm[best]);
        else { put(c, row, 0, 0, int_at(x, w->perm[best])); continue; }
      }
    }
    put(c, row, 1, f, 0);
  }
  tl_free(m.q);
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}
