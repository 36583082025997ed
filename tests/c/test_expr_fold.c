/*
** test_expr_fold.c -- constant folding and short-circuit evaluation: what
** the binder makes of constants (the plan itself), that folded and unfolded
** plans give the same values and the same errors, and that the second
** operand of and/or, the branches of if and the later arguments of coalesce
** run only on the rows that need them (a host function counts its rows).
*/
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "tables.h"
#include "expr/expr.h"
#include "tally/tally.h"

/* The bound plan of src over t (NULL on an error, which is printed). */
static expr *plan(const tl_table *t, const char *src) {
  expr *e = NULL;
  tl_error err;
  if (tl_expr_parse(src, "mutate", NULL, &e, &err) != TL_OK ||
      tl_expr_bind(e, t, "mutate", src, NULL, NULL, &err) != TL_OK) {
    fprintf(stderr, "plan: %s\n", err.message);
    tl_expr_free(e);
    return NULL;
  }
  return e;
}

/* What each expression's plan becomes: the text of a literal root, or the
** kind of the root and of its operands. */
static const char *shape(const tl_table *t, const char *src) {
  static char out[256];
  expr *e = plan(t, src);
  if (!e) return "error";
  static const char *const kinds[] = { "lit", "col", "neg", "not", "bin", "call", "agg" };
  if (e->kind == E_LIT) {
    char buf[128];
    if (e->lit.type == TL_STRING && !e->lit.is_null)
      snprintf(buf, sizeof buf, "'%.*s'", (int)e->lit.v.s.len, e->lit.v.s.ptr);
    else
      tl_scalar_format(&e->lit, buf, sizeof buf);
    snprintf(out, sizeof out, "%s %s", e->type ? tl_type_name(e->type) : "null", buf);
  } else {
    size_t k = (size_t)snprintf(out, sizeof out, "%s", kinds[e->kind]);
    for (int a = 0; a < e->nargs; a++) {
      const expr *x = e->args[a];
      char buf[128] = "";
      if (x->kind == E_LIT) tl_scalar_format(&x->lit, buf, sizeof buf);
      else if (x->kind == E_COL) snprintf(buf, sizeof buf, "%s", x->name);
      k += (size_t)snprintf(out + k, sizeof out - k, " %s%s%s", kinds[x->kind], *buf ? ":" : "", buf);
    }
  }
  tl_expr_free(e);
  return out;
}

static void test_plans(void) {
  tl_table *t = load("year,cost,region,ok,n\n2016,1.5,Asia,true,1\n2009,,Europe,,\n");
  CHECK_STR(shape(t, "year >= 2000 + 10"), "bin col:year lit:2010");
  CHECK_STR(shape(t, "cost * (1 + 0.2)"), "bin col:cost lit:1.2");
  CHECK_STR(shape(t, "lower('ASIA')"), "string 'asia'");
  CHECK_STR(shape(t, "if(1 > 2, year, n)"), "col");
  CHECK_STR(shape(t, "if(null, year, n)"), "col");
  CHECK_STR(shape(t, "if(2 > 1, year, cost)"), "call lit:true col:year col:cost");   /* int, not float */
  CHECK_STR(shape(t, "year > 2010 and false"), "bool false");
  CHECK_STR(shape(t, "false and year + 1 > 2010"), "bool false");
  CHECK_STR(shape(t, "year + 1 > 2010 and false"), "bin bin lit:false");   /* '+' may fail first */
  CHECK_STR(shape(t, "ok or true"), "bool true");
  CHECK_STR(shape(t, "true or ok"), "bool true");
  CHECK_STR(shape(t, "true and ok"), "col");
  CHECK_STR(shape(t, "ok and true"), "col");
  CHECK_STR(shape(t, "false or ok"), "col");
  CHECK_STR(shape(t, "ok and null"), "bin col:ok lit:null");
  CHECK_STR(shape(t, "1 // 0"), "int null");
  CHECK_STR(shape(t, "null"), "null null");
  CHECK_STR(shape(t, "coalesce(null, 'x') .. 1"), "string 'x1'");
  CHECK_STR(shape(t, "-(2 ^ 10)"), "float -1024.0");
  CHECK_STR(shape(t, "year(to_date) "), "error");
  CHECK_STR(shape(t, "'2020-03-01' > ok"), "error");
  CHECK_STR(shape(t, "9223372036854775807 + 1"), "bin lit:9223372036854775807 lit:1");
  CHECK_STR(shape(t, "9223372036854775807 + (0 + 1)"), "bin lit:9223372036854775807 lit:1");
  CHECK_STR(shape(t, "region == upper('asia')"), "bin col:region lit:ASIA");
  /* with folding off the plan keeps its operators */
  tl_expr_set_folding(0);
  CHECK_STR(shape(t, "year >= 2000 + 10"), "bin col:year bin");
  CHECK_STR(shape(t, "ok or true"), "bin col:ok lit:true");
  tl_expr_set_folding(1);
  tl_table_release(t);
}

