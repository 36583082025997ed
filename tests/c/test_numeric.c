/*
** test_numeric.c -- numeric edge cases as a table: int64 boundaries in sums
** and products, division and modulo by zero, NaN and infinities through
** every aggregate and through sort.
*/
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "tables.h"
#include "tally/tally.h"

/* One value of an expression over a one-row table, or the error. */
static const char *eval1(const tl_table *t, const char *src) {
  static char out[TL_ERROR_SIZE];
  tl_column *c;
  tl_error err;
  if (tl_table_eval(t, src, "mutate", &c, &err) != TL_OK) {
    snprintf(out, sizeof out, "%s", err.message);
    return out;
  }
  tl_scalar v;
  tl_column_get(c, 0, &v);
  tl_scalar_format(&v, out, sizeof out);
  tl_column_release(c);
  return out;
}

/* One aggregate over the whole table, or the error. */
static const char *agg1(const tl_table *t, const char *def) {
  static char out[TL_ERROR_SIZE];
  tl_table *r;
  tl_error err;
  if (tl_table_agg(t, 1, &def, &r, &err) != TL_OK) {
    snprintf(out, sizeof out, "%s", err.message);
    return out;
  }
  tl_scalar v;
  tl_column_get(tl_table_column(r, 0), 0, &v);
  tl_scalar_format(&v, out, sizeof out);
  tl_table_release(r);
  return out;
}

static void test_integers(void) {
  tl_table *t = load("max,min,one,zero\n9223372036854775807,-9223372036854775808,1,0\n");
  static const struct { const char *expr, *want; } cases[] = {
    { "max + 0", "9223372036854775807" },
    { "max + one", "mutate: integer overflow in '+' at row 1" },
    { "min - one", "mutate: integer overflow in '-' at row 1" },
    { "max * 2", "mutate: integer overflow in '*' at row 1" },
    { "min * -1", "mutate: integer overflow in '*' at row 1" },
    { "-min", "mutate: integer overflow in '-' at row 1" },
    { "abs(min)", "mutate: integer overflow in 'abs' at row 1" },
    { "min // -1", "mutate: integer overflow in '//' at row 1" },
    { "min % -1", "0" },
    { "max // -1", "-9223372036854775807" },
    { "max + 1.0", "9.223372036854776e+18" },
    /* division and modulo by zero give null, for every numeric type */
    { "one / zero", "null" },
    { "one // zero", "null" },
    { "one % zero", "null" },
    { "1.5 / 0", "null" },
    { "1.5 // 0.0", "null" },
    { "1.5 % 0", "null" },
    { "zero / zero", "null" },
    { "-7 // 2", "-4" },
    { "-7 % 2", "1" },
    { "7 % -2", "-1" },
    { "-7.5 % 2", "0.5" },
    { "2 ^ 1024", "inf" },
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    const char *got = eval1(t, cases[k].expr);
    check_count++;
    if (strcmp(got, cases[k].want) != 0) {
      check_failures++;
      fprintf(stderr, "%s: got %s, want %s\n", cases[k].expr, got, cases[k].want);
    }
  }
  tl_table_release(t);

  /* sums: exact in between, an error when the result leaves int64 */
  t = load("x\n9223372036854775807\n1\n-2\n");
  CHECK_STR(agg1(t, "sum(x)"), "9223372036854775806");
  CHECK_STR(agg1(t, "mean(x)"), "3.0744573456182584e+18");
  tl_table_release(t);
  t = load("x\n9223372036854775807\n1\n");
  CHECK_STR(agg1(t, "sum(x)"), "agg: \"sum(x)\": integer overflow (the sum leaves int64)");
  tl_table_release(t);
  t = load("x\n-9223372036854775808\n-1\n");
  CHECK_STR(agg1(t, "sum(x)"), "agg: \"sum(x)\": integer overflow (the sum leaves int64)");
  tl_table_release(t);
}

