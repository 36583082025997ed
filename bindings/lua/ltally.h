/*
** ltally.h -- what the files of the Lua binding share (not installed).
*/
#ifndef LTALLY_H
#define LTALLY_H

#include "lauxlib.h"
#include "lua.h"
#include "tally/tally.h"
#include "tally_lua.h"

#define LT_TABLE "tally.Table"
#define LT_ROW "tally.Row"
#define LT_COLUMN "tally.Column"
#define LT_BOX "tally.Box"
#define LT_GROUPING "tally.Grouping"
#define LT_SCAN "tally.Scan"
#define LT_NULLTYPE "tally.Null"
#define LT_NULLVALUE "tally.null"   /* registry key of the null sentinel */
#define LT_SANDBOXED "tally.sandboxed"   /* registry key, true in a sandbox's state */
#define LT_ENV "tally.env"               /* registry key, the state's tl_env (tally_lua.c) */

/* Before luaopen_tally: the state's calls run under env, which it does not
** own (a worker state under its parent's, a sandbox under its own). */
void lt_lend_env(lua_State *L, tl_env *env);
/* Pushes onto W the copy of the module's function at idx of M (a wrapper
** that enters W's env); 0, nothing pushed, when it is not one. */
int lt_copy_entered(lua_State *M, int idx, lua_State *W);

typedef struct lt_table {
  tl_table *t;                      /* NULL once closed, or while a selection */
  tl_selection *sel;                /* a filter's rows not yet taken (lverbs.c) */
} lt_table;

/* A column carries its own name: one column may sit in several tables
** under different names. */
typedef struct lt_column {
  tl_column *c;                     /* NULL once closed */
  char name[];
} lt_column;

/* A row view; user value 1 is the tally.Table it belongs to. */
typedef struct lt_row {
  int64_t i;                        /* 0-based */
} lt_row;

/* A grouping; user value 1 is the tally.Table it groups (kept alive for
** as long as the grouping), user value 2 the array of key names. */
typedef struct lt_grouping {
  tl_grouping *g;                   /* NULL once closed */
} lt_grouping;

/* A pointer owned by a userdata, so that it is freed even when a Lua error
** unwinds the C function holding it. */
typedef struct lt_box {
  void *p;
  void (*free)(void *p);
} lt_box;

lt_box *lt_newbox(lua_State *L, void (*freefn)(void *p));
void lt_box_free(lt_box *b);

void lt_push_null(lua_State *L);
int lt_isnull(lua_State *L, int idx);

/* Values: nulls as nil, dates and timestamps as ISO 8601 strings. */
void lt_push_scalar(lua_State *L, const tl_scalar *v);
void lt_push_value(lua_State *L, const tl_column *c, int64_t i);

/* Raise an error naming `op` and the file when the file a column (or a
** table's columns) maps changed since it was loaded: before reading values
** with lt_push_value, once per call. */
void lt_check_file(lua_State *L, const tl_column *c, const char *op);
void lt_check_files(lua_State *L, const tl_table *t, const char *op);

/* Literal text for __tostring: strings, dates and timestamps quoted. */
void lt_add_quoted(luaL_Buffer *b, const char *s, size_t len);
void lt_add_scalar(luaL_Buffer *b, const tl_scalar *v);

/* Raises the core's error as a Lua error: its message, or "tally: <status>"
** when the core left it empty. */
int lt_core_error(lua_State *L, tl_status st, const tl_error *err);

/* The one way the binding calls the core: `st` is the status of a core call
** made in the argument list, raised as lt_core_error when it is not TL_OK:
**   lt_call(L, tl_table_slice(t, 0, n, &ud->t, &err), &err);
** Whatever the call allocated must already be owned by a userdata (an
** lt_box, the lt_table about to hold the result), since this may raise. */
void lt_call(lua_State *L, tl_status st, const tl_error *err);

/* The string at idx (converted in place from a number) as a C string for
** the core; an error "<what> contains a NUL byte at byte N" when one sits
** inside, since the core would see only the part before it. `fmt` and its
** arguments (as lua_pushfstring's) say what the string is: "filter:
** expression", "select: argument 2". */
const char *lt_cstring(lua_State *L, int idx, const char *fmt, ...);

