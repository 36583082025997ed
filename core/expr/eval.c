/*
** eval.c -- the vector VM. A node computes the rows of the vector that
** the selection lists (all n when sel is NULL) and leaves the others
** undefined: no one reads them. and, or, if and coalesce hand their later
** operands only the rows still undecided.
**
** Here are the scratch of the nodes, column loads, comparisons,
** arithmetic, concatenation, and/or, and the row selection of filter;
** function calls are in call.c.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/column.h"
#include "expr_int.h"
#include "registry.h"
#include "time_int.h"

/* Selection buffers of TL_VEC rows a node needs for the rows of its
** operands: and, or and if split their rows, coalesce narrows them, a host
** function lists those it computes. */
static int sel_buffers(const expr *e) {
  if (e->kind == E_BIN && (e->op == OP_AND || e->op == OP_OR)) return 2;
  if (e->kind != E_CALL) return 0;
  if (e->hostfn || e->fn == F_COALESCE) return 1;
  return e->fn == F_IF ? 2 : 0;
}

/* Points e->out at the scratch again (or at the target of the root): a
** column load redirects the arrays to the column itself. */
static void reset_out(expr *e) {
  char *p = e->scratch;
  size_t n = TL_VEC;
  e->out.valid = (uint8_t *)p;
  void *vals = e->target ? e->target : p + n;
  e->out.i = vals; e->out.f = vals; e->out.d = vals; e->out.b = vals;
  e->out.s = (const char **)(void *)(p + n + n * 8);
  e->out.sl = (int64_t *)(void *)(p + n + n * 8 + n * sizeof(char *));
  e->out.codes = NULL;
  e->out.dict = NULL;
}

void tl_expr_drop_tree_scratch(expr *e) {
  for (int k = 0; k < e->nargs; k++) tl_expr_drop_tree_scratch(e->args[k]);
  tl_expr_drop_scratch(e);
}

tl_status tl_expr_keep_scratch(expr *e, const char *op, tl_error *err) {
  return tl_expr_alloc_scratch(e, err, op);
}

/* Scratch buffers for e->out: every array a vector of its type can need. */
tl_status tl_expr_alloc_scratch(expr *e, tl_error *err, const char *op) {
  for (int k = 0; k < e->nargs; k++)
    TL_TRY(tl_expr_alloc_scratch(e->args[k], err, op));
  if (e->scratch) return TL_OK;
  size_t n = TL_VEC;
  e->scratch = tl_alloc(n /* valid */ + n * 8 /* values */ + n * sizeof(char *) + n * 8);
  if (!e->scratch) return tl_error_oom(err, op);
  int nsel = sel_buffers(e);
  /* a host call also finds a vector of zero bytes there: a bare null's validity */
  if (nsel && !(e->selbuf = tl_calloc(n * (size_t)nsel * sizeof(int) + n, 1)))
    return tl_error_oom(err, op);
  reset_out(e);
  e->out.type = e->type;
  return TL_OK;
}

/* Gives back what evaluation allocated for node e (not its operands). */
void tl_expr_drop_scratch(expr *e) {
  tl_free(e->scratch);
  tl_free(e->selbuf);
  tl_free(e->sbuf);
  tl_free(e->cache_tab);
  e->scratch = NULL;
  e->selbuf = NULL;
  e->sbuf = NULL;
  e->sbuf_cap = 0;
  e->cache_tab = NULL;
  e->cache_dict = NULL;
  e->filled = 0;
}

/* The validity of a result from two operands' (neither a bare null). */
static uint8_t *and_valid(vec *o, const vec *a, const vec *b, const evalctx *cx) {
  const uint8_t *x = a->valid, *y = b->valid;
  uint8_t *d = o->valid;
  if (!x && !y) return NULL;
  if (!cx->sel && (!x || !y)) return memcpy(d, x ? x : y, (size_t)cx->n);
  if (!cx->sel) { and_bytes(d, x, y, (size_t)cx->n); return d; }
  if (!y) ROWS(cx, i, d[i] = x[i]);
  else if (!x) ROWS(cx, i, d[i] = y[i]);
  else ROWS(cx, i, d[i] = x[i] & y[i]);
  return d;
}

