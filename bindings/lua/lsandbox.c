/*
** lsandbox.c -- a Lua state for scripts that are not trusted: the safe
** subset of the libraries, and memory, time and instruction limits (see
** tally_sandbox.h).
*/
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"
#include "tally_sandbox.h"

#define HOOK_STEP 1000               /* instructions between checks */
#define RESERVE ((size_t)1 << 20)    /* headroom to raise the limit's error */

enum { HIT_NONE, HIT_MEMORY, HIT_TIME, HIT_INSTRUCTIONS };

typedef struct sandbox {
  tally_limits lim;
  atomic_llong used;        /* bytes held by Lua and by the core for this sandbox */
  atomic_int hit;           /* HIT_*: the limit reached, if any */
  atomic_int interrupted;   /* tally_sandbox_interrupt: raise "interrupted!" */
  long long count;          /* instructions, counted at each hook */
  int step;
  double deadline;
  lua_State *main;
  tl_env *env;              /* the core's work of the state runs under it */
  char message[128];
} sandbox;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Whether `more` bytes fit; past the limit, the error being raised may
** still take a little. */
static int fits(sandbox *s, size_t more) {
  if (s->lim.memory == 0) return 1;
  size_t limit = s->lim.memory + (atomic_load(&s->hit) ? RESERVE : 0);
  size_t used = (size_t)atomic_load(&s->used);
  return more <= limit && used <= limit - more;
}

static void count_up(sandbox *s, size_t n) {
  atomic_fetch_add(&s->used, (long long)n);
}

/* Subtracts bytes the sandbox counted; never below zero. */
static void count_down(sandbox *s, size_t n) {
  long long cur = atomic_load(&s->used), next;
  do {
    next = cur > (long long)n ? cur - (long long)n : 0;
  } while (!atomic_compare_exchange_weak(&s->used, &cur, next));
}

static void note_memory_hit(sandbox *s) {
  int none = HIT_NONE;
  atomic_compare_exchange_strong(&s->hit, &none, HIT_MEMORY);
}

/* Every block of the state and of its env comes from here (lua_newstate,
** tl_env_new), so the old size is always one this function counted: the
** env's blocks carry their env, and a block the host made under another
** env (a table handed in with tally_push_table) is freed through that env,
** subtracting nothing here. Called from the core's worker threads too. */
static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  sandbox *s = ud;
  if (!ptr) osize = 0;
  if (nsize == 0) {
    free(ptr);
    count_down(s, osize);
    return NULL;
  }
  if (nsize > osize && !fits(s, nsize - osize)) {
    note_memory_hit(s);
    return NULL;
  }
  void *p = realloc(ptr, nsize);
  if (p && nsize >= osize) count_up(s, nsize - osize);
  else if (p) count_down(s, osize - nsize);
  return p;
}

/* The env is gone (the state closed, the last of its tables freed). */
static void sb_done(void *ud) { free(ud); }

static sandbox *get_sandbox(lua_State *L) {
  void *ud;
  return lua_getallocf(L, &ud) == sb_alloc ? ud : NULL;
}

static void size_text(char *buf, size_t n, size_t v) {
  if (v >= ((size_t)1 << 30) && v % ((size_t)1 << 30) == 0)
    snprintf(buf, n, "%zu GiB", v >> 30);
  else if (v >= ((size_t)1 << 20) && v % ((size_t)1 << 20) == 0)
    snprintf(buf, n, "%zu MiB", v >> 20);
  else
    snprintf(buf, n, "%zu bytes", v);
}

static const char *limit_message(sandbox *s) {
  char v[64];
  switch (atomic_load(&s->hit)) {
    case HIT_MEMORY:
      size_text(v, sizeof v, s->lim.memory);
      snprintf(s->message, sizeof s->message, "memory limit of %s exceeded (--memory raises it)", v);
      break;
    case HIT_TIME:
      snprintf(s->message, sizeof s->message, "time limit of %g s exceeded (--time raises it)",
               s->lim.seconds);
      break;
    case HIT_INSTRUCTIONS:
      snprintf(s->message, sizeof s->message,
               "instruction limit of %lld exceeded (--instructions raises it)",
               s->lim.instructions);
      break;
    default:
      return NULL;
  }
  return s->message;
}

