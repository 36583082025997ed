/*
** tally_lua.c -- the module table: loading (read_csv, from_columns), the
** null sentinel, values crossing into Lua, and the helpers the Table and
** Column files share.
*/
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lauxlib.h"
#include "lua.h"

#include "ldisplay.h"
#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"

/* ---------------------------------------------------------------------------
** Boxes
*/

static int box_gc(lua_State *L) {
  lt_box_free(luaL_checkudata(L, 1, LT_BOX));
  return 0;
}

void lt_box_free(lt_box *b) {
  if (b->p != NULL && b->free != NULL)
    b->free(b->p);
  b->p = NULL;
}

lt_box *lt_newbox(lua_State *L, void (*freefn)(void *p)) {
  lt_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->p = NULL;
  b->free = freefn;
  luaL_setmetatable(L, LT_BOX);
  return b;
}

/* ---------------------------------------------------------------------------
** Envs. Each state runs the core under an env of its own (tl_env), kept in
** its registry; a worker state or a sandbox lends theirs before opening
** the module. Every C function the module registers is wrapped so that a
** call enters the state's env on the calling thread: a thread-local store,
** the same frame (error messages name the function as before). The thread
** stays in that env after the call, so a host's clearing of an interrupt
** after a call (the CLI's) reaches the state's env.
*/

typedef struct env_box {
  tl_env *env;
  int owned;
} env_box;

static int env_gc(lua_State *L) {
  env_box *b = lua_touserdata(L, 1);
  if (!b->owned) return 0;   /* lent: a worker state closes inside its parent's call */
  if (tl_env_current() == b->env) tl_env_use(NULL);   /* the closing thread leaves it */
  tl_env_free(b->env);
  b->env = NULL;
  return 0;
}

/* A new, empty box under the registry key LT_ENV. */
static env_box *new_env_box(lua_State *L) {
  env_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->env = NULL;
  b->owned = 0;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, env_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, LT_ENV);
  return b;
}

void lt_lend_env(lua_State *L, tl_env *env) { new_env_box(L)->env = env; }

tl_env *tally_lua_env(lua_State *L) {
  tl_env *env = NULL;
  if (lua_getfield(L, LUA_REGISTRYINDEX, LT_ENV) == LUA_TUSERDATA)
    env = ((env_box *)lua_touserdata(L, -1))->env;
  lua_pop(L, 1);
  return env;
}

/* The state's env: lent, or made now, with the allocator and the thread
** count of the default env. */
static tl_env *open_env(lua_State *L) {
  tl_env *env = tally_lua_env(L);
  if (env) return env;
  env_box *b = new_env_box(L);   /* first: a Lua error here leaks nothing */
  tl_env_options o = { 0 };
  tl_error err;
  tl_env *prev = tl_env_use(NULL);   /* the default's, not another state's */
  tl_get_allocator(&o.alloc, &o.alloc_ud);
  o.threads = tl_get_threads();
  tl_env_use(prev);
  if (tl_env_new(&o, &env, &err) != TL_OK) luaL_error(L, "tally: %s", err.message);
  b->env = env;
  b->owned = 1;
  return env;
}

/* The wrappers, one per number n of the wrapped function's own upvalues:
** upvalue n + 1 is the env, n + 2 the function. */
#define ENTER(n) \
  static int enter##n(lua_State *L) { \
    tl_env_use(lua_touserdata(L, lua_upvalueindex(n + 1))); \
    return lua_tocfunction(L, lua_upvalueindex(n + 2))(L); \
  }
ENTER(0)
ENTER(1)
ENTER(2)
ENTER(3)
static const lua_CFunction enters[] = { enter0, enter1, enter2, enter3 };

static int is_enter(lua_CFunction f) {
  for (int n = 0; n < 4; n++)
    if (f == enters[n]) return 1;
  return 0;
}

static void wrap_table(lua_State *L, int t, tl_env *env, int seen);

/* Replaces the C function at the top of the stack with its wrapper (one
** per function, so that __gc == __close still holds); the tables among
** its upvalues (methods behind an __index) are walked too. */
static void wrap_top(lua_State *L, tl_env *env, int seen) {
  int f = lua_gettop(L), n = 0;
  lua_CFunction cf = lua_tocfunction(L, f);
  if (!cf || is_enter(cf)) return;
  lua_pushvalue(L, f);
  if (lua_rawget(L, seen) == LUA_TFUNCTION) { lua_replace(L, f); return; }
  lua_pop(L, 1);
  while (lua_getupvalue(L, f, n + 1)) {
    if (lua_type(L, -1) == LUA_TTABLE) wrap_table(L, lua_gettop(L), env, seen);
    n++;
  }
  if (n > 3) { lua_settop(L, f); return; }   /* left as it is (none such today) */
  lua_pushlightuserdata(L, env);
  lua_pushcfunction(L, cf);
  lua_pushcclosure(L, enters[n], n + 2);
  lua_pushvalue(L, f);
  lua_pushvalue(L, -2);
  lua_rawset(L, seen);
  lua_replace(L, f);
}

