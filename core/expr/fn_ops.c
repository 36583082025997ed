/*
** fn_ops.c -- the functions whose result is not null exactly where an
** argument is: x in (...), nullif, greatest and least (which skip nulls, as
** DuckDB's), and concat (which skips them too). Each computes its arguments
** over every row of the vector and decides row by row.
*/
#include <math.h>
#include <string.h>

#include "fn_text.h"
#include "registry.h"

/* Row i of a and row i of b, both valid and of comparable types: < 0, 0, > 0.
** NaN is above every number and equal to itself, as DuckDB orders it. */
static int cmp_rows(const vec *a, const vec *b, int i) {
  if (a->type == TL_INT && b->type == TL_INT) return (a->i[i] > b->i[i]) - (a->i[i] < b->i[i]);
  if (is_num(a->type)) {
    double x = num_at(a, i), y = num_at(b, i);
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
    return (x > y) - (x < y);
  }
  switch (a->type) {
    case TL_STRING: {
      int64_t la = a->sl[i], lb = b->sl[i];
      int c = la && lb ? memcmp(a->s[i], b->s[i], (size_t)(la < lb ? la : lb)) : 0;
      return c ? c : (la > lb) - (la < lb);
    }
    case TL_DATE: return (a->d[i] > b->d[i]) - (a->d[i] < b->d[i]);
    case TL_BOOL: return (int)a->b[i] - (int)b->b[i];
    default: return (a->i[i] > b->i[i]) - (a->i[i] < b->i[i]);
  }
}

/* x in (v1, v2, ...): true when x equals one; otherwise null when x or one
** of the values is null, false when none is. */
static void eval_in(expr *e, evalctx *cx) {
  vec *o = &e->out;
  const vec *x = &e->args[0]->out;
  ROWS(cx, i, {
    int hit = 0, unknown = !valid_at(x, i);
    for (int k = 1; k < e->nargs && !hit && valid_at(x, i); k++) {
      const vec *v = &e->args[k]->out;
      if (!valid_at(v, i)) unknown = 1;
      else hit = cmp_rows(x, v, i) == 0;
    }
    o->b[i] = (uint8_t)hit;
    o->valid[i] = (uint8_t)(hit || !unknown);
  });
}

/* greatest and least: the extreme of the arguments not null (null when all are). */
static void eval_extreme(expr *e, evalctx *cx) {
  vec *o = &e->out;
  int sign = e->fn == F_GREATEST ? 1 : -1;
  ROWS(cx, i, {
    const vec *best = NULL;
    for (int k = 0; k < e->nargs; k++) {
      const vec *v = &e->args[k]->out;
      if (!valid_at(v, i)) continue;
      if (!best || cmp_rows(v, best, i) * sign > 0) best = v;
    }
    if (best) copy_row(o, e->type, best, i);
    else null_row(o, e->type, i);
  });
}

/* nullif(a, b): a, or null where a equals b. */
static void eval_nullif(expr *e, evalctx *cx) {
  vec *o = &e->out;
  const vec *a = &e->args[0]->out, *b = &e->args[1]->out;
  ROWS(cx, i, {
    if (valid_at(a, i) && valid_at(b, i) && cmp_rows(a, b, i) == 0) null_row(o, e->type, i);
    else copy_row(o, e->type, a, i);
  });
}

/* concat(a, b, ...): the texts not null, one after another. */
static tl_status eval_concat(expr *e, evalctx *cx) {
  vec *o = &e->out;
  sout so = { e, 0 };
  ROWS(cx, i, {
    size_t begin = so.used;
    for (int k = 0; k < e->nargs; k++) {
      const vec *v = &e->args[k]->out;
      if (valid_at(v, i) && !sout_put(&so, v->s[i], (size_t)v->sl[i]))
        return tl_error_oom(cx->err, cx->op);
    }
    sout_row(&so, i, begin);
    o->valid[i] = 1;
  });
  tl_sout_finish(&so, NULL, cx);
  return TL_OK;
}

tl_status tl_fn_ops_eval(expr *e, evalctx *cx) {
  vec *o = &e->out;
  for (int k = 0; k < e->nargs; k++) TL_TRY(tl_expr_eval_node(e->args[k], cx));
  o->valid = e->scratch;   /* the validity part of the scratch (a root may have lost it) */
  switch (e->fn) {
    case F_IN: eval_in(e, cx); break;
    case F_GREATEST: case F_LEAST: eval_extreme(e, cx); break;
    case F_NULLIF: eval_nullif(e, cx); break;
    case F_CONCAT: return eval_concat(e, cx);
  }
  return TL_OK;
}
