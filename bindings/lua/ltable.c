/*
** ltable.c -- the tally.Table userdata and its row views (tally.Row).
*/
#include <limits.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "ldisplay.h"
#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"

#define DEFAULT_HEAD 10

/* ---------------------------------------------------------------------------
** Handles
*/

lt_table *lt_new_table(lua_State *L) {
  lt_table *ud = lua_newuserdatauv(L, sizeof *ud, 0);
  ud->t = NULL;
  ud->sel = NULL;
  luaL_setmetatable(L, LT_TABLE);
  return ud;
}

/* A filter's table holds its rows as a selection until something reads
** it as a table (group_by reads the selection itself): then they are
** taken. NULL when the table is closed. */
tl_table *lt_table_of(lua_State *L, lt_table *ud) {
  if (ud->t == NULL && ud->sel != NULL) {
    tl_table *t = NULL;
    tl_error err;
    err.message[0] = '\0';
    lt_call(L, tl_selection_table(ud->sel, &t, &err), &err);
    ud->t = t;
    tl_selection_free(ud->sel);
    ud->sel = NULL;
  }
  return ud->t;
}

void tally_push_table(lua_State *L, tl_table *t) {
  lt_table *ud = lt_new_table(L);
  ud->t = tl_table_retain(t);
}

tl_table *tally_check_table(lua_State *L, int idx) {
  lt_table *ud = luaL_checkudata(L, idx, LT_TABLE);
  if (lt_table_of(L, ud) == NULL)
    luaL_argerror(L, idx, "table is closed");
  return ud->t;
}

/* __gc and __close: idempotent, and safe on a table never filled in. */
static int t_gc(lua_State *L) {
  lt_table *ud = luaL_checkudata(L, 1, LT_TABLE);
  tl_table_release(ud->t);
  ud->t = NULL;
  tl_selection_free(ud->sel);
  ud->sel = NULL;
  return 0;
}

static void push_column_at(lua_State *L, tl_table *t, int j) {
  lt_push_column(L, tl_table_column(t, j), tl_table_name(t, j));
}

void lt_push_row(lua_State *L, int tidx, int64_t i) {
  lt_row *r;
  tidx = lua_absindex(L, tidx);
  r = lua_newuserdatauv(L, sizeof *r, 1);
  r->i = i;
  luaL_setmetatable(L, LT_ROW);
  lua_pushvalue(L, tidx);
  lua_setiuservalue(L, -2, 1);                   /* the row keeps its table alive */
}

/* Pushes the table as text (ldisplay.c). */
static void push_formatted(lua_State *L, tl_table *t, int max_rows) {
  lt_push_formatted(L, t, max_rows);
}

/* ---------------------------------------------------------------------------
** Table methods
*/

static int t_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)tl_table_nrows(tally_check_table(L, 1)));
  return 1;
}

static int t_ncol(lua_State *L) {
  lua_pushinteger(L, tl_table_ncols(tally_check_table(L, 1)));
  return 1;
}

static int t_names(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  int j, n = tl_table_ncols(t);
  lua_createtable(L, n, 0);
  for (j = 0; j < n; j++) {
    lua_pushstring(L, tl_table_name(t, j));
    lua_rawseti(L, -2, j + 1);
  }
  return 1;
}

static int t_schema(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  int j, n = tl_table_ncols(t);
  lua_createtable(L, n, 0);
  for (j = 0; j < n; j++) {
    const tl_column *c = tl_table_column(t, j);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, tl_table_name(t, j));
    lua_setfield(L, -2, "name");
    lua_pushstring(L, tl_type_name(tl_column_type(c)));
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, (lua_Integer)tl_column_null_count(c));
    lua_setfield(L, -2, "nulls");
    if (lt_csv_reason(L, 1, j))                  /* why read_csv chose the type */
      lua_setfield(L, -2, "reason");
    lua_rawseti(L, -2, j + 1);
  }
  return 1;
}

