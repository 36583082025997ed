/*
** test_hostfn.c -- scalar functions defined by the host (tl_function): in
** filter, mutate, eval and agg, with nulls, string results, errors, and on
** the calling thread only however many threads there are, unless the host
** forks: then on the workers, and again on the calling thread after a
** failure there.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "tables.h"
#include "tally/tally.h"

/* What the test functions record about their calls. */
typedef struct stats {
  pthread_t caller;
  int other_thread;       /* calls seen on another thread */
  int64_t rows;           /* rows computed */
  int64_t fail_at;        /* 1-based row that fails, or 0 */
} stats;

/* twice(x): 2 * x for ints; with nulls set, a null x gives -1. */
static tl_status twice(void *ud, const tl_fn_call *c, tl_fn_result *res, tl_error *err) {
  stats *s = ud;
  if (!pthread_equal(pthread_self(), s->caller)) s->other_thread++;
  const tl_vector *x = &c->args[0];
  for (int k = 0; k < c->nsel; k++) {
    int i = c->sel[k];
    tl_scalar v = { TL_INT, 0, { 0 } };
    if (s->fail_at && c->start + i + 1 == s->fail_at) {
      snprintf(err->message, sizeof err->message, "twice: row %lld: refused",
               (long long)(c->start + i + 1));
      err->code = TL_EINVAL;
      return TL_EINVAL;
    }
    if (x->type != TL_INT || (x->valid && !x->valid[i])) v.v.i = -1;
    else v.v.i = 2 * x->i[i];
    s->rows++;
    if (tl_fn_result_set(res, i, &v, err) != TL_OK) return err->code;
  }
  return TL_OK;
}

/* tag(s, n): s repeated n times, a string. */
static tl_status tag(void *ud, const tl_fn_call *c, tl_fn_result *res, tl_error *err) {
  char buf[256];
  (void)ud;
  for (int k = 0; k < c->nsel; k++) {
    int i = c->sel[k];
    size_t len = 0;
    for (int64_t r = 0; r < c->args[1].i[i] && len + (size_t)c->args[0].sl[i] < sizeof buf; r++) {
      memcpy(buf + len, c->args[0].s[i], (size_t)c->args[0].sl[i]);
      len += (size_t)c->args[0].sl[i];
    }
    tl_scalar v;
    memset(&v, 0, sizeof v);
    v.type = TL_STRING;
    v.v.s.ptr = buf;
    v.v.s.len = len;
    if (tl_fn_result_set(res, i, &v, err) != TL_OK) return err->code;
  }
  return TL_OK;
}

/* wrong(x): a float result for an int function. */
static tl_status wrong(void *ud, const tl_fn_call *c, tl_fn_result *res, tl_error *err) {
  (void)ud;
  tl_scalar v = { TL_FLOAT, 0, { 0 } };
  v.v.f = 1.5;
  return tl_fn_result_set(res, c->sel[0], &v, err);
}

/* dbl(x): 2 * x, through call on the calling thread and call_on on the
** workers; fails at row fk.fail_at (1-based), or on every worker call. */
static struct {
  atomic_int forks, joins, calls, calls_on, bad_worker, nworkers;
  int ok, fail_on_worker;
  int64_t fail_at;
} fk;

static tl_status dbl(const tl_fn_call *c, tl_fn_result *res, tl_error *err) {
  for (int k = 0; k < c->nsel; k++) {
    int i = c->sel[k];
    if (c->start + i + 1 == fk.fail_at) {
      snprintf(err->message, sizeof err->message, "dbl: row %lld: refused",
               (long long)(c->start + i + 1));
      return err->code = TL_EINVAL;
    }
    tl_scalar v = { TL_INT, 0, { 0 } };
    v.v.i = 2 * c->args[0].i[i];
    if (tl_fn_result_set(res, i, &v, err) != TL_OK) return err->code;
  }
  return TL_OK;
}

static tl_status dbl_call(void *ud, const tl_fn_call *c, tl_fn_result *res, tl_error *err) {
  (void)ud;
  fk.calls++;
  return dbl(c, res, err);
}

static int dbl_fork(void *ud, int n) {
  (void)ud;
  fk.forks++;
  fk.nworkers = n;
  return fk.ok;
}

static tl_status dbl_call_on(void *ud, int w, const tl_fn_call *c, tl_fn_result *res,
                             tl_error *err) {
  (void)ud;
  fk.calls_on++;
  if (w < 0 || w >= fk.nworkers) fk.bad_worker = 1;
  if (fk.fail_on_worker) {
    snprintf(err->message, sizeof err->message, "dbl: a worker failed");
    return err->code = TL_EINVAL;
  }
  return dbl(c, res, err);
}

