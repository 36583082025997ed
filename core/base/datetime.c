/*
** datetime.c -- calendar arithmetic (leap years, ISO weeks), and strftime /
** strptime formats written here rather than taken from the C library, whose
** names depend on the locale and whose strptime accepts February 30.
*/
#include <string.h>

#include "datetime.h"
#include "tally/tally.h"

static const char *const month_names[12] = {
  "january", "february", "march", "april", "may", "june", "july", "august",
  "september", "october", "november", "december"
};
static const char *const day_names[7] = {   /* ISO order: Monday first */
  "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
};

int tl_is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int tl_days_in_month(int64_t y, int m) {
  static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  if (m < 1 || m > 12) return 0;
  return m == 2 && tl_is_leap(y) ? 29 : dm[m - 1];
}

int tl_civil_valid(int64_t y, int m, int d) {
  return y >= -TL_MAX_YEAR && y <= TL_MAX_YEAR && m >= 1 && m <= 12 && d >= 1 &&
         d <= tl_days_in_month(y, m);
}

void tl_civil_of_us(int64_t us, tl_civil *c) {
  int64_t days = tl_floor_div(us, TL_US_PER_DAY), rem = us - days * TL_US_PER_DAY;
  tl_civil_from_days((int32_t)days, &c->y, &c->m, &c->d);
  int64_t secs = rem / 1000000;
  c->us = (int)(rem % 1000000);
  c->hh = (int)(secs / 3600);
  c->mi = (int)(secs / 60 % 60);
  c->ss = (int)(secs % 60);
}

int tl_iso_weekday(int64_t days) { return (int)tl_floor_mod(days + 3, 7) + 1; }   /* 1970-01-01: Thursday */

int tl_iso_week(int64_t days, int *iso_year) {
  /* the week's Thursday decides its year */
  int64_t thu = days - tl_iso_weekday(days) + 4;
  int y, m, d;
  tl_civil_from_days((int32_t)thu, &y, &m, &d);
  int64_t jan1 = tl_days_from_civil(y, 1, 1);
  if (iso_year) *iso_year = y;
  return (int)((thu - jan1) / 7 + 1);
}

