/*
** fuzz_hostile.c -- the Lua binding, called with hostile values. As
** fuzz_lua.c, the input is decoded into a short Lua program of calls under
** pcall; here the arguments are the ones a malicious script would pass:
** tables whose metatables lie (__len, __index, __eq, __lt, __tostring,
** __pairs) or call tally back (__index, __gc), sparse arrays, numbers past
** every integer range (2^31, 2^53, 2^63, -0.0, nan, inf) in integer
** options, and aggregates and functions whose steps call tally again. The
** binding may raise errors; a crash, a sanitizer report or a run past the
** instruction cap (a loop in C over a length from Lua) is a finding.
*/
#include <stdarg.h>

#include "fuzz_lua.h"

#define NVARS 6
#define MAX_STATEMENTS 40

static const char *const methods[] = {
  "ncol", "names", "col", "show", "format", "head", "tail", "slice", "sort", "top",
  "distinct", "concat", "totable", "filter", "mutate", "select", "drop", "rename",
  "group_by", "agg", "join", "pivot_longer", "pivot_wider", "bar", "plot",
  "sum", "quantile", "unique", "value_counts", "isin", "hist", "eq", "lt",
  "keys", "groups", "apply",
};
#define NMETHODS (sizeof methods / sizeof *methods)

/* numbers for integer options and arguments */
static const char *const numbers[] = {
  "0", "1", "-1", "2", "2^31", "2^31 - 1", "-2^31", "2^32 + 2", "(1 << 32) + 2", "2^53",
  "2^53 + 1", "2^63", "-2^63", "math.maxinteger", "math.mininteger", "-0.0", "0/0",
  "math.huge", "-math.huge", "1.5", "1e308", "'3'", "H{}",
};
#define NNUMBERS (sizeof numbers / sizeof *numbers)

static const char *const int_options[] = {
  "skip", "max_rows", "max_field_size", "range_start", "range_stop",
  "range_quotes", "range_line", "range_record", "n", "width", "height", "bins",
};
#define NINTOPTS (sizeof int_options / sizeof *int_options)

static const char *const list_options[] = {
  "columns", "null", "on", "cols", "order_by", "partition_by", "id_cols", "names_from",
  "values_from", "types",
};
#define NLISTOPTS (sizeof list_options / sizeof *list_options)

/* arrays, sparse and not, of names of v1's columns and of values */
static const char *const arrays[] = {
  "{'i', 's'}", "{'k'}", "{'i', nil, 's'}", "{[2^40] = 'i'}", "{'i', [2^31] = 's'}",
  "{'i', [40] = 's'}", "{[0] = 'i'}", "{[-1] = 'i', 'k'}", "{i = 'k'}", "HOLES('i')",
  "HOLES(1)", "{1, 2, 3}", "{1, nil, 3}", "{[1.5] = 1}", "{{'a', {1, 2}}, {'b', {3, 4}}}",
  "{{'a', {[2^40] = 1}}}", "{{'a', HOLES(1)}}", "{{'a', {1, [20] = 2}}}", "HOLES({'a', {1}})",
  "{{a = 1}, {a = 2, b = 'x'}}", "{{a = 1}, [2^40] = {a = 2}}", "{v1, v1}", "HOLES(v1)",
};
#define NARRAYS (sizeof arrays / sizeof *arrays)

static const char *const strings[] = {
  "'i'", "'s'", "'k'", "'f'", "'i > 1'", "'n = count()'", "'t = sum(i)'", "'r = re(i)'",
  "'x = i * 2'", "'y = cb(i)'", "'a = ga(i)'", "'-i'", "'nope'", "'data/jica_training.csv'",
};
#define NSTRINGS (sizeof strings / sizeof *strings)

static void value(buf *b, input *in, int depth);

/* An options table: integer options and list options, some hostile. */
static void options(buf *b, input *in, int depth) {
  unsigned n = next(in) % 3 + 1;
  put(b, "{");
  for (unsigned k = 0; k < n; k++) {
    if (next(in) % 2) put(b, "%s = %s, ", int_options[next(in) % NINTOPTS],
                          numbers[next(in) % NNUMBERS]);
    else { put(b, "%s = ", list_options[next(in) % NLISTOPTS]); value(b, in, depth + 1);
           put(b, ", "); }
  }
  put(b, "}");
}

/* A value: a variable, a number, a string, an array, an options table, or
** one of them wrapped in a hostile metatable (H). */
static void value(buf *b, input *in, int depth) {
  unsigned k = next(in);
  switch (depth > 2 ? k % 4 : k % 7) {
    case 0: put(b, "v%u", k / 8 % NVARS + 1); break;
    case 1: put(b, "%s", numbers[k / 8 % NNUMBERS]); break;
    case 2: put(b, "%s", strings[k / 8 % NSTRINGS]); break;
    case 3: put(b, "%s", arrays[k / 8 % NARRAYS]); break;
    case 4: options(b, in, depth); break;
    default:
      put(b, "H(");
      value(b, in, depth + 1);
      put(b, ", %u)", next(in));
  }
}

