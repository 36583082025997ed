/*
** tally.h -- the C API of libtally, a columnar in-memory analysis engine.
**
** Ownership, once for the whole API: handles (tl_table, tl_column) are
** reference-counted. A function that returns a handle through an out-parameter
** gives the caller one reference, which the caller drops with tl_*_release.
** A function that takes a handle borrows it: it retains what it keeps. A
** pointer into a column's memory (tl_column_ints, tl_column_string_at, ...) is
** valid while the caller holds a reference to that column.
**
** Errors: every fallible function returns a tl_status and, when the optional
** `err` is not NULL, fills it with a message naming the operation and the
** place ("read_csv: trips.csv:1289:7 (column 'fare', record 1288):
** unterminated quoted field"). On error, out-parameters are left untouched and nothing leaks. The
** library never exits or aborts on bad input or on out-of-memory.
**
** Tables are immutable: every verb returns a new table. Columns are shared
** between tables that contain them unchanged.
*/
#ifndef TALLY_H
#define TALLY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TALLY_VERSION_MAJOR 0
#define TALLY_VERSION_MINOR 2
#define TALLY_VERSION_PATCH 0
#define TALLY_VERSION "0.2.0"

#if defined(__GNUC__)
#define TL_NODISCARD __attribute__((warn_unused_result))
#else
#define TL_NODISCARD
#endif

/* What this header declares is what libtally exports; the library is built
** with hidden visibility, so nothing else is. */
#if defined(__GNUC__)
#define TL_API __attribute__((visibility("default")))
#else
#define TL_API
#endif

/* ---------------------------------------------------------------------------
** Status codes and errors
*/
typedef enum tl_status {
  TL_OK = 0,
  TL_ENOMEM,     /* an allocation failed */
  TL_EINVAL,     /* a bad argument: unknown column, bad index, bad option */
  TL_EIO,        /* a file could not be opened, read or written */
  TL_EPARSE,     /* input that does not parse (CSV, expression, ...) */
  TL_ETYPE,      /* a value or column of the wrong type */
  TL_ERANGE,     /* a number out of range: integer overflow, index */
  TL_ELIMIT,     /* a documented limit was exceeded */
  TL_EINTR       /* interrupted (tl_interrupt) */
} tl_status;

#define TL_ERROR_SIZE 1024
#define TL_ERROR_OP_SIZE 32

/* An error: the whole message ("rename: duplicate column name 'x'"), the
** operation it names first ("rename", "" when it names none) and, for an
** error in an expression ("mutate: \"`a` + 1\": arithmetic on string and
** int at column 5"), the column of the source it points at and where the
** message says what is wrong ("arithmetic on string and int"). Whatever
** fills a tl_error sets every field together; a caller that empties only
** `message` before a call reads the rest through tl_error_op,
** tl_error_detail and tl_error_reason, which answer for an empty error. */
typedef struct tl_error {
  tl_status code;
  char message[TL_ERROR_SIZE];
  char op[TL_ERROR_OP_SIZE];
  int position;              /* 1-based column in an expression; 0 when none */
  int reason_at, reason_len; /* the span of message that tl_error_reason gives */
} tl_error;

/* A short English name of a status code ("out of memory", ...). */
TL_API const char *tl_status_string(tl_status code);

