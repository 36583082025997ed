/*
** test_date_trunc.c -- date_trunc('month') on dates and timestamps, whose
** loops compute the month's first day inline, against the row-at-a-time
** calendar (tl_civil_from_days, then tl_days_from_civil of the 1st): every
** day of the years -1000 to 10000 (year 0, 9999 and every leap day among
** them), days near the ends of int32, nulls, and rows picked out by if()
** (a selection), at 1 and 3 threads.
*/
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "base/datetime.h"
#include "tally/tally.h"

/* The row-at-a-time answer: the 1st of the day's month. */
static int32_t month_of(int32_t days) {
  int y, m, d;
  tl_civil_from_days(days, &y, &m, &d);
  return (int32_t)((int64_t)days - (d - 1));
}

/* The days of the test: a sweep, the ends of int32, every 97th a null. */
static int64_t make_days(int32_t **out, uint8_t **null) {
  int32_t lo = tl_days_from_civil(-1000, 1, 1), hi = tl_days_from_civil(10000, 12, 31);
  int64_t n = (int64_t)hi - lo + 1 + 2 * 3000 + 2 * 1000;
  int32_t *d = malloc((size_t)n * sizeof *d);
  uint8_t *z = calloc((size_t)n, 1);
  int64_t k = 0;
  for (int64_t v = lo; v <= hi; v++) d[k++] = (int32_t)v;
  for (int64_t v = INT32_MIN; v < (int64_t)INT32_MIN + 3000; v++) d[k++] = (int32_t)v;
  for (int64_t v = (int64_t)INT32_MAX - 2999; v <= INT32_MAX; v++) d[k++] = (int32_t)v;
  int32_t far_lo = tl_days_from_civil(-TL_MAX_YEAR, 1, 1), far_hi = tl_days_from_civil(TL_MAX_YEAR, 12, 31);
  for (int v = 0; v < 1000; v++) { d[k++] = far_lo + v; d[k++] = far_hi - v; }
  for (int64_t i = 0; i < k; i++) {   /* shuffled, so that neighbours are far apart */
    int64_t j = (int64_t)(((uint64_t)i * 2654435761u) % (uint64_t)(i + 1));
    int32_t t = d[i]; d[i] = d[j]; d[j] = t;
  }
  for (int64_t i = 5; i < k; i += 97) z[i] = 1;
  *out = d;
  *null = z;
  return k;
}

static tl_table *days_table(const int32_t *d, const uint8_t *null, int64_t n, int ts) {
  tl_builder *bd, *bx;
  tl_column *cd, *cx;
  CHECK(tl_builder_new(ts ? TL_TIMESTAMP : TL_DATE, n, &bd, NULL) == TL_OK);
  CHECK(tl_builder_new(TL_INT, n, &bx, NULL) == TL_OK);
  for (int64_t i = 0; i < n; i++) {
    /* a timestamp: the day's midnight plus a time of day (its days within
    ** what a timestamp holds) */
    int64_t us = (int64_t)(d[i] % 100000000) * TL_US_PER_DAY + (i * 7919 % 86400) * 1000000 + i % 1000;
    if (null[i]) CHECK(tl_builder_append_null(bd, NULL) == TL_OK);
    else if (ts) CHECK(tl_builder_append_timestamp(bd, us, NULL) == TL_OK);
    else CHECK(tl_builder_append_date(bd, d[i], NULL) == TL_OK);
    CHECK(tl_builder_append_int(bx, i % 3, NULL) == TL_OK);
  }
  CHECK(tl_builder_finish(bd, &cd, NULL) == TL_OK);
  CHECK(tl_builder_finish(bx, &cx, NULL) == TL_OK);
  const char *names[] = { "d", "x" };
  tl_column *cols[] = { cd, cx };
  tl_table *t = NULL;
  CHECK(tl_table_new(2, names, cols, &t, NULL) == TL_OK);
  tl_column_release(cd);
  tl_column_release(cx);
  return t;
}

