/*
** lscan.c -- lazy scans in Lua: tally.scan(path | {paths} | a glob |
** table, opts) returns a tally.Scan whose verbs build a plan in the core
** (core/exec); collect(), write_csv() and explain() run or show it. Also
** tally.memory_limit, the limit of the state's env.
*/
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lauxlib.h"
#include "lua.h"
#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"

#define LT_SCANGROUP "tally.ScanGrouping"

/* User values: 1 the scan it was made from (which keeps the source's bar
** and the scopes before alive), 2 the anchors of its own scope. */
typedef struct lt_scan {
  tl_scan *s;              /* NULL once closed */
  tl_scan *held;           /* closed while it ran: freed when the runs end */
  int running;             /* runs of this scan under way (a Lua function may run it again) */
  lt_bar *barp;            /* the source's progress bar, or NULL */
  lt_bar bar;              /* a source's */
  int shared;              /* of tally.mpi.scan: collect is collective */
} lt_scan;

/* The string argument at idx (a number made into one, as luaL_checkstring
** does), without a NUL byte. */
static const char *string_arg(lua_State *L, int idx, const char *what) {
  luaL_checkstring(L, idx);
  return lt_cstring(L, idx, "%s", what);
}

static tl_scan *check_scan(lua_State *L, int idx) {
  lt_scan *u = luaL_checkudata(L, idx, LT_SCAN);
  if (!u->s) luaL_error(L, "scan: the scan is closed");
  return u->s;
}

static lt_scan *new_scan(lua_State *L) {
  lt_scan *u = lua_newuserdatauv(L, sizeof *u, 2);
  u->s = NULL;
  u->held = NULL;
  u->running = 0;
  u->barp = NULL;
  u->shared = 0;
  luaL_setmetatable(L, LT_SCAN);
  return u;
}

/* A new scan made from the scan at idx. */
static lt_scan *derive(lua_State *L, int idx) {
  lt_scan *from = luaL_checkudata(L, idx, LT_SCAN);
  idx = lua_absindex(L, idx);
  lt_scan *u = new_scan(L);
  u->barp = from->barp;
  u->shared = from->shared;
  lua_pushvalue(L, idx);
  lua_setiuservalue(L, -2, 1);
  return u;
}

/* Pushes a copy of the registry table under key (name -> userdata). */
static void copy_registry(lua_State *L, const char *key) {
  lua_newtable(L);
  if (lua_getfield(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -5);
    }
  }
  lua_pop(L, 1);
}

/* The Lua aggregates and functions defined now, as a scope for a verb of a
** scan, which calls them later: pushes what keeps them alive (copies of
** the registries and the arrays of the scope), for the scan's user value 2. */
static void push_scope(lua_State *L, tl_scope *scope) {
  lua_createtable(L, 4, 0);
  int t = lua_gettop(L);
  copy_registry(L, LT_AGGREGATES_KEY);
  scope->aggs = lt_aggregates_in(L, -1, &scope->naggs);
  lua_rawseti(L, t, 2);
  lua_rawseti(L, t, 1);
  copy_registry(L, LT_FUNCTIONS_KEY);
  scope->funcs = lt_functions_in(L, -1, &scope->nfuncs);
  lua_rawseti(L, t, 4);
  lua_rawseti(L, t, 3);
}

