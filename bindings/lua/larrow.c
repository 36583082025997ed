/*
** larrow.c -- Arrow interchange in Lua: t:to_arrow() and tally.from_arrow,
** exchanging the addresses of Arrow C Data Interface structs as light
** userdata.
*/
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"

#define LT_ARROW "tally.ArrowPair"
#define LT_ARROWS "tally.arrows"   /* registry: schema address -> its pair */

/* The two structs of t:to_arrow() without arguments, owned by the Lua
** state until tally.from_arrow takes them (or the state closes). */
typedef struct lt_arrow {
  struct ArrowSchema schema;
  struct ArrowArray array;
} lt_arrow;

static int pair_gc(lua_State *L) {
  lt_arrow *p = luaL_checkudata(L, 1, LT_ARROW);
  if (p->schema.release) p->schema.release(&p->schema);
  if (p->array.release) p->array.release(&p->array);
  return 0;
}

/* The table of pairs not yet taken, created on first use. */
static void push_pairs(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, LT_ARROWS) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, LT_ARROWS);
  }
}

static void *check_light(lua_State *L, int idx, const char *what) {
  if (lua_type(L, idx) != LUA_TLIGHTUSERDATA || lua_touserdata(L, idx) == NULL)
    luaL_typeerror(L, idx, what);
  return lua_touserdata(L, idx);
}

/* t:to_arrow([schema, array]) -> schema, array */
int tally_lua_to_arrow(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  struct ArrowSchema *s;
  struct ArrowArray *a;
  tl_error err;
  tl_status st;
  lt_arrow *p = NULL;
  if (lua_isnoneornil(L, 2)) {
    p = lua_newuserdatauv(L, sizeof *p, 0);
    memset(p, 0, sizeof *p);
    if (luaL_newmetatable(L, LT_ARROW)) {
      lua_pushcfunction(L, pair_gc);
      lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    s = &p->schema;
    a = &p->array;
  } else {
    s = check_light(L, 2, "ArrowSchema address (light userdata)");
    a = check_light(L, 3, "ArrowArray address (light userdata)");
  }
  err.message[0] = '\0';
  st = tl_table_export_arrow(t, s, a, &err);
  if (st != TL_OK)
    return lt_core_error(L, st, &err);
  if (p != NULL) {
    push_pairs(L);
    lua_pushlightuserdata(L, s);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);                           /* pairs[schema] = pair */
    lua_pop(L, 1);
  }
  lua_pushlightuserdata(L, s);
  lua_pushlightuserdata(L, a);
  return 2;
}

/* tally.from_arrow(schema, array) -> table */
int tally_lua_from_arrow(lua_State *L) {
  struct ArrowSchema *s = check_light(L, 1, "ArrowSchema address (light userdata)");
  struct ArrowArray *a = check_light(L, 2, "ArrowArray address (light userdata)");
  tl_error err;
  tl_status st;
  lt_table *ud = lt_new_table(L);
  err.message[0] = '\0';
  st = tl_table_import_arrow(s, a, &ud->t, &err);
  if (st != TL_OK)
    return lt_core_error(L, st, &err);
  push_pairs(L);                                 /* a pair of ours: now empty */
  lua_pushlightuserdata(L, s);
  lua_pushnil(L);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  return 1;
}
