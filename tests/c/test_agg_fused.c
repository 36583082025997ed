/*
** test_agg_fused.c -- the aggregates of one group that share one pass over
** their column (core/agg/fused.c): sum, mean, count, min and max of int,
** float, date and timestamp columns, at several lengths (around the blocks
** of 64 rows and the lanes), range sizes and thread counts.
**
**   - float sums against the exact sum (Shewchuk's partials, rounded once):
**     1e16 and many ones, huge values that cancel around small integers
**     (both exact), values of every magnitude and sign (within a bound no
**     plain sum meets); NaN, infinities, -0.0, nulls;
**   - int sums against 128-bit sums: exact, or an overflow error;
**   - min and max against a loop row by row: the first row holding the
**     least or greatest value (which of two zeros), NaN greater than every
**     number, nulls skipped;
**   - for a range size, the same bits for every thread count.
*/
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "agg/partial.h"
#include "tally/tally.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t next(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

/* ---------------------------------------------------------------------------
** The exact sum of finite doubles, rounded to nearest once: the partials
** are non-overlapping doubles whose sum is exactly the sum so far.
*/
static double exact_sum(const double *x, const uint8_t *ok, int64_t n) {
  double p[256];
  int np = 0;
  for (int64_t k = 0; k < n; k++) {
    if (!ok[k]) continue;
    double v = x[k];
    int i = 0;
    for (int j = 0; j < np; j++) {
      double y = p[j];
      if (fabs(v) < fabs(y)) { double t = v; v = y; y = t; }
      double hi = v + y, lo = y - (hi - v);
      if (lo != 0) p[i++] = lo;
      v = hi;
    }
    p[i++] = v;
    np = i;
  }
  if (np == 0) return 0;
  int j = np - 1;
  double hi = p[j], lo = 0;
  while (j > 0) {   /* from the largest partial down, until one is lost */
    double v = hi, y = p[--j];
    hi = v + y;
    lo = y - (hi - v);
    if (lo != 0) break;
  }
  /* half way between two doubles: the partials below say which way */
  if (j > 0 && ((lo < 0 && p[j - 1] < 0) || (lo > 0 && p[j - 1] > 0))) {
    double y = lo * 2, v = hi + y;
    if (y == v - hi) hi = v;
  }
  return hi;
}

/* ---------------------------------------------------------------------------
** Tables and runs
*/
static tl_table *one_column(tl_type type, const void *vals, const uint8_t *ok, int64_t n) {
  tl_builder *b;
  if (tl_builder_new(type, n, &b, NULL) != TL_OK) return NULL;
  for (int64_t k = 0; k < n; k++) {
    tl_status st;
    if (!ok[k]) st = tl_builder_append_null(b, NULL);
    else if (type == TL_FLOAT) st = tl_builder_append_float(b, ((const double *)vals)[k], NULL);
    else if (type == TL_DATE) st = tl_builder_append_date(b, (int32_t)((const int64_t *)vals)[k], NULL);
    else if (type == TL_TIMESTAMP) st = tl_builder_append_timestamp(b, ((const int64_t *)vals)[k], NULL);
    else st = tl_builder_append_int(b, ((const int64_t *)vals)[k], NULL);
    if (st != TL_OK) return NULL;
  }
  tl_column *c;
  if (tl_builder_finish(b, &c, NULL) != TL_OK) return NULL;
  const char *name = "x";
  tl_table *t = NULL;
  if (tl_table_new(1, &name, &c, &t, NULL) != TL_OK) t = NULL;
  tl_column_release(c);
  return t;
}

enum { SUM, MEAN, MIN, MAX, CNT, NAGG };

typedef struct run {
  tl_status st;
  tl_scalar v[NAGG];
} run;

