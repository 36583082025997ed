/*
** ltesting.c -- tally.testing: what the Lua tests reach that users do not.
**
** Not part of the module or the tally command: the test runner (the tally
** command built again with TALLY_TESTING, see CMakeLists.txt) preloads it,
** and a test asks for it with require "tally.testing". It holds
**   set(knobs) and with(knobs, f, ...): the knobs of core/testing.h, which
**     change how the core cuts its work, never what it computes;
**   partial_agg(parts, keys, def, ...): aggregation through partial states
**     encoded to bytes and merged, as the ranks of an MPI job do;
**   spill_blocks() and spill_fail(k): the spill blocks written so far, and
**     the k-th from now failing as a full disk would (exec/spill.h).
** Everything runs under the env of the state's tally module.
*/
#include "ltally.h"
#include "exec/spill.h"
#include "expr/expr.h"
#include "testing.h"

/* Enters the state's env, as the module's own functions do on each call. */
static void enter(lua_State *L) {
  tl_env *env = tally_lua_env(L);
  if (!env) luaL_error(L, "tally.testing: the tally module is not open in this state");
  tl_env_use(env);
}

/* ---------------------------------------------------------------------------
** Knobs
*/

static lua_Integer set_csv_chunk(lua_Integer v) {
  return tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, v);
}
static lua_Integer set_morsel_bytes(lua_Integer v) {
  return tl_testing_set(NULL, TL_KNOB_MORSEL_BYTES, v);
}
static lua_Integer set_batch_rows(lua_Integer v) {
  return tl_testing_set(NULL, TL_KNOB_BATCH_ROWS, v);
}
static lua_Integer set_vector_size(lua_Integer v) { return tl_expr_set_vector_size((int)v); }

/* Each knob: its name, its largest value (0 is always the default) and the
** setter, which returns the value it replaces. */
static const struct {
  const char *name;
  lua_Integer max;
  lua_Integer (*set)(lua_Integer v);
} knobs[] = {
  {"chunk_size", LT_MAX_INT, set_csv_chunk},           /* bytes a chunk of read_csv */
  {"morsel_bytes", LUA_MAXINTEGER, set_morsel_bytes},  /* bytes a morsel of a CSV scan */
  {"batch_rows", LUA_MAXINTEGER, set_batch_rows},      /* rows a batch of a table scan */
  {"vector_size", TL_VEC, set_vector_size},            /* rows a vector of the evaluator */
};
#define NKNOBS ((int)(sizeof knobs / sizeof *knobs))
static const char *const knob_names[] = {
  "chunk_size", "morsel_bytes", "batch_rows", "vector_size", NULL
};

