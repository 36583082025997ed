/*
** expr.c -- the expression language of filter, mutate and agg: a Pratt
** parser with Lua's precedences, a binder that resolves columns and checks
** types before any row is read and folds constants, and an evaluator that
** works a vector of TL_VEC rows at a time over a selection of its rows.
**
** core/expr: the expression language. This file parses, binds and
** evaluates; registry.c is the one table of built-in functions that the
** binder, the window pass of mutate and the bindings' help all read. It
** stands on base only.
*/
#define _GNU_SOURCE   /* memmem */
#include <ctype.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/parse.h"
#include "base/error.h"
#include "expr.h"
#include "base/pool.h"
#include "base/table.h"
#include "registry.h"

/* ---------------------------------------------------------------------------
** Lexer and parser
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

#define MAX_DEPTH 200
#define MAX_HEIGHT 1000    /* of a tree: binding and evaluation recurse over it */
#define MAX_SOURCE ((size_t)1 << 24)   /* bytes of an expression: positions are ints */

static tl_status perr(parser *ps, int pos, const char *fmt, const char *a) {
  char what[256];
  snprintf(what, sizeof what, fmt, a);
  return tl_error_expr(ps->err, TL_EPARSE, ps->op, ps->src, pos, what);
}

static int is_name_start(int c) { return isalpha(c) || c == '_'; }
static int is_name_char(int c) { return isalnum(c) || c == '_'; }

static tl_status lex(parser *ps) {
  const char *p = ps->p;
  tl_free(ps->sval);
  ps->sval = NULL;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  ps->tstart = p;
  ps->tpos = (int)(p - ps->src) + 1;
  if (!*p) { ps->tok = T_EOF; ps->p = p; return TL_OK; }
  if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) {
    const char *s = p;
    while (isalnum((unsigned char)*p) || *p == '.' ||
           ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E')))
      p++;
    size_t n = (size_t)(p - s);
    int k = tl_parse_int(s, n, &ps->ival);
    if (k == 1) ps->tok = T_INT;
    else if (tl_parse_float(s, n, &ps->fval) && !isalpha((unsigned char)*s)) ps->tok = T_FLOAT;
    else {
      /* "007" is a fine number in an expression */
      int ok = 1;
      int64_t v = 0;
      for (size_t i = 0; i < n && ok; i++) {
        if (!isdigit((unsigned char)s[i]) || v > (INT64_MAX - 9) / 10) ok = 0;
        else v = v * 10 + (s[i] - '0');
      }
      if (!ok) {
        char num[64];
        snprintf(num, sizeof num, "%.*s", (int)(n < 40 ? n : 40), s);
        return perr(ps, ps->tpos, "malformed number '%s'", num);
      }
      ps->tok = T_INT;
      ps->ival = v;
    }
    ps->p = p;
    return TL_OK;
  }
  if (is_name_start((unsigned char)*p)) {
    const char *s = p;
    while (is_name_char((unsigned char)*p)) p++;
    ps->sval = tl_strndup(s, (size_t)(p - s));
    if (!ps->sval) return tl_error_oom(ps->err, ps->op);
    ps->tok = T_NAME;
    ps->p = p;
    return TL_OK;
  }
  if (*p == '\'' || *p == '"' || *p == '`') {
    char q = *p++;
    size_t cap = 16, n = 0;
    char *buf = tl_alloc(cap);
    if (!buf) return tl_error_oom(ps->err, ps->op);
    for (;;) {
      char c = *p;
      if (!c) {
        tl_free(buf);
        return perr(ps, ps->tpos, q == '`' ? "unfinished quoted name%s" : "unfinished string%s", "");
      }
      p++;
      if (c == q) break;
      if (c == '\\' && q != '`') {
        c = *p ? *p++ : '\\';
        switch (c) {
          case 'n': c = '\n'; break;
          case 't': c = '\t'; break;
          case 'r': c = '\r'; break;
          case '0': c = '\0'; break;
          default: break;   /* \\ \' \" stand for themselves */
        }
      }
      if (n + 1 >= cap) {
        char *nb = tl_realloc(buf, cap *= 2);
        if (!nb) { tl_free(buf); return tl_error_oom(ps->err, ps->op); }
        buf = nb;
      }
      buf[n++] = c;
    }
    buf[n] = '\0';
    ps->sval = buf;
    ps->tlen = n;
    ps->tok = q == '`' ? T_QNAME : T_STR;
    ps->p = p;
    return TL_OK;
  }
  static const char *const ops[] = {
    "//", "..", "==", "~=", "!=", "<=", ">=", "+", "-", "*", "/", "%", "^", "<", ">",
    "(", ")", ",", "="
  };
  for (size_t k = 0; k < sizeof ops / sizeof *ops; k++) {
    size_t n = strlen(ops[k]);
    if (strncmp(p, ops[k], n) == 0) {
      memcpy(ps->opname, ops[k], n + 1);
      ps->tok = T_OP;
      ps->p = p + n;
      return TL_OK;
    }
  }
  char bad[8];
  int n = 1;
  while (n < 4 && ((unsigned char)p[n] & 0xc0) == 0x80) n++;   /* a whole UTF-8 character */
  snprintf(bad, sizeof bad, "%.*s", n, p);
  return perr(ps, ps->tpos, "unexpected '%s'", bad);
}

static int is_op(const parser *ps, const char *op) {
  return ps->tok == T_OP && strcmp(ps->opname, op) == 0;
}

static int is_word(const parser *ps, const char *w) {
  return ps->tok == T_NAME && strcmp(ps->sval, w) == 0;
}

static expr *node(parser *ps, expr_kind kind, int pos) {
  expr *e = tl_calloc(1, sizeof *e);
  if (!e) { tl_error_oom(ps->err, ps->op); return NULL; }
  e->kind = kind;
  e->pos = pos;
  e->col = -1;
  return e;
}

void tl_expr_free(expr *e) {
  if (!e) return;
  for (int k = 0; k < e->nargs; k++) tl_expr_free(e->args[k]);
  tl_free(e->args);
  tl_free(e->litbuf);
  tl_free(e->name);
  tl_free(e->scratch);
  tl_free(e->selbuf);
  tl_free(e->sbuf);
  tl_free(e->cache_tab);
  tl_free(e);
}

static tl_status add_arg(parser *ps, expr *e, expr *a) {
  expr **na = tl_realloc(e->args, (size_t)(e->nargs + 1) * sizeof *na);
  if (!na) { tl_expr_free(a); return tl_error_oom(ps->err, ps->op); }
  e->args = na;
  e->args[e->nargs++] = a;
  return TL_OK;
}

