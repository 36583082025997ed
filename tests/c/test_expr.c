/*
** test_expr.c -- the expression language through filter, mutate and agg:
** operators, functions, nulls, types and the exact text of errors.
*/
#include <stdint.h>

#include "check.h"
#include "tables.h"
#include "tally/tally.h"

static void test_operators(void) {
  tl_table *t = load("a,b,s,d\n7,2,Asia,2016-01-02\n-7,0,Europe,2019-12-31\n,3,,\n");
  CHECK_STR(values(t, "a + b"), "9,-7,null");
  CHECK_STR(values(t, "a - b * 2"), "3,-7,null");
  CHECK_STR(values(t, "a / b"), "3.5,null,null");
  CHECK_STR(values(t, "a // b"), "3,null,null");
  CHECK_STR(values(t, "a % b"), "1,null,null");
  CHECK_STR(values(t, "-a // 2"), "-4,3,null");
  CHECK_STR(values(t, "-7 % 3"), "2,2,2");
  CHECK_STR(values(t, "2 ^ 3 ^ 2"), "512.0,512.0,512.0");
  CHECK_STR(values(t, "-2 ^ 2"), "-4.0,-4.0,-4.0");
  CHECK_STR(values(t, "a * 1.5"), "10.5,-10.5,null");
  CHECK_STR(values(t, "s .. '!' .. a"), "'Asia!7','Europe!-7',null");
  CHECK_STR(values(t, "a > 0 and b > 0"), "true,false,null");
  CHECK_STR(values(t, "a > 0 or b > 0"), "true,false,true");
  CHECK_STR(values(t, "a > 100 and b > 0"), "false,false,null");
  CHECK_STR(values(t, "a > 100 and b > 5"), "false,false,false");
  CHECK_STR(values(t, "not (a > 0)"), "false,true,null");
  CHECK_STR(values(t, "s == 'Asia'"), "true,false,null");
  CHECK_STR(values(t, "s ~= 'Asia'"), "false,true,null");
  CHECK_STR(values(t, "s != 'Asia' or is_null(s)"), "false,true,true");
  CHECK_STR(values(t, "s == nil"), "null,null,null");
  CHECK_STR(values(t, "d >= '2017-01-01'"), "false,true,null");
  CHECK_STR(values(t, "year(d) * 100 + month(d)"), "201601,201912,null");
  CHECK_STR(values(t, "a == 7.0"), "true,false,null");
  CHECK_STR(values(t, "9223372036854775807 + a"),
            "mutate: integer overflow in '+' at row 1");
  tl_table_release(t);
}

/* Comparisons of a dictionary-encoded column with a constant run once per
** dictionary entry: the same answers as row by row. */
static void test_dictionary(void) {
  tl_table *t = load("r,n\nAsia,1\nEurope,2\nAsia,3\n,4\nAsia,5\nEurope,6\nAfrica,7\nAsia,8\n");
  CHECK(tl_column_dictionary(tl_table_column(t, 0)) != NULL);
  CHECK_STR(values(t, "r == 'Asia'"), "true,false,true,null,true,false,false,true");
  CHECK_STR(values(t, "'Asia' ~= r"), "false,true,false,null,false,true,true,false");
  CHECK_STR(values(t, "r < 'B'"), "true,false,true,null,true,false,true,true");
  CHECK_STR(values(t, "'B' < r"), "false,true,false,null,false,true,false,false");
  CHECK_STR(values(t, "r == 'Oceania'"), "false,false,false,null,false,false,false,false");
  CHECK_STR(values(t, "r .. n"), "'Asia1','Europe2','Asia3',null,'Asia5','Europe6','Africa7','Asia8'");
  tl_table *f;
  CHECK(tl_table_filter(t, "r == 'Europe' or n > 7", &f, NULL) == TL_OK);
  CHECK(tl_table_nrows(f) == 3);
  CHECK(tl_column_dictionary(tl_table_column(f, 0)) == tl_column_dictionary(tl_table_column(t, 0)));
  CHECK_STR(values(f, "r"), "'Europe','Europe','Asia'");
  tl_table_release(f);
  tl_table_release(t);
}