/* ---------------------------------------------------------------------------
** strptime
*/
static int lc(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static int is_space(int c) { return c == ' ' || (unsigned)(c - '\t') <= '\r' - '\t'; }   /* \t \n \v \f \r */

/* Up to `max` digits (at least one) at s[*i]. */
static int read_num(const char *s, size_t n, size_t *i, int max, int64_t *out) {
  int64_t v = 0;
  int k = 0;
  while (*i < n && k < max && s[*i] >= '0' && s[*i] <= '9') { v = v * 10 + (s[*i] - '0'); (*i)++; k++; }
  *out = v;
  return k > 0;
}

/* A month or day name (the full name or its first three letters; a
** letter right after the three makes them no abbreviation: "Juneau" is no
** June). The names' first three letters differ, so those pick the one name
** the text can be. */
static int read_name(const char *s, size_t n, size_t *i, const char *const *names, int count,
                     int *out) {
  if (*i + 3 > n) return 0;
  int a = lc((unsigned char)s[*i]), b = lc((unsigned char)s[*i + 1]), c = lc((unsigned char)s[*i + 2]);
  for (int k = 0; k < count; k++) {
    const char *nm = names[k];
    if (nm[0] != a || nm[1] != b || nm[2] != c) continue;
    size_t j = 3;
    while (nm[j] && *i + j < n && lc((unsigned char)s[*i + j]) == nm[j]) j++;
    if (nm[j] && (j > 3 || (*i + 3 < n && lc((unsigned char)s[*i + 3]) >= 'a' &&
                            lc((unsigned char)s[*i + 3]) <= 'z')))
      return 0;   /* more than the abbreviation but not the whole name, or a longer word */
    *i += j;
    *out = k;
    return 1;
  }
  return 0;
}

typedef struct fields {
  int64_t y, m, d, hh, mi, ss, us, yday, off;   /* off: seconds east of UTC */
  int pm, h12, has_yday, has_time, century2;
} fields;

/* Reads a UTC offset: Z, +HH, +HHMM or +HH:MM. */
static int read_offset(const char *s, size_t n, size_t *i, int64_t *off) {
  if (*i < n && (s[*i] == 'Z' || s[*i] == 'z')) { (*i)++; *off = 0; return 1; }
  if (*i >= n || (s[*i] != '+' && s[*i] != '-')) return 0;
  int neg = s[*i] == '-';
  int64_t h, m = 0;
  (*i)++;
  size_t st = *i;
  if (!read_num(s, n, i, 2, &h) || *i - st != 2) return 0;
  if (*i < n && s[*i] == ':') {
    (*i)++;
    st = *i;
    if (!read_num(s, n, i, 2, &m) || *i - st != 2) return 0;
  } else if (*i + 1 < n && s[*i] >= '0' && s[*i] <= '9') {
    st = *i;
    if (!read_num(s, n, i, 2, &m) || *i - st != 2) return 0;
  }
  if (h > 23 || m > 59) return -1;
  *off = (neg ? -1 : 1) * (h * 3600 + m * 60);
  return 1;
}

/* One directive c at s[*i]; returns 1, 0 (no match) or -1 (out of range). */
static int directive(char c, const char *s, size_t n, size_t *i, fields *f) {
  int64_t v;
  int k;
  switch (c) {
    case 'Y': {
      int neg = *i < n && s[*i] == '-';
      if (neg) (*i)++;
      if (!read_num(s, n, i, 4, &v)) return 0;
      f->y = neg ? -v : v;
      return 1;
    }
    case 'y':
      if (!read_num(s, n, i, 2, &v)) return 0;
      f->y = v < 69 ? 2000 + v : 1900 + v;
      return 1;
    case 'm': if (!read_num(s, n, i, 2, &f->m)) return 0; return 1;
    case 'd': case 'e':
      if (c == 'e' && *i < n && s[*i] == ' ') (*i)++;
      if (!read_num(s, n, i, 2, &f->d)) return 0;
      return 1;
    case 'j': if (!read_num(s, n, i, 3, &f->yday)) return 0; f->has_yday = 1; return 1;
    case 'H': f->has_time = 1; return read_num(s, n, i, 2, &f->hh);
    case 'I': f->has_time = 1; f->h12 = 1; return read_num(s, n, i, 2, &f->hh);
    case 'M': f->has_time = 1; return read_num(s, n, i, 2, &f->mi);
    case 'S': f->has_time = 1; return read_num(s, n, i, 2, &f->ss);
    case 'f': {
      size_t st = *i;
      if (!read_num(s, n, i, 6, &v)) return 0;
      for (size_t z = *i - st; z < 6; z++) v *= 10;
      f->us = v;
      while (*i < n && s[*i] >= '0' && s[*i] <= '9') (*i)++;   /* nanoseconds: cut */
      f->has_time = 1;
      return 1;
    }
    case 'b': case 'B': case 'h':
      if (!read_name(s, n, i, month_names, 12, &k)) return 0;
      f->m = k + 1;
      return 1;
    case 'a': case 'A':
      return read_name(s, n, i, day_names, 7, &k);   /* read, and not checked against the day */
    case 'p':
      if (*i + 2 > n) return 0;
      if (lc((unsigned char)s[*i + 1]) != 'm') return 0;
      if (lc((unsigned char)s[*i]) == 'a') f->pm = 1;
      else if (lc((unsigned char)s[*i]) == 'p') f->pm = 2;
      else return 0;
      *i += 2;
      return 1;
    case 'z': case 'Z':
      f->has_time = 1;
      return read_offset(s, n, i, &f->off);
    default:
      return 0;
  }
}

/* Walks the format over the text. */
static int match(const char *fmt, const char *s, size_t n, size_t *i, fields *f) {
  for (const char *p = fmt; *p; p++) {
    if (is_space((unsigned char)*p)) {
      while (*i < n && is_space((unsigned char)s[*i])) (*i)++;
      continue;
    }
    if (*p != '%') {
      if (*i >= n || s[*i] != *p) return 0;
      (*i)++;
      continue;
    }
    char c = *++p;
    if (!c) return 0;
    int r;
    if (c == '%') r = *i < n && s[*i] == '%' ? ((*i)++, 1) : 0;
    else if (c == 'F') r = match("%Y-%m-%d", s, n, i, f);
    else if (c == 'T') r = match("%H:%M:%S", s, n, i, f);
    else if (c == 'D') r = match("%m/%d/%y", s, n, i, f);
    else r = directive(c, s, n, i, f);
    if (r != 1) return r;
  }
  return 1;
}

int tl_strptime(const char *fmt, const char *s, size_t n, int64_t *us, int *has_time) {
  fields f;
  memset(&f, 0, sizeof f);
  f.y = 1900;
  f.m = 1;
  f.d = 1;
  size_t i = 0;
  int r = match(fmt, s, n, &i, &f);
  if (has_time) *has_time = f.has_time;
  if (r != 1) return r;
  if (i != n) return 0;
  if (f.h12) {
    if (f.hh < 1 || f.hh > 12) return -1;
    if (f.hh == 12) f.hh = 0;
  }
  if (f.pm == 2) {
    if (f.hh > 12 || (!f.h12 && f.hh == 0)) return -1;
    if (f.hh < 12) f.hh += 12;
  }
  if (f.hh > 23 || f.mi > 59 || f.ss > 59) return -1;
  int64_t days;
  if (f.has_yday) {
    if (f.yday < 1 || f.yday > (tl_is_leap(f.y) ? 366 : 365) || !tl_civil_valid(f.y, 1, 1)) return -1;
    days = tl_days_from_civil((int)f.y, 1, 1) + f.yday - 1;
  } else {
    if (!tl_civil_valid(f.y, (int)f.m, (int)f.d)) return -1;
    days = tl_days_from_civil((int)f.y, (int)f.m, (int)f.d);
  }
  *us = days * TL_US_PER_DAY + ((f.hh * 60 + f.mi) * 60 + f.ss - f.off) * 1000000 + f.us;
  return 1;
}

/* ---------------------------------------------------------------------------
** strftime
*/
typedef struct out { char *buf; size_t cap, len; } out;

static void put(out *o, const char *s, size_t n) {
  if (o->len < o->cap) memcpy(o->buf + o->len, s, n < o->cap - o->len ? n : o->cap - o->len);
  o->len += n;
}

/* v with at least `width` digits (zero padded), a '-' before negatives. */
static void put_num(out *o, int64_t v, int width) {
  char tmp[24];
  int k = 0, neg = v < 0;
  uint64_t u = neg ? 0 - (uint64_t)v : (uint64_t)v;
  do { tmp[k++] = (char)('0' + u % 10); u /= 10; } while (u);
  while (k < width) tmp[k++] = '0';
  if (neg) tmp[k++] = '-';
  char rev[24];
  for (int j = 0; j < k; j++) rev[j] = tmp[k - 1 - j];
  put(o, rev, (size_t)k);
}

static void put_name(out *o, const char *name, int abbrev) {
  char tmp[16];
  size_t len = abbrev ? 3 : strlen(name);
  memcpy(tmp, name, len);
  tmp[0] = (char)(tmp[0] - 32);
  put(o, tmp, len);
}

size_t tl_strftime(const char *fmt, int64_t us, int is_date, char *buf, size_t cap) {
  out o = { buf, cap, 0 };
  tl_civil c;
  tl_civil_of_us(us, &c);
  int64_t days = tl_floor_div(us, TL_US_PER_DAY);
  (void)is_date;
  for (const char *p = fmt; *p; p++) {
    if (*p != '%' || !p[1]) { put(&o, p, 1); continue; }
    switch (*++p) {
      case 'Y': put_num(&o, c.y, 4); break;
      case 'y': put_num(&o, tl_floor_mod(c.y, 100), 2); break;
      case 'C': put_num(&o, tl_floor_div(c.y, 100), 2); break;
      case 'm': put_num(&o, c.m, 2); break;
      case 'd': put_num(&o, c.d, 2); break;
      case 'e': if (c.d < 10) put(&o, " ", 1); put_num(&o, c.d, 1); break;
      case 'H': put_num(&o, c.hh, 2); break;
      case 'I': put_num(&o, c.hh % 12 ? c.hh % 12 : 12, 2); break;
      case 'M': put_num(&o, c.mi, 2); break;
      case 'S': put_num(&o, c.ss, 2); break;
      case 'f': put_num(&o, c.us, 6); break;
      case 'p': put(&o, c.hh < 12 ? "AM" : "PM", 2); break;
      case 'b': case 'h': put_name(&o, month_names[c.m - 1], 1); break;
      case 'B': put_name(&o, month_names[c.m - 1], 0); break;
      case 'a': put_name(&o, day_names[tl_iso_weekday(days) - 1], 1); break;
      case 'A': put_name(&o, day_names[tl_iso_weekday(days) - 1], 0); break;
      case 'u': put_num(&o, tl_iso_weekday(days), 1); break;
      case 'w': put_num(&o, tl_iso_weekday(days) % 7, 1); break;
      case 'j': put_num(&o, days - tl_days_from_civil(c.y, 1, 1) + 1, 3); break;
      case 'V': put_num(&o, tl_iso_week(days, NULL), 2); break;
      case 'G': { int iy; tl_iso_week(days, &iy); put_num(&o, iy, 4); break; }
      case 'z': put(&o, "+00", 3); break;
      case 'Z': put(&o, "UTC", 3); break;
      case 'F': put_num(&o, c.y, 4); put(&o, "-", 1); put_num(&o, c.m, 2); put(&o, "-", 1);
                put_num(&o, c.d, 2); break;
      case 'T': put_num(&o, c.hh, 2); put(&o, ":", 1); put_num(&o, c.mi, 2); put(&o, ":", 1);
                put_num(&o, c.ss, 2); break;
      case '%': put(&o, "%", 1); break;
      default: put(&o, p - 1, 2); break;   /* not a directive: as written */
    }
  }
  return o.len;
}

/* ---------------------------------------------------------------------------
** ISO 8601
*/
static int fixed(const char *s, size_t n, size_t i, int w, int64_t *v) {
  if (i + (size_t)w > n) return 0;
  *v = 0;
  for (int k = 0; k < w; k++) {
    unsigned d = (unsigned char)s[i + (size_t)k] - '0';
    if (d > 9) return 0;
    *v = *v * 10 + d;
  }
  return 1;
}

int tl_parse_iso(const char *s, size_t n, int64_t *us, int *date_only) {
  int64_t y, m, d, hh = 0, mi = 0, ss = 0, frac = 0, off = 0;
  size_t i = 0;
  int neg = n > 0 && s[0] == '-';
  if (neg) i++;
  size_t y0 = i;
  while (i < n && s[i] >= '0' && s[i] <= '9' && i - y0 < 6) i++;
  if (i - y0 < 4 || !fixed(s, n, y0, (int)(i - y0), &y)) return 0;
  if (neg) y = -y;
  if (y > TL_MAX_YEAR || y < -TL_MAX_YEAR) return -1;
  if (i + 6 > n || s[i] != '-' || s[i + 3] != '-' || !fixed(s, n, i + 1, 2, &m) ||
      !fixed(s, n, i + 4, 2, &d))
    return 0;
  i += 6;
  *date_only = i == n;
  if (i < n) {
    if (s[i] != 'T' && s[i] != ' ') return 0;
    if (!fixed(s, n, i + 1, 2, &hh) || i + 3 >= n || s[i + 3] != ':' ||
        !fixed(s, n, i + 4, 2, &mi))
      return 0;
    i += 6;
    if (i < n && s[i] == ':') {
      if (!fixed(s, n, i + 1, 2, &ss)) return 0;
      i += 3;
      if (i < n && s[i] == '.') {
        int k = 0;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
          if (k < 6) frac = frac * 10 + (s[i] - '0');
        if (!k) return 0;
        for (; k < 6; k++) frac *= 10;
      }
    }
    if (i < n) {
      int r = read_offset(s, n, &i, &off);
      if (r != 1) return r;
      if (i != n) return 0;
    }
  }
  if (!tl_civil_valid(y, (int)m, (int)d) || hh > 23 || mi > 59 || ss > 59) return -1;
  *us = (int64_t)tl_days_from_civil((int)y, (int)m, (int)d) * TL_US_PER_DAY +
        ((hh * 60 + mi) * 60 + ss - off) * 1000000 + frac;
  return 1;
}
