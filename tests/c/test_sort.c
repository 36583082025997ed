/*
** test_sort.c -- sort, top, distinct, concat, value_counts and unique: nulls,
** NaN, empty and one-row tables, stability, dictionary strings, and random
** tables checked against a plain comparator written here; gather (the rows
** of several tables, as an external sort's merge takes them).
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tables.h"
#include "base/column.h"
#include "base/table.h"
#include "tally/tally.h"

/* A table as "a,b;1,2;..." for comparison. */
static const char *show(const tl_table *t) {
  static char out[8192];
  size_t k = 0;
  out[0] = '\0';
  for (int j = 0; j < tl_table_ncols(t); j++)
    k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", j ? "," : "", tl_table_name(t, j));
  for (int64_t i = 0; i < tl_table_nrows(t); i++) {
    for (int j = 0; j < tl_table_ncols(t); j++) {
      tl_scalar v;
      char buf[128];
      tl_column_get(tl_table_column(t, j), i, &v);
      tl_scalar_format(&v, buf, sizeof buf);
      k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", j ? "," : ";", buf);
    }
  }
  return out;
}

/* The result of a verb as text, or its error message. */
static const char *result(tl_status st, tl_table *out, const tl_error *err) {
  static char msg[TL_ERROR_SIZE];
  if (st != TL_OK) { snprintf(msg, sizeof msg, "%s", err->message); return msg; }
  const char *s = show(out);
  tl_table_release(out);
  return s;
}

#define NARGS(...) ((int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define ARGS(...) (const char *[]){ __VA_ARGS__ }

static const char *sort_(const tl_table *t, int n, const char *const *keys) {
  tl_table *out = NULL;
  tl_error err;
  tl_status st = tl_table_sort(t, n, keys, &out, &err);
  return result(st, out, &err);
}
#define SORT(t, ...) sort_(t, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))

static const char *top_(const tl_table *t, int64_t n, int nk, const char *const *keys) {
  tl_table *out = NULL;
  tl_error err;
  tl_status st = tl_table_top(t, n, nk, keys, &out, &err);
  return result(st, out, &err);
}
#define TOP(t, n, ...) top_(t, n, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))

static const char *distinct_(const tl_table *t, int n, const char *const *cols) {
  tl_table *out = NULL;
  tl_error err;
  tl_status st = tl_table_distinct(t, n, cols, &out, &err);
  return result(st, out, &err);
}
#define DISTINCT(t, ...) distinct_(t, NARGS(__VA_ARGS__), ARGS(__VA_ARGS__))

static const char *concat_(int n, const tl_table *const *ts) {
  tl_table *out = NULL;
  tl_error err;
  tl_status st = tl_table_concat(n, ts, &out, &err);
  return result(st, out, &err);
}

static const char *value_counts_(const tl_column *c) {
  tl_table *out = NULL;
  tl_error err;
  tl_status st = tl_column_value_counts(c, &out, &err);
  return result(st, out, &err);
}

static tl_table *select1(const tl_table *t, const char *name) {
  tl_table *out = NULL;
  tl_error err;
  if (tl_table_select(t, 1, &name, &out, &err) != TL_OK) fprintf(stderr, "%s\n", err.message);
  return out;
}

/* A table of one float column f (with NaN, -0.0, infinity and a null) and
** an int column id. */
static tl_table *float_table(void) {
  const double v[] = { 1.5, NAN, 0, -0.0, 0.0, -2, INFINITY, -NAN, 1.5 };
  int n = (int)(sizeof v / sizeof v[0]);
  tl_builder *bf, *bi;
  tl_column *cols[2];
  tl_error err;
  tl_table *t = NULL;
  if (tl_builder_new(TL_FLOAT, 0, &bf, &err) != TL_OK) return NULL;
  if (tl_builder_new(TL_INT, 0, &bi, &err) != TL_OK) return NULL;
  for (int i = 0; i < n; i++) {
    tl_status st = i == 2 ? tl_builder_append_null(bf, &err) : tl_builder_append_float(bf, v[i], &err);
    if (st == TL_OK) st = tl_builder_append_int(bi, i, &err);
    if (st != TL_OK) return NULL;
  }
  if (tl_builder_finish(bf, &cols[0], &err) != TL_OK) return NULL;
  if (tl_builder_finish(bi, &cols[1], &err) != TL_OK) return NULL;
  if (tl_table_new(2, ARGS("f", "id"), cols, &t, &err) != TL_OK) fprintf(stderr, "%s\n", err.message);
  tl_column_release(cols[0]);
  tl_column_release(cols[1]);
  return t;
}

/* A copy of a string column with no dictionary. */
static tl_column *plain_copy(const tl_column *c) {
  tl_builder *b;
  tl_column *out = NULL;
  tl_error err;
  if (tl_builder_new(TL_STRING, 0, &b, &err) != TL_OK) return NULL;
  for (int64_t i = 0; i < tl_column_length(c); i++) {
    size_t len;
    const char *s = tl_column_string_at(c, i, &len);
    tl_status st = tl_column_is_null(c, i) ? tl_builder_append_null(b, &err)
                                           : tl_builder_append_string(b, s, len, &err);
    if (st != TL_OK) { tl_builder_free(b); return NULL; }
  }
  if (tl_builder_finish(b, &out, &err) != TL_OK) return NULL;
  return out;
}