/* The validity of a result from its one operand's (not a bare null). */
static uint8_t *copy_valid(vec *o, const vec *a, const evalctx *cx) {
  if (!a->valid) return NULL;
  if (!cx->sel) return memcpy(o->valid, a->valid, (size_t)cx->n);
  ROWS(cx, i, o->valid[i] = a->valid[i]);
  return o->valid;
}

/* Bits [start, start + n) of a bitmap as bytes of 0 and 1. */
static void unpack_bits(uint8_t *d, const uint8_t *bm, int64_t start, int n) {
  int i = 0;
#ifdef BYTES_LE
  if ((start & 7) == 0) {   /* a byte of the bitmap gives 8 bytes at once */
    const uint8_t *s = bm + (start >> 3);
    for (; i + 8 <= n; i += 8) {
      uint64_t x = (s[i >> 3] * 0x0101010101010101ULL) & 0x8040201008040201ULL;
      x = ((x + 0x7f7f7f7f7f7f7f7fULL) >> 7) & 0x0101010101010101ULL;
      memcpy(d + i, &x, 8);
    }
  }
#endif
  for (; i < n; i++) d[i] = TL_BIT_GET(bm, start + i);
}

static void load_column(expr *e, const tl_column *c, const evalctx *cx) {
  vec *o = &e->out;
  int64_t start = cx->start;
  int n = cx->n;
  o->valid = NULL;
  if (c->validity && !cx->values_only) {
    o->valid = e->scratch;   /* the validity part of the scratch */
    unpack_bits(o->valid, c->validity, start, n);
  }
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP:
      o->i = (int64_t *)c->values + start;   /* no copy */
      break;
    case TL_FLOAT:
      o->f = (double *)c->values + start;
      break;
    case TL_DATE:
      o->d = (int32_t *)c->values + start;
      break;
    case TL_BOOL:
      unpack_bits(o->b, c->values, start, n);
      break;
    case TL_STRING: {
      if (c->dict) {
        const int32_t *codes = (const int32_t *)c->values + start;
        const int64_t *off = c->dict->values;
        const char *bytes = c->dict->bytes;
        o->codes = codes;
        o->dict = c->dict;
        if (e->dict_codes) break;   /* compared with a constant: the codes do */
        ROWS(cx, i, o->s[i] = bytes + off[codes[i]]; o->sl[i] = off[codes[i] + 1] - off[codes[i]]);
        break;
      }
      const int64_t *off = (const int64_t *)c->values + start;
      const char *bytes = c->bytes;
      ROWS(cx, i, o->s[i] = bytes + off[i]; o->sl[i] = off[i + 1] - off[i]);
      break;
    }
  }
}

/* A constant's vector: filled once, as its scratch is its own. A null
** holds zero values, which kernels may read. */
static void fill_literal(expr *e, int n) {
  vec *o = &e->out;
  const tl_scalar *v = &e->lit;
  if (v->is_null) memset(o->valid, 0, (size_t)n);
  else o->valid = NULL;
  if (e->filled >= n) return;
  if (v->is_null) {   /* zeros and empty strings in every array */
    memset(o->i, 0, (size_t)n * 8);
    for (int i = 0; i < n; i++) { o->s[i] = ""; o->sl[i] = 0; }
    e->filled = n;
    return;
  }
  switch (v->type) {
    case TL_INT: case TL_TIMESTAMP: for (int i = 0; i < n; i++) o->i[i] = v->v.i; break;
    case TL_FLOAT: for (int i = 0; i < n; i++) o->f[i] = v->v.f; break;
    case TL_DATE: for (int i = 0; i < n; i++) o->d[i] = v->v.d; break;
    case TL_BOOL: memset(o->b, v->v.b != 0, (size_t)n); break;
    case TL_STRING:
      for (int i = 0; i < n; i++) { o->s[i] = v->v.s.ptr; o->sl[i] = (int64_t)v->v.s.len; }
      break;
  }
  e->filled = n;
}

