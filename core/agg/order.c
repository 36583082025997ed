/*
** order.c -- median and quantile: order statistics, so a state keeps every
** value (NaN included: the greatest of all) of its groups: a histogram of counts when the values
** are integers in a narrow range, else the values, per group (a list) or
** flat by group (a range's scan).
*/
#include <math.h>

#include "base/pool.h"
#include "codec.h"
#include "kind.h"

/* Ints of histograms merge as long as the counts stay this many. */
#define HIST_BUDGET ((int64_t)1 << 24)
#define HIST_LIMIT ((int64_t)1 << 53)   /* values exact as doubles */

static int quant_init(agst *s, int64_t o, int64_t n) {
  GROW(s->cnt, o, n);
  if (s->mode == Q_HIST) GROW(s->h, o * s->hrange, n * s->hrange);
  if (s->mode == Q_LIST) { GROW(s->lv, o, n); GROW(s->lcap, o, n); }
  if (s->mode == Q_FLAT) GROW(s->fstart, o + 1, n + 1);
  return 1;
}

/* Quantiles: counts of a histogram, or every value, flat by group. */
static int quant_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  if (s->mode == Q_HIST) {
    const int64_t *v = x->values;
    int64_t *h = s->h, r = s->hrange, lo = s->hmin;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { int32_t g = ids[i - a]; h[g * r + (v[i] - lo)]++; s->cnt[g]++; });
    return 1;
  }
  /* Q_FLAT: count, then place (a counting sort by group) */
  int64_t ng = s->ng, *fs = s->fstart;
  TL_FOR_VALID_RANGE(x->validity, a, b, i, { s->cnt[ids[i - a]]++; });
  fs[0] = 0;
  for (int64_t g = 0; g < ng; g++) fs[g + 1] = fs[g] + s->cnt[g];
  int64_t *pos = tl_alloc((size_t)(ng ? ng : 1) * sizeof *pos);
  s->flat = tl_alloc((size_t)(fs[ng] ? fs[ng] : 1) * sizeof *s->flat);
  if (!pos || !s->flat) { tl_free(pos); return 0; }
  memcpy(pos, fs, (size_t)ng * sizeof *pos);
  double *out = s->flat;
  if (x->type == TL_FLOAT) {
    const double *v = x->values;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { out[pos[ids[i - a]]++] = v[i]; });
  } else {
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { out[pos[ids[i - a]]++] = tl_agg_num(x, i); });
  }
  tl_free(pos);
  return 1;
}

/* The values of group g of a quantile state in list or flat layout. */
static const double *list_of(const agst *s, int64_t g, int64_t *n) {
  if (s->mode == Q_FLAT) { *n = s->fstart[g + 1] - s->fstart[g]; return s->flat + s->fstart[g]; }
  *n = s->cnt[g];
  return s->lv[g];
}

/* Room for n more values in group g of a Q_LIST state. */
static int list_reserve(agst *s, int64_t g, int64_t n) {
  int64_t need;
  if (__builtin_add_overflow(s->cnt[g], n, &need) || need > (int64_t)(SIZE_MAX / 16)) return 0;
  if (need <= s->lcap[g]) return 1;
  int64_t cap = s->lcap[g] ? s->lcap[g] : 4;
  while (cap < need) cap = cap > INT64_MAX / 2 ? need : cap * 2;
  double *nv = tl_realloc(s->lv[g], (size_t)cap * sizeof *nv);
  if (!nv) return 0;
  s->lv[g] = nv;
  s->lcap[g] = cap;
  return 1;
}

/* Appends n values to group g of a Q_LIST state. */
static int list_add(agst *s, int64_t g, const double *v, int64_t n) {
  if (!n) return 1;
  if (!list_reserve(s, g, n)) return 0;
  memcpy(s->lv[g] + s->cnt[g], v, (size_t)n * sizeof *v);
  s->cnt[g] += n;
  return 1;
}

/* Values a histogram may be unrolled into: past that, merging it with
** values it cannot count is out of memory (a decoded count is not trusted
** to be small). */
#define UNROLL_LIMIT ((int64_t)1 << 28)