static int t_col(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  int n = tl_table_ncols(t);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_Integer j = luaL_checkinteger(L, 2);
    if (j < 1 || j > n)
      return luaL_error(L, "col: column index %I out of range (%d columns)", (lua_Integer)j, n);
    push_column_at(L, t, (int)j - 1);
  } else if (lua_type(L, 2) == LUA_TSTRING) {
    const char *name = lt_cstring(L, 2, "col: column name");
    int j = tl_table_find(t, name);
    if (j < 0)
      return lt_unknown_column(L, "col", t, name);
    push_column_at(L, t, j);
  } else {
    return luaL_typeerror(L, 2, "string or integer");
  }
  return 1;
}

static int rows_next(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  if (i < 0 || i >= (lua_Integer)tl_table_nrows(t))
    return 0;
  lua_pushinteger(L, i + 1);
  lt_push_row(L, 1, (int64_t)i);
  return 2;
}

/* for i, r in t:rows() do ... end -- stateless, as ipairs. */
static int t_rows(lua_State *L) {
  tally_check_table(L, 1);
  lua_pushcfunction(L, rows_next);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, 0);
  return 3;
}

static int t_tostring(lua_State *L) {
  push_formatted(L, tally_check_table(L, 1), 0);
  return 1;
}

static const char *const write_csv_keys[] = {"sep", "header", "null", "quote", "dateformat",
                                              NULL};

/* One character of write_csv's options table at 3, or def. */
static char csv_char(lua_State *L, const char *key, char def) {
  size_t len;
  const char *s;
  if (lua_getfield(L, 3, key) == LUA_TNIL) {
    lua_pop(L, 1);
    return def;
  }
  s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
  if (s == NULL || len != 1)
    luaL_error(L, "write_csv: option '%s' must be a one-character string", key);
  lua_pop(L, 1);
  return s[0];
}

/* A string option of write_csv (left on the stack, which anchors it), or NULL. */
static const char *csv_string(lua_State *L, const char *key) {
  if (lua_getfield(L, 3, key) == LUA_TNIL)
    return NULL;
  if (lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "write_csv: option '%s' must be a string, got %s", key, luaL_typename(L, -1));
  return lt_cstring(L, -1, "write_csv: option '%s'", key);
}

/* t:write_csv(path [, { sep, header, null, quote, dateformat }]) */
static int t_write_csv(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  const char *path = luaL_checkstring(L, 2);
  tl_csv_write_options o;
  tl_error err;
  lt_cstring(L, 2, "write_csv: path");
  tl_csv_write_options_init(&o);
  lua_settop(L, 3);
  if (!lua_isnil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    lt_check_options(L, 3, "write_csv", write_csv_keys);
    o.sep = csv_char(L, "sep", o.sep);
    o.quote = csv_char(L, "quote", o.quote);
    if (lua_getfield(L, 3, "header") != LUA_TNIL) {
      if (!lua_isboolean(L, -1))
        luaL_error(L, "write_csv: option 'header' must be a boolean, got %s",
                   luaL_typename(L, -1));
      o.header = lua_toboolean(L, -1);
    }
    o.null = csv_string(L, "null");
    o.dateformat = csv_string(L, "dateformat");
  }
  err.message[0] = '\0';
  lt_call(L, tl_write_csv_opts(t, path, &o, &err), &err);
  return 0;
}

static int slice(lua_State *L, int tail) {
  tl_table *t = tally_check_table(L, 1);
  lua_Integer n = lt_opt_int(L, 2, tail ? "tail" : "head", "the number of rows", 0,
                             LUA_MAXINTEGER, DEFAULT_HEAD);
  int64_t nrows = tl_table_nrows(t), off = 0;
  lt_table *ud;
  tl_error err;
  if (n > (lua_Integer)nrows)
    n = (lua_Integer)nrows;
  if (tail)
    off = nrows - (int64_t)n;
  ud = lt_new_table(L);
  err.message[0] = '\0';
  lt_call(L, tl_table_slice(t, off, (int64_t)n, &ud->t, &err), &err);
  return 1;
}

static int t_head(lua_State *L) { return slice(L, 0); }
static int t_tail(lua_State *L) { return slice(L, 1); }


