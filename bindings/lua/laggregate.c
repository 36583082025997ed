/*
** laggregate.c -- aggregates written in Lua: tally.aggregate{...}.
**
** The core runs the scan and hands over batches of rows with their groups;
** this file calls the Lua functions for them. A numeric `init` is the fast
** path: the states are numbers in a C array and `step` returns the new one.
** Every call into Lua made while the core is working runs under lua_pcall,
** so that a Lua error becomes a core error and never unwinds through C code
** that holds memory. An aggregate with a `merge` also saves its states as
** bytes and loads them back, for partial states that merge across threads
** and processes.
*/
#include <stdlib.h>
#include <string.h>

#include "ltally.h"
#include "tally_lua.h"

/* The user value of a tally.Aggregate is its definition table. */
typedef struct lt_aggregate {
  tl_aggregate a;
  lua_State *L;              /* the state of the call that uses it */
  lt_workers *workers;       /* while its ranges run on the worker threads */
  int serial;                /* parallel = false: never on the workers */
  int numeric;               /* init is a number */
  int batch;                 /* step_batch is given: called once per group and batch */
  lua_Number init;
  char name[64];
} lt_aggregate;

#define LT_AGGREGATE "tally.Aggregate"
#define LT_AGGCALL "tally.AggregateCall"
#define REGISTRY_KEY "tally.aggregates"   /* name -> tally.Aggregate */

/* One use of an aggregate by g:agg: its states, numbers in a C array or
** values in a Lua table indexed by group (1-based). */
typedef struct run {
  lt_aggregate *ag;
  lua_State *L;                 /* the state it runs in: the caller's or a worker's */
  int worker;                   /* L is a worker's: the steps look for interrupts */
  int64_t ngroups;
  lua_Number *nums;             /* numeric states */
  int states;                   /* registry ref of the table of other states */
  const tl_agg_batch *batch;    /* for the protected step */
  int64_t group, row;           /* where a step or final failed (1-based; 0: not known) */
  const char *phase;            /* "init" while init runs: the label of its errors */
  tl_column *result;
  /* step_batch: the batch's rows sorted by group, with counts made in C */
  int32_t *slot;                /* per group: its place among the batch's groups, or -1 */
  int32_t *glist;               /* the batch's groups, in order of first appearance */
  int64_t *gstart;              /* group j's rows: order[gstart[j] .. gstart[j + 1]) */
  int64_t *order;               /* positions in the batch */
  int64_t cap, nglist;
  int direct;                   /* one group: no order, the batch's rows as they are */
  int arrays;                   /* registry ref of the value arrays, one per argument */
  const tl_agg_keys *keys;      /* what names the groups in messages */
  /* save, load, merge: the group, the bytes read, the bytes written */
  int64_t io_group;
  const unsigned char *in;
  size_t inlen, inat;
  unsigned char *out;
  size_t outlen, outcap;
} run;

/* Pushes field `k` of the aggregate's definition table. */
static int push_field(lua_State *L, int aidx, const char *k) {
  lua_getiuservalue(L, aidx, 1);
  int t = lua_getfield(L, -1, k);
  lua_remove(L, -2);
  return t;
}

static tl_status begin_in(lt_aggregate *ag, lua_State *L, int64_t ngroups, void **out) {
  run *r = calloc(1, sizeof *r);
  if (!r) return TL_ENOMEM;
  r->ag = ag;
  r->L = L;
  r->worker = L != ag->L;
  r->ngroups = ngroups;
  r->states = LUA_NOREF;
  r->arrays = LUA_NOREF;
  if (ag->batch) {
    r->slot = malloc((size_t)(ngroups > 0 ? ngroups : 1) * sizeof *r->slot);
    if (!r->slot) { free(r); return TL_ENOMEM; }
    for (int64_t g = 0; g < ngroups; g++) r->slot[g] = -1;
  }
  if (ag->numeric) {
    r->nums = malloc((size_t)(ngroups > 0 ? ngroups : 1) * sizeof *r->nums);
    if (!r->nums) { free(r->slot); free(r); return TL_ENOMEM; }
    for (int64_t g = 0; g < ngroups; g++) r->nums[g] = ag->init;
  }
  *out = r;
  return TL_OK;
}

static tl_status a_begin(void *ud, int64_t ngroups, void **out, tl_error *err) {
  lt_aggregate *ag = ud;
  (void)err;
  return begin_in(ag, ag->L, ngroups, out);
}

#define SELF_KEY "tally.aggregates.self"

/* Finds the tally.Aggregate userdata of `ag` and pushes it (it sits in the
** registry while it is registered, or in the scans that use it). */
static void push_self(lua_State *L, lt_aggregate *ag) { lt_self_push(L, SELF_KEY, ag); }

/* Pushes the table behind *ref, made on first use with room for `n`. */
static void push_ref(lua_State *L, int *ref, int n) {
  if (*ref == LUA_NOREF) {
    lua_createtable(L, n, 0);
    lua_pushvalue(L, -1);
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    lua_rawgeti(L, LUA_REGISTRYINDEX, *ref);
  }
}

