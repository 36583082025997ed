/*
** lverbs.c -- the verbs of tally.Table (filter, mutate, select, drop,
** rename, agg, group_by, save), tally.load, and the tally.Grouping userdata.
** Each is a thin wrapper over one core call: every scan runs in the core.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"

/* ---------------------------------------------------------------------------
** Shared helpers
*/

/* The strings from argument `first` on, or the strings of one array table
** given there instead, as an array in a userdata left on the stack. Every
** string stays anchored: in the arguments or in the array table. With
** `names`, arguments must be strings (column names); otherwise numbers are
** converted in place, as luaL_checkstring does. */
const char **lt_string_args(lua_State *L, int first, const char *op, int names, int *pn) {
  int top = lua_gettop(L), n, i;
  const char **v;
  if (top == first && lua_type(L, first) == LUA_TTABLE) {
    n = (int)lt_array_len(L, first, op, "the list of names", LT_OTHER_KEYS, LT_MAX_INT / 8);
    v = lua_newuserdatauv(L, sizeof *v * (size_t)(n > 0 ? n : 1), 0);
    for (i = 0; i < n; i++) {
      if (lua_rawgeti(L, first, i + 1) != LUA_TSTRING)
        luaL_error(L, "%s: entry %d of the list must be a string, got %s", op, i + 1,
                   luaL_typename(L, -1));
      v[i] = lt_cstring(L, -1, "%s: entry %d of the list", op, i + 1);
      lua_pop(L, 1);
    }
  } else {
    n = top >= first ? top - first + 1 : 0;
    v = lua_newuserdatauv(L, sizeof *v * (size_t)(n > 0 ? n : 1), 0);
    for (i = 0; i < n; i++) {
      if (names && lua_type(L, first + i) != LUA_TSTRING)
        luaL_error(L, "%s: argument %d must be a column name, got %s", op, first + i - 1,
                   luaL_typename(L, first + i));
      luaL_checkstring(L, first + i);
      v[i] = lt_cstring(L, first + i, "%s: argument %d", op, first + i - 1);
    }
  }
  *pn = n;
  return v;
}

/* lt_call for a verb: an error of tl_table_new ("table: duplicate column
** name 'x'") is the verb's. */
static void verb_call(lua_State *L, const char *op, tl_status st, tl_error *err) {
  if (st != TL_OK && strcmp(tl_error_op(err), "table") == 0)
    tl_error_rename(err, op);
  lt_call(L, st, err);
}

static void free_builder(void *p) { tl_builder_free(p); }

/* ---------------------------------------------------------------------------
** filter
*/

/* The slow path: f(row) for every row, its truthiness collected into a
** bool mask in C. The rows view a private handle on the table, so that the
** predicate closing the caller's table cannot pull it away. */
static int filter_function(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  int64_t i, n = tl_table_nrows(t);
  int tidx;
  lt_box *box;
  lt_column *mask;
  lt_table *ud;
  tl_builder *b = NULL;
  tl_error err;
  tl_status st;
  tally_push_table(L, t);
  tidx = lua_gettop(L);
  t = tally_check_table(L, tidx);
  box = lt_newbox(L, free_builder);
  err.message[0] = '\0';
  lt_call(L, tl_builder_new(TL_BOOL, n, &b, &err), &err);
  box->p = b;
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, 2);
    lt_push_row(L, tidx, i);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK)
      return luaL_error(L, "filter: row %I: %s", (lua_Integer)i + 1, lt_error_text(L));
    st = tl_builder_append_bool(box->p, lua_toboolean(L, -1), &err);
    lua_pop(L, 1);
    lt_call(L, st, &err);
  }
  mask = lt_new_column(L, "filter");             /* owns the mask once built */
  b = box->p;
  box->p = NULL;                                 /* finish frees it, also on error */
  lt_call(L, tl_builder_finish(b, &mask->c, &err), &err);
  ud = lt_new_table(L);
  lt_call(L, tl_table_filter_mask(t, mask->c, &ud->t, &err), &err);
  return 1;
}

