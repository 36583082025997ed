/*
** fuzz_lua.h -- the Lua state in which the Lua fuzz targets (fuzz_lua,
** fuzz_hostile) run the program they make of their input: the standard
** libraries and tally, memory capped at 256 MiB and the instructions at two
** million, so that a generated loop ends. A program that does not compile
** is the generator's bug, and stops the run.
*/
#ifndef TALLY_FUZZ_LUA_H
#define TALLY_FUZZ_LUA_H

#include <stdarg.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

#include "fuzz.h"
#include "tally_lua.h"

/* The fuzzer's bytes, read one at a time (0 past the end). */
typedef struct input {
  const uint8_t *p, *end;
} input;

static unsigned next(input *in) { return in->p < in->end ? *in->p++ : 0; }

/* The program being written. */
typedef struct buf {
  char *s;
  size_t n, cap;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if ((size_t)k < b->cap - b->n) { b->n += (size_t)k; return; }
    b->cap = (b->cap + (size_t)k) * 2;
    b->s = realloc(b->s, b->cap);
    if (!b->s) abort();
  }
}

#define FUZZ_MEMORY_CAP ((size_t)256 << 20)
#define FUZZ_INSTRUCTION_CAP 2000000

typedef struct fuzz_cap {
  size_t used;
} fuzz_cap;

static void *fuzz_capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  fuzz_cap *c = ud;
  if (!ptr) osize = 0;
  if (nsize == 0) { c->used -= osize; free(ptr); return NULL; }
  if (nsize > osize && c->used + (nsize - osize) > FUZZ_MEMORY_CAP) return NULL;
  void *p = realloc(ptr, nsize);
  if (p) c->used = c->used - osize + nsize;
  return p;
}

static void fuzz_stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  luaL_error(L, "instruction cap");
}

/* Runs the program code[0..n) as chunk `name`; the state is closed after. */
static void fuzz_run_lua(const char *code, size_t n, const char *name) {
  fuzz_cap c = { 0 };
  lua_State *L = lua_newstate(fuzz_capped_alloc, &c);
  if (!L) return;
  luaL_requiref(L, "_G", luaopen_base, 1);
  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
  luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
  luaL_requiref(L, LUA_LOADLIBNAME, luaopen_package, 1);
  luaL_requiref(L, "tally", luaopen_tally, 1);
  lua_settop(L, 0);
  lua_sethook(L, fuzz_stop_hook, LUA_MASKCOUNT, FUZZ_INSTRUCTION_CAP);
  if (luaL_loadbuffer(L, code, n, name) == LUA_OK) {
    lua_pcall(L, 0, 0, 0);
  } else {
    fprintf(stderr, "%s: generated code does not compile: %s\n%s\n", name + 1,
            lua_tostring(L, -1), code);
    abort();
  }
  lua_close(L);
}

#endif
