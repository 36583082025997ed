/*
** test_window.c -- window functions in mutate (lag, lead, cumsum, rank,
** row_number) over orders and partitions, with nulls, and the exact text of
** their errors; then describe.
*/
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "tables.h"
#include "tally/tally.h"

/* Column `name` of t as "v1,v2,..." (null for nulls). */
static const char *column_text(const tl_table *t, const char *name) {
  static char out[2048];
  size_t k = 0;
  out[0] = '\0';
  int j = tl_table_find(t, name);
  if (j < 0) return "(no such column)";
  const tl_column *c = tl_table_column(t, j);
  for (int64_t i = 0; i < tl_column_length(c) && k < sizeof out; i++) {
    tl_scalar v;
    char buf[128];
    tl_column_get(c, i, &v);
    tl_scalar_format(&v, buf, sizeof buf);
    k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", i ? "," : "", buf);
  }
  return out;
}

/* The column "w" of one definition "w = <src>" over t with the keys, or
** the error message. */
static const char *win(const tl_table *t, const char *src, const char *order,
                       const char *part) {
  static char out[2048];
  char def[512];
  snprintf(def, sizeof def, "w = %s", src);
  const char *defs[1] = { def };
  const char *ok[4], *pk[4];
  int no = 0, np = 0;
  char obuf[128], pbuf[128];
  /* keys separated by spaces */
  snprintf(obuf, sizeof obuf, "%s", order ? order : "");
  snprintf(pbuf, sizeof pbuf, "%s", part ? part : "");
  for (char *s = strtok(obuf, " "); s && no < 4; s = strtok(NULL, " ")) ok[no++] = s;
  for (char *s = strtok(pbuf, " "); s && np < 4; s = strtok(NULL, " ")) pk[np++] = s;
  tl_window_options o;
  tl_window_options_init(&o);
  o.order_by = ok;
  o.norder = no;
  o.partition_by = pk;
  o.npartition = np;
  tl_table *m = NULL;
  tl_error err;
  if (tl_table_mutate_ex(t, 1, defs, NULL, &o, &m, &err) != TL_OK) {
    snprintf(out, sizeof out, "%s", err.message);
    return out;
  }
  snprintf(out, sizeof out, "%s", column_text(m, "w"));
  tl_table_release(m);
  return out;
}

/*    g  y  x          (table order; x null in row 4) */
static const char *data =
  "g,y,x,s\n"
  "a,2018,5,p\n"
  "b,2017,1,q\n"
  "a,2016,2,r\n"
  "b,2018,,s\n"
  "a,2017,7,t\n"
  "b,2016,4,u\n";

