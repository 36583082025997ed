/*
** lcolumn.c -- the tally.Column userdata: a shared core column plus the
** name it was reached by.
*/
#include <stdio.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "ldisplay.h"
#include "ltally.h"
#include "tally/tally.h"

#define TOSTRING_VALUES 10   /* values shown by tostring(c) */
#define TOSTRING_BYTES 40    /* of each string value */

lt_column *lt_new_column(lua_State *L, const char *name) {
  size_t n = strlen(name);
  lt_column *ud = lua_newuserdatauv(L, sizeof *ud + n + 1, 0);
  ud->c = NULL;
  memcpy(ud->name, name, n + 1);
  luaL_setmetatable(L, LT_COLUMN);
  return ud;
}

void lt_push_column(lua_State *L, tl_column *c, const char *name) {
  lt_column *ud = lt_new_column(L, name);
  ud->c = tl_column_retain(c);
}

lt_column *lt_check_column(lua_State *L, int idx) {
  lt_column *ud = luaL_checkudata(L, idx, LT_COLUMN);
  if (ud->c == NULL)
    luaL_argerror(L, idx, "column is closed");
  return ud;
}

static int c_gc(lua_State *L) {
  lt_column *ud = luaL_checkudata(L, 1, LT_COLUMN);
  tl_column_release(ud->c);
  ud->c = NULL;
  return 0;
}

static int c_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)tl_column_length(lt_check_column(L, 1)->c));
  return 1;
}

static int c_type(lua_State *L) {
  lua_pushstring(L, tl_type_name(tl_column_type(lt_check_column(L, 1)->c)));
  return 1;
}

static int c_name(lua_State *L) {
  lua_pushstring(L, lt_check_column(L, 1)->name);
  return 1;
}

static int c_nulls(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)tl_column_null_count(lt_check_column(L, 1)->c));
  return 1;
}

static int c_count(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)tl_column_count(lt_check_column(L, 1)->c));
  return 1;
}

typedef tl_status (*stat_fn)(const tl_column *c, tl_scalar *out, tl_error *err);

/* Runs one core statistic; its error names the column, which the core
** cannot know: "sum: column 'x': integer overflow". */
static int stat(lua_State *L, const char *op, stat_fn fn) {
  lt_column *ud = lt_check_column(L, 1);
  tl_scalar v;
  tl_error err;
  tl_status st;
  err.message[0] = '\0';
  st = fn(ud->c, &v, &err);
  if (st != TL_OK) {
    const char *detail = err.message;
    if (st == TL_ERANGE)
      detail = "integer overflow";
    else if (detail[0] == '\0')
      detail = tl_status_string(st);
    else if (strcmp(tl_error_op(&err), op) == 0)
      detail = tl_error_detail(&err);
    return luaL_error(L, "%s: column '%s': %s", op, ud->name, detail);
  }
  lt_push_scalar(L, &v);
  return 1;
}

static int c_sum(lua_State *L) { return stat(L, "sum", tl_column_sum); }
static int c_mean(lua_State *L) { return stat(L, "mean", tl_column_mean); }
static int c_min(lua_State *L) { return stat(L, "min", tl_column_min); }
static int c_max(lua_State *L) { return stat(L, "max", tl_column_max); }

/* One aggregate of the core over the column alone ("median(`x`)"), for the
** statistics that have no column function of their own. */
static int column_agg(lua_State *L, const char *op, const char *def, int numeric) {
  lt_column *c = lt_check_column(L, 1);
  tl_type type = tl_column_type(c->c);
  if (numeric && type != TL_INT && type != TL_FLOAT)
    return luaL_error(L, "%s: column '%s' is %s, not a number", op, c->name, tl_type_name(type));
  const char *name = "x";
  tl_error err;
  lt_table *in = lt_new_table(L), *out = lt_new_table(L);   /* owned before any error */
  lt_call(L, tl_table_new(1, &name, &c->c, &in->t, &err), &err);
  lt_call(L, tl_table_agg(in->t, 1, &def, &out->t, &err), &err);
  lt_push_value(L, tl_table_column(out->t, 0), 0);
  return 1;
}

static int c_median(lua_State *L) { return column_agg(L, "median", "median(`x`)", 1); }
static int c_stddev(lua_State *L) { return column_agg(L, "stddev", "stddev(`x`)", 1); }
static int c_var(lua_State *L) { return column_agg(L, "var", "var(`x`)", 1); }
static int c_count_distinct(lua_State *L) {
  return column_agg(L, "count_distinct", "count_distinct(`x`)", 0);
}

