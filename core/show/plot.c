/*
** plot.c -- charts as files: the options checked against the table, the
** rows gathered into points (with their series, category and panel), the
** bins of a histogram and the five numbers of a box; then the layout
** (plot_axes.c), the marks (plot_draw.c) and a writer: SVG (svg.c) or PNG
** (png.c), chosen by the file's extension.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "plot.h"

static const unsigned palette[8] = {0x0072B2, 0xE69F00, 0x009E73, 0xD55E00,
                                    0xCC79A7, 0x56B4E9, 0x8C6D00, 0x000000};

unsigned plot_color(int series) { return palette[(series < 0 ? 0 : series) % 8]; }

static int is_number(tl_type t) { return t == TL_INT || t == TL_FLOAT; }

static double number_at(const tl_column *c, int64_t i) {
  tl_scalar v;
  tl_column_get(c, i, &v);
  return v.type == TL_INT ? (double)v.v.i : v.type == TL_FLOAT ? v.v.f
       : v.type == TL_DATE ? v.v.d : v.type == TL_TIMESTAMP ? (double)v.v.i / 86400e6
       : v.type == TL_BOOL ? v.v.b : NAN;
}

static char *text_at(const tl_column *c, int64_t i) {
  tl_scalar v;
  char small[64];
  tl_column_get(c, i, &v);
  if (v.type == TL_STRING) {
    char *s = tl_alloc(v.v.s.len + 1);
    if (s) { memcpy(s, v.v.s.ptr, v.v.s.len); s[v.v.s.len] = '\0'; }
    return s;
  }
  tl_scalar_format(&v, small, sizeof small);
  return tl_strdup(small);
}

static int kind_of(const char *k) {
  static const char *const names[] = {"line", "scatter", "bar", "area", "hist", "box"};
  if (!k) return PK_LINE;
  for (int i = 0; i < 6; i++)
    if (strcmp(k, names[i]) == 0) return i;
  return -1;
}

static tl_status find(plot *p, const tl_table *t, const char *opt, const char *name,
                      const tl_column **out) {
  int j = tl_table_find(t, name);
  if (j < 0) {
    const char *near = tl_table_suggest(t, name);
    if (near)
      return tl_error_set(p->err, TL_EINVAL, "plot: %s: unknown column '%s' (did you mean "
                          "'%s'?)", opt, name, near);
    return tl_error_set(p->err, TL_EINVAL, "plot: %s: unknown column '%s'", opt, name);
  }
  *out = tl_table_column(t, j);
  return TL_OK;
}

/* The kind, the columns and their types, the orientation. */
static tl_status check(plot *p, const tl_table *t) {
  const tl_plot_options *o = p->o;
  p->kind = kind_of(o->kind);
  if (p->kind < 0)
    return tl_error_set(p->err, TL_EINVAL, "plot: kind must be 'line', 'scatter', 'bar', "
                        "'area', 'hist' or 'box', not '%s'", o->kind);
  const char *need_y = p->kind == PK_HIST ? NULL : "y";
  if (p->kind == PK_HIST && !o->x)
    return tl_error_set(p->err, TL_EINVAL, "plot: a histogram needs x, the column to count");
  if (p->kind == PK_HIST && o->y)
    return tl_error_set(p->err, TL_EINVAL, "plot: a histogram counts x; it takes no y");
  if (need_y && !o->y) return tl_error_set(p->err, TL_EINVAL, "plot: option 'y' is required");
  if (!o->x && p->kind != PK_BOX)
    return tl_error_set(p->err, TL_EINVAL, "plot: option 'x' is required");
  if (o->bins && p->kind != PK_HIST)
    return tl_error_set(p->err, TL_EINVAL, "plot: option 'bins' is for kind = 'hist'");
  if (o->by && (p->kind == PK_HIST || p->kind == PK_BOX))
    return tl_error_set(p->err, TL_EINVAL, "plot: option 'by' is not for kind = '%s'; "
                        "use facet", o->kind);
  if (o->x) TL_TRY(find(p, t, "x", o->x, &p->xc));
  if (o->y) TL_TRY(find(p, t, "y", o->y, &p->yc));
  if (o->by) TL_TRY(find(p, t, "by", o->by, &p->bc));
  if (o->facet) TL_TRY(find(p, t, "facet", o->facet, &p->fc));
  const tl_column *vc = p->kind == PK_HIST ? p->xc : p->yc;
  const char *vn = p->kind == PK_HIST ? o->x : o->y;
  if (!is_number(tl_column_type(vc)))
    return tl_error_set(p->err, TL_ETYPE, "plot: column '%s' is %s, not a number", vn,
                        tl_type_name(tl_column_type(vc)));
  tl_type xt = p->xc ? tl_column_type(p->xc) : TL_STRING;
  p->cat = p->kind == PK_BAR || p->kind == PK_BOX ||
           (p->kind != PK_HIST && !(is_number(xt) || xt == TL_DATE || xt == TL_TIMESTAMP));
  if (!p->cat && p->kind != PK_HIST) p->xtime = xt == TL_DATE ? 1 : xt == TL_TIMESTAMP ? 2 : 0;
  if (o->orient && strcmp(o->orient, "horizontal") != 0 && strcmp(o->orient, "vertical") != 0)
    return tl_error_set(p->err, TL_EINVAL, "plot: orient must be 'vertical' or 'horizontal', "
                        "not '%s'", o->orient);
  if (o->orient && strcmp(o->orient, "horizontal") == 0 && p->kind != PK_BAR &&
      p->kind != PK_BOX)
    return tl_error_set(p->err, TL_EINVAL, "plot: orient = 'horizontal' is for bars and boxes");
  if (o->stack && p->kind != PK_BAR && p->kind != PK_AREA)
    return tl_error_set(p->err, TL_EINVAL, "plot: option 'stack' is for bars and areas");
  p->stack = o->stack && p->bc;
  return TL_OK;
}

