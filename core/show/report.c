/*
** report.c -- an HTML page of a script's results: headings, paragraphs,
** tables (numbers at a display precision, nulls marked, long tables cut
** with a note) and charts as inline SVG, in one self-contained file with
** its style inside and no scripts, so that it opens anywhere without a
** network.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/textbuf.h"
#include "tally/tally.h"

struct tl_report {
  char *title;
  tl_textbuf body;
  int tables, charts;
};

static void html_text(tl_textbuf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    switch (s[i]) {
      case '&': tl_textbuf_str(b, "&amp;"); break;
      case '<': tl_textbuf_str(b, "&lt;"); break;
      case '>': tl_textbuf_str(b, "&gt;"); break;
      case '"': tl_textbuf_str(b, "&quot;"); break;
      default:
        if ((unsigned char)s[i] >= 0x20 || s[i] == '\t' || s[i] == '\n')
          tl_textbuf_add(b, s + i, 1);
    }
  }
}

static void html_str(tl_textbuf *b, const char *s) { html_text(b, s, strlen(s)); }

tl_status tl_report_new(const char *title, tl_report **out, tl_error *err) {
  tl_report *r = tl_calloc(1, sizeof *r);
  if (!r || !(r->title = tl_strdup(title ? title : "Report"))) {
    tl_free(r);
    return tl_error_oom(err, "report");
  }
  *out = r;
  return TL_OK;
}

void tl_report_free(tl_report *r) {
  if (!r) return;
  tl_free(r->title);
  tl_free(r->body.p);
  tl_free(r);
}

static tl_status check(tl_report *r, tl_error *err) {
  return r->body.failed ? tl_error_oom(err, "report") : TL_OK;
}

tl_status tl_report_heading(tl_report *r, const char *text, int level, tl_error *err) {
  if (level < 1 || level > 4)
    return tl_error_set(err, TL_EINVAL, "report: heading: level must be 1 to 4, not %d", level);
  tl_textbuf_printf(&r->body, "<h%d>", level + 1);
  html_str(&r->body, text);
  tl_textbuf_printf(&r->body, "</h%d>\n", level + 1);
  return check(r, err);
}

/* Paragraphs split at blank lines. */
tl_status tl_report_text(tl_report *r, const char *text, tl_error *err) {
  const char *p = text;
  while (*p) {
    while (*p == '\n') p++;
    if (!*p) break;
    const char *end = strstr(p, "\n\n");
    size_t n = end ? (size_t)(end - p) : strlen(p);
    tl_textbuf_str(&r->body, "<p>");
    html_text(&r->body, p, n);
    tl_textbuf_str(&r->body, "</p>\n");
    p += n;
  }
  return check(r, err);
}

static void cell(tl_textbuf *b, const tl_column *c, int64_t i, int digits) {
  tl_scalar v;
  char buf[128];
  tl_column_get(c, i, &v);
  if (v.is_null) {
    tl_textbuf_str(b, "<td class=\"null\">null</td>");
    return;
  }
  int num = v.type == TL_INT || v.type == TL_FLOAT;
  tl_textbuf_str(b, num ? "<td class=\"num\">" : "<td>");
  if (v.type == TL_FLOAT && isfinite(v.v.f)) {
    snprintf(buf, sizeof buf, "%.*g", digits, v.v.f);
    html_str(b, buf);
  } else if (v.type == TL_STRING) {
    html_text(b, v.v.s.ptr, v.v.s.len);
  } else {
    tl_scalar_format(&v, buf, sizeof buf);
    html_str(b, buf);
  }
  tl_textbuf_str(b, "</td>");
}

static void row(tl_textbuf *b, const tl_table *t, int64_t i, int digits) {
  tl_textbuf_str(b, "<tr>");
  for (int j = 0; j < tl_table_ncols(t); j++) cell(b, tl_table_column(t, j), i, digits);
  tl_textbuf_str(b, "</tr>\n");
}