static const char *token_text(parser *ps, char *buf, size_t size) {
  switch (ps->tok) {
    case T_EOF: return "end of expression";
    case T_OP: snprintf(buf, size, "'%s'", ps->opname); return buf;
    default: snprintf(buf, size, "'%.*s'", (int)((ps->p - ps->tstart) < 30 ? (ps->p - ps->tstart) : 30), ps->tstart); return buf;
  }
}

static tl_status expect(parser *ps, const char *op, const char *what) {
  if (is_op(ps, op)) return lex(ps);
  char tb[64], msg[128];
  snprintf(msg, sizeof msg, "expected %s, found %s", what, token_text(ps, tb, sizeof tb));
  return perr(ps, ps->tpos, "%s", msg);
}

static tl_status subexpr(parser *ps, int limit, expr **out);

static tl_status simple(parser *ps, expr **out) {
  char tb[64];
  expr *e = NULL;
  int pos = ps->tpos;
  if (++ps->depth > MAX_DEPTH)
    return perr(ps, pos, "expression nested deeper than %s levels", "200");
  switch (ps->tok) {
    case T_INT: case T_FLOAT:
      if (!(e = node(ps, E_LIT, pos))) return TL_ENOMEM;
      e->lit.type = ps->tok == T_INT ? TL_INT : TL_FLOAT;
      if (ps->tok == T_INT) e->lit.v.i = ps->ival; else e->lit.v.f = ps->fval;
      break;
    case T_STR:
      if (!(e = node(ps, E_LIT, pos))) return TL_ENOMEM;
      e->lit.type = TL_STRING;
      e->litbuf = ps->sval;
      e->lit.v.s.ptr = ps->sval;
      e->lit.v.s.len = ps->tlen;
      ps->sval = NULL;
      break;
    case T_QNAME:
      if (!(e = node(ps, E_COL, pos))) return TL_ENOMEM;
      e->name = ps->sval;
      ps->sval = NULL;
      break;
    case T_NAME:
      if (is_word(ps, "true") || is_word(ps, "false")) {
        if (!(e = node(ps, E_LIT, pos))) return TL_ENOMEM;
        e->lit.type = TL_BOOL;
        e->lit.v.b = is_word(ps, "true");
      } else if (is_word(ps, "nil") || is_word(ps, "null")) {
        if (!(e = node(ps, E_LIT, pos))) return TL_ENOMEM;
        e->lit.is_null = 1;
      } else {
        if (!(e = node(ps, E_COL, pos))) return TL_ENOMEM;
        e->name = ps->sval;
        ps->sval = NULL;
        tl_status st = lex(ps);
        if (st == TL_OK && is_op(ps, "(")) {
          e->kind = E_CALL;
          st = lex(ps);
          int h = 0;
          while (st == TL_OK && !is_op(ps, ")")) {
            expr *a;
            if ((st = subexpr(ps, 0, &a)) != TL_OK) break;
            if (ps->height + 1 > h) h = ps->height + 1;
            if ((st = add_arg(ps, e, a)) != TL_OK) break;
            if (is_op(ps, ",")) st = lex(ps);
            else if (!is_op(ps, ")")) st = expect(ps, ")", "')' or ','");
          }
          if (st == TL_OK) st = lex(ps);
          ps->height = h;
        } else {
          ps->height = 0;
        }
        if (st != TL_OK) { tl_expr_free(e); return st; }
        ps->depth--;
        *out = e;
        return TL_OK;
      }
      break;
    case T_OP:
      if (is_op(ps, "(")) {
        tl_status st = lex(ps);
        if (st == TL_OK) st = subexpr(ps, 0, &e);
        if (st == TL_OK && (st = expect(ps, ")", "')'")) != TL_OK) tl_expr_free(e);
        if (st == TL_OK) { ps->depth--; *out = e; }
        return st;
      }
      /* fall through */
    default:
      return perr(ps, pos, "unexpected %s", token_text(ps, tb, sizeof tb));
  }
  tl_status st = lex(ps);
  if (st != TL_OK) { tl_expr_free(e); return st; }
  ps->depth--;
  ps->height = 0;
  *out = e;
  return TL_OK;
}

typedef struct binop { const char *text; expr_op op; int left, right; } binop;

static const binop binops[] = {
  { "+", OP_ADD, 10, 10 }, { "-", OP_SUB, 10, 10 }, { "*", OP_MUL, 11, 11 },
  { "/", OP_DIV, 11, 11 }, { "//", OP_IDIV, 11, 11 }, { "%", OP_MOD, 11, 11 },
  { "^", OP_POW, 14, 13 }, { "..", OP_CONCAT, 9, 8 }, { "==", OP_EQ, 3, 3 },
  { "~=", OP_NE, 3, 3 }, { "!=", OP_NE, 3, 3 }, { "<", OP_LT, 3, 3 }, { "<=", OP_LE, 3, 3 },
  { ">", OP_GT, 3, 3 }, { ">=", OP_GE, 3, 3 },
};
#define UNARY_PRIORITY 12

static const binop *current_binop(const parser *ps) {
  static const binop b_and = { "and", OP_AND, 2, 2 }, b_or = { "or", OP_OR, 1, 1 };
  if (is_word(ps, "and")) return &b_and;
  if (is_word(ps, "or")) return &b_or;
  if (ps->tok != T_OP) return NULL;
  for (size_t k = 0; k < sizeof binops / sizeof *binops; k++)
    if (strcmp(binops[k].text, ps->opname) == 0) return &binops[k];
  return NULL;
}

static tl_status subexpr(parser *ps, int limit, expr **out) {
  expr *e = NULL;
  tl_status st;
  int pos = ps->tpos;
  if (is_word(ps, "not") || is_op(ps, "-")) {
    expr_kind k = is_op(ps, "-") ? E_NEG : E_NOT;
    if (++ps->depth > MAX_DEPTH)
      return perr(ps, pos, "expression nested deeper than %s levels", "200");
    expr *a;
    if ((st = lex(ps)) != TL_OK || (st = subexpr(ps, UNARY_PRIORITY, &a)) != TL_OK) return st;
    ps->depth--;
    ps->height++;
    if (!(e = node(ps, k, pos))) { tl_expr_free(a); return TL_ENOMEM; }
    if ((st = add_arg(ps, e, a)) != TL_OK) { tl_expr_free(e); return st; }
  } else if ((st = simple(ps, &e)) != TL_OK) {
    return st;
  }
  const binop *b;
  int h = ps->height;
  while ((b = current_binop(ps)) && b->left > limit) {
    int opos = ps->tpos;
    expr *r, *n;
    if (++ps->chain > MAX_HEIGHT) {   /* "a .. b .. c ..." recurses here */
      tl_expr_free(e);
      return perr(ps, opos, "more than %s operators in a chain (split the expression into "
                  "several definitions)", "1000");
    }
    st = lex(ps);
    if (st == TL_OK) st = subexpr(ps, b->right, &r);
    ps->chain--;
    if (st != TL_OK) {
      tl_expr_free(e);
      return st;
    }
    /* a chain of operators makes a deep tree without nesting */
    h = (h > ps->height ? h : ps->height) + 1;
    if (h > MAX_HEIGHT) {
      tl_expr_free(e);
      tl_expr_free(r);
      return perr(ps, opos, "more than %s operators in a chain (split the expression into "
                  "several definitions)", "1000");
    }
    if (!(n = node(ps, E_BIN, opos))) { tl_expr_free(e); tl_expr_free(r); return TL_ENOMEM; }
    n->op = b->op;
    if ((st = add_arg(ps, n, e)) != TL_OK) { tl_expr_free(n); tl_expr_free(r); return st; }
    if ((st = add_arg(ps, n, r)) != TL_OK) { tl_expr_free(n); return st; }
    e = n;
  }
  ps->height = h;
  *out = e;
  return TL_OK;
}