static void test_ints(void) {
  tl_table *t = load("k,id\n3,a\n1,b\n,c\n3,d\n1,e\n2,f\n");
  CHECK_STR(SORT(t, "k"), "k,id;1,b;1,e;2,f;3,a;3,d;null,c");
  CHECK_STR(SORT(t, "-k"), "k,id;3,a;3,d;2,f;1,b;1,e;null,c");
  CHECK_STR(SORT(t, "id"), "k,id;3,a;1,b;null,c;3,d;1,e;2,f");
  CHECK_STR(SORT(t, "-id"), "k,id;2,f;1,e;3,d;null,c;1,b;3,a");
  CHECK_STR(TOP(t, 3, "k"), "k,id;1,b;1,e;2,f");
  CHECK_STR(TOP(t, 2, "-k"), "k,id;3,a;3,d");
  CHECK_STR(TOP(t, 6, "-k"), "k,id;3,a;3,d;2,f;1,b;1,e;null,c");
  CHECK_STR(TOP(t, 100, "k"), "k,id;1,b;1,e;2,f;3,a;3,d;null,c");
  CHECK_STR(TOP(t, 0, "k"), "k,id");
  /* a sorted table comes back as itself */
  tl_table *s = NULL;
  tl_error err;
  CHECK(tl_table_sort(t, 1, ARGS("id"), &s, &err) == TL_OK && s == t);
  tl_table_release(s);
  tl_table_release(t);

  /* stability: equal keys keep the order of the table, in both directions */
  t = load("k,id\n2,1\n1,2\n2,3\n1,4\n2,5\n1,6\n2,7\n");
  CHECK_STR(SORT(t, "k"), "k,id;1,2;1,4;1,6;2,1;2,3;2,5;2,7");
  CHECK_STR(SORT(t, "-k"), "k,id;2,1;2,3;2,5;2,7;1,2;1,4;1,6");
  CHECK_STR(TOP(t, 5, "-k"), "k,id;2,1;2,3;2,5;2,7;1,2");
  CHECK_STR(SORT(t, "k", "-id"), "k,id;1,6;1,4;1,2;2,7;2,5;2,3;2,1");
  CHECK_STR(TOP(t, 3, "k", "-id"), "k,id;1,6;1,4;1,2");
  tl_table_release(t);

  /* negative numbers and the extremes of int64 */
  t = load("k\n-5\n9223372036854775807\n0\n-9223372036854775808\n7\n-1\n");
  CHECK_STR(SORT(t, "k"), "k;-9223372036854775808;-5;-1;0;7;9223372036854775807");
  CHECK_STR(SORT(t, "-k"), "k;9223372036854775807;7;0;-1;-5;-9223372036854775808");
  tl_table_release(t);

  /* dates and bools */
  t = load("d,b,id\n2020-01-02,true,1\n1969-12-31,false,2\n,true,3\n2020-01-01,,4\n1900-03-01,false,5\n");
  CHECK_STR(SORT(t, "d"), "d,b,id;1900-03-01,false,5;1969-12-31,false,2;2020-01-01,null,4;"
                          "2020-01-02,true,1;null,true,3");
  CHECK_STR(SORT(t, "-d"), "d,b,id;2020-01-02,true,1;2020-01-01,null,4;1969-12-31,false,2;"
                           "1900-03-01,false,5;null,true,3");
  CHECK_STR(SORT(t, "b"), "d,b,id;1969-12-31,false,2;1900-03-01,false,5;2020-01-02,true,1;"
                          "null,true,3;2020-01-01,null,4");
  CHECK_STR(SORT(t, "-b", "d"), "d,b,id;2020-01-02,true,1;null,true,3;1900-03-01,false,5;"
                                "1969-12-31,false,2;2020-01-01,null,4");
  CHECK_STR(TOP(t, 2, "-b", "d"), "d,b,id;2020-01-02,true,1;null,true,3");
  tl_table_release(t);
}

static void test_floats(void) {
  tl_table *t = float_table();   /* f: 1.5, NaN, null, -0.0, 0.0, -2, inf, NaN, 1.5 */
  tl_table *out = NULL;
  tl_error err;
  const char *key = "f";
  /* ids only: -0.0 and 0.0 are equal, so they stay in table order */
  CHECK(tl_table_sort(t, 1, &key, &out, &err) == TL_OK);
  tl_table *ids = select1(out, "id");
  CHECK_STR(show(ids), "id;5;3;4;0;8;6;1;7;2");
  tl_table_release(ids);
  tl_table_release(out);
  key = "-f";
  CHECK(tl_table_sort(t, 1, &key, &out, &err) == TL_OK);
  ids = select1(out, "id");
  CHECK_STR(show(ids), "id;1;7;6;0;8;3;4;5;2");   /* NaN the largest: first */
  tl_table_release(ids);
  tl_table_release(out);
  /* top reaches into the NaN rows (last ascending, first descending), then the null */
  for (int64_t n = 0; n <= 10; n++) {
    tl_table *a = NULL, *b = NULL, *s = NULL;
    for (int desc = 0; desc < 2; desc++) {
      key = desc ? "-f" : "f";
      CHECK(tl_table_sort(t, 1, &key, &s, &err) == TL_OK);
      CHECK(tl_table_slice(s, 0, n, &a, &err) == TL_OK);
      CHECK(tl_table_top(t, n, 1, &key, &b, &err) == TL_OK);
      tl_table *ia = select1(a, "id"), *ib = select1(b, "id");
      char want[256];
      snprintf(want, sizeof want, "%s", show(ia));
      CHECK_STR(show(ib), want);
      tl_table_release(ia);
      tl_table_release(ib);
      tl_table_release(a);
      tl_table_release(b);
      tl_table_release(s);
    }
  }
  /* several keys over floats: NaN equals NaN, so id decides */
  const char *k2[2] = { "f", "-id" };
  CHECK(tl_table_sort(t, 2, k2, &out, &err) == TL_OK);
  ids = select1(out, "id");
  CHECK_STR(show(ids), "id;5;4;3;8;0;6;7;1;2");
  tl_table_release(ids);
  tl_table_release(out);
  tl_table_release(t);
}