/* User strings echoed into messages are capped at LT_ECHO_MAX bytes (at a
** UTF-8 boundary) and end with "..." when cut: lt_echo pushes the capped
** copy and returns it. */
#define LT_ECHO_MAX 80
const char *lt_echo(lua_State *L, const char *s, size_t len);
const char *lt_echoz(lua_State *L, const char *s);

/* The key at -2 (in a lua_next loop over an options table) as a C string,
** checked as lt_cstring does; NULL when it is not a string. */
const char *lt_option_key(lua_State *L, const char *op);

/* Rejects every key of the options table at idx that is not in `keys` (a
** NULL-terminated list): "<op>: unknown option 'x' (did you mean 'y'?)", or
** the list of the options when none is close. Every function that takes an
** options table checks it with this, before reading any option. */
void lt_check_options(lua_State *L, int idx, const char *op, const char *const *keys);

/* The names of option `columns` (a list of strings at idx) in a userdata
** left on the stack, *pn of them; the strings stay referenced by the
** options table. */
const char **lt_column_list(lua_State *L, int idx, const char *op, int *pn);

/* Replaces the error object at the top with its text, as luaL_tolstring
** gives it (its __tostring included), under protection: when __tostring
** fails the top becomes nil and a fixed text is returned. */
const char *lt_error_text(lua_State *L);

/* "<op>: unknown column 'x' (did you mean 'y'?)" */
int lt_unknown_column(lua_State *L, const char *op, const tl_table *t, const char *name);

/* New userdata holding nothing yet (NULL), for a result to be stored into
** directly, so that it is owned before any further error can be raised. */
lt_table *lt_new_table(lua_State *L);
/* The table of ud, its rows taken first when it is a filter's selection;
** NULL when closed. */
tl_table *lt_table_of(lua_State *L, lt_table *ud);
lt_column *lt_new_column(lua_State *L, const char *name);

void lt_push_column(lua_State *L, tl_column *c, const char *name);   /* retains c */
/* A row view of row i (0-based) of the tally.Table at tidx. */
void lt_push_row(lua_State *L, int tidx, int64_t i);

/* Builds a column from the Lua array at idx (n rows; nil and tally.null are
** nulls) and pushes it as a tally.Column named `name`; errors start with
** `op` and name the column and the row. */
void lt_array_column(lua_State *L, int idx, lua_Integer n, const char *name, const char *op);

/* Sizes and integers from Lua (lcheck.c), read without metamethods.
** lt_array_len: the length of the array at idx, its largest positive
** integer key (so {1, nil, 3} has 3); an error "<op>: <what> ..." when idx
** is not a table, has another key (unless flags has LT_OTHER_KEYS: a list
** with named options beside it), is sparse (largest key more than twice
** the entries plus 16) or is longer than max. lt_check_int: the number at
** idx as an integer in [min, max]; floats only when exact, never
** truncated; an error "<op>: <what> must be an integer in [min, max], got
** x". lt_opt_int: the same, def when idx is none or nil. */
#define LT_OTHER_KEYS 1
#define LT_MAX_INT ((lua_Integer)0x7fffffff)   /* for the core's int counts */
lua_Integer lt_array_len(lua_State *L, int idx, const char *op, const char *what, int flags,
                         lua_Integer max);
lua_Integer lt_check_int(lua_State *L, int idx, const char *op, const char *what,
                         lua_Integer min, lua_Integer max);
lua_Integer lt_opt_int(lua_State *L, int idx, const char *op, const char *what,
                       lua_Integer min, lua_Integer max, lua_Integer def);

/* The verbs of tally.Table (lverbs.c), and the operators of tally.Column
** (lcolops.c): methods and metamethods. */
extern const luaL_Reg lt_verb_methods[];
extern const luaL_Reg lt_colop_methods[];
extern const luaL_Reg lt_colop_meta[];
int lt_load(lua_State *L);
lt_column *lt_check_column(lua_State *L, int idx);