/* The same values, nulls and errors with and without folding. */
static void test_same(void) {
  static const char *const srcs[] = {
    "year >= 2000 + 10", "cost * (1 + 0.2)", "lower('ASIA')", "if(1 > 2, year, n)",
    "ok and false", "ok or true", "true and ok", "ok and null", "1 // 0", "2 ^ 0.5 * cost",
    "region == upper('asia')", "region .. (1 + 1)", "coalesce(null, null, 3)", "-(3 - 5)",
    "9223372036854775807 + 1", "n * (9223372036854775807 + 0)", "abs(-9223372036854775807 - 1)",
    "if(true, 1, 2.5)", "year(null)", "is_null(1 // 0)", "not (1 > 2)", "substr('abc', 2)",
    "'2016-01-01' < '2017-01-01'", "n + null", "round(2.345, 2)", "len(upper('été'))",
  };
  tl_table *t = load("year,cost,region,ok,n\n2016,1.5,Asia,true,1\n2009,,Europe,,\n2011,3,Asia,false,2\n");
  for (size_t k = 0; k < sizeof srcs / sizeof *srcs; k++) {
    char folded[4096];
    snprintf(folded, sizeof folded, "%s", values(t, srcs[k]));
    tl_expr_set_folding(0);
    const char *plain = values(t, srcs[k]);
    tl_expr_set_folding(1);
    if (strcmp(folded, plain) != 0) fprintf(stderr, "%s:\n", srcs[k]);
    CHECK_STR(folded, plain);
  }
  CHECK_STR(values(t, "9223372036854775807 + 1"), "mutate: integer overflow in '+' at row 1");
  CHECK_STR(values(t, "n * (9223372036854775807 + 0)"), "mutate: integer overflow in '*' at row 3");
  CHECK_STR(values(t, "if(1 > 2, year, n)"), "1,null,2");
  CHECK_STR(values(t, "1 // 0"), "null,null,null");
  CHECK_STR(values(t, "region == 'As' .. lower('IA')"), "true,false,true");
  /* a failing constant fails only when a row computes it */
  tl_table *none, *f;
  tl_error err;
  CHECK(tl_table_filter(t, "year < 0", &none, &err) == TL_OK);
  CHECK(tl_table_nrows(none) == 0);
  CHECK_STR(values(none, "9223372036854775807 + 1"), "");
  CHECK(tl_table_filter(t, "year > 2010 and 9223372036854775807 + 1 > 0", &f, &err) == TL_ERANGE);
  CHECK_STR(err.message, "filter: integer overflow in '+' at row 1");
  CHECK(tl_table_filter(t, "year > 3000 and 9223372036854775807 + 1 > 0", &f, &err) == TL_OK);
  CHECK(tl_table_nrows(f) == 0);
  tl_table_release(f);
  tl_table_release(none);
  tl_table_release(t);
}

/* ---------------------------------------------------------------------------
** A host function that counts the rows it computes.
*/
typedef struct counter {
  int64_t rows;
  int64_t refuse_below;    /* fails on an argument below this */
} counter;

/* counted(x): x > 0, computed row by row. */
static tl_status counted(void *ud, const tl_fn_call *c, tl_fn_result *res, tl_error *err) {
  counter *n = ud;
  const tl_vector *x = &c->args[0];
  for (int k = 0; k < c->nsel; k++) {
    int i = c->sel[k];
    if (x->i[i] < n->refuse_below) {
      snprintf(err->message, sizeof err->message, "counted: row %lld: %lld is too small",
               (long long)(c->start + i + 1), (long long)x->i[i]);
      return TL_EINVAL;
    }
    tl_scalar v = { TL_BOOL, 0, { 0 } };
    v.v.b = x->i[i] > 0;
    n->rows++;
    if (tl_fn_result_set(res, i, &v, err) != TL_OK) return err->code;
  }
  return TL_OK;
}

