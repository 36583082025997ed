/*
** call_time.c -- the vector kernels of the date and time functions (parts,
** date_trunc, date_diff, date_sub, date_add, strftime, to_date,
** to_timestamp, epoch, make_date), of the casts and try_cast, and of date
** arithmetic. A value that does not convert is an error naming the row
** and the value (try_cast makes it a null).
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/datetime.h"
#include "base/parse.h"
#include "registry.h"
#include "time_int.h"

/* A date as a timestamp (its midnight; saturated past what a timestamp holds). */
static int64_t us_at(const vec *v, int i) {
  if (v->type != TL_DATE) return v->i[i];
  int64_t d = v->d[i];
  if (d > INT64_MAX / TL_US_PER_DAY) return INT64_MAX / TL_US_PER_DAY * TL_US_PER_DAY;
  if (d < INT64_MIN / TL_US_PER_DAY) return INT64_MIN / TL_US_PER_DAY * TL_US_PER_DAY;
  return d * TL_US_PER_DAY;
}
static int64_t days_at(const vec *v, int i) {
  return v->type == TL_DATE ? v->d[i] : tl_floor_div(v->i[i], TL_US_PER_DAY);
}

/* A null row's value: zero, in the width of the result's type. */
static void zero_row(vec *o, tl_type t, int i) {
  if (t == TL_DATE) o->d[i] = 0;
  else if (t == TL_BOOL) o->b[i] = 0;
  else if (t == TL_STRING) { o->s[i] = NULL; o->sl[i] = 0; }
  else o->i[i] = 0;
}

#define ROW(cx, i) ((long long)((cx)->start + (i) + 1))
#define LIVE(valid, i) (!(valid) || (valid)[i])

/* "<op>: <fn>: '<text>' at row R <what>", the text cut to 64 bytes. */
static tl_status bad_text(evalctx *cx, const expr *e, const char *s, int64_t n, int i,
                          const char *what) {
  int k = n > 64 ? 64 : (int)n;
  while (k > 0 && k < n && ((unsigned char)s[k] & 0xc0) == 0x80) k--;
  return tl_error_set(cx->err, TL_EINVAL, "%s: %s: '%.*s%s' at row %lld %s", cx->op, e->name, k,
                      k ? s : "", k < n ? "..." : "", ROW(cx, i), what);
}

static tl_status out_of_range(evalctx *cx, const expr *e, int i) {
  return tl_error_set(cx->err, TL_ERANGE, "%s: %s: result out of range at row %lld", cx->op,
                      e->name, ROW(cx, i));
}

/* ---------------------------------------------------------------------------
** Calendar steps
*/

/* Day `days` moved by `months`, the day kept or cut to the month's last. */
static int add_months(int64_t days, int64_t months, int64_t *out) {
  int y, m, d;
  tl_civil_from_days((int32_t)days, &y, &m, &d);
  if (months > 12 * 5000000LL || months < -12 * 5000000LL) return 0;
  int64_t t = (int64_t)y * 12 + (m - 1) + months;
  int64_t ny = tl_floor_div(t, 12);
  int nm = (int)(t - ny * 12) + 1;
  if (!tl_civil_valid(ny, nm, 1)) return 0;
  int dm = tl_days_in_month(ny, nm);
  *out = tl_days_from_civil((int)ny, nm, d < dm ? d : dm);
  return 1;
}

/* q * per, saturated: the start of a unit before the first instant a
** timestamp holds (any int64 may come, a null row's slot too). */
static int64_t times_sat(int64_t q, int64_t per) {
  int64_t r;
  return __builtin_mul_overflow(q, per, &r) ? (q < 0 ? INT64_MIN : INT64_MAX) : r;
}

static int64_t trunc_us(int64_t us, int unit) {
  static const int64_t per[] = { 0, 0, 0, 0, TL_US_PER_DAY, 3600000000LL, 60000000LL, 1000000LL };
  if (unit >= TU_DAY) return times_sat(tl_floor_div(us, per[unit]), per[unit]);
  int64_t days = tl_floor_div(us, TL_US_PER_DAY);
  if (unit == TU_WEEK) return times_sat(days - tl_iso_weekday(days) + 1, TL_US_PER_DAY);
  int y, m, d;
  tl_civil_from_days((int32_t)days, &y, &m, &d);
  if (unit == TU_YEAR) m = 1;
  else if (unit == TU_QUARTER) m = (m - 1) / 3 * 3 + 1;
  return times_sat(tl_days_from_civil(y, m, 1), TL_US_PER_DAY);
}

