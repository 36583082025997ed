/*
** test_partial.c -- partial aggregation states: the same results for every
** range size and thread count, merging partials of split tables, encoding
** and decoding (with damaged buffers), host aggregates that merge, and
** errors that name the group by its key.
**
** The range size is set with tl_group_set_range_rows (core/partial.h; the
** environment's TALLY_RANGE_ROWS does the same for a whole process). A
** range of 1 row merges one row at a time, which gives exactly what a
** single scan gives; ranges of 7 rows merge float sums with compensation
** and variances with Chan's formula, so var, stddev and means of inexact
** floats may differ there in the last bits: those are compared with a
** relative tolerance of 1e-12, everything else exactly.
*/
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <xxhash.h>

#include "check.h"
#include "tables.h"

#define TL_TRY_TEST(e) do { tl_status s_ = (e); if (s_ != TL_OK) return s_; } while (0)
#include "agg/partial.h"
#include "tally/tally.h"

/* A table as "a,b;1,2;..." (floats in their shortest exact form). */
static char *show(const tl_table *t) {
  size_t cap = 1 << 16, k = 0;
  char *out = malloc(cap);
  out[0] = '\0';
  for (int j = 0; j < tl_table_ncols(t); j++)
    k += (size_t)snprintf(out + k, cap - k, "%s%s", j ? "," : "", tl_table_name(t, j));
  for (int64_t i = 0; i < tl_table_nrows(t); i++) {
    for (int j = 0; j < tl_table_ncols(t); j++) {
      tl_scalar v;
      char buf[256];
      tl_column_get(tl_table_column(t, j), i, &v);
      tl_scalar_format(&v, buf, sizeof buf);
      if (k + strlen(buf) + 4 >= cap) { cap *= 2; out = realloc(out, cap); }
      k += (size_t)snprintf(out + k, cap - k, "%s%s", j ? "," : ";", buf);
    }
  }
  return out;
}

/* 1 when the tables hold the same values; floats within a relative `tol`. */
static int same_table(const tl_table *a, const tl_table *b, double tol) {
  if (tl_table_ncols(a) != tl_table_ncols(b) || tl_table_nrows(a) != tl_table_nrows(b)) return 0;
  for (int j = 0; j < tl_table_ncols(a); j++) {
    const tl_column *x = tl_table_column(a, j), *y = tl_table_column(b, j);
    if (tl_column_type(x) != tl_column_type(y)) return 0;
    for (int64_t i = 0; i < tl_table_nrows(a); i++) {
      tl_scalar u, v;
      tl_column_get(x, i, &u);
      tl_column_get(y, i, &v);
      if (u.is_null || v.is_null) { if (u.is_null != v.is_null) return 0; continue; }
      if (u.type == TL_FLOAT) {
        double p = u.v.f, q = v.v.f;
        if (p != p || q != q) { if ((p != p) != (q != q)) return 0; continue; }
        if (p == q) continue;
        if (!(fabs(p - q) <= tol * fmax(fabs(p), fabs(q)))) {
          fprintf(stderr, "  column %s row %lld: %.17g vs %.17g\n", tl_table_name(a, j),
                  (long long)i, p, q);
          return 0;
        }
        continue;
      }
      char s1[256], s2[256];
      tl_scalar_format(&u, s1, sizeof s1);
      tl_scalar_format(&v, s2, sizeof s2);
      if (strcmp(s1, s2) != 0) return 0;
    }
  }
  return 1;
}

/* agg by `nkeys` keys (0: the whole table); the result, or NULL with the
** message in msg. */
static tl_table *agg(const tl_table *t, int nkeys, const char *const *keys, int n,
                     const char *const *defs, char *msg) {
  tl_error err;
  tl_table *out = NULL;
  tl_status st;
  if (nkeys) {
    tl_grouping *g;
    st = tl_table_group_by(t, nkeys, keys, &g, &err);
    if (st == TL_OK) { st = tl_grouping_agg(g, n, defs, &out, &err); tl_grouping_free(g); }
  } else {
    st = tl_table_agg(t, n, defs, &out, &err);
  }
  if (msg) strcpy(msg, st == TL_OK ? "" : err.message);
  return st == TL_OK ? out : NULL;
}

/* The partial of t (by keys, or whole), through bytes and back when
** `encode`. */
static tl_partial *partial(const tl_table *t, int nkeys, const char *const *keys, int n,
                           const char *const *defs, const tl_scope *scope, int encode) {
  tl_error err;
  tl_partial *p = NULL;
  tl_status st;
  if (nkeys) {
    tl_grouping *g;
    st = tl_table_group_by(t, nkeys, keys, &g, &err);
    if (st == TL_OK) { st = tl_grouping_partial(g, n, defs, scope, &p, &err); tl_grouping_free(g); }
  } else {
    st = tl_table_partial(t, n, defs, scope, &p, &err);
  }
  if (st != TL_OK) { fprintf(stderr, "partial: %s\n", err.message); return NULL; }
  if (encode) {
    void *buf;
    size_t len;
    tl_partial *q = NULL;
    if (tl_partial_encode(p, &buf, &len, &err) != TL_OK) fprintf(stderr, "encode: %s\n", err.message);
    else if (tl_partial_decode(buf, len, scope, &q, &err) != TL_OK) fprintf(stderr, "decode: %s\n", err.message);
    tl_free(buf);
    tl_partial_free(p);
    p = q;
  }
  return p;
}

/* ---------------------------------------------------------------------------
** A test table: keys of every type, values with nulls, NaN, infinities,
** wide and narrow ints, groups whose values are all null.
*/
static tl_table *make_table(int nrows, unsigned seed) {
  size_t cap = (size_t)nrows * 200 + 256, k = 0;
  char *csv = malloc(cap);
  k += (size_t)snprintf(csv + k, cap - k, "ks,ki,kb,kd,kf,kt,i,w,f,s,d,b,ts,e,m\n");
  static const char *const words[] = { "apple", "pear", "fig", "", "kiwi", "o'hara", "plum" };
  uint32_t x = seed;
#define RND() (x = x * 1103515245u + 12345u, (x >> 8) & 0xffff)
  for (int r = 0; r < nrows; r++) {
    unsigned a = RND(), b = RND(), c = RND(), d = RND(), e = RND();
    char ks[16] = "", ki[24] = "", kf[24] = "", iv[32] = "", wv[32] = "", fv[32] = "", sv[16] = "";
    if (a % 9) snprintf(ks, sizeof ks, "g%u", a % 5);
    if (b % 7) snprintf(ki, sizeof ki, "%d", (int)(b % 4) - 1);
    static const char *const fk[] = { "0.0", "-0.0", "nan", "1.5", "" };
    snprintf(kf, sizeof kf, "%s", fk[c % 5]);
    if (c % 6) snprintf(iv, sizeof iv, "%d", (int)(d % 61) - 20);
    if (d % 5) snprintf(wv, sizeof wv, "%lld", (long long)(e * 1000003LL) - 30000000000LL);
    if (e % 8 == 1) snprintf(fv, sizeof fv, "nan");
    else if (e % 97 == 3) snprintf(fv, sizeof fv, "%sinf", a % 2 ? "-" : "");
    else if (e % 5) snprintf(fv, sizeof fv, "%.2f", ((double)(int)(a % 400) - 150) * 0.25);
    if (b % 4) snprintf(sv, sizeof sv, "%s", words[b % 7]);
    /* "g4" rows have no i, f or w at all: a group of nulls */
    if (strcmp(ks, "g4") == 0) { iv[0] = fv[0] = wv[0] = '\0'; }
    if (k + 300 > cap) { cap *= 2; csv = realloc(csv, cap); }
    k += (size_t)snprintf(csv + k, cap - k,
                          "%s,%s,%s,2016-0%u-1%u,%s,2020-01-01T0%u:00:00,%s,%s,%s,%s%s%s,"
                          "20%02u-01-0%u,%s,2021-03-0%uT12:00:0%u,%s,%u\n",
                          ks, ki, c % 3 ? (c % 2 ? "true" : "false") : "", 1 + d % 3, e % 2,
                          kf, a % 3, iv, wv, fv, sv[0] == '\0' && b % 4 ? "\"\"" : "", sv, "",
                          10 + a % 9, 1 + b % 9, b % 5 ? (d % 2 ? "true" : "false") : "",
                          1 + c % 9, d % 10, r % 50 ? "" : "x", (d * 7 + e) % 9001);
  }
#undef RND
  tl_table *t = load(csv);
  free(csv);
  return t;
}