/* Before a run from state L: the Lua aggregates and functions of every
** step of the scan at idx call into L (a scan may be built in one
** coroutine and run in another). */
static void bind_scopes(lua_State *L, int idx) {
  int n;
  lua_pushvalue(L, idx);
  while (luaL_testudata(L, -1, LT_SCAN)) {
    if (lua_getiuservalue(L, -1, 2) == LUA_TTABLE) {
      lua_rawgeti(L, -1, 1);
      lt_aggregates_in(L, -1, &n);
      lua_pop(L, 2);
      lua_rawgeti(L, -1, 3);
      lt_functions_in(L, -1, &n);
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
    lua_getiuservalue(L, -1, 1);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
}

/* __gc and __close. A Lua function of the scan's own run may close it
** (getmetatable(s).__close(s)): the plan is then kept until the run ends. */
static int s_gc(lua_State *L) {
  lt_scan *u = luaL_checkudata(L, 1, LT_SCAN);
  if (u->running > 0 && u->s) {
    u->held = u->s;
  } else if (u->running == 0) {
    tl_scan_free(u->held);
    tl_scan_free(u->s);
    u->held = NULL;
  }
  u->s = NULL;
  return 0;
}

static void free_globbed(void *p) {
  globfree(p);
  free(p);
}

/* The paths of argument 1 into an array left on the stack. */
static const char **paths_arg(lua_State *L, int *pn) {
  const char **v;
  if (lua_type(L, 1) == LUA_TTABLE) {
    int n = (int)lt_array_len(L, 1, "scan", "the list of paths", 0, LT_MAX_INT);
    v = lua_newuserdatauv(L, sizeof *v * (size_t)(n > 0 ? n : 1), 0);
    for (int i = 0; i < n; i++) {
      if (lua_rawgeti(L, 1, i + 1) != LUA_TSTRING) luaL_error(L, "scan: path %d is not a string", i + 1);
      v[i] = lt_cstring(L, -1, "scan: path %d", i + 1);   /* anchored in the list */
      lua_pop(L, 1);
    }
    *pn = n;
    return v;
  }
  const char *pat = lt_cstring(L, 1, "scan: path");
  if (!strpbrk(pat, "*?[")) {
    v = lua_newuserdatauv(L, sizeof *v, 0);
    v[0] = pat;
    *pn = 1;
    return v;
  }
  lt_box *box = lt_newbox(L, free_globbed);
  glob_t *g = calloc(1, sizeof *g);
  if (!g) return luaL_error(L, "scan: out of memory"), NULL;
  box->p = g;
  int rc = glob(pat, 0, NULL, g);
  if (rc == GLOB_NOMATCH || (rc == 0 && g->gl_pathc == 0))
    luaL_error(L, "scan: no file matches '%s'", lt_echoz(L, pat));
  else if (rc != 0)
    luaL_error(L, "scan: cannot list '%s'", lt_echoz(L, pat));
  if (g->gl_pathc > (size_t)LT_MAX_INT) luaL_error(L, "scan: too many files");
  *pn = (int)g->gl_pathc;
  return (const char **)g->gl_pathv;   /* sorted by glob; owned by the box */
}

static const char *const scan_keys[] = {
  "types", "sep", "header", "null", "skip", "comment", "max_field_size", "sample_bytes",
  "progress", NULL
};

/* tally.scan(source [, opts]), over share `share` of `nshares` of the morsels. */
static int scan_new(lua_State *L, int share, int nshares) {
  tl_scan_options o;
  tl_csv_options csv;
  tl_error err;
  int n = 0;
  const char **paths = NULL;
  tl_scan_options_init(&o);
  tl_csv_options_init(&csv);
  lua_settop(L, 2);
  if (!lua_isnil(L, 2)) {
    if (!lua_istable(L, 2))
      return luaL_error(L, "scan: options must be a table, got %s", luaL_typename(L, 2));
    lt_check_options(L, 2, "scan", scan_keys);
    lt_csv_option_values(L, 2, "scan", &csv);
    lua_getfield(L, 2, "sample_bytes");
    o.sample_bytes = lt_opt_int(L, -1, "scan", "option 'sample_bytes'", 1, LUA_MAXINTEGER, 0);
  }
  o.csv = &csv;
  o.share = share;
  o.nshares = nshares;
  tl_table *t = NULL;
  if (lua_type(L, 1) == LUA_TUSERDATA) t = tally_check_table(L, 1);
  else if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TTABLE) paths = paths_arg(L, &n);
  else return luaL_argerror(L, 1, "scan: expected a path, a list of paths, a glob or a table");
  lt_scan *u = new_scan(L);
  if (lt_bar_wanted(L, 2, "scan") && share == 0) {   /* the bar lives in the source's userdata */
    u->barp = &u->bar;
    lt_bar_start(u->barp, "scan", 1);
    o.progress = lt_bar_draw;
    o.progress_ud = u->barp;
  }
  err.message[0] = '\0';
  if (t) lt_call(L, tl_scan_table(t, &o, &u->s, &err), &err);
  else lt_call(L, tl_scan_files(n, paths, &o, &u->s, &err), &err);
  return 1;
}

static int l_scan(lua_State *L) { return scan_new(L, 0, 0); }

int lt_scan_shared(lua_State *L, int share, int nshares) {
  scan_new(L, share, nshares);
  ((lt_scan *)lua_touserdata(L, -1))->shared = 1;
  return 1;
}

/* lt_call for a verb: an error of tl_table_new ("table: duplicate column
** name 'x'") is the verb's, as the table's verbs say it. */
static void verb_call(lua_State *L, const char *op, tl_status st, tl_error *err) {
  if (st != TL_OK && strcmp(tl_error_op(err), "table") == 0) tl_error_rename(err, op);
  lt_call(L, st, err);
}

/* A verb: the new scan of `st`'s call, made into u. */
#define VERB(L, op, call) do { \
    lt_scan *u_ = derive(L, 1); \
    tl_error err_; \
    err_.message[0] = '\0'; \
    tl_scan **out = &u_->s; \
    tl_error *err = &err_; \
    verb_call(L, (op), (call), err); \
    return 1; \
  } while (0)

