/*
** moments.c -- var and stddev (sample variance): Welford's method over the
** rows of a range, Chan's formula across ranges.
*/
#include <math.h>

#include "codec.h"
#include "kind.h"

static int var_init(agst *s, int64_t o, int64_t n) {
  GROW(s->cnt, o, n);
  GROW(s->f1, o, n);
  GROW(s->f2, o, n);
  return 1;
}

/* Welford's method. */
static int var_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  double *mean = s->f1, *m2 = s->f2;
  TL_FOR_VALID_RANGE(x->validity, a, b, i, {
    int32_t g = ids[i - a];
    double v = tl_agg_num(x, i), d = v - mean[g];
    s->cnt[g]++;
    mean[g] += d / (double)s->cnt[g];
    m2[g] += d * (v - mean[g]);
  });
  return 1;
}

/* Chan's formula; a single value is a step of Welford's method, so that
** ranges of one row give what one scan gives. */
static tl_status var_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  const int64_t *map = f->map;
  (void)err;
  for (int64_t g = 0; g < fr->ng; g++) {
    int64_t nb = fr->cnt[g], G = MAP(g);
    if (nb == 0) continue;
    int64_t na = in->cnt[G];
    double ma = in->f1[G], mb = fr->f1[g];
    if (nb == 1) {
      double d = mb - ma;
      in->cnt[G] = na + 1;
      in->f1[G] = ma + d / (double)(na + 1);
      in->f2[G] += d * (mb - in->f1[G]);
      in->f2[G] += fr->f2[g];
    } else if (na == 0) {
      in->cnt[G] = nb;
      in->f1[G] = mb;
      in->f2[G] = fr->f2[g];
    } else {
      double n = (double)(na + nb), d = mb - ma;
      in->cnt[G] = na + nb;
      in->f1[G] = ma + d * ((double)nb / n);
      in->f2[G] = in->f2[G] + fr->f2[g] + d * d * ((double)na * (double)nb / n);
    }
  }
  return TL_OK;
}

/* The variances (root: their square roots). */
static tl_status var_column(agst *s, int root, tl_column **out, tl_error *err) {
  int64_t ng = s->ng;
  uint8_t *valid = tl_alloc((size_t)(ng ? ng : 1));
  double *r = tl_alloc((size_t)(ng ? ng : 1) * sizeof *r);
  tl_status st = (valid && r) ? TL_OK : tl_error_oom(err, "agg");
  for (int64_t g = 0; g < ng && st == TL_OK; g++) {
    int64_t n = s->cnt[g];
    valid[g] = n > 1;
    r[g] = n > 1 ? s->f2[g] / (double)(n - 1) : 0;
    if (root) r[g] = sqrt(r[g]);
  }
  if (st == TL_OK) st = tl_agg_make_column(TL_FLOAT, ng, NULL, r, valid, out, err);
  tl_free(valid);
  tl_free(r);
  return st;
}

static tl_status var_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                            tl_error *err) {
  (void)consume; (void)f;
  return var_column(s, 0, out, err);
}

static tl_status stddev_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                               tl_error *err) {
  (void)consume; (void)f;
  return var_column(s, 1, out, err);
}

static void var_save(wbuf *w, const agst *s) {
  w_u8(w, 0);
  tl_agg_save_counts(w, s);
  for (int64_t g = 0; g < s->ng; g++) w_f64(w, s->f1[g]);
  for (int64_t g = 0; g < s->ng; g++) w_f64(w, s->f2[g]);
}

static int var_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  if (!tl_agg_load_start(r, s, ng, blob)) return 0;
  if (r->bad) return 1;
  tl_agg_load_counts(r, s, ng);
  for (int64_t g = 0; g < ng && !r->bad; g++) s->f1[g] = r_f64(r);
  for (int64_t g = 0; g < ng && !r->bad; g++) s->f2[g] = r_f64(r);
  return 1;
}

const tl_agg_kind tl_agg_var = {
  .name = "var", .init = var_init, .update = var_update, .merge = var_merge,
  .finish = var_finish, .save = var_save, .load = var_load,
};

const tl_agg_kind tl_agg_stddev = {
  .name = "stddev", .init = var_init, .update = var_update, .merge = var_merge,
  .finish = stddev_finish, .save = var_save, .load = var_load,
};
