/*
** lmpi.c -- tally.mpi: one script, many processes; the Lua binding of the
** distributed algorithms of bindings/dist over MPI.
**
** `mpirun -n N tally script.lua` runs the script on every rank. A
** distributed table is each rank's share of the rows (a tally.Table) plus
** the number of rows on every rank together. Verbs that keep rows where
** they are (filter, mutate, select, ...) run the local share's own method;
** everything that moves data is a tl_dist_* call (dist.h): reading a CSV
** by byte ranges, aggregation by merging partial states in rank order,
** top/distinct/head by gather and recompute, the sample sort.
**
** Every operation here is collective: each rank calls it, in the same
** order. Each begins with tl_dist_begin (its code and its number on this
** rank, the end of the script included), so that ranks that call
** different ones fail together with a message naming what each called. A
** failure on one rank is agreed on before anything else moves: every rank
** raises the failing rank's message, and remembers it (AGREED_KEY) so that
** only rank 0 prints it.
*/
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lauxlib.h"
#include "dist.h"
#include "lmpi.h"
#include "ltally.h"
#include "tally_lua.h"
#include "transport_mpi.h"

#define LT_DTABLE "tally.DistributedTable"
#define LT_DGROUPING "tally.DistributedGrouping"
#define AGREED_KEY "tally.mpi.agreed"   /* registry: the last agreed error */

static MPI_Comm comm = MPI_COMM_NULL;
static int started;            /* MPI_Init was called here */
static tl_dist_transport tr;
static tl_dist dist;

/* The collective operations, in the order of their codes. */
enum {
  OP_READ_CSV, OP_DISTRIBUTE, OP_WRAP, OP_BARRIER, OP_FILTER, OP_MUTATE, OP_SELECT, OP_DROP,
  OP_RENAME, OP_GATHER, OP_TOP, OP_DISTINCT, OP_HEAD, OP_COUNT_DISTINCT, OP_SORT, OP_AGG,
  OP_GROUP_BY, OP_GROUPED_AGG, OP_GROUPED_COUNT, OP_GROUPED_LEN, OP_REJECTS, OP_SCAN,
  OP_SCAN_COLLECT, OP_END, OP_COUNT
};
static const char *const op_names[OP_COUNT] = {
  "read_csv", "distribute", "wrap", "barrier", "filter", "mutate", "select", "drop",
  "rename", "gather", "top", "distinct", "head", "count_distinct", "sort", "agg",
  "group_by", "grouping:agg", "grouping:count", "#grouping", "rejects", "scan",
  "scan:collect", "the end of the script"
};

static void start(void) {
  int flag;
  if (comm != MPI_COMM_NULL) return;
  MPI_Initialized(&flag);
  if (!flag) {
    int provided;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    started = 1;
  }
  MPI_Comm_dup(MPI_COMM_WORLD, &comm);   /* our messages never meet the host's */
  tl_dist_transport_mpi(&tr, &comm);
  tl_dist_init(&dist, &tr, op_names, OP_COUNT);
}

void lt_mpi_startup(int *argc, char ***argv) {
  static const char *const vars[] = {
    "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", NULL
  };
  for (int k = 0; vars[k]; k++) {
    if (getenv(vars[k])) {
      int provided;
      MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
      started = 1;
      start();
      return;
    }
  }
}

int lt_mpi_rank(void) { return comm == MPI_COMM_NULL ? 0 : dist.rank; }
int lt_mpi_size(void) { return comm == MPI_COMM_NULL ? 1 : dist.size; }

int lt_mpi_agreed(lua_State *L, const char *msg) {
  int agreed = 0;
  if (lua_getfield(L, LUA_REGISTRYINDEX, AGREED_KEY) == LUA_TSTRING && msg) {
    size_t n;
    const char *a = lua_tolstring(L, -1, &n);
    agreed = strncmp(msg, a, n) == 0;
  }
  lua_pop(L, 1);
  return agreed;
}

const char *lt_mpi_shutdown(int failed) {
  static tl_error why;
  if (comm == MPI_COMM_NULL) return NULL;
  if (failed && dist.size > 1) MPI_Abort(comm, 1);   /* the others may be waiting for us */
  /* a rank still in an operation is told */
  tl_status st = tl_dist_begin(&dist, OP_END, &why);
  MPI_Comm_free(&comm);
  int done;
  MPI_Finalized(&done);
  if (started && !done) MPI_Finalize();
  return st == TL_OK ? NULL : why.message;
}

/* ---------------------------------------------------------------------------
** Raising what the ranks agreed on
*/

/* Raises err, an error every rank raises together. */
static int raise_agreed(lua_State *L, const tl_error *err) {
  lua_pushstring(L, err->message[0] ? err->message : tl_status_string(err->code));
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, AGREED_KEY);
  return lua_error(L);
}

