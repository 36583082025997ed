/*
** test_expr_vectors.c -- the evaluator under every setting that must not
** change a result: vectors of 1, 7 and TL_VEC rows, constant folding on and
** off, short-circuit on and off, 1 and 3 threads. Each expression runs
** through filter, mutate and agg over a table with a column of every type
** (nulls in most, a dictionary among the strings), and every setting must
** give the text of the first, value for value, error for error.
*/
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "expr/expr.h"
#include "tally/tally.h"

/* ---------------------------------------------------------------------------
** Text of results
*/
typedef struct text {
  char *p;
  size_t n, cap;
} text;

static void put(text *b, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if (b->p && b->n + (size_t)k < b->cap) { b->n += (size_t)k; return; }
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap <= b->n + (size_t)k) cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) { fprintf(stderr, "out of memory\n"); exit(2); }
    b->p = np;
    b->cap = cap;
  }
}

static void column_text(text *b, const tl_column *c) {
  int64_t n = tl_column_length(c), nulls = 0;
  put(b, "%s %lld %lld:", tl_type_name(tl_column_type(c)), (long long)n,
      (long long)tl_column_null_count(c));
  for (int64_t i = 0; i < n; i++) {
    tl_scalar v;
    char buf[128];
    tl_column_get(c, i, &v);
    nulls += v.is_null;
    if (v.is_null) put(b, " ~");
    else if (v.type == TL_STRING) put(b, " %zu'%.*s'", v.v.s.len, (int)v.v.s.len, v.v.s.ptr);
    else { tl_scalar_format(&v, buf, sizeof buf); put(b, " %s", buf); }
  }
  CHECK(nulls == tl_column_null_count(c));   /* the count agrees with the rows */
  if (nulls == 0) CHECK(tl_column_validity(c) == NULL);
}

/* The result of a verb as text: a column, the ids of the kept rows, a
** table, or the error. */
enum { V_EVAL, V_FILTER, V_AGG };

static char *run(const tl_table *t, int verb, const char *src) {
  text b = { NULL, 0, 0 };
  tl_error err;
  tl_status st;
  put(&b, "");
  if (verb == V_EVAL) {
    tl_column *c = NULL;
    if ((st = tl_table_eval(t, src, "mutate", &c, &err)) == TL_OK) column_text(&b, c);
    tl_column_release(c);
  } else {
    tl_table *o = NULL;
    st = verb == V_FILTER ? tl_table_filter(t, src, &o, &err) : tl_table_agg(t, 1, &src, &o, &err);
    if (st == TL_OK) {
      put(&b, "%lld rows:", (long long)tl_table_nrows(o));
      if (verb == V_FILTER) {
        const int64_t *id = tl_column_ints(tl_table_column(o, 0));
        for (int64_t i = 0; i < tl_table_nrows(o); i++) put(&b, " %lld", (long long)id[i]);
      } else {
        column_text(&b, tl_table_column(o, 0));
      }
    }
    tl_table_release(o);
  }
  if (st != TL_OK) put(&b, "error %d: %s", (int)st, err.message);
  return b.p;
}

