/*
** fold.c -- constant folding: after binding, a subtree that reads no column and calls
** no host function is computed once and becomes a literal; and, or and if
** with a constant operand lose what the constant makes moot. A constant
** whose computation fails stays as it is: the scan then reports the failure
** at its row, as it would without folding.
*/
#include <string.h>

#include "expr_int.h"
#include "fn_text.h"
#include "registry.h"

/* 1 when computing e can fail for a reason other than memory: an integer
** overflow, or a host function. */
static int may_fail(const expr *e) {
  if (e->hostfn) return 1;
  if (e->kind == E_AGG) return 0;   /* its slot is computed already */
  if (e->kind == E_CALL && tl_is_time_fn(e->fn) && e->fn != F_TRY_CAST) return 1;   /* casts, dates */
  if (e->kind == E_BIN && (e->type == TL_DATE || e->args[0]->type == TL_DATE)) return 1;
  if (e->type == TL_INT) {
    if (e->kind == E_NEG || (e->kind == E_CALL && e->fn == F_ABS)) return 1;
    if (e->kind == E_BIN && (e->op == OP_ADD || e->op == OP_SUB || e->op == OP_MUL ||
                             e->op == OP_IDIV))
      return 1;
  }
  for (int k = 0; k < e->nargs; k++)
    if (may_fail(e->args[k])) return 1;
  return 0;
}

/* Node e, whose operands are gone, becomes the literal v (strings are
** taken over as litbuf). */
static void make_literal(expr *e, const tl_scalar *v, char *litbuf) {
  for (int k = 0; k < e->nargs; k++) tl_expr_free(e->args[k]);
  tl_free(e->args);
  tl_free(e->name);
  tl_expr_drop_scratch(e);
  tl_rx_release(e);
  e->args = NULL;
  e->nargs = 0;
  e->name = NULL;
  e->kind = E_LIT;
  e->op = 0;
  e->fn = 0;
  e->lit = *v;
  e->litbuf = litbuf;
}

/* Node e takes the place of its operand k: the others are freed. */
static void become(expr *e, int k) {
  expr *c = e->args[k];
  e->args[k] = NULL;
  for (int j = 0; j < e->nargs; j++) tl_expr_free(e->args[j]);
  tl_free(e->args);
  tl_free(e->name);
  tl_free(e->litbuf);
  tl_expr_drop_scratch(e);
  *e = *c;
  tl_free(c);   /* the shell: what it held is e's now */
}

/* Computes e, whose operands are literals, once. */
static tl_status fold_constant(expr *e, const char *op, tl_error *err) {
  tl_error ferr;
  tl_status st = tl_expr_alloc_scratch(e, err, op);
  if (st == TL_OK) {
    evalctx cx = { NULL, NULL, 0, 1, NULL, 1, op, &ferr, 0 };
    st = tl_expr_eval_node(e, &cx);
    if (st == TL_ENOMEM && err) *err = ferr;
  }
  if (st == TL_OK) {
    const vec *o = &e->out;
    tl_scalar v;
    char *buf = NULL;
    memset(&v, 0, sizeof v);
    v.type = e->type;
    v.is_null = !valid_at(o, 0);
    if (!v.is_null) {
      switch (e->type) {
        case TL_INT: case TL_TIMESTAMP: v.v.i = o->i[0]; break;
        case TL_FLOAT: v.v.f = o->f[0]; break;
        case TL_DATE: v.v.d = o->d[0]; break;
        case TL_BOOL: v.v.b = o->b[0]; break;
        case TL_STRING:
          if (!(buf = tl_alloc((size_t)o->sl[0] + 1))) { st = tl_error_oom(err, op); break; }
          if (o->sl[0]) memcpy(buf, o->s[0], (size_t)o->sl[0]);
          buf[o->sl[0]] = '\0';
          v.v.s.ptr = buf;
          v.v.s.len = (size_t)o->sl[0];
          break;
      }
    }
    if (st == TL_OK) { make_literal(e, &v, buf); return TL_OK; }
  }
  for (int k = 0; k < e->nargs; k++) tl_expr_drop_scratch(e->args[k]);
  tl_expr_drop_scratch(e);
  return st == TL_ENOMEM ? st : TL_OK;   /* a failing constant is left to the scan */
}

tl_status tl_expr_fold(expr *e, const char *op, tl_error *err) {
  for (int k = 0; k < e->nargs; k++) TL_TRY(tl_expr_fold(e->args[k], op, err));
  if (e->kind == E_LIT || e->kind == E_COL || e->kind == E_AGG || e->hostfn) return TL_OK;
  int lits = 1;
  for (int k = 0; k < e->nargs; k++) lits &= e->args[k]->kind == E_LIT;
  if (lits) return fold_constant(e, op, err);
  int sc = short_circuit();
  if (e->kind == E_BIN && (e->op == OP_AND || e->op == OP_OR)) {
    int win = e->op == OP_OR;   /* the value that decides: false for and, true for or */
    for (int s = 0; s < 2; s++) {
      const expr *l = e->args[s], *x = e->args[1 - s];
      if (l->kind != E_LIT || l->lit.is_null) continue;
      if (l->lit.v.b == win) {   /* false and x, x or true, ... */
        /* x goes: after the constant it would not run; before it, it must not fail */
        if ((s == 0 && sc) || !may_fail(x)) {
          tl_scalar v = l->lit;
          make_literal(e, &v, NULL);
        }
      } else if (x->type == TL_BOOL && x->kind != E_AGG) {   /* true and x: x */
        become(e, 1 - s);   /* (an aggregate's node stays where its slot list points) */
      }
      return TL_OK;
    }
  }
  if (e->kind == E_CALL && e->fn == F_IF && e->args[0]->kind == E_LIT) {
    const expr *c = e->args[0];
    int k = !c->lit.is_null && c->lit.v.b ? 1 : 2;
    const expr *x = e->args[k];
    if (x->type == e->type && x->kind != E_AGG && (sc || !may_fail(e->args[3 - k])))
      become(e, k);
  }
  return TL_OK;
}