static void test_strings(void) {
  /* few rows: plain strings; byte order puts "B" before "a" and "é" last */
  tl_table *t = load("s,id\nb,1\n\xc3\xa9,2\nB,3\n,4\na,5\nab,6\n");
  CHECK(tl_column_dictionary(tl_table_column(t, 0)) == NULL);
  CHECK_STR(SORT(t, "s"), "s,id;B,3;a,5;ab,6;b,1;\xc3\xa9,2;null,4");
  CHECK_STR(SORT(t, "-s"), "s,id;\xc3\xa9,2;b,1;ab,6;a,5;B,3;null,4");
  CHECK_STR(TOP(t, 2, "-s"), "s,id;\xc3\xa9,2;b,1");
  CHECK_STR(TOP(t, 4, "s"), "s,id;B,3;a,5;ab,6;b,1");
  tl_table_release(t);

  /* repeated values: a dictionary column, in the order of first appearance,
  ** which is not the sorted order */
  const char *csv = "g,x,id\npear,3,1\napple,1,2\n,2,3\npear,1,4\nPlum,,5\napple,2,6\n"
                    "pear,2,7\n,1,8\napple,1,9\nPlum,3,10\npear,,11\napple,3,12\n";
  t = load(csv);
  const tl_column *g = tl_table_column(t, 0);
  CHECK(tl_column_dictionary(g) != NULL);
  const char *want_g = "g,x,id;Plum,null,5;Plum,3,10;apple,1,2;apple,2,6;apple,1,9;apple,3,12;"
                       "pear,3,1;pear,1,4;pear,2,7;pear,null,11;null,2,3;null,1,8";
  const char *want_gx = "g,x,id;Plum,3,10;Plum,null,5;apple,3,12;apple,2,6;apple,1,2;apple,1,9;"
                        "pear,3,1;pear,2,7;pear,1,4;pear,null,11;null,2,3;null,1,8";
  const char *want_xg = "g,x,id;apple,1,2;apple,1,9;pear,1,4;null,1,8;apple,2,6;pear,2,7;"
                        "null,2,3;Plum,3,10;apple,3,12;pear,3,1;Plum,null,5;pear,null,11";
  const char *want_mg = "g,x,id;pear,3,1;pear,1,4;pear,2,7;pear,null,11;apple,1,2;apple,2,6;"
                        "apple,1,9;apple,3,12;Plum,null,5;Plum,3,10;null,2,3;null,1,8";
  CHECK_STR(SORT(t, "g"), want_g);
  CHECK_STR(SORT(t, "g", "-x"), want_gx);
  CHECK_STR(SORT(t, "x", "g"), want_xg);
  CHECK_STR(SORT(t, "-g"), want_mg);
  CHECK_STR(TOP(t, 3, "g", "-x"), "g,x,id;Plum,3,10;Plum,null,5;apple,3,12");
  CHECK_STR(TOP(t, 3, "-g"), "g,x,id;pear,3,1;pear,1,4;pear,2,7");
  /* the same with the strings plain: the same order */
  tl_column *p = plain_copy(g);
  tl_table *u = NULL;
  tl_error err;
  CHECK(p && tl_column_dictionary(p) == NULL);
  CHECK(tl_table_set_column(t, "g", p, &u, &err) == TL_OK);
  CHECK_STR(SORT(u, "g"), want_g);
  CHECK_STR(SORT(u, "g", "-x"), want_gx);
  CHECK_STR(SORT(u, "x", "g"), want_xg);
  CHECK_STR(SORT(u, "-g"), want_mg);
  CHECK_STR(TOP(u, 3, "g", "-x"), "g,x,id;Plum,3,10;Plum,null,5;apple,3,12");
  tl_column_release(p);
  tl_table_release(u);
  tl_table_release(t);
}

static void test_edges(void) {
  tl_table *t = load("k,s\n2,x\n"), *e = NULL;
  tl_error err;
  CHECK_STR(SORT(t, "k"), "k,s;2,x");
  CHECK_STR(SORT(t, "-s", "k"), "k,s;2,x");
  CHECK_STR(TOP(t, 1, "-k"), "k,s;2,x");
  CHECK_STR(TOP(t, 5, "k"), "k,s;2,x");
  CHECK_STR(TOP(t, 0, "k"), "k,s");
  CHECK_STR(DISTINCT(t, "s"), "s;x");
  CHECK(tl_table_slice(t, 0, 0, &e, &err) == TL_OK);
  CHECK_STR(SORT(e, "k"), "k,s");
  CHECK_STR(SORT(e, "-s", "k"), "k,s");
  CHECK_STR(TOP(e, 3, "k"), "k,s");
  CHECK_STR(TOP(e, 0, "-s"), "k,s");
  CHECK_STR(DISTINCT(e, "k"), "k");
  CHECK_STR(distinct_(e, 0, NULL), "k,s");
  tl_table_release(e);
  tl_table_release(t);

  /* a column may have a name that starts with '-' */
  t = load("-a,b\n1,2\n0,1\n");
  CHECK_STR(SORT(t, "-a"), "-a,b;0,1;1,2");
  CHECK_STR(SORT(t, "--a"), "-a,b;1,2;0,1");
  tl_table_release(t);
}

static void test_errors(void) {
  tl_table *t = load("year,program\n2016,a\n"), *out = NULL;
  tl_error err;
  CHECK_STR(SORT(t, "yaer"), "sort: unknown column 'yaer' (did you mean 'year'?)");
  CHECK_STR(SORT(t, "-yaer"), "sort: unknown column 'yaer' (did you mean 'year'?)");
  CHECK_STR(SORT(t, "year", "zzz"), "sort: unknown column 'zzz'");
  CHECK_STR(TOP(t, 3, "-progam"), "top: unknown column 'progam' (did you mean 'program'?)");
  CHECK_STR(DISTINCT(t, "program", "yera"), "distinct: unknown column 'yera' (did you mean 'year'?)");
  CHECK_STR(DISTINCT(t, "year", "year"), "distinct: column 'year' is named twice");
  CHECK(tl_table_sort(t, 0, NULL, &out, &err) == TL_EINVAL);
  CHECK_STR(err.message, "sort: expected at least one key");
  CHECK(tl_table_top(t, 1, 0, NULL, &out, &err) == TL_EINVAL);
  CHECK_STR(err.message, "top: expected at least one key");
  CHECK(tl_table_top(t, -1, 1, ARGS("year"), &out, &err) == TL_EINVAL);
  CHECK_STR(err.message, "top: the number of rows must not be negative, got -1");
  CHECK(out == NULL);
  tl_table_release(t);
}