/* Appends the values a histogram counts for group g, in order. */
static int list_add_hist(agst *s, int64_t g, const agst *fr, int64_t fg) {
  double buf[256];
  int nb = 0;
  const int64_t *h = fr->h + fg * fr->hrange;
  int64_t total = 0;
  for (int64_t k = 0; k < fr->hrange; k++)
    if (h[k] < 0 || __builtin_add_overflow(total, h[k], &total)) return 0;
  if (total > UNROLL_LIMIT || !list_reserve(s, g, total)) return 0;
  for (int64_t k = 0; k < fr->hrange; k++) {
    for (int64_t c = 0; c < h[k]; c++) {
      buf[nb++] = (double)(fr->hmin + k);
      if (nb == 256) { if (!list_add(s, g, buf, nb)) return 0; nb = 0; }
    }
  }
  return list_add(s, g, buf, nb);
}

/* A Q_HIST state in Q_LIST layout. */
static int hist_to_list(agst *s) {
  double **lv = tl_calloc((size_t)(s->ng ? s->ng : 1), sizeof *lv);
  int64_t *lcap = tl_calloc((size_t)(s->ng ? s->ng : 1), sizeof *lcap);
  int64_t *cnt = tl_calloc((size_t)(s->ng ? s->ng : 1), sizeof *cnt);
  if (!lv || !lcap || !cnt) { tl_free(lv); tl_free(lcap); tl_free(cnt); return 0; }
  agst t = *s;
  t.mode = Q_LIST;
  t.lv = lv;
  t.lcap = lcap;
  t.cnt = cnt;
  int ok = 1;
  for (int64_t g = 0; g < s->ng && ok; g++) ok = list_add_hist(&t, g, s, g);
  if (!ok) {
    for (int64_t g = 0; g < s->ng; g++) tl_free(lv[g]);
    tl_free(lv); tl_free(lcap); tl_free(cnt);
    return 0;
  }
  tl_free(s->h);
  tl_free(s->cnt);
  s->h = NULL;
  s->cnt = cnt;
  s->lv = lv;
  s->lcap = lcap;
  s->mode = Q_LIST;
  return 1;
}

/* Turns an empty quantile state into a histogram of `range` values from lo. */
static void set_hist(agst *s, int64_t lo, int64_t range) {
  for (int64_t g = 0; s->lv && g < s->ng; g++) tl_free(s->lv[g]);
  tl_free(s->lv);
  tl_free(s->lcap);
  s->lv = NULL;
  s->lcap = NULL;
  s->mode = Q_HIST;
  s->hmin = lo;
  s->hrange = range;
  s->ng = 0;
}

/* Widens a Q_HIST state to [lo, hi]; 0 when that is past the budget (the
** state is unchanged) or out of memory (*oom set). */
static int hist_widen(agst *s, int64_t lo, int64_t hi, int *oom) {
  if (lo >= s->hmin && hi < s->hmin + s->hrange) return 1;
  if (lo > s->hmin) lo = s->hmin;
  if (hi < s->hmin + s->hrange - 1) hi = s->hmin + s->hrange - 1;
  if (lo < -HIST_LIMIT || hi > HIST_LIMIT) return 0;
  int64_t r = hi - lo + 1;
  if (r > 65536 || r * (s->ng ? s->ng : 1) > HIST_BUDGET) return 0;
  int64_t *h = tl_calloc((size_t)(r * s->ng + 1), sizeof *h);
  if (!h) { *oom = 1; return 0; }
  for (int64_t g = 0; g < s->ng; g++)
    memcpy(h + g * r + (s->hmin - lo), s->h + g * s->hrange, (size_t)s->hrange * sizeof *h);
  tl_free(s->h);
  s->h = h;
  s->hmin = lo;
  s->hrange = r;
  return 1;
}

typedef struct mmjob {
  const tl_column *x;
  int64_t chunk;
  int64_t *lo, *hi;
} mmjob;

static void minmax_task(void *ctx, int64_t k, int worker) {
  mmjob *j = ctx;
  const int64_t *v = j->x->values;
  int64_t a = k * j->chunk, b = a + j->chunk < j->x->length ? a + j->chunk : j->x->length;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  (void)worker;
  TL_FOR_VALID_RANGE(j->x->validity, a, b, i, { if (v[i] < lo) lo = v[i]; if (v[i] > hi) hi = v[i]; });
  j->lo[k] = lo;
  j->hi[k] = hi;
}