/* The start of collective operation `op`. */
static void begin(lua_State *L, int op) {
  tl_error err;
  start();
  if (tl_dist_begin(&dist, op, &err) != TL_OK) raise_agreed(L, &err);
}

/* Every rank's outcome of a core call: raises the first failure on every rank. */
static void check(lua_State *L, tl_status st, tl_error *err) {
  if (tl_dist_agree(&dist, st, err) != TL_OK) raise_agreed(L, err);
}

/* Every rank's outcome as a message (NULL: it went well). */
static void agree(lua_State *L, const char *msg) {
  tl_error err;
  err.code = msg ? TL_EINVAL : TL_OK;
  err.message[0] = '\0';
  if (msg) {
    size_t n = strlen(msg) < sizeof err.message - 1 ? strlen(msg) : sizeof err.message - 1;
    memcpy(err.message, msg, n);
    err.message[n] = '\0';
  }
  check(L, err.code, &err);
}

/* What a userdata of this file holds, and how to free it. */
typedef struct box {
  void *p;
  void (*free)(void *p);
} box;

/* Pushes t as a tally.Table, which takes the caller's reference. */
static void push_table(lua_State *L, tl_table *t) {
  tally_push_table(L, t);
  tl_table_release(t);
}

/* Argument strings from `first` on (or the strings of one list given
** there), in a userdata left on the stack; NULL and *msg set (pushed) when
** one is not a string or number. */
static const char **string_args(lua_State *L, int first, const char *op, int *pn,
                                const char **msg) {
  int top = lua_gettop(L), list = top == first && lua_type(L, first) == LUA_TTABLE;
  int n = list ? (int)lua_rawlen(L, first) : top >= first ? top - first + 1 : 0;
  const char **v = lua_newuserdatauv(L, sizeof *v * (size_t)(n > 0 ? n : 1), list);
  *msg = NULL;
  if (list) {   /* the list keeps its strings alive */
    lua_pushvalue(L, first);
    lua_setiuservalue(L, -2, 1);
  }
  for (int i = 0; i < n && !*msg; i++) {
    int t = list ? lua_rawgeti(L, first, i + 1) : lua_type(L, first + i);
    if (t == LUA_TSTRING || (!list && t == LUA_TNUMBER)) {
      v[i] = lua_tostring(L, list ? -1 : first + i);   /* numbers converted in place */
    } else if (list) {
      *msg = lua_pushfstring(L, "%s: entry %d of the list must be a string, got %s", op, i + 1,
                             lua_typename(L, t));
      lua_insert(L, -2);
    } else {
      *msg = lua_pushfstring(L, "%s: argument %d must be a string, got %s", op, first + i - 1,
                             lua_typename(L, t));
    }
    if (list) lua_pop(L, 1);
  }
  *pn = n;
  return *msg ? NULL : v;
}

/* string_args whose failure every rank agrees on, and at least `min` of them. */
static const char **agreed_args(lua_State *L, int first, const char *op, int min,
                                const char *none, int *pn) {
  const char *msg;
  const char **v = string_args(L, first, op, pn, &msg);
  if (!msg && *pn < min) msg = lua_pushfstring(L, "%s: %s", op, none);
  agree(L, msg);
  return v;
}

/* ---------------------------------------------------------------------------
** The distributed table: user value 1 is the local tally.Table, 2 the
** records its rank's read_csv skipped (a tally.Table; nil when read_csv did
** not make it).
*/

typedef struct dtable {
  int64_t nrows;   /* rows on every rank together */
} dtable;

/* Pushes a distributed table of the local table at `local`. Collective:
** the ranks count their rows together here, once, so that #t is each
** rank's own answer afterwards. */
static void push_dtable(lua_State *L, int local) {
  local = lua_absindex(L, local);
  int64_t all = tl_dist_sum(&dist, tl_table_nrows(tally_check_table(L, local)));
  dtable *d = lua_newuserdatauv(L, sizeof *d, 2);
  d->nrows = all;
  luaL_setmetatable(L, LT_DTABLE);
  lua_pushvalue(L, local);
  lua_setiuservalue(L, -2, 1);
}

static dtable *check_dtable(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, LT_DTABLE);
}

/* Pushes the local table of the distributed table at idx. */
static tl_table *push_local(lua_State *L, int idx) {
  check_dtable(L, idx);
  lua_getiuservalue(L, idx, 1);
  return tally_check_table(L, -1);
}

/* Calls method `name` of the value at `obj` with arguments first..last,
** protected; every rank agrees on failure. Leaves one result. */
static void local_call(lua_State *L, int obj, const char *name, int first, int last) {
  obj = lua_absindex(L, obj);
  lua_pushvalue(L, obj);
  lua_getfield(L, -1, name);
  lua_insert(L, -2);
  for (int i = first; i <= last; i++) lua_pushvalue(L, i);
  const char *msg = NULL;
  if (lua_pcall(L, 1 + (last >= first ? last - first + 1 : 0), 1, 0) != LUA_OK)
    msg = luaL_tolstring(L, -1, NULL);
  agree(L, msg);
}