/* ---------------------------------------------------------------------------
** The table: id, then a column of each type with nulls, a dictionary
** column r, and k and x without nulls.
*/
static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static tl_table *make_table(int64_t n) {
  static const char *const regions[] = { "Asia", "Europe", "Africa", "Central Asia", "Oceania" };
  static const char *const words[] = { "  Mixed Case ", "\xc3\x89t\xc3\xa9", "", "a,b", "zz" };
  text b = { NULL, 0, 0 };
  put(&b, "id,i,f,s,r,b,d,ts,k,x\n");
  for (int64_t row = 0; row < n; row++) {
    uint64_t v = next();
    int y, m, d;
    put(&b, "%lld,", (long long)row + 1);
    if (v % 9 == 0) put(&b, ","); else put(&b, "%d,", (int)(v >> 8) % 201 - 100);
    if (v % 7 == 0) put(&b, ","); else put(&b, "%g,", (double)((int)(v >> 16) % 2001 - 1000) / 8);
    if (v % 11 == 0) put(&b, ",");
    else if ((v >> 20) % 10 == 0) put(&b, "\"%s\",", words[(v >> 24) % 5]);
    else put(&b, "w%llu,", (unsigned long long)(v >> 28) % 100000);
    if (v % 13 == 0) put(&b, ","); else put(&b, "%s,", regions[(v >> 32) % 5]);
    if (v % 5 == 0) put(&b, ","); else put(&b, "%s,", (v >> 36) & 1 ? "true" : "false");
    tl_civil_from_days((int32_t)(7300 + (v >> 37) % 20000 - 10000), &y, &m, &d);
    if (v % 6 == 0) put(&b, ","); else put(&b, "%04d-%02d-%02d,", y, m, d);
    tl_civil_from_days((int32_t)(10000 + (v >> 40) % 9000 - 4500), &y, &m, &d);
    if (v % 8 == 0) put(&b, ",");
    else put(&b, "%04d-%02d-%02dT%02d:%02d:%02d,", y, m, d, (int)(v >> 44) % 24,
             (int)(v >> 48) % 60, (int)(v >> 52) % 60);
    put(&b, "%d,%g\n", (int)(v >> 12) % 1000 - 500, (double)((int)(v >> 22) % 4001 - 2000) / 16);
  }
  tl_table *t = NULL;
  tl_error err;
  if (tl_read_csv_buffer(b.p, b.n, "t", NULL, &t, &err) != TL_OK)
    fprintf(stderr, "make_table: %s\n", err.message);
  free(b.p);
  return t;
}

