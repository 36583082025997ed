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

static char *scalar_text(const tl_column *c, int64_t i) {
  char tmp[64];
  tl_scalar v;
  size_t n;
  tl_column_get(c, i, &v);
  if (!v.is_null && v.type == TL_STRING)
    return tl_strndup(v.v.s.ptr ? v.v.s.ptr : "", v.v.s.ptr ? v.v.s.len : 0);
  n = tl_scalar_format(&v, tmp, sizeof tmp);
  return tl_strndup(tmp, n < sizeof tmp ? n : sizeof tmp - 1);
}

tl_status tl_chart_bar(const tl_table *t, const char *label_col, const char *value_col,
                       int width, char **out, size_t *len, tl_error *err) {
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
    labels[i] = scalar_text(lc, i);
    texts[i] = scalar_text(vc, i);
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

tl_status tl_plot_svg(const tl_table *t, const tl_plot_options *o, const char *path,
                      tl_error *err) {
  TL_TRY(tl_table_check_files(t, "plot", err));
  const char *kind = o->kind ? o->kind : "line";
  int W = o->width > 0 ? o->width : 640, H = o->height > 0 ? o->height : 400;
  int jx, jy, jb = -1, bars, scatter, cat, dates, nser = 0, ncat = 0, s, k;
  int64_t i, n = tl_table_nrows(t), np = 0;
  const tl_column *xc, *yc, *bc = NULL;
  tl_type xt;
  char **series = NULL, **cats = NULL;
  plot_point *pts = NULL;
  plot_axis xa = {0, 1, 1}, ya, years = {0, 1, 1};
  int by_year = 0;
  double left = 70, right = W - 160, top = o->title ? 50 : 24, bottom = H - 56;
  double ylo = 0, yhi = 0, band = 1;
  tl_textbuf b = {NULL, 0, 0, 0};
  tl_status st = TL_OK;
  char tmp[128];
  FILE *f;

  bars = strcmp(kind, "bar") == 0;
  scatter = strcmp(kind, "scatter") == 0;
  if (!bars && !scatter && strcmp(kind, "line") != 0)
    return tl_error_set(err, TL_EINVAL, "plot: kind must be 'line', 'bar' or 'scatter', "
                        "not '%s'", kind);
  if (o->x == NULL || o->y == NULL)
    return tl_error_set(err, TL_EINVAL, "plot: x and y are required");
  if ((jx = tl_table_find(t, o->x)) < 0)
    return tl_error_set(err, TL_EINVAL, "plot: unknown column '%s'", o->x);
  if ((jy = tl_table_find(t, o->y)) < 0)
    return tl_error_set(err, TL_EINVAL, "plot: unknown column '%s'", o->y);
  if (o->by != NULL && (jb = tl_table_find(t, o->by)) < 0)
    return tl_error_set(err, TL_EINVAL, "plot: unknown column '%s'", o->by);
  xc = tl_table_column(t, jx);
  yc = tl_table_column(t, jy);
  bc = jb >= 0 ? tl_table_column(t, jb) : NULL;
  if (!is_number(tl_column_type(yc)))
    return tl_error_set(err, TL_ETYPE, "plot: column '%s' is %s, not a number", o->y,
                        tl_type_name(tl_column_type(yc)));
  xt = tl_column_type(xc);
  cat = bars || !(is_number(xt) || xt == TL_DATE || xt == TL_TIMESTAMP);
  dates = !cat && (xt == TL_DATE || xt == TL_TIMESTAMP);

  series = tl_calloc(MAX_SERIES, sizeof *series);
  cats = tl_calloc(MAX_CATEGORIES, sizeof *cats);
  pts = tl_calloc((size_t)(n ? n : 1), sizeof *pts);
  if (series == NULL || cats == NULL || pts == NULL) {
    st = tl_error_oom(err, "plot");
    goto done;
  }
  if (bc == NULL && (series[nser++] = tl_strdup(o->y)) == NULL) {
    st = tl_error_oom(err, "plot");
    goto done;
  }
  for (i = 0; i < n; i++) {
    plot_point *p = &pts[np];
    tl_scalar v;
    if (tl_column_is_null(xc, i) || tl_column_is_null(yc, i))
      continue;                                  /* nothing to draw */
    p->row = i;
    p->y = number_at(yc, i);
    if (!isfinite(p->y))
      continue;
    p->series = 0;
    if (bc != NULL) {
      char *name = scalar_text(bc, i);
      if (name == NULL) {
        st = tl_error_oom(err, "plot");
        goto done;
      }
      if ((p->series = intern(series, &nser, MAX_SERIES, name)) < 0) {
        st = tl_error_set(err, TL_ELIMIT, "plot: column '%s' has more than %d values",
                          o->by, MAX_SERIES);
        goto done;
      }
    }
    if (cat) {
      char *name = scalar_text(xc, i);
      if (name == NULL) {
        st = tl_error_oom(err, "plot");
        goto done;
      }
      if ((k = intern(cats, &ncat, MAX_CATEGORIES, name)) < 0) {
        st = tl_error_set(err, TL_ELIMIT, "plot: column '%s' has more than %d values",
                          o->x, MAX_CATEGORIES);
        goto done;
      }
      p->x = k;
    } else {
      tl_column_get(xc, i, &v);
      p->x = v.type == TL_DATE ? v.v.d
           : v.type == TL_TIMESTAMP ? (double)v.v.i / 86400e6
           : number_at(xc, i);
      if (!isfinite(p->x))
        continue;
    }
    if (np == 0 || p->y < ylo)
      ylo = p->y;
    if (np == 0 || p->y > yhi)
      yhi = p->y;
    np++;
  }
  if (bars) {                                    /* bars grow from zero */
    if (ylo > 0)
      ylo = 0;
    if (yhi < 0)
      yhi = 0;
  }
  nice_axis(ylo, yhi, 5, &ya);
  if (cat) {
    band = (right - left) / (ncat > 0 ? ncat : 1);
  } else {
    double xlo = 0, xhi = 0;
    for (i = 0; i < np; i++) {
      if (i == 0 || pts[i].x < xlo)
        xlo = pts[i].x;
      if (i == 0 || pts[i].x > xhi)
        xhi = pts[i].x;
    }
    nice_axis(xlo, xhi, 6, &xa);
    if (dates && xhi - xlo > 730) {              /* ticks on whole years */
      int y0, y1, m, d;
      tl_civil_from_days((int32_t)floor(xlo), &y0, &m, &d);
      tl_civil_from_days((int32_t)ceil(xhi), &y1, &m, &d);
      nice_axis(y0, y1 + 1, 6, &years);
      if (years.step < 1)
        years.step = 1;
      xa.lo = tl_days_from_civil((int)years.lo, 1, 1);
      xa.hi = tl_days_from_civil((int)years.hi, 1, 1);
      by_year = 1;
    }
  }
  qsort(pts, (size_t)np, sizeof *pts, cmp_point);

#define PX(x) (cat ? left + band * ((x) + 0.5) : left + ((x) - xa.lo) / (xa.hi - xa.lo) * (right - left))
#define PY(y) (bottom - ((y) - ya.lo) / (ya.hi - ya.lo) * (bottom - top))

  tl_textbuf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n",
            W, H, W, H);
  tl_textbuf_printf(&b, "<rect class=\"background\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
            W, H);
  if (o->title) {
    tl_textbuf_printf(&b, "<text class=\"title\" x=\"%.1f\" y=\"28\" text-anchor=\"middle\" "
                  "font-size=\"16\" font-weight=\"bold\">", W / 2.0);
    xml_str(&b, o->title);
    tl_textbuf_str(&b, "</text>\n");
  }

  /* the y axis: ticks, grid lines, labels */
  tl_textbuf_printf(&b, "<g class=\"axis y\">\n<line class=\"axis-line\" x1=\"%.1f\" y1=\"%.1f\" "
                "x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", left, top, left, bottom);
  for (k = 0; k <= (int)floor((ya.hi - ya.lo) / ya.step + 0.5); k++) {
    double v = ya.lo + k * ya.step, y = PY(v);
    tick_label(tmp, sizeof tmp, v, 0);
    tl_textbuf_printf(&b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"#e0e0e0\"/>\n", left, y, right, y);
    tl_textbuf_printf(&b, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"black\"/>\n", left - 5, y, left, y);
    tl_textbuf_printf(&b, "<text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
              left - 8, y + 4);
    xml_str(&b, tmp);
    tl_textbuf_str(&b, "</text>\n");
  }
  tl_textbuf_str(&b, "</g>\n");

  /* the x axis */
  tl_textbuf_printf(&b, "<g class=\"axis x\">\n<line class=\"axis-line\" x1=\"%.1f\" y1=\"%.1f\" "
                "x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n", left, bottom, right, bottom);
  if (cat) {
    int every = ncat > 20 ? (ncat + 19) / 20 : 1;        /* labels that do not collide */
    for (k = 0; k < ncat; k += every) {
      double x = PX(k);
      size_t len = strlen(cats[k]);
      tl_textbuf_printf(&b, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"black\"/>\n", x, bottom, x, bottom + 5);
      tl_textbuf_printf(&b, "<text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\" "
                    "text-anchor=\"middle\">", x, bottom + 18);
      if (u8_width(cats[k], len) > 16) {
        xml_text(&b, cats[k], u8_prefix(cats[k], len, 15));
        tl_textbuf_str(&b, "\xe2\x80\xa6");
      } else {
        xml_text(&b, cats[k], len);
      }
      tl_textbuf_str(&b, "</text>\n");
    }
  } else {
    int nticks = (int)floor(((by_year ? years.hi - years.lo : xa.hi - xa.lo) /
                             (by_year ? years.step : xa.step)) + 0.5);
    for (k = 0; k <= nticks; k++) {
      double v = xa.lo + k * xa.step, x;
      if (by_year) {
        int year = (int)(years.lo + k * years.step);
        v = tl_days_from_civil(year, 1, 1);
        snprintf(tmp, sizeof tmp, "%d", year);
      } else {
        tick_label(tmp, sizeof tmp, v, dates);
      }
      x = PX(v);
      tl_textbuf_printf(&b, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"black\"/>\n", x, bottom, x, bottom + 5);
      tl_textbuf_printf(&b, "<text class=\"tick-label\" x=\"%.1f\" y=\"%.1f\" "
                    "text-anchor=\"middle\">", x, bottom + 18);
      xml_str(&b, tmp);
      tl_textbuf_str(&b, "</text>\n");
    }
  }
  tl_textbuf_str(&b, "</g>\n");
  tl_textbuf_printf(&b, "<text class=\"axis-label x\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            (left + right) / 2, bottom + 40.0);
  xml_str(&b, o->x);
  tl_textbuf_printf(&b, "</text>\n<text class=\"axis-label y\" transform=\"translate(16 %.1f) "
                "rotate(-90)\" text-anchor=\"middle\">", (top + bottom) / 2);
  xml_str(&b, o->y);
  tl_textbuf_str(&b, "</text>\n");

  /* the marks, series by series */
  for (s = 0, i = 0; s < nser; s++) {
    const char *color = palette[s % 10];
    int64_t first = i;
    tl_textbuf_str(&b, "<g class=\"series\" data-name=\"");
    xml_str(&b, series[s]);
    tl_textbuf_str(&b, "\">\n");
    while (i < np && pts[i].series == s)
      i++;
    if (!bars && !scatter && i - first > 1) {
      int64_t q;
      tl_textbuf_printf(&b, "<polyline class=\"line\" fill=\"none\" stroke=\"%s\" "
                    "stroke-width=\"2\" points=\"", color);
      for (q = first; q < i; q++)
        tl_textbuf_printf(&b, "%s%.1f,%.1f", q > first ? " " : "", PX(pts[q].x), PY(pts[q].y));
      tl_textbuf_str(&b, "\"/>\n");
    }
    for (; first < i; first++) {
      const plot_point *p = &pts[first];
      if (bars) {
        double w = band * 0.8 / nser, x = left + band * p->x + band * 0.1 + w * s;
        double y0 = PY(0 > ya.lo ? 0 : ya.lo), y1 = PY(p->y);
        tl_textbuf_printf(&b, "<rect class=\"mark\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\" fill=\"%s\"/>\n", x, y1 < y0 ? y1 : y0, w,
                  fabs(y0 - y1), color);
      } else {
        tl_textbuf_printf(&b, "<circle class=\"mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" "
                      "fill=\"%s\"/>\n", PX(p->x), PY(p->y), scatter ? "3.5" : "2.5", color);
      }
    }
    tl_textbuf_str(&b, "</g>\n");
  }

  /* the legend */
  tl_textbuf_str(&b, "<g class=\"legend\">\n");
  for (s = 0; s < nser; s++) {
    double y = top + 4 + s * 18;
    size_t len = strlen(series[s]);
    tl_textbuf_printf(&b, "<rect class=\"legend-swatch\" x=\"%.1f\" y=\"%.1f\" width=\"12\" "
                  "height=\"12\" fill=\"%s\"/>\n", right + 16, y, palette[s % 10]);
    tl_textbuf_printf(&b, "<text class=\"legend-label\" x=\"%.1f\" y=\"%.1f\">", right + 34,
              y + 10);
    if (u8_width(series[s], len) > 20) {
      xml_text(&b, series[s], u8_prefix(series[s], len, 19));
      tl_textbuf_str(&b, "\xe2\x80\xa6");
    } else {
      xml_text(&b, series[s], len);
    }
    tl_textbuf_str(&b, "</text>\n");
  }
  tl_textbuf_str(&b, "</g>\n</svg>\n");
#undef PX
#undef PY

  if (b.failed) {
    st = tl_error_oom(err, "plot");
    goto done;
  }
  f = fopen(path, "wb");
  if (f == NULL) {
    st = tl_error_set(err, TL_EIO, "plot: cannot open '%s'", path);
    goto done;
  }
  if (fwrite(b.p, 1, b.len, f) != b.len) {
    fclose(f);
    st = tl_error_set(err, TL_EIO, "plot: cannot write '%s'", path);
    goto done;
  }
  if (fclose(f) != 0)
    st = tl_error_set(err, TL_EIO, "plot: cannot write '%s'", path);

done:
  free_strings(series, nser);
  free_strings(cats, ncat);
  tl_free(pts);
  tl_free(b.p);
  return st;
}
