/*
** time_int.h -- the date, time and cast functions of the expression
** language, as the binder (bind.c) and the VM (call.c, eval.c) reach them:
** bind_time.c checks their types, call_time.c computes them.
*/
#ifndef TL_TIME_INT_H
#define TL_TIME_INT_H

#include "expr_int.h"

/* Units of date_trunc, date_diff, date_sub and date_add (kept in e->col). */
enum { TU_YEAR, TU_QUARTER, TU_MONTH, TU_WEEK, TU_DAY, TU_HOUR, TU_MINUTE, TU_SECOND };

typedef struct tl_time_binder {
  const char *op, *src;
  tl_error *err;
} tl_time_binder;

/* A unit's TU_* from its name ("month" or "months"), or -1. */
int tl_time_unit(const char *s);
/* The type a cast names ("int", ...), or 0. */
tl_type tl_cast_type(const char *s);

/* Types call e (whose arguments are bound) of function id F_HOUR..F_TRY_CAST. */
tl_status tl_expr_bind_time(const tl_time_binder *b, expr *e, int id);
/* Types + or - with a date or timestamp operand. */
tl_status tl_expr_bind_time_arith(const tl_time_binder *b, expr *e);

/* Computes call e; `valid` is the AND of its arguments' validity (NULL:
** none null), already e->out.valid. */
tl_status tl_expr_call_time(expr *e, const vec *a, uint8_t *valid, evalctx *cx);
/* Computes + or - with a date or timestamp operand (neither a bare null). */
tl_status tl_expr_time_arith(expr *e, const vec *a, const vec *b, evalctx *cx);

#endif
