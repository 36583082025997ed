/*
** chart.c -- charts: bars and histograms drawn with Unicode blocks for the
** terminal, and SVG plots (line, bar, scatter) written by hand.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/tally.h"
#include "base/alloc.h"
#include "base/textbuf.h"
#include "base/error.h"

#define BAR_LABEL_MAX 24      /* labels longer than this are cut */
#define MAX_SERIES 64
#define MAX_CATEGORIES 2000

static tl_status ch_finish(tl_textbuf *b, const char *op, char **out, size_t *len, tl_error *err) {
  if (b->p == NULL)
    tl_textbuf_add(b, "", 0);
  if (b->failed) {
    tl_free(b->p);
    return tl_error_oom(err, op);
  }
  *out = b->p;
  if (len)
    *len = b->len;
  return TL_OK;
}

/* The number of code points of a UTF-8 text. */
static int u8_width(const char *s, size_t n) {
  int w = 0;
  size_t i;
  for (i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xc0) != 0x80)
      w++;
  return w;
}

/* The first `w` code points of s, in bytes. */
static size_t u8_prefix(const char *s, size_t n, int w) {
  size_t i;
  for (i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xc0) != 0x80 && w-- == 0)
      break;
  return i;
}

/* ---------------------------------------------------------------------------
** Terminal bars
*/

static const char *const eighths[8] = {
  "", "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d", "\xe2\x96\x8c",
  "\xe2\x96\x8b", "\xe2\x96\x8a", "\xe2\x96\x89"};
#define FULL_BLOCK "\xe2\x96\x88"

/* One line per entry: the label (cut and padded), a bar, the value text. */
static void draw_bars(tl_textbuf *b, int n, char **labels, const double *values,
                      char **texts, int width) {
  int i, lw = 0, vw = 0, barw;
  double max = 0;
  for (i = 0; i < n; i++) {
    int w = u8_width(labels[i], strlen(labels[i]));
    if (w > lw)
      lw = w;
    w = (int)strlen(texts[i]);
    if (w > vw)
      vw = w;
    if (values[i] > max && isfinite(values[i]))
      max = values[i];                           /* bars scale to the finite values */
  }
  if (lw > BAR_LABEL_MAX)
    lw = BAR_LABEL_MAX;
  barw = (width > 0 ? width : 80) - lw - vw - 2;
  if (barw < 10)
    barw = 10;
  for (i = 0; i < n; i++) {
    const char *s = labels[i];
    size_t len = strlen(s);
    int w = u8_width(s, len), k, units = 0;
    if (w > lw) {
      tl_textbuf_add(b, s, u8_prefix(s, len, lw - 3));
      tl_textbuf_add(b, "...", 3);
      w = lw;
    } else {
      tl_textbuf_add(b, s, len);
    }
    for (; w < lw; w++)
      tl_textbuf_add(b, " ", 1);
    tl_textbuf_add(b, " ", 1);
    if (max > 0 && values[i] > 0 && isfinite(values[i]))
      units = (int)lround(values[i] / max * barw * 8);
    if (units == 0 && values[i] > 0 && isfinite(values[i]))
      units = 1;                                 /* a positive value always shows */
    for (k = 0; k < units / 8; k++)
      tl_textbuf_add(b, FULL_BLOCK, 3);
    tl_textbuf_add(b, eighths[units % 8], strlen(eighths[units % 8]));
    tl_textbuf_add(b, " ", 1);
    tl_textbuf_add(b, texts[i], strlen(texts[i]));
    tl_textbuf_add(b, "\n", 1);
  }
}

static int is_number(tl_type t) { return t == TL_INT || t == TL_FLOAT; }

static double number_at(const tl_column *c, int64_t i) {
  tl_scalar v;
  tl_column_get(c, i, &v);
  return v.type == TL_INT ? (double)v.v.i : v.type == TL_FLOAT ? v.v.f : 0;
}

