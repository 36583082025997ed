/*
** parse.c -- text to values: booleans, integers, floats, dates, timestamps.
** Locale-independent and strict: the whole span must be the value.
*/
#define _GNU_SOURCE
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "parse.h"
#include "pow5.h"   /* pow5_128: the 128 leading bits of 5^q */

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static int span_ieq(const char *s, size_t n, const char *word) {
  size_t k = strlen(word);
  if (n != k) return 0;
  for (size_t i = 0; i < n; i++)
    if (lower((unsigned char)s[i]) != word[i]) return 0;
  return 1;
}

int tl_parse_bool(const char *s, size_t n, int *out) {
  if (span_ieq(s, n, "true")) { *out = 1; return 1; }
  if (span_ieq(s, n, "false")) { *out = 0; return 1; }
  return 0;
}

/* ---------------------------------------------------------------------------
** Digits eight at a time (SWAR): eight ASCII bytes in a 64-bit word, the
** first digit in the lowest byte, checked and converted with a few masks
** and three multiplications instead of a branch per character. Elsewhere
** than on little-endian machines the byte loops do it.
*/
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR 1
#else
#define SWAR 0
#endif

static inline uint64_t load8(const char *s) {
  uint64_t w;
  memcpy(&w, s, 8);
  return w;
}