static int cmp_result(expr_op op, int c) {
  switch (op) {
    case OP_EQ: return c == 0;
    case OP_NE: return c != 0;
    case OP_LT: return c < 0;
    case OP_LE: return c <= 0;
    case OP_GT: return c > 0;
    default: return c >= 0;
  }
}

/* One loop per comparison operator, over x[i] and y[i]. */
#define COMPARE(cx, X, Y) do { \
    switch (e->op) { \
      case OP_EQ: ROWS(cx, i, ov[i] = (X) == (Y)); break; \
      case OP_NE: ROWS(cx, i, ov[i] = (X) != (Y)); break; \
      case OP_LT: ROWS(cx, i, ov[i] = (X) < (Y)); break; \
      case OP_LE: ROWS(cx, i, ov[i] = (X) <= (Y)); break; \
      case OP_GT: ROWS(cx, i, ov[i] = (X) > (Y)); break; \
      default: ROWS(cx, i, ov[i] = (X) >= (Y)); break; \
    } \
  } while (0)

/* The operand of a comparison that is a dictionary column compared with a
** non-null string constant, or -1. */
static int dict_side(const expr *e, const vec *a, const vec *b) {
  if (a->type != TL_STRING || (!a->codes && !b->codes)) return -1;
  int c = a->codes ? 0 : 1;
  const expr *lit = e->args[1 - c];
  return lit->kind == E_LIT && !lit->lit.is_null ? c : -1;
}

/* A date (days) against a timestamp (microseconds), without multiplying
** the days out: no overflow for any date, nor for what a null slot holds. */
static int cmp_date_ts(int32_t d, int64_t t) {
  const int64_t day = 86400000000LL;
  int64_t td = t / day - (t % day < 0);          /* the day t falls on */
  if (d != td) return d < td ? -1 : 1;
  int64_t dd = td * day;                         /* within range: td * day <= t */
  return (dd > t) - (dd < t);
}

static tl_status eval_compare(expr *e, const vec *a, const vec *b, evalctx *cx) {
  vec *o = &e->out;
  uint8_t *ov = o->b;
  if (!a->type || !b->type) { all_null(o, cx); return TL_OK; }
  int ds;
  if (a->type == TL_INT && b->type == TL_INT) {
    const int64_t *x = a->i, *y = b->i;
    COMPARE(cx, x[i], y[i]);
  } else if (is_num(a->type)) {
    ROWS(cx, i, {
      double x = num_at(a, i), y = num_at(b, i);
      /* NaN is equal to NaN and greater than every number (as DuckDB) */
      int c = (x != x || y != y) ? (x != x) - (y != y) : (x > y) - (x < y);
      ov[i] = (uint8_t)cmp_result(e->op, c);
    });
  } else if ((ds = dict_side(e, a, b)) >= 0) {
    /* a dictionary column against a constant: compare once per entry */
    const vec *cv = ds == 0 ? a : b;
    if (e->cache_dict != cv->dict) {
      const tl_column *d = cv->dict;
      uint8_t *tab = tl_realloc(e->cache_tab, (size_t)d->length + 1);
      if (!tab) return tl_error_oom(cx->err, cx->op);
      const expr *lit = e->args[1 - ds];
      const char *ls = lit->lit.v.s.ptr;
      int64_t ll = (int64_t)lit->lit.v.s.len;
      for (int64_t k = 0; k < d->length; k++) {
        size_t dl;
        const char *ds_ = tl_column_string_at(d, k, &dl);
        size_t m = (size_t)((int64_t)dl < ll ? (int64_t)dl : ll);
        int c = m ? memcmp(ds_, ls, m) : 0;
        if (!c) c = ((int64_t)dl > ll) - ((int64_t)dl < ll);
        tab[k] = (uint8_t)cmp_result(e->op, ds == 0 ? c : -c);
      }
      e->cache_tab = tab;
      e->cache_dict = d;
    }
    const int32_t *codes = cv->codes;
    const uint8_t *tab = e->cache_tab;
    ROWS(cx, i, ov[i] = tab[codes[i]]);
  } else if (a->type == TL_STRING) {
    ROWS(cx, i, {
      int64_t la = a->sl[i], lb = b->sl[i];
      int c;
      if ((e->op == OP_EQ || e->op == OP_NE) && la != lb) c = 1;
      else {
        size_t m = (size_t)(la < lb ? la : lb);
        c = m ? memcmp(a->s[i], b->s[i], m) : 0;   /* a null row's pointer may be NULL */
        if (!c) c = (la > lb) - (la < lb);
      }
      ov[i] = (uint8_t)cmp_result(e->op, c);
    });
  } else if (a->type == TL_BOOL) {
    ROWS(cx, i, ov[i] = (uint8_t)cmp_result(e->op, a->b[i] - b->b[i]));
  } else if (a->type == TL_DATE && b->type == TL_DATE) {
    const int32_t *x = a->d, *y = b->d;
    COMPARE(cx, x[i], y[i]);
  } else if (a->type == TL_DATE) {   /* a date with a timestamp */
    ROWS(cx, i, ov[i] = (uint8_t)cmp_result(e->op, cmp_date_ts(a->d[i], b->i[i])));
  } else if (b->type == TL_DATE) {
    ROWS(cx, i, ov[i] = (uint8_t)cmp_result(e->op, -cmp_date_ts(b->d[i], a->i[i])));
  } else {   /* timestamps */
    ROWS(cx, i, ov[i] = (uint8_t)cmp_result(e->op, (a->i[i] > b->i[i]) - (a->i[i] < b->i[i])));
  }
  o->valid = and_valid(o, a, b, cx);
  return TL_OK;
}

