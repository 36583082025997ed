/*
** format.c -- values and tables as text: scalars, ISO 8601 dates, and the
** aligned rendering of a table that print(t) shows.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally.h"
#include "alloc.h"
#include "textbuf.h"

#define FMT_CELL_WIDTH 40     /* longer cells are cut to 37 code points + "..." */
#define FMT_CELL_BUF 200      /* room for FMT_CELL_WIDTH 4-byte code points */
#define FMT_MAX_ROWS 20
#define FMT_MIN_WIDTH 5       /* a column narrowed to fit is never narrower */
#define FMT_SEP "  "
#define FMT_SEPLEN 2

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

/* The shortest of %.15g, %.16g and %.17g that reads back as the same
** double; an integral value keeps a ".0" so it still reads as a float. */
static int fmt_float(char *buf, size_t size, double x) {
  int prec, n = 0;
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

/* ---------------------------------------------------------------------------
** Tables
*/


static void buf_spaces(tl_textbuf *b, int n) {
  static const char sp[] = "                                ";
  while (n > 0) {
    int k = n < (int)sizeof sp - 1 ? n : (int)sizeof sp - 1;
    tl_textbuf_add(b, sp, (size_t)k);
    n -= k;
  }
}

/* Ends the current line: drops trailing spaces, then adds a newline. */
static void buf_endline(tl_textbuf *b) {
  if (b->failed)
    return;
  while (b->len > 0 && b->p[b->len - 1] == ' ')
    b->len--;
  tl_textbuf_add(b, "\n", 1);
}

/* How a cut cell ends: three dots in plain text, one ellipsis character on
** a terminal. */
typedef struct fmt_ellipsis {
  const char *s;
  size_t len;
  int width;
} fmt_ellipsis;

static const fmt_ellipsis ell_ascii = {"...", 3, 3};
static const fmt_ellipsis ell_unicode = {"\xe2\x80\xa6", 3, 1};

/* Copies text into out (FMT_CELL_BUF bytes) as one display cell: control
** characters escaped, bad UTF-8 shown as '?', and at most maxw code points,
** the tail of a longer text replaced by the ellipsis. Returns the width in
** code points; *outlen gets the byte length. */
static int fit_cell(const char *s, size_t len, int maxw, const fmt_ellipsis *ell, char *out,
                    size_t *outlen) {
  size_t i = 0, o = 0, cut = 0;
  int w = 0, cutw = 0;
  if (maxw > FMT_CELL_WIDTH)
    maxw = FMT_CELL_WIDTH;
  while (i < len) {
    unsigned char c = (unsigned char)s[i];
    char piece[4];
    size_t plen = 0, need = 1, k;
    int pw = 1;
    if (c < 0x20 || c == 0x7f) {
      piece[0] = '\\';
      piece[1] = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : '?';
      plen = 2;
      pw = 2;
      i++;
    } else if (c < 0x80) {
      piece[0] = (char)c;
      plen = 1;
      i++;
    } else {
      need = c >= 0xf0 && c <= 0xf7 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
      if (need == 0 || c > 0xf7 || i + need > len) {
        need = 0;
      } else {
        for (k = 1; k < need; k++)
          if (((unsigned char)s[i + k] & 0xc0) != 0x80)
            need = 0;
      }
      if (need == 0) {
        piece[0] = '?';
        plen = 1;
        i++;
      } else {
        memcpy(piece, s + i, need);
        plen = need;
        i += need;
      }
    }
    if (w + pw > maxw) {                         /* too long: cut and mark */
      if (ell->width > maxw) {                   /* no room for the mark */
        *outlen = cut;
        return cutw;
      }
      memcpy(out + cut, ell->s, ell->len);
      *outlen = cut + ell->len;
      return cutw + ell->width;
    }
    memcpy(out + o, piece, plen);
    o += plen;
    w += pw;
    if (w <= maxw - ell->width) {
      cut = o;
      cutw = w;
    }
  }
  *outlen = o;
  return w;
}

/* Renders cell (row i of column c) into out, cut to maxw; returns its
** display width. *isnull tells whether it is the null marker. */
static int render_cell(const tl_column *c, int64_t i, int maxw, const fmt_ellipsis *ell,
                       char *out, size_t *outlen, int *isnull) {
  char tmp[64];
  tl_scalar v;
  tl_column_get(c, i, &v);
  *isnull = v.is_null;
  if (!v.is_null && v.type == TL_STRING)
    return fit_cell(v.v.s.ptr ? v.v.s.ptr : "", v.v.s.ptr ? v.v.s.len : 0, maxw, ell, out,
                    outlen);
  {
    size_t n = tl_scalar_format(&v, tmp, sizeof tmp);
    if (n >= sizeof tmp)
      n = sizeof tmp - 1;
    return fit_cell(tmp, n, maxw, ell, out, outlen);
  }
}

static int is_right_aligned(tl_type t) { return t == TL_INT || t == TL_FLOAT; }

#define ANSI_DIM "\x1b[2m"
#define ANSI_BOLD "\x1b[1m"
#define ANSI_RESET "\x1b[0m"

static void put_cell(tl_textbuf *b, const char *s, size_t len, int w, int width, int right,
                     int first, const char *style) {
  if (!first)
    tl_textbuf_add(b, FMT_SEP, FMT_SEPLEN);
  if (right)
    buf_spaces(b, width - w);
  if (style != NULL)
    tl_textbuf_str(b, style);
  tl_textbuf_add(b, s, len);
  if (style != NULL)
    tl_textbuf_str(b, ANSI_RESET);
  if (!right)
    buf_spaces(b, width - w);
}

void tl_format_options_init(tl_format_options *opts) {
  memset(opts, 0, sizeof *opts);
}

/* Narrows the columns until they fit in `width`: first the widest text
** columns, one character at a time, then the `fixed` ones (numbers, dates)
** too; none below `floor`
** (or its natural width when that is smaller). Returns the total width. */
static int shrink(int *widths, const int *natural, const int *fixed, int n, int width,
                  int floor) {
  int pass, j, total = 0;
  for (j = 0; j < n; j++)
    total += widths[j] + (j > 0 ? FMT_SEPLEN : 0);
  for (pass = 0; pass < 2 && total > width; pass++) {
    while (total > width) {
      int best = -1;
      for (j = 0; j < n; j++) {
        int lo = natural[j] < floor ? natural[j] : floor;
        if ((pass == 0 && fixed[j]) || widths[j] <= lo)
          continue;
        if (best < 0 || widths[j] > widths[best])
          best = j;
      }
      if (best < 0)
        break;
      widths[best]--;
      total--;
    }
  }
  return total;
}

/* The footer: "[3 rows x 2 columns: year int, name string]", wrapped to
** the width when there is one; columns not shown are listed apart. */
static void put_footer(tl_textbuf *b, const tl_table *t, int shown, int width) {
  int64_t nrows = tl_table_nrows(t);
  int ncols = tl_table_ncols(t), j, col;
  char line[96];
  col = snprintf(line, sizeof line, "[%lld row%s x %d column%s", (long long)nrows,
                 nrows == 1 ? "" : "s", ncols, ncols == 1 ? "" : "s");
  tl_textbuf_str(b, line);
  for (j = 0; j < ncols; j++) {
    const char *name = tl_table_name(t, j);
    const char *tn = tl_type_name(tl_column_type(tl_table_column(t, j)));
    const char *lead = j == 0 ? ": " : j == shown ? "; not shown: " : ", ";
    size_t ll = strlen(lead);
    int w = (int)(strlen(name) + 1 + strlen(tn ? tn : "?"));
    if (width > 0 && col > 1 && col + (int)ll + w + 1 > width) {
      tl_textbuf_add(b, lead, ll - 1);                  /* the lead without its space */
      tl_textbuf_str(b, "\n ");
      col = 1;
    } else {
      tl_textbuf_str(b, lead);
      col += (int)ll;
    }
    tl_textbuf_str(b, name);
    tl_textbuf_str(b, " ");
    tl_textbuf_str(b, tn ? tn : "?");
    col += w;
  }
  tl_textbuf_str(b, "]");
}

tl_status tl_table_format(const tl_table *t, const tl_format_options *opts, char **out,
                          size_t *len, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "print", err));
  int ncols = tl_table_ncols(t), shown, j, total;
  int64_t nrows = tl_table_nrows(t), head, tail, r;
  int max_rows = opts && opts->max_rows > 0 ? opts->max_rows : FMT_MAX_ROWS;
  int width = opts && opts->width > 0 ? opts->width : 0;
  int types = opts ? opts->types : 0, elided;
  int ansi = opts ? opts->ansi : 0;
  const fmt_ellipsis *ell = ansi ? &ell_unicode : &ell_ascii;
  int *widths = NULL, *natural, *numeric, *fixed;
  tl_textbuf b = {NULL, 0, 0, 0};
  char cell[FMT_CELL_BUF];
  size_t clen;
  int isnull;

  if (nrows > max_rows) {
    head = (max_rows + 1) / 2;
    tail = max_rows / 2;
    elided = 1;
  } else {
    head = nrows;
    tail = 0;
    elided = 0;
  }

  if (ncols > 0) {
    widths = tl_alloc(sizeof(int) * 4 * (size_t)ncols);
    if (widths == NULL)
      goto nomem;
  }
  natural = widths ? widths + ncols : NULL;      /* no columns: no arrays */
  numeric = widths ? widths + 2 * ncols : NULL;
  fixed = widths ? widths + 3 * ncols : NULL;
  for (j = 0; j < ncols; j++) {
    const tl_column *c = tl_table_column(t, j);
    const char *name = tl_table_name(t, j);
    int w = fit_cell(name, strlen(name), FMT_CELL_WIDTH, ell, cell, &clen), cw;
    if (types) {
      const char *tn = tl_type_name(tl_column_type(c));
      cw = (int)strlen(tn ? tn : "?");
      if (cw > w)
        w = cw;
    }
    if (elided && w < ell->width)
      w = ell->width;
    for (r = 0; r < head + tail; r++) {
      int64_t row = r < head ? r : nrows - tail + (r - head);
      cw = render_cell(c, row, FMT_CELL_WIDTH, ell, cell, &clen, &isnull);
      if (cw > w)
        w = cw;
    }
    widths[j] = natural[j] = w;
    numeric[j] = is_right_aligned(tl_column_type(c));
    fixed[j] = tl_column_type(c) != TL_STRING;   /* cut text before numbers and dates */
  }

  /* the columns that fit in the width at their narrowest (at least one),
  ** then narrowed until they fit */
  shown = ncols;
  if (width > 0) {
    total = 0;
    for (j = 0; j < ncols; j++) {
      int lo = natural[j] < FMT_MIN_WIDTH ? natural[j] : FMT_MIN_WIDTH;
      total += lo + (j > 0 ? FMT_SEPLEN : 0);
      if (total > width && j > 0) {
        shown = j;
        break;
      }
    }
    shrink(widths, natural, fixed, shown, width, FMT_MIN_WIDTH);
  }

  if (shown > 0) {
    for (j = 0; j < shown; j++) {
      const char *name = tl_table_name(t, j);
      int w = fit_cell(name, strlen(name), widths[j], ell, cell, &clen);
      put_cell(&b, cell, clen, w, widths[j], numeric[j], j == 0, ansi ? ANSI_BOLD : NULL);
    }
    buf_endline(&b);
    if (types) {
      for (j = 0; j < shown; j++) {
        const char *tn = tl_type_name(tl_column_type(tl_table_column(t, j)));
        int w;
        tn = tn ? tn : "?";
        w = fit_cell(tn, strlen(tn), widths[j], ell, cell, &clen);
        put_cell(&b, cell, clen, w, widths[j], numeric[j], j == 0, ansi ? ANSI_DIM : NULL);
      }
      buf_endline(&b);
    }
    for (j = 0; j < shown; j++) {
      if (j > 0)
        tl_textbuf_add(&b, FMT_SEP, FMT_SEPLEN);
      for (total = 0; total < widths[j]; total++)
        tl_textbuf_add(&b, "-", 1);
    }
    buf_endline(&b);
    for (r = 0; r <= head + tail; r++) {
      int64_t row = r < head ? r : nrows - tail + (r - head);
      if (elided && r == head) {                 /* the mark between head and tail */
        for (j = 0; j < shown; j++)
          put_cell(&b, ell->s, ell->len, ell->width, widths[j], numeric[j], j == 0,
                   ansi ? ANSI_DIM : NULL);
        buf_endline(&b);
      }
      if (r == head + tail)
        break;
      for (j = 0; j < shown; j++) {
        const tl_column *c = tl_table_column(t, j);
        int w = render_cell(c, row, widths[j], ell, cell, &clen, &isnull);
        put_cell(&b, cell, clen, w, widths[j], numeric[j], j == 0,
                 ansi && isnull ? ANSI_DIM : NULL);
      }
      buf_endline(&b);
    }
  }

  if (ansi)
    tl_textbuf_str(&b, ANSI_DIM);
  put_footer(&b, t, shown, width);
  if (ansi)
    tl_textbuf_str(&b, ANSI_RESET);
  if (b.failed)
    goto nomem;

  tl_free(widths);
  *out = b.p;
  if (len)
    *len = b.len;
  return TL_OK;

