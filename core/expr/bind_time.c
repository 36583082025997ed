/*
** bind_time.c -- type checking of the date and time functions, of casts
** and of date arithmetic (date + int, date - date, timestamp - timestamp),
** before any row is read. Units and type names must be string constants:
** they are read here, once, into the node (its `col`). A string constant
** where a date or timestamp is expected is read as one here, and an
** invalid one is an error pointing at it.
*/
#include <stdio.h>
#include <string.h>

#include "base/datetime.h"
#include "expr_int.h"
#include "registry.h"
#include "time_int.h"

static tl_status terr(const tl_time_binder *b, const expr *e, const char *fmt, const char *a1,
                      const char *a2) {
  char what[512];
  snprintf(what, sizeof what, fmt, a1, a2);
  return tl_error_expr(b->err, TL_ETYPE, b->op, b->src ? b->src : "", e->pos, what);
}

static int is_time(tl_type t) { return t == TL_DATE || t == TL_TIMESTAMP; }

int tl_time_unit(const char *s) {
  static const char *const names[] = { "year", "quarter", "month", "week", "day", "hour",
                                       "minute", "second" };
  size_t n = strlen(s);
  for (int k = 0; k < 8; k++) {
    size_t m = strlen(names[k]);
    if (strncmp(s, names[k], m) == 0 && (n == m || (n == m + 1 && s[m] == 's'))) return k;
  }
  return -1;
}

tl_type tl_cast_type(const char *s) {
  static const struct { const char *name; tl_type t; } names[] = {
    { "int", TL_INT }, { "float", TL_FLOAT }, { "string", TL_STRING }, { "bool", TL_BOOL },
    { "date", TL_DATE }, { "timestamp", TL_TIMESTAMP }
  };
  for (size_t k = 0; k < sizeof names / sizeof *names; k++)
    if (strcmp(names[k].name, s) == 0) return names[k].t;
  return 0;
}

/* A string constant where a date or timestamp is expected becomes one. */
static tl_status time_literal(const tl_time_binder *b, expr *lit) {
  if (lit->kind != E_LIT || lit->type != TL_STRING || lit->lit.is_null) return TL_OK;
  int64_t us;
  int date_only;
  if (tl_parse_iso(lit->lit.v.s.ptr, lit->lit.v.s.len, &us, &date_only) != 1)
    return terr(b, lit, "'%s' is not a date or timestamp%s", lit->litbuf, "");
  if (date_only) {
    lit->lit.type = lit->type = TL_DATE;
    lit->lit.v.d = (int32_t)tl_floor_div(us, TL_US_PER_DAY);
  } else {
    lit->lit.type = lit->type = TL_TIMESTAMP;
    lit->lit.v.i = us;
  }
  tl_free(lit->litbuf);
  lit->litbuf = NULL;
  return TL_OK;
}

/* Argument k must be a date or a timestamp (or a bare null). */
static tl_status need_time(const tl_time_binder *b, expr *e, int k) {
  TL_TRY(time_literal(b, e->args[k]));
  tl_type t = e->args[k]->type;
  if (t && !is_time(t))
    return terr(b, e, "%s of %s (a date or timestamp is needed)", e->name, tname(t));
  return TL_OK;
}

/* Argument k must be a string constant: its text, or NULL after an error. */
static const char *need_const(const tl_time_binder *b, expr *e, int k, const char *what,
                              tl_status *st) {
  const expr *a = e->args[k];
  if (a->kind != E_LIT || a->type != TL_STRING || a->lit.is_null) {
    *st = terr(b, a, "%s's %s must be a string constant", e->name, what);
    return NULL;
  }
  *st = TL_OK;
  return a->lit.v.s.ptr;
}

static tl_status need_unit(const tl_time_binder *b, expr *e, int k) {
  tl_status st;
  const char *u = need_const(b, e, k, "unit", &st);
  if (!u) return st;
  if ((e->col = tl_time_unit(u)) < 0)
    return terr(b, e->args[k], "unknown unit '%s' (use year quarter month week day hour "
                "minute or second)%s", u, "");
  return TL_OK;
}

/* Which types a cast to `to` takes. */
static int castable(tl_type from, tl_type to) {
  if (!from || to == TL_STRING || from == TL_STRING || from == to) return 1;
  switch (to) {
    case TL_INT: case TL_FLOAT: case TL_BOOL: return !is_time(from);
    case TL_DATE: case TL_TIMESTAMP: return is_time(from);
    default: return 0;
  }
}

