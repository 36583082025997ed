/*
** group.c -- group_by and aggregation.
**
** Grouping gives every row a group id (in order of first appearance) through
** an open-addressing hash table on the key columns. An aggregate then runs
** as one tight loop over its argument column and the ids, with its states in
** flat per-group arrays. The expression around the aggregates ("sum(a) /
** sum(b)") is evaluated afterwards over the per-group results.
*/
#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "alloc.h"
#include "column.h"
#include "error.h"
#include "expr.h"
#include "pool.h"
#include "table.h"
#include "verbs.h"

struct tl_grouping {
  tl_table *t;
  int nkeys;
  int *keys;            /* key column indexes */
  int64_t ngroups;
  int32_t *gid;         /* per row */
  int64_t *first;       /* first row of each group */
  int64_t *order;       /* rows sorted by group, made when first asked for */
  int64_t *start;       /* group k's rows: order[start[k] .. start[k + 1]) */
};

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

/* The hash of row i's key values, combined into h. */
static uint64_t hash_value(const tl_column *c, int64_t i, uint64_t h) {
  if (c->validity && !TL_BIT_GET(c->validity, i)) return mix64(h ^ 0x6e756c6cULL);
  uint64_t v;
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP: v = (uint64_t)((const int64_t *)c->values)[i]; break;
    case TL_FLOAT: {
      double d = ((const double *)c->values)[i];
      if (d == 0) d = 0;                        /* -0.0 and 0.0 group together */
      if (d != d) d = NAN;                      /* and every NaN */
      memcpy(&v, &d, 8);
      break;
    }
    case TL_DATE: v = (uint64_t)(uint32_t)((const int32_t *)c->values)[i]; break;
    case TL_BOOL: v = TL_BIT_GET((const uint8_t *)c->values, i); break;
    default: {
      if (c->dict) { v = (uint64_t)((const int32_t *)c->values)[i]; break; }
      size_t n;
      const char *s = tl_column_string_at(c, i, &n);
      return XXH3_64bits_withSeed(s, n, h);
    }
  }
  return mix64(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6)));
}

/* 1 when rows i and j hold the same key (nulls equal nulls). */
static int same_value(const tl_column *c, int64_t i, int64_t j) {
  int ni = c->validity && !TL_BIT_GET(c->validity, i);
  int nj = c->validity && !TL_BIT_GET(c->validity, j);
  if (ni || nj) return ni == nj;
  if (c->dict) return ((const int32_t *)c->values)[i] == ((const int32_t *)c->values)[j];
  if (c->type == TL_FLOAT) {
    double a = ((const double *)c->values)[i], b = ((const double *)c->values)[j];
    return a == b || (a != a && b != b);
  }
  return tl_column_compare_values(c, i, c, j) == 0;
}

void tl_grouping_free(tl_grouping *g) {
  if (!g) return;
  tl_table_release(g->t);
  tl_free(g->keys);
  tl_free(g->gid);
  tl_free(g->first);
  tl_free(g->order);
  tl_free(g->start);
  tl_free(g);
}

int64_t tl_grouping_count(const tl_grouping *g) { return g->ngroups; }

/* One dictionary-encoded key: its codes are the groups, renumbered in order
** of first appearance, with no hashing at all. */
static tl_status assign_by_codes(tl_grouping *g, const tl_column *c, tl_error *err) {
  int64_t n = c->length, nd = c->dict->length;
  const int32_t *codes = c->values;
  int32_t *map = tl_alloc(((size_t)nd + 2) * sizeof *map);   /* code -> group; nd: null */
  g->gid = tl_alloc(((size_t)n + 1) * sizeof *g->gid);
  g->first = tl_alloc(((size_t)nd + 2) * sizeof *g->first);
  if (!map || !g->gid || !g->first) { tl_free(map); return tl_error_oom(err, "group_by"); }
  for (int64_t k = 0; k <= nd; k++) map[k] = -1;
  for (int64_t i = 0; i < n; i++) {
    int64_t k = c->validity && !TL_BIT_GET(c->validity, i) ? nd : codes[i];
    int32_t gi = map[k];
    if (gi < 0) {
      gi = map[k] = (int32_t)g->ngroups;
      g->first[g->ngroups++] = i;
    }
    g->gid[i] = gi;
  }
  tl_free(map);
  return TL_OK;
}