/* filter, mutate, select, ...: the local share, as a distributed table. */
static int dt_local_verb(lua_State *L, int op, const char *name) {
  begin(L, op);
  int top = lua_gettop(L);
  push_local(L, 1);
  local_call(L, -1, name, 2, top);
  push_dtable(L, -1);
  return 1;
}

static int dt_filter(lua_State *L) { return dt_local_verb(L, OP_FILTER, "filter"); }
static int dt_mutate(lua_State *L) { return dt_local_verb(L, OP_MUTATE, "mutate"); }
static int dt_select(lua_State *L) { return dt_local_verb(L, OP_SELECT, "select"); }
static int dt_drop(lua_State *L) { return dt_local_verb(L, OP_DROP, "drop"); }
static int dt_rename(lua_State *L) { return dt_local_verb(L, OP_RENAME, "rename"); }

/* Methods that only read the columns' names and types, the same on every
** rank: no communication. */
static int dt_local_query(lua_State *L, const char *name) {
  int top = lua_gettop(L);
  push_local(L, 1);
  lua_getfield(L, -1, name);
  lua_insert(L, -2);
  for (int i = 2; i <= top; i++) lua_pushvalue(L, i);
  lua_call(L, top, LUA_MULTRET);
  return lua_gettop(L) - top;
}

static int dt_ncol(lua_State *L) { return dt_local_query(L, "ncol"); }
static int dt_names(lua_State *L) { return dt_local_query(L, "names"); }
static int dt_schema(lua_State *L) { return dt_local_query(L, "schema"); }

/* t:local_rows(): this rank's share, a tally.Table. */
static int dt_local(lua_State *L) {
  push_local(L, 1);
  return 1;
}

/* #t: the rows on every rank together, counted when t was made: no rank
** waits for the others here. */
static int dt_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)check_dtable(L, 1)->nrows);
  return 1;
}

static int dt_tostring(lua_State *L) {
  tl_table *t = push_local(L, 1);
  lua_pushfstring(L, "DistributedTable: %I rows x %d columns over %d rank%s (%I here)",
                  (lua_Integer)check_dtable(L, 1)->nrows, tl_table_ncols(t), dist.size,
                  dist.size == 1 ? "" : "s", (lua_Integer)tl_table_nrows(t));
  return 1;
}

/* t:gather(): every row, in rank order, on every rank. */
static int dt_gather(lua_State *L) {
  begin(L, OP_GATHER);
  tl_table *t = push_local(L, 1), *out = NULL;
  tl_error err;
  err.message[0] = '\0';
  check(L, tl_dist_gather(&dist, t, &out, &err), &err);
  push_table(L, out);
  return 1;
}

/* A row count argument at idx (an integer >= 0; def when absent): every
** rank agrees on a bad one. */
static int64_t count_arg(lua_State *L, int idx, const char *op, lua_Integer def) {
  int ok = 0;
  lua_Integer n = lua_isnoneornil(L, idx) && def >= 0 ? (ok = 1, def)
                                                       : lua_tointegerx(L, idx, &ok);
  const char *msg = NULL;
  if (!ok || n < 0)
    msg = lua_pushfstring(L, "%s: the number of rows must be an integer >= 0, got %s", op,
                          luaL_typename(L, idx));
  agree(L, msg);
  return (int64_t)n;
}

static int dt_top(lua_State *L) {
  begin(L, OP_TOP);
  int nk;
  int64_t n = count_arg(L, 2, "top", -1);
  const char **keys = agreed_args(L, 3, "top", 1, "expected at least one key", &nk);
  tl_table *t = push_local(L, 1), *out = NULL;
  tl_error err;
  err.message[0] = '\0';
  check(L, tl_dist_top(&dist, t, n, nk, keys, &out, &err), &err);
  push_table(L, out);
  return 1;
}

/* distinct(cols...) of every rank's rows, on every rank. */
static tl_table *distinct_of(lua_State *L) {
  int nc;
  const char **cols = agreed_args(L, 2, "distinct", 0, NULL, &nc);
  tl_table *t = push_local(L, 1), *out = NULL;
  tl_error err;
  err.message[0] = '\0';
  check(L, tl_dist_distinct(&dist, t, nc, cols, &out, &err), &err);
  push_table(L, out);
  return out;
}

static int dt_distinct(lua_State *L) {
  begin(L, OP_DISTINCT);
  distinct_of(L);
  return 1;
}

static int dt_head(lua_State *L) {
  begin(L, OP_HEAD);
  int64_t n = count_arg(L, 2, "head", 10);
  tl_table *t = push_local(L, 1), *out = NULL;
  tl_error err;
  err.message[0] = '\0';
  check(L, tl_dist_head(&dist, t, n, &out, &err), &err);
  push_table(L, out);
  return 1;
}

