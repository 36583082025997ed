/*
** ldisplay.c -- what a table looks like: printing fitted to the terminal,
** Markdown, JSON in and out, and charts (terminal bars, SVG plots).
*/
#define _POSIX_C_SOURCE 200809L

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"

#include "ldisplay.h"
#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"

#define DEFAULT_WIDTH 80
#define MAX_WIDTH 100000   /* of a chart, in characters, or of a plot, in pixels */

/* ---------------------------------------------------------------------------
** The terminal
*/

static int stdout_is_terminal(void) {
  const char *term = getenv("TERM");
  return isatty(STDOUT_FILENO) && !(term != NULL && strcmp(term, "dumb") == 0);
}

/* The terminal's width, or 0 (no limit) when the output is not one. */
int lt_terminal_width(void) {
  struct winsize ws;
  const char *cols;
  if (!stdout_is_terminal())
    return 0;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  cols = getenv("COLUMNS");
  if (cols != NULL && atoi(cols) > 0)
    return atoi(cols);
  return DEFAULT_WIDTH;
}

/* Escapes only for a terminal, and never under NO_COLOR (no-color.org). */
static int terminal_colors(void) {
  return stdout_is_terminal() && getenv("NO_COLOR") == NULL;
}

/* Pushes the core's text, through a box so that its buffer is freed even
** when pushing the string fails. */
static void push_core_text(lua_State *L, tl_status st, const tl_error *err, lt_box *box,
                           char *out, size_t len) {
  lt_call(L, st, err);
  box->p = out;
  lua_pushlstring(L, out, len);
  lt_box_free(box);
  lua_remove(L, -2);
}

static void push_with(lua_State *L, tl_table *t, const tl_format_options *fo) {
  lt_box *box = lt_newbox(L, tl_free);
  char *out = NULL;
  size_t len = 0;
  tl_error err;
  tl_status st;
  err.message[0] = '\0';
  st = tl_table_format(t, fo, &out, &len, &err);
  push_core_text(L, st, &err, box, out, len);
}

void lt_push_formatted(lua_State *L, tl_table *t, int max_rows) {
  tl_format_options fo;
  tl_format_options_init(&fo);
  fo.max_rows = max_rows;
  fo.digits = lt_option_digits(L);
  fo.width = lt_terminal_width();
  fo.ansi = terminal_colors();
  push_with(L, t, &fo);
}

/* ---------------------------------------------------------------------------
** show and format
*/

static int opt_field(lua_State *L, int idx, const char *key, int type, const char *op) {
  int t = lua_getfield(L, idx, key);
  if (t != LUA_TNIL && t != type)
    return luaL_error(L, "%s: option '%s' must be a %s, got %s", op, key,
                      lua_typename(L, type), luaL_typename(L, -1));
  return t != LUA_TNIL;
}

static const char *const format_keys[] = {"n", "all", "width", "color", "types", NULL};

/* Options of show and format at index 2: nothing (every row), a number of
** rows, or { n =, all =, width =, color =, types = }. */
static void format_options(lua_State *L, tl_table *t, tl_format_options *fo, const char *op) {
  int64_t nrows = tl_table_nrows(t);
  lua_Integer n = nrows > 0 ? (lua_Integer)nrows : 1;
  tl_format_options_init(fo);
  fo->digits = lt_option_digits(L);
  fo->width = lt_terminal_width();
  fo->ansi = terminal_colors();
  if (lua_type(L, 2) == LUA_TNUMBER) {
    n = lt_check_int(L, 2, op, "the number of rows", 1, LUA_MAXINTEGER);
  } else if (lua_istable(L, 2)) {
    lt_check_options(L, 2, op, format_keys);
    if (opt_field(L, 2, "n", LUA_TNUMBER, op)) {
      n = lt_check_int(L, -1, op, "option 'n'", 1, LUA_MAXINTEGER);
    }
    if (opt_field(L, 2, "all", LUA_TBOOLEAN, op) && lua_toboolean(L, -1)) {
      n = nrows > 0 ? (lua_Integer)nrows : 1;
      fo->width = 0;
    }
    if (opt_field(L, 2, "width", LUA_TNUMBER, op)) {
      fo->width = (int)lt_check_int(L, -1, op, "option 'width'", 0, LT_MAX_INT);
    }
    if (opt_field(L, 2, "color", LUA_TBOOLEAN, op))
      fo->ansi = lua_toboolean(L, -1);
    if (opt_field(L, 2, "types", LUA_TBOOLEAN, op))
      fo->types = lua_toboolean(L, -1);
    lua_pop(L, 5);
  } else if (!lua_isnoneornil(L, 2)) {
    luaL_typeerror(L, 2, "number or table");
  }
  fo->max_rows = n > INT_MAX ? INT_MAX : (int)n;
}

