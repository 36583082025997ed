/*
** count_sum.c -- count, sum and mean. Integer and bool sums are exact in
** 128 bits (an error when the result leaves int64), float sums compensated
** (sum.h).
*/
#include <math.h>

#include "codec.h"
#include "kind.h"
#include "sum.h"

/* count ------------------------------------------------------------------ */

static int count_init(agst *s, int64_t o, int64_t n) {
  GROW(s->cnt, o, n);
  return 1;
}

static int count_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  int64_t *cnt = s->cnt;
  if (s->ng == 1) {   /* every row in group 0 */
    if (!x || !x->validity) cnt[0] += b - a;
    else TL_FOR_VALID_RANGE(x->validity, a, b, i, { (void)i; cnt[0]++; });
  } else if (!x || !x->validity) {
    for (int64_t i = a; i < b; i++) cnt[ids[i - a]]++;
  } else {
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { cnt[ids[i - a]]++; });
  }
  return 1;
}

static tl_status count_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  const int64_t *map = f->map;
  for (int64_t g = 0; g < fr->ng; g++)
    if (__builtin_add_overflow(in->cnt[MAP(g)], fr->cnt[g], &in->cnt[MAP(g)]))
      return tl_error_set(err, TL_ERANGE, "%s: a count leaves int64", f->op);
  return TL_OK;
}

/* count and count_distinct: the counts. */
static tl_status count_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                              tl_error *err) {
  (void)consume; (void)f;
  return tl_agg_make_column(TL_INT, s->ng, s->cnt, NULL, NULL, out, err);
}

static void count_save(wbuf *w, const agst *s) {
  w_u8(w, 0);
  tl_agg_save_counts(w, s);
}

static int count_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  if (!tl_agg_load_start(r, s, ng, blob)) return 0;
  if (!r->bad) tl_agg_load_counts(r, s, ng);
  return 1;
}

static void count_take(agst *s, const tl_colsum *cs) { s->cnt[0] += cs->n; }

const tl_agg_kind tl_agg_count = {
  .name = "count", .init = count_init, .update = count_update,
  .fuse = CS_COUNT, .take = count_take,
  .merge = count_merge, .finish = count_finish, .save = count_save, .load = count_load,
};

/* sum and mean ------------------------------------------------------------- */

static int sum_init(agst *s, int64_t o, int64_t n) {
  GROW(s->cnt, o, n);
  if (s->xt != TL_FLOAT) GROW(s->is, o, n);
  else { GROW(s->f1, o, n); GROW(s->f2, o, n); }
  return 1;
}

/* The summary's sum and count into group 0. */
static void sum_take(agst *s, const tl_colsum *cs) {
  if (s->xt == TL_FLOAT) tl_sum_merge(&s->f1[0], &s->f2[0], cs->fs, cs->fc);
  else s->is[0] += cs->is;
  s->cnt[0] += cs->n;
}

/* The sum of one group: ints and floats as the summary of the fused scan
** makes it (fused.c), so that a range gives the same sum either way. */
static void sum_one(agst *s, const tl_column *x, int64_t a, int64_t b) {
  if (tl_agg_colsum_fits(x->type, CS_SUM)) {
    tl_colsum cs = { .want = CS_SUM };
    tl_agg_colsum(x, a, b, &cs);
    sum_take(s, &cs);
    return;
  }
  int64_t n = 0;
  const uint8_t *v = x->values;   /* bools */
  tl_i128 t = 0;
  TL_FOR_VALID_RANGE(x->validity, a, b, i, { t += TL_BIT_GET(v, i); n++; });
  s->is[0] += t;
  s->cnt[0] += n;
}

static int sum_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  if (s->ng == 1) { sum_one(s, x, a, b); return 1; }   /* every row in group 0 */
  int64_t *cnt = s->cnt;
  if (x->type == TL_FLOAT) {
    const double *v = x->values;
    double *fs = s->f1, *comp = s->f2;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, {
      int32_t g = ids[i - a];
      tl_sum_add(&fs[g], &comp[g], v[i]);
      cnt[g]++;
    });
  } else if (x->type == TL_BOOL) {
    const uint8_t *v = x->values;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { int32_t g = ids[i - a]; s->is[g] += TL_BIT_GET(v, i); cnt[g]++; });
  } else {
    const int64_t *v = x->values;
    tl_i128 *is = s->is;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { int32_t g = ids[i - a]; is[g] += v[i]; cnt[g]++; });
  }
  return 1;
}

