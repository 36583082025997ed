/*
** partial.c -- partial aggregation states.
**
** The state of one aggregate over a set of groups lives in flat per-group
** arrays (an agst). A scan fills the states of one range of rows; states
** merge through a map from the groups of one to the groups of the other.
** The ranges of a scan, the threads that run them and the processes of an
** MPI job all combine their work with that one merge, always in row order,
** so that no result depends on how the work was split among threads.
**
** A tl_partial is the states of a list of definitions, the key of each
** group, and what is needed to bind the definitions again after decoding:
** their text and the types of the columns they read.
**
** core/agg: aggregation. partial.c holds the states of the aggregates,
** the scan that fills them over ranges of rows on every thread, their merge
** and their codec (for MPI); stats.c the statistics of one column, built on
** the same scan. It stands on expr and base; the verbs that group (ops) call
** it.
*/
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "expr/expr.h"
#include "partial.h"
#include "base/pool.h"
#include "base/table.h"

#define DEFAULT_RANGE ((int64_t)1 << 16)
#define MAX_WORKERS 256

/* ---------------------------------------------------------------------------
** The range size
*/
static atomic_llong range_setting;   /* 0: not chosen yet */

static int64_t default_range(void) {
  const char *env = getenv("TALLY_RANGE_ROWS");
  if (env && *env) {
    long long n = atoll(env);
    if (n >= 1) return (int64_t)n;
  }
  return DEFAULT_RANGE;
}

void tl_group_set_range_rows(int64_t n) {
  atomic_store(&range_setting, (long long)(n > 0 ? n : default_range()));
}

int64_t tl_group_range_rows(void) {
  long long n = atomic_load(&range_setting);
  if (n == 0) {
    n = (long long)default_range();
    atomic_store(&range_setting, n);
  }
  return (int64_t)n;
}

/* ---------------------------------------------------------------------------
** Keys as text, for messages
*/

/* Appends n bytes of s to buf as snprintf would: *k counts every byte. */
static void put(char *buf, size_t size, size_t *k, const char *s, size_t n) {
  if (*k + 1 < size) {
    size_t room = size - 1 - *k;
    memcpy(buf + *k, s, n < room ? n : room);
  }
  *k += n;
  if (size) buf[*k < size ? *k : size - 1] = '\0';
}

/* A string in single quotes, quotes and backslashes escaped, cut after
** 100 bytes (at a character boundary). */
static void put_quoted(char *buf, size_t size, size_t *k, const char *s, size_t n) {
  size_t cut = n > 100 ? 100 : n;
  while (cut < n && cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80) cut--;
  put(buf, size, k, "'", 1);
  for (size_t i = 0; i < cut; i++) {
    if (s[i] == '\'' || s[i] == '\\') put(buf, size, k, "\\", 1);
    put(buf, size, k, s + i, 1);
  }
  if (cut < n) put(buf, size, k, "...", 3);
  put(buf, size, k, "'", 1);
}

size_t tl_key_text(int nkeys, const char *const *names, tl_column *const *cols, int64_t row,
                   char *buf, size_t size) {
  size_t k = 0;
  if (size) buf[0] = '\0';
  for (int j = 0; j < nkeys; j++) {
    if (j) put(buf, size, &k, ", ", 2);
    put(buf, size, &k, names[j], strlen(names[j]));
    put(buf, size, &k, " = ", 3);
    tl_scalar v;
    tl_column_get(cols[j], row, &v);
    char tmp[64];
    if (v.is_null) {
      put(buf, size, &k, "null", 4);
    } else if (v.type == TL_STRING) {
      put_quoted(buf, size, &k, v.v.s.ptr, v.v.s.len);
    } else {
      size_t n = tl_scalar_format(&v, tmp, sizeof tmp);
      if (n >= sizeof tmp) n = sizeof tmp - 1;
      if (v.type == TL_DATE || v.type == TL_TIMESTAMP) put_quoted(buf, size, &k, tmp, n);
      else put(buf, size, &k, tmp, n);
    }
  }
  return k;
}

size_t tl_agg_key_text(const tl_agg_keys *keys, int64_t g, char *buf, size_t size) {
  if (!keys || keys->nkeys == 0) {
    if (size) buf[0] = '\0';
    return 0;
  }
  return tl_key_text(keys->nkeys, keys->names, keys->cols, keys->rows ? keys->rows[g] : g, buf,
                     size);
}

/* " in group k = 'a'" for group g, or "" when the groups have no keys. */
static void group_suffix(const tl_agg_keys *keys, int64_t g, char *buf, size_t size) {
  buf[0] = '\0';
  if (!keys || keys->nkeys == 0) return;
  size_t k = 0;
  put(buf, size, &k, " in group ", 10);
  if (k < size) tl_agg_key_text(keys, g, buf + k, size - k);
}

/* ---------------------------------------------------------------------------
** States
*/
enum { Q_LIST, Q_HIST, Q_FLAT };   /* quantile: per-group arrays, counts, one array */
enum { D_SET, D_CODES };           /* count_distinct: a hash set, bits over codes */

/* A distinct value: the bits of a number, or a string. */
typedef struct dent {
  uint64_t hv;                     /* the value's hash */
  int64_t g;
  union { int64_t i; const char *s; } v;
  int64_t len;                     /* strings */
} dent;

typedef struct agst {
  int fn;                  /* AGG_* */
  tl_type xt;              /* the argument's type; 0: count() or a bare null */
  int mode;                /* Q_* or D_* */
  int64_t ng;
  double q;                /* quantile */
  const tl_aggregate *host;
  int64_t *cnt;            /* values seen (count: rows) */
  tl_i128 *is;             /* sums of ints and bools */
  double *f1, *f2;         /* float sums: sum, compensation; var: mean, M2 */
  uint8_t *has;            /* min, max, first, last: a value is there */
  int64_t *iv;             /* ... of int, bool, date, timestamp */
  double *dv;              /* ... of float */
  const char **sp;         /* ... of string */
  int64_t *sl;
  int64_t hmin, hrange;    /* Q_HIST: counts of hmin .. hmin + hrange - 1 */
  int64_t *h;
  double **lv;             /* Q_LIST: the values of group g, cnt[g] of lcap[g] */
  int64_t *lcap;
  double *flat;            /* Q_FLAT: group g's values flat[fstart[g] .. fstart[g + 1]) */
  int64_t *fstart;
  const tl_column *dict;   /* D_CODES: bit code of row g of `bits` */
  uint64_t *bits;
  int64_t stride;          /* words a group */
  dent *de;                /* D_SET: the values, and slots (entry + 1) into them */
  int64_t dn, dcap, dscap;
  uint64_t *dslot;
  uint8_t **hb;            /* host: saved bytes of group g */
  size_t *hl;
  tl_column *done;         /* a host aggregate's result, made at once */
  tl_column **keep;        /* what string values point into */
  int nkeep, keepcap;
} agst;

static int is_pick(int fn) { return fn == AGG_MIN || fn == AGG_MAX || fn == AGG_FIRST || fn == AGG_LAST; }
static int is_quant(int fn) { return fn == AGG_MEDIAN || fn == AGG_QUANTILE; }
static int is_var(int fn) { return fn == AGG_VAR || fn == AGG_STDDEV; }
static int is_sum(int fn) { return fn == AGG_SUM || fn == AGG_MEAN; }

/* Grows array a from `old` to n items, the new ones zeroed; returns 0 from
** the enclosing function when out of memory. */
#define GROW(a, old, n) do { \
    void *q_ = tl_realloc((a), (size_t)((n) > 0 ? (n) : 1) * sizeof *(a)); \
    if (!q_) return 0; \
    (a) = q_; \
    if ((n) > (old)) memset((a) + (old), 0, (size_t)((n) - (old)) * sizeof *(a)); \
  } while (0)

/* Room for groups up to n (n >= s->ng), new groups empty. 0: out of memory. */
static int st_grow(agst *s, int64_t n) {
  int64_t o = s->ng;
  int fn = s->fn;
  if (fn != AGG_CUSTOM && !is_pick(fn)) GROW(s->cnt, o, n);
  if (is_sum(fn) && s->xt != TL_FLOAT) GROW(s->is, o, n);
  if ((is_sum(fn) && s->xt == TL_FLOAT) || is_var(fn)) { GROW(s->f1, o, n); GROW(s->f2, o, n); }
  if (is_pick(fn)) {
    GROW(s->has, o, n);
    if (s->xt == TL_FLOAT) GROW(s->dv, o, n);
    else if (s->xt == TL_STRING) { GROW(s->sp, o, n); GROW(s->sl, o, n); }
    else GROW(s->iv, o, n);
  }
  if (is_quant(fn) && s->mode == Q_HIST) GROW(s->h, o * s->hrange, n * s->hrange);
  if (is_quant(fn) && s->mode == Q_LIST) { GROW(s->lv, o, n); GROW(s->lcap, o, n); }
  if (is_quant(fn) && s->mode == Q_FLAT) GROW(s->fstart, o + 1, n + 1);
  if (fn == AGG_COUNT_DISTINCT && s->mode == D_CODES) GROW(s->bits, o * s->stride, n * s->stride);
  if (fn == AGG_CUSTOM) { GROW(s->hb, o, n); GROW(s->hl, o, n); }
  s->ng = n;
  return 1;
}

static void st_free(agst *s) {
  if (!s) return;
  for (int64_t g = 0; s->lv && g < s->ng; g++) tl_free(s->lv[g]);
  for (int64_t g = 0; s->hb && g < s->ng; g++) tl_free(s->hb[g]);
  for (int k = 0; k < s->nkeep; k++) tl_column_release(s->keep[k]);
  tl_free(s->keep);
  tl_free(s->cnt); tl_free(s->is); tl_free(s->f1); tl_free(s->f2);
  tl_free(s->has); tl_free(s->iv); tl_free(s->dv); tl_free(s->sp); tl_free(s->sl);
  tl_free(s->h); tl_free(s->lv); tl_free(s->lcap); tl_free(s->flat); tl_free(s->fstart);
  tl_free(s->bits); tl_free(s->de); tl_free(s->dslot);
  tl_free(s->hb); tl_free(s->hl);
  tl_column_release(s->done);
  tl_free(s);
}

/* An empty state of ng groups, like `like` (its kind, type and layout). */
static agst *st_new(const agst *like, int mode, int64_t ng) {
  agst *s = tl_calloc(1, sizeof *s);
  if (!s) return NULL;
  s->fn = like->fn;
  s->xt = like->xt;
  s->q = like->q;
  s->host = like->host;
  s->mode = mode;
  s->hmin = like->hmin;
  s->hrange = like->hrange;
  s->dict = like->dict;
  s->stride = like->stride;
  if (!st_grow(s, ng)) { st_free(s); return NULL; }
  return s;
}

/* Keeps column c alive as long as the state: string values point into it. */
static int st_keep(agst *s, const tl_column *c) {
  for (int k = 0; k < s->nkeep; k++)
    if (s->keep[k] == c) return 1;
  if (s->nkeep == s->keepcap) {
    int cap = s->keepcap ? s->keepcap * 2 : 4;
    tl_column **nk = tl_realloc(s->keep, (size_t)cap * sizeof *nk);
    if (!nk) return 0;
    s->keep = nk;
    s->keepcap = cap;
  }
  s->keep[s->nkeep++] = tl_column_retain((tl_column *)c);
  return 1;
}

static int st_keep_all(agst *s, const agst *from) {
  for (int k = 0; k < from->nkeep; k++)
    if (!st_keep(s, from->keep[k])) return 0;
  return 1;
}