/* An argument column as the steps read it, looked up once a batch. */
typedef struct argview {
  const tl_column *c;
  const double *f;
  const int64_t *i;
  const uint8_t *valid;
} argview;

static argview view_of(const tl_column *c) {
  return (argview){ c, tl_column_floats(c), tl_column_ints(c), tl_column_validity(c) };
}

/* Pushes an argument's value at `row`: numbers straight from their arrays,
** the rest through the binding's conversion (null as nil). */
static void push_arg(lua_State *L, const argview *a, int64_t row) {
  if (a->valid && !(a->valid[row >> 3] >> (row & 7) & 1)) lt_push_value(L, a->c, row);
  else if (a->f) lua_pushnumber(L, a->f[row]);
  else if (a->i) lua_pushinteger(L, a->i[row]);
  else lt_push_value(L, a->c, row);
}

/* The state of group g (0-based) pushed, made from init when missing. */
static void push_state(lua_State *L, run *r, int self, int states, int64_t g) {
  if (r->ag->numeric) { lua_pushnumber(L, r->nums[g]); return; }
  if (lua_rawgeti(L, states, g + 1) != LUA_TNIL) return;
  lua_pop(L, 1);
  push_field(L, self, "init");
  if (!r->ag->numeric) {
    r->phase = "init";                           /* an error in it is init's */
    lua_call(L, 0, 1);
    r->phase = NULL;
    lua_pushvalue(L, -1);
    lua_rawseti(L, states, g + 1);
  }
}

/* Takes the value `what` returned (at the top) as group g's new state: a
** number for a number state; for other states nil keeps the old one. */
static void keep_state(lua_State *L, run *r, int states, int32_t g, const char *what) {
  if (r->ag->numeric) {
    int isnum;
    lua_Number v = lua_tonumberx(L, -1, &isnum);
    if (!isnum)
      luaL_error(L, "%s must return the new state (a number), got %s", what,
                 luaL_typename(L, -1));
    r->nums[g] = v;
    lua_pop(L, 1);
  } else if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
  } else {
    lua_rawseti(L, states, (lua_Integer)g + 1);
  }
}

/* The protected part of a step: every row of the batch. */
static int p_step(lua_State *L) {
  run *r = lua_touserdata(L, 1);
  const tl_agg_batch *b = r->batch;
  lt_aggregate *ag = r->ag;
  push_self(L, ag);
  int self = lua_gettop(L);
  push_field(L, self, "step");
  int step = lua_gettop(L);
  push_ref(L, &r->states, 0);
  int states = lua_gettop(L);
  luaL_checkstack(L, b->nargs + 8, "too many arguments");
  const double *f = b->nargs == 1 ? tl_column_floats(b->args[0]) : NULL;
  if (ag->numeric && f && !tl_column_validity(b->args[0])) {
    /* the fast path: a number state and one float argument without nulls */
    lua_Number *nums = r->nums;
    for (int64_t k = 0; k < b->n; k++) {
      int64_t row = b->rows[k];
      int32_t g = b->groups[k];
      int isnum;
      if (r->worker && tl_interrupted()) luaL_error(L, "interrupted");
      r->group = g + 1;
      r->row = b->first_row + row + 1;
      lua_pushvalue(L, step);
      lua_pushnumber(L, nums[g]);
      lua_pushnumber(L, f[row]);
      lua_call(L, 2, 1);
      lua_Number v = lua_tonumberx(L, -1, &isnum);
      if (!isnum) keep_state(L, r, states, g, "step");   /* raises the error */
      nums[g] = v;
      lua_pop(L, 1);
    }
    r->group = r->row = 0;
    return 0;
  }
  argview *av = lua_newuserdatauv(L, sizeof *av * (size_t)(b->nargs + 1), 0);
  for (int j = 0; j < b->nargs; j++) av[j] = view_of(b->args[j]);
  for (int64_t k = 0; k < b->n; k++) {
    int64_t row = b->rows[k];
    int32_t g = b->groups[k];
    if (r->worker && tl_interrupted()) luaL_error(L, "interrupted");
    r->group = g + 1;
    r->row = b->first_row + row + 1;
    lua_pushvalue(L, step);
    push_state(L, r, self, states, g);
    for (int j = 0; j < b->nargs; j++) push_arg(L, &av[j], row);
    lua_call(L, 1 + b->nargs, 1);
    keep_state(L, r, states, g, "step");
  }
  r->group = r->row = 0;
  return 0;
}

/* Turns the Lua error at the top into a core error naming the aggregate and
** the place: the group by its key ("group program = 'A'"), the row. */
static tl_status lua_failure(lua_State *L, run *r, const char *what, tl_error *err) {
  const char *msg = lt_error_text(L);
  const char *name = r->ag->name;
  if (r->phase != NULL) what = r->phase;         /* init, called from another phase */
  r->phase = NULL;
  tl_status st = tl_interrupted() ? TL_EINTR : TL_EINVAL;   /* the hook's "interrupted!" */
  char where[512] = "";
  size_t k = 0;
  if (r->group && tl_agg_key_text(r->keys, r->group - 1, NULL, 0) > 0) {
    k = (size_t)snprintf(where, sizeof where, "group ");
    tl_agg_key_text(r->keys, r->group - 1, where + k, sizeof where - k);
    k = strlen(where);
  }
  if (r->row && k < sizeof where)
    snprintf(where + k, sizeof where - k, "%srow %lld", k ? ", " : "", (long long)r->row);
  if (where[0])
    tl_error_set(err, st, "%s: %s: %s: %s", name, what, where, msg);
  else
    tl_error_set(err, st, "%s: %s: %s", name, what, msg);
  lua_pop(L, 1);
  return st;
}