static tl_status overflow(evalctx *cx, const expr *e, int i) {
  return tl_error_set(cx->err, TL_ERANGE, "%s: integer overflow in '%s' at row %lld", cx->op,
                      e->op == OP_ADD ? "+" : e->op == OP_SUB ? "-" : e->op == OP_IDIV ? "//" : "*",
                      (long long)(cx->start + i + 1));
}

/* Integer +, - or *: computed without a test per row; only when some valid
** row overflowed is the first one looked for. Null rows hold 0. */
#define INT_ARITH(OVF) do { \
    int bad = 0; \
    if (valid) ROWS(cx, i, bad |= OVF(x[i], y[i], &r[i]) & valid[i]; r[i] &= -(int64_t)valid[i]); \
    else ROWS(cx, i, bad |= OVF(x[i], y[i], &r[i])); \
    if (bad) { \
      int64_t t_; \
      ROWS(cx, i, if ((!valid || valid[i]) && OVF(x[i], y[i], &t_)) return overflow(cx, e, i)); \
    } \
  } while (0)

static tl_status eval_arith(expr *e, const vec *a, const vec *b, evalctx *cx) {
  vec *o = &e->out;
  if (!a->type || !b->type) { all_null(o, cx); return TL_OK; }
  uint8_t *valid = and_valid(o, a, b, cx);
  if (a->type == TL_DATE || a->type == TL_TIMESTAMP || b->type == TL_DATE ||
      b->type == TL_TIMESTAMP) {
    o->valid = valid;
    return tl_expr_time_arith(e, a, b, cx);
  }
  if (e->type == TL_INT) {
    const int64_t *x = a->i, *y = b->i;
    int64_t *r = o->i;
    switch (e->op) {
      case OP_ADD: INT_ARITH(__builtin_add_overflow); break;
      case OP_SUB: INT_ARITH(__builtin_sub_overflow); break;
      case OP_MUL: INT_ARITH(__builtin_mul_overflow); break;
      default:   /* // and % */
        ROWS(cx, i, {
          if (valid && !valid[i]) { r[i] = 0; continue; }
          if (y[i] == 0) {   /* division by zero gives null */
            if (!valid) { memset(o->valid, 1, (size_t)cx->n); valid = o->valid; }
            valid[i] = 0;
            r[i] = 0;
          } else if (y[i] == -1) {
            if (e->op == OP_IDIV && x[i] == INT64_MIN) return overflow(cx, e, i);
            r[i] = e->op == OP_MOD ? 0 : -x[i];
          } else {
            int64_t q = x[i] / y[i], m = x[i] % y[i];
            if (m != 0 && ((m ^ y[i]) < 0)) { q--; m += y[i]; }   /* floor, as Lua */
            r[i] = e->op == OP_MOD ? m : q;
          }
        });
    }
    o->valid = valid;
    return TL_OK;
  }
  double *r = o->f;
  if (e->op == OP_ADD || e->op == OP_SUB || e->op == OP_MUL) {
    /* one tight loop per pair of operand types: no test per value */
    const double *fx = a->type == TL_FLOAT ? a->f : NULL, *fy = b->type == TL_FLOAT ? b->f : NULL;
    const int64_t *ix = a->i, *iy = b->i;
#define ARITH(X, Y) do { \
      if (e->op == OP_ADD) ROWS(cx, i, r[i] = (X) + (Y)); \
      else if (e->op == OP_SUB) ROWS(cx, i, r[i] = (X) - (Y)); \
      else ROWS(cx, i, r[i] = (X) * (Y)); \
    } while (0)
    if (fx && fy) ARITH(fx[i], fy[i]);
    else if (fx) ARITH(fx[i], (double)iy[i]);
    else if (fy) ARITH((double)ix[i], fy[i]);
    else ARITH((double)ix[i], (double)iy[i]);
#undef ARITH
    o->valid = valid;
    return TL_OK;
  }
  ROWS(cx, i, {
    double x = num_at(a, i), y = num_at(b, i);
    switch (e->op) {
      case OP_DIV: case OP_IDIV: case OP_MOD:
        if (y == 0) {
          if (!valid) { memset(o->valid, 1, (size_t)cx->n); valid = o->valid; }
          valid[i] = 0;
          r[i] = 0;
        } else if (e->op == OP_DIV) r[i] = x / y;
        else if (e->op == OP_IDIV) r[i] = floor(x / y);
        else { double m = fmod(x, y); if (m != 0 && ((m < 0) != (y < 0))) m += y; r[i] = m; }
        break;
      case OP_POW: r[i] = pow(x, y); break;
      default: break;
    }
  });
  o->valid = valid;
  return TL_OK;
}