/* Definitions whose results do not depend on how rows are split. */
static const char *const exact_defs[] = {
  "n = count()", "count(i)", "count(f)", "sum(i)", "mean(i)", "sum(w)", "mean(w)", "sum(f)",
  "mean(f)", "sum(b)", "min(i)", "max(i)", "min(f)", "max(f)", "min(s)", "max(s)", "min(w)",
  "max(d)", "min(b)", "max(ts)", "first(s)", "last(s)", "first(f)", "last(ts)", "first(d)",
  "last(b)", "median(i)", "quantile(i, 0.9)", "quantile(w, 0.3)", "median(f)",
  "quantile(f, 0.75)", "count_distinct(s)", "count_distinct(i)", "count_distinct(f)",
  "count_distinct(d)", "count_distinct(b)", "count_distinct(ts)", "count_distinct(w)",
  "r = sum(i) / count(i)", "big = sum(i * 3) - min(i)", "upper(first(s))", "count(e)",
  "last(e)", "count_distinct(e)", "median(m)", "quantile(m, 0.1)", "nothing = count(null)", "mx = max(null + 1.5)", "sn = sum(null + 1)"
};
#define NEXACT ((int)(sizeof exact_defs / sizeof *exact_defs))

/* Definitions that may differ in the last bits between range sizes. */
static const char *const approx_defs[] = {
  "var(i)", "stddev(i)", "var(f)", "stddev(w)", "g = exp(mean(ln(abs(f) + 1)))",
  "h = sum(f / 3)"
};
#define NAPPROX ((int)(sizeof approx_defs / sizeof *approx_defs))

static const char *const key_sets[][6] = {
  { "ks" }, { "ki" }, { "kb" }, { "kd" }, { "kf" }, { "kt" }, { "kp" },
  { "ks", "ki", "kb", "kd", "kf", "kt" }, { "kf", "ks" }
};
static const int key_counts[] = { 1, 1, 1, 1, 1, 1, 1, 6, 2 };
#define NKEYSETS ((int)(sizeof key_counts / sizeof *key_counts))

/* make_table's rows with kp, a plain (not dictionary) copy of ks. */
static tl_table *keyed_table(int nrows, unsigned seed) {
  tl_table *base = make_table(nrows, seed), *t = NULL;
  const char *mk = "kp = ks .. ''";
  CHECK(tl_table_mutate(base, 1, &mk, &t, NULL) == TL_OK);
  tl_table_release(base);
  return t;
}

static void test_ranges_and_threads(void) {
  tl_table *t = keyed_table(800, 7);
  /* ks is dictionary-encoded by the reader; kp the same strings, plain */
  CHECK(tl_column_dictionary(tl_table_column(t, tl_table_find(t, "ks"))) != NULL);
  CHECK(tl_column_dictionary(tl_table_column(t, tl_table_find(t, "kp"))) == NULL);
  static const int64_t ranges[] = { 0, 1, 7 };
  for (int ks = -1; ks < NKEYSETS; ks++) {
    int nk = ks < 0 ? 0 : key_counts[ks];
    const char *const *keys = ks < 0 ? NULL : key_sets[ks];
    tl_group_set_range_rows(0);
    tl_set_threads(1);
    char msg[TL_ERROR_SIZE];
    tl_table *ref = agg(t, nk, keys, NEXACT, exact_defs, msg);
    tl_table *aref = agg(t, nk, keys, NAPPROX, approx_defs, msg);
    CHECK(ref && aref);
    if (!ref || !aref) { fprintf(stderr, "%s\n", msg); continue; }
    char *rs = show(ref);
    for (int r = 0; r < 3; r++) {
      for (int th = 1; th <= 2; th++) {
        tl_group_set_range_rows(ranges[r]);
        tl_set_threads(th);
        tl_table *x = agg(t, nk, keys, NEXACT, exact_defs, msg);
        tl_table *y = agg(t, nk, keys, NAPPROX, approx_defs, msg);
        CHECK(x && y);
        if (!x || !y) { fprintf(stderr, "%s\n", msg); continue; }
        char *xs = show(x);
        if (strcmp(xs, rs) != 0)
          fprintf(stderr, "keys %d range %lld threads %d: results differ\n", ks, (long long)ranges[r], th);
        CHECK(strcmp(xs, rs) == 0);
        /* one row a range is one scan: exact; other sizes within the tolerance */
        CHECK(same_table(y, aref, ranges[r] <= 1 ? 0 : 1e-12));
        free(xs);
        tl_table_release(x);
        tl_table_release(y);
      }
    }
    free(rs);
    tl_table_release(ref);
    tl_table_release(aref);
  }
  tl_group_set_range_rows(0);
  tl_set_threads(0);
  tl_table_release(t);
}

/* Hand-checked results, with every range size: nulls, NaN, empty groups. */
static void test_known(void) {
  tl_table *t = load("k,x,f,s\nb,1,1.5,p\na,2,,q\nb,3,2.5,\na,4,0.5,q\nc,,,\nb,,nan,r\n");
  const char *k = "k";
  const char *defs[] = { "n = count()", "sum(x)", "mean(f)", "min(f)", "max(f)", "first(s)",
                         "last(s)", "count_distinct(s)", "median(f)", "var(x)" };
  for (int64_t r = 0; r <= 3; r++) {
    for (int th = 1; th <= 2; th++) {
      tl_group_set_range_rows(r);
      tl_set_threads(th);
      tl_table *out = agg(t, 1, &k, 10, defs, NULL);
      char *s = show(out);
      CHECK_STR(s, "k,n,sum_x,mean_f,min_f,max_f,first_s,last_s,count_distinct_s,median_f,var_x;"
                   "b,3,4,nan,1.5,nan,p,r,2,2.5,2.0;a,2,6,0.5,0.5,0.5,q,q,1,0.5,2.0;"
                   "c,1,null,null,null,null,null,null,0,null,null");
      free(s);
      tl_table_release(out);
    }
  }
  tl_group_set_range_rows(0);
  tl_set_threads(0);
  tl_table_release(t);
}