/* The protected part of a batched step: step_batch(state, values, n, ...)
** once per group of the batch, with the group's values of each argument in
** an array reused from call to call (entries past n are stale). */
static int p_step_batch(lua_State *L) {
  run *r = lua_touserdata(L, 1);
  const tl_agg_batch *b = r->batch;
  lt_aggregate *ag = r->ag;
  push_self(L, ag);
  int self = lua_gettop(L);
  push_field(L, self, "step_batch");
  int step = lua_gettop(L);
  push_ref(L, &r->states, 0);
  int states = lua_gettop(L);
  luaL_checkstack(L, 2 * b->nargs + 8, "too many arguments");
  if (r->arrays == LUA_NOREF) {
    lua_createtable(L, b->nargs, 0);
    for (int j = 0; j < b->nargs; j++) {
      lua_createtable(L, (int)r->cap, 0);
      lua_rawseti(L, -2, j + 1);
    }
    r->arrays = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->arrays);
  int arrays = lua_gettop(L);
  for (int j = 0; j < b->nargs; j++) lua_rawgeti(L, arrays, j + 1);
  int first = arrays + 1;   /* the arrays sit at first .. first + nargs - 1 */
  for (int64_t q = 0; q < r->nglist; q++) {
    int32_t g = r->glist[q];
    if (r->worker && tl_interrupted()) luaL_error(L, "interrupted");
    int64_t from = r->gstart[q], m = r->gstart[q + 1] - from;
    r->group = g + 1;
    for (int j = 0; j < b->nargs; j++) {
      const tl_column *c = b->args[j];
      const double *f = tl_column_floats(c);
      const int64_t *iv = tl_column_ints(c);
      /* without `nulls`, the core hands over no row whose argument is null */
      const uint8_t *valid = ag->a.nulls ? tl_column_validity(c) : NULL;
      const int64_t *order = r->order + from, *rows = b->rows + from;
      int arr = first + j;
      if (f && !valid && r->direct) {   /* the common cases, in tight loops */
        for (int64_t k = 0; k < m; k++) {
          lua_pushnumber(L, f[rows[k]]);
          lua_rawseti(L, arr, k + 1);
        }
        continue;
      }
      if (f && !valid) {
        for (int64_t k = 0; k < m; k++) {
          lua_pushnumber(L, f[b->rows[order[k]]]);
          lua_rawseti(L, arr, k + 1);
        }
        continue;
      }
      for (int64_t k = 0; k < m; k++) {
        int64_t row = r->direct ? rows[k] : b->rows[order[k]];
        if (valid && !(valid[row >> 3] >> (row & 7) & 1)) lt_push_null(L);
        else if (f) lua_pushnumber(L, f[row]);
        else if (iv) lua_pushinteger(L, iv[row]);
        else lt_push_value(L, c, row);
        lua_rawseti(L, arr, k + 1);
      }
    }
    lua_pushvalue(L, step);
    push_state(L, r, self, states, g);
    for (int j = 0; j < b->nargs; j++) {
      lua_pushvalue(L, first + j);
      if (j == 0) lua_pushinteger(L, m);
    }
    if (!b->nargs) { lua_pushnil(L); lua_pushinteger(L, m); }
    lua_call(L, 1 + (b->nargs ? b->nargs + 1 : 2), 1);
    keep_state(L, r, states, g, "step_batch");
  }
  r->group = 0;
  return 0;
}

/* Sorts the batch's rows by group (a counting sort over the groups present),
** for p_step_batch. Plain C: nothing here can raise a Lua error. */
static tl_status sort_batch(run *r, const tl_agg_batch *b) {
  if (b->n > r->cap) {
    int64_t cap = b->n;
    int32_t *gl = realloc(r->glist, (size_t)cap * sizeof *gl);
    if (gl) r->glist = gl;
    int64_t *gs = realloc(r->gstart, (size_t)(cap + 1) * sizeof *gs);
    if (gs) r->gstart = gs;
    int64_t *od = realloc(r->order, (size_t)cap * sizeof *od);
    if (od) r->order = od;
    if (!gl || !gs || !od) return TL_ENOMEM;
    r->cap = cap;
  }
  r->direct = r->ngroups == 1;   /* one group: the batch's own order */
  if (r->direct) {
    r->glist[0] = 0;
    r->gstart[0] = 0;
    r->gstart[1] = b->n;
    r->nglist = 1;
    return TL_OK;
  }
  int64_t ng = 0;
  for (int64_t k = 0; k < b->n; k++) {
    int32_t g = b->groups[k];
    if (r->slot[g] < 0) {
      r->slot[g] = (int32_t)ng;
      r->glist[ng] = g;
      r->gstart[++ng] = 0;
    }
    r->gstart[r->slot[g] + 1]++;
  }
  r->gstart[0] = 0;
  for (int64_t q = 0; q < ng; q++) r->gstart[q + 1] += r->gstart[q];
  for (int64_t k = 0; k < b->n; k++) {   /* gstart[q] runs up to the end of group q */
    int32_t q = r->slot[b->groups[k]];
    r->order[r->gstart[q]++] = k;
  }
  for (int64_t q = ng; q > 0; q--) r->gstart[q] = r->gstart[q - 1];   /* back to the starts */
  r->gstart[0] = 0;
  for (int64_t q = 0; q < ng; q++) r->slot[r->glist[q]] = -1;
  r->nglist = ng;
  return TL_OK;
}