/* Raises "<op>: interrupted" before row i of a long loop once an interrupt
** stands (Ctrl-C): a loop in C never reaches the Lua hook. Read every 64K rows. */
static void stop_if_interrupted(lua_State *L, lua_Integer i, const char *op) {
  if ((i & 0xffff) == 0 && tl_interrupted()) luaL_error(L, "%s: interrupted", op);
}

/* An array of rows keyed by name; nulls as tally.null so every row has
** every key. */
static int t_totable(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  int64_t i, nrows = tl_table_nrows(t);
  int j, ncol = tl_table_ncols(t);
  lt_check_files(L, t, "totable");
  lua_createtable(L, nrows > INT_MAX ? INT_MAX : (int)nrows, 0);
  for (i = 0; i < nrows; i++) {
    stop_if_interrupted(L, (lua_Integer)i, "totable");
    lua_createtable(L, 0, ncol);
    for (j = 0; j < ncol; j++) {
      const tl_column *c = tl_table_column(t, j);
      if (tl_column_is_null(c, i))
        lt_push_null(L);
      else
        lt_push_value(L, c, i);
      lua_setfield(L, -2, tl_table_name(t, j));
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* t.name is a method when one has that name, else a column; t[i] is row i. */
static int t_index(lua_State *L) {
  lt_table *ud = luaL_checkudata(L, 1, LT_TABLE);
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char *name;
    int j;
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
      return 1;
    name = lt_cstring(L, 2, "table: column name");
    if (lt_table_of(L, ud) == NULL)
      return luaL_error(L, "table: the table is closed (reading '%s')", lt_echoz(L, name));
    j = tl_table_find(ud->t, name);
    if (j < 0)
      return lt_unknown_column(L, "table", ud->t, name);
    push_column_at(L, ud->t, j);
    return 1;
  } else {
    int isint;
    lua_Integer i = lua_tointegerx(L, 2, &isint);
    int64_t nrows;
    if (!isint)
      return luaL_error(L, "table: cannot index a table with a %s", luaL_typename(L, 2));
    nrows = tl_table_nrows(tally_check_table(L, 1));
    if (i < 1 || i > (lua_Integer)nrows)
      return luaL_error(L, "table: row %I out of range (%I rows)", i, (lua_Integer)nrows);
    lt_push_row(L, 1, (int64_t)i - 1);
    return 1;
  }
}

static const luaL_Reg table_methods[] = {
  {"ncol", t_ncol},
  {"names", t_names},
  {"schema", t_schema},
  {"col", t_col},
  {"rows", t_rows},
  {"show", lt_t_show},
  {"format", lt_t_format},
  {"to_markdown", lt_t_to_markdown},
  {"write_json", lt_t_write_json},
  {"write_ndjson", lt_t_write_ndjson},
  {"bar", lt_t_bar},
  {"plot", lt_t_plot},
  {"write_html", lt_t_write_html},
  {"write_csv", t_write_csv},
  {"write_parquet", lt_t_write_parquet},
  {"write", lt_t_write},
  {"write_arrow", lt_t_write_arrow},
  {"head", t_head},
  {"tail", t_tail},
  {"slice", lt_t_slice},
  {"sort", lt_t_sort},
  {"join", lt_t_join},
  {"top", lt_t_top},
  {"distinct", lt_t_distinct},
  {"concat", lt_t_concat},
  {"title", lt_table_title},
  {"meta", lt_table_meta},
  {"rejects", lt_table_rejects},
  {"pivot_longer", lt_pivot_longer},
  {"pivot_wider", lt_pivot_wider},
  {"totable", t_totable},
  {"to_arrow", tally_lua_to_arrow},
  {NULL, NULL}
};

static const luaL_Reg table_meta[] = {
  {"__gc", t_gc},
  {"__close", t_gc},
  {"__len", t_len},
  {"__tostring", t_tostring},
  {NULL, NULL}
};

/* ---------------------------------------------------------------------------
** Row views
*/

static tl_table *row_table(lua_State *L, int idx, lt_row **pr) {
  lt_row *r = luaL_checkudata(L, idx, LT_ROW);
  lt_table *ud;
  lua_getiuservalue(L, idx, 1);
  ud = lua_touserdata(L, -1);                    /* always a tally.Table: set by push_row */
  lua_pop(L, 1);                                 /* still referenced by the row */
  if (ud == NULL || lt_table_of(L, ud) == NULL)
    luaL_error(L, "row: the table is closed");
  *pr = r;
  return ud->t;
}

static int r_index(lua_State *L) {
  lt_row *r;
  tl_table *t;
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char *name;
    int j;
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
      return 1;
    t = row_table(L, 1, &r);
    name = lt_cstring(L, 2, "row: column name");
    j = tl_table_find(t, name);
    if (j < 0)
      return lt_unknown_column(L, "row", t, name);
    lt_check_file(L, tl_table_column(t, j), "row");
    lt_push_value(L, tl_table_column(t, j), r->i);
  } else {
    int isint;
    lua_Integer j = lua_tointegerx(L, 2, &isint);
    t = row_table(L, 1, &r);
    if (!isint || j < 1 || j > tl_table_ncols(t))
      lua_pushnil(L);                            /* past the end, as an array */
    else {
      lt_check_file(L, tl_table_column(t, (int)j - 1), "row");
      lt_push_value(L, tl_table_column(t, (int)j - 1), r->i);
    }
  }
  return 1;
}

static int r_len(lua_State *L) {
  lt_row *r;
  lua_pushinteger(L, tl_table_ncols(row_table(L, 1, &r)));
  return 1;
}

/* Keyed by name; null values are left out, as Lua tables do with nil. */
static int r_totable(lua_State *L) {
  lt_row *r;
  tl_table *t = row_table(L, 1, &r);
  int j, n = tl_table_ncols(t);
  lt_check_files(L, t, "row");
  lua_createtable(L, 0, n);
  for (j = 0; j < n; j++) {
    const tl_column *c = tl_table_column(t, j);
    if (tl_column_is_null(c, r->i))
      continue;
    lt_push_value(L, c, r->i);
    lua_setfield(L, -2, tl_table_name(t, j));
  }
  return 1;
}

static int is_identifier(const char *s) {
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
    return 0;
  for (s++; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
          (*s >= '0' && *s <= '9')))
      return 0;
  return 1;
}

