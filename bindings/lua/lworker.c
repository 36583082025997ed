/*
** lworker.c -- Lua states for the worker threads.
**
** A Lua state is not shared between threads, so work in Lua that runs on
** the core's workers runs in states of their own, one a worker, made with
** the standard libraries and tally opened. Values move into them from the
** main state (the state of the call that started the work) by copying:
** numbers, strings, booleans, light userdata, tables without metatables,
** C functions without upvalues, and Lua functions (dumped, loaded again, and
** their upvalues copied, shared upvalues joined). The main state's globals
** table, its tally null and its loaded modules stand for the worker's own.
** A worker's globals fall back to the main state's: a name missing from the
** worker is looked up there on first use, under a lock, and copied (a name
** the main state lacks is an error when its globals have a metatable, whose
** __index only the main state could call). A worker state runs the core
** under the main state's env (tl_env), as do the threads that run it.
**
** Nothing here allocates in the main state: while the workers run, its
** owner waits in C, and the workers only read it, one at a time.
*/
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lualib.h"
#include "ltally.h"
#include "tally_lua.h"

#define MAX_DEPTH 48                 /* nesting of copied values */
#define SEEN_KEY "tally.worker.seen"   /* main object -> its copy */
#define UPVALS_KEY "tally.worker.upvalues"   /* upvalue id -> {closure, n} */
#define ABSENT_KEY "tally.worker.absent"   /* global names the main state lacks */

struct lt_workers {
  lua_State *M;                      /* the main state */
  int n;
  lua_State **L;
  pthread_mutex_t mu;
  tl_env *env;                       /* the main state's, lent to the workers */
  int slot;                          /* in armable, or -1 */
};

typedef struct copyjob {
  lt_workers *w;
  lua_State *W;
  int idx;                           /* what to copy, in M */
  int seen, upvals;                  /* their tables, on W's stack */
  int ok;
} copyjob;

typedef struct dumpbuf {
  char *p;
  size_t len, cap;
  int failed;
  int read;                          /* the reader has given it */
} dumpbuf;

static int writer(lua_State *L, const void *p, size_t n, void *ud) {
  dumpbuf *b = ud;
  (void)L;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) { b->failed = 1; return 1; }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

static const char *reader(lua_State *L, void *ud, size_t *n) {
  dumpbuf *b = ud;
  (void)L;
  if (b->read) { *n = 0; return NULL; }
  b->read = 1;
  *n = b->len;
  return b->p;
}

/* Records that main object p is the value at idx of W. */
static void remember(copyjob *j, const void *p, int idx) {
  lua_pushlightuserdata(j->W, (void *)p);
  lua_pushvalue(j->W, idx);
  lua_rawset(j->W, j->seen);
}

static int copy(copyjob *j, int idx, int depth);

/* The upvalues of the Lua function at idx of M into its copy at f of W. */
static int copy_upvalues(copyjob *j, int idx, int f, int depth) {
  lua_State *M = j->w->M, *W = j->W;
  for (int i = 1; lua_getupvalue(M, idx, i); i++) {
    void *id = lua_upvalueid(M, idx, i);
    lua_pushlightuserdata(W, id);
    if (lua_rawget(W, j->upvals) == LUA_TTABLE) {   /* shared with a function copied before */
      lua_rawgeti(W, -1, 1);
      lua_rawgeti(W, -2, 2);
      lua_upvaluejoin(W, f, i, -2, (int)lua_tointeger(W, -1));
      lua_pop(W, 3);
      lua_pop(M, 1);
      continue;
    }
    lua_pop(W, 1);
    int ok = copy(j, lua_gettop(M), depth + 1);
    lua_pop(M, 1);
    if (!ok) return 0;
    lua_setupvalue(W, f, i);
    lua_pushlightuserdata(W, id);
    lua_createtable(W, 2, 0);
    lua_pushvalue(W, f);
    lua_rawseti(W, -2, 1);
    lua_pushinteger(W, i);
    lua_rawseti(W, -2, 2);
    lua_rawset(W, j->upvals);
  }
  return 1;
}

static int copy_function(copyjob *j, int idx, int depth) {
  lua_State *M = j->w->M, *W = j->W;
  if (lua_iscfunction(M, idx)) {
    if (lt_copy_entered(M, idx, W)) return 1;   /* the module's, under W's env */
    if (lua_getupvalue(M, idx, 1)) { lua_pop(M, 1); return 0; }
    lua_pushcfunction(W, lua_tocfunction(M, idx));
    return 1;
  }
  dumpbuf b = { 0 };
  lua_pushvalue(M, idx);
  int rc = lua_dump(M, writer, &b, 0);
  lua_pop(M, 1);
  if (rc != 0 || b.failed) { free(b.p); return 0; }
  rc = lua_load(W, reader, &b, "=worker", "b");
  free(b.p);
  if (rc != LUA_OK) { lua_pop(W, 1); return 0; }
  int f = lua_gettop(W);
  remember(j, lua_topointer(M, idx), f);   /* before the upvalues: a function may hold itself */
  if (!copy_upvalues(j, idx, f, depth)) { lua_settop(W, f - 1); return 0; }
  return 1;
}

