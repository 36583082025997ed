/*
** test_parse_float.c -- tl_parse_float against strtod, bit for bit, and
** tl_parse_int against strtoll: random doubles printed with %.17g (which
** must also give back the very double) and in their shortest form, random
** decimal numerals of many digits and any exponent, subnormals and the
** edges of the range; "inf" and "nan" as before; and the spans that are no
** number. strtod is the oracle (the process runs in the "C" locale).
*/
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse.h"
#include "check.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void) {   /* xorshift64* */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t bits_of(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

static double of_bits(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static long mismatches;

/* tl_parse_float(s) must accept s and give strtod's double, bit for bit. */
static void same_as_strtod(const char *s) {
  double got = -1.0, want = strtod(s, NULL);
  int ok = tl_parse_float(s, strlen(s), &got);
  if (!ok || bits_of(got) != bits_of(want)) {
    if (mismatches++ < 10)
      fprintf(stderr, "'%s': got %d %.17g (%016llx), strtod %.17g (%016llx)\n", s, ok, got,
              (unsigned long long)bits_of(got), want, (unsigned long long)bits_of(want));
  }
}

/* A double of random bits, finite. */
static double random_double(void) {
  for (;;) {
    double d = of_bits(next());
    if (isfinite(d)) return d;
  }
}

/* d with %.17g (round trip) and with the fewest digits that give it back. */
static void round_trip(double d, int shortest) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", d);
  double back = 0;
  if (!tl_parse_float(buf, strlen(buf), &back) || bits_of(back) != bits_of(d)) {
    if (mismatches++ < 10) fprintf(stderr, "'%s' does not give back %016llx\n", buf,
                                   (unsigned long long)bits_of(d));
  }
  if (!shortest) return;
  for (int p = 1; p <= 17; p++) {
    snprintf(buf, sizeof buf, "%.*g", p, d);
    if (strtod(buf, NULL) == d) break;
  }
  same_as_strtod(buf);
}

/* A numeral of 1..30 random digits with a point somewhere or none, and
** maybe an exponent of -400..400. */
static void random_numeral(char *buf) {
  int n = 1 + (int)(next() % 30), point = (int)(next() % (uint64_t)(n + 2)), k = 0;
  if (next() & 1) buf[k++] = '-';
  for (int i = 0; i < n; i++) {
    if (i == point && i > 0) buf[k++] = '.';
    char c = (char)('0' + next() % 10);
    if (i == 0 && n > 1 && point != 1) c = (char)('1' + next() % 9);   /* no leading zero */
    buf[k++] = c;
  }
  if (next() % 3) k += sprintf(buf + k, "e%d", (int)(next() % 801) - 400);
  buf[k] = '\0';
}

static void specials(void) {
  double d = 0;
  CHECK(tl_parse_float("inf", 3, &d) && isinf(d) && d > 0);
  CHECK(tl_parse_float("-Infinity", 9, &d) && isinf(d) && d < 0);
  CHECK(tl_parse_float("+INF", 4, &d) && isinf(d) && d > 0);
  CHECK(tl_parse_float("NaN", 3, &d) && isnan(d));
  CHECK(tl_parse_float("-nan", 4, &d) && isnan(d));
  CHECK(tl_parse_float("-0", 2, &d) && d == 0 && signbit(d));
  CHECK(tl_parse_float("0.0e-999999", 11, &d) && d == 0 && !signbit(d));
  CHECK(tl_parse_float("1e400", 5, &d) && isinf(d));
  CHECK(tl_parse_float("-1e-400", 7, &d) && d == 0 && signbit(d));
  CHECK(tl_parse_float(".5", 2, &d) && d == 0.5);
  CHECK(tl_parse_float("5.", 2, &d) && d == 5.0);
  CHECK(tl_parse_float("0.5", 3, &d) && d == 0.5);
  CHECK(tl_parse_float("2.5E+3", 6, &d) && d == 2500.0);
  const char *bad[] = { "", "-", "+", ".", "e5", "1e", "1e+", "1e-x", "01.5", "00", "1.2.3",
                        "1,5", " 1", "1 ", "infinit", "nana", "0x10", "1e5x", "--1", "1..2" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int ok = tl_parse_float(bad[i], strlen(bad[i]), &d);
    if (ok) fprintf(stderr, "'%s' read as a float\n", bad[i]);
    CHECK(!ok);
  }
  /* the span ends where n says, not at a NUL */
  CHECK(tl_parse_float("12345", 3, &d) && d == 123.0);
  CHECK(tl_parse_float("1.25e10", 4, &d) && d == 1.25);
}