/* Text of a value for '..': numbers as Lua writes them. */
static size_t value_text(const vec *v, int i, char *buf, size_t size, const char **ptr) {
  tl_scalar s;
  memset(&s, 0, sizeof s);
  s.type = v->type;
  switch (v->type) {
    case TL_STRING: *ptr = v->s[i]; return (size_t)v->sl[i];
    case TL_INT: case TL_TIMESTAMP: s.v.i = v->i[i]; break;
    case TL_FLOAT: s.v.f = v->f[i]; break;
    case TL_DATE: s.v.d = v->d[i]; break;
    default: s.v.b = v->b[i];
  }
  size_t n = tl_scalar_format(&s, buf, size);
  *ptr = buf;
  return n < size ? n : size - 1;
}

/* String results: built in e->sbuf, then pointed at (the buffer may move
** while it grows, so offsets are kept until the end). */
static tl_status eval_concat(expr *e, const vec *a, const vec *b, evalctx *cx) {
  vec *o = &e->out;
  if (!a->type || !b->type) {
    all_null(o, cx);
    ROWS(cx, i, o->s[i] = NULL; o->sl[i] = 0);
    return TL_OK;
  }
  o->valid = and_valid(o, a, b, cx);
  size_t used = 0;
  ROWS(cx, i, {
    o->sl[i] = 0;
    if (o->valid && !o->valid[i]) { o->s[i] = NULL; continue; }
    char b1[64], b2[64];
    const char *p1, *p2;
    size_t n1 = value_text(a, i, b1, sizeof b1, &p1), n2 = value_text(b, i, b2, sizeof b2, &p2);
    if (!sbuf_reserve(e, used, n1 + n2)) return tl_error_oom(cx->err, cx->op);
    if (n1 + n2) {   /* while every result is empty there is no buffer */
      memcpy(e->sbuf + used, p1, n1);
      memcpy(e->sbuf + used + n1, p2, n2);
    }
    o->s[i] = (const char *)(uintptr_t)used;
    o->sl[i] = (int64_t)(n1 + n2);
    used += n1 + n2;
  });
  ROWS(cx, i, if (!o->valid || o->valid[i]) o->s[i] = e->sbuf ? e->sbuf + (uintptr_t)o->s[i] : "");
  return TL_OK;
}