/* The index of text s in list (appended when new; s is then owned by the
** list, else freed); -1 when the list is full. */
static int intern(char **list, int *n, int max, char *s) {
  for (int i = 0; i < *n; i++)
    if (strcmp(list[i], s) == 0) { tl_free(s); return i; }
  if (*n >= max) { tl_free(s); return -1; }
  list[*n] = s;
  return (*n)++;
}

static tl_status intern_at(plot *p, const tl_column *c, int64_t i, char **list, int *n, int max,
                           const char *opt, int *out) {
  char *s = text_at(c, i);
  if (!s) return tl_error_oom(p->err, "plot");
  if ((*out = intern(list, n, max, s)) < 0)
    return tl_error_set(p->err, TL_ELIMIT, "plot: %s: more than %d distinct values", opt, max);
  return TL_OK;
}

/* The point of row i; *keep = 0 when the row draws nothing (a null, or a
** value that is not finite). */
static tl_status point_at(plot *p, int64_t i, plot_point *pt, int *keep) {
  const tl_column *vc = p->kind == PK_HIST ? p->xc : p->yc;
  *keep = 0;
  if (tl_column_is_null(vc, i) || (p->xc && tl_column_is_null(p->xc, i))) return TL_OK;
  if ((p->bc && tl_column_is_null(p->bc, i)) || (p->fc && tl_column_is_null(p->fc, i)))
    return TL_OK;
  pt->row = i;
  pt->y = number_at(vc, i);
  if (!isfinite(pt->y)) return TL_OK;
  pt->series = pt->panel = 0;
  if (p->bc)
    TL_TRY(intern_at(p, p->bc, i, p->series, &p->nser, PLOT_MAX_SERIES, "by", &pt->series));
  if (p->fc)
    TL_TRY(intern_at(p, p->fc, i, p->panels, &p->npanel, PLOT_MAX_PANELS, "facet", &pt->panel));
  if (p->kind == PK_HIST) {
    pt->x = pt->y;
  } else if (p->cat) {
    int k = 0;
    if (p->xc)
      TL_TRY(intern_at(p, p->xc, i, p->cats, &p->ncat, PLOT_MAX_CATEGORIES, "x", &k));
    pt->x = k;
  } else {
    pt->x = number_at(p->xc, i);
    if (!isfinite(pt->x)) return TL_OK;
  }
  *keep = 1;
  return TL_OK;
}