/* Every double near the edges: the least subnormals, the largest
** subnormal and least normal, the largest double, and ties of the exact
** range (10^q * w halfway between two doubles). */
static void edges(void) {
  const char *s[] = {
    "4.9406564584124654e-324", "2.4703282292062328e-324", "2.4703282292062327e-324",
    "2.2250738585072011e-308", "2.2250738585072014e-308", "1.7976931348623157e308",
    "1.7976931348623158e308", "1.7976931348623159e308", "9007199254740993",
    "9007199254740995", "9007199254740993e3", "1.00000000000000011102230246251565404236316680908203125",
    "1.00000000000000011102230246251565404236316680908203124", "7.2057594037927933e16",
    "5e-324", "1e-323", "3e-324", "1e23", "8.98846567431158e307", "123456789012345678901234567890",
    "0.000000000000000000000000000000000000000000001", "4503599627370496.5", "4503599627370497.5",
  };
  for (size_t i = 0; i < sizeof s / sizeof *s; i++) same_as_strtod(s[i]);
  /* subnormals of random bits, and the doubles next to powers of two */
  for (int i = 0; i < 200000; i++) round_trip(of_bits(next() & 0x000FFFFFFFFFFFFFull), i < 50000);
  for (int e = 1; e < 2046; e++)
    for (int k = -2; k <= 2; k++) round_trip(of_bits(((uint64_t)e << 52) + (uint64_t)(int64_t)k), 1);
}

static void ints(void) {
  int64_t v = 0;
  char buf[64];
  long bad = 0;
  for (int i = 0; i < 1000000; i++) {
    int64_t x = (int64_t)next();
    x >>= next() % 64;   /* every length */
    snprintf(buf, sizeof buf, "%lld", (long long)x);
    if (tl_parse_int(buf, strlen(buf), &v) != 1 || v != x) bad++;
  }
  CHECK(bad == 0);
  /* a non-digit at each place of each length, the bytes next to '0' and '9' too */
  const char odd[] = { '/', ':', ' ', 'a', '.', '\0', (char)0xB0, (char)0xF9 };
  for (size_t n = 1; n <= 19; n++)
    for (size_t at = 0; at < n; at++)
      for (size_t k = 0; k < sizeof odd; k++) {
        memset(buf, '7', n);
        buf[at] = odd[k];
        if (tl_parse_int(buf, n, &v) != 0) bad++;
      }
  CHECK(bad == 0);
  CHECK(tl_parse_int("9223372036854775807", 19, &v) == 1 && v == INT64_MAX);
  CHECK(tl_parse_int("-9223372036854775808", 20, &v) == 1 && v == INT64_MIN);
  CHECK(tl_parse_int("9223372036854775808", 19, &v) == -1);
  CHECK(tl_parse_int("99999999999999999999", 20, &v) == -1);
  CHECK(tl_parse_int("123456789012345678901234", 24, &v) == -1);
  CHECK(tl_parse_int("007", 3, &v) == 0);
  CHECK(tl_parse_int("0", 1, &v) == 1 && v == 0);
  CHECK(tl_parse_int("-0", 2, &v) == 1 && v == 0);
  CHECK(tl_parse_int("+12", 3, &v) == 1 && v == 12);
  CHECK(tl_parse_int("12345678", 5, &v) == 1 && v == 12345);
  CHECK(tl_parse_int("", 0, &v) == 0 && tl_parse_int("-", 1, &v) == 0);
}

int main(void) {
  specials();
  for (int i = 0; i < 1000000; i++) round_trip(random_double(), i < 300000);
  char buf[128];
  for (int i = 0; i < 1000000; i++) {
    random_numeral(buf);
    same_as_strtod(buf);
  }
  for (int i = 0; i < 300000; i++) {   /* values as data has them: a few decimals */
    snprintf(buf, sizeof buf, "%.*f", (int)(next() % 7), exp((double)(next() % 4000) / 100.0 - 20));
    same_as_strtod(buf);
  }
  edges();
  if (mismatches) fprintf(stderr, "%ld numerals differ from strtod\n", mismatches);
  CHECK(mismatches == 0);
  ints();
  return check_done("parse_float");
}
