/*
** test_format_float.c -- floats as text (tl_scalar_format): the shortest of
** %.15g, %.16g and %.17g that reads back as the same double, with ".0" after
** an integral value, as printf and strtod give it (the oracle, written here).
** Decimal numerals of every length and scale, the doubles next to them,
** random bit patterns, the edges of the fast path (1e-4, 1e15), zeros,
** subnormals, infinities and NaN.
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tally/tally.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint64_t next(void) {   /* xorshift64* */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545F4914F6CDD1Dull;
}

static void oracle(double x, char *buf, size_t size) {
  int n = 0;
  if (isnan(x)) { snprintf(buf, size, "nan"); return; }
  if (isinf(x)) { snprintf(buf, size, x > 0 ? "inf" : "-inf"); return; }
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(buf, size, "%.*g", prec, x);
    if (prec == 17 || strtod(buf, NULL) == x) break;
  }
  if (strspn(buf, "-0123456789") == (size_t)n) memcpy(buf + n, ".0", 3);
}

static long tried, mismatches;

static void same(double x) {
  char want[64], got[64];
  tl_scalar v = { 0 };
  v.type = TL_FLOAT;
  v.v.f = x;
  oracle(x, want, sizeof want);
  size_t n = tl_scalar_format(&v, got, sizeof got);
  tried++;
  if (strcmp(want, got) != 0 || n != strlen(want)) {
    if (mismatches++ < 10) fprintf(stderr, "%a: got %s, want %s\n", x, got, want);
  }
}

static double pow10i(int d) {
  double p = 1;
  for (int k = 0; k < d; k++) p *= 10;
  return p;
}

int main(void) {
  /* decimals: up to 18 digits, 0 to 20 decimals, both signs; their neighbours */
  for (int i = 0; i < 200000; i++) {
    uint64_t r = next();
    int digits = 1 + (int)(r % 18), d = (int)((r >> 8) % 21);
    int64_t m = (int64_t)(next() % (uint64_t)pow10i(digits));
    double x = (double)m / pow10i(d);
    if (r & (1u << 20)) x = -x;
    same(x);
    same(nextafter(x, INFINITY));
    same(nextafter(x, -INFINITY));
  }
  /* two-decimal money, as in the data the benchmarks use */
  for (int64_t c = 0; c < 2000000; c += 7) same((double)c / 100);
  /* random bit patterns */
  for (int i = 0; i < 200000; i++) {
    uint64_t b = next();
    double x;
    memcpy(&x, &b, sizeof x);
    same(x);
  }
  /* the edges */
  const double edge[] = { 0.0, -0.0, 1e-4, 9.99999999999999e-5, 1e15, 999999999999999.0,
                          999999999999999.9, 1e15 - 0.5, 0.1, 0.2, 0.30000000000000004,
                          1.0 / 3, 2.0 / 3, 123456789012345.6, 4.9e-324, 2.2250738585072014e-308,
                          1.7976931348623157e308, INFINITY, -INFINITY, NAN, 1e22, 1e23,
                          9007199254740992.0, 9007199254740993.0, 0.5, 5e-5, 1.5e-4 };
  for (size_t k = 0; k < sizeof edge / sizeof *edge; k++) {
    same(edge[k]);
    same(-edge[k]);
    same(nextafter(edge[k], INFINITY));
    same(nextafter(edge[k], -INFINITY));
  }
  printf("%ld floats, %ld mismatches\n", tried, mismatches);
  CHECK(mismatches == 0);
  return check_done("test_format_float");
}