static tl_status a_step(void *ud, const tl_agg_batch *b, tl_error *err) {
  run *r = ud;
  lua_State *L = r->L;
  if (!lua_checkstack(L, 8)) return TL_ENOMEM;
  r->batch = b;
  if (r->ag->batch) {
    if (sort_batch(r, b) != TL_OK) return TL_ENOMEM;
    lua_pushcfunction(L, p_step_batch);
    lua_pushlightuserdata(L, r);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) return lua_failure(L, r, "step_batch", err);
    return TL_OK;
  }
  lua_pushcfunction(L, p_step);
  lua_pushlightuserdata(L, r);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) return lua_failure(L, r, "step", err);
  return TL_OK;
}

/* The protected part of finish: final(state) for every group, made into a
** column by the binding's array conversion. */
static int p_finish(lua_State *L) {
  run *r = lua_touserdata(L, 1);
  lt_aggregate *ag = r->ag;
  push_self(L, ag);
  int self = lua_gettop(L);
  int has_final = push_field(L, self, "final") != LUA_TNIL;
  int final = lua_gettop(L);
  push_ref(L, &r->states, 0);
  int states = lua_gettop(L);
  lua_createtable(L, r->ngroups > 0 && r->ngroups < INT32_MAX ? (int)r->ngroups : 0, 0);
  int out = lua_gettop(L);
  for (int64_t g = 0; g < r->ngroups; g++) {
    r->group = g + 1;
    if (has_final) lua_pushvalue(L, final);
    push_state(L, r, self, states, g);   /* a group whose rows were all skipped: a fresh state */
    if (has_final) lua_call(L, 1, 1);
    if (ag->a.type == TL_FLOAT && lua_isinteger(L, -1)) {   /* 3 is 3.0 in a float column */
      lua_Number v = lua_tonumber(L, -1);
      lua_pop(L, 1);
      lua_pushnumber(L, v);
    } else if (ag->a.type == TL_INT && lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
      int exact;   /* and 3.0 is 3 in an int column (a number state is a float) */
      lua_Integer v = lua_tointegerx(L, -1, &exact);
      if (exact) { lua_pop(L, 1); lua_pushinteger(L, v); }
    }
    lua_rawseti(L, out, g + 1);
  }
  lt_array_column(L, out, (lua_Integer)r->ngroups, ag->name, ag->name);
  lt_column *c = lua_touserdata(L, -1);
  r->result = tl_column_retain(c->c);
  return 0;
}

static tl_status a_finish(void *ud, int64_t ngroups, tl_column **out, tl_error *err) {
  run *r = ud;
  lua_State *L = r->L;
  (void)ngroups;
  if (!lua_checkstack(L, 8)) return TL_ENOMEM;
  r->row = 0;
  lua_pushcfunction(L, p_finish);
  lua_pushlightuserdata(L, r);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) return lua_failure(L, r, "final", err);
  *out = r->result;
  r->result = NULL;
  return TL_OK;
}

static void a_end(void *ud) {
  run *r = ud;
  lua_State *L = r->L;
  luaL_unref(L, LUA_REGISTRYINDEX, r->states);
  luaL_unref(L, LUA_REGISTRYINDEX, r->arrays);
  tl_column_release(r->result);
  free(r->slot);
  free(r->glist);
  free(r->gstart);
  free(r->order);
  free(r->nums);
  free(r->out);
  free(r);
}

static void a_keys(void *ud, const tl_agg_keys *keys) {
  run *r = ud;
  r->keys = keys;
}

/* ---------------------------------------------------------------------------
** Saved states: a value as bytes. A tag byte, then for an integer or a float
** its 8 bytes (little-endian), for a string its length (8 bytes) and bytes,
** for a table its pairs (key, value) up to an end tag. Keys are strings or
** numbers; values numbers, strings, booleans or such tables (no cycles).
*/
enum { S_NIL, S_FALSE, S_TRUE, S_INT, S_FLOAT, S_STRING, S_TABLE, S_END };

#define MAX_DEPTH 100   /* nesting of tables in a saved state */

