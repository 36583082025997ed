/*
** fuzz_lua.c -- the Lua binding, called at random. The input is decoded
** into a short Lua program: each statement calls a function or a method of
** the module on one of a few variables, with arguments picked from a pool
** of awkward values, under pcall. The program runs in a fresh state with
** the module loaded, a memory cap and an instruction cap; errors raised by
** the binding are expected, crashes and sanitizer reports are not.
*/
#include <stdarg.h>

#include "fuzz_lua.h"

#define NVARS 6
#define MAX_STATEMENTS 48

static const char *const methods[] = {
  /* Table */
  "ncol", "names", "schema", "col", "rows", "show", "head", "tail", "slice", "sort", "top",
  "distinct", "concat", "totable", "filter", "mutate", "select", "drop", "rename",
  "group_by", "agg", "join", "describe", "to_markdown", "pivot_longer", "pivot_wider",
  /* Column */
  "type", "name", "nulls", "count", "sum", "mean", "min", "max", "median", "quantile",
  "stddev", "var", "count_distinct", "unique", "value_counts", "eq", "ne", "lt", "le", "gt",
  "ge", "is_null", "isin",
  /* Grouping */
  "keys", "groups", "apply",
};
#define NMETHODS (sizeof methods / sizeof *methods)

static const char *const values[] = {
  "nil", "true", "false", "0", "1", "-1", "2", "3.5", "1e308", "-1e308", "0/0", "math.huge",
  "math.maxinteger", "math.mininteger", "2^53", "''", "'i'", "'-i'", "'s'", "'f'", "'k'",
  "'nope'", "'i > 1'", "'s == \"b\"'", "'n = count()'", "'t = sum(i)'", "'m = mean(f)'",
  "'x = i * 2'", "'y = s .. \"!\"'", "'q = quantile(f, 0.5)'", "'g = gm(f)'",
  "'i // 0'", "'sum(i) + '", "'(((((('", "string.rep('(', 300) .. '1' .. string.rep(')', 300)",
  "'\\0'", "'\\xff\\xfe'", "{}", "{'i', 's'}", "{i = 'j'}", "{1, 2, 3}", "{'i', nil, 's'}",
  "{on = 'k', how = 'left'}", "{on = 'k', how = 'nope'}", "{cols = {'i', 'f'}, names_to = 'n', values_to = 'v'}",
  "{names_from = 'k', values_from = 'i'}", "tally.null", "function(r) return true end",
  "function(r) return r.i end", "function() error('boom') end",
  "function(sub, key) return {n = #sub} end", "function(...) return ... end",
  "'data/jica_training.csv'", "'data/jdr_dispatches.csv'", "'/nonexistent.csv'",
  "{sep = ';'}", "{header = false}", "{types = {i = 'float'}}", "{types = {i = 'nope'}}",
  "{null = {'', 'NA'}}", "{{'a', {1, 2}}, {'b', {'x', 'y'}}}", "{{'a', {1, 2}}, {'a', {3, 4}}}",
  "{{'a', {1, 2}}, {'b', {3}}}", "{{'', {}}}", "{{'a', {true, 1, 'x'}}}",
};
#define NVALUES (sizeof values / sizeof *values)

static const char *const binops[] = { "+", "-", "*", "/", "//", "%", "^", "..", "&", "|",
                                      "==", "<", "<=" };
#define NBINOPS (sizeof binops / sizeof *binops)

/* An argument: a variable or a value of the pool. */
static void arg(buf *b, input *in) {
  unsigned k = next(in);
  if (k % 4 == 0) put(b, "v%u", k / 4 % NVARS + 1);
  else put(b, "%s", values[k % NVALUES]);
}

static void generate(buf *b, input *in) {
  put(b, "local tally = require 'tally'\n"
         "local gm = tally.aggregate{ name = 'gm', init = function() return {s = 0, n = 0} end,\n"
         "  step = function(st, x) st.s = st.s + x; st.n = st.n + 1 end,\n"
         "  merge = function(a, c) a.s = a.s + c.s; a.n = a.n + c.n; return a end,\n"
         "  final = function(st) if st.n > 0 then return st.s / st.n end end }\n"
         "local v1 = tally.from_columns{ {'i', {1, 2, 3, 4}}, {'f', {1.5, 0/0, -2, 1e300}},\n"
         "  {'s', {'a', 'b', '', 'a'}}, {'k', {'x', 'y', 'x', 'z'}} }\n"
         "local v2 = v1.i\n"
         "local v3 = v1:group_by('k')\n"
         "local v4 = tally.read_csv('data/jica_training.csv')\n"
         "local v5, v6 = v1:head(0), gm\n");
  for (int k = 0; k < MAX_STATEMENTS && in->p < in->end; k++) {
    unsigned kind = next(in) % 8, dst = next(in) % NVARS + 1, obj = next(in) % NVARS + 1;
    put(b, "pcall(function() v%u = ", dst);
    switch (kind) {
      case 0: case 1: case 2: case 3: {   /* a method with 0 to 3 arguments */
        unsigned m = next(in) % NMETHODS, nargs = next(in) % 4;
        put(b, "v%u:%s(", obj, methods[m]);
        for (unsigned a = 0; a < nargs; a++) {
          if (a) put(b, ", ");
          arg(b, in);
        }
        put(b, ")");
        break;
      }
      case 4: {   /* a module function */
        static const char *const fns[] = { "tally.read_csv", "tally.from_columns", "tally.load",
                                           "tally.aggregate", "tally.clock" };
        put(b, "%s(", fns[next(in) % 5]);
        arg(b, in);
        put(b, ", ");
        arg(b, in);
        put(b, ")");
        break;
      }
      case 5:   /* an operator */
        put(b, "v%u %s ", obj, binops[next(in) % NBINOPS]);
        arg(b, in);
        break;
      case 6:   /* indexing, length, unary operators, tostring */
        switch (next(in) % 6) {
          case 0: put(b, "v%u[", obj); arg(b, in); put(b, "]"); break;
          case 1: put(b, "#v%u", obj); break;
          case 2: put(b, "-v%u", obj); break;
          case 3: put(b, "~v%u", obj); break;
          case 4: put(b, "tostring(v%u)", obj); break;
          default: put(b, "v%u.", obj); put(b, "%s", methods[next(in) % NMETHODS]);
        }
        break;
      default: {   /* iteration */
        put(b, "nil for a, c in v%u:%s() do local _ = tostring(a) .. tostring(c) end",
            obj, next(in) % 2 ? "rows" : "groups");
      }
    }
    put(b, " end)\n");
  }
  put(b, "collectgarbage()\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int quiet;
  if (!quiet++ && !getenv("TALLY_FUZZ_SHOW") && !freopen("/dev/null", "w", stdout)) abort();
  input in = { data, data + size };
  buf b = { malloc(4096), 0, 4096 };
  if (!b.s) return 0;
  b.s[0] = '\0';
  generate(&b, &in);
  if (getenv("TALLY_FUZZ_SHOW")) fputs(b.s, stderr);
  fuzz_run_lua(b.s, b.n, "=fuzz");
  free(b.s);
  tl_set_threads(0);
  return 0;
}