/* rows (x from 1 to n, every 10th null) where pred holds, as a count */
static int64_t kept(const tl_table *t, const char *src, const tl_scope *scope) {
  tl_table *f;
  tl_error err;
  if (tl_table_filter_with(t, src, scope, &f, &err) != TL_OK) {
    fprintf(stderr, "%s: %s\n", src, err.message);
    return -1;
  }
  int64_t n = tl_table_nrows(f);
  tl_table_release(f);
  return n;
}

static void test_short_circuit(void) {
  int64_t n = 20000;
  tl_builder *bx, *by;
  CHECK(tl_builder_new(TL_INT, n, &bx, NULL) == TL_OK);
  CHECK(tl_builder_new(TL_INT, n, &by, NULL) == TL_OK);
  int64_t big = 0, notbig = 0;   /* rows with x > 15000, rows with x <= 15000 */
  for (int64_t i = 0; i < n; i++) {
    int64_t x = i + 1;
    tl_status st = i % 10 == 9 ? tl_builder_append_null(bx, NULL) : tl_builder_append_int(bx, x, NULL);
    if (st == TL_OK) st = i % 7 == 3 ? tl_builder_append_null(by, NULL) : tl_builder_append_int(by, x % 5, NULL);
    CHECK(st == TL_OK);
    if (i % 10 != 9) { big += x > 15000; notbig += x <= 15000; }
  }
  tl_column *cols[2];
  CHECK(tl_builder_finish(bx, &cols[0], NULL) == TL_OK);
  CHECK(tl_builder_finish(by, &cols[1], NULL) == TL_OK);
  const char *names[2] = { "x", "y" };
  tl_table *t;
  CHECK(tl_table_new(2, names, cols, &t, NULL) == TL_OK);
  tl_column_release(cols[0]);
  tl_column_release(cols[1]);
  counter cnt = { 0, INT64_MIN };
  tl_function fn = { .name = "counted", .type = TL_BOOL, .ud = &cnt, .call = counted };
  const tl_function *fns[1] = { &fn };
  tl_scope scope = { 0, NULL, 1, fns };

  /* and: the function runs where the left side is true */
  for (int sc = 1; sc >= 0; sc--) {
    tl_expr_set_short_circuit(sc);
    cnt.rows = 0;
    CHECK(kept(t, "x > 15000 and counted(x)", &scope) == big);
    CHECK(cnt.rows == (sc ? big : big + notbig));
    cnt.rows = 0;   /* or: where it is not true (nulls of x are not passed) */
    CHECK(kept(t, "x <= 15000 or counted(x)", &scope) == big + notbig);
    CHECK(cnt.rows == (sc ? big : big + notbig));
    cnt.rows = 0;   /* nested: counted runs where both earlier conditions hold */
    CHECK(kept(t, "y == 1 and (x > 15000 and counted(x))", &scope) > 0);
    int64_t both = kept(t, "y == 1 and x > 15000", NULL);
    CHECK(cnt.rows == (sc ? both : big + notbig));
    cnt.rows = 0;   /* if: each branch on its rows */
    CHECK(kept(t, "if(x > 15000, counted(x), false)", &scope) == big);
    CHECK(cnt.rows == (sc ? big : big + notbig));
    cnt.rows = 0;   /* coalesce: later arguments where the earlier are null */
    tl_column *c = NULL;
    tl_error err;
    CHECK(tl_table_eval_with(t, "coalesce(y == 1, counted(x))", "mutate", &scope, &c, &err) == TL_OK);
    int64_t ynull = 0;
    for (int64_t i = 0; i < n; i++) ynull += i % 7 == 3 && i % 10 != 9;
    CHECK(cnt.rows == (sc ? ynull : big + notbig));
    tl_column_release(c);
    cnt.rows = 0;   /* in mutate, the three-valued and: true and null rows of the left run */
    CHECK(tl_table_eval_with(t, "y == 1 and counted(x)", "mutate", &scope, &c, &err) == TL_OK);
    int64_t open = 0;   /* y == 1 true or null, and x not null */
    for (int64_t i = 0; i < n; i++)
      open += i % 10 != 9 && (i % 7 == 3 || (i + 1) % 5 == 1);
    CHECK(cnt.rows == (sc ? open : big + notbig));
    tl_column_release(c);
  }
  tl_expr_set_short_circuit(1);

  /* a function that fails on the rows the left side excludes */
  cnt.refuse_below = 15001;
  CHECK(kept(t, "x > 15000 and counted(x)", &scope) == big);
  CHECK(kept(t, "x <= 15000 or counted(x)", &scope) == big + notbig);
  tl_table *f;
  tl_error err;
  tl_expr_set_short_circuit(0);
  CHECK(tl_table_filter_with(t, "x > 15000 and counted(x)", &scope, &f, &err) == TL_EINVAL);
  CHECK_STR(err.message, "filter: counted: row 1: 1 is too small");
  tl_expr_set_short_circuit(1);

  /* the same rows as the plain comparisons, at every vector size */
  cnt.refuse_below = INT64_MIN;
  static const int sizes[] = { 1, 7, 0 };
  for (int v = 0; v < 3; v++) {
    tl_expr_set_vector_size(sizes[v]);
    CHECK(kept(t, "x > 15000 and counted(x)", &scope) == kept(t, "x > 15000", NULL));
    CHECK(kept(t, "y == 2 or counted(x) and y == 3", &scope) ==
          kept(t, "y == 2 or x > 0 and y == 3", NULL));
    CHECK(kept(t, "not (y == 2 or counted(x))", &scope) == kept(t, "not (y == 2 or x > 0)", NULL));
  }
  tl_expr_set_vector_size(0);
  tl_table_release(t);
}