/* Runs every `step` instructions in every coroutine (new ones inherit it).
** Once a limit is reached it runs at every instruction of the thread that
** notices and of the main thread, so that the error escapes any pcall. An
** interrupt (tally_sandbox_interrupt) arrives through this same hook, so
** a script that catches "interrupted!" still runs under every limit. */
static void hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  sandbox *s = get_sandbox(L);
  if (!s) return;
  s->count += lua_gethookcount(L);
  if (atomic_load(&s->hit) == HIT_NONE) {
    if (s->lim.instructions && s->count > s->lim.instructions)
      atomic_store(&s->hit, HIT_INSTRUCTIONS);
    else if (s->lim.seconds > 0 && now() > s->deadline)
      atomic_store(&s->hit, HIT_TIME);
  }
  if (atomic_load(&s->hit) != HIT_NONE) {
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);
    if (s->main && s->main != L) lua_sethook(s->main, hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "%s", limit_message(s));
  }
  if (lua_gethookcount(L) != s->step)   /* armed by an interrupt */
    lua_sethook(L, hook, LUA_MASKCOUNT, s->step);
  if (atomic_exchange(&s->interrupted, 0))
    luaL_error(L, "interrupted!");
}

int tally_sandbox_interrupt(lua_State *L) {
  sandbox *s = get_sandbox(L);
  if (!s) return 0;
  atomic_store(&s->interrupted, 1);
  lua_sethook(L, hook, LUA_MASKCOUNT, 1);   /* at the next instruction */
  return 1;
}

int tally_sandbox_load(lua_State *L, const char *chunk, size_t len, const char *name) {
  return luaL_loadbufferx(L, chunk, len, name, "t");
}

/* ---------------------------------------------------------------------------
** The library subset
*/

static int refuse(lua_State *L) {
  return luaL_error(L, "%s: not allowed in the sandbox", lua_tostring(L, lua_upvalueindex(1)));
}

static void push_refusal(lua_State *L, const char *what) {
  lua_pushstring(L, what);
  lua_pushcclosure(L, refuse, 1);
}

/* load(chunk [, chunkname [, mode [, env]]]): text chunks only. */
static int sb_load(lua_State *L) {
  int top = lua_gettop(L);
  luaL_checkany(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));   /* the stock load */
  lua_pushvalue(L, 1);
  if (top >= 2) lua_pushvalue(L, 2); else lua_pushnil(L);
  lua_pushliteral(L, "t");
  if (top >= 4) lua_pushvalue(L, 4);       /* an env only when given, even nil */
  lua_call(L, top >= 4 ? 4 : 3, 2);
  return 2;
}

/* setmetatable(t, mt): as the stock one, but a metatable with __gc is
** refused (finalizers run with hooks off, out of reach of the limits). */
static int sb_setmetatable(lua_State *L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL)
      return luaL_error(L, "setmetatable: __gc is not allowed in the sandbox");
    lua_pop(L, 1);
  }
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, 2, 1);
  return 1;
}

/* collectgarbage: only the options that do not change how it runs. */
static int sb_collectgarbage(lua_State *L) {
  static const char *const opts[] = { "collect", "count", "step", "isrunning", NULL };
  luaL_checkoption(L, 1, "collect", opts);
  int top = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, top, LUA_MULTRET);
  return lua_gettop(L);
}

/* require(name): the libraries already loaded, nothing else. */
static int sb_require(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_getfield(L, lua_upvalueindex(1), name);
  if (lua_isnil(L, -1))
    return luaL_error(L, "require: module '%s' is not available in the sandbox", name);
  return 1;
}