/* Assigns group ids to rows: the core of group_by. */
static tl_status assign_groups(tl_grouping *g, tl_error *err) {
  const tl_table *t = g->t;
  if (g->nkeys == 1 && t->cols[g->keys[0]]->dict) return assign_by_codes(g, t->cols[g->keys[0]], err);
  int64_t n = t->nrows;
  g->gid = tl_alloc((size_t)(n + 1) * sizeof *g->gid);
  int64_t cap = 1024, fcap = 256;
  uint32_t *slots = tl_calloc((size_t)cap, sizeof *slots);   /* group id + 1; 0 = empty */
  uint64_t *hashes = tl_alloc((size_t)fcap * sizeof *hashes);
  g->first = tl_alloc((size_t)fcap * sizeof *g->first);
  uint64_t hv[TL_VEC];
  tl_status st = TL_OK;
  if (!g->gid || !slots || !hashes || !g->first) st = tl_error_oom(err, "group_by");
  for (int64_t start = 0; start < n && st == TL_OK; start += TL_VEC) {
    int m = (int)(n - start < TL_VEC ? n - start : TL_VEC);
    if (tl_interrupted()) { st = tl_error_interrupted(err, "group_by"); break; }
    for (int i = 0; i < m; i++) hv[i] = 0x2545f4914f6cdd1dULL;
    for (int k = 0; k < g->nkeys; k++) {   /* one column at a time, as vectors */
      const tl_column *c = t->cols[g->keys[k]];
      for (int i = 0; i < m; i++) hv[i] = hash_value(c, start + i, hv[i]);
    }
    for (int i = 0; i < m && st == TL_OK; i++) {
      int64_t row = start + i;
      uint64_t h = hv[i], mask = (uint64_t)cap - 1;
      uint64_t p = h & mask;
      for (;;) {
        uint32_t s = slots[p];
        if (!s) break;
        int64_t f = g->first[s - 1];
        if (hashes[s - 1] == h) {
          int same = 1;
          for (int k = 0; k < g->nkeys && same; k++) same = same_value(t->cols[g->keys[k]], row, f);
          if (same) break;
        }
        p = (p + 1) & mask;
      }
      if (slots[p]) { g->gid[row] = (int32_t)(slots[p] - 1); continue; }
      if (g->ngroups >= INT32_MAX - 1) {
        st = tl_error_set(err, TL_ELIMIT, "group_by: more than %d groups", INT32_MAX - 1);
        break;
      }
      if (g->ngroups == fcap) {
        fcap *= 2;
        int64_t *nf = tl_realloc(g->first, (size_t)fcap * sizeof *nf);
        if (nf) g->first = nf;
        uint64_t *nh = tl_realloc(hashes, (size_t)fcap * sizeof *nh);
        if (nh) hashes = nh;
        if (!nf || !nh) { st = tl_error_oom(err, "group_by"); break; }
      }
      g->first[g->ngroups] = row;
      hashes[g->ngroups] = h;
      g->gid[row] = (int32_t)g->ngroups;
      slots[p] = (uint32_t)++g->ngroups;
      if (g->ngroups * 2 > cap) {   /* keep the table at most half full */
        int64_t ncap = cap * 2;
        uint32_t *ns = tl_calloc((size_t)ncap, sizeof *ns);
        if (!ns) { st = tl_error_oom(err, "group_by"); break; }
        for (int64_t q = 0; q < g->ngroups; q++) {
          uint64_t r = hashes[q] & (uint64_t)(ncap - 1);
          while (ns[r]) r = (r + 1) & (uint64_t)(ncap - 1);
          ns[r] = (uint32_t)(q + 1);
        }
        tl_free(slots);
        slots = ns;
        cap = ncap;
      }
    }
  }
  tl_free(slots);
  tl_free(hashes);
  return st;
}

tl_status tl_table_group_by(const tl_table *t, int nkeys, const char *const *keys,
                            tl_grouping **out, tl_error *err) {
  tl_grouping *g = tl_calloc(1, sizeof *g);
  if (!g) return tl_error_oom(err, "group_by");
  g->t = tl_table_retain((tl_table *)t);
  g->nkeys = nkeys;
  g->keys = tl_calloc((size_t)nkeys + 1, sizeof *g->keys);
  tl_status st = g->keys ? TL_OK : tl_error_oom(err, "group_by");
  for (int k = 0; k < nkeys && st == TL_OK; k++)
    st = tl_table_lookup(t, keys[k], "group_by", &g->keys[k], err);
  if (st == TL_OK) st = assign_groups(g, err);
  if (st != TL_OK) { tl_grouping_free(g); return st; }
  *out = g;
  return TL_OK;
}

tl_status tl_grouping_keys(const tl_grouping *g, tl_table **out, tl_error *err) {
  const char **names = tl_calloc((size_t)g->nkeys + 1, sizeof *names);
  if (!names) return tl_error_oom(err, "group_by");
  for (int k = 0; k < g->nkeys; k++) names[k] = g->t->names[g->keys[k]];
  tl_table *sel;
  tl_status st = tl_table_select(g->t, g->nkeys, names, &sel, err);
  tl_free(names);
  if (st != TL_OK) return st;
  st = tl_table_take(sel, g->first, g->ngroups, out, err);
  tl_table_release(sel);
  return st;
}

