/*
** scene.c -- the list of drawn things a chart is made of (scene.h): adding
** items, measuring text the way the layout reserves room for it, and the
** boxes that keep labels apart.
*/
#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "scene.h"

void sc_init(sc_scene *s, int width, int height) {
  memset(s, 0, sizeof *s);
  s->width = width;
  s->height = height;
}

void sc_free(sc_scene *s) {
  for (size_t i = 0; i < s->n; i++) {
    tl_free(s->items[i].pts);
    tl_free(s->items[i].text);
  }
  tl_free(s->items);
  tl_free(s->areas);
  memset(s, 0, sizeof *s);
}

static sc_item *add(sc_scene *s, sc_kind kind, sc_role role) {
  if (s->failed) return NULL;
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 256;
    sc_item *p = tl_realloc(s->items, cap * sizeof *p);
    if (!p) { s->failed = 1; return NULL; }
    s->items = p;
    s->cap = cap;
  }
  sc_item *it = &s->items[s->n++];
  memset(it, 0, sizeof *it);
  it->kind = kind;
  it->role = role;
  it->series = -1;
  it->stroke = 0xffffffffu;
  it->opacity = 1;
  it->width = 1;
  it->panel = s->panel;
  return it;
}

sc_item *sc_line(sc_scene *s, sc_role role, double x0, double y0, double x1, double y1,
                 unsigned color, double width) {
  sc_item *it = add(s, SC_LINE, role);
  if (it) {
    it->x0 = x0; it->y0 = y0; it->x1 = x1; it->y1 = y1;
    it->color = color; it->width = width;
  }
  return it;
}

sc_item *sc_rect(sc_scene *s, sc_role role, double x, double y, double w, double h,
                 unsigned color) {
  sc_item *it = add(s, SC_RECT, role);
  if (it) {
    if (w < 0) { x += w; w = -w; }
    if (h < 0) { y += h; h = -h; }
    it->x0 = x; it->y0 = y; it->w = w; it->h = h; it->color = color;
  }
  return it;
}

sc_item *sc_dot(sc_scene *s, sc_role role, double x, double y, double r, unsigned color) {
  sc_item *it = add(s, SC_DOT, role);
  if (it) { it->x0 = x; it->y0 = y; it->w = r; it->color = color; }
  return it;
}

sc_item *sc_path(sc_scene *s, sc_role role, const double *pts, int npts, int closed,
                 unsigned color, double width) {
  sc_item *it = add(s, SC_PATH, role);
  if (!it) return NULL;
  it->pts = tl_alloc((size_t)(npts > 0 ? npts : 1) * 2 * sizeof *pts);
  if (!it->pts) { s->failed = 1; return NULL; }
  memcpy(it->pts, pts, (size_t)npts * 2 * sizeof *pts);
  it->npts = npts; it->closed = closed; it->color = color; it->width = width;
  return it;
}

sc_item *sc_text(sc_scene *s, sc_role role, double x, double y, const char *text, size_t len,
                 double size, sc_anchor anchor, double angle) {
  sc_item *it = add(s, SC_TEXT, role);
  if (!it) return NULL;
  it->text = tl_alloc(len + 1);
  if (!it->text) { s->failed = 1; return NULL; }
  memcpy(it->text, text, len);
  it->text[len] = '\0';
  it->x0 = x; it->y0 = y; it->size = size; it->anchor = anchor; it->angle = angle;
  it->color = 0x222222;
  /* the box: along the baseline from the anchor, from the ascent to the descent */
  double w = sc_text_width(text, len, size), asc = size * 0.8, desc = size * 0.25;
  double start = anchor == SC_START ? 0 : anchor == SC_MIDDLE ? -w / 2 : -w;
  double a = angle * 3.14159265358979323846 / 180, c = cos(a), sn = sin(a);
  double xs[4], ys[4];
  double us[4] = {start, start + w, start + w, start}, vs[4] = {-asc, -asc, desc, desc};
  for (int k = 0; k < 4; k++) {        /* y grows downwards; angle turns counterclockwise */
    xs[k] = x + us[k] * c + vs[k] * sn;
    ys[k] = y - us[k] * sn + vs[k] * c;
  }
  double x0 = xs[0], x1 = xs[0], y0 = ys[0], y1 = ys[0];
  for (int k = 1; k < 4; k++) {
    if (xs[k] < x0) x0 = xs[k];
    if (xs[k] > x1) x1 = xs[k];
    if (ys[k] < y0) y0 = ys[k];
    if (ys[k] > y1) y1 = ys[k];
  }
  it->box = (sc_box){x0, y0, x1 - x0, y1 - y0};
  return it;
}

int sc_u8_len(const char *s, size_t n) {
  int w = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xc0) != 0x80) w++;
  return w;
}

size_t sc_u8_prefix(const char *s, size_t n, int count) {
  size_t i;
  for (i = 0; i < n; i++)
    if (((unsigned char)s[i] & 0xc0) != 0x80 && count-- == 0) break;
  return i;
}

double sc_text_width(const char *text, size_t len, double size) {
  double em = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    if ((c & 0xc0) == 0x80) continue;
    if (c >= 0xe0) em += 1.0;                              /* CJK and symbols: wide */
    else if (strchr("iljtfrI.,:;'!|() ", c) && c) em += 0.36;
    else if (strchr("mwMW@%", c) && c) em += 0.92;
    else if (c >= 'A' && c <= 'Z') em += 0.74;
    else em += 0.63;                                       /* DejaVu Sans is wide */
  }
  return em * size;
}

int sc_overlap(sc_box a, sc_box b, double slack) {
  return a.x + slack < b.x + b.w && b.x + slack < a.x + a.w &&
         a.y + slack < b.y + b.h && b.y + slack < a.y + a.h;
}