/* t:filter("year >= 2018"), t:filter(bool_column), t:filter(function(r) ... end) */
static int t_filter(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  lt_table *ud;
  tl_error err;
  tl_status st;
  err.message[0] = '\0';
  switch (lua_type(L, 2)) {
    case LUA_TSTRING: {
      const char *expr = lt_cstring(L, 2, "filter: expression");
      tl_scope scope;
      tally_lua_scope(L, &scope);                       /* Lua functions in scope */
      ud = lt_new_table(L);   /* its rows are taken when first read (lt_table_of) */
      st = tl_table_select_rows(t, expr, &scope, &ud->sel, &err);
      break;
    }
    case LUA_TFUNCTION:
      lua_settop(L, 2);
      return filter_function(L);
    default: {
      lt_column *mask = luaL_testudata(L, 2, LT_COLUMN);
      if (mask == NULL)
        return luaL_typeerror(L, 2, "string, tally.Column or function");
      mask = lt_check_column(L, 2);
      ud = lt_new_table(L);
      st = tl_table_filter_mask(t, mask->c, &ud->t, &err);
      break;
    }
  }
  lt_call(L, st, &err);
  return 1;
}

/* ---------------------------------------------------------------------------
** mutate, select, drop, rename, agg
*/

/* The key names of option `field` of the options table at idx: a string or
** an array of strings (anchored in the options table), as an array in a
** userdata pushed on the stack; NULL (nothing pushed) when the option is
** absent. */
static const char **key_option(lua_State *L, int idx, const char *field, int *pn) {
  const char **v;
  int t = lua_getfield(L, idx, field), i, n;
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    *pn = 0;
    return NULL;
  }
  if (t == LUA_TSTRING) {
    v = lua_newuserdatauv(L, sizeof *v, 0);
    v[0] = lt_cstring(L, -2, "mutate: option '%s'", field);
    lua_remove(L, -2);                           /* the string stays in the options */
    *pn = 1;
    return v;
  }
  if (t != LUA_TTABLE)
    luaL_error(L, "mutate: %s must be a column name or a list of names, got %s", field,
               luaL_typename(L, -1));
  lua_pushfstring(L, "option '%s'", field);
  n = (int)lt_array_len(L, -2, "mutate", lua_tostring(L, -1), LT_OTHER_KEYS, 1000);
  lua_pop(L, 1);
  v = lua_newuserdatauv(L, sizeof *v * (size_t)(n > 0 ? n : 1), 0);
  for (i = 0; i < n; i++) {
    if (lua_rawgeti(L, -2, i + 1) != LUA_TSTRING)
      luaL_error(L, "mutate: entry %d of %s must be a string, got %s", i + 1, field,
                 luaL_typename(L, -1));
    v[i] = lt_cstring(L, -1, "mutate: entry %d of %s", i + 1, field);   /* anchored */
    lua_pop(L, 1);
  }
  lua_remove(L, -2);                             /* the list stays in the options */
  *pn = n;
  return v;
}

/* t:mutate("name = expr", ...[, options]), the definitions also as one
** list; options: { order_by = "year" | {"year", "-x"}, partition_by = ... }
** for the window functions. A last table without array entries is the
** options. */
static const char *const mutate_keys[] = {"order_by", "partition_by", NULL};

int lt_mutate_options(lua_State *L, tl_window_options *win) {
  int top = lua_gettop(L), first = 2;
  tl_window_options_init(win);
  if (top >= 2 && lua_type(L, top) == LUA_TTABLE && lua_rawlen(L, top) == 0) {
    lua_rotate(L, 2, 1);                         /* the options to 2, anchored there */
    first = 3;
    lt_check_options(L, 2, "mutate", mutate_keys);
    win->order_by = key_option(L, 2, "order_by", &win->norder);
    win->partition_by = key_option(L, 2, "partition_by", &win->npartition);
    lua_rotate(L, first, (win->order_by != NULL) + (win->partition_by != NULL));
    first += (win->order_by != NULL) + (win->partition_by != NULL);
  }
  return first;
}