/* sum, mean, min, max and count of x in one agg (sum left out: `nosum`). */
static run agg(const tl_table *t, int nosum) {
  static const char *const defs[] = { "s = sum(x)", "m = mean(x)", "lo = min(x)", "hi = max(x)",
                                      "n = count(x)" };
  static const char *const defs2[] = { "lo = min(x)", "hi = max(x)", "n = count(x)" };
  run r;
  memset(&r, 0, sizeof r);
  tl_table *a = NULL;
  tl_error err;
  r.st = nosum ? tl_table_agg(t, 3, defs2, &a, &err) : tl_table_agg(t, NAGG, defs, &a, &err);
  if (r.st != TL_OK) {
    r.v[SUM].is_null = 1;
    if (r.st == TL_ERANGE) CHECK(strstr(err.message, "overflow") != NULL);
    return r;
  }
  for (int k = 0; k < (nosum ? 3 : NAGG); k++)
    tl_column_get(tl_table_column(a, k), 0, &r.v[nosum ? k + 2 : k]);
  tl_table_release(a);
  return r;
}

static int same_bits(const tl_scalar *a, const tl_scalar *b) {
  if (a->is_null != b->is_null || a->type != b->type) return 0;
  if (a->is_null) return 1;
  if (a->type == TL_FLOAT) return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0;
  if (a->type == TL_DATE) return a->v.d == b->v.d;
  return a->v.i == b->v.i;
}

static int same_run(const run *a, const run *b) {
  if (a->st != b->st) return 0;
  for (int k = 0; k < NAGG; k++) if (!same_bits(&a->v[k], &b->v[k])) return 0;
  return 1;
}

static const int64_t RANGES[] = { 0, 7, 64, 1000 };   /* 0: the default */
#define NRANGES (int)(sizeof RANGES / sizeof RANGES[0])

/* The runs of t at every range size and thread count; for each range
** size, every thread count must give the bits of one thread. */
static void runs(const tl_table *t, int nosum, run out[NRANGES], const char *what) {
  int threads = tl_get_threads();
  for (int r = 0; r < NRANGES; r++) {
    tl_group_set_range_rows(RANGES[r]);
    for (int th = 1; th <= 3; th++) {
      tl_set_threads(th);
      run x = agg(t, nosum);
      if (th == 1) out[r] = x;
      else if (!same_run(&out[r], &x)) {
        fprintf(stderr, "%s: range %lld, %d threads differ from 1\n", what, (long long)RANGES[r], th);
        CHECK(0);
      }
    }
  }
  tl_group_set_range_rows(0);
  tl_set_threads(threads);
}

/* ---------------------------------------------------------------------------
** Float columns
*/
enum { F_ONES, F_CANCEL, F_WIDE, F_NAN, F_INF, F_INFS, F_ZEROS, NKINDS };

/* Values of kind `kind`, nulls (ok 0) now and then. */
static void fill(int kind, double *x, uint8_t *ok, int64_t n) {
  for (int64_t k = 0; k < n; k++) {
    uint64_t r = next();
    ok[k] = r % 9 != 0;
    switch (kind) {
      case F_ONES: x[k] = 1.0; break;
      case F_CANCEL: x[k] = (double)(r % 1000); break;
      case F_WIDE: {
        double m = (double)(r >> 11) / 9007199254740992.0;   /* [0, 1) */
        x[k] = ldexp(r & 1 ? -m : m, (int)((r >> 1) % 81) - 40);
        break;
      }
      case F_ZEROS: x[k] = r & 2 ? -0.0 : 1.0 / 1024 * (double)(r % 7); break;
      default: x[k] = (double)(r % 100000) / 8 - 6000;
    }
  }
  if (n == 0) return;
  int64_t a = (int64_t)(next() % (uint64_t)n), b = (int64_t)(next() % (uint64_t)n);
  switch (kind) {
    case F_ONES: x[a] = 1e16; ok[a] = 1; break;   /* ones lost against 1e16 one by one */
    case F_CANCEL: {   /* a huge pair that cancels, wherever it falls */
      static const double big[] = { 1e300, 3.5e200, 1e20, 1152921504606846976.0 };
      if (a != b) { x[a] = big[next() % 4]; x[b] = -x[a]; ok[a] = ok[b] = 1; }
      break;
    }
    case F_NAN: x[a] = NAN; ok[a] = 1; break;
    case F_INF: x[a] = INFINITY; ok[a] = 1; break;
    case F_INFS:
      if (a != b) { x[a] = INFINITY; x[b] = -INFINITY; ok[a] = ok[b] = 1; }
      else { x[a] = -INFINITY; ok[a] = 1; }
      break;
    default: break;
  }
}

