/*
** ldocument.c -- tally.read_document: the tables of a text report, each
** with t:title() and t:meta(). A table is immutable and may be shared, so
** its metadata is not stored in it: a weak-keyed registry table maps the
** userdata returned by read_document to its metadata, which goes when the
** userdata goes. Tables derived by verbs have none.
*/
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "ltally.h"
#include "tally/tally.h"
#include "tally_lua.h"

static void free_document(void *p) { tl_document_free(p); }

/* Pushes the registry's table of document metadata. */
static void push_metatable(lua_State *L) { lt_push_weak_registry(L, LT_DOCMETA); }

/* The metadata of table k: title, title_line, first_line, last_line,
** header_rows, units = { column = unit }. */
static void push_meta(lua_State *L, const tl_document *d, int k) {
  const tl_table *t = tl_document_table(d, k);
  int64_t title_line, first, last;
  int j;
  tl_document_lines(d, k, &title_line, &first, &last);
  lua_createtable(L, 0, 6);
  if (tl_document_title(d, k) != NULL) {
    lua_pushstring(L, tl_document_title(d, k));
    lua_setfield(L, -2, "title");
    lua_pushinteger(L, (lua_Integer)title_line);
    lua_setfield(L, -2, "title_line");
  }
  lua_pushinteger(L, (lua_Integer)first);
  lua_setfield(L, -2, "first_line");
  lua_pushinteger(L, (lua_Integer)last);
  lua_setfield(L, -2, "last_line");
  lua_pushinteger(L, tl_document_header_rows(d, k));
  lua_setfield(L, -2, "header_rows");
  lua_newtable(L);
  for (j = 0; j < tl_table_ncols(t); j++) {
    const char *unit = tl_document_unit(d, k, j);
    if (unit == NULL)
      continue;
    lua_pushstring(L, unit);
    lua_setfield(L, -2, tl_table_name(t, j));
  }
  lua_setfield(L, -2, "units");
}

static const char *const source_keys[] = {"text", "name", NULL};
static const char *const document_keys[] = {"sep", NULL};

/* tally.read_document(path | { text = "...", name = "..." } [, { sep = "\t" }]) */
int lt_read_document(lua_State *L) {
  tl_document_options o;
  const char *path = NULL, *text = NULL, *name = NULL;
  size_t len = 0;
  tl_document *d = NULL;
  lt_box *box;
  tl_error err;
  int k, n, meta;
  tl_document_options_init(&o);
  if (lua_type(L, 1) == LUA_TTABLE) {
    lt_check_options(L, 1, "read_document", source_keys);
    if (lua_getfield(L, 1, "text") != LUA_TSTRING)
      return luaL_error(L, "read_document: field 'text' must be a string");
    text = lua_tolstring(L, -1, &len);           /* anchored in the argument */
    if (lua_getfield(L, 1, "name") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING)
        return luaL_error(L, "read_document: field 'name' must be a string");
      name = lt_cstring(L, -1, "read_document: field 'name'");
    }
    lua_pop(L, 2);
  } else if (lua_type(L, 1) == LUA_TSTRING) {
    path = lt_cstring(L, 1, "read_document: path");
  } else {
    return luaL_typeerror(L, 1, "string (a path) or table { text = ... }");
  }
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lt_check_options(L, 2, "read_document", document_keys);
    if (lua_getfield(L, 2, "sep") != LUA_TNIL) {
      size_t sl;
      const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &sl) : NULL;
      if (s == NULL || sl != 1)
        return luaL_error(L, "read_document: option 'sep' must be a one-character string");
      o.sep = s[0];
    }
    lua_pop(L, 1);
  }
  lua_settop(L, 2);
  box = lt_newbox(L, free_document);             /* 3: owns the document */
  err.message[0] = '\0';
  lt_call(L, path ? tl_read_document(path, &o, &d, &err)
            : tl_read_document_buffer(text, len, name, &o, &d, &err), &err);
  box->p = d;
  push_metatable(L);                             /* 4 */
  meta = lua_gettop(L);
  n = tl_document_count(d);
  lua_createtable(L, n, 0);
  for (k = 0; k < n; k++) {
    tally_push_table(L, tl_document_table(d, k));
    lua_pushvalue(L, -1);
    push_meta(L, d, k);
    lua_rawset(L, meta);
    lua_rawseti(L, -2, k + 1);
  }
  lt_box_free(box);
  return 1;
}

/* The metadata of the table at index 1, pushed, or nil. */
static int get_meta(lua_State *L) {
  tally_check_table(L, 1);
  push_metatable(L);
  lua_pushvalue(L, 1);
  return lua_rawget(L, -2) == LUA_TTABLE;
}

/* t:title(): the title of a table read from a document, or nil. */
int lt_table_title(lua_State *L) {
  if (!get_meta(L))
    return 1;                                    /* nil */
  lua_getfield(L, -1, "title");
  return 1;
}

/* t:meta(): a copy of the metadata, so that changing it changes nothing. */
int lt_table_meta(lua_State *L) {
  int src;
  if (!get_meta(L))
    return 1;
  src = lua_gettop(L);
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, src) != 0) {
    if (lua_istable(L, -1)) {                    /* units: one level deep */
      int inner = lua_gettop(L);
      lua_newtable(L);
      lua_pushnil(L);
      while (lua_next(L, inner) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
      }
      lua_replace(L, inner);
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, src + 1);
  }
  return 1;
}
