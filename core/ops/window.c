/*
** window.c -- the window functions of mutate: lag, lead, cumsum, rank and
** row_number.
**
** Before a definition is bound, each window call in it is computed whole:
** its arguments are evaluated as columns over the table, then a pass over
** the rows in the window's order (a permutation from tl_table_sort of the
** partition and order keys) fills a column in table order. The call's node
** then becomes a slot (E_AGG), which the vectorized evaluator reads as it
** reads an aggregate's result. Calls inside a window's argument are computed
** first, so that "cumsum(x - lag(x))" works.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/table.h"
#include "agg/sum.h"
#include "expr/registry.h"
#include "window.h"

/* Whether row i of c is null: tl_column_is_null, inlined for the loops. */
static inline int null_at(const tl_column *c, int64_t i) {
  return c->validity && !TL_BIT_GET(c->validity, i);
}

void tl_window_options_init(tl_window_options *opts) { memset(opts, 0, sizeof *opts); }


void tl_window_free(tl_window *w) {
  if (!w) return;
  for (int k = 0; w->keys && k < w->nkeys; k++) tl_column_release(w->keys[k]);
  tl_free(w->keys);
  tl_free(w->perm);
  tl_free(w->first);
  tl_free(w->end);
  tl_free(w->peer);
  tl_free(w);
}

/* An error about a call, in the form of the binder's ("mutate: "src": what
** at column N"). */
static tl_status werr(tl_error *err, tl_status code, const char *src, const expr *e,
                      const char *fmt, const char *a1, const char *a2) {
  char what[512];
  snprintf(what, sizeof what, fmt, a1, a2);
  return tl_error_expr(err, code, "mutate", src, e->pos, what);
}

/* Key k of opts (partition keys first): its column in t and direction. */
static tl_status key_column(const tl_table *t, const tl_window_options *opts, int k, int *col,
                            int *desc, tl_error *err) {
  int part = k < opts->npartition;
  const char *name = part ? opts->partition_by[k] : opts->order_by[k - opts->npartition];
  *desc = 0;
  if (!name) return tl_error_set(err, TL_EINVAL, "mutate: a null key name");
  if (!part && name[0] == '-' && tl_table_find(t, name) < 0) {   /* a name may start with '-' */
    *desc = 1;
    name++;
  }
  if ((*col = tl_table_find(t, name)) >= 0) return TL_OK;
  const char *s = tl_table_suggest(t, name);
  char hint[300] = "";
  if (s) snprintf(hint, sizeof hint, " (did you mean '%s'?)", s);
  return tl_error_set(err, TL_EINVAL, "mutate: unknown column '%s' in %s%s", name,
                      part ? "partition_by" : "order_by", hint);
}

static int nkeys_of(const tl_window_options *opts) {
  return opts ? opts->npartition + opts->norder : 0;
}

tl_status tl_window_check(const tl_table *t, const tl_window_options *opts, tl_error *err) {
  for (int k = 0; k < nkeys_of(opts); k++) {
    int col, desc;
    TL_TRY(key_column(t, opts, k, &col, &desc, err));
  }
  return TL_OK;
}

/* Rows i and j of c hold the same value (nulls equal nulls, NaN NaN). */
static int same(const tl_column *c, int64_t i, int64_t j) {
  int ni = null_at(c, i), nj = null_at(c, j);
  if (ni || nj) return ni && nj;
  if (c->dict && ((const int32_t *)c->values)[i] == ((const int32_t *)c->values)[j])
    return 1;   /* one code, one string (a dictionary may repeat a string under two codes) */
  if (c->type == TL_DATE) return ((const int32_t *)c->values)[i] == ((const int32_t *)c->values)[j];
  if (c->type == TL_INT || c->type == TL_TIMESTAMP)
    return ((const int64_t *)c->values)[i] == ((const int64_t *)c->values)[j];
  return tl_column_compare_values(c, i, c, j) == 0;
}

/* Whether to stop before position p: the interrupt is read once every 64K rows. */
#define STOP(p) (((p) & 0xffff) == 0 && tl_interrupted())

