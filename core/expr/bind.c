/*
** bind.c -- binding and type checking: resolves column names against the
** table, checks the types of operators and of built-in, host and aggregate
** function calls before any row is read, then folds constants (fold.c) and
** allocates the scratch of each node.
*/
#include <stdio.h>
#include <string.h>

#include "base/column.h"
#include "base/parse.h"
#include "base/table.h"
#include "expr_int.h"
#include "fn_text.h"
#include "registry.h"
#include "time_int.h"

typedef struct binder {
  const tl_table *t;
  const char *op, *src;
  expr ***aggs;
  int *naggs;
  int in_agg;
  int nfns;
  const tl_aggregate *const *fns;
  int nfuncs;
  const tl_function *const *funcs;
  tl_error *err;
} binder;

static tl_status berr(binder *b, const expr *e, const char *fmt, const char *a1,
                      const char *a2) {
  char what[512];
  snprintf(what, sizeof what, fmt, a1, a2);
  return tl_error_expr(b->err, TL_ETYPE, b->op, b->src ? b->src : "", e->pos, what);
}

static int is_time(tl_type t) { return t == TL_DATE || t == TL_TIMESTAMP; }

/* A string literal compared with a date or timestamp becomes one. */
static tl_status coerce_time_literal(binder *b, expr *lit, tl_type want) {
  if (lit->kind != E_LIT || lit->type != TL_STRING) return TL_OK;
  int32_t d;
  int64_t ts;
  const char *s = lit->lit.v.s.ptr;
  size_t n = lit->lit.v.s.len;
  if (want == TL_DATE && tl_parse_date(s, n, &d)) {
    lit->lit.type = lit->type = TL_DATE;
    lit->lit.v.d = d;
  } else if (tl_parse_timestamp(s, n, &ts)) {
    lit->lit.type = lit->type = TL_TIMESTAMP;
    lit->lit.v.i = ts;
  } else {
    return berr(b, lit, "'%s' is not a %s", lit->litbuf, tl_type_name(want));
  }
  tl_free(lit->litbuf);
  lit->litbuf = NULL;
  return TL_OK;
}

static tl_status bind(binder *b, expr *e);

static tl_status bind_bin(binder *b, expr *e) {
  expr *l = e->args[0], *r = e->args[1];
  tl_type lt = l->type, rt = r->type;
  switch (e->op) {
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_IDIV: case OP_MOD:
      if ((e->op == OP_ADD || e->op == OP_SUB) && (is_time(lt) || is_time(rt))) {
        tl_time_binder tb = { b->op, b->src, b->err };
        return tl_expr_bind_time_arith(&tb, e);
      }
      if ((lt && !is_num(lt)) || (rt && !is_num(rt)))
        return berr(b, e, "arithmetic on %s and %s", tname(lt), tname(rt));
      e->type = (lt == TL_FLOAT || rt == TL_FLOAT) ? TL_FLOAT : TL_INT;
      return TL_OK;
    case OP_DIV: case OP_POW:
      if ((lt && !is_num(lt)) || (rt && !is_num(rt)))
        return berr(b, e, "arithmetic on %s and %s", tname(lt), tname(rt));
      e->type = TL_FLOAT;
      return TL_OK;
    case OP_CONCAT:
      if (lt == TL_BOOL || rt == TL_BOOL)
        return berr(b, e, "cannot concatenate %s and %s", tname(lt), tname(rt));
      e->type = TL_STRING;
      return TL_OK;
    case OP_AND: case OP_OR:
      if ((lt && lt != TL_BOOL) || (rt && rt != TL_BOOL))
        return berr(b, e, "'and'/'or' need booleans, found %s and %s", tname(lt), tname(rt));
      e->type = TL_BOOL;
      return TL_OK;
    default:   /* comparisons */
      if (is_time(lt) && rt == TL_STRING) TL_TRY(coerce_time_literal(b, r, lt));
      if (is_time(rt) && lt == TL_STRING) TL_TRY(coerce_time_literal(b, l, rt));
      lt = l->type; rt = r->type;
      if (lt && rt && !(is_num(lt) && is_num(rt)) && !(is_time(lt) && is_time(rt)) && lt != rt)
        return berr(b, e, "cannot compare %s with %s", tname(lt), tname(rt));
      if (lt == TL_BOOL && e->op != OP_EQ && e->op != OP_NE)
        return berr(b, e, "booleans have no order%s%s", "", "");
      e->type = TL_BOOL;
      return TL_OK;
  }
}