/* The prelude: H wraps a value in a metatable chosen by `how` (a table
** value is copied first, so that the array stays readable raw); the
** metamethods lie about lengths, answer every key, compare at random and
** call tally back, from __gc too. */
static const char prelude[] =
  "local tally = require 'tally'\n"
  "local base = tally.from_columns{ {'i', {1, 2, 3, 4}}, {'f', {1.5, 0/0, -2, 1e300}},\n"
  "  {'s', {'a', 'b', '', 'a'}}, {'k', {'x', 'y', 'x', 'z'}} }\n"
  "local v1 = base\n"
  "local function HOLES(v)\n"
  "  local keys = {}\n"
  "  for k = 0, 40 do keys[#keys + 1] = string.format('[%d] = v', 1 << k) end\n"
  "  return load('local v = ... return { ' .. table.concat(keys, ', ') .. ' }')(v)\n"
  "end\n"
  "local lens = { -1, 0, 2^31, 2^40, 2^63, 0/0, 1.5, math.mininteger, 'x' }\n"
  "local function back() return base:filter('i > 1'), tally.from_columns{ {'z', {1}} } end\n"
  "local function H(x, how)\n"
  "  local t = {}\n"
  "  if type(x) == 'table' and getmetatable(x) == nil then for k, v in next, x do t[k] = v end\n"
  "  else t[1] = x end\n"
  "  local mt = {}\n"
  "  if how & 1 ~= 0 then mt.__len = function() return lens[how % #lens + 1] end end\n"
  "  if how & 2 ~= 0 then mt.__index = function(_, k) back() return k == 'how' and 'nope' or x end end\n"
  "  if how & 4 ~= 0 then mt.__eq = function() back() return how & 8 ~= 0 end\n"
  "    mt.__lt = function() error('lt') end mt.__le = mt.__lt end\n"
  "  if how & 16 ~= 0 then mt.__gc = function() pcall(back) end end\n"
  "  if how & 32 ~= 0 then mt.__tostring = function() if how & 64 ~= 0 then return {} end back() return 'i' end end\n"
  "  if how & 128 ~= 0 then mt.__pairs = function() error('pairs') end mt.__newindex = mt.__pairs end\n"
  "  return setmetatable(t, mt)\n"
  "end\n"
  "local re = tally.aggregate{ name = 're', parallel = false,\n"
  "  init = function() return 0 end,\n"
  "  step = function(st, x) local a = base:filter('i > 1') tally.aggregate{ name = 're2',\n"
  "    init = function() return 0 end, step = function(s) return s end,\n"
  "    final = function(s) return s end } return st + #a end,\n"
  "  final = function(st) return st end }\n"
  "local ga = tally.aggregate{ name = 'ga', init = function() return {} end,\n"
  "  step = function(st, x) setmetatable(st, { __gc = function() pcall(back) end }) return st end,\n"
  "  merge = function(a) return a end, final = function() return 1 end }\n"
  "tally.func{ name = 'cb', type = 'int', parallel = false,\n"
  "  fn = function(x) local t = base:filter('i > 1') return #t end }\n"
  "local v2, v3, v4 = v1.i, v1:group_by('k'), tally.read_csv_string('a,b\\n1,2\\n')\n"
  "local v5, v6 = v1:head(0), H(v1, 255)\n";

static void generate(buf *b, input *in) {
  put(b, "%s", prelude);
  for (int k = 0; k < MAX_STATEMENTS && in->p < in->end; k++) {
    unsigned kind = next(in) % 6, dst = next(in) % NVARS + 1, obj = next(in) % NVARS + 1;
    put(b, "pcall(function() v%u = ", dst);
    switch (kind) {
      case 0: case 1: case 2: {   /* a method with 0 to 3 arguments */
        unsigned m = next(in) % NMETHODS, nargs = next(in) % 4;
        put(b, "v%u:%s(", obj, methods[m]);
        for (unsigned a = 0; a < nargs; a++) {
          if (a) put(b, ", ");
          value(b, in, 0);
        }
        put(b, ")");
        break;
      }
      case 3: {   /* a module function */
        static const char *const fns[] = { "tally.read_csv_string", "tally.from_columns",
                                           "tally.from_rows", "tally.threads" };
        unsigned f = next(in) % 4;
        put(b, "%s(", fns[f]);
        if (f == 0) { put(b, "'i,s,k\\n1,a,x\\n2,,y\\n3,c,z\\n', "); options(b, in, 0); }
        else value(b, in, 0);
        if (f == 2 && next(in) % 2) { put(b, ", "); value(b, in, 0); }
        put(b, ")");
        if (f == 3) put(b, " tally.threads(0)");
        break;
      }
      case 4:   /* a hostile value dropped and collected: __gc runs */
        put(b, "H(");
        value(b, in, 0);
        put(b, ", %u) collectgarbage()", next(in) | 16);
        break;
      default:   /* comparison, length and tostring of wrapped values */
        put(b, "tostring(v%u == H(v%u, %u)) .. tostring(#H(v%u, %u))", obj, obj, next(in),
            obj, next(in));
    }
    put(b, " end)\n");
  }
  /* the finalizers run now, while the state is open: Lua never finalizes
  ** what a finalizer creates during lua_close (manual, 2.5.3), so a tally
  ** table made there would be reported as a leak */
  put(b, "v1, v2, v3, v4, v5, v6 = nil\n"
         "for _ = 1, 4 do collectgarbage() end\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int quiet;
  if (!quiet++ && !getenv("TALLY_FUZZ_SHOW") && !freopen("/dev/null", "w", stdout)) abort();
  input in = { data, data + size };
  buf b = { malloc(8192), 0, 8192 };
  if (!b.s) return 0;
  b.s[0] = '\0';
  generate(&b, &in);
  if (getenv("TALLY_FUZZ_SHOW")) fputs(b.s, stderr);
  fuzz_run_lua(b.s, b.n, "=hostile");
  free(b.s);
  tl_set_threads(0);
  return 0;
}
