/*
** host.c -- an example host embedding tally and Lua: it hands its own
** arrays to tally without a copy (tl_column_wrap), runs a Lua script on
** the table through the binding (tally_push_table), takes the script's
** result table back (tally_check_table) and exports it through the Arrow
** C Data Interface, reading it as any Arrow consumer would.
**
**   cc host.c $(pkg-config --cflags --libs tally-lua) -o host
**   ./host host.lua
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "tally/tally.h"
#include "tally_lua.h"

/* The host's data: what it measured, in its own buffers. */
static const int64_t year[] = {2016, 2016, 2017, 2017, 2018, 2018, 2018, 2019};
static const double cost[] = {1.5, 2.0, 0.0, 4.25, 3.0, 1.0, 2.5, 6.0};
static const uint8_t cost_valid[] = {0xfb};             /* row 2 unknown */
static const int64_t region_off[] = {0, 4, 10, 14, 20, 24, 30, 36, 40};
static const char region_bytes[] = "AsiaAfricaAsiaEuropeAsiaAfricaEuropeAsia";

static int releases;

/* tally calls this once per column when it lets go of the host's buffers. */
static void host_release(void *ctx) {
  (void)ctx;
  releases++;
}

static int fail(const char *what, const tl_error *err) {
  fprintf(stderr, "host: %s: %s\n", what, err->message);
  return 1;
}

/* Run under lua_pcall: tally_check_table raises a Lua error for anything
** that is not a table, and the host must not be unwound by it. */
static int take_result(lua_State *L) {
  tl_table **out = lua_touserdata(L, lua_upvalueindex(1));
  *out = tl_table_retain(tally_check_table(L, 1));   /* ours beyond the state */
  return 0;
}

/* host_take(x): the pair of the tally.Arrow x moved into the host's own
** structs (x is empty after); the host reads and releases it. */
static int host_take(lua_State *L) {
  struct ArrowSchema s;
  struct ArrowArray a;
  tally_take_arrow(L, 1, &s, &a);
  lua_pushinteger(L, (lua_Integer)a.length);
  s.release(&s);
  a.release(&a);
  return 1;
}

/* host_adopt(schema, array): the two addresses x:release_to_host() gave,
** owned by the host from then on: it releases and frees them. */
static int host_adopt(lua_State *L) {
  struct ArrowSchema *s = (struct ArrowSchema *)(intptr_t)luaL_checkinteger(L, 1);
  struct ArrowArray *a = (struct ArrowArray *)(intptr_t)luaL_checkinteger(L, 2);
  lua_pushinteger(L, (lua_Integer)a->n_children);
  s->release(s);
  a->release(a);
  free(s);
  free(a);
  return 1;
}

static const char handoff[] =
  "local x, y = data:to_arrow(), data:to_arrow()\n"
  "local rows, cols = host_take(x), host_adopt(y:release_to_host())\n"
  "assert(not pcall(tally.from_arrow, x) and not pcall(y.release_to_host, y))\n"
  "return rows, cols";

/* Reads the exported struct array as a consumer: formats, then row by row. */
static void print_arrow(const struct ArrowSchema *s, const struct ArrowArray *a) {
  printf("arrow %s, %" PRId64 " rows:", s->format, a->length);
  for (int64_t j = 0; j < s->n_children; j++)
    printf(" %s:%s%s", s->children[j]->name, s->children[j]->format,
           s->children[j]->dictionary ? "(dictionary)" : "");
  printf("\n");
  for (int64_t i = 0; i < a->length; i++) {
    for (int64_t j = 0; j < a->n_children; j++) {
      const struct ArrowSchema *cs = s->children[j];
      const struct ArrowArray *ca = a->children[j];
      const uint8_t *valid = ca->buffers[0];
      int64_t k = ca->offset + i;
      printf(j ? " | " : "  ");
      if (valid && !(valid[k / 8] >> (k % 8) & 1)) {
        printf("null");
      } else if (strcmp(cs->format, "l") == 0) {
        printf("%" PRId64, ((const int64_t *)ca->buffers[1])[k]);
      } else if (strcmp(cs->format, "g") == 0) {
        printf("%g", ((const double *)ca->buffers[1])[k]);
      } else if (strcmp(cs->format, "U") == 0) {
        const int64_t *off = ca->buffers[1];
        printf("%.*s", (int)(off[k + 1] - off[k]), (const char *)ca->buffers[2] + off[k]);
      } else {
        printf("(%s)", cs->format);
      }
    }
    printf("\n");
  }
}

int main(int argc, char **argv) {
  tl_error err;
  tl_column *cols[3];
  const char *names[] = {"year", "cost", "region"};
  tl_table *data, *result = NULL;
  int n = (int)(sizeof year / sizeof year[0]);

  if (argc != 2) {
    fprintf(stderr, "usage: host script.lua\n");
    return 2;
  }
  if (strcmp(tl_version(), TALLY_VERSION) != 0) {
    fprintf(stderr, "host: built with tally %s, running %s\n", TALLY_VERSION, tl_version());
    return 1;
  }
  if (tl_column_wrap(TL_INT, n, year, NULL, host_release, NULL, &cols[0], &err) ||
      tl_column_wrap(TL_FLOAT, n, cost, cost_valid, host_release, NULL, &cols[1], &err) ||
      tl_column_wrap_strings(n, region_off, region_bytes, NULL, host_release, NULL,
                             &cols[2], &err))
    return fail("wrap", &err);
  if (tl_table_new(3, names, cols, &data, &err))
    return fail("table", &err);
  for (int j = 0; j < 3; j++) tl_column_release(cols[j]);   /* the table holds them */

  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "tally", luaopen_tally, 1);
  lua_pop(L, 1);
  tally_push_table(L, data);
  lua_setglobal(L, "data");
  tl_table_release(data);                        /* Lua holds it now */
  lua_register(L, "host_take", host_take);
  lua_register(L, "host_adopt", host_adopt);
  if (luaL_dostring(L, handoff) != LUA_OK) {
    fprintf(stderr, "host: handoff: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  printf("arrow handed to the host: %d rows, %d columns\n", (int)lua_tointeger(L, -2),
         (int)lua_tointeger(L, -1));
  lua_pop(L, 2);

  if (luaL_loadfile(L, argv[1]) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  lua_pushlightuserdata(L, &result);
  lua_pushcclosure(L, take_result, 1);
  lua_insert(L, -2);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "host: the script's result: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  lua_close(L);                                  /* the result outlives the state */
  printf("result: %" PRId64 " rows, %d columns; released %d of 3 host columns\n",
         tl_table_nrows(result), tl_table_ncols(result), releases);

  struct ArrowSchema schema;
  struct ArrowArray array;
  if (tl_table_export_arrow(result, &schema, &array, &err))
    return fail("export", &err);
  tl_table_release(result);                      /* the arrays keep what they need */
  print_arrow(&schema, &array);
  schema.release(&schema);
  array.release(&array);
  printf("released %d of 3 host columns\n", releases);
  return releases == 3 ? 0 : 1;
}