/* and, or: the second operand runs only on the rows the first leaves open
** (true or null for and, false or null for or), in three-valued logic. */
static tl_status eval_logic(expr *e, evalctx *cx) {
  vec *o = &e->out;
  int isand = e->op == OP_AND;
  uint8_t win = isand ? 0 : 1;   /* the value of the first operand that decides */
  TL_TRY(tl_expr_eval_node(e->args[0], cx));
  const vec *a = &e->args[0]->out, *b = &e->args[1]->out;
  evalctx sub = *cx;
  if (short_circuit() && a->type) {
    int *rows = e->selbuf, m = 0;
    if (!a->valid) ROWS(cx, i, rows[m] = i; m += a->b[i] != win);
    else ROWS(cx, i, rows[m] = i; m += !(a->valid[i] & (a->b[i] == win)));
    sub = narrow(cx, rows, m);
  }
  int all = cx->sel ? cx->nsel : cx->n, open = sub.sel ? sub.nsel : sub.n;
  int evb = open > 0;
  if (evb) TL_TRY(tl_expr_eval_node(e->args[1], &sub));
  int nulls = !a->type || a->valid || (evb && (!b->type || b->valid));
  o->valid = nulls ? o->valid : NULL;
  if (open < all) {   /* the rows the first operand decided */
    if (!cx->sel) {
      memset(o->b, win, (size_t)cx->n);
      if (nulls) memset(o->valid, 1, (size_t)cx->n);
    } else {
      ROWS(cx, i, o->b[i] = win);
      if (nulls) ROWS(cx, i, o->valid[i] = 1);
    }
  }
  if (!evb) return TL_OK;
  if (!nulls) {
    const uint8_t *x = a->b, *y = b->b;
    if (isand) ROWS(&sub, i, o->b[i] = x[i] & y[i]);
    else ROWS(&sub, i, o->b[i] = x[i] | y[i]);
    return TL_OK;
  }
  uint8_t *valid = o->valid;
  ROWS(&sub, i, {
    int av = valid_at(a, i), bv = valid_at(b, i), x = av && a->b[i], y = bv && b->b[i];
    if (av && bv) { o->b[i] = (uint8_t)(isand ? (x & y) : (x | y)); valid[i] = 1; continue; }
    int decided = isand ? ((av && !x) || (bv && !y)) : (x || y);
    valid[i] = (uint8_t)decided;
    o->b[i] = (uint8_t)(isand ? 0 : decided);
  });
  return TL_OK;
}