/* Wraps the C functions in table t (once per table). */
static void wrap_table(lua_State *L, int t, tl_env *env, int seen) {
  luaL_checkstack(L, 8, "tally");
  lua_pushvalue(L, t);
  if (lua_rawget(L, seen) != LUA_TNIL) { lua_pop(L, 1); return; }
  lua_pop(L, 1);
  lua_pushvalue(L, t);
  lua_pushboolean(L, 1);
  lua_rawset(L, seen);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    if (lua_iscfunction(L, -1)) {
      wrap_top(L, env, seen);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, t);   /* an existing key: lua_next goes on */
    } else {
      if (lua_type(L, -1) == LUA_TTABLE) wrap_table(L, lua_gettop(L), env, seen);
      lua_pop(L, 1);
    }
  }
}

/* The module table at idx and the metatables of the module's types. */
static void wrap_module(lua_State *L, int idx, tl_env *env) {
  idx = lua_absindex(L, idx);
  lua_newtable(L);
  int seen = lua_gettop(L);
  wrap_table(L, idx, env, seen);
  lua_pushnil(L);
  while (lua_next(L, LUA_REGISTRYINDEX)) {
    int meta = 0;   /* a table of luaL_newmetatable: its __name is its key */
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TTABLE &&
        strncmp(lua_tostring(L, -2), "tally.", 6) == 0) {
      meta = lua_getfield(L, -1, "__name") == LUA_TSTRING &&
             strcmp(lua_tostring(L, -1), lua_tostring(L, -3)) == 0;
      lua_pop(L, 1);
    }
    if (meta) wrap_table(L, lua_gettop(L), env, seen);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

int lt_copy_entered(lua_State *M, int idx, lua_State *W) {
  if (lua_tocfunction(M, idx) != enter0) return 0;
  lua_getupvalue(M, idx, 2);
  lua_CFunction cf = lua_tocfunction(M, -1);
  lua_pop(M, 1);
  lua_pushlightuserdata(W, tally_lua_env(W));
  lua_pushcfunction(W, cf);
  lua_pushcclosure(W, enter0, 2);
  return 1;
}

/* ---------------------------------------------------------------------------
** Null and values
*/

void lt_push_null(lua_State *L) { lua_getfield(L, LUA_REGISTRYINDEX, LT_NULLVALUE); }

int lt_isnull(lua_State *L, int idx) {
  int r;
  if (lua_isnil(L, idx))
    return 1;
  if (lua_type(L, idx) != LUA_TUSERDATA)
    return 0;
  idx = lua_absindex(L, idx);
  lt_push_null(L);
  r = lua_rawequal(L, idx, -1);
  lua_pop(L, 1);
  return r;
}

static int null_tostring(lua_State *L) {
  lua_pushliteral(L, "null");
  return 1;
}

void lt_push_scalar(lua_State *L, const tl_scalar *v) {
  char buf[64];
  size_t n;
  if (v->is_null) {
    lua_pushnil(L);
    return;
  }
  switch (v->type) {
    case TL_BOOL: lua_pushboolean(L, v->v.b); break;
    case TL_INT: lua_pushinteger(L, (lua_Integer)v->v.i); break;
    case TL_FLOAT: lua_pushnumber(L, (lua_Number)v->v.f); break;
    case TL_STRING: lua_pushlstring(L, v->v.s.ptr ? v->v.s.ptr : "", v->v.s.len); break;
    default:                                     /* dates and timestamps */
      n = tl_scalar_format(v, buf, sizeof buf);
      lua_pushlstring(L, buf, n < sizeof buf ? n : sizeof buf - 1);
      break;
  }
}

void lt_check_file(lua_State *L, const tl_column *c, const char *op) {
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_column_check_file(c, op, &err), &err);
}

void lt_check_files(lua_State *L, const tl_table *t, const char *op) {
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_table_check_files(t, op, &err), &err);
}

void lt_push_value(lua_State *L, const tl_column *c, int64_t i) {
  tl_scalar v;
  tl_column_get(c, i, &v);
  lt_push_scalar(L, &v);
}

void lt_add_quoted(luaL_Buffer *b, const char *s, size_t len) {
  size_t i;
  luaL_addchar(b, '"');
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      luaL_addchar(b, '\\');
      luaL_addchar(b, (char)c);
    } else if (c == '\n') {
      luaL_addstring(b, "\\n");
    } else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\%d", c);
      luaL_addstring(b, esc);
    } else {
      luaL_addchar(b, (char)c);
    }
  }
  luaL_addchar(b, '"');
}

void lt_add_scalar(luaL_Buffer *b, const tl_scalar *v) {
  char buf[64];
  size_t n;
  if (!v->is_null && v->type == TL_STRING) {
    lt_add_quoted(b, v->v.s.ptr ? v->v.s.ptr : "", v->v.s.len);
    return;
  }
  n = tl_scalar_format(v, buf, sizeof buf);
  if (n >= sizeof buf)
    n = sizeof buf - 1;
  if (!v->is_null && (v->type == TL_DATE || v->type == TL_TIMESTAMP))
    lt_add_quoted(b, buf, n);
  else
    luaL_addlstring(b, buf, n);
}

int lt_core_error(lua_State *L, tl_status st, const tl_error *err) {
  if (err != NULL && err->message[0] != '\0')
    return luaL_error(L, "%s", err->message);
  return luaL_error(L, "tally: %s", tl_status_string(st));
}

void lt_call(lua_State *L, tl_status st, const tl_error *err) {
  if (st != TL_OK)
    lt_core_error(L, st, err);
}