/* The row-order verbs (lsort.c): sort, top, distinct, concat, slice of
** tally.Table; value_counts and unique of tally.Column. */
int lt_t_sort(lua_State *L);
int lt_t_join(lua_State *L);
void lt_join_options(lua_State *L, tl_join_options *o);   /* the options at 3 */
int lt_t_top(lua_State *L);
int lt_t_distinct(lua_State *L);
int lt_t_concat(lua_State *L);
int lt_t_slice(lua_State *L);
int lt_c_value_counts(lua_State *L);
int lt_c_unique(lua_State *L);

/* Aggregates written in Lua (laggregate.c): tally.aggregate goes into the
** module table at the top; lt_aggregates pushes an array (a userdata) of
** every registered one, for the core; lt_definitions_to_strings turns the
** arguments from `first` on into definition strings in place. */
void lt_open_aggregate(lua_State *L);
const tl_aggregate **lt_aggregates(lua_State *L, int *n);
void lt_definitions_to_strings(lua_State *L, int first);
/* mutate's arguments from 2 on: a last table without array entries is its
** options { order_by =, partition_by = }, read into win (their strings and
** arrays anchored on the stack, below the definitions); returns the index
** of the first definition. */
int lt_mutate_options(lua_State *L, tl_window_options *win);

/* Scalar functions written in Lua (lfunc.c): tally.func goes into the module
** table at the top; lt_functions pushes an array (a userdata) of every
** registered one. The scope of both is tally_lua_scope (tally_lua.h). */
void lt_open_func(lua_State *L);
const tl_function **lt_functions(lua_State *L, int *n);
/* The same arrays of the aggregates, or functions, in the table at index
** `reg` (name -> the userdata, as the registries hold them), for a scope
** that must outlive later definitions: a lazy scan keeps a copy of the
** registries. Each marks its entries as used from state L. */
const tl_aggregate **lt_aggregates_in(lua_State *L, int reg, int *n);
const tl_function **lt_functions_in(lua_State *L, int reg, int *n);
/* Each Lua aggregate and function finds its own userdata through its C
** struct (a light userdata key of a registry table whose values are weak),
** not by name: a later definition of the name, which replaces it in the
** registry, leaves the scans made before it calling it. lt_self_set
** records the value at the top (popped) for p; lt_self_push pushes it. */
void lt_self_set(lua_State *L, const char *key, const void *p);
void lt_self_push(lua_State *L, const char *key, const void *p);
#define LT_AGGREGATES_KEY "tally.aggregates"   /* the registries' keys */

/* tally.mpi.scan (lscan.c): pushes tally.scan(arg 1, arg 2) over share
** `share` of `nshares` of the input's morsels, whose collect() calls the
** C function in the registry under LT_SCAN_COLLECTIVE with the scan and its
** tl_scan (a light userdata) and returns what that returns. */
int lt_scan_shared(lua_State *L, int share, int nshares);
#define LT_SCAN_COLLECTIVE "tally.scan.collective"
#define LT_FUNCTIONS_KEY "tally.functions"

/* The progress bar of a long load or scan on stderr (tally_lua.c), fed by
** the core's progress callbacks (lt_bar_draw, from any thread, touching no
** Lua state): drawn once the work has run for a second, erased by
** lt_bar_end. lt_bar_wanted reads option `progress` of the table at idx
** (true, false, or nil: when stderr is a terminal). */
typedef struct lt_bar {
  const char *op;
  int passes;
  double start, last;
  int drawn;
} lt_bar;
void lt_bar_start(lt_bar *b, const char *op, int passes);
void lt_bar_draw(void *ud, int pass, int64_t done, int64_t total);
void lt_bar_end(lt_bar *b);
int lt_bar_wanted(lua_State *L, int idx, const char *op);

/* Pushes the registry table under `key` whose keys are weak (metadata kept
** beside table userdata: titles, rejects), creating it on first use. */
void lt_push_weak_registry(lua_State *L, const char *key);

/* The names or definitions given from argument `first` on, or as one array
** there (lverbs.c); the array is a userdata left on the stack. */
const char **lt_string_args(lua_State *L, int first, const char *op, int names, int *pn);