/* Adds an aggregate node to the binder's list of slots. */
static tl_status add_slot(binder *b, expr *e) {
  e->kind = E_AGG;
  expr **na = tl_realloc(*b->aggs, (size_t)(*b->naggs + 1) * sizeof *na);
  if (!na) return tl_error_oom(b->err, b->op);
  *b->aggs = na;
  e->col = (*b->naggs)++;
  na[e->col] = e;
  return TL_OK;
}

static tl_status bind_custom(binder *b, expr *e, const tl_aggregate *a) {
  if (!b->aggs)
    return berr(b, e, "aggregate '%s' outside of agg (use it in g:agg or t:agg)%s", a->name, "");
  if (b->in_agg) return berr(b, e, "aggregate '%s' inside another aggregate%s", a->name, "");
  b->in_agg = 1;
  for (int k = 0; k < e->nargs; k++) TL_TRY(bind(b, e->args[k]));
  b->in_agg = 0;
  e->fn = AGG_CUSTOM;
  e->custom = a;
  e->type = a->type;
  return add_slot(b, e);
}

/* A host function: its arguments take any type; its result has the type
** it declares. */
static tl_status bind_host(binder *b, expr *e, const tl_function *f) {
  for (int k = 0; k < e->nargs; k++) TL_TRY(bind(b, e->args[k]));
  if (!f->type || !tl_type_name(f->type))
    return berr(b, e, "function '%s' declares no result type%s", f->name, "");
  e->fn = -1;
  e->hostfn = f;
  e->type = f->type;
  return TL_OK;
}

/* A call of a built-in aggregate: its arguments bound inside it, its type
** from theirs, a slot for its result. */
static tl_status bind_agg_call(binder *b, expr *e, const tl_builtin *bi,
                               const tl_function_info *f) {
  if (!b->aggs)
    return berr(b, e, "aggregate '%s' outside of agg (use it in g:agg or t:agg)%s", f->name, "");
  if (b->in_agg) return berr(b, e, "aggregate '%s' inside another aggregate%s", f->name, "");
  b->in_agg = 1;
  for (int k = 0; k < e->nargs; k++) TL_TRY(bind(b, e->args[k]));
  b->in_agg = 0;
  tl_type at = e->nargs ? e->args[0]->type : TL_INT;
  switch (bi->id) {
    case AGG_COUNT: case AGG_COUNT_DISTINCT: e->type = TL_INT; break;
    case AGG_SUM:
      if (at != TL_INT && at != TL_FLOAT && at != TL_BOOL)
        return berr(b, e, "sum of %s values%s", tname(at), "");
      e->type = at == TL_FLOAT ? TL_FLOAT : TL_INT;
      break;
    case AGG_MEAN: case AGG_STDDEV: case AGG_VAR: case AGG_MEDIAN: case AGG_QUANTILE:
      if (!is_num(at)) return berr(b, e, "%s of %s values", f->name, tname(at));
      if (bi->id == AGG_QUANTILE) {
        expr *q = e->args[1];
        if (q->kind != E_LIT || !is_num(q->type))
          return berr(b, q, "quantile needs a number between 0 and 1%s%s", "", "");
        double qv = q->type == TL_INT ? (double)q->lit.v.i : q->lit.v.f;
        if (!(qv >= 0 && qv <= 1))
          return berr(b, q, "quantile needs a number between 0 and 1%s%s", "", "");
      }
      e->type = TL_FLOAT;
      break;
    case AGG_CORR: case AGG_COVAR: case AGG_REGR_SLOPE: case AGG_REGR_INTERCEPT: case AGG_MODE:
    case AGG_ARG_MIN: case AGG_ARG_MAX: case AGG_COUNT_IF: case AGG_BOOL_AND: case AGG_BOOL_OR:
    case AGG_PRODUCT: case AGG_STRING_AGG:
      TL_TRY(tl_fn_agg2_bind(e, b->op, b->src, b->err));
      break;
    default:   /* min, max, first, last */
      if (!at) return berr(b, e, "%s of a bare null%s", f->name, "");
      e->type = at;
  }
  return add_slot(b, e);
}

