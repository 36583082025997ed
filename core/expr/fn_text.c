/*
** fn_text.c -- the text functions of the expression language, UTF-8
** throughout: case mapping and lengths through utf8proc, and the functions
** that cut, pad, search and rebuild texts in code points (reverse keeps
** each grapheme whole, so that combining marks stay on their letter).
** Invalid UTF-8 is an error that names the row.
*/
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

#include "fn_text.h"
#include "registry.h"

int tl_fn_text_owns(int fn) {
  return (fn >= F_TEXT_FIRST && fn < F_TEXT_END) || fn == F_LOWER || fn == F_UPPER ||
         fn == F_LEN || fn == F_TRIM;
}

int tl_fn_text_nonstrict(int fn) {
  return fn == F_CONCAT || fn == F_NULLIF || fn == F_GREATEST || fn == F_LEAST || fn == F_IN;
}

tl_status tl_fn_bad_utf8(const evalctx *cx, const char *fn, int i) {
  return tl_error_set(cx->err, TL_EINVAL, "%s: invalid UTF-8 in '%s' at row %lld", cx->op, fn,
                      (long long)(cx->start + i + 1));
}

int tl_utf8_next(const char *s, int64_t n, int32_t *cp) {
  unsigned char c = (unsigned char)s[0];
  if (c < 0x80) { *cp = c; return 1; }
  utf8proc_int32_t v;
  utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, n, &v);
  if (k < 1) return -1;
  *cp = v;
  return (int)k;
}

void tl_sout_finish(sout *so, const uint8_t *valid, const evalctx *cx) {
  vec *o = &so->e->out;
  ROWS(cx, i, {
    if (!valid || valid[i]) o->s[i] = so->e->sbuf ? so->e->sbuf + (uintptr_t)o->s[i] : "";
    else { o->s[i] = NULL; o->sl[i] = 0; }
  });
}

/* The code points of s[0..n), or -1 when it is not UTF-8. */
static int64_t count_cp(const char *s, int64_t n) {
  int64_t k = 0, b = 0;
  while (b < n) {
    if ((unsigned char)s[b] < 0x80) { b++; k++; continue; }
    int32_t cp = 0;
    int m = tl_utf8_next(s + b, n - b, &cp);
    if (m < 0) return -1;
    b += m;
    k++;
  }
  return k;
}

/* The byte offset of code point k (from 0) of valid UTF-8 s, or n past the end. */
static int64_t cp_offset(const char *s, int64_t n, int64_t k) {
  int64_t b = 0;
  for (; b < n; b++)
    if (((unsigned char)s[b] & 0xc0) != 0x80 && k-- == 0) return b;
  return n;
}

/* lower or upper: each code point mapped by utf8proc, ASCII at once. A
** mapped code point takes at most one byte more than it did (2n + 4 bytes
** are room enough). */
static int map_case(sout *so, const char *s, int64_t n, int up) {
  if (!sbuf_reserve(so->e, so->used, (size_t)n * 2 + 4)) return 0;
  unsigned char *d = (unsigned char *)so->e->sbuf + so->used, *d0 = d;
  const unsigned char *p = (const unsigned char *)s;
  for (int64_t b = 0; b < n;) {
    unsigned char c = p[b];
    if (c < 0x80) {
      *d++ = (unsigned char)(up ? (c >= 'a' && c <= 'z' ? c - 32 : c) : (c >= 'A' && c <= 'Z' ? c + 32 : c));
      b++;
      continue;
    }
    int32_t cp;
    int m = tl_utf8_next(s + b, n - b, &cp);
    if (m < 0) return -1;
    d += utf8proc_encode_char(up ? utf8proc_toupper(cp) : utf8proc_tolower(cp), d);
    b += m;
  }
  so->used += (size_t)(d - d0);
  return 1;
}