static void free_strings(char **a, int64_t n) {
  int64_t i;
  if (a == NULL)
    return;
  for (i = 0; i < n; i++)
    tl_free(a[i]);
  tl_free(a);
}

/* Row i of c as text; floats at `digits` significant digits (0: all). */
static char *scalar_text(const tl_column *c, int64_t i, int digits) {
  char tmp[64];
  tl_scalar v;
  size_t n;
  tl_column_get(c, i, &v);
  if (!v.is_null && v.type == TL_STRING)
    return tl_strndup(v.v.s.ptr ? v.v.s.ptr : "", v.v.s.ptr ? v.v.s.len : 0);
  n = tl_scalar_format_digits(&v, digits, tmp, sizeof tmp);
  return tl_strndup(tmp, n < sizeof tmp ? n : sizeof tmp - 1);
}

tl_status tl_chart_bar(const tl_table *t, const char *label_col, const char *value_col,
                       int width, int digits, char **out, size_t *len, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "bar", err));
  int jl = tl_table_find(t, label_col), jv = tl_table_find(t, value_col);
  int64_t i, n = tl_table_nrows(t);
  const tl_column *lc, *vc;
  char **labels = NULL, **texts = NULL;
  double *values = NULL;
  tl_textbuf b = {NULL, 0, 0, 0};
  tl_status st = TL_OK;
  if (jl < 0)
    return tl_error_set(err, TL_EINVAL, "bar: unknown column '%s'", label_col);
  if (jv < 0)
    return tl_error_set(err, TL_EINVAL, "bar: unknown column '%s'", value_col);
  lc = tl_table_column(t, jl);
  vc = tl_table_column(t, jv);
  if (!is_number(tl_column_type(vc)))
    return tl_error_set(err, TL_ETYPE, "bar: column '%s' is %s, not a number", value_col,
                        tl_type_name(tl_column_type(vc)));
  if (n > 0x7fffffff)
    return tl_error_set(err, TL_ELIMIT, "bar: too many rows to draw");
  labels = tl_calloc((size_t)(n ? n : 1), sizeof *labels);
  texts = tl_calloc((size_t)(n ? n : 1), sizeof *texts);
  values = tl_calloc((size_t)(n ? n : 1), sizeof *values);
  if (labels == NULL || texts == NULL || values == NULL)
    st = tl_error_oom(err, "bar");
  for (i = 0; st == TL_OK && i < n; i++) {
    labels[i] = scalar_text(lc, i, digits);
    texts[i] = scalar_text(vc, i, digits);
    values[i] = tl_column_is_null(vc, i) ? 0 : number_at(vc, i);
    if (labels[i] == NULL || texts[i] == NULL)
      st = tl_error_oom(err, "bar");
  }
  if (st == TL_OK) {
    draw_bars(&b, (int)n, labels, values, texts, width);
    st = ch_finish(&b, "bar", out, len, err);
  }
  free_strings(labels, n);
  free_strings(texts, n);
  tl_free(values);
  return st;
}

/* The bin of finite x among `bins` from lo by step; the last bin is closed. */
static int hist_bin(double x, double lo, double step, int bins) {
  double k = (x - lo) / step;
  return k >= bins ? bins - 1 : k < 0 ? 0 : (int)k;
}

/* Edge k of `bins` between lo and hi, without overflow when hi - lo would. */
static double hist_edge(double lo, double hi, int k, int bins) {
  double f = (double)k / bins;
  return hi > lo ? (k == bins ? hi : lo * (1 - f) + hi * f) : lo + k;
}