int lt_unknown_column(lua_State *L, const char *op, const tl_table *t, const char *name) {
  const char *near = tl_table_suggest(t, name);
  name = lt_echoz(L, name);
  if (near != NULL)
    return luaL_error(L, "%s: unknown column '%s' (did you mean '%s'?)", op, name, near);
  return luaL_error(L, "%s: unknown column '%s'", op, name);
}

/* ---------------------------------------------------------------------------
** read_csv
*/

static int opt_bool(lua_State *L, int idx, const char *op, const char *key) {
  if (!lua_isboolean(L, idx))
    luaL_error(L, "%s: option '%s' must be a boolean, got %s", op, key,
               luaL_typename(L, idx));
  return lua_toboolean(L, idx);
}

static lua_Integer opt_int(lua_State *L, int idx, const char *op, const char *key,
                           lua_Integer min, lua_Integer max) {
  char what[48];
  snprintf(what, sizeof what, "option '%s'", key);
  return lt_check_int(L, idx, op, what, min, max);
}

/* The strings of the list option at idx (raw, bounded, no NUL inside), as
** an array in a userdata left on the stack; *pn their number. */
static const char **opt_strings(lua_State *L, int idx, const char *op, const char *key,
                                const char *what, int *pn) {
  char name[48];
  int n, i;
  const char **list;
  snprintf(name, sizeof name, "option '%s'", key);
  n = (int)lt_array_len(L, idx, op, name, LT_OTHER_KEYS, LT_MAX_INT);
  list = lua_newuserdatauv(L, sizeof *list * (size_t)(n > 0 ? n : 1), 0);
  for (i = 0; i < n; i++) {
    if (lua_rawgeti(L, idx, i + 1) != LUA_TSTRING)
      luaL_error(L, "%s: option '%s' must be %s", op, key, what);
    list[i] = lt_cstring(L, -1, "%s: option '%s' entry %d", op, key, i + 1);   /* anchored */
    lua_pop(L, 1);
  }
  *pn = n;
  return list;
}

/* Each option of read_csv is read by one setter from the value at idx,
** which stays on the stack until the load ends: strings handed to the core
** stay referenced from it, and arrays live in userdata pushed above it, so
** an error raised half-way leaks nothing. */
typedef void (*csv_setter)(lua_State *L, int idx, const char *op, tl_csv_options *o);

static void set_sep(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  size_t len;
  const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : NULL;
  if (s == NULL || len != 1)
    luaL_error(L, "%s: option 'sep' must be a one-character string", op);
  o->sep = s[0];
}

static void set_header(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  o->header = opt_bool(L, idx, op, "header");
}

static void set_null(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  int n;
  const char **list;
  if (lua_type(L, idx) == LUA_TSTRING) {
    list = lua_newuserdatauv(L, sizeof *list, 0);
    list[0] = lt_cstring(L, idx, "%s: option 'null'", op);
    n = 1;
  } else if (lua_type(L, idx) == LUA_TTABLE) {
    list = opt_strings(L, idx, op, "null", "a string or a list of strings", &n);
  } else {
    luaL_error(L, "%s: option 'null' must be a string or a list of strings", op);
    return;
  }
  o->nulls = list;
  o->nnulls = n;
}

static void set_types(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  int n = 0;
  const char **names;
  tl_type *types;
  if (!lua_istable(L, idx))
    luaL_error(L, "%s: option 'types' must be a table {column = type}", op);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    n++;
    lua_pop(L, 1);
  }
  names = lua_newuserdatauv(L, sizeof *names * (size_t)(n > 0 ? n : 1), 0);
  types = lua_newuserdatauv(L, sizeof *types * (size_t)(n > 0 ? n : 1), 0);
  const char **fmts = lua_newuserdatauv(L, sizeof *fmts * (size_t)(n > 0 ? n : 1), 0);
  int nfmts = 0;
  n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    const char *tn;
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "%s: option 'types' must map column names to type names", op);
    tn = lt_cstring(L, -1, "%s: option 'types'", op);
    fmts[n] = NULL;
    const char *colon = strchr(tn, ':');   /* "date:%d.%m.%Y": a type and its format */
    if (colon && (strncmp(tn, "date:", 5) == 0 || strncmp(tn, "timestamp:", 10) == 0)) {
      fmts[n] = colon + 1;   /* anchored: the string is the table's value */
      nfmts++;
      types[n] = tn[0] == 'd' ? TL_DATE : TL_TIMESTAMP;
    } else {
      types[n] = tl_type_from_name(tn);
    }
    if (types[n] == 0) {
      const char *col = lt_echoz(L, lua_tostring(L, -2));
      luaL_error(L, "%s: option 'types': unknown type '%s' for column '%s'", op,
                 lt_echoz(L, tn), col);
    }
    names[n++] = lt_cstring(L, -2, "%s: option 'types' key", op);   /* anchored as a key */
    lua_pop(L, 1);
  }
  o->type_names = names;
  o->types = types;
  o->type_formats = nfmts ? fmts : NULL;
  o->ntypes = n;
}

static void set_dateformat(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  if (lua_type(L, idx) != LUA_TSTRING)
    luaL_error(L, "%s: option 'dateformat' must be a strptime format such as '%%d/%%m/%%Y'", op);
  o->dateformat = lt_cstring(L, idx, "%s: option 'dateformat'", op);
}