/* The least and greatest value of an int column (lo > hi: none). */
static int int_minmax(const tl_column *x, int64_t *lo, int64_t *hi) {
  mmjob j = { x, (int64_t)1 << 18, NULL, NULL };
  int64_t n = (x->length + j.chunk - 1) / j.chunk;
  j.lo = tl_alloc(((size_t)n + 1) * sizeof *j.lo);
  j.hi = tl_alloc(((size_t)n + 1) * sizeof *j.hi);
  if (!j.lo || !j.hi) { tl_free(j.lo); tl_free(j.hi); return 0; }
  tl_parallel_for(n, minmax_task, &j);
  *lo = INT64_MAX;
  *hi = INT64_MIN;
  for (int64_t k = 0; k < n; k++) {
    if (j.lo[k] < *lo) *lo = j.lo[k];
    if (j.hi[k] > *hi) *hi = j.hi[k];
  }
  tl_free(j.lo);
  tl_free(j.hi);
  return 1;
}

/* The layout of the partial's state of slot s, from its argument column. */
/* Integers in a narrow range count in a histogram. */
static tl_status quant_layout(agst *s, const tl_column *x, const tl_agg_plan *plan,
                              tl_error *err) {
  int64_t ng = plan->ng;
  if (x->type != TL_INT) return TL_OK;
  int64_t lo, hi;
  if (!int_minmax(x, &lo, &hi)) return tl_error_oom(err, "agg");
  if (lo <= hi && lo >= -HIST_LIMIT && hi <= HIST_LIMIT && hi - lo < 65536 &&
      (hi - lo + 1) * (ng ? ng : 1) <= HIST_BUDGET) {
    set_hist(s, lo, hi - lo + 1);
  }
  return TL_OK;
}

/* A range counts in a histogram too when its counts stay within budget. */
static int quant_range_mode(const agst *glob, int64_t nl, int64_t budget) {
  return glob->mode == Q_HIST && nl * glob->hrange <= budget ? Q_HIST : Q_FLAT;
}

static int merge_values(agst *in, const agst *fr, const int64_t *map) {
  if (in->mode == Q_HIST) {
    /* the bounds of fr's values, to see whether they fit the histogram */
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    int ints = 1;
    int same = fr->mode == Q_HIST && fr->hmin == in->hmin && fr->hrange == in->hrange;
    for (int64_t g = 0; g < fr->ng && !same; g++) {
      if (fr->mode == Q_HIST) {
        const int64_t *h = fr->h + g * fr->hrange;
        for (int64_t k = 0; k < fr->hrange; k++)
          if (h[k]) { if (fr->hmin + k < lo) lo = fr->hmin + k; if (fr->hmin + k > hi) hi = fr->hmin + k; }
        continue;
      }
      int64_t n;
      const double *v = list_of(fr, g, &n);
      for (int64_t k = 0; k < n && ints; k++) {
        double d = v[k];
        if (!(d >= -(double)HIST_LIMIT && d <= (double)HIST_LIMIT) || d != floor(d)) ints = 0;
        else { if ((int64_t)d < lo) lo = (int64_t)d; if ((int64_t)d > hi) hi = (int64_t)d; }
      }
    }
    int oom = 0;
    if (ints && (lo > hi || hist_widen(in, lo, hi, &oom))) {
      int64_t r = in->hrange;
      for (int64_t g = 0; g < fr->ng; g++) {
        int64_t G = MAP(g), *h = in->h + G * r;
        if (fr->mode == Q_HIST) {
          const int64_t *fh = fr->h + g * fr->hrange;
          for (int64_t k = 0; k < fr->hrange; k++) h[fr->hmin + k - in->hmin] += fh[k];
        } else {
          int64_t n;
          const double *v = list_of(fr, g, &n);
          for (int64_t k = 0; k < n; k++) h[(int64_t)v[k] - in->hmin]++;
        }
        in->cnt[G] += fr->cnt[g];
      }
      return 1;
    }
    if (oom || !hist_to_list(in)) return 0;
  }
  for (int64_t g = 0; g < fr->ng; g++) {
    int64_t G = MAP(g);
    if (fr->mode == Q_HIST) {
      if (!list_add_hist(in, G, fr, g)) return 0;
    } else {
      int64_t n;
      const double *v = list_of(fr, g, &n);
      if (!list_add(in, G, v, n)) return 0;
    }
  }
  return 1;
}