static tl_status bind_call(binder *b, expr *e) {
  const tl_builtin *bi = tl_builtin_lookup(e->name);
  if (bi && bi->info.kind == TL_FN_WINDOW)   /* mutate computes them before binding */
    return berr(b, e, "window function '%s' outside of mutate%s", e->name, "");
  const tl_function_info *f = bi ? &bi->info : NULL;
  for (int k = 0; !f && k < b->nfns; k++)
    if (strcmp(b->fns[k]->name, e->name) == 0) return bind_custom(b, e, b->fns[k]);
  for (int k = 0; !f && k < b->nfuncs; k++)
    if (strcmp(b->funcs[k]->name, e->name) == 0) return bind_host(b, e, b->funcs[k]);
  if (!f) return berr(b, e, "unknown function '%s'%s", e->name, "");
  char nb[16];
  if (e->nargs < f->min_args || e->nargs > f->max_args) {
    snprintf(nb, sizeof nb, "%d", e->nargs);
    return berr(b, e, "wrong number of arguments to '%s' (%s given)", f->name, nb);
  }
  e->fn = bi->id;
  if (f->kind == TL_FN_AGGREGATE) return bind_agg_call(b, e, bi, f);
  for (int k = 0; k < e->nargs; k++) TL_TRY(bind(b, e->args[k]));
  if (tl_is_time_fn(bi->id)) {
    tl_time_binder tb = { b->op, b->src, b->err };
    return tl_expr_bind_time(&tb, e, bi->id);
  }
  if (tl_fn_text_owns(bi->id)) return tl_fn_text_bind(e, b->op, b->src, b->err);
  tl_type a0 = e->args[0]->type;
  switch (bi->id) {
    case F_ABS:
      if (a0 && !is_num(a0)) return berr(b, e, "abs of %s%s", tname(a0), "");
      e->type = a0 ? a0 : TL_INT;
      break;
    case F_FLOOR: case F_CEIL: case F_ROUND:
      if (a0 && !is_num(a0)) return berr(b, e, "%s of %s", f->name, tname(a0));
      if (e->nargs > 1 && e->args[1]->type != TL_INT)
        return berr(b, e, "round's digits must be an integer%s%s", "", "");
      e->type = (bi->id == F_ROUND && e->nargs > 1) ? TL_FLOAT : (a0 == TL_FLOAT ? TL_FLOAT : TL_INT);
      if (bi->id != F_ROUND || e->nargs == 1) e->type = a0 == TL_FLOAT ? TL_FLOAT : TL_INT;
      break;
    case F_LN: case F_LOG: case F_EXP: case F_SQRT:
      for (int k = 0; k < e->nargs; k++)
        if (e->args[k]->type && !is_num(e->args[k]->type))
          return berr(b, e, "%s of %s", f->name, tname(e->args[k]->type));
      e->type = TL_FLOAT;
      break;
    case F_SUBSTR:
      if (a0 && a0 != TL_STRING) return berr(b, e, "substr of %s%s", tname(a0), "");
      for (int k = 1; k < e->nargs; k++)
        if (e->args[k]->type != TL_INT) return berr(b, e, "substr's positions must be integers%s%s", "", "");
      e->type = TL_STRING;
      break;
    case F_CONTAINS: case F_STARTS: case F_ENDS:
      for (int k = 0; k < 2; k++)
        if (e->args[k]->type && e->args[k]->type != TL_STRING)
          return berr(b, e, "%s needs strings, found %s", f->name, tname(e->args[k]->type));
      e->type = TL_BOOL;
      break;
    case F_YEAR: case F_MONTH: case F_DAY:
      if (a0 && !is_time(a0)) return berr(b, e, "%s of %s (a date is needed)", f->name, tname(a0));
      e->type = TL_INT;
      break;
    case F_ISNULL:
      e->type = TL_BOOL;
      break;
    case F_COALESCE: {
      tl_type t = 0;
      for (int k = 0; k < e->nargs; k++) {
        tl_type at = e->args[k]->type;
        if (!at) continue;
        if (!t) t = at;
        else if (is_num(t) && is_num(at)) t = (t == TL_FLOAT || at == TL_FLOAT) ? TL_FLOAT : TL_INT;
        else if (t != at) return berr(b, e, "coalesce of %s and %s", tname(t), tname(at));
      }
      e->type = t;
      break;
    }
    case F_IF: {
      tl_type c = a0, t = e->args[1]->type, u = e->args[2]->type;
      if (c && c != TL_BOOL) return berr(b, e, "if's condition is %s, not bool%s", tname(c), "");
      if (t && u && t != u && !(is_num(t) && is_num(u)))
        return berr(b, e, "if's branches are %s and %s", tname(t), tname(u));
      e->type = t ? (u && is_num(t) && is_num(u) && t != u ? TL_FLOAT : t) : u;
      break;
    }
  }
  return TL_OK;
}