/* The order of t under opts: a stable sort of a table of the keys and the
** row indexes, whose sorted row indexes are the permutation. */
static tl_status make_order(const tl_table *t, const tl_window_options *opts, tl_window **out,
                            tl_error *err) {
  int64_t n = t->nrows;
  int nk = nkeys_of(opts);
  tl_window *w = tl_calloc(1, sizeof *w);
  if (!w) return tl_error_oom(err, "mutate");
  w->n = n;
  w->nkeys = nk;
  w->norder = opts ? opts->norder : 0;
  w->perm = tl_alloc(((size_t)n + 1) * sizeof *w->perm);
  w->first = tl_alloc(((size_t)n + 1) * sizeof *w->first);
  w->end = tl_alloc(((size_t)n + 1) * sizeof *w->end);
  w->keys = tl_calloc((size_t)nk + 1, sizeof *w->keys);
  if (w->norder) w->peer = tl_alloc(((size_t)n + 1) * sizeof *w->peer);
  if (!w->perm || !w->first || !w->end || !w->keys || (w->norder && !w->peer)) {
    tl_window_free(w);
    return tl_error_oom(err, "mutate");
  }
  tl_status st = TL_OK;
  char (*names)[16] = NULL;
  const char **cnames = NULL, **skeys = NULL;
  tl_column **cols = NULL, *rows = NULL;
  tl_table *kt = NULL, *sorted = NULL;
  if (nk == 0) {
    for (int64_t i = 0; i < n; i++) w->perm[i] = i;
  } else {
    names = tl_alloc(((size_t)nk + 1) * sizeof *names);
    cnames = tl_alloc(((size_t)nk + 1) * sizeof *cnames);
    skeys = tl_alloc(((size_t)nk + 1) * sizeof *skeys);
    cols = tl_alloc(((size_t)nk + 1) * sizeof *cols);
    if (!names || !cnames || !skeys || !cols) st = tl_error_oom(err, "mutate");
    for (int k = 0; k < nk && st == TL_OK; k++) {
      int col, desc;
      if ((st = key_column(t, opts, k, &col, &desc, err)) != TL_OK) break;
      w->keys[k] = tl_column_retain(t->cols[col]);
      cols[k] = t->cols[col];
      snprintf(names[k], sizeof names[k], "-k%d", k);   /* keys may repeat a column */
      cnames[k] = names[k] + 1;
      skeys[k] = names[k] + !desc;
    }
    if (st == TL_OK) st = tl_column_alloc(TL_INT, n, 0, 0, &rows, err);
    if (st == TL_OK) {
      int64_t *r = rows->values;
      for (int64_t i = 0; i < n; i++) r[i] = i;
      tl_column_seal(rows);
      cols[nk] = rows;
      cnames[nk] = "row";
      st = tl_table_new(nk + 1, cnames, cols, &kt, err);
    }
    if (st == TL_OK) st = tl_table_sort(kt, nk, skeys, &sorted, err);
    if (st == TL_EINTR) tl_error_interrupted(err, "mutate");   /* the sort's, as ours */
    if (st == TL_OK) memcpy(w->perm, tl_column_ints(sorted->cols[nk]), (size_t)n * sizeof *w->perm);
  }
  /* partitions and peers: runs of equal keys along the order */
  int np = opts ? opts->npartition : 0;
  for (int64_t p = 0, f = 0; p < n && st == TL_OK; p++) {
    if (STOP(p)) { st = tl_error_interrupted(err, "mutate"); break; }
    int newpart = p == 0, newpeer = p == 0;
    for (int k = 0; k < nk && !newpeer; k++) {
      const tl_column *c = sorted->cols[k];
      if (!same(c, p - 1, p)) {
        newpeer = 1;
        newpart = k < np;
      }
    }
    if (newpart) f = p;
    w->first[p] = f;
    if (w->peer) w->peer[p] = newpeer ? p : w->peer[p - 1];
  }
  for (int64_t p = n - 1, e = n; p >= 0 && st == TL_OK; p--) {
    w->end[p] = e;
    if (w->first[p] == p) e = p;
  }
  tl_table_release(sorted);
  tl_table_release(kt);
  tl_column_release(rows);
  tl_free(names);
  tl_free(cnames);
  tl_free(skeys);
  tl_free(cols);
  if (st != TL_OK) { tl_window_free(w); return st; }
  *out = w;
  return TL_OK;
}

