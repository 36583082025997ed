/*
** lparquet_write.c -- t:write_parquet(path [, { compression, row_group_size }]):
** the table as a Parquet file, through tl_write_parquet. Options are checked
** by name; a misspelt one is an error that suggests the right one.
*/
#include "lauxlib.h"
#include "lua.h"

#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"

static const char *const write_keys[] = { "compression", "row_group_size", NULL };

/* The options at index 3 (none or nil: the defaults); strings stay
** anchored in the options table. */
void lt_parquet_write_options(lua_State *L, tl_parquet_write_options *o) {
  const char *op = "write_parquet";
  tl_parquet_write_options_init(o);
  if (lua_isnoneornil(L, 3)) return;
  if (!lua_istable(L, 3))
    luaL_error(L, "%s: options must be a table, got %s", op, luaL_typename(L, 3));
  lt_check_options(L, 3, op, write_keys);
  if (lua_getfield(L, 3, "compression") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "%s: option 'compression' must be a string (zstd, snappy, gzip, lz4 or "
                 "none), got %s", op, luaL_typename(L, -1));
    o->compression = lt_cstring(L, -1, "%s: option 'compression'", op);
  }
  lua_getfield(L, 3, "row_group_size");
  o->row_group_size = (int64_t)lt_opt_int(L, -1, op, "option 'row_group_size'", 1, LT_MAX_INT,
                                          0);
}

int lt_t_write_parquet(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  const char *path = luaL_checkstring(L, 2);
  tl_parquet_write_options o;
  tl_error err;
  lt_cstring(L, 2, "%s: path", "write_parquet");
  lt_parquet_write_options(L, &o);
  err.message[0] = '\0';
  lt_call(L, tl_write_parquet(t, path, &o, &err), &err);
  return 0;
}