tl_status tl_grouping_group(const tl_grouping *g, int64_t k, tl_table **out, tl_error *err) {
  if (k < 0 || k >= g->ngroups)
    return tl_error_set(err, TL_ERANGE, "group: group %lld out of range (there are %lld)",
                        (long long)k + 1, (long long)g->ngroups);
  if (!g->order) {   /* a counting sort of the rows by group, once */
    tl_grouping *m = (tl_grouping *)g;
    int64_t n = g->t->nrows;
    int64_t *start = tl_calloc((size_t)g->ngroups + 2, sizeof *start);
    int64_t *order = tl_alloc(((size_t)n + 1) * sizeof *order);
    if (!start || !order) { tl_free(start); tl_free(order); return tl_error_oom(err, "group"); }
    for (int64_t i = 0; i < n; i++) start[g->gid[i] + 1]++;
    for (int64_t q = 0; q < g->ngroups; q++) start[q + 1] += start[q];
    for (int64_t i = 0; i < n; i++) order[start[g->gid[i]]++] = i;
    for (int64_t q = g->ngroups; q > 0; q--) start[q] = start[q - 1];   /* back to the starts */
    start[0] = 0;
    m->order = order;
    m->start = start;
  }
  return tl_table_take(g->t, g->order + g->start[k], g->start[k + 1] - g->start[k], out, err);
}

/* ---------------------------------------------------------------------------
** Aggregate kernels: column x group ids -> one value per group.
*/
typedef struct aggctx {
  const tl_column *x;       /* the argument, NULL for count() */
  const int32_t *gid;       /* NULL: every row in group 0 */
  int64_t nrows, ng;
  const char *op;
  const char *src;          /* the definition, for messages */
  tl_error *err;
} aggctx;

#define GID(a, i) ((a)->gid ? (a)->gid[i] : 0)
#define XVALID(c, i) (!(c)->validity || TL_BIT_GET((c)->validity, i))

static double xnum(const tl_column *c, int64_t i) {
  switch (c->type) {
    case TL_FLOAT: return ((const double *)c->values)[i];
    case TL_BOOL: return TL_BIT_GET((const uint8_t *)c->values, i);
    default: return (double)((const int64_t *)c->values)[i];
  }
}