/* ---------------------------------------------------------------------------
** The expressions. `!` in front: an error is the expected result.
*/
static const char *const evals[] = {
  /* arithmetic, every pair of number types, nulls, division by zero */
  "i + k", "i - k * 3", "i * k", "i // k", "i % k", "i / k", "f / x", "f // 2", "f % 3.5",
  "-i", "-f", "i ^ 2", "2 ^ (f / 100)", "i + f", "k * x + 1", "x - i", "i // 0", "f / 0",
  "k % 0", "abs(i)", "abs(f)", "floor(f)", "ceil(x)", "round(f)", "round(f, 1)", "floor(i)",
  "sqrt(abs(f))", "ln(abs(x) + 1)", "exp(f / 100)", "log(abs(k) + 1, 10)", "log(abs(k) + 1)",
  /* comparisons of every type */
  "i == k", "i < f", "f >= x", "x ~= f", "s < 'w5'", "s == s", "r == 'Asia'", "'Asia' ~= r",
  "r < 'B'", "'B' <= r", "r == s", "r > s", "r == nil", "b == true", "b ~= (i > 0)",
  "d < '2000-01-01'", "d == d", "'2000-01-01' >= d", "ts > '2010-06-01T00:00:00'", "d < ts",
  "ts <= d", "f == 0", "r == 'Nowhere'",
  /* strings, dates */
  "s .. r", "r .. i", "f .. '|' .. k", "d .. ''", "ts .. d", "lower(s)", "upper(r)",
  "trim(s)", "len(s)", "len(r)", "substr(s, 2, 4)", "substr(r, -3)", "substr(s, i)",
  "contains(s, '1')", "starts_with(r, 'A')", "ends_with(s, '7')", "contains(r, s)",
  "year(d)", "month(ts)", "day(d) + year(ts)", "year(d) * 100 + month(d)",
  /* dates, times and casts */
  "hour(ts)", "minute(ts) + second(ts)", "weekday(d)", "yearday(d)", "quarter(ts)", "week(d)",
  "date_trunc('month', d)", "date_trunc('week', ts)", "date_trunc('quarter', d)",
  "date_trunc('hour', ts)", "date_diff('month', d, ts)", "date_diff('week', ts, d)",
  "date_sub('year', d, '2000-02-29')", "date_sub('month', ts, d)", "date_add(d, k, 'month')",
  "date_add(ts, i, 'hour')", "date_add(d, i, 'day')", "d + k", "k + d", "d - i", "d - d",
  "ts - d", "ts - ts", "strftime(d, '%b %d %Y')", "strftime(ts, '%Y-%m-%dT%H:%M:%S %p %j')",
  "to_date(strftime(d, '%b %d %Y'), '%b %d %Y')",
  "to_timestamp(strftime(ts, '%d/%m/%Y %H:%M:%S'), '%d/%m/%Y %H:%M:%S')", "epoch(ts)",
  "epoch(d)", "make_date(year(d), month(d), 1)", "to_timestamp(k)", "int(f)", "float(i)",
  "string(f)", "string(d)", "string(ts)", "bool(i)", "bool(f)", "date(ts)", "timestamp(d)",
  "try_cast(s, 'int')", "try_cast(r .. i, 'float')", "try_cast(string(i), 'int')",
  "try_cast(s, 'date')", "int(string(k))", "date(string(d))", "timestamp(string(ts))",
  "if(b, try_cast(s, 'int'), i)", "coalesce(try_cast(s, 'bool'), b)", "!int(s)", "!to_date(s)",
  "!make_date(2015, 2, 29)", "!to_date(r, '%Y')", "!date_add(d, 9223372036854775807, 'day')",
  /* text, patterns, regular expressions and operators of the everyday library */
  "lower(s) .. upper(s)", "len(upper(s))", "left(s, 2)", "right(r, -2)", "left(s, i)",
  "replace(r, 'a', 'XY')", "split_part(s, ',', 2)", "split_part(r, ' ', -1)",
  "lpad(r, 8, '.-')", "rpad(s, i % 9, '*')", "ltrim(s)", "rtrim(r, 'a')", "strip(s, ' M')",
  "reverse(s)", "strpos(r, 'a')", "concat(s, '/', r)", "repeat(r, 2)", "s like 'w1%'",
  "r like '%a'", "r ilike 'a%'", "s not like '%5_'", "r like s", "s like '%|%%' escape '|'",
  "regexp_matches(s, '^w[0-9]+$')", "regexp_matches(r, 'ia$')",
  "regexp_replace(r, '([aeiou])', '<\\1>')", "regexp_extract(s, '([0-9])([0-9])', 2)",
  "regexp_extract(r, 'A.')", "i in (1, 2, 3, k)", "r in ('Asia', 'Europe', null)",
  "r not in ('Asia', s)", "i not in (k, -5)", "nullif(i, k)", "nullif(r, 'Asia')",
  "greatest(i, k, f)", "least(i, k)", "greatest(s, r)", "least(d, d)", "is_nan(f / 0 * 0)",
  "sign(f)", "sign(i)", "!rpad(r, 20, '')", "!split_part(s, ',', 0)",
  /* nulls and choices */
  "is_null(i)", "is_null(r)", "is_null(i + k)", "coalesce(i, k)", "coalesce(f, i, 0)",
  "coalesce(s, r, 'none')", "coalesce(null, d)", "coalesce(b, i > 0, false)",
  "coalesce(r, s)", "if(b, i, k)", "if(i > 0, f, x)", "if(b, s, r)", "if(b, d, null)",
  "if(is_null(d), ts < '2000-01-01T00:00:00', d > '2000-01-01')", "if(i > 0, i, f)",
  "if(r == 'Asia', lower(r), upper(s))", "coalesce(if(b, i, null), k)",
  /* three-valued logic, short-circuit chains */
  "i > 0 and f > 0", "i > 0 or f > 0", "b and i > 0 or f < 0", "not b",
  "not (i > 0 and (b or f > 0))", "(i > 0 or b) and (f > 0 or r == 'Asia')",
  "i > 0 and f > 0 and b and r ~= 'Asia'", "i > 0 or f > 0 or b or r == 'Asia'",
  "(b and i > 50) or (not b and i < -50) or is_null(b)", "b and (f > 0 or is_null(f))",
  "i > 0 and null", "null or b", "null and b", "b or null",
  /* constants, whole and in part */
  "b and true", "true and b", "false or b", "b or false", "b or true", "i > 0 and false",
  "false and b", "true or i > 0", "1 + 2 * 3", "2000 + 10", "k * (1 + 0.2)", "lower('ASIA')",
  "if(1 > 2, i, k)", "if(2 > 1, i, k)", "if(null, i, k)", "if(true, 1, 2.5)", "coalesce(null, 1)",
  "1 // 0", "'a' .. 1 .. 2.5", "i >= 2000 + 10", "r == upper('asia')", "r == lower('ASIA')",
  "d >= '2017-01-01'", "null", "null + 1", "-(1)", "not false", "is_null(null)", "abs(-3)",
  "substr('hello', 2, 3)", "len('\xc3\x89t\xc3\xa9')", "year(ts) > 1990 + 10 and true",
  "r == 'As' .. 'ia'", "2 ^ 10 + i", "round(3.14159, 2) * x", "-9223372036854775807 - 1",
  "!9223372036854775807 + 1", "!k * 9223372036854775807", "!abs(-9223372036854775807 - 1)",
  "!-(-9223372036854775807 - 1) + i",
};