nomem:
  tl_free(widths);
  tl_free(b.p);
  if (err) {
    err->code = TL_ENOMEM;
    snprintf(err->message, sizeof err->message, "format: out of memory");
  }
  return TL_ENOMEM;
}

/* ---------------------------------------------------------------------------
** Markdown: a pipe table of every row; numbers aligned right; nulls empty;
** '|' escaped and line breaks shown as <br> so a cell stays in its row.
*/

static void md_text(tl_textbuf *b, const char *s, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    char c = s[i];
    if (c == '|')
      tl_textbuf_str(b, "\\|");
    else if (c == '\n')
      tl_textbuf_str(b, "<br>");
    else if (c == '\r')
      continue;
    else
      tl_textbuf_add(b, &c, 1);
  }
}

tl_status tl_table_markdown(const tl_table *t, char **out, size_t *len, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "markdown", err));
  int ncols = tl_table_ncols(t), j;
  int64_t i, nrows = tl_table_nrows(t);
  tl_textbuf b = {NULL, 0, 0, 0};
  char tmp[64];
  tl_textbuf_str(&b, "|");
  for (j = 0; j < ncols; j++) {
    const char *name = tl_table_name(t, j);
    tl_textbuf_str(&b, " ");
    md_text(&b, name, strlen(name));
    tl_textbuf_str(&b, " |");
  }
  tl_textbuf_str(&b, "\n|");
  for (j = 0; j < ncols; j++)
    tl_textbuf_str(&b, is_right_aligned(tl_column_type(tl_table_column(t, j))) ? " ---: |"
                                                                          : " --- |");
  tl_textbuf_str(&b, "\n");
  for (i = 0; i < nrows && !b.failed; i++) {
    tl_textbuf_str(&b, "|");
    for (j = 0; j < ncols; j++) {
      tl_scalar v;
      tl_column_get(tl_table_column(t, j), i, &v);
      tl_textbuf_str(&b, " ");
      if (v.is_null) {
        /* empty */
      } else if (v.type == TL_STRING) {
        md_text(&b, v.v.s.ptr ? v.v.s.ptr : "", v.v.s.ptr ? v.v.s.len : 0);
      } else {
        size_t n = tl_scalar_format(&v, tmp, sizeof tmp);
        tl_textbuf_add(&b, tmp, n < sizeof tmp ? n : sizeof tmp - 1);
      }
      tl_textbuf_str(&b, " |");
    }
    tl_textbuf_str(&b, "\n");
  }
  if (b.p == NULL)
    tl_textbuf_add(&b, "", 0);
  if (b.failed) {
    tl_free(b.p);
    if (err) {
      err->code = TL_ENOMEM;
      snprintf(err->message, sizeof err->message, "to_markdown: out of memory");
    }
    return TL_ENOMEM;
  }
  *out = b.p;
  if (len)
    *len = b.len;
  return TL_OK;
}