/* The first valid row's value that is least (mx 0) or greatest; NaN is
** greater than every number. */
static int pick(const double *x, const uint8_t *ok, int64_t n, int mx, double *out) {
  int64_t best = -1;
  for (int64_t k = 0; k < n; k++) {
    if (!ok[k]) continue;
    if (best < 0) { best = k; continue; }
    double u = x[k], w = x[best];
    int beats = mx ? (w == w && (u != u || u > w)) : (w != w ? u == u : u < w);
    if (beats) best = k;
  }
  if (best >= 0) *out = x[best];
  return best >= 0;
}

static void check_floats(int kind, int64_t n) {
  double *x = calloc((size_t)n + 1, sizeof *x);
  uint8_t *ok = calloc((size_t)n + 1, 1);
  if (!x || !ok) { CHECK(0); free(x); free(ok); return; }
  fill(kind, x, ok, n);
  tl_table *t = one_column(TL_FLOAT, x, ok, n);
  CHECK(t != NULL);
  run rs[NRANGES];
  char what[64];
  snprintf(what, sizeof what, "floats of kind %d, %lld rows", kind, (long long)n);
  if (t) runs(t, 0, rs, what);
  int64_t cnt = 0;
  int nan = 0, pinf = 0, ninf = 0;
  double abs = 0;
  for (int64_t k = 0; k < n; k++) {
    if (!ok[k]) continue;
    cnt++;
    nan |= x[k] != x[k];
    pinf |= x[k] == INFINITY;
    ninf |= x[k] == -INFINITY;
    if (isfinite(x[k])) abs += fabs(x[k]);
  }
  double ex = nan || (pinf && ninf) ? NAN : pinf ? INFINITY : ninf ? -INFINITY : exact_sum(x, ok, n);
  double lo = 0, hi = 0;
  int any = pick(x, ok, n, 0, &lo);
  pick(x, ok, n, 1, &hi);
  for (int r = 0; t && r < NRANGES; r++) {
    const run *g = &rs[r];
    CHECK(g->st == TL_OK);
    CHECK(g->v[CNT].v.i == cnt);
    CHECK(g->v[SUM].is_null == (cnt == 0));
    if (cnt == 0) continue;
    double s = g->v[SUM].v.f, m = g->v[MEAN].v.f;
    int good;
    if (ex != ex) good = s != s && m != m;
    else if (!isfinite(ex)) good = s == ex && m == ex;
    else if (kind == F_WIDE)   /* compensated: off by about one rounding of the sum */
      good = fabs(s - ex) <= 2 * DBL_EPSILON * fabs(ex) + 4 * (double)n * DBL_EPSILON * DBL_EPSILON * abs;
    else good = s == ex && m == ex / (double)cnt;   /* those sums are exact */
    if (!good) fprintf(stderr, "%s, range %lld: sum %.17g, exact %.17g\n", what,
                       (long long)RANGES[r], s, ex);
    CHECK(good);
    if (kind == F_ZEROS) CHECK(s != 0 || !signbit(s));   /* a sum starts at +0 */
    CHECK(any && same_bits(&g->v[MIN], &(tl_scalar){ .type = TL_FLOAT, .v.f = lo }));
    CHECK(any && same_bits(&g->v[MAX], &(tl_scalar){ .type = TL_FLOAT, .v.f = hi }));
  }
  tl_table_release(t);
  free(x);
  free(ok);
}

