/*
** plot_axes.c -- a chart's scales and frame: ticks at round numbers or on
** the calendar (years, months, days, hours), the margins the labels need,
** the grid of facet panels, and the axes drawn with labels that never
** overlap (rotated when long, thinned when dense).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "plot.h"

#define TICK_SIZE 11.0
#define LABEL_MAX 150.0     /* pixels: longer category labels are cut with an ellipsis */

static int add_tick(plot_scale *s, double at, const char *label) {
  double *t = tl_realloc(s->ticks, (size_t)(s->nticks + 1) * sizeof *t);
  if (!t) return 0;
  s->ticks = t;
  char **l = tl_realloc(s->labels, (size_t)(s->nticks + 1) * sizeof *l);
  if (!l) return 0;
  s->labels = l;
  if (!(l[s->nticks] = tl_strdup(label))) return 0;
  t[s->nticks++] = at;
  return 1;
}

/* A number at the precision of the axis' step: 0.25, 1200, 2.5M. */
static void number_label(char *buf, size_t size, double v, double step) {
  if (fabs(v) < step * 1e-9) v = 0;
  double a = fabs(v), unit = 1;
  const char *suffix = "";
  if (a >= 1e9 && step >= 1e8) { unit = 1e9; suffix = "B"; }
  else if (a >= 1e6 && step >= 1e5) { unit = 1e6; suffix = "M"; }
  double s = step / unit;
  int dec = s >= 1 ? 0 : (int)ceil(-log10(s) - 1e-9);
  if (dec > 12) dec = 12;
  if (a >= 1e15) snprintf(buf, size, "%g", v);
  else snprintf(buf, size, "%.*f%s", dec, v / unit, suffix);
}

/* About `want` ticks at 1, 2 or 5 times a power of ten; the range widened
** to whole ticks when `widen`. */
static int nice_ticks(plot_scale *s, double lo, double hi, int want, int widen) {
  if (!(hi > lo)) {
    double pad = lo == 0 ? 1 : fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / want, mag = pow(10, floor(log10(raw))), f = raw / mag;
  double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  if (widen) {
    lo = floor(lo / step + 1e-9) * step;
    hi = ceil(hi / step - 1e-9) * step;
  }
  s->lo = lo;
  s->hi = hi;
  char buf[64];
  for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
    number_label(buf, sizeof buf, v, step);
    if (!add_tick(s, v, buf)) return 0;
  }
  return 1;
}

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Ticks on the calendar between lo and hi (days since 1970, fractional for
** timestamps): whole years, months, days or hours, about 4 to 8 of them. */
static int time_ticks(plot_scale *s, double lo, double hi) {
  char buf[64];
  int y0, m0, d0, y1, m1, d1;
  if (!(hi > lo)) { lo -= 1; hi += 1; }
  s->lo = lo;
  s->hi = hi;
  double span = hi - lo;
  tl_civil_from_days((int32_t)floor(lo), &y0, &m0, &d0);
  tl_civil_from_days((int32_t)floor(hi), &y1, &m1, &d1);
  if (span > 3 * 365.25) {
    static const int steps[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
    int k = 0;
    while (k < 9 && (y1 - y0) / steps[k] > 7) k++;
    for (int y = (y0 / steps[k]) * steps[k]; y <= y1; y += steps[k]) {
      double at = tl_days_from_civil(y, 1, 1);
      snprintf(buf, sizeof buf, "%d", y);
      if (at >= lo && at <= hi && !add_tick(s, at, buf)) return 0;
    }
  } else if (span > 60) {
    static const int steps[] = {1, 2, 3, 6, 12};
    int months = (y1 - y0) * 12 + m1 - m0, k = 0;
    while (k < 4 && months / steps[k] > 7) k++;
    for (int i = 0; i <= months + 1; i++) {
      int mm = (m0 - 1 + i) % 12, yy = y0 + (m0 - 1 + i) / 12;
      if (mm % steps[k] != 0) continue;
      double at = tl_days_from_civil(yy, mm + 1, 1);
      if (mm == 0 || s->nticks == 0) snprintf(buf, sizeof buf, "%s %d", month_names[mm], yy);
      else snprintf(buf, sizeof buf, "%s", month_names[mm]);
      if (at >= lo && at <= hi && !add_tick(s, at, buf)) return 0;
    }
  } else if (span > 2) {
    static const int steps[] = {1, 2, 7, 14};
    int k = 0;
    while (k < 3 && span / steps[k] > 8) k++;
    for (double at = floor(lo); at <= hi; at += steps[k]) {
      int y, m, d;
      tl_civil_from_days((int32_t)at, &y, &m, &d);
      snprintf(buf, sizeof buf, "%s %d", month_names[m - 1], d);
      if (at >= lo && !add_tick(s, at, buf)) return 0;
    }
  } else {
    static const double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720};  /* minutes */
    int k = 0;
    while (k < 10 && span * 1440 / steps[k] > 8) k++;
    double step = steps[k] / 1440;
    for (double at = ceil(lo / step - 1e-9) * step; at <= hi + 1e-12; at += step) {
      double mins = floor((at - floor(at)) * 1440 + 0.5);
      snprintf(buf, sizeof buf, "%02d:%02d", (int)(mins / 60) % 24, (int)fmod(mins, 60));
      if (!add_tick(s, at, buf)) return 0;
    }
  }
  return 1;
}