/* 1 when all eight bytes are '0'..'9': each high nibble is 3, before and
** after adding 6 (which carries out of a low nibble past 9). */
static inline int is_8digits(uint64_t w) {
  return ((w & 0xF0F0F0F0F0F0F0F0ull) | (((w + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) ==
         0x3333333333333333ull;
}

/* The value of eight digits: pairs, then fours, then the eight. */
static inline uint32_t parse_8digits(uint64_t w) {
  w = ((w & 0x0F0F0F0F0F0F0F0Full) * 2561) >> 8;
  w = ((w & 0x00FF00FF00FF00FFull) * 6553601) >> 16;
  return (uint32_t)(((w & 0x0000FFFF0000FFFFull) * 42949672960001ull) >> 32);
}

/* The value of the k <= 19 digits at s into *v: 0 when one is not a digit.
** Runs of eight go by SWAR; the rest, a short tail or a short number (most
** numbers in data), by a loop that stops at the first non-digit. */
static inline int digits_u64(const char *s, size_t k, uint64_t *v) {
  uint64_t x = 0;
#if SWAR
  for (; k >= 8; s += 8, k -= 8) {
    uint64_t w = load8(s);
    if (!is_8digits(w)) return 0;
    x = x * 100000000 + parse_8digits(w);
  }
#endif
  for (; k; s++, k--) {
    unsigned d = (unsigned char)*s - '0';
    if (d > 9) return 0;
    x = x * 10 + d;
  }
  *v = x;
  return 1;
}

int tl_parse_int(const char *s, size_t n, int64_t *out) {
  uint64_t v;
  /* most integers in data: 1 to 18 digits without sign or leading zero */
  if (n - 1 < 18 && (unsigned char)(s[0] - '1') < 9) {
    if (!digits_u64(s, n, &v)) return 0;
    *out = (int64_t)v;
    return 1;
  }
  size_t i = 0;
  int neg = 0;
  if (n && (s[0] == '-' || s[0] == '+')) { neg = s[0] == '-'; i = 1; }
  if (i == n) return 0;
  if (s[i] == '0' && n - i > 1) return 0;          /* a leading zero: an identifier */
  int over = 0;
  v = 0;
  if (n - i <= 19) {   /* 19 digits fit a uint64: no overflow checks */
    if (!digits_u64(s + i, n - i, &v)) return 0;
  } else {
    for (; i < n; i++) {
      unsigned d = (unsigned char)s[i] - '0';
      if (d > 9) return 0;
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v)) over = 1;
    }
  }
  if (over || v > (uint64_t)INT64_MAX + neg) return -1;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return 1;
}

static const double pow10tab[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

/* strtod in the "C" locale, whatever the process's locale is. The locale is
** made once, whichever reader thread asks first. */
static double c_strtod(const char *s) {
  pthread_once(&c_locale_once, c_locale_init);
  if (c_locale) return strtod_l(s, NULL, c_locale);
  return strtod(s, NULL);
}

/* strtod of the span, which needs a NUL after it. */
static int span_strtod(const char *s, size_t n, double *out) {
  char buf[128];
  if (n >= sizeof buf) {
    /* a very long numeral: let strtod see all of it */
    char *big = tl_alloc(n + 1);
    if (!big) return 0;
    memcpy(big, s, n);
    big[n] = '\0';
    *out = c_strtod(big);
    tl_free(big);
    return 1;
  }
  memcpy(buf, s, n);
  buf[n] = '\0';
  *out = c_strtod(buf);
  return 1;
}

/* The digits of [p, e) from p on, as many as there are, into *v (which
** wraps past 19 digits: the caller counts them). Returns the end of the run. */
static inline const char *digit_run(const char *p, const char *e, uint64_t *v) {
  uint64_t x = *v;
#if SWAR
  while (e - p >= 8) {
    uint64_t w = load8(p);
    if (!is_8digits(w)) break;
    x = x * 100000000 + parse_8digits(w);
    p += 8;
  }
#endif
  for (; p < e && (unsigned char)(*p - '0') <= 9; p++) x = x * 10 + (unsigned)(*p - '0');
  *v = x;
  return p;
}

/* ---------------------------------------------------------------------------
** Floats. A numeral is read into a decimal mantissa w (up to 19 digits)
** and a power of ten q. Three ways to the double, the first that applies:
** Clinger's fast path (w and 10^|q| are exact doubles, so one rounding
** gives the right one); the Eisel-Lemire method; strtod for what it cannot
** decide (more than 19 digits, or a product too close to a rounding
** boundary to tell), about one numeral in a thousand of random ones and
** none of the usual ones.
**
** Eisel-Lemire: w * 10^q = w * 5^q * 2^q. With w shifted up to 64
** significant bits and the 128 leading bits of 5^q (pow5.h, truncated),
** the leading 64 bits of their product hold the 53 bits of the double, a
** rounding bit and 9 or 10 more. The table's truncation puts the true
** product in [P, P + 2) in units of the product's second word; only when
** the bits below the rounding bit are all ones and that word is too can
** the error reach them, and then strtod decides. Exact halfway cases (a
** tie, rounded to even) exist only for q in [0, 23], where 5^q fits 64
** bits and the product is exact.
*/
static inline void mul_64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
  unsigned __int128 p = (unsigned __int128)a * b;
  *hi = (uint64_t)(p >> 64);
  *lo = (uint64_t)p;
}

/* floor(q * log2(10)) for |q| < 1000 or so (gen_pow5.py checks the range). */
static inline int floor_log2_pow10(int q) { return (int)(((int64_t)217706 * q) >> 16); }

/* The double nearest w * 10^q (w > 0), into *out as its bits; 0 when the
** method cannot decide. */
static int eisel_lemire(uint64_t w, int q, uint64_t *bits) {
  if (q < POW5_MIN) { *bits = 0; return 1; }                    /* below half the least subnormal */
  if (q > POW5_MAX) { *bits = 0x7FF0000000000000ull; return 1; } /* past the largest double */
  int lz = __builtin_clzll(w);
  w <<= lz;
  const uint64_t *t = pow5_128[q - POW5_MIN];
  uint64_t hi, lo;
  mul_64x64(w, t[0], &hi, &lo);
  if ((hi & 0x1FF) == 0x1FF) {   /* the second word of 5^q may carry into the bits that count */
    uint64_t h2, l2;
    mul_64x64(w, t[1], &h2, &l2);
    lo += h2;
    hi += lo < h2;
    if ((hi & 0x1FF) == 0x1FF && lo == UINT64_MAX) return 0;
  }
  int upper = (int)(hi >> 63);
  int shift = upper + 9;
  uint64_t m = hi >> shift;   /* 54 bits: the double's 53 and the rounding bit */
  int64_t e = (int64_t)floor_log2_pow10(q) + 63 + upper - lz + 1023;   /* biased, of m / 2^53 */
  if (e <= 0) {   /* subnormal: fewer bits of m are kept */
    if (1 - e >= 64) { *bits = 0; return 1; }
    m >>= 1 - e;
    m += m & 1;
    m >>= 1;
    *bits = m;   /* m == 2^52 makes the least normal: its exponent bit is m's */
    return 1;
  }
  if (q >= 0 && q <= 23 && lo == 0 && (m & 3) == 1 && (m << shift) == hi)
    m &= ~(uint64_t)1;   /* exactly halfway, and even below: round down */
  m += m & 1;
  m >>= 1;
  if (m >> 53) { m >>= 1; e++; }
  if (e >= 0x7FF) { *bits = 0x7FF0000000000000ull; return 1; }
  *bits = (m & ((1ull << 52) - 1)) | (uint64_t)e << 52;
  return 1;
}

/* "inf", "infinity" or "nan" in any case, after the sign: 1 with *out. */
static int special(const char *s, size_t n, int neg, double *out) {
  if (span_ieq(s, n, "inf") || span_ieq(s, n, "infinity")) {
    *out = neg ? -INFINITY : INFINITY;
    return 1;
  }
  if (span_ieq(s, n, "nan")) { *out = NAN; return 1; }
  return 0;
}

/* The syntax: digits [. digits] [e [sign] digits], or . digits; no leading
** zero before another digit. Fills *w and *q and says how many significant
** digits there were (past 19, *w is of no use). Returns 0 when the span is
** not a numeral. */
static inline int numeral(const char *p, const char *e, uint64_t *w, int *q, int *sig) {
  if (p[0] == '0' && p + 1 < e && (unsigned char)(p[1] - '0') <= 9) return 0;
  const char *int0 = p, *frac0 = NULL;
  uint64_t v = 0;
  p = digit_run(p, e, &v);
  int ndig = (int)(p - int0), nfrac = 0;
  if (p < e && *p == '.') {
    frac0 = ++p;
    p = digit_run(p, e, &v);
    nfrac = (int)(p - frac0);
  }
  if (ndig + nfrac == 0) return 0;
  int exp10 = -nfrac;
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    int eneg = 0, x = 0;
    if (p < e && (*p == '-' || *p == '+')) { eneg = *p == '-'; p++; }
    if (p == e) return 0;
    for (; p < e && (unsigned char)(*p - '0') <= 9; p++)
      if (x < 100000) x = x * 10 + (*p - '0');
    exp10 += eneg ? -x : x;
  }
  if (p != e) return 0;
  int lead = 0;   /* zeros before the first significant digit, counted when they matter */
  if (ndig + nfrac > 19) {
    for (const char *z = int0; z < int0 + ndig && *z == '0'; z++) lead++;
    if (lead == ndig && frac0)
      for (const char *z = frac0; z < frac0 + nfrac && *z == '0'; z++) lead++;
  }
  *w = v;
  *q = exp10;
  *sig = ndig + nfrac - lead;
  return 1;
}

