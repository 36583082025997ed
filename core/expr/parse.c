/*
** parse.c -- a Pratt parser with Lua's precedences over the tokens of
** lex.c, into a tree of expr nodes; and the default output name of an
** expression.
*/
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "expr_int.h"
#include "fn_text.h"

#define MAX_DEPTH 200
#define MAX_HEIGHT 1000    /* of a tree: binding and evaluation recurse over it */
#define MAX_SOURCE ((size_t)1 << 24)   /* bytes of an expression: positions are ints */

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
  tl_rx_release(e);
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
    case T_OP:   /* SQL's habits get a hint */
      snprintf(buf, size, "'%s'%s", ps->opname,
               strcmp(ps->opname, "=") == 0 ? " (did you mean '=='?)" : "");
      return buf;
    default: snprintf(buf, size, "'%.*s'", (int)((ps->p - ps->tstart) < 30 ? (ps->p - ps->tstart) : 30), ps->tstart); return buf;
  }
}

static tl_status expect(parser *ps, const char *op, const char *what) {
  if (is_op(ps, op)) return tl_expr_lex(ps);
  char tb[64], msg[128];
  snprintf(msg, sizeof msg, "expected %s, found %s", what, token_text(ps, tb, sizeof tb));
  return tl_expr_perr(ps, ps->tpos, "%s", msg);
}

static tl_status subexpr(parser *ps, int limit, expr **out);

static tl_status simple(parser *ps, expr **out) {
  char tb[64];
  expr *e = NULL;
  int pos = ps->tpos;
  if (++ps->depth > MAX_DEPTH)
    return tl_expr_perr(ps, pos, "expression nested deeper than %s levels", "200");
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
        tl_status st = tl_expr_lex(ps);
        if (st == TL_OK && is_op(ps, "(")) {
          e->kind = E_CALL;
          st = tl_expr_lex(ps);
          int h = 0;
          while (st == TL_OK && !is_op(ps, ")")) {
            expr *a;
            if ((st = subexpr(ps, 0, &a)) != TL_OK) break;
            if (ps->height + 1 > h) h = ps->height + 1;
            if ((st = add_arg(ps, e, a)) != TL_OK) break;
            if (is_op(ps, ",")) st = tl_expr_lex(ps);
            else if (!is_op(ps, ")")) st = expect(ps, ")", "')' or ','");
          }
          if (st == TL_OK) st = tl_expr_lex(ps);
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
        tl_status st = tl_expr_lex(ps);
        if (st == TL_OK) st = subexpr(ps, 0, &e);
        if (st == TL_OK && (st = expect(ps, ")", "')'")) != TL_OK) tl_expr_free(e);
        if (st == TL_OK) { ps->depth--; *out = e; }
        return st;
      }
      /* fall through */
    default:
      return tl_expr_perr(ps, pos, "unexpected %s", token_text(ps, tb, sizeof tb));
  }
  tl_status st = tl_expr_lex(ps);
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

/* A call node `name` at pos with first argument a (taken over). */
static tl_status call_node(parser *ps, const char *name, int pos, expr *a, expr **out) {
  expr *n = node(ps, E_CALL, pos);
  if (!n || !(n->name = tl_strdup(name))) {
    tl_expr_free(n);
    tl_expr_free(a);
    return tl_error_oom(ps->err, ps->op);
  }
  tl_status st = add_arg(ps, n, a);
  if (st != TL_OK) { tl_expr_free(n); return st; }
  *out = n;
  return TL_OK;
}

/* After e: [not] in (a, b, ...), [not] like p [escape c], [not] ilike p
** [escape c], at the priority of comparisons. e is taken over. */
static tl_status membership(parser *ps, expr *e, expr **out) {
  int pos = ps->tpos, neg = is_word(ps, "not");
  tl_status st = TL_OK;
  if (neg && (st = tl_expr_lex(ps)) == TL_OK && !is_word(ps, "in") && !is_word(ps, "like") &&
      !is_word(ps, "ilike"))
    st = tl_expr_perr(ps, ps->tpos, "expected 'in', 'like' or 'ilike' after 'not'%s", "");
  if (st != TL_OK) { tl_expr_free(e); return st; }
  const char *name = is_word(ps, "in") ? "in" : is_word(ps, "like") ? "like" : "ilike";
  expr *n = NULL, *a;
  if ((st = call_node(ps, name, pos, e, &n)) != TL_OK) return st;
  int h = ps->height;
  st = tl_expr_lex(ps);
  if (st == TL_OK && name[0] == 'i' && name[1] == 'n') {   /* a list in parentheses */
    st = expect(ps, "(", "'(' after 'in'");
    while (st == TL_OK) {
      if ((st = subexpr(ps, 0, &a)) != TL_OK) break;
      if (ps->height > h) h = ps->height;
      if ((st = add_arg(ps, n, a)) != TL_OK) break;
      if (is_op(ps, ",")) st = tl_expr_lex(ps);
      else { st = expect(ps, ")", "')' or ','"); break; }
    }
  } else if (st == TL_OK) {
    for (int k = 0; k < 2 && st == TL_OK; k++) {   /* the pattern, then an escape */
      if ((st = subexpr(ps, 3, &a)) != TL_OK) break;
      if (ps->height > h) h = ps->height;
      if ((st = add_arg(ps, n, a)) != TL_OK) break;
      if (!is_word(ps, "escape")) break;
      st = tl_expr_lex(ps);
    }
  }
  if (st != TL_OK) { tl_expr_free(n); return st; }
  ps->height = h + 1;
  if (neg) {
    expr *x = node(ps, E_NOT, pos);
    if (!x) { tl_expr_free(n); return TL_ENOMEM; }
    if ((st = add_arg(ps, x, n)) != TL_OK) { tl_expr_free(x); return st; }
    ps->height++;
    n = x;
  }
  *out = n;
  return TL_OK;
}

