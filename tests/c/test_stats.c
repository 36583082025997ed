/*
** test_stats.c -- whole-column sum, mean, min and max run over ranges of
** rows on the threads: the same results, to the bit, for every thread
** count (the ranges never depend on it) and, on this data, whose
** compensated sums round correctly, for every range size; equal to t:agg's
** over the same ranges, and to plain loops where those are exact; nulls,
** NaN, ties, huge values that cancel.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "agg/partial.h"
#include "tally/tally.h"

enum { N = 100003 };   /* not a multiple of any range size used */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

/* A table of an int, a float (NaN and a null now and then), a date and a
** string column, and a float column of huge values that cancel. */
static tl_table *make(void) {
  tl_builder *b[5];
  static const tl_type types[5] = { TL_INT, TL_FLOAT, TL_DATE, TL_STRING, TL_FLOAT };
  static const char *const names[5] = { "i", "f", "d", "s", "big" };
  for (int j = 0; j < 5; j++) if (tl_builder_new(types[j], N, &b[j], NULL) != TL_OK) return NULL;
  for (int64_t r = 0; r < N; r++) {
    uint64_t x = next();
    int null = x % 11 == 0;
    tl_status st = TL_OK;
    if (null) st = tl_builder_append_null(b[0], NULL);
    else st = tl_builder_append_int(b[0], (int64_t)(x >> 20) % 1000003 - 500000, NULL);
    double f = (double)(x % 1000000) / 7.0 - 50000.0;
    if (x % 997 == 0) f = NAN;
    if (st == TL_OK) st = x % 13 == 0 ? tl_builder_append_null(b[1], NULL) : tl_builder_append_float(b[1], f, NULL);
    if (st == TL_OK) st = tl_builder_append_date(b[2], (int32_t)(x % 40000) - 20000, NULL);
    char s[16];
    snprintf(s, sizeof s, "w%03d", (int)(x % 997));
    if (st == TL_OK) st = tl_builder_append_string(b[3], s, strlen(s), NULL);
    double g = r % 3 == 0 ? (r + 1 < N ? 1e300 : 0) : r % 3 == 1 ? -1e300 : 0.1;   /* cancels */
    if (st == TL_OK) st = tl_builder_append_float(b[4], g, NULL);
    if (st != TL_OK) return NULL;
  }
  tl_column *c[5];
  for (int j = 0; j < 5; j++) if (tl_builder_finish(b[j], &c[j], NULL) != TL_OK) return NULL;
  tl_table *t = NULL;
  if (tl_table_new(5, names, c, &t, NULL) != TL_OK) t = NULL;
  for (int j = 0; j < 5; j++) tl_column_release(c[j]);
  return t;
}

typedef struct result {
  tl_scalar v[5][4];   /* per column: sum, mean, min, max */
} result;

static void stats(const tl_table *t, result *r) {
  tl_error err;
  for (int j = 0; j < 5; j++) {
    const tl_column *c = tl_table_column(t, j);
    memset(r->v[j], 0, sizeof r->v[j]);
    if (tl_column_type(c) != TL_DATE && tl_column_type(c) != TL_STRING) {
      CHECK(tl_column_sum(c, &r->v[j][0], &err) == TL_OK);
      CHECK(tl_column_mean(c, &r->v[j][1], &err) == TL_OK);
    }
    CHECK(tl_column_min(c, &r->v[j][2], &err) == TL_OK);
    CHECK(tl_column_max(c, &r->v[j][3], &err) == TL_OK);
  }
}

static int same_scalar(const tl_scalar *a, const tl_scalar *b) {
  if (a->type != b->type || a->is_null != b->is_null) return 0;
  if (a->is_null) return 1;
  if (a->type == TL_FLOAT) return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0;
  char x[128], y[128];
  tl_scalar_format(a, x, sizeof x);
  tl_scalar_format(b, y, sizeof y);
  return strcmp(x, y) == 0;
}

