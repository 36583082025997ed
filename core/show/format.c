/*
** format.c -- tables as text: the aligned rendering that print(t) shows,
** fitted to a width, and Markdown.
**
** core/show: tables and columns for people to read: aligned text
** (format.c) and charts (chart.c: SVG, and bars and histograms as text).
** They stand on base.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/tally.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/textbuf.h"

#define FMT_CELL_WIDTH 40     /* longer cells are cut to 37 code points + "..." */
#define FMT_CELL_BUF 200      /* room for FMT_CELL_WIDTH 4-byte code points */
#define FMT_MAX_ROWS 20
#define FMT_MIN_WIDTH 5       /* a column narrowed to fit is never narrower */
#define FMT_SEP "  "
#define FMT_SEPLEN 2

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
static int render_cell(const tl_column *c, int64_t i, int maxw, int digits,
                       const fmt_ellipsis *ell, char *out, size_t *outlen, int *isnull) {
  char tmp[64];
  tl_scalar v;
  tl_column_get(c, i, &v);
  *isnull = v.is_null;
  if (!v.is_null && v.type == TL_STRING)
    return fit_cell(v.v.s.ptr ? v.v.s.ptr : "", v.v.s.ptr ? v.v.s.len : 0, maxw, ell, out,
                    outlen);
  {
    size_t n = tl_scalar_format_digits(&v, digits, tmp, sizeof tmp);
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

/* Narrows the text columns, the widest first, one character at a time,
** until the columns fit in `width`; none below `floor` (or its natural
** width when that is smaller). Numbers and dates (`fixed`) keep their
** width: a cut number reads as another one. Returns the total width. */
static int shrink(int *widths, const int *natural, const int *fixed, int n, int width,
                  int floor) {
  int j, total = 0;
  for (j = 0; j < n; j++)
    total += widths[j] + (j > 0 ? FMT_SEPLEN : 0);
  while (total > width) {
    int best = -1;
    for (j = 0; j < n; j++) {
      int lo = natural[j] < floor ? natural[j] : floor;
      if (fixed[j] || widths[j] <= lo)
        continue;
      if (best < 0 || widths[j] > widths[best])
        best = j;
    }
    if (best < 0)
      break;
    widths[best]--;
    total--;
  }
  return total;
}

/* The footer: "[3 rows x 2 columns: year int, name string]", wrapped to
** the width when there is one; "30 columns, 24 hidden" when columns were
** left out of the middle. */
static void put_footer(tl_textbuf *b, const tl_table *t, int shown, int width) {
  int64_t nrows = tl_table_nrows(t);
  int ncols = tl_table_ncols(t), j, col;
  char line[128];
  col = snprintf(line, sizeof line, "[%lld row%s x %d column%s", (long long)nrows,
                 nrows == 1 ? "" : "s", ncols, ncols == 1 ? "" : "s");
  if (shown < ncols)
    col += snprintf(line + col, sizeof line - (size_t)col, ", %d hidden", ncols - shown);
  tl_textbuf_str(b, line);
  for (j = 0; j < ncols; j++) {
    const char *name = tl_table_name(t, j);
    const char *tn = tl_type_name(tl_column_type(tl_table_column(t, j)));
    const char *lead = j == 0 ? ": " : ", ";
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

/* One rendering of a table: the rows shown, and each column's width. */
typedef struct fmt_ctx {
  const tl_table *t;
  int ncols, shown;          /* columns in the table, columns that fit */
  int gap;                   /* the marker of hidden columns goes before cols[gap]; 0: none */
  int64_t nrows, head, tail; /* rows shown: the first head and the last tail */
  int elided;                /* rows hidden between head and tail */
  int width, types, ansi, digits;
  const fmt_ellipsis *ell;
  /* a column each, one allocation; once fit() has chosen, entry k is about
  ** column cols[k] */
  int *widths, *natural, *numeric, *fixed, *cols;
  tl_textbuf b;
} fmt_ctx;

static int64_t shown_row(const fmt_ctx *f, int64_t r) {
  return r < f->head ? r : f->nrows - f->tail + (r - f->head);
}

/* Each column's natural width: its name, its type and the cells shown. */
static void measure(fmt_ctx *f) {
  char cell[FMT_CELL_BUF];
  size_t clen;
  int isnull;
  for (int j = 0; j < f->ncols; j++) {
    const tl_column *c = tl_table_column(f->t, j);
    const char *name = tl_table_name(f->t, j);
    int w = fit_cell(name, strlen(name), FMT_CELL_WIDTH, f->ell, cell, &clen), cw;
    if (f->types) {
      const char *tn = tl_type_name(tl_column_type(c));
      cw = (int)strlen(tn ? tn : "?");
      if (cw > w) w = cw;
    }
    if (f->elided && w < f->ell->width) w = f->ell->width;
    for (int64_t r = 0; r < f->head + f->tail; r++) {
      cw = render_cell(c, shown_row(f, r), FMT_CELL_WIDTH, f->digits, f->ell, cell, &clen,
                       &isnull);
      if (cw > w) w = cw;
    }
    f->widths[j] = f->natural[j] = w;
    f->numeric[j] = is_right_aligned(tl_column_type(c));
    f->fixed[j] = tl_column_type(c) != TL_STRING;   /* cut text before numbers and dates */
  }
}

/* The narrowest a column gets: text down to FMT_MIN_WIDTH, numbers and
** dates never below their natural width (a cut number reads wrong). */
static int min_width(const fmt_ctx *f, int j) {
  if (f->fixed[j]) return f->natural[j];
  return f->natural[j] < FMT_MIN_WIDTH ? f->natural[j] : FMT_MIN_WIDTH;
}

/* Keeps the columns chosen (marked in cols) in order, entry k about
** column cols[k]; columns only move left, so in place. */
static void keep_chosen(fmt_ctx *f) {
  int k = 0;
  for (int j = 0; j < f->ncols; j++) {
    if (!f->cols[j]) continue;
    f->widths[k] = f->widths[j];
    f->natural[k] = f->natural[j];
    f->numeric[k] = f->numeric[j];
    f->fixed[k] = f->fixed[j];
    f->cols[k++] = j;
  }
  f->shown = k;
}

/* Every column when all fit at their narrowest; else the first and last
** ones, taken from both ends in turn while they fit beside a marker column
** that stands for the hidden middle (as DuckDB and Polars print). Then the
** text columns are narrowed until the whole fits. */
static void fit(fmt_ctx *f) {
  int total = 0, j, lo = 0, hi = f->ncols - 1, left = 1, room;
  for (j = 0; j < f->ncols; j++) f->cols[j] = 1;
  f->gap = 0;
  for (j = 0; j < f->ncols; j++) total += min_width(f, j) + (j > 0 ? FMT_SEPLEN : 0);
  if (f->width > 0 && total > f->width && f->ncols > 1) {
    for (j = 0; j < f->ncols; j++) f->cols[j] = 0;
    room = f->width - f->ell->width - FMT_SEPLEN;   /* the marker column */
    total = 0;
    while (lo <= hi) {
      j = left ? lo : hi;
      int need = min_width(f, j) + (total > 0 ? FMT_SEPLEN : 0);
      if (total > 0 && total + need > room) break;
      f->cols[j] = 1;
      total += need;
      if (left) lo++; else hi--;
      if (hi >= lo) left = !left;
    }
    f->gap = lo;                                   /* the marker goes after lo columns */
  }
  keep_chosen(f);                                  /* the first f->gap are the left ones */
  if (f->width > 0) {
    int w = f->width - (f->shown < f->ncols ? f->ell->width + FMT_SEPLEN : 0);
    shrink(f->widths, f->natural, f->fixed, f->shown, w, FMT_MIN_WIDTH);
  }
}

/* The marker column of the hidden columns, before entry k (k == shown: at
** the end), holding s; nothing when no column is hidden or k is elsewhere. */
static void put_marker(fmt_ctx *f, int k, const char *s, size_t len, int w,
                       const char *style) {
  if (f->shown < f->ncols && k == f->gap)
    put_cell(&f->b, s, len, w, f->ell->width, 0, k == 0, style);
}

/* The names, the types when asked for, and the rule under them. */
static void put_header(fmt_ctx *f) {
  char cell[FMT_CELL_BUF];
  size_t clen;
  const fmt_ellipsis *e = f->ell;
  for (int k = 0; k <= f->shown; k++) {
    put_marker(f, k, e->s, e->len, e->width, f->ansi ? ANSI_DIM : NULL);
    if (k == f->shown) break;
    const char *name = tl_table_name(f->t, f->cols[k]);
    int w = fit_cell(name, strlen(name), f->widths[k], f->ell, cell, &clen);
    put_cell(&f->b, cell, clen, w, f->widths[k], f->numeric[k], k == 0,
             f->ansi ? ANSI_BOLD : NULL);
  }
  buf_endline(&f->b);
  if (f->types) {
    for (int k = 0; k <= f->shown; k++) {
      put_marker(f, k, "", 0, 0, NULL);
      if (k == f->shown) break;
      const char *tn = tl_type_name(tl_column_type(tl_table_column(f->t, f->cols[k])));
      tn = tn ? tn : "?";
      int w = fit_cell(tn, strlen(tn), f->widths[k], f->ell, cell, &clen);
      put_cell(&f->b, cell, clen, w, f->widths[k], f->numeric[k], k == 0,
               f->ansi ? ANSI_DIM : NULL);
    }
    buf_endline(&f->b);
  }
  for (int k = 0; k <= f->shown; k++) {
    if (f->shown < f->ncols && k == f->gap) {
      tl_textbuf_add(&f->b, FMT_SEP, FMT_SEPLEN);
      for (int i = 0; i < e->width; i++) tl_textbuf_add(&f->b, "-", 1);
    }
    if (k == f->shown) break;
    if (k > 0) tl_textbuf_add(&f->b, FMT_SEP, FMT_SEPLEN);
    for (int i = 0; i < f->widths[k]; i++) tl_textbuf_add(&f->b, "-", 1);
  }
  buf_endline(&f->b);
}

/* The head rows, the mark of the elided ones, the tail rows. */
static void put_rows(fmt_ctx *f) {
  char cell[FMT_CELL_BUF];
  size_t clen;
  int isnull;
  const fmt_ellipsis *e = f->ell;
  for (int64_t r = 0; r <= f->head + f->tail; r++) {
    if (f->elided && r == f->head) {
      for (int k = 0; k <= f->shown; k++) {
        put_marker(f, k, "", 0, 0, NULL);
        if (k == f->shown) break;
        put_cell(&f->b, e->s, e->len, e->width, f->widths[k], f->numeric[k], k == 0,
                 f->ansi ? ANSI_DIM : NULL);
      }
      buf_endline(&f->b);
    }
    if (r == f->head + f->tail) break;
    for (int k = 0; k <= f->shown; k++) {
      put_marker(f, k, e->s, e->len, e->width, f->ansi ? ANSI_DIM : NULL);
      if (k == f->shown) break;
      const tl_column *c = tl_table_column(f->t, f->cols[k]);
      int w = render_cell(c, shown_row(f, r), f->widths[k], f->digits, f->ell, cell, &clen,
                          &isnull);
      put_cell(&f->b, cell, clen, w, f->widths[k], f->numeric[k], k == 0,
               f->ansi && isnull ? ANSI_DIM : NULL);
    }
    buf_endline(&f->b);
  }
}

tl_status tl_table_format(const tl_table *t, const tl_format_options *opts, char **out,
                          size_t *len, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "print", err));
  int max_rows = opts && opts->max_rows > 0 ? opts->max_rows : FMT_MAX_ROWS;
  fmt_ctx f = { .t = t, .ncols = tl_table_ncols(t), .nrows = tl_table_nrows(t) };
  f.width = opts && opts->width > 0 ? opts->width : 0;
  f.types = opts ? opts->types : 0;
  f.ansi = opts ? opts->ansi : 0;
  f.digits = opts ? opts->digits : 0;
  f.ell = f.ansi ? &ell_unicode : &ell_ascii;
  f.elided = f.nrows > max_rows;
  f.head = f.elided ? (max_rows + 1) / 2 : f.nrows;
  f.tail = f.elided ? max_rows / 2 : 0;
  if (f.ncols > 0) {
    f.widths = tl_alloc(sizeof(int) * 5 * (size_t)f.ncols);
    if (f.widths == NULL) return tl_error_oom(err, "format");
    f.natural = f.widths + f.ncols;
    f.numeric = f.widths + 2 * f.ncols;
    f.fixed = f.widths + 3 * f.ncols;
    f.cols = f.widths + 4 * f.ncols;
  }
  measure(&f);
  fit(&f);
  if (f.shown > 0) {
    put_header(&f);
    put_rows(&f);
  }
  if (f.ansi) tl_textbuf_str(&f.b, ANSI_DIM);
  put_footer(&f.b, t, f.shown, f.width);
  if (f.ansi) tl_textbuf_str(&f.b, ANSI_RESET);
  tl_free(f.widths);
  if (f.b.failed) {
    tl_free(f.b.p);
    return tl_error_oom(err, "format");
  }
  *out = f.b.p;
  if (len) *len = f.b.len;
  return TL_OK;
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
    return tl_error_oom(err, "to_markdown");
  }
  *out = b.p;
  if (len)
    *len = b.len;
  return TL_OK;
}