/* t:count_distinct(col): the number of distinct values (nulls not counted)
** of a column on every rank together. */
static int dt_count_distinct(lua_State *L) {
  begin(L, OP_COUNT_DISTINCT);
  luaL_checkstring(L, 2);
  lua_settop(L, 2);
  tl_table *d = distinct_of(L);
  const tl_column *c = tl_table_column(d, 0);
  lua_pushinteger(L, (lua_Integer)(tl_table_nrows(d) - tl_column_null_count(c)));
  return 1;
}

/* t:sort(...): a sample sort (tl_dist_sort); rank r holds the r-th slice of
** the order. */
static int dt_sort(lua_State *L) {
  begin(L, OP_SORT);
  int nk;
  const char **keys = agreed_args(L, 2, "sort", 1, "expected at least one key", &nk);
  tl_table *t = push_local(L, 1), *out = NULL;
  tl_error err;
  err.message[0] = '\0';
  check(L, tl_dist_sort(&dist, t, nk, keys, &out, &err), &err);
  push_table(L, out);
  push_dtable(L, -1);
  return 1;
}

/* ---------------------------------------------------------------------------
** Aggregation: tl_dist_agg and tl_dist_grouped_agg.
*/

/* The definitions from argument `first` on (aggregate calls such as
** geomean("cost") become their text, in place), and the scope of the
** host's aggregates and functions. */
static const char **definitions(lua_State *L, int first, tl_scope *scope, int *n) {
  for (int i = first; i <= lua_gettop(L); i++) {
    if (lua_type(L, i) == LUA_TSTRING || lua_type(L, i) == LUA_TNUMBER) continue;
    if (luaL_getmetafield(L, i, "__tostring") == LUA_TNIL) continue;
    lua_pop(L, 1);
    luaL_tolstring(L, i, NULL);
    lua_replace(L, i);
  }
  const char **defs = agreed_args(L, first, "agg", 0, NULL, n);
  tally_lua_scope(L, scope);
  return defs;
}

static int dt_agg(lua_State *L) {
  begin(L, OP_AGG);
  int n;
  tl_scope scope;
  lua_settop(L, lua_gettop(L) < 1 ? 1 : lua_gettop(L));
  tl_table *t = push_local(L, 1), *out = NULL;
  lua_pop(L, 1);   /* the distributed table holds it */
  const char **defs = definitions(L, 2, &scope, &n);
  tl_error err;
  err.message[0] = '\0';
  check(L, tl_dist_agg(&dist, t, n, defs, &scope, &out, &err), &err);
  push_table(L, out);
  return 1;
}

/* The distributed grouping: a box of the local tl_grouping, user value 1
** the distributed table, 2 the key names. */
static void grouping_free(void *p) { tl_grouping_free(p); }

static int dt_group_by(lua_State *L) {
  begin(L, OP_GROUP_BY);
  int nk;
  const char **keys = agreed_args(L, 2, "group_by", 1, "expected at least one key column", &nk);
  tl_table *t = push_local(L, 1);
  tl_grouping *g = NULL;
  tl_error err;
  err.message[0] = '\0';
  tl_status st = tl_table_group_by(t, nk, keys, &g, &err);
  tl_grouping_free(st == TL_OK ? NULL : g);
  check(L, st, &err);
  box *b = lua_newuserdatauv(L, sizeof *b, 2);
  b->p = g;
  b->free = grouping_free;
  luaL_setmetatable(L, LT_DGROUPING);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  lua_createtable(L, nk, 0);
  for (int i = 0; i < nk; i++) {
    lua_pushstring(L, keys[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setiuservalue(L, -2, 2);
  return 1;
}

static int dg_gc(lua_State *L) {
  box *b = luaL_checkudata(L, 1, LT_DGROUPING);
  if (b->p) tl_grouping_free(b->p);
  b->p = NULL;
  return 0;
}

static tl_grouping *local_grouping(lua_State *L, int idx) {
  box *b = luaL_checkudata(L, idx, LT_DGROUPING);
  if (!b->p) luaL_argerror(L, idx, "grouping is closed");
  return b->p;
}

static int grouped_agg(lua_State *L) {
  int n;
  tl_scope scope;
  tl_grouping *g = local_grouping(L, 1);
  const char **defs = definitions(L, 2, &scope, &n);
  tl_table *out = NULL;
  tl_error err;
  err.message[0] = '\0';
  check(L, tl_dist_grouped_agg(&dist, g, n, defs, &scope, &out, &err), &err);
  push_table(L, out);
  return 1;
}

static int dg_agg(lua_State *L) {
  begin(L, OP_GROUPED_AGG);
  return grouped_agg(L);
}

static int dg_count(lua_State *L) {
  begin(L, OP_GROUPED_COUNT);
  lua_settop(L, 1);
  lua_pushliteral(L, "n = count()");
  return grouped_agg(L);
}

/* #g: the number of groups on every rank together (collective: the groups
** are merged across the ranks to count them). */
static int dg_len(lua_State *L) {
  begin(L, OP_GROUPED_LEN);
  lua_settop(L, 1);
  grouped_agg(L);
  lua_pushinteger(L, (lua_Integer)tl_table_nrows(tally_check_table(L, -1)));
  return 1;
}

/* DistributedGrouping: 8 groups by program (here) over 3 ranks */
static int dg_tostring(lua_State *L) {
  tl_grouping *g = local_grouping(L, 1);
  lua_settop(L, 1);
  lua_getiuservalue(L, 1, 2);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "DistributedGrouping: %I group%s by ", (lua_Integer)tl_grouping_count(g),
                  tl_grouping_count(g) == 1 ? "" : "s");
  luaL_addvalue(&b);
  for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, 2); i++) {
    if (i > 1) luaL_addstring(&b, ", ");
    lua_rawgeti(L, 2, i);
    luaL_addvalue(&b);
  }
  lua_pushfstring(L, " over %d rank%s", dist.size, dist.size == 1 ? "" : "s");
  luaL_addvalue(&b);
  luaL_pushresult(&b);
  return 1;
}

