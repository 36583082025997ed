/*
** test_plot.c -- charts as a reader sees them. Random tables drawn as every
** kind of chart at many sizes: no two labels overlap and every mark lies in
** its panel's plot area, checked on the layout the writers draw. A PNG bar
** chart read back through cairo: the bars' colour, their heights in
** proportion to the values, a white background.
*/
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "show/plot.h"
#include "tally/tally.h"

static tl_table *csv(const char *text) {
  tl_table *t = NULL;
  tl_error err;
  if (tl_read_csv_buffer(text, strlen(text), "t.csv", NULL, &t, &err) != TL_OK) {
    fprintf(stderr, "%s\n", err.message);
    return NULL;
  }
  return t;
}

static unsigned long long seed = 88172645463325252ull;
static unsigned rnd(unsigned n) {
  seed ^= seed << 13;
  seed ^= seed >> 7;
  seed ^= seed << 17;
  return (unsigned)(seed % n);
}

static int is_label(sc_role r) {
  return r == SC_TICK_LABEL || r == SC_AXIS_LABEL || r == SC_TITLE || r == SC_SUBTITLE ||
         r == SC_LEGEND_LABEL || r == SC_FACET_LABEL;
}

static int inside(const sc_scene *s, int panel, double x, double y) {
  const sc_box *a = &s->areas[panel];
  return x >= a->x - 0.01 && x <= a->x + a->w + 0.01 && y >= a->y - 0.01 &&
         y <= a->y + a->h + 0.01;
}

/* The reader's checks on one scene; returns the number of problems. */
static int check_scene(const sc_scene *s, const char *what) {
  int bad = 0;
  for (size_t i = 0; i < s->n; i++) {
    const sc_item *a = &s->items[i];
    if (is_label(a->role))
      for (size_t j = i + 1; j < s->n; j++)
        if (is_label(s->items[j].role) && sc_overlap(a->box, s->items[j].box, 0.05)) {
          fprintf(stderr, "%s: '%s' overlaps '%s'\n", what, a->text, s->items[j].text);
          bad++;
        }
    if (a->role != SC_MARK && a->role != SC_LINE_MARK && a->role != SC_AREA_MARK) continue;
    int ok = 1;
    if (a->kind == SC_DOT || a->kind == SC_LINE)
      ok = inside(s, a->panel, a->x0, a->y0) &&
           (a->kind == SC_DOT || inside(s, a->panel, a->x1, a->y1));
    else if (a->kind == SC_RECT)
      ok = inside(s, a->panel, a->x0, a->y0) && inside(s, a->panel, a->x0 + a->w, a->y0 + a->h);
    else if (a->kind == SC_PATH)
      for (int k = 0; k < a->npts; k++)
        ok &= inside(s, a->panel, a->pts[2 * k], a->pts[2 * k + 1]);
    if (!ok) {
      fprintf(stderr, "%s: a mark outside its plot area\n", what);
      bad++;
    }
  }
  return bad;
}

/* A random table: a category (names up to 60 characters), a number, a date,
** a series and a panel column. */
static tl_table *random_table(int rows, int ncat) {
  size_t cap = (size_t)rows * 160 + 64, len = 0;
  char *text = malloc(cap);
  len += (size_t)snprintf(text, cap, "cat,v,w,d,s,f\n");
  for (int i = 0; i < rows; i++) {
    int c = (int)rnd((unsigned)ncat), nlen = 1 + (c * 7919) % 60;
    char name[64];
    for (int k = 0; k < nlen; k++) name[k] = (char)(k == 0 ? 'A' + c % 26 : 'a' + (c + k) % 26);
    name[nlen] = '\0';
    double v = rnd(2) ? (double)rnd(100000) / 7 : -(double)rnd(300);
    len += (size_t)snprintf(text + len, cap - len, "%s %d,%.3f,%u,2015-%02u-%02u,s%u,p%u\n", name,
                            c, v, rnd(50), 1 + rnd(12), 1 + rnd(28), rnd(4), rnd(5));
  }
  tl_table *t = csv(text);
  free(text);
  return t;
}

