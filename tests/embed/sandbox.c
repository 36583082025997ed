/*
** sandbox.c -- a host of tally_sandbox.h, built against the installed
** tree: the memory limit counts what the sandbox allocated, whatever the
** host built before and handed in (and dropped); chunks load as text only;
** an interrupt caught by pcall leaves the limits in force.
**
**   cc sandbox.c $(pkg-config --cflags --libs tally-lua) -o sandbox
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "tally/tally.h"
#include "tally_lua.h"
#include "tally_sandbox.h"

#define ROWS (1 << 22)                 /* 32 MiB a column of ints */
#define MIB ((size_t)1 << 20)

static int64_t values[ROWS];
static int failures;

static void check(int ok, const char *what, const char *detail) {
  if (!ok) {
    fprintf(stderr, "sandbox: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    failures++;
  }
}

/* Runs `code` in the sandbox; with `want` NULL it must succeed, otherwise
** fail with an error containing `want`. */
static void run(lua_State *L, const char *code, const char *want) {
  int status = tally_sandbox_load(L, code, strlen(code), "=host");
  if (status == LUA_OK) status = lua_pcall(L, 0, 0, 0);
  if (status != LUA_OK) tally_sandbox_explain(L);
  const char *msg = status == LUA_OK ? NULL : lua_tostring(L, -1);
  if (want == NULL)
    check(status == LUA_OK, code, msg);
  else
    check(msg && strstr(msg, want), code, msg ? msg : "no error");
  if (status != LUA_OK) lua_pop(L, 1);
}

/* A table of the core's own memory (a computed column), made with the
** process's allocator before any sandbox exists. */
static tl_table *table_before(void) {
  const char *name = "v", *def = "w = v * 2";
  tl_column *c;
  tl_table *t, *u;
  tl_error err;
  for (int64_t i = 0; i < ROWS; i++) values[i] = i;
  if (tl_column_wrap(TL_INT, ROWS, values, NULL, NULL, NULL, &c, &err) ||
      tl_table_new(1, &name, &c, &t, &err) || tl_table_mutate(t, 1, &def, &u, &err)) {
    fprintf(stderr, "sandbox: the host's table: %s\n", err.message);
    exit(1);
  }
  tl_column_release(c);
  tl_table_release(t);
  return u;
}

/* Handed in and dropped, the host's table must not lower the count (it
** was never counted): the limit still stops the allocations afterwards. */
static void test_memory(void) {
  tl_table *before = table_before();
  tally_limits lim = { 64 * MIB, 0, 0 };
  lua_State *L = tally_sandbox_new(&lim);
  check(L != NULL, "tally_sandbox_new", NULL);
  if (!L) return;
  tally_push_table(L, before);
  lua_setglobal(L, "t");
  tl_table_release(before);                      /* the sandbox holds it now */
  run(L, "assert(#t == 4194304 and t.w[3] == 4)", NULL);
  run(L, "local s = string.rep('x', 20 << 20) assert(#s == 20 << 20)", NULL);
  run(L, "t = nil collectgarbage() collectgarbage()", NULL);
  /* 80 MiB kept: with the 32 MiB the drop took off the count, it would fit */
  run(L, "keep = {} for i = 1, 20 do keep[i] = string.rep('x', 4 << 20) end",
      "memory limit of 64 MiB exceeded");
  run(L, "for i = 1, 10000 do end", "memory limit of 64 MiB exceeded");   /* it stays */
  tally_sandbox_close(L);
}

static int writer(lua_State *L, const void *p, size_t n, void *ud) {
  (void)L;
  luaL_addlstring(ud, p, n);
  return 0;
}

static int interrupt(lua_State *L) {
  check(tally_sandbox_interrupt(L) == 1, "tally_sandbox_interrupt", NULL);
  return 0;
}

/* Binary chunks are refused; an interrupt keeps the instruction limit. */
static void test_chunks_and_interrupt(void) {
  lua_State *P = luaL_newstate();                /* bytecode from a plain state */
  luaL_Buffer b;
  luaL_buffinit(P, &b);
  if (luaL_loadstring(P, "print('bytecode ran') return 1") != LUA_OK ||
      lua_dump(P, writer, &b, 0) != 0) {
    fprintf(stderr, "sandbox: dump: %s\n", lua_tostring(P, -1));
    exit(1);
  }
  luaL_pushresult(&b);
  size_t n;
  const char *chunk = lua_tolstring(P, -1, &n);

  tally_limits lim = { 64 * MIB, 0, 1000000 };
  lua_State *L = tally_sandbox_new(&lim);
  check(L != NULL, "tally_sandbox_new", NULL);
  if (L) {
    int status = tally_sandbox_load(L, chunk, n, "=bytecode");
    const char *msg = lua_tostring(L, -1);
    check(status == LUA_ERRSYNTAX && msg && strstr(msg, "attempt to load a binary chunk"),
          "tally_sandbox_load of a binary chunk", msg);
    lua_pop(L, 1);
    check(tally_sandbox_interrupt(P) == 0, "tally_sandbox_interrupt of a plain state", NULL);
    lua_register(L, "interrupt", interrupt);
    run(L, "local ok, e = pcall(function() interrupt() while true do end end)\n"
           "assert(not ok and e:find('interrupted!'), e)\n"
           "pcall(function() for i = 1, 1e9 do end end) print('the limit is gone')",
        "instruction limit of 1000000 exceeded");
    tally_sandbox_close(L);
  }
  lua_close(P);
}

/* Both states on their own threads at once: each makes computed columns of
** the host's 4 Mi-row table, 32 MiB each, and keeps them. The sandbox must
** fail at its limit; the plain state must keep 8 (256 MiB). */
typedef struct side {
  lua_State *L;
  const char *code;
  int status;
  char msg[256];
  pthread_barrier_t *start;
} side;

static void *run_side(void *arg) {
  side *sd = arg;
  pthread_barrier_wait(sd->start);
  int status = tally_sandbox_load(sd->L, sd->code, strlen(sd->code), "=side");
  if (status == LUA_OK) status = lua_pcall(sd->L, 0, 0, 0);
  if (status != LUA_OK) {
    tally_sandbox_explain(sd->L);
    snprintf(sd->msg, sizeof sd->msg, "%s", lua_tostring(sd->L, -1));
    lua_pop(sd->L, 1);
  }
  sd->status = status;
  return NULL;
}

static void test_side_by_side(void) {
  static const char *code =
      "keep = {} for k = 1, 8 do keep[k] = t:mutate('w' .. k .. ' = v * ' .. k) end\n"
      "assert(keep[8].w8[3] == 16)";
  tl_table *before = table_before();
  tally_limits lim = { 64 * MIB, 0, 0 };
  lua_State *S = tally_sandbox_new(&lim), *S2 = tally_sandbox_new(&lim);
  check(S != NULL && S2 != NULL, "two sandboxes at once", NULL);
  lua_State *P = luaL_newstate();
  luaL_openlibs(P);
  luaL_requiref(P, "tally", luaopen_tally, 1);
  lua_pop(P, 1);
  if (!S || !S2) goto done;
  check(tally_lua_env(S) != tally_lua_env(P), "one env a state", NULL);
  tally_push_table(S, before);
  lua_setglobal(S, "t");
  tally_push_table(P, before);
  lua_setglobal(P, "t");
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, 2);
  side ss = { S, code, 0, "", &start }, sp = { P, code, 0, "", &start };
  pthread_t ts, tp;
  pthread_create(&ts, NULL, run_side, &ss);
  pthread_create(&tp, NULL, run_side, &sp);
  pthread_join(ts, NULL);
  pthread_join(tp, NULL);
  pthread_barrier_destroy(&start);
  check(ss.status != LUA_OK && strstr(ss.msg, "memory limit of 64 MiB exceeded"),
        "the sandbox past its limit", ss.status == LUA_OK ? "no error" : ss.msg);
  check(sp.status == LUA_OK, "the plain state beside it", sp.msg);
  check(tl_env_memory(tally_lua_env(P)) > 8 * 32 * MIB, "the plain state's env counts its columns",
        NULL);
  run(S2, "assert(tally.from_columns{ {'x', {1, 2, 3}} }:col('x'):sum() == 6)", NULL);
done:
  tl_table_release(before);
  if (S) tally_sandbox_close(S);
  if (S2) tally_sandbox_close(S2);
  lua_close(P);
}

int main(void) {
  test_side_by_side();
  test_memory();
  test_chunks_and_interrupt();
  if (failures) return 1;
  printf("sandbox: ok\n");
  return 0;
}
