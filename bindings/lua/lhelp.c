/*
** lhelp.c -- help(x): the signature and a line of description of any
** function or object of tally; help() lists what there is.
*/
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#include "ldisplay.h"
#include "ltally.h"

typedef struct help_entry {
  const char *name;           /* "tally.read_csv", "Table:filter", "Column:sum" */
  const char *signature;
  const char *line;
} help_entry;

static const help_entry entries[] = {
  {"tally.read_csv", "tally.read_csv(path [, {sep, header, null, types, infer, columns, skip, "
   "comment, max_rows, on_error, max_field_size, range_start, range_stop}])",
   "Reads a CSV file into a table, inferring column types from every value."},
  {"tally.read_json", "tally.read_json(path)",
   "Reads a JSON array of flat objects into a table (types inferred)."},
  {"tally.read_ndjson", "tally.read_ndjson(path)",
   "Reads one JSON object a line into a table (types inferred)."},
  {"tally.read_parquet", "tally.read_parquet(path [, {columns}])",
   "Reads a Parquet file of flat columns into a table (only `columns` when given)."},
  {"tally.read_arrow", "tally.read_arrow(path [, {columns}])",
   "Reads an Arrow IPC file or stream (.arrow, .feather; lz4/zstd too), mapped where it can."},
  {"tally.read_document", "tally.read_document(path)",
   "Reads the tables found in a text report; an array of tables."},
  {"tally.from_columns", "tally.from_columns{ {name, values}, ... }",
   "A table from named arrays or columns, in order."},
  {"tally.from_rows", "tally.from_rows(rows [, names])", "A table from an array of records."},
  {"tally.load", "tally.load(path [, { map = false }])",
   "Loads a table saved with t:save (mapped, no copy; map = false reads it into memory)."},
  {"tally.aggregate",
   "tally.aggregate{ name, init, step | step_batch, merge, final, type, nulls, parallel }",
   "Defines an aggregate in Lua, usable in agg and expressions; with merge, on every core."},
  {"tally.func", "tally.func{ name, fn, type, nulls, parallel }",
   "Defines a function in Lua, usable in expressions; over many rows, on every core."},
  {"tally.clock", "tally.clock()", "Monotonic wall-clock seconds."},
  {"tally.threads", "tally.threads([n])", "Sets or gets the number of worker threads."},
  {"tally.help", "help([x])", "Describes x (a tally function or object); lists everything."},
  {"Table:ncol", "t:ncol()", "The number of columns (#t is the number of rows)."},
  {"Table:names", "t:names()", "The column names, in order."},
  {"Table:schema", "t:schema()", "An array of {name, type, nulls}, one per column."},
  {"Table:col", "t:col(name | index)", "A column, by name or 1-based index (also t.name)."},
  {"Table:rows", "for i, r in t:rows() do ... end", "Iterates over row views (r.year, r[2])."},
  {"Table:show", "t:show([n | {n, all, width, color, types}])",
   "Prints the table: n rows (head and tail), fitted to the terminal."},
  {"Table:format", "t:format([n | {n, all, width, color, types}])",
   "The text t:show prints, as a string."},
  {"Table:to_markdown", "t:to_markdown()", "Every row as a Markdown pipe table (a string)."},
  {"Table:write_csv", "t:write_csv(path)", "Writes the table as CSV with a header."},
  {"Table:write_arrow", "t:write_arrow(path [, {compression, format, batch_rows}])",
   "Writes an Arrow IPC file (format = \"stream\" for a stream); compression none, lz4, zstd."},
  {"Table:write_json", "t:write_json(path)", "Writes the table as a JSON array of objects."},
  {"Table:write_ndjson", "t:write_ndjson(path)", "Writes one JSON object a line."},
  {"Table:save", "t:save(path)", "Saves the table in tally's binary format (see tally.load)."},
  {"Table:head", "t:head([n])", "The first n rows (10 by default)."},
  {"Table:tail", "t:tail([n])", "The last n rows (10 by default)."},
  {"Table:slice", "t:slice(i, j)", "Rows i to j."},
  {"Table:totable", "t:totable()", "An array of records; nulls as tally.null."},
  {"Table:filter", "t:filter(expr | mask | function(r))",
   "The rows where the condition holds: \"year >= 2018 and region == 'Asia'\"."},
  {"Table:mutate", "t:mutate(\"name = expr\", ...)", "Adds or replaces computed columns."},
  {"Table:select", "t:select(name, ...)", "The named columns, in that order."},
  {"Table:drop", "t:drop(name, ...)", "The table without the named columns."},
  {"Table:rename", "t:rename{ old = \"new\" }", "The table with columns renamed."},
  {"Table:sort", "t:sort(key, ...)", "Rows sorted by the keys; \"-key\" sorts descending."},
  {"Table:top", "t:top(n, key, ...)", "The first n rows of the sort order."},
  {"Table:distinct", "t:distinct([name, ...])", "One row per distinct combination."},
  {"Table:concat", "t:concat(u, ...)", "The rows of several tables, columns matched by name."},
  {"Table:join", "t:join(u, { on, how })", "Joins two tables (inner, left, right, full, ...)."},
  {"Table:group_by", "t:group_by(key, ...)", "A grouping of the rows by the keys."},
  {"Table:agg", "t:agg(\"name = aggregate(expr)\", ...)", "One row of aggregates of the table."},
  {"Table:describe", "t:describe()", "A table of per-column statistics."},
  {"Table:bar", "t:bar(label_col, value_col [, {width, print}])",
   "Draws a bar chart in the terminal."},
  {"Table:plot", "t:plot{ x, y, by, kind = \"line\"|\"bar\"|\"scatter\", file, title }",
   "Writes an SVG chart with axes, ticks, legend and title."},
  {"Column:type", "c:type()", "The type: bool, int, float, string, date or timestamp."},
  {"Column:name", "c:name()", "The name the column was reached by."},
  {"Column:nulls", "c:nulls()", "The number of nulls."},
  {"Column:count", "c:count()", "The number of non-null values."},
  {"Column:sum", "c:sum()", "The sum of the values (nulls skipped)."},
  {"Column:mean", "c:mean()", "The mean of the values (nil when there are none)."},
  {"Column:min", "c:min()", "The smallest value."},
  {"Column:max", "c:max()", "The largest value."},
  {"Column:totable", "c:totable()", "The values as an array; nulls as tally.null."},
  {"Column:unique", "c:unique()", "The distinct values, in order of first appearance."},
  {"Column:value_counts", "c:value_counts()", "A table of each value and its count."},
  {"Column:hist", "c:hist{ bins = n, width, print }", "Draws a histogram in the terminal."},
  {"Column:is_null", "c:is_null()", "A boolean column: true where the value is null."},
  {"Column:isin", "c:isin{ v, ... }", "A boolean column: true where the value is listed."},
  {"Grouping:agg", "g:agg(\"name = aggregate(expr)\", ...)",
   "One row per group: the keys and the aggregates."},
  {"Grouping:count", "g:count()", "One row per group: the keys and the number of rows."},
  {"Grouping:keys", "g:keys()", "One row per group: the key columns."},
  {"Grouping:groups", "for key, sub in g:groups() do ... end",
   "Iterates over the groups as tables."},
  {"Grouping:apply", "g:apply(function(sub, key) ... end)",
   "Calls the function on each group; one row per group of what it returns."},
  {NULL, NULL, NULL}
};