static void out_bytes(lua_State *L, run *r, const void *p, size_t n) {
  if (n > r->outcap - r->outlen) {
    size_t cap = r->outcap ? r->outcap : 64;
    while (cap - r->outlen < n) cap *= 2;
    unsigned char *nb = realloc(r->out, cap);
    if (!nb) luaL_error(L, "not enough memory");
    r->out = nb;
    r->outcap = cap;
  }
  memcpy(r->out + r->outlen, p, n);
  r->outlen += n;
}

static void out_u64(lua_State *L, run *r, int tag, uint64_t v) {
  unsigned char b[9];
  b[0] = (unsigned char)tag;
  for (int k = 0; k < 8; k++) b[k + 1] = (unsigned char)(v >> (8 * k));
  out_bytes(L, r, b, 9);
}

/* Writes the value at idx; `seen` (a stack index) holds the tables being
** written, so that a cycle is an error rather than endless output. */
static void save_value(lua_State *L, run *r, int idx, int seen, int depth, int key) {
  unsigned char tag;
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
      if (key) break;
      tag = S_NIL;
      out_bytes(L, r, &tag, 1);
      return;
    case LUA_TBOOLEAN:
      if (key) break;
      tag = lua_toboolean(L, idx) ? S_TRUE : S_FALSE;
      out_bytes(L, r, &tag, 1);
      return;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) {
        out_u64(L, r, S_INT, (uint64_t)lua_tointeger(L, idx));
      } else {
        double d = (double)lua_tonumber(L, idx);
        uint64_t v;
        memcpy(&v, &d, 8);
        out_u64(L, r, S_FLOAT, v);
      }
      return;
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      out_u64(L, r, S_STRING, n);
      out_bytes(L, r, s, n);
      return;
    }
    case LUA_TTABLE:
      if (key) break;
      if (depth >= MAX_DEPTH) luaL_error(L, "the state nests tables deeper than %d", MAX_DEPTH);
      idx = lua_absindex(L, idx);
      lua_pushvalue(L, idx);
      if (lua_rawget(L, seen) != LUA_TNIL) luaL_error(L, "the state holds a cycle of tables");
      lua_pop(L, 1);
      lua_pushvalue(L, idx);
      lua_pushboolean(L, 1);
      lua_rawset(L, seen);
      luaL_checkstack(L, 4, "state too deep");
      tag = S_TABLE;
      out_bytes(L, r, &tag, 1);
      lua_pushnil(L);
      while (lua_next(L, idx) != 0) {
        save_value(L, r, -2, seen, depth + 1, 1);
        save_value(L, r, -1, seen, depth + 1, 0);
        lua_pop(L, 1);
      }
      tag = S_END;
      out_bytes(L, r, &tag, 1);
      lua_pushvalue(L, idx);
      lua_pushnil(L);
      lua_rawset(L, seen);   /* a table met twice, but not inside itself, is saved twice */
      return;
    default:
      break;
  }
  luaL_error(L, "the state holds a %s%s, which cannot be saved (only numbers, strings, "
                "booleans and tables of them, with string or number keys)",
             luaL_typename(L, idx), key ? " as a key" : "");
}

static uint64_t in_u64(lua_State *L, run *r) {
  if (r->inlen - r->inat < 8) luaL_error(L, "damaged saved state");
  uint64_t v = 0;
  for (int k = 0; k < 8; k++) v |= (uint64_t)r->in[r->inat + k] << (8 * k);
  r->inat += 8;
  return v;
}

/* Pushes the value at the reading position; 0 (nothing pushed) at an end tag. */
static int load_value(lua_State *L, run *r, int depth) {
  if (r->inat >= r->inlen) luaL_error(L, "damaged saved state");
  luaL_checkstack(L, 4, "state too deep");
  switch (r->in[r->inat++]) {
    case S_NIL: lua_pushnil(L); return 1;
    case S_FALSE: lua_pushboolean(L, 0); return 1;
    case S_TRUE: lua_pushboolean(L, 1); return 1;
    case S_INT: lua_pushinteger(L, (lua_Integer)in_u64(L, r)); return 1;
    case S_FLOAT: {
      uint64_t v = in_u64(L, r);
      double d;
      memcpy(&d, &v, 8);
      lua_pushnumber(L, (lua_Number)d);
      return 1;
    }
    case S_STRING: {
      uint64_t n = in_u64(L, r);
      if (n > r->inlen - r->inat) luaL_error(L, "damaged saved state");
      lua_pushlstring(L, (const char *)r->in + r->inat, (size_t)n);
      r->inat += (size_t)n;
      return 1;
    }
    case S_TABLE:
      if (depth >= MAX_DEPTH) luaL_error(L, "damaged saved state");
      lua_newtable(L);
      while (load_value(L, r, depth + 1)) {
        int kt = lua_type(L, -1);
        if ((kt != LUA_TSTRING && kt != LUA_TNUMBER) || !load_value(L, r, depth + 1))
          luaL_error(L, "damaged saved state");
        lua_rawset(L, -3);
      }
      return 1;
    case S_END:
      if (depth == 0) luaL_error(L, "damaged saved state");
      return 0;
    default:
      return luaL_error(L, "damaged saved state");
  }
}