static void test_functions(void) {
  tl_table *t = load("x,s\n2.5,\"  Mixed Case \"\n-4,ÉtÉ\n,\n");
  CHECK_STR(values(t, "abs(x)"), "2.5,4.0,null");
  CHECK_STR(values(t, "floor(x)"), "2.0,-4.0,null");
  CHECK_STR(values(t, "round(x)"), "3.0,-4.0,null");
  CHECK_STR(values(t, "round(1.23456, 2)"), "1.23,1.23,1.23");
  CHECK_STR(values(t, "sqrt(x)"), "1.5811388300841898,nan,null");
  CHECK_STR(values(t, "exp(ln(8))"), "7.999999999999998,7.999999999999998,7.999999999999998");
  CHECK_STR(values(t, "log(100)"), "2.0,2.0,2.0");
  CHECK_STR(values(t, "upper(trim(s))"), "'MIXED CASE','ÉTÉ',null");
  CHECK_STR(values(t, "len(s)"), "13,3,null");
  CHECK_STR(values(t, "substr(trim(s), 1, 5)"), "'Mixed','ÉtÉ',null");
  CHECK_STR(values(t, "substr(trim(s), -4)"), "'Case','ÉtÉ',null");
  CHECK_STR(values(t, "substr(s, -2)"), "'e ','tÉ',null");
  CHECK_STR(values(t, "contains(s, 'Case')"), "true,false,null");
  CHECK_STR(values(t, "starts_with(s, '  M')"), "true,false,null");
  CHECK_STR(values(t, "is_null(x)"), "false,false,true");
  CHECK_STR(values(t, "coalesce(x, 0)"), "2.5,-4.0,0.0");
  CHECK_STR(values(t, "if(x > 0, 'pos', 'neg')"), "'pos','neg','neg'");
  CHECK_STR(values(t, "`x` * 2"), "5.0,-8.0,null");
  tl_table_release(t);
}

static void test_errors(void) {
  tl_table *t = load("year,region\n2016,Asia\n");
  tl_table *out;
  tl_error err;
  CHECK(tl_table_filter(t, "year >= 20x8", &out, &err) == TL_EPARSE);
  CHECK_STR(err.message, "filter: \"year >= 20x8\": malformed number '20x8' at column 9");
  CHECK(tl_table_filter(t, "yaer >= 2018", &out, &err) == TL_EINVAL);
  CHECK_STR(err.message, "filter: unknown column 'yaer' (did you mean 'year'?)");
  CHECK(tl_table_filter(t, "year >= ", &out, &err) == TL_EPARSE);
  CHECK_STR(err.message, "filter: \"year >= \": unexpected end of expression at column 9");
  CHECK(tl_table_filter(t, "region > 3", &out, &err) == TL_ETYPE);
  CHECK_STR(err.message, "filter: \"region > 3\": cannot compare string with int at column 8");
  CHECK(tl_table_filter(t, "year + 1", &out, &err) == TL_ETYPE);
  CHECK_STR(err.message, "filter: \"year + 1\": the condition is int, not bool");
  CHECK(tl_table_filter(t, "(year > 1", &out, &err) == TL_EPARSE);
  CHECK_STR(err.message, "filter: \"(year > 1\": expected ')', found end of expression at column 10");
  CHECK(tl_table_filter(t, "year > 1)", &out, &err) == TL_EPARSE);
  CHECK_STR(err.message, "filter: \"year > 1)\": unexpected ')' at column 9");
  CHECK(tl_table_filter(t, "region == 'Asia", &out, &err) == TL_EPARSE);
  CHECK_STR(err.message, "filter: \"region == 'Asia\": unfinished string at column 11");
  CHECK(tl_table_filter(t, "frob(year)", &out, &err) == TL_ETYPE);
  CHECK_STR(err.message, "filter: \"frob(year)\": unknown function 'frob' at column 1");
  CHECK(tl_table_filter(t, "sum(year) > 1", &out, &err) == TL_ETYPE);
  CHECK_STR(err.message,
            "filter: \"sum(year) > 1\": aggregate 'sum' outside of agg (use it in g:agg or t:agg) at column 1");
  CHECK(tl_table_filter(t, "year @ 2", &out, &err) == TL_EPARSE);
  CHECK_STR(err.message, "filter: \"year @ 2\": unexpected '@' at column 6");
  char deep[1200];
  size_t k = 0;
  for (int i = 0; i < 300; i++) deep[k++] = '(';
  deep[k++] = '1';
  for (int i = 0; i < 300; i++) deep[k++] = ')';
  deep[k] = '\0';
  CHECK(tl_table_eval(t, deep, "mutate", &(tl_column *){ NULL }, &err) == TL_EPARSE);
  CHECK(strstr(err.message, "nested deeper than 200 levels") != NULL);
  tl_table_release(t);
}