/* ---------------------------------------------------------------------------
** Allocation failures while folding and evaluating: the Nth allocation and
** every one after it fail, for N = 1, 2, ... until the verbs succeed; each
** failure must be clean and give back every byte.
*/
static atomic_llong live, calls, fail_at;

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    if (ptr) atomic_fetch_sub(&live, (long long)osize);
    free(ptr);
    return NULL;
  }
  if (nsize > osize || !ptr) {
    long long k = atomic_fetch_add(&calls, 1) + 1, at = atomic_load(&fail_at);
    if (at && k >= at) return NULL;
  }
  void *q = realloc(ptr, nsize);
  if (q) atomic_fetch_add(&live, (long long)nsize - (long long)(ptr ? osize : 0));
  return q;
}

static tl_status scenario(const tl_table *t, tl_error *err) {
  static const char *const defs[] = {
    "a = if(1 > 2, x, 2 * 3) .. lower('Z')", "b = x * (1 + 0.5)", "c = x > 1 and false",
    "d = coalesce(null, x // 0, 7) + len(upper('ab'))",
  };
  tl_table *f = NULL, *m = NULL;
  tl_status st = tl_table_filter(t, "x > 1 + 1 and lower('A') == 'a' or y == 'q' .. ''", &f, err);
  if (st == TL_OK) st = tl_table_mutate(f, 4, defs, &m, err);
  if (st == TL_OK && (tl_table_nrows(m) != 3 || tl_table_ncols(m) != 6)) st = TL_EINVAL;
  tl_table_release(f);
  tl_table_release(m);
  return st;
}

static void test_alloc_failures(void) {
  tl_table *t = load("x,y\n1,a\n2,q\n3,b\n,c\n5,d\n");
  long long base = atomic_load(&live);
  int done = 0, n;
  for (n = 1; n < 5000 && !done; n++) {
    tl_error err;
    err.message[0] = '\0';
    atomic_store(&fail_at, n);
    atomic_store(&calls, 0);
    tl_status st = scenario(t, &err);
    atomic_store(&fail_at, 0);
    if (st == TL_OK) done = 1;
    else CHECK(st == TL_ENOMEM && err.message[0] != '\0');
    CHECK(atomic_load(&live) == base);
  }
  CHECK(done && n > 10);
  tl_table_release(t);
}

int main(void) {
  tl_set_allocator(failing_alloc, NULL);
  test_alloc_failures();
  test_plans();
  test_same();
  test_short_circuit();
  return check_done("expr_fold");
}