/* t:mutate("name = expr", ... [, { order_by =, partition_by = }]) */
static int t_mutate(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  int n;
  const char **defs;
  lt_table *ud;
  tl_error err;
  tl_window_options win;
  int first = lt_mutate_options(L, &win);
  defs = lt_string_args(L, first, "mutate", 0, &n);
  tl_scope scope;
  tally_lua_scope(L, &scope);
  ud = lt_new_table(L);
  err.message[0] = '\0';
  verb_call(L, "mutate", tl_table_mutate_ex(t, n, defs, &scope, &win, &ud->t, &err), &err);
  return 1;
}

/* t:describe(): a table of per-column statistics. */
static int t_describe(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_table_describe(t, &ud->t, &err), &err);
  return 1;
}

typedef tl_status (*names_fn)(const tl_table *t, int n, const char *const *names,
                              tl_table **out, tl_error *err);

static int names_verb(lua_State *L, const char *op, names_fn fn) {
  tl_table *t = tally_check_table(L, 1);
  int n;
  const char **names = lt_string_args(L, 2, op, 0, &n);
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  verb_call(L, op, fn(t, n, names, &ud->t, &err), &err);
  return 1;
}

static int t_select(lua_State *L) { return names_verb(L, "select", tl_table_select); }
static int t_drop(lua_State *L) { return names_verb(L, "drop", tl_table_drop); }
/* t:agg(def, ...): the whole table as one group, Lua aggregates in scope. */
static int t_agg(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  int n;
  lt_definitions_to_strings(L, 2);
  const char **defs = lt_string_args(L, 2, "agg", 0, &n);
  tl_scope scope;
  tally_lua_scope(L, &scope);
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  verb_call(L, "agg", tl_table_agg_scope(t, n, defs, &scope, &ud->t, &err), &err);
  return 1;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* t:rename{ old = "new", ... }: applied in the order of the old names, so
** that errors do not depend on the order of a hash table. */
static int t_rename(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  int n = 0, i;
  const char **from, **to;
  lt_table *ud;
  tl_error err;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      return luaL_error(L, "rename: expected a table { old = \"new\", ... } of strings");
    lt_cstring(L, -2, "rename: a name to rename");
    lt_cstring(L, -1, "rename: a new name");
    if (n == INT_MAX / (int)sizeof *from)
      return luaL_error(L, "rename: too many names");
    n++;
    lua_pop(L, 1);
  }
  from = lua_newuserdatauv(L, sizeof *from * (size_t)(n > 0 ? n : 1), 0);
  to = lua_newuserdatauv(L, sizeof *to * (size_t)(n > 0 ? n : 1), 0);
  i = 0;
  lua_pushnil(L);
  while (lua_next(L, 2) != 0) {
    from[i++] = lua_tostring(L, -2);             /* keys and values anchored in the table */
    lua_pop(L, 1);
  }
  qsort(from, (size_t)n, sizeof *from, cmp_names);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, from[i]);
    lua_rawget(L, 2);
    to[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  ud = lt_new_table(L);
  err.message[0] = '\0';
  verb_call(L, "rename", tl_table_rename(t, n, from, to, &ud->t, &err), &err);
  return 1;
}

/* ---------------------------------------------------------------------------
** save and load
*/

static const char *const save_keys[] = {NULL};

static int t_save(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  const char *path = luaL_checkstring(L, 2);
  tl_error err;
  lt_cstring(L, 2, "save: path");
  if (!lua_isnoneornil(L, 3)) {                  /* none yet: any option is an error */
    luaL_checktype(L, 3, LUA_TTABLE);
    lt_check_options(L, 3, "save", save_keys);
  }
  err.message[0] = '\0';
  lt_call(L, tl_table_save(t, path, &err), &err);
  return 0;
}

static const char *const load_keys[] = {"map", NULL};

