/*
** larrow.c -- Arrow interchange in Lua: t:to_arrow() returns a tally.Arrow,
** one userdata that owns an Arrow C Data Interface struct pair, and
** tally.from_arrow consumes it. No address a script holds can dangle: the
** structs live in the userdata until they are imported, released by its
** finalizer, or handed to the host with their ownership.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"

#define LT_ARROW "tally.Arrow"

typedef struct lt_arrow {
  struct ArrowSchema schema;
  struct ArrowArray array;
  const char *gone;     /* why the pair is no longer here; NULL while it is */
} lt_arrow;

/* Releases what the userdata still owns; safe to call twice and on a
** userdata whose export failed (both release members NULL). */
static void pair_drop(lt_arrow *p, const char *why) {
  if (p->schema.release) p->schema.release(&p->schema);
  if (p->array.release) p->array.release(&p->array);
  p->schema.release = NULL;
  p->array.release = NULL;
  if (!p->gone) p->gone = why;
}

static lt_arrow *check_arrow(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, LT_ARROW);
}

/* The pair of x, or an error that says where it went. */
static lt_arrow *check_held(lua_State *L, int idx, const char *op) {
  lt_arrow *p = check_arrow(L, idx);
  if (p->gone || !p->schema.release || !p->array.release)
    luaL_error(L, "%s: this tally.Arrow was already consumed (%s)", op,
               p->gone ? p->gone : "empty");
  return p;
}

static int arrow_gc(lua_State *L) {
  pair_drop(check_arrow(L, 1), "released by close");
  return 0;
}

static int arrow_tostring(lua_State *L) {
  lt_arrow *p = check_arrow(L, 1);
  if (p->gone)
    lua_pushfstring(L, "tally.Arrow (consumed: %s)", p->gone);
  else
    lua_pushfstring(L, "tally.Arrow (%I rows, %I columns)", (lua_Integer)p->array.length,
                    (lua_Integer)p->array.n_children);
  return 1;
}

/* x:release_to_host() -> schema, array: the addresses, as integers, of two
** structs allocated with malloc, into which the pair moves; x is empty
** after. Whoever receives them owns them: it calls their release callbacks
** (or has a consumer move them out), then frees each with free. */
static int arrow_release_to_host(lua_State *L) {
  lt_arrow *p = check_held(L, 1, "release_to_host");
  struct ArrowSchema *s = malloc(sizeof *s);   /* the receiver frees them: */
  struct ArrowArray *a = malloc(sizeof *a);    /* the C library's allocator */
  if (!s || !a) {
    free(s);
    free(a);
    return luaL_error(L, "release_to_host: out of memory");
  }
  *s = p->schema;
  *a = p->array;
  p->schema.release = NULL;
  p->array.release = NULL;
  p->gone = "handed to the host by release_to_host";
  lua_pushinteger(L, (lua_Integer)(intptr_t)s);
  lua_pushinteger(L, (lua_Integer)(intptr_t)a);
  return 2;
}

static void arrow_meta(lua_State *L) {
  static const luaL_Reg meta[] = {
    {"__gc", arrow_gc},
    {"__close", arrow_gc},
    {"__tostring", arrow_tostring},
    {NULL, NULL}
  };
  static const luaL_Reg methods[] = {
    {"release_to_host", arrow_release_to_host},
    {NULL, NULL}
  };
  if (luaL_newmetatable(L, LT_ARROW)) {
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "tally.Arrow");
    lua_setfield(L, -2, "__name");
  }
}

/* t:to_arrow() -> a tally.Arrow holding the exported pair */
int tally_lua_to_arrow(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  tl_error err;
  tl_status st;
  if (!lua_isnone(L, 2))
    return luaL_error(L, "to_arrow: takes no arguments (a C host exports into its own "
                      "structs with tl_table_export_arrow)");
  lt_arrow *p = lua_newuserdatauv(L, sizeof *p, 0);
  memset(p, 0, sizeof *p);                       /* safe to finalize from here on */
  arrow_meta(L);
  lua_setmetatable(L, -2);
  err.message[0] = '\0';
  st = tl_table_export_arrow(t, &p->schema, &p->array, &err);
  if (st != TL_OK)
    p->gone = "its export failed";
  lt_call(L, st, &err);
  return 1;
}

int tally_take_arrow(lua_State *L, int idx, struct ArrowSchema *schema,
                     struct ArrowArray *array) {
  lt_arrow *p = check_held(L, idx, "take_arrow");
  *schema = p->schema;
  *array = p->array;
  p->schema.release = NULL;
  p->array.release = NULL;
  p->gone = "taken by the host";
  return 1;
}

static void *check_light(lua_State *L, int idx, const char *what) {
  if (lua_type(L, idx) != LUA_TLIGHTUSERDATA || lua_touserdata(L, idx) == NULL)
    luaL_typeerror(L, idx, what);
  return lua_touserdata(L, idx);
}

/* tally.from_arrow(x) -> table, consuming the tally.Arrow x;
** tally.from_arrow(schema, array) -> table, from a C host's two structs
** (light userdata), which it moves on success. */
int tally_lua_from_arrow(lua_State *L) {
  struct ArrowSchema *s;
  struct ArrowArray *a;
  lt_arrow *p = NULL;
  tl_error err;
  if (lua_type(L, 1) == LUA_TLIGHTUSERDATA) {
    s = check_light(L, 1, "ArrowSchema address (light userdata)");
    a = check_light(L, 2, "ArrowArray address (light userdata)");
  } else {
    if (!luaL_testudata(L, 1, LT_ARROW))
      return luaL_typeerror(L, 1, "tally.Arrow (from t:to_arrow())");
    p = check_held(L, 1, "from_arrow");
    s = &p->schema;
    a = &p->array;
  }
  lt_table *ud = lt_new_table(L);
  err.message[0] = '\0';
  lt_call(L, tl_table_import_arrow(s, a, &ud->t, &err), &err);
  if (p) p->gone = "imported by from_arrow";   /* the import moved both structs */
  return 1;
}