static const struct {
  const char *prefix;         /* of the entries */
  const char *tname;          /* metatable */
  const char *what;
} kinds[] = {
  {"Table", LT_TABLE, "a table: named columns of equal length (#t rows; t.name, t[i])"},
  {"Column", LT_COLUMN, "a column: typed values (#c, c[i]; operators make new columns)"},
  {"Grouping", LT_GROUPING, "a grouping of a table's rows (#g groups)"},
  {NULL, NULL, NULL}
};

static void put(const char *s) { lua_writestring(s, strlen(s)); }

static void write_top(lua_State *L) {
  lua_writestring(lua_tostring(L, -1), lua_rawlen(L, -1));
  lua_pop(L, 1);
}

static const help_entry *find_entry(const char *name) {
  int i;
  for (i = 0; entries[i].name != NULL; i++)
    if (strcmp(entries[i].name, name) == 0)
      return &entries[i];
  return NULL;
}

static void print_entry(lua_State *L, const char *name) {
  const help_entry *e = find_entry(name);
  if (e != NULL)
    lua_pushfstring(L, "%s\n  %s\n", e->signature, e->line);
  else
    lua_pushfstring(L, "%s\n", name);
  lua_writestring(lua_tostring(L, -1), lua_rawlen(L, -1));
  lua_pop(L, 1);
}