static const char *const filters[] = {
  "i > 0", "i > 0 and f > 0", "i > 0 or f > 0", "b", "not b", "b and r == 'Asia'",
  "r == 'Asia' or r == 'Europe' and i > 50",
  "(i > 0 or k > 0) and (b or is_null(b)) and d > '1995-01-01'",
  "i > 0 and (f > 0 or (k < 0 and not b))", "coalesce(b, false)", "if(b, i > 0, f > 0)",
  "s < 'w3' or ts < '2000-01-01T00:00:00'", "contains(s, '2') and len(s) > 3",
  "true", "false", "null", "1 > 2 or i > 90", "i > 0 and false", "b or true",
  "x > 0 and 1 == 1", "year(d) >= 2000 + 10 and r ~= 'Asia'",
  "r == lower('ASIA') or r == 'Oceania'", "i * 2 > k or k * 2 > i",
  "(i > 0 and f > 0) or (i < 0 and f < 0) or (is_null(i) and b)",
  "not (i > 0 or b)", "i > 0 and b and f > 0 and k > 0 and x > 0",
  "i > 0 or b or f > 0 or k > 0 or x > 0", "r == 'Asia' and (s < 'w5' or f > 0)",
  "i > 0 and null", "null or b", "is_null(r) or r == 'Africa'", "d == d and ts == ts",
  "!k * 9223372036854775807 > 0",
  "date_trunc('month', d) == d", "weekday(d) >= 6", "try_cast(s, 'int') > 0",
  "d - 7 < '2000-01-01' and hour(ts) > 11", "date_diff('day', d, ts) > 1000",
};

static const char *const aggs[] = {
  "n = count()", "s = sum(i * 2 + k)", "m = max(if(b, f, x))", "c = count(i > 0 and k < 0)",
  "a = mean(coalesce(f, 0)) * 2", "u = count_distinct(r .. i)", "q = sum(k) + 1 + 1",
  "t = sum(if(r == 'Asia', k, 0))", "v = min(d)", "w = count(1 // 0)",
  "y = max(date_trunc('year', d))", "z = sum(date_diff('day', d, ts))",
  "c2 = corr(i, f) * 1000", "cv = covar(k, x)", "rs = regr_slope(f, k)",
  "ri = regr_intercept(x, i)", "mo = mode(r)", "mi = mode(i % 7)", "am = arg_min(s, f)",
  "ax = arg_max(d, i)", "ci = count_if(b)", "ba = bool_and(i > -99)", "bo = bool_or(b)",
  "p = product(if(i > 90, 1.01, 1))", "sa = string_agg(r, '|')", "sb = string_agg(s)",
};

/* Expressions whose errors depend on short-circuit: compared with it on only. */
static const char *const lazy_evals[] = {
  "if(k > 1000, k * 9223372036854775807, 0)", "coalesce(k, k * 9223372036854775807)",
  "k > 1000 and k * 9223372036854775807 > 0", "k < 1000 or k * 9223372036854775807 > 0",
};

static const char *const lazy_filters[] = {
  "k > 1000 and k * 9223372036854775807 > 0", "k <= 1000 or k * 9223372036854775807 > 0",
  "if(k > 1000, k * 9223372036854775807 > 0, i > 0)",
};

/* ---------------------------------------------------------------------------
** The settings
*/
typedef struct setting {
  int vs, fold, sc, threads;
} setting;

static void apply(const setting *s) {
  tl_expr_set_vector_size(s->vs);
  tl_expr_set_folding(s->fold);
  tl_expr_set_short_circuit(s->sc);
  tl_set_threads(s->threads);
}