int tl_parse_float(const char *s, size_t n, double *out) {
  size_t i = 0;
  int neg = 0;
  if (n && (s[0] == '-' || s[0] == '+')) { neg = s[0] == '-'; i = 1; }
  if (i == n) return 0;
  if ((unsigned char)(s[i] - '0') > 9 && s[i] != '.') return special(s + i, n - i, neg, out);
  uint64_t w;
  int q, sig;
  if (!numeral(s + i, s + n, &w, &q, &sig)) return 0;
  if (sig > 19) return span_strtod(s, n, out);
  double d;
  if (w == 0) d = 0.0;
  else if (w < (1ull << 53) && q >= -22 && q <= 22) {
    d = (double)w;   /* Clinger: both exact, one rounding */
    d = q < 0 ? d / pow10tab[-q] : d * pow10tab[q];
  } else {
    uint64_t bits;
    if (!eisel_lemire(w, q, &bits)) return span_strtod(s, n, out);
    memcpy(&d, &bits, sizeof d);
  }
  *out = neg ? -d : d;
  return 1;
}

static int digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    unsigned d = (unsigned char)s[i] - '0';
    if (d > 9) return 0;
    v = v * 10 + (int)d;
  }
  *out = v;
  return 1;
}

static int days_in_month(int y, int m) {
  static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return dm[m - 1];
}