static int copy_table(copyjob *j, int idx, int depth) {
  lua_State *M = j->w->M, *W = j->W;
  if (lua_getmetatable(M, idx)) { lua_pop(M, 1); return 0; }
  lua_newtable(W);
  int t = lua_gettop(W);
  remember(j, lua_topointer(M, idx), t);
  lua_pushnil(M);
  while (lua_next(M, idx)) {
    int k = lua_gettop(M) - 1;
    if (!copy(j, k, depth + 1)) { lua_pop(M, 2); lua_settop(W, t - 1); return 0; }
    if (!copy(j, k + 1, depth + 1)) { lua_pop(M, 2); lua_settop(W, t - 1); return 0; }
    lua_rawset(W, t);
    lua_pop(M, 1);
  }
  return 1;
}

/* Pushes onto W the copy of the value at idx of M; 0 (nothing pushed) when
** it cannot be copied. */
static int copy(copyjob *j, int idx, int depth) {
  lua_State *M = j->w->M, *W = j->W;
  luaL_checkstack(W, 8, "copying a value to a worker");
  switch (lua_type(M, idx)) {
  case LUA_TNIL: lua_pushnil(W); return 1;
  case LUA_TBOOLEAN: lua_pushboolean(W, lua_toboolean(M, idx)); return 1;
  case LUA_TNUMBER:
    if (lua_isinteger(M, idx)) lua_pushinteger(W, lua_tointeger(M, idx));
    else lua_pushnumber(W, lua_tonumber(M, idx));
    return 1;
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(M, idx, &n);
    lua_pushlstring(W, s, n);
    return 1;
  }
  case LUA_TLIGHTUSERDATA: lua_pushlightuserdata(W, lua_touserdata(M, idx)); return 1;
  case LUA_TTABLE: case LUA_TFUNCTION: case LUA_TUSERDATA: break;
  default: return 0;   /* threads */
  }
  lua_pushlightuserdata(W, (void *)lua_topointer(M, idx));
  if (lua_rawget(W, j->seen) != LUA_TNIL) return 1;
  lua_pop(W, 1);
  if (depth >= MAX_DEPTH) return 0;
  switch (lua_type(M, idx)) {
  case LUA_TTABLE: return copy_table(j, idx, depth);
  case LUA_TFUNCTION: return copy_function(j, idx, depth);
  default: return 0;   /* a userdata that is not the null */
  }
}

static int p_copy(lua_State *W) {
  copyjob *j = lua_touserdata(W, 1);
  lua_getfield(W, LUA_REGISTRYINDEX, SEEN_KEY);
  j->seen = lua_gettop(W);
  lua_getfield(W, LUA_REGISTRYINDEX, UPVALS_KEY);
  j->upvals = lua_gettop(W);
  j->ok = copy(j, j->idx, 0);
  if (!j->ok) lua_pushnil(W);
  return 1;
}

/* Copies under W's protection (its errors are memory errors), the lock held
** by the caller when other workers may be running. */
static int copy_to(lt_workers *w, lua_State *W, int idx) {
  copyjob j = { w, W, lua_absindex(w->M, idx), 0, 0, 0 };
  if (!lua_checkstack(W, 4)) return 0;
  lua_pushcfunction(W, p_copy);
  lua_pushlightuserdata(W, &j);
  if (lua_pcall(W, 1, 1, 0) != LUA_OK || !j.ok) { lua_pop(W, 1); return 0; }
  return 1;
}

lua_State *lt_workers_state(const lt_workers *w, int i) { return w->L[i]; }

