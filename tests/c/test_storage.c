/*
** test_storage.c -- columns, builders, tables and column statistics.
*/
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "tally/tally.h"

static tl_column *ints(const int64_t *v, const int *null, int n) {
  tl_builder *b;
  tl_column *c;
  if (tl_builder_new(TL_INT, 0, &b, NULL) != TL_OK) return NULL;
  for (int i = 0; i < n; i++) {
    tl_status st = null && null[i] ? tl_builder_append_null(b, NULL)
                                   : tl_builder_append_int(b, v[i], NULL);
    if (st != TL_OK) { tl_builder_free(b); return NULL; }
  }
  return tl_builder_finish(b, &c, NULL) == TL_OK ? c : NULL;
}

static tl_column *floats(const double *v, int n) {
  tl_builder *b;
  tl_column *c;
  if (tl_builder_new(TL_FLOAT, 1, &b, NULL) != TL_OK) return NULL;
  for (int i = 0; i < n; i++)
    if (tl_builder_append_float(b, v[i], NULL) != TL_OK) { tl_builder_free(b); return NULL; }
  return tl_builder_finish(b, &c, NULL) == TL_OK ? c : NULL;
}

static void test_builder(void) {
  int64_t v[100];
  int null[100];
  for (int i = 0; i < 100; i++) { v[i] = i; null[i] = i % 7 == 3; }
  tl_column *c = ints(v, null, 100);
  CHECK(c != NULL);
  CHECK(tl_column_length(c) == 100);
  CHECK(tl_column_null_count(c) == 14);
  CHECK(tl_column_count(c) == 86);
  CHECK(tl_column_is_null(c, 3) && tl_column_is_null(c, 10) && !tl_column_is_null(c, 4));
  CHECK(tl_column_ints(c)[99] == 99);
  CHECK(tl_column_floats(c) == NULL);
  tl_scalar s;
  CHECK(tl_column_sum(c, &s, NULL) == TL_OK);
  int64_t want = 0;
  for (int i = 0; i < 100; i++) if (!null[i]) want += i;
  CHECK(s.type == TL_INT && !s.is_null && s.v.i == want);
  CHECK(tl_column_min(c, &s, NULL) == TL_OK && s.v.i == 0);
  CHECK(tl_column_max(c, &s, NULL) == TL_OK && s.v.i == 99);
  CHECK(tl_column_mean(c, &s, NULL) == TL_OK && s.type == TL_FLOAT &&
        fabs(s.v.f - (double)want / 86) < 1e-12);
  tl_column_release(c);

  /* no nulls: no validity bitmap */
  c = ints(v, NULL, 5);
  CHECK(tl_column_validity(c) == NULL && tl_column_null_count(c) == 0);
  tl_column_release(c);

  /* strings, with an empty one and a null */
  tl_builder *b;
  CHECK(tl_builder_new(TL_STRING, 0, &b, NULL) == TL_OK);
  CHECK(tl_builder_append_string(b, "Iran", 4, NULL) == TL_OK);
  CHECK(tl_builder_append_string(b, "", 0, NULL) == TL_OK);
  CHECK(tl_builder_append_null(b, NULL) == TL_OK);
  CHECK(tl_builder_append_string(b, "Nepal", 5, NULL) == TL_OK);
  tl_error err;
  CHECK(tl_builder_append_int(b, 3, &err) == TL_ETYPE);
  CHECK_STR(err.message, "builder: cannot append int to a column of type string");
  CHECK(tl_builder_finish(b, &c, NULL) == TL_OK);
  size_t n;
  const char *s0 = tl_column_string_at(c, 0, &n);
  CHECK(n == 4 && memcmp(s0, "Iran", 4) == 0);
  tl_column_string_at(c, 1, &n);
  CHECK(n == 0 && !tl_column_is_null(c, 1));
  CHECK(tl_column_is_null(c, 2));
  CHECK(tl_column_min(c, &s, NULL) == TL_OK && s.v.s.len == 0);
  CHECK(tl_column_max(c, &s, NULL) == TL_OK && s.v.s.len == 5 && memcmp(s.v.s.ptr, "Nepal", 5) == 0);
  CHECK(tl_column_sum(c, &s, &err) == TL_ETYPE);
  CHECK_STR(err.message, "sum: string columns have no sum");
  tl_column_release(c);

  /* an empty string column */
  CHECK(tl_builder_new(TL_STRING, 0, &b, NULL) == TL_OK);
  CHECK(tl_builder_finish(b, &c, NULL) == TL_OK);
  CHECK(tl_column_length(c) == 0);
  CHECK(tl_column_max(c, &s, NULL) == TL_OK && s.is_null);
  tl_column_release(c);

  /* bools are bit-packed */
  CHECK(tl_builder_new(TL_BOOL, 0, &b, NULL) == TL_OK);
  for (int i = 0; i < 20; i++) CHECK(tl_builder_append_bool(b, i % 3 == 0, NULL) == TL_OK);
  CHECK(tl_builder_finish(b, &c, NULL) == TL_OK);
  CHECK(tl_column_bool_at(c, 0) && !tl_column_bool_at(c, 1) && tl_column_bool_at(c, 18));
  CHECK(tl_column_bools(c)[0] == 0x49);
  CHECK(tl_column_sum(c, &s, NULL) == TL_OK && s.v.i == 7);
  tl_column_release(c);
}