/* Category k's label, cut to LABEL_MAX pixels with an ellipsis. */
static int category_ticks(plot *p) {
  char buf[512];
  double room = p->horizontal ? p->W * 0.4 : LABEL_MAX;
  p->xs.lo = -0.5;
  p->xs.hi = p->ncat - 0.5;
  for (int k = 0; k < p->ncat; k++) {
    const char *c = p->cats[k];
    size_t len = strlen(c);
    int n = sc_u8_len(c, len);
    while (n > 1 && sc_text_width(c, sc_u8_prefix(c, len, n), TICK_SIZE) > room) n--;
    size_t bytes = sc_u8_prefix(c, len, n);
    if (bytes > sizeof buf - 4) bytes = sc_u8_prefix(c, sizeof buf - 4, n - 1);
    memcpy(buf, c, bytes);
    buf[bytes] = '\0';
    if (bytes < len) strcat(buf, "\xe2\x80\xa6");
    if (!add_tick(&p->xs, k, buf)) return 0;
  }
  return 1;
}

typedef struct stack_key { plot_point pt; int64_t index; } stack_key;

static int cmp_stack(const void *pa, const void *pb) {
  const plot_point *a = &((const stack_key *)pa)->pt, *b = &((const stack_key *)pb)->pt;
  if (a->panel != b->panel) return a->panel < b->panel ? -1 : 1;
  if (a->x != b->x) return a->x < b->x ? -1 : 1;
  if (a->series != b->series) return a->series < b->series ? -1 : 1;
  return a->row < b->row ? -1 : a->row > b->row;
}

/* The value range: points, stacks (on p->base), boxes and bars' zero. */
static tl_status value_range(plot *p, double *lo, double *hi) {
  int any = 0;
  if (p->stack) {
    /* stacks per panel and x, in series order: positives on positives,
       negatives below zero */
    p->base = tl_calloc((size_t)(p->np ? p->np : 1), sizeof *p->base);
    stack_key *order = tl_alloc((size_t)(p->np ? p->np : 1) * sizeof *order);
    if (!p->base || !order) { tl_free(order); return tl_error_oom(p->err, "plot"); }
    for (int64_t i = 0; i < p->np; i++) order[i] = (stack_key){p->pts[i], i};
    qsort(order, (size_t)p->np, sizeof *order, cmp_stack);
    double pos = 0, neg = 0;
    for (int64_t k = 0; k < p->np; k++) {
      const plot_point *pt = &order[k].pt, *prev = k ? &order[k - 1].pt : NULL;
      if (!prev || prev->panel != pt->panel || prev->x != pt->x) pos = neg = 0;
      p->base[order[k].index] = pt->y >= 0 ? pos : neg;
      if (pt->y >= 0) pos += pt->y;
      else neg += pt->y;
    }
    tl_free(order);
  }
  for (int64_t i = 0; i < p->np; i++) {
    double b = p->base ? p->base[i] : 0, v = b + p->pts[i].y;
    if (!any || v < *lo) *lo = v;
    if (!any || v > *hi) *hi = v;
    any = 1;
  }
  for (int k = 0; k < p->nbox; k++) {
    if (!any || p->boxes[k].lo < *lo) *lo = p->boxes[k].lo;
    if (!any || p->boxes[k].hi > *hi) *hi = p->boxes[k].hi;
    any = 1;
  }
  if (!any) { *lo = 0; *hi = 1; }
  if (p->kind == PK_BAR || p->kind == PK_HIST || p->kind == PK_AREA) {
    if (*lo > 0) *lo = 0;
    if (*hi < 0) *hi = 0;
  }
  return TL_OK;
}