/* 1 when code point cp is among those of set[0..n) (set: valid UTF-8). */
static int in_set(int32_t cp, const char *set, int64_t n) {
  for (int64_t b = 0; b < n;) {
    int32_t c;
    int m = tl_utf8_next(set + b, n - b, &c);
    if (m < 0) return 0;
    if (c == cp) return 1;
    b += m;
  }
  return 0;
}

/* trim, ltrim, rtrim: white space (ASCII), or the code points of set. */
static int trim_span(const char *s, int64_t n, const char *set, int64_t setn, int left,
                     int right, int64_t *from, int64_t *to) {
  int64_t a = 0, z = n;
  if (!set) {
    while (left && a < z && isspace((unsigned char)s[a])) a++;
    while (right && z > a && isspace((unsigned char)s[z - 1])) z--;
  } else {
    while (left && a < z) {
      int32_t cp = 0;
      int m = tl_utf8_next(s + a, z - a, &cp);
      if (m < 0) return -1;
      if (!in_set(cp, set, setn)) break;
      a += m;
    }
    while (right && z > a) {
      int64_t b = z - 1;
      while (b > a && ((unsigned char)s[b] & 0xc0) == 0x80) b--;
      int32_t cp = 0;
      if (tl_utf8_next(s + b, z - b, &cp) != z - b) return -1;
      if (!in_set(cp, set, setn)) break;
      z = b;
    }
  }
  *from = a;
  *to = z;
  return 1;
}

/* The text of `need` code points cycled from pad (pad has npc > 0 of them). */
static int put_pad(sout *so, const char *pad, int64_t padn, int64_t npc, int64_t need) {
  for (; need >= npc; need -= npc)
    if (!sout_put(so, pad, (size_t)padn)) return 0;
  return sout_put(so, pad, (size_t)cp_offset(pad, padn, need));
}

/* reverse: the graphemes of s in reverse order, each kept whole. */
static int put_reverse(sout *so, const char *s, int64_t n) {
  size_t end = so->used + (size_t)n;
  if (!sbuf_reserve(so->e, so->used, (size_t)n)) return 0;
  char *d = so->e->sbuf;
  int64_t b = 0;
  utf8proc_int32_t prev = -1, state = 0;
  int64_t gstart = 0;
  while (b <= n) {
    int32_t cp = -1;
    int m = 0;
    if (b < n && (m = tl_utf8_next(s + b, n - b, &cp)) < 0) return -1;
    if (b == n || (prev >= 0 && utf8proc_grapheme_break_stateful(prev, cp, &state))) {
      int64_t len = b - gstart;   /* the grapheme s[gstart, b) goes before what follows it */
      end -= (size_t)len;
      if (len) memcpy(d + end, s + gstart, (size_t)len);
      gstart = b;
      if (b == n) break;
    }
    prev = cp;
    b += m;
  }
  so->used += (size_t)n;
  return 1;
}

/* split_part(s, sep, k): the k-th field (negative: from the end), '' past them. */
static int put_split(sout *so, const char *s, int64_t n, const char *sep, int64_t sn, int64_t k) {
  if (k == 0) return -2;
  if (sn == 0) {   /* no separator: the code points are the fields */
    int64_t nc = count_cp(s, n);
    if (nc < 0) return -1;
    int64_t j = k > 0 ? k - 1 : nc + k;
    if (j < 0 || j >= nc) return 1;
    int64_t a = cp_offset(s, n, j);
    return sout_put(so, s + a, (size_t)(cp_offset(s, n, j + 1) - a));
  }
  int64_t nf = 1;   /* fields: separators + 1 */
  for (int64_t b = 0; b + sn <= n;) {
    if (memcmp(s + b, sep, (size_t)sn) == 0) { nf++; b += sn; } else b++;
  }
  int64_t want = k > 0 ? k - 1 : nf + k;
  if (want < 0 || want >= nf) return 1;
  int64_t f = 0, a = 0;
  for (int64_t b = 0; b + sn <= n;) {
    if (memcmp(s + b, sep, (size_t)sn) == 0) {
      if (f == want) return sout_put(so, s + a, (size_t)(b - a));
      f++;
      b += sn;
      a = b;
    } else {
      b++;
    }
  }
  return sout_put(so, s + a, (size_t)(n - a));
}