int main(void) {
  tl_table *t = make();
  CHECK(t != NULL);
  if (!t) return check_done("test_stats");
  result base, r;
  stats(t, &base);

  /* every thread count, and here every range size, gives the same bits */
  static const int64_t ranges[] = { 1, 7, 4096, 0 };
  int threads = tl_get_threads();
  for (size_t k = 0; k < sizeof ranges / sizeof ranges[0]; k++) {
    for (int th = 1; th <= 3; th++) {
      tl_group_set_range_rows(ranges[k]);
      tl_set_threads(th);
      stats(t, &r);
      int same = 1;
      for (int j = 0; j < 5; j++)
        for (int s = 0; s < 4; s++) same &= same_scalar(&base.v[j][s], &r.v[j][s]) || (j >= 2 && s < 2);
      if (!same) fprintf(stderr, "range %lld threads %d differ\n", (long long)ranges[k], th);
      CHECK(same);

      /* and t:agg's sum and mean, to the bit, over the same ranges */
      if (ranges[k] != 0) continue;
      static const char *const defs[] = { "s = sum(f)", "m = mean(f)", "si = sum(i)", "sb = sum(big)" };
      tl_table *a = NULL;
      tl_error err;
      CHECK(tl_table_agg(t, 4, defs, &a, &err) == TL_OK);
      if (a) {
        tl_scalar v;
        tl_column_get(tl_table_column(a, 0), 0, &v);
        CHECK(same_scalar(&v, &base.v[1][0]));
        tl_column_get(tl_table_column(a, 1), 0, &v);
        CHECK(same_scalar(&v, &base.v[1][1]));
        tl_column_get(tl_table_column(a, 2), 0, &v);
        CHECK(same_scalar(&v, &base.v[0][0]));
        tl_column_get(tl_table_column(a, 3), 0, &v);
        CHECK(same_scalar(&v, &base.v[4][0]));
      }
      tl_table_release(a);
    }
  }
  tl_group_set_range_rows(0);
  tl_set_threads(threads);

  /* against plain loops: the int sum exactly, min/max of every type, the
  ** earliest row among ties, NaN greater than every number (max takes it) */
  const tl_column *ci = tl_table_column(t, 0), *cf = tl_table_column(t, 1);
  int64_t isum = 0, imin = INT64_MAX, imax = INT64_MIN;
  double fmin = INFINITY, fmax = -INFINITY;
  int fnan = 0;
  for (int64_t k = 0; k < N; k++) {
    tl_scalar v;
    tl_column_get(ci, k, &v);
    if (!v.is_null) { isum += v.v.i; if (v.v.i < imin) imin = v.v.i; if (v.v.i > imax) imax = v.v.i; }
    tl_column_get(cf, k, &v);
    if (!v.is_null && v.v.f == v.v.f) { if (v.v.f < fmin) fmin = v.v.f; if (v.v.f > fmax) fmax = v.v.f; }
    if (!v.is_null && v.v.f != v.v.f) fnan = 1;
  }
  CHECK(base.v[0][0].v.i == isum && base.v[0][2].v.i == imin && base.v[0][3].v.i == imax);
  CHECK(base.v[1][2].v.f == fmin && (fnan ? isnan(base.v[1][3].v.f) : base.v[1][3].v.f == fmax));
  /* 1e300 - 1e300 + 0.1 over and over: the compensated sum keeps the 0.1s */
  CHECK(fabs(base.v[4][0].v.f - 0.1 * (N / 3)) < 1e-6);

  /* a column of NaN only: NaN is its min and max; all null: null */
  tl_builder *b;
  tl_column *c = NULL;
  tl_error err;
  CHECK(tl_builder_new(TL_FLOAT, 0, &b, NULL) == TL_OK);
  for (int k = 0; k < 70000; k++) CHECK(tl_builder_append_float(b, NAN, NULL) == TL_OK);
  CHECK(tl_builder_finish(b, &c, NULL) == TL_OK);
  tl_scalar v;
  tl_group_set_range_rows(7);
  CHECK(c && tl_column_min(c, &v, &err) == TL_OK && !v.is_null && v.v.f != v.v.f);
  tl_column_release(c);
  CHECK(tl_builder_new(TL_INT, 0, &b, NULL) == TL_OK);
  for (int k = 0; k < 100; k++) CHECK(tl_builder_append_null(b, NULL) == TL_OK);
  CHECK(tl_builder_finish(b, &c, NULL) == TL_OK);
  CHECK(c && tl_column_max(c, &v, &err) == TL_OK && v.is_null);
  CHECK(c && tl_column_sum(c, &v, &err) == TL_OK && v.is_null);
  tl_column_release(c);
  /* ints and dates without nulls (a loop of their own): the extremes at the
  ** ends of the type and of the ranges, against a plain loop, at every range size */
  for (int ty = 0; ty < 2; ty++) {
    CHECK(tl_builder_new(ty ? TL_DATE : TL_INT, 0, &b, NULL) == TL_OK);
    int64_t lo = INT64_MAX, hi = INT64_MIN, x = 99;
    for (int k = 0; k < 70001; k++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      int64_t y = ty ? x % 40000 - 20000 : (k == 6999 ? INT64_MIN : k == 70000 ? INT64_MAX : x - (1 << 30));
      if (y < lo) lo = y;
      if (y > hi) hi = y;
      CHECK((ty ? tl_builder_append_date(b, (int32_t)y, NULL) : tl_builder_append_int(b, y, NULL)) == TL_OK);
    }
    CHECK(tl_builder_finish(b, &c, NULL) == TL_OK);
    CHECK(c && !tl_column_validity(c));
    static const int64_t sizes[] = { 1, 7, 4096, 0 };
    for (int k = 0; c && k < 4; k++) {
      tl_scalar mn, mx;
      tl_group_set_range_rows(sizes[k]);
      CHECK(tl_column_min(c, &mn, &err) == TL_OK && tl_column_max(c, &mx, &err) == TL_OK);
      CHECK(ty ? mn.v.d == lo && mx.v.d == hi : mn.v.i == lo && mx.v.i == hi);
    }
    tl_column_release(c);
  }
  tl_group_set_range_rows(0);

  tl_table_release(t);
  return check_done("test_stats");
}