/* The cached order, when its key columns are still those of t. */
static int order_valid(const tl_window *w, const tl_table *t, const tl_window_options *opts) {
  if (w->n != t->nrows) return 0;
  for (int k = 0; k < w->nkeys; k++) {
    int col, desc;
    if (key_column(t, opts, k, &col, &desc, NULL) != TL_OK || t->cols[col] != w->keys[k])
      return 0;
  }
  return 1;
}

/* row_number and rank: ints from the positions. */
static tl_status positions(const tl_window *w, int id, tl_column **out, tl_error *err) {
  tl_column *c;
  TL_TRY(tl_column_alloc(TL_INT, w->n, 0, 0, &c, err));
  int64_t *v = c->values;
  for (int64_t p = 0; p < w->n; p++) {
    if (STOP(p)) { tl_column_release(c); return tl_error_interrupted(err, "mutate"); }
    v[w->perm[p]] = (id == W_RANK ? w->peer[p] : p) - w->first[p] + 1;
  }
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

/* lag and lead: a gather of x (followed by d, when given, so that a row
** past the edge takes d's value at that row). */
static tl_status shift(const tl_window *w, int id, int64_t k, const tl_column *x,
                       const tl_column *d, tl_column **out, tl_error *err) {
  int64_t n = w->n;
  tl_status st = TL_OK;
  tl_table *both = NULL;
  if (d) {   /* x then d as one column: types widen as concat does */
    tl_table *tx = NULL, *td = NULL;
    const char *nm = "v";
    st = tl_table_new(1, &nm, (tl_column *const *)&x, &tx, err);
    if (st == TL_OK) st = tl_table_new(1, &nm, (tl_column *const *)&d, &td, err);
    const tl_table *two[2] = { tx, td };
    if (st == TL_OK) st = tl_table_concat(2, two, &both, err);
    tl_table_release(tx);
    tl_table_release(td);
    if (st == TL_EINTR) tl_error_interrupted(err, "mutate");   /* concat's, as ours */
    if (st != TL_OK) return st;
    x = both->cols[0];
  }
  int64_t *idx = tl_alloc(((size_t)n + 1) * sizeof *idx);
  if (!idx) { tl_table_release(both); return tl_error_oom(err, "mutate"); }
  for (int64_t p = 0; p < n; p++) {
    if (STOP(p)) {
      tl_free(idx);
      tl_table_release(both);
      return tl_error_interrupted(err, "mutate");
    }
    int64_t row = w->perm[p];
    int in = id == W_LAG ? p - w->first[p] >= k : w->end[p] - p > k;   /* no overflow */
    idx[row] = in ? w->perm[id == W_LAG ? p - k : p + k] : d ? n + row : -1;
  }
  st = tl_column_take(x, idx, n, out, err);
  tl_free(idx);
  tl_table_release(both);
  return st;
}

/* cumsum: a running sum per partition along the order. */
static tl_status cumsum(const tl_window *w, const tl_column *x, tl_column **out,
                        tl_error *err) {
  int64_t n = w->n;
  int isf = x->type == TL_FLOAT;
  tl_column *c;
  TL_TRY(tl_column_alloc(isf ? TL_FLOAT : TL_INT, n, 1, 0, &c, err));
  int64_t si = 0;
  double sf = 0, comp = 0;   /* a compensated sum (agg/sum.h) */
  int any = 0;
  for (int64_t p = 0; p < n; p++) {
    if (STOP(p)) { tl_column_release(c); return tl_error_interrupted(err, "mutate"); }
    int64_t row = w->perm[p];
    if (w->first[p] == p) { si = 0; sf = comp = 0; any = 0; }
    if (!null_at(x, row)) {
      any = 1;
      if (isf) {
        tl_sum_add(&sf, &comp, tl_column_floats(x)[row]);
      } else {
        int64_t v = x->type == TL_BOOL ? tl_column_bool_at(x, row) : tl_column_ints(x)[row];
        if (__builtin_add_overflow(si, v, &si)) {
          tl_column_release(c);
          return tl_error_set(err, TL_ERANGE, "mutate: integer overflow in cumsum at row %lld",
                              (long long)row + 1);
        }
      }
    }
    if (!any) TL_BIT_CLEAR(c->validity, row);
    else if (isf) ((double *)c->values)[row] = tl_sum_value(sf, comp);
    else ((int64_t *)c->values)[row] = si;
  }
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

typedef struct wctx {
  const tl_table *t;
  const tl_window_options *opts;
  const tl_scope *scope;
  const char *src;
  tl_window **w;
  tl_column ***slots;
  int *nslots;
  tl_error *err;
} wctx;

/* Argument k of a call as a column over the table. */
static tl_status arg_column(wctx *cx, expr *a, tl_column **out) {
  TL_TRY(tl_expr_bind_scope(a, cx->t, "mutate", cx->src, NULL, NULL, cx->scope, cx->err));
  return tl_expr_column(a, cx->t->cols, *cx->slots, cx->t->nrows, "mutate", out, cx->err);
}

static int is_rolling(int id) {
  return id == W_ROLLING_SUM || id == W_ROLLING_MEAN || id == W_ROLLING_MIN ||
         id == W_ROLLING_MAX || id == W_ROLLING_STD;
}

/* Whether id takes a number column (and which types). */
static int numeric_only(int id) {
  return id == W_CUMSUM || id == W_CUMPROD || id == W_ROLLING_SUM || id == W_ROLLING_MEAN ||
         id == W_ROLLING_STD;
}

/* Checks a call's arguments before anything is computed. */
static tl_status check_call(wctx *cx, expr *e, const tl_builtin *fn, int64_t *k) {
  const char *name = fn->info.name;
  int id = fn->id;
  char nb[16];
  if (e->nargs < fn->info.min_args || e->nargs > fn->info.max_args) {
    snprintf(nb, sizeof nb, "%d", e->nargs);
    return werr(cx->err, TL_ETYPE, cx->src, e, "wrong number of arguments to '%s' (%s given)",
                name, nb);
  }
  *k = 1;
  int karg = id == W_NTILE ? 0 : 1;              /* the argument that is a count */
  int lo = id == W_LAG || id == W_LEAD ? 0 : 1;
  if (e->nargs > karg && (id == W_LAG || id == W_LEAD || id == W_NTILE || is_rolling(id))) {
    const expr *a = e->args[karg];
    if (a->kind != E_LIT || a->lit.is_null || a->lit.type != TL_INT || a->lit.v.i < lo)
      return werr(cx->err, TL_ETYPE, cx->src, a, lo ? "%s's %s must be an integer literal >= 1"
                  : "%s's %s must be an integer literal >= 0", name,
                  id == W_NTILE ? "number of tiles" : is_rolling(id) ? "window" : "offset");
    *k = a->lit.v.i;
  }
  if ((id == W_RANK || id == W_DENSE_RANK || id == W_PERCENT_RANK || id == W_CUME_DIST) &&
      (!cx->opts || cx->opts->norder == 0))
    return werr(cx->err, TL_EINVAL, cx->src, e, "%s() needs the order_by option%s", name, "");
  return TL_OK;
}

static tl_status to_slot(wctx *cx, expr *e, tl_column *res);

/* Computes the window call e, whose id is `id`, into a slot. */
static tl_status compute(wctx *cx, expr *e, const tl_builtin *fn) {
  int64_t k = 1;
  TL_TRY(check_call(cx, e, fn, &k));
  const char *name = fn->info.name;
  int id = fn->id;
  tl_column *x = NULL, *d = NULL, *res = NULL;
  tl_status st = TL_OK;
  if (e->nargs >= 1 && id != W_NTILE) st = arg_column(cx, e->args[0], &x);
  if (st == TL_OK && e->nargs == 3) st = arg_column(cx, e->args[2], &d);
  tl_type xt = x ? e->args[0]->type : 0, dt = d ? e->args[2]->type : 0;
  if (st == TL_OK && x && !xt)
    st = werr(cx->err, TL_ETYPE, cx->src, e, "%s of a bare null%s", name, "");
  if (st == TL_OK && numeric_only(id) && xt != TL_INT && xt != TL_FLOAT && xt != TL_BOOL)
    st = werr(cx->err, TL_ETYPE, cx->src, e, "%s of %s values", name, tl_type_name(xt));
  if (st == TL_OK && (id == W_CUMMAX || id == W_CUMMIN || id == W_ROLLING_MIN ||
                      id == W_ROLLING_MAX) && (xt == TL_STRING))
    st = werr(cx->err, TL_ETYPE, cx->src, e, "%s of %s values", name, tl_type_name(xt));
  if (st == TL_OK && dt && dt != xt &&
      !((xt == TL_INT || xt == TL_FLOAT) && (dt == TL_INT || dt == TL_FLOAT)))
    st = werr(cx->err, TL_ETYPE, cx->src, e->args[2], "%s's default is %s", name,
              tl_type_name(dt));
  if (st == TL_OK && *cx->w && !order_valid(*cx->w, cx->t, cx->opts)) {
    tl_window_free(*cx->w);
    *cx->w = NULL;
  }
  if (st == TL_OK && !*cx->w) st = make_order(cx->t, cx->opts, cx->w, cx->err);
  if (st == TL_OK) {
    switch (id) {
      case W_LAG: case W_LEAD: st = shift(*cx->w, id, k, x, dt ? d : NULL, &res, cx->err); break;
      case W_CUMSUM: st = cumsum(*cx->w, x, &res, cx->err); break;
      case W_RANK: case W_ROW_NUMBER: st = positions(*cx->w, id, &res, cx->err); break;
      case W_DENSE_RANK: case W_PERCENT_RANK: case W_CUME_DIST: case W_NTILE:
        st = tl_window_ranks(*cx->w, id, k, &res, cx->err);
        break;
      case W_FIRST_VALUE: case W_LAST_VALUE:
        st = tl_window_ends(*cx->w, id, x, &res, cx->err);
        break;
      case W_CUMMAX: case W_CUMMIN: case W_CUMPROD: case W_CUMCOUNT:
        st = tl_window_running(*cx->w, id, x, &res, cx->err);
        break;
      default: st = tl_window_rolling(*cx->w, id, x, k, &res, cx->err); break;
    }
  }
  tl_column_release(x);
  tl_column_release(d);
  if (st != TL_OK) { tl_column_release(res); return st; }
  return to_slot(cx, e, res);
}

/* The call e becomes a reference to a new slot holding res (taken). */
static tl_status to_slot(wctx *cx, expr *e, tl_column *res) {
  tl_column **ns = tl_realloc(*cx->slots, (size_t)(*cx->nslots + 1) * sizeof *ns);
  if (!ns) { tl_column_release(res); return tl_error_oom(cx->err, "mutate"); }
  *cx->slots = ns;
  ns[*cx->nslots] = res;
  /* the call becomes a reference to its slot */
  for (int a = 0; a < e->nargs; a++) tl_expr_free(e->args[a]);
  tl_free(e->args);
  e->args = NULL;
  e->nargs = 0;
  e->kind = E_AGG;
  e->fn = 0;
  e->col = (*cx->nslots)++;
  e->type = tl_column_type(res);
  return TL_OK;
}

/* An aggregate over the whole partition (no order_by): a grouping by the
** partition keys, no order needed. */
static tl_status whole_partition(wctx *cx, const expr *e, const tl_builtin *bi,
                                 tl_column *const *args, tl_column **out) {
  int np = cx->opts ? cx->opts->npartition : 0;
  tl_column **pk = tl_calloc((size_t)np + 1, sizeof *pk);
  if (!pk) return tl_error_oom(cx->err, "mutate");
  tl_status st = TL_OK;
  for (int k = 0; k < np && st == TL_OK; k++) {
    int col, desc;
    if ((st = key_column(cx->t, cx->opts, k, &col, &desc, cx->err)) == TL_OK)
      pk[k] = cx->t->cols[col];
  }
  if (st == TL_OK)
    st = tl_window_whole(cx->t->nrows, np, pk, bi->info.name, e, args, out, cx->err);
  tl_free(pk);
  return st;
}

/* An aggregate call in mutate: a window aggregate over the partition (a
** running one with order_by), into a slot. */
static tl_status compute_agg(wctx *cx, expr *e, const tl_builtin *bi) {
  char nb[16];
  if (e->nargs < bi->info.min_args || e->nargs > bi->info.max_args || e->nargs > 16) {
    snprintf(nb, sizeof nb, "%d", e->nargs);
    return werr(cx->err, TL_ETYPE, cx->src, e, "wrong number of arguments to '%s' (%s given)",
                bi->info.name, nb);
  }
  tl_column *args[16] = {0}, *res = NULL;
  tl_status st = TL_OK;
  for (int k = 0; k < e->nargs && st == TL_OK; k++)
    if (e->args[k]->kind != E_LIT) st = arg_column(cx, e->args[k], &args[k]);
  if (st == TL_OK && (!cx->opts || cx->opts->norder == 0)) {
    st = whole_partition(cx, e, bi, args, &res);
  } else {
    if (st == TL_OK && *cx->w && !order_valid(*cx->w, cx->t, cx->opts)) {
      tl_window_free(*cx->w);
      *cx->w = NULL;
    }
    if (st == TL_OK && !*cx->w) st = make_order(cx->t, cx->opts, cx->w, cx->err);
    if (st == TL_OK) st = tl_window_aggregate(*cx->w, bi, e, args, &res, cx->err);
  }
  for (int k = 0; k < e->nargs; k++) tl_column_release(args[k]);
  if (st != TL_OK) { tl_column_release(res); return st; }
  return to_slot(cx, e, res);
}

/* The first aggregate call inside e's arguments, or NULL. */
static const expr *inner_aggregate(const expr *e) {
  for (int a = 0; a < e->nargs; a++) {
    const expr *x = e->args[a];
    const tl_builtin *bi = x->kind == E_CALL ? tl_builtin_lookup(x->name) : NULL;
    if (bi && bi->info.kind == TL_FN_AGGREGATE) return x;
    if ((x = inner_aggregate(x)) != NULL) return x;
  }
  return NULL;
}

static tl_status walk(wctx *cx, expr *e) {
  const tl_builtin *bi = e->kind == E_CALL ? tl_builtin_lookup(e->name) : NULL;
  const expr *in = bi && bi->info.kind == TL_FN_AGGREGATE ? inner_aggregate(e) : NULL;
  if (in)
    return werr(cx->err, TL_ETYPE, cx->src, in, "aggregate '%s' inside another aggregate%s",
                in->name, "");
  for (int a = 0; a < e->nargs; a++) TL_TRY(walk(cx, e->args[a]));
  if (e->kind != E_CALL) return TL_OK;
  if (bi && bi->info.kind == TL_FN_AGGREGATE) return compute_agg(cx, e, bi);
  return bi && bi->info.kind == TL_FN_WINDOW ? compute(cx, e, bi) : TL_OK;
}

tl_status tl_window_prepare(expr *e, const tl_table *t, const tl_window_options *opts,
                            const tl_scope *scope, const char *src, tl_window **w,
                            tl_column ***slots, int *nslots, tl_error *err) {
  wctx cx = { t, opts, scope, src, w, slots, nslots, err };
  return walk(&cx, e);
}
