/*
** svg.c -- a scene (scene.h) as an SVG document, written by hand. Every
** element carries the class of its role (tick-label, mark, legend-label,
** ...), marks their series, and texts the box the layout reserved for them
** (data-box="x y w h"), so that a reader of the file can check the layout.
*/
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/textbuf.h"
#include "scene.h"

static const char *const role_class[SC_NROLES] = {
  "background", "plot-area", "grid", "axis-line", "tick", "tick-label", "axis-label",
  "title", "subtitle", "mark", "line", "area", "legend-swatch", "legend-label",
  "facet-label"};

static void xml_text(tl_textbuf *b, const char *s) {
  for (; *s; s++) {
    switch (*s) {
      case '&': tl_textbuf_str(b, "&amp;"); break;
      case '<': tl_textbuf_str(b, "&lt;"); break;
      case '>': tl_textbuf_str(b, "&gt;"); break;
      case '"': tl_textbuf_str(b, "&quot;"); break;
      default:
        if ((unsigned char)*s >= 0x20 || *s == '\t') tl_textbuf_add(b, s, 1);
    }
  }
}

static void open_tag(tl_textbuf *b, const char *tag, const sc_item *it) {
  tl_textbuf_printf(b, "<%s class=\"%s\"", tag, role_class[it->role]);
  if (it->series >= 0) tl_textbuf_printf(b, " data-series=\"%d\"", it->series);
  if (it->panel > 0) tl_textbuf_printf(b, " data-panel=\"%d\"", it->panel);
}

static void paint(tl_textbuf *b, const sc_item *it) {
  tl_textbuf_printf(b, " fill=\"#%06x\"", it->color & 0xffffff);
  if (it->opacity < 1) tl_textbuf_printf(b, " fill-opacity=\"%.2f\"", it->opacity);
  if (it->stroke != 0xffffffffu)
    tl_textbuf_printf(b, " stroke=\"#%06x\" stroke-width=\"%.1f\"", it->stroke & 0xffffff,
                      it->width);
}

static void item_text(tl_textbuf *b, const sc_item *it) {
  static const char *const anchors[] = {"start", "middle", "end"};
  open_tag(b, "text", it);
  tl_textbuf_printf(b, " x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" text-anchor=\"%s\"", it->x0,
                    it->y0, it->size, anchors[it->anchor]);
  if (it->bold) tl_textbuf_str(b, " font-weight=\"bold\"");
  if (it->angle != 0)
    tl_textbuf_printf(b, " transform=\"rotate(%.0f %.1f %.1f)\"", -it->angle, it->x0, it->y0);
  tl_textbuf_printf(b, " fill=\"#%06x\" data-box=\"%.1f %.1f %.1f %.1f\">", it->color & 0xffffff,
                    it->box.x, it->box.y, it->box.w, it->box.h);
  xml_text(b, it->text);
  tl_textbuf_str(b, "</text>\n");
}

static void item(tl_textbuf *b, const sc_item *it) {
  switch (it->kind) {
    case SC_LINE:
      open_tag(b, "line", it);
      tl_textbuf_printf(b, " x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#%06x\" "
                        "stroke-width=\"%.1f\"/>\n", it->x0, it->y0, it->x1, it->y1,
                        it->color & 0xffffff, it->width);
      break;
    case SC_RECT:
      open_tag(b, "rect", it);
      tl_textbuf_printf(b, " x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", it->x0,
                        it->y0, it->w, it->h);
      paint(b, it);
      tl_textbuf_str(b, "/>\n");
      break;
    case SC_DOT:
      open_tag(b, "circle", it);
      tl_textbuf_printf(b, " cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"", it->x0, it->y0, it->w);
      paint(b, it);
      tl_textbuf_str(b, "/>\n");
      break;
    case SC_PATH:
      open_tag(b, it->closed ? "polygon" : "polyline", it);
      tl_textbuf_str(b, " points=\"");
      for (int k = 0; k < it->npts; k++)
        tl_textbuf_printf(b, "%s%.1f,%.1f", k ? " " : "", it->pts[2 * k], it->pts[2 * k + 1]);
      if (it->closed) {
        tl_textbuf_str(b, "\"");
        paint(b, it);
        tl_textbuf_str(b, "/>\n");
      } else {
        tl_textbuf_printf(b, "\" fill=\"none\" stroke=\"#%06x\" stroke-width=\"%.1f\" "
                          "stroke-linejoin=\"round\"/>\n", it->color & 0xffffff, it->width);
      }
      break;
    case SC_TEXT:
      item_text(b, it);
      break;
  }
}

tl_status sc_write_svg(const sc_scene *s, const char *title, char **out, size_t *len,
                       tl_error *err) {
  tl_textbuf b = {0};
  if (s->failed) return tl_error_oom(err, "plot");
  tl_textbuf_printf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, "
                    "sans-serif\" role=\"img\">\n", s->width, s->height, s->width, s->height);
  if (title) {
    tl_textbuf_str(&b, "<title>");
    xml_text(&b, title);
    tl_textbuf_str(&b, "</title>\n");
  }
  for (size_t i = 0; i < s->n; i++) item(&b, &s->items[i]);
  tl_textbuf_str(&b, "</svg>\n");
  if (b.failed) {
    tl_free(b.p);
    return tl_error_oom(err, "plot");
  }
  *out = b.p;
  if (len) *len = b.len;
  return TL_OK;
}