/* Int sums: overflow is an error naming the definition and the group by its
** key values, also when every range fits and only the merged sum does not. */
static void test_overflow(void) {
  tl_table *t = load("k,y,d,x\na,2016,2020-01-02,9223372036854775807\nb,,2020-01-03,-5\n"
                     "a,2016,2020-01-02,1\nb,,2020-01-03,5\nc,1,,9223372036854775807\n"
                     "c,1,,-9223372036854775807\nc,1,,3\n");
  const char *k1 = "k", *k3[] = { "k", "y", "d" }, *k2[] = { "y", "d" };
  const char *def = "s = sum(x)";
  for (int64_t r = 0; r <= 7; r++) {
    for (int th = 1; th <= 2; th++) {
      char msg[TL_ERROR_SIZE];
      tl_group_set_range_rows(r);
      tl_set_threads(th);
      CHECK(agg(t, 1, &k1, 1, &def, msg) == NULL);
      CHECK_STR(msg, "agg: \"s = sum(x)\": integer overflow (the sum leaves int64) in group k = 'a'");
      CHECK(agg(t, 3, k3, 1, &def, msg) == NULL);
      CHECK_STR(msg, "agg: \"s = sum(x)\": integer overflow (the sum leaves int64) in group "
                     "k = 'a', y = 2016, d = '2020-01-02'");
      CHECK(agg(t, 2, k2, 1, &def, msg) == NULL);
      CHECK_STR(msg, "agg: \"s = sum(x)\": integer overflow (the sum leaves int64) in group "
                     "y = 2016, d = '2020-01-02'");
      CHECK(agg(t, 0, NULL, 1, &def, msg) == NULL);
      CHECK_STR(msg, "agg: \"s = sum(x)\": integer overflow (the sum leaves int64)");
    }
  }
  /* a sum that leaves int64 on the way and comes back is fine */
  tl_table *c;
  CHECK(tl_table_filter(t, "k ~= 'a'", &c, NULL) == TL_OK);
  for (int64_t r = 0; r <= 3; r++) {
    tl_group_set_range_rows(r);
    tl_table *out = agg(c, 1, &k1, 1, &def, NULL);
    char *s = show(out);
    CHECK_STR(s, "k,s;b,0;c,3");
    free(s);
    tl_table_release(out);
  }
  /* a null key reads as null; quotes in a string key are escaped */
  tl_table *u = load("k,x\n,9223372036854775807\n,1\n");
  tl_group_set_range_rows(0);
  char msg[TL_ERROR_SIZE];
  CHECK(agg(u, 1, &k1, 1, &def, msg) == NULL);
  CHECK_STR(msg, "agg: \"s = sum(x)\": integer overflow (the sum leaves int64) in group k = null");
  tl_table_release(u);
  u = load("k,x\n\"it's\",9223372036854775807\n\"it's\",1\n");
  CHECK(agg(u, 1, &k1, 1, &def, msg) == NULL);
  CHECK_STR(msg, "agg: \"s = sum(x)\": integer overflow (the sum leaves int64) in group k = 'it\\'s'");
  tl_table_release(u);
  /* partials of two parts that each fit: merged, the sum does not */
  tl_table *p1, *p2;
  CHECK(tl_table_slice(t, 0, 1, &p1, NULL) == TL_OK);
  CHECK(tl_table_slice(t, 1, 6, &p2, NULL) == TL_OK);
  tl_partial *a = partial(p1, 1, &k1, 1, &def, NULL, 1), *b = partial(p2, 1, &k1, 1, &def, NULL, 1);
  tl_error err;
  tl_table *out;
  CHECK(tl_partial_merge(a, b, &err) == TL_OK);
  CHECK(tl_partial_finish(a, &out, &err) == TL_ERANGE);
  CHECK_STR(err.message, "agg: \"s = sum(x)\": integer overflow (the sum leaves int64) in group k = 'a'");
  tl_partial_free(a);
  tl_partial_free(b);
  tl_table_release(p1);
  tl_table_release(p2);
  tl_table_release(c);
  tl_table_release(t);
  tl_set_threads(0);
}

/* ---------------------------------------------------------------------------
** Partials
*/

/* Partials of t cut at `cuts` (row offsets), merged in order, finished:
** compared with agg over t. */
static void check_split(const tl_table *t, int nk, const char *const *keys, int ncut,
                        const int64_t *cuts, int n, const char *const *defs, double tol,
                        unsigned encode) {
  tl_partial *acc = NULL;
  int64_t from = 0;
  for (int c = 0; c <= ncut; c++) {
    int64_t to = c < ncut ? cuts[c] : tl_table_nrows(t);
    tl_table *part;
    CHECK(tl_table_slice(t, from, to - from, &part, NULL) == TL_OK);
    tl_partial *p = partial(part, nk, keys, n, defs, NULL, (encode >> c) & 1);
    CHECK(p != NULL);
    tl_error err;
    if (!acc) acc = p;
    else { CHECK(tl_partial_merge(acc, p, &err) == TL_OK); tl_partial_free(p); }
    tl_table_release(part);
    from = to;
  }
  tl_table *whole = agg(t, nk, keys, n, defs, NULL), *merged = NULL;
  CHECK(tl_partial_finish(acc, &merged, NULL) == TL_OK);
  CHECK(tl_partial_groups(acc) == (nk ? tl_table_nrows(whole) : 1));
  CHECK(whole && merged && same_table(whole, merged, tol));
  if (tol == 0 && whole && merged) {
    char *a = show(whole), *b = show(merged);
    CHECK(strcmp(a, b) == 0);
    free(a);
    free(b);
  }
  tl_table_release(whole);
  tl_table_release(merged);
  tl_partial_free(acc);
}

static void test_split(void) {
  tl_table *t = keyed_table(600, 99);
  static const int64_t cuts[][4] = { { 300 }, { 1, 2, 599 }, { 0, 0, 250, 600 }, { 150, 350, 500 } };
  static const int ncuts[] = { 1, 3, 4, 3 };
  for (int ks = -1; ks < NKEYSETS; ks++) {
    int nk = ks < 0 ? 0 : key_counts[ks];
    const char *const *keys = ks < 0 ? NULL : key_sets[ks];
    for (int c = 0; c < 4; c++) {
      static const unsigned encode[] = { 0, 31, 2, 5 };   /* which parts go through bytes */
      check_split(t, nk, keys, ncuts[c], cuts[c], NEXACT, exact_defs, 0, encode[c]);
      check_split(t, nk, keys, ncuts[c], cuts[c], NAPPROX, approx_defs, 1e-12, encode[c]);
    }
  }
  tl_table_release(t);
}