static void test_random_layouts(void) {
  static const char *const kinds[] = {"line", "scatter", "bar", "area", "hist", "box"};
  int problems = 0, charts = 0, small = 0;
  int rounds = getenv("TEST_PLOT_ROUNDS") ? atoi(getenv("TEST_PLOT_ROUNDS")) : 120;
  for (int round = 0; round < rounds; round++) {
    tl_table *t = random_table(1 + (int)rnd(400), 1 + (int)rnd(round % 3 ? 12 : 250));
    CHECK(t != NULL);
    if (!t) return;
    tl_plot_options o;
    memset(&o, 0, sizeof o);
    o.kind = kinds[round % 6];
    int k = round % 6;
    o.x = k == 4 ? "v" : k == 2 || k == 5 ? "cat" : rnd(2) ? "d" : "w";
    o.y = k == 4 ? NULL : "v";
    o.by = (k < 4 && rnd(2)) ? "s" : NULL;
    o.facet = rnd(4) == 0 ? "f" : NULL;
    o.stack = (k == 2 || k == 3) && rnd(2);
    o.title = rnd(2) ? "A title of some length" : NULL;
    o.subtitle = rnd(3) == 0 ? "and a subtitle" : NULL;
    o.orient = k == 2 ? (rnd(3) == 0 ? "vertical" : rnd(2) ? "horizontal" : NULL) : NULL;
    o.width = 200 + (int)rnd(1000);
    o.height = 160 + (int)rnd(700);
    sc_scene s;
    tl_error err;
    char what[160];
    snprintf(what, sizeof what, "round %d (%s, %d x %d)", round, o.kind, o.width, o.height);
    if (plot_scene(t, &o, &s, &err) != TL_OK) {
      if (strstr(err.message, "make the chart larger") && (o.height < 300 || o.width < 300)) {
        small++;                  /* too cramped to draw: an error saying so */
      } else {
        fprintf(stderr, "%s: %s\n", what, err.message);
        problems++;
      }
    } else {
      problems += check_scene(&s, what);
      charts++;
      sc_free(&s);
    }
    tl_table_release(t);
  }
  CHECK(charts + small == rounds);
  CHECK(small < rounds / 10);
  CHECK(problems == 0);
}

static unsigned pixel(cairo_surface_t *s, int x, int y) {
  const unsigned char *d = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  return *(const uint32_t *)(d + y * stride + x * 4) & 0xffffff;
}

static int near_color(unsigned a, unsigned b) {
  for (int sh = 0; sh < 24; sh += 8)
    if (abs((int)((a >> sh) & 0xff) - (int)((b >> sh) & 0xff)) > 6) return 0;
  return 1;
}

/* The height in pixels of colour `c` down column x. */
static int run_of(cairo_surface_t *s, int x, unsigned c) {
  int n = 0, h = cairo_image_surface_get_height(s);
  for (int y = 0; y < h; y++) n += near_color(pixel(s, x, y), c);
  return n;
}

static void test_png(void) {
  tl_table *t = csv("k,v\na,10\nb,30\nc,20\n");
  tl_plot_options o;
  memset(&o, 0, sizeof o);
  o.x = "k";
  o.y = "v";
  o.kind = "bar";
  o.width = 400;
  o.height = 300;
  const char *path = "test_plot.png";
  tl_error err;
  CHECK(tl_plot_write(t, &o, path, &err) == TL_OK);
  cairo_surface_t *img = cairo_image_surface_create_from_png(path);
  CHECK(cairo_surface_status(img) == CAIRO_STATUS_SUCCESS);
  CHECK(cairo_image_surface_get_width(img) == 400 && cairo_image_surface_get_height(img) == 300);
  CHECK(near_color(pixel(img, 2, 2), 0xffffff));               /* the background */
  /* the bars, found from the scene: the same layout */
  sc_scene s;
  CHECK(plot_scene(t, &o, &s, &err) == TL_OK);
  int heights[3] = {0, 0, 0}, n = 0;
  for (size_t i = 0; i < s.n && n < 3; i++)
    if (s.items[i].role == SC_MARK && s.items[i].kind == SC_RECT) {
      int x = (int)(s.items[i].x0 + s.items[i].w / 2);
      heights[n++] = run_of(img, x, 0x0072B2);
      CHECK(near_color(pixel(img, x, (int)(s.items[i].y0 + s.items[i].h / 2)), 0x0072B2));
    }
  CHECK(n == 3);
  CHECK(heights[0] > 20);
  CHECK(fabs((double)heights[1] / heights[0] - 3) < 0.1);   /* 30 against 10 */
  CHECK(fabs((double)heights[2] / heights[0] - 2) < 0.1);
  sc_free(&s);
  cairo_surface_destroy(img);
  remove(path);
  /* an unwritable place is an error naming it */
  CHECK(tl_plot_write(t, &o, "/nonexistent/dir/x.png", &err) == TL_EIO);
  CHECK(strstr(err.message, "/nonexistent/dir/x.png") != NULL);
  tl_table_release(t);
}

int main(void) {
  test_random_layouts();
  test_png();
  return check_done("plot");
}