/* Bins over the finite values; -inf, inf and nan, which no bin holds, get a
** line each after the bins when the column has any. */
tl_status tl_chart_hist(const tl_column *c, int bins, int width, char **out, size_t *len,
                        tl_error *err) {
  TL_TRY(tl_column_check_file(c, "hist", err));
  static const char *const odd_names[3] = {"-inf", "inf", "nan"};
  int64_t i, n = tl_column_length(c), seen = 0, odd[3] = {0, 0, 0};
  double lo = 0, hi = 0, step;
  double *counts;
  char **labels, **texts;
  tl_textbuf b = {NULL, 0, 0, 0};
  tl_status st = TL_OK;
  int k, nlines, kinds[3], nkinds = 0;
  if (!is_number(tl_column_type(c)))
    return tl_error_set(err, TL_ETYPE, "hist: the column is %s, not a number",
                        tl_type_name(tl_column_type(c)));
  if (bins <= 0)
    bins = 10;
  if (bins > 1000)
    return tl_error_set(err, TL_ELIMIT, "hist: at most 1000 bins");
  if (tl_interrupted()) return tl_error_interrupted(err, "hist");
  for (i = 0; i < n; i++) {
    double x;
    if (tl_column_is_null(c, i))
      continue;
    if (!isfinite(x = number_at(c, i))) {
      odd[isnan(x) ? 2 : x > 0 ? 1 : 0]++;
      continue;
    }
    if (seen == 0 || x < lo)
      lo = x;
    if (seen == 0 || x > hi)
      hi = x;
    seen++;
  }
  step = hi > lo ? hi / bins - lo / bins : 1;    /* hi - lo may overflow */
  for (k = 0; k < 3; k++)
    if (odd[k] > 0)
      kinds[nkinds++] = k;                       /* the kinds present, in order */
  nlines = bins + nkinds;
  counts = tl_calloc((size_t)nlines, sizeof *counts);
  labels = tl_calloc((size_t)nlines, sizeof *labels);
  texts = tl_calloc((size_t)nlines, sizeof *texts);
  if (counts == NULL || labels == NULL || texts == NULL)
    st = tl_error_oom(err, "hist");
  for (i = 0; st == TL_OK && i < n; i++) {
    double x;
    if (tl_column_is_null(c, i) || !isfinite(x = number_at(c, i)))
      continue;
    counts[hist_bin(x, lo, step, bins)] += 1;
  }
  for (k = 0; st == TL_OK && k < nlines; k++) {
    char tmp[96];
    if (k < bins) {
      snprintf(tmp, sizeof tmp, "%c%.4g, %.4g%c", '[', hist_edge(lo, hi, k, bins),
               hist_edge(lo, hi, k + 1, bins), k == bins - 1 ? ']' : ')');
    } else {
      int o = kinds[k - bins];
      snprintf(tmp, sizeof tmp, "%s", odd_names[o]);
      counts[k] = (double)odd[o];
    }
    labels[k] = tl_strdup(tmp);
    snprintf(tmp, sizeof tmp, "%.0f", counts[k]);
    texts[k] = tl_strdup(tmp);
    if (labels[k] == NULL || texts[k] == NULL)
      st = tl_error_oom(err, "hist");
  }
  if (st == TL_OK) {
    draw_bars(&b, nlines, labels, counts, texts, width);
    st = ch_finish(&b, "hist", out, len, err);
  }
  free_strings(labels, nlines);
  free_strings(texts, nlines);
  tl_free(counts);
  return st;
}

/* ---------------------------------------------------------------------------
** SVG plots
*/

