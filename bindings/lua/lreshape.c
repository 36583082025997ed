/*
** lreshape.c -- t:pivot_longer{...} and t:pivot_wider{...}. The core does
** the reshaping; names_pattern, a Lua pattern, is matched here against the
** column names (never against rows) and the captures handed to the core.
*/
#include <limits.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"


/* Option `key` of the table at idx as an array of strings (a string alone
** is an array of one), in a userdata left on the stack above a table that
** anchors the strings; NULL with *n = 0 when the option is absent. */
static const char **names_option(lua_State *L, int idx, const char *op, const char *key,
                                 int *n) {
  const char **v;
  int i, t = lua_getfield(L, idx, key);
  if (t == LUA_TNIL) {
    *n = 0;
    return NULL;
  }
  if (t == LUA_TSTRING) {
    lua_createtable(L, 1, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
  } else if (t != LUA_TTABLE) {
    luaL_error(L, "%s: option '%s' must be a string or a list of strings", op, key);
  }
  lua_pushfstring(L, "option '%s'", key);
  *n = (int)lt_array_len(L, -2, op, lua_tostring(L, -1), LT_OTHER_KEYS, LT_MAX_INT / 8);
  lua_pop(L, 1);
  v = lua_newuserdatauv(L, sizeof *v * (size_t)(*n > 0 ? *n : 1), 0);
  for (i = 0; i < *n; i++) {
    if (lua_rawgeti(L, -2, i + 1) != LUA_TSTRING)
      luaL_error(L, "%s: option '%s': entry %d must be a string", op, key, i + 1);
    v[i] = lt_cstring(L, -1, "%s: option '%s' entry %d", op, key, i + 1);   /* anchored */
    lua_pop(L, 1);
  }
  return v;
}

static const char *string_option(lua_State *L, int idx, const char *op, const char *key) {
  int t = lua_getfield(L, idx, key);
  if (t == LUA_TNIL)
    return NULL;
  if (t != LUA_TSTRING)
    luaL_error(L, "%s: option '%s' must be a string", op, key);
  return lt_cstring(L, -1, "%s: option '%s'", op, key);   /* left on the stack */
}

static int bool_option(lua_State *L, int idx, const char *op, const char *key, int dflt) {
  int t = lua_getfield(L, idx, key), v = dflt;
  if (t != LUA_TNIL) {
    if (t != LUA_TBOOLEAN)
      luaL_error(L, "%s: option '%s' must be a boolean", op, key);
    v = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

static const char *const longer_keys[] = {"cols", "id_cols", "names_to", "values_to",
                                          "names_sep", "names_pattern", "names_infer",
                                          "values_drop_na", NULL};

/* t:pivot_longer{ cols = {...} (or id_cols = {...}: every other column),
**   names_to = "year" | {"year", "measure"}, values_to = "value",
**   names_sep = " " | names_pattern = "^(%d+) (.*)$",
**   names_infer = true, values_drop_na = false } */
int lt_pivot_longer(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  tl_pivot_longer_options o;
  const char **cols, **ids, *pattern;
  int ncols, nids, k, p;
  lt_table *ud;
  tl_error err;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lt_check_options(L, 2, "pivot_longer", longer_keys);
  tl_pivot_longer_options_init(&o);
  cols = names_option(L, 2, "pivot_longer", "cols", &ncols);
  ids = names_option(L, 2, "pivot_longer", "id_cols", &nids);
  if (cols != NULL && ids != NULL)
    return luaL_error(L, "pivot_longer: give cols or id_cols, not both");
  if (ids != NULL) {                             /* every column not in id_cols */
    int j, n = tl_table_ncols(t);
    for (k = 0; k < nids; k++)
      if (tl_table_find(t, ids[k]) < 0)
        return lt_unknown_column(L, "pivot_longer", t, ids[k]);
    cols = lua_newuserdatauv(L, sizeof *cols * (size_t)(n > 0 ? n : 1), 0);
    ncols = 0;
    for (j = 0; j < n; j++) {
      const char *name = tl_table_name(t, j);
      int keep = 1;
      for (k = 0; k < nids && keep; k++)
        keep = strcmp(ids[k], name) != 0;
      if (keep)
        cols[ncols++] = name;                    /* borrowed from t, alive at index 1 */
    }
  }
  if (cols == NULL)
    return luaL_error(L, "pivot_longer: option 'cols' is missing");
  o.cols = cols;
  o.ncols = ncols;
  o.names_to = names_option(L, 2, "pivot_longer", "names_to", &o.nnames);
  o.values_to = string_option(L, 2, "pivot_longer", "values_to");
  o.names_sep = string_option(L, 2, "pivot_longer", "names_sep");
  pattern = string_option(L, 2, "pivot_longer", "names_pattern");
  o.names_infer = bool_option(L, 2, "pivot_longer", "names_infer", 1);
  o.drop_nulls = bool_option(L, 2, "pivot_longer", "values_drop_na", 0);
  if (pattern != NULL) {
    int nn = o.nnames > 0 ? o.nnames : 1, parts;
    const char **names;
    if (o.names_sep != NULL)
      return luaL_error(L, "pivot_longer: give names_sep or names_pattern, not both");
    if ((size_t)ncols > INT_MAX / sizeof *names / (size_t)nn)
      return luaL_error(L, "pivot_longer: too many columns");
    names = lua_newuserdatauv(L, sizeof *names * (size_t)ncols * (size_t)nn + 1, 0);
    lua_createtable(L, ncols * nn, 0);           /* anchors the captures */
    parts = lua_gettop(L);
    lua_pushliteral(L, "");                      /* string.match, even when the */
    if (luaL_getmetafield(L, -1, "__index") != LUA_TTABLE ||   /* global is hidden */
        lua_getfield(L, -1, "match") != LUA_TFUNCTION)
      return luaL_error(L, "pivot_longer: names_pattern needs the string library");
    for (k = 0; k < ncols; k++) {
      int got;
      lua_pushvalue(L, -1);
      lua_pushstring(L, cols[k]);
      lua_pushstring(L, pattern);
      if (lua_pcall(L, 2, nn, 0) != LUA_OK)
        return luaL_error(L, "pivot_longer: names_pattern: %s", lt_error_text(L));
      for (got = 0; got < nn && lua_type(L, -nn + got) == LUA_TSTRING; got++)
        ;
      if (got < nn)
        return luaL_error(L, "pivot_longer: column '%s' does not match names_pattern '%s' "
                          "with %d capture%s", cols[k], pattern, nn, nn == 1 ? "" : "s");
      for (p = nn - 1; p >= 0; p--) {
        names[k * nn + p] = lt_cstring(L, -1, "pivot_longer: a names_pattern capture");
        lua_rawseti(L, parts, k * nn + p + 1);   /* anchored in the parts table */
      }
    }
    o.names = names;
  }
  ud = lt_new_table(L);
  err.message[0] = '\0';
  lt_call(L, tl_table_pivot_longer(t, &o, &ud->t, &err), &err);
  return 1;
}

static const char *const wider_keys[] = {"names_from", "values_from", "id_cols", "fill",
                                         "names_sep", NULL};

/* t:pivot_wider{ names_from = "year" | {...}, values_from = "n",
**   id_cols = {...} (default: the other columns), fill = 0, names_sep = "_" } */
int lt_pivot_wider(lua_State *L) {
  tl_table *t = tally_check_table(L, 1);
  tl_pivot_wider_options o;
  tl_scalar fill;
  lt_table *ud;
  tl_error err;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lt_check_options(L, 2, "pivot_wider", wider_keys);
  tl_pivot_wider_options_init(&o);
  o.names_from = names_option(L, 2, "pivot_wider", "names_from", &o.nnames_from);
  if (o.names_from == NULL)
    return luaL_error(L, "pivot_wider: option 'names_from' is missing");
  o.values_from = string_option(L, 2, "pivot_wider", "values_from");
  if (o.values_from == NULL)
    return luaL_error(L, "pivot_wider: option 'values_from' is missing");
  o.id_cols = names_option(L, 2, "pivot_wider", "id_cols", &o.nid_cols);
  if (o.id_cols != NULL && o.nid_cols == 0)
    return luaL_error(L, "pivot_wider: option 'id_cols' is empty");
  o.names_sep = string_option(L, 2, "pivot_wider", "names_sep");
  memset(&fill, 0, sizeof fill);
  switch (lua_getfield(L, 2, "fill")) {
    case LUA_TNIL: break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, -1)) {
        fill.type = TL_INT;
        fill.v.i = (int64_t)lua_tointeger(L, -1);
      } else {
        fill.type = TL_FLOAT;
        fill.v.f = (double)lua_tonumber(L, -1);
      }
      o.fill = &fill;
      break;
    case LUA_TBOOLEAN:
      fill.type = TL_BOOL;
      fill.v.b = lua_toboolean(L, -1);
      o.fill = &fill;
      break;
    case LUA_TSTRING:
      fill.type = TL_STRING;
      fill.v.s.ptr = lua_tolstring(L, -1, &fill.v.s.len);   /* anchored on the stack */
      o.fill = &fill;
      break;
    default:
      if (!lt_isnull(L, -1))
        return luaL_error(L, "pivot_wider: option 'fill' must be a number, a boolean or a "
                          "string, got %s", luaL_typename(L, -1));
      break;
  }
  ud = lt_new_table(L);
  err.message[0] = '\0';
  lt_call(L, tl_table_pivot_wider(t, &o, &ud->t, &err), &err);
  return 1;
}