/* ---------------------------------------------------------------------------
** Distinct values: an open-addressing set of (group, value), entries in
** order of insertion.
*/
static uint64_t mix64(uint64_t x) {
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

static uint64_t dslot_hash(uint64_t hv, int64_t g) {
  return mix64(hv ^ ((uint64_t)g * 0x9e3779b97f4a7c15ULL));
}

static int dent_same(const dent *a, const dent *b, int strings) {
  if (a->hv != b->hv || a->g != b->g) return 0;
  if (!strings) return a->v.i == b->v.i;
  return a->len == b->len && memcmp(a->v.s, b->v.s, (size_t)a->len) == 0;
}

/* A slot: the high 32 bits of the entry's slot hash, then its index + 1 (0:
** empty), so that most probes need not look at the entry. */
#define SLOT_TAG(h) ((h) & ~(uint64_t)0xffffffff)

/* Adds e unless it is there; 1 when added, 0 when present, -1: no memory. */
static int dset_add(agst *s, const dent *e) {
  int strings = s->xt == TL_STRING;
  if (s->dn >= 0xfffffffe) return -1;
  if ((s->dn + 1) * 2 > s->dscap) {
    int64_t ncap = s->dscap ? s->dscap * 2 : 64;
    uint64_t *ns = tl_calloc((size_t)ncap, sizeof *ns);
    if (!ns) return -1;
    for (int64_t k = 0; k < s->dn; k++) {
      uint64_t h = dslot_hash(s->de[k].hv, s->de[k].g), p = h & (uint64_t)(ncap - 1);
      while (ns[p]) p = (p + 1) & (uint64_t)(ncap - 1);
      ns[p] = SLOT_TAG(h) | (uint64_t)(k + 1);
    }
    tl_free(s->dslot);
    s->dslot = ns;
    s->dscap = ncap;
  }
  uint64_t h = dslot_hash(e->hv, e->g), tag = SLOT_TAG(h), mask = (uint64_t)s->dscap - 1;
  uint64_t p = h & mask;
  for (uint64_t v; (v = s->dslot[p]) != 0; p = (p + 1) & mask)
    if (SLOT_TAG(v) == tag && dent_same(&s->de[(v & 0xffffffff) - 1], e, strings)) return 0;
  if (s->dn == s->dcap) {
    int64_t ncap = s->dcap ? s->dcap * 2 : 32;
    dent *nd = tl_realloc(s->de, (size_t)ncap * sizeof *nd);
    if (!nd) return -1;
    s->de = nd;
    s->dcap = ncap;
  }
  s->de[s->dn] = *e;
  s->dslot[p] = tag | (uint64_t)++s->dn;
  s->cnt[e->g]++;
  return 1;
}

static uint64_t hash_bits(int64_t v) { return mix64((uint64_t)v + 0x9e3779b97f4a7c15ULL); }

/* -0.0 as 0.0 and every NaN as one, so that equal values have equal bits. */
static int64_t float_bits(double d) {
  int64_t v;
  if (d == 0) d = 0;
  if (d != d) d = NAN;
  memcpy(&v, &d, 8);
  return v;
}

/* Row i of x as a distinct value of group g. */
static void dent_of(const tl_column *x, int64_t i, int64_t g, dent *e) {
  e->g = g;
  e->len = 0;
  switch (x->type) {
    case TL_INT: case TL_TIMESTAMP: e->v.i = ((const int64_t *)x->values)[i]; break;
    case TL_DATE: e->v.i = ((const int32_t *)x->values)[i]; break;
    case TL_BOOL: e->v.i = TL_BIT_GET((const uint8_t *)x->values, i); break;
    case TL_FLOAT: e->v.i = float_bits(((const double *)x->values)[i]); break;
    default: {
      size_t n;
      e->v.s = tl_column_string_at(x, i, &n);
      e->len = (int64_t)n;
      e->hv = XXH3_64bits(e->v.s, n);
      return;
    }
  }
  e->hv = hash_bits(e->v.i);
}

/* Turns a D_CODES state into a D_SET one: each code's string. */
static int codes_to_set(agst *s) {
  uint64_t *bits = s->bits;
  const tl_column *dict = s->dict;
  s->bits = NULL;
  s->mode = D_SET;
  for (int64_t g = 0; g < s->ng; g++) s->cnt[g] = 0;
  int ok = 1;
  for (int64_t g = 0; g < s->ng && ok; g++) {
    for (int64_t w = 0; w < s->stride && ok; w++) {
      uint64_t m = bits[g * s->stride + w];
      while (m && ok) {
        int64_t code = w * 64 + __builtin_ctzll(m);
        m &= m - 1;
        dent e;
        dent_of(dict, code, g, &e);
        ok = dset_add(s, &e) >= 0;
      }
    }
  }
  tl_free(bits);
  return ok;
}

/* ---------------------------------------------------------------------------
** Scans: rows [a, b) of the argument x into states of groups ids[i - a].
*/

static double xnum(const tl_column *c, int64_t i) {
  switch (c->type) {
    case TL_FLOAT: return ((const double *)c->values)[i];
    case TL_BOOL: return TL_BIT_GET((const uint8_t *)c->values, i);
    default: return (double)((const int64_t *)c->values)[i];
  }
}

/* The rounding error of t = u + y, exactly (Knuth's TwoSum: the error
** Neumaier's method takes from the larger operand, without a branch on
** which one that is). */
static inline double sum_error(double u, double y, double t) {
  double bp = t - u;
  return (u - (t - bp)) + (y - bp);
}

static void scan_sum(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  int64_t *cnt = s->cnt;
  if (x->type == TL_FLOAT) {
    const double *v = x->values;
    double *fs = s->f1, *comp = s->f2;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, {
      int32_t g = ids[i - a];
      double u = fs[g], y = v[i], t = u + y;
      if (isfinite(t)) comp[g] += sum_error(u, y, t);   /* Neumaier */
      fs[g] = t;
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
}

/* Welford's method. */
static void scan_var(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  double *mean = s->f1, *m2 = s->f2;
  TL_FOR_VALID_RANGE(x->validity, a, b, i, {
    int32_t g = ids[i - a];
    double v = xnum(x, i), d = v - mean[g];
    s->cnt[g]++;
    mean[g] += d / (double)s->cnt[g];
    m2[g] += d * (v - mean[g]);
  });
}

/* min, max, first, last: the winning row of each group, then its value. */
static int scan_pick(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  int64_t ng = s->ng, fn = s->fn;
  int64_t *best = tl_alloc((size_t)(ng ? ng : 1) * sizeof *best);
  if (!best) return 0;
  for (int64_t g = 0; g < ng; g++) best[g] = -1;
  if (fn == AGG_FIRST) {
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { int32_t g = ids[i - a]; if (best[g] < 0) best[g] = i; });
  } else if (fn == AGG_LAST) {
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { best[ids[i - a]] = i; });
  } else if (x->type == TL_INT || x->type == TL_TIMESTAMP) {
    const int64_t *v = x->values;
    int mx = fn == AGG_MAX;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, {
      int32_t g = ids[i - a];
      int64_t k = best[g];
      if (k < 0 || (mx ? v[i] > v[k] : v[i] < v[k])) best[g] = i;
    });
  } else if (x->type == TL_FLOAT) {   /* NaN loses to every number */
    const double *v = x->values;
    int mx = fn == AGG_MAX;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, {
      int32_t g = ids[i - a];
      int64_t k = best[g];
      if (k < 0) { best[g] = i; } else {
        double u = v[i], w = v[k];
        if (w != w ? u == u : (mx ? u > w : u < w)) best[g] = i;
      }
    });
  } else {
    TL_FOR_VALID_RANGE(x->validity, a, b, i, {
      int32_t g = ids[i - a];
      int64_t k = best[g];
      if (k < 0) { best[g] = i; } else {
        int c = tl_column_compare_values(x, i, x, k);
        if (fn == AGG_MIN ? c < 0 : c > 0) best[g] = i;
      }
    });
  }
  for (int64_t g = 0; g < ng; g++) {
    int64_t i = best[g];
    if (i < 0) continue;
    s->has[g] = 1;
    switch (x->type) {
      case TL_FLOAT: s->dv[g] = ((const double *)x->values)[i]; break;
      case TL_STRING: {
        size_t n;
        s->sp[g] = tl_column_string_at(x, i, &n);
        s->sl[g] = (int64_t)n;
        break;
      }
      case TL_DATE: s->iv[g] = ((const int32_t *)x->values)[i]; break;
      case TL_BOOL: s->iv[g] = TL_BIT_GET((const uint8_t *)x->values, i); break;
      default: s->iv[g] = ((const int64_t *)x->values)[i];
    }
  }
  tl_free(best);
  return 1;
}

/* Quantiles: counts of a histogram, or every non-NaN value, flat by group. */
static int scan_quant(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  if (s->mode == Q_HIST) {
    const int64_t *v = x->values;
    int64_t *h = s->h, r = s->hrange, lo = s->hmin;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { int32_t g = ids[i - a]; h[g * r + (v[i] - lo)]++; s->cnt[g]++; });
    return 1;
  }
  /* Q_FLAT: count, then place (a counting sort by group) */
  int64_t ng = s->ng, *fs = s->fstart;
  if (x->type == TL_FLOAT) {
    const double *v = x->values;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { if (v[i] == v[i]) s->cnt[ids[i - a]]++; });
  } else {
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { s->cnt[ids[i - a]]++; });
  }
  fs[0] = 0;
  for (int64_t g = 0; g < ng; g++) fs[g + 1] = fs[g] + s->cnt[g];
  int64_t *pos = tl_alloc((size_t)(ng ? ng : 1) * sizeof *pos);
  s->flat = tl_alloc((size_t)(fs[ng] ? fs[ng] : 1) * sizeof *s->flat);
  if (!pos || !s->flat) { tl_free(pos); return 0; }
  memcpy(pos, fs, (size_t)ng * sizeof *pos);
  double *out = s->flat;
  if (x->type == TL_FLOAT) {
    const double *v = x->values;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { double y = v[i]; if (y == y) out[pos[ids[i - a]]++] = y; });
  } else {
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { out[pos[ids[i - a]]++] = xnum(x, i); });
  }
  tl_free(pos);
  return 1;
}

static int scan_distinct(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  if (s->mode == D_CODES) {
    const int32_t *codes = x->values;
    uint64_t *bits = s->bits;
    int64_t stride = s->stride;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, {
      int32_t g = ids[i - a];
      int32_t c = codes[i];
      uint64_t *w = bits + g * stride + (c >> 6), m = (uint64_t)1 << (c & 63);
      if (!(*w & m)) { *w |= m; s->cnt[g]++; }
    });
    return 1;
  }
  int ok = 1;
  TL_FOR_VALID_RANGE(x->validity, a, b, i, {
    if (ok) {
      dent e;
      dent_of(x, i, ids[i - a], &e);
      ok = dset_add(s, &e) >= 0;
    }
  });
  return ok;
}

/* Adds rows [a, b) of x (NULL for count()) to s. 0: out of memory. */
static int st_scan(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  switch (s->fn) {
    case AGG_COUNT:
      if (!x || !x->validity) for (int64_t i = a; i < b; i++) s->cnt[ids[i - a]]++;
      else TL_FOR_VALID_RANGE(x->validity, a, b, i, { s->cnt[ids[i - a]]++; });
      return 1;
    case AGG_SUM: case AGG_MEAN: scan_sum(s, x, a, b, ids); return 1;
    case AGG_VAR: case AGG_STDDEV: scan_var(s, x, a, b, ids); return 1;
    case AGG_MEDIAN: case AGG_QUANTILE: return scan_quant(s, x, a, b, ids);
    case AGG_COUNT_DISTINCT: return scan_distinct(s, x, a, b, ids);
    default: return scan_pick(s, x, a, b, ids);
  }
}

/* ---------------------------------------------------------------------------
** Merging: the states of `fr` folded into those of `in`, group g of fr into
** group map[g] of in (map NULL: the same group). fr's rows come after in's.
*/
#define MAP(g) (map ? map[g] : (g))

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

/* Ints of histograms merge as long as the counts stay this many. */
#define HIST_BUDGET ((int64_t)1 << 24)
#define HIST_LIMIT ((int64_t)1 << 53)   /* values exact as doubles */

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