int tl_parse_date(const char *s, size_t n, int32_t *out) {
  int y, m, d;
  if (n != 10 || s[4] != '-' || s[7] != '-') return 0;
  if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d)) return 0;
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return 0;
  *out = tl_days_from_civil(y, m, d);
  return 1;
}

int tl_parse_timestamp(const char *s, size_t n, int64_t *out) {
  int32_t days;
  int hh, mm, ss;
  int64_t us = 0;
  if (n < 10 || !tl_parse_date(s, 10, &days)) return 0;
  if (n > 10) {
    if (n < 19 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':') return 0;
    if (!digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mm) || !digits(s + 17, 2, &ss)) return 0;
    if (hh > 23 || mm > 59 || ss > 59) return 0;
    us = ((int64_t)hh * 3600 + mm * 60 + ss) * 1000000;
    if (n > 19) {
      size_t k = n - 20;
      int frac;
      if (s[19] != '.' || k < 1 || k > 6 || !digits(s + 20, (int)k, &frac)) return 0;
      for (size_t z = k; z < 6; z++) frac *= 10;
      us += frac;
    }
  }
  *out = (int64_t)days * 86400000000LL + us;
  return 1;
}

int tl_utf8_valid(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    if (c < 0x80) { i++; continue; }
    size_t k;
    unsigned min;
    if ((c & 0xe0) == 0xc0) { k = 1; min = 0x80; c &= 0x1f; }
    else if ((c & 0xf0) == 0xe0) { k = 2; min = 0x800; c &= 0x0f; }
    else if ((c & 0xf8) == 0xf0) { k = 3; min = 0x10000; c &= 0x07; }
    else return 0;
    if (n - i <= k) return 0;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xc0) != 0x80) return 0;
      c = (c << 6) | (s[i + j] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    i += k + 1;
  }
  return 1;
}

/* The length of s cut to at most 64 bytes at a UTF-8 boundary, for echoes. */
static int echo_len(const char *s) {
  size_t n = strlen(s);
  if (n <= 64)
    return (int)n;
  n = 64;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
    n--;
  return (int)n;
}

tl_status tl_table_check_utf8(const tl_table *t, const char *op, tl_error *err) {
  int j, ncols = tl_table_ncols(t);
  int64_t i, nrows = tl_table_nrows(t);
  for (j = 0; j < ncols; j++) {
    const char *name = tl_table_name(t, j);
    if (!tl_utf8_valid(name, strlen(name)))
      return tl_error_set(err, TL_EINVAL, "%s: the name of column %d is not valid UTF-8",
                          op, j + 1);
  }
  for (j = 0; j < ncols; j++) {
    const tl_column *c = tl_table_column(t, j);
    const char *name = tl_table_name(t, j);
    if (tl_column_type(c) != TL_STRING)
      continue;
    for (i = 0; i < nrows; i++) {
      size_t n;
      const char *s;
      if (tl_column_is_null(c, i))
        continue;
      s = tl_column_string_at(c, i, &n);
      if (s != NULL && !tl_utf8_valid(s, n))
        return tl_error_set(err, TL_EINVAL, "%s: column %d ('%.*s%s') row %lld: invalid UTF-8",
                            op, j + 1, echo_len(name), name,
                            strlen(name) > (size_t)echo_len(name) ? "..." : "",
                            (long long)i + 1);
    }
  }
  return TL_OK;
}