static void set_timestampformat(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  if (lua_type(L, idx) != LUA_TSTRING)
    luaL_error(L, "%s: option 'timestampformat' must be a strptime format", op);
  o->timestampformat = lt_cstring(L, idx, "%s: option 'timestampformat'", op);
}

static void set_skip(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  o->skip = (int)opt_int(L, idx, op, "skip", 0, LT_MAX_INT);
}

static void set_comment(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  if (lua_type(L, idx) != LUA_TSTRING)
    luaL_error(L, "%s: option 'comment' must be a string", op);
  o->comment = lt_cstring(L, idx, "%s: option 'comment'", op);
}

static void set_infer(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  o->infer = opt_bool(L, idx, op, "infer");
}

static void set_columns(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  int n;
  if (!lua_istable(L, idx))
    luaL_error(L, "%s: option 'columns' must be a list of column names", op);
  o->columns = opt_strings(L, idx, op, "columns", "a list of column names", &n);
  o->ncolumns = n;
}

static void set_max_rows(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  o->max_rows = (int64_t)opt_int(L, idx, op, "max_rows", 0, LUA_MAXINTEGER);
}

static void set_on_error(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  const char *e = lua_type(L, idx) == LUA_TSTRING
                      ? lt_cstring(L, idx, "%s: option 'on_error'", op) : "";
  if (strcmp(e, "skip") == 0)
    o->on_error = TL_CSV_SKIP;
  else if (strcmp(e, "error") == 0)
    o->on_error = TL_CSV_FAIL;
  else
    luaL_error(L, "%s: option 'on_error' must be \"error\" or \"skip\"", op);
}

static void set_max_field_size(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  o->max_field_size = (size_t)opt_int(L, idx, op, "max_field_size", 1, LUA_MAXINTEGER);
}

/* The byte range of a part of the file (see tl_csv_options). */
static void set_range_start(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  o->range_start = (int64_t)opt_int(L, idx, op, "range_start", 0, LUA_MAXINTEGER);
}

static void set_range_stop(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  o->range_stop = (int64_t)opt_int(L, idx, op, "range_stop", 0, LUA_MAXINTEGER);
}

static void set_range_quotes(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  lua_Integer q = opt_int(L, idx, op, "range_quotes", -1, LUA_MAXINTEGER);
  o->range_quotes = q < 0 ? -1 : (int)(q & 1);   /* the parity is what counts */
}

static void set_range_line(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  o->range_line = (int64_t)opt_int(L, idx, op, "range_line", 0, LUA_MAXINTEGER);
}

static void set_range_record(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  o->range_record = (int64_t)opt_int(L, idx, op, "range_record", 0, LUA_MAXINTEGER);
}

/* The options in the order they are read; progress is read_csv's own. */
static const struct {
  const char *key;
  csv_setter set;
} csv_opts[] = {
  {"sep", set_sep}, {"header", set_header}, {"null", set_null}, {"types", set_types},
  {"skip", set_skip}, {"comment", set_comment}, {"infer", set_infer},
  {"columns", set_columns}, {"max_rows", set_max_rows},
  {"on_error", set_on_error}, {"progress", NULL}, {"max_field_size", set_max_field_size},
  {"range_start", set_range_start}, {"range_stop", set_range_stop},
  {"range_quotes", set_range_quotes}, {"range_line", set_range_line},
  {"range_record", set_range_record},
  {"dateformat", set_dateformat}, {"timestampformat", set_timestampformat}, {NULL, NULL}
};

/* Fills o from the options table at index 2, option by option through
** csv_opts, after rejecting unknown keys; errors start with `op`. The values
** read stay on the stack (see csv_setter). */
static void csv_options(lua_State *L, const char *op, tl_csv_options *o) {
  enum { NOPTS = sizeof csv_opts / sizeof csv_opts[0] };
  const char *keys[NOPTS];
  int i;
  luaL_checktype(L, 2, LUA_TTABLE);
  for (i = 0; i < NOPTS; i++)
    keys[i] = csv_opts[i].key;                   /* NULL-terminated, as csv_opts */
  lt_check_options(L, 2, op, keys);
  luaL_checkstack(L, 2 * (int)(sizeof csv_opts / sizeof csv_opts[0]), op);
  for (i = 0; csv_opts[i].key != NULL; i++) {
    if (lua_getfield(L, 2, csv_opts[i].key) == LUA_TNIL)
      lua_pop(L, 1);
    else if (csv_opts[i].set != NULL)
      csv_opts[i].set(L, lua_gettop(L), op, o);
  }
}

void lt_csv_option_values(lua_State *L, int idx, const char *op, tl_csv_options *o) {
  int i;
  luaL_checkstack(L, 2 * (int)(sizeof csv_opts / sizeof csv_opts[0]), op);
  for (i = 0; csv_opts[i].key != NULL; i++) {
    if (lua_getfield(L, idx, csv_opts[i].key) == LUA_TNIL)
      lua_pop(L, 1);
    else if (csv_opts[i].set != NULL)
      csv_opts[i].set(L, lua_gettop(L), op, o);
  }
}