/* ---------------------------------------------------------------------------
** tally.mpi.read_csv: tl_dist_read_csv, with the options of tally.read_csv.
*/

static const char *const csv_keys[] = {
  "sep", "header", "null", "types", "skip", "comment", "infer", "columns",
  "max_rows", "on_error", "progress", "max_field_size", NULL
};
static const char *const range_keys[] = {
  "range_start", "range_stop", "range_quotes", "range_line", "range_record", NULL
};

/* The options' values, anchored: user value 1 the options table (its
** strings), 2.. the arrays handed to the core. */
typedef struct csvopts {
  tl_csv_options o;
} csvopts;

static int opt_int(lua_State *L, int idx, const char *key, lua_Integer min, lua_Integer *v) {
  int ok;
  *v = lua_tointegerx(L, idx, &ok);
  if (!ok || *v < min)
    return luaL_error(L, "read_csv: option '%s' must be an integer >= %I", key, min);
  return 0;
}

static int opt_bool(lua_State *L, int idx, const char *key) {
  if (!lua_isboolean(L, idx))
    return luaL_error(L, "read_csv: option '%s' must be a boolean, got %s", key,
                      luaL_typename(L, idx));
  return lua_toboolean(L, idx);
}

/* The strings of the list at idx in a new array anchored as user value uv
** of the options at 1. */
static const char **opt_list(lua_State *L, int idx, const char *key, int uv, int *pn) {
  if (lua_type(L, idx) == LUA_TSTRING) {   /* one string stands for a list of one */
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, 1);
    lua_replace(L, idx);
  }
  if (!lua_istable(L, idx)) luaL_error(L, "read_csv: option '%s' must be a list of strings", key);
  int n = (int)lua_rawlen(L, idx);
  const char **v = lua_newuserdatauv(L, sizeof *v * (size_t)(n + 1), 1);
  lua_pushvalue(L, idx);   /* the array keeps the list, and so its strings */
  lua_setiuservalue(L, -2, 1);
  lua_setiuservalue(L, 1, uv);
  for (int i = 0; i < n; i++) {
    if (lua_rawgeti(L, idx, i + 1) != LUA_TSTRING)
      luaL_error(L, "read_csv: option '%s' must be a list of strings", key);
    v[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  *pn = n;
  return v;
}

static void opt_types(lua_State *L, int idx, tl_csv_options *o) {
  int n = 0;
  if (!lua_istable(L, idx)) luaL_error(L, "read_csv: option 'types' must be a table {column = type}");
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) n++;
  const char **names = lua_newuserdatauv(L, sizeof *names * (size_t)(n + 1), 0);
  lua_setiuservalue(L, 1, 4);
  tl_type *types = lua_newuserdatauv(L, sizeof *types * (size_t)(n + 1), 0);
  lua_setiuservalue(L, 1, 5);
  n = 0;
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "read_csv: option 'types' must map column names to type names");
    types[n] = tl_type_from_name(lua_tostring(L, -1));
    if (types[n] == 0)
      luaL_error(L, "read_csv: option 'types': unknown type '%s' for column '%s'",
                 lua_tostring(L, -1), lua_tostring(L, -2));
    names[n++] = lua_tostring(L, -2);   /* anchored as a key of the options' table */
  }
  o->type_names = names;
  o->types = types;
  o->ntypes = n;
}

