/*
** fn_bind.c -- the type checks of the text, regular expression and
** operator functions (fn_text.c, fn_regex.c, fn_ops.c) and of the
** aggregates of two columns and of bools (core/agg/pairs.c, bools.c):
** each call gets its result type, or an error pointing at it, before any
** row is read.
*/
#include <stdio.h>

#include "base/parse.h"
#include "fn_text.h"
#include "registry.h"

static tl_status terr(tl_error *err, const char *op, const char *src, const expr *e,
                      const char *fmt, const char *a, const char *b) {
  char what[300];
  snprintf(what, sizeof what, fmt, a, b);
  return tl_error_expr(err, TL_ETYPE, op, src ? src : "", e->pos, what);
}

/* Two types that compare: numbers with numbers, else the same type (0: a bare null). */
static int comparable(tl_type a, tl_type b) {
  return !a || !b || a == b || (is_num(a) && is_num(b));
}

/* With a date or timestamp among arguments [from, nargs), a text constant
** among them is read as one when the expression is compiled (x in
** ('2016-01-02', ...)); one that is not a date is an error pointing at it. */
static tl_status time_literals(expr *e, int from, const char *op, const char *src, tl_error *err) {
  tl_type want = 0;
  for (int k = from; k < e->nargs; k++) {
    tl_type t = e->args[k]->type;
    if (t == TL_TIMESTAMP || (t == TL_DATE && !want)) want = t;
  }
  for (int k = from; want && k < e->nargs; k++) {
    expr *l = e->args[k];
    if (l->kind != E_LIT || l->type != TL_STRING) continue;
    int32_t d;
    int64_t ts;
    if (want == TL_DATE && tl_parse_date(l->lit.v.s.ptr, l->lit.v.s.len, &d)) {
      l->lit.type = l->type = TL_DATE;
      l->lit.v.d = d;
    } else if (tl_parse_timestamp(l->lit.v.s.ptr, l->lit.v.s.len, &ts)) {
      l->lit.type = l->type = TL_TIMESTAMP;
      l->lit.v.i = ts;
    } else {
      return terr(err, op, src, l, "'%s' is not a %s", l->litbuf, tl_type_name(want));
    }
    tl_free(l->litbuf);
    l->litbuf = NULL;
  }
  return TL_OK;
}

/* Arguments [from, to) must be texts (or bare nulls). */
static tl_status need_text(expr *e, int from, int to, const char *name, const char *op,
                           const char *src, tl_error *err) {
  for (int k = from; k < to && k < e->nargs; k++) {
    tl_type t = e->args[k]->type;
    if (t && t != TL_STRING)
      return terr(err, op, src, e->args[k], "%s needs a text here, found %s", name, tname(t));
  }
  return TL_OK;
}

static tl_status need_int(expr *e, int k, const char *name, const char *op, const char *src,
                          tl_error *err) {
  tl_type t = k < e->nargs ? e->args[k]->type : TL_INT;
  if (t && t != TL_INT)
    return terr(err, op, src, e->args[k], "%s needs an integer here, found %s", name, tname(t));
  return TL_OK;
}

/* The common type of arguments [from, nargs): numbers widen to float. */
static tl_status common_type(expr *e, int from, const char *name, const char *op,
                             const char *src, tl_error *err, tl_type *out) {
  tl_type t = 0;
  for (int k = from; k < e->nargs; k++) {
    tl_type a = e->args[k]->type;
    if (!comparable(t, a))
      return terr(err, op, src, e->args[k], "%s of %s and more", name, tname(t));
    if (!t || (is_num(t) && a == TL_FLOAT)) t = a ? a : t;
  }
  *out = t;
  return TL_OK;
}

