/*
** sum.h -- compensated summation of doubles (Neumaier's method), the one
** used by every sum of floats: sum and mean, column statistics, cumsum.
** A sum is a pair (s, c): the running sum and the rounding errors it lost,
** so that {1e308, 3.0, -1e308} sums to 3.
*/
#ifndef TL_AGG_SUM_H
#define TL_AGG_SUM_H

#include <math.h>

/* The rounding error of t = u + y, exactly (Knuth's TwoSum: the error
** Neumaier's method takes from the larger operand, without a branch on
** which one that is). */
static inline double tl_sum_error(double u, double y, double t) {
  double bp = t - u;
  return (u - (t - bp)) + (y - bp);
}

/* Adds y to the sum (*s, *c). Once the sum is not finite its errors no
** longer count. */
static inline void tl_sum_add(double *s, double *c, double y) {
  double u = *s, t = u + y;
  if (isfinite(t)) *c += tl_sum_error(u, y, t);
  *s = t;
}

/* Adds the sum (s2, c2), which comes after, to (*s, *c). */
static inline void tl_sum_merge(double *s, double *c, double s2, double c2) {
  double u = *s, t = u + s2, cc = *c + c2;
  if (isfinite(t)) cc += tl_sum_error(u, s2, t);
  *s = t;
  *c = cc;
}

/* The value of a sum: an infinity or NaN needs no correction. */
static inline double tl_sum_value(double s, double c) { return isfinite(s) ? s + c : s; }

#endif