static void test_lag_lead(void) {
  tl_table *t = load(data);
  /* the table's order, no partitions */
  CHECK_STR(win(t, "lag(x)", NULL, NULL), "null,5,1,2,null,7");
  CHECK_STR(win(t, "lead(x)", NULL, NULL), "1,2,null,7,4,null");
  CHECK_STR(win(t, "lag(x, 2)", NULL, NULL), "null,null,5,1,2,null");
  CHECK_STR(win(t, "lag(x, 0)", NULL, NULL), "5,1,2,null,7,4");
  CHECK_STR(win(t, "lag(x, 6)", NULL, NULL), "null,null,null,null,null,null");
  CHECK_STR(win(t, "lead(x, 9223372036854775807)", NULL, NULL),
            "null,null,null,null,null,null");
  /* by year within each group: a: 2016 2, 2017 7, 2018 5; b: 2016 4, 2017 1, 2018 null */
  CHECK_STR(win(t, "lag(x)", "y", "g"), "7,4,null,1,2,null");
  CHECK_STR(win(t, "lead(x)", "y", "g"), "null,null,7,null,5,1");
  CHECK_STR(win(t, "x - lag(x)", "y", "g"), "-2,-3,null,null,5,null");
  CHECK_STR(win(t, "lag(s)", "y", "g"), "t,u,null,q,r,null");
  CHECK_STR(win(t, "lag(x)", "-y", "g"), "null,null,7,null,5,1");
  /* defaults: a literal, a column, a float widening an int */
  CHECK_STR(win(t, "lag(x, 1, 0)", "y", "g"), "7,4,0,1,2,0");
  /* a null inside the partition stays null: the default is for the edge */
  CHECK_STR(win(t, "lead(x, 1, y)", "y", "g"), "2018,null,7,2018,5,1");
  CHECK_STR(win(t, "lag(x, 1, 0.5)", "y", "g"), "7.0,4.0,0.5,1.0,2.0,0.5");
  CHECK_STR(win(t, "lag(s, 2, 'none')", "y", "g"), "r,none,none,u,none,none");
  CHECK_STR(win(t, "lag(x, 1, null)", "y", "g"), "7,4,null,1,2,null");
  /* several order keys; partition keys repeated in the order */
  CHECK_STR(win(t, "lag(y)", "g -y", NULL), "null,2018,2017,2016,2018,2017");
  CHECK_STR(win(t, "lag(y)", "g y", "g"), "2017,2016,null,2017,2016,null");
  /* the argument may be any expression, a window call too */
  CHECK_STR(win(t, "lag(x * 10 + 1)", "y", "g"), "71,41,null,11,21,null");
  CHECK_STR(win(t, "lag(lag(x))", "y", "g"), "2,null,null,4,null,null");
  tl_table_release(t);
}

static void test_cumsum(void) {
  tl_table *t = load(data);
  CHECK_STR(win(t, "cumsum(x)", NULL, NULL), "5,6,8,8,15,19");
  CHECK_STR(win(t, "cumsum(x)", "y", "g"), "14,5,2,5,9,4");
  CHECK_STR(win(t, "cumsum(x)", "-y", "g"), "5,1,14,null,12,5");
  CHECK_STR(win(t, "cumsum(x / 2)", "y", "g"), "7.0,2.5,1.0,2.5,4.5,2.0");
  CHECK_STR(win(t, "cumsum(x > 3)", "y", "g"), "2,1,0,1,1,1");
  CHECK_STR(win(t, "cumsum(x - lag(x, 1, 0))", "y", "g"), "5,1,2,1,7,4");
  tl_table *u = load("x\n9223372036854775807\n1\n");
  CHECK_STR(win(u, "cumsum(x)", NULL, NULL), "mutate: integer overflow in cumsum at row 2");
  tl_table_release(u);
  /* compensated: the small values survive a large one and its opposite */
  u = load("x\n0.1\n0.2\n0.3\n1e100\n-1e100\n");
  CHECK_STR(win(u, "cumsum(x)", NULL, NULL), "0.1,0.30000000000000004,0.6,1e+100,0.6");
  tl_table_release(u);
  tl_table_release(t);
}

static void test_rank(void) {
  tl_table *t = load("g,v\na,3\na,1\nb,3\na,3\nb,\na,2\nb,3\na,\n");
  CHECK_STR(win(t, "rank()", "v", NULL), "3,1,3,3,7,2,3,7");
  CHECK_STR(win(t, "rank()", "-v", NULL), "1,6,1,1,7,5,1,7");
  CHECK_STR(win(t, "rank()", "v", "g"), "3,1,1,3,3,2,1,5");
  CHECK_STR(win(t, "row_number()", "v", "g"), "3,1,1,4,3,2,2,5");
  CHECK_STR(win(t, "row_number()", NULL, NULL), "1,2,3,4,5,6,7,8");
  CHECK_STR(win(t, "row_number()", NULL, "g"), "1,2,1,3,2,4,3,5");
  CHECK_STR(win(t, "rank()", "g v", NULL), "3,1,6,3,8,2,6,5");
  CHECK_STR(win(t, "rank() * 10 + row_number()", "v", "g"), "33,11,11,34,33,22,12,55");
  tl_table_release(t);
  /* NaN equals NaN, after the numbers */
  t = load("v\nnan\n1.5\nnan\n");
  CHECK_STR(win(t, "rank()", "v", NULL), "2,1,2");
  tl_table_release(t);
}

