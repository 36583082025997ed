/*
** lsort.c -- the row-order verbs of tally.Table (sort, top, slice,
** distinct, concat) and of tally.Column (value_counts, unique). Each is a
** thin wrapper over one core call.
*/
#include <limits.h>

#include "lauxlib.h"
#include "lua.h"

#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"


/* Argument idx as an integer, else an error that starts with the operation
** (the default when absent, if `opt`). */
static lua_Integer int_arg(lua_State *L, int idx, const char *op, const char *what, int opt,
                           lua_Integer def) {
  int isint;
  lua_Integer v;
  if (opt && lua_isnoneornil(L, idx))
    return def;
  v = lua_tointegerx(L, idx, &isint);
  if (!isint)
    luaL_error(L, "%s: %s must be an integer, got %s", op, what,
               lua_type(L, idx) == LUA_TNUMBER ? "a float" : luaL_typename(L, idx));
  return v;
}

/* t:sort("year", "-participants") or t:sort{ "year", "-participants" } */
int lt_t_sort(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  int n;
  const char **keys = lt_string_args(L, 2, "sort", 1, &n);
  lt_table *ud;
  tl_error err;
  if (n == 0)
    return luaL_error(L, "sort: expected at least one key");
  ud = lt_new_table(L);
  err.message[0] = '\0';
  lt_call(L, tl_table_sort(t, n, keys, &ud->t, &err), &err);
  return 1;
}

/* t:top(10, "-cost"): the first rows of t:sort("-cost"). */
int lt_t_top(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  lua_Integer count = lt_check_int(L, 2, "top", "the number of rows", 0, LUA_MAXINTEGER);
  int n;
  const char **keys;
  lt_table *ud;
  tl_error err;
  keys = lt_string_args(L, 3, "top", 1, &n);
  if (n == 0)
    return luaL_error(L, "top: expected at least one key");
  ud = lt_new_table(L);
  err.message[0] = '\0';
  lt_call(L, tl_table_top(t, (int64_t)count, n, keys, &ud->t, &err), &err);
  return 1;
}

/* t:distinct("country", ...): all columns when none is named. */
int lt_t_distinct(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  int n;
  const char **cols = lt_string_args(L, 2, "distinct", 1, &n);
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_table_distinct(t, n, cols, &ud->t, &err), &err);
  return 1;
}

/* t:concat(u, v, ...) or t:concat{ u, v, ... } */
int lt_t_concat(lua_State *L) {
  int top = lua_gettop(L), n, i, list = 0;
  const tl_table **ts;
  lt_table *ud;
  tl_error err;
  tally_check_table(L, 1);
  if (top == 2 && lua_type(L, 2) == LUA_TTABLE) {
    n = (int)lt_array_len(L, 2, "concat", "the list of tables", LT_OTHER_KEYS,
                          LT_MAX_INT / 8 - 1) + 1;
    list = 1;
  } else {
    n = top;
  }
  ts = lua_newuserdatauv(L, sizeof *ts * (size_t)n, 0);
  ts[0] = tally_check_table(L, 1);
  for (i = 1; i < n; i++) {
    lt_table *u;
    if (list)
      lua_rawgeti(L, 2, i);                      /* anchored in the list */
    else
      lua_pushvalue(L, i + 1);
    u = luaL_testudata(L, -1, LT_TABLE);
    if (u == NULL || lt_table_of(L, u) == NULL)
      return luaL_error(L, "concat: %s %d must be a table, got %s", list ? "entry" : "argument",
                        list ? i : i + 1, u ? "a closed table" : luaL_typename(L, -1));
    ts[i] = u->t;
    lua_pop(L, 1);
  }
  ud = lt_new_table(L);
  err.message[0] = '\0';
  lt_call(L, tl_table_concat(n, ts, &ud->t, &err), &err);
  return 1;
}

/* t:slice(i, j): rows i to j, 1-based and inclusive; negative indexes count
** from the end; as string.sub. */
int lt_t_slice(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  lua_Integer len = (lua_Integer)tl_table_nrows(t);
  lua_Integer i = int_arg(L, 2, "slice", "the first row", 0, 0);
  lua_Integer j = int_arg(L, 3, "slice", "the last row", 1, -1);
  lt_table *ud;
  tl_error err;
  if (i < 0)
    i = i < -len ? 1 : len + i + 1;
  else if (i == 0)
    i = 1;
  if (j < 0)
    j = j < -len ? 0 : len + j + 1;
  else if (j > len)
    j = len;
  ud = lt_new_table(L);
  err.message[0] = '\0';
  lt_call(L, tl_table_slice(t, (int64_t)i - 1, i > j ? 0 : (int64_t)(j - i + 1),
                                        &ud->t, &err), &err);
  return 1;
}

/* c:value_counts(): a table (value, count), the most frequent first. */
int lt_c_value_counts(lua_State *L) {
  lt_column *c = lt_check_column(L, 1);
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_column_value_counts(c->c, &ud->t, &err), &err);
  return 1;
}

/* c:unique(): the distinct values, in order of first appearance. */
int lt_c_unique(lua_State *L) {
  lt_column *c = lt_check_column(L, 1);
  lt_column *ud = lt_new_column(L, c->name);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_column_unique(c->c, &ud->c, &err), &err);
  return 1;
}