static tl_status quant_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  return merge_values(in, fr, f->map) ? TL_OK : tl_error_oom(err, f->op);
}

/* The k-th smallest of v[0..n) moved to v[k] (Hoare's selection). */
static void select_kth(double *v, int64_t n, int64_t k) {
  int64_t lo = 0, hi = n - 1;
  while (lo < hi) {
    double pivot = v[lo + (hi - lo) / 2];
    int64_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) { double t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/* The value of rank r (0-based) in a histogram of `range` counts from min. */
static double hist_rank(const int64_t *h, int64_t range, int64_t min, int64_t r) {
  for (int64_t v = 0; v < range; v++) {
    if (r < h[v]) return (double)(min + v);
    r -= h[v];
  }
  return (double)(min + range - 1);
}

typedef struct qjob {
  const agst *s;
  double **vals;     /* group g's values, to select in */
  double *res;
  uint8_t *valid;
} qjob;

/* quantile(x, q) of one group: linear interpolation between order
** statistics (type 7, as pandas and DuckDB's quantile_cont). */
static void quant_group(void *ctx, int64_t g, int worker) {
  qjob *j = ctx;
  const agst *s = j->s;
  int64_t n = s->cnt[g];
  (void)worker;
  j->valid[g] = n > 0;
  if (!n) return;
  double h = (double)(n - 1) * s->q, x0, x1;
  int64_t lo = (int64_t)floor(h);
  if (s->mode == Q_HIST) {
    const int64_t *hg = s->h + g * s->hrange;
    x0 = hist_rank(hg, s->hrange, s->hmin, lo);
    x1 = lo + 1 < n ? hist_rank(hg, s->hrange, s->hmin, lo + 1) : x0;
  } else {
    double *v = j->vals[g];
    int64_t m = 0;   /* NaN is greater than every number: the NaNs go last */
    for (int64_t k = 0; k < n; k++)
      if (v[k] == v[k]) { double t = v[m]; v[m++] = v[k]; v[k] = t; }
    if (lo < m) {
      select_kth(v, m, lo);
      x0 = x1 = v[lo];
    } else {
      x0 = x1 = NAN;
    }
    if (lo + 1 < m) {   /* the next order statistic: the least above lo */
      x1 = v[lo + 1];
      for (int64_t k = lo + 2; k < m; k++) if (v[k] < x1) x1 = v[k];
    } else if (lo + 1 < n) {
      x1 = NAN;
    }
  }
  j->res[g] = h == (double)lo || x0 != x0 ? x0 : x1 != x1 ? x1 : x0 + (h - (double)lo) * (x1 - x0);   /* inf - inf is no step */
}

static tl_status quant_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                              tl_error *err) {
  (void)f;
  int64_t ng = s->ng, total = 0;
  qjob j = { s, NULL, tl_alloc((size_t)(ng ? ng : 1) * sizeof(double)),
             tl_alloc((size_t)(ng ? ng : 1)) };
  double *copy = NULL;
  tl_status st = (j.res && j.valid) ? TL_OK : tl_error_oom(err, "agg");
  if (st == TL_OK && s->mode != Q_HIST) {
    for (int64_t g = 0; g < ng; g++) total += s->cnt[g];
    j.vals = tl_alloc((size_t)(ng ? ng : 1) * sizeof *j.vals);
    if (!consume) copy = tl_alloc((size_t)(total ? total : 1) * sizeof *copy);
    if (!j.vals || (!consume && !copy)) st = tl_error_oom(err, "agg");
    for (int64_t g = 0, at = 0; g < ng && st == TL_OK; g++) {
      int64_t n;
      const double *v = list_of(s, g, &n);
      if (consume) { j.vals[g] = (double *)v; continue; }
      if (n) memcpy(copy + at, v, (size_t)n * sizeof *copy);
      j.vals[g] = copy + at;
      at += n;
    }
  }
  if (st == TL_OK) {
    if (total >= ((int64_t)1 << 16) && ng > 1) tl_parallel_for(ng, quant_group, &j);
    else for (int64_t g = 0; g < ng; g++) quant_group(&j, g, 0);
    st = tl_agg_make_column(TL_FLOAT, ng, NULL, j.res, j.valid, out, err);
  }
  tl_free(copy); tl_free(j.vals); tl_free(j.res); tl_free(j.valid);
  return st;
}

static void quant_save(wbuf *w, const agst *s) {
  w_u8(w, (unsigned)(s->mode == Q_HIST));
  for (int64_t g = 0; g < s->ng; g++) {
    if (s->mode == Q_HIST) {   /* the buckets that count: (bucket, count) */
      const int64_t *h = s->h + g * s->hrange;
      int64_t nz = 0;
      for (int64_t k = 0; k < s->hrange; k++) nz += h[k] != 0;
      w_i64(w, nz);
      for (int64_t k = 0; k < s->hrange; k++)
        if (h[k]) { w_i64(w, s->hmin + k); w_i64(w, h[k]); }
      continue;
    }
    int64_t n;
    const double *v = list_of(s, g, &n);
    w_i64(w, n);
    for (int64_t k = 0; k < n; k++) w_f64(w, v[k]);
  }
}

/* The bounds of a saved histogram's buckets, to lay the counts out; the
** buffer is left where it was. */
static void load_bounds(rbuf *r, agst *s, int64_t ng) {
  size_t start = r->at;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int64_t g = 0; g < ng && !r->bad; g++) {
    int64_t n = r_count(r, r_i64(r), 16);
    for (int64_t k = 0; k < n && !r->bad; k++) {
      int64_t value = r_i64(r), c = r_i64(r);
      if (c <= 0 || value < -HIST_LIMIT || value > HIST_LIMIT) r->bad = "bad histogram";
      if (value < lo) lo = value;
      if (value > hi) hi = value;
    }
  }
  if (r->bad) return;
  if (lo > hi) lo = hi = 0;
  if (hi - lo >= 65536 || (hi - lo + 1) * (ng ? ng : 1) > HIST_BUDGET) { r->bad = "bad histogram"; return; }
  set_hist(s, lo, hi - lo + 1);
  r->at = start;
}