/* Many merges into one partial, which keeps its index of the groups
** between them: parts of 1 to 23 rows (some empty, some through bytes)
** merged in order; finished half way (the result shares the keys, which
** later merges must not change) and encoded and decoded half way (a partial
** that merges on without an index of its own); each compared with agg over
** the rows merged so far. */
static void check_many(const tl_table *t, int nk, const char *const *keys, int n,
                       const char *const *defs, double tol) {
  static const int sizes[] = { 1, 7, 0, 13, 2, 23, 5, 1, 11 };
  int64_t nrows = tl_table_nrows(t), from = 0, half = nrows / 2;
  tl_partial *acc = NULL, *copy = NULL;
  tl_table *mid = NULL, *copy_mid = NULL;
  for (int c = 0; from < nrows; c++) {
    int64_t to = from + sizes[c % 9];
    if (to > nrows) to = nrows;
    tl_table *part;
    CHECK(tl_table_slice(t, from, to - from, &part, NULL) == TL_OK);
    tl_partial *p = partial(part, nk, keys, n, defs, NULL, c % 5 == 3);
    CHECK(p != NULL);
    tl_error err;
    if (!acc) {
      acc = p;
    } else {
      CHECK(tl_partial_merge(acc, p, &err) == TL_OK);
      if (copy) CHECK(tl_partial_merge(copy, p, &err) == TL_OK);
      tl_partial_free(p);
    }
    tl_table_release(part);
    if (from < half && to >= half) {   /* half way */
      void *buf;
      size_t len;
      CHECK(tl_partial_finish(acc, &mid, NULL) == TL_OK);
      CHECK(tl_partial_encode(acc, &buf, &len, &err) == TL_OK);
      CHECK(tl_partial_decode(buf, len, NULL, &copy, &err) == TL_OK);
      tl_free(buf);
      tl_table *pre;
      CHECK(tl_table_slice(t, 0, to, &pre, NULL) == TL_OK);
      copy_mid = agg(pre, nk, keys, n, defs, NULL);
      tl_table_release(pre);
    }
    from = to;
  }
  tl_table *whole = agg(t, nk, keys, n, defs, NULL), *merged = NULL, *merged2 = NULL;
  CHECK(tl_partial_finish(acc, &merged, NULL) == TL_OK);
  CHECK(copy && tl_partial_finish(copy, &merged2, NULL) == TL_OK);
  CHECK(whole && merged && same_table(whole, merged, tol));
  CHECK(whole && merged2 && same_table(whole, merged2, tol));
  CHECK(copy_mid && mid && same_table(copy_mid, mid, tol));   /* unchanged by what came after */
  if (tol == 0 && whole && merged) {
    char *a = show(whole), *b = show(merged);
    CHECK(strcmp(a, b) == 0);
    free(a);
    free(b);
  }
  tl_table_release(whole);
  tl_table_release(merged);
  tl_table_release(merged2);
  tl_table_release(mid);
  tl_table_release(copy_mid);
  tl_partial_free(acc);
  tl_partial_free(copy);
}