/* Unit boundaries crossed from a to b (as DuckDB's date_diff). */
static int64_t diff_units(int unit, int64_t a, int64_t b) {
  static const int64_t per[] = { 0, 0, 0, 0, TL_US_PER_DAY, 3600000000LL, 60000000LL, 1000000LL };
  if (unit >= TU_DAY) return tl_floor_div(b, per[unit]) - tl_floor_div(a, per[unit]);
  int64_t da = tl_floor_div(a, TL_US_PER_DAY), db = tl_floor_div(b, TL_US_PER_DAY);
  if (unit == TU_WEEK) return (db - da) / 7;
  int ya, ma, xa, yb, mb, xb;
  tl_civil_from_days((int32_t)da, &ya, &ma, &xa);
  tl_civil_from_days((int32_t)db, &yb, &mb, &xb);
  if (unit == TU_YEAR) return (int64_t)yb - ya;
  if (unit == TU_QUARTER) return ((int64_t)yb * 4 + (mb - 1) / 3) - ((int64_t)ya * 4 + (ma - 1) / 3);
  return ((int64_t)yb * 12 + mb) - ((int64_t)ya * 12 + ma);
}

/* Whole units elapsed from a to b (as DuckDB's date_sub). */
static int64_t sub_units(int unit, int64_t a, int64_t b) {
  static const int64_t per[] = { 0, 0, 0, 0, TL_US_PER_DAY, 3600000000LL, 60000000LL, 1000000LL };
  int64_t d = 0;
  if (unit >= TU_WEEK && __builtin_sub_overflow(b, a, &d)) {   /* far apart: to the day is close enough */
    int64_t days = b / TL_US_PER_DAY - a / TL_US_PER_DAY;
    return unit == TU_WEEK ? days / 7 : unit == TU_DAY ? days : days * (TL_US_PER_DAY / per[unit]);
  }
  if (unit >= TU_DAY) return d / per[unit];
  if (unit == TU_WEEK) return d / (7 * TL_US_PER_DAY);
  int sign = 1;
  if (a > b) { int64_t t = a; a = b; b = t; sign = -1; }   /* counted forward, as DuckDB */
  int64_t months = diff_units(TU_MONTH, a, b);
  int64_t da = tl_floor_div(a, TL_US_PER_DAY), tod = tl_floor_mod(a, TL_US_PER_DAY), moved;
  /* one step back at most: a's day moved by the months may pass b */
  if (months > 0 && add_months(da, months, &moved) && moved * TL_US_PER_DAY + tod > b) months--;
  months *= sign;
  return unit == TU_YEAR ? months / 12 : unit == TU_QUARTER ? months / 3 : months;
}