static void test_distinct(void) {
  tl_table *t = load("a,b,c\n1,x,1.5\n2,y,\n1,x,2.5\n,x,\n2,y,3.5\n,x,\n1,z,1.5\n");
  CHECK_STR(DISTINCT(t, "a"), "a;1;2;null");
  CHECK_STR(DISTINCT(t, "b"), "b;x;y;z");
  CHECK_STR(DISTINCT(t, "b", "a"), "b,a;x,1;y,2;x,null;z,1");
  CHECK_STR(DISTINCT(t, "c"), "c;1.5;null;2.5;3.5");
  CHECK_STR(distinct_(t, 0, NULL), "a,b,c;1,x,1.5;2,y,null;1,x,2.5;null,x,null;2,y,3.5;1,z,1.5");
  tl_table_release(t);
  /* NaN equals NaN, -0.0 equals 0.0 */
  t = float_table();
  tl_table *out = NULL;
  tl_error err;
  const char *f = "f";
  CHECK(tl_table_distinct(t, 1, &f, &out, &err) == TL_OK);
  CHECK(out && tl_table_nrows(out) == 6);   /* 1.5, NaN, null, 0, -2, inf */
  if (out) {
    const double *v = tl_column_floats(tl_table_column(out, 0));
    CHECK(v[0] == 1.5 && isnan(v[1]) && tl_column_is_null(tl_table_column(out, 0), 2));
    CHECK(v[3] == 0 && v[4] == -2 && isinf(v[5]));
  }
  tl_table_release(out);
  tl_table_release(t);
}

static void test_concat(void) {
  tl_table *a = load("x,s,d\n1,p,2020-01-01\n2,,2020-01-02\n");
  tl_table *b = load("s,x,b\nq,1.5,true\nr,,false\n");
  tl_table *c = load("x\n7\n");
  tl_table *out = NULL;
  tl_error err;
  const tl_table *ts[3] = { a, b, c };
  CHECK_STR(concat_(3, ts),
            "x,s,d,b;1.0,p,2020-01-01,null;2.0,null,2020-01-02,null;1.5,q,null,true;"
            "null,r,null,false;7.0,null,null,null");
  const tl_table *ts2[2] = { c, a };
  CHECK_STR(concat_(2, ts2),
            "x,s,d;7,null,null;1,p,2020-01-01;2,null,2020-01-02");
  const tl_table *ts1[1] = { a };
  CHECK(tl_table_concat(1, ts1, &out, &err) == TL_OK && out == a);
  tl_table_release(out);
  CHECK(tl_table_concat(0, NULL, &out, &err) == TL_OK);
  CHECK(tl_table_ncols(out) == 0 && tl_table_nrows(out) == 0);
  tl_table_release(out);
  tl_table *e = NULL;
  CHECK(tl_table_slice(b, 0, 0, &e, &err) == TL_OK);
  const tl_table *ts3[3] = { e, c, e };
  CHECK_STR(concat_(3, ts3), "s,x,b;null,7.0,null");
  tl_table *bad = load("y,s\n1,2\n");
  const tl_table *ts4[3] = { a, c, bad };
  CHECK(tl_table_concat(3, ts4, &out, &err) == TL_ETYPE);
  CHECK_STR(err.message, "concat: column 's' is string in table 1 but int in table 3");
  tl_table *bad2 = load("d\n5\n");
  const tl_table *ts5[2] = { a, bad2 };
  CHECK(tl_table_concat(2, ts5, &out, &err) == TL_ETYPE);
  CHECK_STR(err.message, "concat: column 'd' is date in table 1 but int in table 2");

  /* dictionary columns: one shared dictionary stays encoded; others decode */
  tl_table *g0 = load("g,z\nu,1\nv,1\nu,1\nv,1\nu,1\n,1\n"), *g = select1(g0, "g");
  tl_table_release(g0);
  const tl_column *gc = tl_table_column(g, 0);
  CHECK(tl_column_dictionary(gc) != NULL);
  const tl_table *ts6[2] = { g, g };
  CHECK(tl_table_concat(2, ts6, &out, &err) == TL_OK);
  CHECK(tl_column_dictionary(tl_table_column(out, 0)) == tl_column_dictionary(gc));
  CHECK_STR(show(out), "g;u;v;u;v;u;null;u;v;u;v;u;null");
  tl_table_release(out);
  tl_table *h = load("g\nw\nw\nu\nw\n");
  const tl_table *ts7[3] = { g, h, a };
  CHECK(tl_table_concat(3, ts7, &out, &err) == TL_OK);
  CHECK(tl_column_dictionary(tl_table_column(out, 0)) == NULL);
  CHECK_STR(show(out), "g,x,s,d;u,null,null,null;v,null,null,null;u,null,null,null;"
                       "v,null,null,null;u,null,null,null;null,null,null,null;w,null,null,null;"
                       "w,null,null,null;u,null,null,null;w,null,null,null;null,1,p,2020-01-01;"
                       "null,2,null,2020-01-02");
  tl_table_release(out);
  tl_table_release(g);
  tl_table_release(h);
  tl_table_release(e);
  tl_table_release(a);
  tl_table_release(b);
  tl_table_release(c);
  tl_table_release(bad);
  tl_table_release(bad2);
}