tl_status plot_scales(plot *p) {
  double lo = 0, hi = 1;
  TL_TRY(value_range(p, &lo, &hi));
  int ok = nice_ticks(&p->ys, lo, hi, 5, 1);
  if (p->cat) {
    ok = ok && category_ticks(p);
  } else if (p->kind == PK_HIST) {
    ok = ok && nice_ticks(&p->xs, p->hist_edges[0], p->hist_edges[p->bins], 6, 0);
  } else {
    double xlo = 0, xhi = 0;
    for (int64_t i = 0; i < p->np; i++) {
      if (i == 0 || p->pts[i].x < xlo) xlo = p->pts[i].x;
      if (i == 0 || p->pts[i].x > xhi) xhi = p->pts[i].x;
    }
    ok = ok && (p->xtime ? time_ticks(&p->xs, xlo, xhi) : nice_ticks(&p->xs, xlo, xhi, 6, 1));
  }
  return ok ? TL_OK : tl_error_oom(p->err, "plot");
}

/* Cuts the labels of s to maxw pixels, with an ellipsis. */
static void cut_labels(plot_scale *s, double maxw) {
  for (int k = 0; k < s->nticks; k++) {
    char *c = s->labels[k];
    size_t len = strlen(c);
    if (sc_text_width(c, len, TICK_SIZE) <= maxw) continue;
    int n = sc_u8_len(c, len);
    while (n > 1 && sc_text_width(c, sc_u8_prefix(c, len, n), TICK_SIZE) + 8 > maxw) n--;
    size_t bytes = sc_u8_prefix(c, len, n);
    if (bytes + 3 <= len) memcpy(c + bytes, "\xe2\x80\xa6", 4);   /* fits in what is cut */
    else c[bytes] = '\0';
  }
}

static double widest(const plot_scale *s) {
  double w = 0;
  for (int k = 0; k < s->nticks; k++) {
    double tw = sc_text_width(s->labels[k], strlen(s->labels[k]), TICK_SIZE);
    if (tw > w) w = tw;
  }
  return w;
}

/* The legend's width: the widest name, up to 40% of the chart. */
static double legend_width(const plot *p) {
  if (!p->bc) return 0;
  double w = sc_text_width(p->o->by, strlen(p->o->by), 12);
  for (int s = 0; s < p->nser; s++) {
    double tw = sc_text_width(p->series[s], strlen(p->series[s]), 11) + 18;
    if (tw > w) w = tw;
  }
  return w > p->W * 0.4 ? p->W * 0.4 : w;
}

tl_status plot_layout(plot *p) {
  const tl_plot_options *o = p->o;
  plot_scale *across = p->horizontal ? &p->ys : &p->xs;   /* labels under the panels */
  plot_scale *down = p->horizontal ? &p->xs : &p->ys;     /* labels left of them */
  if (widest(down) > p->W * 0.4) cut_labels(down, p->W * 0.4);
  p->top = 16 + (o->title ? 26 : 0) + (o->subtitle ? 18 : 0);   /* room for the top label */
  double lw = legend_width(p);
  p->right = p->W - 12 - (lw > 0 ? lw + 16 : 0);
  p->left = 10 + 18 + widest(down) + 8;
  p->cols = (int)ceil(sqrt((double)p->npanel));
  p->rows = (p->npanel + p->cols - 1) / p->cols;
  p->gap = p->npanel > 1 ? 14 : 0;
  p->gap_top = p->fc ? 18 : 0;
  p->pw = (p->right - p->left - p->gap * (p->cols - 1)) / p->cols;
  /* the x tick labels: level while they fit their slots, else at 45 degrees */
  double slot = across->nticks > 0 ? p->pw / across->nticks : p->pw;
  double ww = widest(across);
  p->xlabel_angle = ww > slot * 0.9 ? 45 : 0;
  double room = p->H * 0.3 / (p->npanel % p->cols ? p->rows : 1);
  if (p->xlabel_angle && ww * 0.72 + TICK_SIZE > room) {   /* turned labels: at most about
                                                               a third of the height */
    ww = (room - TICK_SIZE) / 0.72;
    if (ww < 24) ww = 24;
    cut_labels(across, ww);
    ww = widest(across);
  }
  double under = p->xlabel_angle ? ww * 0.72 + TICK_SIZE : TICK_SIZE + 6;
  p->bottom = p->H - 10 - 18 - under - 8;
  /* a panel above an empty slot of the last row labels its own x axis */
  p->gap_y = p->gap + (p->npanel % p->cols ? under + 4 : 0);
  p->ph = (p->bottom - p->top - (p->gap_y + p->gap_top) * (p->rows - 1) - p->gap_top) / p->rows;
  if (p->pw < 40 || p->ph < 30) {
    if (p->npanel > 1)
      return tl_error_set(p->err, TL_EINVAL, "plot: %d x %d pixels are too few for %d panels "
                          "of %d rows; make the chart larger", p->W, p->H, p->npanel, p->rows);
    return tl_error_set(p->err, TL_EINVAL, "plot: %d x %d pixels leave no room for the plot "
                        "beside its labels; make the chart larger", p->W, p->H);
  }
  return TL_OK;
}