/* Keys of many groups, so that the index grows many times: ints (nulls
** among them), strings of every length, floats with NaN and -0.0, and the
** three together; the groups come back in many orders. */
static void test_many_merges(void) {
  tl_table *t = keyed_table(600, 7);
  for (int ks = 0; ks < NKEYSETS; ks++) {
    check_many(t, key_counts[ks], key_sets[ks], NEXACT, exact_defs, 0);
    check_many(t, key_counts[ks], key_sets[ks], NAPPROX, approx_defs, 1e-12);
  }
  tl_table_release(t);
  size_t cap = 1 << 20, k = 0;
  char *csv = malloc(cap);
  k += (size_t)snprintf(csv + k, cap - k, "a,b,c,x\n");
  for (int r = 0; r < 6000; r++) {
    unsigned h = (unsigned)r * 2654435761u;
    char a[24] = "", b[64] = "", c[32] = "";
    if (r % 97) snprintf(a, sizeof a, "%u", (h >> 7) % 3001);
    if (r % 89) snprintf(b, sizeof b, "s%.*s%u", (int)(h % 40), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", (h >> 9) % 1500);
    static const char *const fk[] = { "nan", "-0.0", "0.0", "" };
    if (r % 7 == 0) snprintf(c, sizeof c, "%s", fk[(h >> 3) % 4]);
    else snprintf(c, sizeof c, "%.1f", (double)((h >> 11) % 700) / 4);
    k += (size_t)snprintf(csv + k, cap - k, "%s,%s,%s,%d\n", a, b, c, r % 13 - 6);
  }
  tl_table *u = load(csv);
  free(csv);
  const char *defs[] = { "n = count()", "s = sum(x)", "first(x)", "last(x)", "min(b)",
                         "count_distinct(x)" };
  const char *ka = "a", *kb = "b", *kc = "c", *kabc[] = { "a", "b", "c" }, *kca[] = { "c", "a" };
  check_many(u, 1, &ka, 6, defs, 0);
  check_many(u, 1, &kb, 6, defs, 0);
  check_many(u, 1, &kc, 6, defs, 0);
  check_many(u, 3, kabc, 6, defs, 0);
  check_many(u, 2, kca, 6, defs, 0);
  tl_table_release(u);
}

/* Merging keeps groups in order of first appearance and first/last right;
** merged out of order, the order follows the merges. */
static void test_merge_order(void) {
  tl_table *a = load("k,x\nb,1\na,2\n"), *b = load("k,x\nc,3\na,4\nb,5\n");
  const char *k = "k", *defs[] = { "first(x)", "last(x)", "n = count()" };
  tl_partial *pa = partial(a, 1, &k, 3, defs, NULL, 0), *pb = partial(b, 1, &k, 3, defs, NULL, 1);
  tl_table *out;
  CHECK(tl_partial_merge(pa, pb, NULL) == TL_OK);
  CHECK(tl_partial_groups(pa) == 3);
  CHECK(tl_partial_finish(pa, &out, NULL) == TL_OK);
  char *s = show(out);
  CHECK_STR(s, "k,first_x,last_x,n;b,1,5,2;a,2,4,2;c,3,3,1");
  free(s);
  tl_table_release(out);
  tl_partial_free(pa);
  tl_partial_free(pb);
  pa = partial(a, 1, &k, 3, defs, NULL, 1);
  pb = partial(b, 1, &k, 3, defs, NULL, 0);
  CHECK(tl_partial_merge(pb, pa, NULL) == TL_OK);
  CHECK(tl_partial_finish(pb, &out, NULL) == TL_OK);
  s = show(out);
  CHECK_STR(s, "k,first_x,last_x,n;c,3,3,1;a,4,2,2;b,5,1,2");
  free(s);
  tl_table_release(out);
  /* finishing does not consume: again, the same */
  CHECK(tl_partial_finish(pb, &out, NULL) == TL_OK);
  s = show(out);
  CHECK_STR(s, "k,first_x,last_x,n;c,3,3,1;a,4,2,2;b,5,1,2");
  free(s);
  tl_table_release(out);
  tl_partial_free(pa);
  tl_partial_free(pb);
  /* an empty part: no groups, merged into and from */
  tl_table *e;
  CHECK(tl_table_filter(a, "x > 10", &e, NULL) == TL_OK);
  tl_partial *pe = partial(e, 1, &k, 3, defs, NULL, 1);
  pa = partial(a, 1, &k, 3, defs, NULL, 0);
  CHECK(tl_partial_groups(pe) == 0);
  CHECK(tl_partial_merge(pe, pa, NULL) == TL_OK);
  CHECK(tl_partial_merge(pe, pa, NULL) == TL_OK);
  CHECK(tl_partial_finish(pe, &out, NULL) == TL_OK);
  s = show(out);
  CHECK_STR(s, "k,first_x,last_x,n;b,1,1,2;a,2,2,2");
  free(s);
  tl_table_release(out);
  tl_partial_free(pe);
  tl_partial_free(pa);
  /* the whole of an empty table is one group */
  pe = partial(e, 0, NULL, 3, defs, NULL, 1);
  CHECK(tl_partial_groups(pe) == 1);
  CHECK(tl_partial_finish(pe, &out, NULL) == TL_OK);
  s = show(out);
  CHECK_STR(s, "first_x,last_x,n;null,null,0");
  free(s);
  tl_table_release(out);
  tl_partial_free(pe);
  tl_table_release(e);
  tl_table_release(a);
  tl_table_release(b);
}

/* Quantiles of ints: histograms that merge while their bounds allow, else
** values; distinct strings of tables with dictionaries of their own. */
static void test_layouts(void) {
  tl_table *a = load("k,x,s\na,1,p\nb,5,q\na,3,r\n"), *b = load("k,x,s\na,100000,q\nb,100007,p\nc,7,z\n");
  tl_table *c = load("k,x,s\na,2,r\nb,-100000,y\n");
  const char *k = "k", *defs[] = { "median(x)", "q = quantile(x, 0.25)", "count_distinct(s)",
                                   "count_distinct(x)", "min(s)", "max(s)" };
  const tl_table *parts[] = { a, b, c };
  tl_table *all;
  CHECK(tl_table_concat(3, parts, &all, NULL) == TL_OK);
  tl_table *want = agg(all, 1, &k, 6, defs, NULL);
  char *ws = show(want);
  CHECK_STR(ws, "k,median_x,q,count_distinct_s,count_distinct_x,min_s,max_s;"
                "a,2.5,1.75,3,4,p,r;b,5.0,-49997.5,3,3,p,y;c,7.0,7.0,1,1,z,z");
  for (unsigned enc = 0; enc < 8; enc++) {
    tl_partial *acc = partial(a, 1, &k, 6, defs, NULL, enc & 1);
    for (int q = 1; q < 3; q++) {
      tl_partial *p = partial(parts[q], 1, &k, 6, defs, NULL, (enc >> q) & 1);
      CHECK(tl_partial_merge(acc, p, NULL) == TL_OK);
      tl_partial_free(p);
    }
    tl_table *out;
    CHECK(tl_partial_finish(acc, &out, NULL) == TL_OK);
    char *s = show(out);
    CHECK_STR(s, ws);
    free(s);
    tl_table_release(out);
    tl_partial_free(acc);
  }
  free(ws);
  tl_table_release(want);
  tl_table_release(all);
  tl_table_release(a);
  tl_table_release(b);
  tl_table_release(c);
}

static void test_mismatch(void) {
  tl_table *t = load("k,j,x,f\na,1,2,0.5\nb,2,3,1.5\n"), *u = load("k,j,x,f\na,1,2.5,1\n");
  const char *k = "k", *j = "j", *d1[] = { "s = sum(x)" }, *d2[] = { "s = sum(x)", "n = count()" },
             *d3[] = { "t = sum(x)" };
  tl_partial *a = partial(t, 1, &k, 1, d1, NULL, 0);
  tl_partial *b = partial(t, 1, &k, 2, d2, NULL, 0);
  tl_partial *c = partial(t, 1, &k, 1, d3, NULL, 0);
  tl_partial *d = partial(t, 1, &j, 1, d1, NULL, 0);
  tl_partial *e = partial(t, 0, NULL, 1, d1, NULL, 0);
  tl_partial *f = partial(u, 1, &k, 1, d1, NULL, 0);   /* x is a float there */
  tl_error err;
  CHECK(tl_partial_merge(a, b, &err) == TL_EINVAL);
  CHECK_STR(err.message, "partial: cannot merge partials of 1 and 2 definitions");
  CHECK(tl_partial_merge(a, c, &err) == TL_EINVAL);
  CHECK_STR(err.message, "partial: cannot merge partials of different definitions "
                         "(\"s = sum(x)\" and \"t = sum(x)\")");
  CHECK(tl_partial_merge(a, d, &err) == TL_EINVAL);
  CHECK_STR(err.message, "partial: cannot merge partials grouped by different keys");
  CHECK(tl_partial_merge(a, e, &err) == TL_EINVAL);
  CHECK_STR(err.message, "partial: cannot merge partials grouped by different keys");
  CHECK(tl_partial_merge(a, f, &err) == TL_EINVAL);
  CHECK_STR(err.message, "partial: cannot merge partials made from columns of different types");
  /* into is unchanged by a refused merge */
  tl_table *out;
  CHECK(tl_partial_finish(a, &out, NULL) == TL_OK);
  char *s = show(out);
  CHECK_STR(s, "k,s;a,2;b,3");
  free(s);
  tl_table_release(out);
  tl_partial_free(a); tl_partial_free(b); tl_partial_free(c); tl_partial_free(d);
  tl_partial_free(e); tl_partial_free(f);
  tl_table_release(t);
  tl_table_release(u);
}

/* ---------------------------------------------------------------------------
** Encoding
*/
/* tl_partial_write's pieces, gathered; `fail_at` > 0 fails that call. */
typedef struct pieces { uint8_t *p; size_t n; int calls, fail_at; size_t most; } pieces;

static tl_status gather_piece(void *ud, const void *b, size_t n, tl_error *err) {
  pieces *g = ud;
  if (++g->calls == g->fail_at) return tl_error_set(err, TL_EIO, "disk full (test)");
  g->p = realloc(g->p, g->n + n);
  memcpy(g->p + g->n, b, n);
  g->n += n;
  if (n > g->most) g->most = n;
  return TL_OK;
}

/* Written in pieces, a partial is the bytes tl_partial_encode makes: big
** states over many pieces, a value longer than a piece, an error of the
** writer's at every call returned as it is. */
static void test_write_pieces(void) {
  for (int big = 0; big < 2; big++) {
    /* many groups over many pieces; or strings longer than a piece */
    tl_table *base = make_table(big ? 20000 : 40, 11), *t;
    const char *mk[] = { "kp = ks .. ''", "long = rpad(ks, 300000, 'x')" };
    CHECK(tl_table_mutate(base, big ? 1 : 2, mk, &t, NULL) == TL_OK);
    const char *keys[] = { big ? "w" : "kp" };
    const char *defs[] = { "n = count()", "s = sum(i)", "f = first(ks)", "lo = min(long)" };
    tl_partial *p = partial(t, 1, keys, big ? 3 : 4, defs, NULL, 0);
    CHECK(p != NULL);
    void *buf = NULL;
    size_t len = 0;
    tl_error err;
    CHECK(tl_partial_encode(p, &buf, &len, &err) == TL_OK);
    pieces g = { NULL, 0, 0, 0, 0 };
    CHECK(tl_partial_write(p, gather_piece, &g, &err) == TL_OK);
    CHECK(g.n == len && memcmp(g.p, buf, len) == 0);
    CHECK(big ? g.calls > 2 : g.most >= 300000);
    for (int k = 1; k <= g.calls; k++) {
      pieces h = { NULL, 0, 0, k, 0 };
      CHECK(tl_partial_write(p, gather_piece, &h, &err) == TL_EIO);
      CHECK_STR(err.message, "disk full (test)");
      CHECK(h.calls == k);
      free(h.p);
    }
    free(g.p);
    tl_free(buf);
    tl_partial_free(p);
    tl_table_release(t);
    tl_table_release(base);
  }
}

static void test_encoding(void) {
  tl_table *t = keyed_table(150, 3);
  const char *keys[] = { "ks", "ki", "kf", "kt", "kd", "kb" };
  tl_partial *p = partial(t, 6, keys, NEXACT, exact_defs, NULL, 0);
  void *buf, *buf2;
  size_t len, len2;
  tl_error err;
  CHECK(tl_partial_encode(p, &buf, &len, &err) == TL_OK);
  CHECK(memcmp(buf, "TLPS", 4) == 0);
  tl_partial *q = NULL;
  CHECK(tl_partial_decode(buf, len, NULL, &q, &err) == TL_OK);
  /* decoded and encoded again: the same bytes */
  CHECK(tl_partial_encode(q, &buf2, &len2, &err) == TL_OK);
  CHECK(len == len2 && memcmp(buf, buf2, len) == 0);
  tl_free(buf2);
  tl_table *x, *y;
  CHECK(tl_partial_finish(p, &x, NULL) == TL_OK);
  CHECK(tl_partial_finish(q, &y, NULL) == TL_OK);
  char *sx = show(x), *sy = show(y);
  CHECK(strcmp(sx, sy) == 0);
  free(sx); free(sy);
  tl_table_release(x);
  tl_table_release(y);
  tl_partial_free(q);

  /* cut short at every length: an error, never a crash */
  int fails = 0;
  for (size_t n = 0; n < len; n++) {
    q = NULL;
    tl_status st = tl_partial_decode(buf, n, NULL, &q, &err);
    fails += st != TL_OK;
    CHECK(q == NULL);
  }
  CHECK(fails == (int)len);
  /* a bit flipped anywhere: the checksum or the header says so */
  uint8_t *dam = malloc(len);
  uint32_t rnd = 12345;
  int flips = 0, caught = 0;
  for (int trial = 0; trial < 1000; trial++) {
    memcpy(dam, buf, len);
    rnd = rnd * 1103515245u + 12345u;
    size_t at = (rnd >> 4) % len;
    dam[at] ^= (uint8_t)(1u << ((rnd >> 20) & 7));
    q = NULL;
    flips++;
    if (tl_partial_decode(dam, len, NULL, &q, &err) != TL_OK) caught++;
    else tl_partial_free(q);
  }
  CHECK(caught == flips);
  memcpy(dam, buf, len);
  dam[len - 1] ^= 1;
  CHECK(tl_partial_decode(dam, len, NULL, &q, &err) == TL_EPARSE);
  CHECK_STR(err.message, "partial: damaged buffer (checksum)");
  memcpy(dam, buf, len);
  dam[0] = 'X';
  CHECK(tl_partial_decode(dam, len, NULL, &q, &err) == TL_EPARSE);
  CHECK_STR(err.message, "partial: not a partial state (bad magic)");
  memcpy(dam, buf, len);
  dam[4] = 9;
  CHECK(tl_partial_decode(dam, len, NULL, &q, &err) == TL_EPARSE);
  CHECK_STR(err.message, "partial: format version 9 is not supported (this library reads version 1)");
  /* damage behind a good checksum (what a forged buffer could hold): never a
  ** crash. A few groups: a damaged histogram may be as large as its limits allow */
  free(dam);
  tl_free(buf);
  tl_partial_free(p);
  tl_table *few;
  CHECK(tl_table_slice(t, 0, 30, &few, NULL) == TL_OK);
  p = partial(few, 2, keys, NEXACT, exact_defs, NULL, 0);
  CHECK(tl_partial_encode(p, &buf, &len, &err) == TL_OK);
  tl_table_release(few);
  dam = malloc(len);
  int decoded = 0;
  for (int trial = 0; trial < 400; trial++) {
    memcpy(dam, buf, len);
    for (int f = 0; f < 1 + trial % 3; f++) {
      rnd = rnd * 1103515245u + 12345u;
      size_t at = 8 + (rnd >> 4) % (len - 16);
      dam[at] = trial % 2 ? (uint8_t)(rnd >> 24) : dam[at] ^ (uint8_t)(1u << ((rnd >> 20) & 7));
    }
    uint64_t h = XXH3_64bits(dam, len - 8);
    for (int b = 0; b < 8; b++) dam[len - 8 + b] = (uint8_t)(h >> (8 * b));
    q = NULL;
    if (tl_partial_decode(dam, len, NULL, &q, &err) == TL_OK) {
      decoded++;
      tl_table *z = NULL;
      if (tl_partial_finish(q, &z, &err) == TL_OK) tl_table_release(z);
      tl_partial *r2 = NULL;
      if (tl_partial_decode(buf, len, NULL, &r2, &err) == TL_OK && tl_partial_merge(r2, q, &err) == TL_OK &&
          tl_partial_finish(r2, &z, &err) == TL_OK)
        tl_table_release(z);
      tl_partial_free(r2);
      tl_partial_free(q);
    }
  }
  CHECK(decoded > 0);
  free(dam);
  tl_free(buf);
  tl_partial_free(p);
  tl_table_release(t);
}

/* ---------------------------------------------------------------------------
** Host aggregates: a sum of squares whose states are doubles.
*/
typedef struct sq_run {
  int64_t ng;
  double *v;
  double out;
  const tl_agg_keys *keys;
  int *calls;
} sq_run;

static atomic_int sq_calls[4];   /* begin, save, load, merge (saves run on workers) */

static tl_status sq_begin(void *ud, int64_t ng, void **run, tl_error *err) {
  (void)ud; (void)err;
  sq_run *r = calloc(1, sizeof *r);
  r->ng = ng;
  r->v = calloc((size_t)ng + 1, sizeof *r->v);
  *run = r;
  sq_calls[0]++;
  return TL_OK;
}

static tl_status sq_step(void *run, const tl_agg_batch *b, tl_error *err) {
  sq_run *r = run;
  const double *f = tl_column_floats(b->args[0]);
  for (int64_t k = 0; k < b->n; k++) {
    double x = f[b->rows[k]];
    if (x < 0) {
      char key[200];
      tl_agg_key_text(r->keys, b->groups[k], key, sizeof key);
      snprintf(err->message, sizeof err->message, "sq: negative value in group %s, row %lld",
               key, (long long)b->rows[k] + 1);
      return err->code = TL_EINVAL;
    }
    r->v[b->groups[k]] += x * x;
  }
  return TL_OK;
}

static tl_status sq_finish(void *run, int64_t ng, tl_column **out, tl_error *err) {
  sq_run *r = run;
  tl_builder *b;
  TL_TRY_TEST(tl_builder_new(TL_FLOAT, ng, &b, err));
  tl_status st = TL_OK;
  for (int64_t g = 0; g < ng && st == TL_OK; g++) st = tl_builder_append_float(b, r->v[g], err);
  if (st != TL_OK) { tl_builder_free(b); return st; }
  return tl_builder_finish(b, out, err);
}

static void sq_end(void *run) {
  sq_run *r = run;
  free(r->v);
  free(r);
}

static tl_status sq_save(void *run, int64_t g, const void **bytes, size_t *len, tl_error *err) {
  sq_run *r = run;
  (void)err;
  r->out = r->v[g];
  *bytes = &r->out;
  *len = sizeof r->out;
  sq_calls[1]++;
  return TL_OK;
}

static tl_status sq_load(void *run, int64_t g, const void *bytes, size_t len, tl_error *err) {
  sq_run *r = run;
  if (len != sizeof(double)) { snprintf(err->message, sizeof err->message, "sq: bad state"); return TL_EINVAL; }
  memcpy(&r->v[g], bytes, len);
  sq_calls[2]++;
  return TL_OK;
}

static tl_status sq_merge(void *run, int64_t g, const void *bytes, size_t len, tl_error *err) {
  sq_run *r = run;
  double d;
  if (len != sizeof d) { snprintf(err->message, sizeof err->message, "sq: bad state"); return TL_EINVAL; }
  memcpy(&d, bytes, len);
  r->v[g] += d;
  sq_calls[3]++;
  return TL_OK;
}

static void sq_keys(void *run, const tl_agg_keys *keys) { ((sq_run *)run)->keys = keys; }

/* The sum of squares as aggregate `name`. */
static tl_aggregate sq_aggregate(const char *name) {
  return (tl_aggregate){ .name = name, .type = TL_FLOAT, .begin = sq_begin, .step = sq_step,
                         .finish = sq_finish, .end = sq_end, .save = sq_save, .load = sq_load,
                         .merge = sq_merge, .keys = sq_keys };
}

static void test_host(void) {
  tl_aggregate sq = sq_aggregate("sq"), nomerge = sq_aggregate("sq2");
  nomerge.save = NULL;
  nomerge.load = NULL;
  nomerge.merge = NULL;
  const tl_aggregate *fns[] = { &sq, &nomerge };
  tl_scope scope = { 2, fns, 0, NULL };
  tl_table *t = load("k,f\na,1.0\nb,2.0\na,3.0\nc,\nb,0.5\nd,4.0\n");
  const char *k = "k", *defs[] = { "s = sq(f)", "r = sq(f) / count(f)", "n = count()" };
  tl_table *whole;
  tl_grouping *g;
  CHECK(tl_table_group_by(t, 1, &k, &g, NULL) == TL_OK);
  CHECK(tl_grouping_agg_scope(g, 3, defs, &scope, &whole, NULL) == TL_OK);
  char *ws = show(whole);
  CHECK_STR(ws, "k,s,r,n;a,10.0,5.0,2;b,4.25,2.125,2;c,0.0,null,1;d,16.0,16.0,1");
  tl_grouping_free(g);
  for (int cut = 0; cut <= 6; cut++) {
    tl_table *p1, *p2, *out;
    CHECK(tl_table_slice(t, 0, cut, &p1, NULL) == TL_OK);
    CHECK(tl_table_slice(t, cut, 6, &p2, NULL) == TL_OK);
    tl_partial *a = partial(p1, 1, &k, 3, defs, &scope, 1), *b = partial(p2, 1, &k, 3, defs, &scope, 1);
    memset(sq_calls, 0, sizeof sq_calls);
    CHECK(tl_partial_merge(a, b, NULL) == TL_OK);
    CHECK(sq_calls[0] == 2);   /* a run a slot: load into's states, merge from's, save */
    static const int merges[] = { 0, 1, 2, 1, 1, 0, 0 };   /* groups in both parts */
    CHECK(sq_calls[3] == 2 * merges[cut]);
    CHECK(tl_partial_finish(a, &out, NULL) == TL_OK);
    char *s = show(out);
    CHECK_STR(s, ws);
    free(s);
    tl_table_release(out);
    tl_partial_free(a);
    tl_partial_free(b);
    tl_table_release(p1);
    tl_table_release(p2);
  }
  free(ws);
  tl_table_release(whole);
  /* the whole table as one group */
  tl_partial *a = partial(t, 0, NULL, 1, defs, &scope, 1), *b = partial(t, 0, NULL, 1, defs, &scope, 0);
  tl_table *out;
  CHECK(tl_partial_merge(a, b, NULL) == TL_OK);
  CHECK(tl_partial_finish(a, &out, NULL) == TL_OK);
  char *s = show(out);
  CHECK_STR(s, "s;60.5");
  free(s);
  tl_table_release(out);
  tl_partial_free(a);
  tl_partial_free(b);
  /* without save, load and merge: usable in agg, not in a partial */
  const char *d2 = "s = sq2(f)";
  tl_error err;
  tl_partial *p = NULL;
  CHECK(tl_table_agg_scope(t, 1, &d2, &scope, &out, &err) == TL_OK);
  tl_table_release(out);
  CHECK(tl_table_partial(t, 1, &d2, &scope, &p, &err) == TL_EINVAL && p == NULL);
  CHECK_STR(err.message, "partial: aggregate 'sq2' has no merge, so it cannot be combined across "
                         "threads or processes (give it save, load and merge)");
  /* decoding needs the aggregate in scope */
  void *buf;
  size_t len;
  p = partial(t, 1, &k, 1, defs, &scope, 0);
  CHECK(tl_partial_encode(p, &buf, &len, NULL) == TL_OK);
  tl_partial *q = NULL;
  CHECK(tl_partial_decode(buf, len, NULL, &q, &err) != TL_OK && q == NULL);
  CHECK_STR(err.message, "agg: \"s = sq(f)\": unknown function 'sq' at column 5");
  tl_free(buf);
  tl_partial_free(p);
  /* a host's message names the group by its key */
  tl_table *neg = load("k,j,f\na,1,1.0\nb,2,-2.0\n");
  const char *kj[] = { "k", "j" };
  CHECK(tl_table_group_by(neg, 2, kj, &g, NULL) == TL_OK);
  CHECK(tl_grouping_agg_scope(g, 1, defs, &scope, &out, &err) == TL_EINVAL);
  CHECK_STR(err.message, "agg: \"s = sq(f)\": sq: negative value in group k = 'b', j = 2, row 2");
  tl_grouping_free(g);
  tl_table_release(neg);
  tl_table_release(t);
}

/* ---------------------------------------------------------------------------
** Host aggregates on the worker threads: sq again, with fork, begin_on and
** join. Its runs on the workers may be told to fail, which must make every
** range run again on the calling thread.
*/
static atomic_int fk_forks, fk_joins, fk_begins, fk_bad_worker, fk_workers;
static int fk_fork_ok, fk_fail;

static int fk_fork(void *ud, int n) {
  (void)ud;
  fk_forks++;
  fk_workers = n;
  return fk_fork_ok;
}

static tl_status fk_begin_on(void *ud, int w, int64_t ng, void **run, tl_error *err) {
  fk_begins++;
  if (w < 0 || w >= fk_workers) fk_bad_worker = 1;
  if (fk_fail) {
    snprintf(err->message, sizeof err->message, "fk: a worker failed");
    return err->code = TL_EINVAL;
  }
  return sq_begin(ud, ng, run, err);
}

static void fk_join(void *ud) { (void)ud; fk_joins++; }

static void fk_reset(int fork_ok, int fail) {
  fk_forks = fk_joins = fk_begins = fk_bad_worker = 0;
  fk_fork_ok = fork_ok;
  fk_fail = fail;
  for (int i = 0; i < 4; i++) sq_calls[i] = 0;
}

/* The grouped results of `def` over t as text; the error's message on failure. */
static char *fk_agg(const tl_table *t, const char *def, const tl_scope *scope, tl_error *err) {
  const char *k = "k";
  tl_grouping *g;
  tl_table *out = NULL;
  if (tl_table_group_by(t, 1, &k, &g, err) != TL_OK) return NULL;
  tl_status st = tl_grouping_agg_scope(g, 1, &def, scope, &out, err);
  tl_grouping_free(g);
  if (st != TL_OK) return NULL;
  char *s = show(out);
  tl_table_release(out);
  return s;
}

static char *fk_csv(int negative_row) {
  size_t cap = 256 * 1024, len = 0;
  char *csv = malloc(cap);
  len += (size_t)snprintf(csv + len, cap - len, "k,f\n");
  for (int i = 1; i <= 10000; i++) {
    if (i % 9 == 0) len += (size_t)snprintf(csv + len, cap - len, "k%d,\n", i % 5);
    else len += (size_t)snprintf(csv + len, cap - len, "k%d,%s%.3f\n", i % 5,
                                 i == negative_row ? "-" : "", (i * 37 % 101) / 7.0);
  }
  return csv;
}

static void test_host_fork(void) {
  tl_aggregate fk = sq_aggregate("fk"), plain = sq_aggregate("plain");
  fk.fork = fk_fork;
  fk.begin_on = fk_begin_on;
  fk.join = fk_join;
  const tl_aggregate *fns[] = { &fk, &plain };
  tl_scope scope = { 2, fns, 0, NULL };
  /* 10 000 rows, 5 keys, inexact floats and nulls; a copy with a negative value at row 700 */
  char *csv = fk_csv(0), *neg = fk_csv(700);
  tl_table *t = load(csv), *tn = load(neg);
  tl_error err;
  tl_group_set_range_rows(16);   /* doubled to 512 rows, 64 a group: 20 ranges */
  tl_set_threads(1);
  fk_reset(1, 0);
  char *ref = fk_agg(t, "a = plain(f)", &scope, &err);
  char *one = fk_agg(t, "a = fk(f)", &scope, &err);
  CHECK(ref && one);
  CHECK_STR(one, ref);
  CHECK(fk_forks == 0 && fk_begins == 0);   /* one thread: no fork */
  char *want_err = NULL;
  CHECK(fk_agg(tn, "a = fk(f)", &scope, &err) == NULL);
  want_err = strdup(err.message);
  CHECK_STR(want_err, "agg: \"a = fk(f)\": sq: negative value in group k = 'k0', row 700");
  tl_set_threads(2);
  /* on the workers: a run a range, folded in row order */
  fk_reset(1, 0);
  char *two = fk_agg(t, "a = fk(f)", &scope, &err);
  CHECK_STR(two, ref);
  CHECK(fk_forks == 1 && fk_joins == 1 && fk_workers == 2);
  CHECK(fk_begins == 20 && !fk_bad_worker);
  CHECK(sq_calls[0] == 21);   /* the 20 through begin_on, and the fold's */
  /* no more workers than ranges: 1 500 rows are 3 ranges */
  tl_table *few = NULL;
  CHECK(tl_table_slice(t, 0, 1500, &few, NULL) == TL_OK);
  tl_set_threads(8);
  fk_reset(1, 0);
  char *fs = fk_agg(few, "a = fk(f)", &scope, &err);
  CHECK(fs && fk_forks == 1 && fk_workers == 3 && fk_begins == 3 && !fk_bad_worker);
  free(fs);
  tl_table_release(few);
  tl_set_threads(2);
  /* a host that declines to fork runs the ranges on the calling thread */
  fk_reset(0, 0);
  char *declined = fk_agg(t, "a = fk(f)", &scope, &err);
  CHECK_STR(declined, ref);
  CHECK(fk_forks == 1 && fk_joins == 0 && fk_begins == 0 && sq_calls[0] == 21);
  /* workers that fail: everything again on the calling thread */
  fk_reset(1, 1);
  char *again = fk_agg(t, "a = fk(f)", &scope, &err);
  CHECK_STR(again, ref);
  CHECK(fk_forks == 1 && fk_joins == 1 && fk_begins >= 1 && sq_calls[0] == 21);
  /* an error in a range on a worker: the calling thread's run names its place */
  fk_reset(1, 0);
  CHECK(fk_agg(tn, "a = fk(f)", &scope, &err) == NULL);
  CHECK_STR(err.message, want_err);
  CHECK(fk_joins == 1);
  /* the whole table as one group, on the workers; and as a partial, through bytes */
  fk_reset(1, 0);
  const char *whole = "a = fk(f)", *wplain = "a = plain(f)";
  tl_table *w1, *w2, *w3;
  CHECK(tl_table_agg_scope(t, 1, &whole, &scope, &w1, NULL) == TL_OK);
  CHECK(fk_begins == 157);   /* one group: ranges of 64 rows */
  CHECK(tl_table_agg_scope(t, 1, &wplain, &scope, &w2, NULL) == TL_OK);
  fk_reset(1, 0);
  tl_partial *p = partial(t, 0, NULL, 1, &whole, &scope, 1);
  CHECK(p && fk_begins == 157);
  CHECK(p && tl_partial_finish(p, &w3, NULL) == TL_OK);
  char *s1 = show(w1), *s2 = show(w2), *s3 = p ? show(w3) : NULL;
  CHECK_STR(s1, s2);
  CHECK_STR(s3, s2);
  free(s1); free(s2); free(s3);
  if (p) tl_table_release(w3);
  tl_partial_free(p);
  tl_table_release(w1);
  tl_table_release(w2);
  free(ref); free(one); free(two); free(declined); free(again); free(want_err);
  free(csv); free(neg);
  tl_table_release(t);
  tl_table_release(tn);
  tl_group_set_range_rows(0);
  tl_set_threads(1);
}

/* ---------------------------------------------------------------------------
** Allocation failures: the Nth allocation fails, for N = 1, 2, ... until the
** whole sequence succeeds; every failure is clean (ASan sees the leaks).
*/
static long fail_at, alloc_count;

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud; (void)osize;
  if (nsize == 0) { free(ptr); return NULL; }
  if (fail_at && ++alloc_count == fail_at) return NULL;
  return realloc(ptr, nsize);
}