/* Rows that differ from the row-at-a-time answer; `picked`: if(x > 0, ...)
** so that only those rows are truncated, the others kept. */
static int64_t wrong_dates(const tl_table *t, const char *src, int picked, int day) {
  tl_column *c = NULL, *d = tl_table_column(t, 0), *x = tl_table_column(t, 1);
  tl_error err;
  if (tl_table_eval(t, src, "mutate", &c, &err) != TL_OK) {
    fprintf(stderr, "%s: %s\n", src, err.message);
    return -1;
  }
  const int32_t *r = tl_column_dates(c), *v = tl_column_dates(d);
  const int64_t *xs = tl_column_ints(x);
  int64_t bad = 0, n = tl_table_nrows(t);
  for (int64_t i = 0; i < n; i++) {
    tl_scalar in, out;
    tl_column_get(d, i, &in);
    tl_column_get(c, i, &out);
    if (in.is_null || out.is_null) { bad += in.is_null != out.is_null; continue; }
    int32_t want = day || (picked && xs[i] == 0) ? v[i] : month_of(v[i]);
    if (r[i] != want && bad++ < 3) fprintf(stderr, "%s: day %d gives %d, not %d\n", src, v[i], r[i], want);
  }
  tl_column_release(c);
  return bad;
}

static int64_t wrong_timestamps(const tl_table *t, const char *src) {
  tl_column *c = NULL, *d = tl_table_column(t, 0);
  tl_error err;
  if (tl_table_eval(t, src, "mutate", &c, &err) != TL_OK) {
    fprintf(stderr, "%s: %s\n", src, err.message);
    return -1;
  }
  int64_t bad = 0, n = tl_table_nrows(t);
  for (int64_t i = 0; i < n; i++) {
    tl_scalar in, out;
    tl_column_get(d, i, &in);
    tl_column_get(c, i, &out);
    if (in.is_null || out.is_null) { bad += in.is_null != out.is_null; continue; }
    int64_t want = (int64_t)month_of((int32_t)tl_floor_div(in.v.i, TL_US_PER_DAY)) * TL_US_PER_DAY;
    if (out.v.i != want && bad++ < 3)
      fprintf(stderr, "%s: %lld gives %lld, not %lld\n", src, (long long)in.v.i, (long long)out.v.i,
              (long long)want);
  }
  tl_column_release(c);
  return bad;
}

/* A few days by hand: leap days, year 0, 9999, before 1970. */
static void test_by_hand(void) {
  static const int ymd[][3] = {
    { 2024, 2, 29 }, { 2000, 2, 29 }, { 1900, 2, 28 }, { 1900, 3, 1 }, { 0, 2, 29 }, { 0, 1, 1 },
    { -1, 12, 31 }, { -4, 2, 29 }, { -100, 3, 1 }, { 9999, 12, 31 }, { 1969, 12, 31 }, { 1970, 1, 1 },
  };
  for (size_t k = 0; k < sizeof ymd / sizeof ymd[0]; k++) {
    int32_t days = tl_days_from_civil(ymd[k][0], ymd[k][1], ymd[k][2]);
    CHECK(tl_month_start(days) == tl_days_from_civil(ymd[k][0], ymd[k][1], 1));
  }
}

int main(void) {
  test_by_hand();
  int32_t *d;
  uint8_t *null;
  int64_t n = make_days(&d, &null);
  tl_table *td = days_table(d, null, n, 0), *tt = days_table(d, null, n, 1);
  for (int th = 1; th <= 3; th += 2) {
    tl_set_threads(th);
    CHECK(wrong_dates(td, "date_trunc('month', d)", 0, 0) == 0);
    CHECK(wrong_dates(td, "if(x > 0, date_trunc('month', d), d)", 1, 0) == 0);
    CHECK(wrong_dates(td, "date_trunc('day', d)", 0, 1) == 0);
    CHECK(wrong_dates(td, "if(x > 0, date_trunc('day', d), d)", 1, 1) == 0);
    CHECK(wrong_timestamps(tt, "date_trunc('month', d)") == 0);
  }
  tl_set_threads(0);
  tl_table_release(td);
  tl_table_release(tt);
  free(d);
  free(null);
  return check_done("date_trunc");
}