/* The progress bar: drawn on stderr once a load has run for a second, at
** most ten times a second, and erased at the end. The core calls it from
** its worker threads, one call at a time; it touches no Lua state. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void lt_bar_start(lt_bar *b, const char *op, int passes) {
  b->op = op;
  b->passes = passes;
  b->start = now();
  b->last = 0.0;
  b->drawn = 0;
}

void lt_bar_draw(void *ud, int pass, int64_t done, int64_t total) {
  lt_bar *b = ud;
  double t = now(), el = t - b->start, f, mb = 1024.0 * 1024.0;
  char cells[31];
  int k, full;
  if (el < 1.0 || t - b->last < 0.1 || total <= 0)
    return;
  b->last = t;
  f = ((double)(pass - 1) + (double)done / (double)total) / (double)b->passes;
  if (f > 1.0)
    f = 1.0;
  full = (int)(f * 30.0);
  for (k = 0; k < 30; k++)
    cells[k] = k < full ? '#' : '.';
  cells[30] = '\0';
  fprintf(stderr, "\r%s [%s] %3d%%  %.1f/%.1f MB  %.1f MB/s  %.0fs left\033[K",
          b->op, cells, (int)(f * 100.0), f * (double)total / mb, (double)total / mb,
          f * (double)total / mb / el, f > 0.0 ? el * (1.0 - f) / f : 0.0);
  fflush(stderr);
  b->drawn = 1;
}

void lt_bar_end(lt_bar *b) {
  if (!b->drawn)
    return;
  fputs("\r\033[K", stderr);
  fflush(stderr);
  b->drawn = 0;
}

int lt_bar_wanted(lua_State *L, int idx, const char *op) {
  int opt = -1;
  if (!lua_isnoneornil(L, idx)) {
    lua_getfield(L, idx, "progress");
    opt = lua_isnil(L, -1) ? -1 : opt_bool(L, lua_gettop(L), op, "progress");
    lua_pop(L, 1);
  }
  return opt == 1 || (opt == -1 && isatty(STDERR_FILENO));
}

void lt_push_weak_registry(lua_State *L, const char *key) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, key);
}

/* Pushes the registry's table of what loads learnt (rejects, reasons). */
static void push_csvmeta(lua_State *L) { lt_push_weak_registry(L, LT_CSVMETA); }

static void free_info(void *p) { tl_csv_info_free(p); }

/* read_csv and read_csv_string: arg 1 the path or the text, arg 2 the
** options. Leaves the table on the stack, its rejects and reasons recorded. */
static int read_csv(lua_State *L, int from_text) {
  const char *op = from_text ? "read_csv_string" : "read_csv";
  size_t len = 0;
  const char *src = from_text ? luaL_checklstring(L, 1, &len) : luaL_checkstring(L, 1);
  if (!from_text)
    lt_cstring(L, 1, "%s: path", op);
  tl_csv_options o;
  tl_error err;
  lt_table *ud;
  lt_box *box;
  tl_csv_info *info = NULL;
  tl_status st;
  lt_bar b;
  int j, n, tidx;
  tl_csv_options_init(&o);
  if (!lua_isnoneornil(L, 2))
    csv_options(L, op, &o);
  lt_bar_start(&b, op, 2);                        /* two passes: scan, then convert */
  if (lt_bar_wanted(L, 2, op)) {
    o.progress = lt_bar_draw;
    o.progress_ud = &b;
  }
  box = lt_newbox(L, free_info);                 /* owns the info once there is one */
  ud = lt_new_table(L);                          /* owns the result from the start */
  tidx = lua_gettop(L);
  err.message[0] = '\0';
  if (from_text)
    st = tl_read_csv_buffer_ex(src, len, "<string>", &o, &ud->t, &info, &err);
  else
    st = tl_read_csv_ex(src, &o, &ud->t, &info, &err);
  box->p = info;
  lt_bar_end(&b);
  lt_call(L, st, &err);
  push_csvmeta(L);
  lua_pushvalue(L, tidx);
  lua_createtable(L, 0, 3);
  tally_push_table(L, (tl_table *)tl_csv_info_rejects(info));  /* retains it */
  lua_setfield(L, -2, "rejects");
  lua_pushinteger(L, (lua_Integer)tl_csv_info_records(info));
  lua_setfield(L, -2, "records");
  n = tl_table_ncols(ud->t);
  lua_createtable(L, n, 0);
  for (j = 0; j < n; j++) {
    const char *why = tl_csv_info_reason(info, j);
    if (why == NULL)
      continue;
    lua_pushstring(L, why);
    lua_rawseti(L, -2, j + 1);
  }
  lua_setfield(L, -2, "reasons");
  lua_rawset(L, -3);                             /* meta[table] = { ... } */
  lua_pop(L, 1);
  n = (int)tl_table_nrows(tl_csv_info_rejects(info));
  if (n > 0)
    fprintf(stderr, "read_csv: %s: skipped %d of %lld records (see t:rejects())\n",
            from_text ? "<string>" : src, n, (long long)tl_csv_info_records(info));
  lt_box_free(box);
  lua_pushvalue(L, tidx);
  return 1;
}

/* The csv metadata of the table at idx pushed, or 0 with nothing pushed. */
static int push_table_csvmeta(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  push_csvmeta(L);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) != LUA_TTABLE) {
    lua_pop(L, 2);
    return 0;
  }
  lua_remove(L, -2);
  return 1;
}

/* t:rejects(): the records read_csv skipped, as a table (line, record,
** field, column, class, excerpt); nil for a table that read_csv did not
** return. */
int lt_table_rejects(lua_State *L) {
  tally_check_table(L, 1);
  if (!push_table_csvmeta(L, 1))
    return 0;
  lua_getfield(L, -1, "rejects");
  return 1;
}