static void dbl_join(void *ud) {
  (void)ud;
  fk.joins++;
}

static void fk_reset(int ok, int fail_on_worker, int64_t fail_at) {
  fk.forks = fk.joins = fk.calls = fk.calls_on = fk.bad_worker = 0;
  fk.ok = ok;
  fk.fail_on_worker = fail_on_worker;
  fk.fail_at = fail_at;
}

/* A forking host function over 300 000 rows on 2 threads. */
static void test_fork(void) {
  tl_function f = { .name = "dbl", .type = TL_INT, .call = dbl_call, .fork = dbl_fork,
                    .call_on = dbl_call_on, .join = dbl_join };
  const tl_function *funcs[] = { &f };
  tl_scope scope = { 0, NULL, 1, funcs };
  tl_error err;
  int64_t n = 300000;
  int64_t *vals = malloc((size_t)n * sizeof *vals);
  for (int64_t i = 0; i < n; i++) vals[i] = i;
  tl_column *xc = NULL;
  tl_table *t = NULL, *r = NULL;
  tl_column *c = NULL;
  CHECK(tl_column_wrap(TL_INT, n, vals, NULL, NULL, NULL, &xc, &err) == TL_OK);
  const char *names[] = { "x" };
  CHECK(tl_table_new(1, names, &xc, &t, &err) == TL_OK);
  tl_set_threads(2);
  for (int mode = 0; mode < 3; mode++) {   /* on the workers; declined; failing on them */
    fk_reset(mode != 1, mode == 2, 0);
    CHECK(tl_table_eval_with(t, "dbl(x) + x", "mutate", &scope, &c, &err) == TL_OK);
    CHECK(c && tl_column_ints(c)[n - 1] == 3 * (n - 1) && tl_column_ints(c)[12345] == 3 * 12345);
    tl_column_release(c);
    CHECK(tl_table_filter_with(t, "dbl(x) % 3 == 0", &scope, &r, &err) == TL_OK);
    CHECK(r && tl_table_nrows(r) == n / 3);
    tl_table_release(r);
    CHECK(fk.forks == 2 && fk.joins == (mode == 1 ? 0 : 2) && !fk.bad_worker);
    if (mode == 0) CHECK(fk.calls == 0 && fk.calls_on > 0);
    if (mode == 1) CHECK(fk.calls_on == 0 && fk.calls > 0);
    if (mode == 2) CHECK(fk.calls_on > 0 && fk.calls > 0);
  }
  /* a row that fails: the calling thread's run names it, as on one thread */
  fk_reset(1, 0, 200001);
  CHECK(tl_table_eval_with(t, "dbl(x)", "mutate", &scope, &c, &err) == TL_EINVAL);
  CHECK_STR(err.message, "mutate: dbl: row 200001: refused");
  CHECK(tl_table_filter_with(t, "dbl(x) > 0", &scope, &r, &err) == TL_EINVAL);
  CHECK_STR(err.message, "filter: dbl: row 200001: refused");
  CHECK(fk.forks == 2 && fk.joins == 2 && fk.calls > 0);
  /* few rows: no fork */
  fk_reset(1, 0, 0);
  tl_table *small = NULL;
  CHECK(tl_table_slice(t, 0, 1000, &small, &err) == TL_OK);
  CHECK(tl_table_eval_with(small, "dbl(x)", "mutate", &scope, &c, &err) == TL_OK);
  tl_column_release(c);
  CHECK(fk.forks == 0 && fk.calls > 0);
  tl_table_release(small);
  tl_table_release(t);
  tl_column_release(xc);
  free(vals);
  tl_set_threads(0);
}

static const char *column_text(const tl_column *c) {
  static char out[1024];
  size_t k = 0;
  out[0] = '\0';
  for (int64_t i = 0; i < tl_column_length(c) && k < sizeof out; i++) {
    tl_scalar v;
    char buf[128];
    tl_column_get(c, i, &v);
    tl_scalar_format(&v, buf, sizeof buf);
    k += (size_t)snprintf(out + k, sizeof out - k, "%s%s", i ? "," : "", buf);
  }
  return out;
}

