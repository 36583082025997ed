/*
** lplot.c -- charts as files and HTML reports: t:plot{...} (SVG or PNG by
** the file's extension), c:hist{ file = ... }, t:write_html(path) and
** tally.report(title) with its heading, text, table, chart and write
** methods. Every option is checked by name; the drawing is the core's.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"

#include "ldisplay.h"
#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"

#define LT_REPORT "tally.Report"
#define MAX_PIXELS 20000

static const char *const plot_keys[] = {
  "x", "y", "by", "facet", "kind", "file", "title", "subtitle", "xlabel", "ylabel",
  "orient", "stack", "bins", "width", "height", "print", NULL};

/* Writing files is refused in a sandbox, as the other writers are. */
static void refuse_in_sandbox(lua_State *L, const char *op) {
  int sandboxed = lua_getfield(L, LUA_REGISTRYINDEX, LT_SANDBOXED) != LUA_TNIL;
  lua_pop(L, 1);
  if (sandboxed) luaL_error(L, "%s: not allowed in the sandbox", op);
}

/* Option `key` as a string anchored in the options table, or NULL. */
static const char *opt_string(lua_State *L, int idx, const char *key, const char *op) {
  const char *s = NULL;
  int t = lua_getfield(L, idx, key);
  if (t == LUA_TSTRING)
    s = lt_cstring(L, -1, "%s: option '%s'", op, key);
  else if (t != LUA_TNIL)
    luaL_error(L, "%s: option '%s' must be a string, not a %s", op, key, luaL_typename(L, -1));
  lua_pop(L, 1);
  return s;
}

static int opt_int(lua_State *L, int idx, const char *key, const char *op, int lo, int hi) {
  int v = 0;
  if (lua_getfield(L, idx, key) != LUA_TNIL) {
    char what[48];
    snprintf(what, sizeof what, "option '%s'", key);
    v = (int)lt_check_int(L, -1, op, what, lo, hi);
  }
  lua_pop(L, 1);
  return v;
}

/* The plot options of the table at idx into *o; returns option `file`. */
static const char *plot_options(lua_State *L, int idx, const char *op, tl_plot_options *o) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lt_check_options(L, idx, op, plot_keys);
  memset(o, 0, sizeof *o);
  o->x = opt_string(L, idx, "x", op);
  o->y = opt_string(L, idx, "y", op);
  o->by = opt_string(L, idx, "by", op);
  o->facet = opt_string(L, idx, "facet", op);
  o->kind = opt_string(L, idx, "kind", op);
  o->title = opt_string(L, idx, "title", op);
  o->subtitle = opt_string(L, idx, "subtitle", op);
  o->xlabel = opt_string(L, idx, "xlabel", op);
  o->ylabel = opt_string(L, idx, "ylabel", op);
  o->orient = opt_string(L, idx, "orient", op);
  if (lua_getfield(L, idx, "stack") != LUA_TNIL) {
    if (!lua_isboolean(L, -1))
      luaL_error(L, "%s: option 'stack' must be a boolean, not a %s", op, luaL_typename(L, -1));
    o->stack = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  o->bins = opt_int(L, idx, "bins", op, 1, 1000);
  o->width = opt_int(L, idx, "width", op, 120, MAX_PIXELS);
  o->height = opt_int(L, idx, "height", op, 100, MAX_PIXELS);
  return opt_string(L, idx, "file", op);
}

/* Whether the terminal on stdout shows images by kitty's graphics protocol
** (kitty, WezTerm, ghostty, Konsole); TALLY_IMAGES=kitty or none decides. */
static int kitty_images(void) {
  const char *force = getenv("TALLY_IMAGES"), *term = getenv("TERM");
  const char *prog = getenv("TERM_PROGRAM");
  if (force) return strcmp(force, "kitty") == 0;
  if (!isatty(STDOUT_FILENO)) return 0;
  return getenv("KITTY_WINDOW_ID") || (term && strcmp(term, "xterm-kitty") == 0) ||
         (prog && (strcmp(prog, "WezTerm") == 0 || strcmp(prog, "ghostty") == 0)) ||
         getenv("KONSOLE_VERSION");
}

