/*
** chart.c -- charts: bars and histograms drawn with Unicode blocks for the
** terminal. Charts as files (SVG, PNG) are plot.c's.
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