/* A column of ng rows from values and a validity byte per group. */
static tl_status result_column(tl_type type, int64_t ng, const void *vals,
                               const uint8_t *valid, tl_column **out, tl_error *err) {
  tl_column *c;
  TL_TRY(tl_column_alloc(type, ng, 1, 0, &c, err));
  size_t w = tl_type_width(type);
  if (ng) memcpy(c->values, vals, (size_t)ng * w);
  for (int64_t k = 0; k < ng; k++)
    if (!valid[k]) TL_BIT_CLEAR(c->validity, k);
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

static tl_status agg_count(aggctx *a, tl_column **out) {
  int64_t *cnt = tl_calloc((size_t)a->ng + 1, sizeof *cnt);
  uint8_t *valid = tl_alloc((size_t)a->ng + 1);
  if (!cnt || !valid) { tl_free(cnt); tl_free(valid); return tl_error_oom(a->err, a->op); }
  memset(valid, 1, (size_t)a->ng + 1);
  const tl_column *x = a->x;
  if (!x || !x->validity) {
    if (a->gid) for (int64_t i = 0; i < a->nrows; i++) cnt[a->gid[i]]++;
    else cnt[0] = a->nrows;
  } else {
    for (int64_t i = 0; i < a->nrows; i++) cnt[GID(a, i)] += TL_BIT_GET(x->validity, i);
  }
  tl_status st = result_column(TL_INT, a->ng, cnt, valid, out, a->err);
  tl_free(cnt);
  tl_free(valid);
  return st;
}

/* sum and mean: exact 128-bit sums of ints (and bools), compensated sums of
** floats. */
static tl_status agg_sum(aggctx *a, int mean, tl_column **out) {
  const tl_column *x = a->x;
  int64_t ng = a->ng;
  int64_t *cnt = tl_calloc((size_t)ng + 1, sizeof *cnt);
  uint8_t *valid = tl_alloc((size_t)ng + 1);
  double *fs = tl_calloc((size_t)ng + 1, sizeof *fs), *comp = tl_calloc((size_t)ng + 1, sizeof *comp);
  tl_i128 *is = x->type != TL_FLOAT ? tl_calloc((size_t)ng + 1, sizeof *is) : NULL;
  tl_status st = TL_OK;
  if (!cnt || !valid || !fs || !comp || (x->type != TL_FLOAT && !is)) st = tl_error_oom(a->err, a->op);
  if (st == TL_OK && x->type == TL_FLOAT) {
    const double *v = x->values;
    TL_FOR_VALID(x, i, {
      int32_t g = GID(a, i);
      double s = fs[g], y = v[i], t = s + y;
      if (isfinite(t)) comp[g] += fabs(s) >= fabs(y) ? (s - t) + y : (y - t) + s;   /* Neumaier */
      fs[g] = t;
      cnt[g]++;
    });
    for (int64_t g = 0; g < ng; g++) {
      if (isfinite(fs[g])) fs[g] += comp[g];
      if (mean && cnt[g]) fs[g] /= (double)cnt[g];
    }
  } else if (st == TL_OK && x->type == TL_BOOL) {
    for (int64_t i = 0; i < a->nrows; i++)
      if (XVALID(x, i)) { is[GID(a, i)] += TL_BIT_GET((const uint8_t *)x->values, i); cnt[GID(a, i)]++; }
  } else if (st == TL_OK) {
    const int64_t *v = x->values;
    if (a->gid) {
      const int32_t *gid = a->gid;
      TL_FOR_VALID(x, i, { is[gid[i]] += v[i]; cnt[gid[i]]++; });
    } else {
      TL_FOR_VALID(x, i, { is[0] += v[i]; cnt[0]++; });
    }
  }
  for (int64_t g = 0; g < ng && st == TL_OK; g++) valid[g] = cnt[g] > 0;
  if (st == TL_OK && x->type != TL_FLOAT) {
    if (mean) {
      for (int64_t g = 0; g < ng; g++) fs[g] = cnt[g] ? (double)is[g] / (double)cnt[g] : 0;
    } else {
      int64_t *r = (int64_t *)comp;   /* reuse: the same size as an int64 per group */
      for (int64_t g = 0; g < ng && st == TL_OK; g++) {
        if (is[g] > INT64_MAX || is[g] < INT64_MIN)
          st = a->gid ? tl_error_set(a->err, TL_ERANGE,
                                     "%s: \"%s\": integer overflow (the sum leaves int64) in group %lld",
                                     a->op, a->src, (long long)g + 1)
                      : tl_error_set(a->err, TL_ERANGE,
                                     "%s: \"%s\": integer overflow (the sum leaves int64)", a->op,
                                     a->src);
        r[g] = (int64_t)is[g];
      }
      if (st == TL_OK) st = result_column(TL_INT, ng, r, valid, out, a->err);
      goto done;
    }
  }
  if (st == TL_OK) st = result_column(TL_FLOAT, ng, fs, valid, out, a->err);
done:
  tl_free(cnt); tl_free(valid); tl_free(fs); tl_free(comp); tl_free(is);
  return st;
}

/* min, max, first, last: the row that wins in each group, then a take. */
static tl_status agg_pick(aggctx *a, int fn, tl_column **out) {
  const tl_column *x = a->x;
  int64_t *best = tl_alloc(((size_t)a->ng + 1) * sizeof *best);
  if (!best) return tl_error_oom(a->err, a->op);
  for (int64_t g = 0; g < a->ng; g++) best[g] = -1;
  for (int64_t i = 0; i < a->nrows; i++) {
    if (!XVALID(x, i)) continue;
    int32_t g = GID(a, i);
    int64_t b = best[g];
    if (b < 0 || fn == AGG_LAST) { best[g] = i; continue; }
    if (fn == AGG_FIRST) continue;
    if (x->type == TL_FLOAT) {   /* NaN loses to every number */
      double v = ((const double *)x->values)[i], w = ((const double *)x->values)[b];
      if (w != w ? v == v : (fn == AGG_MIN ? v < w : v > w)) best[g] = i;
      continue;
    }
    int c = tl_column_compare_values(x, i, x, b);
    if (fn == AGG_MIN ? c < 0 : c > 0) best[g] = i;
  }
  /* groups with no value take row 0 (any row) and are nulled afterwards */
  int64_t *rows = tl_alloc(((size_t)a->ng + 1) * sizeof *rows);
  if (!rows) { tl_free(best); return tl_error_oom(a->err, a->op); }
  int any_empty = 0;
  for (int64_t g = 0; g < a->ng; g++) { rows[g] = best[g] < 0 ? 0 : best[g]; any_empty |= best[g] < 0; }
  tl_status st;
  if (a->nrows == 0) {   /* nothing to take from: an all-null column */
    tl_builder *b;
    st = tl_builder_new(x->type, a->ng, &b, a->err);
    for (int64_t g = 0; g < a->ng && st == TL_OK; g++) st = tl_builder_append_null(b, a->err);
    if (st == TL_OK) st = tl_builder_finish(b, out, a->err);
    else tl_builder_free(b);
  } else {
    st = tl_column_take(x, rows, a->ng, out, a->err);
    if (st == TL_OK && any_empty) {
      tl_column *c = *out;
      if (!c->validity) {
        c->validity = tl_alloc(TL_BITMAP_BYTES(c->length));
        if (!c->validity) { tl_column_release(c); st = tl_error_oom(a->err, a->op); }
        else memset(c->validity, 0xff, TL_BITMAP_BYTES(c->length));
      }
      if (st == TL_OK) {
        for (int64_t g = 0; g < a->ng; g++)
          if (best[g] < 0) TL_BIT_CLEAR(c->validity, g);
        tl_column_seal(c);
      }
    }
  }
  tl_free(rows);
  tl_free(best);
  return st;
}

/* Sample variance by Welford's method; stddev is its root. */
static tl_status agg_var(aggctx *a, int sd, tl_column **out) {
  int64_t ng = a->ng;
  double *mean = tl_calloc((size_t)ng + 1, sizeof *mean), *m2 = tl_calloc((size_t)ng + 1, sizeof *m2);
  int64_t *cnt = tl_calloc((size_t)ng + 1, sizeof *cnt);
  uint8_t *valid = tl_alloc((size_t)ng + 1);
  tl_status st = TL_OK;
  if (!mean || !m2 || !cnt || !valid) st = tl_error_oom(a->err, a->op);
  for (int64_t i = 0; i < a->nrows && st == TL_OK; i++) {
    if (!XVALID(a->x, i)) continue;
    int32_t g = GID(a, i);
    double v = xnum(a->x, i), d = v - mean[g];
    cnt[g]++;
    mean[g] += d / (double)cnt[g];
    m2[g] += d * (v - mean[g]);
  }
  for (int64_t g = 0; g < ng && st == TL_OK; g++) {
    valid[g] = cnt[g] > 1;
    m2[g] = cnt[g] > 1 ? m2[g] / (double)(cnt[g] - 1) : 0;
    if (sd) m2[g] = sqrt(m2[g]);
  }
  if (st == TL_OK) st = result_column(TL_FLOAT, ng, m2, valid, out, a->err);
  tl_free(mean); tl_free(m2); tl_free(cnt); tl_free(valid);
  return st;
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

/* quantile of an int column with a small range of values: a histogram per
** group, one pass, no sorting. Returns 1 when it applied. */
static int quantile_hist(aggctx *a, double q, tl_column **out, tl_status *st) {
  const tl_column *x = a->x;
  const int64_t *v = x->values;
  int64_t min = INT64_MAX, max = INT64_MIN;
  TL_FOR_VALID(x, i, { if (v[i] < min) min = v[i]; if (v[i] > max) max = v[i]; });
  if (min > max) return 0;
  if ((uint64_t)max - (uint64_t)min >= 65536) return 0;
  int64_t range = max - min + 1, ng = a->ng;
  if (ng * range > ((int64_t)1 << 24)) return 0;
  int64_t *h = tl_calloc((size_t)(ng * range) + 1, sizeof *h), *cnt = tl_calloc((size_t)ng + 1, sizeof *cnt);
  double *res = tl_calloc((size_t)ng + 1, sizeof *res);
  uint8_t *valid = tl_alloc((size_t)ng + 1);
  if (!h || !cnt || !res || !valid) {
    *st = tl_error_oom(a->err, a->op);
  } else {
    TL_FOR_VALID(x, i, { int64_t g = GID(a, i); h[g * range + (v[i] - min)]++; cnt[g]++; });
    for (int64_t g = 0; g < ng; g++) {
      valid[g] = cnt[g] > 0;
      if (!cnt[g]) continue;
      double hq = (double)(cnt[g] - 1) * q;
      int64_t lo = (int64_t)floor(hq);
      double x0 = hist_rank(h + g * range, range, min, lo);
      double x1 = lo + 1 < cnt[g] ? hist_rank(h + g * range, range, min, lo + 1) : x0;
      res[g] = hq == (double)lo ? x0 : x0 + (hq - (double)lo) * (x1 - x0);
    }
    *st = result_column(TL_FLOAT, ng, res, valid, out, a->err);
  }
  tl_free(h); tl_free(cnt); tl_free(res); tl_free(valid);
  return 1;
}

/* quantile(x, q): linear interpolation between order statistics (type 7, as
** pandas and DuckDB's quantile_cont). NaN values are left out. */
static tl_status agg_quantile(aggctx *a, double q, tl_column **out) {
  int64_t ng = a->ng;
  tl_status hst;
  if (a->x->type == TL_INT && quantile_hist(a, q, out, &hst)) return hst;
  int64_t *start = tl_calloc((size_t)ng + 2, sizeof *start);
  uint8_t *valid = tl_alloc((size_t)ng + 1);
  double *res = tl_calloc((size_t)ng + 1, sizeof *res);
  if (!start || !valid || !res) {
    tl_free(start); tl_free(valid); tl_free(res);
    return tl_error_oom(a->err, a->op);
  }
  for (int64_t i = 0; i < a->nrows; i++)   /* counting sort of the values by group */
    if (XVALID(a->x, i) && xnum(a->x, i) == xnum(a->x, i)) start[GID(a, i) + 1]++;
  for (int64_t g = 0; g < ng; g++) start[g + 1] += start[g];
  double *vals = tl_alloc(((size_t)start[ng] + 1) * sizeof *vals);
  int64_t *pos = tl_alloc(((size_t)ng + 1) * sizeof *pos);
  tl_status st = TL_OK;
  if (!vals || !pos) st = tl_error_oom(a->err, a->op);
  if (st == TL_OK) {
    memcpy(pos, start, (size_t)ng * sizeof *pos);
    for (int64_t i = 0; i < a->nrows; i++) {
      if (!XVALID(a->x, i)) continue;
      double v = xnum(a->x, i);
      if (v == v) vals[pos[GID(a, i)]++] = v;
    }
    for (int64_t g = 0; g < ng; g++) {
      double *v = vals + start[g];
      int64_t n = start[g + 1] - start[g];
      valid[g] = n > 0;
      if (!n) continue;
      double h = (double)(n - 1) * q;
      int64_t lo = (int64_t)floor(h);
      select_kth(v, n, lo);
      double x0 = v[lo], x1 = x0;
      if (lo + 1 < n) {   /* the next order statistic: the least above lo */
        x1 = v[lo + 1];
        for (int64_t k = lo + 2; k < n; k++) if (v[k] < x1) x1 = v[k];
      }
      res[g] = h == (double)lo ? x0 : x0 + (h - (double)lo) * (x1 - x0);   /* inf - inf is no step */
    }
    st = result_column(TL_FLOAT, ng, res, valid, out, a->err);
  }
  tl_free(vals); tl_free(pos); tl_free(start); tl_free(valid); tl_free(res);
  return st;
}

/* count_distinct of a dictionary column: a bit per (group, code). */
static tl_status distinct_codes(aggctx *a, tl_column **out) {
  const tl_column *x = a->x;
  int64_t ng = a->ng, nd = x->dict->length;
  uint8_t *seen = tl_calloc(TL_BITMAP_BYTES(ng * nd) + 1, 1);
  int64_t *cnt = tl_calloc((size_t)ng + 1, sizeof *cnt);
  uint8_t *valid = tl_alloc((size_t)ng + 1);
  tl_status st = (seen && cnt && valid) ? TL_OK : tl_error_oom(a->err, a->op);
  if (st == TL_OK) {
    const int32_t *codes = x->values;
    memset(valid, 1, (size_t)ng + 1);
    TL_FOR_VALID(x, i, {
      int64_t g = GID(a, i), bit = g * nd + codes[i];
      if (!TL_BIT_GET(seen, bit)) { TL_BIT_SET(seen, bit); cnt[g]++; }
    });
    st = result_column(TL_INT, ng, cnt, valid, out, a->err);
  }
  tl_free(seen); tl_free(cnt); tl_free(valid);
  return st;
}

/* count_distinct: a hash set of (group, value) pairs. */
static tl_status agg_count_distinct(aggctx *a, tl_column **out) {
  const tl_column *x = a->x;
  if (x->dict && a->ng * x->dict->length <= ((int64_t)1 << 28)) return distinct_codes(a, out);
  int64_t ng = a->ng, cap = 1024, used = 0;
  int64_t *set = tl_alloc((size_t)cap * sizeof *set);   /* row + 1; 0 = empty */
  int64_t *cnt = tl_calloc((size_t)ng + 1, sizeof *cnt);
  uint8_t *valid = tl_alloc((size_t)ng + 1);
  tl_status st = (set && cnt && valid) ? TL_OK : tl_error_oom(a->err, a->op);
  if (st == TL_OK) { memset(set, 0, (size_t)cap * sizeof *set); memset(valid, 1, (size_t)ng + 1); }
  for (int64_t i = 0; i < a->nrows && st == TL_OK; i++) {
    if (!XVALID(x, i)) continue;
    int32_t g = GID(a, i);
    uint64_t h = hash_value(x, i, (uint64_t)g * 0x9e3779b97f4a7c15ULL + 1);
    uint64_t mask = (uint64_t)cap - 1, p = h & mask;
    while (set[p]) {
      int64_t r = set[p] - 1;
      if (GID(a, r) == g && same_value(x, r, i)) break;
      p = (p + 1) & mask;
    }
    if (set[p]) continue;
    set[p] = i + 1;
    cnt[g]++;
    if (++used * 2 > cap) {
      int64_t ncap = cap * 2;
      int64_t *ns = tl_calloc((size_t)ncap, sizeof *ns);
      if (!ns) { st = tl_error_oom(a->err, a->op); break; }
      for (int64_t k = 0; k < cap; k++) {
        if (!set[k]) continue;
        int64_t r = set[k] - 1;
        uint64_t q = hash_value(x, r, (uint64_t)GID(a, r) * 0x9e3779b97f4a7c15ULL + 1) & (uint64_t)(ncap - 1);
        while (ns[q]) q = (q + 1) & (uint64_t)(ncap - 1);
        ns[q] = set[k];
      }
      tl_free(set);
      set = ns;
      cap = ncap;
    }
  }
  if (st == TL_OK) st = result_column(TL_INT, ng, cnt, valid, out, a->err);
  tl_free(set); tl_free(cnt); tl_free(valid);
  return st;
}

/* Rows per batch handed to a host aggregate: several vectors, so that a
** host that works a group at a time (step_batch) sees long runs of values. */
#define AGG_BATCH ((int64_t)TL_VEC * 8)

/* A host aggregate: the scan stays here; the host sees batches of rows. */
static tl_status agg_custom(const tl_aggregate *a, tl_column *const *args, int nargs,
                            const tl_table *t, const int32_t *gid, int64_t ng, tl_column **out,
                            tl_error *err) {
  void *run = NULL;
  int64_t *rows = tl_alloc(AGG_BATCH * sizeof *rows);
  int32_t *groups = tl_alloc(AGG_BATCH * sizeof *groups);
  tl_status st = (rows && groups) ? TL_OK : tl_error_oom(err, "agg");
  if (st == TL_OK) st = a->begin(a->ud, ng, &run, err);
  int begun = st == TL_OK;
  for (int64_t start = 0; start < t->nrows && st == TL_OK; start += AGG_BATCH) {
    int64_t stop = t->nrows - start < AGG_BATCH ? t->nrows : start + AGG_BATCH, m = 0;
    if (tl_interrupted()) { st = tl_error_interrupted(err, a->name); break; }
    for (int64_t i = start; i < stop; i++) {
      int ok = 1;
      for (int k = 0; k < nargs && ok && !a->nulls; k++) ok = XVALID(args[k], i);
      if (!ok) continue;
      rows[m] = i;
      groups[m++] = gid ? gid[i] : 0;
    }
    if (m) {
      tl_agg_batch b = { m, rows, groups, nargs, args };
      st = a->step(run, &b, err);
    }
  }
  if (st == TL_OK) st = a->finish(run, ng, out, err);
  if (st == TL_OK && (tl_column_length(*out) != ng || (a->type && tl_column_type(*out) != a->type))) {
    tl_column_release(*out);
    st = tl_error_set(err, TL_ETYPE, "%s: the results are not %lld values of type %s", a->name,
                      (long long)ng, a->type ? tl_type_name(a->type) : "any");
  }
  if (begun) a->end(run);
  tl_free(rows);
  tl_free(groups);
  return st;
}

static tl_status run_aggregate(expr *e, const char *src, const tl_table *t, const int32_t *gid,
                               int64_t ng, tl_column **out, tl_error *err) {
  aggctx a = { NULL, gid, t->nrows, ng, "agg", src, err };
  tl_column *arg = NULL;
  tl_status st = TL_OK;
  if (e->fn == AGG_CUSTOM) {
    tl_column **args = tl_calloc((size_t)e->nargs + 1, sizeof *args);
    if (!args) return tl_error_oom(err, "agg");
    for (int k = 0; k < e->nargs && st == TL_OK; k++) {
      expr *x = e->args[k];
      if (x->kind == E_COL) args[k] = tl_column_retain(t->cols[x->col]);
      else st = tl_expr_column(x, t->cols, NULL, t->nrows, "agg", &args[k], err);
    }
    if (st == TL_OK) st = agg_custom(e->custom, args, e->nargs, t, gid, ng, out, err);
    if (st != TL_OK && err && st != TL_ENOMEM) {
      char msg[TL_ERROR_SIZE];
      memcpy(msg, err->message, sizeof msg);
      tl_error_set(err, st, "agg: \"%s\": %s", src, msg);
    }
    for (int k = 0; k < e->nargs; k++) tl_column_release(args[k]);
    tl_free(args);
    return st;
  }
  if (e->nargs > 0) {
    expr *x = e->args[0];
    if (x->kind == E_COL) arg = tl_column_retain(t->cols[x->col]);   /* no copy */
    else st = tl_expr_column(x, t->cols, NULL, t->nrows, "agg", &arg, err);
    if (st != TL_OK) return st;
    if (!x->type) {   /* a bare null argument: an all-null column */
      tl_column_release(arg);
      st = tl_column_alloc(TL_INT, t->nrows, 1, 0, &arg, err);
      if (st != TL_OK) return st;
      memset(arg->validity, 0, TL_BITMAP_BYTES(t->nrows));
      tl_column_seal(arg);
    }
  }
  a.x = arg;
  switch (e->fn) {
    case AGG_COUNT: st = agg_count(&a, out); break;
    case AGG_SUM: st = agg_sum(&a, 0, out); break;
    case AGG_MEAN: st = agg_sum(&a, 1, out); break;
    case AGG_MIN: case AGG_MAX: case AGG_FIRST: case AGG_LAST: st = agg_pick(&a, e->fn, out); break;
    case AGG_STDDEV: st = agg_var(&a, 1, out); break;
    case AGG_VAR: st = agg_var(&a, 0, out); break;
    case AGG_MEDIAN: st = agg_quantile(&a, 0.5, out); break;
    case AGG_QUANTILE: {
      const expr *q = e->args[1];
      st = agg_quantile(&a, q->type == TL_INT ? (double)q->lit.v.i : q->lit.v.f, out);
      break;
    }
    case AGG_COUNT_DISTINCT: st = agg_count_distinct(&a, out); break;
    default: st = tl_error_set(err, TL_EINVAL, "agg: unknown aggregate");
  }
  tl_column_release(arg);
  return st;
}

/* Evaluates the definitions over groups given by gid (NULL: one group) and
** appends their columns to `base` (the keys). */
static tl_status aggregate(const tl_table *t, const int32_t *gid, int64_t ng, tl_table *base,
                           int n, const char *const *defs, const tl_scope *scope,
                           tl_table **out, tl_error *err) {
  tl_table *cur = tl_table_retain(base);
  tl_status st = TL_OK;
  for (int k = 0; k < n && st == TL_OK; k++) {
    char *name = NULL;
    expr *e = NULL, **aggs = NULL;
    int naggs = 0;
    tl_column **slots = NULL, *c = NULL;
    st = tl_expr_parse(defs[k], "agg", &name, &e, err);
    if (st == TL_OK && !name && !(name = tl_expr_default_name(defs[k])))
      st = tl_error_oom(err, "agg");
    if (st == TL_OK) st = tl_expr_bind_scope(e, t, "agg", defs[k], &aggs, &naggs, scope, err);
    for (int s = 0; s < naggs && st == TL_OK; s++)
      if (aggs[s]->fn == AGG_CUSTOM && !aggs[s]->type && aggs[s] != e)
        st = tl_error_set(err, TL_ETYPE,
                          "agg: \"%s\": aggregate '%s' has no declared result type, so it can "
                          "only stand alone (declare one: type = \"float\")",
                          defs[k], aggs[s]->custom->name);
    if (st == TL_OK && !(slots = tl_calloc((size_t)naggs + 1, sizeof *slots)))
      st = tl_error_oom(err, "agg");
    for (int s = 0; s < naggs && st == TL_OK; s++)
      st = run_aggregate(aggs[s], defs[k], t, gid, ng, &slots[s], err);
    if (st == TL_OK) {
      if (e->kind == E_AGG) c = tl_column_retain(slots[0]);
      else st = tl_expr_column(e, NULL, slots, ng, "agg", &c, err);
    }
    tl_table *next = NULL;
    if (st == TL_OK) st = tl_table_set_column(cur, name, c, &next, err);
    if (st == TL_OK) { tl_table_release(cur); cur = next; }
    tl_column_release(c);
    for (int s = 0; slots && s < naggs; s++) tl_column_release(slots[s]);
    tl_free(slots);
    tl_free(aggs);
    tl_expr_free(e);
    tl_free(name);
  }
  if (st != TL_OK) { tl_table_release(cur); return st; }
  *out = cur;
  return TL_OK;
}

tl_status tl_grouping_agg(const tl_grouping *g, int n, const char *const *defs, tl_table **out,
                          tl_error *err) {
  return tl_grouping_agg_with(g, n, defs, 0, NULL, out, err);
}

tl_status tl_grouping_agg_with(const tl_grouping *g, int n, const char *const *defs, int nfns,
                               const tl_aggregate *const *fns, tl_table **out, tl_error *err) {
  tl_scope scope = { nfns, fns, 0, NULL };
  return tl_grouping_agg_scope(g, n, defs, &scope, out, err);
}

tl_status tl_grouping_agg_scope(const tl_grouping *g, int n, const char *const *defs,
                                const tl_scope *scope, tl_table **out, tl_error *err) {
  tl_table *keys;
  TL_TRY(tl_grouping_keys(g, &keys, err));
  tl_status st = aggregate(g->t, g->gid, g->ngroups, keys, n, defs, scope, out, err);
  tl_table_release(keys);
  return st;
}

tl_status tl_table_agg(const tl_table *t, int n, const char *const *defs, tl_table **out,
                       tl_error *err) {
  return tl_table_agg_with(t, n, defs, 0, NULL, out, err);
}

tl_status tl_table_agg_with(const tl_table *t, int n, const char *const *defs, int nfns,
                            const tl_aggregate *const *fns, tl_table **out, tl_error *err) {
  tl_scope scope = { nfns, fns, 0, NULL };
  return tl_table_agg_scope(t, n, defs, &scope, out, err);
}

tl_status tl_table_agg_scope(const tl_table *t, int n, const char *const *defs,
                             const tl_scope *scope, tl_table **out, tl_error *err) {
  tl_table *empty;
  TL_TRY(tl_table_new(0, NULL, NULL, &empty, err));
  tl_status st = aggregate(t, NULL, 1, empty, n, defs, scope, out, err);
  tl_table_release(empty);
  return st;
}