/* PNG bytes as an image on a kitty-protocol terminal: base64 in chunks of
** 4096 characters, each in an APC escape. */
static void put_kitty(lua_State *L, const unsigned char *png, size_t n) {
  static const char digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  char chunk[4096];
  size_t used = 0, i = 0;
  int first = 1;
  while (i < n || used > 0) {
    while (i < n && used + 4 <= sizeof chunk) {
      unsigned v = (unsigned)png[i] << 16;
      if (i + 1 < n) v |= (unsigned)png[i + 1] << 8;
      if (i + 2 < n) v |= png[i + 2];
      chunk[used++] = digits[(v >> 18) & 63];
      chunk[used++] = digits[(v >> 12) & 63];
      chunk[used++] = i + 1 < n ? digits[(v >> 6) & 63] : '=';
      chunk[used++] = i + 2 < n ? digits[v & 63] : '=';
      i += 3;
    }
    luaL_addstring(&b, first ? "\033_Gf=100,a=T," : "\033_G");
    luaL_addstring(&b, i < n ? "m=1;" : "m=0;");
    luaL_addlstring(&b, chunk, used);
    luaL_addstring(&b, "\033\\");
    used = 0;
    first = 0;
  }
  luaL_addstring(&b, "\n");
  luaL_pushresult(&b);
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  lua_writestring(s, len);
  lua_pop(L, 1);
}

/* A chart without a file: an image where the terminal shows them, else the
** chart in characters; print = false returns the text instead. */
static int plot_here(lua_State *L, tl_table *t, const tl_plot_options *o) {
  int print = 1;
  if (lua_getfield(L, 2, "print") != LUA_TNIL) print = lua_toboolean(L, -1);
  lua_pop(L, 1);
  tl_error err;
  err.message[0] = '\0';
  lt_box *box = lt_newbox(L, tl_free);
  if (print && kitty_images()) {
    unsigned char *png = NULL;
    size_t n = 0;
    lt_call(L, tl_plot_png(t, o, &png, &n, &err), &err);
    box->p = png;
    put_kitty(L, png, n);
    return 0;
  }
  char *text = NULL;
  size_t n = 0;
  int width = lt_terminal_width();
  lt_call(L, tl_plot_text(t, o, width > 0 ? width : 80, &text, &n, &err), &err);
  box->p = text;
  if (!print) {
    lua_pushlstring(L, text, n);
    return 1;
  }
  lua_writestring(text, n);
  return 0;
}

/* t:plot{ x =, y =, kind =, file = "a.svg" | "a.png", ... }: writes the
** file and returns its name; without a file, shows the chart. */
int lt_t_plot(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  tl_plot_options o;
  const char *file = plot_options(L, 2, "plot", &o);
  if (file == NULL) return plot_here(L, t, &o);
  refuse_in_sandbox(L, "plot");
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_plot_write(t, &o, file, &err), &err);
  lua_pushstring(L, file);
  return 1;
}

/* c:hist{ file =, bins =, title =, ... }: the column's histogram as a chart
** file, through a table of the one column. */
int lt_c_hist_file(lua_State *L) {
  lt_column *c = lt_check_column(L, 1);
  static const char *const keys[] = {"file", "bins", "title", "subtitle", "xlabel", "ylabel",
                                     "width", "height", "print", NULL};
  lt_check_options(L, 2, "hist", keys);
  tl_plot_options o;
  memset(&o, 0, sizeof o);
  const char *file = opt_string(L, 2, "file", "hist");
  o.kind = "hist";
  o.x = c->name[0] ? c->name : "value";
  o.title = opt_string(L, 2, "title", "hist");
  o.subtitle = opt_string(L, 2, "subtitle", "hist");
  o.xlabel = opt_string(L, 2, "xlabel", "hist");
  o.ylabel = opt_string(L, 2, "ylabel", "hist");
  o.bins = opt_int(L, 2, "bins", "hist", 1, 1000);
  o.width = opt_int(L, 2, "width", "hist", 120, MAX_PIXELS);
  o.height = opt_int(L, 2, "height", "hist", 100, MAX_PIXELS);
  refuse_in_sandbox(L, "hist");
  const char *name = o.x;
  tl_column *col = c->c;
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_table_new(1, &name, &col, &ud->t, &err), &err);
  lt_call(L, tl_plot_write(ud->t, &o, file, &err), &err);
  lua_pushstring(L, file);
  return 1;
}

/* ---------------------------------------------------------------------------
** Reports
*/

typedef struct report_ud { tl_report *r; } report_ud;

static tl_report *check_report(lua_State *L) {
  report_ud *u = luaL_checkudata(L, 1, LT_REPORT);
  if (!u->r) luaL_error(L, "report: the report was closed");
  return u->r;
}

