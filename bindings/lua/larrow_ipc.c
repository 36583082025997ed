/*
** larrow_ipc.c -- Arrow IPC files in Lua: tally.read_arrow(path [, {columns}])
** and t:write_arrow(path [, {compression, format, batch_rows}]), through
** tl_read_arrow and tl_write_arrow. Options are checked by name.
*/
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "ltally.h"
#include "tally_lua.h"
#include "tally/tally.h"

static const char *const read_keys[] = { "columns", NULL };
static const char *const write_keys[] = { "compression", "format", "batch_rows", NULL };

int lt_read_arrow(lua_State *L) {
  const char *op = "read_arrow";
  const char *path = luaL_checkstring(L, 1);
  tl_arrow_read_options o;
  tl_error err;
  lt_cstring(L, 1, "%s: path", op);
  tl_arrow_read_options_init(&o);
  if (!lua_isnoneornil(L, 2)) {
    if (!lua_istable(L, 2))
      return luaL_error(L, "%s: options must be a table, got %s", op, luaL_typename(L, 2));
    lt_check_options(L, 2, op, read_keys);
    if (lua_getfield(L, 2, "columns") != LUA_TNIL) {
      if (!lua_istable(L, -1))
        return luaL_error(L, "%s: option 'columns' must be a list of column names", op);
      o.columns = lt_column_list(L, lua_gettop(L), op, &o.ncolumns);
    }
  }
  lt_table *ud = lt_new_table(L);                /* owns the result from the start */
  err.message[0] = '\0';
  tl_status st = tl_read_arrow(path, &o, &ud->t, &err);
  if (st != TL_OK) return lt_core_error(L, st, &err);
  return 1;
}

/* A string option of the table at idx, one of `choices` (index returned),
** or `def` when absent. */
static int choice(lua_State *L, int idx, const char *op, const char *key,
                  const char *const *choices, int def) {
  int t = lua_getfield(L, idx, key);
  int r = def;
  if (t != LUA_TNIL) {
    const char *s = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    for (r = 0; s && choices[r] && strcmp(choices[r], s) != 0; r++) {}
    if (!s || !choices[r]) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (int k = 0; choices[k]; k++) {
        luaL_addstring(&b, k ? ", \"" : "\"");
        luaL_addstring(&b, choices[k]);
        luaL_addstring(&b, "\"");
      }
      luaL_pushresult(&b);
      return luaL_error(L, "%s: option '%s' must be one of %s, got %s", op, key,
                        lua_tostring(L, -1), s ? s : luaL_typename(L, -2));
    }
  }
  lua_pop(L, 1);
  return r;
}

/* The options at index 3 (none or nil: the defaults). */
void lt_arrow_write_options(lua_State *L, tl_arrow_write_options *po) {
  const char *op = "write_arrow";
  tl_arrow_write_options o;
  tl_arrow_write_options_init(&o);
  if (!lua_isnoneornil(L, 3)) {
    static const char *const codecs[] = { "none", "lz4", "zstd", NULL };
    static const char *const formats[] = { "file", "stream", NULL };
    if (!lua_istable(L, 3))
      luaL_error(L, "%s: options must be a table, got %s", op, luaL_typename(L, 3));
    lt_check_options(L, 3, op, write_keys);
    o.compression = (tl_arrow_compression)choice(L, 3, op, "compression", codecs, 0);
    o.stream = choice(L, 3, op, "format", formats, 0);
    if (lua_getfield(L, 3, "batch_rows") != LUA_TNIL) {
      lua_Integer n = lt_opt_int(L, -1, op, "option 'batch_rows'", 1, (lua_Integer)1 << 40, 0);
      o.batch_rows = (int64_t)n;
    }
    lua_pop(L, 1);
  }
  *po = o;
}

int lt_t_write_arrow(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  const char *path = luaL_checkstring(L, 2);
  tl_arrow_write_options o;
  tl_error err;
  lt_cstring(L, 2, "%s: path", "write_arrow");
  lt_arrow_write_options(L, &o);
  err.message[0] = '\0';
  lt_call(L, tl_write_arrow(t, path, &o, &err), &err);
  return 0;
}