/* Pushes the value of the bytes r->in, all of them. */
static void load_all(lua_State *L, run *r) {
  r->inat = 0;
  if (!load_value(L, r, 0) || r->inat != r->inlen) luaL_error(L, "damaged saved state");
}

static int p_save(lua_State *L) {
  run *r = lua_touserdata(L, 1);
  lt_aggregate *ag = r->ag;
  r->outlen = 0;
  if (ag->numeric) {
    double d = (double)r->nums[r->io_group];
    uint64_t v;
    memcpy(&v, &d, 8);
    out_u64(L, r, S_FLOAT, v);
    return 0;
  }
  push_self(L, ag);
  int self = lua_gettop(L);
  push_ref(L, &r->states, 0);
  int states = lua_gettop(L);
  lua_newtable(L);
  int seen = lua_gettop(L);
  push_state(L, r, self, states, r->io_group);
  save_value(L, r, -1, seen, 0, 0);
  return 0;
}

static int p_load(lua_State *L) {
  run *r = lua_touserdata(L, 1);
  push_ref(L, &r->states, 0);
  int states = lua_gettop(L);
  load_all(L, r);
  if (r->ag->numeric) {
    if (!lua_isnumber(L, -1)) luaL_error(L, "damaged saved state");
    r->nums[r->io_group] = lua_tonumber(L, -1);
    return 0;
  }
  lua_rawseti(L, states, (lua_Integer)r->io_group + 1);
  return 0;
}

/* merge(a, b): a the group's state, b the saved one; returns the state. */
static int p_merge(lua_State *L) {
  run *r = lua_touserdata(L, 1);
  lt_aggregate *ag = r->ag;
  push_self(L, ag);
  int self = lua_gettop(L);
  push_ref(L, &r->states, 0);
  int states = lua_gettop(L);
  push_field(L, self, "merge");
  push_state(L, r, self, states, r->io_group);
  load_all(L, r);
  lua_call(L, 2, 1);
  keep_state(L, r, states, (int32_t)r->io_group, "merge");
  return 0;
}

/* Runs one of p_save, p_load, p_merge for group g. */
static tl_status io_call(run *r, lua_CFunction f, const char *what, int64_t g, const void *bytes,
                         size_t len, tl_error *err) {
  lua_State *L = r->L;
  if (!lua_checkstack(L, 8)) return TL_ENOMEM;
  r->io_group = g;
  r->in = bytes;
  r->inlen = len;
  r->group = g + 1;
  r->row = 0;
  lua_pushcfunction(L, f);
  lua_pushlightuserdata(L, r);
  tl_status st = lua_pcall(L, 1, 0, 0) == LUA_OK ? TL_OK : lua_failure(L, r, what, err);
  r->group = 0;
  return st;
}

static tl_status a_save(void *ud, int64_t g, const void **bytes, size_t *len, tl_error *err) {
  run *r = ud;
  tl_status st = io_call(r, p_save, "save", g, NULL, 0, err);
  if (st != TL_OK) return st;
  *bytes = r->out;
  *len = r->outlen;
  return TL_OK;
}

static tl_status a_load(void *ud, int64_t g, const void *bytes, size_t len, tl_error *err) {
  return io_call(ud, p_load, "load", g, bytes, len, err);
}

static tl_status a_merge(void *ud, int64_t g, const void *bytes, size_t len, tl_error *err) {
  return io_call(ud, p_merge, "merge", g, bytes, len, err);
}

/* ---------------------------------------------------------------------------
** Worker threads: an aggregate with a merge runs its ranges of rows in Lua
** states of the workers (lworker.c), which get copies of init, step,
** step_batch and merge, registered there under the aggregate's name. The
** states of the ranges come back as saved bytes; in memory merge and final
** run in the caller's state, while a lazy scan merges its batches' states
** on the workers as they come (final stays the caller's). Anything that
** cannot be copied keeps the aggregate on the calling thread.
*/

static const char *const copied[] = { "init", "step", "step_batch", "merge" };
#define NCOPIED 4

/* In worker state W: registers the copies of init, step, step_batch and
** merge (at 2 .. 5) as aggregate `ag` (at 1). */
static int p_install(lua_State *W) {
  lt_aggregate *ag = lua_touserdata(W, 1);
  lua_getfield(W, LUA_REGISTRYINDEX, REGISTRY_KEY);
  lua_newuserdatauv(W, 0, 1);
  lua_createtable(W, 0, 4);
  for (int k = 0; k < NCOPIED; k++) {
    lua_pushvalue(W, 2 + k);
    lua_setfield(W, -2, copied[k]);
  }
  lua_setiuservalue(W, -2, 1);
  lua_pushvalue(W, -1);
  lt_self_set(W, SELF_KEY, ag);
  lua_setfield(W, -2, ag->name);
  return 0;
}

static int a_fork(void *ud, int nworkers) {
  lt_aggregate *ag = ud;
  lua_State *M = ag->L;
  if (ag->serial || ag->workers || !lua_checkstack(M, 8)) return 0;
  int top = lua_gettop(M);
  push_self(M, ag);
  lua_getiuservalue(M, -1, 1);
  int def = lua_gettop(M);
  for (int k = 0; k < NCOPIED; k++) lua_getfield(M, def, copied[k]);
  ag->workers = lt_workers_fork(M, nworkers, NCOPIED, p_install, ag);
  lua_settop(M, top);
  return ag->workers != NULL;
}

