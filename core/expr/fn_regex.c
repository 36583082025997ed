/*
** fn_regex.c -- pattern matching: SQL's like and ilike (% and _, with an
** optional escape character), and the regexp_* functions on PCRE2 with its
** JIT. A pattern of regexp_* is compiled once, when the expression is
** bound; the copies of a plan on the worker threads share the compiled
** code and each node keeps match data of its own.
*/
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

#include "base/parse.h"
#include "fn_text.h"
#include "registry.h"

struct tl_rx {
  atomic_int refs;
  pcre2_code *code;
  uint32_t ncap;       /* capture groups */
  int jit;             /* compiled by the JIT */
};

/* ---------------------------------------------------------------------------
** like and ilike
*/

/* 1 when s[0..n) is valid UTF-8, checking 8 ASCII bytes at a time. */
static int utf8_ok(const char *s, int64_t n) {
  int64_t b = 0;
  for (; b + 8 <= n; b += 8) {
    uint64_t w;
    memcpy(&w, s + b, 8);
    if (w & 0x8080808080808080ULL) break;
  }
  while (b < n && (unsigned char)s[b] < 0x80) b++;
  return b == n || tl_utf8_valid(s + b, (size_t)(n - b));
}

enum { P_END, P_ANY, P_SOME, P_CHAR, P_BAD };

/* The token of the like pattern at p[*at]: its kind, and its code point. */
static int like_token(const char *p, int64_t pn, int64_t *at, int32_t esc, int32_t *cp) {
  if (*at >= pn) return P_END;
  int m = tl_utf8_next(p + *at, pn - *at, cp);
  if (m < 0) return P_BAD;
  *at += m;
  if (*cp == esc) {
    if (*at >= pn) return P_BAD;
    if ((m = tl_utf8_next(p + *at, pn - *at, cp)) < 0) return P_BAD;
    *at += m;
    return P_CHAR;
  }
  return *cp == '%' ? P_SOME : *cp == '_' ? P_ANY : P_CHAR;
}

/* Matches s against pattern p: 1 or 0; -1 when s is not UTF-8, -2 when p
** is not a pattern (not UTF-8, or ending with the escape). Each % is
** retried from one position further on only when what follows it fails,
** which keeps the work at most the product of the lengths. */
static int like_match(const char *s, int64_t sn, const char *p, int64_t pn, int32_t esc,
                      int fold) {
  int64_t si = 0, pi = 0, star_p = -1, star_s = 0;
  for (;;) {
    int64_t pnext = pi;
    int32_t pc = 0, sc = 0;
    int k = like_token(p, pn, &pnext, esc, &pc);
    if (k == P_BAD) return -2;
    if (k == P_SOME) { star_p = pi = pnext; star_s = si; continue; }
    if (si >= sn) {
      if (k == P_END) return 1;
      if (star_p < 0) {   /* only % may remain */
        return 0;
      }
      /* the rest of the pattern must be all % */
      for (int64_t q = pi;;) {
        int t = like_token(p, pn, &q, esc, &pc);
        if (t == P_END) return 1;
        if (t == P_BAD) return -2;
        if (t != P_SOME) return 0;
      }
    }
    int m = tl_utf8_next(s + si, sn - si, &sc);
    if (m < 0) return -1;
    if (k == P_ANY || (k == P_CHAR && (pc == sc || (fold && utf8proc_tolower(pc) ==
                                                             utf8proc_tolower(sc))))) {
      si += m;
      pi = pnext;
      continue;
    }
    if (star_p < 0) {   /* check the rest of the pattern before saying no */
      for (int64_t q = pi; k != P_END;) if ((k = like_token(p, pn, &q, esc, &pc)) == P_BAD) return -2;
      return 0;
    }
    int m2 = tl_utf8_next(s + star_s, sn - star_s, &sc);
    if (m2 < 0) return -1;
    star_s += m2;
    si = star_s;
    pi = star_p;
  }
}