static const char *const palette[10] = {
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

typedef struct plot_axis {
  double lo, hi, step;
} plot_axis;

/* Ticks at 1, 2 or 5 times a power of ten, about `want` of them, and the
** range widened to whole ticks. */
static void nice_axis(double lo, double hi, int want, plot_axis *a) {
  double raw, mag, f, nice;
  if (!(hi > lo)) {
    double pad = lo == 0 ? 1 : fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  raw = (hi - lo) / want;
  mag = pow(10, floor(log10(raw)));
  f = raw / mag;
  nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  a->step = nice * mag;
  a->lo = floor(lo / a->step) * a->step;
  a->hi = ceil(hi / a->step) * a->step;
  if (a->hi <= a->lo)
    a->hi = a->lo + a->step;
}

static void xml_text(tl_textbuf *b, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    switch (s[i]) {
      case '&': tl_textbuf_add(b, "&amp;", 5); break;
      case '<': tl_textbuf_add(b, "&lt;", 4); break;
      case '>': tl_textbuf_add(b, "&gt;", 4); break;
      case '"': tl_textbuf_add(b, "&quot;", 6); break;
      default:
        if ((unsigned char)s[i] >= 0x20 || s[i] == '\t')
          tl_textbuf_add(b, s + i, 1);
    }
  }
}

static void xml_str(tl_textbuf *b, const char *s) { xml_text(b, s, strlen(s)); }

typedef struct plot_point {
  double x, y;
  int series;
  int64_t row;
} plot_point;

static int cmp_point(const void *pa, const void *pb) {
  const plot_point *a = pa, *b = pb;
  if (a->series != b->series)
    return a->series < b->series ? -1 : 1;
  if (a->x != b->x)
    return a->x < b->x ? -1 : 1;
  return a->row < b->row ? -1 : a->row > b->row;
}

/* The index of text s in the list (appended when new); -1 past `max`. */
static int intern(char **list, int *n, int max, char *s) {
  int i;
  for (i = 0; i < *n; i++)
    if (strcmp(list[i], s) == 0) {
      tl_free(s);
      return i;
    }
  if (*n >= max) {
    tl_free(s);
    return -1;
  }
  list[(*n)++] = s;
  return i;
}

static void tick_label(char *buf, size_t size, double v, int dates) {
  if (dates) {
    tl_scalar s;
    s.type = TL_DATE;
    s.is_null = 0;
    s.v.d = (int32_t)floor(v + 0.5);
    tl_scalar_format(&s, buf, size);
  } else {
    if (fabs(v) < 1e-12)
      v = 0;                                     /* no "-0" or "1e-17" at the origin */
    snprintf(buf, size, "%g", v);
  }
}

/* A plot being drawn: what its phases share. Points are in data units
** (x: the category's index, or days for dates and timestamps). */
typedef struct plot {
  const tl_plot_options *o;
  const tl_column *xc, *yc, *bc;
  int bars, scatter, cat, dates;
  int W, H;
  char **series, **cats;       /* the series' names, the categories' texts */
  int nser, ncat;
  plot_point *pts;
  int64_t np;
  plot_axis xa, ya, years;
  int by_year;                 /* x ticks on whole years (years holds them) */
  double left, right, top, bottom;
  double ylo, yhi, band;
  tl_textbuf b;
  tl_error *err;
} plot;

static double px(const plot *pl, double x) {
  if (pl->cat)
    return pl->left + pl->band * (x + 0.5);
  return pl->left + (x - pl->xa.lo) / (pl->xa.hi - pl->xa.lo) * (pl->right - pl->left);
}

static double py(const plot *pl, double y) {
  return pl->bottom - (y - pl->ya.lo) / (pl->ya.hi - pl->ya.lo) * (pl->bottom - pl->top);
}

/* The options against the table: the kind, the columns and their types. */
static tl_status plot_check(plot *pl, const tl_table *t) {
  const tl_plot_options *o = pl->o;
  const char *kind = o->kind ? o->kind : "line";
  int jx, jy, jb = -1;
  tl_type xt;
  pl->bars = strcmp(kind, "bar") == 0;
  pl->scatter = strcmp(kind, "scatter") == 0;
  if (!pl->bars && !pl->scatter && strcmp(kind, "line") != 0)
    return tl_error_set(pl->err, TL_EINVAL, "plot: kind must be 'line', 'bar' or 'scatter', "
                        "not '%s'", kind);
  if (o->x == NULL || o->y == NULL)
    return tl_error_set(pl->err, TL_EINVAL, "plot: x and y are required");
  if ((jx = tl_table_find(t, o->x)) < 0)
    return tl_error_set(pl->err, TL_EINVAL, "plot: unknown column '%s'", o->x);
  if ((jy = tl_table_find(t, o->y)) < 0)
    return tl_error_set(pl->err, TL_EINVAL, "plot: unknown column '%s'", o->y);
  if (o->by != NULL && (jb = tl_table_find(t, o->by)) < 0)
    return tl_error_set(pl->err, TL_EINVAL, "plot: unknown column '%s'", o->by);
  pl->xc = tl_table_column(t, jx);
  pl->yc = tl_table_column(t, jy);
  pl->bc = jb >= 0 ? tl_table_column(t, jb) : NULL;
  if (!is_number(tl_column_type(pl->yc)))
    return tl_error_set(pl->err, TL_ETYPE, "plot: column '%s' is %s, not a number", o->y,
                        tl_type_name(tl_column_type(pl->yc)));
  xt = tl_column_type(pl->xc);
  pl->cat = pl->bars || !(is_number(xt) || xt == TL_DATE || xt == TL_TIMESTAMP);
  pl->dates = !pl->cat && (xt == TL_DATE || xt == TL_TIMESTAMP);
  return TL_OK;
}

/* The point of row i into p, its series and category interned; *keep = 0
** when the row draws nothing (a null or a value that is not finite). */
static tl_status plot_point_at(plot *pl, int64_t i, plot_point *p, int *keep) {
  const tl_plot_options *o = pl->o;
  tl_scalar v;
  int k;
  *keep = 0;
  if (tl_column_is_null(pl->xc, i) || tl_column_is_null(pl->yc, i))
    return TL_OK;                                /* nothing to draw */
  p->row = i;
  p->y = number_at(pl->yc, i);
  if (!isfinite(p->y))
    return TL_OK;
  p->series = 0;
  if (pl->bc != NULL) {
    char *name = scalar_text(pl->bc, i, 0);
    if (name == NULL)
      return tl_error_oom(pl->err, "plot");
    if ((p->series = intern(pl->series, &pl->nser, MAX_SERIES, name)) < 0)
      return tl_error_set(pl->err, TL_ELIMIT, "plot: column '%s' has more than %d values",
                          o->by, MAX_SERIES);
  }
  if (pl->cat) {
    char *name = scalar_text(pl->xc, i, 0);
    if (name == NULL)
      return tl_error_oom(pl->err, "plot");
    if ((k = intern(pl->cats, &pl->ncat, MAX_CATEGORIES, name)) < 0)
      return tl_error_set(pl->err, TL_ELIMIT, "plot: column '%s' has more than %d values",
                          o->x, MAX_CATEGORIES);
    p->x = k;
  } else {
    tl_column_get(pl->xc, i, &v);
    p->x = v.type == TL_DATE ? v.v.d
         : v.type == TL_TIMESTAMP ? (double)v.v.i / 86400e6
         : number_at(pl->xc, i);
    if (!isfinite(p->x))
      return TL_OK;
  }
  *keep = 1;
  return TL_OK;
}

/* The points of every row that draws, and the range of their y. */
static tl_status plot_collect(plot *pl, int64_t n) {
  pl->series = tl_calloc(MAX_SERIES, sizeof *pl->series);
  pl->cats = tl_calloc(MAX_CATEGORIES, sizeof *pl->cats);
  pl->pts = tl_calloc((size_t)(n ? n : 1), sizeof *pl->pts);
  if (pl->series == NULL || pl->cats == NULL || pl->pts == NULL)
    return tl_error_oom(pl->err, "plot");
  if (pl->bc == NULL && (pl->series[pl->nser++] = tl_strdup(pl->o->y)) == NULL)
    return tl_error_oom(pl->err, "plot");
  for (int64_t i = 0; i < n; i++) {
    plot_point *p = &pl->pts[pl->np];
    int keep;
    if ((i & 0xffff) == 0 && tl_interrupted()) return tl_error_interrupted(pl->err, "plot");
    TL_TRY(plot_point_at(pl, i, p, &keep));
    if (!keep)
      continue;
    if (pl->np == 0 || p->y < pl->ylo)
      pl->ylo = p->y;
    if (pl->np == 0 || p->y > pl->yhi)
      pl->yhi = p->y;
    pl->np++;
  }
  return TL_OK;
}

/* The axes' ranges and ticks, and the points in drawing order. */
static void plot_scales(plot *pl) {
  if (pl->bars) {                                /* bars grow from zero */
    if (pl->ylo > 0)
      pl->ylo = 0;
    if (pl->yhi < 0)
      pl->yhi = 0;
  }
  nice_axis(pl->ylo, pl->yhi, 5, &pl->ya);
  if (pl->cat) {
    pl->band = (pl->right - pl->left) / (pl->ncat > 0 ? pl->ncat : 1);
  } else {
    double xlo = 0, xhi = 0;
    for (int64_t i = 0; i < pl->np; i++) {
      if (i == 0 || pl->pts[i].x < xlo)
        xlo = pl->pts[i].x;
      if (i == 0 || pl->pts[i].x > xhi)
        xhi = pl->pts[i].x;
    }
    nice_axis(xlo, xhi, 6, &pl->xa);
    if (pl->dates && xhi - xlo > 730) {          /* ticks on whole years */
      int y0, y1, m, d;
      tl_civil_from_days((int32_t)floor(xlo), &y0, &m, &d);
      tl_civil_from_days((int32_t)ceil(xhi), &y1, &m, &d);
      nice_axis(y0, y1 + 1, 6, &pl->years);
      if (pl->years.step < 1)
        pl->years.step = 1;
      pl->xa.lo = tl_days_from_civil((int)pl->years.lo, 1, 1);
      pl->xa.hi = tl_days_from_civil((int)pl->years.hi, 1, 1);
      pl->by_year = 1;
    }
  }
  qsort(pl->pts, (size_t)pl->np, sizeof *pl->pts, cmp_point);
}

/* The document's head, its background and the title. */
static void plot_head(plot *pl) {
  tl_textbuf *b = &pl->b;
  tl_textbuf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
            pl->W, pl->H, pl->W, pl->H);
  tl_textbuf_printf(b, "<rect class=\"background\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
            pl->W, pl->H);
  if (pl->o->title) {
    tl_textbuf_printf(b, "<text class=\"title\" x=\"%.1f\" y=\"28\" text-anchor=\"middle\" "
                  "font-size=\"16\" font-weight=\"bold\">", pl->W / 2.0);
    xml_str(b, pl->o->title);
    tl_textbuf_str(b, "</text>\n");
  }
}