void lt_record_reasons(lua_State *L, int tidx, const char *const *reasons, int n) {
  tidx = lua_absindex(L, tidx);
  push_csvmeta(L);
  lua_pushvalue(L, tidx);
  lua_createtable(L, 0, 1);
  lua_createtable(L, n, 0);
  for (int j = 0; j < n; j++) {
    if (!reasons[j]) continue;
    lua_pushstring(L, reasons[j]);
    lua_rawseti(L, -2, j + 1);
  }
  lua_setfield(L, -2, "reasons");
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

int lt_csv_reason(lua_State *L, int tidx, int j) {
  if (!push_table_csvmeta(L, tidx))
    return 0;
  lua_getfield(L, -1, "reasons");
  lua_remove(L, -2);
  if (lua_rawgeti(L, -1, j + 1) != LUA_TSTRING) {
    lua_pop(L, 2);
    return 0;
  }
  lua_remove(L, -2);
  return 1;
}

static int l_read_csv(lua_State *L) { return read_csv(L, 0); }

static int l_read_csv_string(lua_State *L) { return read_csv(L, 1); }

/* ---------------------------------------------------------------------------
** from_columns
*/

static void free_builder(void *p) { tl_builder_free(p); }

/* The number of rows of a Lua array: its largest integer key, so that nil
** holes (nulls) do not shorten it. */
static lua_Integer array_length(lua_State *L, int idx, const char *name, const char *op) {
  lua_Integer n;
  idx = lua_absindex(L, idx);
  lua_pushfstring(L, "column '%s'", lt_echoz(L, name));   /* over the echo */
  n = lt_array_len(L, idx, op, lua_tostring(L, -1), 0, LUA_MAXINTEGER);
  lua_pop(L, 2);
  return n;
}


/* Raises "<op>: interrupted" before row i of a long loop once an interrupt
** stands (Ctrl-C): a loop in C never reaches the Lua hook. Read every 64K rows. */
static void stop_if_interrupted(lua_State *L, lua_Integer i, const char *op) {
  if ((i & 0xffff) == 0 && tl_interrupted()) luaL_error(L, "%s: interrupted", op);
}

static const char *kind_name(tl_type t) {
  return t == TL_FLOAT || t == TL_INT ? "a number" : t == TL_BOOL ? "a boolean" : "a string";
}

/* The column type of the Lua array at idx; raises an error naming the
** column and the row when its values do not agree. */
static tl_type array_type(lua_State *L, int idx, lua_Integer n, const char *name,
                          const char *op) {
  tl_type type = 0, vt;
  lua_Integer i;
  for (i = 1; i <= n; i++) {
    stop_if_interrupted(L, i, op);
    int lt = lua_rawgeti(L, idx, i);
    if (lt == LUA_TNIL || lt_isnull(L, -1)) {
      lua_pop(L, 1);
      continue;
    }
    switch (lt) {
      case LUA_TNUMBER: vt = lua_isinteger(L, -1) ? TL_INT : TL_FLOAT; break;
      case LUA_TBOOLEAN: vt = TL_BOOL; break;
      case LUA_TSTRING: vt = TL_STRING; break;
      default: {
        const char *tn = luaL_typename(L, -1);   /* before the echo is pushed */
        return (tl_type)luaL_error(L, "%s: column '%s' row %I: unsupported value (%s)", op,
                                   lt_echoz(L, name), (lua_Integer)i, tn);
      }
    }
    if (type == 0 || type == vt || (type == TL_FLOAT && vt == TL_INT)) {
      if (type == 0)
        type = vt;
    } else if (type == TL_INT && vt == TL_FLOAT) {
      type = TL_FLOAT;
    } else {
      const char *tn = luaL_typename(L, -1);     /* before the echo is pushed */
      return (tl_type)luaL_error(L, "%s: column '%s' row %I: expected %s, got %s", op,
                                 lt_echoz(L, name), (lua_Integer)i, kind_name(type), tn);
    }
    lua_pop(L, 1);
  }
  return type == 0 ? TL_STRING : type;           /* all null: a string column */
}

/* n rows; those past the array's end are nulls. */
void lt_array_column(lua_State *L, int idx, lua_Integer n, const char *name, const char *op) {
  tl_type type;
  lt_box *box;
  tl_error err;
  tl_status st;
  tl_builder *nb = NULL;
  lt_column *ud;
  lua_Integer i;
  idx = lua_absindex(L, idx);
  type = array_type(L, idx, n, name, op);
  box = lt_newbox(L, free_builder);
  err.message[0] = '\0';
  st = tl_builder_new(type, (int64_t)n, &nb, &err);
  box->p = nb;
  for (i = 1; st == TL_OK && i <= n; i++) {
    stop_if_interrupted(L, i, op);               /* the box frees the builder */
    tl_builder *b = box->p;
    int lt = lua_rawgeti(L, idx, i);
    if (lt == LUA_TNIL || lt_isnull(L, -1)) {
      st = tl_builder_append_null(b, &err);
    } else {
      switch (type) {
        case TL_INT: st = tl_builder_append_int(b, (int64_t)lua_tointeger(L, -1), &err); break;
        case TL_FLOAT: st = tl_builder_append_float(b, (double)lua_tonumber(L, -1), &err); break;
        case TL_BOOL: st = tl_builder_append_bool(b, lua_toboolean(L, -1), &err); break;
        default: {
          size_t len;
          const char *s = lua_tolstring(L, -1, &len);
          st = tl_builder_append_string(b, s, len, &err);
          break;
        }
      }
    }
    lua_pop(L, 1);
  }
  ud = lt_new_column(L, name);                   /* will own the column */
  if (st == TL_OK) {
    tl_builder *b = box->p;
    box->p = NULL;                               /* finish frees it, also on error */
    st = tl_builder_finish(b, &ud->c, &err);
  }
  lt_call(L, st, &err);
  lua_remove(L, -2);                             /* the box, now empty */
}

/* A table from the array of {name, values} at 1; errors start with `op`. */
static int build_columns(lua_State *L, const char *op) {
  int ncol, j, cols;
  lua_Integer n = 0;
  const char **names;
  tl_column **cptrs;
  lt_table *ud;
  tl_error err;
  tl_status st;
  luaL_checktype(L, 1, LUA_TTABLE);
  ncol = (int)lt_array_len(L, 1, "from_columns", "the list of columns", LT_OTHER_KEYS,
                           LT_MAX_INT);
  names = lua_newuserdatauv(L, sizeof *names * (size_t)(ncol > 0 ? ncol : 1), 0);
  cptrs = lua_newuserdatauv(L, sizeof *cptrs * (size_t)(ncol > 0 ? ncol : 1), 0);
  lua_createtable(L, ncol, 0);                   /* the columns, kept alive here */
  cols = lua_gettop(L);

  /* first the names and the length, the same for every column */
  for (j = 1; j <= ncol; j++) {
    int vt;
    lua_Integer k = 0;
    if (lua_rawgeti(L, 1, j) != LUA_TTABLE || lua_rawgeti(L, -1, 1) != LUA_TSTRING)
      luaL_error(L, "%s: entry %d must be {name, values}", op, j);
    names[j - 1] = lt_cstring(L, -1, "%s: the name of entry %d", op, j);   /* anchored */
    vt = lua_rawgeti(L, -2, 2);
    if (vt == LUA_TTABLE) {
      k = array_length(L, lua_gettop(L), names[j - 1], op);
    } else if (luaL_testudata(L, -1, LT_COLUMN)) {
      lt_column *c = luaL_testudata(L, -1, LT_COLUMN);
      if (c->c == NULL)
        luaL_error(L, "%s: column '%s' is closed", op, lt_echoz(L, names[j - 1]));
      k = (lua_Integer)tl_column_length(c->c);
    } else {
      const char *tn = luaL_typename(L, -1);     /* before the echo is pushed */
      luaL_error(L, "%s: column '%s': expected an array or a column, got %s", op,
                 lt_echoz(L, names[j - 1]), tn);
    }
    if (j > 1 && k != n) {                       /* never padded: say which differ */
      const char *first = lt_echoz(L, names[0]);
      luaL_error(L, "%s: columns of different lengths: '%s' has %I row%s, '%s' has %I", op,
                 first, n, n == 1 ? "" : "s", lt_echoz(L, names[j - 1]), k);
    }
    n = k;
    lua_pop(L, 3);
  }
  for (j = 1; j <= ncol; j++) {
    lua_rawgeti(L, 1, j);
    lua_rawgeti(L, -1, 2);
    if (lua_istable(L, -1)) {
      lt_array_column(L, lua_gettop(L), n, names[j - 1], op);
    } else {
      lt_column *c = lt_check_column(L, -1);
      if ((lua_Integer)tl_column_length(c->c) != n)
        luaL_error(L, "%s: column '%s' has %I rows, expected %I", op, lt_echoz(L, names[j - 1]),
                   (lua_Integer)tl_column_length(c->c), (lua_Integer)n);
      lua_pushvalue(L, -1);
    }
    cptrs[j - 1] = lt_check_column(L, -1)->c;
    lua_rawseti(L, cols, j);
    lua_pop(L, 2);
  }
  ud = lt_new_table(L);
  err.message[0] = '\0';
  st = tl_table_new(ncol, names, cptrs, &ud->t, &err);
  if (st != TL_OK && err.message[0] != '\0' && strcmp(tl_error_op(&err), op) != 0)
    return luaL_error(L, "%s: %s", op, err.message);   /* "from_columns: table: ..." */
  lt_call(L, st, &err);
  return 1;
}

static int l_from_columns(lua_State *L) { return build_columns(L, "from_columns"); }

/* ---------------------------------------------------------------------------
** Utilities and the module
*/

static int l_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

/* tally.threads([n]): the number of worker threads, set when n is given
** (0: back to the default, TALLY_THREADS or the number of cores; at most
** 1024). */
static int l_threads(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) {
    tl_set_threads((int)lt_check_int(L, 1, "threads", "the number of threads", 0, 1024));
  }
  lua_pushinteger(L, tl_get_threads());
  return 1;
}