/* ---------------------------------------------------------------------------
** Casts
*/
static int is_sp(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void trim(const char **s, int64_t *n) {
  while (*n > 0 && is_sp((unsigned char)**s)) { (*s)++; (*n)--; }
  while (*n > 0 && is_sp((unsigned char)(*s)[*n - 1])) (*n)--;
}

/* A float to int64, truncated toward zero; 0 when out of range or NaN. */
static int float_to_int(double x, int64_t *out) {
  if (!(x > -9223372036854775809.0 && x < 9223372036854775808.0)) return 0;
  *out = (int64_t)x;
  return 1;
}

static int text_to_int(const char *s, int64_t n, int64_t *out) {
  trim(&s, &n);
  int64_t i = 0, v = 0;
  int neg = 0;
  if (i < n && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  if (i == n) return 0;
  int64_t j = i;
  uint64_t u = 0;
  for (; j < n && s[j] >= '0' && s[j] <= '9'; j++)
    if (__builtin_mul_overflow(u, 10, &u) || __builtin_add_overflow(u, (unsigned)(s[j] - '0'), &u))
      return 0;
  if (j == n) {
    if (u > (uint64_t)INT64_MAX + (uint64_t)neg) return 0;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 1;
  }
  double d;
  if (!tl_parse_float(s, (size_t)n, &d) || !float_to_int(d, &v)) return 0;
  *out = v;
  return 1;
}

static int text_to_bool(const char *s, int64_t n, uint8_t *out) {
  static const char *const yes[] = { "true", "t", "yes", "y", "1" }, *const no[] = { "false", "f", "no", "n", "0" };
  trim(&s, &n);
  for (int k = 0; k < 5; k++) {
    size_t ly = strlen(yes[k]), ln = strlen(no[k]);
    if ((size_t)n == ly && strncasecmp(s, yes[k], ly) == 0) { *out = 1; return 1; }
    if ((size_t)n == ln && strncasecmp(s, no[k], ln) == 0) { *out = 0; return 1; }
  }
  return 0;
}

/* Row i of a into row i of o as type `to` (not a string). Returns 1, or 0
** when the value does not convert; *why says what it is not. */
static int cast_row(tl_type to, const vec *a, int i, vec *o, const char **why) {
  tl_type from = a->type;
  const char *s = from == TL_STRING ? a->s[i] : NULL;
  int64_t n = from == TL_STRING ? a->sl[i] : 0;
  int64_t us;
  int date_only;
  switch (to) {
    case TL_INT:
      *why = "is not an integer";
      if (from == TL_INT) { o->i[i] = a->i[i]; return 1; }
      if (from == TL_BOOL) { o->i[i] = a->b[i]; return 1; }
      if (from == TL_FLOAT) { *why = "is out of the range of int"; return float_to_int(a->f[i], &o->i[i]); }
      return text_to_int(s, n, &o->i[i]);
    case TL_FLOAT:
      *why = "is not a number";
      if (from == TL_FLOAT) { o->f[i] = a->f[i]; return 1; }
      if (from == TL_INT) { o->f[i] = (double)a->i[i]; return 1; }
      if (from == TL_BOOL) { o->f[i] = a->b[i]; return 1; }
      trim(&s, &n);
      return tl_parse_float(s, (size_t)n, &o->f[i]);
    case TL_BOOL:
      *why = "is not a boolean";
      if (from == TL_BOOL) { o->b[i] = a->b[i]; return 1; }
      if (from == TL_INT) { o->b[i] = a->i[i] != 0; return 1; }
      if (from == TL_FLOAT) { o->b[i] = a->f[i] != 0; return 1; }
      return text_to_bool(s, n, &o->b[i]);
    case TL_DATE:
      *why = "is not a date";
      if (from != TL_STRING) { o->d[i] = (int32_t)days_at(a, i); return 1; }
      trim(&s, &n);
      if (tl_parse_iso(s, (size_t)n, &us, &date_only) != 1) return 0;
      o->d[i] = (int32_t)tl_floor_div(us, TL_US_PER_DAY);
      return 1;
    default:   /* timestamp */
      *why = "is not a timestamp";
      if (from != TL_STRING) { o->i[i] = us_at(a, i); return 1; }
      trim(&s, &n);
      if (tl_parse_iso(s, (size_t)n, &us, &date_only) != 1) return 0;
      o->i[i] = us;
      return 1;
  }
}

/* Writes row i's text at e->sbuf + *used; the offset is kept in o->s. */
static tl_status put_text(expr *e, evalctx *cx, size_t *used, int i, const char *s, size_t n) {
  vec *o = &e->out;
  if (!sbuf_reserve(e, *used, n)) return tl_error_oom(cx->err, cx->op);
  if (n) memcpy(e->sbuf + *used, s, n);
  o->s[i] = (const char *)(uintptr_t)*used;
  o->sl[i] = (int64_t)n;
  *used += n;
  return TL_OK;
}

/* The string offsets of a vector as pointers into e->sbuf. */
static void fix_text(expr *e, const uint8_t *valid, evalctx *cx) {
  vec *o = &e->out;
  ROWS(cx, i, {
    if (LIVE(valid, i)) o->s[i] = e->sbuf ? e->sbuf + (uintptr_t)o->s[i] : "";
    else { o->s[i] = NULL; o->sl[i] = 0; }
  });
}

static tl_status call_cast(expr *e, const vec *a, uint8_t *valid, evalctx *cx) {
  vec *o = &e->out;
  tl_type to = (tl_type)e->col;
  int try = e->fn == F_TRY_CAST;
  if (to == TL_STRING) {
    size_t used = 0;
    ROWS(cx, i, {
      if (!LIVE(valid, i)) continue;
      char buf[64];
      tl_scalar v;
      memset(&v, 0, sizeof v);
      v.type = a->type;
      switch (a->type) {
        case TL_STRING: TL_TRY(put_text(e, cx, &used, i, a->s[i], (size_t)a->sl[i])); continue;
        case TL_INT: case TL_TIMESTAMP: v.v.i = a->i[i]; break;
        case TL_FLOAT: v.v.f = a->f[i]; break;
        case TL_DATE: v.v.d = a->d[i]; break;
        default: v.v.b = a->b[i]; break;
      }
      size_t k = tl_scalar_format(&v, buf, sizeof buf);
      TL_TRY(put_text(e, cx, &used, i, buf, k < sizeof buf ? k : sizeof buf - 1));
    });
    fix_text(e, valid, cx);
    return TL_OK;
  }
  if (try && !valid) {
    valid = o->valid;
    memset(valid, 1, (size_t)cx->n);
    o->valid = valid;
  }
  ROWS(cx, i, {
    const char *why;
    if (!LIVE(valid, i)) { zero_row(o, e->type, i); continue; }
    if (cast_row(to, a, i, o, &why)) continue;
    if (try) { null_row(o, to, i); continue; }
    if (a->type == TL_STRING) return bad_text(cx, e, a->s[i], a->sl[i], i, why);
    char buf[64];
    tl_scalar v;   /* a float, as it prints */
    memset(&v, 0, sizeof v);
    v.type = TL_FLOAT;
    v.v.f = a->f[i];
    size_t k = tl_scalar_format(&v, buf, sizeof buf);
    return bad_text(cx, e, buf, (int64_t)(k < sizeof buf ? k : sizeof buf - 1), i, why);
  });
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Text to dates and back
*/
static tl_status call_parse(expr *e, const vec *a, const uint8_t *valid, evalctx *cx) {
  vec *o = &e->out;
  int to_date = e->fn == F_TO_DATE;
  const char *fmt = e->nargs > 1 ? e->args[1]->lit.v.s.ptr : NULL;
  if (a->type != TL_STRING) {   /* to_timestamp(epoch seconds) */
    ROWS(cx, i, {
      if (!LIVE(valid, i)) { zero_row(o, e->type, i); continue; }
      double x = a->type == TL_FLOAT ? a->f[i] * 1e6 : (double)a->i[i] * 1e6;
      if (!(x > -9.2e18 && x < 9.2e18)) return out_of_range(cx, e, i);
      o->i[i] = (int64_t)llround(x);
    });
    return TL_OK;
  }
  ROWS(cx, i, {
    if (!LIVE(valid, i)) { zero_row(o, e->type, i); continue; }
    int64_t us;
    int r, date_only;
    r = fmt ? tl_strptime(fmt, a->s[i], (size_t)a->sl[i], &us, NULL)
            : tl_parse_iso(a->s[i], (size_t)a->sl[i], &us, &date_only);
    if (r != 1) {
      char what[160];
      if (r < 0) snprintf(what, sizeof what, "is not a valid %s", to_date ? "date" : "timestamp");
      else if (fmt) snprintf(what, sizeof what, "does not match the format '%.80s'", fmt);
      else snprintf(what, sizeof what, "is not an ISO 8601 %s", to_date ? "date" : "timestamp");
      return bad_text(cx, e, a->s[i], a->sl[i], i, what);
    }
    if (to_date) o->d[i] = (int32_t)tl_floor_div(us, TL_US_PER_DAY);
    else o->i[i] = us;
  });
  return TL_OK;
}

static tl_status call_strftime(expr *e, const vec *a, const uint8_t *valid, evalctx *cx) {
  const char *fmt = e->args[1]->lit.v.s.ptr;
  size_t used = 0;
  int is_date = a->type == TL_DATE;
  ROWS(cx, i, {
    if (!LIVE(valid, i)) continue;
    char buf[256];
    size_t k = tl_strftime(fmt, us_at(a, i), is_date, buf, sizeof buf);
    if (k > sizeof buf) {   /* a long format: write it in place */
      if (!sbuf_reserve(e, used, k)) return tl_error_oom(cx->err, cx->op);
      tl_strftime(fmt, us_at(a, i), is_date, e->sbuf + used, k);
      e->out.s[i] = (const char *)(uintptr_t)used;
      e->out.sl[i] = (int64_t)k;
      used += k;
    } else {
      TL_TRY(put_text(e, cx, &used, i, buf, k));
    }
  });
  fix_text(e, valid, cx);
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** The rest
*/
static tl_status call_parts(expr *e, const vec *a, evalctx *cx) {
  int64_t *r = e->out.i;
  int ts = a->type == TL_TIMESTAMP;
  switch (e->fn) {
    case F_HOUR: ROWS(cx, i, r[i] = ts ? tl_floor_mod(a->i[i], TL_US_PER_DAY) / 3600000000LL : 0); break;
    case F_MINUTE: ROWS(cx, i, r[i] = ts ? tl_floor_mod(a->i[i], 3600000000LL) / 60000000LL : 0); break;
    case F_SECOND: ROWS(cx, i, r[i] = ts ? tl_floor_mod(a->i[i], 60000000LL) / 1000000 : 0); break;
    case F_WEEKDAY: ROWS(cx, i, r[i] = tl_iso_weekday(days_at(a, i))); break;
    case F_WEEK: ROWS(cx, i, r[i] = tl_iso_week(days_at(a, i), NULL)); break;
    default:
      ROWS(cx, i, {
        int y, m, d;
        int64_t days = days_at(a, i);
        tl_civil_from_days((int32_t)days, &y, &m, &d);
        r[i] = e->fn == F_QUARTER ? (m - 1) / 3 + 1 : days - tl_days_from_civil(y, 1, 1) + 1;
      });
  }
  return TL_OK;
}

static tl_status call_date_add(expr *e, const vec *x, const uint8_t *valid, evalctx *cx) {
  vec *o = &e->out;
  const vec *nv = &e->args[1]->out;
  int unit = e->col;
  static const int64_t per[] = { 0, 0, 0, 0, TL_US_PER_DAY, 3600000000LL, 60000000LL, 1000000LL };
  ROWS(cx, i, {
    if (!LIVE(valid, i)) { zero_row(o, e->type, i); continue; }
    int64_t n = nv->i[i], r;
    if (unit <= TU_MONTH) {
      int64_t days = days_at(x, i), months, moved;
      if (__builtin_mul_overflow(n, unit == TU_YEAR ? 12 : unit == TU_QUARTER ? 3 : 1, &months) ||
          !add_months(days, months, &moved))
        return out_of_range(cx, e, i);
      if (e->type == TL_DATE) { o->d[i] = (int32_t)moved; continue; }
      if (__builtin_mul_overflow(moved, TL_US_PER_DAY, &r) ||
          __builtin_add_overflow(r, us_at(x, i) - days * TL_US_PER_DAY, &r))
        return out_of_range(cx, e, i);
    } else {
      int64_t step = unit == TU_WEEK ? 7 * TL_US_PER_DAY : per[unit], d;
      if (__builtin_mul_overflow(n, step, &d) || __builtin_add_overflow(us_at(x, i), d, &r))
        return out_of_range(cx, e, i);
    }
    if (e->type == TL_DATE) {
      int64_t days = tl_floor_div(r, TL_US_PER_DAY);
      if (days < -2147483647LL || days > 2147483647LL) return out_of_range(cx, e, i);
      o->d[i] = (int32_t)days;
    } else {
      o->i[i] = r;
    }
  });
  return TL_OK;
}

tl_status tl_expr_call_time(expr *e, const vec *a, uint8_t *valid, evalctx *cx) {
  vec *o = &e->out;
  if (!a->type && e->fn != F_DATE_TRUNC && e->fn != F_DATE_DIFF && e->fn != F_DATE_SUB)
    return TL_OK;   /* a bare null: every row is null already */
  switch (e->fn) {
    case F_HOUR: case F_MINUTE: case F_SECOND: case F_WEEKDAY: case F_YEARDAY:
    case F_QUARTER: case F_WEEK:
      return call_parts(e, a, cx);
    case F_EPOCH:
      ROWS(cx, i, o->f[i] = (double)us_at(a, i) / 1e6);
      return TL_OK;
    case F_DATE_TRUNC: {
      const vec *x = &e->args[1]->out;
      if (!x->type) return TL_OK;
      int unit = e->col;
      if (e->type == TL_DATE && unit == TU_MONTH) {   /* the common case, in days */
        const int32_t *xd = x->d;
        int32_t *od = o->d;
        ROWS(cx, i, od[i] = tl_month_start(xd[i]));
      } else if (e->type == TL_DATE && unit == TU_DAY) {
        const int32_t *xd = x->d;
        int32_t *od = o->d;
        ROWS(cx, i, od[i] = xd[i]);
      } else if (x->type == TL_TIMESTAMP && unit == TU_MONTH) {
        const int64_t *xi = x->i;
        ROWS(cx, i, {
          int32_t day = (int32_t)tl_floor_div(xi[i], TL_US_PER_DAY);   /* any int64: fits */
          o->i[i] = times_sat(tl_month_start(day), TL_US_PER_DAY);
        });
      } else if (e->type == TL_DATE) {
        ROWS(cx, i, o->d[i] = (int32_t)(trunc_us(us_at(x, i), unit) / TL_US_PER_DAY));
      } else {
        ROWS(cx, i, o->i[i] = trunc_us(us_at(x, i), unit));
      }
      return TL_OK;
    }
    case F_DATE_DIFF: case F_DATE_SUB: {
      const vec *x = &e->args[1]->out, *y = &e->args[2]->out;
      if (!x->type || !y->type) return TL_OK;
      int unit = e->col, diff = e->fn == F_DATE_DIFF;
      ROWS(cx, i, {
        int64_t p = us_at(x, i), q = us_at(y, i);
        o->i[i] = diff ? diff_units(unit, p, q) : sub_units(unit, p, q);
      });
      return TL_OK;
    }
    case F_DATE_ADD:
      if (!e->args[1]->out.type) return TL_OK;
      return call_date_add(e, a, valid, cx);
    case F_STRFTIME:
      return call_strftime(e, a, valid, cx);
    case F_TO_DATE: case F_TO_TIMESTAMP:
      return call_parse(e, a, valid, cx);
    case F_MAKE_DATE: {
      const vec *m = &e->args[1]->out, *d = &e->args[2]->out;
      if (!m->type || !d->type) return TL_OK;
      ROWS(cx, i, {
        if (!LIVE(valid, i)) { o->d[i] = 0; continue; }
        int64_t yy = a->i[i], mm = m->i[i], dd = d->i[i];
        if (mm < 1 || mm > 12 || dd < 1 || dd > 31 || !tl_civil_valid(yy, (int)mm, (int)dd)) {
          char buf[96];
          snprintf(buf, sizeof buf, "%lld-%lld-%lld", (long long)yy, (long long)mm, (long long)dd);
          return bad_text(cx, e, buf, (int64_t)strlen(buf), i, "is not a date");
        }
        o->d[i] = tl_days_from_civil((int)yy, (int)mm, (int)dd);
      });
      return TL_OK;
    }
    default:
      return call_cast(e, a, valid, cx);
  }
}

tl_status tl_expr_time_arith(expr *e, const vec *a, const vec *b, evalctx *cx) {
  vec *o = &e->out;
  const uint8_t *valid = o->valid;
  if (e->type == TL_DATE) {   /* date + int, int + date, date - int */
    const vec *dv = a->type == TL_DATE ? a : b, *nv = a->type == TL_DATE ? b : a;
    int sub = e->op == OP_SUB;
    ROWS(cx, i, {
      if (!LIVE(valid, i)) { o->d[i] = 0; continue; }
      int64_t k = nv->i[i], r = 0;   /* k checked before it is added: any int64 may come */
      if (k < -INT32_MAX || k > INT32_MAX ||
          (r = (int64_t)dv->d[i] + (sub ? -k : k)) < -INT32_MAX || r > INT32_MAX) {
        return tl_error_set(cx->err, TL_ERANGE, "%s: date out of range in '%s' at row %lld",
                            cx->op, sub ? "-" : "+", ROW(cx, i));
      }
      o->d[i] = (int32_t)r;
    });
  } else if (e->type == TL_INT) {   /* date - date: days */
    ROWS(cx, i, o->i[i] = (int64_t)a->d[i] - b->d[i]);
  } else {   /* seconds between two instants */
    ROWS(cx, i, {
      int64_t d;
      o->f[i] = __builtin_sub_overflow(us_at(a, i), us_at(b, i), &d)
                  ? ((double)us_at(a, i) - (double)us_at(b, i)) / 1e6 : (double)d / 1e6;
    });
  }
  return TL_OK;
}
