/*
** scene.h -- a chart as a list of drawn things (lines, rectangles, dots,
** paths, texts) in pixels, computed once by the layout (plot.c) and drawn by
** each writer: SVG (svg.c) and PNG (png.c). Texts carry the box the layout
** reserved for them, so that the layout can keep labels apart and tests can
** check that none overlap.
*/
#ifndef TALLY_SHOW_SCENE_H
#define TALLY_SHOW_SCENE_H

#include <cairo.h>
#include <stddef.h>

#include "tally/tally.h"

typedef enum sc_kind {
  SC_LINE,      /* x0,y0 -> x1,y1 */
  SC_RECT,      /* x0,y0 (top left), w, h */
  SC_DOT,       /* centre x0,y0, radius w */
  SC_PATH,      /* points pts[0..npts), open (a polyline) or closed (filled) */
  SC_TEXT       /* at x0,y0 (the baseline), anchor, rotation, size */
} sc_kind;

typedef enum sc_anchor { SC_START, SC_MIDDLE, SC_END } sc_anchor;

/* The kinds of marks a reader sees; SVG writes them as classes. */
typedef enum sc_role {
  SC_BACKGROUND, SC_PLOT_AREA, SC_GRID, SC_AXIS, SC_TICK, SC_TICK_LABEL,
  SC_AXIS_LABEL, SC_TITLE, SC_SUBTITLE, SC_MARK, SC_LINE_MARK, SC_AREA_MARK,
  SC_LEGEND_SWATCH, SC_LEGEND_LABEL, SC_FACET_LABEL, SC_NROLES
} sc_role;

typedef struct sc_box { double x, y, w, h; } sc_box;

typedef struct sc_item {
  sc_kind kind;
  sc_role role;
  int series;                 /* the series of a mark; -1 otherwise */
  int panel;                  /* the facet panel; 0 without facets */
  double x0, y0, x1, y1, w, h;
  double *pts;                /* SC_PATH: x,y pairs, tl_alloc'd */
  int npts, closed;
  unsigned color;             /* 0xRRGGBB */
  unsigned stroke;            /* outline of a rect or dot; 0xffffffff: none */
  double width;               /* stroke width */
  double opacity;             /* fill opacity, 1 unless an area or a dense dot */
  char *text;                 /* SC_TEXT, tl_alloc'd */
  double size;                /* font size, pixels */
  int bold;
  sc_anchor anchor;
  double angle;               /* degrees, counterclockwise (-90: reads upwards) */
  sc_box box;                 /* SC_TEXT: the box it covers */
} sc_item;

typedef struct sc_scene {
  int width, height;
  sc_item *items;
  size_t n, cap;
  sc_box *areas;              /* the plot area of each panel */
  int nareas;
  int panel;                  /* the panel of the items added next */
  int failed;                 /* an allocation failed; the scene is incomplete */
} sc_scene;

void sc_init(sc_scene *s, int width, int height);
void sc_free(sc_scene *s);

/* Each adds one item and returns it (NULL when out of memory: s->failed). */
sc_item *sc_line(sc_scene *s, sc_role role, double x0, double y0, double x1, double y1,
                 unsigned color, double width);
sc_item *sc_rect(sc_scene *s, sc_role role, double x, double y, double w, double h,
                 unsigned color);
sc_item *sc_dot(sc_scene *s, sc_role role, double x, double y, double r, unsigned color);
sc_item *sc_path(sc_scene *s, sc_role role, const double *pts, int npts, int closed,
                 unsigned color, double width);
sc_item *sc_text(sc_scene *s, sc_role role, double x, double y, const char *text, size_t len,
                 double size, sc_anchor anchor, double angle);

/* The width in pixels of a text in the sans-serif face at `size`, from
** average advance widths per class of character (narrow, wide, digits):
** what the layout reserves, a little more than any common face takes. */
double sc_text_width(const char *text, size_t len, double size);
/* The number of code points of UTF-8 text, and the bytes of its first n. */
int sc_u8_len(const char *s, size_t n);
size_t sc_u8_prefix(const char *s, size_t n, int count);

/* Whether two boxes overlap by more than `slack` pixels each way. */
int sc_overlap(sc_box a, sc_box b, double slack);

/* The scene as SVG text (svg.c) or as a PNG file (png.c). */
tl_status sc_write_svg(const sc_scene *s, const char *title, char **out, size_t *len,
                       tl_error *err);
tl_status sc_write_png(const sc_scene *s, const char *path, tl_error *err);
/* The PNG bytes through cairo's write function. */
tl_status sc_draw_png(const sc_scene *s, cairo_write_func_t write, void *closure,
                      tl_error *err);

#endif