static void test_verbs(void) {
  tl_table *t = load("program,year,participants\nA,2016,11\nB,2016,\nA,2017,13\nB,2017,9\n");
  tl_table *f, *m;
  tl_error err;
  CHECK(tl_table_filter(t, "year >= 2017 and participants > 10", &f, &err) == TL_OK);
  CHECK(tl_table_nrows(f) == 1);
  tl_table_release(f);
  CHECK(tl_table_filter(t, "participants > 0", &f, &err) == TL_OK);
  CHECK(tl_table_nrows(f) == 3);
  tl_table_release(f);
  /* everything kept: the same columns */
  CHECK(tl_table_filter(t, "year > 0", &f, &err) == TL_OK);
  CHECK(tl_table_column(f, 0) == tl_table_column(t, 0));
  tl_table_release(f);
  const char *defs[2] = { "double = participants * 2", "year = year + 1" };
  CHECK(tl_table_mutate(t, 2, defs, &m, &err) == TL_OK);
  CHECK(tl_table_ncols(m) == 4 && tl_table_find(m, "double") == 3);
  CHECK(tl_column_ints(tl_table_column(m, 1))[0] == 2017);
  CHECK(tl_table_column(m, 0) == tl_table_column(t, 0));   /* shared */
  tl_table_release(m);
  const char *names[2] = { "year", "nope" };
  CHECK(tl_table_select(t, 2, names, &m, &err) == TL_EINVAL);
  CHECK_STR(err.message, "select: unknown column 'nope'");
  const char *from[1] = { "year" }, *to[1] = { "program" };
  CHECK(tl_table_rename(t, 1, from, to, &m, &err) == TL_EINVAL);
  CHECK_STR(err.message, "rename: duplicate column name 'program'");
  tl_table_release(t);
}

/* Filters split their rows over the threads: the same rows, and the same
** first error, on 1 and 3 threads. */
static void test_threads(void) {
  tl_builder *b;
  tl_column *c;
  int64_t n = 200003;
  CHECK(tl_builder_new(TL_INT, n, &b, NULL) == TL_OK);
  for (int64_t i = 0; i < n; i++) {
    tl_status st = i % 11 == 5 ? tl_builder_append_null(b, NULL)
                               : tl_builder_append_int(b, i == 150000 ? INT64_MAX : i, NULL);
    if (st != TL_OK) break;
  }
  CHECK(tl_builder_finish(b, &c, NULL) == TL_OK);
  const char *name = "x";
  tl_table *t;
  CHECK(tl_table_new(1, &name, &c, &t, NULL) == TL_OK);
  tl_column_release(c);
  int64_t rows[2] = { 0, 0 }, last[2] = { 0, 0 }, sum[2] = { 0, 0 };
  char msg[2][TL_ERROR_SIZE], msg2[2][TL_ERROR_SIZE];
  for (int k = 0; k < 2; k++) {
    tl_set_threads(k ? 3 : 1);
    tl_table *f;
    tl_error err;
    CHECK(tl_table_filter(t, "x % 3 == 1", &f, &err) == TL_OK);
    rows[k] = tl_table_nrows(f);
    last[k] = tl_column_ints(tl_table_column(f, 0))[rows[k] - 1];
    tl_table_release(f);
    CHECK(tl_table_filter(t, "x + 1 > 0", &f, &err) == TL_ERANGE);
    snprintf(msg[k], sizeof msg[k], "%s", err.message);
    tl_column *m;   /* a computed column: the same values, nulls and first error */
    CHECK(tl_table_eval(t, "if(x < 150000, x % 1000, null) * 2", "mutate", &m, &err) == TL_OK);
    CHECK(tl_column_null_count(m) == 200003 - 150000 + 150000 / 11 + (150000 % 11 > 5));
    tl_scalar s;
    CHECK(tl_column_sum(m, &s, NULL) == TL_OK);
    sum[k] = s.v.i;
    tl_column_release(m);
    CHECK(tl_table_eval(t, "x + 1", "mutate", &m, &err) == TL_ERANGE);
    snprintf(msg2[k], sizeof msg2[k], "%s", err.message);
  }
  CHECK(sum[0] == sum[1] && sum[0] > 0);
  /* an interrupt stops a scan between vectors, and stands until cleared */
  tl_table *f;
  tl_error err;
  tl_column *m;
  tl_interrupt();
  CHECK(tl_table_filter(t, "x > 0", &f, &err) == TL_EINTR);
  CHECK_STR(err.message, "filter: interrupted");
  CHECK(tl_table_eval(t, "x * 2", "mutate", &m, &err) == TL_EINTR);
  CHECK_STR(err.message, "mutate: interrupted");
  tl_clear_interrupt();
  CHECK(tl_table_filter(t, "x > 0", &f, &err) == TL_OK);
  tl_table_release(f);
  CHECK_STR(msg2[0], "mutate: integer overflow in '+' at row 150001");
  CHECK_STR(msg2[1], msg2[0]);
  tl_set_threads(0);
  CHECK(rows[0] == rows[1] && last[0] == last[1] && last[0] == 200002);
  CHECK_STR(msg[0], "filter: integer overflow in '+' at row 150001");
  CHECK_STR(msg[1], msg[0]);
  tl_table_release(t);
}

int main(void) {
  test_threads();
  test_operators();
  test_dictionary();
  test_functions();
  test_errors();
  test_verbs();
  return check_done("expr");
}