/* tally.from_rows(rows [, names]): an array of rows keyed by name, turned
** into columns; without `names`, the string keys of all rows in byte order.
** A key missing from a row is a null. */
static int l_from_rows(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer n = lt_array_len(L, 1, "from_rows", "the rows", LT_OTHER_KEYS, LUA_MAXINTEGER);
  if (lua_isnoneornil(L, 2)) {   /* the names: every string key, sorted */
    lua_newtable(L);
    int seen = lua_gettop(L);
    lua_newtable(L);
    int names = lua_gettop(L);
    for (lua_Integer i = 1; i <= n; i++) {
      stop_if_interrupted(L, i, "from_rows");
      if (lua_rawgeti(L, 1, i) != LUA_TTABLE)
        return luaL_error(L, "from_rows: row %I is a %s, not a table", i, luaL_typename(L, -1));
      lua_pushnil(L);
      while (lua_next(L, -2) != 0) {
        lua_pop(L, 1);                       /* the value; the key stays for next */
        if (lua_type(L, -1) != LUA_TSTRING) continue;
        lua_pushvalue(L, -1);
        if (lua_rawget(L, seen) == LUA_TNIL) {
          lua_pushvalue(L, -2);
          lua_pushboolean(L, 1);
          lua_rawset(L, seen);
          lua_pushvalue(L, -2);
          lua_rawseti(L, names, (lua_Integer)lua_rawlen(L, names) + 1);
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, names);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    lua_replace(L, 2);
    lua_settop(L, 2);
  }
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer ncol = lt_array_len(L, 2, "from_rows", "the names", LT_OTHER_KEYS, LT_MAX_INT);
  lua_createtable(L, (int)ncol, 0);   /* { {name, values}, ... } for from_columns */
  int spec = lua_gettop(L);
  for (lua_Integer j = 1; j <= ncol; j++) {
    if (lua_rawgeti(L, 2, j) != LUA_TSTRING)
      return luaL_error(L, "from_rows: name %I is a %s, not a string", j, luaL_typename(L, -1));
    int name = lua_gettop(L);
    lua_createtable(L, 2, 0);
    lua_pushvalue(L, name);
    lua_rawseti(L, -2, 1);
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 1; i <= n; i++) {
      stop_if_interrupted(L, i, "from_rows");
      if (lua_rawgeti(L, 1, i) != LUA_TTABLE)
        return luaL_error(L, "from_rows: row %I is a %s, not a table", i, luaL_typename(L, -1));
      lua_pushvalue(L, name);
      if (lua_rawget(L, -2) == LUA_TNIL) { lua_pop(L, 1); lt_push_null(L); }
      lua_rawseti(L, -3, i);
      lua_pop(L, 1);
    }
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, spec, j);
    lua_pop(L, 1);
  }
  lua_replace(L, 1);
  lua_settop(L, 1);
  return build_columns(L, "from_rows");
}