/* The __index of a worker's globals: a name the worker lacks, from the main
** state's globals (found by walking them, so that nothing is allocated
** there), copied and kept. */
static int fetch_global(lua_State *W) {
  lt_workers *w = lua_touserdata(W, lua_upvalueindex(1));
  size_t len;
  if (lua_type(W, 2) != LUA_TSTRING) return 0;
  const char *k = lua_tolstring(W, 2, &len);
  lua_getfield(W, LUA_REGISTRYINDEX, ABSENT_KEY);
  lua_pushvalue(W, 2);
  if (lua_rawget(W, -2) != LUA_TNIL) return 0;
  lua_pop(W, 1);
  int absent = lua_gettop(W);
  lua_State *M = w->M;
  int found = 0, ok = 1;
  pthread_mutex_lock(&w->mu);
  int top = lua_gettop(M);
  lua_rawgeti(M, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushnil(M);
  while (lua_next(M, top + 1)) {
    size_t n;
    const char *s;
    if (lua_type(M, -2) == LUA_TSTRING && (s = lua_tolstring(M, -2, &n)) && n == len &&
        memcmp(s, k, n) == 0) {
      found = 1;
      ok = copy_to(w, W, -1);
      break;
    }
    lua_pop(M, 1);
  }
  int guarded = !found && lua_getmetatable(M, top + 1);   /* its __index is not ours to call */
  lua_settop(M, top);
  pthread_mutex_unlock(&w->mu);
  if (guarded) return luaL_error(W, "global '%s' is not set, and the globals have a metatable", k);
  if (!found) {
    lua_pushvalue(W, 2);
    lua_pushboolean(W, 1);
    lua_rawset(W, absent);
    return 0;
  }
  if (!ok) return luaL_error(W, "global '%s' cannot be copied to a worker thread", k);
  lua_pushvalue(W, 2);
  lua_pushvalue(W, -2);
  lua_rawset(W, 1);   /* kept in the worker's globals */
  return 1;
}

/* Marks the main state's object at idx of M as being the value at -1 of W
** (popped). */
static void stand_for(lt_workers *w, lua_State *W, int idx) {
  lua_getfield(W, LUA_REGISTRYINDEX, SEEN_KEY);
  lua_pushlightuserdata(W, (void *)lua_topointer(w->M, idx));
  lua_pushvalue(W, -3);
  lua_rawset(W, -3);
  lua_pop(W, 2);
}

/* Opens worker state W (under its protection). */
static int p_open(lua_State *W) {
  lt_workers *w = lua_touserdata(W, 1);
  lua_State *M = w->M;
  luaL_openlibs(W);
  lt_lend_env(W, w->env);
  luaL_requiref(W, "tally", luaopen_tally, 1);
  lua_pop(W, 1);
  lua_newtable(W);
  lua_setfield(W, LUA_REGISTRYINDEX, SEEN_KEY);
  lua_newtable(W);
  lua_setfield(W, LUA_REGISTRYINDEX, UPVALS_KEY);
  lua_newtable(W);
  lua_setfield(W, LUA_REGISTRYINDEX, ABSENT_KEY);
  /* what stands for what: the globals, the null, the modules both have */
  int top = lua_gettop(M);
  lua_rawgeti(M, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_rawgeti(W, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  stand_for(w, W, -1);
  if (lua_getfield(M, LUA_REGISTRYINDEX, LT_NULLVALUE) == LUA_TUSERDATA) {
    lt_push_null(W);
    stand_for(w, W, -1);
  }
  if (lua_getfield(M, LUA_REGISTRYINDEX, LUA_LOADED_TABLE) == LUA_TTABLE) {
    int loaded = lua_gettop(M);
    lua_getfield(W, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushnil(M);
    while (lua_next(M, loaded)) {
      if (lua_type(M, -2) == LUA_TSTRING && lua_type(M, -1) == LUA_TTABLE) {
        if (lua_getfield(W, -1, lua_tostring(M, -2)) == LUA_TTABLE) stand_for(w, W, -1);
        else lua_pop(W, 1);
      }
      lua_pop(M, 1);
    }
    lua_pop(W, 1);
  }
  lua_settop(M, top);
  /* the globals' fallback */
  lua_rawgeti(W, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_createtable(W, 0, 1);
  lua_pushlightuserdata(W, w);
  lua_pushcclosure(W, fetch_global, 1);
  lua_setfield(W, -2, "__index");
  lua_setmetatable(W, -2);
  return 0;
}

/* ---------------------------------------------------------------------------
** Interrupts. A count hook makes the VM call out at every instruction, so
** the workers run without one: tally_lua_interrupt arms it, on the states
** of every worker set under the interrupted env, from a signal handler or
** another thread (lua_sethook is safe there, as lua.c's Ctrl-C uses it).
** The sets in use are found in a fixed table of atomic slots; a set leaves
** its slot before its states close and waits for an arming in progress to
** end. A set that finds no free slot keeps the hook on for its life.
*/

#define ARM_SLOTS 64
static _Atomic(lt_workers *) armable[ARM_SLOTS];
static atomic_int arming;            /* armings in progress */

#define ARMED 1                      /* the count of a hook an interrupt set */
#define STANDING 1000                /* the count of a hook kept on */

/* The hook: "interrupted!" while the interrupt stands; one an interrupt
** set, left over once it is cleared, takes itself off. */
static void w_hook(lua_State *W, lua_Debug *ar) {
  (void)ar;
  if (tl_interrupted()) luaL_error(W, "interrupted!");
  if (lua_gethookcount(W) == ARMED) lua_sethook(W, NULL, 0, 0);
}

static void arm(lt_workers *w, int count) {
  for (int i = 0; i < w->n; i++)
    if (w->L[i]) lua_sethook(w->L[i], w_hook, LUA_MASKCOUNT, count);
}

void tally_lua_interrupt(tl_env *env) {
  if (!env) return;
  tl_env_interrupt(env);
  atomic_fetch_add(&arming, 1);
  for (int i = 0; i < ARM_SLOTS; i++) {
    lt_workers *w = atomic_load(&armable[i]);
    if (w && w->env == env) arm(w, ARMED);
  }
  atomic_fetch_sub(&arming, 1);
}

/* Puts w where tally_lua_interrupt finds it, or arms it for good when the
** table is full; an interrupt that came first arms it now. */
static void arm_register(lt_workers *w) {
  w->slot = -1;
  for (int i = 0; i < ARM_SLOTS && w->slot < 0; i++) {
    lt_workers *none = NULL;
    if (atomic_compare_exchange_strong(&armable[i], &none, w)) w->slot = i;
  }
  if (w->slot < 0) arm(w, STANDING);
  else if (tl_env_interrupted(w->env)) arm(w, ARMED);
}

static void arm_unregister(lt_workers *w) {
  if (w->slot < 0) return;
  atomic_store(&armable[w->slot], NULL);
  while (atomic_load(&arming) > 0) sched_yield();
  w->slot = -1;
}

lt_workers *lt_workers_open(lua_State *M, int n) {
  if (n < 1 || !lua_checkstack(M, 2 * MAX_DEPTH + 16)) return NULL;
  lt_workers *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->M = M;
  w->slot = -1;
  w->env = tl_env_current();         /* the caller is in a call of M's */
  w->L = calloc((size_t)n, sizeof *w->L);
  if (!w->L || pthread_mutex_init(&w->mu, NULL) != 0) {
    free(w->L);
    free(w);
    return NULL;
  }
  int ok = 1;
  for (; ok && w->n < n; w->n++) {
    lua_State *W = luaL_newstate();
    if (!(w->L[w->n] = W)) { ok = 0; break; }
    lua_pushcfunction(W, p_open);
    lua_pushlightuserdata(W, w);
    ok = lua_pcall(W, 1, 0, 0) == LUA_OK;
  }
  if (!ok) {
    lt_workers_close(w);
    return NULL;
  }
  arm_register(w);
  return w;
}

int lt_serial_option(lua_State *L, int idx, const char *op) {
  int t = lua_getfield(L, idx, "parallel");
  if (t != LUA_TNIL && t != LUA_TBOOLEAN) luaL_error(L, "%s: 'parallel' must be a boolean", op);
  int serial = t == LUA_TBOOLEAN && !lua_toboolean(L, -1);
  lua_pop(L, 1);
  return serial;
}

lt_workers *lt_workers_fork(lua_State *M, int n, int nvalues, lua_CFunction install, void *ud) {
  int sandboxed = lua_getfield(M, LUA_REGISTRYINDEX, LT_SANDBOXED) != LUA_TNIL;
  lua_pop(M, 1);
  if (sandboxed) return NULL;   /* workers would have none of its limits */
  int first = lua_gettop(M) - nvalues + 1;
  lt_workers *w = lt_workers_open(M, n);
  for (int i = 0; w && i < n; i++) {
    lua_State *W = w->L[i];
    int ok = lua_checkstack(W, nvalues + 4);
    if (ok) {
      lua_pushcfunction(W, install);
      lua_pushlightuserdata(W, ud);
    }
    for (int k = 0; ok && k < nvalues; k++) ok = copy_to(w, W, first + k);
    if (ok) ok = lua_pcall(W, nvalues + 1, 0, 0) == LUA_OK;
    lua_settop(W, 0);
    if (!ok) { lt_workers_close(w); w = NULL; }
  }
  return w;
}

void lt_workers_close(lt_workers *w) {
  if (!w) return;
  arm_unregister(w);
  for (int i = 0; i < w->n; i++)
    if (w->L[i]) lua_close(w->L[i]);
  pthread_mutex_destroy(&w->mu);
  free(w->L);
  free(w);
}