/* Runs each source under every setting and compares with the first. */
static void compare(const tl_table *t, int verb, const char *const *srcs, int n,
                    const setting *sets, int nsets) {
  for (int k = 0; k < n; k++) {
    const char *src = srcs[k];
    int want_error = src[0] == '!', any = src[0] == '?';
    if (want_error || any) src++;
    apply(&sets[0]);
    char *ref = run(t, verb, src);
    if (!any && (strncmp(ref, "error", 5) == 0) != want_error) {
      check_failures++;
      fprintf(stderr, "%s: unexpected result: %.200s\n", src, ref);
    }
    for (int s = 1; s < nsets; s++) {
      apply(&sets[s]);
      char *got = run(t, verb, src);
      check_count++;
      if (strcmp(got, ref) != 0) {
        check_failures++;
        size_t at = 0;
        while (got[at] && got[at] == ref[at]) at++;
        size_t from = at > 60 ? at - 60 : 0;
        fprintf(stderr, "%s (vector %d, folding %d, short-circuit %d, threads %d) differs at %zu:\n"
                "  got  ...%.120s\n  want ...%.120s\n", src, sets[s].vs, sets[s].fold,
                sets[s].sc, sets[s].threads, at, got + from, ref + from);
      }
      free(got);
    }
    free(ref);
  }
  apply(&(setting){ 0, 1, 1, 0 });
}

#define COUNT(a) ((int)(sizeof a / sizeof *a))

static void test_small(void) {
  tl_table *t = make_table(3001);
  CHECK(t != NULL);
  if (!t) return;
  CHECK(tl_column_dictionary(tl_table_column(t, tl_table_find(t, "r"))) != NULL);
  CHECK(tl_column_dictionary(tl_table_column(t, tl_table_find(t, "s"))) == NULL);
  for (int j = 1; j < 8; j++) CHECK(tl_column_null_count(tl_table_column(t, j)) > 0);
  setting all[12];
  int n = 0;
  static const int sizes[] = { 0, 1, 7 };
  for (int v = 0; v < 3; v++)
    for (int f = 1; f >= 0; f--)
      for (int s = 1; s >= 0; s--) all[n++] = (setting){ sizes[v], f, s, 1 };
  compare(t, V_EVAL, evals, COUNT(evals), all, n);
  compare(t, V_FILTER, filters, COUNT(filters), all, n);
  compare(t, V_AGG, aggs, COUNT(aggs), all, n);
  setting lazy[6];
  int m = 0;
  for (int k = 0; k < n; k++)
    if (all[k].sc) lazy[m++] = all[k];
  compare(t, V_EVAL, lazy_evals, COUNT(lazy_evals), lazy, m);
  compare(t, V_FILTER, lazy_filters, COUNT(lazy_filters), lazy, m);
  /* without short-circuit the skipped rows run, and fail */
  for (int k = 0; k < COUNT(lazy_evals); k++) {
    apply(&(setting){ 0, 1, 0, 1 });
    char *got = run(t, V_EVAL, lazy_evals[k]);
    CHECK(strstr(got, "integer overflow in '*'") != NULL);
    free(got);
    apply(&(setting){ 0, 1, 1, 1 });
    got = run(t, V_EVAL, lazy_evals[k]);
    CHECK(strncmp(got, "error", 5) != 0);
    free(got);
  }
  tl_table_release(t);
}

/* ---------------------------------------------------------------------------
** Random expressions of a type over the columns of make_table, from the
** same generator, so the same ones every run.
*/
enum { G_BOOL, G_INT, G_FLOAT, G_STR, G_DATE, G_TS, G_NTYPES };

static void gen(text *b, int type, int depth);

static int pick(int n) { return (int)(next() % (uint64_t)n); }

static void gen_num(text *b, int depth) { gen(b, pick(2) ? G_INT : G_FLOAT, depth); }