static int merge_quant(agst *in, const agst *fr, const int64_t *map) {
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

static int merge_distinct(agst *in, const agst *fr, const int64_t *map) {
  if (in->mode == D_CODES && fr->mode == D_CODES && in->dict == fr->dict) {
    for (int64_t g = 0; g < fr->ng; g++) {
      if (!fr->cnt[g]) continue;
      int64_t G = MAP(g), added = 0;
      uint64_t *w = in->bits + G * in->stride;
      const uint64_t *f = fr->bits + g * fr->stride;
      for (int64_t k = 0; k < in->stride; k++) {
        added += __builtin_popcountll(f[k] & ~w[k]);
        w[k] |= f[k];
      }
      in->cnt[G] += added;
    }
    return 1;
  }
  if (in->mode == D_CODES && !codes_to_set(in)) return 0;
  if (!st_keep_all(in, fr)) return 0;
  if (fr->mode == D_CODES) {
    for (int64_t g = 0; g < fr->ng; g++) {
      for (int64_t w = 0; w < fr->stride; w++) {
        uint64_t m = fr->bits[g * fr->stride + w];
        while (m) {
          int64_t code = w * 64 + __builtin_ctzll(m);
          m &= m - 1;
          dent e;
          dent_of(fr->dict, code, MAP(g), &e);
          if (dset_add(in, &e) < 0) return 0;
        }
      }
    }
    return 1;
  }
  for (int64_t k = 0; k < fr->dn; k++) {
    dent e = fr->de[k];
    e.g = MAP(e.g);
    if (dset_add(in, &e) < 0) return 0;
  }
  return 1;
}

/* 1 when value b (of group fg of fr) beats value a (of group g of in). */
static int pick_beats(const agst *in, int64_t g, const agst *fr, int64_t fg) {
  int mx = in->fn == AGG_MAX;
  if (in->xt == TL_FLOAT) {
    double w = in->dv[g], u = fr->dv[fg];
    return w != w ? u == u : (mx ? u > w : u < w);
  }
  if (in->xt == TL_STRING) {
    int64_t la = in->sl[g], lb = fr->sl[fg];
    int r = memcmp(fr->sp[fg], in->sp[g], (size_t)(la < lb ? la : lb));
    if (!r) r = (lb > la) - (lb < la);
    return mx ? r > 0 : r < 0;
  }
  return mx ? fr->iv[fg] > in->iv[g] : fr->iv[fg] < in->iv[g];
}

static void merge_pick(agst *in, const agst *fr, const int64_t *map) {
  for (int64_t g = 0; g < fr->ng; g++) {
    if (!fr->has[g]) continue;
    int64_t G = MAP(g);
    if (in->has[G] && (in->fn == AGG_FIRST || (in->fn != AGG_LAST && !pick_beats(in, G, fr, g))))
      continue;
    in->has[G] = 1;
    if (in->xt == TL_FLOAT) in->dv[G] = fr->dv[g];
    else if (in->xt == TL_STRING) { in->sp[G] = fr->sp[g]; in->sl[G] = fr->sl[g]; }
    else in->iv[G] = fr->iv[g];
  }
}

/* Chan's formula; a single value is a step of Welford's method, so that
** ranges of one row give what one scan gives. */
static void merge_var(agst *in, const agst *fr, const int64_t *map) {
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
}

/* Folds fr into in (in has room for every group map names). Host states
** are merged by the partial, which has their run. */
static tl_status st_merge(agst *in, const agst *fr, const int64_t *map, const char *op,
                          tl_error *err) {
  switch (in->fn) {
    case AGG_COUNT:
      for (int64_t g = 0; g < fr->ng; g++)
        if (__builtin_add_overflow(in->cnt[MAP(g)], fr->cnt[g], &in->cnt[MAP(g)]))
          return tl_error_set(err, TL_ERANGE, "%s: a count leaves int64", op);
      return TL_OK;
    case AGG_SUM: case AGG_MEAN:
      for (int64_t g = 0; g < fr->ng; g++) {
        int64_t G = MAP(g);
        if (__builtin_add_overflow(in->cnt[G], fr->cnt[g], &in->cnt[G]))
          return tl_error_set(err, TL_ERANGE, "%s: a count leaves int64", op);
        if (in->xt != TL_FLOAT) {
          if (__builtin_add_overflow(in->is[G], fr->is[g], &in->is[G]))
            return tl_error_set(err, TL_ERANGE, "%s: a sum leaves 128 bits", op);
          continue;
        }
        double u = in->f1[G], y = fr->f1[g], t = u + y, c = in->f2[G] + fr->f2[g];
        if (isfinite(t)) c += sum_error(u, y, t);
        in->f1[G] = t;
        in->f2[G] = c;
      }
      return TL_OK;
    case AGG_VAR: case AGG_STDDEV:
      merge_var(in, fr, map);
      return TL_OK;
    case AGG_MEDIAN: case AGG_QUANTILE:
      return merge_quant(in, fr, map) ? TL_OK : tl_error_oom(err, op);
    case AGG_COUNT_DISTINCT:
      return merge_distinct(in, fr, map) ? TL_OK : tl_error_oom(err, op);
    case AGG_CUSTOM:
      return tl_error_set(err, TL_EINVAL, "%s: host states merge through their run", op);
    default:
      if (in->xt == TL_STRING && !st_keep_all(in, fr)) return tl_error_oom(err, op);
      merge_pick(in, fr, map);
      return TL_OK;
  }
}

/* ---------------------------------------------------------------------------
** Finishing: a state into the column of its results.
*/

/* A column of ng rows: values (int64 or double, as the type stores them;
** date values and bools as int64) and a validity byte per group. */
static tl_status make_column(tl_type type, int64_t ng, const int64_t *iv, const double *dv,
                             const uint8_t *valid, tl_column **out, tl_error *err) {
  tl_column *c;
  TL_TRY(tl_column_alloc(type, ng, 1, 0, &c, err));
  for (int64_t g = 0; g < ng; g++) {
    if (valid && !valid[g]) { TL_BIT_CLEAR(c->validity, g); continue; }
    switch (type) {
      case TL_FLOAT: ((double *)c->values)[g] = dv[g]; break;
      case TL_DATE: ((int32_t *)c->values)[g] = (int32_t)iv[g]; break;
      case TL_BOOL: if (iv[g]) TL_BIT_SET((uint8_t *)c->values, g); break;
      default: ((int64_t *)c->values)[g] = iv[g];
    }
  }
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

static tl_status pick_column(const agst *s, tl_column **out, tl_error *err) {
  if (s->xt != TL_STRING) return make_column(s->xt, s->ng, s->iv, s->dv, s->has, out, err);
  int64_t nbytes = 0;
  for (int64_t g = 0; g < s->ng; g++) if (s->has[g]) nbytes += s->sl[g];
  tl_column *c;
  TL_TRY(tl_column_alloc(TL_STRING, s->ng, 1, nbytes, &c, err));
  int64_t *off = c->values, at = 0;
  for (int64_t g = 0; g < s->ng; g++) {
    off[g] = at;
    if (!s->has[g]) { TL_BIT_CLEAR(c->validity, g); continue; }
    memcpy(c->bytes + at, s->sp[g], (size_t)s->sl[g]);
    at += s->sl[g];
  }
  off[s->ng] = at;
  tl_column_seal(c);
  *out = c;
  return TL_OK;
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
    select_kth(v, n, lo);
    x0 = x1 = v[lo];
    if (lo + 1 < n) {   /* the next order statistic: the least above lo */
      x1 = v[lo + 1];
      for (int64_t k = lo + 2; k < n; k++) if (v[k] < x1) x1 = v[k];
    }
  }
  j->res[g] = h == (double)lo ? x0 : x0 + (h - (double)lo) * (x1 - x0);   /* inf - inf is no step */
}

static tl_status quant_column(agst *s, int consume, tl_column **out, tl_error *err) {
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
    st = make_column(TL_FLOAT, ng, NULL, j.res, j.valid, out, err);
  }
  tl_free(copy); tl_free(j.vals); tl_free(j.res); tl_free(j.valid);
  return st;
}

/* The results of a built-in state (host states are finished by the
** partial, which runs the host). `src` is the definition, for messages. */
static tl_status st_finish(agst *s, int consume, const char *src, const tl_agg_keys *keys,
                           tl_column **out, tl_error *err) {
  int64_t ng = s->ng;
  if (s->done) { *out = tl_column_retain(s->done); return TL_OK; }
  switch (s->fn) {
    case AGG_COUNT: case AGG_COUNT_DISTINCT:
      return make_column(TL_INT, ng, s->cnt, NULL, NULL, out, err);
    case AGG_MEDIAN: case AGG_QUANTILE:
      return quant_column(s, consume, out, err);
    case AGG_MIN: case AGG_MAX: case AGG_FIRST: case AGG_LAST:
      return pick_column(s, out, err);
    default: break;
  }
  int ints = s->fn == AGG_SUM && s->xt != TL_FLOAT;
  uint8_t *valid = tl_alloc((size_t)(ng ? ng : 1));
  double *r = tl_alloc((size_t)(ng ? ng : 1) * sizeof *r);
  int64_t *ri = ints ? tl_alloc((size_t)(ng ? ng : 1) * sizeof *ri) : NULL;
  tl_status st = (valid && r && (!ints || ri)) ? TL_OK : tl_error_oom(err, "agg");
  for (int64_t g = 0; g < ng && st == TL_OK; g++) {
    int64_t n = s->cnt[g];
    if (is_var(s->fn)) {
      valid[g] = n > 1;
      r[g] = n > 1 ? s->f2[g] / (double)(n - 1) : 0;
      if (s->fn == AGG_STDDEV) r[g] = sqrt(r[g]);
      continue;
    }
    valid[g] = n > 0;
    if (s->xt == TL_FLOAT) {
      r[g] = s->f1[g];
      if (isfinite(r[g])) r[g] += s->f2[g];
      if (s->fn == AGG_MEAN && n) r[g] /= (double)n;
    } else if (s->fn == AGG_MEAN) {
      r[g] = n ? (double)s->is[g] / (double)n : 0;
    } else if (s->is[g] > INT64_MAX || s->is[g] < INT64_MIN) {
      char where[600];
      group_suffix(keys, g, where, sizeof where);
      st = tl_error_set(err, TL_ERANGE, "agg: \"%s\": integer overflow (the sum leaves int64)%s",
                        src, where);
    } else {
      ri[g] = (int64_t)s->is[g];
    }
  }
  if (st == TL_OK) st = make_column(ints ? TL_INT : TL_FLOAT, ng, ri, r, valid, out, err);
  tl_free(valid);
  tl_free(r);
  tl_free(ri);
  return st;
}

/* ---------------------------------------------------------------------------
** Partials
*/
struct tl_partial {
  int ndefs;
  char **defs, **names;    /* the definitions' text and result names */
  expr **e;                /* bound, to evaluate what surrounds the aggregates */
  expr ***aggs;            /* the aggregates of definition k: its slots */
  int *naggs, *first;      /* slot s of definition k is st[first[k] + s] */
  int nslots;
  agst **st;
  tl_table *schema;        /* the columns the definitions read, without rows */
  tl_table *keys;          /* one row per group; NULL: the whole table as one */
  int64_t ng;
  int direct;              /* made for one result: not to merge or encode */
};

void tl_partial_free(tl_partial *p) {
  if (!p) return;
  for (int k = 0; k < p->ndefs; k++) {
    if (p->defs) tl_free(p->defs[k]);
    if (p->names) tl_free(p->names[k]);
    if (p->e) tl_expr_free(p->e[k]);
    if (p->aggs) tl_free(p->aggs[k]);
  }
  for (int s = 0; p->st && s < p->nslots; s++) st_free(p->st[s]);
  tl_free(p->defs); tl_free(p->names); tl_free(p->e); tl_free(p->aggs);
  tl_free(p->naggs); tl_free(p->first); tl_free(p->st);
  tl_table_release(p->schema);
  tl_table_release(p->keys);
  tl_free(p);
}

int64_t tl_partial_groups(const tl_partial *p) { return p->ng; }

void tl_partial_set_keys(tl_partial *p, tl_table *keys) {
  tl_table_release(p->keys);
  p->keys = tl_table_retain(keys);
}

/* The expression of slot s, and its definition's text. */
static expr *slot_expr(const tl_partial *p, int s, const char **src) {
  int k = 0;
  while (k + 1 < p->ndefs && p->first[k + 1] <= s) k++;
  if (src) *src = p->defs[k];
  return p->aggs[k][s - p->first[k]];
}

/* Parses and binds the definitions against t; one empty state per slot. */
static tl_status bind_defs(tl_partial *p, int n, const char *const *defs, const tl_table *t,
                           const tl_scope *scope, tl_error *err) {
  p->ndefs = n;
  p->defs = tl_calloc((size_t)n + 1, sizeof *p->defs);
  p->names = tl_calloc((size_t)n + 1, sizeof *p->names);
  p->e = tl_calloc((size_t)n + 1, sizeof *p->e);
  p->aggs = tl_calloc((size_t)n + 1, sizeof *p->aggs);
  p->naggs = tl_calloc((size_t)n + 1, sizeof *p->naggs);
  p->first = tl_calloc((size_t)n + 1, sizeof *p->first);
  if (!p->defs || !p->names || !p->e || !p->aggs || !p->naggs || !p->first) {
    p->ndefs = 0;
    return tl_error_oom(err, "agg");
  }
  for (int k = 0; k < n; k++) {
    if (!(p->defs[k] = tl_strdup(defs[k]))) return tl_error_oom(err, "agg");
    TL_TRY(tl_expr_parse(defs[k], "agg", &p->names[k], &p->e[k], err));
    if (!p->names[k] && !(p->names[k] = tl_expr_default_name(defs[k])))
      return tl_error_oom(err, "agg");
    TL_TRY(tl_expr_bind_scope(p->e[k], t, "agg", defs[k], &p->aggs[k], &p->naggs[k], scope, err));
    for (int s = 0; s < p->naggs[k]; s++) {
      expr *a = p->aggs[k][s];
      if (a->fn == AGG_CUSTOM && !a->type && a != p->e[k])
        return tl_error_set(err, TL_ETYPE,
                            "agg: \"%s\": aggregate '%s' has no declared result type, so it can "
                            "only stand alone (declare one: type = \"float\")",
                            defs[k], a->custom->name);
    }
    p->first[k] = p->nslots;
    p->nslots += p->naggs[k];
  }
  p->st = tl_calloc((size_t)p->nslots + 1, sizeof *p->st);
  if (!p->st) return tl_error_oom(err, "agg");
  for (int s = 0; s < p->nslots; s++) {
    expr *a = slot_expr(p, s, NULL);
    agst like = { 0 };
    like.fn = a->fn;
    like.xt = a->fn != AGG_CUSTOM && a->nargs ? a->args[0]->type : 0;
    like.host = a->custom;
    like.q = 0.5;
    if (a->fn == AGG_QUANTILE) {
      const expr *q = a->args[1];
      like.q = q->type == TL_INT ? (double)q->lit.v.i : q->lit.v.f;
    }
    if (!(p->st[s] = st_new(&like, is_quant(a->fn) ? Q_LIST : D_SET, 0))) return tl_error_oom(err, "agg");
  }
  return TL_OK;
}