/* Fills the options userdata at 1 from the table at 2 (run protected). */
static int parse_csv_options(lua_State *L) {
  csvopts *co = lua_touserdata(L, 1);
  tl_csv_options *o = &co->o;
  for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) {   /* reject misspelt options */
    const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    int known = 0;
    for (int i = 0; key && range_keys[i]; i++)   /* the ranks' cuts are this function's */
      if (strcmp(key, range_keys[i]) == 0)
        luaL_error(L, "tally.mpi.read_csv: option '%s' is set by tally.mpi itself", key);
    for (int i = 0; key && csv_keys[i]; i++) known |= strcmp(key, csv_keys[i]) == 0;
    if (!known) luaL_error(L, "read_csv: unknown option '%s'", key ? key : luaL_typename(L, -2));
  }
  int base = lua_gettop(L);
  for (int i = 0; csv_keys[i]; i++) lua_getfield(L, 2, csv_keys[i]);   /* option i at base+1+i */
  lua_Integer v;
  size_t len;
  if (!lua_isnil(L, base + 1)) {
    const char *s = lua_type(L, base + 1) == LUA_TSTRING ? lua_tolstring(L, base + 1, &len) : NULL;
    if (!s || len != 1) luaL_error(L, "read_csv: option 'sep' must be a one-character string");
    o->sep = s[0];
  }
  if (!lua_isnil(L, base + 2)) o->header = opt_bool(L, base + 2, "header");
  if (!lua_isnil(L, base + 3)) o->nulls = opt_list(L, base + 3, "null", 2, &o->nnulls);
  if (!lua_isnil(L, base + 4)) opt_types(L, base + 4, o);
  if (!lua_isnil(L, base + 5)) opt_int(L, base + 5, "skip", 0, &v), o->skip = (int)v;
  if (!lua_isnil(L, base + 6)) {
    if (lua_type(L, base + 6) != LUA_TSTRING) luaL_error(L, "read_csv: option 'comment' must be a string");
    o->comment = lua_tostring(L, base + 6);
  }
  if (!lua_isnil(L, base + 7)) o->infer = opt_bool(L, base + 7, "infer");
  if (!lua_isnil(L, base + 8)) o->columns = opt_list(L, base + 8, "columns", 3, &o->ncolumns);
  if (!lua_isnil(L, base + 9)) opt_int(L, base + 9, "max_rows", 0, &v), o->max_rows = v;
  if (!lua_isnil(L, base + 10)) {
    const char *e = lua_type(L, base + 10) == LUA_TSTRING ? lua_tostring(L, base + 10) : "";
    if (strcmp(e, "skip") == 0) o->on_error = TL_CSV_SKIP;
    else if (strcmp(e, "error") == 0) o->on_error = TL_CSV_FAIL;
    else luaL_error(L, "read_csv: option 'on_error' must be \"error\" or \"skip\"");
  }
  if (!lua_isnil(L, base + 11)) opt_bool(L, base + 11, "progress");   /* l_read_csv's */
  if (!lua_isnil(L, base + 12))
    opt_int(L, base + 12, "max_field_size", 1, &v), o->max_field_size = (size_t)v;
  return 0;
}

/* Pushes the options (argument 2) read into a csvopts; every rank agrees
** on a bad one. */
static const tl_csv_options *csv_options(lua_State *L) {
  csvopts *co = lua_newuserdatauv(L, sizeof *co, 5);
  tl_csv_options_init(&co->o);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, 1);   /* its strings stay alive */
  const char *msg = NULL;
  if (!lua_isnil(L, 2)) {
    lua_pushcfunction(L, parse_csv_options);
    lua_pushvalue(L, -2);
    lua_pushvalue(L, 2);
    if (lua_type(L, 2) != LUA_TTABLE)
      msg = lua_pushfstring(L, "tally.mpi.read_csv: the options must be a table, got %s",
                            luaL_typename(L, 2));
    else if (lua_pcall(L, 2, 0, 0) != LUA_OK)
      msg = luaL_tolstring(L, -1, NULL);
  }
  agree(L, msg);
  return &co->o;
}

/* The progress bar of rank 0's share: drawn on stderr once its read has
** run for a second, at most ten times a second, erased at the end. */
typedef struct bar {
  double start, last;
  int drawn;
} bar;

static void draw_bar(void *ud, int pass, int64_t done, int64_t total) {
  bar *b = ud;
  double t = MPI_Wtime(), f;
  char cells[31];
  if (t - b->start < 1.0 || t - b->last < 0.1 || total <= 0) return;
  b->last = t;
  f = ((double)(pass - 1) + (double)done / (double)total) / 2.0;   /* two passes */
  if (f > 1.0) f = 1.0;
  for (int k = 0; k < 30; k++) cells[k] = k < (int)(f * 30.0) ? '#' : '.';
  cells[30] = '\0';
  fprintf(stderr, "\rread_csv (rank 0 of %d) [%s] %3d%%\033[K", dist.size, cells,
          (int)(f * 100.0));
  fflush(stderr);
  b->drawn = 1;
}

