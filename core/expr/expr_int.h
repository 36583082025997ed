/*
** expr_int.h -- what the files of core/expr share and the rest of the core
** does not see: the lexer's state (lex.c, parse.c), the settings (expr.c),
** and the vector VM's context and row helpers (eval.c, call.c, fold.c,
** expr.c). The helpers that kernels call for each row are static inline.
*/
#ifndef TL_EXPR_INT_H
#define TL_EXPR_INT_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "expr.h"

/* ---------------------------------------------------------------------------
** The lexer's state, shared by the lexer (lex.c) and the parser (parse.c)
*/
enum { T_EOF, T_INT, T_FLOAT, T_STR, T_NAME, T_QNAME, T_OP };

typedef struct parser {
  const char *src, *p;
  const char *op;
  tl_error *err;
  int tok, tpos;
  const char *tstart;
  size_t tlen;
  int64_t ival;
  double fval;
  char *sval;          /* T_STR, T_NAME, T_QNAME text (owned) */
  char opname[4];
  int depth;
  int height;          /* of the tree parsed last */
  int chain;           /* right operands being parsed, one inside another */
} parser;

/* A parse error at column pos of the source: the message names the operation. */
tl_status tl_expr_perr(parser *ps, int pos, const char *fmt, const char *a);
/* Reads the next token into ps. */
tl_status tl_expr_lex(parser *ps);

/* A type's name in messages (bind.c, call.c); 0 is a bare null. */
static inline const char *tname(tl_type t) { return t ? tl_type_name(t) : "null"; }
/* An int or a float (bind.c, eval.c). */
static inline int is_num(tl_type t) { return t == TL_INT || t == TL_FLOAT; }

/* ---------------------------------------------------------------------------
** Settings (expr.c): each is read when a plan is bound or run.
*/
int tl_expr_folding(void);

static inline int short_circuit(void) {
  return !atomic_load_explicit(&tl_env_current()->no_shortcut, memory_order_relaxed);
}

/* Scratch buffers for e->out of each node of e (eval.c). */
tl_status tl_expr_alloc_scratch(expr *e, tl_error *err, const char *op);
/* Gives back what evaluation allocated for node e, not its operands (eval.c). */
void tl_expr_drop_scratch(expr *e);

/* ---------------------------------------------------------------------------
** Evaluation. A node computes the rows of the vector that the selection
** lists (all n when sel is NULL) and leaves the others undefined: no one
** reads them. and, or, if and coalesce hand their later operands only the
** rows still undecided.
*/
typedef struct evalctx {
  tl_column *const *cols, *const *slots;
  int64_t start;
  int n;               /* rows of the vector */
  const int *sel;      /* the rows to compute, ascending; NULL: all n */
  int nsel;
  const char *op;
  tl_error *err;
  int values_only;     /* columns load no validity: the caller computes it apart */
} evalctx;

/* Runs the statements for each selected row i (a plain loop when every
** row is). */
#define ROWS(cx, i, ...) do { \
    const int *s_ = (cx)->sel; \
    if (!s_) { \
      for (int i = 0, n_ = (cx)->n; i < n_; i++) { __VA_ARGS__; } \
    } else { \
      for (int k_ = 0, m_ = (cx)->nsel; k_ < m_; k_++) { int i = s_[k_]; __VA_ARGS__; } \
    } \
  } while (0)

/* The context for the m rows of cx listed in sel. */
static inline evalctx narrow(const evalctx *cx, const int *sel, int m) {
  evalctx s = *cx;
  s.sel = m == cx->n ? NULL : sel;   /* every row: the plain loops */
  s.nsel = m;
  return s;
}

static inline int valid_at(const vec *v, int i) { return v->type && (!v->valid || v->valid[i]); }

static inline double num_at(const vec *v, int i) {
  return v->type == TL_FLOAT ? v->f[i] : (double)v->i[i];
}

/* A result that is null in every row. */
static inline void all_null(vec *o, const evalctx *cx) {
  memset(o->valid, 0, (size_t)cx->n);
}

/* d[k] = x[k] & y[k] for n bytes, 8 at a time. */
static inline void and_bytes(uint8_t *d, const uint8_t *x, const uint8_t *y, size_t n) {
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    uint64_t a, b;
    memcpy(&a, x + k, 8);
    memcpy(&b, y + k, 8);
    a &= b;
    memcpy(d + k, &a, 8);
  }
  for (; k < n; k++) d[k] = x[k] & y[k];
}

/* Row i of o as a null of type t, with a harmless value behind it. */
static inline void null_row(vec *o, tl_type t, int i) {
  o->valid[i] = 0;
  switch (t) {
    case TL_INT: case TL_TIMESTAMP: o->i[i] = 0; break;
    case TL_FLOAT: o->f[i] = 0; break;
    case TL_DATE: o->d[i] = 0; break;
    case TL_BOOL: o->b[i] = 0; break;
    case TL_STRING: o->s[i] = NULL; o->sl[i] = 0; break;
  }
}

/* Row i of v into row i of o, whose type is t (numbers become floats). */
static inline void copy_row(vec *o, tl_type t, const vec *v, int i) {
  if (!valid_at(v, i)) { null_row(o, t, i); return; }
  o->valid[i] = 1;
  switch (t) {
    case TL_FLOAT: o->f[i] = num_at(v, i); break;
    case TL_INT: case TL_TIMESTAMP: o->i[i] = v->i[i]; break;
    case TL_DATE: o->d[i] = v->d[i]; break;
    case TL_BOOL: o->b[i] = v->b[i]; break;
    case TL_STRING: o->s[i] = v->s[i]; o->sl[i] = v->sl[i]; break;
  }
}

/* Makes room for `need` more bytes of string results in e->sbuf. */
static inline int sbuf_reserve(expr *e, size_t used, size_t need) {
  if (used + need <= e->sbuf_cap) return 1;
  size_t cap = e->sbuf_cap ? e->sbuf_cap : 4096;
  while (cap < used + need) cap *= 2;
  char *nb = tl_realloc(e->sbuf, cap);
  if (!nb) return 0;
  e->sbuf = nb;
  e->sbuf_cap = cap;
  return 1;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BYTES_LE 1
#endif

/* Computes node e for the rows of cx into e->out (eval.c). */
tl_status tl_expr_eval_node(expr *e, evalctx *cx);
/* A call of a built-in or host function (call.c). */
tl_status tl_expr_eval_call(expr *e, evalctx *cx);
/* Folds the constants of a bound plan (fold.c). */
tl_status tl_expr_fold(expr *e, const char *op, tl_error *err);

#endif