/* The options of tally.load: `map` (default true; false copies the file
** into memory). */
static int load_flags(lua_State *L, int idx) {
  int flags = 0;
  if (lua_isnoneornil(L, idx)) return 0;
  luaL_checktype(L, idx, LUA_TTABLE);
  lt_check_options(L, idx, "load", load_keys);
  if (lua_getfield(L, idx, "map") != LUA_TNIL) {
    if (!lua_isboolean(L, -1))
      luaL_error(L, "load: option 'map' must be a boolean, got %s", luaL_typename(L, -1));
    if (!lua_toboolean(L, -1)) flags |= TL_LOAD_COPY;
  }
  lua_pop(L, 1);
  return flags;
}

/* tally.load(path [, { map = false }]): the sandbox never maps, so that
** the file's bytes count against its memory limit and a file changed
** under it cannot fault. */
int lt_load(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lt_cstring(L, 1, "load: path");
  int flags = load_flags(L, 2);
  if (lua_getfield(L, LUA_REGISTRYINDEX, LT_SANDBOXED) != LUA_TNIL) flags |= TL_LOAD_COPY;
  lua_pop(L, 1);
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_table_load_ex(path, flags, &ud->t, &err), &err);
  return 1;
}

/* ---------------------------------------------------------------------------
** group_by and the Grouping userdata
*/

static int t_group_by(lua_State *L) {
  lt_table *tu = luaL_checkudata(L, 1, LT_TABLE);
  tl_selection *sel = tu->t == NULL ? tu->sel : NULL;   /* a filter's rows, grouped in place */
  tl_table *t = sel ? NULL : tally_check_table(L, 1);
  int n, i;
  const char **keys = lt_string_args(L, 2, "group_by", 0, &n);
  lt_grouping *ud;
  tl_error err;
  if (n == 0)
    return luaL_error(L, "group_by: expected at least one key column");
  ud = lua_newuserdatauv(L, sizeof *ud, 2);
  ud->g = NULL;
  luaL_setmetatable(L, LT_GROUPING);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);                   /* the grouping keeps its table alive */
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, keys[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setiuservalue(L, -2, 2);
  err.message[0] = '\0';
  lt_call(L, sel ? tl_selection_group_by(sel, n, keys, &ud->g, &err)
              : tl_table_group_by(t, n, keys, &ud->g, &err), &err);
  return 1;
}

static lt_grouping *check_grouping(lua_State *L, int idx) {
  lt_grouping *ud = luaL_checkudata(L, idx, LT_GROUPING);
  if (ud->g == NULL)
    luaL_argerror(L, idx, "grouping is closed");
  return ud;
}

/* __gc and __close: idempotent. */
static int g_gc(lua_State *L) {
  lt_grouping *ud = luaL_checkudata(L, 1, LT_GROUPING);
  tl_grouping_free(ud->g);
  ud->g = NULL;
  return 0;
}

static int g_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)tl_grouping_count(check_grouping(L, 1)->g));
  return 1;
}

/* Grouping: 8 groups by program */
static int g_tostring(lua_State *L) {
  lt_grouping *ud = luaL_checkudata(L, 1, LT_GROUPING);
  lua_Integer i, nkeys;
  luaL_Buffer b;
  if (ud->g == NULL) {
    lua_pushliteral(L, "Grouping (closed)");
    return 1;
  }
  lua_settop(L, 1);
  lua_getiuservalue(L, 1, 2);                    /* 2: the key names */
  nkeys = (lua_Integer)lua_rawlen(L, -1);
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "Grouping: %I group%s by ", (lua_Integer)tl_grouping_count(ud->g),
                  tl_grouping_count(ud->g) == 1 ? "" : "s");
  luaL_addvalue(&b);
  for (i = 1; i <= nkeys; i++) {
    if (i > 1)
      luaL_addstring(&b, ", ");
    lua_rawgeti(L, 2, i);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return 1;
}

static int g_agg(lua_State *L) {
  tl_grouping *g = check_grouping(L, 1)->g;
  int n;
  lt_definitions_to_strings(L, 2);
  const char **defs = lt_string_args(L, 2, "agg", 0, &n);
  tl_scope scope;
  tally_lua_scope(L, &scope);
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  verb_call(L, "agg", tl_grouping_agg_scope(g, n, defs, &scope, &ud->t, &err), &err);
  return 1;
}

