/*
** png.c -- a scene (scene.h) drawn into a PNG file through cairo, the same
** layout as the SVG writer draws: cairo rasterizes, antialiases and
** encodes; the positions, colours and texts are the scene's.
*/
#include <cairo.h>
#include <math.h>
#include <stdio.h>

#include "base/error.h"
#include "scene.h"

static void set_color(cairo_t *cr, unsigned rgb, double alpha) {
  cairo_set_source_rgba(cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0,
                        (rgb & 0xff) / 255.0, alpha);
}

static void fill_and_stroke(cairo_t *cr, const sc_item *it) {
  set_color(cr, it->color, it->opacity);
  if (it->stroke != 0xffffffffu) {
    cairo_fill_preserve(cr);
    set_color(cr, it->stroke, 1);
    cairo_set_line_width(cr, it->width);
    cairo_stroke(cr);
  } else {
    cairo_fill(cr);
  }
}

static void draw_text(cairo_t *cr, const sc_item *it) {
  cairo_text_extents_t ext;
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                         it->bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, it->size);
  cairo_text_extents(cr, it->text, &ext);
  double dx = it->anchor == SC_START ? 0 : it->anchor == SC_MIDDLE ? -ext.x_advance / 2
                                                                   : -ext.x_advance;
  cairo_save(cr);
  cairo_translate(cr, it->x0, it->y0);
  cairo_rotate(cr, -it->angle * M_PI / 180);
  cairo_move_to(cr, dx, 0);
  set_color(cr, it->color, 1);
  cairo_show_text(cr, it->text);
  cairo_restore(cr);
}

static void draw(cairo_t *cr, const sc_item *it) {
  switch (it->kind) {
    case SC_LINE:
      set_color(cr, it->color, 1);
      cairo_set_line_width(cr, it->width);
      cairo_move_to(cr, it->x0, it->y0);
      cairo_line_to(cr, it->x1, it->y1);
      cairo_stroke(cr);
      break;
    case SC_RECT:
      cairo_rectangle(cr, it->x0, it->y0, it->w, it->h);
      fill_and_stroke(cr, it);
      break;
    case SC_DOT:
      cairo_new_sub_path(cr);
      cairo_arc(cr, it->x0, it->y0, it->w, 0, 2 * M_PI);
      fill_and_stroke(cr, it);
      break;
    case SC_PATH:
      if (it->npts < 1) break;
      cairo_move_to(cr, it->pts[0], it->pts[1]);
      for (int k = 1; k < it->npts; k++) cairo_line_to(cr, it->pts[2 * k], it->pts[2 * k + 1]);
      if (it->closed) {
        cairo_close_path(cr);
        fill_and_stroke(cr, it);
      } else {
        set_color(cr, it->color, 1);
        cairo_set_line_width(cr, it->width);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        cairo_stroke(cr);
      }
      break;
    case SC_TEXT:
      draw_text(cr, it);
      break;
  }
}

/* The scene drawn on a new image, or NULL with *err set. */
static cairo_surface_t *render(const sc_scene *s, tl_error *err) {
  if (s->failed) { tl_error_oom(err, "plot"); return NULL; }
  cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, s->width, s->height);
  if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surf);
    tl_error_set(err, TL_ENOMEM, "plot: cannot make a %d x %d image", s->width, s->height);
    return NULL;
  }
  cairo_t *cr = cairo_create(surf);
  for (size_t i = 0; i < s->n; i++) draw(cr, &s->items[i]);
  cairo_status_t cst = cairo_status(cr);
  cairo_destroy(cr);
  if (cst != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(surf);
    tl_error_set(err, TL_ENOMEM, "plot: drawing failed: %s", cairo_status_to_string(cst));
    return NULL;
  }
  return surf;
}

tl_status sc_write_png(const sc_scene *s, const char *path, tl_error *err) {
  cairo_surface_t *surf = render(s, err);
  if (!surf) return err ? err->code : TL_ENOMEM;
  cairo_status_t cst = cairo_surface_write_to_png(surf, path);
  cairo_surface_destroy(surf);
  if (cst != CAIRO_STATUS_SUCCESS) {
    remove(path);
    return tl_error_set(err, TL_EIO, "plot: cannot write '%s': %s", path,
                        cairo_status_to_string(cst));
  }
  return TL_OK;
}

tl_status sc_draw_png(const sc_scene *s, cairo_write_func_t write, void *closure,
                      tl_error *err) {
  cairo_surface_t *surf = render(s, err);
  if (!surf) return err ? err->code : TL_ENOMEM;
  cairo_status_t cst = cairo_surface_write_to_png_stream(surf, write, closure);
  cairo_surface_destroy(surf);
  if (cst != CAIRO_STATUS_SUCCESS)
    return tl_error_set(err, TL_ENOMEM, "plot: cannot encode the PNG: %s",
                        cairo_status_to_string(cst));
  return TL_OK;
}