/* Definitions see the earlier ones; the order follows a key column that a
** definition replaces. */
static void test_sequence(void) {
  tl_table *t = load(data), *m = NULL;
  const char *defs[3] = { "r = row_number()", "y = -y", "r2 = row_number()" };
  const char *ok[1] = { "y" };
  tl_window_options o;
  tl_window_options_init(&o);
  o.order_by = ok;
  o.norder = 1;
  tl_error err;
  CHECK(tl_table_mutate_ex(t, 3, defs, NULL, &o, &m, &err) == TL_OK);
  if (m) {
    CHECK_STR(column_text(m, "r"), "5,3,1,6,4,2");
    CHECK_STR(column_text(m, "r2"), "1,3,5,2,4,6");
    tl_table_release(m);
  }
  /* a key made by an earlier definition */
  const char *defs2[2] = { "k = 0 - x", "w = lag(x)" };
  const char *ok2[1] = { "k" };
  o.order_by = ok2;
  m = NULL;
  CHECK(tl_table_mutate_ex(t, 2, defs2, NULL, &o, &m, &err) == TL_OK);
  if (m) { CHECK_STR(column_text(m, "w"), "7,2,4,1,null,5"); tl_table_release(m); }
  /* the plain mutate: the table's order */
  const char *defs3[1] = { "w = lag(y)" };
  m = NULL;
  CHECK(tl_table_mutate(t, 1, defs3, &m, &err) == TL_OK);
  if (m) { CHECK_STR(column_text(m, "w"), "null,2018,2017,2016,2018,2017"); tl_table_release(m); }
  tl_table_release(t);
  /* empty and one-row tables */
  t = load("g,x\n");
  CHECK_STR(win(t, "lag(x) .. (rank() + row_number())", "x", "g"), "");
  tl_table_release(t);
  t = load("g,x\na,3\n");
  CHECK_STR(win(t, "lag(x, 1, -1) * 100 + cumsum(x) * 10 + rank()", "x", "g"), "-69");
  tl_table_release(t);
}