/* 1 when two tables of int columns are equal, names and values. */
static int same_ints(const tl_table *a, const tl_table *b) {
  if (tl_table_ncols(a) != tl_table_ncols(b) || tl_table_nrows(a) != tl_table_nrows(b)) return 0;
  for (int j = 0; j < tl_table_ncols(a); j++) {
    const int64_t *x = tl_column_ints(tl_table_column(a, j)), *y = tl_column_ints(tl_table_column(b, j));
    if (strcmp(tl_table_name(a, j), tl_table_name(b, j)) != 0 || !x || !y) return 0;
    for (int64_t i = 0; i < tl_table_nrows(a); i++)
      if (x[i] != y[i]) return 0;
  }
  return 1;
}

/* concat_consume: the result of concat, holding one column of the inputs
** and the result at once, so it fits where concat does not. */
static void test_concat_consume(void) {
  enum { NT = 10, NC = 4, NR = 10000 };
  tl_table *in[NT], *copy[NT];
  tl_error err;
  const char *names[NC] = { "a", "b", "c", "d" };
  for (int i = 0; i < NT; i++) {
    tl_column *c[NC];
    for (int j = 0; j < NC; j++) {
      CHECK(tl_column_alloc(TL_INT, NR, 0, 0, &c[j], &err) == TL_OK);
      for (int64_t r = 0; r < NR; r++) ((int64_t *)c[j]->values)[r] = i * 1000003 + j * 101 + r;
      tl_column_seal(c[j]);
    }
    CHECK(tl_table_new(NC, names, c, &in[i], &err) == TL_OK);
    for (int j = 0; j < NC; j++) tl_column_release(c[j]);
    copy[i] = tl_table_retain(in[i]);   /* held twice: concat_consume must leave it whole */
  }
  tl_table *want = NULL, *got = NULL;
  CHECK(tl_table_concat(NT, (const tl_table *const *)in, &want, &err) == TL_OK);
  CHECK(tl_table_concat_consume(NT, in, &got, &err) == TL_OK);   /* nothing let go */
  CHECK(same_ints(got, want));
  tl_table_release(got);
  for (int i = 0; i < NT; i++) CHECK(tl_table_column(in[i], NC - 1) != NULL);
  for (int i = 0; i < NT; i++) tl_table_release(copy[i]);   /* now each is held once */

  /* the inputs hold 3.2 MB, the result as much; a column of it 0.8 MB: with
  ** 2 MB more than the inputs, concat fails, concat_consume (letting a column
  ** of the inputs go as each column of the result is made) fits */
  size_t base = tl_env_memory(NULL);
  tl_env_set_memory_limit(NULL, base + (size_t)2 * 1024 * 1024);
  CHECK(tl_table_concat(NT, (const tl_table *const *)in, &got, &err) == TL_ENOMEM);
  CHECK(tl_table_concat_consume(NT, in, &got, &err) == TL_OK);
  tl_env_set_memory_limit(NULL, 0);
  for (int i = 0; i < NT; i++) tl_table_release(in[i]);
  CHECK(tl_table_nrows(got) == NT * NR);
  CHECK(same_ints(got, want));
  tl_table_release(got);
  tl_table_release(want);
}

static const char *gather_(int n, const tl_table *const *ts, int64_t m, const int32_t *part,
                           const int64_t *row) {
  tl_table *out = NULL;
  tl_error err;
  tl_status st = tl_table_gather(n, ts, part, row, m, &out, &err);
  return result(st, out, &err);
}