/* A verb with the Lua aggregates and functions in scope: VERB, with the
** scope's anchors kept by the new scan. */
#define SCOPED_VERB(L, op, in, call) do { \
    tl_scope scope; \
    lt_scan *u_ = derive(L, in); \
    push_scope(L, &scope); \
    lua_setiuservalue(L, -2, 2); \
    tl_error err_; \
    err_.message[0] = '\0'; \
    tl_scan **out = &u_->s; \
    tl_error *err = &err_; \
    verb_call(L, (op), (call), err); \
    return 1; \
  } while (0)

static int s_filter(lua_State *L) {
  tl_scan *s = check_scan(L, 1);
  const char *e = string_arg(L, 2, "filter: expression");
  SCOPED_VERB(L, "filter", 1, tl_scan_filter_with(s, e, &scope, out, err));
}

typedef tl_status (*names_fn)(const tl_scan *s, int n, const char *const *v, tl_scan **out,
                              tl_error *err);

static int names_verb(lua_State *L, const char *op, int names, names_fn fn) {
  tl_scan *s = check_scan(L, 1);
  int n;
  const char **v = lt_string_args(L, 2, op, names, &n);
  VERB(L, op, fn(s, n, v, out, err));
}

/* s:mutate("name = expr", ... [, { order_by =, partition_by = }]), as the
** table's mutate. */
static int s_mutate(lua_State *L) {
  tl_scan *s = check_scan(L, 1);
  int n;
  tl_window_options win;
  lt_definitions_to_strings(L, 2);
  int first = lt_mutate_options(L, &win);
  const char **v = lt_string_args(L, first, "mutate", 0, &n);
  SCOPED_VERB(L, "mutate", 1, tl_scan_mutate_ex(s, n, v, &scope, &win, out, err));
}
static int s_select(lua_State *L) { return names_verb(L, "select", 1, tl_scan_select); }
static int s_drop(lua_State *L) { return names_verb(L, "drop", 1, tl_scan_drop); }
static int s_distinct(lua_State *L) { return names_verb(L, "distinct", 1, tl_scan_distinct); }
static int s_sort(lua_State *L) { return names_verb(L, "sort", 1, tl_scan_sort); }

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* s:rename{ old = "new", ... }, in the order of the old names. */
static int s_rename(lua_State *L) {
  tl_scan *s = check_scan(L, 1);
  int n = 0;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      return luaL_error(L, "rename: expected a table { old = \"new\", ... } of strings");
    lt_cstring(L, -2, "rename: a name to rename");
    lt_cstring(L, -1, "rename: a new name");
    if (n == LT_MAX_INT) return luaL_error(L, "rename: too many names");
    n++;
    lua_pop(L, 1);
  }
  const char **from = lua_newuserdatauv(L, sizeof *from * (size_t)(n > 0 ? n : 1), 0);
  const char **to = lua_newuserdatauv(L, sizeof *to * (size_t)(n > 0 ? n : 1), 0);
  int i = 0;
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    from[i++] = lua_tostring(L, -2);
    lua_pop(L, 1);
  }
  qsort(from, (size_t)n, sizeof *from, cmp_names);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, from[i]);
    lua_rawget(L, 2);
    to[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  VERB(L, "rename", tl_scan_rename(s, n, from, to, out, err));
}

