/*
** lex.c -- the lexer of the expression language: numbers, strings, names
** (bare or quoted with backquotes) and operators, one token at a time.
*/
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/parse.h"
#include "expr_int.h"

tl_status tl_expr_perr(parser *ps, int pos, const char *fmt, const char *a) {
  char what[256];
  snprintf(what, sizeof what, fmt, a);
  return tl_error_expr(ps->err, TL_EPARSE, ps->op, ps->src, pos, what);
}

static int is_name_start(int c) { return isalpha(c) || c == '_'; }
static int is_name_char(int c) { return isalnum(c) || c == '_'; }

tl_status tl_expr_lex(parser *ps) {
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
        return tl_expr_perr(ps, ps->tpos, "malformed number '%s'", num);
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
        return tl_expr_perr(ps, ps->tpos, q == '`' ? "unfinished quoted name%s" : "unfinished string%s", "");
      }
      p++;
      if (c == q) break;
      int keep = 0;   /* a backslash before any other byte stays: '\d+' is a regex's */
      if (c == '\\' && q != '`') {
        c = *p ? *p++ : '\\';
        switch (c) {
          case 'n': c = '\n'; break;
          case 't': c = '\t'; break;
          case 'r': c = '\r'; break;
          case '0': c = '\0'; break;
          case '\\': case '\'': case '"': break;   /* stand for themselves */
          default: keep = 1;
        }
      }
      if (keep) {
        if (n + 2 >= cap) {
          char *nb = tl_realloc(buf, cap *= 2);
          if (!nb) { tl_free(buf); return tl_error_oom(ps->err, ps->op); }
          buf = nb;
        }
        buf[n++] = '\\';
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
  if (p[0] == '<' && p[1] == '>')   /* SQL's not-equal */
    return tl_expr_perr(ps, ps->tpos, "unexpected '<>'%s", " (did you mean '~='?)");
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
  return tl_expr_perr(ps, ps->tpos, "unexpected '%s'", bad);
}