static tl_status eval_like(expr *e, const uint8_t *valid, evalctx *cx) {
  vec *o = &e->out;
  const vec *a = &e->args[0]->out, *p = &e->args[1]->out;
  const vec *x = e->nargs > 2 ? &e->args[2]->out : NULL;
  const char *name = e->fn == F_ILIKE ? "ilike" : "like";
  ROWS(cx, i, {
    if (valid && !valid[i]) { o->b[i] = 0; continue; }
    int32_t esc = -1;
    if (x && x->sl[i]) {
      int m = tl_utf8_next(x->s[i], x->sl[i], &esc);
      if (m != x->sl[i])
        return tl_error_set(cx->err, TL_EINVAL, "%s: %s: the escape must be one character, "
                            "not '%.*s' at row %lld", cx->op, name, (int)(x->sl[i] > 40 ? 40 : x->sl[i]),
                            x->s[i], (long long)(cx->start + i + 1));
    }
    if (!utf8_ok(a->s[i], a->sl[i])) return tl_fn_bad_utf8(cx, name, i);
    int r = like_match(a->s[i] ? a->s[i] : "", a->sl[i], p->s[i] ? p->s[i] : "", p->sl[i], esc,
                       e->fn == F_ILIKE);
    if (r == -1) return tl_fn_bad_utf8(cx, name, i);
    if (r == -2)
      return tl_error_set(cx->err, TL_EINVAL, "%s: %s: bad pattern '%.*s' at row %lld (invalid "
                          "UTF-8, or ending with the escape)", cx->op, name,
                          (int)(p->sl[i] > 60 ? 60 : p->sl[i]), p->s[i] ? p->s[i] : "",
                          (long long)(cx->start + i + 1));
    o->b[i] = (uint8_t)r;
  });
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Compiled patterns
*/

tl_status tl_rx_compile(expr *e, const char *op, const char *src, tl_error *err) {
  const expr *p = e->args[1];
  if (p->kind != E_LIT || (p->type && p->type != TL_STRING))
    return tl_error_expr(err, TL_ETYPE, op, src, p->pos,
                         "the pattern of a regexp function must be a constant text");
  if (p->lit.is_null) return TL_OK;   /* null everywhere */
  int code;
  PCRE2_SIZE off;
  if (!tl_utf8_valid(p->lit.v.s.ptr, p->lit.v.s.len))
    return tl_error_expr(err, TL_EPARSE, op, src, p->pos, "the pattern is not valid UTF-8");
  pcre2_code *c = pcre2_compile((PCRE2_SPTR)p->lit.v.s.ptr, p->lit.v.s.len, PCRE2_UTF, &code,
                                &off, NULL);
  if (!c) {
    char msg[256], what[400];
    pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof msg);
    snprintf(what, sizeof what, "bad regular expression at offset %zu of the pattern: %s",
             (size_t)off, msg);
    return tl_error_expr(err, TL_EPARSE, op, src, p->pos, what);
  }
  int jit = pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0;   /* without, the interpreter runs */
  struct tl_rx *rx = tl_calloc(1, sizeof *rx);
  if (!rx) { pcre2_code_free(c); return tl_error_oom(err, op); }
  atomic_init(&rx->refs, 1);
  rx->code = c;
  rx->jit = jit;
  pcre2_pattern_info(c, PCRE2_INFO_CAPTURECOUNT, &rx->ncap);
  tl_rx_release(e);
  e->rx = rx;
  if (e->fn == F_RX_EXTRACT && e->nargs > 2) {
    const expr *g = e->args[2];
    if (g->kind != E_LIT || g->type != TL_INT || g->lit.v.i < 0 || g->lit.v.i > (int64_t)rx->ncap) {
      char what[200];
      snprintf(what, sizeof what, "regexp_extract's group must be a constant from 0 to %u "
               "(the pattern's groups)", (unsigned)rx->ncap);
      return tl_error_expr(err, TL_EINVAL, op, src, g->pos, what);
    }
  }
  return TL_OK;
}

void tl_rx_share(expr *to, const expr *from) {
  if (!from->rx) return;
  atomic_fetch_add(&from->rx->refs, 1);
  to->rx = from->rx;
}

void tl_rx_release(expr *e) {
  if (e->rxmatch) pcre2_match_data_free(e->rxmatch);
  e->rxmatch = NULL;
  if (e->rx && atomic_fetch_sub(&e->rx->refs, 1) == 1) {
    pcre2_code_free(e->rx->code);
    tl_free(e->rx);
  }
  e->rx = NULL;
}

/* ---------------------------------------------------------------------------
** regexp_matches, regexp_replace, regexp_extract
*/

/* One match from byte `at` (a code point's first) of s, whose UTF-8 is
** checked already: the JIT's own entry when the pattern has its code,
** which skips the checks pcre2_match makes on every call, else
** pcre2_match. PCRE2's result. */
static int rx_match(const struct tl_rx *rx, const char *s, int64_t n, PCRE2_SIZE at,
                    pcre2_match_data *md) {
  if (rx->jit) return pcre2_jit_match(rx->code, (PCRE2_SPTR)s, (PCRE2_SIZE)n, at, 0, md, NULL);
  return pcre2_match(rx->code, (PCRE2_SPTR)s, (PCRE2_SIZE)n, at, PCRE2_NO_UTF_CHECK, md, NULL);
}

static tl_status rx_fail(const evalctx *cx, const char *name, int rc, int i) {
  char msg[256];
  pcre2_get_error_message(rc, (PCRE2_UCHAR *)msg, sizeof msg);
  return tl_error_set(cx->err, TL_EINVAL, "%s: %s: matching failed at row %lld: %s", cx->op, name,
                      (long long)(cx->start + i + 1), msg);
}