static void test_floats(void) {
  static const struct { const char *csv, *def, *want; } cases[] = {
    { "x\n1\ninf\n", "sum(x)", "inf" },
    { "x\ninf\n-inf\n", "sum(x)", "nan" },
    { "x\n1e308\n1e308\n", "sum(x)", "inf" },
    { "x\n1e308\n3.0\n-1e308\n", "sum(x)", "3.0" },
    { "x\n1\nnan\n", "sum(x)", "nan" },
    { "x\n1\nnan\n", "mean(x)", "nan" },
    { "x\n1\ninf\n", "mean(x)", "inf" },
    /* NaN is greater than every number: max takes it, min passes it by */
    { "x\nnan\n2\n-1\n", "min(x)", "-1.0" },
    { "x\nnan\n2\n-1\n", "max(x)", "nan" },
    { "x\ninf\nnan\n", "max(x)", "nan" },
    { "x\nnan\nnan\n", "min(x)", "nan" },
    { "x\nnan\nnan\n", "max(x)", "nan" },
    { "x\n-inf\n2\ninf\n", "min(x)", "-inf" },
    { "x\n-inf\n2\ninf\n", "max(x)", "inf" },
    /* quantiles order NaN above every number; infinities are values */
    { "x\n1\nnan\n3\n", "median(x)", "3.0" },
    { "x\n1\nnan\n3\n", "quantile(x, 0)", "1.0" },
    { "x\n1\nnan\n3\n", "quantile(x, 0.25)", "2.0" },
    { "x\n1\nnan\n3\nnan\n", "quantile(x, 0.5)", "nan" },
    { "x\n1\nnan\n3\n", "quantile(x, 1)", "nan" },
    { "x\n1\n2\ninf\n", "median(x)", "2.0" },
    { "x\n1\n2\ninf\n", "quantile(x, 1)", "inf" },
    { "x\nnan\nnan\n", "median(x)", "nan" },
    { "x\n1\ninf\n", "stddev(x)", "nan" },
    { "x\n1\nnan\n", "var(x)", "nan" },
    /* every NaN is one value to count_distinct and group_by; -0.0 is 0.0 */
    { "x\nnan\nnan\n0.0\n-0.0\n1\n", "count_distinct(x)", "3" },
    { "x\nnan\n1\n", "first(x)", "nan" },
    { "x\n1\nnan\n", "count(x)", "2" },
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    tl_table *t = load(cases[k].csv);
    const char *got = agg1(t, cases[k].def);
    check_count++;
    if (strcmp(got, cases[k].want) != 0) {
      check_failures++;
      fprintf(stderr, "%s over %s: got %s, want %s\n", cases[k].def, cases[k].csv, got,
              cases[k].want);
    }
    tl_table_release(t);
  }
}

/* NaN sorts as the largest number, as in DuckDB (`ORDER BY x DESC` puts it
** first); nulls come last in either direction. */
static void test_sort(void) {
  tl_table *t = load("x\n2\nnan\n\n-inf\ninf\n1\n");
  const char *up = "x", *down = "-x";
  static const char *const want_up[] = { "-inf", "1.0", "2.0", "inf", "nan", "null" };
  static const char *const want_down[] = { "nan", "inf", "2.0", "1.0", "-inf", "null" };
  for (int d = 0; d < 2; d++) {
    tl_table *s;
    CHECK(tl_table_sort(t, 1, d ? &down : &up, &s, NULL) == TL_OK);
    for (int i = 0; i < 6; i++) {
      tl_scalar v;
      char buf[32];
      tl_column_get(tl_table_column(s, 0), i, &v);
      tl_scalar_format(&v, buf, sizeof buf);
      CHECK_STR(buf, d ? want_down[i] : want_up[i]);
    }
    tl_table_release(s);
  }
  tl_table_release(t);
}

int main(void) {
  test_integers();
  test_floats();
  test_sort();
  return check_done("numeric");
}