static int s_agg(lua_State *L) {
  tl_scan *s = check_scan(L, 1);
  int n;
  lt_definitions_to_strings(L, 2);
  const char **defs = lt_string_args(L, 2, "agg", 0, &n);
  SCOPED_VERB(L, "agg", 1, tl_scan_agg_with(s, 0, NULL, n, defs, &scope, out, err));
}

static int s_head(lua_State *L) {
  tl_scan *s = check_scan(L, 1);
  lua_Integer n = lt_opt_int(L, 2, "head", "the number of rows", 0, LUA_MAXINTEGER, 10);
  VERB(L, "head", tl_scan_head(s, (int64_t)n, out, err));
}

static int s_top(lua_State *L) {
  tl_scan *s = check_scan(L, 1);
  lua_Integer count = lt_check_int(L, 2, "top", "the number of rows", 0, LUA_MAXINTEGER);
  int n;
  const char **keys = lt_string_args(L, 3, "top", 1, &n);
  if (n == 0) return luaL_error(L, "top: expected at least one key");
  VERB(L, "top", tl_scan_top(s, (int64_t)count, n, keys, out, err));
}

/* s:group_by(keys...): a tally.ScanGrouping, whose agg makes the scan.
** User values: 1 the scan, 2 the array of keys. */
static int s_group_by(lua_State *L) {
  tl_scan *s = check_scan(L, 1);
  int n;
  const char **keys = lt_string_args(L, 2, "group_by", 1, &n);
  if (n == 0) return luaL_error(L, "group_by: expected at least one key");
  for (int k = 0; k < n; k++)
    if (tl_table_find(tl_scan_schema(s), keys[k]) < 0)
      return lt_unknown_column(L, "group_by", tl_scan_schema(s), keys[k]);
  lua_newuserdatauv(L, 0, 2);
  luaL_setmetatable(L, LT_SCANGROUP);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  lua_createtable(L, n, 0);
  for (int k = 0; k < n; k++) {
    lua_pushstring(L, keys[k]);
    lua_rawseti(L, -2, k + 1);
  }
  lua_setiuservalue(L, -2, 2);
  return 1;
}

static int g_agg(lua_State *L) {
  luaL_checkudata(L, 1, LT_SCANGROUP);
  int nk, n;
  lt_definitions_to_strings(L, 2);
  const char **defs = lt_string_args(L, 2, "agg", 0, &n);   /* anchored above the args */
  lua_getiuservalue(L, 1, 1);
  int in = lua_gettop(L);
  tl_scan *s = check_scan(L, in);
  lua_getiuservalue(L, 1, 2);
  const char **keys = lt_string_args(L, lua_gettop(L), "agg", 1, &nk);
  SCOPED_VERB(L, "agg", in, tl_scan_agg_with(s, nk, keys, n, defs, &scope, out, err));
}

/* Readies a run of the scan at 1: its Lua code calls into L, its bar (if
** any) starts afresh. */
static tl_scan *start_run(lua_State *L, const char *op) {
  tl_scan *s = check_scan(L, 1);
  lt_scan *u = lua_touserdata(L, 1);
  bind_scopes(L, 1);
  if (u->barp) lt_bar_start(u->barp, op, 1);
  u->running++;
  return s;
}

/* After every start_run, before anything can raise: the scan closed
** meanwhile is freed once no run of it is left. */
static void end_run(lua_State *L) {
  lt_scan *u = lua_touserdata(L, 1);
  if (u->barp) lt_bar_end(u->barp);
  if (--u->running == 0 && u->held) {
    tl_scan_free(u->held);
    u->held = NULL;
  }
}