/* t:show(n) or t:show{...}: prints the table. */
int lt_t_show(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  tl_format_options fo;
  size_t len;
  const char *s;
  format_options(L, t, &fo, "show");
  push_with(L, t, &fo);
  s = lua_tolstring(L, -1, &len);
  lua_writestring(s, len);
  lua_writeline();
  return 0;
}

/* t:format{...}: the text show would print. */
int lt_t_format(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  tl_format_options fo;
  format_options(L, t, &fo, "format");
  if (lua_isnoneornil(L, 2))
    fo.max_rows = 0;                             /* the default, as tostring */
  push_with(L, t, &fo);
  return 1;
}

int lt_t_to_markdown(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  lt_box *box = lt_newbox(L, tl_free);
  char *out = NULL;
  size_t len = 0;
  tl_error err;
  tl_status st;
  err.message[0] = '\0';
  st = tl_table_markdown(t, &out, &len, &err);
  push_core_text(L, st, &err, box, out, len);
  return 1;
}

/* ---------------------------------------------------------------------------
** JSON
*/

static const char *const no_keys[] = {NULL};

/* An options table at idx of a function that has none yet: nothing, or a
** table without keys, so that a misspelt or unsupported option is an error. */
static void no_options(lua_State *L, int idx, const char *op) {
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lt_check_options(L, idx, op, no_keys);
}

static int write_json(lua_State *L, int ndjson) {
  tl_table *t = tally_check_table(L, 1);
  const char *path = luaL_checkstring(L, 2);
  no_options(L, 3, ndjson ? "write_ndjson" : "write_json");
  lt_cstring(L, 2, "%s: path", ndjson ? "write_ndjson" : "write_json");
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_write_json(t, path, ndjson, &err), &err);
  return 0;
}

int lt_t_write_json(lua_State *L) { return write_json(L, 0); }
int lt_t_write_ndjson(lua_State *L) { return write_json(L, 1); }

static void free_json_info(void *p) { tl_json_info_free(p); }

/* The names and specs of option `types` ({ name = "int", ... }) into o; the
** arrays live in userdata left on the stack. */
static void json_types(lua_State *L, int idx, const char *op, tl_json_options *o) {
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) { n++; lua_pop(L, 1); }
  const char **names = lua_newuserdatauv(L, sizeof *names * (size_t)(n ? n : 1), 0);
  const char **specs = lua_newuserdatauv(L, sizeof *specs * (size_t)(n ? n : 1), 0);
  int i = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "%s: option 'types' maps field names to type names", op);
    names[i] = lt_cstring(L, -2, "%s: types: a field name", op);
    specs[i] = lt_cstring(L, -1, "%s: types: the type of '%s'", op, names[i]);
    i++;
    lua_pop(L, 1);
  }
  o->type_names = names;
  o->type_specs = specs;
  o->ntypes = n;
}

static int read_json(lua_State *L, int ndjson) {
  static const char *const keys[] = {"types", "columns", "null", "dateformat", "timestampformat",
                                     NULL};
  const char *op = ndjson ? "read_ndjson" : "read_json";
  const char *path = luaL_checkstring(L, 1);
  lt_cstring(L, 1, "%s: path", op);
  tl_json_options o;
  tl_json_options_init(&o);
  o.ndjson = ndjson;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lt_check_options(L, 2, op, keys);
    if (lua_getfield(L, 2, "columns") != LUA_TNIL) {
      luaL_checktype(L, -1, LUA_TTABLE);
      o.columns = lt_column_list(L, lua_gettop(L), op, &o.ncolumns);
    }
    if (lua_getfield(L, 2, "types") != LUA_TNIL) {
      if (!lua_istable(L, -1)) luaL_error(L, "%s: option 'types' must be a table", op);
      json_types(L, lua_gettop(L) - (o.columns ? 0 : 0), op, &o);
    }
    if (lua_getfield(L, 2, "null") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: option 'null' must be a string", op);
      o.null = lt_cstring(L, -1, "%s: option 'null'", op);
    }
    if (lua_getfield(L, 2, "dateformat") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "%s: option 'dateformat' must be a strptime format such as "
                   "'%%d/%%m/%%Y'", op);
      o.dateformat = lt_cstring(L, -1, "%s: option 'dateformat'", op);
    }
    if (lua_getfield(L, 2, "timestampformat") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "%s: option 'timestampformat' must be a strptime format", op);
      o.timestampformat = lt_cstring(L, -1, "%s: option 'timestampformat'", op);
    }
  }
  lt_box *box = lt_newbox(L, free_json_info);
  lt_table *ud = lt_new_table(L);
  tl_error err;
  tl_json_info *info = NULL;
  err.message[0] = '\0';
  lt_call(L, tl_read_json_ex(path, &o, &ud->t, &info, &err), &err);
  box->p = info;
  int n = tl_table_ncols(ud->t);
  const char **reasons = lua_newuserdatauv(L, sizeof *reasons * (size_t)(n ? n : 1), 0);
  for (int j = 0; j < n; j++) reasons[j] = tl_json_info_reason(info, j);
  lt_record_reasons(L, -2, reasons, n);
  lua_pop(L, 1);
  return 1;
}

