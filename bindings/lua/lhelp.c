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
   "comment, max_rows, on_error, max_field_size, range_start, range_stop, dateformat, "
   "timestampformat}])",
   "Reads a CSV file into a table, inferring column types from every value (dates in the "
   "common formats; types = {d = 'date:%d.%m.%Y'} gives a column its own)."},
  {"tally.read_csv_string", "tally.read_csv_string(text [, options])",
   "Reads CSV text (a Lua string) into a table; the options of tally.read_csv."},
  {"tally.from_arrow", "tally.from_arrow(x) | tally.from_arrow(schema, array)",
   "A table from an Arrow export (t:to_arrow(), or a host's C data interface structs)."},
  {"tally.options", "tally.options([{digits, traceback}])",
   "Sets and returns the settings: digits = significant digits of floats in tables and "
   "charts (6; 0: all), traceback = tracebacks of errors typed at the prompt."},
  {"tally.read_json",
   "tally.read_json(path [, {types, columns, null, dateformat, timestampformat}])",
   "Reads a JSON array of flat objects into a table (types inferred)."},
  {"tally.read_ndjson",
   "tally.read_ndjson(path [, {types, columns, null, dateformat, timestampformat}])",
   "Reads one JSON object a line into a table (types inferred)."},
  {"tally.read_parquet", "tally.read_parquet(path [, {columns}])",
   "Reads a Parquet file of flat columns into a table (only `columns` when given)."},
  {"tally.read_arrow", "tally.read_arrow(path [, {columns}])",
   "Reads an Arrow IPC file or stream (.arrow, .feather; lz4/zstd too), mapped where it can."},
  {"tally.read_document", "tally.read_document(path)",
   "Reads the tables found in a text report; an array of tables."},
  {"tally.report", "local r = tally.report(title)",
   "An HTML report: r:heading(s), r:text(s), r:table(t), r:chart(t, opts), r:write(path)."},
  {"Report:heading", "r:heading(text [, level])", "A heading (level 1 to 4)."},
  {"Report:text", "r:text(text)", "Paragraphs of text (split at blank lines)."},
  {"Report:table", "r:table(t [, {max_rows, digits, caption}])",
   "A table, floats at display precision, long tables cut with a note."},
  {"Report:chart", "r:chart(t, {x, y, kind, ...})", "A chart, inline (the options of t:plot)."},
  {"Report:write", "r:write(path)", "Writes the report as one self-contained HTML file."},
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
  {"tally.scan", "tally.scan(path | {paths} | glob | folder | table [, {types, sep, header, null, skip, "
   "comment, sample_bytes, progress}])",
   "A lazy scan of CSV or Parquet files: verbs build a plan, collect() or a writer streams "
   "the data through it."},
  {"tally.memory_limit", "tally.memory_limit([bytes])",
   "Sets (0: none) or gets the memory limit of the core's work (default 80% of RAM); returns the previous one and the bytes in use."},
  {"tally.clock", "tally.clock()", "Monotonic wall-clock seconds."},
  {"tally.threads", "tally.threads([n])", "Sets or gets the number of worker threads."},
  {"tally.help", "help([x])", "Describes x (a tally function or object); lists everything."},
  {"Table:ncol", "t:ncol()", "The number of columns (#t is the number of rows)."},
  {"Table:names", "t:names()", "The column names, in order."},
  {"Table:schema", "t:schema()", "An array of {name, type, nulls}, one per column."},
  {"Table:col", "t:col(name | index)", "A column, by name or 1-based index (also t.name)."},
  {"Table:rows", "for i, r in t:rows() do ... end", "Iterates over row views (r.year, r[2])."},
  {"Table:show", "t:show([n | {n, all, width, color, types}])",
   "Prints the table: n rows (head and tail), fitted to the terminal (middle columns "
   "hidden when too wide); all = true prints every row and column."},
  {"Table:format", "t:format([n | {n, all, width, color, types}])",
   "The text t:show prints, as a string."},
  {"Table:to_markdown", "t:to_markdown()", "Every row as a Markdown pipe table (a string)."},
  {"Table:write_csv", "t:write_csv(path [, {sep, header, null, quote, dateformat}])",
   "Writes the table as CSV (a header line unless header = false; dates as dateformat, "
   "strftime)."},
  {"Table:title", "t:title()", "The title of a table found by tally.read_document."},
  {"Table:meta", "t:meta()", "The metadata (units, notes) of a table from tally.read_document."},
  {"Table:rejects", "t:rejects()",
   "The records read_csv skipped (on_error = \"skip\"): line and reason."},
  {"Table:to_arrow", "t:to_arrow()", "The table as an Arrow C data interface export."},
  {"Table:pivot_longer",
   "t:pivot_longer{ cols, id_cols, names_to = \"name\", values_to = \"value\" }",
   "Wide to long: one row per (row, column of cols), as SQL UNPIVOT."},
  {"Table:pivot_wider", "t:pivot_wider{ names_from, values_from, id_cols, fill }",
   "Long to wide: one column per value of names_from, as SQL PIVOT."},
  {"Table:write_arrow", "t:write_arrow(path [, {compression, format, batch_rows}])",
   "Writes an Arrow IPC file (format = \"stream\" for a stream); compression none, lz4, zstd."},
  {"Table:write_json", "t:write_json(path)", "Writes the table as a JSON array of objects."},
  {"Table:write_ndjson", "t:write_ndjson(path)", "Writes one JSON object a line."},
  {"Table:save", "t:save(path)", "Saves the table in tally's binary format (see tally.load)."},
  {"Table:write_parquet", "t:write_parquet(path [, {compression, row_group_size}])",
   "Writes a Parquet file (zstd, snappy, gzip, lz4 or none; statistics; dictionaries)."},
  {"Table:write", "t:write(path [, opts])",
   "Writes the table in the format of the path's extension (.csv, .json, .parquet, ...)."},
  {"tally.read", "tally.read(path [, opts])",
   "Reads a file in the format of its extension (.csv, .tsv, .json, .parquet, ...)."},
  {"Table:head", "t:head([n])", "The first n rows (10 by default)."},
  {"Table:tail", "t:tail([n])", "The last n rows (10 by default)."},
  {"Table:slice", "t:slice(i, j)", "Rows i to j."},
  {"Table:totable", "t:totable()", "An array of records; nulls as tally.null."},
  {"Table:filter", "t:filter(expr | mask | function(r))",
   "The rows where the condition holds: \"year >= 2018 and region == 'Asia'\"."},
  {"Table:mutate", "t:mutate(\"name = expr\", ... [, {order_by, partition_by}])",
   "Adds or replaces computed columns (window functions over order_by/partition_by)."},
  {"Table:select", "t:select(name, ...)", "The named columns, in that order."},
  {"Table:drop", "t:drop(name, ...)", "The table without the named columns."},
  {"Table:rename", "t:rename{ old = \"new\" }", "The table with columns renamed."},
  {"Table:sort", "t:sort(key, ...)", "Rows sorted by the keys; \"-key\" sorts descending."},
  {"Table:top", "t:top(n, key, ...)", "The first n rows of the sort order."},
  {"Table:distinct", "t:distinct([name, ...])", "One row per distinct combination."},
  {"Table:concat", "t:concat(u, ...)", "The rows of several tables, columns matched by name."},
  {"Table:join", "t:join(u, { on, how, suffix })",
   "Joins two tables (how: inner, left, right, full, semi, anti)."},
  {"Table:group_by", "t:group_by(key, ...)", "A grouping of the rows by the keys."},
  {"Table:agg", "t:agg(\"name = aggregate(expr)\", ...)", "One row of aggregates of the table."},
  {"Table:describe", "t:describe()", "A table of per-column statistics."},
  {"Table:bar", "t:bar(label_col, value_col [, {width, print}])",
   "Draws a bar chart in the terminal."},
  {"Table:plot", "t:plot{ x, y, kind = line|scatter|bar|area|hist|box, file = \"a.svg\"|"
   "\"a.png\", by, facet, title, subtitle, xlabel, ylabel, orient, stack, bins, width, height }",
   "Writes a chart to an SVG or PNG file (by its extension)."},
  {"Table:write_html", "t:write_html(path [, {title, max_rows, digits, caption}])",
   "Writes the table as a self-contained HTML page."},
  {"Column:type", "c:type()", "The type: bool, int, float, string, date or timestamp."},
  {"Column:name", "c:name()", "The name the column was reached by."},
  {"Column:nulls", "c:nulls()", "The number of nulls."},
  {"Column:count", "c:count()", "The number of non-null values."},
  {"Column:sum", "c:sum()", "The sum of the values (nulls skipped)."},
  {"Column:mean", "c:mean()", "The mean of the values (nil when there are none)."},
  {"Column:min", "c:min()", "The smallest value."},
  {"Column:max", "c:max()", "The largest value."},
  {"Column:totable", "c:totable()", "The values as an array; nulls as tally.null."},
  {"Column:median", "c:median()", "The median (nulls skipped)."},
  {"Column:quantile", "c:quantile(q)", "The q-quantile, 0 <= q <= 1 (linear interpolation)."},
  {"Column:stddev", "c:stddev()", "The sample standard deviation (n - 1)."},
  {"Column:var", "c:var()", "The sample variance (n - 1)."},
  {"Column:count_distinct", "c:count_distinct()", "The number of distinct non-null values."},
  {"Column:eq", "c:eq(v)", "A boolean column: value == v (null where the value is null)."},
  {"Column:ne", "c:ne(v)", "A boolean column: value ~= v."},
  {"Column:lt", "c:lt(v)", "A boolean column: value < v."},
  {"Column:le", "c:le(v)", "A boolean column: value <= v."},
  {"Column:gt", "c:gt(v)", "A boolean column: value > v."},
  {"Column:ge", "c:ge(v)", "A boolean column: value >= v."},
  {"Column:unique", "c:unique()", "The distinct values, in order of first appearance."},
  {"Column:value_counts", "c:value_counts()", "A table of each value and its count."},
  {"Column:hist", "c:hist{ bins = n, width, print } or c:hist{ file = \"h.png\", bins, title }",
   "Draws a histogram in the terminal, or into an SVG or PNG file."},
  {"Column:is_null", "c:is_null()", "A boolean column: true where the value is null."},
  {"Column:isin", "c:isin{ v, ... }", "A boolean column: true where the value is listed."},
  {"Grouping:agg", "g:agg(\"name = aggregate(expr)\", ...)",
   "One row per group: the keys and the aggregates."},
  {"Grouping:count", "g:count()", "One row per group: the keys and the number of rows."},
  {"Grouping:keys", "g:keys()", "One row per group: the key columns."},
  {"Grouping:groups", "for key, sub in g:groups() do ... end",
   "Iterates over the groups as tables."},
  {"Grouping:apply", "g:apply(function(sub, key) ... end)",
   "One row per group of what the function returns: { name = v, ... } (columns sorted by "
   "name) or { {\"name\", v}, ... } (in that order); nil skips the group."},
  {"Row:totable", "r:totable()", "The row as a table {name = value}; nulls as tally.null."},
  {"Scan:filter", "s:filter(expr)", "Keeps the rows where expr is true (run per batch)."},
  {"Scan:mutate", "s:mutate(\"name = expr\", ... [, {order_by, partition_by}])",
   "Adds or replaces columns (per batch; window functions gather the rows in memory first)."},
  {"Scan:select", "s:select(name, ...)", "Only these columns (only they are read)."},
  {"Scan:drop", "s:drop(name, ...)", "Without these columns."},
  {"Scan:rename", "s:rename{ old = \"new\" }", "Renames columns."},
  {"Scan:group_by", "s:group_by(key, ...):agg(def, ...)",
   "Aggregates per group: partial states per batch, merged in file order."},
  {"Scan:agg", "s:agg(def, ...)", "The whole input as one group."},
  {"Scan:head", "s:head([n])", "The first n rows in file order; reading stops there."},
  {"Scan:top", "s:top(n, key, ...)", "The first n rows of sort(key, ...), without sorting all."},
  {"Scan:distinct", "s:distinct([col, ...])", "One row per distinct combination."},
  {"Scan:sort", "s:sort(key, ...)", "Sorts the rows (gathered in memory)."},
  {"Scan:join", "s:join(t, { on = key, how = \"inner\" })",
   "Joins with an in-memory table t, as t:join: inner, left, semi, anti per batch; "
   "right, full gather their input."},
  {"Scan:collect", "s:collect()", "Runs the plan into a table."},
  {"Scan:write_csv", "s:write_csv(path)", "Runs the plan into a CSV file, batch by batch."},
  {"Scan:write_parquet", "s:write_parquet(path [, {compression, row_group_size}])",
   "Runs the plan into a Parquet file, row groups cut from the batches as they come."},
  {"Scan:write_arrow", "s:write_arrow(path [, {compression, format, batch_rows}])",
   "Runs the plan into an Arrow IPC file, a record batch per batch."},
  {"Scan:explain", "s:explain()", "The plan: columns read, filters pushed, how each step runs."},
  {"Scan:names", "s:names()", "The names of the result's columns."},
  {NULL, NULL, NULL}
};