static void test_sums(void) {
  int64_t big[3] = { INT64_MAX, 1, 0 };
  tl_column *c = ints(big, NULL, 2);
  tl_scalar s;
  tl_error err;
  CHECK(tl_column_sum(c, &s, &err) == TL_ERANGE);
  CHECK(strstr(err.message, "overflow") != NULL);
  tl_column_release(c);
  /* overflow in the middle that comes back is no overflow */
  int64_t back[3] = { INT64_MAX, 10, -20 };
  c = ints(back, NULL, 3);
  CHECK(tl_column_sum(c, &s, NULL) == TL_OK && s.v.i == INT64_MAX - 10);
  tl_column_release(c);
  double f[3] = { 1e308, 3.0, -1e308 };
  c = floats(f, 3);
  CHECK(tl_column_sum(c, &s, NULL) == TL_OK && s.v.f == 3.0);
  tl_column_release(c);
  double nan3[3] = { NAN, 2.0, -1.0 };
  c = floats(nan3, 3);
  CHECK(tl_column_min(c, &s, NULL) == TL_OK && s.v.f == -1.0);
  CHECK(tl_column_max(c, &s, NULL) == TL_OK && isnan(s.v.f));   /* NaN is the greatest */
  tl_column_release(c);
  /* all null: sum, mean, min are null */
  int null2[2] = { 1, 1 };
  c = ints(big, null2, 2);
  CHECK(tl_column_sum(c, &s, NULL) == TL_OK && s.is_null);
  CHECK(tl_column_mean(c, &s, NULL) == TL_OK && s.is_null);
  CHECK(tl_column_min(c, &s, NULL) == TL_OK && s.is_null);
  tl_column_release(c);
}

static void test_table(void) {
  int64_t y[3] = { 2016, 2017, 2018 };
  double n[3] = { 1.5, 2.5, 3.5 };
  tl_column *cy = ints(y, NULL, 3), *cn = floats(n, 3), *short_col = floats(n, 2);
  const char *names[2] = { "year", "n" };
  tl_column *cols[2] = { cy, cn };
  tl_table *t;
  tl_error err;
  CHECK(tl_table_new(2, names, cols, &t, NULL) == TL_OK);
  CHECK(tl_table_nrows(t) == 3 && tl_table_ncols(t) == 2);
  CHECK(tl_table_find(t, "n") == 1 && tl_table_find(t, "x") == -1);
  CHECK_STR(tl_table_suggest(t, "yaer"), "year");
  CHECK(tl_table_suggest(t, "participants") == NULL);
  CHECK(tl_table_column(t, 0) == cy && tl_table_column(t, 2) == NULL);
  tl_table *s;
  CHECK(tl_table_slice(t, 1, 5, &s, NULL) == TL_OK);
  CHECK(tl_table_nrows(s) == 2 && tl_column_ints(tl_table_column(s, 0))[0] == 2017);
  tl_table_release(s);

  const char *dup[2] = { "year", "year" };
  CHECK(tl_table_new(2, dup, cols, &s, &err) == TL_EINVAL);
  CHECK_STR(err.message, "table: duplicate column name 'year'");
  tl_column *bad[2] = { cy, short_col };
  CHECK(tl_table_new(2, names, bad, &s, &err) == TL_EINVAL);
  CHECK_STR(err.message, "table: column 'n' has 2 rows where column 'year' has 3");
  /* the table keeps its columns alive after the caller lets go */
  tl_column_release(cy);
  tl_column_release(cn);
  tl_column_release(short_col);
  CHECK(tl_column_ints(tl_table_column(t, 0))[2] == 2018);
  tl_table_release(t);
}

static void test_format(void) {
  char buf[64];
  tl_scalar v = { .type = TL_FLOAT };
  v.v.f = 0.1;
  tl_scalar_format(&v, buf, sizeof buf);
  CHECK_STR(buf, "0.1");
  v.v.f = 3.0;
  tl_scalar_format(&v, buf, sizeof buf);
  CHECK_STR(buf, "3.0");
  v.type = TL_DATE;
  v.v.d = tl_days_from_civil(1990, 6, 1);
  tl_scalar_format(&v, buf, sizeof buf);
  CHECK_STR(buf, "1990-06-01");
  int y, m, d;
  tl_civil_from_days(0, &y, &m, &d);
  CHECK(y == 1970 && m == 1 && d == 1);
  tl_civil_from_days(tl_days_from_civil(2000, 2, 29), &y, &m, &d);
  CHECK(y == 2000 && m == 2 && d == 29);
}

int main(void) {
  test_builder();
  test_sums();
  test_table();
  test_format();
  return check_done("storage");
}