/* Fills err (when not NULL) with a printf-style message and returns code, so
** that `return tl_error_set(err, TL_EINVAL, "...")` reports and fails in one
** line. The message starts with the operation's name and ": " ("join: unknown
** column 'x'"); that leading name becomes err->op. */
TL_API tl_status tl_error_set(tl_error *err, tl_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The operation an error names, "" when err is NULL, empty or names none. */
TL_API const char *tl_error_op(const tl_error *err);

/* The message after the operation's name and ": " ("duplicate column name
** 'x'"): the whole message when it names no operation. */
TL_API const char *tl_error_detail(const tl_error *err);

/* What is wrong, without the operation and the place: the expression and
** " at column N" are left out of an expression's error. Not terminated
** within the message: use *len bytes. */
TL_API const char *tl_error_reason(const tl_error *err, size_t *len);

/* Attributes err to another operation: "table: duplicate column name 'x'"
** becomes "rename: duplicate column name 'x'" and err->op "rename". The code
** is kept; an empty error stays empty. */
TL_API void tl_error_rename(tl_error *err, const char *op);

/* ---------------------------------------------------------------------------
** Environments. A tl_env holds what the core's work runs under: the
** allocator, a memory limit, the number of threads, the interrupt flag and
** a temporary directory. Each thread has a current env (tl_env_use), the
** process's default env until it chooses another; the worker threads of a
** call run under the env of the thread that made it. Every block the core
** allocates belongs to the env that was current when it was made: its
** reallocation and its free go to that env's allocator and are counted
** there, whichever env is current then. Ownership: tl_env_new gives the
** caller the env, which it ends with tl_env_free; the env's memory is
** released once its last block is gone too, so tables made under an env may
** outlive the handle, as do the threads still in it (the default env lives
** as long as the process and is not freed).
*/
typedef struct tl_env tl_env;

/* The allocator, with the contract of lua_Alloc (nsize == 0 frees; returns
** NULL on failure). It must be thread-safe: the kernels allocate on the
** worker threads. An allocator of the host's sees every block; with the
** default one (realloc and free), a block of 2 MiB or more is a memory
** mapping of its own instead, aligned for transparent huge pages, which it
** uses where the system offers them (on Linux in the "madvise" and "always"
** modes), and grown by moving its pages rather than copying them. Either way
** the block is counted against the memory limit alike. */
typedef void *(*tl_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

/* Zeroed fields take the defaults. */
typedef struct tl_env_options {
  tl_alloc_fn alloc;         /* NULL: realloc and free */
  void *alloc_ud;
  void (*alloc_done)(void *alloc_ud);   /* optional: called once the env is
                             ** gone (freed, and its last block too) */
  size_t memory_limit;       /* bytes of the core's live blocks (with their
                             ** headers); an allocation past it fails, as
                             ** out of memory (TL_ENOMEM), and a scan's
                             ** grouping, distinct, top and sort spill to
                             ** tmpdir before it. 0: the default,
                             ** tl_memory_limit_default(); SIZE_MAX: none */
  int threads;               /* <= 0: TALLY_THREADS, else the number of cores */
  const char *tmpdir;        /* NULL: $TALLY_TEMP_DIRECTORY, else $TMPDIR,
                             ** else /tmp; copied */
} tl_env_options;

TL_API TL_NODISCARD tl_status tl_env_new(const tl_env_options *opt, tl_env **out, tl_error *err);
TL_API void tl_env_free(tl_env *env);
TL_API tl_env *tl_env_default(void);
/* Makes env (NULL: the default) the calling thread's current env and
** returns the previous one (never NULL). Cheap when env is already
** current: a thread-local compare. A thread in an env keeps it alive
** (after tl_env_free) until it leaves it or ends. */
TL_API tl_env *tl_env_use(tl_env *env);
TL_API tl_env *tl_env_current(void);
/* Bytes of the env's live blocks (NULL: the current env). */
TL_API size_t tl_env_memory(const tl_env *env);
/* The env's temporary directory (NULL: the current env). */
TL_API const char *tl_env_tmpdir(const tl_env *env);
/* The kernels split their work over this many threads; n <= 0 goes back to
** the default. Results never depend on the number of threads. */
TL_API void tl_env_set_threads(tl_env *env, int n);
TL_API int tl_env_get_threads(tl_env *env);
/* Asks the env's running scans to stop: they check between vectors and
** return TL_EINTR ("interrupted"); scans under other envs go on. Safe to
** call from a signal handler. The request stands until the clear. */
TL_API void tl_env_interrupt(tl_env *env);
TL_API void tl_env_clear_interrupt(tl_env *env);
TL_API int tl_env_interrupted(const tl_env *env);

/* The functions of version 0.1, kept: each acts on the calling thread's
** current env (the default env for a host that never chooses one). The
** allocator should be set before the env allocates; blocks made before
** are freed through the new function. tl_interrupt is signal-safe and
** interrupts the env of the thread the signal lands on; tl_interrupted
** is 1 while an interrupt stands, for hosts whose own work should stop
** too. */
TL_API void tl_set_allocator(tl_alloc_fn fn, void *ud);
TL_API void tl_get_allocator(tl_alloc_fn *fn, void **ud);
TL_API void tl_set_threads(int n);
TL_API int tl_get_threads(void);
TL_API void tl_interrupt(void);
TL_API void tl_clear_interrupt(void);
TL_API int tl_interrupted(void);

/* ---------------------------------------------------------------------------
** Types. A column has one type and may hold nulls. The memory layout is that
** of Apache Arrow: a validity bitmap (bit set = valid, LSB first; absent
** when the column has no nulls); bool values bit-packed; int and timestamp as
** int64; float as double; date as int32 days since 1970-01-01; string as
** int64 offsets (length + 1 of them) into one UTF-8 byte buffer.
*/
typedef enum tl_type {
  TL_BOOL = 1,
  TL_INT,        /* int64 */
  TL_FLOAT,      /* double */
  TL_STRING,     /* UTF-8 */
  TL_DATE,       /* int32 days since 1970-01-01 */
  TL_TIMESTAMP   /* int64 microseconds since 1970-01-01T00:00:00 */
} tl_type;

/* "bool", "int", "float", "string", "date", "timestamp"; NULL for others. */
TL_API const char *tl_type_name(tl_type type);
/* The type named `name`, or 0 when there is none. */
TL_API tl_type tl_type_from_name(const char *name);

/* One value of any type, as returned by scalar aggregates. A string value
** points into the column it came from (or into the scalar's owner). */
typedef struct tl_scalar {
  tl_type type;
  int is_null;
  union {
    int b;
    int64_t i;        /* TL_INT, TL_TIMESTAMP */
    double f;
    int32_t d;        /* TL_DATE */
    struct { const char *ptr; size_t len; } s;
  } v;
} tl_scalar;

/* ---------------------------------------------------------------------------
** Columns
*/
typedef struct tl_column tl_column;

TL_API tl_column *tl_column_retain(tl_column *c);
TL_API void tl_column_release(tl_column *c);        /* NULL is allowed */

TL_API tl_type tl_column_type(const tl_column *c);
TL_API int64_t tl_column_length(const tl_column *c);
TL_API int64_t tl_column_null_count(const tl_column *c);

/* Row indexes are 0-based in the C API. */
TL_API int tl_column_is_null(const tl_column *c, int64_t i);
TL_API const uint8_t *tl_column_validity(const tl_column *c);   /* NULL: no nulls */

/* Raw value arrays: NULL when the column is of another type. Slots of null
** rows hold 0 (numbers) or an empty string. */
TL_API const int64_t *tl_column_ints(const tl_column *c);        /* TL_INT */
TL_API const double *tl_column_floats(const tl_column *c);       /* TL_FLOAT */
TL_API const int32_t *tl_column_dates(const tl_column *c);       /* TL_DATE */
TL_API const int64_t *tl_column_timestamps(const tl_column *c);  /* TL_TIMESTAMP */
TL_API const uint8_t *tl_column_bools(const tl_column *c);       /* TL_BOOL bitmap */
/* Plain string columns: offsets and bytes. NULL for a dictionary-encoded
** column, whose rows are int32 codes into a dictionary of distinct values
** (a plain string column without nulls). tl_column_string_at reads both. */
TL_API const int64_t *tl_column_string_offsets(const tl_column *c);
TL_API const char *tl_column_string_bytes(const tl_column *c);
TL_API const tl_column *tl_column_dictionary(const tl_column *c);   /* NULL: not encoded */
TL_API const int32_t *tl_column_codes(const tl_column *c);          /* NULL: not encoded */

/* Single values (no bounds checks beyond an assert: check i < length). */
TL_API int tl_column_bool_at(const tl_column *c, int64_t i);
TL_API const char *tl_column_string_at(const tl_column *c, int64_t i, size_t *len);
/* Any value as a scalar; strings point into the column. */
TL_API void tl_column_get(const tl_column *c, int64_t i, tl_scalar *out);

/* Column statistics; nulls are skipped. A sum of ints is an int and an
** overflow of int64 is TL_ERANGE; of floats a float (compensated); of bools
** the count of true values. mean is a float; min and max have the column's
** type; each is null when there is no value. Booleans have no mean. */
TL_API TL_NODISCARD tl_status tl_column_sum(const tl_column *c, tl_scalar *out, tl_error *err);
TL_API TL_NODISCARD tl_status tl_column_mean(const tl_column *c, tl_scalar *out, tl_error *err);
TL_API TL_NODISCARD tl_status tl_column_min(const tl_column *c, tl_scalar *out, tl_error *err);
TL_API TL_NODISCARD tl_status tl_column_max(const tl_column *c, tl_scalar *out, tl_error *err);
TL_API int64_t tl_column_count(const tl_column *c);             /* non-null values */

/* ---------------------------------------------------------------------------
** Building columns value by value. A builder owns what it holds until
** tl_builder_finish hands it over to a new column (the builder is freed by
** finish, also on error) or tl_builder_free drops it.
*/
typedef struct tl_builder tl_builder;

TL_API TL_NODISCARD tl_status tl_builder_new(tl_type type, int64_t capacity,
                                      tl_builder **out, tl_error *err);
TL_API TL_NODISCARD tl_status tl_builder_append_null(tl_builder *b, tl_error *err);
TL_API TL_NODISCARD tl_status tl_builder_append_bool(tl_builder *b, int v, tl_error *err);
TL_API TL_NODISCARD tl_status tl_builder_append_int(tl_builder *b, int64_t v, tl_error *err);
TL_API TL_NODISCARD tl_status tl_builder_append_float(tl_builder *b, double v, tl_error *err);
TL_API TL_NODISCARD tl_status tl_builder_append_date(tl_builder *b, int32_t days, tl_error *err);
TL_API TL_NODISCARD tl_status tl_builder_append_timestamp(tl_builder *b, int64_t us, tl_error *err);
TL_API TL_NODISCARD tl_status tl_builder_append_string(tl_builder *b, const char *s, size_t len,
                                                tl_error *err);
/* Appends a scalar; its type must be the builder's (int into float is allowed). */
TL_API TL_NODISCARD tl_status tl_builder_append_scalar(tl_builder *b, const tl_scalar *v,
                                                tl_error *err);
TL_API int64_t tl_builder_length(const tl_builder *b);
TL_API tl_type tl_builder_type(const tl_builder *b);
TL_API TL_NODISCARD tl_status tl_builder_finish(tl_builder *b, tl_column **out, tl_error *err);
TL_API void tl_builder_free(tl_builder *b);                    /* NULL is allowed */

/* ---------------------------------------------------------------------------
** Tables
*/
typedef struct tl_table tl_table;

/* A table of `ncol` named columns of equal length. Columns are retained, not
** consumed; names are copied. Duplicate or empty names are TL_EINVAL. */
TL_API TL_NODISCARD tl_status tl_table_new(int ncol, const char *const *names,
                                    tl_column *const *cols, tl_table **out,
                                    tl_error *err);
TL_API tl_table *tl_table_retain(tl_table *t);
TL_API void tl_table_release(tl_table *t);          /* NULL is allowed */

TL_API int64_t tl_table_nrows(const tl_table *t);
TL_API int tl_table_ncols(const tl_table *t);
/* Column j (0-based), borrowed: NULL when out of range. */
TL_API tl_column *tl_table_column(const tl_table *t, int j);
TL_API const char *tl_table_name(const tl_table *t, int j);
/* The index of the column named `name`, or -1. */
TL_API int tl_table_find(const tl_table *t, const char *name);
/* The existing column name closest to `name` (edit distance), or NULL when
** none is close; for "did you mean" messages. */
TL_API const char *tl_table_suggest(const tl_table *t, const char *name);
/* The name of names[0..n) closest to `name` by edit distance (case aside,
** transpositions counted once), or NULL when none is close enough to be
** a likely misspelling; NULL entries are passed over. */
TL_API const char *tl_suggest(const char *name, const char *const *names, int n);

/* Rows [offset, offset + n) as a new table (clamped to the table). */
TL_API TL_NODISCARD tl_status tl_table_slice(const tl_table *t, int64_t offset, int64_t n,
                                      tl_table **out, tl_error *err);

/* ---------------------------------------------------------------------------
** Verbs. Each returns a new table; unchanged columns are shared, not copied.
** Expressions are strings in the language of DESIGN.md ("year >= 2018 and
** region == 'Asia'"); a definition is "name = expression", or an expression
** alone, named after its text ("sum(x)" gives "sum_x").
*/

/* Rows where the boolean expression is true (null counts as false). */
TL_API TL_NODISCARD tl_status tl_table_filter(const tl_table *t, const char *expr, tl_table **out,
                                       tl_error *err);
/* Rows where the bool column `mask` (of the table's length) is true. */
TL_API TL_NODISCARD tl_status tl_table_filter_mask(const tl_table *t, const tl_column *mask,
                                            tl_table **out, tl_error *err);
/* The rows at the given 0-based indexes, in that order (repeats allowed). */
TL_API TL_NODISCARD tl_status tl_table_take(const tl_table *t, const int64_t *rows, int64_t n,
                                     tl_table **out, tl_error *err);
/* Adds or replaces columns, one definition after another (a later one sees
** the earlier ones). */
TL_API TL_NODISCARD tl_status tl_table_mutate(const tl_table *t, int n, const char *const *defs,
                                       tl_table **out, tl_error *err);
/* Evaluates one expression over the table into a new column. `op` names the
** operation in error messages. */
TL_API TL_NODISCARD tl_status tl_table_eval(const tl_table *t, const char *expr, const char *op,
                                     tl_column **out, tl_error *err);
/* The table with column `name` set to `c` (replaced in place, else appended). */
TL_API TL_NODISCARD tl_status tl_table_set_column(const tl_table *t, const char *name,
                                           tl_column *c, tl_table **out, tl_error *err);
TL_API TL_NODISCARD tl_status tl_table_select(const tl_table *t, int n, const char *const *names,
                                       tl_table **out, tl_error *err);
TL_API TL_NODISCARD tl_status tl_table_drop(const tl_table *t, int n, const char *const *names,
                                     tl_table **out, tl_error *err);
TL_API TL_NODISCARD tl_status tl_table_rename(const tl_table *t, int n, const char *const *from,
                                       const char *const *to, tl_table **out, tl_error *err);

/* ---------------------------------------------------------------------------
** Sorting and selecting rows. A sort key is a column name, or "-name" for
** descending order. Sorting is stable; nulls come last in either direction;
** a float NaN is the largest value (as in DuckDB): after every number
** ascending, before them descending; -0.0 equals 0.0; strings compare by
** their bytes (UTF-8 code point order).
*/

/* The rows in the order of the keys (nkeys >= 1). */
TL_API TL_NODISCARD tl_status tl_table_sort(const tl_table *t, int nkeys, const char *const *keys,
                                     tl_table **out, tl_error *err);
/* The first n rows of tl_table_sort's order (all rows when the table has
** fewer), in that order, without sorting the whole table. */
TL_API TL_NODISCARD tl_status tl_table_top(const tl_table *t, int64_t n, int nkeys,
                                    const char *const *keys, tl_table **out, tl_error *err);
/* For a table sorted by `keys` and rows `probes` holding the key columns:
** counts[q] is the number of rows of `sorted` that do not come after probe
** row q in the keys' order (rows equal to it included). Splits a sorted
** table at given keys, as a distributed sort does. */
TL_API TL_NODISCARD tl_status tl_table_sorted_counts(const tl_table *sorted, const tl_table *probes,
                                              int nkeys, const char *const *keys,
                                              int64_t *counts, tl_error *err);
/* One row per distinct combination of the columns `cols` (all columns when
** n == 0), in order of first appearance; nulls equal nulls, NaN equals NaN. */
TL_API TL_NODISCARD tl_status tl_table_distinct(const tl_table *t, int n, const char *const *cols,
                                         tl_table **out, tl_error *err);
/* The rows of every table, one after another. Columns are matched by name,
** in order of first appearance; a column missing from a table is null in
** its rows. An int column meeting a float column gives a float column; any
** other difference of types is TL_ETYPE. */
TL_API TL_NODISCARD tl_status tl_table_concat(int n, const tl_table *const *tables, tl_table **out,
                                       tl_error *err);
/* A table (value, count) of the distinct values of c with the number of
** rows holding each, by count descending, then in order of first
** appearance. A null value is counted too. */
TL_API TL_NODISCARD tl_status tl_column_value_counts(const tl_column *c, tl_table **out,
                                              tl_error *err);
/* The distinct values of c in order of first appearance (a null once). */
TL_API TL_NODISCARD tl_status tl_column_unique(const tl_column *c, tl_column **out, tl_error *err);

/* ---------------------------------------------------------------------------
** Joins: a hash join built on the smaller side. Rows come in the order of the
** left table (each left row's matches in the order of the right one); right
** rows without a match (right and full joins) follow. Null keys never match.
** Keys of the same name on both sides make one column; other names present on
** both sides get the suffixes.
*/
typedef enum tl_join_kind {
  TL_JOIN_INNER = 1, TL_JOIN_LEFT, TL_JOIN_RIGHT, TL_JOIN_FULL, TL_JOIN_SEMI, TL_JOIN_ANTI
} tl_join_kind;

typedef struct tl_join_options {
  int nkeys;
  const char *const *left_keys;
  const char *const *right_keys;   /* NULL: the same names as left_keys */
  tl_join_kind how;                /* default TL_JOIN_INNER */
  const char *suffix_left;         /* default "" */
  const char *suffix_right;        /* default "_right" */
} tl_join_options;

TL_API void tl_join_options_init(tl_join_options *opts);
TL_API TL_NODISCARD tl_status tl_table_join(const tl_table *left, const tl_table *right,
                                     const tl_join_options *opts, tl_table **out,
                                     tl_error *err);

/* ---------------------------------------------------------------------------
** Grouping and aggregation. Groups come in order of first appearance; null
** keys form a group of their own. Aggregates skip nulls: count() counts
** rows, count(x) non-null values; an aggregate of no values is null. The
** built-in aggregates run on the worker threads over ranges of a fixed
** number of rows, whose partial states merge in row order: no result
** depends on the number of threads.
*/
typedef struct tl_grouping tl_grouping;

TL_API TL_NODISCARD tl_status tl_table_group_by(const tl_table *t, int nkeys,
                                         const char *const *keys, tl_grouping **out,
                                         tl_error *err);
TL_API void tl_grouping_free(tl_grouping *g);           /* NULL is allowed */
TL_API int64_t tl_grouping_count(const tl_grouping *g);
/* One row per group: the key columns. */
TL_API TL_NODISCARD tl_status tl_grouping_keys(const tl_grouping *g, tl_table **out, tl_error *err);
/* One row per group: the key columns, then one column per definition
** ("total = sum(participants)", "rate = sum(a) / sum(b)"). */
TL_API TL_NODISCARD tl_status tl_grouping_agg(const tl_grouping *g, int n, const char *const *defs,
                                       tl_table **out, tl_error *err);
/* The rows of group k (0-based) as a table. */
TL_API TL_NODISCARD tl_status tl_grouping_group(const tl_grouping *g, int64_t k, tl_table **out,
                                         tl_error *err);
/* The whole table as one group: a one-row table of the definitions. */
TL_API TL_NODISCARD tl_status tl_table_agg(const tl_table *t, int n, const char *const *defs,
                                    tl_table **out, tl_error *err);

/* Aggregates defined by the host (the Lua binding's tally.aggregate): usable
** by name in definitions, next to the built-ins. The core runs the scan: it
** hands the host batches of rows with their groups, skipping rows where an
** argument is null unless `nulls` is set, and asks for one result per group
** at the end. */
typedef struct tl_agg_batch {
  int64_t n;                  /* rows in this batch */
  const int64_t *rows;        /* their 0-based indexes in the argument columns */
  const int32_t *groups;      /* their 0-based groups */
  int nargs;
  tl_column *const *args;     /* the argument columns (whole length) */
  int64_t first_row;          /* for messages: the number (0-based) in the input
                              ** of argument row 0; 0 but for a lazy scan's batch,
                              ** where it is the batch's first row in its file */
} tl_agg_batch;

/* What names the groups of a run, for messages (owned by the core, valid
** from begin to end). tl_agg_key_text writes group g's key as text into
** buf (NUL-terminated, cut to size) and returns its full length, as
** snprintf does: "program = 'Disaster relief', year = 2016" (strings,
** dates and timestamps quoted, nulls as null); "" when the groups have no
** keys (the whole table as one group). */
typedef struct tl_agg_keys tl_agg_keys;
TL_API size_t tl_agg_key_text(const tl_agg_keys *keys, int64_t g, char *buf, size_t size);

typedef struct tl_aggregate {
  const char *name;
  int nulls;                  /* 1: rows with null arguments are passed too */
  tl_type type;               /* the type of the results, or 0 when not known
                              ** before they are made (then the aggregate can
                              ** only stand alone in a definition) */
  void *ud;
  /* Starts one use of the aggregate over `ngroups` groups; returns the
  ** state of that use in *run. */
  tl_status (*begin)(void *ud, int64_t ngroups, void **run, tl_error *err);
  tl_status (*step)(void *run, const tl_agg_batch *batch, tl_error *err);
  /* The results, a column of ngroups rows. */
  tl_status (*finish)(void *run, int64_t ngroups, tl_column **out, tl_error *err);
  /* Ends the use, also after an error; must not fail. */
  void (*end)(void *run);
  /* Optional, for partial states; all three or none. save: group g's state as bytes
  ** (owned by the host, valid until the next call on this run or end). load: sets
  ** group g's state from saved bytes. merge: folds saved bytes into group g's state.
  ** Without them the aggregate cannot be merged: a partial that uses it is TL_EINVAL
  ** "<op>: aggregate '<name>' has no merge, so it cannot be combined across ...". */
  tl_status (*save)(void *run, int64_t g, const void **bytes, size_t *len, tl_error *err);
  tl_status (*load)(void *run, int64_t g, const void *bytes, size_t len, tl_error *err);
  tl_status (*merge)(void *run, int64_t g, const void *bytes, size_t len, tl_error *err);
  /* Optional: called right after begin with what names the run's groups
  ** (tl_agg_key_text), so that messages can name a group by its key. */
  void (*keys)(void *run, const tl_agg_keys *keys);
  /* Optional, all three or none, for running on the worker threads (with save,
  ** load and merge). When a scan has several ranges of rows (tl_group_set_range_rows,
  ** doubled until a range has 64 rows a group) each range runs in a run of its own,
  ** and their saved states are merged in row order, whatever the thread count. fork, on the calling thread, readies
  ** `nworkers` workers and returns 0 when this use must stay on the calling
  ** thread. begin_on begins a run of worker w (0 <= w < nworkers); that run's
  ** keys, step, save and end are called on that worker's thread, and runs of
  ** different workers at the same time. join, on the calling thread, ends the
  ** workers. Should any run on a worker fail, every range runs again on the
  ** calling thread through begin, and that run's error is the one returned. */
  int (*fork)(void *ud, int nworkers);
  tl_status (*begin_on)(void *ud, int worker, int64_t ngroups, void **run, tl_error *err);
  void (*join)(void *ud);
} tl_aggregate;

/* tl_grouping_agg and tl_table_agg with host aggregates in scope. */
TL_API TL_NODISCARD tl_status tl_grouping_agg_with(const tl_grouping *g, int n,
                                            const char *const *defs, int nfns,
                                            const tl_aggregate *const *fns, tl_table **out,
                                            tl_error *err);
TL_API TL_NODISCARD tl_status tl_table_agg_with(const tl_table *t, int n, const char *const *defs,
                                         int nfns, const tl_aggregate *const *fns,
                                         tl_table **out, tl_error *err);

/* ---------------------------------------------------------------------------
** The built-in functions of the expression language, as one table: what a
** host shows in its help, and the names its own functions may not take.
*/
typedef enum tl_function_kind {
  TL_FN_SCALAR = 1,      /* a value a row: abs, lower, year, if, ... */
  TL_FN_AGGREGATE,       /* a value a group, in agg: sum, mean, quantile, ... */
  TL_FN_WINDOW           /* a value a row over an order, in mutate: lag, rank, ... */
} tl_function_kind;

typedef struct tl_function_info {
  const char *name;
  tl_function_kind kind;
  int min_args, max_args;
  const char *signature;    /* "round(x [, digits])" */
  const char *help;         /* one line */
} tl_function_info;

/* The built-in function called `name`, or NULL. The entries are static. */
TL_API const tl_function_info *tl_builtin_function(const char *name);
/* The i-th built-in function (from 0), NULL past the last: for listing. */
TL_API const tl_function_info *tl_builtin_function_at(int i);
/* 1 when `name` is a word of the expression language itself (true, false,
** nil, null, and, or, not), 0 otherwise. */
TL_API int tl_expr_keyword(const char *name);

/* ---------------------------------------------------------------------------
** Scalar functions defined by the host (the Lua binding's tally.func):
** usable by name in any expression, next to the built-ins. This is the slow
** path: the core evaluates the arguments a vector at a time and hands them
** to the host, which makes one result per row. A plan that calls a host
** function is evaluated on the calling thread only, never on the workers.
*/

/* The values of one argument for the rows of a vector. `valid` holds a byte
** per row (1: valid), or is NULL when every row is; `type` 0 is a bare null
** (every row null). The values sit in the array of the type: i (int,
** timestamp), f (float), d (date), b (bool, a byte per row), s and sl
** (string pointers and lengths, not NUL-terminated). Valid while the call
** lasts. */
typedef struct tl_vector {
  tl_type type;
  int n;
  const uint8_t *valid;
  const int64_t *i;
  const double *f;
  const int32_t *d;
  const uint8_t *b;
  const char *const *s;
  const int64_t *sl;
} tl_vector;

/* One call: rows [start, start + n) of the evaluated table (0-based), of
** which the host computes those listed in `sel` (indexes into the vector,
** ascending); the others are null already. In a lazy scan's batch that
** comes straight from its source, start counts from the first row of the
** batch's file, for messages that name the row. */
typedef struct tl_fn_call {
  int64_t start;
  int n;
  int nsel;
  const int *sel;
  int nargs;
  const tl_vector *args;
} tl_fn_call;

/* Where the host puts its results (owned by the core). */
typedef struct tl_fn_result tl_fn_result;

/* Sets the result of row i of the vector (0 <= i < n): a value of the
** function's type (an int for a float function is converted), or a null
** (v->is_null). Strings are copied. TL_ETYPE for a value of another type,
** TL_ENOMEM when the copy fails. */
TL_API TL_NODISCARD tl_status tl_fn_result_set(tl_fn_result *res, int i, const tl_scalar *v,
                                        tl_error *err);

typedef struct tl_function {
  const char *name;
  tl_type type;               /* the type of the results (required) */
  int nulls;                  /* 1: rows with a null argument are passed too;
                              ** 0: their result is null without a call */
  void *ud;
  /* Computes the selected rows of one vector into `res`. On failure the
  ** message in `err` should name the function and the row; the core puts
  ** the operation in front. */
  tl_status (*call)(void *ud, const tl_fn_call *call, tl_fn_result *res, tl_error *err);
  /* Optional, all three or none, for calls on the worker threads (as for
  ** tl_aggregate): fork, on the calling thread before a scan of many rows,
  ** readies `nworkers` workers and returns 0 when the calls must stay on the
  ** calling thread; call_on is `call` made on worker w's thread (calls of
  ** different workers run at the same time); join, on the calling thread,
  ** ends the workers. Should any call on a worker fail, the scan runs again
  ** on the calling thread through `call`, and that run's error is returned. */
  int (*fork)(void *ud, int nworkers);
  tl_status (*call_on)(void *ud, int worker, const tl_fn_call *call, tl_fn_result *res,
                       tl_error *err);
  void (*join)(void *ud);
} tl_function;

/* What the host brings into an expression: aggregates and functions.
** Either list may be empty (n = 0, NULL). */
typedef struct tl_scope {
  int naggs;
  const tl_aggregate *const *aggs;
  int nfuncs;
  const tl_function *const *funcs;
} tl_scope;

/* tl_table_filter, tl_table_mutate, tl_table_eval, tl_grouping_agg and
** tl_table_agg with the host's aggregates and functions in scope (scope may
** be NULL: the plain verbs). */
TL_API TL_NODISCARD tl_status tl_table_filter_with(const tl_table *t, const char *expr,
                                            const tl_scope *scope, tl_table **out,
                                            tl_error *err);
/* The rows where a condition holds, before they are taken into a table
** of their own (tl_table_filter_with is the selection taken). Grouping a
** selection reads, for the rows selected, only the columns the keys and the
** aggregates use: a filter followed by group_by and agg copies no table.
** The selection holds a reference to t. */
typedef struct tl_selection tl_selection;
TL_API TL_NODISCARD tl_status tl_table_select_rows(const tl_table *t, const char *expr,
                                            const tl_scope *scope, tl_selection **out,
                                            tl_error *err);
TL_API void tl_selection_free(tl_selection *s);         /* NULL is allowed */
TL_API int64_t tl_selection_count(const tl_selection *s);
/* The rows selected, as the table tl_table_filter_with gives. */
TL_API TL_NODISCARD tl_status tl_selection_table(const tl_selection *s, tl_table **out,
                                          tl_error *err);
/* tl_table_group_by over the rows selected; the grouping equals that of
** the selection's table, and so do its aggregations. */
TL_API TL_NODISCARD tl_status tl_selection_group_by(const tl_selection *s, int nkeys,
                                             const char *const *keys, tl_grouping **out,
                                             tl_error *err);
TL_API TL_NODISCARD tl_status tl_table_mutate_with(const tl_table *t, int n, const char *const *defs,
                                            const tl_scope *scope, tl_table **out,
                                            tl_error *err);
TL_API TL_NODISCARD tl_status tl_table_eval_with(const tl_table *t, const char *expr, const char *op,
                                          const tl_scope *scope, tl_column **out,
                                          tl_error *err);
TL_API TL_NODISCARD tl_status tl_grouping_agg_scope(const tl_grouping *g, int n,
                                             const char *const *defs, const tl_scope *scope,
                                             tl_table **out, tl_error *err);
TL_API TL_NODISCARD tl_status tl_table_agg_scope(const tl_table *t, int n, const char *const *defs,
                                          const tl_scope *scope, tl_table **out,
                                          tl_error *err);

/* Partial aggregation: the states of the aggregates of some rows, which
** merge with the states of other rows (of other threads, other processes)
** into the result over all of them. A partial owns what it holds (it may
** keep columns of the table it was made from alive); the host aggregates
** and functions of `scope` must outlive it. Float sums merge with error
** compensation and variances by Chan's formula: such a result may differ
** from one scan over all the rows in the last bits. */
typedef struct tl_partial tl_partial;
/* The partial states of `defs` over the groups of g / over the whole table as one group. */
TL_API TL_NODISCARD tl_status tl_grouping_partial(const tl_grouping *g, int n, const char *const *defs,
                                           const tl_scope *scope, tl_partial **out,
                                           tl_error *err);
TL_API TL_NODISCARD tl_status tl_table_partial(const tl_table *t, int n, const char *const *defs,
                                        const tl_scope *scope, tl_partial **out,
                                        tl_error *err);
TL_API void tl_partial_free(tl_partial *p);                 /* NULL is allowed */
TL_API int64_t tl_partial_groups(const tl_partial *p);
/* Bytes that tl_partial_decode reads back in another process of the same build
** (fixed little-endian layout, a magic + version header, lengths checked: a damaged
** buffer is an error, never a crash). *buf is tl_alloc'ed; the caller tl_free's it. */
TL_API TL_NODISCARD tl_status tl_partial_encode(const tl_partial *p, void **buf, size_t *len,
                                         tl_error *err);
/* scope must hold the same host aggregates as when the partial was made. A buffer
** that is not a partial, of another format version, or damaged (a checksum covers
** every byte) is TL_EPARSE ("partial: damaged buffer (checksum)"). */
TL_API TL_NODISCARD tl_status tl_partial_decode(const void *buf, size_t len, const tl_scope *scope,
                                         tl_partial **out, tl_error *err);
/* Folds `from` into `into` (same definitions, else TL_EINVAL). Groups are matched by
** their key values (nulls equal nulls, as in group_by); groups of `from` that `into`
** lacks are appended in their order, so merging partials of consecutive row ranges in
** order keeps groups in order of first appearance, and first()/last() stay right.
** `into` keeps an index of its groups by key from one merge to the next, so merging
** many partials into one costs each merge about the groups `from` brings.
** After TL_EINVAL (partials that do not match) `into` is unchanged; after any other
** error (TL_ENOMEM, a host aggregate's failure) it can only be freed. */
TL_API TL_NODISCARD tl_status tl_partial_merge(tl_partial *into, const tl_partial *from,
                                        tl_error *err);
/* The result: exactly the table tl_grouping_agg_scope / tl_table_agg_scope would give
** for the rows all the merged partials covered (keys first, then one column per def).
** Not to be called on one partial from two threads at once. */
TL_API TL_NODISCARD tl_status tl_partial_finish(const tl_partial *p, tl_table **out, tl_error *err);

/* ---------------------------------------------------------------------------
** Window functions, in mutate: lag(x [, n [, default]]), lead(x [, n [,
** default]]), cumsum(x), rank() and row_number(). Each is computed over the
** rows in the order of the partition keys, then the order keys (a stable
** sort, so that rows equal in both keep the table's order), and its value
** lands in the row it belongs to: the result keeps the table's row order.
** Without keys a window runs over the whole table in its order.
**  - lag(x, n, d): x of the row n rows before in the partition (n: an
**    integer literal >= 0, default 1), else d (evaluated at the row), else
**    null. lead looks n rows ahead. The type is x's, or float when one of x
**    and d is int and the other float.
**  - cumsum(x): the sum of the non-null values of x in the partition up to
**    and including the row (rows equal in the order are added one by one);
**    a null row keeps the running sum; null before the first value. int and
**    bool give int (an overflow is TL_ERANGE), float float.
**  - rank(): 1 + the number of rows of the partition before the row's
**    first peer (rows with equal order keys): SQL's RANK, ties share a rank
**    and leave a gap after them. It needs order keys.
**  - row_number(): 1, 2, ... in each partition.
** Nulls in keys form a partition of their own and sort last; NaN equals NaN.
*/
typedef struct tl_window_options {
  const char *const *order_by;       /* column names, "-name" for descending */
  int norder;
  const char *const *partition_by;   /* column names */
  int npartition;
} tl_window_options;

TL_API void tl_window_options_init(tl_window_options *opts);

/* tl_table_mutate_with, the window functions over the order of `win` (NULL:
** the table's order, without partitions). An unknown key column is
** TL_EINVAL also when no definition calls a window function. */
TL_API TL_NODISCARD tl_status tl_table_mutate_ex(const tl_table *t, int n, const char *const *defs,
                                          const tl_scope *scope, const tl_window_options *win,
                                          tl_table **out, tl_error *err);

/* One row per column of t: name, type (strings), count (non-null values),
** nulls, distinct (distinct non-null values) as ints; mean, std (sample
** standard deviation), min, 25%, 50%, 75% (linear interpolation, as the
** quantile aggregate) and max as floats, for int and float columns only
** (null for others, and when a column has no value); top, the most frequent
** non-null value as text (the first to appear among equally frequent ones;
** null when there is none). */
TL_API TL_NODISCARD tl_status tl_table_describe(const tl_table *t, tl_table **out, tl_error *err);

/* ---------------------------------------------------------------------------
** CSV
*/
typedef struct tl_csv_options {
  char sep;                  /* field separator; 0: detect among , ; \t | */
  int header;                /* 1 (default): the first record names the columns */
  const char *const *nulls;  /* null markers; NULL: the empty field only */
  int nnulls;
  int skip;                  /* leading lines to skip */
  const char *comment;       /* lines starting with this are ignored; NULL: none */
  int infer;                 /* 1 (default): infer types; 0: every column a string */
  /* per-column type overrides, by name */
  const char *const *type_names;
  const tl_type *types;
  int ntypes;
  /* date and timestamp formats (strptime): per forced type, parallel to
  ** types (NULL, or NULL entries: ISO 8601); for inferred columns, instead
  ** of the common formats read_csv otherwise tries (NULL: those) */
  const char *const *type_formats;
  const char *dateformat, *timestampformat;
  /* only these columns, by name, in this order; the others are neither
  ** converted nor type-checked. NULL: every column */
  const char *const *columns;
  int ncolumns;
  int64_t max_rows;          /* stop after this many data records (of the range, with
                             ** one); < 0 (default): all */
  int on_error;              /* TL_CSV_FAIL (default) or TL_CSV_SKIP */
  /* the longest value, in bytes once quotes are undone; a record with a
  ** longer one is an error (TL_ELIMIT) or, under TL_CSV_SKIP, a reject of
  ** class field_too_large. 0 (default): 64 MiB */
  size_t max_field_size;
  /* Read only the records that start in bytes [range_start, range_stop) of
  ** the input (range_stop 0: to the end; both 0, the default: all of it).
  ** The header (when header = 1), skip and comment rules still apply at the
  ** input's start: a range that starts later reads the header names from
  ** the first record (without a header, the number of columns), so every
  ** range gets the same names, but no data before range_start. A record
  ** starts in the range when its first byte is there, so ranges that tile
  ** the input read each record exactly once, the types inferred from each
  ** range's own records (force them with `types` to agree).
  **
  ** range_quotes: the number of '"' bytes before range_start (its parity is
  ** enough), which says whether range_start lies inside a quoted field;
  ** -1 (default): unknown, and the reader walks the input from the header to
  ** range_start as its tokenizer would, which is exact even for a '"' inside
  ** an unquoted field. Parity is exact when every '"' belongs to a quoted
  ** field; when one does not, the reader given the parity fails (TL_EPARSE)
  ** rather than read a record twice or never.
  ** range_line: the line number (1-based) at byte range_start, that is 1 +
  ** the line ends before it (tl_csv_scan_range); range_record: the number
  ** (1-based) of the first data record that starts at or after range_start.
  ** Both are for messages and rejects; 0: count from the input's start
  ** (range_record by a walk as above, about 2 GB/s; range_line by counting
  ** line ends, faster). Both are ignored when range_quotes is -1, whose walk
  ** counts them. */
  int64_t range_start, range_stop;
  int range_quotes;          /* or TL_CSV_AT_RECORD (below) */
  int64_t range_line, range_record;
  /* Told how far the load is: pass 1 (scan) then pass 2 (convert), `done`
  ** bytes of `total`. Called from any thread, never two calls at once, so it
  ** must not touch a Lua state. NULL: none. */
  void (*progress)(void *ud, int pass, int64_t done, int64_t total);
  void *progress_ud;
} tl_csv_options;

/* on_error: TL_CSV_FAIL stops at the first bad record; TL_CSV_SKIP skips a
** record with too few or too many fields, invalid UTF-8, a value not of its
** forced type or a value longer than max_field_size, and lists it in the
** rejects (tl_csv_info_rejects). A broken quote is an error either way. */
enum { TL_CSV_FAIL = 0, TL_CSV_SKIP = 1 };

/* range_quotes = TL_CSV_AT_RECORD: range_start and range_stop are record
** starts (or 0, or the end) that tl_csv_record_starts found, and
** range_line and range_record are exact there; the reader reads from
** range_start without seeking, whatever quotes lie before it. */
enum { TL_CSV_AT_RECORD = -2 };

TL_API void tl_csv_options_init(tl_csv_options *opts);

/* Reads a CSV file into a table. The error message names the file, line,
** field number, column name, record number (data records from 1; "header"
** for the header) and what is wrong, with an excerpt of the input:
** "read_csv: trips.csv:1289:7 (column 'fare', record 1288): unterminated
** quoted field: near ..." */
TL_API TL_NODISCARD tl_status tl_read_csv(const char *path, const tl_csv_options *opts,
                                   tl_table **out, tl_error *err);
/* The same from memory; `name` is used in error messages. */
TL_API TL_NODISCARD tl_status tl_read_csv_buffer(const char *data, size_t len, const char *name,
                                          const tl_csv_options *opts, tl_table **out,
                                          tl_error *err);

/* What a load learnt besides the table. The _ex readers set *info (when
** `info` is not NULL) to a new one on success, which the caller frees with
** tl_csv_info_free, and to NULL on error. */
typedef struct tl_csv_info tl_csv_info;

TL_API TL_NODISCARD tl_status tl_read_csv_ex(const char *path, const tl_csv_options *opts,
                                      tl_table **out, tl_csv_info **info, tl_error *err);
TL_API TL_NODISCARD tl_status tl_read_csv_buffer_ex(const char *data, size_t len, const char *name,
                                             const tl_csv_options *opts, tl_table **out,
                                             tl_csv_info **info, tl_error *err);
/* The skipped records, borrowed (tl_table_retain to keep it): one row each,
** in file order, with columns line:int, record:int, field:int,
** column:string (null past the last column), class:string (too_few_fields,
** too_many_fields, invalid_utf8, forced_type, field_too_large) and
** excerpt:string. Empty unless TL_CSV_SKIP. */
TL_API const tl_table *tl_csv_info_rejects(const tl_csv_info *info);
/* Why column j of the table got its type when that was not the type of its
** first value ("'A12' at line 17 is not a number"), or NULL. Borrowed. */
TL_API const char *tl_csv_info_reason(const tl_csv_info *info, int j);
/* Data records read: rows loaded + records rejected. */
TL_API int64_t tl_csv_info_records(const tl_csv_info *info);
TL_API void tl_csv_info_free(tl_csv_info *info);    /* NULL is allowed */

/* Counts what lies in bytes [start, stop) of a file (stop past its end: to
** the end): the '"' bytes, and the line ends that begin there (LF, CRLF
** counted once at its CR, lone CR), so that the counts of adjacent ranges
** add up. For a caller that cuts a file into ranges: the quotes before a
** cut are its range_quotes, 1 + the line ends before it its range_line.
** quotes and lines may be NULL. */
TL_API TL_NODISCARD tl_status tl_csv_scan_range(const char *path, int64_t start, int64_t stop,
                                         int64_t *quotes, int64_t *lines, tl_error *err);

/* For each of n ascending byte offsets targets[k], the first record start
** at or after it as the tokenizer reads the file with these options (a
** '"' opens a quoted field only where a field starts), in starts[k] (the
** file's size when none), with the line number there in lines[k] and the
** number of the record that starts there in records[k] (data records from
** 1). One pass over the file, for a caller that cuts it into ranges read
** with TL_CSV_AT_RECORD. */
TL_API TL_NODISCARD tl_status tl_csv_record_starts(const char *path, const tl_csv_options *opts,
                                            int n, const int64_t *targets, int64_t *starts,
                                            int64_t *lines, int64_t *records, tl_error *err);

/* Writes the table as CSV with a header: fields quoted when they need it,
** nulls as empty fields, dates and timestamps in ISO 8601. */
TL_API TL_NODISCARD tl_status tl_write_csv(const tl_table *t, const char *path, tl_error *err);

typedef struct tl_csv_write_options {
  char sep;                 /* field separator; default ',' */
  char quote;               /* quote character (doubled inside a field); default '"' */
  int header;               /* 1 (default): a first line of column names */
  const char *null;         /* text of a null; NULL: an empty field (a string equal to
                            ** it, or empty, is quoted so that it reads back) */
  const char *dateformat;   /* strftime format of dates; NULL: ISO 8601 (2024-01-31) */
} tl_csv_write_options;

/* Defaults: ',', '"', a header, nulls empty, ISO dates. */
TL_API void tl_csv_write_options_init(tl_csv_write_options *o);
/* tl_write_csv with options (NULL: the defaults); an error TL_EINVAL when
** the separator is a line end or the quote, or the null text holds either. */
TL_API TL_NODISCARD tl_status tl_write_csv_opts(const tl_table *t, const char *path,
                                         const tl_csv_write_options *opts, tl_error *err);

/* ---------------------------------------------------------------------------
** Parquet
*/
typedef struct tl_parquet_options {
  /* only these columns, by name, in this order; the others' bytes are not
  ** read. NULL: every column */
  const char *const *columns;
  int ncolumns;
} tl_parquet_options;

TL_API void tl_parquet_options_init(tl_parquet_options *opts);

/* Reads a Parquet file of flat columns into a table: BOOLEAN to bool; INT32
** and INT64 (every width and sign) to int, an unsigned value past int64
** being an error; FLOAT and DOUBLE to float; DECIMAL (INT32, INT64 or byte
** arrays) to float; BYTE_ARRAY (STRING, ENUM, JSON) to string, kept as a
** dictionary column when every page is dictionary-encoded; DATE to date;
** TIMESTAMP (millis, micros, nanos) and INT96 to timestamp in microseconds.
** Data pages v1 and v2; PLAIN, dictionary, RLE, DELTA_BINARY_PACKED,
** DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT encodings;
** the codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW, LZ4 (Hadoop's
** framing or a bare block) and BROTLI. Row groups and columns are decoded in
** parallel on the worker threads; tl_interrupt stops it. Anything else, and
** any damage, is an error naming the file, the part (footer, row group,
** column, page) and the problem: "read_parquet: f.parquet: row group 0,
** column 'x', page 1: ZSTD data does not decompress to its 4096 bytes".
** `opts` may be NULL. */
TL_API TL_NODISCARD tl_status tl_read_parquet(const char *path, const tl_parquet_options *opts,
                                              tl_table **out, tl_error *err);
/* The same from memory; `name` is used in error messages. */
TL_API TL_NODISCARD tl_status tl_read_parquet_buffer(const void *data, size_t len,
                                                     const char *name,
                                                     const tl_parquet_options *opts,
                                                     tl_table **out, tl_error *err);

/* Options of tl_write_parquet; tl_parquet_write_options_init sets the
** defaults (zeros). */
typedef struct tl_parquet_write_options {
  /* "zstd" (NULL: the default), "snappy", "gzip", "lz4" (LZ4_RAW), "none" */
  const char *compression;
  /* rows per row group; 0: the default, 1048576 */
  int64_t row_group_size;
} tl_parquet_write_options;

TL_API void tl_parquet_write_options_init(tl_parquet_write_options *opts);

/* Writes the table as a Parquet file (data pages v1, every column
** OPTIONAL): bool as BOOLEAN, int as INT64, float as DOUBLE, string as
** BYTE_ARRAY (STRING), date as INT32 (DATE), timestamp as INT64
** (TIMESTAMP, micros, not adjusted to UTC). String columns are
** dictionary-encoded (RLE_DICTIONARY) when they are dictionary columns or
** when at most half of a chunk's values are distinct, PLAIN otherwise; every
** column chunk carries min, max and null count. Column chunks are encoded
** in parallel. The file is written as `path`.tmp and renamed to `path`, so
** a failure (or an interrupt) leaves no partial file. `opts` may be NULL. */
TL_API TL_NODISCARD tl_status tl_write_parquet(const tl_table *t, const char *path,
                                               const tl_parquet_write_options *opts,
                                               tl_error *err);

/* ---------------------------------------------------------------------------
** Arrow IPC files
*/
typedef struct tl_arrow_read_options {
  /* only these columns, by name, in this order; NULL: every column */
  const char *const *columns;
  int ncolumns;
} tl_arrow_read_options;

TL_API void tl_arrow_read_options_init(tl_arrow_read_options *opts);

/* Reads an Arrow IPC file (the file format, .arrow / .feather v2) or stream
** into a table; uncompressed, LZ4_FRAME or ZSTD buffers. Types: ints of
** every width and sign to int (an unsigned value past int64 is an error);
** float16/32/64 to float; decimal to float (value / 10^scale, rounded to a
** double); bool; date32 and date64 to date; timestamps of any unit and zone
** to timestamp in UTC microseconds (nanoseconds floored); utf8, large_utf8
** and utf8_view to string; a dictionary of strings to a dictionary column
** (others are decoded). Nested and other types are errors naming the
** column. The file is mapped: where a buffer is uncompressed and laid out as
** tally's (int64, double, int32 days, microseconds, bit-packed bools, int64
** string offsets, int32 dictionary codes), the column points into the
** mapping. A damaged file is an error naming the file and the part:
** "read_arrow: f.arrow: record batch 0, column 'x': buffer 1 (values) has
** 8 bytes, 80 needed". `opts` may be NULL. */
TL_API TL_NODISCARD tl_status tl_read_arrow(const char *path, const tl_arrow_read_options *opts,
                                            tl_table **out, tl_error *err);
/* The same from memory (copied); `name` is used in error messages. */
TL_API TL_NODISCARD tl_status tl_read_arrow_buffer(const void *data, size_t len,
                                                   const char *name,
                                                   const tl_arrow_read_options *opts,
                                                   tl_table **out, tl_error *err);

typedef enum tl_arrow_compression {
  TL_ARROW_UNCOMPRESSED = 0,
  TL_ARROW_LZ4,        /* LZ4 frames */
  TL_ARROW_ZSTD
} tl_arrow_compression;

typedef struct tl_arrow_write_options {
  tl_arrow_compression compression;
  int stream;          /* 1: the stream format; 0: the file format */
  int64_t batch_rows;  /* rows per record batch (rounded up to a multiple of 64); 0: one */
} tl_arrow_write_options;

TL_API void tl_arrow_write_options_init(tl_arrow_write_options *opts);

/* Writes the table as an Arrow IPC file or stream: int as int64, float as
** float64, bool, string as large_utf8 (int64 offsets), a dictionary column
** as dictionary<int32, large_utf8>, date as date32, timestamp as
** timestamp[us]. Buffers are 64-byte aligned; in one record batch, an
** uncompressed file reads back mapped and a compressed one without a copy
** beyond decompressing. Written beside `path`, then renamed over it. */
TL_API TL_NODISCARD tl_status tl_write_arrow(const tl_table *t, const char *path,
                                             const tl_arrow_write_options *opts,
                                             tl_error *err);

/* ---------------------------------------------------------------------------
** Formatting
*/

/* Writes a value as text into buf (always NUL-terminated, truncated to
** size); returns the full length. Floats use the shortest form that reads
** back as the same double; dates and timestamps ISO 8601; null as "null". */
TL_API size_t tl_scalar_format(const tl_scalar *v, char *buf, size_t size);
/* As tl_scalar_format, but a float shows `digits` significant digits (at
** most 17), for people to read: an integral part longer than that stays
** whole, and only an integral value ends in ".0". digits <= 0: as
** tl_scalar_format (every digit). */
TL_API size_t tl_scalar_format_digits(const tl_scalar *v, int digits, char *buf, size_t size);

/* Date helpers: days since 1970-01-01 from a civil date and back. */
TL_API int32_t tl_days_from_civil(int y, int m, int d);
TL_API void tl_civil_from_days(int32_t days, int *y, int *m, int *d);

typedef struct tl_format_options {
  int max_rows;     /* rows shown before eliding the middle; 0: default (20) */
  int width;        /* total width to fit in; 0: unlimited */
  int types;        /* 1: show a line of column types under the header */
  int ansi;         /* 1: for a terminal: nulls dimmed, cuts marked with an ellipsis */
  int digits;       /* significant digits of floats (tl_scalar_format_digits); 0: all */
} tl_format_options;

/* All options at their defaults (zero). */
TL_API void tl_format_options_init(tl_format_options *opts);

/* Renders the table as aligned text (header, rule, rows, head and tail of a
** long table, a footer with the size and the types). With a width, columns
** are narrowed (long cells cut with "...") and, when even that is not
** enough, the last ones left out and named in the footer. *out is allocated
** with the library's allocator; free it with tl_free. */
TL_API TL_NODISCARD tl_status tl_table_format(const tl_table *t, const tl_format_options *opts,
                                       char **out, size_t *len, tl_error *err);

/* Renders every row as a Markdown pipe table (numbers aligned right, nulls
** empty). *out as for tl_table_format. */
TL_API TL_NODISCARD tl_status tl_table_markdown(const tl_table *t, char **out, size_t *len,
                                         tl_error *err);

/* Frees memory returned by the library (tl_table_format, ...). */
TL_API void tl_free(void *p);

/* ---------------------------------------------------------------------------
** JSON (json.c) and charts (chart.c)
*/

/* Writes the table as a JSON array of objects (ndjson = 0), or one object a
** line (ndjson = 1). Keys in column order; nulls, NaN and infinities as
** null; dates and timestamps as ISO 8601 strings. */
TL_API TL_NODISCARD tl_status tl_write_json(const tl_table *t, const char *path, int ndjson,
                                     tl_error *err);
/* Reads an array of flat objects (ndjson = 0), or one object a line, blank
** lines skipped (ndjson = 1). Columns in order of first appearance; a
** missing key or null is a null; types inferred (bool, int, float when ints
** and floats mix, string, date or timestamp when one of the formats read_csv
** detects reads every string: ISO 8601 with T, Z or an offset, 2015/01/31,
** 01/31/2015, 2015/01/31 10:00:00, ...).
** Errors name the file and the line and column (syntax), the NDJSON line
** or the record (types, nested values). */
TL_API TL_NODISCARD tl_status tl_read_json(const char *path, int ndjson, tl_table **out,
                                    tl_error *err);
/* The options of tl_read_json_ex. */
typedef struct tl_json_options {
  int ndjson;                       /* one object a line */
  const char *const *columns;       /* only these fields, in this order (NULL: every one) */
  int ncolumns;
  const char *const *type_names;    /* fields given a type ... */
  const char *const *type_specs;    /* ... "int", "float", "string", "bool", "date",
                                       "timestamp", "date:%d.%m.%Y", "timestamp:FORMAT" */
  int ntypes;
  const char *null;                 /* a string value read as null ("NA"); NULL: none */
  const char *dateformat;           /* a strptime format of dates, in place of the
                                       common ones read_csv detects; NULL: those */
  const char *timestampformat;      /* the same for timestamps */
} tl_json_options;
TL_API void tl_json_options_init(tl_json_options *opts);
/* What a read learnt: why a column got its type, when it needs saying (a
** field that mixes numbers and strings is read as text). */
typedef struct tl_json_info tl_json_info;
/* tl_read_json with options. A field forced to a type takes its values as
** that type (a number in a string column as its shortest round-trip text);
** a value that cannot be read so is an error naming the record, the field
** and the value. Without a type, a field mixing kinds of values is a
** string column, its numbers and booleans as their text, with the reason in
** *info (NULL: not wanted; tl_json_info_free). */
TL_API TL_NODISCARD tl_status tl_read_json_ex(const char *path, const tl_json_options *opts,
                                       tl_table **out, tl_json_info **info, tl_error *err);
TL_API const char *tl_json_info_reason(const tl_json_info *info, int j);   /* NULL: none */
TL_API void tl_json_info_free(tl_json_info *info);   /* NULL is allowed */

/* A horizontal bar chart for the terminal: one line per row, the label, a
** bar of Unicode blocks (in eighths) scaled to the largest value, and the
** value (floats at `digits` significant digits, as tl_scalar_format_digits;
** 0: every digit); in `width` columns (0: 80). Negative, null and non-finite values
** draw no bar (their text says inf or nan), and the scale is the largest
** finite value. */
TL_API TL_NODISCARD tl_status tl_chart_bar(const tl_table *t, const char *label_col,
                                    const char *value_col, int width, int digits,
                                    char **out, size_t *len, tl_error *err);
/* A histogram of a numeric column in `bins` equal bins (0: 10) between its
** finite minimum and maximum, drawn as tl_chart_bar draws. Nulls are
** skipped; -inf, inf and nan, which no bin holds, are counted on a line
** each after the bins (only when present). */
TL_API TL_NODISCARD tl_status tl_chart_hist(const tl_column *c, int bins, int width, char **out,
                                     size_t *len, tl_error *err);

typedef struct tl_plot_options {
  const char *x;          /* the column across (numbers, dates, timestamps or categories);
                             for "hist", the column counted; for "box", optional */
  const char *y;          /* the column of the values (numbers); none for "hist" */
  const char *by;         /* NULL, or a column splitting the rows into series (a legend) */
  const char *facet;      /* NULL, or a column: one panel per value, scales shared */
  const char *kind;       /* "line" (default), "scatter", "bar", "area", "hist", "box" */
  const char *title, *subtitle;
  const char *xlabel, *ylabel;   /* NULL: the columns' names */
  const char *orient;     /* bars and boxes: "vertical" or "horizontal"; NULL: bars lie
                             down when their labels are long */
  int stack;              /* bars and areas with `by`: stacked (1) or side by side (0) */
  int bins;               /* "hist": the number of bins; 0: Sturges' rule, 5 to 50 */
  int width, height;      /* pixels; 0: 640 x 400 */
} tl_plot_options;

/* Writes a chart to `path`: SVG when it ends in .svg, PNG (through cairo)
** when it ends in .png; the same layout either way. Axes with ticks at
** round numbers or calendar dates, labels that never overlap, a legend
** only with `by`. Errors name the option or column at fault. */
TL_API TL_NODISCARD tl_status tl_plot_write(const tl_table *t, const tl_plot_options *opts,
                                     const char *path, tl_error *err);
/* The same chart as SVG text, for documents that embed it; *out is the
** caller's (tl_free). */
TL_API TL_NODISCARD tl_status tl_plot_svg_text(const tl_table *t, const tl_plot_options *opts,
                                        char **out, size_t *len, tl_error *err);
/* The same chart as PNG bytes (for a terminal that shows images, or a host
** that serves them); *out is the caller's (tl_free). */
TL_API TL_NODISCARD tl_status tl_plot_png(const tl_table *t, const tl_plot_options *opts,
                                   unsigned char **out, size_t *len, tl_error *err);
/* The chart in characters, `width` columns wide, for terminals without
** images: bars and histograms as tl_chart_bar and tl_chart_hist draw them,
** other kinds as marks on a grid with the axes' ranges. */
TL_API TL_NODISCARD tl_status tl_plot_text(const tl_table *t, const tl_plot_options *opts,
                                    int width, char **out, size_t *len, tl_error *err);
/* tl_plot_write to an .svg file. */
TL_API TL_NODISCARD tl_status tl_plot_svg(const tl_table *t, const tl_plot_options *opts,
                                   const char *path, tl_error *err);

/* ---------------------------------------------------------------------------
** Reports: an HTML page of headings, text, tables and charts, in one
** self-contained file (its style inside, charts as inline SVG, no scripts).
*/
typedef struct tl_report tl_report;

typedef struct tl_report_table_options {
  int max_rows;           /* rows shown before the table is cut (0: 40) */
  int digits;             /* significant digits of floats (0: 6) */
  const char *caption;    /* NULL: none */
} tl_report_table_options;

TL_API TL_NODISCARD tl_status tl_report_new(const char *title, tl_report **out, tl_error *err);
TL_API void tl_report_free(tl_report *r);          /* NULL is allowed */
/* A heading of level 1 to 4 (h2 to h5: the title is the page's h1). */
TL_API TL_NODISCARD tl_status tl_report_heading(tl_report *r, const char *text, int level,
                                         tl_error *err);
/* Text, as paragraphs split at blank lines. */
TL_API TL_NODISCARD tl_status tl_report_text(tl_report *r, const char *text, tl_error *err);
TL_API TL_NODISCARD tl_status tl_report_table(tl_report *r, const tl_table *t,
                                       const tl_report_table_options *opts, tl_error *err);
TL_API TL_NODISCARD tl_status tl_report_chart(tl_report *r, const tl_table *t,
                                       const tl_plot_options *opts, tl_error *err);
/* The page into `path` (through path.tmp, renamed when whole). */
TL_API TL_NODISCARD tl_status tl_report_write(const tl_report *r, const char *path,
                                       tl_error *err);

/* ---------------------------------------------------------------------------
** Saving and loading: a binary file that holds the columns' buffers exactly
** as they sit in memory, so that loading maps the file instead of parsing it.
*/

/* Writes the table to `path`: first to `path`.tmp, then renamed over `path`,
** so a crash never leaves half a file under the real name. A dictionary-
** encoded string column is saved encoded: its codes and its dictionary. The
** file format has a version (this library writes and reads version 2). */
TL_API TL_NODISCARD tl_status tl_table_save(const tl_table *t, const char *path, tl_error *err);

/* Maps the file read-only and shared (processes loading the same file share
** its pages) and builds a table whose columns point into the mapping, with
** no copy; the file is unmapped when the last of its columns is released.
** Everything the columns rely on is checked first: the header and its
** checksum, every buffer's length, alignment and place in the file, types,
** names (non-empty, UTF-8, unique), null counts against the validity bitmaps,
** string offsets (ordered, inside the text) and, for a dictionary-encoded
** column, its dictionary's offsets likewise and every code inside the
** dictionary (a pass over 4 bytes a row). A dictionary-encoded column loads
** encoded, its dictionary mapped too. Values and text are not checked: a
** damaged number loads as another number, and a damaged dictionary may hold
** the same string twice. A file of another format version, or that fails a
** check, is TL_EPARSE, with a message naming the file and what is wrong; one
** that cannot be opened or mapped is TL_EIO. The buffers are read-only
** memory. The file stays open while a column maps it. Saving over it is
** safe (that replaces the file, and the mapping keeps the old); a change in
** place (truncated, written to) is caught before the next operation on the
** table, which is TL_EIO naming the file; a change during an operation is
** undefined (the process may get SIGBUS), as for any mapped file. */
TL_API TL_NODISCARD tl_status tl_table_load(const char *path, tl_table **out, tl_error *err);

/* tl_table_load with flags: TL_LOAD_COPY reads the file into memory instead
** of mapping it (counted by the allocator; later changes to the file do
** not matter). */
#define TL_LOAD_COPY 1
TL_API TL_NODISCARD tl_status tl_table_load_ex(const char *path, int flags, tl_table **out,
                                        tl_error *err);

/* Whether the files the columns of t (or column c) map are unchanged since
** they were loaded: one fstat per file. TL_OK for columns that map no file;
** TL_EIO, with `op` and the file's name in the message, for a file whose
** size or modification time changed. Every operation of the library that
** reads a table's values calls it first; a host that reads the buffers
** itself (tl_column_ints, ...) calls it before it does. */
TL_API TL_NODISCARD tl_status tl_table_check_files(const tl_table *t, const char *op, tl_error *err);
TL_API TL_NODISCARD tl_status tl_column_check_file(const tl_column *c, const char *op,
                                            tl_error *err);

/* The bytes of the table file in memory (*buf tl_alloc'ed, freed by the
** caller with tl_free), and back: tl_table_decode copies the bytes, checks
** them as tl_table_load checks a file (`name` stands for the file in its
** messages) and builds a table over the copy. For moving tables between
** processes of the same machine architecture. */
TL_API TL_NODISCARD tl_status tl_table_encode(const tl_table *t, void **buf, size_t *len,
                                       tl_error *err);
TL_API TL_NODISCARD tl_status tl_table_decode(const void *buf, size_t len, const char *name,
                                       tl_table **out, tl_error *err);

/* ---------------------------------------------------------------------------
** Embedding: the host's memory as columns, and Arrow interchange.
*/

/* The version of the library at run time ("0.2.0"), to compare with the
** TALLY_VERSION a host was compiled against. */
TL_API const char *tl_version(void);

/* Called exactly once, with its `ctx`, when the last reference to a column
** made from foreign memory goes (from whichever thread drops it). */
typedef void (*tl_release_fn)(void *ctx);

/* A column over the host's own buffers, without a copy: `data` holds n
** values in the layout of tl_type (bool: a bitmap, LSB first; int and
** timestamp: int64; float: double; date: int32), `validity` a bitmap with a
** bit set for each valid row, or NULL when no row is null. The buffers must
** stay unchanged until `release(ctx)` is called, which happens exactly once,
** when the last reference to the column goes; `release` may be NULL when the
** host keeps the buffers alive longer than every column made from them.
** The null count is taken from the bitmap (a pass over n/8 bytes). A
** string type is TL_ETYPE (use tl_column_wrap_strings); n < 0, or `data`
** NULL with n > 0, is TL_EINVAL. On error `release` is not called: the
** buffers stay the host's. */
TL_API TL_NODISCARD tl_status tl_column_wrap(tl_type type, int64_t n, const void *data,
                                      const uint8_t *validity, tl_release_fn release,
                                      void *ctx, tl_column **out, tl_error *err);

/* A string column over the host's buffers: n + 1 int64 `offsets` into the
** UTF-8 `bytes`; row i is bytes[offsets[i] .. offsets[i + 1]). The offsets
** are checked (not negative, never decreasing): a pass over them; the text
** is not checked for UTF-8. Otherwise as tl_column_wrap. */
TL_API TL_NODISCARD tl_status tl_column_wrap_strings(int64_t n, const int64_t *offsets,
                                              const char *bytes, const uint8_t *validity,
                                              tl_release_fn release, void *ctx,
                                              tl_column **out, tl_error *err);

/* A dictionary-encoded string column over the host's buffers: n int32
** `codes` into `dict`, a plain string column of distinct values without
** nulls (retained by the new column). Each code of a valid row must lie in
** the dictionary, and a null row's code must be 0; the dictionary's values
** must be distinct (checked with a hash of them). Otherwise as
** tl_column_wrap; a bad code or dictionary is TL_EINVAL. */
TL_API TL_NODISCARD tl_status tl_column_wrap_dictionary(int64_t n, const int32_t *codes,
                                                 const tl_column *dict,
                                                 const uint8_t *validity,
                                                 tl_release_fn release, void *ctx,
                                                 tl_column **out, tl_error *err);

/* The Arrow C Data Interface, as its specification defines the ABI (the
** guard lets the definitions of another header or library coexist). */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  /* Array type description */
  const char *format;
  const char *name;
  const char *metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema **children;
  struct ArrowSchema *dictionary;

  /* Release callback */
  void (*release)(struct ArrowSchema *);
  /* Opaque producer-specific data */
  void *private_data;
};

struct ArrowArray {
  /* Array data description */
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void **buffers;
  struct ArrowArray **children;
  struct ArrowArray *dictionary;

  /* Release callback */
  void (*release)(struct ArrowArray *);
  /* Opaque producer-specific data */
  void *private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

/* Exports the table as an Arrow struct array ("+s"), one child per column
** named after it, every child nullable: bool "b", int "l", float "g",
** string "U" (large UTF-8: int64 offsets), a dictionary-encoded string
** column as "i" (int32 indices) with a "U" dictionary, date "tdD",
** timestamp "tsu:" (no time zone). No value is copied: the arrays point at
** the columns' buffers, which they keep alive (each child array holds a
** reference to its column) until their release callbacks run. The caller
** owns the filled structs and must call schema->release and array->release
** (or hand them to a consumer that will), from any thread; a child moved
** out by a consumer is released on its own. On error (TL_ENOMEM) the structs
** are left untouched. */
TL_API TL_NODISCARD tl_status tl_table_export_arrow(const tl_table *t, struct ArrowSchema *schema,
                                             struct ArrowArray *array, tl_error *err);

/* Imports an Arrow struct array ("+s", no null rows) as a table, one column
** per child. On success both structs are moved: their release members are
** set to NULL, the schema is released at once, and the array's release is
** called exactly once, when the last column that points into it goes.
** Columns of the formats tl_table_export_arrow writes are wrapped without a
** copy when their offset is 0 and their buffers aligned; other columns are
** copied, as are columns with an offset, and these formats are converted:
** int8/16/32 and uint8/16/32 to int, float32 to float, "u" (UTF-8 with
** int32 offsets) to string, timestamps in s/ms/ns (any time zone, read as
** UTC) to microseconds, and dictionaries with other index types, nulls or
** repeated values to plain strings. A struct array with null rows, another
** format, or inconsistent buffers (offsets out of order, an index outside
** its dictionary) is TL_ETYPE or TL_EINVAL, with a message naming the
** column; on error both structs are left untouched, still the caller's. */
TL_API TL_NODISCARD tl_status tl_table_import_arrow(struct ArrowSchema *schema,
                                             struct ArrowArray *array, tl_table **out,
                                             tl_error *err);

/* ---------------------------------------------------------------------------
** Documents: the tables found in a plain-text report, with their titles,
** line ranges and the units their cells carried.
**
** A table is a block of consecutive lines that contain the separator (a
** tab unless opts->sep says otherwise); blank lines and lines without the
** separator end it. Inside a block:
**  - a first line with a single non-blank cell ("Title\t\t\t") is the
**    table's title; else the title is the nearest non-blank line above the
**    block, when it belongs to no other table and has a single non-blank
**    cell; else the table has none. A single-cell line followed by a header
**    line, after rows of data, ends one table and titles the next.
**  - the first row is a header row; so are the rows after it that hold no
**    number or date while a later row does, and a row with a blank first
**    cell that fills a cell the header row above leaves blank. A blank cell
**    of a header level (all but the last) is covered by the cell to its
**    left, up to where a level above starts a new one; a column's levels
**    are joined with a space ("2016 No. of participants"), and the first
**    column keeps its own header ("Program"). A column without a header is
**    "column_N"; a repeated name gets "_2", "_3", ...
**  - cells are trimmed of white space; blank cells are null; blank cells
**    at the end of a line are ignored, and short rows padded with nulls.
**    Thousands separators ("1,234"), a unit word after a number ("6
**    persons", "11persons", "12%": the number, and the unit goes into the
**    column's metadata), footnote marks after a value ("12*", "12 (a)",
**    "7†", "3[1]") and month-year dates ("June 1990", "Feb. 2018": the 1st
**    of the month) are read; else the inference of read_csv applies (bool,
**    int, float, date, timestamp, string). A column whose cells do not
**    agree, or whose units differ (other than "person"/"persons"), is a
**    string column of the trimmed text.
** A block of a single line is not a table. Lines end with "\n" or "\r\n";
** the last may lack it. Cells must be UTF-8.
*/
typedef struct tl_document_options {
  char sep;                  /* cell separator; 0 or '\t': tab */
} tl_document_options;

TL_API void tl_document_options_init(tl_document_options *opts);

/* The tables of a document, owned by it: free it with tl_document_free
** (tables retained by the caller stay valid). */
typedef struct tl_document tl_document;

/* Reads the file at `path` ("read_document: cannot open 'x.txt': No such
** file or directory"). */
TL_API TL_NODISCARD tl_status tl_read_document(const char *path, const tl_document_options *opts,
                                        tl_document **out, tl_error *err);
/* The same from memory; `name` (default "<text>") is used in messages. */
TL_API TL_NODISCARD tl_status tl_read_document_buffer(const char *text, size_t len, const char *name,
                                               const tl_document_options *opts,
                                               tl_document **out, tl_error *err);
TL_API void tl_document_free(tl_document *d);           /* NULL is allowed */

/* The number of tables, and table k (0-based), borrowed from the document. */
TL_API int tl_document_count(const tl_document *d);
TL_API tl_table *tl_document_table(const tl_document *d, int k);
/* Table k's title, or NULL. */
TL_API const char *tl_document_title(const tl_document *d, int k);
/* 1-based line numbers of table k: its title (0 when it has none), its
** first header row and its last row. */
TL_API void tl_document_lines(const tl_document *d, int k, int64_t *title_line, int64_t *first,
                       int64_t *last);
/* The number of header rows of table k. */
TL_API int tl_document_header_rows(const tl_document *d, int k);
/* The unit of column j of table k ("persons"), or NULL. */
TL_API const char *tl_document_unit(const tl_document *d, int k, int j);

/* ---------------------------------------------------------------------------
** Reshaping: wide to long and back.
*/
typedef struct tl_pivot_longer_options {
  const char *const *cols;   /* the columns to gather (at least one) */
  int ncols;
  const char *const *names_to;   /* the columns that receive their names; */
  int nnames;                    /* NULL/0: one column "name" */
  const char *values_to;     /* the column of their values; NULL: "value" */
  /* With several names_to, a column's name is split into that many parts:
  ** by `names` when given (ncols * nnames strings, column by column: how
  ** the Lua binding passes the captures of names_pattern), else at the
  ** first nnames - 1 occurrences of `names_sep` ("2016 No. of
  ** participants" at " " gives "2016" and "No. of participants"). */
  const char *names_sep;
  const char *const *names;
  int names_infer;           /* 1 (default): a names_to column whose parts are
                             ** all integers (or numbers) is int (float) */
  int drop_nulls;            /* 1: rows whose value is null are left out */
} tl_pivot_longer_options;

TL_API void tl_pivot_longer_options_init(tl_pivot_longer_options *opts);

/* One row per row of t and gathered column, row by row: the other columns
** (in their order), the names_to columns, then values_to. The values are
** of the gathered columns' type: int and float give float; a column of
** nulls only takes any type; other mixes are TL_ETYPE. */
TL_API TL_NODISCARD tl_status tl_table_pivot_longer(const tl_table *t,
                                             const tl_pivot_longer_options *opts,
                                             tl_table **out, tl_error *err);

typedef struct tl_pivot_wider_options {
  const char *const *names_from;  /* the columns whose values name the new */
  int nnames_from;                /* columns, joined by names_sep ("_") */
  const char *values_from;        /* the column of their values */
  const char *const *id_cols;     /* the columns that identify a row; */
  int nid_cols;                   /* NULL/0: all the others */
  const char *names_sep;
  const tl_scalar *fill;          /* for missing combinations; NULL: null */
} tl_pivot_wider_options;

TL_API void tl_pivot_wider_options_init(tl_pivot_wider_options *opts);

/* One row per distinct id (in order of first appearance): the id columns,
** then one column per distinct name (in order of first appearance; a null
** name is "null"). A null value stays null; only a combination absent from
** t takes `fill`, which must be of the values' type (an int fill of a float
** column is allowed; a float fill of an int column makes it float). Two
** rows with the same id and name are TL_EINVAL, naming both. */
TL_API TL_NODISCARD tl_status tl_table_pivot_wider(const tl_table *t,
                                            const tl_pivot_wider_options *opts,
                                            tl_table **out, tl_error *err);

/* ---------------------------------------------------------------------------
** Lazy scans: a plan over data that need not fit in memory. A scan starts
** at a source (CSV files, or a table) and each verb returns a new scan, the
** old one unchanged; nothing is read until tl_scan_collect or a writer runs
** the plan. It then streams the source in morsels (byte ranges of a CSV,
** row slices of a table) through the verbs on the worker threads, with a
** fixed number of batches in flight, reading only the columns the plan
** uses. Verbs check their names and types when called, against the schema
** the scan will have (a CSV's types: `types`, else inferred from a sample
** at the input's start). Results equal the in-memory verbs' on the same
** input (floats aggregated may differ in the last bits, as partials do).
** Ownership: every tl_scan returned is the caller's, freed by tl_scan_free;
** scans share their parts, so freeing one never invalidates another.
*/
typedef struct tl_scan tl_scan;

typedef struct tl_scan_options {
  /* CSV reading: separator, header, null markers, ... as tl_read_csv; the
  ** range, max_rows and progress fields are the scan's own. NULL: defaults */
  const tl_csv_options *csv;
  int64_t sample_bytes;      /* bytes at the input's start to infer types from;
                             ** 0: 1 MiB */
  /* Told how far a run is, as the CSV reader's progress (pass always 1):
  ** `done` bytes of the input's `total` merged (for a table source, batches
  ** of the total). Called from any thread, never two calls at once, first
  ** with done 0 when a run starts. NULL: none. */
  void (*progress)(void *ud, int pass, int64_t done, int64_t total);
  void *progress_ud;
  /* For one plan run by several processes: this one reads share `share`
  ** (0-based) of `nshares` consecutive shares of the input's morsels (every
  ** process cuts them alike); nshares 0 or 1: all of it. */
  int share, nshares;
} tl_scan_options;

TL_API void tl_scan_options_init(tl_scan_options *opts);
/* A scan of CSV files, which must agree on column names and types (an int
** column meeting a float one reads as float); a mismatch is TL_ETYPE naming
** the file. */
TL_API TL_NODISCARD tl_status tl_scan_csv(int npaths, const char *const *paths,
                                   const tl_scan_options *opts, tl_scan **out,
                                   tl_error *err);
/* A scan of files of any format tally scans, picked by their contents:
** Parquet files (their row groups the morsels, read in parallel; the
** filters pushed into the scan skip the row groups whose statistics
** exclude them), CSV files (cut into byte ranges at record starts), or
** compressed CSV files (gzip, zstd: one stream decompressed in order, cut
** into morsels at record starts, parsed in parallel). A folder stands for
** its files. Files must agree on names and types (int widens to float);
** a mismatch is TL_ETYPE naming the file. `opts->csv` (and sample_bytes)
** is for CSV: set to other than its defaults for Parquet files, it is
** TL_EINVAL naming the first such option. */
TL_API TL_NODISCARD tl_status tl_scan_files(int npaths, const char *const *paths,
                                     const tl_scan_options *opts, tl_scan **out,
                                     tl_error *err);
/* A scan of a table (retained); CSV options in opts are TL_EINVAL. */
TL_API TL_NODISCARD tl_status tl_scan_table(const tl_table *t, const tl_scan_options *opts,
                                     tl_scan **out, tl_error *err);
TL_API void tl_scan_free(tl_scan *s);                 /* NULL is allowed */
/* The columns the scan's result will have, as a table of no rows (borrowed). */
TL_API const tl_table *tl_scan_schema(const tl_scan *s);

TL_API TL_NODISCARD tl_status tl_scan_filter(const tl_scan *s, const char *expr, tl_scan **out,
                                      tl_error *err);
TL_API TL_NODISCARD tl_status tl_scan_mutate(const tl_scan *s, int n, const char *const *defs,
                                      tl_scan **out, tl_error *err);
TL_API TL_NODISCARD tl_status tl_scan_select(const tl_scan *s, int n, const char *const *names,
                                      tl_scan **out, tl_error *err);
TL_API TL_NODISCARD tl_status tl_scan_drop(const tl_scan *s, int n, const char *const *names,
                                    tl_scan **out, tl_error *err);
TL_API TL_NODISCARD tl_status tl_scan_rename(const tl_scan *s, int n, const char *const *from,
                                      const char *const *to, tl_scan **out, tl_error *err);
/* tl_grouping_agg over the groups of `keys` (nkeys 0: tl_table_agg). */
TL_API TL_NODISCARD tl_status tl_scan_agg(const tl_scan *s, int nkeys, const char *const *keys,
                                   int n, const char *const *defs, tl_scan **out,
                                   tl_error *err);
/* tl_scan_filter, tl_scan_mutate and tl_scan_agg with the host's aggregates
** and functions in scope (NULL: none), which must outlive the scan and every
** scan made from it. A run calls them on the worker threads when each can
** fork (an aggregate then needs save, load and merge: its states of each
** batch merge in the source's order, on the workers, and `finish` runs on
** the calling thread); otherwise the whole run stays on the calling
** thread. Should a run on the workers fail, it runs again on the calling
** thread, whose error is the one returned. */
TL_API TL_NODISCARD tl_status tl_scan_filter_with(const tl_scan *s, const char *expr,
                                           const tl_scope *scope, tl_scan **out,
                                           tl_error *err);
TL_API TL_NODISCARD tl_status tl_scan_mutate_with(const tl_scan *s, int n,
                                           const char *const *defs, const tl_scope *scope,
                                           tl_scan **out, tl_error *err);
/* A scan's mutate runs per batch, unless a definition reads the whole input
** (a window function such as lag, rank or cumsum, or an aggregate such as
** sum(x), over the table or a partition): then the run gathers the rows
** before it in memory, in the source's order, and mutates them as
** tl_table_mutate_ex would (the same rows, values and errors), and the
** verbs after it run in memory on its result. Past the memory limit the
** gathering fails with TL_ENOMEM ("mutate: out of memory ..."). `win`
** (NULL: none) is tl_table_mutate_ex's window options, copied. */
TL_API TL_NODISCARD tl_status tl_scan_mutate_ex(const tl_scan *s, int n,
                                         const char *const *defs, const tl_scope *scope,
                                         const tl_window_options *win, tl_scan **out,
                                         tl_error *err);
TL_API TL_NODISCARD tl_status tl_scan_agg_with(const tl_scan *s, int nkeys,
                                        const char *const *keys, int n,
                                        const char *const *defs, const tl_scope *scope,
                                        tl_scan **out, tl_error *err);
/* The first n rows, in the source's order. */
TL_API TL_NODISCARD tl_status tl_scan_head(const tl_scan *s, int64_t n, tl_scan **out,
                                    tl_error *err);
TL_API TL_NODISCARD tl_status tl_scan_top(const tl_scan *s, int64_t n, int nkeys,
                                   const char *const *keys, tl_scan **out, tl_error *err);
TL_API TL_NODISCARD tl_status tl_scan_distinct(const tl_scan *s, int n, const char *const *cols,
                                        tl_scan **out, tl_error *err);
/* The scan joined with an in-memory table (retained), as tl_table_join with
** the scan's rows on the left: same rows, same order. Inner, left, semi
** and anti joins probe each batch against the right side hashed once per
** run; right and full joins gather their input. */
TL_API TL_NODISCARD tl_status tl_scan_join(const tl_scan *s, const tl_table *right,
                                    const tl_join_options *opts, tl_scan **out,
                                    tl_error *err);
/* A full sort: the rows are gathered in memory, then sorted. */
TL_API TL_NODISCARD tl_status tl_scan_sort(const tl_scan *s, int nkeys, const char *const *keys,
                                    tl_scan **out, tl_error *err);

/* Runs the plan into a table. */
TL_API TL_NODISCARD tl_status tl_scan_collect(const tl_scan *s, tl_table **out, tl_error *err);
/* Runs the plan into a CSV file, batch by batch, as tl_write_csv would
** write the collected table; no file is left behind on error. */
TL_API TL_NODISCARD tl_status tl_scan_write_csv(const tl_scan *s, const char *path,
                                         tl_error *err);
/* Several processes, one plan (tally.mpi.scan): each runs the streaming
** part over its share (tl_scan_options' share), the host combines the
** shares' results in share order and finishes them. tl_scan_sink names
** the plan's first verb that needs its whole input: "agg", "head", "top",
** "distinct", "sort", "join" (a right or full join), "mutate" (one that
** reads its whole input), or NULL when every verb streams. */
TL_API const char *tl_scan_sink(const tl_scan *s);
/* This process's share: for an aggregation, *partial its partial states
** (to merge across the shares with tl_partial_encode / _merge and finish);
** otherwise *rows the rows of the share (head, top, distinct, sort: that
** verb's result on them; a right or full join, a window mutate: the rows
** before it). The caller frees what it gets. */
TL_API TL_NODISCARD tl_status tl_scan_collect_share(const tl_scan *s, tl_table **rows,
                                             tl_partial **partial, tl_error *err);
/* The verbs from the sink on, over `in`: after an aggregation, `in` is the
** finished merged partials and the verbs after it run; after another sink,
** `in` is the shares' results concatenated in share order, and the sink
** runs again on it (the top of the tops, ...) before the verbs after it. */
TL_API TL_NODISCARD tl_status tl_scan_finish_shares(const tl_scan *s, const tl_table *in,
                                             tl_table **out, tl_error *err);
/* Runs the plan into a Parquet file (row groups cut from the batches as
** they come) or an Arrow IPC file (a record batch per batch; dictionary
** columns as plain strings), as tl_write_parquet / tl_write_arrow would
** write the collected table, without holding it; on error or interrupt no
** file is left behind. */
TL_API TL_NODISCARD tl_status tl_scan_write_parquet(const tl_scan *s, const char *path,
                                             const tl_parquet_write_options *opts,
                                             tl_error *err);
TL_API TL_NODISCARD tl_status tl_scan_write_arrow(const tl_scan *s, const char *path,
                                           const tl_arrow_write_options *opts,
                                           tl_error *err);
/* The plan as text, one step a line, with the columns read and the filters
** pushed into the scan; *text is tl_alloc'ed (tl_free). */
TL_API TL_NODISCARD tl_status tl_scan_explain(const tl_scan *s, char **text, tl_error *err);

/* The env's memory limit (bytes; 0: none), which an allocation cannot pass;
** set it while no work runs in the env (NULL: the current env). Every env
** starts with the default (the process's default env too). What it means:
** an in-memory verb whose allocation would pass it fails with TL_ENOMEM,
** "op: out of memory (memory limit N bytes): ...", naming the limit and
** how to raise it (DuckDB's behaviour); a scan's grouping, distinct, top
** and sort write their state to temporary files (tl_env_tmpdir) as they
** near it instead (docs/scans.md). TL_MEMORY_LIMIT_DEFAULT as `bytes` sets
** the default again. */
#define TL_MEMORY_LIMIT_DEFAULT ((size_t)-1)
TL_API void tl_env_set_memory_limit(tl_env *env, size_t bytes);
TL_API size_t tl_env_memory_limit(const tl_env *env);
/* The default limit: 80% of the machine's memory (sysconf), or of the
** cgroup v2 limit (memory.max) when that is smaller; 0 (none) when neither
** can be read. Worked out once per process. */
TL_API size_t tl_memory_limit_default(void);

#ifdef __cplusplus
}
#endif
#endif
