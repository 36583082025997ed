/*
** lfiles.c -- tally.read(path [, opts]) and t:write(path [, opts]): the
** format chosen by the file's extension, from the one table below, and the
** module's own reader or writer called with the options. A format whose
** function the module lacks is an error that says so; an unknown extension
** is an error listing the known ones.
*/
#include <string.h>
#include <strings.h>

#include "lauxlib.h"
#include "lua.h"

#include "ltally.h"
#include "tally_lua.h"

/* Every format by extension: the module's reader and the table's writer
** (NULL: not written); `sep` is the separator handed to read_csv. Adding a
** format is one line. */
static const struct format {
  const char *ext, *reader, *writer, *sep;
} formats[] = {
  { ".csv", "read_csv", "write_csv", NULL },
  { ".tsv", "read_csv", NULL, "\t" },
  { ".json", "read_json", "write_json", NULL },
  { ".ndjson", "read_ndjson", "write_ndjson", NULL },
  { ".jsonl", "read_ndjson", "write_ndjson", NULL },
  { ".parquet", "read_parquet", "write_parquet", NULL },
  { ".arrow", "read_arrow", "write_arrow", NULL },
  { ".feather", "read_arrow", "write_arrow", NULL },
  { ".ipc", "read_arrow", "write_arrow", NULL },
  { ".csv.gz", "read_csv", NULL, NULL },         /* read_csv reads them by their magic */
  { ".csv.zst", "read_csv", NULL, NULL },
  { ".tsv.gz", "read_csv", NULL, "\t" },
  { ".tsv.zst", "read_csv", NULL, "\t" },
  { ".tally", "load", "save", NULL },
};
#define NFORMATS (sizeof formats / sizeof *formats)

static const struct format *format_of(const char *path) {
  size_t n = strlen(path);
  for (size_t k = 0; k < NFORMATS; k++) {
    size_t e = strlen(formats[k].ext);
    if (n > e && strcasecmp(path + n - e, formats[k].ext) == 0) return &formats[k];
  }
  return NULL;
}

const char *tally_lua_file_format(const char *path) {
  const struct format *f = path ? format_of(path) : NULL;
  return f ? f->ext + 1 : NULL;
}

static int unknown(lua_State *L, const char *op, const char *path, int writing) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (size_t k = 0; k < NFORMATS; k++) {
    if (writing && !formats[k].writer) continue;
    if (luaL_bufflen(&b)) luaL_addstring(&b, ", ");
    luaL_addstring(&b, formats[k].ext);
  }
  luaL_pushresult(&b);
  const char *known = lua_tostring(L, -1);
  const char *shown = lt_echoz(L, path);
  return luaL_error(L, "%s: %s: unknown file extension (known: %s)", op, shown, known);
}

/* tally.read(path [, opts]) */
int lt_read(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lt_cstring(L, 1, "read: path");
  if (!lua_isnoneornil(L, 2) && !lua_istable(L, 2))
    return luaL_error(L, "read: options must be a table, got %s", luaL_typename(L, 2));
  lua_settop(L, 2);
  const struct format *f = format_of(path);
  if (!f) return unknown(L, "read", path, 0);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "tally") != LUA_TTABLE || lua_getfield(L, -1, f->reader) != LUA_TFUNCTION)
    return luaL_error(L, "read: %s: %s files cannot be read: this build has no tally.%s",
                      lt_echoz(L, path), f->ext, f->reader);
  lua_pushvalue(L, 1);
  if (f->sep) {                                  /* the options, with the separator */
    lua_newtable(L);
    if (lua_istable(L, 2)) {
      lua_pushnil(L);
      while (lua_next(L, 2)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
      }
    }
    if (lua_getfield(L, -1, "sep") == LUA_TNIL) {
      lua_pushstring(L, f->sep);
      lua_setfield(L, -3, "sep");
    }
    lua_pop(L, 1);
  } else {
    lua_pushvalue(L, 2);
  }
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {   /* an option the reader does not take: say
                                           ** which format the path was read as */
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    size_t n = strlen(f->reader);
    if (msg && strncmp(msg, f->reader, n) == 0 && strncmp(msg + n, ": unknown option '", 18) == 0)
      return luaL_error(L, "read: %s (a %s file): %s", lt_echoz(L, path), f->ext + 1, msg);
    return lua_error(L);
  }
  return 1;
}

/* t:write(path [, opts]) */
int lt_t_write(lua_State *L) {
  tally_check_table(L, 1);
  const char *path = luaL_checkstring(L, 2);
  lt_cstring(L, 2, "write: path");
  if (!lua_isnoneornil(L, 3) && !lua_istable(L, 3))
    return luaL_error(L, "write: options must be a table, got %s", luaL_typename(L, 3));
  lua_settop(L, 3);
  const struct format *f = format_of(path);
  if (!f || !f->writer) return unknown(L, "write", path, 1);
  if (lua_getfield(L, 1, f->writer) != LUA_TFUNCTION)
    return luaL_error(L, "write: %s: %s files cannot be written: this build has no t:%s",
                      lt_echoz(L, path), f->ext, f->writer);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  int nargs = 2;
  if (!lua_isnil(L, 3)) { lua_pushvalue(L, 3); nargs = 3; }
  lua_call(L, nargs, 0);
  return 0;
}
