/*
** lparquet.c -- tally.read_parquet(path [, { columns = {...} }]): a Parquet
** file of flat columns as a table, through tl_read_parquet. Options are
** checked by name; a misspelt one is an error that suggests the right one.
*/
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "ltally.h"
#include "tally/tally.h"

static const char *const parquet_keys[] = { "columns", NULL };

int lt_read_parquet(lua_State *L) {
  const char *op = "read_parquet";
  const char *path = luaL_checkstring(L, 1);
  tl_parquet_options o;
  tl_error err;
  lt_table *ud;
  tl_status st;
  lt_cstring(L, 1, "%s: path", op);
  tl_parquet_options_init(&o);
  if (!lua_isnoneornil(L, 2)) {
    if (!lua_istable(L, 2))
      return luaL_error(L, "%s: options must be a table, got %s", op, luaL_typename(L, 2));
    lt_check_options(L, 2, op, parquet_keys);
    if (lua_getfield(L, 2, "columns") != LUA_TNIL) {
      if (!lua_istable(L, -1))
        return luaL_error(L, "%s: option 'columns' must be a list of column names", op);
      o.columns = lt_column_list(L, lua_gettop(L), op, &o.ncolumns);
    }
  }
  ud = lt_new_table(L);                          /* owns the result from the start */
  err.message[0] = '\0';
  st = tl_read_parquet(path, &o, &ud->t, &err);
  if (st != TL_OK)
    return lt_core_error(L, st, &err);
  return 1;
}