static void test_gather(void) {
  tl_table *a = load("x,s,d,f,b\n1,p,2020-01-01,0.5,true\n2,,2020-01-02,,false\n");
  tl_table *b = load("x,s,d,f,b\n3,q,,1.5,\n4,rr,2021-03-04,-2,true\n5,p,2022-01-01,nan,false\n");
  const tl_table *ab[2] = { a, b };
  CHECK_STR(gather_(2, ab, 5, (const int32_t[]){ 1, 0, 1, 0, 1 }, (const int64_t[]){ 2, 1, 0, 0, 0 }),
            "x,s,d,f,b;5,p,2022-01-01,nan,false;2,null,2020-01-02,null,false;"
            "3,q,null,1.5,null;1,p,2020-01-01,0.5,true;3,q,null,1.5,null");
  CHECK_STR(gather_(2, ab, 0, NULL, NULL), "x,s,d,f,b");
  CHECK_STR(gather_(1, ab, 2, (const int32_t[]){ 0, 0 }, (const int64_t[]){ 1, 1 }),
            "x,s,d,f,b;2,null,2020-01-02,null,false;2,null,2020-01-02,null,false");

  /* one dictionary shared stays encoded; two, or a dictionary and plain strings, decode */
  tl_table *g0 = load("g,z\nu,1\nv,1\nu,1\nv,1\nu,1\n,1\n"), *g = select1(g0, "g");
  tl_table *h0 = load("g,z\nw,1\nw,1\nu,1\nw,1\nw,1\nw,1\n"), *h = select1(h0, "g");
  const tl_column *gc = tl_table_column(g, 0);
  CHECK(tl_column_dictionary(gc) != NULL);
  tl_column *pc = plain_copy(gc);
  tl_table *p = NULL;
  tl_error err;
  CHECK(tl_table_new(1, ARGS("g"), &pc, &p, &err) == TL_OK);
  tl_column_release(pc);
  tl_table *out = NULL;
  const tl_table *gg[2] = { g, g }, *gh[2] = { g, h }, *gp[2] = { p, g };
  const int32_t parts[4] = { 1, 0, 1, 0 };
  const int64_t rows[4] = { 5, 1, 0, 2 };
  CHECK(tl_table_gather(2, gg, parts, rows, 4, &out, &err) == TL_OK);
  CHECK(tl_column_dictionary(tl_table_column(out, 0)) == tl_column_dictionary(gc));
  CHECK_STR(show(out), "g;null;v;u;u");
  tl_table_release(out);
  CHECK(tl_table_gather(2, gh, parts, rows, 4, &out, &err) == TL_OK);
  CHECK(tl_column_dictionary(tl_table_column(out, 0)) == NULL);
  CHECK_STR(show(out), "g;w;v;w;u");
  tl_table_release(out);
  CHECK(tl_table_gather(2, gp, parts, rows, 4, &out, &err) == TL_OK);
  CHECK(tl_column_dictionary(tl_table_column(out, 0)) == NULL);
  CHECK_STR(show(out), "g;null;v;u;u");
  tl_table_release(out);

  /* the tables must agree; rows must be in range */
  const tl_table *ag[2] = { a, g };
  CHECK_STR(gather_(2, ag, 1, (const int32_t[]){ 0 }, (const int64_t[]){ 0 }),
            "gather: table 2's columns differ from table 1's");
  CHECK_STR(gather_(2, ab, 2, (const int32_t[]){ 0, 1 }, (const int64_t[]){ 0, 3 }),
            "gather: row 4 of table 2 out of range");
  CHECK_STR(gather_(2, ab, 1, (const int32_t[]){ 2 }, (const int64_t[]){ 0 }),
            "gather: row 1 of table 3 out of range");
  CHECK_STR(gather_(0, ab, 0, NULL, NULL), "gather: no tables");

  /* many rows: the columns are gathered on the worker threads */
  tl_table *big = NULL;
  int64_t n = 50000;
  int32_t *bp = malloc((size_t)n * sizeof *bp);
  int64_t *br = malloc((size_t)n * sizeof *br);
  for (int64_t i = 0; i < n; i++) bp[i] = (int32_t)(i % 2), br[i] = i % (i % 2 ? 3 : 2);
  CHECK(tl_table_gather(2, ab, bp, br, n, &big, &err) == TL_OK);
  int64_t sum = 0;
  const int64_t *xv = tl_column_ints(tl_table_column(big, 0));
  for (int64_t i = 0; i < n; i++) sum += xv[i];
  int64_t want = 0;
  for (int64_t i = 0; i < n; i++) want += i % 2 ? 3 + i % 3 : 1 + i % 2;
  CHECK(tl_table_nrows(big) == n && sum == want);
  tl_table_release(big);
  free(bp);
  free(br);
  tl_table_release(g0);
  tl_table_release(h0);
  tl_table_release(g);
  tl_table_release(h);
  tl_table_release(p);
  tl_table_release(a);
  tl_table_release(b);
}

static void test_counts(void) {
  tl_table *t = load("s,x\nb,1\na,2\n,1\nb,\na,2\nc,3\n,1\nb,\n");
  tl_column *u = NULL;
  tl_error err;
  CHECK_STR(value_counts_(tl_table_column(t, 0)),
            "value,count;b,3;a,2;null,2;c,1");
  CHECK_STR(value_counts_(tl_table_column(t, 1)),
            "value,count;1,3;2,2;null,2;3,1");
  CHECK(tl_column_unique(tl_table_column(t, 0), &u, &err) == TL_OK);
  CHECK(tl_column_length(u) == 4 && tl_column_null_count(u) == 1);
  CHECK(tl_column_type(u) == TL_STRING);
  size_t len;
  const char *s = tl_column_string_at(u, 0, &len);
  CHECK(len == 1 && s[0] == 'b');
  s = tl_column_string_at(u, 1, &len);
  CHECK(len == 1 && s[0] == 'a');
  CHECK(tl_column_is_null(u, 2));
  s = tl_column_string_at(u, 3, &len);
  CHECK(len == 1 && s[0] == 'c');
  tl_column_release(u);
  CHECK(tl_column_unique(tl_table_column(t, 1), &u, &err) == TL_OK);
  const int64_t *v = tl_column_ints(u);
  CHECK(tl_column_length(u) == 4 && v[0] == 1 && v[1] == 2 && tl_column_is_null(u, 2) && v[3] == 3);
  tl_column_release(u);
  tl_table *e = NULL;
  CHECK(tl_table_slice(t, 0, 0, &e, &err) == TL_OK);
  CHECK_STR(value_counts_(tl_table_column(e, 0)),
            "value,count");
  CHECK(tl_column_unique(tl_table_column(e, 1), &u, &err) == TL_OK);
  CHECK(tl_column_length(u) == 0 && tl_column_type(u) == TL_INT);
  tl_column_release(u);
  tl_table_release(e);
  tl_table_release(t);
}

/* ---------------------------------------------------------------------------
** Random tables against a comparator written from the contract alone.
*/

static uint64_t lcg_state;
static uint32_t lcg(void) {
  lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(lcg_state >> 33);
}