static const struct {
  const char *prefix;         /* of the entries */
  const char *tname;          /* metatable */
  const char *var;            /* how the methods are listed: "t:filter" */
  const char *what;
} kinds[] = {
  {"Table", LT_TABLE, "t:", "a table: named columns of equal length (#t rows; t.name, t[i])"},
  {"Column", LT_COLUMN, "c:", "a column: typed values (#c, c[i]; operators make new columns)"},
  {"Grouping", LT_GROUPING, "g:", "a grouping of a table's rows (#g groups)"},
  {"Row", LT_ROW, "r:", "a row view of a table (r.name, r[j])"},
  {"Scan", LT_SCAN, "s:", "a lazy scan: a plan over files or a table, run by collect()"},
  {NULL, NULL, NULL, NULL}
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
    if (!push_methods(L, kinds[k].tname)) {      /* a type not there (yet) */
      lua_pop(L, 1);
      continue;
    }
    lua_pushfstring(L, "\n%s methods (%s):\n", kinds[k].prefix, kinds[k].what);
    write_top(L);
    push_names(L, kinds[k].var);
    write_top(L);
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

/* The nearest known topic to `name` (an entry, with or without its
** "Table:" or "tally." part, or an expression function), through the
** core's tl_suggest; NULL when none is close. The array lives in a
** userdata left on the stack. */
static const char *near_topic(lua_State *L, const char *name) {
  int n = 0, nb = 0, i;
  const char **names;
  while (entries[n].name != NULL) n++;
  while (tl_builtin_function_at(nb) != NULL) nb++;
  names = lua_newuserdatauv(L, sizeof *names * (size_t)(2 * n + nb + 1), 0);
  for (i = 0; i < n; i++) {
    const char *e = entries[i].name, *sep = strpbrk(e, ":.");
    names[2 * i] = e;
    names[2 * i + 1] = sep ? sep + 1 : e;
  }
  for (i = 0; i < nb; i++)
    names[2 * n + i] = tl_builtin_function_at(i)->name;
  return tl_suggest(name, names, 2 * n + nb);
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
      const char *near = near_topic(L, name);
      if (near != NULL)
        lua_pushfstring(L, "no help for '%s' (did you mean '%s'?); help() lists what there "
                        "is\n", lt_echoz(L, name), near);
      else
        lua_pushfstring(L, "no help for '%s'; help() lists what there is\n",
                        lt_echoz(L, name));
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
        push_names(L, kinds[k].var);
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
