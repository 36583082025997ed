/*
** plot.h -- what the phases of a chart's layout share (internal): the
** options checked against the table (plot.c), the data gathered and
** scaled, the axes and panels placed (plot_axes.c), the marks and the
** legend drawn into the scene (plot_draw.c).
*/
#ifndef TALLY_SHOW_PLOT_H
#define TALLY_SHOW_PLOT_H

#include <stdint.h>

#include "scene.h"
#include "tally/tally.h"

enum { PK_LINE, PK_SCATTER, PK_BAR, PK_AREA, PK_HIST, PK_BOX };

#define PLOT_MAX_SERIES 64
#define PLOT_MAX_CATEGORIES 2000
#define PLOT_MAX_PANELS 24

typedef struct plot_point {
  double x, y;        /* x: a number, days, or a category's index */
  int series, panel;
  int64_t row;
} plot_point;

typedef struct plot_scale {
  double lo, hi;      /* the data range shown */
  double *ticks;      /* positions, in data units */
  char **labels;      /* their texts */
  int nticks;
} plot_scale;

/* The five numbers of a box, and how far its whiskers reach. */
typedef struct plot_box {
  double q1, median, q3, lo, hi;
  int cat, panel;
} plot_box;

typedef struct plot {
  const tl_plot_options *o;
  tl_error *err;
  int kind;
  int horizontal;                /* bars along x, categories down the y axis */
  int stack;
  const tl_column *xc, *yc, *bc, *fc;
  int cat;                       /* x is categories (bars, boxes, text x) */
  int xtime;                     /* 0, 1 dates, 2 timestamps */
  char **series, **cats, **panels;
  int nser, ncat, npanel;
  plot_point *pts;
  int64_t np;
  plot_box *boxes;
  int nbox;
  double *hist_edges;            /* PK_HIST: bins + 1 edges */
  int bins;
  plot_scale xs, ys;             /* along the x and y axes of the picture */
  double *base;                  /* stacked marks: the value each point stands on */
  /* layout, in pixels */
  int W, H;
  double top, left, right, bottom;   /* the region of all panels */
  int cols, rows;                    /* the panels' grid */
  double pw, ph, gap, gap_y, gap_top;   /* a panel's plot area, the gaps */
  double xlabel_angle;               /* the x tick labels' rotation */
  int xlabel_every;                  /* one x tick label in so many */
  sc_scene sc;
} plot;

/* Colours readable by colour-blind readers (Okabe and Ito), blue first. */
unsigned plot_color(int series);

tl_status plot_prepare(plot *p, const tl_table *t);   /* plot.c */
/* The whole chart as a scene, the caller's to sc_free: for tests of the
** layout. */
tl_status plot_scene(const tl_table *t, const tl_plot_options *o, sc_scene *out, tl_error *err);
void plot_free(plot *p);
tl_status plot_scales(plot *p);                        /* plot_axes.c */
tl_status plot_layout(plot *p);
void plot_panel_area(const plot *p, int panel, sc_box *area);
/* The pixel along the position axis (x data: across for vertical charts,
** down for horizontal bars) and along the value axis (y data). */
double plot_pos(const plot *p, const sc_box *a, double x);
double plot_val(const plot *p, const sc_box *a, double y);
/* The width in pixels of one category's band. */
double plot_band(const plot *p, const sc_box *a);
void plot_axes(plot *p);
void plot_marks(plot *p);                             /* plot_draw.c */
void plot_legend(plot *p);

#endif