/* tally.mpi.read_csv(path | {paths...}, opts): tl_dist_read_csv_ex. Rank
** 0 draws the bar of its share (progress: true, or stderr a terminal) and
** says how many records the ranks skipped together, as tally.read_csv
** does; t:rejects() gathers them. */
static int l_read_csv(lua_State *L) {
  begin(L, OP_READ_CSV);
  lua_settop(L, 2);
  tl_csv_options o = *csv_options(L);
  int nfiles, progress = -1;
  if (lua_istable(L, 2) && lua_getfield(L, 2, "progress") != LUA_TNIL)
    progress = lua_toboolean(L, -1);   /* a boolean: csv_options checked it */
  lua_settop(L, 3);
  bar b = { MPI_Wtime(), 0.0, 0 };
  if (dist.rank == 0 && (progress == 1 || (progress == -1 && isatty(STDERR_FILENO)))) {
    o.progress = draw_bar;
    o.progress_ud = &b;
  }
  lua_pushvalue(L, 1);   /* a path, or a list of paths, alone at the top */
  const char **paths = agreed_args(L, lua_gettop(L), "tally.mpi.read_csv", 1, "no files", &nfiles);
  tl_table *out = NULL, *rejects = NULL;
  int64_t records = 0;
  tl_error err;
  err.message[0] = '\0';
  tl_status st = tl_dist_read_csv_ex(&dist, nfiles, paths, &o, &out, &rejects, &records, &err);
  if (b.drawn) fputs("\r\033[K", stderr), fflush(stderr);
  check(L, st, &err);
  push_table(L, rejects);
  int rej = lua_gettop(L);
  push_table(L, out);
  int64_t skipped = tl_dist_sum(&dist, tl_table_nrows(tally_check_table(L, rej)));
  records = tl_dist_sum(&dist, records);
  if (dist.rank == 0 && skipped > 0) {
    if (nfiles == 1)
      fprintf(stderr, "read_csv: %s: skipped %lld of %lld records (see t:rejects())\n",
              paths[0], (long long)skipped, (long long)records);
    else
      fprintf(stderr, "read_csv: %d files: skipped %lld of %lld records (see t:rejects())\n",
              nfiles, (long long)skipped, (long long)records);
  }
  push_dtable(L, -1);
  lua_pushvalue(L, rej);
  lua_setiuservalue(L, -2, 2);
  return 1;
}

/* t:rejects(): the records read_csv skipped on every rank, gathered in rank
** order (each row's line is that of its file), on every rank; nil for a
** table that tally.mpi.read_csv did not return. */
static int dt_rejects(lua_State *L) {
  begin(L, OP_REJECTS);
  check_dtable(L, 1);
  int has = lua_getiuservalue(L, 1, 2) != LUA_TNIL;
  int64_t all = tl_dist_sum(&dist, has);
  agree(L, all != 0 && all != dist.size ? "rejects: the ranks' tables differ" : NULL);
  if (!has) return 0;
  tl_table *out = NULL;
  tl_error err;
  err.message[0] = '\0';
  check(L, tl_dist_gather(&dist, tally_check_table(L, -1), &out, &err), &err);
  push_table(L, out);
  return 1;
}

/* tally.mpi.distribute(t): a table every rank holds (the same on each),
** split into shares, rank r keeping the r-th slice of its rows. */
static int l_distribute(lua_State *L) {
  begin(L, OP_DISTRIBUTE);
  tl_table *t = tally_check_table(L, 1), *out = NULL;
  tl_error err;
  err.message[0] = '\0';
  check(L, tl_dist_distribute(&dist, t, &out, &err), &err);
  push_table(L, out);
  push_dtable(L, -1);
  return 1;
}

/* tally.mpi.wrap(t): each rank's own rows (e.g. its own file) as the
** shares of one distributed table; their columns must agree. Collective,
** as every function that makes a distributed table. */
static int l_wrap(lua_State *L) {
  begin(L, OP_WRAP);
  tally_check_table(L, 1);
  push_dtable(L, 1);
  return 1;
}

static int l_barrier(lua_State *L) {
  begin(L, OP_BARRIER);
  MPI_Barrier(comm);
  return 0;
}

/* ---------------------------------------------------------------------------
** Lazy scans: tally.mpi.scan(source, opts) is tally.scan over this rank's
** share of the input's morsels (consecutive byte ranges of the files, in
** rank order); its verbs build the plan on every rank, and collect() runs
** it on each share and combines the shares: an aggregation's partial
** states merged in rank order (tl_dist_merge), the rows of head, top,
** distinct and sort gathered and the verb run again, both then finished
** by the verbs after them, the same table on every rank; a plan of
** streaming verbs only gives a distributed table of each rank's rows.
*/

static int p_scan(lua_State *L) { return lt_scan_shared(L, dist.rank, dist.size); }

static int l_scan(lua_State *L) {
  begin(L, OP_SCAN);
  lua_settop(L, 2);
  lua_pushcfunction(L, p_scan);
  lua_insert(L, 1);
  const char *msg = NULL;
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) msg = luaL_tolstring(L, -1, NULL);
  agree(L, msg);
  return 1;
}