/* The y axis: ticks, grid lines, labels. */
static void plot_y_axis(plot *pl) {
  tl_textbuf *b = &pl->b;
  const plot_axis *ya = &pl->ya;
  char tmp[128];
  tl_textbuf_printf(b, "<g class=\"axis y\">\n<line class=\"axis-line\" x1=\"%.1f\" y1=\"%.1f\" "
                "x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", pl->left, pl->top, pl->left,
                pl->bottom);
  for (int k = 0; k <= (int)floor((ya->hi - ya->lo) / ya->step + 0.5); k++) {
    double v = ya->lo + k * ya->step, y = py(pl, v);
    tick_label(tmp, sizeof tmp, v, 0);
    tl_textbuf_printf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"#e0e0e0\"/>\n", pl->left, y, pl->right, y);
    tl_textbuf_printf(b, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"black\"/>\n", pl->left - 5, y, pl->left, y);
    tl_textbuf_printf(b, "<text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
              pl->left - 8, y + 4);
    xml_str(b, tmp);
    tl_textbuf_str(b, "</text>\n");
  }
  tl_textbuf_str(b, "</g>\n");
}

/* One tick of the x axis at x, its label opened for the caller to fill. */
static void x_tick(plot *pl, double x) {
  tl_textbuf_printf(&pl->b, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"black\"/>\n", x, pl->bottom, x, pl->bottom + 5);
  tl_textbuf_printf(&pl->b, "<text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\" "
                "text-anchor=\"middle\">", x, pl->bottom + 18);
}