/* rep with \0 .. \9 standing for the groups of the match in ov. */
static int put_rewrite(sout *so, const char *s, const PCRE2_SIZE *ov, uint32_t ngroups,
                       const char *rep, int64_t rn) {
  int64_t a = 0;
  for (int64_t b = 0; b < rn; b++) {
    if (rep[b] != '\\' || b + 1 >= rn) continue;
    char c = rep[b + 1];
    if (!sout_put(so, rep + a, (size_t)(b - a))) return 0;
    if (c >= '0' && c <= '9') {
      uint32_t g = (uint32_t)(c - '0');
      if (g < ngroups && ov[2 * g] != PCRE2_UNSET &&
          !sout_put(so, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]))
        return 0;
    } else if (!sout_put(so, rep + b + 1, 1)) {   /* \\ and any other escaped byte */
      return 0;
    }
    b++;
    a = b + 1;
  }
  return sout_put(so, rep + a, (size_t)(rn - a));
}

/* Every match of row i's text replaced; 0: out of memory, < 0: PCRE2's code. */
static int rx_replace_row(expr *e, sout *so, const char *s, int64_t n, const char *rep,
                          int64_t rn) {
  pcre2_match_data *md = e->rxmatch;
  PCRE2_SIZE at = 0, copied = 0, last = PCRE2_UNSET;
  uint32_t ng = e->rx->ncap + 1;
  while (at <= (PCRE2_SIZE)n) {
    int rc = rx_match(e->rx, s, n, at, md);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) return rc;
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    if (ov[1] < ov[0]) break;   /* \K games: take no more */
    /* an empty match right where the last one ended is no match (as RE2, so
    ** DuckDB: 'aaa' with 'a*' gives one replacement) */
    if (ov[0] != ov[1] || ov[0] != last) {
      if (!sout_put(so, s + copied, ov[0] - copied) || !put_rewrite(so, s, ov, ng, rep, rn)) return 0;
      copied = last = ov[1];
      if (ov[1] > ov[0]) { at = ov[1]; continue; }
    }
    if (ov[1] >= (PCRE2_SIZE)n) break;   /* an empty match: search on after one code point */
    int32_t cp = 0;
    int m = tl_utf8_next(s + ov[1], n - (int64_t)ov[1], &cp);
    at = ov[1] + (PCRE2_SIZE)(m > 0 ? m : 1);
  }
  return sout_put(so, s + copied, (size_t)n - copied);
}

tl_status tl_fn_regex_eval(expr *e, const uint8_t *valid, evalctx *cx) {
  if (e->fn == F_LIKE || e->fn == F_ILIKE) return eval_like(e, valid, cx);
  vec *o = &e->out;
  const vec *a = &e->args[0]->out;
  const char *name = e->fn == F_RX_MATCHES ? "regexp_matches"
                     : e->fn == F_RX_REPLACE ? "regexp_replace" : "regexp_extract";
  sout so = { e, 0 };
  if (!e->rx) {   /* a null pattern: every row is null (valid says so) */
    if (e->fn == F_RX_MATCHES) ROWS(cx, i, o->b[i] = 0);
    else tl_sout_finish(&so, valid, cx);
    return TL_OK;
  }
  if (!e->rxmatch && !(e->rxmatch = pcre2_match_data_create_from_pattern(e->rx->code, NULL)))
    return tl_error_oom(cx->err, cx->op);
  pcre2_match_data *md = e->rxmatch;
  int64_t group = e->fn == F_RX_EXTRACT && e->nargs > 2 ? e->args[2]->lit.v.i : 0;
  ROWS(cx, i, {
    if (valid && !valid[i]) { if (e->fn == F_RX_MATCHES) o->b[i] = 0; continue; }
    const char *s = a->s[i] ? a->s[i] : "";
    int64_t n = a->sl[i];
    if (!utf8_ok(s, n)) return tl_fn_bad_utf8(cx, name, i);
    if (e->fn == F_RX_REPLACE) {
      size_t begin = so.used;
      const vec *r = &e->args[2]->out;
      int rc = rx_replace_row(e, &so, s, n, r->s[i] ? r->s[i] : "", r->sl[i]);
      if (rc == 0) return tl_error_oom(cx->err, cx->op);
      if (rc < 0) return rx_fail(cx, name, rc, i);
      sout_row(&so, i, begin);
      continue;
    }
    int rc = rx_match(e->rx, s, n, 0, md);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) return rx_fail(cx, name, rc, i);
    if (e->fn == F_RX_MATCHES) { o->b[i] = rc >= 0; continue; }
    size_t begin = so.used;
    if (rc >= 0) {   /* regexp_extract: the group's text, '' when it took no part */
      const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
      if (group < rc && ov[2 * group] != PCRE2_UNSET && ov[2 * group + 1] > ov[2 * group] &&
          !sout_put(&so, s + ov[2 * group], ov[2 * group + 1] - ov[2 * group]))
        return tl_error_oom(cx->err, cx->op);
    }
    sout_row(&so, i, begin);
  });
  if (e->fn != F_RX_MATCHES) tl_sout_finish(&so, valid, cx);
  return TL_OK;
}