/* Wraps global `name` in a C closure with the stock function as upvalue. */
static void wrap_global(lua_State *L, const char *name, lua_CFunction f) {
  lua_getglobal(L, name);
  lua_pushcclosure(L, f, 1);
  lua_setglobal(L, name);
}

/* Sets __metatable on every metatable the tally module registered, so a
** script can neither read nor change them (a __gc swapped for a Lua loop
** would run with hooks off). */
static void lock_metatables(lua_State *L) {
  lua_pushnil(L);
  while (lua_next(L, LUA_REGISTRYINDEX)) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TTABLE &&
        strncmp(lua_tostring(L, -2), "tally.", 6) == 0) {
      lua_pushboolean(L, 0);
      lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
  }
}

/* Replaces the file methods of type `tname` with refusals. */
static void refuse_methods(lua_State *L, const char *tname) {
  static const char *const names[] = { "write_csv", "write_json", "write_ndjson", "save", "plot",
                                       "to_arrow", "write", "write_html", "write_parquet",
                                       "write_arrow", NULL };
  if (luaL_getmetatable(L, tname) != LUA_TTABLE) { lua_pop(L, 1); return; }
  int t = lua_getfield(L, -1, "__index");
  if (t == LUA_TFUNCTION) {
    if (!lua_getupvalue(L, -1, 1)) lua_pushnil(L);
    lua_remove(L, -2);
  }
  if (lua_type(L, -1) == LUA_TTABLE) {
    for (int k = 0; names[k]; k++) {
      lua_pushstring(L, names[k]);
      if (lua_rawget(L, -2) != LUA_TNIL) {
        char what[64];
        snprintf(what, sizeof what, "%s", names[k]);
        push_refusal(L, what);
        lua_setfield(L, -3, names[k]);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 2);
}

static int open_all(lua_State *L) {
  static const luaL_Reg libs[] = {
    { LUA_GNAME, luaopen_base }, { LUA_STRLIBNAME, luaopen_string },
    { LUA_TABLIBNAME, luaopen_table }, { LUA_MATHLIBNAME, luaopen_math },
    { LUA_UTF8LIBNAME, luaopen_utf8 }, { LUA_COLIBNAME, luaopen_coroutine },
    { NULL, NULL }
  };
  lua_newtable(L);   /* what require gives: index 1 */
  for (const luaL_Reg *lib = libs; lib->name; lib++) {
    luaL_requiref(L, lib->name, lib->func, 1);
    lua_setfield(L, 1, lib->name);
  }
  /* os: time, clock and date */
  luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
  lua_createtable(L, 0, 3);
  static const char *const osfns[] = { "time", "clock", "date", NULL };
  for (int k = 0; osfns[k]; k++) {
    lua_getfield(L, -2, osfns[k]);
    lua_setfield(L, -2, osfns[k]);
  }
  lua_remove(L, -2);
  lua_pushvalue(L, -1);
  lua_setglobal(L, LUA_OSLIBNAME);
  lua_setfield(L, 1, LUA_OSLIBNAME);

  /* tally, with the functions known not to touch files or raw memory; any
  ** other (read_csv, load, read_json, from_arrow, ...) refuses */
  static const char *const safe[] = { "aggregate", "clock", "from_columns", "from_rows", "help",
                                      "threads", NULL };
  lt_lend_env(L, get_sandbox(L)->env);
  luaL_requiref(L, "tally", luaopen_tally, 1);
  lua_pushboolean(L, 1);   /* no worker states: they would have none of the limits */
  lua_setfield(L, LUA_REGISTRYINDEX, LT_SANDBOXED);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    int t = lua_type(L, -1), k = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING || (t != LUA_TFUNCTION && t != LUA_TTABLE)) continue;
    const char *name = lua_tostring(L, -1);
    while (safe[k] && strcmp(safe[k], name) != 0) k++;
    if (safe[k]) continue;
    lua_pushvalue(L, -1);
    if (t == LUA_TFUNCTION) push_refusal(L, name); else lua_pushnil(L);
    lua_rawset(L, -4);   /* assigning an existing field keeps lua_next going */
  }
  lua_setfield(L, 1, "tally");
  refuse_methods(L, "tally.Table");
  refuse_methods(L, "tally.Column");
  refuse_methods(L, "tally.Grouping");
  lock_metatables(L);

  /* the base library */
  static const char *const gone[] = { "dofile", "loadfile", NULL };
  for (int k = 0; gone[k]; k++) {
    lua_pushnil(L);
    lua_setglobal(L, gone[k]);
  }
  wrap_global(L, "load", sb_load);
  wrap_global(L, "setmetatable", sb_setmetatable);
  wrap_global(L, "collectgarbage", sb_collectgarbage);
  lua_pushvalue(L, 1);
  lua_pushcclosure(L, sb_require, 1);
  lua_setglobal(L, "require");
  lua_getglobal(L, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);

  /* the string metatable, locked */
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 0;
}

