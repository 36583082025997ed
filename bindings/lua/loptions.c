/*
** loptions.c -- tally.options{...}: the settings of a state that change how
** results look (display digits) and how errors at a prompt read
** (traceback). They live in a registry table (TALLY_OPTIONS_KEY), one per
** state, so that two states keep their own.
*/
#include "ltally.h"
#include "tally_lua.h"

#define DEFAULT_DIGITS 6
#define MAX_DIGITS 17      /* a double never needs more */

static const char *const option_keys[] = {"digits", "traceback", NULL};

/* Pushes the settings table, made with the defaults on first use. */
static void push_settings(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, TALLY_OPTIONS_KEY) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, DEFAULT_DIGITS);
  lua_setfield(L, -2, "digits");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "traceback");
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, TALLY_OPTIONS_KEY);
}

int lt_option_digits(lua_State *L) {
  int d;
  push_settings(L);
  lua_getfield(L, -1, "digits");
  d = (int)lua_tointeger(L, -1);
  lua_pop(L, 2);
  return d;
}

/* tally.options([{ digits =, traceback = }]): sets the options given and
** returns a copy of all of them. */
static int l_options(lua_State *L) {
  int settings;
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lt_check_options(L, 1, "options", option_keys);
  }
  push_settings(L);
  settings = lua_gettop(L);
  if (!lua_isnoneornil(L, 1)) {
    if (lua_getfield(L, 1, "digits") != LUA_TNIL) {
      lua_Integer d = lt_check_int(L, -1, "options", "option 'digits'", 0, MAX_DIGITS);
      lua_pushinteger(L, d);                     /* 0: every digit */
      lua_setfield(L, settings, "digits");
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "traceback") != LUA_TNIL) {
      if (!lua_isboolean(L, -1))
        return luaL_error(L, "options: option 'traceback' must be a boolean, got %s",
                          luaL_typename(L, -1));
      lua_pushboolean(L, lua_toboolean(L, -1));
      lua_setfield(L, settings, "traceback");
    }
    lua_pop(L, 1);
  }
  lua_createtable(L, 0, 2);
  lua_getfield(L, settings, "digits");
  lua_setfield(L, -2, "digits");
  lua_getfield(L, settings, "traceback");
  lua_setfield(L, -2, "traceback");
  return 1;
}

void lt_open_options(lua_State *L) {
  lua_pushcfunction(L, l_options);
  lua_setfield(L, -2, "options");
}