static int g_count(lua_State *L) {
  tl_grouping *g = check_grouping(L, 1)->g;
  const char *def = "n = count()";
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  verb_call(L, "count", tl_grouping_agg(g, 1, &def, &ud->t, &err), &err);
  return 1;
}

/* Pushes the table of keys (one row per group) as a new tally.Table. */
static tl_table *push_keys(lua_State *L, tl_grouping *g) {
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_grouping_keys(g, &ud->t, &err), &err);
  return ud->t;
}

static int g_keys(lua_State *L) {
  push_keys(L, check_grouping(L, 1)->g);
  return 1;
}

/* Pushes group k's key as a Lua table {column = value}; null keys are left
** out, as nil fields are. */
static void push_key(lua_State *L, const tl_table *keys, int64_t k) {
  int j, n = tl_table_ncols(keys);
  lua_createtable(L, 0, n);
  for (j = 0; j < n; j++) {
    const tl_column *c = tl_table_column(keys, j);
    if (tl_column_is_null(c, k))
      continue;
    lt_push_value(L, c, k);
    lua_setfield(L, -2, tl_table_name(keys, j));
  }
}

/* Pushes group k (0-based) as a new tally.Table. */
static void push_group(lua_State *L, tl_grouping *g, int64_t k) {
  lt_table *ud = lt_new_table(L);
  tl_error err;
  err.message[0] = '\0';
  lt_call(L, tl_grouping_group(g, k, &ud->t, &err), &err);
}

static int groups_next(lua_State *L) {
  lt_grouping *ud = luaL_checkudata(L, lua_upvalueindex(1), LT_GROUPING);
  lt_table *keys = luaL_checkudata(L, lua_upvalueindex(2), LT_TABLE);
  lua_Integer k = lua_tointeger(L, lua_upvalueindex(3));
  if (ud->g == NULL)
    return luaL_error(L, "groups: the grouping is closed");
  if (k >= (lua_Integer)tl_grouping_count(ud->g))
    return 0;
  lua_pushinteger(L, k + 1);
  lua_replace(L, lua_upvalueindex(3));
  push_key(L, keys->t, (int64_t)k);
  push_group(L, ud->g, (int64_t)k);
  return 2;
}

/* for key, sub in g:groups() do ... end */
static int g_groups(lua_State *L) {
  tl_grouping *g = check_grouping(L, 1)->g;
  lua_settop(L, 1);
  push_keys(L, g);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, groups_next, 3);
  return 1;
}

/* Pushes "group 3 (program = "Community Policing", year = 2016)" for
** error messages. */
static const char *group_text(lua_State *L, const tl_table *keys, int64_t k) {
  int j, n = tl_table_ncols(keys);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "group %I (", (lua_Integer)k + 1);
  luaL_addvalue(&b);
  for (j = 0; j < n; j++) {
    tl_scalar v;
    if (j > 0)
      luaL_addstring(&b, ", ");
    luaL_addstring(&b, tl_table_name(keys, j));
    luaL_addstring(&b, " = ");
    tl_column_get(tl_table_column(keys, j), k, &v);
    lt_add_scalar(&b, &v);
  }
  luaL_addchar(&b, ')');
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

/* A result in the ordered form { {"best", v}, {"n", n} } becomes the table
** { best = v, n = n } in its place at the top; with `order` (a stack slot)
** the names in their order replace that slot, for the first result. Other
** results are left alone. */
static void ordered_result(lua_State *L, const tl_table *keys, int64_t k, int order) {
  int res = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, res), i, count = 0;
  if (n == 0) return;
  lua_pushnil(L);
  while (lua_next(L, res) != 0) {
    lua_pop(L, 1);
    count++;
  }
  if (count != n)
    luaL_error(L, "apply: %s: the result mixes pairs {name, value} and fields name = value",
               group_text(L, keys, k));
  lua_createtable(L, 0, n > INT_MAX ? INT_MAX : (int)n);
  lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);
  for (i = 1; i <= n; i++) {
    if (lua_rawgeti(L, res, i) != LUA_TTABLE || lua_rawgeti(L, -1, 1) != LUA_TSTRING)
      luaL_error(L, "apply: %s: entry %I of the result must be a pair {name, value}",
                 group_text(L, keys, k), i);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, res + 1) != LUA_TNIL)
      luaL_error(L, "apply: %s: field '%s' is given twice", group_text(L, keys, k),
                 lua_tostring(L, -2));
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, res + 2, i);                  /* the order */
    lua_rawgeti(L, -2, 2);
    lua_rawset(L, res + 1);                      /* map[name] = value */
    lua_pop(L, 1);
  }
  if (order) lua_replace(L, order); else lua_pop(L, 1);
  lua_replace(L, res);
}