int main(void) {
  tl_error err;
  tl_table *t = load("name,x\nab,1\ncd,\nef,3\ngh,4\n");
  stats s = { pthread_self(), 0, 0, 0 };
  tl_function ftwice = { .name = "twice", .type = TL_INT, .ud = &s, .call = twice };
  tl_function fnz = { .name = "twice_nz", .type = TL_INT, .nulls = 1, .ud = &s, .call = twice };
  tl_function ftag = { .name = "tag", .type = TL_STRING, .call = tag };
  tl_function fwrong = { .name = "wrong", .type = TL_INT, .call = wrong };
  const tl_function *funcs[] = { &ftwice, &fnz, &ftag, &fwrong };
  tl_scope scope = { 0, NULL, 4, funcs };
  tl_column *c = NULL;
  tl_table *r = NULL;

  /* eval: a null argument gives a null without a call, unless nulls is set */
  CHECK(tl_table_eval_with(t, "twice(x) + 1", "mutate", &scope, &c, &err) == TL_OK);
  CHECK_STR(column_text(c), "3,null,7,9");
  CHECK(s.rows == 3);
  tl_column_release(c);
  CHECK(tl_table_eval_with(t, "twice_nz(x)", "mutate", &scope, &c, &err) == TL_OK);
  CHECK_STR(column_text(c), "2,-1,6,8");
  tl_column_release(c);
  CHECK(tl_table_eval_with(t, "twice_nz(null)", "mutate", &scope, &c, &err) == TL_OK);
  CHECK_STR(column_text(c), "-1,-1,-1,-1");
  tl_column_release(c);
  CHECK(tl_table_eval_with(t, "tag(name, x)", "mutate", &scope, &c, &err) == TL_OK);
  CHECK_STR(column_text(c), "ab,null,efefef,ghghghgh");
  tl_column_release(c);

  /* filter, mutate and agg */
  CHECK(tl_table_filter_with(t, "twice(x) > 4", &scope, &r, &err) == TL_OK);
  CHECK(r && tl_table_nrows(r) == 2);
  tl_table_release(r);
  const char *defs[] = { "y = twice(x)", "z = tag(name, 2)" };
  CHECK(tl_table_mutate_with(t, 2, defs, &scope, &r, &err) == TL_OK);
  CHECK_STR(column_text(tl_table_column(r, 3)), "abab,cdcd,efef,ghgh");
  tl_table_release(r);
  const char *adefs[] = { "s = sum(twice(x))", "d = twice(sum(x))" };
  CHECK(tl_table_agg_scope(t, 2, adefs, &scope, &r, &err) == TL_OK);
  CHECK_STR(column_text(tl_table_column(r, 0)), "16");
  CHECK_STR(column_text(tl_table_column(r, 1)), "16");
  tl_table_release(r);

  /* types are checked before any row: the declared type */
  s.rows = 0;
  CHECK(tl_table_eval_with(t, "tag(name, 1) + 1", "mutate", &scope, &c, &err) == TL_ETYPE);
  CHECK_STR(err.message, "mutate: \"tag(name, 1) + 1\": arithmetic on string and int at column 14");
  /* without the scope, the plain verbs do not know the function */
  CHECK(tl_table_eval(t, "twice(x)", "mutate", &c, &err) == TL_ETYPE);
  CHECK_STR(err.message, "mutate: \"twice(x)\": unknown function 'twice' at column 1");
  CHECK(s.rows == 0);

  /* errors: the host's message, with the operation in front */
  s.fail_at = 3;
  CHECK(tl_table_filter_with(t, "twice(x) > 0", &scope, &r, &err) == TL_EINVAL);
  CHECK_STR(err.message, "filter: twice: row 3: refused");
  s.fail_at = 0;
  CHECK(tl_table_eval_with(t, "wrong(x)", "mutate", &scope, &c, &err) == TL_ETYPE);
  CHECK_STR(err.message, "mutate: wrong: a float result, not int");
  tl_table_release(t);

  /* many rows on several threads: the host is called on this thread only */
  tl_set_threads(4);
  int64_t n = 300000;
  int64_t *vals = malloc((size_t)n * sizeof *vals);
  for (int64_t i = 0; i < n; i++) vals[i] = i;
  tl_column *xc = NULL;
  CHECK(tl_column_wrap(TL_INT, n, vals, NULL, NULL, NULL, &xc, &err) == TL_OK);
  const char *names[] = { "x" };
  CHECK(tl_table_new(1, names, &xc, &t, &err) == TL_OK);
  s.rows = 0;
  s.other_thread = 0;
  CHECK(tl_table_filter_with(t, "twice(x) % 3 == 0", &scope, &r, &err) == TL_OK);
  CHECK(r && tl_table_nrows(r) == n / 3);
  tl_table_release(r);
  CHECK(tl_table_eval_with(t, "twice(x) + x", "mutate", &scope, &c, &err) == TL_OK);
  CHECK(c && tl_column_ints(c)[n - 1] == 3 * (n - 1));
  tl_column_release(c);
  CHECK(s.rows == 2 * n);
  CHECK(s.other_thread == 0);
  tl_table_release(t);
  tl_column_release(xc);
  free(vals);
  tl_set_threads(0);
  test_fork();
  return check_done("test_hostfn");
}
