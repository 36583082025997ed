/*
** lstring.c -- strings crossing between Lua and the core: Lua strings made
** into C strings (which a NUL byte would silently cut short), user strings
** echoed into messages (capped), and error objects made into text.
*/
#include <stdarg.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "ltally.h"

const char *lt_cstring(lua_State *L, int idx, const char *fmt, ...) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  if (s != NULL && strlen(s) != len) {
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    luaL_error(L, "%s contains a NUL byte at byte %I", lua_tostring(L, -1),
               (lua_Integer)strlen(s) + 1);
  }
  return s;
}

const char *lt_echo(lua_State *L, const char *s, size_t len) {
  size_t n;
  if (len <= LT_ECHO_MAX)
    return lua_pushlstring(L, s, len);
  n = LT_ECHO_MAX;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
    n--;                                         /* never cut a UTF-8 sequence */
  lua_pushlstring(L, s, n);
  lua_pushliteral(L, "...");
  lua_concat(L, 2);
  return lua_tostring(L, -1);
}

const char *lt_echoz(lua_State *L, const char *s) { return lt_echo(L, s, strlen(s)); }

static int p_tostring(lua_State *L) {
  luaL_tolstring(L, 1, NULL);
  return 1;
}

/* Callers may run outside any protected call (a core callback), so every
** step that can raise (a conversion, __tostring) runs under lua_pcall. */
const char *lt_error_text(lua_State *L) {
  int t = lua_type(L, -1);
  if (t == LUA_TSTRING)
    return lua_tostring(L, -1);
  lua_pushcfunction(L, p_tostring);
  lua_rotate(L, -2, 1);                          /* p_tostring, the error object */
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushnil(L);                              /* allocates nothing, as the text below */
    return "(error object whose __tostring failed)";
  }
  return lua_tostring(L, -1);
}

const char *lt_option_key(lua_State *L, const char *op) {
  if (lua_type(L, -2) != LUA_TSTRING)
    return NULL;
  return lt_cstring(L, -2, "%s: an option name", op);
}

void lt_check_options(lua_State *L, int idx, const char *op, const char *const *keys) {
  int n = 0;
  idx = lua_absindex(L, idx);
  luaL_checkstack(L, 4, op);
  while (keys[n]) n++;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    const char *key = lt_option_key(L, op);
    int i = 0;
    while (key && i < n && strcmp(key, keys[i]) != 0) i++;
    if (!key)
      luaL_error(L, "%s: an option name must be a string, not a %s", op, luaL_typename(L, -2));
    if (i == n && n == 0)
      luaL_error(L, "%s: unknown option '%s' (%s takes no options)", op, lt_echoz(L, key), op);
    if (i == n) {
      const char *near = tl_suggest(key, keys, n);
      if (near)
        luaL_error(L, "%s: unknown option '%s' (did you mean '%s'?)", op, lt_echoz(L, key), near);
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (i = 0; i < n; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, keys[i]);
      }
      luaL_pushresult(&b);
      luaL_error(L, "%s: unknown option '%s' (the options are: %s)", op, lt_echoz(L, key),
                 lua_tostring(L, -1));
    }
    lua_pop(L, 1);
  }
}

const char **lt_column_list(lua_State *L, int idx, const char *op, int *pn) {
  int n = (int)lt_array_len(L, idx, op, "option 'columns'", 0, LT_MAX_INT);
  const char **list = lua_newuserdatauv(L, sizeof *list * (size_t)(n > 0 ? n : 1), 0);
  for (int i = 0; i < n; i++) {
    if (lua_rawgeti(L, idx, i + 1) != LUA_TSTRING)
      luaL_error(L, "%s: option 'columns' must be a list of column names", op);
    list[i] = lt_cstring(L, -1, "%s: option 'columns' entry %d", op, i + 1);
    lua_pop(L, 1);
  }
  *pn = n;
  return list;
}