static int rp_gc(lua_State *L) {
  report_ud *u = luaL_checkudata(L, 1, LT_REPORT);
  tl_report_free(u->r);
  u->r = NULL;
  return 0;
}

static int rp_heading(lua_State *L) {
  tl_report *r = check_report(L);
  const char *s = (luaL_checkstring(L, 2), lt_cstring(L, 2, "heading: text"));
  int level = (int)lt_opt_int(L, 3, "heading", "level", 1, 4, 1);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_report_heading(r, s, level, &err), &err);
  lua_settop(L, 1);
  return 1;
}

static int rp_text(lua_State *L) {
  tl_report *r = check_report(L);
  const char *s = (luaL_checkstring(L, 2), lt_cstring(L, 2, "text: text"));
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_report_text(r, s, &err), &err);
  lua_settop(L, 1);
  return 1;
}

static void table_options(lua_State *L, int idx, const char *op, tl_report_table_options *o) {
  static const char *const keys[] = {"max_rows", "digits", "caption", NULL};
  memset(o, 0, sizeof *o);
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lt_check_options(L, idx, op, keys);
  o->max_rows = opt_int(L, idx, "max_rows", op, 1, 1000000);
  o->digits = opt_int(L, idx, "digits", op, 1, 17);
  o->caption = opt_string(L, idx, "caption", op);
}

static int rp_table(lua_State *L) {
  tl_report *r = check_report(L);
  tl_table *t = tally_check_table(L, 2);
  tl_report_table_options o;
  table_options(L, 3, "table", &o);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_report_table(r, t, &o, &err), &err);
  lua_settop(L, 1);
  return 1;
}

static int rp_chart(lua_State *L) {
  tl_report *r = check_report(L);
  tl_table *t = tally_check_table(L, 2);
  tl_plot_options o;
  if (plot_options(L, 3, "chart", &o) != NULL)
    return luaL_error(L, "chart: option 'file' is not for a report's chart (it is inline)");
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_report_chart(r, t, &o, &err), &err);
  lua_settop(L, 1);
  return 1;
}

static int rp_write(lua_State *L) {
  tl_report *r = check_report(L);
  const char *path = (luaL_checkstring(L, 2), lt_cstring(L, 2, "write: path"));
  refuse_in_sandbox(L, "write");
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_report_write(r, path, &err), &err);
  lua_pushvalue(L, 2);
  return 1;
}

static int rp_tostring(lua_State *L) {
  luaL_checkudata(L, 1, LT_REPORT);
  lua_pushliteral(L, "tally.Report");
  return 1;
}

/* tally.report([title]) */
int lt_report(lua_State *L) {
  const char *title = luaL_optstring(L, 1, "Report");
  title = lua_isnoneornil(L, 1) ? title : lt_cstring(L, 1, "report: title");
  report_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->r = NULL;
  luaL_setmetatable(L, LT_REPORT);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_report_new(title, &u->r, &err), &err);
  return 1;
}

/* t:write_html(path [, { title =, max_rows =, digits =, caption = }]) */
int lt_t_write_html(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  const char *path = (luaL_checkstring(L, 2), lt_cstring(L, 2, "write_html: path"));
  static const char *const keys[] = {"title", "max_rows", "digits", "caption", NULL};
  tl_report_table_options o;
  memset(&o, 0, sizeof o);
  const char *title = NULL;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    lt_check_options(L, 3, "write_html", keys);
    title = opt_string(L, 3, "title", "write_html");
    o.max_rows = opt_int(L, 3, "max_rows", "write_html", 1, 100000000);
    o.digits = opt_int(L, 3, "digits", "write_html", 1, 17);
    o.caption = opt_string(L, 3, "caption", "write_html");
  }
  if (o.max_rows == 0) o.max_rows = 100000000;   /* a file holds every row unless told */
  refuse_in_sandbox(L, "write_html");
  report_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->r = NULL;
  luaL_setmetatable(L, LT_REPORT);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_report_new(title ? title : path, &u->r, &err), &err);
  lt_call(L, tl_report_table(u->r, t, &o, &err), &err);
  lt_call(L, tl_report_write(u->r, path, &err), &err);
  lua_pushvalue(L, 2);
  return 1;
}

void lt_open_report(lua_State *L) {
  static const luaL_Reg methods[] = {
    {"heading", rp_heading}, {"text", rp_text}, {"table", rp_table},
    {"chart", rp_chart}, {"write", rp_write}, {NULL, NULL}};
  if (luaL_newmetatable(L, LT_REPORT)) {
    lua_pushcfunction(L, rp_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, rp_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
}
