/*
** prune.c -- the conditions of pushed filters that statistics can decide.
** A condition `column op constant` is never true on a part of the input
** whose statistics bound the column's values in [min, max] when the
** comparison fails at the nearer bound, compared as the evaluator compares
** (int with int exactly, numbers otherwise as doubles with NaN greatest,
** strings byte-wise, dates as days, timestamps as microseconds). Null rows
** never pass a comparison, so a part whose rows are all null is skipped
** too. Every other condition, and every other type pairing, says nothing.
*/
#include "prune.h"

#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "expr/expr.h"

typedef struct cond {
  const char *col;              /* in the bound expression */
  tl_type ctype;                /* the column's type in the scan */
  expr_op op;                   /* column op value */
  const tl_scalar *v;
} cond;

struct tl_prune {
  int nexprs, nconds, cap;
  expr **exprs;                 /* the bound filters, which the conditions point into */
  cond *conds;
};

static expr_op flip(expr_op op) {
  switch (op) {
    case OP_LT: return OP_GT;
    case OP_LE: return OP_GE;
    case OP_GT: return OP_LT;
    case OP_GE: return OP_LE;
    default: return op;
  }
}

static int add_cond(tl_prune *p, const expr *col, expr_op op, const expr *lit) {
  if (p->nconds == p->cap) {
    int cap = p->cap ? 2 * p->cap : 8;
    cond *c = tl_realloc(p->conds, (size_t)cap * sizeof *c);
    if (!c) return 0;
    p->conds = c;
    p->cap = cap;
  }
  p->conds[p->nconds++] = (cond){ col->name, col->type, op, &lit->lit };
  return 1;
}

/* The conditions of e's conjuncts; 0 when out of memory. */
static int collect(tl_prune *p, const expr *e) {
  if (e->kind != E_BIN) return 1;
  if (e->op == OP_AND) return collect(p, e->args[0]) && collect(p, e->args[1]);
  if (e->op < OP_EQ || e->op > OP_GE) return 1;
  const expr *a = e->args[0], *b = e->args[1];
  if (a->kind == E_COL && b->kind == E_LIT) return add_cond(p, a, e->op, b);
  if (b->kind == E_COL && a->kind == E_LIT) return add_cond(p, b, flip(e->op), a);
  return 1;
}

tl_status tl_prune_make(int nfilters, const char *const *filters, const tl_table *schema,
                        tl_prune **out, tl_error *err) {
  tl_prune *p = tl_calloc(1, sizeof *p);
  *out = NULL;
  if (!p || !(p->exprs = tl_calloc((size_t)nfilters + 1, sizeof *p->exprs))) {
    tl_free(p);
    return tl_error_oom(err, "scan");
  }
  for (int k = 0; k < nfilters; k++) {
    expr *e = NULL;
    tl_error ignored;
    if (tl_expr_parse(filters[k], "filter", NULL, &e, &ignored) != TL_OK) continue;
    p->exprs[p->nexprs++] = e;
    if (tl_expr_bind(e, schema, "filter", filters[k], NULL, NULL, &ignored) != TL_OK) continue;
    if (!collect(p, e)) { tl_prune_free(p); return tl_error_oom(err, "scan"); }
  }
  *out = p;
  return TL_OK;
}

void tl_prune_free(tl_prune *p) {
  if (!p) return;
  for (int k = 0; k < p->nexprs; k++) tl_expr_free(p->exprs[k]);
  tl_free(p->exprs);
  tl_free(p->conds);
  tl_free(p);
}

int tl_prune_count(const tl_prune *p) { return p ? p->nconds : 0; }

/* Doubles as the evaluator orders them: NaN equal to NaN, above all else. */
static int cmp_f(double x, double y) {
  if (x != x || y != y) return (x != x) - (y != y);
  return (x > y) - (x < y);
}

static int cmp_i(int64_t x, int64_t y) { return (x > y) - (x < y); }

static int cmp_s(const char *x, size_t lx, const char *y, size_t ly) {
  size_t m = lx < ly ? lx : ly;
  int c = m ? memcmp(x, y, m) : 0;
  if (c) return c < 0 ? -1 : 1;
  return (lx > ly) - (lx < ly);
}

/* The comparisons of the bounds with the value: *lo of min, *hi of max;
** 0 when this pairing of types is not decided here. */
static int compare_bounds(const cond *c, const pq_stat *s, int *lo, int *hi) {
  const tl_scalar *v = c->v;
  int num = v->type == TL_INT || v->type == TL_FLOAT;
  if ((c->ctype == TL_INT || c->ctype == TL_FLOAT) && num) {
    if (c->ctype == TL_INT && v->type == TL_INT && s->type == TL_INT) {
      *lo = cmp_i(s->imin, v->v.i);
      *hi = cmp_i(s->imax, v->v.i);
      return 1;
    }
    double x = v->type == TL_INT ? (double)v->v.i : v->v.f;
    double a = s->type == TL_INT ? (double)s->imin : s->fmin;
    double b = s->type == TL_INT ? (double)s->imax : s->fmax;
    if (s->type != TL_INT && s->type != TL_FLOAT) return 0;
    *lo = cmp_f(a, x);
    *hi = cmp_f(b, x);
    return 1;
  }
  if (c->ctype != v->type || s->type != v->type) return 0;
  switch (v->type) {
    case TL_DATE:
      *lo = cmp_i(s->imin, v->v.d);
      *hi = cmp_i(s->imax, v->v.d);
      return 1;
    case TL_TIMESTAMP:
      *lo = cmp_i(s->imin, v->v.i);
      *hi = cmp_i(s->imax, v->v.i);
      return 1;
    case TL_STRING:
      *lo = cmp_s(s->smin, s->lmin, v->v.s.ptr, v->v.s.len);
      *hi = cmp_s(s->smax, s->lmax, v->v.s.ptr, v->v.s.len);
      return 1;
    default: return 0;
  }
}

/* 1 when no row of the part can pass condition c. */
static int never(const cond *c, const pq_stat *s) {
  int lo, hi;
  if (c->v->is_null) return 1;                       /* a comparison with null is null */
  if (s->nulls >= 0 && s->nulls == s->rows) return 1;   /* every row null (or none) */
  if (!s->has_range || !compare_bounds(c, s, &lo, &hi)) return 0;
  switch (c->op) {
    case OP_EQ: return lo > 0 || hi < 0;
    case OP_NE: return lo == 0 && hi == 0;
    case OP_LT: return lo >= 0;
    case OP_LE: return lo > 0;
    case OP_GT: return hi <= 0;
    default: return hi < 0;                           /* OP_GE */
  }
}

int tl_prune_excludes(const tl_prune *p, tl_prune_stat stat, void *ud) {
  for (int k = 0; p && k < p->nconds; k++) {
    pq_stat s;
    if (stat(ud, p->conds[k].col, &s) && never(&p->conds[k], &s)) return 1;
  }
  return 0;
}