static const luaL_Reg funcs[] = {
  {"threads", l_threads},
  {"read_csv", l_read_csv},
  {"read_csv_string", l_read_csv_string},
  {"read_document", lt_read_document},
  {"from_columns", l_from_columns},
  {"from_rows", l_from_rows},
  {"load", lt_load},
  {"clock", l_clock},
  {"read_json", lt_read_json},
  {"read_ndjson", lt_read_ndjson},
  {"read_parquet", lt_read_parquet},
  {"report", lt_report},
  {"read", lt_read},
  {"read_arrow", lt_read_arrow},
  {"help", lt_help},
  {"from_arrow", tally_lua_from_arrow},
  {NULL, NULL}
};

/* Puts the method table of each type into package.loaded under the type's
** name ("tally.Table"), where Lua looks for the name of a function called
** from C (pcall(t.join, ...)): its argument errors then name it
** ("bad argument #3 to 'tally.Table.join'"), never '?'. */
static void name_methods(lua_State *L) {
  static const char *const types[] = {LT_TABLE, LT_COLUMN, LT_GROUPING, LT_ROW, LT_SCAN, "tally.Report",
                                      NULL};
  int top = lua_gettop(L), loaded;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  loaded = lua_gettop(L);
  for (int k = 0; types[k] != NULL; k++) {
    if (luaL_getmetatable(L, types[k]) == LUA_TTABLE &&
        lua_getfield(L, -1, "__index") == LUA_TFUNCTION)
      lua_getupvalue(L, -1, 1);                  /* the methods behind an __index function */
    if (lua_istable(L, -1))
      lua_setfield(L, loaded, types[k]);
    lua_settop(L, loaded);
  }
  lua_settop(L, top);
}

int luaopen_tally(lua_State *L) {
  tl_env *env = open_env(L);
  tl_env_use(env);
  if (luaL_newmetatable(L, LT_BOX)) {
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
  if (lua_getfield(L, LUA_REGISTRYINDEX, LT_NULLVALUE) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newuserdatauv(L, 0, 0);
    if (luaL_newmetatable(L, LT_NULLTYPE)) {
      lua_pushcfunction(L, null_tostring);
      lua_setfield(L, -2, "__tostring");
      lua_pushliteral(L, "null");
      lua_setfield(L, -2, "__name");
    }
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, LT_NULLVALUE);
  }
  lt_open_table(L);
  lt_open_column(L);
  lt_open_grouping(L);
  lt_open_report(L);

  luaL_newlib(L, funcs);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "null");
  lua_pushliteral(L, TALLY_VERSION);
  lua_setfield(L, -2, "version");
  lt_open_aggregate(L);
  lt_open_options(L);
  lt_open_scan(L);
  lua_remove(L, -2);                             /* the sentinel */
  wrap_module(L, -1, env);
  name_methods(L);
  return 1;
}