tl_status tl_report_table(tl_report *r, const tl_table *t, const tl_report_table_options *o,
                          tl_error *err) {
  TL_TRY(tl_table_check_files(t, "report", err));
  int64_t n = tl_table_nrows(t), max = o && o->max_rows > 0 ? o->max_rows : 40;
  int digits = o && o->digits > 0 ? o->digits : 6;
  if (digits > 17) digits = 17;
  tl_textbuf *b = &r->body;
  tl_textbuf_str(b, "<figure class=\"table\"><table>\n");
  if (o && o->caption) {
    tl_textbuf_str(b, "<caption>");
    html_str(b, o->caption);
    tl_textbuf_str(b, "</caption>\n");
  }
  tl_textbuf_str(b, "<thead><tr>");
  for (int j = 0; j < tl_table_ncols(t); j++) {
    tl_type ty = tl_column_type(tl_table_column(t, j));
    tl_textbuf_printf(b, "<th class=\"%s\">", ty == TL_INT || ty == TL_FLOAT ? "num" : "text");
    html_str(b, tl_table_name(t, j));
    tl_textbuf_printf(b, "<br><span class=\"type\">%s</span></th>", tl_type_name(ty));
  }
  tl_textbuf_str(b, "</tr></thead>\n<tbody>\n");
  int64_t head = n <= max ? n : max - max / 4, tail = n <= max ? 0 : max / 4;
  for (int64_t i = 0; i < head; i++) {
    if ((i & 0xfff) == 0 && tl_interrupted()) return tl_error_interrupted(err, "report");
    row(b, t, i, digits);
  }
  if (tail > 0)
    tl_textbuf_printf(b, "<tr class=\"gap\"><td colspan=\"%d\">\xe2\x80\xa6 %lld rows not shown "
                      "\xe2\x80\xa6</td></tr>\n", tl_table_ncols(t) > 0 ? tl_table_ncols(t) : 1,
                      (long long)(n - head - tail));
  for (int64_t i = n - tail; i < n; i++) row(b, t, i, digits);
  tl_textbuf_str(b, "</tbody></table>\n");
  tl_textbuf_printf(b, "<figcaption>%lld row%s, %d column%s%s</figcaption></figure>\n",
                    (long long)n, n == 1 ? "" : "s", tl_table_ncols(t),
                    tl_table_ncols(t) == 1 ? "" : "s", tail > 0 ? " (cut)" : "");
  r->tables++;
  return check(r, err);
}

tl_status tl_report_chart(tl_report *r, const tl_table *t, const tl_plot_options *o,
                          tl_error *err) {
  char *svg = NULL;
  size_t len = 0;
  TL_TRY(tl_plot_svg_text(t, o, &svg, &len, err));
  tl_textbuf_str(&r->body, "<figure class=\"chart\">\n");
  tl_textbuf_add(&r->body, svg, len);
  tl_textbuf_str(&r->body, "</figure>\n");
  tl_free(svg);
  r->charts++;
  return check(r, err);
}

static const char style[] =
  "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:980px;margin:2em auto;"
  "padding:0 1em;color:#222;line-height:1.45}\n"
  "h1{font-size:1.7em;border-bottom:1px solid #ccc;padding-bottom:.2em}\n"
  "table{border-collapse:collapse;font-size:.9em;margin:.5em 0}\n"
  "th,td{padding:.25em .7em;border-bottom:1px solid #e4e4e4;text-align:left;"
  "vertical-align:top}\n"
  "th{border-bottom:2px solid #999}.num{text-align:right;font-variant-numeric:tabular-nums}\n"
  ".type{font-weight:normal;color:#888;font-size:.8em}.null{color:#999;font-style:italic}\n"
  "tr.gap td{text-align:center;color:#888}figure{margin:1.2em 0;overflow-x:auto}\n"
  "figcaption{color:#666;font-size:.85em}svg{max-width:100%;height:auto}\n";

tl_status tl_report_write(const tl_report *r, const char *path, tl_error *err) {
  tl_textbuf b = {0};
  tl_textbuf_str(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<meta name=\"generator\" content=\"tally\">\n<title>");
  html_str(&b, r->title);
  tl_textbuf_str(&b, "</title>\n<style>\n");
  tl_textbuf_str(&b, style);
  tl_textbuf_str(&b, "</style>\n</head>\n<body>\n<h1>");
  html_str(&b, r->title);
  tl_textbuf_str(&b, "</h1>\n");
  if (r->body.p) tl_textbuf_add(&b, r->body.p, r->body.len);
  tl_textbuf_str(&b, "</body>\n</html>\n");
  if (b.failed || r->body.failed) {
    tl_free(b.p);
    return tl_error_oom(err, "report");
  }
  size_t plen = strlen(path);
  char *tmp = tl_alloc(plen + 5);
  if (!tmp) { tl_free(b.p); return tl_error_oom(err, "report"); }
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp", 5);
  FILE *f = fopen(tmp, "wb");
  tl_status st = TL_OK;
  if (!f) {
    st = tl_error_set(err, TL_EIO, "report: cannot open '%s'", tmp);
  } else {
    int bad = fwrite(b.p, 1, b.len, f) != b.len;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
      remove(tmp);
      st = tl_error_set(err, TL_EIO, "report: cannot write '%s'", path);
    }
  }
  tl_free(tmp);
  tl_free(b.p);
  return st;
}