static tl_status sequence(const tl_table *t, tl_error *err) {
  const char *k = "ks", *defs[] = { "sum(i)", "min(s)", "quantile(i, 0.5)", "median(f)",
                                    "count_distinct(s)", "count_distinct(kp)", "var(f)",
                                    "r = sum(i) / count()" };
  tl_grouping *g = NULL;
  tl_partial *p = NULL, *q = NULL;
  tl_table *out = NULL;
  void *buf = NULL;
  size_t len;
  tl_status st = tl_table_group_by(t, 1, &k, &g, err);
  if (st == TL_OK) st = tl_grouping_agg(g, 8, defs, &out, err);
  tl_table_release(out);
  out = NULL;
  if (st == TL_OK) st = tl_grouping_partial(g, 8, defs, NULL, &p, err);
  if (st == TL_OK) st = tl_partial_encode(p, &buf, &len, err);
  if (st == TL_OK) st = tl_partial_decode(buf, len, NULL, &q, err);
  if (st == TL_OK) st = tl_partial_merge(p, q, err);
  if (st == TL_OK) st = tl_partial_finish(p, &out, err);
  tl_table_release(out);   /* merged again, into the keys the result shares */
  out = NULL;
  if (st == TL_OK) st = tl_partial_merge(p, q, err);
  if (st == TL_OK) st = tl_partial_merge(q, p, err);
  if (st == TL_OK) st = tl_partial_finish(q, &out, err);
  tl_table_release(out);
  tl_free(buf);
  tl_partial_free(p);
  tl_partial_free(q);
  tl_grouping_free(g);
  return st;
}

static void test_alloc_failures(void) {
  tl_table *t = keyed_table(80, 11);
  for (int th = 1; th <= 2; th++) {
    tl_set_threads(th);
    tl_group_set_range_rows(th == 1 ? 7 : 0);
    int done = 0, bad = 0;
    for (fail_at = 1; fail_at < 100000 && !done; fail_at++) {
      alloc_count = 0;
      tl_set_allocator(failing_alloc, NULL);
      tl_error err;
      tl_status st = sequence(t, &err);
      tl_set_allocator(NULL, NULL);
      if (st == TL_OK) done = 1;
      else if (st != TL_ENOMEM) { bad++; fprintf(stderr, "failing %ld: %s\n", fail_at, err.message); }
    }
    CHECK(done);
    CHECK(bad == 0);
  }
  tl_set_threads(0);
  tl_group_set_range_rows(0);
  tl_table_release(t);
}

int main(void) {
  test_known();
  test_ranges_and_threads();
  test_overflow();
  test_split();
  test_merge_order();
  test_many_merges();
  test_layouts();
  test_mismatch();
  test_encoding();
  test_write_pieces();
  test_host();
  test_host_fork();
  test_alloc_failures();
  return check_done("partial");
}
