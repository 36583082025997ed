/*
** laggregate.c -- aggregates written in Lua: tally.aggregate{...}.
**
** The core runs the scan and hands over batches of rows with their groups;
** this file calls the Lua functions for them. A numeric `init` is the fast
** path: the states are numbers in a C array and `step` returns the new one.
** Every call into Lua made while the core is working runs under lua_pcall,
** so that a Lua error becomes a core error and never unwinds through C code
** that holds memory.
*/
#include <stdlib.h>
#include <string.h>

#include "ltally.h"

/* The user value of a tally.Aggregate is its definition table. */
typedef struct lt_aggregate {
  tl_aggregate a;
  lua_State *L;              /* the state of the call that uses it */
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
  int64_t ngroups;
  lua_Number *nums;             /* numeric states */
  int states;                   /* registry ref of the table of other states */
  const tl_agg_batch *batch;    /* for the protected step */
  int64_t group, row;           /* where a step or final failed (1-based; 0: not known) */
  tl_column *result;
  /* step_batch: the batch's rows sorted by group, with counts made in C */
  int32_t *slot;                /* per group: its place among the batch's groups, or -1 */
  int32_t *glist;               /* the batch's groups, in order of first appearance */
  int64_t *gstart;              /* group j's rows: order[gstart[j] .. gstart[j + 1]) */
  int64_t *order;               /* positions in the batch */
  int64_t cap, nglist;
  int arrays;                   /* registry ref of the value arrays, one per argument */
} run;

static const char *const builtins[] = {
  "count", "sum", "mean", "avg", "min", "max", "median", "quantile", "stddev", "var",
  "count_distinct", "first", "last", NULL
};

/* Pushes field `k` of the aggregate's definition table. */
static int push_field(lua_State *L, int aidx, const char *k) {
  lua_getiuservalue(L, aidx, 1);
  int t = lua_getfield(L, -1, k);
  lua_remove(L, -2);
  return t;
}