/* Columns: row (0..n-1), i (int, few values, nulls), f (float with NaN,
** -0.0 and nulls), g (dictionary strings), s (plain strings, nulls),
** d (dates). */
static tl_table *random_table(int64_t n) {
  static const char *const words[] = { "kiwi", "fig", "apple", "Fig", "\xc3\xa9t\xc3\xa9", "", "figs" };
  size_t cap = 16 + (size_t)n * 12, len = 4;
  char *csv = malloc(cap);
  memcpy(csv, "g,z\n", 4);
  for (int64_t r = 0; r < n; r++) {   /* a dictionary column needs the CSV reader */
    const char *w = lcg() % 9 == 0 ? "" : words[lcg() % 5];
    len += (size_t)snprintf(csv + len, cap - len, "%s,1\n", w);
  }
  tl_table *gt = NULL;
  tl_error err;
  tl_csv_options o;
  tl_csv_options_init(&o);
  if (tl_read_csv_buffer(csv, len, "g", &o, &gt, &err) != TL_OK) fprintf(stderr, "%s\n", err.message);
  free(csv);
  tl_builder *b[5];
  const tl_type types[5] = { TL_INT, TL_INT, TL_FLOAT, TL_STRING, TL_DATE };
  for (int j = 0; j < 5; j++)
    if (tl_builder_new(types[j], n, &b[j], &err) != TL_OK) return NULL;
  for (int64_t r = 0; r < n; r++) {
    tl_status st = tl_builder_append_int(b[0], r, &err);
    uint32_t x = lcg();
    if (x % 11 == 0) st |= tl_builder_append_null(b[1], &err);
    else st |= tl_builder_append_int(b[1], (int64_t)(x % 23) - 11, &err);
    x = lcg();
    if (x % 13 == 0) st |= tl_builder_append_null(b[2], &err);
    else if (x % 13 == 1) st |= tl_builder_append_float(b[2], NAN, &err);
    else if (x % 13 == 2) st |= tl_builder_append_float(b[2], -0.0, &err);
    else st |= tl_builder_append_float(b[2], ((double)(x % 1000) - 500) / 8, &err);
    x = lcg();
    if (x % 7 == 0) {
      st |= tl_builder_append_null(b[3], &err);
    } else {
      char w[16];
      int wl = snprintf(w, sizeof w, "%s%u", words[x % 7], (unsigned)(x >> 8) % 50);
      st |= tl_builder_append_string(b[3], w, (size_t)wl, &err);
    }
    st |= tl_builder_append_date(b[4], (int32_t)(lcg() % 4000) - 2000, &err);
    if (st != TL_OK) return NULL;
  }
  tl_column *cols[6];
  for (int j = 0; j < 5; j++)
    if (tl_builder_finish(b[j], &cols[j], &err) != TL_OK) return NULL;
  cols[5] = tl_table_column(gt, 0);
  tl_table *t = NULL;
  if (tl_table_new(6, ARGS("row", "i", "f", "s", "d", "g"), cols, &t, &err) != TL_OK)
    fprintf(stderr, "%s\n", err.message);
  for (int j = 0; j < 5; j++) tl_column_release(cols[j]);
  tl_table_release(gt);
  return t;
}

/* The contract: per key, values (ascending or descending; NaN the largest
** float, as in DuckDB), then null; then the row. */
static int ref_cmp(const tl_table *t, int nk, const char *const *keys, int64_t a, int64_t b) {
  for (int k = 0; k < nk; k++) {
    int desc = keys[k][0] == '-';
    const tl_column *c = tl_table_column(t, tl_table_find(t, keys[k] + desc));
    tl_scalar x, y;
    tl_column_get(c, a, &x);
    tl_column_get(c, b, &y);
    if (x.is_null != y.is_null) return x.is_null ? 1 : -1;
    if (x.is_null) continue;
    int r = 0;
    switch (x.type) {
      case TL_INT: r = (x.v.i > y.v.i) - (x.v.i < y.v.i); break;
      case TL_FLOAT:
        r = isnan(x.v.f) || isnan(y.v.f) ? isnan(x.v.f) - isnan(y.v.f)
                                         : (x.v.f > y.v.f) - (x.v.f < y.v.f);
        break;
      case TL_DATE: r = (x.v.d > y.v.d) - (x.v.d < y.v.d); break;
      case TL_STRING: {
        size_t m = x.v.s.len < y.v.s.len ? x.v.s.len : y.v.s.len;
        r = memcmp(x.v.s.ptr, y.v.s.ptr, m);
        r = r ? (r > 0) - (r < 0) : (x.v.s.len > y.v.s.len) - (x.v.s.len < y.v.s.len);
        break;
      }
      default: break;
    }
    if (r) return desc ? -r : r;
  }
  return (a > b) - (a < b);
}

/* The original rows of a result, through its row column. */
static const int64_t *rows_of(const tl_table *t) {
  return tl_column_ints(tl_table_column(t, tl_table_find(t, "row")));
}

static void check_random(int64_t n, int nk, const char *const *keys) {
  tl_table *t = random_table(n), *s = NULL;
  tl_error err;
  CHECK(t != NULL);
  if (!t) return;
  CHECK(tl_table_sort(t, nk, keys, &s, &err) == TL_OK);
  if (!s) { fprintf(stderr, "%s\n", err.message); tl_table_release(t); return; }
  CHECK(tl_table_nrows(s) == n);
  const int64_t *perm = rows_of(s);
  char *seen = calloc((size_t)n + 1, 1);
  int ok = 1;
  for (int64_t i = 0; i < n; i++) {
    if (perm[i] < 0 || perm[i] >= n || seen[perm[i]]) { ok = 0; break; }
    seen[perm[i]] = 1;
    if (i > 0 && ref_cmp(t, nk, keys, perm[i - 1], perm[i]) >= 0) { ok = 0; break; }
  }
  free(seen);
  if (!ok) fprintf(stderr, "random sort: n = %lld, first key %s\n", (long long)n, keys[0]);
  CHECK(ok);
  /* the same on one thread */
  int threads = tl_get_threads();
  tl_set_threads(1);
  tl_table *s1 = NULL;
  CHECK(tl_table_sort(t, nk, keys, &s1, &err) == TL_OK);
  CHECK(s1 && memcmp(rows_of(s1), perm, (size_t)n * sizeof *perm) == 0);
  tl_table_release(s1);
  tl_set_threads(threads);
  /* top == sort + head */
  const int64_t tops[] = { 0, 1, 10, n / 3, n, n + 5 };
  for (size_t q = 0; q < sizeof tops / sizeof tops[0]; q++) {
    tl_table *top = NULL;
    int64_t want = tops[q] < n ? tops[q] : n;
    CHECK(tl_table_top(t, tops[q], nk, keys, &top, &err) == TL_OK);
    int same = top && tl_table_nrows(top) == want &&
               memcmp(rows_of(top), perm, (size_t)want * sizeof *perm) == 0;
    if (!same) fprintf(stderr, "random top: n = %lld, top %lld, first key %s\n",
                       (long long)n, (long long)tops[q], keys[0]);
    CHECK(same);
    tl_table_release(top);
  }
  tl_table_release(s);
  tl_table_release(t);
}

