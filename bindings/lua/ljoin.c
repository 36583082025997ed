/*
** ljoin.c -- t:join(u, { on = ..., how = ..., suffix = {...} }).
*/
#include <string.h>

#include "ltally.h"
#include "tally_lua.h"

static const char *const kinds[] = { "inner", "left", "right", "full", "semi", "anti", NULL };

/* Reads the names of `on` into arrays held by a userdata at the top. */
static int read_on(lua_State *L, int opts, const char ***left, const char ***right) {
  int n;
  int t = lua_getfield(L, opts, "on");
  int on = lua_gettop(L);
  if (t == LUA_TSTRING) {
    const char **v = lua_newuserdatauv(L, 2 * sizeof *v, 0);
    v[0] = v[1] = lt_cstring(L, on, "join: 'on'");
    *left = v;
    *right = v + 1;
    return 1;
  }
  if (t != LUA_TTABLE)
    return luaL_error(L, "join: 'on' must be a column name, a list of names or "
                         "{ left = ..., right = ... }");
  lua_pushliteral(L, "left");                      /* raw, as the list is read */
  if (lua_rawget(L, on) != LUA_TNIL) {             /* { left = "a", right = "b" } */
    lua_pushliteral(L, "right");
    lua_rawget(L, on);
    int ls = lua_gettop(L) - 1;
    lua_Integer nl = lua_type(L, ls) == LUA_TTABLE
                         ? lt_array_len(L, ls, "join", "option 'on' (left)", LT_OTHER_KEYS,
                                        LT_MAX_INT / 16)
                         : 1;
    lua_Integer nr = lua_type(L, ls + 1) == LUA_TTABLE
                         ? lt_array_len(L, ls + 1, "join", "option 'on' (right)",
                                        LT_OTHER_KEYS, LT_MAX_INT / 16)
                         : 1;
    if (nl != nr || nl < 1)
      return luaL_error(L, "join: 'on' needs as many right keys as left keys");
    n = (int)nl;
    const char **v = lua_newuserdatauv(L, 2 * (size_t)n * sizeof *v, 0);
    for (int side = 0; side < 2; side++) {
      int idx = ls + side;
      for (int k = 0; k < n; k++) {
        if (lua_type(L, idx) == LUA_TTABLE) lua_rawgeti(L, idx, k + 1);
        else lua_pushvalue(L, idx);
        if (lua_type(L, -1) != LUA_TSTRING)
          return luaL_error(L, "join: key names must be strings");
        v[side * n + k] = lt_cstring(L, -1, "join: 'on' %s key %d", side ? "right" : "left",
                                     k + 1);
        lua_pop(L, 1);   /* the name stays anchored in the options or on the stack */
      }
    }
    *left = v;
    *right = v + n;
    return n;
  }
  lua_pop(L, 1);
  n = (int)lt_array_len(L, on, "join", "option 'on'", LT_OTHER_KEYS, LT_MAX_INT / 8);
  if (n < 1) return luaL_error(L, "join: 'on' is an empty list");
  const char **v = lua_newuserdatauv(L, (size_t)n * sizeof *v, 0);
  for (int k = 0; k < n; k++) {
    if (lua_rawgeti(L, on, k + 1) != LUA_TSTRING)
      return luaL_error(L, "join: entry %d of 'on' must be a column name", k + 1);
    v[k] = lt_cstring(L, -1, "join: entry %d of 'on'", k + 1);
    lua_pop(L, 1);   /* the string stays in the 'on' table */
  }
  *left = *right = v;
  return n;
}

static const char *const join_keys[] = {"on", "how", "suffix", NULL};

/* The options at index 3 into *po; the names stay anchored on the stack
** above it, which must be the top. */
void lt_join_options(lua_State *L, tl_join_options *po) {
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  lt_check_options(L, 3, "join", join_keys);
  tl_join_options o;
  tl_join_options_init(&o);
  const char **lk = NULL, **rk = NULL;
  o.nkeys = read_on(L, 3, &lk, &rk);
  o.left_keys = lk;
  o.right_keys = rk;
  if (lua_getfield(L, 3, "how") != LUA_TNIL) {
    const char *how = lua_type(L, -1) == LUA_TSTRING ? lt_cstring(L, -1, "join: 'how'") : NULL;
    int k = 0;
    while (how && kinds[k] && strcmp(kinds[k], how) != 0) k++;
    if (!how || !kinds[k])
      luaL_error(L, "join: 'how' must be inner, left, right, full, semi or anti");
    o.how = (tl_join_kind)(TL_JOIN_INNER + k);
  }
  if (lua_getfield(L, 3, "suffix") != LUA_TNIL) {
    if (!lua_istable(L, -1)) luaL_error(L, "join: 'suffix' must be a pair of strings");
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "join: 'suffix' must be a pair of strings");
    o.suffix_left = lt_cstring(L, -2, "join: 'suffix' entry 1");
    o.suffix_right = lt_cstring(L, -1, "join: 'suffix' entry 2");
  }
  *po = o;
}

int lt_t_join(lua_State *L) {
  tl_table *left = tally_check_table(L, 1);
  tl_table *right = tally_check_table(L, 2);
  tl_join_options o;
  lt_join_options(L, &o);
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_table_join(left, right, &o, &ud->t, &err), &err);
  return 1;
}