tl_status tl_expr_parse(const char *src, const char *op, char **name, expr **out,
                        tl_error *err) {
  parser ps;
  memset(&ps, 0, sizeof ps);
  ps.src = ps.p = src;
  ps.op = op;
  ps.err = err;
  if (name) *name = NULL;
  if (strnlen(src, MAX_SOURCE + 1) > MAX_SOURCE)
    return tl_error_set(err, TL_ELIMIT, "%s: expression longer than %zu bytes", op, MAX_SOURCE);
  tl_status st = lex(&ps);
  if (st == TL_OK && name && (ps.tok == T_NAME || ps.tok == T_QNAME)) {
    /* "name = expr": look ahead for a lone '=' */
    parser save = ps;
    char *nm = ps.sval;
    ps.sval = NULL;
    st = lex(&ps);
    if (st == TL_OK && is_op(&ps, "=")) {
      *name = nm;
      st = lex(&ps);
    } else {
      tl_free(ps.sval);
      ps = save;          /* back to the name, as the start of the expression */
      ps.sval = NULL;     /* save.sval is nm: owned here now */
      if (st == TL_OK) ps.sval = nm; else tl_free(nm);
    }
  }
  if (st == TL_OK && ps.tok == T_EOF) st = perr(&ps, ps.tpos, "expected an expression%s", "");
  expr *e = NULL;
  if (st == TL_OK) st = subexpr(&ps, 0, &e);
  if (st == TL_OK && ps.tok != T_EOF) {
    char tb[64];
    st = perr(&ps, ps.tpos, "unexpected %s", token_text(&ps, tb, sizeof tb));
    tl_expr_free(e);
  }
  tl_free(ps.sval);
  if (st != TL_OK) {
    if (name) { tl_free(*name); *name = NULL; }
    return st;
  }
  *out = e;
  return TL_OK;
}

char *tl_expr_default_name(const char *src) {
  size_t n = strlen(src);
  char *d = tl_alloc(n + 1);
  if (!d) return NULL;
  size_t k = 0;
  int sep = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)src[i];
    if (isalnum(c) || c == '_' || c >= 0x80) {
      if (sep && k) d[k++] = '_';
      d[k++] = (char)c;
      sep = 0;
    } else {
      sep = 1;
    }
  }
  d[k] = '\0';
  if (!k) { tl_free(d); return tl_strdup("value"); }
  return d;
}

/* ---------------------------------------------------------------------------
** Binding and type checking
*/
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

static const char *tname(tl_type t) { return t ? tl_type_name(t) : "null"; }
static int is_num(tl_type t) { return t == TL_INT || t == TL_FLOAT; }
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
  if (f->kind == TL_FN_AGGREGATE) {
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
      default:   /* min, max, first, last */
        if (!at) return berr(b, e, "%s of a bare null%s", f->name, "");
        e->type = at;
    }
    return add_slot(b, e);
  }
  for (int k = 0; k < e->nargs; k++) TL_TRY(bind(b, e->args[k]));
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
    case F_LOWER: case F_UPPER: case F_TRIM: case F_LEN:
      if (a0 && a0 != TL_STRING) return berr(b, e, "%s of %s (a string is needed)", f->name, tname(a0));
      e->type = bi->id == F_LEN ? TL_INT : TL_STRING;
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

/* ---------------------------------------------------------------------------
** Settings that change how a plan runs, never what it computes. The suite
** runs the same expressions under each of them and compares.
*/
static atomic_int vector_rows = TL_VEC;
static atomic_int folding = 1;
static atomic_int shortcut = 1;

int tl_expr_set_vector_size(int n) {
  return atomic_exchange(&vector_rows, n < 1 || n > TL_VEC ? TL_VEC : n);
}

int tl_expr_vector_size(void) { return atomic_load_explicit(&vector_rows, memory_order_relaxed); }

int tl_expr_set_folding(int on) { return atomic_exchange(&folding, on != 0); }

int tl_expr_set_short_circuit(int on) { return atomic_exchange(&shortcut, on != 0); }

static int short_circuit(void) { return atomic_load_explicit(&shortcut, memory_order_relaxed); }

/* ---------------------------------------------------------------------------
** Scratch
*/

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