void plot_panel_area(const plot *p, int panel, sc_box *a) {
  int c = panel % p->cols, r = panel / p->cols;
  a->x = p->left + c * (p->pw + p->gap);
  a->y = p->top + p->gap_top + r * (p->ph + p->gap_y + p->gap_top);
  a->w = p->pw;
  a->h = p->ph;
}

double plot_pos(const plot *p, const sc_box *a, double x) {
  double f = (x - p->xs.lo) / (p->xs.hi - p->xs.lo);
  return p->horizontal ? a->y + f * a->h : a->x + f * a->w;
}

double plot_val(const plot *p, const sc_box *a, double y) {
  double f = (y - p->ys.lo) / (p->ys.hi - p->ys.lo);
  return p->horizontal ? a->x + f * a->w : a->y + a->h - f * a->h;
}

double plot_band(const plot *p, const sc_box *a) {
  return (p->horizontal ? a->h : a->w) / (p->xs.hi - p->xs.lo);
}

/* A label, kept only when it clears the last one kept on its axis. */
static void tick_label(plot *p, sc_box *last, int *have, double x, double y, const char *s,
                       sc_anchor anchor, double angle) {
  sc_item *it = sc_text(&p->sc, SC_TICK_LABEL, x, y, s, strlen(s), TICK_SIZE, anchor, angle);
  if (!it) return;
  int clash = *have && sc_overlap(*last, it->box, -1);
  for (size_t k = 0; k + 1 < p->sc.n && !clash; k++)   /* any text drawn before */
    clash = p->sc.items[k].kind == SC_TEXT && sc_overlap(p->sc.items[k].box, it->box, -1);
  if (clash) {                                     /* too close: this one goes */
    sc_item gone = *it;
    p->sc.n--;
    tl_free(gone.text);
    return;
  }
  *last = it->box;
  *have = 1;
}

/* The axis along the bottom of a panel, and its labels when the panel is
** on the bottom row (or the last of its column). */
static void axis_across(plot *p, const sc_box *a, const plot_scale *s, int labels,
                        double (*at)(const plot *, const sc_box *, double)) {
  sc_box last = {0, 0, 0, 0};
  int have = 0;
  double y = a->y + a->h;
  sc_line(&p->sc, SC_AXIS, a->x, y, a->x + a->w, y, 0x444444, 1);
  for (int k = 0; k < s->nticks; k++) {
    double x = at(p, a, s->ticks[k]);
    sc_line(&p->sc, SC_TICK, x, y, x, y + 4, 0x444444, 1);
    if (!labels) continue;
    if (p->xlabel_angle)
      tick_label(p, &last, &have, x + 3, y + 10, s->labels[k], SC_END, p->xlabel_angle);
    else
      tick_label(p, &last, &have, x, y + 6 + TICK_SIZE, s->labels[k], SC_MIDDLE, 0);
  }
}