/* The expression language's built-in `name`, from the core's registry;
** 0 when there is none. */
static int print_builtin(lua_State *L, const char *name) {
  static const char *const kinds[] = { "", "a scalar function", "an aggregate",
                                       "a window function" };
  const tl_function_info *f = tl_builtin_function(name);
  if (f == NULL) return 0;
  lua_pushfstring(L, "%s  (in expressions: %s)\n  %s\n", f->signature, kinds[f->kind],
                  f->help);
  write_top(L);
  return 1;
}

/* The built-ins of one kind, as a wrapped list. */
static void list_builtins(lua_State *L, tl_function_kind kind, const char *title) {
  luaL_Buffer b;
  int col = 2;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, title);
  luaL_addstring(&b, "  ");
  for (int i = 0; tl_builtin_function_at(i) != NULL; i++) {
    const tl_function_info *f = tl_builtin_function_at(i);
    size_t len = strlen(f->name);
    if (f->kind != kind) continue;
    if (col > 2 && col + len + 2 > 78) {
      luaL_addstring(&b, "\n  ");
      col = 2;
    } else if (col > 2) {
      luaL_addstring(&b, "  ");
      col += 2;
    }
    luaL_addstring(&b, f->name);
    col += (int)len;
  }
  luaL_addstring(&b, "\n");
  luaL_pushresult(&b);
  write_top(L);
}

/* Pushes the method table of a metatable (its __index, or the upvalue of
** a C __index function, where tally keeps them); nil when there is none. */
static int push_methods(lua_State *L, const char *tname) {
  luaL_getmetatable(L, tname);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return 0;
  }
  lua_getfield(L, -1, "__index");
  lua_remove(L, -2);
  if (lua_iscfunction(L, -1)) {
    if (lua_getupvalue(L, -1, 1) == NULL)
      lua_pushnil(L);
    lua_remove(L, -2);
  }
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return 0;
  }
  return 1;
}

/* The sorted keys of the table on the top, as one string with `prefix`
** before each name, wrapped. Pops the table and pushes the string. */
static void push_names(lua_State *L, const char *sep) {
  int t = lua_gettop(L), n = 0, i, col = 2;
  luaL_Buffer b;
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING && lua_tostring(L, -1)[0] != '_') {
      lua_pushvalue(L, -1);
      lua_rawseti(L, t + 1, ++n);
    }
  }
  lua_getglobal(L, "table");
  lua_getfield(L, -1, "sort");
  lua_remove(L, -2);
  if (lua_isfunction(L, -1)) {
    lua_pushvalue(L, t + 1);
    lua_call(L, 1, 0);
  } else {
    lua_pop(L, 1);
  }
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "  ");
  for (i = 1; i <= n; i++) {
    size_t len;
    const char *s;
    lua_rawgeti(L, t + 1, i);
    s = lua_tolstring(L, -1, &len);
    if (col > 2 && col + len + strlen(sep) + 2 > 78) {
      luaL_addstring(&b, "\n  ");
      col = 2;
    } else if (col > 2) {
      luaL_addstring(&b, "  ");
      col += 2;
    }
    luaL_addstring(&b, sep);
    luaL_addlstring(&b, s, len);
    col += (int)(len + strlen(sep));
    lua_pop(L, 1);
  }
  luaL_addstring(&b, "\n");
  luaL_pushresult(&b);
  lua_replace(L, t);
  lua_settop(L, t);
}

static void list_all(lua_State *L) {
  int k;
  put("tally: help(x) describes a function or object; help(\"Table:filter\") "
                  "a name.\n");
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "tally");
  lua_remove(L, -2);
  if (lua_istable(L, -1)) {
    put("\nModule functions:\n");
    push_names(L, "tally.");
    write_top(L);
  } else {
    lua_pop(L, 1);
  }
  for (k = 0; kinds[k].prefix != NULL; k++) {
    lua_pushfstring(L, "\n%s methods (%s):\n", kinds[k].prefix, kinds[k].what);
    write_top(L);
    if (push_methods(L, kinds[k].tname)) {
      push_names(L, kinds[k].prefix[0] == 'T' ? "t:" : kinds[k].prefix[0] == 'C' ? "c:"
                                                                                   : "g:");
      write_top(L);
    } else {
      lua_pop(L, 1);
    }
  }
  put("\nIn expressions (help(\"name\") for one):\n");
  list_builtins(L, TL_FN_SCALAR, "scalar functions:\n");
  list_builtins(L, TL_FN_AGGREGATE, "aggregates, in agg:\n");
  list_builtins(L, TL_FN_WINDOW, "window functions, in mutate:\n");
  lua_writeline();
}