/* Scratch buffers for e->out: every array a vector of its type can need. */
static tl_status alloc_scratch(expr *e, tl_error *err, const char *op) {
  for (int k = 0; k < e->nargs; k++)
    TL_TRY(alloc_scratch(e->args[k], err, op));
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
static void drop_scratch(expr *e) {
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
static evalctx narrow(const evalctx *cx, const int *sel, int m) {
  evalctx s = *cx;
  s.sel = m == cx->n ? NULL : sel;   /* every row: the plain loops */
  s.nsel = m;
  return s;
}

static int valid_at(const vec *v, int i) { return v->type && (!v->valid || v->valid[i]); }

static double num_at(const vec *v, int i) {
  return v->type == TL_FLOAT ? v->f[i] : (double)v->i[i];
}

/* A result that is null in every row. */
static void all_null(vec *o, const evalctx *cx) {
  memset(o->valid, 0, (size_t)cx->n);
}

/* d[k] = x[k] & y[k] for n bytes, 8 at a time. */
static void and_bytes(uint8_t *d, const uint8_t *x, const uint8_t *y, size_t n) {
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

/* Row i of o as a null of type t, with a harmless value behind it. */
static void null_row(vec *o, tl_type t, int i) {
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
static void copy_row(vec *o, tl_type t, const vec *v, int i) {
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
static int sbuf_reserve(expr *e, size_t used, size_t need) {
  if (used + need <= e->sbuf_cap) return 1;
  size_t cap = e->sbuf_cap ? e->sbuf_cap : 4096;
  while (cap < used + need) cap *= 2;
  char *nb = tl_realloc(e->sbuf, cap);
  if (!nb) return 0;
  e->sbuf = nb;
  e->sbuf_cap = cap;
  return 1;
}

static tl_status eval(expr *e, evalctx *cx);

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BYTES_LE 1
#endif

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

/* Bytes src[0..n) (zero or not) as bits [start, start + n) of a bitmap. */
static void pack_bits(uint8_t *bm, int64_t start, const uint8_t *src, int n) {
  int i = 0;
#ifdef BYTES_LE
  if ((start & 7) == 0) {   /* 8 bytes make a byte of the bitmap */
    uint8_t *d = bm + (start >> 3);
    for (; i + 8 <= n; i += 8) {
      uint64_t x;
      memcpy(&x, src + i, 8);
      x = (((x & 0x7f7f7f7f7f7f7f7fULL) + 0x7f7f7f7f7f7f7f7fULL) | x) & 0x8080808080808080ULL;
      d[i >> 3] = (uint8_t)(((x >> 7) * 0x0102040810204080ULL) >> 56);
    }
  }
#endif
  for (; i < n; i++) {
    if (src[i]) TL_BIT_SET(bm, start + i);
    else TL_BIT_CLEAR(bm, start + i);
  }
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
      int c = (x > y) - (x < y);
      ov[i] = (x != x || y != y) ? (e->op == OP_NE) : (uint8_t)cmp_result(e->op, c);
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
  } else {   /* timestamps, or a date with a timestamp */
    ROWS(cx, i, {
      int64_t x = a->type == TL_DATE ? (int64_t)a->d[i] * 86400000000LL : a->i[i];
      int64_t y = b->type == TL_DATE ? (int64_t)b->d[i] * 86400000000LL : b->i[i];
      ov[i] = (uint8_t)cmp_result(e->op, (x > y) - (x < y));
    });
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

/* The byte offset of character k (0-based) of s, or len past the end. */
static int64_t utf8_offset(const char *s, int64_t len, int64_t k) {
  int64_t b = 0;
  for (; b < len; b++)
    if (((unsigned char)s[b] & 0xc0) != 0x80 && k-- == 0) return b;
  return len;
}

static int64_t days_of(const vec *v, int i) {
  if (v->type == TL_DATE) return v->d[i];
  int64_t us = v->i[i], day = 86400000000LL;
  return us >= 0 ? us / day : -(int64_t)((0 - (uint64_t)us + (uint64_t)day - 1) / (uint64_t)day);
}

/* and, or: the second operand runs only on the rows the first leaves open
** (true or null for and, false or null for or), in three-valued logic. */
static tl_status eval_logic(expr *e, evalctx *cx) {
  vec *o = &e->out;
  int isand = e->op == OP_AND;
  uint8_t win = isand ? 0 : 1;   /* the value of the first operand that decides */
  TL_TRY(eval(e->args[0], cx));
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
  if (evb) TL_TRY(eval(e->args[1], &sub));
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

/* if(c, x, y): x runs on the rows where c is true, y on the others. */
static tl_status eval_if(expr *e, evalctx *cx) {
  vec *o = &e->out;
  TL_TRY(eval(e->args[0], cx));
  const vec *c = &e->args[0]->out, *x = &e->args[1]->out, *y = &e->args[2]->out;
  int *yes = e->selbuf, *no = e->selbuf + TL_VEC, ny = 0, nn = 0;
  ROWS(cx, i, if (valid_at(c, i) && c->b[i]) yes[ny++] = i; else no[nn++] = i);
  if (short_circuit()) {
    evalctx sx = narrow(cx, yes, ny), sy = narrow(cx, no, nn);
    if (ny) TL_TRY(eval(e->args[1], &sx));
    if (nn) TL_TRY(eval(e->args[2], &sy));
  } else {
    TL_TRY(eval(e->args[1], cx));
    TL_TRY(eval(e->args[2], cx));
  }
  for (int k = 0; k < ny; k++) copy_row(o, e->type, x, yes[k]);
  for (int k = 0; k < nn; k++) copy_row(o, e->type, y, no[k]);
  return TL_OK;
}

/* coalesce(a, b, ...): each argument runs on the rows still null. */
static tl_status eval_coalesce(expr *e, evalctx *cx) {
  vec *o = &e->out;
  int sc = short_circuit();
  evalctx rest = *cx;   /* the rows still null */
  ROWS(cx, i, null_row(o, e->type, i));
  for (int k = 0; k < e->nargs; k++) {
    int m = 0, *left = e->selbuf;
    if (sc && rest.sel && rest.nsel == 0) break;
    TL_TRY(eval(e->args[k], sc ? &rest : cx));
    const vec *v = &e->args[k]->out;
    ROWS(&rest, i, if (valid_at(v, i)) copy_row(o, e->type, v, i); else left[m++] = i);
    rest = narrow(cx, left, m);
  }
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Host functions: the slow path, a call to the host per vector.
*/
struct tl_fn_result {
  expr *e;
  size_t used;         /* bytes of e->sbuf holding string results */
};

tl_status tl_fn_result_set(tl_fn_result *res, int i, const tl_scalar *v, tl_error *err) {
  expr *e = res->e;
  vec *o = &e->out;
  const char *name = e->hostfn->name;
  if (i < 0 || i >= o->n)
    return tl_error_set(err, TL_EINVAL, "%s: result row %d outside the vector", name, i + 1);
  if (v->is_null) { o->valid[i] = 0; return TL_OK; }
  if (v->type != e->type && !(e->type == TL_FLOAT && v->type == TL_INT))
    return tl_error_set(err, TL_ETYPE, "%s: a %s result, not %s", name, tname(v->type),
                        tl_type_name(e->type));
  switch (e->type) {
    case TL_INT: case TL_TIMESTAMP: o->i[i] = v->v.i; break;
    case TL_FLOAT: o->f[i] = v->type == TL_INT ? (double)v->v.i : v->v.f; break;
    case TL_DATE: o->d[i] = v->v.d; break;
    case TL_BOOL: o->b[i] = v->v.b != 0; break;
    case TL_STRING:
      if (!sbuf_reserve(e, res->used, v->v.s.len)) return tl_error_oom(err, name);
      if (v->v.s.len) memcpy(e->sbuf + res->used, v->v.s.ptr, v->v.s.len);
      o->s[i] = (const char *)(uintptr_t)res->used;   /* an offset until the end */
      o->sl[i] = (int64_t)v->v.s.len;
      res->used += v->v.s.len;
      break;
  }
  o->valid[i] = 1;
  return TL_OK;
}

int tl_expr_has_host(const expr *e) {
  if (e->hostfn) return 1;
  for (int k = 0; k < e->nargs; k++)
    if (tl_expr_has_host(e->args[k])) return 1;
  return 0;
}

/* The distinct host functions of e, up to `max` (more: returns max + 1). */
static int host_list(const expr *e, const tl_function **fs, int n, int max) {
  if (e->hostfn) {
    int k = 0;
    while (k < n && fs[k] != e->hostfn) k++;
    if (k == n) {
      if (n == max) return max + 1;
      fs[n++] = e->hostfn;
    }
  }
  for (int k = 0; k < e->nargs && n <= max; k++) n = host_list(e->args[k], fs, n, max);
  return n;
}

#define MAX_FORKED 32

int tl_expr_fork_hosts(expr *e, int nworkers) {
  const tl_function *fs[MAX_FORKED];
  int n = host_list(e, fs, 0, MAX_FORKED);
  if (n > MAX_FORKED || nworkers < 2) return 0;
  for (int k = 0; k < n; k++) {
    if (!fs[k]->fork || !fs[k]->call_on || !fs[k]->join || !fs[k]->fork(fs[k]->ud, nworkers)) {
      while (k-- > 0) fs[k]->join(fs[k]->ud);
      return 0;
    }
  }
  return n > 0;
}

void tl_expr_join_hosts(expr *e) {
  const tl_function *fs[MAX_FORKED];
  int n = host_list(e, fs, 0, MAX_FORKED);
  for (int k = 0; k < n && n <= MAX_FORKED; k++) fs[k]->join(fs[k]->ud);
}

void tl_expr_host_worker(expr *e, int w) {
  if (e->hostfn) e->hostworker = w + 1;
  for (int k = 0; k < e->nargs; k++) tl_expr_host_worker(e->args[k], w);
}

static tl_status eval_host(expr *e, evalctx *cx) {
  int n = cx->n;
  vec *o = &e->out;
  const tl_function *f = e->hostfn;
  if (n <= 0) return TL_OK;
  for (int k = 0; k < e->nargs; k++) TL_TRY(eval(e->args[k], cx));
  tl_vector args[64], *av = e->nargs <= 64 ? args : tl_alloc((size_t)e->nargs * sizeof *av);
  if (!av) return tl_error_oom(cx->err, cx->op);
  int *sel = e->selbuf;
  const uint8_t *none = (const uint8_t *)(sel + TL_VEC);   /* TL_VEC zero bytes */
  int nsel = 0;
  ROWS(cx, i, {   /* the selected rows, less those with a null argument */
    int ok = 1;
    for (int k = 0; k < e->nargs && ok && !f->nulls; k++) ok = valid_at(&e->args[k]->out, i);
    sel[nsel] = i;
    nsel += ok;
  });
  for (int k = 0; k < e->nargs; k++) {
    const vec *v = &e->args[k]->out;
    av[k] = (tl_vector){ v->type, n, v->type ? v->valid : none, v->i, v->f, v->d, v->b,
                         (const char *const *)v->s, v->sl };
  }
  memset(o->valid, 0, (size_t)n);
  if (e->type == TL_STRING)
    for (int i = 0; i < n; i++) { o->s[i] = NULL; o->sl[i] = 0; }
  else   /* null rows hold 0, as the kernels expect */
    memset(o->i, 0, (size_t)n * (e->type == TL_BOOL ? 1 : tl_type_width(e->type)));
  tl_fn_result res = { e, 0 };
  tl_fn_call call = { cx->start, n, nsel, sel, e->nargs, av };
  tl_status st = TL_OK;
  if (nsel) {
    tl_error herr;
    herr.message[0] = '\0';
    st = e->hostworker ? f->call_on(f->ud, e->hostworker - 1, &call, &res, &herr)
                       : f->call(f->ud, &call, &res, &herr);
    if (st != TL_OK) {
      if (!herr.message[0]) tl_error_set(&herr, st, "%s: %s", f->name, tl_status_string(st));
      tl_error_set(cx->err, st, "%s: %s", cx->op, herr.message);
    }
  }
  if (av != args) tl_free(av);
  if (st == TL_OK && e->type == TL_STRING)
    for (int i = 0; i < n; i++)
      if (o->valid[i]) o->s[i] = e->sbuf ? e->sbuf + (uintptr_t)o->s[i] : "";
  return st;
}

static tl_status eval_call(expr *e, evalctx *cx) {
  int n = cx->n;
  vec *o = &e->out;
  if (e->hostfn) return eval_host(e, cx);
  if (e->fn == F_IF) return eval_if(e, cx);
  if (e->fn == F_COALESCE) return eval_coalesce(e, cx);
  for (int k = 0; k < e->nargs; k++) TL_TRY(eval(e->args[k], cx));
  const vec *a = &e->args[0]->out;
  if (e->fn == F_ISNULL) {
    if (!a->type) memset(o->b, 1, (size_t)n);
    else if (!a->valid) memset(o->b, 0, (size_t)n);
    else ROWS(cx, i, o->b[i] = !a->valid[i]);
    o->valid = NULL;
    return TL_OK;
  }
  /* the rest are null when any argument is */
  uint8_t *valid = o->valid;
  if (!a->type || a->valid || e->nargs > 1) {
    memset(valid, 1, (size_t)n);
    for (int k = 0; k < e->nargs; k++) {
      const vec *v = &e->args[k]->out;
      if (!v->type) { memset(valid, 0, (size_t)n); break; }
      if (v->valid) ROWS(cx, i, valid[i] &= v->valid[i]);
    }
  } else {
    valid = NULL;
  }
  o->valid = valid;
  switch (e->fn) {
    case F_ABS:
      if (e->type == TL_INT) {
        ROWS(cx, i, {
          if (a->i[i] == INT64_MIN && (!valid || valid[i]))
            return tl_error_set(cx->err, TL_ERANGE, "%s: integer overflow in 'abs' at row %lld",
                                cx->op, (long long)(cx->start + i + 1));
          o->i[i] = a->i[i] < 0 ? (int64_t)(0 - (uint64_t)a->i[i]) : a->i[i];   /* no UB in null slots */
        });
      } else {
        ROWS(cx, i, o->f[i] = fabs(a->f[i]));
      }
      break;
    case F_FLOOR: case F_CEIL: case F_ROUND:
      if (e->type == TL_INT && a->type == TL_INT) { ROWS(cx, i, o->i[i] = a->i[i]); break; }
      ROWS(cx, i, {
        double x = num_at(a, i);
        if (e->fn == F_FLOOR) x = floor(x);
        else if (e->fn == F_CEIL) x = ceil(x);
        else if (e->nargs > 1) { double p = pow(10, (double)e->args[1]->out.i[i]); x = round(x * p) / p; }
        else x = round(x);
        o->f[i] = x;
      });
      break;
    case F_LN: case F_LOG: case F_EXP: case F_SQRT:
      ROWS(cx, i, {
        double x = num_at(a, i), r;
        if (e->fn == F_EXP) r = exp(x);
        else if (e->fn == F_SQRT) r = sqrt(x);
        else if (e->fn == F_LOG && e->nargs > 1) r = log(x) / log(num_at(&e->args[1]->out, i));
        else r = e->fn == F_LOG ? log10(x) : log(x);
        o->f[i] = r;
      });
      break;
    case F_LEN:
      ROWS(cx, i, {   /* characters, not bytes */
        int64_t k = 0;
        for (int64_t j = 0; j < a->sl[i]; j++) k += ((unsigned char)a->s[i][j] & 0xc0) != 0x80;
        o->i[i] = k;
      });
      break;
    case F_LOWER: case F_UPPER: case F_TRIM: case F_SUBSTR: {
      size_t used = 0;
      ROWS(cx, i, {
        if (valid && !valid[i]) { o->s[i] = NULL; o->sl[i] = 0; continue; }
        const char *s = a->s[i];
        int64_t len = a->sl[i], from = 0, cnt = len;
        if (e->fn == F_TRIM) {
          while (from < len && isspace((unsigned char)s[from])) from++;
          while (len > from && isspace((unsigned char)s[len - 1])) len--;
          cnt = len - from;
        } else if (e->fn == F_SUBSTR) {
          /* as string.sub, in characters: 1-based, inclusive, negatives count from the end */
          int64_t nch = 0;
          for (int64_t j = 0; j < len; j++) nch += ((unsigned char)s[j] & 0xc0) != 0x80;
          int64_t i0 = e->args[1]->out.i[i], j0 = e->nargs > 2 ? e->args[2]->out.i[i] : -1;
          if (i0 < 0) i0 = nch + i0 + 1 > 0 ? nch + i0 + 1 : 1;
          else if (i0 == 0) i0 = 1;
          if (j0 < 0) j0 = nch + j0 + 1;
          else if (j0 > nch) j0 = nch;
          from = utf8_offset(s, len, i0 - 1);
          cnt = j0 >= i0 ? utf8_offset(s, len, j0) - from : 0;
        }
        if (!sbuf_reserve(e, used, (size_t)cnt)) return tl_error_oom(cx->err, cx->op);
        for (int64_t j = 0; j < cnt; j++) {
          char ch = s[from + j];
          if (e->fn == F_LOWER) ch = (char)tolower((unsigned char)ch);
          else if (e->fn == F_UPPER) ch = (char)toupper((unsigned char)ch);
          e->sbuf[used + (size_t)j] = ch;
        }
        o->s[i] = (const char *)(uintptr_t)used;
        o->sl[i] = cnt;
        used += (size_t)cnt;
      });
      ROWS(cx, i, {
        if (!valid || valid[i]) o->s[i] = e->sbuf ? e->sbuf + (uintptr_t)o->s[i] : "";   /* all empty: no buffer */
      });
      break;
    }
    case F_CONTAINS: case F_STARTS: case F_ENDS: {
      const vec *b = &e->args[1]->out;
      ROWS(cx, i, {
        if (valid && !valid[i]) { o->b[i] = 0; continue; }
        int64_t la = a->sl[i], lb = b->sl[i];
        int r = 0;
        if (lb <= la) {
          if (lb == 0) r = 1;   /* and no memcmp of a NULL pointer */
          else if (e->fn == F_STARTS) r = memcmp(a->s[i], b->s[i], (size_t)lb) == 0;
          else if (e->fn == F_ENDS) r = memcmp(a->s[i] + la - lb, b->s[i], (size_t)lb) == 0;
          else r = memmem(a->s[i], (size_t)la, b->s[i], (size_t)lb) != NULL;
        }
        o->b[i] = (uint8_t)r;
      });
      break;
    }
    case F_YEAR: case F_MONTH: case F_DAY:
      ROWS(cx, i, {
        int y, m, d;
        tl_civil_from_days((int32_t)days_of(a, i), &y, &m, &d);
        o->i[i] = e->fn == F_YEAR ? y : e->fn == F_MONTH ? m : d;
      });
      break;
  }
  return TL_OK;
}

static tl_status eval(expr *e, evalctx *cx) {
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
      TL_TRY(eval(e->args[0], cx));
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
      TL_TRY(eval(e->args[0], cx));
      const vec *a = &e->args[0]->out;
      if (!a->type) { all_null(o, cx); return TL_OK; }
      o->valid = copy_valid(o, a, cx);
      ROWS(cx, i, o->b[i] = !a->b[i]);
      return TL_OK;
    }
    case E_BIN: {
      if (e->op == OP_AND || e->op == OP_OR) return eval_logic(e, cx);
      TL_TRY(eval(e->args[0], cx));
      TL_TRY(eval(e->args[1], cx));
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
      return eval_call(e, cx);
  }
  return TL_OK;
}

tl_status tl_expr_eval(expr *e, tl_column *const *cols, tl_column *const *slots,
                       int64_t start, int n, const char *op, tl_error *err) {
  evalctx cx = { cols, slots, start, n, NULL, n, op, err, 0 };
  return eval(e, &cx);
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
  TL_TRY(eval(e, cx));
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

/* ---------------------------------------------------------------------------
** Constant folding: after binding, a subtree that reads no column and calls
** no host function is computed once and becomes a literal; and, or and if
** with a constant operand lose what the constant makes moot. A constant
** whose computation fails stays as it is: the scan then reports the failure
** at its row, as it would without folding.
*/

/* 1 when computing e can fail for a reason other than memory: an integer
** overflow, or a host function. */
static int may_fail(const expr *e) {
  if (e->hostfn) return 1;
  if (e->kind == E_AGG) return 0;   /* its slot is computed already */
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
  drop_scratch(e);
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
  drop_scratch(e);
  *e = *c;
  tl_free(c);   /* the shell: what it held is e's now */
}

/* Computes e, whose operands are literals, once. */
static tl_status fold_constant(expr *e, const char *op, tl_error *err) {
  tl_error ferr;
  tl_status st = alloc_scratch(e, err, op);
  if (st == TL_OK) {
    evalctx cx = { NULL, NULL, 0, 1, NULL, 1, op, &ferr, 0 };
    st = eval(e, &cx);
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
  for (int k = 0; k < e->nargs; k++) drop_scratch(e->args[k]);
  drop_scratch(e);
  return st == TL_ENOMEM ? st : TL_OK;   /* a failing constant is left to the scan */
}

static tl_status fold(expr *e, const char *op, tl_error *err) {
  for (int k = 0; k < e->nargs; k++) TL_TRY(fold(e->args[k], op, err));
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
  if (atomic_load(&folding)) TL_TRY(fold(e, op, err));
  mark_codes(e, t);
  return alloc_scratch(e, err, op);
}

tl_status tl_expr_bind(expr *e, const tl_table *t, const char *op, const char *src,
                       expr ***aggs, int *naggs, tl_error *err) {
  return tl_expr_bind_with(e, t, op, src, aggs, naggs, 0, NULL, err);
}

/* ---------------------------------------------------------------------------
** Whole columns
*/

/* A copy of a bound plan with scratch of its own, for another worker. */
static expr *clone_bound(const expr *e) {
  expr *c = tl_calloc(1, sizeof *c);
  if (!c) return NULL;
  c->kind = e->kind;
  c->op = e->op;
  c->pos = e->pos;
  c->type = e->type;
  c->lit = e->lit;
  c->col = e->col;
  c->fn = e->fn;
  c->dict_codes = e->dict_codes;
  c->custom = e->custom;
  c->hostfn = e->hostfn;
  int ok = 1;
  if (e->litbuf) {
    ok = (c->litbuf = tl_strndup(e->litbuf, e->lit.v.s.len)) != NULL;
    if (ok) c->lit.v.s.ptr = c->litbuf;
  }
  if (ok && e->name) ok = (c->name = tl_strdup(e->name)) != NULL;
  if (ok && e->nargs) {
    ok = (c->args = tl_calloc((size_t)e->nargs, sizeof *c->args)) != NULL;
    for (int k = 0; ok && k < e->nargs; k++, c->nargs++)
      ok = (c->args[k] = clone_bound(e->args[k])) != NULL;
  }
  if (!ok) { tl_expr_free(c); return NULL; }
  return c;
}

/* Where the root writes its values for rows from `start` on: straight into
** a fixed-width column, when it computes them (a literal, a column or a slot
** has them elsewhere, and is copied). */
static void *target_at(const expr *e, const tl_column *c, int64_t start) {
  if (!c || c->type == TL_BOOL || !e->type || e->kind == E_LIT || e->kind == E_COL ||
      e->kind == E_AGG)
    return NULL;
  return (char *)c->values + (size_t)start * tl_type_width(c->type);
}

/* Stores a vector of fixed-width results into column c at row `start`. */
static void store_vec(const expr *e, tl_column *c, int64_t start, int n) {
  const vec *v = &e->out;
  if (!e->type) {
    for (int i = 0; i < n; i++) TL_BIT_CLEAR(c->validity, start + i);
    return;
  }
  size_t w = tl_type_width(c->type);
  const void *src = NULL;
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP: src = v->i; break;
    case TL_FLOAT: src = v->f; break;
    case TL_DATE: src = v->d; break;
    case TL_BOOL: pack_bits(c->values, start, v->b, n); break;
    default: break;
  }
  char *dst = (char *)c->values + (size_t)start * w;
  if (src && src != dst) memcpy(dst, src, (size_t)n * w);
  if (v->valid && c->validity) pack_bits(c->validity, start, v->valid, n);
}

/* 1 when a plan's result is null exactly where one of its columns is: no
** literal null, nothing that makes a null of a value (division, and, or,
** if, coalesce, is_null, a host function). Its values can then be computed
** as if no row were null, and its validity is the AND of its columns'. */
static int strict(const expr *e) {
  switch (e->kind) {
    case E_LIT: return !e->lit.is_null;
    case E_COL: case E_AGG: return 1;   /* an aggregate's arguments are not run here */
    case E_BIN:
      if (e->op == OP_AND || e->op == OP_OR || e->op == OP_DIV || e->op == OP_IDIV ||
          e->op == OP_MOD)
        return 0;
      break;
    case E_CALL:
      if (e->hostfn || e->fn == F_ISNULL || e->fn == F_COALESCE || e->fn == F_IF) return 0;
      break;
    default: break;
  }
  for (int k = 0; k < e->nargs; k++)
    if (!strict(e->args[k])) return 0;
  return 1;
}

/* 1 when a column the plan reads has nulls. */
static int reads_nulls(const expr *e, tl_column *const *cols, tl_column *const *slots) {
  const tl_column *c = e->kind == E_COL ? cols[e->col] : e->kind == E_AGG ? slots[e->col] : NULL;
  if (c) return c->validity != NULL;
  for (int k = 0; k < e->nargs; k++)
    if (reads_nulls(e->args[k], cols, slots)) return 1;
  return 0;
}

/* Bytes [b0, b1) of the validity of a strict plan: the AND of those of its
** columns, a word at a time. *first is 1 until one has been copied. */
static void strict_valid(const expr *e, tl_column *const *cols, tl_column *const *slots,
                         uint8_t *dst, int64_t b0, int64_t b1, int *first) {
  const tl_column *c = e->kind == E_COL ? cols[e->col] : e->kind == E_AGG ? slots[e->col] : NULL;
  if (!c) {
    for (int k = 0; k < e->nargs; k++) strict_valid(e->args[k], cols, slots, dst, b0, b1, first);
    return;
  }
  if (!c->validity) return;
  if (*first) memcpy(dst + b0, c->validity + b0, (size_t)(b1 - b0));
  else and_bytes(dst + b0, dst + b0, c->validity + b0, (size_t)(b1 - b0));
  *first = 0;
}

static int popcount64(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (int)((x * 0x0101010101010101ULL) >> 56);
}

/* Valid rows among [start, stop) of a bitmap; start is a multiple of 8. */
static int64_t count_valid(const uint8_t *bm, int64_t start, int64_t stop) {
  int64_t n = 0, k = start >> 3, full = stop >> 3;
  for (; k + 8 <= full; k += 8) {
    uint64_t x;
    memcpy(&x, bm + k, 8);
    n += popcount64(x);
  }
  for (; k < full; k++) n += popcount64(bm[k]);
  for (int64_t i = full << 3 > start ? full << 3 : start; i < stop; i++) n += TL_BIT_GET(bm, i);
  return n;
}

/* Workers take whole ranges of vectors: a multiple of 64 rows, so that no
** two of them write the same byte of a bitmap. */
#define COLUMN_TASK ((int64_t)TL_VEC * 16)

typedef struct column_job {
  expr **plans;                 /* one per worker */
  tl_column *const *cols, *const *slots;
  int64_t nrows;
  const char *op;
  tl_column *out;
  int strict;                   /* the plan is strict() */
  tl_status *st;
  tl_error *errs;
  int64_t *valid;               /* valid rows of each task */
} column_job;

/* Rows [start, stop) of e into column c (start a multiple of 8), a vector
** at a time; *valid counts the valid rows. A strict plan computes its
** values alone and its validity from the columns' bitmaps; should that
** fail (an overflow in a null row's value, say), the range runs again the
** ordinary way, which fails only where a valid row does. */
static tl_status column_range(expr *e, tl_column *const *cols, tl_column *const *slots,
                              int64_t start, int64_t stop, const char *op, tl_column *c,
                              int strict, int64_t *valid, tl_error *err) {
  int vs = tl_expr_vector_size();
  tl_status st = TL_OK;
  for (int pass = strict ? 0 : 1; pass < 2; pass++) {
    evalctx cx = { cols, slots, 0, 0, NULL, 0, op, err, pass == 0 };
    st = TL_OK;
    for (int64_t s = start; s < stop && st == TL_OK; s += vs) {
      cx.start = s;
      cx.n = cx.nsel = (int)(stop - s < vs ? stop - s : vs);
      e->target = target_at(e, c, s);
      st = eval(e, &cx);
      if (st == TL_OK) store_vec(e, c, s, cx.n);
    }
    e->target = NULL;
    if (st == TL_OK || st == TL_ENOMEM) break;
  }
  if (st != TL_OK || !c->validity) { *valid = stop - start; return st; }
  if (strict) {
    int first = 1;
    strict_valid(e, cols, slots, c->validity, start >> 3, (stop + 7) >> 3, &first);
  }
  *valid = count_valid(c->validity, start, stop);
  return TL_OK;
}

static void column_task(void *ctx, int64_t k, int worker) {
  column_job *cj = ctx;
  int64_t start = k * COLUMN_TASK;
  int64_t stop = start + COLUMN_TASK < cj->nrows ? start + COLUMN_TASK : cj->nrows;
  cj->st[k] = tl_interrupted()
                ? tl_error_interrupted(&cj->errs[k], cj->op)
                : column_range(cj->plans[worker], cj->cols, cj->slots, start, stop, cj->op,
                               cj->out, cj->strict, &cj->valid[k], &cj->errs[k]);
}

/* Fixed-width results, by tasks over every worker (or this thread alone);
** the first failure in row order is the one reported. Host functions run
** on the workers when they fork (`may_fork`); should a task fail there,
** every task runs again on this thread, whose failure is the one reported. */
static tl_status column_fixed(expr *e, tl_column *const *cols, tl_column *const *slots,
                              int64_t nrows, const char *op, tl_column *c, int strict,
                              int may_fork, tl_error *err) {
  int64_t ntasks = (nrows + COLUMN_TASK - 1) / COLUMN_TASK;
  int nplans = tl_get_threads(), forked = 0;
  if (nplans > ntasks) nplans = (int)ntasks;
  if (nrows < 2 * COLUMN_TASK) nplans = 1;
  else if (nplans > 1 && tl_expr_has_host(e) && !(may_fork && (forked = tl_expr_fork_hosts(e, nplans))))
    nplans = 1;
  column_job cj = { NULL, cols, slots, nrows, op, c, strict, NULL, NULL, NULL };
  cj.plans = tl_calloc((size_t)nplans + 1, sizeof *cj.plans);
  cj.st = tl_calloc((size_t)ntasks + 1, sizeof *cj.st);
  cj.errs = tl_alloc(((size_t)ntasks + 1) * sizeof *cj.errs);
  cj.valid = tl_calloc((size_t)ntasks + 1, sizeof *cj.valid);
  tl_status st = (cj.plans && cj.st && cj.errs && cj.valid) ? TL_OK : tl_error_oom(err, op);
  if (st == TL_OK) cj.plans[0] = e;
  for (int w = 1; w < nplans && st == TL_OK; w++)
    if (!(cj.plans[w] = clone_bound(e)) || alloc_scratch(cj.plans[w], err, op) != TL_OK)
      st = tl_error_oom(err, op);
  for (int w = 0; forked && w < nplans && st == TL_OK; w++) tl_expr_host_worker(cj.plans[w], w);
  if (st == TL_OK && nplans > 1) {
    tl_parallel_for(ntasks, column_task, &cj);
  } else if (st == TL_OK) {
    for (int64_t k = 0; k < ntasks; k++)
      if ((column_task(&cj, k, 0), cj.st[k]) != TL_OK) { ntasks = k + 1; break; }
  }
  int again = 0;
  if (forked) {
    tl_expr_join_hosts(e);
    tl_expr_host_worker(e, -1);
    for (int64_t k = 0; k < ntasks && st == TL_OK && !again; k++) again = cj.st[k] != TL_OK;
  }
  int64_t valid = 0;
  for (int64_t k = 0; k < ntasks && st == TL_OK && !again; k++) {
    if ((st = cj.st[k]) != TL_OK && err) *err = cj.errs[k];
    valid += cj.valid[k];
  }
  if (st == TL_OK && !again) {   /* as tl_column_seal, with the count the tasks made */
    c->null_count = nrows - valid;
    if (!c->null_count && c->validity) { tl_free(c->validity); c->validity = NULL; }
  }
  for (int w = 1; cj.plans && w < nplans; w++) tl_expr_free(cj.plans[w]);
  tl_free(cj.plans);
  tl_free(cj.st);
  tl_free(cj.errs);
  tl_free(cj.valid);
  if (again) return column_fixed(e, cols, slots, nrows, op, c, strict, 0, err);
  return st;
}

tl_status tl_expr_column(expr *e, tl_column *const *cols, tl_column *const *slots,
                         int64_t nrows, const char *op, tl_column **out, tl_error *err) {
  tl_type type = e->type ? e->type : TL_INT;   /* a bare null makes an all-null int column */
  tl_builder *b = NULL;
  tl_column *c = NULL;
  tl_status st;
  int sp = e->type && strict(e);
  if (type == TL_STRING) st = tl_builder_new(TL_STRING, nrows, &b, err);
  else if (type == TL_BOOL) st = tl_column_alloc(type, nrows, 1, 0, &c, err);
  else   /* every value is written; no bitmap when no row can be null */
    st = tl_column_alloc_raw(type, nrows, !sp || reads_nulls(e, cols, slots), &c, err);
  if (st != TL_OK) return st;
  if (c) {
    st = column_fixed(e, cols, slots, nrows, op, c, sp, 1, err);
  } else {
    int vs = tl_expr_vector_size();
    for (int64_t start = 0; start < nrows && st == TL_OK; start += vs) {
      int n = (int)(nrows - start < vs ? nrows - start : vs);
      if (tl_interrupted()) { st = tl_error_interrupted(err, op); break; }
      if ((st = tl_expr_eval(e, cols, slots, start, n, op, err)) != TL_OK) break;
      const vec *v = &e->out;
      for (int i = 0; i < n && st == TL_OK; i++)   /* strings: appended in order */
        st = (v->valid && !v->valid[i]) || !e->type
                 ? tl_builder_append_null(b, err)
                 : tl_builder_append_string(b, v->s[i], (size_t)v->sl[i], err);
    }
  }
  if (st != TL_OK) { tl_builder_free(b); tl_column_release(c); return st; }
  if (b) return tl_builder_finish(b, out, err);
  *out = c;
  return TL_OK;
}