tl_status tl_expr_eval_node(expr *e, evalctx *cx) {
  reset_out(e);
  vec *o = &e->out;
  o->n = cx->n;
  o->type = e->type;
  switch (e->kind) {
    case E_LIT:
      fill_literal(e, cx->n);
      return TL_OK;
    case E_COL:
      load_column(e, cx->cols[e->col], cx);
      return TL_OK;
    case E_AGG:
      load_column(e, cx->slots[e->col], cx);
      return TL_OK;
    case E_NEG: {
      TL_TRY(tl_expr_eval_node(e->args[0], cx));
      const vec *a = &e->args[0]->out;
      if (!a->type) { all_null(o, cx); return TL_OK; }
      o->valid = copy_valid(o, a, cx);
      if (e->type == TL_INT) {
        ROWS(cx, i, {
          if (a->i[i] == INT64_MIN && (!o->valid || o->valid[i]))
            return tl_error_set(cx->err, TL_ERANGE, "%s: integer overflow in '-' at row %lld",
                                cx->op, (long long)(cx->start + i + 1));
          o->i[i] = (int64_t)(0 - (uint64_t)a->i[i]);   /* no UB in null slots */
        });
      } else {
        ROWS(cx, i, o->f[i] = -a->f[i]);
      }
      return TL_OK;
    }
    case E_NOT: {
      TL_TRY(tl_expr_eval_node(e->args[0], cx));
      const vec *a = &e->args[0]->out;
      if (!a->type) { all_null(o, cx); return TL_OK; }
      o->valid = copy_valid(o, a, cx);
      ROWS(cx, i, o->b[i] = !a->b[i]);
      return TL_OK;
    }
    case E_BIN: {
      if (e->op == OP_AND || e->op == OP_OR) return eval_logic(e, cx);
      TL_TRY(tl_expr_eval_node(e->args[0], cx));
      TL_TRY(tl_expr_eval_node(e->args[1], cx));
      const vec *a = &e->args[0]->out, *b = &e->args[1]->out;
      switch (e->op) {
        case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE:
          return eval_compare(e, a, b, cx);
        case OP_CONCAT:
          return eval_concat(e, a, b, cx);
        default:
          return eval_arith(e, a, b, cx);
      }
    }
    case E_CALL:
      return tl_expr_eval_call(e, cx);
  }
  return TL_OK;
}

tl_status tl_expr_eval(expr *e, tl_column *const *cols, tl_column *const *slots,
                       int64_t start, int n, const char *op, tl_error *err) {
  evalctx cx = { cols, slots, start, n, NULL, n, op, err, 0 };
  return tl_expr_eval_node(e, &cx);
}

/* Lists in out[] the rows of cx where e is true; out may be cx->sel. and
** and or work on lists of rows: the second operand of and runs on the rows
** where the first is true, that of or on those where it is not. */
static tl_status select_rows(expr *e, evalctx *cx, int *out, int *count) {
  if (e->kind == E_BIN && (e->op == OP_AND || e->op == OP_OR) && short_circuit()) {
    int m1, m2 = 0, m3 = 0;
    if (e->op == OP_AND) {
      TL_TRY(select_rows(e->args[0], cx, out, &m1));
      if (!m1) { *count = 0; return TL_OK; }
      evalctx sub = narrow(cx, out, m1);
      return select_rows(e->args[1], &sub, out, count);
    }
    int *yes = e->selbuf, *rest = e->selbuf + TL_VEC, k = 0;
    TL_TRY(select_rows(e->args[0], cx, yes, &m1));
    ROWS(cx, i, if (k < m1 && yes[k] == i) k++; else rest[m2++] = i);
    if (m2) {
      evalctx sub = narrow(cx, rest, m2);
      TL_TRY(select_rows(e->args[1], &sub, rest, &m3));
    }
    int p = 0, q = 0;   /* the two lists merged in order */
    for (k = 0; p < m1 || q < m3; k++)
      out[k] = q >= m3 || (p < m1 && yes[p] < rest[q]) ? yes[p++] : rest[q++];
    *count = k;
    return TL_OK;
  }
  TL_TRY(tl_expr_eval_node(e, cx));
  const vec *v = &e->out;
  int k = 0;
  if (!v->type) { *count = 0; return TL_OK; }
  if (v->valid) ROWS(cx, i, out[k] = i; k += v->b[i] & v->valid[i]);
  else ROWS(cx, i, out[k] = i; k += v->b[i]);   /* branch-free */
  *count = k;
  return TL_OK;
}

tl_status tl_expr_select(expr *e, tl_column *const *cols, tl_column *const *slots,
                         int64_t start, int n, int *sel, int *nsel, const char *op,
                         tl_error *err) {
  evalctx cx = { cols, slots, start, n, NULL, n, op, err, 0 };
  *nsel = 0;
  return n > 0 ? select_rows(e, &cx, sel, nsel) : TL_OK;
}