static int cmp_point(const void *pa, const void *pb) {
  const plot_point *a = pa, *b = pb;
  if (a->panel != b->panel) return a->panel < b->panel ? -1 : 1;
  if (a->series != b->series) return a->series < b->series ? -1 : 1;
  if (a->x != b->x) return a->x < b->x ? -1 : 1;
  return a->row < b->row ? -1 : a->row > b->row;
}

static tl_status gather(plot *p, int64_t n) {
  p->series = tl_calloc(PLOT_MAX_SERIES, sizeof *p->series);
  p->cats = tl_calloc(PLOT_MAX_CATEGORIES, sizeof *p->cats);
  p->panels = tl_calloc(PLOT_MAX_PANELS, sizeof *p->panels);
  p->pts = tl_calloc((size_t)(n ? n : 1), sizeof *p->pts);
  if (!p->series || !p->cats || !p->panels || !p->pts) return tl_error_oom(p->err, "plot");
  if (!p->bc) {
    const char *name = p->o->y ? p->o->y : p->o->x;
    if (!(p->series[p->nser++] = tl_strdup(name))) return tl_error_oom(p->err, "plot");
  }
  if (!p->fc && !(p->panels[p->npanel++] = tl_strdup(""))) return tl_error_oom(p->err, "plot");
  if (p->cat && !p->xc && !(p->cats[p->ncat++] = tl_strdup(p->o->y)))
    return tl_error_oom(p->err, "plot");
  for (int64_t i = 0; i < n; i++) {
    int keep;
    if ((i & 0xffff) == 0 && tl_interrupted()) return tl_error_interrupted(p->err, "plot");
    TL_TRY(point_at(p, i, &p->pts[p->np], &keep));
    p->np += keep;
  }
  qsort(p->pts, (size_t)p->np, sizeof *p->pts, cmp_point);
  return TL_OK;
}