static int quant_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  unsigned hist = r_u8(r);
  (void)blob;
  if (r->bad) return 1;
  if (hist > 1 || (hist && s->xt != TL_INT)) { r->bad = "bad layout"; return 1; }
  if (hist) load_bounds(r, s, ng);
  if (r->bad) return 1;
  if (!tl_agg_state_grow(s, ng)) return 0;
  for (int64_t g = 0; g < ng && !r->bad; g++) {
    int64_t n = r_count(r, r_i64(r), hist ? 16 : 8);
    if (!hist) {
      double *v = tl_alloc(((size_t)n + 1) * sizeof *v);
      if (!v) return 0;
      s->lv[g] = v;
      s->lcap[g] = n;
      for (int64_t k = 0; k < n; k++) v[k] = r_f64(r);
      s->cnt[g] = n;
      continue;
    }
    for (int64_t k = 0; k < n && !r->bad; k++) {
      int64_t value = r_i64(r), c = r_i64(r);
      if (__builtin_add_overflow(s->cnt[g], c, &s->cnt[g])) r->bad = "bad histogram";
      else s->h[g * s->hrange + (value - s->hmin)] += c;
    }
  }
  return 1;
}

const tl_agg_kind tl_agg_median = {
  .name = "median", .init = quant_init, .layout = quant_layout,
  .range_mode = quant_range_mode, .update = quant_update, .merge = quant_merge,
  .finish = quant_finish, .save = quant_save, .load = quant_load,
};

const tl_agg_kind tl_agg_quantile = {
  .name = "quantile", .init = quant_init, .layout = quant_layout,
  .range_mode = quant_range_mode, .update = quant_update, .merge = quant_merge,
  .finish = quant_finish, .save = quant_save, .load = quant_load,
};