static void test_random(void) {
  static const char *const sets[][3] = {
    { "i" }, { "-i" }, { "f" }, { "-f" }, { "g" }, { "-g" }, { "s" }, { "-s" }, { "d" },
    { "-row" }, { "i", "-f" }, { "-g", "i", "row" }, { "s", "-d" }, { "f", "g", "-i" },
    { "-d", "s" },
    /* fixed-width keys of few values: one radix sort of the keys packed together */
    { "g", "-row" }, { "-i", "d" }, { "d", "-i", "g" },
  };
  static const int nkeys[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 2, 3, 2, 2, 2, 3 };
  const int64_t sizes[] = { 0, 1, 2, 17, 1000 };
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
    for (size_t k = 0; k < sizeof nkeys / sizeof nkeys[0]; k++) {
      lcg_state = 12345 + z * 77 + k;
      check_random(sizes[z], nkeys[k], sets[k]);
    }
  /* past the size where the work is split over threads, with more threads
  ** than cores: chunked radix passes, parallel merges, heaps per thread */
  int threads = tl_get_threads();
  tl_set_threads(5);
  for (size_t k = 0; k < sizeof nkeys / sizeof nkeys[0]; k += 2) {
    lcg_state = 99 + k;
    check_random(70000, nkeys[k], sets[k]);
  }
  tl_set_threads(threads);
}

/* sorted_counts: for each probe, the rows of a sorted table not after it,
** checked against a linear count; ties, nulls, NaN, descending keys, and
** probes from another table (a dictionary of its own). */
static void test_sorted_counts(void) {
  tl_table *t = load("k,s,x\n3,b,1\n1,a,2\n,c,3\n3,a,4\n2,,5\n3,b,6\nNaN,a,7\n");
  tl_table *p = load("k,s\n3,b\n0,z\n3,\n,a\nNaN,a\n2,c\n");
  tl_error err;
  static const char *const keys[][2] = { { "k", "s" }, { "-k", "s" }, { "s", "-k" } };
  for (int c = 0; t && p && c < 3; c++) {
    tl_table *sorted = NULL;
    CHECK(tl_table_sort(t, 2, keys[c], &sorted, &err) == TL_OK);
    int64_t counts[6];
    CHECK(tl_table_sorted_counts(sorted, p, 2, keys[c], counts, &err) == TL_OK);
    /* the reference: sort the table with the probe appended last; the rows
    ** before the probe, the probe being last among its equals, are those
    ** not after it */
    for (int q = 0; q < 6; q++) {
      tl_table *one = NULL, *sel = NULL, *both = NULL, *re = NULL;
      CHECK(tl_table_slice(p, q, 1, &one, &err) == TL_OK);
      CHECK(tl_table_select(t, 2, (const char *const[]){ "k", "s" }, &sel, &err) == TL_OK);
      const tl_table *two[2] = { sel, one };
      CHECK(tl_table_concat(2, two, &both, &err) == TL_OK);
      CHECK(tl_table_sort(both, 2, keys[c], &re, &err) == TL_OK);
      /* the appended row is the last row of `both`; find where it went */
      int64_t pos = -1, n = tl_table_nrows(both);
      for (int64_t i = 0; re && i < n; i++) {
        int same = 1;
        for (int j = 0; j < 2 && same; j++) {
          tl_scalar a, b;
          tl_column_get(tl_table_column(re, j), i, &a);
          tl_column_get(tl_table_column(one, j), 0, &b);
          char x[64], y[64];
          tl_scalar_format(&a, x, sizeof x);
          tl_scalar_format(&b, y, sizeof y);
          same = strcmp(x, y) == 0 && a.is_null == b.is_null;
        }
        if (same) pos = i;   /* the last equal row: the probe (stable, appended last) */
      }
      CHECK(pos == counts[q]);
      tl_table_release(one); tl_table_release(sel); tl_table_release(both); tl_table_release(re);
    }
    tl_table_release(sorted);
  }
  int64_t none[1];
  CHECK(t && tl_table_sorted_counts(t, p, 1, (const char *const[]){ "nope" }, none, &err) == TL_EINVAL);
  tl_table_release(t);
  tl_table_release(p);
}

/* An interrupt stops sort and top (the merges of a chunked sort are skipped,
** and the half-sorted rows never come out), and stands until cleared. */
static void test_interrupt(void) {
  tl_table *t = load("k,s\n3,b\n1,a\n2,c\n");
  tl_table *r = NULL;
  tl_error err;
  static const char *const keys[][2] = { { "k" }, { "s" }, { "k", "s" } };
  tl_interrupt();
  for (int c = 0; t && c < 3; c++) {
    CHECK(tl_table_sort(t, c == 2 ? 2 : 1, keys[c], &r, &err) == TL_EINTR);
    CHECK_STR(err.message, "sort: interrupted");
  }
  CHECK(t && tl_table_top(t, 1, 1, keys[1], &r, &err) == TL_EINTR);
  CHECK_STR(err.message, "top: interrupted");
  tl_clear_interrupt();
  CHECK(t && tl_table_sort(t, 2, keys[2], &r, &err) == TL_OK);
  CHECK(r && strcmp(show(r), "k,s;1,a;2,c;3,b") == 0);
  tl_table_release(r);
  tl_table_release(t);
}

int main(void) {
  test_interrupt();
  test_sorted_counts();
  test_ints();
  test_floats();
  test_strings();
  test_edges();
  test_errors();
  test_distinct();
  test_concat();
  test_concat_consume();
  test_gather();
  test_counts();
  test_random();
  return check_done("test_sort");
}