static void test_errors(void) {
  tl_table *t = load(data);
  CHECK_STR(win(t, "lag()", NULL, NULL),
            "mutate: \"w = lag()\": wrong number of arguments to 'lag' (0 given) at column 5");
  CHECK_STR(win(t, "lead(x, 1, 2, 3)", NULL, NULL),
            "mutate: \"w = lead(x, 1, 2, 3)\": wrong number of arguments to 'lead' (4 given) "
            "at column 5");
  CHECK_STR(win(t, "rank(x)", "y", NULL),
            "mutate: \"w = rank(x)\": wrong number of arguments to 'rank' (1 given) at column 5");
  CHECK_STR(win(t, "row_number(1)", NULL, NULL),
            "mutate: \"w = row_number(1)\": wrong number of arguments to 'row_number' "
            "(1 given) at column 5");
  CHECK_STR(win(t, "cumsum()", NULL, NULL),
            "mutate: \"w = cumsum()\": wrong number of arguments to 'cumsum' (0 given) at "
            "column 5");
  CHECK_STR(win(t, "lag(x, -1)", NULL, NULL),
            "mutate: \"w = lag(x, -1)\": lag's offset must be an integer literal >= 0 at "
            "column 12");
  CHECK_STR(win(t, "lead(x, y)", NULL, NULL),
            "mutate: \"w = lead(x, y)\": lead's offset must be an integer literal >= 0 at "
            "column 13");
  CHECK_STR(win(t, "lag(x, 1.5)", NULL, NULL),
            "mutate: \"w = lag(x, 1.5)\": lag's offset must be an integer literal >= 0 at "
            "column 12");
  CHECK_STR(win(t, "lag(x, 1, 'a')", NULL, NULL),
            "mutate: \"w = lag(x, 1, 'a')\": lag's default is string at column 15");
  CHECK_STR(win(t, "lag(s, 1, 0)", NULL, NULL),
            "mutate: \"w = lag(s, 1, 0)\": lag's default is int at column 15");
  CHECK_STR(win(t, "lag(null)", NULL, NULL),
            "mutate: \"w = lag(null)\": lag of a bare null at column 5");
  CHECK_STR(win(t, "cumsum(s)", NULL, NULL),
            "mutate: \"w = cumsum(s)\": cumsum of string values at column 5");
  CHECK_STR(win(t, "rank()", NULL, "g"),
            "mutate: \"w = rank()\": rank() needs the order_by option at column 5");
  CHECK_STR(win(t, "lag(z)", NULL, NULL), "mutate: unknown column 'z'");
  CHECK_STR(win(t, "lag(x)", "yy", NULL),
            "mutate: unknown column 'yy' in order_by (did you mean 'y'?)");
  CHECK_STR(win(t, "lag(x)", NULL, "gg"),
            "mutate: unknown column 'gg' in partition_by (did you mean 'g'?)");
  CHECK_STR(win(t, "x + 1", "nope", NULL), "mutate: unknown column 'nope' in order_by");
  CHECK_STR(win(t, "sum(sum(x))", NULL, NULL),
            "mutate: \"w = sum(sum(x))\": aggregate 'sum' inside another aggregate at column 9");
  /* outside of mutate */
  tl_table *f = NULL;
  tl_error err;
  CHECK(tl_table_filter(t, "lag(x) > 1", &f, &err) == TL_ETYPE);
  CHECK_STR(err.message,
            "filter: \"lag(x) > 1\": window function 'lag' outside of mutate at column 1");
  const char *defs[1] = { "n = row_number()" };
  CHECK(tl_table_agg(t, 1, defs, &f, &err) == TL_ETYPE);
  CHECK_STR(err.message,
            "agg: \"n = row_number()\": window function 'row_number' outside of mutate at "
            "column 5");
  tl_column *c = NULL;
  CHECK(tl_table_eval(t, "cumsum(x)", "eval", &c, &err) == TL_ETYPE);
  CHECK_STR(err.message,
            "eval: \"cumsum(x)\": window function 'cumsum' outside of mutate at column 1");
  tl_table_release(t);
}

/* A row of describe's output as "v1|v2|...". */
static const char *describe_row(const tl_table *d, int64_t i) {
  static char out[1024];
  size_t k = 0;
  out[0] = '\0';
  for (int j = 0; j < tl_table_ncols(d); j++) {
    tl_scalar v;
    char buf[128];
    tl_column_get(tl_table_column(d, j), i, &v);
    tl_scalar_format(&v, buf, sizeof buf);
    k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", j ? "|" : "", buf);
  }
  return out;
}