/* {year = 2016, program = "A", n = null} */
static int r_tostring(lua_State *L) {
  lt_row *r;
  tl_table *t = row_table(L, 1, &r);
  int j, n = tl_table_ncols(t);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '{');
  for (j = 0; j < n; j++) {
    const char *name = tl_table_name(t, j);
    tl_scalar v;
    if (j > 0)
      luaL_addstring(&b, ", ");
    if (is_identifier(name)) {
      luaL_addstring(&b, name);
    } else {
      luaL_addchar(&b, '[');
      lt_add_quoted(&b, name, strlen(name));
      luaL_addchar(&b, ']');
    }
    luaL_addstring(&b, " = ");
    tl_column_get(tl_table_column(t, j), r->i, &v);
    lt_add_scalar(&b, &v);
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
  return 1;
}

static const luaL_Reg row_methods[] = {
  {"totable", r_totable},
  {NULL, NULL}
};

static const luaL_Reg row_meta[] = {
  {"__len", r_len},
  {"__tostring", r_tostring},
  {NULL, NULL}
};

static void new_meta(lua_State *L, const char *tname, const luaL_Reg *meta,
                     const luaL_Reg *methods, const luaL_Reg *more, lua_CFunction index) {
  if (luaL_newmetatable(L, tname)) {
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    if (more != NULL)
      luaL_setfuncs(L, more, 0);
    lua_pushcclosure(L, index, 1);               /* methods as the upvalue */
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
}

void lt_open_table(lua_State *L) {
  new_meta(L, LT_TABLE, table_meta, table_methods, lt_verb_methods, t_index);
  new_meta(L, LT_ROW, row_meta, row_methods, NULL, r_index);
}
