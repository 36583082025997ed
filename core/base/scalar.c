/*
** scalar.c -- single values as text, and the civil calendar that dates and
** timestamps are read and written with (ISO 8601, the shortest float text
** that reads back as the same double).
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/tally.h"

/* ---------------------------------------------------------------------------
** Dates: Howard Hinnant's civil algorithms over 400-year eras, which hold
** for the whole proleptic Gregorian calendar, negative years included.
*/
int32_t tl_days_from_civil(int y, int m, int d) {
  int64_t yy = (int64_t)y - (m <= 2);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;                                  /* [0, 399] */
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
  return (int32_t)(era * 146097 + doe - 719468);
}

void tl_civil_from_days(int32_t days, int *y, int *m, int *d) {
  int64_t z = (int64_t)days + 719468;            /* shift the epoch to 0000-03-01 */
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;              /* March is 0 */
  int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = mm;
  *y = (int)(yoe + era * 400 + (mm <= 2));
}

/* ---------------------------------------------------------------------------
** Scalars
*/

/* The year with at least four digits, and a sign when negative. */
static int fmt_date(char *buf, size_t size, int32_t days) {
  int y, m, d;
  tl_civil_from_days(days, &y, &m, &d);
  if (y < 0)
    return snprintf(buf, size, "-%04d-%02d-%02d", -y, m, d);
  return snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
}

static int fmt_timestamp(char *buf, size_t size, int64_t us) {
  const int64_t per_day = INT64_C(86400000000);
  int64_t days = us / per_day, rem = us % per_day;
  int n, secs;
  long frac;
  if (rem < 0) {                                 /* floor, for times before 1970 */
    rem += per_day;
    days -= 1;
  }
  n = fmt_date(buf, size, (int32_t)days);
  secs = (int)(rem / 1000000);
  frac = (long)(rem % 1000000);
  n += snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0, "T%02d:%02d:%02d",
                secs / 3600, secs / 60 % 60, secs % 60);
  if (frac != 0)
    n += snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0, ".%06ld", frac);
  return n;
}

/* The common case of fmt_float without printf and strtod: |x| in
** [1e-4, 1e15) is the nearest double to I / 10^d for an integer I below
** 10^15 (each power of ten up to 10^22 is a double, and the quotient of two
** doubles is correctly rounded, as strtod's result is). For the fewest
** decimals d that hold, %.15g gives those digits (x is within half an ulp
** of I / 10^d, far nearer than the 15th digit's half step), without an
** exponent. Gives 0 when it does not apply. */
static int fmt_float_decimal(char *buf, size_t size, double x) {
  double a = fabs(x), p = 1;
  if (!(a >= 1e-4 && a < 1e15) || size < 40) return 0;
  for (int d = 0; d <= 19; d++, p *= 10) {
    double y = a * p;
    if (y >= 1e15) return 0;
    double r = floor(y + 0.5);
    if (r / p != a) continue;
    char digits[24];
    int k = 0, n = 0;
    uint64_t u = (uint64_t)r;
    do { digits[k++] = (char)('0' + u % 10); u /= 10; } while (u || k <= d);
    if (x < 0) buf[n++] = '-';
    while (k > d) buf[n++] = digits[--k];
    buf[n++] = '.';
    if (d == 0) buf[n++] = '0';   /* an integral value keeps its ".0" */
    while (k > 0) buf[n++] = digits[--k];
    buf[n] = '\0';
    return n;
  }
  return 0;
}

/* The shortest of %.15g, %.16g and %.17g that reads back as the same
** double; an integral value keeps a ".0" so it still reads as a float. */
static int fmt_float(char *buf, size_t size, double x) {
  int prec, n = fmt_float_decimal(buf, size, x);
  if (n > 0) return n;
  if (isnan(x))
    return snprintf(buf, size, "nan");
  if (isinf(x))
    return snprintf(buf, size, x > 0 ? "inf" : "-inf");
  for (prec = 15; prec <= 17; prec++) {
    n = snprintf(buf, size, "%.*g", prec, x);
    if (prec == 17 || strtod(buf, NULL) == x)
      break;
  }
  if (strspn(buf, "-0123456789") == (size_t)n && (size_t)n + 2 < size) {
    memcpy(buf + n, ".0", 3);
    n += 2;
  }
  return n;
}

size_t tl_scalar_format(const tl_scalar *v, char *buf, size_t size) {
  char tmp[64];
  size_t n;
  const char *src = tmp;
  if (v->is_null) {
    n = (size_t)snprintf(tmp, sizeof tmp, "null");
  } else {
    switch (v->type) {
      case TL_BOOL:
        n = (size_t)snprintf(tmp, sizeof tmp, "%s", v->v.b ? "true" : "false");
        break;
      case TL_INT:
        n = (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)v->v.i);
        break;
      case TL_FLOAT:
        n = (size_t)fmt_float(tmp, sizeof tmp, v->v.f);
        break;
      case TL_DATE:
        n = (size_t)fmt_date(tmp, sizeof tmp, v->v.d);
        break;
      case TL_TIMESTAMP:
        n = (size_t)fmt_timestamp(tmp, sizeof tmp, v->v.i);
        break;
      case TL_STRING:
        src = v->v.s.ptr ? v->v.s.ptr : "";
        n = v->v.s.ptr ? v->v.s.len : 0;
        break;
      default:
        n = (size_t)snprintf(tmp, sizeof tmp, "?");
        break;
    }
  }
  if (size > 0) {
    size_t k = n < size - 1 ? n : size - 1;
    memcpy(buf, src, k);
    buf[k] = '\0';
  }
  return n;
}

/* A float for people to read: `digits` significant digits (%g), except
** that a number whose integral part has more digits than that shows that
** part whole ("1354501", never "1.3545e+06"), and only an integral value
** ends in ".0". */
static int fmt_float_digits(char *buf, size_t size, double x, int digits) {
  int n;
  double ax = fabs(x);
  if (isnan(x) || isinf(x))
    return fmt_float(buf, size, x);
  if (ax >= 1.0 && ax < 1e15 && floor(log10(ax)) >= digits)
    n = snprintf(buf, size, "%.0f", x);
  else
    n = snprintf(buf, size, "%.*g", digits, x);
  if (x == floor(x) && ax < 1e15 && strspn(buf, "-0123456789") == (size_t)n &&
      (size_t)n + 2 < size) {
    memcpy(buf + n, ".0", 3);
    n += 2;
  }
  return n;
}

size_t tl_scalar_format_digits(const tl_scalar *v, int digits, char *buf, size_t size) {
  char tmp[64];
  size_t n, k;
  if (digits <= 0 || v->is_null || v->type != TL_FLOAT)
    return tl_scalar_format(v, buf, size);
  n = (size_t)fmt_float_digits(tmp, sizeof tmp, v->v.f, digits > 17 ? 17 : digits);
  if (size > 0) {
    k = n < size - 1 ? n : size - 1;
    memcpy(buf, tmp, k);
    buf[k] = '\0';
  }
  return n;
}