static tl_status a_begin(void *ud, int64_t ngroups, void **out, tl_error *err) {
  lt_aggregate *ag = ud;
  run *r = calloc(1, sizeof *r);
  (void)err;
  if (!r) return TL_ENOMEM;
  r->ag = ag;
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

/* Finds the tally.Aggregate userdata of `ag` and pushes it (it sits in the
** registry while it is registered, and a use holds it there). */
static void push_self(lua_State *L, lt_aggregate *ag) {
  lua_getfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
  lua_getfield(L, -1, ag->name);
  lua_remove(L, -2);
}

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

/* Pushes the value of argument j at `row`: numbers straight from their
** arrays, the rest through the binding's conversion (null as nil). */
static void push_arg(lua_State *L, const tl_column *c, int64_t row) {
  const double *f = tl_column_floats(c);
  const int64_t *i = tl_column_ints(c);
  if (f && !tl_column_is_null(c, row)) lua_pushnumber(L, f[row]);
  else if (i && !tl_column_is_null(c, row)) lua_pushinteger(L, i[row]);
  else lt_push_value(L, c, row);
}

/* The state of group g (0-based) pushed, made from init when missing. */
static void push_state(lua_State *L, run *r, int self, int states, int64_t g) {
  if (r->ag->numeric) { lua_pushnumber(L, r->nums[g]); return; }
  if (lua_rawgeti(L, states, g + 1) != LUA_TNIL) return;
  lua_pop(L, 1);
  push_field(L, self, "init");
  if (!r->ag->numeric) {
    lua_call(L, 0, 1);
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
  for (int64_t k = 0; k < b->n; k++) {
    int64_t row = b->rows[k];
    int32_t g = b->groups[k];
    r->group = g + 1;
    r->row = row + 1;
    lua_pushvalue(L, step);
    push_state(L, r, self, states, g);
    for (int j = 0; j < b->nargs; j++) push_arg(L, b->args[j], row);
    lua_call(L, 1 + b->nargs, 1);
    keep_state(L, r, states, g, "step");
  }
  r->group = r->row = 0;
  return 0;
}

/* Turns the Lua error at the top into a core error naming the aggregate and
** the place. */
static tl_status lua_failure(lua_State *L, run *r, const char *what, tl_error *err) {
  const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1);
  const char *name = r->ag->name;
  if (r->group && r->row)
    snprintf(err->message, sizeof err->message, "%s: %s: group %lld, row %lld: %s", name, what,
             (long long)r->group, (long long)r->row, msg);
  else if (r->group)
    snprintf(err->message, sizeof err->message, "%s: %s: group %lld: %s", name, what,
             (long long)r->group, msg);
  else
    snprintf(err->message, sizeof err->message, "%s: %s: %s", name, what, msg);
  lua_pop(L, 1);
  err->code = TL_EINVAL;
  return TL_EINVAL;
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
    int64_t from = r->gstart[q], m = r->gstart[q + 1] - from;
    r->group = g + 1;
    for (int j = 0; j < b->nargs; j++) {
      const tl_column *c = b->args[j];
      const double *f = tl_column_floats(c);
      const int64_t *iv = tl_column_ints(c);
      const uint8_t *valid = tl_column_validity(c);
      const int64_t *order = r->order + from;
      int arr = first + j;
      if (f && !valid) {   /* the common case, in one tight loop */
        for (int64_t k = 0; k < m; k++) {
          lua_pushnumber(L, f[b->rows[order[k]]]);
          lua_rawseti(L, arr, k + 1);
        }
        continue;
      }
      for (int64_t k = 0; k < m; k++) {
        int64_t row = b->rows[order[k]];
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
  lua_State *L = r->ag->L;
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
  lua_State *L = r->ag->L;
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
  lua_State *L = r->ag->L;
  luaL_unref(L, LUA_REGISTRYINDEX, r->states);
  luaL_unref(L, LUA_REGISTRYINDEX, r->arrays);
  tl_column_release(r->result);
  free(r->slot);
  free(r->glist);
  free(r->gstart);
  free(r->order);
  free(r->nums);
  free(r);
}

/* ---------------------------------------------------------------------------
** Lua side
*/

/* tally.aggregate{ name =, init =, step =, merge =, final =, nulls =, type = } */
static int l_aggregate(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "name");
  const char *name = lua_tostring(L, -1);
  if (lua_type(L, -1) != LUA_TSTRING || !*name)
    return luaL_error(L, "aggregate: 'name' must be a non-empty string");
  size_t len = strlen(name);
  if (len >= sizeof ((lt_aggregate *)0)->name)
    return luaL_error(L, "aggregate: name '%s' is too long", name);
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
          (i > 0 && c >= '0' && c <= '9')))
      return luaL_error(L, "aggregate: name '%s' is not an identifier", name);
  }
  for (int k = 0; builtins[k]; k++)
    if (strcmp(builtins[k], name) == 0)
      return luaL_error(L, "aggregate: '%s' is a built-in aggregate", name);
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
    const char *tn = lua_tostring(L, -1);
    if (!tn || !(type = tl_type_from_name(tn)))
      return luaL_error(L, "aggregate: 'type' must be a type name (bool, int, float, string, "
                           "date, timestamp)");
  }
  lua_getfield(L, 1, "nulls");
  int nulls = lua_toboolean(L, -1);
  lua_settop(L, 1);

  lt_aggregate *ag = lua_newuserdatauv(L, sizeof *ag, 1);
  memset(ag, 0, sizeof *ag);
  memcpy(ag->name, name, len + 1);
  lua_getfield(L, 1, "init");
  ag->numeric = lua_type(L, -1) == LUA_TNUMBER;
  ag->batch = bt == LUA_TFUNCTION;
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
  /* the definition, copied so that later changes to the caller's table do
  ** not change a registered aggregate */
  lua_newtable(L);
  static const char *const fields[] = { "name", "init", "step", "step_batch", "merge", "final",
                                        "nulls", "type", NULL };
  for (int k = 0; fields[k]; k++) {
    lua_getfield(L, 1, fields[k]);
    lua_setfield(L, -2, fields[k]);
  }
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, LT_AGGREGATE);
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
  const char *name = luaL_checkstring(L, 2);
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
  int count = 0;
  lua_getfield(L, LUA_REGISTRYINDEX, REGISTRY_KEY);
  int reg = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, reg) != 0) { count++; lua_pop(L, 1); }
  const tl_aggregate **v = lua_newuserdatauv(L, sizeof *v * (size_t)(count + 1), 1);
  lua_pushvalue(L, reg);
  lua_setiuservalue(L, -2, 1);   /* keeps the aggregates alive with the array */
  int k = 0;
  lua_pushnil(L);
  while (k < count && lua_next(L, reg) != 0) {
    lt_aggregate *ag = luaL_testudata(L, -1, LT_AGGREGATE);
    if (ag) { ag->L = L; v[k++] = &ag->a; }
    lua_pop(L, 1);
  }
  lua_remove(L, reg);
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