/* The x axis: a tick per category (thinned to about 20), per year, or per
** step of the scale; then the axes' names. */
static void plot_x_axis(plot *pl) {
  tl_textbuf *b = &pl->b;
  char tmp[128];
  tl_textbuf_printf(b, "<g class=\"axis x\">\n<line class=\"axis-line\" x1=\"%.1f\" y1=\"%.1f\" "
                "x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", pl->left, pl->bottom, pl->right,
                pl->bottom);
  if (pl->cat) {
    int every = pl->ncat > 20 ? (pl->ncat + 19) / 20 : 1;   /* labels that do not collide */
    for (int k = 0; k < pl->ncat; k += every) {
      const char *c = pl->cats[k];
      size_t len = strlen(c);
      x_tick(pl, px(pl, k));
      if (u8_width(c, len) > 16) {
        xml_text(b, c, u8_prefix(c, len, 15));
        tl_textbuf_str(b, "\xe2\x80\xa6");
      } else {
        xml_text(b, c, len);
      }
      tl_textbuf_str(b, "</text>\n");
    }
  } else {
    const plot_axis *xa = &pl->xa, *years = &pl->years;
    int by_year = pl->by_year;
    int nticks = (int)floor(((by_year ? years->hi - years->lo : xa->hi - xa->lo) /
                             (by_year ? years->step : xa->step)) + 0.5);
    for (int k = 0; k <= nticks; k++) {
      double v = xa->lo + k * xa->step;
      if (by_year) {
        int year = (int)(years->lo + k * years->step);
        v = tl_days_from_civil(year, 1, 1);
        snprintf(tmp, sizeof tmp, "%d", year);
      } else {
        tick_label(tmp, sizeof tmp, v, pl->dates);
      }
      x_tick(pl, px(pl, v));
      xml_str(b, tmp);
      tl_textbuf_str(b, "</text>\n");
    }
  }
  tl_textbuf_str(b, "</g>\n");
  tl_textbuf_printf(b, "<text class=\"axis-label x\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            (pl->left + pl->right) / 2, pl->bottom + 40.0);
  xml_str(b, pl->o->x);
  tl_textbuf_printf(b, "</text>\n<text class=\"axis-label y\" transform=\"translate(16 %.1f) "
                "rotate(-90)\" text-anchor=\"middle\">", (pl->top + pl->bottom) / 2);
  xml_str(b, pl->o->y);
  tl_textbuf_str(b, "</text>\n");
}

/* The marks of series s, points [first, end): a line through them, then a
** bar or a dot each. */
static void plot_marks(plot *pl, int s, int64_t first, int64_t end) {
  tl_textbuf *b = &pl->b;
  const char *color = palette[s % 10];
  if (!pl->bars && !pl->scatter && end - first > 1) {
    tl_textbuf_printf(b, "<polyline class=\"line\" fill=\"none\" stroke=\"%s\" "
                  "stroke-width=\"2\" points=\"", color);
    for (int64_t q = first; q < end; q++)
      tl_textbuf_printf(b, "%s%.1f,%.1f", q > first ? " " : "", px(pl, pl->pts[q].x),
                        py(pl, pl->pts[q].y));
    tl_textbuf_str(b, "\"/>\n");
  }
  for (; first < end; first++) {
    const plot_point *p = &pl->pts[first];
    if (pl->bars) {
      double band = pl->band;
      double w = band * 0.8 / pl->nser, x = pl->left + band * p->x + band * 0.1 + w * s;
      double y0 = py(pl, 0 > pl->ya.lo ? 0 : pl->ya.lo), y1 = py(pl, p->y);
      tl_textbuf_printf(b, "<rect class=\"mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                    "height=\"%.1f\" fill=\"%s\"/>\n", x, y1 < y0 ? y1 : y0, w,
                fabs(y0 - y1), color);
    } else {
      tl_textbuf_printf(b, "<circle class=\"mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" "
                    "fill=\"%s\"/>\n", px(pl, p->x), py(pl, p->y),
                    pl->scatter ? "3.5" : "2.5", color);
    }
  }
}

/* The marks, series by series (the points are sorted by series). */
static void plot_series(plot *pl) {
  tl_textbuf *b = &pl->b;
  int64_t i = 0;
  for (int s = 0; s < pl->nser; s++) {
    int64_t first = i;
    tl_textbuf_str(b, "<g class=\"series\" data-name=\"");
    xml_str(b, pl->series[s]);
    tl_textbuf_str(b, "\">\n");
    while (i < pl->np && pl->pts[i].series == s)
      i++;
    plot_marks(pl, s, first, i);
    tl_textbuf_str(b, "</g>\n");
  }
}

/* The legend, and the document's end. */
static void plot_legend(plot *pl) {
  tl_textbuf *b = &pl->b;
  tl_textbuf_str(b, "<g class=\"legend\">\n");
  for (int s = 0; s < pl->nser; s++) {
    const char *name = pl->series[s];
    double y = pl->top + 4 + s * 18;
    size_t len = strlen(name);
    tl_textbuf_printf(b, "<rect class=\"legend-swatch\" x=\"%.1f\" y=\"%.1f\" width=\"12\" "
                  "height=\"12\" fill=\"%s\"/>\n", pl->right + 16, y, palette[s % 10]);
    tl_textbuf_printf(b, "<text class=\"legend-label\" x=\"%.1f\" y=\"%.1f\">", pl->right + 34,
              y + 10);
    if (u8_width(name, len) > 20) {
      xml_text(b, name, u8_prefix(name, len, 19));
      tl_textbuf_str(b, "\xe2\x80\xa6");
    } else {
      xml_text(b, name, len);
    }
    tl_textbuf_str(b, "</text>\n");
  }
  tl_textbuf_str(b, "</g>\n</svg>\n");
}

/* The document into the file at path. */
static tl_status plot_write(plot *pl, const char *path) {
  FILE *f;
  if (pl->b.failed)
    return tl_error_oom(pl->err, "plot");
  f = fopen(path, "wb");
  if (f == NULL)
    return tl_error_set(pl->err, TL_EIO, "plot: cannot open '%s'", path);
  if (fwrite(pl->b.p, 1, pl->b.len, f) != pl->b.len) {
    fclose(f);
    return tl_error_set(pl->err, TL_EIO, "plot: cannot write '%s'", path);
  }
  if (fclose(f) != 0)
    return tl_error_set(pl->err, TL_EIO, "plot: cannot write '%s'", path);
  return TL_OK;
}

tl_status tl_plot_svg(const tl_table *t, const tl_plot_options *o, const char *path,
                      tl_error *err) {
  TL_TRY(tl_table_check_files(t, "plot", err));
  plot pl;
  memset(&pl, 0, sizeof pl);
  pl.o = o;
  pl.err = err;
  pl.W = o->width > 0 ? o->width : 640;
  pl.H = o->height > 0 ? o->height : 400;
  pl.xa = (plot_axis){0, 1, 1};
  pl.years = (plot_axis){0, 1, 1};
  pl.left = 70;
  pl.right = pl.W - 160;
  pl.top = o->title ? 50 : 24;
  pl.bottom = pl.H - 56;
  pl.band = 1;
  tl_status st = plot_check(&pl, t);
  if (st == TL_OK)
    st = plot_collect(&pl, tl_table_nrows(t));
  if (st == TL_OK) {
    plot_scales(&pl);
    plot_head(&pl);
    plot_y_axis(&pl);
    plot_x_axis(&pl);
    plot_series(&pl);
    plot_legend(&pl);
    st = plot_write(&pl, path);
  }
  free_strings(pl.series, pl.nser);
  free_strings(pl.cats, pl.ncat);
  tl_free(pl.pts);
  tl_free(pl.b.p);
  return st;
}
