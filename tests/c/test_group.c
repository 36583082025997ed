/*
** test_group.c -- group_by and every built-in aggregate against hand-computed
** results, with nulls, empty groups and overflow.
*/
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "tables.h"
#include "tally/tally.h"

/* A table as "a,b;1,2;..." for comparison. */
static const char *show(const tl_table *t) {
  static char out[4096];
  size_t k = 0;
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

static const char *agg(const tl_table *t, const char *key, int n, const char *const *defs) {
  static char msg[TL_ERROR_SIZE];
  tl_error err;
  tl_table *out = NULL;
  tl_status st;
  if (key) {
    tl_grouping *g;
    st = tl_table_group_by(t, 1, &key, &g, &err);
    if (st == TL_OK) { st = tl_grouping_agg(g, n, defs, &out, &err); tl_grouping_free(g); }
  } else {
    st = tl_table_agg(t, n, defs, &out, &err);
  }
  if (st != TL_OK) { snprintf(msg, sizeof msg, "%s", err.message); return msg; }
  const char *s = show(out);
  tl_table_release(out);
  return s;
}
#define AGG(t, key, ...) agg(t, key, sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *), \
                             (const char *[]){ __VA_ARGS__ })

static void test_builtins(void) {
  tl_table *t = load("k,x,f,s\nb,1,1.5,p\na,2,,q\nb,3,2.5,\na,4,0.5,q\nc,,,\nb,,3.5,r\n");
  CHECK_STR(AGG(t, "k", "n = count()", "count(x)", "sum(x)", "mean(x)"),
            "k,n,count_x,sum_x,mean_x;b,3,2,4,2.0;a,2,2,6,3.0;c,1,0,null,null");
  CHECK_STR(AGG(t, "k", "min(x)", "max(f)", "first(s)", "last(s)"),
            "k,min_x,max_f,first_s,last_s;b,1,3.5,p,r;a,2,0.5,q,q;c,null,null,null,null");
  CHECK_STR(AGG(t, "k", "count_distinct(s)", "median(f)", "q = quantile(x, 0.25)"),
            "k,count_distinct_s,median_f,q;b,2,2.5,1.5;a,1,0.5,2.5;c,0,null,null");
  CHECK_STR(AGG(t, NULL, "n = count()", "s = sum(x)", "r = sum(x) / count(x)", "spread = max(x) - min(x)"),
            "n,s,r,spread;6,10,2.5,3");
  CHECK_STR(AGG(t, NULL, "v = var(x)", "sd = stddev(f)", "g = exp(mean(ln(f)))"),
            "v,sd,g;1.6666666666666667,1.2909944487358056,1.6005429364718398");
  CHECK_STR(AGG(t, "k", "upper(first(s))", "big = sum(x * 10)"),
            "k,upper_first_s,big;b,P,40;a,Q,60;c,null,null");
  CHECK_STR(AGG(t, NULL, "quantile(x, 0.25)"), "quantile_x_0_25;1.75");
  tl_table_release(t);
  /* ints of a small range take a histogram, of a wide one a selection: the same answers */
  t = load("k,small,wide\na,-3,-3000000\na,7,7000000\nb,2,2000000\na,-1,-1000000\nb,2,2000000\nb,9,9000000\n");
  CHECK_STR(AGG(t, "k", "quantile(small, 0.9)", "quantile(wide, 0.9)", "median(small)", "median(wide)"),
            "k,quantile_small_0_9,quantile_wide_0_9,median_small,median_wide;"
            "a,5.4,5400000.0,-1.0,-1000000.0;b,7.6000000000000005,7600000.0,2.0,2000000.0");
  tl_table_release(t);
}

static void test_keys(void) {
  /* nulls form their own group; groups in order of first appearance */
  tl_table *t = load("k,y,v\n,1,1\nx,2,2\n,1,3\nx,1,4\n");
  CHECK_STR(AGG(t, "k", "n = count()", "sum(v)"), "k,n,sum_v;null,2,4;x,2,6");
  const char *keys[2] = { "k", "y" };
  tl_grouping *g;
  tl_error err;
  CHECK(tl_table_group_by(t, 2, keys, &g, &err) == TL_OK);
  CHECK(tl_grouping_count(g) == 3);
  tl_table *sub;
  CHECK(tl_grouping_group(g, 2, &sub, &err) == TL_OK);
  CHECK_STR(show(sub), "k,y,v;x,1,4");
  tl_table_release(sub);
  CHECK(tl_grouping_group(g, 3, &sub, &err) == TL_ERANGE);
  tl_grouping_free(g);
  const char *bad = "z";
  CHECK(tl_table_group_by(t, 1, &bad, &g, &err) == TL_EINVAL);
  CHECK_STR(err.message, "group_by: unknown column 'z'");
  tl_table_release(t);
  /* float keys: -0.0 and 0.0 together, NaN with NaN */
  t = load("f\n0.0\n-0.0\nnan\nNaN\n1.5\n");
  CHECK_STR(AGG(t, "f", "n = count()"), "f,n;0.0,2;nan,2;1.5,1");
  tl_table_release(t);
}