/* Sets the knobs named in the table at idx, all checked before any is set;
** pushes a table of the values they replace. */
static void set_knobs(lua_State *L, int idx, const char *op) {
  lua_Integer v[NKNOBS];
  int given[NKNOBS];
  luaL_checktype(L, idx, LUA_TTABLE);
  lt_check_options(L, idx, op, knob_names);
  for (int k = 0; k < NKNOBS; k++) {
    given[k] = lua_getfield(L, idx, knobs[k].name) != LUA_TNIL;
    if (given[k]) {
      lua_pushfstring(L, "knob '%s'", knobs[k].name);
      v[k] = lt_check_int(L, -2, op, lua_tostring(L, -1), 0, knobs[k].max);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  enter(L);
  lua_createtable(L, 0, NKNOBS);
  for (int k = 0; k < NKNOBS; k++) {
    if (!given[k]) continue;
    lua_pushinteger(L, knobs[k].set(v[k]));
    lua_setfield(L, -2, knobs[k].name);
  }
}

/* testing.set(knobs): returns the values replaced, which set takes back. */
static int t_set(lua_State *L) {
  set_knobs(L, 1, "testing.set");
  return 1;
}

/* testing.with(knobs, f, ...): f(...) under the knobs, which go back to
** their values before, also when f fails; returns what f returns. */
static int t_with(lua_State *L) {
  luaL_checkany(L, 2);
  set_knobs(L, 1, "testing.with");
  lua_replace(L, 1);                          /* the old values, in place of the new */
  int st = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
  lua_pushcfunction(L, t_set);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 0);                          /* the old values back */
  if (st != LUA_OK) return lua_error(L);
  return lua_gettop(L) - 1;
}

/* ---------------------------------------------------------------------------
** Partial states
*/

static void free_partial(void *p) { tl_partial_free(p); }

/* The partial state of one part, grouped by keys (nkeys 0: one group),
** encoded to bytes and decoded again. Lua aggregates run under lua_pcall,
** so nothing here raises a Lua error. */
static tl_status part_state(tl_table *t, int nkeys, const char **keys, int n, const char **defs,
                            const tl_scope *scope, tl_partial **out, tl_error *err) {
  tl_partial *p = NULL;
  tl_grouping *g = NULL;
  tl_status st = nkeys ? tl_table_group_by(t, nkeys, keys, &g, err) : TL_OK;
  if (st == TL_OK)
    st = nkeys ? tl_grouping_partial(g, n, defs, scope, &p, err)
               : tl_table_partial(t, n, defs, scope, &p, err);
  tl_grouping_free(g);
  void *buf = NULL;
  size_t len = 0;
  if (st == TL_OK) st = tl_partial_encode(p, &buf, &len, err);
  tl_partial_free(p);
  if (st == TL_OK) st = tl_partial_decode(buf, len, scope, out, err);
  tl_free(buf);
  return st;
}

/* testing.partial_agg(parts, keys, def, ...): the rows of the tables
** `parts` (an array, one after another) aggregated by the columns `keys` (an
** array; nil: the whole as one group) through partial states: one a part,
** each encoded to bytes and decoded again, merged in order, then finished.
** It is how the save, load and merge of Lua aggregates are reached without
** MPI. */
static int t_partial_agg(lua_State *L) {
  enter(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  int nkeys = 0;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    nkeys = (int)lt_array_len(L, 2, "agg", "the keys", LT_OTHER_KEYS, LT_MAX_INT / 8);
  }
  lt_definitions_to_strings(L, 3);
  int n;
  const char **defs = lt_string_args(L, 3, "agg", 0, &n);
  const char **keys = lua_newuserdatauv(L, sizeof *keys * (size_t)(nkeys + 1), 0);
  for (int k = 0; k < nkeys; k++) {   /* the strings stay in the table at 2 */
    if (lua_geti(L, 2, k + 1) != LUA_TSTRING)
      return luaL_error(L, "agg: key %d must be a column name", k + 1);
    keys[k] = lt_cstring(L, -1, "agg: key %d", k + 1);
    lua_pop(L, 1);
  }
  tl_scope scope;
  tally_lua_scope(L, &scope);
  lt_box *acc = lt_newbox(L, free_partial);
  lt_box *part = lt_newbox(L, free_partial);
  lua_Integer nparts = lt_array_len(L, 1, "agg", "the parts", LT_OTHER_KEYS, LUA_MAXINTEGER);
  tl_error err;
  err.message[0] = '\0';
  for (lua_Integer i = 1; i <= nparts; i++) {
    lua_geti(L, 1, i);
    tl_table *t = tally_check_table(L, -1);
    tl_partial *q = NULL;
    tl_status st = part_state(t, nkeys, keys, n, defs, &scope, &q, &err);
    if (st == TL_OK && acc->p) {
      part->p = q;
      st = tl_partial_merge(acc->p, q, &err);
      lt_box_free(part);
    } else if (st == TL_OK) {
      acc->p = q;
    }
    lt_call(L, st, &err);
    lua_pop(L, 1);
  }
  if (!acc->p) return luaL_error(L, "agg: no parts");
  lt_table *ud = lt_new_table(L);
  lt_call(L, tl_partial_finish(acc->p, &ud->t, &err), &err);
  return 1;
}

/* testing.spill_blocks(): the blocks written to spill files since the
** process started. */
static int t_spill_blocks(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)tl_spill_blocks());
  return 1;
}

/* testing.spill_fail(k): the k-th spill block written from now on (k >= 1)
** fails with ENOSPC; 0: none. */
static int t_spill_fail(lua_State *L) {
  tl_spill_fail_block((int64_t)luaL_checkinteger(L, 1));
  return 0;
}

int luaopen_tally_testing(lua_State *L) {
  static const luaL_Reg funcs[] = {
    {"set", t_set}, {"with", t_with}, {"partial_agg", t_partial_agg},
    {"spill_blocks", t_spill_blocks}, {"spill_fail", t_spill_fail}, {NULL, NULL}
  };
  luaL_requiref(L, "tally", luaopen_tally, 0);   /* its env: the one the knobs go to */
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
