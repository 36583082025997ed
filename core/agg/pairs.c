/*
** pairs.c -- the aggregates of pairs of numbers: corr, covar (sample),
** regr_slope and regr_intercept. One state for all four: the count of the
** pairs with neither value null, the means, the second moments and the
** co-moment, by Welford's method within a range and Chan's formulas across
** ranges, threads and ranks.
*/
#include <math.h>

#include "codec.h"
#include "kind.h"

/* f1, f2: mean and M2 of the first argument; f3, f4: of the second; f5:
** the co-moment. corr(x, y) and covar(x, y) read x first; regr_*(y, x)
** read y first, so there the first argument is the dependent one. */
static int pair_init(agst *s, int64_t o, int64_t n) {
  GROW(s->cnt, o, n);
  GROW(s->f1, o, n);
  GROW(s->f2, o, n);
  GROW(s->f3, o, n);
  GROW(s->f4, o, n);
  GROW(s->f5, o, n);
  return 1;
}

static int pair_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  const tl_column *y = s->y;
  const uint8_t *yv = y->validity;
  TL_FOR_VALID_RANGE(x->validity, a, b, i, {
    if (yv && !TL_BIT_GET(yv, i)) continue;
    int32_t g = ids[i - a];
    double u = tl_agg_num(x, i), v = tl_agg_num(y, i);
    double n = (double)++s->cnt[g];
    double du = u - s->f1[g], dv = v - s->f3[g];
    s->f1[g] += du / n;
    s->f3[g] += dv / n;
    s->f2[g] += du * (u - s->f1[g]);
    s->f4[g] += dv * (v - s->f3[g]);
    s->f5[g] += du * (v - s->f3[g]);
  });
  return 1;
}

static tl_status pair_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  const int64_t *map = f->map;
  (void)err;
  for (int64_t g = 0; g < fr->ng; g++) {
    int64_t nb = fr->cnt[g], G = MAP(g);
    if (nb == 0) continue;
    int64_t na = in->cnt[G];
    if (nb == 1) {   /* a single pair: a step of Welford's method, as one scan takes it */
      double u = fr->f1[g], v = fr->f3[g], n = (double)++in->cnt[G];
      double du = u - in->f1[G], dv = v - in->f3[G];
      in->f1[G] += du / n;
      in->f3[G] += dv / n;
      in->f2[G] += du * (u - in->f1[G]);
      in->f4[G] += dv * (v - in->f3[G]);
      in->f5[G] += du * (v - in->f3[G]);
      continue;
    }
    if (na == 0) {
      in->cnt[G] = nb;
      in->f1[G] = fr->f1[g]; in->f2[G] = fr->f2[g];
      in->f3[G] = fr->f3[g]; in->f4[G] = fr->f4[g];
      in->f5[G] = fr->f5[g];
      continue;
    }
    double n = (double)(na + nb), w = (double)na * (double)nb / n;
    double du = fr->f1[g] - in->f1[G], dv = fr->f3[g] - in->f3[G];
    in->cnt[G] = na + nb;
    in->f1[G] += du * ((double)nb / n);
    in->f3[G] += dv * ((double)nb / n);
    in->f2[G] += fr->f2[g] + du * du * w;
    in->f4[G] += fr->f4[g] + dv * dv * w;
    in->f5[G] += fr->f5[g] + du * dv * w;
  }
  return TL_OK;
}

/* Each group's result by the kind's formula, as DuckDB gives it: corr is
** NaN when a variance is 0, covar needs two pairs, regr_slope is NaN when
** x does not vary, and regr_intercept null then. */
static tl_status pair_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                             tl_error *err) {
  (void)consume; (void)f;
  int64_t ng = s->ng;
  uint8_t *valid = tl_alloc((size_t)(ng ? ng : 1));
  double *r = tl_alloc((size_t)(ng ? ng : 1) * sizeof *r);
  tl_status st = (valid && r) ? TL_OK : tl_error_oom(err, "agg");
  for (int64_t g = 0; g < ng && st == TL_OK; g++) {
    int64_t n = s->cnt[g];
    double m2a = s->f2[g], m2b = s->f4[g], c = s->f5[g];
    valid[g] = n > 0;
    r[g] = 0;
    switch (s->fn) {
      case AGG_CORR: r[g] = m2a > 0 && m2b > 0 ? c / sqrt(m2a * m2b) : NAN; break;
      case AGG_COVAR: valid[g] = n > 1; r[g] = n > 1 ? c / (double)(n - 1) : 0; break;
      case AGG_REGR_SLOPE: r[g] = m2b > 0 ? c / m2b : NAN; break;   /* y first, x second */
      default:
        valid[g] = n > 0 && m2b > 0;
        r[g] = valid[g] ? s->f1[g] - (c / m2b) * s->f3[g] : 0;
    }
    if (s->fn == AGG_CORR && r[g] > 1) r[g] = 1;   /* rounding past the bounds */
    if (s->fn == AGG_CORR && r[g] < -1) r[g] = -1;
  }
  if (st == TL_OK) st = tl_agg_make_column(TL_FLOAT, ng, NULL, r, valid, out, err);
  tl_free(valid);
  tl_free(r);
  return st;
}

static void pair_save(wbuf *w, const agst *s) {
  w_u8(w, 0);
  w_u8(w, (unsigned)s->yt);
  tl_agg_save_counts(w, s);
  double *const a[5] = { s->f1, s->f2, s->f3, s->f4, s->f5 };
  for (int k = 0; k < 5; k++)
    for (int64_t g = 0; g < s->ng; g++) w_f64(w, a[k][g]);
}

static int pair_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  if (!tl_agg_load_start(r, s, ng, blob)) return 0;
  if (r->bad) return 1;
  if (r_u8(r) != (unsigned)s->yt && !r->bad) r->bad = "the aggregates do not match the definitions";
  tl_agg_load_counts(r, s, ng);
  double *const a[5] = { s->f1, s->f2, s->f3, s->f4, s->f5 };
  for (int k = 0; k < 5; k++)
    for (int64_t g = 0; g < ng && !r->bad; g++) a[k][g] = r_f64(r);
  return 1;
}

#define PAIR_KIND(id, nm) \
  const tl_agg_kind id = { .name = nm, .init = pair_init, .update = pair_update, \
    .merge = pair_merge, .finish = pair_finish, .save = pair_save, .load = pair_load }

PAIR_KIND(tl_agg_corr, "corr");
PAIR_KIND(tl_agg_covar, "covar");
PAIR_KIND(tl_agg_regr_slope, "regr_slope");
PAIR_KIND(tl_agg_regr_intercept, "regr_intercept");
