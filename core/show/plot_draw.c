/*
** plot_draw.c -- a chart's marks and legend: lines (with dots only where
** the points are few), dots, areas, bars (grouped or stacked, standing or
** lying), histogram bins and boxes, each in its series' colour and inside
** its panel's plot area; the legend only when `by` makes several series.
*/
#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "plot.h"

#define FEW_POINTS 40      /* a line gets a dot per point up to this many */

static void clamp_box(const sc_box *a, double *v, int horizontal) {
  double lo = horizontal ? a->x : a->y, hi = horizontal ? a->x + a->w : a->y + a->h;
  if (*v < lo) *v = lo;
  if (*v > hi) *v = hi;
}

/* The line or area of points [first, end) of one series in one panel. */
static void draw_run(plot *p, const sc_box *a, int64_t first, int64_t end) {
  int s = p->pts[first].series;
  unsigned color = plot_color(s);
  int64_t n = end - first;
  double *xy = tl_alloc((size_t)(2 * n + 4) * sizeof *xy);
  if (!xy) { p->sc.failed = 1; return; }
  for (int64_t i = 0; i < n; i++) {
    const plot_point *pt = &p->pts[first + i];
    double b = p->base ? p->base[first + i] : 0;
    xy[2 * i] = plot_pos(p, a, pt->x);
    xy[2 * i + 1] = plot_val(p, a, b + pt->y);
  }
  if (p->kind == PK_AREA && n > 1) {
    /* down to the base (zero, or the series below) and back */
    double *poly = tl_alloc((size_t)(4 * n) * sizeof *poly);
    if (!poly) { tl_free(xy); p->sc.failed = 1; return; }
    memcpy(poly, xy, (size_t)(2 * n) * sizeof *poly);
    for (int64_t i = 0; i < n; i++) {
      int64_t j = n - 1 - i;
      double b = p->base ? p->base[first + j] : 0;
      double zero = p->ys.lo > 0 ? p->ys.lo : p->ys.hi < 0 ? p->ys.hi : 0;
      poly[2 * (n + i)] = xy[2 * j];
      poly[2 * (n + i) + 1] = plot_val(p, a, p->base ? b : zero);
    }
    sc_item *it = sc_path(&p->sc, SC_AREA_MARK, poly, (int)(2 * n), 1, color, 1);
    if (it) { it->series = s; it->opacity = p->stack ? 0.85 : 0.35; }
    tl_free(poly);
  }
  if (n > 1) {
    sc_item *it = sc_path(&p->sc, SC_LINE_MARK, xy, (int)n, 0, color, 2);
    if (it) it->series = s;
  }
  int dots = p->kind == PK_LINE && (n <= FEW_POINTS && a->w / (double)n >= 8);
  for (int64_t i = 0; i < n && (dots || n == 1); i++) {
    sc_item *it = sc_dot(&p->sc, SC_MARK, xy[2 * i], xy[2 * i + 1], 3, color);
    if (it) { it->series = s; it->stroke = 0xffffff; it->width = 1; }
  }
  tl_free(xy);
}

static void draw_bar(plot *p, const sc_box *a, int64_t i) {
  const plot_point *pt = &p->pts[i];
  double band = plot_band(p, a), b = p->base ? p->base[i] : 0;
  double centre = plot_pos(p, a, pt->x), thick = band * 0.8, off = -thick / 2;
  if (!p->stack && p->nser > 1) {
    thick = band * 0.8 / p->nser;
    off = -band * 0.4 + thick * pt->series;
  }
  double zero = p->ys.lo > 0 ? p->ys.lo : p->ys.hi < 0 ? p->ys.hi : 0;
  double v0 = plot_val(p, a, p->stack ? b : zero), v1 = plot_val(p, a, b + pt->y);
  clamp_box(a, &v0, p->horizontal);
  clamp_box(a, &v1, p->horizontal);
  sc_item *it = p->horizontal
    ? sc_rect(&p->sc, SC_MARK, v0 < v1 ? v0 : v1, centre + off, fabs(v1 - v0), thick,
              plot_color(pt->series))
    : sc_rect(&p->sc, SC_MARK, centre + off, v0 < v1 ? v0 : v1, thick, fabs(v1 - v0),
              plot_color(pt->series));
  if (it) it->series = pt->series;
}

static void draw_bin(plot *p, const sc_box *a, const plot_point *pt) {
  int k = (int)pt->x;
  double x0 = plot_pos(p, a, p->hist_edges[k]), x1 = plot_pos(p, a, p->hist_edges[k + 1]);
  double y0 = plot_val(p, a, 0), y1 = plot_val(p, a, pt->y);
  sc_item *it = sc_rect(&p->sc, SC_MARK, x0, y1, x1 - x0, y0 - y1, plot_color(0));
  if (it) { it->series = 0; it->stroke = 0xffffff; it->width = 1; }
}