/* replace(s, from, to): every occurrence, left to right, not overlapping. */
static int put_replace(sout *so, const char *s, int64_t n, const char *f, int64_t fn,
                       const char *t, int64_t tn) {
  if (fn == 0) return sout_put(so, s, (size_t)n);
  int64_t a = 0;
  for (int64_t b = 0; b + fn <= n;) {
    const char *hit = memchr(s + b, f[0], (size_t)(n - fn + 1 - b));
    if (!hit) break;
    b = hit - s;
    if (memcmp(hit, f, (size_t)fn) == 0) {
      if (!sout_put(so, s + a, (size_t)(b - a)) || !sout_put(so, t, (size_t)tn)) return 0;
      b += fn;
      a = b;
    } else {
      b++;
    }
  }
  return sout_put(so, s + a, (size_t)(n - a));
}

#define ARG(k) (&e->args[k]->out)

/* One row of a text-valued function into so; -1: invalid UTF-8, -2: a bad
** argument (the message is set), 0: out of memory. */
static int text_row(expr *e, sout *so, int i, evalctx *cx) {
  const vec *a = ARG(0);
  const char *s = a->s[i];
  int64_t n = a->sl[i];
  switch (e->fn) {
    case F_LOWER: case F_UPPER: return map_case(so, s, n, e->fn == F_UPPER);
    case F_TRIM: case F_LTRIM: case F_RTRIM: {
      int64_t x, z;
      const char *set = e->nargs > 1 ? ARG(1)->s[i] : NULL;
      int64_t setn = e->nargs > 1 ? ARG(1)->sl[i] : 0;
      if (set && count_cp(set, setn) < 0) return -1;
      int r = trim_span(s, n, set, setn, e->fn != F_RTRIM, e->fn != F_LTRIM, &x, &z);
      return r < 0 ? r : sout_put(so, s + x, (size_t)(z - x));
    }
    case F_LEFT: case F_RIGHT: {
      int64_t nc = count_cp(s, n), k = ARG(1)->i[i];
      if (nc < 0) return -1;
      if (k < 0) k = nc + k > 0 ? nc + k : 0;   /* all but the last (first) -k */
      if (k > nc) k = nc;
      int64_t a0 = e->fn == F_LEFT ? 0 : cp_offset(s, n, nc - k);
      int64_t z = e->fn == F_LEFT ? cp_offset(s, n, k) : n;
      return sout_put(so, s + a0, (size_t)(z - a0));
    }
    case F_LPAD: case F_RPAD: {
      int64_t nc = count_cp(s, n), k = ARG(1)->i[i], pn = ARG(2)->sl[i];
      const char *pad = ARG(2)->s[i];
      int64_t npc = count_cp(pad, pn);
      if (nc < 0 || npc < 0) return -1;
      if (k < 0) k = 0;
      if (k <= nc) return sout_put(so, s, (size_t)cp_offset(s, n, k));
      if (npc == 0) {
        tl_error_set(cx->err, TL_EINVAL, "%s: %s: an empty padding cannot fill row %lld", cx->op,
                     e->fn == F_LPAD ? "lpad" : "rpad", (long long)(cx->start + i + 1));
        return -2;
      }
      if (k - nc > ((int64_t)1 << 28)) {
        tl_error_set(cx->err, TL_EINVAL, "%s: padding to more than 2^28 characters at row %lld",
                     cx->op, (long long)(cx->start + i + 1));
        return -2;
      }
      if (e->fn == F_RPAD && !sout_put(so, s, (size_t)n)) return 0;
      if (!put_pad(so, pad, pn, npc, k - nc)) return 0;
      return e->fn == F_LPAD ? sout_put(so, s, (size_t)n) : 1;
    }
    case F_REVERSE: return put_reverse(so, s, n);
    case F_REPLACE:
      if (count_cp(s, n) < 0) return -1;
      return put_replace(so, s, n, ARG(1)->s[i], ARG(1)->sl[i], ARG(2)->s[i], ARG(2)->sl[i]);
    case F_SPLIT_PART: {
      int r = put_split(so, s, n, ARG(1)->s[i], ARG(1)->sl[i], ARG(2)->i[i]);
      if (r == -2)
        tl_error_set(cx->err, TL_EINVAL, "%s: split_part: field 0 at row %lld (fields count from 1, "
                     "or from -1 at the end)", cx->op, (long long)(cx->start + i + 1));
      return r;
    }
    case F_REPEAT: {
      int64_t k = ARG(1)->i[i];
      if (k > 0 && n > 0 && k > ((int64_t)1 << 30) / n) {
        tl_error_set(cx->err, TL_EINVAL, "%s: repeat: more than 2^30 bytes at row %lld", cx->op,
                     (long long)(cx->start + i + 1));
        return -2;
      }
      for (int64_t r = 0; r < k; r++)
        if (!sout_put(so, s, (size_t)n)) return 0;
      return 1;
    }
  }
  return 1;
}