static void test_errors(void) {
  tl_table *t = load("k,x,s\na,9223372036854775807,p\na,1,q\nb,-1,r\n");
  CHECK_STR(AGG(t, "k", "sum(x)"), "agg: \"sum(x)\": integer overflow (the sum leaves int64) in group k = 'a'");
  CHECK_STR(AGG(t, "k", "sum(s)"), "agg: \"sum(s)\": sum of string values at column 1");
  CHECK_STR(AGG(t, "k", "x + 1"),
            "agg: \"x + 1\": column 'x' outside of an aggregate (wrap it in first(), sum(), ...) at column 1");
  CHECK_STR(AGG(t, "k", "sum(sum(x))"), "agg: \"sum(sum(x))\": aggregate 'sum' inside another aggregate at column 5");
  CHECK_STR(AGG(t, "k", "quantile(x, 2)"), "agg: \"quantile(x, 2)\": quantile needs a number between 0 and 1 at column 13");
  CHECK_STR(AGG(t, "k", "n = count(", ""), "agg: \"n = count(\": unexpected end of expression at column 11");
  tl_table_release(t);
  /* the whole of an empty table is one group */
  tl_table *full = load("x\n1\n");
  CHECK(tl_table_filter(full, "x > 5", &t, NULL) == TL_OK);
  CHECK_STR(AGG(t, NULL, "n = count()", "s = sum(x)", "m = min(x)"), "n,s,m;0,null,null");
  CHECK_STR(AGG(t, "x", "n = count()"), "x,n");
  tl_table_release(t);
  tl_table_release(full);
}

/* Many rows: group ids made in chunks on several threads, and the
** dictionary path that stops once every code has a group, give what one
** thread gives: groups in order of first appearance. */
static void test_many_rows(void) {
  int64_t n = 300007;
  tl_builder *bs, *bi;
  tl_column *cs, *ci;
  CHECK(tl_builder_new(TL_STRING, n, &bs, NULL) == TL_OK);
  CHECK(tl_builder_new(TL_INT, n, &bi, NULL) == TL_OK);
  for (int64_t i = 0; i < n; i++) {
    char buf[32];
    int len = snprintf(buf, sizeof buf, "s%lld", (long long)((i * 7919) % 1543));
    CHECK(tl_builder_append_string(bs, buf, (size_t)len, NULL) == TL_OK);
    if (i % 101 == 5) CHECK(tl_builder_append_null(bi, NULL) == TL_OK);
    else CHECK(tl_builder_append_int(bi, (i * 31) % 37 - (i > 250000 ? 100 : 0), NULL) == TL_OK);
  }
  CHECK(tl_builder_finish(bs, &cs, NULL) == TL_OK);
  CHECK(tl_builder_finish(bi, &ci, NULL) == TL_OK);
  const char *names[] = { "s", "i" };
  tl_column *cols[] = { cs, ci };
  tl_table *t;
  CHECK(tl_table_new(2, names, cols, &t, NULL) == TL_OK);
  const char *defs[] = { "n = count()", "f = first(i)", "l = last(s)" };
  /* few keys (chunks on threads), many (one pass), strings (chunks) */
  const char *const *sets[] = { names + 1, names, names };
  int counts[] = { 1, 2, 1 };
  char *ref[3] = { NULL, NULL, NULL };
  for (int th = 1; th <= 2; th++) {
    tl_set_threads(th);
    for (int k = 0; k < 3; k++) {
      tl_grouping *g;
      tl_table *out;
      CHECK(tl_table_group_by(t, counts[k], sets[k], &g, NULL) == TL_OK);
      CHECK(tl_grouping_agg(g, 3, defs, &out, NULL) == TL_OK);
      size_t cap = 1 << 20, at = 0;
      char *buf = malloc(cap);
      for (int64_t r = 0; r < tl_table_nrows(out); r++)
        for (int j = 0; j < tl_table_ncols(out) && at + 200 < cap; j++) {
          tl_scalar v;
          tl_column_get(tl_table_column(out, j), r, &v);
          at += tl_scalar_format(&v, buf + at, cap - at);
          buf[at++] = j + 1 < tl_table_ncols(out) ? ',' : ';';
        }
      buf[at] = '\0';
      if (th == 1) ref[k] = buf;
      else { CHECK(strcmp(buf, ref[k]) == 0); free(buf); }
      tl_table_release(out);
      tl_grouping_free(g);
    }
  }
  CHECK(strncmp(ref[0], "0,", 2) == 0);   /* the key of row 0 comes first */
  CHECK(strncmp(ref[1], "s0,0,", 5) == 0);
  CHECK(strncmp(ref[2], "s0,", 3) == 0);
  free(ref[0]);
  free(ref[1]);
  free(ref[2]);
  tl_set_threads(0);
  tl_table_release(t);
  tl_column_release(cs);
  tl_column_release(ci);
  /* a dictionary-encoded key: every code seen early; group() still works */
  size_t cap = 1 << 22, at = 0;
  char *csv = malloc(cap);
  at += (size_t)snprintf(csv, cap, "k,x\n");
  for (int i = 0; i < 100000; i++)
    at += (size_t)snprintf(csv + at, cap - at, "%s,%d\n", i % 3 == 2 ? "" : i % 3 ? "b" : "a", i);
  tl_table *d = load(csv);
  free(csv);
  CHECK(tl_column_dictionary(tl_table_column(d, 0)) != NULL);
  const char *key = "k";
  tl_grouping *g;
  CHECK(tl_table_group_by(d, 1, &key, &g, NULL) == TL_OK);
  CHECK(tl_grouping_count(g) == 3);
  tl_table *sub;
  CHECK(tl_grouping_group(g, 2, &sub, NULL) == TL_OK);
  CHECK(tl_table_nrows(sub) == 33333);
  tl_table_release(sub);
  CHECK(tl_grouping_group(g, 0, &sub, NULL) == TL_OK);
  CHECK(tl_table_nrows(sub) == 33334);
  tl_table_release(sub);
  CHECK_STR(AGG(d, "k", "n = count()", "s = sum(x)"), "k,n,s;a,33334,1666683333;b,33333,1666616667;null,33333,1666650000");
  tl_grouping_free(g);
  tl_table_release(d);
}

int main(void) {
  test_builtins();
  test_keys();
  test_errors();
  test_many_rows();
  return check_done("group");
}