#define LT_DBOX "tally.mpi.box"

static int box_gc(lua_State *L) {
  box *b = luaL_checkudata(L, 1, LT_DBOX);
  if (b->p) b->free(b->p);
  b->p = NULL;
  return 0;
}

static void free_partial(void *p) { tl_partial_free(p); }
static void free_table(void *p) { tl_table_release(p); }

/* A box for p, freed with the box (the top of the stack). */
static box *new_box(lua_State *L, void *p, void (*f)(void *)) {
  box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->p = p;
  b->free = f;
  luaL_setmetatable(L, LT_DBOX);
  return b;
}

/* The registry's collect of a shared scan: arg 1 the scan, 2 its tl_scan. */
static int scan_collect(lua_State *L) {
  begin(L, OP_SCAN_COLLECT);
  const tl_scan *s = lua_touserdata(L, 2);
  const char *sink = tl_scan_sink(s);
  tl_table *rows = NULL, *out = NULL;
  tl_partial *p = NULL;
  tl_error err;
  err.message[0] = '\0';
  tl_status st = tl_scan_collect_share(s, &rows, &p, &err);
  new_box(L, p, free_partial);
  new_box(L, rows, free_table);
  check(L, st, &err);
  if (!sink) {   /* the rows stay where they are */
    tally_push_table(L, rows);
    push_dtable(L, -1);
    return 1;
  }
  tl_table *merged = NULL;
  if (p) {
    tl_scope scope;
    tally_lua_scope(L, &scope);
    st = tl_dist_merge(&dist, p, &scope, &merged, &err);
  } else {
    st = tl_dist_gather(&dist, rows, &merged, &err);
  }
  new_box(L, merged, free_table);
  check(L, st, &err);
  st = tl_scan_finish_shares(s, merged, &out, &err);
  check(L, st, &err);
  push_table(L, out);
  return 1;
}

/* tally.mpi.stats(): what this rank has exchanged so far. */
static int l_stats(lua_State *L) {
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)dist.exchanges);
  lua_setfield(L, -2, "exchanges");
  lua_pushinteger(L, (lua_Integer)dist.bytes_sent);
  lua_setfield(L, -2, "bytes_sent");
  lua_pushinteger(L, (lua_Integer)dist.bytes_received);
  lua_setfield(L, -2, "bytes_received");
  return 1;
}

/* tally.mpi.rank and tally.mpi.size start MPI when first read. */
static int mpi_index(lua_State *L) {
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "rank") == 0 || strcmp(k, "size") == 0) {
    start();
    lua_pushinteger(L, k[0] == 'r' ? dist.rank : dist.size);
    return 1;
  }
  return 0;
}

static void new_class(lua_State *L, const char *name, const luaL_Reg *meta,
                      const luaL_Reg *methods) {
  luaL_newmetatable(L, name);
  luaL_setfuncs(L, meta, 0);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

void lt_open_mpi(lua_State *L) {
  static const luaL_Reg dt_methods[] = {
    {"filter", dt_filter}, {"mutate", dt_mutate}, {"select", dt_select},
    {"drop", dt_drop}, {"rename", dt_rename}, {"ncol", dt_ncol}, {"names", dt_names},
    {"schema", dt_schema}, {"local_rows", dt_local},
    {"gather", dt_gather}, {"top", dt_top}, {"distinct", dt_distinct}, {"head", dt_head},
    {"count_distinct", dt_count_distinct}, {"sort", dt_sort}, {"agg", dt_agg},
    {"group_by", dt_group_by}, {"rejects", dt_rejects}, {NULL, NULL}
  };
  static const luaL_Reg dt_meta[] = {
    {"__len", dt_len}, {"__tostring", dt_tostring}, {NULL, NULL}
  };
  static const luaL_Reg dg_methods[] = {
    {"agg", dg_agg}, {"count", dg_count}, {NULL, NULL}
  };
  static const luaL_Reg dg_meta[] = {
    {"__len", dg_len}, {"__tostring", dg_tostring}, {"__gc", dg_gc}, {NULL, NULL}
  };
  static const luaL_Reg funcs[] = {
    {"read_csv", l_read_csv}, {"distribute", l_distribute}, {"wrap", l_wrap},
    {"barrier", l_barrier}, {"stats", l_stats}, {"scan", l_scan}, {NULL, NULL}
  };
  new_class(L, LT_DTABLE, dt_meta, dt_methods);
  new_class(L, LT_DGROUPING, dg_meta, dg_methods);
  luaL_newlib(L, funcs);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, mpi_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "mpi");
  lua_pushcfunction(L, scan_collect);
  lua_setfield(L, LUA_REGISTRYINDEX, LT_SCAN_COLLECTIVE);
  if (luaL_newmetatable(L, LT_DBOX)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}