/* A box: the quartiles, the median, whiskers with caps. */
static void draw_box(plot *p, const plot_box *b) {
  sc_box a;
  plot_panel_area(p, b->panel, &a);
  p->sc.panel = b->panel;
  double c = plot_pos(p, &a, b->cat), half = plot_band(p, &a) * 0.3;
  double q1 = plot_val(p, &a, b->q1), q3 = plot_val(p, &a, b->q3);
  double med = plot_val(p, &a, b->median), lo = plot_val(p, &a, b->lo);
  double hi = plot_val(p, &a, b->hi);
  unsigned color = plot_color(0);
  sc_item *it;
  if (p->horizontal) {
    sc_line(&p->sc, SC_MARK, lo, c, q1, c, 0x333333, 1);
    sc_line(&p->sc, SC_MARK, q3, c, hi, c, 0x333333, 1);
    sc_line(&p->sc, SC_MARK, lo, c - half / 2, lo, c + half / 2, 0x333333, 1);
    sc_line(&p->sc, SC_MARK, hi, c - half / 2, hi, c + half / 2, 0x333333, 1);
    it = sc_rect(&p->sc, SC_MARK, q1, c - half, q3 - q1, 2 * half, color);
    if (it) { it->opacity = 0.6; it->stroke = 0x333333; }
    sc_line(&p->sc, SC_MARK, med, c - half, med, c + half, 0x111111, 2);
  } else {
    sc_line(&p->sc, SC_MARK, c, lo, c, q1, 0x333333, 1);
    sc_line(&p->sc, SC_MARK, c, q3, c, hi, 0x333333, 1);
    sc_line(&p->sc, SC_MARK, c - half / 2, lo, c + half / 2, lo, 0x333333, 1);
    sc_line(&p->sc, SC_MARK, c - half / 2, hi, c + half / 2, hi, 0x333333, 1);
    it = sc_rect(&p->sc, SC_MARK, c - half, q3, 2 * half, q1 - q3, color);
    if (it) { it->opacity = 0.6; it->stroke = 0x333333; }
    sc_line(&p->sc, SC_MARK, c - half, med, c + half, med, 0x111111, 2);
  }
}

void plot_marks(plot *p) {
  int64_t i = 0;
  for (int k = 0; k < p->nbox; k++) draw_box(p, &p->boxes[k]);
  while (i < p->np && !p->sc.failed) {
    int64_t first = i;
    const plot_point *f = &p->pts[first];
    sc_box a;
    plot_panel_area(p, f->panel, &a);
    p->sc.panel = f->panel;
    while (i < p->np && p->pts[i].panel == f->panel && p->pts[i].series == f->series) i++;
    if (tl_interrupted()) return;
    switch (p->kind) {
      case PK_LINE: case PK_AREA:
        draw_run(p, &a, first, i);
        break;
      case PK_BAR:
        for (int64_t k = first; k < i; k++) draw_bar(p, &a, k);
        break;
      case PK_HIST:
        for (int64_t k = first; k < i; k++) draw_bin(p, &a, &p->pts[k]);
        break;
      default: {                                 /* scatter; a box's outliers */
        double r = p->kind == PK_BOX ? 2.5 : p->np > 2000 ? 2 : 3.5;
        for (int64_t k = first; k < i; k++) {
          const plot_point *pt = &p->pts[k];
          double u = plot_pos(p, &a, pt->x), v = plot_val(p, &a, pt->y);
          sc_item *it = p->horizontal ? sc_dot(&p->sc, SC_MARK, v, u, r, plot_color(pt->series))
                                      : sc_dot(&p->sc, SC_MARK, u, v, r, plot_color(pt->series));
          if (it) { it->series = pt->series; it->opacity = p->np > 500 ? 0.5 : 0.85; }
        }
      }
    }
  }
}

/* The legend: the `by` column's name, then a swatch and a name per series,
** the names whole unless wider than the legend's room. */
void plot_legend(plot *p) {
  if (!p->bc) return;
  p->sc.panel = 0;
  double x = p->right + 16, y = p->top + 12, room = p->W - 8 - x - 18;
  sc_item *t = sc_text(&p->sc, SC_LEGEND_LABEL, x, y, p->o->by, strlen(p->o->by), 12, SC_START,
                       0);
  if (t) t->bold = 1;
  for (int s = 0; s < p->nser; s++) {
    const char *name = p->series[s];
    size_t len = strlen(name);
    int n = sc_u8_len(name, len);
    char buf[256];
    y += 18;
    if (y > p->H - 10) break;
    while (n > 1 && sc_text_width(name, sc_u8_prefix(name, len, n), 11) > room) n--;
    size_t bytes = sc_u8_prefix(name, len, n);
    if (bytes > sizeof buf - 4) bytes = sc_u8_prefix(name, sizeof buf - 4, n - 1);
    memcpy(buf, name, bytes);
    buf[bytes] = '\0';
    if (bytes < len) strcat(buf, "\xe2\x80\xa6");
    sc_item *sw = sc_rect(&p->sc, SC_LEGEND_SWATCH, x, y - 10, 12, 12, plot_color(s));
    if (sw) sw->series = s;
    sc_text(&p->sc, SC_LEGEND_LABEL, x + 18, y, buf, strlen(buf), 11, SC_START, 0);
  }
}