/* A histogram's bins: equal widths between the finite minimum and maximum
** (Sturges' rule when not given, 5 to 50); each bin becomes a point of
** x = its index and y = its count, per panel. */
static tl_status hist_bins(plot *p) {
  double lo = 0, hi = 0;
  for (int64_t i = 0; i < p->np; i++) {
    if (i == 0 || p->pts[i].x < lo) lo = p->pts[i].x;
    if (i == 0 || p->pts[i].x > hi) hi = p->pts[i].x;
  }
  int bins = p->o->bins;
  if (bins <= 0) {
    bins = (int)ceil(log2((double)(p->np > 1 ? p->np : 1))) + 1;
    bins = bins < 5 ? 5 : bins > 50 ? 50 : bins;
  }
  if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
  p->bins = bins;
  p->hist_edges = tl_alloc(((size_t)bins + 1) * sizeof *p->hist_edges);
  double *counts = tl_calloc((size_t)bins * (size_t)p->npanel, sizeof *counts);
  if (!p->hist_edges || !counts) { tl_free(counts); return tl_error_oom(p->err, "plot"); }
  for (int k = 0; k <= bins; k++) p->hist_edges[k] = lo + (hi - lo) * k / bins;
  for (int64_t i = 0; i < p->np; i++) {
    int k = (int)((p->pts[i].x - lo) / (hi - lo) * bins);
    k = k < 0 ? 0 : k >= bins ? bins - 1 : k;
    counts[(size_t)p->pts[i].panel * (size_t)bins + (size_t)k] += 1;
  }
  plot_point *pts = tl_alloc((size_t)bins * (size_t)p->npanel * sizeof *pts);
  if (!pts) { tl_free(counts); return tl_error_oom(p->err, "plot"); }
  tl_free(p->pts);
  p->pts = pts;
  p->np = 0;
  for (int f = 0; f < p->npanel; f++)
    for (int k = 0; k < bins; k++)
      p->pts[p->np++] = (plot_point){k, counts[(size_t)f * (size_t)bins + (size_t)k], 0, f, k};
  tl_free(counts);
  return TL_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* q-quantile of sorted v[0..n), interpolated as the quantile aggregate is. */
static double quantile(const double *v, int64_t n, double q) {
  double h = (double)(n - 1) * q;
  int64_t k = (int64_t)floor(h);
  return k + 1 < n ? v[k] + (h - (double)k) * (v[k + 1] - v[k]) : v[k];
}

/* The boxes: per panel and category, the quartiles; whiskers to the last
** values within 1.5 interquartile ranges; the values past them stay as
** points (outliers), the others are dropped. */
static tl_status box_stats(plot *p) {
  double *v = tl_alloc((size_t)(p->np ? p->np : 1) * sizeof *v);
  p->boxes = tl_calloc((size_t)p->ncat * (size_t)p->npanel + 1, sizeof *p->boxes);
  if (!v || !p->boxes) { tl_free(v); return tl_error_oom(p->err, "plot"); }
  /* points are sorted by panel, then x (the category) */
  int64_t i = 0, kept = 0;
  while (i < p->np) {
    int64_t first = i, n = 0;
    while (i < p->np && p->pts[i].panel == p->pts[first].panel && p->pts[i].x == p->pts[first].x)
      v[n++] = p->pts[i++].y;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    plot_box *b = &p->boxes[p->nbox++];
    b->cat = (int)p->pts[first].x;
    b->panel = p->pts[first].panel;
    b->q1 = quantile(v, n, 0.25);
    b->median = quantile(v, n, 0.5);
    b->q3 = quantile(v, n, 0.75);
    double reach = 1.5 * (b->q3 - b->q1);
    b->lo = b->q1;
    b->hi = b->q3;
    for (int64_t k = 0; k < n; k++) {
      if (v[k] >= b->q1 - reach && v[k] < b->lo) b->lo = v[k];
      if (v[k] <= b->q3 + reach && v[k] > b->hi) b->hi = v[k];
    }
    for (int64_t k = first; k < i; k++)
      if (p->pts[k].y < b->lo || p->pts[k].y > b->hi) p->pts[kept++] = p->pts[k];
  }
  p->np = kept;
  tl_free(v);
  return TL_OK;
}

tl_status plot_prepare(plot *p, const tl_table *t) {
  TL_TRY(tl_table_check_files(t, "plot", p->err));
  TL_TRY(check(p, t));
  TL_TRY(gather(p, tl_table_nrows(t)));
  if (p->kind == PK_HIST) TL_TRY(hist_bins(p));
  if (p->kind == PK_BOX) TL_TRY(box_stats(p));
  /* bars with long category labels lie down, as Vega-Lite's and ggplot2's
     readers turn them; the orientation can be asked for */
  if (p->kind == PK_BAR || p->kind == PK_BOX) {
    double longest = 0;
    for (int k = 0; k < p->ncat; k++) {
      double w = sc_text_width(p->cats[k], strlen(p->cats[k]), 11);
      if (w > longest) longest = w;
    }
    p->horizontal = p->o->orient ? strcmp(p->o->orient, "horizontal") == 0
                                 : p->kind == PK_BAR && longest > 90 && p->ncat <= 60;
  }
  return TL_OK;
}

static void free_list(char **a, int n) {
  if (!a) return;
  for (int i = 0; i < n; i++) tl_free(a[i]);
  tl_free(a);
}

static void free_scale(plot_scale *s) {
  free_list(s->labels, s->nticks);
  tl_free(s->ticks);
}

void plot_free(plot *p) {
  free_list(p->series, p->nser);
  free_list(p->cats, p->ncat);
  free_list(p->panels, p->npanel);
  free_scale(&p->xs);
  free_scale(&p->ys);
  tl_free(p->pts);
  tl_free(p->boxes);
  tl_free(p->hist_edges);
  tl_free(p->base);
  sc_free(&p->sc);
}

/* The whole chart into p->sc. */
static tl_status plot_build(const tl_table *t, const tl_plot_options *o, plot *p,
                            tl_error *err) {
  memset(p, 0, sizeof *p);
  p->o = o;
  p->err = err;
  p->W = o->width > 0 ? o->width : 640;
  p->H = o->height > 0 ? o->height : 400;
  if (p->W < 120 || p->H < 100 || p->W > 20000 || p->H > 20000)
    return tl_error_set(err, TL_EINVAL, "plot: a chart is 120 x 100 to 20000 x 20000 pixels, "
                        "not %d x %d", p->W, p->H);
  sc_init(&p->sc, p->W, p->H);
  TL_TRY(plot_prepare(p, t));
  TL_TRY(plot_scales(p));
  TL_TRY(plot_layout(p));
  plot_axes(p);
  plot_marks(p);
  plot_legend(p);
  if (p->sc.failed) return tl_error_oom(err, "plot");
  return TL_OK;
}

tl_status plot_scene(const tl_table *t, const tl_plot_options *o, sc_scene *out, tl_error *err) {
  plot p;
  tl_status st = plot_build(t, o, &p, err);
  if (st == TL_OK) {
    *out = p.sc;
    memset(&p.sc, 0, sizeof p.sc);
  }
  plot_free(&p);
  return st;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  if (n < m) return 0;
  for (size_t i = 0; i < m; i++)
    if ((s[n - m + i] | 0x20) != suffix[i]) return 0;
  return 1;
}

tl_status tl_plot_svg_text(const tl_table *t, const tl_plot_options *o, char **out, size_t *len,
                           tl_error *err) {
  plot p;
  tl_status st = plot_build(t, o, &p, err);
  if (st == TL_OK) st = sc_write_svg(&p.sc, o->title, out, len, err);
  plot_free(&p);
  return st;
}

static tl_status write_file(const char *path, const char *text, size_t len, tl_error *err) {
  FILE *f = fopen(path, "wb");
  if (!f) return tl_error_set(err, TL_EIO, "plot: cannot open '%s'", path);
  int bad = fwrite(text, 1, len, f) != len;
  bad |= fclose(f) != 0;
  if (bad) {
    remove(path);
    return tl_error_set(err, TL_EIO, "plot: cannot write '%s'", path);
  }
  return TL_OK;
}

tl_status tl_plot_write(const tl_table *t, const tl_plot_options *o, const char *path,
                        tl_error *err) {
  int png = ends_with(path, ".png");
  if (!png && !ends_with(path, ".svg"))
    return tl_error_set(err, TL_EINVAL, "plot: '%s': the file must end in .svg or .png", path);
  plot p;
  tl_status st = plot_build(t, o, &p, err);
  if (st == TL_OK && png) {
    st = sc_write_png(&p.sc, path, err);
  } else if (st == TL_OK) {
    char *text = NULL;
    size_t len = 0;
    st = sc_write_svg(&p.sc, o->title, &text, &len, err);
    if (st == TL_OK) st = write_file(path, text, len, err);
    tl_free(text);
  }
  plot_free(&p);
  return st;
}

tl_status tl_plot_svg(const tl_table *t, const tl_plot_options *o, const char *path,
                      tl_error *err) {
  if (!ends_with(path, ".svg"))
    return tl_error_set(err, TL_EINVAL, "plot: '%s': an SVG file must end in .svg", path);
  return tl_plot_write(t, o, path, err);
}