static int s_collect(lua_State *L) {
  lt_scan *u = luaL_checkudata(L, 1, LT_SCAN);
  if (u->shared) {   /* every rank's share, combined: tally.mpi's */
    check_scan(L, 1);
    lua_settop(L, 1);
    if (lua_getfield(L, LUA_REGISTRYINDEX, LT_SCAN_COLLECTIVE) != LUA_TFUNCTION)
      return luaL_error(L, "collect: tally.mpi is not loaded");
    lua_pushvalue(L, 1);
    lua_pushlightuserdata(L, start_run(L, "scan"));
    int st = lua_pcall(L, 2, 1, 0);   /* end_run before its error goes on */
    end_run(L);
    if (st != LUA_OK) return lua_error(L);
    return 1;
  }
  check_scan(L, 1);
  lt_table *ud = lt_new_table(L);   /* before the run: it may raise */
  tl_scan *s = start_run(L, "scan");
  tl_error err;
  err.message[0] = '\0';
  tl_status st = tl_scan_collect(s, &ud->t, &err);
  end_run(L);
  lt_call(L, st, &err);
  return 1;
}

/* A writer of a scan of tally.mpi.scan is refused: its collect() is the
** collective run. */
static void not_shared(lua_State *L, const char *op) {
  check_scan(L, 1);
  if (((lt_scan *)lua_touserdata(L, 1))->shared)
    luaL_error(L, "%s: a scan of tally.mpi.scan is collected (its result is a distributed "
                  "table or a table)", op);
}

static int s_write_csv(lua_State *L) {
  not_shared(L, "write_csv");
  const char *path = string_arg(L, 2, "write_csv: path");
  if (!lua_isnoneornil(L, 3)) {   /* t:write_csv's options would be silently lost */
    static const char *const none[] = { NULL };
    if (!lua_istable(L, 3))
      return luaL_error(L, "write_csv: options must be a table, got %s", luaL_typename(L, 3));
    lt_check_options(L, 3, "write_csv", none);
  }
  tl_scan *s = start_run(L, "scan");
  tl_error err;
  err.message[0] = '\0';
  tl_status st = tl_scan_write_csv(s, path, &err);
  end_run(L);
  lt_call(L, st, &err);
  return 0;
}

/* s:join(table, { on =, how =, suffix = }), as t:join; the table is kept
** by the scan. */
static int s_join(lua_State *L) {
  tl_scan *s = check_scan(L, 1);
  tl_table *right = tally_check_table(L, 2);
  tl_join_options o;
  lt_join_options(L, &o);
  VERB(L, "join", tl_scan_join(s, right, &o, out, err));
}

static int s_write_parquet(lua_State *L) {
  not_shared(L, "write_parquet");
  const char *path = string_arg(L, 2, "write_parquet: path");
  tl_parquet_write_options o;
  lt_parquet_write_options(L, &o);
  tl_scan *s = start_run(L, "scan");   /* after the options: their errors start nothing */
  tl_error err;
  err.message[0] = '\0';
  tl_status st = tl_scan_write_parquet(s, path, &o, &err);
  end_run(L);
  lt_call(L, st, &err);
  return 0;
}

static int s_write_arrow(lua_State *L) {
  not_shared(L, "write_arrow");
  const char *path = string_arg(L, 2, "write_arrow: path");
  tl_arrow_write_options o;
  lt_arrow_write_options(L, &o);
  tl_scan *s = start_run(L, "scan");
  tl_error err;
  err.message[0] = '\0';
  tl_status st = tl_scan_write_arrow(s, path, &o, &err);
  end_run(L);
  lt_call(L, st, &err);
  return 0;
}

static void free_text(void *p) { tl_free(p); }

static int s_explain(lua_State *L) {
  tl_scan *s = check_scan(L, 1);
  lt_box *box = lt_newbox(L, free_text);
  tl_error err;
  err.message[0] = '\0';
  char *text = NULL;
  lt_call(L, tl_scan_explain(s, &text, &err), &err);
  box->p = text;
  lua_pushstring(L, text);
  return 1;
}