static const char *fn_name(int fn) {
  for (int k = 0; tl_builtin_function_at(k); k++) {
    const tl_builtin *b = tl_builtin_lookup(tl_builtin_function_at(k)->name);
    if (b && b->id == fn && b->info.kind == TL_FN_SCALAR) return b->info.name;
  }
  return "?";
}

/* strpos(s, part): the code point where part first begins, from 1; 0 when absent. */
static int64_t find_cp(const char *s, int64_t n, const char *p, int64_t pn) {
  if (pn == 0) return 1;
  if (pn > n) return 0;
  for (int64_t b = 0; b + pn <= n; b++)
    if (s[b] == p[0] && memcmp(s + b, p, (size_t)pn) == 0) return count_cp(s, b) + 1;
  return 0;
}

tl_status tl_fn_text_eval(expr *e, const uint8_t *valid, evalctx *cx) {
  vec *o = &e->out;
  const vec *a = ARG(0);
  switch (e->fn) {
    case F_LEN:
      ROWS(cx, i, {
        if (valid && !valid[i]) { o->i[i] = 0; continue; }
        if ((o->i[i] = count_cp(a->s[i], a->sl[i])) < 0) return tl_fn_bad_utf8(cx, "len", i);
      });
      return TL_OK;
    case F_STRPOS:
      ROWS(cx, i, {
        if (valid && !valid[i]) { o->i[i] = 0; continue; }
        if (count_cp(a->s[i], a->sl[i]) < 0) return tl_fn_bad_utf8(cx, "strpos", i);
        o->i[i] = find_cp(a->s[i], a->sl[i], ARG(1)->s[i], ARG(1)->sl[i]);
      });
      return TL_OK;
    case F_IS_NAN:
      if (a->type == TL_FLOAT) ROWS(cx, i, o->b[i] = isnan(a->f[i]) != 0);
      else ROWS(cx, i, o->b[i] = 0);
      return TL_OK;
    case F_SIGN:
      if (a->type == TL_FLOAT) ROWS(cx, i, o->i[i] = (a->f[i] > 0) - (a->f[i] < 0));
      else ROWS(cx, i, o->i[i] = (a->i[i] > 0) - (a->i[i] < 0));
      return TL_OK;
  }
  sout so = { e, 0 };
  ROWS(cx, i, {
    if (valid && !valid[i]) continue;
    size_t begin = so.used;
    int r = text_row(e, &so, i, cx);
    if (r == 0) return tl_error_oom(cx->err, cx->op);
    if (r == -1) return tl_fn_bad_utf8(cx, fn_name(e->fn), i);
    if (r < 0) return TL_EINVAL;   /* the message is set */
    sout_row(&so, i, begin);
  });
  tl_sout_finish(&so, valid, cx);
  return TL_OK;
}