/* tally.options (loptions.c): lt_open_options puts it into the module table
** at the top; lt_option_digits is the display precision of floats (the
** significant digits; 0: every digit). */
void lt_open_options(lua_State *L);
int lt_option_digits(lua_State *L);
/* Reads the read_csv options present in the table at idx into o (keys
** already checked by the caller); the values stay on the stack. */
void lt_csv_option_values(lua_State *L, int idx, const char *op, tl_csv_options *o);

/* Lazy scans (lscan.c): tally.scan and tally.memory_limit go into the module
** table at the top, with the tally.Scan metatable. */
void lt_open_scan(lua_State *L);

void lt_open_table(lua_State *L);
void lt_open_column(lua_State *L);
void lt_open_grouping(lua_State *L);

/* Documents (ldocument.c): tally.read_document, and t:title() and t:meta()
** of the tables it returns, whose metadata sits in a weak-keyed registry
** table (LT_DOCMETA) keyed by the table userdata. Reshaping (lreshape.c):
** t:pivot_longer{...} and t:pivot_wider{...}. */
#define LT_DOCMETA "tally.DocumentMeta"

/* What read_csv learnt besides the table (tally_lua.c), in a weak-keyed
** registry table (LT_CSVMETA) keyed by the table userdata: t:rejects(), and
** lt_csv_reason, which pushes why column j (0-based) of the table at tidx
** got its type and returns 1, or returns 0 with nothing pushed. */
#define LT_CSVMETA "tally.CsvMeta"
int lt_table_rejects(lua_State *L);
int lt_csv_reason(lua_State *L, int tidx, int j);
/* Records why each column of the table at tidx got its type (reasons[j],
** NULL for none), for t:schema(), as read_csv's reasons are. */
void lt_record_reasons(lua_State *L, int tidx, const char *const *reasons, int n);
int lt_read_document(lua_State *L);
int lt_read_parquet(lua_State *L);      /* lparquet.c */
int lt_t_write_parquet(lua_State *L);   /* lparquet_write.c */
void lt_parquet_write_options(lua_State *L, tl_parquet_write_options *o);   /* at 3 */
int lt_read(lua_State *L);              /* lfiles.c: tally.read and t:write */
int lt_t_write(lua_State *L);
int lt_read_arrow(lua_State *L);        /* larrow_ipc.c */
int lt_t_write_arrow(lua_State *L);     /* larrow_ipc.c */
void lt_arrow_write_options(lua_State *L, tl_arrow_write_options *o);   /* at 3 */
int lt_table_title(lua_State *L);
int lt_table_meta(lua_State *L);
int lt_pivot_longer(lua_State *L);
int lt_pivot_wider(lua_State *L);

/* Lua states for the worker threads (lworker.c). lt_workers_open makes n
** states, with the standard libraries and tally, whose globals fall back to
** those of main state M (copied on first use); it runs on M's thread, whose
** owner must then leave M alone until lt_workers_close. Values copy into
** them: numbers, strings, booleans, light userdata, tables without
** metatables, C functions without upvalues and Lua functions with their
** upvalues (a userdata, a coroutine, a table with a metatable or a C
** function with upvalues cannot be copied). lt_workers_fork opens n workers
** for M and in each calls install(ud, copies of the `nvalues` values at M's
** top) under protection; NULL when M is a sandbox's state (the workers would
** have none of its limits), a value cannot be copied, or memory runs out. */
typedef struct lt_workers lt_workers;
lt_workers *lt_workers_open(lua_State *M, int n);
lua_State *lt_workers_state(const lt_workers *w, int i);
void lt_workers_close(lt_workers *w);
/* The `parallel` field of the definition table at idx: 1 when it is false
** (stay on the calling thread); an error naming `op` when not a boolean. */
int lt_serial_option(lua_State *L, int idx, const char *op);
/* Raises "op: 'name' is ..." when an expression would read `name` as a
** built-in function or a word of the language, not as the host's. */
void lt_check_name_free(lua_State *L, const char *op, const char *name);
lt_workers *lt_workers_fork(lua_State *M, int n, int nvalues, lua_CFunction install, void *ud);

#endif