/* ---------------------------------------------------------------------------
** Int, date and timestamp columns
*/
static void check_ints(tl_type type, int kind, int64_t n) {
  int64_t *x = calloc((size_t)n + 1, sizeof *x);
  uint8_t *ok = calloc((size_t)n + 1, 1);
  if (!x || !ok) { CHECK(0); free(x); free(ok); return; }
  for (int64_t k = 0; k < n; k++) {
    uint64_t r = next();
    ok[k] = r % 7 != 0;
    if (type == TL_DATE) x[k] = (int64_t)(r % 200000) - 100000;
    else if (kind == 0) x[k] = (int64_t)(r % 2001) - 1000;
    else if (kind == 1) x[k] = k % 2 ? INT64_MIN + (int64_t)(r % 5) : INT64_MAX - (int64_t)(r % 5);
    else x[k] = r % 3 ? INT64_MAX : (int64_t)(r >> 1);   /* leaves int64 */
  }
  tl_table *t = one_column(type, x, ok, n);
  CHECK(t != NULL);
  run rs[NRANGES];
  char what[64];
  snprintf(what, sizeof what, "%s kind %d, %lld rows", tl_type_name(type), kind, (long long)n);
  int nosum = type == TL_DATE || type == TL_TIMESTAMP;   /* min and max only */
  if (t) runs(t, nosum, rs, what);
  __int128 sum = 0;
  int64_t cnt = 0, lo = INT64_MAX, hi = INT64_MIN;
  for (int64_t k = 0; k < n; k++) {
    if (!ok[k]) continue;
    cnt++;
    sum += x[k];
    lo = x[k] < lo ? x[k] : lo;
    hi = x[k] > hi ? x[k] : hi;
  }
  int fits = sum >= INT64_MIN && sum <= INT64_MAX;
  for (int r = 0; t && r < NRANGES; r++) {
    const run *g = &rs[r];
    if (!nosum && !fits) { CHECK(g->st == TL_ERANGE); continue; }
    CHECK(g->st == TL_OK);
    CHECK(g->v[CNT].v.i == cnt);
    CHECK(g->v[MIN].is_null == (cnt == 0) && g->v[MAX].is_null == (cnt == 0));
    if (cnt == 0) continue;
    int64_t glo = type == TL_DATE ? g->v[MIN].v.d : g->v[MIN].v.i;
    int64_t ghi = type == TL_DATE ? g->v[MAX].v.d : g->v[MAX].v.i;
    CHECK(glo == lo && ghi == hi);
    if (nosum) continue;
    int good = g->v[SUM].v.i == (int64_t)sum && g->v[MEAN].v.f == (double)sum / (double)cnt;
    if (!good) fprintf(stderr, "%s, range %lld: sum %lld, exact %lld\n", what,
                       (long long)RANGES[r], (long long)g->v[SUM].v.i, (long long)sum);
    CHECK(good);
  }
  tl_table_release(t);
  free(x);
  free(ok);
}

int main(void) {
  static const int64_t sizes[] = { 0, 1, 2, 7, 63, 64, 65, 129, 1000, 4099, 70001 };
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    for (int kind = 0; kind < NKINDS; kind++) check_floats(kind, sizes[s]);
    for (int kind = 0; kind < 3; kind++) check_ints(TL_INT, kind, sizes[s]);
    check_ints(TL_TIMESTAMP, 0, sizes[s]);
    check_ints(TL_DATE, 0, sizes[s]);
  }

  /* the exact reference itself: a plain sum misses what it must find */
  double v[] = { 1e16, 1, 1, 1, 1, -1e16 }, w[] = { 0.1, 0.2, 0.3 };
  uint8_t all[] = { 1, 1, 1, 1, 1, 1 };
  CHECK(exact_sum(v, all, 6) == 4);
  CHECK(exact_sum(w, all, 3) == 0.6 && (w[0] + w[1]) + w[2] != 0.6);
  return check_done("test_agg_fused");
}