static int at_membership(const parser *ps) {
  return is_word(ps, "in") || is_word(ps, "like") || is_word(ps, "ilike") || is_word(ps, "not");
}

static tl_status subexpr(parser *ps, int limit, expr **out) {
  expr *e = NULL;
  tl_status st;
  int pos = ps->tpos;
  if (is_word(ps, "not") || is_op(ps, "-")) {
    expr_kind k = is_op(ps, "-") ? E_NEG : E_NOT;
    if (++ps->depth > MAX_DEPTH)
      return tl_expr_perr(ps, pos, "expression nested deeper than %s levels", "200");
    expr *a;
    if ((st = tl_expr_lex(ps)) != TL_OK || (st = subexpr(ps, UNARY_PRIORITY, &a)) != TL_OK) return st;
    ps->depth--;
    ps->height++;
    if (!(e = node(ps, k, pos))) { tl_expr_free(a); return TL_ENOMEM; }
    if ((st = add_arg(ps, e, a)) != TL_OK) { tl_expr_free(e); return st; }
  } else if ((st = simple(ps, &e)) != TL_OK) {
    return st;
  }
  const binop *b;
  int h = ps->height;
  for (;;) {
    if (at_membership(ps) && 3 > limit) {   /* as a comparison */
      if (++ps->chain > MAX_HEIGHT) {
        tl_expr_free(e);
        return tl_expr_perr(ps, ps->tpos, "more than %s operators in a chain (split the expression "
                            "into several definitions)", "1000");
      }
      ps->height = h;
      st = membership(ps, e, &e);
      ps->chain--;
      if (st != TL_OK) return st;
      h = ps->height;
      if (h > MAX_HEIGHT) {
        tl_expr_free(e);
        return tl_expr_perr(ps, ps->tpos, "more than %s operators in a chain (split the expression "
                            "into several definitions)", "1000");
      }
      continue;
    }
    if (!(b = current_binop(ps)) || b->left <= limit) break;
    int opos = ps->tpos;
    expr *r, *n;
    if (++ps->chain > MAX_HEIGHT) {   /* "a .. b .. c ..." recurses here */
      tl_expr_free(e);
      return tl_expr_perr(ps, opos, "more than %s operators in a chain (split the expression into "
                  "several definitions)", "1000");
    }
    st = tl_expr_lex(ps);
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
      return tl_expr_perr(ps, opos, "more than %s operators in a chain (split the expression into "
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
  tl_status st = tl_expr_lex(&ps);
  if (st == TL_OK && name && (ps.tok == T_NAME || ps.tok == T_QNAME)) {
    /* "name = expr": look ahead for a lone '=' */
    parser save = ps;
    char *nm = ps.sval;
    ps.sval = NULL;
    st = tl_expr_lex(&ps);
    if (st == TL_OK && is_op(&ps, "=")) {
      *name = nm;
      st = tl_expr_lex(&ps);
    } else {
      tl_free(ps.sval);
      ps = save;          /* back to the name, as the start of the expression */
      ps.sval = NULL;     /* save.sval is nm: owned here now */
      if (st == TL_OK) ps.sval = nm; else tl_free(nm);
    }
  }
  if (st == TL_OK && ps.tok == T_EOF) st = tl_expr_perr(&ps, ps.tpos, "expected an expression%s", "");
  expr *e = NULL;
  if (st == TL_OK) st = subexpr(&ps, 0, &e);
  if (st == TL_OK && ps.tok != T_EOF) {
    char tb[64];
    st = tl_expr_perr(&ps, ps.tpos, "unexpected %s", token_text(&ps, tb, sizeof tb));
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