tl_status tl_fn_text_bind(expr *e, const char *op, const char *src, tl_error *err) {
  const char *name = e->name;
  tl_type a0 = e->nargs ? e->args[0]->type : 0;
  switch (e->fn) {
    case F_LOWER: case F_UPPER: case F_TRIM: case F_LTRIM: case F_RTRIM: case F_REVERSE:
    case F_REPLACE: case F_CONCAT:
      TL_TRY(need_text(e, 0, e->nargs, name, op, src, err));
      e->type = TL_STRING;
      return TL_OK;
    case F_LEN: case F_STRPOS:
      TL_TRY(need_text(e, 0, e->nargs, name, op, src, err));
      e->type = TL_INT;
      return TL_OK;
    case F_LEFT: case F_RIGHT: case F_REPEAT:
      TL_TRY(need_text(e, 0, 1, name, op, src, err));
      TL_TRY(need_int(e, 1, name, op, src, err));
      e->type = TL_STRING;
      return TL_OK;
    case F_LPAD: case F_RPAD:
      TL_TRY(need_text(e, 0, 1, name, op, src, err));
      TL_TRY(need_int(e, 1, name, op, src, err));
      TL_TRY(need_text(e, 2, 3, name, op, src, err));
      e->type = TL_STRING;
      return TL_OK;
    case F_SPLIT_PART:
      TL_TRY(need_text(e, 0, 2, name, op, src, err));
      TL_TRY(need_int(e, 2, name, op, src, err));
      e->type = TL_STRING;
      return TL_OK;
    case F_LIKE: case F_ILIKE:
      TL_TRY(need_text(e, 0, e->nargs, name, op, src, err));
      e->type = TL_BOOL;
      return TL_OK;
    case F_RX_MATCHES: case F_RX_REPLACE: case F_RX_EXTRACT:
      TL_TRY(need_text(e, 0, e->fn == F_RX_REPLACE ? 3 : 2, name, op, src, err));
      if (e->fn == F_RX_EXTRACT) TL_TRY(need_int(e, 2, name, op, src, err));
      e->type = e->fn == F_RX_MATCHES ? TL_BOOL : TL_STRING;
      return tl_rx_compile(e, op, src, err);
    case F_IN: {
      TL_TRY(time_literals(e, 0, op, src, err));
      for (int k = 1; k < e->nargs; k++)
        if (!comparable(a0, e->args[k]->type))
          return terr(err, op, src, e->args[k], "'in' compares %s with %s", tname(a0),
                      tname(e->args[k]->type));
      e->type = TL_BOOL;
      return TL_OK;
    }
    case F_NULLIF:
      TL_TRY(time_literals(e, 0, op, src, err));
      if (!comparable(a0, e->args[1]->type))
        return terr(err, op, src, e, "nullif of %s and %s", tname(a0), tname(e->args[1]->type));
      e->type = a0;
      return TL_OK;
    case F_GREATEST: case F_LEAST: {
      tl_type t = 0;
      TL_TRY(time_literals(e, 0, op, src, err));
      TL_TRY(common_type(e, 0, name, op, src, err, &t));
      e->type = t;
      return TL_OK;
    }
    case F_IS_NAN: case F_SIGN:
      if (a0 && !is_num(a0)) return terr(err, op, src, e, "%s of %s (a number is needed)", name, tname(a0));
      e->type = e->fn == F_IS_NAN ? TL_BOOL : TL_INT;
      return TL_OK;
  }
  return terr(err, op, src, e, "no type rule for '%s'%s", name, "");
}

tl_status tl_fn_agg2_bind(expr *e, const char *op, const char *src, tl_error *err) {
  const char *name = e->name;
  tl_type x = e->nargs ? e->args[0]->type : 0, y = e->nargs > 1 ? e->args[1]->type : 0;
  switch (e->fn) {
    case AGG_CORR: case AGG_COVAR: case AGG_REGR_SLOPE: case AGG_REGR_INTERCEPT:
      if ((x && !is_num(x)) || (y && !is_num(y)))
        return terr(err, op, src, e, "%s needs numbers, found %s", name,
                    x && !is_num(x) ? tname(x) : tname(y));
      e->type = TL_FLOAT;
      return TL_OK;
    case AGG_PRODUCT:
      if (x && !is_num(x)) return terr(err, op, src, e, "%s of %s values", name, tname(x));
      e->type = TL_FLOAT;
      return TL_OK;
    case AGG_COUNT_IF: case AGG_BOOL_AND: case AGG_BOOL_OR:
      if (x && x != TL_BOOL)
        return terr(err, op, src, e, "%s needs a condition (a bool), found %s", name, tname(x));
      e->type = e->fn == AGG_COUNT_IF ? TL_INT : TL_BOOL;
      return TL_OK;
    case AGG_ARG_MIN: case AGG_ARG_MAX:
      if (!x) return terr(err, op, src, e, "%s of a bare null%s", name, "");
      if (!y || y == TL_BOOL)
        return terr(err, op, src, e, "%s orders by %s values: they have no order", name, tname(y));
      e->type = x;
      return TL_OK;
    case AGG_MODE:
      if (!x) return terr(err, op, src, e, "%s of a bare null%s", name, "");
      e->type = x;
      return TL_OK;
    case AGG_STRING_AGG:
      if (x && x != TL_STRING) return terr(err, op, src, e, "%s of %s values (texts are needed)", name, tname(x));
      if (e->nargs > 1 && (e->args[1]->kind != E_LIT || (y && y != TL_STRING)))
        return terr(err, op, src, e->args[1], "%s's separator must be a constant text%s", name, "");
      e->type = TL_STRING;
      return TL_OK;
  }
  return terr(err, op, src, e, "no type rule for '%s'%s", name, "");
}