static tl_status bind(binder *b, expr *e) {
  switch (e->kind) {
    case E_LIT:
      e->type = e->lit.is_null ? 0 : e->lit.type;
      return TL_OK;
    case E_COL: {
      int j = tl_table_find(b->t, e->name);
      if (j < 0) {
        const char *s = tl_table_suggest(b->t, e->name);
        char hint[300] = "";
        if (s) snprintf(hint, sizeof hint, " (did you mean '%s'?)", s);
        return tl_error_set(b->err, TL_EINVAL, "%s: unknown column '%s'%s", b->op, e->name, hint);
      }
      if (b->aggs && !b->in_agg)
        return berr(b, e, "column '%s' outside of an aggregate (wrap it in first(), sum(), ...)%s",
                    e->name, "");
      e->col = j;
      e->type = tl_column_type(tl_table_column(b->t, j));
      return TL_OK;
    }
    case E_NEG:
      TL_TRY(bind(b, e->args[0]));
      if (e->args[0]->type && !is_num(e->args[0]->type))
        return berr(b, e, "cannot negate %s%s", tname(e->args[0]->type), "");
      e->type = e->args[0]->type ? e->args[0]->type : TL_INT;
      return TL_OK;
    case E_NOT:
      TL_TRY(bind(b, e->args[0]));
      if (e->args[0]->type && e->args[0]->type != TL_BOOL)
        return berr(b, e, "'not' needs a boolean, found %s%s", tname(e->args[0]->type), "");
      e->type = TL_BOOL;
      return TL_OK;
    case E_BIN:
      TL_TRY(bind(b, e->args[0]));
      TL_TRY(bind(b, e->args[1]));
      return bind_bin(b, e);
    case E_CALL:
      return bind_call(b, e);
    case E_AGG:
      return TL_OK;
  }
  return TL_OK;
}

/* Marks the dictionary columns compared with a string constant: their
** loads need the codes only. */
static void mark_codes(expr *e, const tl_table *t) {
  for (int k = 0; k < e->nargs; k++) mark_codes(e->args[k], t);
  if (e->kind != E_BIN || e->op < OP_EQ || e->op > OP_GE) return;
  for (int s = 0; s < 2; s++) {
    expr *c = e->args[s];
    const expr *l = e->args[1 - s];
    if (c->kind == E_COL && c->type == TL_STRING && t && c->col < t->ncol &&
        t->cols[c->col]->dict && l->kind == E_LIT && l->type == TL_STRING && !l->lit.is_null)
      c->dict_codes = 1;
  }
}

tl_status tl_expr_bind_with(expr *e, const tl_table *t, const char *op, const char *src,
                            expr ***aggs, int *naggs, int nfns, const tl_aggregate *const *fns,
                            tl_error *err) {
  tl_scope scope = { nfns, fns, 0, NULL };
  return tl_expr_bind_scope(e, t, op, src, aggs, naggs, &scope, err);
}

tl_status tl_expr_bind_scope(expr *e, const tl_table *t, const char *op, const char *src,
                             expr ***aggs, int *naggs, const tl_scope *scope, tl_error *err) {
  static const tl_scope none = { 0, NULL, 0, NULL };
  if (!scope) scope = &none;
  binder b = { t, op, src, aggs, naggs, 0, scope->naggs, scope->aggs, scope->nfuncs,
               scope->funcs, err };
  TL_TRY(bind(&b, e));
  if (tl_expr_folding()) TL_TRY(tl_expr_fold(e, op, err));
  mark_codes(e, t);
  return tl_expr_alloc_scratch(e, err, op);
}

tl_status tl_expr_bind(expr *e, const tl_table *t, const char *op, const char *src,
                       expr ***aggs, int *naggs, tl_error *err) {
  return tl_expr_bind_with(e, t, op, src, aggs, naggs, 0, NULL, err);
}