static void gen(text *b, int type, int depth) {
  int leaf = depth <= 0 || pick(4) == 0;
  switch (type) {
    case G_INT:
      if (leaf) {
        switch (pick(4)) {
          case 0: put(b, "i"); break;
          case 1: put(b, "k"); break;
          case 2: put(b, "%d", pick(21) - 10); break;
          default: put(b, pick(8) ? "%d" : "null", pick(5)); break;
        }
        return;
      }
      switch (pick(10)) {
        case 0: case 1: case 2: {
          static const char *const ops[] = { "+", "-", "*", "//", "%" };
          put(b, "("); gen(b, G_INT, depth - 1); put(b, " %s ", ops[pick(5)]); gen(b, G_INT, depth - 1); put(b, ")");
          return;
        }
        case 3: put(b, "-("); gen(b, G_INT, depth - 1); put(b, ")"); return;
        case 4: put(b, "abs("); gen(b, G_INT, depth - 1); put(b, ")"); return;
        case 5: put(b, "len("); gen(b, G_STR, depth - 1); put(b, ")"); return;
        case 6: {
          static const char *const parts[] = { "year(", "day(", "hour(", "weekday(", "week(", "quarter(" };
          put(b, "%s", parts[pick(6)]); gen(b, pick(2) ? G_DATE : G_TS, depth - 1); put(b, ")");
          return;
        }
        case 7: put(b, "if("); gen(b, G_BOOL, depth - 1); put(b, ", "); gen(b, G_INT, depth - 1); put(b, ", "); gen(b, G_INT, depth - 1); put(b, ")"); return;
        case 8: put(b, "coalesce("); gen(b, G_INT, depth - 1); put(b, ", "); gen(b, G_INT, depth - 1); put(b, ")"); return;
        default: put(b, "floor("); gen(b, G_INT, depth - 1); put(b, ")"); return;
      }
    case G_FLOAT:
      if (leaf) {
        switch (pick(4)) {
          case 0: put(b, "f"); break;
          case 1: put(b, "x"); break;
          default: put(b, "%d.%d", pick(20) - 10, pick(4) * 25); break;
        }
        return;
      }
      switch (pick(9)) {
        case 0: case 1: case 2: {
          static const char *const ops[] = { "+", "-", "*", "/", "//", "%", "^" };
          put(b, "("); gen(b, G_FLOAT, depth - 1); put(b, " %s ", ops[pick(7)]); gen_num(b, depth - 1); put(b, ")");
          return;
        }
        case 3: put(b, "-("); gen(b, G_FLOAT, depth - 1); put(b, ")"); return;
        case 4: {
          static const char *const fns[] = { "abs", "floor", "ceil", "round", "sqrt", "ln", "exp" };
          put(b, "%s(", fns[pick(7)]); gen(b, G_FLOAT, depth - 1); put(b, ")"); return;
        }
        case 5: put(b, "round("); gen_num(b, depth - 1); put(b, ", %d)", pick(4)); return;
        case 6: put(b, "if("); gen(b, G_BOOL, depth - 1); put(b, ", "); gen(b, G_FLOAT, depth - 1); put(b, ", "); gen_num(b, depth - 1); put(b, ")"); return;
        case 7: put(b, "coalesce("); gen(b, G_FLOAT, depth - 1); put(b, ", "); gen_num(b, depth - 1); put(b, ")"); return;
        default: put(b, "("); gen(b, G_INT, depth - 1); put(b, " / "); gen_num(b, depth - 1); put(b, ")"); return;
      }
    case G_STR:
      if (leaf) {
        static const char *const lits[] = { "'Asia'", "'w5'", "''", "'B'", "'Europe'", "'a,b'", "null" };
        switch (pick(3)) {
          case 0: put(b, "s"); break;
          case 1: put(b, "r"); break;
          default: put(b, "%s", lits[pick(7)]); break;
        }
        return;
      }
      switch (pick(8)) {
        case 6: {
          static const char *const fns[] = { "reverse(", "ltrim(", "left(", "regexp_replace(" };
          int f = pick(4);
          put(b, "%s", fns[f]);
          gen(b, G_STR, depth - 1);
          put(b, "%s", f == 2 ? ", 3)" : f == 3 ? ", '[a-z]', '_')" : ")");
          return;
        }
        case 7: put(b, "concat("); gen(b, G_STR, depth - 1); put(b, ", "); gen(b, G_STR, depth - 1); put(b, ")"); return;
        case 0: case 1: put(b, "("); gen(b, G_STR, depth - 1); put(b, " .. "); gen(b, pick(2) ? G_STR : G_INT, depth - 1); put(b, ")"); return;
        case 2: put(b, "%s(", pick(3) == 0 ? "lower" : pick(2) ? "upper" : "trim"); gen(b, G_STR, depth - 1); put(b, ")"); return;
        case 3: put(b, "substr("); gen(b, G_STR, depth - 1); put(b, ", %d, %d)", pick(7) - 3, pick(7) - 2); return;
        case 4: put(b, "if("); gen(b, G_BOOL, depth - 1); put(b, ", "); gen(b, G_STR, depth - 1); put(b, ", "); gen(b, G_STR, depth - 1); put(b, ")"); return;
        default: put(b, "coalesce("); gen(b, G_STR, depth - 1); put(b, ", "); gen(b, G_STR, depth - 1); put(b, ")"); return;
      }
    case G_DATE:
      if (leaf || pick(2)) { put(b, "d"); return; }
      switch (pick(4)) {
        case 0: put(b, "date_trunc('%s', ", pick(2) ? "month" : "week"); gen(b, G_DATE, depth - 1); put(b, ")"); return;
        case 1: put(b, "("); gen(b, G_DATE, depth - 1); put(b, " + "); gen(b, G_INT, depth - 1); put(b, ")"); return;
        case 2: put(b, "date_add("); gen(b, G_DATE, depth - 1); put(b, ", "); gen(b, G_INT, depth - 1); put(b, ", 'month')"); return;
        default: put(b, "if("); gen(b, G_BOOL, depth - 1); put(b, ", d, coalesce(d, d))"); return;
      }
    case G_TS:
      put(b, "ts"); return;
    default:   /* bool */
      if (leaf) {
        static const char *const lits[] = { "true", "false", "null" };
        if (pick(2)) put(b, "b"); else put(b, "%s", lits[pick(3)]);
        return;
      }
      switch (pick(14)) {
        case 12: put(b, "("); gen(b, G_STR, depth - 1); put(b, pick(2) ? " like '%%a%%')" : " ilike 'w_')"); return;
        case 13: put(b, "("); gen(b, G_INT, depth - 1); put(b, pick(2) ? " in (1, 2, i))" : " not in (k, null))"); return;
        case 0: case 1: case 2: {
          static const char *const ops[] = { "==", "~=", "<", "<=", ">", ">=" };
          int t = pick(5);
          put(b, "(");
          if (t == 0) { gen_num(b, depth - 1); put(b, " %s ", ops[pick(6)]); gen_num(b, depth - 1); }
          else if (t == 1) { gen(b, G_STR, depth - 1); put(b, " %s ", ops[pick(6)]); gen(b, G_STR, depth - 1); }
          else if (t == 2) { put(b, "d %s '%d-0%d-1%d'", ops[pick(6)], 1980 + pick(40), 1 + pick(9), pick(10)); }
          else if (t == 3) { put(b, "r %s '%s'", ops[pick(6)], pick(2) ? "Asia" : "Central Asia"); }
          else { gen(b, pick(2) ? G_DATE : G_TS, depth - 1); put(b, " %s ", ops[pick(6)]); gen(b, pick(2) ? G_DATE : G_TS, depth - 1); }
          put(b, ")");
          return;
        }
        case 3: case 4: case 5:
          put(b, "("); gen(b, G_BOOL, depth - 1); put(b, pick(2) ? " and " : " or "); gen(b, G_BOOL, depth - 1); put(b, ")");
          return;
        case 6: put(b, "not ("); gen(b, G_BOOL, depth - 1); put(b, ")"); return;
        case 7: put(b, "is_null("); gen(b, pick(G_NTYPES), depth - 1); put(b, ")"); return;
        case 8: put(b, "%s(", pick(3) == 0 ? "contains" : pick(2) ? "starts_with" : "ends_with"); gen(b, G_STR, depth - 1); put(b, ", "); gen(b, G_STR, depth - 1); put(b, ")"); return;
        case 9: put(b, "if("); gen(b, G_BOOL, depth - 1); put(b, ", "); gen(b, G_BOOL, depth - 1); put(b, ", "); gen(b, G_BOOL, depth - 1); put(b, ")"); return;
        case 10: put(b, "coalesce("); gen(b, G_BOOL, depth - 1); put(b, ", "); gen(b, G_BOOL, depth - 1); put(b, ")"); return;
        default:
          put(b, "(");
          gen(b, G_BOOL, depth - 1);
          put(b, pick(2) ? " == " : " ~= ");
          gen(b, G_BOOL, depth - 1);
          put(b, ")");
          return;
      }
  }
}