static tl_status bind_cast(const tl_time_binder *b, expr *e, int id) {
  tl_type to;
  if (id == F_TRY_CAST) {
    tl_status st;
    const char *name = need_const(b, e, 1, "type", &st);
    if (!name) return st;
    if (!(to = tl_cast_type(name)))
      return terr(b, e->args[1], "unknown type '%s' (use int float string bool date or "
                  "timestamp)%s", name, "");
  } else {
    static const tl_type of[] = { TL_INT, TL_FLOAT, TL_STRING, TL_BOOL, TL_DATE, TL_TIMESTAMP };
    to = of[id - F_CAST_INT];
  }
  tl_type from = e->args[0]->type;
  if (!castable(from, to))
    return terr(b, e, "cannot cast %s to %s", tname(from), tl_type_name(to));
  e->col = (int)to;
  e->type = to;
  return TL_OK;
}

tl_status tl_expr_bind_time(const tl_time_binder *b, expr *e, int id) {
  tl_type a0 = e->args[0]->type;
  switch (id) {
    case F_HOUR: case F_MINUTE: case F_SECOND: case F_WEEKDAY: case F_YEARDAY:
    case F_QUARTER: case F_WEEK:
      TL_TRY(need_time(b, e, 0));
      e->type = TL_INT;
      return TL_OK;
    case F_EPOCH:
      TL_TRY(need_time(b, e, 0));
      e->type = TL_FLOAT;
      return TL_OK;
    case F_DATE_TRUNC:
      TL_TRY(need_unit(b, e, 0));
      TL_TRY(need_time(b, e, 1));
      e->type = e->args[1]->type == TL_DATE && e->col <= TU_DAY ? TL_DATE : TL_TIMESTAMP;
      return TL_OK;
    case F_DATE_DIFF: case F_DATE_SUB:
      TL_TRY(need_unit(b, e, 0));
      TL_TRY(need_time(b, e, 1));
      TL_TRY(need_time(b, e, 2));
      e->type = TL_INT;
      return TL_OK;
    case F_DATE_ADD:
      TL_TRY(need_time(b, e, 0));
      if (e->args[1]->type && e->args[1]->type != TL_INT)
        return terr(b, e, "date_add's count is %s, not int%s", tname(e->args[1]->type), "");
      TL_TRY(need_unit(b, e, 2));
      e->type = e->args[0]->type == TL_DATE && e->col <= TU_DAY ? TL_DATE : TL_TIMESTAMP;
      return TL_OK;
    case F_STRFTIME: {
      TL_TRY(need_time(b, e, 0));
      tl_status st;
      if (!need_const(b, e, 1, "format", &st)) return st;
      e->type = TL_STRING;
      return TL_OK;
    }
    case F_TO_DATE: case F_TO_TIMESTAMP: {
      int epoch = id == F_TO_TIMESTAMP && is_num(a0) && e->nargs == 1;
      if (a0 && a0 != TL_STRING && !epoch)
        return terr(b, e, "%s of %s (a string is needed)", e->name, tname(a0));
      tl_status st;
      if (e->nargs > 1 && !need_const(b, e, 1, "format", &st)) return st;
      e->type = id == F_TO_DATE ? TL_DATE : TL_TIMESTAMP;
      return TL_OK;
    }
    case F_MAKE_DATE:
      for (int k = 0; k < 3; k++)
        if (e->args[k]->type && e->args[k]->type != TL_INT)
          return terr(b, e, "make_date needs integers, found %s%s", tname(e->args[k]->type), "");
      e->type = TL_DATE;
      return TL_OK;
    default:
      return bind_cast(b, e, id);
  }
}

tl_status tl_expr_bind_time_arith(const tl_time_binder *b, expr *e) {
  expr *l = e->args[0], *r = e->args[1];
  if (is_time(l->type) && r->type == TL_STRING) TL_TRY(time_literal(b, r));
  if (is_time(r->type) && l->type == TL_STRING) TL_TRY(time_literal(b, l));
  tl_type lt = l->type, rt = r->type;
  const char *sym = e->op == OP_ADD ? "+" : "-";
  if (e->op == OP_ADD && ((lt == TL_DATE && (rt == TL_INT || !rt)) || (rt == TL_DATE && lt == TL_INT))) {
    e->type = TL_DATE;
    return TL_OK;
  }
  if (e->op == OP_SUB && lt == TL_DATE && (rt == TL_INT || !rt)) {
    e->type = TL_DATE;
    return TL_OK;
  }
  if (e->op == OP_SUB && is_time(lt) && (is_time(rt) || !rt)) {
    e->type = lt == TL_DATE && (rt == TL_DATE || !rt) ? TL_INT : TL_FLOAT;
    return TL_OK;
  }
  if (e->op == OP_SUB && !lt && is_time(rt)) {
    e->type = rt == TL_DATE ? TL_INT : TL_FLOAT;
    return TL_OK;
  }
  char what[160];
  snprintf(what, sizeof what, "%s %s %s (dates take + and - days; use date_add for other units)",
           tname(lt), sym, tname(rt));
  return terr(b, e, "arithmetic on %s%s", what, "");
}