static tl_status a_begin_on(void *ud, int worker, int64_t ngroups, void **out, tl_error *err) {
  lt_aggregate *ag = ud;
  (void)err;
  return begin_in(ag, lt_workers_state(ag->workers, worker), ngroups, out);
}

static void a_join(void *ud) {
  lt_aggregate *ag = ud;
  lt_workers_close(ag->workers);
  ag->workers = NULL;
}

/* ---------------------------------------------------------------------------
** Lua side
*/

static const char *const aggregate_keys[] = {"name", "init", "step", "step_batch", "merge",
                                             "final", "type", "nulls", "parallel", NULL};

/* tally.aggregate{ name =, init =, step =, merge =, final =, nulls =, type = } */
static int l_aggregate(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lt_check_options(L, 1, "aggregate", aggregate_keys);
  lua_getfield(L, 1, "name");
  if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
    return luaL_error(L, "aggregate: 'name' must be a non-empty string");
  const char *name = lt_cstring(L, -1, "aggregate: 'name'");
  size_t len = strlen(name);
  if (len >= sizeof ((lt_aggregate *)0)->name)
    return luaL_error(L, "aggregate: name '%s' is too long", lt_echoz(L, name));
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
          (i > 0 && c >= '0' && c <= '9')))
      return luaL_error(L, "aggregate: name '%s' is not an identifier", lt_echoz(L, name));
  }
  lt_check_name_free(L, "aggregate", name);
  int st = lua_getfield(L, 1, "step"), bt = lua_getfield(L, 1, "step_batch");
  if (bt != LUA_TNIL && bt != LUA_TFUNCTION)
    return luaL_error(L, "aggregate: 'step_batch' must be a function");
  if (st != LUA_TFUNCTION && (st != LUA_TNIL || bt == LUA_TNIL))
    return luaL_error(L, "aggregate: 'step' must be a function");
  int it = lua_getfield(L, 1, "init");
  if (it != LUA_TNUMBER && it != LUA_TFUNCTION && it != LUA_TTABLE)
    return luaL_error(L, "aggregate: 'init' must be a number, a function or a table");
  if (it == LUA_TTABLE)
    return luaL_error(L, "aggregate: 'init' must be a function that returns a new table "
                         "(one state a group)");
  int ft = lua_getfield(L, 1, "final"), mt = lua_getfield(L, 1, "merge");
  if (ft != LUA_TNIL && ft != LUA_TFUNCTION) return luaL_error(L, "aggregate: 'final' must be a function");
  if (mt != LUA_TNIL && mt != LUA_TFUNCTION) return luaL_error(L, "aggregate: 'merge' must be a function");
  tl_type type = 0;
  if (lua_getfield(L, 1, "type") != LUA_TNIL) {
    const char *tn =
        lua_type(L, -1) == LUA_TSTRING ? lt_cstring(L, -1, "aggregate: 'type'") : NULL;
    if (!tn || !(type = tl_type_from_name(tn)))
      return luaL_error(L, "aggregate: 'type' must be a type name (bool, int, float, string, "
                           "date, timestamp)");
  }
  lua_getfield(L, 1, "nulls");
  int nulls = lua_toboolean(L, -1);
  int serial = lt_serial_option(L, 1, "aggregate");
  lua_settop(L, 1);

  lt_aggregate *ag = lua_newuserdatauv(L, sizeof *ag, 1);
  memset(ag, 0, sizeof *ag);
  memcpy(ag->name, name, len + 1);
  lua_getfield(L, 1, "init");
  ag->numeric = lua_type(L, -1) == LUA_TNUMBER;
  ag->batch = bt == LUA_TFUNCTION;
  ag->serial = serial;
  ag->init = lua_tonumber(L, -1);
  lua_pop(L, 1);
  ag->a.name = ag->name;
  ag->a.nulls = nulls;
  ag->a.type = type;
  ag->a.ud = ag;
  ag->a.begin = a_begin;
  ag->a.step = a_step;
  ag->a.finish = a_finish;
  ag->a.end = a_end;
  ag->a.keys = a_keys;
  if (mt == LUA_TFUNCTION) {   /* with a merge, states can be saved and merged */
    ag->a.save = a_save;
    ag->a.load = a_load;
    ag->a.merge = a_merge;
    ag->a.fork = a_fork;
    ag->a.begin_on = a_begin_on;
    ag->a.join = a_join;
  }
  /* the definition, copied so that later changes to the caller's table do
  ** not change a registered aggregate */
  lua_newtable(L);
  static const char *const fields[] = { "name", "init", "step", "step_batch", "merge", "final",
                                        "nulls", "type", "parallel", NULL };
  for (int k = 0; fields[k]; k++) {
    lua_getfield(L, 1, fields[k]);
    lua_setfield(L, -2, fields[k]);
  }
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, LT_AGGREGATE);
  lua_pushvalue(L, -1);
  lt_self_set(L, SELF_KEY, ag);
  lua_getfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, ag->name);
  lua_pop(L, 1);
  return 1;
}