int lt_read_json(lua_State *L) { return read_json(L, 0); }
int lt_read_ndjson(lua_State *L) { return read_json(L, 1); }

/* ---------------------------------------------------------------------------
** Charts
*/

static const char *const bar_keys[] = {"width", "print", NULL};
static const char *const hist_keys[] = {"bins", "width", "print", NULL};

/* Prints the chart text on the top of the stack, or returns it when the
** options say print = false. */
static int chart_result(lua_State *L, int opts) {
  int print = 1;
  if (opts && lua_getfield(L, opts, "print") != LUA_TNIL)
    print = lua_toboolean(L, -1);
  if (opts)
    lua_pop(L, 1);
  if (!print)
    return 1;
  {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    lua_writestring(s, len);
    return 0;
  }
}

/* The index of a chart's options table at idx (0 when there is none); any
** other value there is an error. */
static int chart_opts(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return 0;
  luaL_checktype(L, idx, LUA_TTABLE);
  return idx;
}

static int chart_width(lua_State *L, int opts, const char *op) {
  int w = lt_terminal_width();
  if (opts) {
    lt_check_options(L, opts, op, op[0] == 'b' ? bar_keys : hist_keys);
    if (opt_field(L, opts, "width", LUA_TNUMBER, op))
      w = (int)lt_check_int(L, -1, op, "option 'width'", 0, MAX_WIDTH);
    lua_pop(L, 1);
  }
  return w > 0 ? w : DEFAULT_WIDTH;
}

/* t:bar(label_col, value_col [, { width =, print = }]) */
int lt_t_bar(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  const char *label = (luaL_checkstring(L, 2), lt_cstring(L, 2, "bar: label column"));
  const char *value = (luaL_checkstring(L, 3), lt_cstring(L, 3, "bar: value column"));
  int opts = chart_opts(L, 4), width = chart_width(L, opts, "bar");
  lt_box *box = lt_newbox(L, tl_free);
  char *out = NULL;
  size_t len = 0;
  tl_error err;
  tl_status st;
  err.message[0] = '\0';
  st = tl_chart_bar(t, label, value, width, lt_option_digits(L), &out, &len, &err);
  push_core_text(L, st, &err, box, out, len);
  return chart_result(L, opts);
}

/* c:hist{ bins =, width =, print = } */
int lt_c_hist(lua_State *L) {
  lt_column *c = lt_check_column(L, 1);
  if (lua_istable(L, 2)) {
    int to_file = lua_getfield(L, 2, "file") != LUA_TNIL;
    lua_pop(L, 1);
    if (to_file) return lt_c_hist_file(L);   /* a chart file: lplot.c */
  }
  int opts = chart_opts(L, 2), width = chart_width(L, opts, "hist"), bins = 0;
  lt_box *box;
  char *out = NULL;
  size_t len = 0;
  tl_error err;
  tl_status st;
  if (opts && opt_field(L, opts, "bins", LUA_TNUMBER, "hist")) {
    bins = (int)lt_check_int(L, -1, "hist", "option 'bins'", 1, 1000);
  }
  box = lt_newbox(L, tl_free);
  err.message[0] = '\0';
  st = tl_chart_hist(c->c, bins, width, &out, &len, &err);
  if (st != TL_OK && strcmp(tl_error_op(&err), "hist") == 0)
    return luaL_error(L, "hist: column '%s': %s", lt_echoz(L, c->name), tl_error_detail(&err));
  push_core_text(L, st, &err, box, out, len);
  return chart_result(L, opts);
}