static int c_quantile(lua_State *L) {
  lua_Number q = luaL_checknumber(L, 2);
  luaL_argcheck(L, q >= 0 && q <= 1, 2, "a number between 0 and 1");
  char def[64];
  snprintf(def, sizeof def, "quantile(`x`, %.17g)", (double)q);
  return column_agg(L, "quantile", def, 1);
}


/* Raises "<op>: interrupted" before row i of a long loop once an interrupt
** stands (Ctrl-C): a loop in C never reaches the Lua hook. Read every 64K rows. */
static void stop_if_interrupted(lua_State *L, lua_Integer i, const char *op) {
  if ((i & 0xffff) == 0 && tl_interrupted()) luaL_error(L, "%s: interrupted", op);
}

/* An array as long as the column: nulls as tally.null. */
static int c_totable(lua_State *L) {
  const tl_column *c = lt_check_column(L, 1)->c;
  int64_t i, n = tl_column_length(c);
  lt_check_file(L, c, "totable");
  lua_createtable(L, n > 0x7fffffff ? 0x7fffffff : (int)n, 0);
  for (i = 0; i < n; i++) {
    stop_if_interrupted(L, (lua_Integer)i, "totable");
    if (tl_column_is_null(c, i))
      lt_push_null(L);
    else
      lt_push_value(L, c, i);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* c:method, else c[i]: nil past the end (as arrays, so ipairs works) and
** for nulls. */
static int c_index(lua_State *L) {
  lt_column *ud = luaL_checkudata(L, 1, LT_COLUMN);
  int isint;
  lua_Integer i;
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
      return 1;
    return luaL_error(L, "column: no method '%s'", lua_tostring(L, 2));
  }
  i = lua_tointegerx(L, 2, &isint);
  if (ud->c == NULL)
    return luaL_error(L, "column: the column is closed");
  if (!isint || i < 1 || i > (lua_Integer)tl_column_length(ud->c))
    lua_pushnil(L);
  else {
    lt_check_file(L, ud->c, "column");
    lt_push_value(L, ud->c, (int64_t)i - 1);
  }
  return 1;
}

/* column 'year' (int, 40 rows): 2016, 2016, 2017, ... */
static int c_tostring(lua_State *L) {
  lt_column *ud = lt_check_column(L, 1);
  int64_t i, n = tl_column_length(ud->c);
  luaL_Buffer b;
  char head[64];
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "column '");
  luaL_addstring(&b, ud->name);
  snprintf(head, sizeof head, "' (%s, %lld rows)", tl_type_name(tl_column_type(ud->c)),
           (long long)n);
  luaL_addstring(&b, head);
  for (i = 0; i < n && i < TOSTRING_VALUES; i++) {
    tl_scalar v;
    luaL_addstring(&b, i == 0 ? ": " : ", ");
    tl_column_get(ud->c, i, &v);
    if (!v.is_null && v.type == TL_STRING && v.v.s.len > TOSTRING_BYTES) {
      size_t k = TOSTRING_BYTES;
      while (k > 0 && ((unsigned char)v.v.s.ptr[k] & 0xc0) == 0x80)
        k--;                                     /* cut on a code point boundary */
      lt_add_quoted(&b, v.v.s.ptr, k);
      luaL_addstring(&b, "...");
    } else {
      lt_add_scalar(&b, &v);
    }
  }
  if (n > TOSTRING_VALUES)
    luaL_addstring(&b, ", ...");
  luaL_pushresult(&b);
  return 1;
}

static const luaL_Reg column_methods[] = {
  {"type", c_type},
  {"name", c_name},
  {"nulls", c_nulls},
  {"count", c_count},
  {"sum", c_sum},
  {"mean", c_mean},
  {"min", c_min},
  {"max", c_max},
  {"median", c_median},
  {"quantile", c_quantile},
  {"stddev", c_stddev},
  {"var", c_var},
  {"count_distinct", c_count_distinct},
  {"totable", c_totable},
  {"hist", lt_c_hist},
  {"value_counts", lt_c_value_counts},
  {"unique", lt_c_unique},
  {NULL, NULL}
};

static const luaL_Reg column_meta[] = {
  {"__gc", c_gc},
  {"__close", c_gc},
  {"__len", c_len},
  {"__tostring", c_tostring},
  {NULL, NULL}
};

void lt_open_column(lua_State *L) {
  if (luaL_newmetatable(L, LT_COLUMN)) {
    luaL_setfuncs(L, column_meta, 0);
    luaL_setfuncs(L, lt_colop_meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, column_methods, 0);
    luaL_setfuncs(L, lt_colop_methods, 0);
    lua_pushcclosure(L, c_index, 1);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
}
