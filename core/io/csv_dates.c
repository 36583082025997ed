/*
** csv_dates.c -- the date and timestamp formats of read_csv: ISO 8601 (with
** T, seconds optional, Z or an offset), the common formats DuckDB's sniffer
** knows (2015/01/31, 01/31/2015, 31.01.2015, 2015/01/31 10:00:00, ...), and
** the caller's dateformat / timestampformat or a column's own format
** (types = { d = "date:%b %d %Y" }). A column is a date when one format
** reads every one of its values; where two fit all (01/02/2015), the first
** in the list wins, month before day as in DuckDB, and dateformat settles it.
*/
#include "base/datetime.h"
#include "csv.h"

/* Bits of a format mask: ISO dates, ISO timestamps, then the lists. */
#define FMT_ISO_DATE 1u
#define FMT_ISO_TS 2u
#define FMT_DATE0 2   /* first bit of auto_dates */
#define FMT_USER_DATE (1u << 9)
#define FMT_TS0 10    /* first bit of auto_ts */
#define FMT_USER_TS (1u << 20)
#define FMT_FORCED (1u << 21)

static const char *const auto_dates[] = {
  "%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d", "%m-%d-%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y.%m.%d"
};
static const char *const auto_ts[] = {
  "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%m/%d/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S",
  "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %I:%M:%S %p", "%m/%d/%Y %I:%M:%S %p",
  "%Y/%m/%d %H:%M:%S.%f"
};
#define NDATES (int)(sizeof auto_dates / sizeof *auto_dates)
#define NTS (int)(sizeof auto_ts / sizeof *auto_ts)

static unsigned range_bits(int first, int count) { return ((1u << count) - 1) << first; }

#define DATE_MASK (FMT_ISO_DATE | range_bits(FMT_DATE0, NDATES) | FMT_USER_DATE)

unsigned csv_fmt_init(const tl_csv_options *o) {
  unsigned m = FMT_ISO_DATE | FMT_ISO_TS;
  m |= o->dateformat ? FMT_USER_DATE : range_bits(FMT_DATE0, NDATES);
  m |= o->timestampformat ? FMT_USER_TS : range_bits(FMT_TS0, NTS);
  return m;
}

unsigned csv_fmt_forced(const char *fmt) { return fmt ? FMT_FORCED : FMT_ISO_DATE | FMT_ISO_TS; }

unsigned csv_fmt_can(unsigned m, const char *fmt) {
  if (m & FMT_FORCED) {   /* a column's own format: a date or a timestamp, as forced */
    return CAN_DATE | CAN_TS;
  }
  (void)fmt;
  return ((m & DATE_MASK) ? CAN_DATE : 0) | (m ? CAN_TS : 0);
}

/* The format of bit b, or NULL for the ISO bits. */
static const char *fmt_of(const tl_csv_options *o, const char *forced, int b) {
  unsigned bit = 1u << b;
  if (bit & FMT_FORCED) return forced;
  if (bit & FMT_USER_DATE) return o->dateformat;
  if (bit & FMT_USER_TS) return o->timestampformat;
  if (b >= FMT_DATE0 && b < FMT_DATE0 + NDATES) return auto_dates[b - FMT_DATE0];
  if (b >= FMT_TS0 && b < FMT_TS0 + NTS) return auto_ts[b - FMT_TS0];
  return NULL;
}

unsigned csv_fmt_match(const tl_csv_options *o, const char *forced, const char *s, size_t n,
                       unsigned m) {
  unsigned out = 0;
  int64_t us;
  if (m & (FMT_ISO_DATE | FMT_ISO_TS)) {
    int date_only;
    if (n >= 10 && tl_parse_iso(s, n, &us, &date_only) == 1)
      out |= (date_only ? FMT_ISO_DATE | FMT_ISO_TS : FMT_ISO_TS) & m;
  }
  unsigned user = FMT_USER_DATE | FMT_USER_TS | FMT_FORCED;
  unsigned rest = m & ~(FMT_ISO_DATE | FMT_ISO_TS);
  /* the lists' formats start with a digit and are short */
  if (n < 6 || n > 40 || s[0] < '0' || s[0] > '9') rest &= user;
  for (int b = 0; rest; b++, rest >>= 1) {
    if (!(rest & 1)) continue;
    const char *f = fmt_of(o, forced, b);
    if (f && tl_strptime(f, s, n, &us, NULL) == 1) out |= 1u << b;
  }
  return out;
}

int csv_fmt_parse(const tl_csv_options *o, const char *forced, unsigned m, tl_type t,
                  const char *s, size_t n, int64_t *us) {
  if (t == TL_DATE && !(m & FMT_FORCED)) m &= DATE_MASK;
  for (int b = 0; m; b++, m >>= 1) {
    if (!(m & 1)) continue;
    const char *f = fmt_of(o, forced, b);
    int date_only;
    if (f ? tl_strptime(f, s, n, us, NULL) == 1 : tl_parse_iso(s, n, us, &date_only) == 1)
      return 1;
  }
  return 0;
}