/* The field names of the result at the top, sorted (or in the order of the
** array at `order` when that is a table), as an array (pushed) and a set
** name -> true (pushed above it). */
static void result_fields(lua_State *L, const tl_table *keys, int64_t k, int order) {
  int res = lua_gettop(L), n = 0, i;
  const char **names;
  if (lua_istable(L, order)) {                   /* the ordered form: its order */
    lua_Integer m = (lua_Integer)lua_rawlen(L, order);
    lua_createtable(L, (int)m, 0);
    lua_createtable(L, 0, (int)m);
    for (lua_Integer j = 1; j <= m; j++) {
      lua_rawgeti(L, order, j);
      lua_pushvalue(L, -1);
      lua_rawseti(L, -4, j);
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
    }
    return;
  }
  lua_pushnil(L);
  while (lua_next(L, res) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      const char *tn = luaL_typename(L, -1);
      luaL_error(L, "apply: %s: the result has a field named by a %s, not a string",
                 group_text(L, keys, k), tn);
    }
    if (n == INT_MAX / (int)sizeof *names)
      luaL_error(L, "apply: too many fields");
    n++;
  }
  names = lua_newuserdatauv(L, sizeof *names * (size_t)(n > 0 ? n : 1), 0);
  i = 0;
  lua_pushnil(L);
  while (lua_next(L, res) != 0) {
    lua_pop(L, 1);
    names[i++] = lt_cstring(L, -1, "apply: a field name");   /* anchored as keys */
  }
  qsort(names, (size_t)n, sizeof *names, cmp_names);
  lua_createtable(L, n, 0);
  lua_createtable(L, 0, n);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -3, i + 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, names[i]);
  }
  lua_remove(L, -3);                             /* the array of pointers */
}