/* Random expressions: the same results at every vector size and with
** folding off. Without short-circuit more rows run: the values must agree
** when that run succeeds, and a failure with it must be one without. */
static void test_random(void) {
  tl_table *t = make_table(503);
  CHECK(t != NULL);
  if (!t) return;
  static const setting same[] = { { 0, 1, 1, 1 }, { 7, 0, 1, 1 }, { 1, 1, 1, 1 }, { 64, 0, 1, 1 } };
  for (int k = 0; k < 300; k++) {
    text b = { NULL, 0, 0 };
    int verb = k % 2 ? V_FILTER : V_EVAL;
    put(&b, "?");   /* an error is a fine result, if every setting gives it */
    gen(&b, verb == V_FILTER ? G_BOOL : pick(G_NTYPES), 1 + pick(5));
    const char *src = b.p;
    compare(t, verb, &src, 1, same, 4);
    src++;
    apply(&same[0]);
    char *lazy = run(t, verb, src);
    apply(&(setting){ 0, 1, 0, 1 });
    char *eager = run(t, verb, src);
    int lazy_failed = strncmp(lazy, "error", 5) == 0, eager_failed = strncmp(eager, "error", 5) == 0;
    CHECK(!lazy_failed || eager_failed);
    if (!eager_failed && strcmp(lazy, eager) != 0) {
      check_failures++;
      fprintf(stderr, "%s: short-circuit changes the result\n", src);
    }
    free(lazy);
    free(eager);
    free(b.p);
  }
  apply(&(setting){ 0, 1, 1, 0 });
  tl_table_release(t);
}