static tl_status sum_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  const int64_t *map = f->map;
  for (int64_t g = 0; g < fr->ng; g++) {
    int64_t G = MAP(g);
    if (__builtin_add_overflow(in->cnt[G], fr->cnt[g], &in->cnt[G]))
      return tl_error_set(err, TL_ERANGE, "%s: a count leaves int64", f->op);
    if (in->xt != TL_FLOAT) {
      if (__builtin_add_overflow(in->is[G], fr->is[g], &in->is[G]))
        return tl_error_set(err, TL_ERANGE, "%s: a sum leaves 128 bits", f->op);
      continue;
    }
    tl_sum_merge(&in->f1[G], &in->f2[G], fr->f1[g], fr->f2[g]);
  }
  return TL_OK;
}

/* The results of sum (mean: 0) or mean (mean: 1). */
static tl_status sum_column(agst *s, int mean, const tl_agg_fold *f, tl_column **out,
                            tl_error *err) {
  int64_t ng = s->ng;
  int ints = !mean && s->xt != TL_FLOAT;
  uint8_t *valid = tl_alloc((size_t)(ng ? ng : 1));
  double *r = tl_alloc((size_t)(ng ? ng : 1) * sizeof *r);
  int64_t *ri = ints ? tl_alloc((size_t)(ng ? ng : 1) * sizeof *ri) : NULL;
  tl_status st = (valid && r && (!ints || ri)) ? TL_OK : tl_error_oom(err, "agg");
  for (int64_t g = 0; g < ng && st == TL_OK; g++) {
    int64_t n = s->cnt[g];
    valid[g] = n > 0;
    if (s->xt == TL_FLOAT) {
      r[g] = tl_sum_value(s->f1[g], s->f2[g]);
      if (mean && n) r[g] /= (double)n;
    } else if (mean) {
      r[g] = n ? (double)s->is[g] / (double)n : 0;
    } else if (s->is[g] > INT64_MAX || s->is[g] < INT64_MIN) {
      char where[600];
      tl_agg_group_suffix(f->keys, g, where, sizeof where);
      st = tl_error_set(err, TL_ERANGE, "agg: \"%s\": integer overflow (the sum leaves int64)%s",
                        f->src, where);
    } else {
      ri[g] = (int64_t)s->is[g];
    }
  }
  if (st == TL_OK) st = tl_agg_make_column(ints ? TL_INT : TL_FLOAT, ng, ri, r, valid, out, err);
  tl_free(valid);
  tl_free(r);
  tl_free(ri);
  return st;
}

static tl_status sum_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                            tl_error *err) {
  (void)consume;
  return sum_column(s, 0, f, out, err);
}

static tl_status mean_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                             tl_error *err) {
  (void)consume;
  return sum_column(s, 1, f, out, err);
}

static void sum_save(wbuf *w, const agst *s) {
  w_u8(w, 0);
  tl_agg_save_counts(w, s);
  if (s->is) {
    for (int64_t g = 0; g < s->ng; g++) {
      w_u64(w, (uint64_t)s->is[g]);
      w_u64(w, (uint64_t)(s->is[g] >> 64));
    }
  } else {
    w_words(w, s->f1, s->ng);
    w_words(w, s->f2, s->ng);
  }
}

static int sum_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  if (!tl_agg_load_start(r, s, ng, blob)) return 0;
  if (r->bad) return 1;
  tl_agg_load_counts(r, s, ng);
  if (s->is) {
    for (int64_t g = 0; g < ng && !r->bad; g++) {
      uint64_t lo = r_u64(r), hi = r_u64(r);
      s->is[g] = (tl_i128)(((unsigned __int128)hi << 64) | lo);
    }
  } else {
    r_words(r, s->f1, ng);
    r_words(r, s->f2, ng);
  }
  return 1;
}

const tl_agg_kind tl_agg_sum = {
  .name = "sum", .init = sum_init, .update = sum_update, .merge = sum_merge,
  .fuse = CS_SUM | CS_COUNT, .take = sum_take,
  .finish = sum_finish, .save = sum_save, .load = sum_load,
};

const tl_agg_kind tl_agg_mean = {
  .name = "mean", .init = sum_init, .update = sum_update, .merge = sum_merge,
  .fuse = CS_SUM | CS_COUNT, .take = sum_take,
  .finish = mean_finish, .save = sum_save, .load = sum_load,
};
