/*
** lcheck.c -- sizes and integers read from Lua values. Every length the
** binding hands to the core comes from lt_array_len and every integer
** option from lt_check_int: neither calls a metamethod, and neither lets a
** value through that the core would truncate, overflow or walk for long.
*/
#include <math.h>

#include "ltally.h"

/* An array is sparse when its largest key is more than twice its entries
** plus this: {[2^40] = 1} is one entry, not 2^40 rows. */
#define SPARSE_SLACK 16

lua_Integer lt_array_len(lua_State *L, int idx, const char *op, const char *what, int flags,
                         lua_Integer max) {
  lua_Integer n = 0, count = 0;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE)
    return luaL_error(L, "%s: %s must be a table, got %s", op, what, luaL_typename(L, idx));
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {                /* raw: no __pairs, no __index */
    lua_Integer k = lua_isinteger(L, -2) ? lua_tointeger(L, -2) : 0;
    if (k >= 1) {
      count++;
      if (k > n)
        n = k;
    } else if (!(flags & LT_OTHER_KEYS)) {
      lua_pop(L, 1);
      if (lua_type(L, -1) == LUA_TSTRING)
        return luaL_error(L, "%s: %s must be an array, not a table with key '%s'", op, what,
                          lua_tostring(L, -1));
      if (lua_type(L, -1) == LUA_TNUMBER)
        return luaL_error(L, "%s: %s must be an array, not a table with key %s", op, what,
                          lua_tostring(L, -1));   /* a copy of the key: lua_next is done */
      return luaL_error(L, "%s: %s must be an array, not a table with a %s key", op, what,
                        luaL_typename(L, -1));
    }
    lua_pop(L, 1);
  }
  if (n > 2 * count + SPARSE_SLACK)
    return luaL_error(L, "%s: %s is a sparse array (largest index %I, %I entries)", op, what, n,
                      count);
  if (n > max)
    return luaL_error(L, "%s: %s has %I entries, more than %I", op, what, n, max);
  return n;
}

/* "got 4294967298", "got 2.5", "got string" */
static const char *describe(lua_State *L, int idx) {
  if (lua_isinteger(L, idx))
    return lua_pushfstring(L, "%I", lua_tointeger(L, idx));
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Number v = lua_tonumber(L, idx);
    return isnan(v) ? "nan" : lua_pushfstring(L, "%f", v);
  }
  return luaL_typename(L, idx);
}

lua_Integer lt_check_int(lua_State *L, int idx, const char *op, const char *what,
                         lua_Integer min, lua_Integer max) {
  int exact = 0;
  lua_Integer v = 0;
  if (lua_type(L, idx) == LUA_TNUMBER)            /* no strings, no __index games */
    v = lua_tointegerx(L, idx, &exact);            /* 3.0 is 3; 2.5, 2^63, nan are not */
  if (!exact || v < min || v > max)
    return luaL_error(L, "%s: %s must be an integer in [%I, %I], got %s", op, what, min, max,
                      describe(L, idx));
  return v;
}

lua_Integer lt_opt_int(lua_State *L, int idx, const char *op, const char *what,
                       lua_Integer min, lua_Integer max, lua_Integer def) {
  return lua_isnoneornil(L, idx) ? def : lt_check_int(L, idx, op, what, min, max);
}
