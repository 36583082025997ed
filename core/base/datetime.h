/*
** datetime.h -- the calendar arithmetic of dates and timestamps, and the
** strftime/strptime formats they are written and read with (internal to
** the core). English month and day names whatever the locale; UTC only.
*/
#ifndef TL_DATETIME_H
#define TL_DATETIME_H

#include <stddef.h>
#include <stdint.h>

#define TL_US_PER_DAY INT64_C(86400000000)
/* The years a day may have: every such day is a timestamp too. */
#define TL_MAX_YEAR 290000

/* Floor division and its remainder (b > 0). */
static inline int64_t tl_floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}
static inline int64_t tl_floor_mod(int64_t a, int64_t b) {   /* no overflow, even at INT64_MIN */
  int64_t r = a % b;
  return r < 0 ? r + b : r;
}

/* The first day of the month of day `days` (since 1970-01-01), as
** tl_civil_from_days and tl_days_from_civil would give it, inlined for the
** loops of date_trunc. n counts days from 0000-03-01, moved on by 14700
** 400-year eras so that it is never negative. In an era the centuries have
** 36524 days but the last, 36525, and (4n + 3) / 146097 numbers them so:
** its remainder over 4 is the day of the century. In a century the years
** have 365 days but every fourth, 366: the same step with 1461 gives the day
** of the March-based year. Every division is by a constant, which compiles
** to a multiplication; only the first is in 64 bits. */
static inline int32_t tl_month_start(int32_t days) {
  uint64_t n4 = 4 * (uint64_t)((int64_t)days + 719468 + INT64_C(146097) * 14700) + 3;
  uint32_t doc4 = (uint32_t)(n4 % 146097) | 3;   /* 4 * (day of century) + 3 */
  uint32_t doy = doc4 % 1461 / 4;                /* [0, 365], March 1st: 0 */
  uint32_t mp = (5 * doy + 2) / 153;             /* March: 0 */
  return (int32_t)((int64_t)days - doy + (153 * mp + 2) / 5);
}

int tl_is_leap(int64_t y);
int tl_days_in_month(int64_t y, int m);
/* 1 when y-m-d is a day of years -TL_MAX_YEAR..TL_MAX_YEAR. */
int tl_civil_valid(int64_t y, int m, int d);

/* A timestamp's fields. */
typedef struct tl_civil {
  int y, m, d, hh, mi, ss, us;
} tl_civil;

void tl_civil_of_us(int64_t us, tl_civil *c);
/* ISO weekday of a day since 1970-01-01: Monday 1 .. Sunday 7. */
int tl_iso_weekday(int64_t days);
/* ISO 8601 week number (1..53) of a day; *iso_year its week-year. */
int tl_iso_week(int64_t days, int *iso_year);

/* Reads s[0..n) by the strptime format fmt (%Y %m %d %H %M %S %f %b %B
** %a %A %j %z %Z %p %I %y %e %F %T %%; a space matches any white space).
** Returns 1 with *us the instant in UTC, 0 when the text does not have the
** format's shape, -1 when it has it but names no day or time (2015-02-30).
** *has_time, when not NULL, says whether the format reads a time of day. */
int tl_strptime(const char *fmt, const char *s, size_t n, int64_t *us, int *has_time);

/* Writes the instant us by the strftime format fmt into buf (at most cap
** bytes, no NUL); returns the length of the whole text, which may exceed
** cap. is_date: a date, whose time fields are zero. */
size_t tl_strftime(const char *fmt, int64_t us, int is_date, char *buf, size_t cap);

/* ISO 8601: "YYYY-MM-DD", then optionally [T or space]HH:MM[:SS[.f]] and
** Z or +HH[:MM] / -HH[:MM] (converted to UTC). Returns 1 (*date_only says
** whether a time followed), 0 when not ISO, -1 when ISO but not a real day
** or time. */
int tl_parse_iso(const char *s, size_t n, int64_t *us, int *date_only);

#endif