/* ---------------------------------------------------------------------------
** The API
*/

lua_State *tally_sandbox_new(const tally_limits *limits) {
  sandbox *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (limits) s->lim = *limits;
  atomic_init(&s->used, 0);
  atomic_init(&s->hit, HIT_NONE);
  atomic_init(&s->interrupted, 0);
  s->step = HOOK_STEP;
  if (s->lim.instructions > 0 && s->lim.instructions < HOOK_STEP) s->step = (int)s->lim.instructions;
  tl_env_options o = { .alloc = sb_alloc, .alloc_ud = s, .alloc_done = sb_done,
                       .threads = tl_get_threads() };
  if (tl_env_new(&o, &s->env, NULL) != TL_OK) { free(s); return NULL; }
  lua_State *L = lua_newstate(sb_alloc, s);
  if (!L) {
    tl_env_free(s->env);   /* and s with it */
    return NULL;
  }
  s->main = L;
  tl_env *prev = tl_env_current();
  lua_pushcfunction(L, open_all);
  int status = lua_pcall(L, 0, 0, 0);
  tl_env_use(prev);   /* opening entered the sandbox's env: the host leaves it */
  if (status != LUA_OK) {
    tally_sandbox_close(L);
    return NULL;
  }
  tally_sandbox_reset(L);
  return L;
}

void tally_sandbox_reset(lua_State *L) {
  sandbox *s = get_sandbox(L);
  if (!s) return;
  s->count = 0;
  s->deadline = now() + s->lim.seconds;
  atomic_store(&s->interrupted, 0);
  if (atomic_load(&s->hit) == HIT_NONE &&
      (s->lim.seconds > 0 || s->lim.instructions > 0 || s->lim.memory > 0))
    lua_sethook(L, hook, LUA_MASKCOUNT, s->step);
}

/* The sandbox lives on after the state while tables it made are alive
** (a host may keep one): it goes with its env. */
void tally_sandbox_close(lua_State *L) {
  sandbox *s = get_sandbox(L);
  if (!s) { lua_close(L); return; }
  tl_env *env = s->env;
  lua_close(L);
  if (tl_env_current() == env) tl_env_use(NULL);
  tl_env_free(env);
}

const char *tally_sandbox_explain(lua_State *L) {
  sandbox *s = get_sandbox(L);
  if (!s) return NULL;
  int none = HIT_NONE;   /* a kernel stopped by tl_interrupt past the deadline */
  if (s->lim.seconds > 0 && now() > s->deadline)
    atomic_compare_exchange_strong(&s->hit, &none, HIT_TIME);
  const char *msg = limit_message(s);
  if (!msg) return NULL;
  const char *cur = lua_tostring(L, -1);
  if (!cur || !strstr(cur, msg)) {
    lua_pop(L, 1);
    lua_pushstring(L, msg);
  }
  switch (atomic_load(&s->hit)) {
    case HIT_MEMORY: return "memory";
    case HIT_TIME: return "time";
    default: return "instructions";
  }
}