/* Marks the columns e reads. */
static void mark_columns(const expr *e, uint8_t *used) {
  if (e->kind == E_COL && e->col >= 0) used[e->col] = 1;
  for (int k = 0; k < e->nargs; k++) mark_columns(e->args[k], used);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The schema: the columns the definitions read, by name, without rows. */
static tl_status schema_of(const char **names, const tl_type *types, int n, tl_table **out,
                           tl_error *err) {
  tl_column **cols = tl_calloc((size_t)n + 1, sizeof *cols);
  if (!cols) return tl_error_oom(err, "agg");
  tl_status st = TL_OK;
  for (int j = 0; j < n && st == TL_OK; j++) st = tl_column_alloc(types[j], 0, 0, 0, &cols[j], err);
  if (st == TL_OK) st = tl_table_new(n, names, cols, out, err);
  for (int j = 0; j < n; j++) tl_column_release(cols[j]);
  tl_free(cols);
  return st;
}

static tl_status make_schema(tl_partial *p, const tl_table *t, tl_error *err) {
  uint8_t *used = tl_calloc((size_t)t->ncol + 1, 1);
  const char **names = tl_calloc((size_t)t->ncol + 1, sizeof *names);
  tl_type *types = tl_calloc((size_t)t->ncol + 1, sizeof *types);
  tl_status st = (used && names && types) ? TL_OK : tl_error_oom(err, "agg");
  int n = 0;
  if (st == TL_OK) {
    for (int k = 0; k < p->ndefs; k++) mark_columns(p->e[k], used);
    for (int j = 0; j < t->ncol; j++) if (used[j]) names[n++] = t->names[j];
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    for (int j = 0; j < n; j++) types[j] = t->cols[tl_table_find(t, names[j])]->type;
    st = schema_of(names, types, n, &p->schema, err);
  }
  tl_free(used); tl_free(names); tl_free(types);
  return st;
}

/* ---------------------------------------------------------------------------
** The scan: ranges of rows on the worker threads, each into states of its
** own, merged into the partial's states in range order under a lock.
*/
typedef struct rpart {
  int64_t nl;
  int64_t *map;            /* local group -> group; NULL: the same */
  agst **st;
} rpart;

typedef struct wscratch {
  int32_t *ids, *lids;     /* a range's groups, and its local groups */
  int32_t *slot;           /* group -> local group, -1 when not in the range */
  int64_t *list;           /* the range's groups in order of first appearance */
} wscratch;

typedef struct scanjob {
  const tl_rowgroups *rg;
  int64_t n, R, nranges;
  int local;               /* ranges number their groups from 0 */
  int nslots;
  agst **glob;             /* the states scanned (NULL: a host slot) */
  tl_column **x;
  int64_t hbudget;         /* counts a range's histogram may have */
  pthread_mutex_t mu;
  int64_t next;            /* the next range to merge */
  rpart **done;            /* ranges done, waiting for their turn */
  atomic_int failed;
  tl_status st;
  tl_error err;
  wscratch *ws[MAX_WORKERS];
} scanjob;

static void rpart_free(rpart *rp, int nslots) {
  if (!rp) return;
  for (int s = 0; rp->st && s < nslots; s++) st_free(rp->st[s]);
  tl_free(rp->st);
  tl_free(rp->map);
  tl_free(rp);
}

/* Records the first failure (the lock held). */
static void job_fail(scanjob *j, tl_status st, const tl_error *e) {
  if (atomic_load(&j->failed)) return;
  j->st = st;
  if (e) j->err = *e;
  else if (st == TL_EINTR) tl_error_interrupted(&j->err, "agg");
  else tl_error_oom(&j->err, "agg");
  atomic_store(&j->failed, 1);
}

static void job_fail_locked(scanjob *j, tl_status st) {
  pthread_mutex_lock(&j->mu);
  job_fail(j, st, NULL);
  pthread_mutex_unlock(&j->mu);
}

static wscratch *scratch(scanjob *j, int worker) {
  if (j->ws[worker]) return j->ws[worker];
  int64_t m = j->R < j->n ? j->R : j->n, ng = j->rg->ng;
  wscratch *w = tl_calloc(1, sizeof *w);
  if (!w) return NULL;
  w->ids = tl_calloc((size_t)m + 1, sizeof *w->ids);   /* zeros: group 0 without keys */
  if (j->local) {
    w->lids = tl_alloc(((size_t)m + 1) * sizeof *w->lids);
    w->slot = tl_alloc(((size_t)ng + 1) * sizeof *w->slot);
    w->list = tl_alloc(((size_t)(m < ng ? m : ng) + 1) * sizeof *w->list);
    if (w->slot) for (int64_t g = 0; g < ng; g++) w->slot[g] = -1;
  }
  if (!w->ids || (j->local && (!w->lids || !w->slot || !w->list))) {
    tl_free(w->ids); tl_free(w->lids); tl_free(w->slot); tl_free(w->list); tl_free(w);
    return NULL;
  }
  j->ws[worker] = w;
  return w;
}

/* Merges the ranges that are next in order (the lock held). */
static void drain(scanjob *j) {
  while (j->next < j->nranges && j->done[j->next] && !atomic_load(&j->failed)) {
    rpart *rp = j->done[j->next];
    tl_error e;
    for (int s = 0; s < j->nslots; s++) {
      if (!j->glob[s]) continue;
      tl_status st = st_merge(j->glob[s], rp->st[s], rp->map, "agg", &e);
      if (st != TL_OK) { job_fail(j, st, &e); break; }
    }
    rpart_free(rp, j->nslots);
    j->done[j->next++] = NULL;
  }
}

static void scan_range(void *ctx, int64_t r, int worker) {
  scanjob *j = ctx;
  const tl_rowgroups *rg = j->rg;
  if (atomic_load(&j->failed)) return;
  if (tl_interrupted()) { job_fail_locked(j, TL_EINTR); return; }
  wscratch *w = scratch(j, worker);
  rpart *rp = tl_calloc(1, sizeof *rp);
  if (!w || !rp) { tl_free(rp); job_fail_locked(j, TL_ENOMEM); return; }
  int64_t a = r * j->R, b = a + j->R < j->n ? a + j->R : j->n, m = b - a;
  const int32_t *ids = w->ids;
  if (rg->gid) {
    ids = rg->gid + a;
  } else if (rg->codes) {
    const int32_t *codes = rg->codes->values, *cmap = rg->cmap;
    const uint8_t *vb = rg->codes->validity;
    int32_t nullg = cmap[rg->codes->dict->length];
    for (int64_t i = a; i < b; i++)
      w->ids[i - a] = vb && !TL_BIT_GET(vb, i) ? nullg : cmap[codes[i]];
  }
  rp->nl = rg->ng;
  if (j->local) {   /* the range's groups, numbered in order of first appearance */
    int64_t nl = 0;
    for (int64_t i = 0; i < m; i++) {
      int32_t g = ids[i], l = w->slot[g];
      if (l < 0) { l = w->slot[g] = (int32_t)nl; w->list[nl++] = g; }
      w->lids[i] = l;
    }
    for (int64_t k = 0; k < nl; k++) w->slot[w->list[k]] = -1;
    rp->nl = nl;
    rp->map = tl_alloc(((size_t)nl + 1) * sizeof *rp->map);
    if (rp->map) memcpy(rp->map, w->list, (size_t)nl * sizeof *rp->map);
    ids = w->lids;
  }
  rp->st = tl_calloc((size_t)j->nslots + 1, sizeof *rp->st);
  int ok = rp->st && (!j->local || rp->map);
  for (int s = 0; s < j->nslots && ok; s++) {
    const agst *gs = j->glob[s];
    if (!gs) continue;
    int mode = gs->mode;
    if (is_quant(gs->fn))
      mode = gs->mode == Q_HIST && rp->nl * gs->hrange <= j->hbudget ? Q_HIST : Q_FLAT;
    ok = (rp->st[s] = st_new(gs, mode, rp->nl)) && st_scan(rp->st[s], j->x[s], a, b, ids);
  }
  pthread_mutex_lock(&j->mu);
  if (!ok) {
    job_fail(j, TL_ENOMEM, NULL);
    rpart_free(rp, j->nslots);
  } else {
    j->done[r] = rp;
    drain(j);
  }
  pthread_mutex_unlock(&j->mu);
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
static tl_status choose_layout(agst *gs, const tl_column *x, const scanjob *j, tl_error *err) {
  int64_t ng = j->rg->ng;
  if (is_quant(gs->fn) && x->type == TL_INT) {
    int64_t lo, hi;
    if (!int_minmax(x, &lo, &hi)) return tl_error_oom(err, "agg");
    if (lo <= hi && lo >= -HIST_LIMIT && hi <= HIST_LIMIT && hi - lo < 65536 &&
        (hi - lo + 1) * (ng ? ng : 1) <= HIST_BUDGET) {
      set_hist(gs, lo, hi - lo + 1);
    }
  }
  if (gs->fn == AGG_COUNT_DISTINCT && x->dict) {
    int64_t nd = x->dict->length, stride = (nd + 63) / 64;
    int64_t per = j->local ? (ng < j->R ? ng : j->R) : ng;
    if (ng * stride * 64 <= ((int64_t)1 << 28) && per * stride <= 2 * j->R + 4096) {
      gs->mode = D_CODES;
      gs->dict = x->dict;
      gs->stride = stride;
      gs->ng = 0;
    }
  }
  if ((x->type == TL_STRING && (is_pick(gs->fn) || gs->fn == AGG_COUNT_DISTINCT)) &&
      !st_keep(gs, x))
    return tl_error_oom(err, "agg");
  return st_grow(gs, ng) ? TL_OK : tl_error_oom(err, "agg");
}

/* Scans the rows for every built-in slot (x[s] its argument, NULL for a
** host slot or count()). */
static tl_status scan_all(tl_partial *p, const tl_rowgroups *rg, tl_column **x, tl_error *err) {
  scanjob *j = tl_calloc(1, sizeof *j);
  if (!j) return tl_error_oom(err, "agg");
  j->rg = rg;
  j->n = rg->t->nrows;
  j->R = tl_group_range_rows();
  j->nranges = (j->n + j->R - 1) / j->R;
  j->local = rg->ng * 2 > j->R;
  j->nslots = p->nslots;
  j->x = x;
  j->hbudget = 2 * j->R > 4096 ? 2 * j->R : 4096;
  j->glob = tl_calloc((size_t)p->nslots + 1, sizeof *j->glob);
  tl_status st = j->glob ? TL_OK : tl_error_oom(err, "agg");
  int nbuiltin = 0;
  for (int s = 0; s < p->nslots && st == TL_OK; s++) {
    if (p->st[s]->fn == AGG_CUSTOM) continue;
    j->glob[s] = p->st[s];
    nbuiltin++;
    if (x[s]) st = choose_layout(p->st[s], x[s], j, err);
    else if (!st_grow(p->st[s], rg->ng)) st = tl_error_oom(err, "agg");
  }
  if (st == TL_OK && j->nranges > 0 && nbuiltin > 0) {
    j->done = tl_calloc((size_t)j->nranges, sizeof *j->done);
    if (!j->done || pthread_mutex_init(&j->mu, NULL) != 0) {
      st = tl_error_oom(err, "agg");
    } else {
      tl_parallel_for(j->nranges, scan_range, j);
      pthread_mutex_destroy(&j->mu);
      if (atomic_load(&j->failed)) {
        st = j->st;
        if (err) *err = j->err;
      }
      for (int64_t r = 0; r < j->nranges; r++) rpart_free(j->done[r], j->nslots);
    }
  }
  for (int w = 0; w < MAX_WORKERS; w++) {
    if (!j->ws[w]) continue;
    tl_free(j->ws[w]->ids); tl_free(j->ws[w]->lids); tl_free(j->ws[w]->slot);
    tl_free(j->ws[w]->list); tl_free(j->ws[w]);
  }
  tl_free(j->done);
  tl_free(j->glob);
  tl_free(j);
  return st;
}

/* ---------------------------------------------------------------------------
** Host aggregates: their states are the bytes `save` gives. One that merges
** runs over ranges of rows, on the workers when it can fork (host_ranges);
** any other in one run on the calling thread.
*/

/* Rows per batch handed to a host aggregate: several vectors, so that a
** host that works a group at a time (step_batch) sees long runs of values. */
#define AGG_BATCH ((int64_t)TL_VEC * 8)

static int32_t row_group(const tl_rowgroups *rg, int64_t i) {
  if (rg->gid) return rg->gid[i];
  if (!rg->codes) return 0;
  const tl_column *c = rg->codes;
  if (c->validity && !TL_BIT_GET(c->validity, i)) return rg->cmap[c->dict->length];
  return rg->cmap[((const int32_t *)c->values)[i]];
}

/* "agg: "<def>": " in front of a host's message. */
static tl_status host_error(tl_status st, const char *src, tl_error *err) {
  if (st != TL_OK && err && st != TL_ENOMEM) {
    char msg[TL_ERROR_SIZE];
    memcpy(msg, err->message, sizeof msg);
    tl_error_set(err, st, "agg: \"%s\": %s", src, msg);
  }
  return st;
}

static int has_merge(const tl_aggregate *a) { return a->save && a->load && a->merge; }

static tl_status no_merge(const tl_aggregate *a, tl_error *err) {
  return tl_error_set(err, TL_EINVAL,
                      "partial: aggregate '%s' has no merge, so it cannot be combined across "
                      "threads or processes (give it save, load and merge)", a->name);
}

/* Checks a host's results: ng values of its type. */
static tl_status check_result(const tl_aggregate *a, int64_t ng, tl_column **out, tl_error *err) {
  if (tl_column_length(*out) == ng && (!a->type || tl_column_type(*out) == a->type)) return TL_OK;
  tl_column_release(*out);
  *out = NULL;
  return tl_error_set(err, TL_ETYPE, "%s: the results are not %lld values of type %s", a->name,
                      (long long)ng, a->type ? tl_type_name(a->type) : "any");
}

/* Copies the bytes a host saved for group g into hb[g]. */
static tl_status host_save(const tl_aggregate *a, void *run, int64_t g, uint8_t **hb, size_t *hl,
                           tl_error *err) {
  const void *bytes = NULL;
  size_t len = 0;
  TL_TRY(a->save(run, g, &bytes, &len, err));
  uint8_t *copy = tl_alloc(len ? len : 1);
  if (!copy) return tl_error_oom(err, a->name);
  if (len) memcpy(copy, bytes, len);
  tl_free(hb[g]);
  hb[g] = copy;
  hl[g] = len;
  return TL_OK;
}

/* The end of a host slot's scan: its results (direct) or its saved states. */
static tl_status host_done(agst *s, const tl_aggregate *a, void *run, int64_t ng, int direct,
                           tl_error *err) {
  if (direct) {
    TL_TRY(a->finish(run, ng, &s->done, err));
    return check_result(a, ng, &s->done, err);
  }
  if (!st_grow(s, ng)) return tl_error_oom(err, "agg");
  for (int64_t g = 0; g < ng; g++) TL_TRY(host_save(a, run, g, s->hb, s->hl, err));
  return TL_OK;
}

/* Hands rows [from, to) to run in batches, with the groups they belong to;
** marks the groups seen in mark[] and lists them in list[] (both optional). */
static tl_status host_scan(const tl_aggregate *a, void *run, const expr *e, tl_column *const *args,
                           const tl_rowgroups *rg, int64_t from, int64_t to, int64_t *rows,
                           int32_t *groups, uint8_t *mark, int32_t *list, int64_t *nlist,
                           tl_error *err) {
  for (int64_t start = from; start < to; start += AGG_BATCH) {
    int64_t stop = to - start < AGG_BATCH ? to : start + AGG_BATCH, m = 0;
    if (tl_interrupted()) return tl_error_interrupted(err, a->name);
    int checked = 0;
    for (int k = 0; k < e->nargs && !a->nulls; k++) checked |= args[k]->validity != NULL;
    if (!checked && !rg->gid && !rg->codes) {   /* every row, one group */
      for (int64_t i = start; i < stop; i++) { rows[m] = i; groups[m++] = 0; }
      if (mark && m && !mark[0]) { mark[0] = 1; list[(*nlist)++] = 0; }
    } else {
      for (int64_t i = start; i < stop; i++) {
        int ok = 1;
        for (int k = 0; k < e->nargs && ok && !a->nulls; k++)
          ok = !args[k]->validity || TL_BIT_GET(args[k]->validity, i);
        if (!ok) continue;
        int32_t g = row_group(rg, i);
        if (mark && !mark[g]) { mark[g] = 1; list[(*nlist)++] = g; }
        rows[m] = i;
        groups[m++] = g;
      }
    }
    if (m) {
      tl_agg_batch b = { m, rows, groups, e->nargs, args };
      TL_TRY(a->step(run, &b, err));
    }
  }
  return TL_OK;
}

/* The states one range of rows left: the groups it saw and their saved bytes. */
typedef struct hpart {
  int64_t n;
  int32_t *g;
  uint8_t **b;
  size_t *l;
} hpart;

typedef struct hjob {
  const tl_aggregate *a;
  const expr *e;
  tl_column *const *args;
  const tl_rowgroups *rg;
  int64_t R, nranges;
  hpart *parts;
  atomic_int failed;
} hjob;

static void hpart_clear(hpart *h) {
  for (int64_t i = 0; h->b && i < h->n; i++) tl_free(h->b[i]);
  tl_free(h->g); tl_free(h->b); tl_free(h->l);
  memset(h, 0, sizeof *h);
}

/* Range r of the job in a run of its own, whose states it saves into
** parts[r]. `worker` is the pool's worker, or -1 on the calling thread. */
static tl_status host_range(hjob *j, int64_t r, int worker, tl_error *err) {
  const tl_aggregate *a = j->a;
  int64_t ng = j->rg->ng, from = r * j->R;
  int64_t to = j->rg->t->nrows - from < j->R ? j->rg->t->nrows : from + j->R;
  hpart *h = &j->parts[r];
  int64_t *rows = tl_alloc(AGG_BATCH * sizeof *rows);
  int32_t *groups = tl_alloc(AGG_BATCH * sizeof *groups);
  uint8_t *mark = tl_calloc((size_t)ng + 1, 1);
  h->g = tl_alloc(((size_t)ng + 1) * sizeof *h->g);
  void *run = NULL;
  tl_status st = (rows && groups && mark && h->g) ? TL_OK : tl_error_oom(err, "agg");
  if (st == TL_OK)
    st = worker >= 0 ? a->begin_on(a->ud, worker, ng, &run, err) : a->begin(a->ud, ng, &run, err);
  int begun = st == TL_OK;
  if (begun && a->keys) a->keys(run, &j->rg->keys);
  if (st == TL_OK)
    st = host_scan(a, run, j->e, j->args, j->rg, from, to, rows, groups, mark, h->g, &h->n, err);
  if (st == TL_OK) {
    h->b = tl_calloc((size_t)h->n + 1, sizeof *h->b);
    h->l = tl_calloc((size_t)h->n + 1, sizeof *h->l);
    if (!h->b || !h->l) st = tl_error_oom(err, "agg");
  }
  for (int64_t i = 0; i < h->n && st == TL_OK; i++) {
    const void *bytes = NULL;
    size_t len = 0;
    st = a->save(run, h->g[i], &bytes, &len, err);
    if (st == TL_OK && !(h->b[i] = tl_alloc(len ? len : 1))) st = tl_error_oom(err, a->name);
    if (st == TL_OK) { if (len) memcpy(h->b[i], bytes, len); h->l[i] = len; }
  }
  if (begun) a->end(run);
  tl_free(rows);
  tl_free(groups);
  tl_free(mark);
  return st;
}

static void host_task(void *ctx, int64_t r, int worker) {
  hjob *j = ctx;
  tl_error err;
  if (atomic_load(&j->failed)) return;
  if (host_range(j, r, worker, &err) != TL_OK) atomic_store(&j->failed, 1);
}

/* The ranged scan of a host aggregate that merges: each range of R rows in
** a run of its own (on the worker threads when the host can fork), its
** states folded into one run in row order, so that no result depends on
** the thread count. Should a range fail on a worker, every range runs
** again on the calling thread: that run gives the error, with its place. */
static tl_status host_ranges(agst *s, const expr *e, tl_column *const *args,
                             const tl_rowgroups *rg, int direct, int64_t R, tl_error *err) {
  const tl_aggregate *a = e->custom;
  int64_t ng = rg->ng;
  hjob j = { .a = a, .e = e, .args = args, .rg = rg, .R = R };
  j.nranges = (rg->t->nrows + R - 1) / R;
  j.parts = tl_calloc((size_t)j.nranges, sizeof *j.parts);
  if (!j.parts) return tl_error_oom(err, "agg");
  tl_status st = TL_OK;
  int threads = tl_get_threads();   /* as many as tl_parallel_for will use */
  if (threads > j.nranges) threads = (int)j.nranges;
  int done = 0;   /* on the workers, without a failure */
  if (threads > 1 && a->fork && a->begin_on && a->join && a->fork(a->ud, threads)) {
    atomic_init(&j.failed, 0);
    tl_parallel_for(j.nranges, host_task, &j);
    a->join(a->ud);
    done = !atomic_load(&j.failed);
    for (int64_t r = 0; !done && r < j.nranges; r++) hpart_clear(&j.parts[r]);
  }
  for (int64_t r = 0; !done && r < j.nranges && st == TL_OK; r++)
    st = host_range(&j, r, -1, err);
  /* the fold, in row order */
  void *run = NULL;
  uint8_t *loaded = st == TL_OK ? tl_calloc((size_t)ng + 1, 1) : NULL;
  if (st == TL_OK && !loaded) st = tl_error_oom(err, "agg");
  if (st == TL_OK) st = a->begin(a->ud, ng, &run, err);
  int begun = st == TL_OK;
  if (begun && a->keys) a->keys(run, &rg->keys);
  for (int64_t r = 0; r < j.nranges && st == TL_OK; r++) {
    const hpart *h = &j.parts[r];
    for (int64_t i = 0; i < h->n && st == TL_OK; i++) {
      int32_t g = h->g[i];
      st = loaded[g] ? a->merge(run, g, h->b[i], h->l[i], err) : a->load(run, g, h->b[i], h->l[i], err);
      loaded[g] = 1;
    }
  }
  if (st == TL_OK) st = host_done(s, a, run, ng, direct, err);
  if (begun) a->end(run);
  for (int64_t r = 0; r < j.nranges; r++) hpart_clear(&j.parts[r]);
  tl_free(j.parts);
  tl_free(loaded);
  return st;
}

static tl_status host_make(agst *s, const expr *e, tl_column *const *args, const tl_rowgroups *rg,
                           int direct, tl_error *err) {
  const tl_aggregate *a = e->custom;
  const tl_table *t = rg->t;
  int64_t ng = rg->ng, R = tl_group_range_rows();
  while (R < 64 * ng) R *= 2;   /* a range's states, saved and merged, few next to its rows */
  if (has_merge(a) && t->nrows > R) return host_ranges(s, e, args, rg, direct, R, err);
  void *run = NULL;
  int64_t *rows = tl_alloc(AGG_BATCH * sizeof *rows);
  int32_t *groups = tl_alloc(AGG_BATCH * sizeof *groups);
  tl_status st = (rows && groups) ? TL_OK : tl_error_oom(err, "agg");
  if (st == TL_OK) st = a->begin(a->ud, ng, &run, err);
  int begun = st == TL_OK;
  if (begun && a->keys) a->keys(run, &rg->keys);
  if (st == TL_OK) st = host_scan(a, run, e, args, rg, 0, t->nrows, rows, groups, NULL, NULL, NULL, err);
  if (st == TL_OK) st = host_done(s, a, run, ng, direct, err);
  if (begun) a->end(run);
  tl_free(rows);
  tl_free(groups);
  return st;
}

/* A host state's results: a run that loads every group's bytes. */
static tl_status host_finish(const agst *s, const tl_agg_keys *keys, tl_column **out,
                             tl_error *err) {
  const tl_aggregate *a = s->host;
  void *run = NULL;
  TL_TRY(a->begin(a->ud, s->ng, &run, err));
  if (a->keys) a->keys(run, keys);
  tl_status st = TL_OK;
  for (int64_t g = 0; g < s->ng && st == TL_OK; g++) st = a->load(run, g, s->hb[g], s->hl[g], err);
  if (st == TL_OK) st = a->finish(run, s->ng, out, err);
  if (st == TL_OK) st = check_result(a, s->ng, out, err);
  a->end(run);
  return st;
}

/* Folds fr's host states into in's (which has room for ng groups, of which
** the first `old` are in's own): load in's, then load or merge fr's, then
** save them all. */
static tl_status host_merge(agst *in, const agst *fr, const int64_t *map, int64_t old,
                            const tl_agg_keys *keys, tl_error *err) {
  const tl_aggregate *a = in->host;
  int64_t ng = in->ng;
  uint8_t **hb = tl_calloc((size_t)ng + 1, sizeof *hb);
  size_t *hl = tl_calloc((size_t)ng + 1, sizeof *hl);
  uint8_t *loaded = tl_calloc((size_t)ng + 1, 1);
  void *run = NULL;
  tl_status st = (hb && hl && loaded) ? TL_OK : tl_error_oom(err, "partial");
  if (st == TL_OK) st = a->begin(a->ud, ng, &run, err);
  int begun = st == TL_OK;
  if (begun && a->keys) a->keys(run, keys);
  for (int64_t g = 0; g < old && st == TL_OK; g++) {
    st = a->load(run, g, in->hb[g], in->hl[g], err);
    loaded[g] = 1;
  }
  for (int64_t g = 0; g < fr->ng && st == TL_OK; g++) {
    int64_t G = map[g];
    st = loaded[G] ? a->merge(run, G, fr->hb[g], fr->hl[g], err)
                   : a->load(run, G, fr->hb[g], fr->hl[g], err);
    loaded[G] = 1;
  }
  for (int64_t g = 0; g < ng && st == TL_OK; g++) st = host_save(a, run, g, hb, hl, err);
  if (begun) a->end(run);
  if (st == TL_OK) {   /* the new states replace the old */
    for (int64_t g = 0; g < ng; g++) tl_free(in->hb[g]);
    tl_free(in->hb);
    tl_free(in->hl);
    in->hb = hb;
    in->hl = hl;
  } else {
    for (int64_t g = 0; hb && g < ng; g++) tl_free(hb[g]);
    tl_free(hb);
    tl_free(hl);
  }
  tl_free(loaded);
  return st;
}

/* ---------------------------------------------------------------------------
** Making and finishing
*/

/* The argument columns of slot s: args[k] for host slots, args[0] for
** built-ins (count() has none). A bare null is an all-null int column. */
static tl_status slot_args(const expr *a, const tl_table *t, tl_column **args, tl_error *err) {
  int n = a->fn == AGG_CUSTOM ? a->nargs : (a->nargs > 0 ? 1 : 0);
  for (int k = 0; k < n; k++) {
    const expr *x = a->args[k];
    if (x->kind == E_COL) { args[k] = tl_column_retain(t->cols[x->col]); continue; }
    TL_TRY(tl_expr_column((expr *)x, t->cols, NULL, t->nrows, "agg", &args[k], err));
    if (!x->type && a->fn != AGG_CUSTOM) {
      tl_column_release(args[k]);
      args[k] = NULL;
      TL_TRY(tl_column_alloc(TL_INT, t->nrows, 1, 0, &args[k], err));
      memset(args[k]->validity, 0, TL_BITMAP_BYTES(t->nrows));
      tl_column_seal(args[k]);
    }
  }
  return TL_OK;
}

tl_status tl_partial_make(const tl_rowgroups *rg, int n, const char *const *defs,
                          const tl_scope *scope, int direct, tl_partial **out,
                          tl_error *err) {
  tl_partial *p = tl_calloc(1, sizeof *p);
  if (!p) return tl_error_oom(err, "agg");
  p->direct = direct;
  p->ng = rg->ng;
  tl_status st = bind_defs(p, n, defs, rg->t, scope, err);
  if (st != TL_OK) { tl_partial_free(p); return st; }
  for (int s = 0; s < p->nslots && st == TL_OK && !direct; s++)
    if (p->st[s]->host && !has_merge(p->st[s]->host)) st = no_merge(p->st[s]->host, err);
  if (st == TL_OK) st = make_schema(p, rg->t, err);
  tl_column ***args = tl_calloc((size_t)p->nslots + 1, sizeof *args);
  tl_column **x = tl_calloc((size_t)p->nslots + 1, sizeof *x);
  if (st == TL_OK && (!args || !x)) st = tl_error_oom(err, "agg");
  for (int s = 0; s < p->nslots && st == TL_OK; s++) {
    expr *a = slot_expr(p, s, NULL);
    if (!(args[s] = tl_calloc((size_t)a->nargs + 1, sizeof **args))) st = tl_error_oom(err, "agg");
    else st = slot_args(a, rg->t, args[s], err);
    if (a->fn != AGG_CUSTOM && args[s]) x[s] = args[s][0];
  }
  if (st == TL_OK) st = scan_all(p, rg, x, err);
  for (int s = 0; s < p->nslots && st == TL_OK; s++) {
    const char *src;
    expr *a = slot_expr(p, s, &src);
    if (a->fn == AGG_CUSTOM) st = host_error(host_make(p->st[s], a, args[s], rg, direct, err), src, err);
  }
  for (int s = 0; args && s < p->nslots; s++) {
    expr *a = slot_expr(p, s, NULL);
    for (int k = 0; args[s] && k < a->nargs; k++) tl_column_release(args[s][k]);
    tl_free(args[s]);
  }
  tl_free(args);
  tl_free(x);
  if (st != TL_OK) { tl_partial_free(p); return st; }
  *out = p;
  return TL_OK;
}

tl_status tl_partial_finish_ex(tl_partial *p, int consume, tl_table **out, tl_error *err) {
  tl_table *cur = NULL;
  tl_status st = p->keys ? (cur = tl_table_retain(p->keys), TL_OK)
                         : tl_table_new(0, NULL, NULL, &cur, err);
  if (st != TL_OK) return st;
  tl_agg_keys keys = { 0, NULL, NULL, NULL };
  if (p->keys) {
    keys.nkeys = p->keys->ncol;
    keys.names = (const char *const *)p->keys->names;
    keys.cols = p->keys->cols;
  }
  for (int k = 0; k < p->ndefs && st == TL_OK; k++) {
    int na = p->naggs[k];
    tl_column **slots = tl_calloc((size_t)na + 1, sizeof *slots), *c = NULL;
    if (!slots) st = tl_error_oom(err, "agg");
    for (int s = 0; s < na && st == TL_OK; s++) {
      agst *a = p->st[p->first[k] + s];
      if (a->host && !a->done) st = host_error(host_finish(a, &keys, &slots[s], err), p->defs[k], err);
      else st = st_finish(a, consume, p->defs[k], &keys, &slots[s], err);
    }
    if (st == TL_OK) {
      if (p->e[k]->kind == E_AGG) c = tl_column_retain(slots[0]);
      else st = tl_expr_column(p->e[k], NULL, slots, p->ng, "agg", &c, err);
    }
    tl_table *next = NULL;
    if (st == TL_OK) st = tl_table_set_column(cur, p->names[k], c, &next, err);
    if (st == TL_OK) { tl_table_release(cur); cur = next; }
    tl_column_release(c);
    for (int s = 0; slots && s < na; s++) tl_column_release(slots[s]);
    tl_free(slots);
  }
  if (st != TL_OK) { tl_table_release(cur); return st; }
  *out = cur;
  return TL_OK;
}

tl_status tl_partial_finish(const tl_partial *p, tl_table **out, tl_error *err) {
  return tl_partial_finish_ex((tl_partial *)p, 0, out, err);
}

/* ---------------------------------------------------------------------------
** Merging partials: groups matched by their keys.
*/

/* The hash of row i's key value, by content (a dictionary's codes are not
** comparable across columns). */
static uint64_t key_hash(const tl_column *c, int64_t i, uint64_t h) {
  if (c->validity && !TL_BIT_GET(c->validity, i)) return mix64(h ^ 0x6e756c6cULL);
  dent e;
  dent_of(c, i, 0, &e);
  return mix64(h ^ (e.hv + 0x9e3779b97f4a7c15ULL + (h << 6)));
}

/* 1 when row i of a and row j of b hold the same key (nulls equal nulls,
** NaN equals NaN). */
static int key_same(const tl_column *a, int64_t i, const tl_column *b, int64_t j) {
  int ni = a->validity && !TL_BIT_GET(a->validity, i);
  int nj = b->validity && !TL_BIT_GET(b->validity, j);
  if (ni || nj) return ni == nj;
  return tl_column_compare_values(a, i, b, j) == 0;
}

static int row_same(const tl_table *a, int64_t i, const tl_table *b, int64_t j) {
  for (int k = 0; k < a->ncol; k++)
    if (!key_same(a->cols[k], i, b->cols[k], j)) return 0;
  return 1;
}

static uint64_t row_hash(const tl_table *t, int64_t i) {
  uint64_t h = 0x2545f4914f6cdd1dULL;
  for (int k = 0; k < t->ncol; k++) h = key_hash(t->cols[k], i, h);
  return h;
}

/* map[g]: the group of `in` that group g of `fr` folds into; fr's groups
** that in lacks get new ones, after in's, in fr's order (listed in *add). */
static tl_status key_map(const tl_partial *in, const tl_partial *fr, int64_t *map,
                         int64_t *add, int64_t *nadd, tl_error *err) {
  *nadd = 0;
  if (!in->keys) {   /* the whole table: one group each */
    map[0] = 0;
    return TL_OK;
  }
  int64_t total = in->ng + fr->ng, cap = 16;
  while (cap < 2 * total) cap *= 2;
  int64_t *slot = tl_calloc((size_t)cap, sizeof *slot);   /* in's g + 1, or -(fr's g + 1) */
  if (!slot) return tl_error_oom(err, "partial");
  uint64_t mask = (uint64_t)cap - 1;
  for (int64_t g = 0; g < in->ng; g++) {
    uint64_t p = row_hash(in->keys, g) & mask;
    while (slot[p]) p = (p + 1) & mask;
    slot[p] = g + 1;
  }
  for (int64_t g = 0; g < fr->ng; g++) {
    uint64_t p = row_hash(fr->keys, g) & mask;
    int64_t found = -1;
    for (; slot[p]; p = (p + 1) & mask) {
      int64_t s = slot[p];
      if (s > 0 ? row_same(in->keys, s - 1, fr->keys, g) : row_same(fr->keys, -s - 1, fr->keys, g)) {
        found = s > 0 ? s - 1 : map[-s - 1];
        break;
      }
    }
    if (found < 0) {
      found = in->ng + *nadd;
      add[(*nadd)++] = g;
      slot[p] = -(g + 1);
    }
    map[g] = found;
  }
  tl_free(slot);
  return TL_OK;
}

static int same_schema(const tl_table *a, const tl_table *b) {
  if (!a || !b) return a == b;
  if (a->ncol != b->ncol) return 0;
  for (int j = 0; j < a->ncol; j++)
    if (strcmp(a->names[j], b->names[j]) != 0 || a->cols[j]->type != b->cols[j]->type) return 0;
  return 1;
}

static tl_status compatible(const tl_partial *a, const tl_partial *b, tl_error *err) {
  if (a == b) return tl_error_set(err, TL_EINVAL, "partial: cannot merge a partial into itself");
  if (a->direct || b->direct)
    return tl_error_set(err, TL_EINVAL, "partial: a partial made for one result cannot be merged");
  if (a->ndefs != b->ndefs)
    return tl_error_set(err, TL_EINVAL, "partial: cannot merge partials of %d and %d definitions",
                        a->ndefs, b->ndefs);
  for (int k = 0; k < a->ndefs; k++)
    if (strcmp(a->defs[k], b->defs[k]) != 0)
      return tl_error_set(err, TL_EINVAL,
                          "partial: cannot merge partials of different definitions (\"%s\" and "
                          "\"%s\")", a->defs[k], b->defs[k]);
  if (!same_schema(a->keys, b->keys))
    return tl_error_set(err, TL_EINVAL, "partial: cannot merge partials grouped by different keys");
  if (!same_schema(a->schema, b->schema))
    return tl_error_set(err, TL_EINVAL,
                        "partial: cannot merge partials made from columns of different types");
  for (int s = 0; s < a->nslots; s++) {
    const agst *x = a->st[s], *y = b->st[s];
    if (x->fn != y->fn || x->xt != y->xt || !x->host != !y->host ||
        (x->host && strcmp(x->host->name, y->host->name) != 0))
      return tl_error_set(err, TL_EINVAL, "partial: cannot merge partials of different aggregates");
  }
  return TL_OK;
}

tl_status tl_partial_merge(tl_partial *into, const tl_partial *from, tl_error *err) {
  TL_TRY(compatible(into, from, err));
  int64_t *map = tl_alloc(((size_t)from->ng + 1) * sizeof *map);
  int64_t *add = tl_alloc(((size_t)from->ng + 1) * sizeof *add), nadd = 0;
  tl_table *keys = NULL, *more = NULL;
  tl_status st = (map && add) ? TL_OK : tl_error_oom(err, "partial");
  if (st == TL_OK) st = key_map(into, from, map, add, &nadd, err);
  if (st == TL_OK && nadd) {   /* the keys of the new groups, after into's */
    st = tl_table_take(from->keys, add, nadd, &more, err);
    const tl_table *both[2] = { into->keys, more };
    if (st == TL_OK) st = tl_table_concat(2, both, &keys, err);
  } else if (st == TL_OK) {
    keys = tl_table_retain(into->keys);
  }
  int64_t old = into->ng, ng = into->ng + nadd;
  for (int s = 0; s < into->nslots && st == TL_OK; s++)
    if (!st_grow(into->st[s], ng)) st = tl_error_oom(err, "partial");
  tl_agg_keys kt = { 0, NULL, NULL, NULL };
  if (keys) {
    kt.nkeys = keys->ncol;
    kt.names = (const char *const *)keys->names;
    kt.cols = keys->cols;
  }
  for (int s = 0; s < into->nslots && st == TL_OK; s++) {
    agst *a = into->st[s];
    const char *src;
    slot_expr(into, s, &src);
    if (a->host) st = host_error(host_merge(a, from->st[s], map, old, &kt, err), src, err);
    else st = st_merge(a, from->st[s], map, "partial", err);
  }
  if (st == TL_OK) {
    tl_table_release(into->keys);
    into->keys = keys;
    into->ng = ng;
    keys = NULL;
  }
  tl_table_release(keys);
  tl_table_release(more);
  tl_free(map);
  tl_free(add);
  return st;
}

/* ---------------------------------------------------------------------------
** Encoding: little-endian, whatever the machine.
**
**   "TLPS" u32 version
**   u32 ndefs, each a string (u32 length, bytes)
**   u32 ncols, each name and u8 type: the columns the definitions read
**   u32 nkeys, each name and u8 type; i64 groups
**   per key column, per group: u8 valid, then the value
**   u32 nslots, each u8 kind, u8 argument type, u8 layout, then its states
**   u64 XXH3 of everything before it
**
** A value: bool u8, int and timestamp i64, float the bits of the double as
** u64, date i32, string u64 length and bytes.
*/
#define MAGIC "TLPS"
#define VERSION 1

typedef struct wbuf { uint8_t *p; size_t n, cap; int oom; } wbuf;

static void w_raw(wbuf *w, const void *s, size_t n) {
  if (w->oom) return;
  if (n > w->cap - w->n) {
    size_t cap = w->cap ? w->cap : 256;
    while (cap - w->n < n) {
      if (cap > SIZE_MAX / 2) { w->oom = 1; return; }
      cap *= 2;
    }
    uint8_t *np = tl_realloc(w->p, cap);
    if (!np) { w->oom = 1; return; }
    w->p = np;
    w->cap = cap;
  }
  if (n) memcpy(w->p + w->n, s, n);
  w->n += n;
}

static void w_u64(wbuf *w, uint64_t v) {
  uint8_t b[8];
  for (int k = 0; k < 8; k++) b[k] = (uint8_t)(v >> (8 * k));
  w_raw(w, b, 8);
}

static void w_u32(wbuf *w, uint32_t v) {
  uint8_t b[4];
  for (int k = 0; k < 4; k++) b[k] = (uint8_t)(v >> (8 * k));
  w_raw(w, b, 4);
}

static void w_u8(wbuf *w, unsigned v) { uint8_t b = (uint8_t)v; w_raw(w, &b, 1); }
static void w_i64(wbuf *w, int64_t v) { w_u64(w, (uint64_t)v); }
static void w_f64(wbuf *w, double d) { uint64_t v; memcpy(&v, &d, 8); w_u64(w, v); }
static void w_name(wbuf *w, const char *s) { size_t n = strlen(s); w_u32(w, (uint32_t)n); w_raw(w, s, n); }

/* A value of type t: iv for int-like types, dv for floats, (s, len) for strings. */
static void w_value(wbuf *w, tl_type t, int64_t iv, double dv, const char *s, int64_t len) {
  switch (t) {
    case TL_BOOL: w_u8(w, iv != 0); break;
    case TL_FLOAT: w_f64(w, dv); break;
    case TL_DATE: w_u32(w, (uint32_t)(int32_t)iv); break;
    case TL_STRING: w_u64(w, (uint64_t)len); w_raw(w, s, (size_t)len); break;
    default: w_i64(w, iv);
  }
}

static void w_dent(wbuf *w, tl_type t, const dent *e) {
  double d;
  memcpy(&d, &e->v.i, 8);
  w_value(w, t, e->v.i, d, e->v.s, e->len);
}

static void w_cell(wbuf *w, const tl_column *c, int64_t i) {
  tl_scalar v;
  tl_column_get(c, i, &v);
  w_u8(w, !v.is_null);
  if (v.is_null) return;
  int64_t iv = v.type == TL_DATE ? v.v.d : v.type == TL_BOOL ? v.v.b : v.v.i;
  w_value(w, v.type, iv, v.v.f, v.v.s.ptr, (int64_t)v.v.s.len);
}

static void w_table_schema(wbuf *w, const tl_table *t) {
  w_u32(w, t ? (uint32_t)t->ncol : 0);
  for (int j = 0; t && j < t->ncol; j++) { w_name(w, t->names[j]); w_u8(w, t->cols[j]->type); }
}

static void w_state(wbuf *w, const agst *s) {
  int64_t ng = s->ng;
  w_u8(w, (unsigned)s->fn);
  w_u8(w, (unsigned)s->xt);
  w_u8(w, (unsigned)(is_quant(s->fn) && s->mode == Q_HIST));
  switch (s->fn) {
    case AGG_COUNT:
      for (int64_t g = 0; g < ng; g++) w_i64(w, s->cnt[g]);
      return;
    case AGG_SUM: case AGG_MEAN: case AGG_VAR: case AGG_STDDEV:
      for (int64_t g = 0; g < ng; g++) w_i64(w, s->cnt[g]);
      if (s->is) {
        for (int64_t g = 0; g < ng; g++) {
          w_u64(w, (uint64_t)s->is[g]);
          w_u64(w, (uint64_t)(s->is[g] >> 64));
        }
      } else {
        for (int64_t g = 0; g < ng; g++) w_f64(w, s->f1[g]);
        for (int64_t g = 0; g < ng; g++) w_f64(w, s->f2[g]);
      }
      return;
    case AGG_MEDIAN: case AGG_QUANTILE:
      for (int64_t g = 0; g < ng; g++) {
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
      return;
    case AGG_COUNT_DISTINCT:
      for (int64_t g = 0; g < ng; g++) w_i64(w, s->cnt[g]);
      if (s->mode == D_CODES) {
        for (int64_t g = 0; g < ng; g++)
          for (int64_t k = 0; k < s->stride; k++)
            for (uint64_t m = s->bits[g * s->stride + k]; m; m &= m - 1) {
              dent e;
              dent_of(s->dict, k * 64 + __builtin_ctzll(m), g, &e);
              w_dent(w, s->xt, &e);
            }
      } else {   /* the entries by group: a counting sort of their indexes */
        int64_t *at = tl_calloc((size_t)ng + 2, sizeof *at), *ord = tl_alloc(((size_t)s->dn + 1) * sizeof *ord);
        if (!at || !ord) { tl_free(at); tl_free(ord); w->oom = 1; return; }
        for (int64_t k = 0; k < s->dn; k++) at[s->de[k].g + 1]++;
        for (int64_t g = 0; g < ng; g++) at[g + 1] += at[g];
        for (int64_t k = 0; k < s->dn; k++) ord[at[s->de[k].g]++] = k;
        for (int64_t k = 0; k < s->dn; k++) w_dent(w, s->xt, &s->de[ord[k]]);
        tl_free(at);
        tl_free(ord);
      }
      return;
    case AGG_CUSTOM:
      for (int64_t g = 0; g < ng; g++) { w_u64(w, s->hl[g]); w_raw(w, s->hb[g], s->hl[g]); }
      return;
    default:
      for (int64_t g = 0; g < ng; g++) {
        w_u8(w, s->has[g]);
        if (!s->has[g]) continue;
        w_value(w, s->xt, s->iv ? s->iv[g] : 0, s->dv ? s->dv[g] : 0, s->sp ? s->sp[g] : NULL,
                s->sl ? s->sl[g] : 0);
      }
  }
}

tl_status tl_partial_encode(const tl_partial *p, void **buf, size_t *len, tl_error *err) {
  if (p->direct)
    return tl_error_set(err, TL_EINVAL, "partial: a partial made for one result cannot be encoded");
  wbuf w = { NULL, 0, 0, 0 };
  w_raw(&w, MAGIC, 4);
  w_u32(&w, VERSION);
  w_u32(&w, (uint32_t)p->ndefs);
  for (int k = 0; k < p->ndefs; k++) w_name(&w, p->defs[k]);
  w_table_schema(&w, p->schema);
  w_table_schema(&w, p->keys);
  w_i64(&w, p->ng);
  for (int j = 0; p->keys && j < p->keys->ncol; j++)
    for (int64_t g = 0; g < p->ng; g++) w_cell(&w, p->keys->cols[j], g);
  w_u32(&w, (uint32_t)p->nslots);
  for (int s = 0; s < p->nslots; s++) w_state(&w, p->st[s]);
  if (!w.oom) w_u64(&w, XXH3_64bits(w.p, w.n));
  if (w.oom) { tl_free(w.p); return tl_error_oom(err, "partial"); }
  *buf = w.p;
  *len = w.n;
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Decoding: every length is checked against what is left of the buffer
** before anything is allocated for it.
*/
typedef struct rbuf {
  const uint8_t *p;
  size_t n, at;
  const char *bad;        /* what is wrong, or NULL */
} rbuf;

static int r_need(rbuf *r, uint64_t n) {
  if (r->bad) return 0;
  if (n > r->n - r->at) { r->bad = "truncated"; return 0; }
  return 1;
}

static uint64_t r_u64(rbuf *r) {
  if (!r_need(r, 8)) return 0;
  uint64_t v = 0;
  for (int k = 0; k < 8; k++) v |= (uint64_t)r->p[r->at + k] << (8 * k);
  r->at += 8;
  return v;
}

static uint32_t r_u32(rbuf *r) {
  if (!r_need(r, 4)) return 0;
  uint32_t v = 0;
  for (int k = 0; k < 4; k++) v |= (uint32_t)r->p[r->at + k] << (8 * k);
  r->at += 4;
  return v;
}

static unsigned r_u8(rbuf *r) { return r_need(r, 1) ? r->p[r->at++] : 0; }
static int64_t r_i64(rbuf *r) { return (int64_t)r_u64(r); }
static double r_f64(rbuf *r) { uint64_t v = r_u64(r); double d; memcpy(&d, &v, 8); return d; }

/* A count of items of at least `size` bytes each that must fit in the rest. */
static int64_t r_count(rbuf *r, int64_t n, int64_t size) {
  if (r->bad) return 0;
  if (n < 0 || (size && (uint64_t)n > (r->n - r->at) / (uint64_t)size)) { r->bad = "bad count"; return 0; }
  return n;
}

/* Bytes in the buffer (their place in it: strings point into the copy). */
static const uint8_t *r_bytes(rbuf *r, uint64_t n) {
  if (!r_need(r, n)) return NULL;
  const uint8_t *s = r->p + r->at;
  r->at += n;
  return s;
}

/* A tl_alloc'd NUL-terminated name (NULL when bad). */
static char *r_name(rbuf *r) {
  uint32_t n = r_u32(r);
  const uint8_t *s = r_bytes(r, n);
  if (!s) return NULL;
  if (memchr(s, 0, n)) { r->bad = "a name holds a NUL"; return NULL; }
  char *d = tl_strndup((const char *)s, n);
  if (!d) r->bad = "out of memory";
  return d;
}

static int valid_type(unsigned t) { return t >= TL_BOOL && t <= TL_TIMESTAMP; }

/* A value of type t: into iv, dv or (s, len). */
static void r_value(rbuf *r, tl_type t, int64_t *iv, double *dv, const char **s, int64_t *len) {
  switch (t) {
    case TL_BOOL: { unsigned b = r_u8(r); if (b > 1) r->bad = "bad bool"; *iv = b; break; }
    case TL_FLOAT: *dv = r_f64(r); break;
    case TL_DATE: *iv = (int32_t)r_u32(r); break;
    case TL_STRING: {
      uint64_t n = r_u64(r);
      *s = (const char *)r_bytes(r, n);
      *len = (int64_t)n;
      break;
    }
    default: *iv = r_i64(r);
  }
}

/* Names and types: a schema or the keys. */
static void r_schema(rbuf *r, int *n, char ***names, tl_type **types) {
  uint32_t m = r_u32(r);
  *n = (int)r_count(r, m > INT32_MAX / 2 ? -1 : (int64_t)m, 5);
  *names = tl_calloc((size_t)*n + 1, sizeof **names);
  *types = tl_calloc((size_t)*n + 1, sizeof **types);
  if (!*names || !*types) { r->bad = "out of memory"; return; }
  for (int j = 0; j < *n && !r->bad; j++) {
    (*names)[j] = r_name(r);
    unsigned t = r_u8(r);
    if (!r->bad && !valid_type(t)) r->bad = "bad type";
    (*types)[j] = (tl_type)t;
  }
}

static void free_names(int n, char **names) {
  for (int j = 0; names && j < n; j++) tl_free(names[j]);
  tl_free(names);
}

/* Key column j: ng cells of type t. */
static tl_status r_keycol(rbuf *r, tl_type t, int64_t ng, tl_column **out, tl_error *err) {
  tl_builder *b;
  TL_TRY(tl_builder_new(t, ng, &b, err));
  tl_status st = TL_OK;
  for (int64_t g = 0; g < ng && st == TL_OK && !r->bad; g++) {
    unsigned valid = r_u8(r);
    if (valid > 1) r->bad = "bad validity";
    if (r->bad) break;
    if (!valid) { st = tl_builder_append_null(b, err); continue; }
    int64_t iv = 0, len = 0;
    double dv = 0;
    const char *s = NULL;
    r_value(r, t, &iv, &dv, &s, &len);
    if (r->bad) break;
    switch (t) {
      case TL_BOOL: st = tl_builder_append_bool(b, (int)iv, err); break;
      case TL_FLOAT: st = tl_builder_append_float(b, dv, err); break;
      case TL_DATE: st = tl_builder_append_date(b, (int32_t)iv, err); break;
      case TL_TIMESTAMP: st = tl_builder_append_timestamp(b, iv, err); break;
      case TL_STRING: st = tl_builder_append_string(b, s, (size_t)len, err); break;
      default: st = tl_builder_append_int(b, iv, err);
    }
  }
  if (st != TL_OK || r->bad) { tl_builder_free(b); return st; }
  return tl_builder_finish(b, out, err);
}

/* Slot s's states (the state already has the slot's kind and type), with
** strings pointing into `blob`, a copy of the buffer. */
static int r_state(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  unsigned hist = r_u8(r);
  if (r->bad) return 1;
  if (hist > 1 || (hist && (!is_quant(s->fn) || s->xt != TL_INT))) { r->bad = "bad layout"; return 1; }
  size_t start = r->at;
  if (hist) {   /* the bounds of the buckets first, to lay the counts out */
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
    if (r->bad) return 1;
    if (lo > hi) lo = hi = 0;
    if (hi - lo >= 65536 || (hi - lo + 1) * (ng ? ng : 1) > HIST_BUDGET) { r->bad = "bad histogram"; return 1; }
    set_hist(s, lo, hi - lo + 1);
    r->at = start;
  }
  if (!st_grow(s, ng)) return 0;
  if ((s->xt == TL_STRING || s->fn == AGG_COUNT_DISTINCT) && !st_keep(s, blob)) return 0;
  const char *base = (const char *)r->p;
  const char *arena = blob->bytes;
  switch (s->fn) {
    case AGG_COUNT:
      for (int64_t g = 0; g < ng && !r->bad; g++) {
        s->cnt[g] = r_i64(r);
        if (s->cnt[g] < 0) r->bad = "bad count";
      }
      return 1;
    case AGG_SUM: case AGG_MEAN: case AGG_VAR: case AGG_STDDEV:
      for (int64_t g = 0; g < ng && !r->bad; g++) {
        s->cnt[g] = r_i64(r);
        if (s->cnt[g] < 0) r->bad = "bad count";
      }
      if (s->is) {
        for (int64_t g = 0; g < ng && !r->bad; g++) {
          uint64_t lo = r_u64(r), hi = r_u64(r);
          s->is[g] = (tl_i128)(((unsigned __int128)hi << 64) | lo);
        }
      } else {
        for (int64_t g = 0; g < ng && !r->bad; g++) s->f1[g] = r_f64(r);
        for (int64_t g = 0; g < ng && !r->bad; g++) s->f2[g] = r_f64(r);
      }
      return 1;
    case AGG_MEDIAN: case AGG_QUANTILE:
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
    case AGG_COUNT_DISTINCT: {
      int64_t *want = tl_alloc(((size_t)ng + 1) * sizeof *want);
      if (!want) return 0;
      int64_t total = 0;
      for (int64_t g = 0; g < ng && !r->bad; g++) {
        want[g] = r_count(r, r_i64(r), 1);
        total += want[g];
      }
      r_count(r, total, 1);
      for (int64_t g = 0; g < ng && !r->bad; g++) {
        for (int64_t k = 0; k < want[g] && !r->bad; k++) {
          int64_t iv = 0, len = 0;
          double dv = 0;
          const char *str = NULL;
          r_value(r, s->xt, &iv, &dv, &str, &len);
          if (r->bad) break;
          dent e = { 0, g, { 0 }, 0 };
          if (s->xt == TL_STRING) {
            e.v.s = arena + (str - base);
            e.len = len;
            e.hv = XXH3_64bits(e.v.s, (size_t)len);
          } else {
            e.v.i = s->xt == TL_FLOAT ? float_bits(dv) : iv;
            e.hv = hash_bits(e.v.i);
          }
          if (dset_add(s, &e) < 0) { tl_free(want); return 0; }
        }
      }
      tl_free(want);
      return 1;
    }
    case AGG_CUSTOM:
      for (int64_t g = 0; g < ng && !r->bad; g++) {
        uint64_t n = r_u64(r);
        const uint8_t *b = r_bytes(r, n);
        if (!b) break;
        if (!(s->hb[g] = tl_alloc(n ? n : 1))) return 0;
        memcpy(s->hb[g], b, n);
        s->hl[g] = n;
      }
      return 1;
    default:
      for (int64_t g = 0; g < ng && !r->bad; g++) {
        unsigned has = r_u8(r);
        if (has > 1) r->bad = "bad flag";
        if (r->bad || !has) continue;
        int64_t iv = 0, len = 0;
        double dv = 0;
        const char *str = NULL;
        r_value(r, s->xt, &iv, &dv, &str, &len);
        if (r->bad) break;
        s->has[g] = 1;
        if (s->xt == TL_FLOAT) s->dv[g] = dv;
        else if (s->xt == TL_STRING) { s->sp[g] = arena + (str - base); s->sl[g] = len; }
        else s->iv[g] = iv;
      }
      return 1;
  }
}

static tl_status damaged(const char *what, tl_error *err) {
  return tl_error_set(err, TL_EPARSE, "partial: damaged buffer (%s)", what);
}

tl_status tl_partial_decode(const void *buf, size_t len, const tl_scope *scope, tl_partial **out,
                            tl_error *err) {
  rbuf r = { buf, len, 0, NULL };
  if (len < 16 || memcmp(buf, MAGIC, 4) != 0)
    return tl_error_set(err, TL_EPARSE, "partial: not a partial state (bad magic)");
  r.at = 4;
  uint32_t version = r_u32(&r);
  if (version != VERSION)
    return tl_error_set(err, TL_EPARSE, "partial: format version %u is not supported (this "
                        "library reads version %d)", version, VERSION);
  r.n = len - 8;
  rbuf tail = { buf, len, len - 8, NULL };
  if (r_u64(&tail) != XXH3_64bits(buf, len - 8)) return damaged("checksum", err);

  tl_partial *p = tl_calloc(1, sizeof *p);
  if (!p) return tl_error_oom(err, "partial");
  char **defs = NULL, **snames = NULL, **knames = NULL;
  tl_type *stypes = NULL, *ktypes = NULL;
  int ndefs = 0, ns = 0, nk = 0;
  tl_column *blob = NULL, **kcols = NULL;
  tl_status st = TL_OK;
  {
    uint32_t m = r_u32(&r);
    ndefs = (int)r_count(&r, m > INT32_MAX / 2 ? -1 : (int64_t)m, 4);
    if (!(defs = tl_calloc((size_t)ndefs + 1, sizeof *defs))) r.bad = "out of memory";
    for (int k = 0; k < ndefs && !r.bad; k++) defs[k] = r_name(&r);
    r_schema(&r, &ns, &snames, &stypes);
    r_schema(&r, &nk, &knames, &ktypes);
    p->ng = r_i64(&r);
    if (!r.bad && (p->ng < 0 || (nk == 0 && p->ng != 1) || (nk > 0 && r_count(&r, p->ng, nk) != p->ng)))
      r.bad = "bad group count";
  }
  if (st == TL_OK && !r.bad && nk > 0) {
    if (!(kcols = tl_calloc((size_t)nk + 1, sizeof *kcols))) st = tl_error_oom(err, "partial");
    for (int j = 0; j < nk && st == TL_OK && !r.bad; j++) st = r_keycol(&r, ktypes[j], p->ng, &kcols[j], err);
    if (st == TL_OK && !r.bad) {
      tl_status ts = tl_table_new(nk, (const char *const *)knames, kcols, &p->keys, err);
      if (ts == TL_ENOMEM) st = ts;
      else if (ts != TL_OK) r.bad = "bad key names";
    }
  }
  if (st == TL_OK && !r.bad) {
    tl_status ts = schema_of((const char **)snames, stypes, ns, &p->schema, err);
    if (ts == TL_ENOMEM) st = ts;
    else if (ts != TL_OK) r.bad = "bad column names";
  }
  if (st == TL_OK && !r.bad) {   /* the definitions, bound again */
    int64_t ng = p->ng;
    st = bind_defs(p, ndefs, (const char *const *)defs, p->schema, scope, err);
    p->ng = ng;
  }
  if (st == TL_OK && !r.bad) {
    uint32_t m = r_u32(&r);
    if (!r.bad && m != (uint32_t)p->nslots) r.bad = "the aggregates do not match the definitions";
  }
  if (st == TL_OK && !r.bad) {
    st = tl_column_alloc(TL_STRING, 0, 0, (int64_t)len, &blob, err);
    if (st == TL_OK) memcpy(blob->bytes, buf, len);
  }
  for (int s = 0; s < p->nslots && st == TL_OK && !r.bad; s++) {
    agst *a = p->st[s];
    unsigned fn = r_u8(&r), xt = r_u8(&r);
    if (r.bad) break;
    if ((int)fn != a->fn || (tl_type)xt != a->xt) { r.bad = "the aggregates do not match the definitions"; break; }
    if (a->host && !has_merge(a->host)) { st = no_merge(a->host, err); break; }
    if (!r_state(&r, a, p->ng, blob)) st = tl_error_oom(err, "partial");
  }
  if (st == TL_OK && !r.bad && r.at != r.n) r.bad = "bytes after the end";
  if (st == TL_OK && r.bad)
    st = strcmp(r.bad, "out of memory") == 0 ? tl_error_oom(err, "partial") : damaged(r.bad, err);
  tl_column_release(blob);
  for (int j = 0; kcols && j < nk; j++) tl_column_release(kcols[j]);
  tl_free(kcols);
  free_names(ndefs, defs);
  free_names(ns, snames);
  free_names(nk, knames);
  tl_free(stypes);
  tl_free(ktypes);
  if (st != TL_OK) { tl_partial_free(p); return st; }
  *out = p;
  return TL_OK;
}