/* g:apply(function(sub, key) return { name = value, ... } end): one row
** per group that returns a table (nil leaves the group out): the key
** columns, then the fields of the first result, sorted by name (a Lua
** table has no order), or in their order when it is given as pairs
** { {"best", v}, {"n", n} }. A later result may leave fields out (nil is
** null) but not add others. */
static int g_apply(lua_State *L) {
  lt_grouping *ud = check_grouping(L, 1);
  int64_t k, m = 0, ngroups;
  int results, order, fields = 0, fieldset = 0, j, nkeys, nfields;
  const tl_table *keys;
  int64_t *rows;
  lt_table *out, *sel;
  const char **names;
  tl_column **cols;
  tl_error err;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  ngroups = tl_grouping_count(ud->g);
  keys = push_keys(L, ud->g);                    /* 3 */
  rows = lua_newuserdatauv(L, sizeof *rows * (size_t)(ngroups > 0 ? ngroups : 1), 0);
  lua_newtable(L);
  results = lua_gettop(L);
  lua_pushnil(L);                                /* the order of an ordered result */
  order = lua_gettop(L);
  for (k = 0; k < ngroups; k++) {
    if (ud->g == NULL)                           /* closed by the function */
      return luaL_error(L, "apply: the grouping was closed");
    lua_pushvalue(L, 2);
    push_group(L, ud->g, k);
    push_key(L, keys, k);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
      const char *msg = lt_error_text(L);
      return luaL_error(L, "apply: %s: %s", group_text(L, keys, k), msg);
    }
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      continue;
    }
    if (lua_type(L, -1) != LUA_TTABLE) {
      const char *tn = luaL_typename(L, -1);
      return luaL_error(L, "apply: %s: expected a table {name = value} or nil, got %s",
                        group_text(L, keys, k), tn);
    }
    ordered_result(L, keys, k, fields == 0 ? order : 0);
    if (fields == 0) {
      int res = lua_gettop(L);
      result_fields(L, keys, k, order);
      lua_rotate(L, res, 2);                     /* the result back on top */
      fields = res;
      fieldset = res + 1;
    } else {
      int res = lua_gettop(L);
      lua_pushnil(L);
      while (lua_next(L, res) != 0) {
        lua_pop(L, 1);                           /* the value */
        if (lua_type(L, -1) != LUA_TSTRING) {
          const char *tn = luaL_typename(L, -1);
          return luaL_error(L, "apply: %s: the result has a field named by a %s, not a "
                            "string", group_text(L, keys, k), tn);
        }
        lua_pushvalue(L, -1);
        if (lua_rawget(L, fieldset) == LUA_TNIL) {
          const char *field = lua_tostring(L, -2);
          return luaL_error(L, "apply: %s: field '%s' is not among the fields of the first "
                            "result", group_text(L, keys, k), field);
        }
        lua_pop(L, 1);
      }
    }
    rows[m++] = k;
    lua_rawseti(L, results, (lua_Integer)m);
  }

  /* one column per field, from the results */
  nkeys = tl_table_ncols(keys);
  nfields = fields ? (int)lua_rawlen(L, fields) : 0;
  names = lua_newuserdatauv(L, sizeof *names * (size_t)(nkeys + nfields + 1), 0);
  cols = lua_newuserdatauv(L, sizeof *cols * (size_t)(nkeys + nfields + 1), 0);
  sel = lt_new_table(L);                         /* the keys of the groups kept */
  err.message[0] = '\0';
  lt_call(L, tl_table_take(keys, rows, m, &sel->t, &err), &err);
  for (j = 0; j < nkeys; j++) {
    names[j] = tl_table_name(sel->t, j);
    cols[j] = tl_table_column(sel->t, j);
  }
  for (j = 0; j < nfields; j++) {
    int64_t i;
    lua_rawgeti(L, fields, j + 1);
    names[nkeys + j] = lua_tostring(L, -1);      /* anchored in the field array */
    lua_createtable(L, m > INT_MAX ? INT_MAX : (int)m, 0);
    for (i = 1; i <= m; i++) {
      lua_rawgeti(L, results, (lua_Integer)i);
      lua_pushstring(L, names[nkeys + j]);
      lua_rawget(L, -2);
      lua_rawseti(L, -3, (lua_Integer)i);
      lua_pop(L, 1);
    }
    lt_array_column(L, -1, (lua_Integer)m, names[nkeys + j], "apply");
    cols[nkeys + j] = lt_check_column(L, -1)->c;
    lua_replace(L, -3);                          /* keep the column, drop name and values */
    lua_pop(L, 1);
  }
  out = lt_new_table(L);
  verb_call(L, "apply", tl_table_new(nkeys + nfields, names, cols, &out->t, &err), &err);
  return 1;
}

static const luaL_Reg grouping_methods[] = {
  {"agg", g_agg},
  {"count", g_count},
  {"keys", g_keys},
  {"groups", g_groups},
  {"apply", g_apply},
  {NULL, NULL}
};

static const luaL_Reg grouping_meta[] = {
  {"__gc", g_gc},
  {"__close", g_gc},
  {"__len", g_len},
  {"__tostring", g_tostring},
  {NULL, NULL}
};

void lt_open_grouping(lua_State *L) {
  if (luaL_newmetatable(L, LT_GROUPING)) {
    luaL_setfuncs(L, grouping_meta, 0);
    luaL_newlib(L, grouping_methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
}

const luaL_Reg lt_verb_methods[] = {
  {"filter", t_filter},
  {"mutate", t_mutate},
  {"describe", t_describe},
  {"select", t_select},
  {"drop", t_drop},
  {"rename", t_rename},
  {"agg", t_agg},
  {"group_by", t_group_by},
  {"save", t_save},
  {NULL, NULL}
};