static int s_names(lua_State *L) {
  const tl_table *t = tl_scan_schema(check_scan(L, 1));
  lua_createtable(L, tl_table_ncols(t), 0);
  for (int j = 0; j < tl_table_ncols(t); j++) {
    lua_pushstring(L, tl_table_name(t, j));
    lua_rawseti(L, -2, j + 1);
  }
  return 1;
}

static int s_tostring(lua_State *L) {
  lt_scan *u = luaL_checkudata(L, 1, LT_SCAN);
  if (!u->s) lua_pushliteral(L, "tally.Scan (closed)");
  else lua_pushfstring(L, "tally.Scan (%d columns)", tl_table_ncols(tl_scan_schema(u->s)));
  return 1;
}

/* tally.memory_limit([bytes]): the limit of the state's env (0: none),
** set when bytes is given; returns the limit before and the bytes in use. */
static int l_memory_limit(lua_State *L) {
  size_t was = tl_env_memory_limit(NULL);
  if (!lua_isnoneornil(L, 1)) {
    lua_Integer b = lt_check_int(L, 1, "memory_limit", "the number of bytes", 0, LUA_MAXINTEGER);
    tl_env_set_memory_limit(NULL, (size_t)b);
  }
  lua_pushinteger(L, (lua_Integer)was);
  lua_pushinteger(L, (lua_Integer)tl_env_memory(NULL));
  return 2;
}

/* TALLY_MEMORY_LIMIT: bytes, or a number with a unit (KB, MB, GB, TB in
** powers of 1000; KiB, MiB, GiB, TiB in powers of 1024; 0: none); *set 0
** when unset. */
static size_t limit_from_env(lua_State *L, int *set) {
  static const struct { const char *u; double m; } units[] = {
    {"", 1}, {"B", 1}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}
  };
  const char *v = getenv("TALLY_MEMORY_LIMIT");
  *set = v && *v;
  if (!*set) return 0;
  const char *p = v;
  while (*p == ' ') p++;
  char *end;
  double x = strtod(p, &end);
  int number = end != p && (*p == '.' || (*p >= '0' && *p <= '9'));   /* not "", "GB", "inf" */
  while (*end == ' ') end++;
  for (size_t k = 0; number && k < sizeof units / sizeof units[0]; k++)
    if (x >= 0 && strcasecmp(end, units[k].u) == 0 && x * units[k].m < 9e18 &&
        (x == 0 || x * units[k].m >= 1))   /* "0.1" is not a byte, nor none */
      return (size_t)(x * units[k].m);
  luaL_error(L, "TALLY_MEMORY_LIMIT: cannot read '%s' (bytes, or a number with KB, MB, GB, "
             "KiB, MiB or GiB)", lt_echoz(L, v));
  return 0;
}

static const luaL_Reg scan_methods[] = {
  {"filter", s_filter}, {"mutate", s_mutate}, {"select", s_select}, {"drop", s_drop},
  {"rename", s_rename}, {"group_by", s_group_by}, {"agg", s_agg}, {"head", s_head},
  {"top", s_top}, {"distinct", s_distinct}, {"sort", s_sort}, {"collect", s_collect},
  {"write_csv", s_write_csv}, {"explain", s_explain}, {"names", s_names},
  {"join", s_join}, {"write_parquet", s_write_parquet}, {"write_arrow", s_write_arrow},
  {NULL, NULL}
};

void lt_open_scan(lua_State *L) {
  int set;
  size_t limit = limit_from_env(L, &set);
  /* over the default, not over a limit the embedder gave the env */
  if (set && tl_env_memory_limit(NULL) == tl_memory_limit_default())
    tl_env_set_memory_limit(NULL, limit);
  if (luaL_newmetatable(L, LT_SCAN)) {
    luaL_newlib(L, scan_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, s_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, s_gc);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, s_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, LT_SCANGROUP)) {
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, g_agg);
    lua_setfield(L, -2, "agg");
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_scan);
  lua_setfield(L, -2, "scan");
  lua_pushcfunction(L, l_memory_limit);
  lua_setfield(L, -2, "memory_limit");
}