/* The name of the function at idx among the module's functions and the
** methods of each type, pushed ("tally.read_csv", "Table:filter"); 0 when
** it is none of them. */
static int name_function(lua_State *L, int idx) {
  int k;
  idx = lua_absindex(L, idx);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "tally");
  lua_remove(L, -2);
  if (lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      if (lua_rawequal(L, -1, idx) && lua_type(L, -2) == LUA_TSTRING) {
        lua_pushfstring(L, "tally.%s", lua_tostring(L, -2));
        lua_replace(L, -4);
        lua_pop(L, 2);
        return 1;
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  for (k = 0; kinds[k].prefix != NULL; k++) {
    if (!push_methods(L, kinds[k].tname)) {
      lua_pop(L, 1);
      continue;
    }
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      if (lua_rawequal(L, -1, idx) && lua_type(L, -2) == LUA_TSTRING) {
        lua_pushfstring(L, "%s:%s", kinds[k].prefix, lua_tostring(L, -2));
        lua_replace(L, -4);
        lua_pop(L, 2);
        return 1;
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  return 0;
}

/* help(x) */
int lt_help(lua_State *L) {
  int k;
  if (lua_isnone(L, 1)) {
    list_all(L);
    return 0;
  }
  if (lua_type(L, 1) == LUA_TSTRING) {
    const char *name = lua_tostring(L, 1);
    int found = 0;
    if (find_entry(name) != NULL) {
      print_entry(L, name);
      return 0;
    }
    for (k = 0; kinds[k].prefix != NULL; k++) {      /* "filter": any type's method */
      lua_pushfstring(L, "%s:%s", kinds[k].prefix, name);
      if (find_entry(lua_tostring(L, -1)) != NULL) {
        print_entry(L, lua_tostring(L, -1));
        found = 1;
      }
      lua_pop(L, 1);
    }
    lua_pushfstring(L, "tally.%s", name);
    if (find_entry(lua_tostring(L, -1)) != NULL) {
      print_entry(L, lua_tostring(L, -1));
      found = 1;
    }
    lua_pop(L, 1);
    found |= print_builtin(L, name);                  /* "sum": the aggregate too */
    if (!found) {
      lua_pushfstring(L, "no help for '%s'; help() lists what there is\n", name);
      write_top(L);
    }
    return 0;
  }
  if (lua_isfunction(L, 1)) {
    if (name_function(L, 1))
      print_entry(L, lua_tostring(L, -1));
    else
      put("a function that is not part of tally\n");
    return 0;
  }
  for (k = 0; kinds[k].prefix != NULL; k++) {
    if (luaL_testudata(L, 1, kinds[k].tname)) {
      const char *s = luaL_tolstring(L, 1, NULL);
      const char *nl = strchr(s, '\n');
      lua_pushfstring(L, "%s: %s\n", kinds[k].prefix, kinds[k].what);
      write_top(L);
      if (nl == NULL) {                          /* a one-line summary: show it */
        lua_pushfstring(L, "  %s\n", s);
        write_top(L);
      }
      lua_pop(L, 1);
      put("methods:\n");
      if (push_methods(L, kinds[k].tname)) {
        push_names(L, kinds[k].prefix[0] == 'T' ? "t:" : kinds[k].prefix[0] == 'C' ? "c:"
                                                                                     : "g:");
        write_top(L);
      } else {
        lua_pop(L, 1);
      }
      return 0;
    }
  }
  if (lt_isnull(L, 1)) {
    put("tally.null: the null value inside arrays (c:totable(), rows "
                    "handed to Lua)\n");
    return 0;
  }
  lua_pushfstring(L, "no help for a %s value; help() lists what there is\n",
                  luaL_typename(L, 1));
  write_top(L);
  return 0;
}