/* The axis along the left of a panel; grid lines across it for values. */
static void axis_down(plot *p, const sc_box *a, const plot_scale *s, int labels, int grid,
                      double (*at)(const plot *, const sc_box *, double)) {
  sc_box last = {0, 0, 0, 0};
  int have = 0;
  sc_line(&p->sc, SC_AXIS, a->x, a->y, a->x, a->y + a->h, 0x444444, 1);
  for (int k = 0; k < s->nticks; k++) {
    double y = at(p, a, s->ticks[k]);
    if (grid) sc_line(&p->sc, SC_GRID, a->x, y, a->x + a->w, y, 0xe4e4e4, 1);
    sc_line(&p->sc, SC_TICK, a->x - 4, y, a->x, y, 0x444444, 1);
    if (labels) tick_label(p, &last, &have, a->x - 7, y + 4, s->labels[k], SC_END, 0);
  }
}

static double value_across(const plot *p, const sc_box *a, double v) { return plot_val(p, a, v); }
static double pos_across(const plot *p, const sc_box *a, double x) { return plot_pos(p, a, x); }

void plot_axes(plot *p) {
  const tl_plot_options *o = p->o;
  sc_rect(&p->sc, SC_BACKGROUND, 0, 0, p->W, p->H, 0xffffff);
  double y = 10;
  if (o->title) {
    sc_item *t = sc_text(&p->sc, SC_TITLE, 12, y + 16, o->title, strlen(o->title), 16, SC_START,
                         0);
    if (t) t->bold = 1;
    y += 26;
  }
  if (o->subtitle) {
    sc_item *t = sc_text(&p->sc, SC_SUBTITLE, 12, y + 12, o->subtitle, strlen(o->subtitle), 12,
                         SC_START, 0);
    if (t) t->color = 0x555555;
  }
  /* the texts that stay first: the panels' names and the axes' names; the
     tick labels then give way to them */
  sc_box *areas = tl_alloc((size_t)p->npanel * sizeof *areas);
  if (!areas) { p->sc.failed = 1; return; }
  tl_free(p->sc.areas);
  p->sc.areas = areas;
  p->sc.nareas = p->npanel;
  for (int f = 0; f < p->npanel; f++) {
    plot_panel_area(p, f, &areas[f]);
    p->sc.panel = f;
    if (p->fc) {
      const char *name = p->panels[f];
      size_t len = strlen(name);
      int n = sc_u8_len(name, len);
      while (n > 1 && sc_text_width(name, sc_u8_prefix(name, len, n), 12) > areas[f].w) n--;
      sc_text(&p->sc, SC_FACET_LABEL, areas[f].x + areas[f].w / 2, areas[f].y - 5, name,
              sc_u8_prefix(name, len, n), 12, SC_MIDDLE, 0);
    }
  }
  p->sc.panel = 0;
  const char *xl = o->xlabel ? o->xlabel : p->kind == PK_HIST ? o->x : o->x ? o->x : "";
  const char *yl = o->ylabel ? o->ylabel : p->kind == PK_HIST ? "count" : o->y;
  if (p->horizontal) { const char *t = xl; xl = yl; yl = t; }
  double mid_x = (p->left + p->right) / 2, mid_y = (p->top + p->bottom) / 2;
  if (*xl) sc_text(&p->sc, SC_AXIS_LABEL, mid_x, p->H - 12, xl, strlen(xl), 12, SC_MIDDLE, 0);
  if (*yl) sc_text(&p->sc, SC_AXIS_LABEL, 22, mid_y, yl, strlen(yl), 12, SC_MIDDLE, 90);
  for (int f = 0; f < p->npanel; f++) {
    sc_box a = areas[f];
    p->sc.panel = f;
    sc_rect(&p->sc, SC_PLOT_AREA, a.x, a.y, a.w, a.h, 0xffffff);
    int bottom_row = f + p->cols >= p->npanel, first_col = f % p->cols == 0;
    if (p->horizontal) {
      axis_down(p, &a, &p->xs, first_col, 0, pos_across);
      axis_across(p, &a, &p->ys, bottom_row, value_across);
      for (int k = 0; k < p->ys.nticks; k++) {
        double x = plot_val(p, &a, p->ys.ticks[k]);
        sc_line(&p->sc, SC_GRID, x, a.y, x, a.y + a.h, 0xe4e4e4, 1);
      }
    } else {
      axis_down(p, &a, &p->ys, first_col, 1, value_across);
      axis_across(p, &a, &p->xs, bottom_row, pos_across);
    }
  }
  p->sc.panel = 0;
}
