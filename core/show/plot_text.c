/*
** plot_text.c -- a chart for terminals: the PNG bytes of a chart (for
** terminals that show images) and, for the others, the same chart drawn in
** characters: bars and histograms as rows of blocks, lines, areas, dots
** and boxes as marks on a grid with the y axis labelled on the left and the
** x range below.
*/
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/textbuf.h"
#include "plot.h"

typedef struct png_sink { tl_textbuf b; } png_sink;

static cairo_status_t to_buffer(void *closure, const unsigned char *data, unsigned int n) {
  png_sink *s = closure;
  tl_textbuf_add(&s->b, (const char *)data, n);
  return s->b.failed ? CAIRO_STATUS_NO_MEMORY : CAIRO_STATUS_SUCCESS;
}

tl_status tl_plot_png(const tl_table *t, const tl_plot_options *o, unsigned char **out,
                      size_t *len, tl_error *err) {
  sc_scene s;
  TL_TRY(plot_scene(t, o, &s, err));
  png_sink sink = {{0}};
  tl_status st = sc_draw_png(&s, to_buffer, &sink, err);
  sc_free(&s);
  if (st != TL_OK) {
    tl_free(sink.b.p);
    return st;
  }
  *out = (unsigned char *)sink.b.p;
  *len = sink.b.len;
  return TL_OK;
}

#define GRID_W 64
#define GRID_H 16

static const char *const marks[8] = {"\xe2\x97\x8f", "+", "x", "o", "*", "#", "@", "%"};

/* A numeric label of the y axis, 9 characters wide. */
static void y_label(tl_textbuf *b, double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%9.4g", v);
  tl_textbuf_str(b, buf);
}

static tl_status grid_chart(plot *p, int width, char **out, size_t *len) {
  int gw = width > 20 ? width - 12 : GRID_W;
  if (gw > 200) gw = 200;
  int gh = GRID_H;
  unsigned char *cell = tl_calloc((size_t)gw * (size_t)gh, 1);   /* 0 empty, else series + 1 */
  if (!cell) return tl_error_oom(p->err, "plot");
  double xlo = p->xs.lo, xhi = p->xs.hi, ylo = p->ys.lo, yhi = p->ys.hi;
  for (int64_t i = 0; i < p->np; i++) {
    const plot_point *pt = &p->pts[i];
    double x = p->kind == PK_HIST ? p->hist_edges[(int)pt->x] : pt->x;
    int cx = (int)floor((x - xlo) / (xhi - xlo) * (gw - 1) + 0.5);
    int cy = (int)floor((pt->y + (p->base ? p->base[i] : 0) - ylo) / (yhi - ylo) * (gh - 1) + 0.5);
    if (cx >= 0 && cx < gw && cy >= 0 && cy < gh)
      cell[(size_t)(gh - 1 - cy) * (size_t)gw + (size_t)cx] = (unsigned char)(pt->series % 8 + 1);
  }
  tl_textbuf b = {0};
  if (p->o->title) {
    tl_textbuf_str(&b, p->o->title);
    tl_textbuf_str(&b, "\n");
  }
  for (int r = 0; r < gh; r++) {
    if (r == 0) y_label(&b, yhi);
    else if (r == gh - 1) y_label(&b, ylo);
    else tl_textbuf_str(&b, "         ");
    tl_textbuf_str(&b, " \xe2\x94\x82");
    for (int c = 0; c < gw; c++) {
      int v = cell[(size_t)r * (size_t)gw + (size_t)c];
      tl_textbuf_str(&b, v ? marks[v - 1] : " ");
    }
    tl_textbuf_str(&b, "\n");
  }
  tl_textbuf_str(&b, "          \xe2\x94\x94");
  for (int c = 0; c < gw; c++) tl_textbuf_str(&b, "\xe2\x94\x80");
  tl_textbuf_str(&b, "\n");
  const char *first = p->xs.nticks ? p->xs.labels[0] : "";
  const char *last = p->xs.nticks ? p->xs.labels[p->xs.nticks - 1] : "";
  int pad = gw - (int)strlen(first) - (int)strlen(last);
  tl_textbuf_printf(&b, "           %s%*s%s\n", first, pad > 1 ? pad : 1, "", last);
  if (p->bc)
    for (int s = 0; s < p->nser && s < 8; s++)
      tl_textbuf_printf(&b, "  %s %.60s\n", marks[s], p->series[s]);
  tl_free(cell);
  if (b.failed) {
    tl_free(b.p);
    return tl_error_oom(p->err, "plot");
  }
  *out = b.p;
  if (len) *len = b.len;
  return TL_OK;
}

tl_status tl_plot_text(const tl_table *t, const tl_plot_options *o, int width, char **out,
                       size_t *len, tl_error *err) {
  if (o->kind && strcmp(o->kind, "bar") == 0 && !o->by && !o->facet && o->x && o->y)
    return tl_chart_bar(t, o->x, o->y, width, 6, out, len, err);
  if (o->kind && strcmp(o->kind, "hist") == 0 && !o->facet && o->x) {
    int j = tl_table_find(t, o->x);
    if (j >= 0) return tl_chart_hist(tl_table_column(t, j), o->bins, width, out, len, err);
  }
  plot p;
  memset(&p, 0, sizeof p);
  p.o = o;
  p.err = err;
  p.W = 640;
  p.H = 400;
  sc_init(&p.sc, p.W, p.H);
  tl_status st = plot_prepare(&p, t);
  if (st == TL_OK) st = plot_scales(&p);
  if (st == TL_OK) {
    if (p.cat && p.kind != PK_HIST) {
      p.xs.lo = 0;
      p.xs.hi = p.ncat > 1 ? p.ncat - 1 : 1;
    }
    st = grid_chart(&p, width, out, len);
  }
  plot_free(&p);
  return st;
}