static void test_describe(void) {
  tl_table *t = load("i,f,s,b,d\n"
                     "1,0.5,x,true,2020-01-02\n"
                     "4,,y,false,\n"
                     "2,1.5,x,true,2020-01-01\n"
                     ",2.5,,,2020-01-02\n"
                     "3,1.5,y,true,\n");
  tl_table *d = NULL;
  tl_error err;
  CHECK(tl_table_describe(t, &d, &err) == TL_OK);
  if (!d) return;
  CHECK(tl_table_nrows(d) == 5);
  CHECK_STR(tl_table_name(d, 0), "name");
  CHECK_STR(tl_table_name(d, 8), "25%");
  CHECK_STR(tl_table_name(d, 12), "top");
  /* i: 1 2 3 4; mean 2.5, sample std sqrt(5/3), quartiles 1.75 2.5 3.25 */
  CHECK_STR(describe_row(d, 0),
            "i|int|4|1|4|2.5|1.2909944487358056|1.0|1.75|2.5|3.25|4.0|1");
  /* f: 0.5 1.5 1.5 2.5; the top value is the most frequent */
  CHECK_STR(describe_row(d, 1),
            "f|float|4|1|3|1.5|0.816496580927726|0.5|1.25|1.5|1.75|2.5|1.5");
  /* x and y twice each: the first to appear */
  CHECK_STR(describe_row(d, 2), "s|string|4|1|2|null|null|null|null|null|null|null|x");
  CHECK_STR(describe_row(d, 3), "b|bool|4|1|2|null|null|null|null|null|null|null|true");
  CHECK_STR(describe_row(d, 4),
            "d|date|3|2|2|null|null|null|null|null|null|null|2020-01-02");
  tl_table_release(d);
  tl_table_release(t);
  /* no rows; all nulls; no columns */
  t = load("a,b\n");
  CHECK(tl_table_describe(t, &d, &err) == TL_OK);
  if (d) {
    CHECK_STR(describe_row(d, 0), "a|string|0|0|0|null|null|null|null|null|null|null|null");
    tl_table_release(d);
  }
  tl_table_release(t);
  t = load("a,b\n,1\n,2\n");
  CHECK(tl_table_describe(t, &d, &err) == TL_OK);
  if (d) {
    CHECK_STR(describe_row(d, 0), "a|string|0|2|0|null|null|null|null|null|null|null|null");
    CHECK_STR(describe_row(d, 1), "b|int|2|0|2|1.5|0.7071067811865476|1.0|1.25|1.5|1.75|2.0|1");
    tl_table_release(d);
  }
  tl_table_release(t);
  CHECK(tl_table_new(0, NULL, NULL, &t, &err) == TL_OK);
  CHECK(tl_table_describe(t, &d, &err) == TL_OK);
  if (d) { CHECK(tl_table_nrows(d) == 0 && tl_table_ncols(d) == 13); tl_table_release(d); }
  tl_table_release(t);
}

/* ---------------------------------------------------------------------------
** Allocation failures: fail the Nth allocation and every one after, for N
** = 1, 2, ... until the call succeeds; each failure must be TL_ENOMEM and
** leak nothing.
*/
static long long calls, fail_at, live;

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    if (ptr) live -= (long long)osize;
    free(ptr);
    return NULL;
  }
  if (fail_at && ++calls >= fail_at) return NULL;
  void *p = realloc(ptr, nsize);
  if (p) live += (long long)nsize - (ptr ? (long long)osize : 0);
  return p;
}

static void test_alloc_failures(void) {
  tl_table *t = load(data);
  const char *defs[2] = { "w = x - lag(x, 1, 0) + cumsum(x) + rank()", "v = lead(s, 1, 'z')" };
  const char *ok[1] = { "-y" }, *pk[1] = { "g" };
  tl_window_options o;
  tl_window_options_init(&o);
  o.order_by = ok;
  o.norder = 1;
  o.partition_by = pk;
  o.npartition = 1;
  tl_alloc_fn old;
  void *oud;
  tl_get_allocator(&old, &oud);
  tl_set_threads(1);
  tl_set_allocator(failing_alloc, NULL);
  int done = 0, bad = 0;
  for (long long n = 1; n < 5000 && !done; n++) {
    tl_table *m = NULL, *d = NULL;
    tl_error err;
    calls = 0;
    live = 0;
    fail_at = n;
    tl_status st = tl_table_mutate_ex(t, 2, defs, NULL, &o, &m, &err);
    if (st == TL_OK) st = tl_table_describe(m, &d, &err);
    fail_at = 0;
    if (st == TL_OK) done = 1;
    else if (st != TL_ENOMEM) bad++;
    tl_table_release(d);
    tl_table_release(m);
    if (live != 0) bad++;
  }
  tl_set_allocator(old, oud);
  tl_set_threads(0);
  CHECK(done);
  CHECK(bad == 0);
  tl_table_release(t);
}

int main(void) {
  test_lag_lead();
  test_cumsum();
  test_rank();
  test_sequence();
  test_errors();
  test_describe();
  test_alloc_failures();
  return check_done("window");
}