static lt_aggregate *check_aggregate(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, LT_AGGREGATE);
}

/* geomean("cost") or geomean("cost", "w"): a definition, "geomean(`cost`)",
** to give to agg, or to rename with :as("g"). */
static int ag_call(lua_State *L) {
  lt_aggregate *ag = check_aggregate(L, 1);
  luaL_Buffer b;
  int n = lua_gettop(L);
  luaL_buffinit(L, &b);
  luaL_addstring(&b, ag->name);
  luaL_addchar(&b, '(');
  for (int i = 2; i <= n; i++) {
    size_t len;
    const char *s = luaL_checklstring(L, i, &len);
    if (i > 2) luaL_addstring(&b, ", ");
    if (memchr(s, '`', len)) return luaL_argerror(L, i, "a column name with a backquote");
    lt_cstring(L, i, "%s: argument %d", ag->name, i - 1);
    luaL_addchar(&b, '`');
    luaL_addlstring(&b, s, len);
    luaL_addchar(&b, '`');
  }
  luaL_addchar(&b, ')');
  luaL_pushresult(&b);
  lua_newtable(L);
  lua_insert(L, -2);
  lua_setfield(L, -2, "def");
  luaL_setmetatable(L, LT_AGGCALL);
  return 1;
}

/* An aggregate call is a table with the tally.AggregateCall metatable. */
static void check_call(lua_State *L, int idx) {
  int ok = lua_getmetatable(L, idx);
  if (ok) {
    luaL_getmetatable(L, LT_AGGCALL);
    ok = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  if (!ok) luaL_typeerror(L, idx, LT_AGGCALL);
}

static int call_as(lua_State *L) {
  check_call(L, 1);
  const char *name = (luaL_checkstring(L, 2), lt_cstring(L, 2, "as: name"));
  lua_getfield(L, 1, "def");
  if (strchr(name, '`')) return luaL_argerror(L, 2, "a name with a backquote");
  lua_pushfstring(L, "`%s` = %s", name, lua_tostring(L, -1));
  return 1;
}

static int call_tostring(lua_State *L) {
  check_call(L, 1);
  lua_getfield(L, 1, "def");
  return 1;
}

static int ag_tostring(lua_State *L) {
  lt_aggregate *ag = check_aggregate(L, 1);
  lua_pushfstring(L, "Aggregate: %s", ag->name);
  return 1;
}

const tl_aggregate **lt_aggregates(lua_State *L, int *n) {
  lua_getfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
  int reg = lua_gettop(L);
  const tl_aggregate **v = lt_aggregates_in(L, reg, n);
  lua_remove(L, reg);
  return v;
}

const tl_aggregate **lt_aggregates_in(lua_State *L, int reg, int *n) {
  int count = 0;
  reg = lua_absindex(L, reg);
  lua_pushnil(L);
  while (lua_next(L, reg) != 0) { count++; lua_pop(L, 1); }
  const tl_aggregate **v = lua_newuserdatauv(L, sizeof *v * (size_t)(count + 1), 1);
  lua_pushvalue(L, reg);
  lua_setiuservalue(L, -2, 1);   /* keeps the aggregates alive with the array */
  int k = 0;
  lua_pushnil(L);
  while (lua_next(L, reg) != 0) {   /* to the end: no key left behind */
    lt_aggregate *ag = luaL_testudata(L, -1, LT_AGGREGATE);
    if (ag && k < count) { ag->L = L; v[k++] = &ag->a; }
    lua_pop(L, 1);
  }
  *n = k;
  return v;
}

/* Lua strings stand for themselves; aggregate calls (geomean("cost")) and
** anything else with __tostring become their text, in place. */
void lt_definitions_to_strings(lua_State *L, int first) {
  int top = lua_gettop(L);
  for (int i = first; i <= top; i++) {
    if (lua_type(L, i) == LUA_TSTRING || lua_type(L, i) == LUA_TNUMBER) continue;
    if (luaL_getmetafield(L, i, "__tostring") == LUA_TNIL) continue;
    lua_pop(L, 1);
    luaL_tolstring(L, i, NULL);
    lua_replace(L, i);
  }
}

void lt_open_aggregate(lua_State *L) {
  static const luaL_Reg meta[] = {
    {"__call", ag_call}, {"__tostring", ag_tostring}, {NULL, NULL}
  };
  static const luaL_Reg callmeta[] = {
    {"__tostring", call_tostring}, {NULL, NULL}
  };
  luaL_newmetatable(L, LT_AGGREGATE);
  luaL_setfuncs(L, meta, 0);
  lua_pop(L, 1);
  luaL_newmetatable(L, LT_AGGCALL);
  luaL_setfuncs(L, callmeta, 0);
  lua_newtable(L);
  lua_pushcfunction(L, call_as);
  lua_setfield(L, -2, "as");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  if (lua_getfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY) != LUA_TTABLE) {
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_aggregate);
  lua_setfield(L, -2, "aggregate");   /* into the module table at the top */
  lt_open_func(L);
}
