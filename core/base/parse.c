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

int tl_parse_int(const char *s, size_t n, int64_t *out) {
  size_t i = 0;
  int neg = 0;
  if (n && (s[0] == '-' || s[0] == '+')) { neg = s[0] == '-'; i = 1; }
  if (i == n) return 0;
  if (s[i] == '0' && n - i > 1) return 0;          /* a leading zero: an identifier */
  uint64_t v = 0;
  int over = 0;
  if (n - i <= 18) {   /* 18 digits always fit: no overflow checks */
    for (; i < n; i++) {
      unsigned d = (unsigned char)s[i] - '0';
      if (d > 9) return 0;
      v = v * 10 + d;
    }
  }
  for (; i < n; i++) {
    unsigned d = (unsigned char)s[i] - '0';
    if (d > 9) return 0;
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v)) over = 1;
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

int tl_parse_float(const char *s, size_t n, double *out) {
  size_t i = 0;
  int neg = 0;
  if (n && (s[0] == '-' || s[0] == '+')) { neg = s[0] == '-'; i = 1; }
  if (i == n) return 0;
  if (span_ieq(s + i, n - i, "inf") || span_ieq(s + i, n - i, "infinity")) {
    *out = neg ? -INFINITY : INFINITY;
    return 1;
  }
  if (span_ieq(s + i, n - i, "nan")) { *out = NAN; return 1; }
  /* syntax: digits [. digits] [e [sign] digits], or . digits */
  uint64_t mant = 0;
  int ndig = 0, exp10 = 0, intdig = 0, fracdig = 0, exact = 1;
  if (s[i] == '0' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') return 0;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, intdig++) {
    if (ndig < 19) { mant = mant * 10 + (unsigned)(s[i] - '0'); if (mant) ndig++; }
    else { exp10++; if (s[i] != '0') exact = 0; }
  }
  if (i < n && s[i] == '.') {
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, fracdig++) {
      if (ndig < 19) { mant = mant * 10 + (unsigned)(s[i] - '0'); if (mant) ndig++; exp10--; }
      else if (s[i] != '0') exact = 0;
    }
  }
  if (intdig + fracdig == 0) return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    int eneg = 0, e = 0, edig = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) { eneg = s[i] == '-'; i++; }
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, edig++)
      if (e < 100000) e = e * 10 + (s[i] - '0');
    if (!edig) return 0;
    exp10 += eneg ? -e : e;
  }
  if (i != n) return 0;
  /* Clinger's fast path: an exact mantissa and power of ten give an exactly
  ** rounded product. */
  if (exact && mant < (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
    double d = (double)mant;
    d = exp10 < 0 ? d / pow10tab[-exp10] : d * pow10tab[exp10];
    *out = neg ? -d : d;
    return 1;
  }
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