/* Enough rows for several tasks on several threads. */
static void test_large(void) {
  static const char *const ev[] = {
    "i * k + 1", "f * x", "i + f", "k * x", "k - 3", "r == 'Asia' and i > 0", "if(b, i, k)",
    "coalesce(f, x) * 2", "s .. r", "i > 0 or f > 0", "abs(k) // 3", "d < ts", "-x",
    "!k * 9223372036854775807",
  };
  static const char *const fl[] = {
    "i > 0 and r == 'Asia'", "b or f > 10", "k * 2 > i", "not b and is_null(f)",
  };
  tl_table *t = make_table(140001);
  CHECK(t != NULL);
  if (!t) return;
  setting sets[] = {
    { 0, 1, 1, 1 }, { 0, 1, 1, 3 }, { 7, 1, 1, 3 }, { 0, 0, 0, 3 }, { 7, 0, 1, 1 }, { 1, 1, 1, 2 },
  };
  compare(t, V_EVAL, ev, COUNT(ev), sets, COUNT(sets));
  compare(t, V_FILTER, fl, COUNT(fl), sets, COUNT(sets));
  tl_table_release(t);
}

/* The knob itself: out of range means the default. */
static void test_knob(void) {
  CHECK(tl_expr_set_vector_size(7) == TL_VEC);
  CHECK(tl_expr_vector_size() == 7);
  CHECK(tl_expr_set_vector_size(0) == 7);
  CHECK(tl_expr_vector_size() == TL_VEC);
  tl_expr_set_vector_size(TL_VEC + 1);
  CHECK(tl_expr_vector_size() == TL_VEC);
  tl_expr_set_vector_size(-3);
  CHECK(tl_expr_vector_size() == TL_VEC);
  CHECK(tl_expr_set_folding(0) == 1 && tl_expr_set_folding(1) == 0);
  CHECK(tl_expr_set_short_circuit(0) == 1 && tl_expr_set_short_circuit(1) == 0);
}

int main(void) {
  test_knob();
  test_small();
  test_random();
  test_large();
  return check_done("expr_vectors");
}
