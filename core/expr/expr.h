/*
** expr.h -- the expression language: parsing, type checking and the
** vectorized evaluator (internal to the core).
*/
#ifndef TL_EXPR_H
#define TL_EXPR_H

#include <stdint.h>

#include "tally/tally.h"

/* Rows per vector: small enough that a vector of each operand stays in cache. */
#define TL_VEC 2048

typedef enum {
  E_LIT, E_COL, E_NEG, E_NOT, E_BIN, E_CALL, E_AGG
} expr_kind;

typedef enum {
  OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_IDIV, OP_MOD, OP_POW, OP_CONCAT,
  OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_AND, OP_OR
} expr_op;

/* A vector of values: one byte of validity per row (NULL: all valid), and
** values in the arrays of the type. Strings are (pointer, length) pairs. */
typedef struct vec {
  tl_type type;        /* 0: the type of a bare null */
  int n;
  uint8_t *valid;
  int64_t *i;          /* TL_INT, TL_TIMESTAMP */
  double *f;
  int32_t *d;
  uint8_t *b;          /* one byte per bool */
  const char **s;
  int64_t *sl;
  const int32_t *codes;     /* strings of a dictionary-encoded column: their codes */
  const tl_column *dict;
} vec;

typedef struct expr expr;
struct expr {
  expr_kind kind;
  expr_op op;
  int pos;             /* column in the source text, 1-based */
  tl_type type;        /* after binding; 0 for a bare null */
  tl_scalar lit;       /* E_LIT (strings owned in litbuf) */
  char *litbuf;
  char *name;          /* E_COL column name, E_CALL/E_AGG function name */
  int col;             /* E_COL: index in the bound table; E_AGG: its slot */
  int fn;              /* E_CALL/E_AGG: function id */
  int nargs;
  expr **args;         /* E_NEG/E_NOT: args[0]; E_BIN: args[0..1]; calls */
  vec out;             /* scratch vector of TL_VEC rows */
  void *scratch;       /* buffers behind `out` */
  char *sbuf;          /* string results of the current vector */
  size_t sbuf_cap;
  int filled;          /* E_LIT: rows of `out` already holding the constant */
  const tl_aggregate *custom;    /* E_AGG of a host aggregate (fn AGG_CUSTOM) */
  const tl_function *hostfn;     /* E_CALL of a host function */
  int hostworker;      /* with hostfn: 0 calls on the calling thread, w + 1 on worker w */
  const tl_column *cache_dict;   /* a comparison of codes with a constant: */
  uint8_t *cache_tab;            /* its result for each code of cache_dict */
  int *selbuf;         /* rows handed to the operands (and, or, if, coalesce, host) */
  void *target;        /* the root's values go here (a column's rows), or NULL */
  int dict_codes;      /* E_COL: a dictionary column compared with a constant */
  struct tl_rx *rx;    /* regexp_*: the compiled pattern, shared by the plan's copies */
  void *rxmatch;       /* its match data: this node's own, so one per thread */
};

/* Parses `src`. `op` names the operation for messages ("filter"). When
** `name` is not NULL, a leading `name =` is accepted and returned (malloc'd
** by tl_alloc, or NULL when absent). */
tl_status tl_expr_parse(const char *src, const char *op, char **name, expr **out,
                        tl_error *err);
void tl_expr_free(expr *e);
/* Frees the scratch vectors of a bound tree (TL_VEC rows a node), for a
** plan kept long but not evaluated soon; tl_expr_keep_scratch makes them
** again before it is. */
void tl_expr_drop_tree_scratch(expr *e);
tl_status tl_expr_keep_scratch(expr *e, const char *op, tl_error *err);

/* Resolves columns against `t`, checks types and folds constants (a
** constant that fails when computed stays, to fail at its row in the
** scan). Aggregate calls are an error unless `aggs` is not NULL: then each
** gets a slot, its node is stored in aggs[slot] and *naggs is counted up. */
tl_status tl_expr_bind(expr *e, const tl_table *t, const char *op, const char *src,
                       expr ***aggs, int *naggs, tl_error *err);
/* The same with host aggregates in scope. */
tl_status tl_expr_bind_with(expr *e, const tl_table *t, const char *op, const char *src,
                            expr ***aggs, int *naggs, int nfns, const tl_aggregate *const *fns,
                            tl_error *err);

/* The same with a scope of host aggregates and functions (NULL: none). */
tl_status tl_expr_bind_scope(expr *e, const tl_table *t, const char *op, const char *src,
                             expr ***aggs, int *naggs, const tl_scope *scope, tl_error *err);
/* 1 when the bound plan calls a host function: it must then be evaluated
** on the calling thread only, unless its functions fork. */
int tl_expr_has_host(const expr *e);
/* Host functions on the workers: tl_expr_fork_hosts forks each host
** function of e for `nworkers` workers and returns 1, or returns 0 with
** none forked when one of them cannot (no fork, or fork declines);
** tl_expr_join_hosts joins them. tl_expr_host_worker makes the host calls
** of plan e those of worker w (-1: the calling thread's, through call). */
int tl_expr_fork_hosts(expr *e, int nworkers);
void tl_expr_join_hosts(expr *e);
void tl_expr_host_worker(expr *e, int w);

/* Evaluates rows [start, start + n) (n <= TL_VEC) of the columns `cols`
** (for E_COL) and of `slots` (for E_AGG); the result is e->out. */
tl_status tl_expr_eval(expr *e, tl_column *const *cols, tl_column *const *slots,
                       int64_t start, int n, const char *op, tl_error *err);

/* The rows among [start, start + n) where the bool expression e is true,
** as indexes from start (ascending) in sel[0..*nsel); sel has room for n.
** The second operand of `and` runs only on the rows where the first is
** true, that of `or` where it is not. */
tl_status tl_expr_select(expr *e, tl_column *const *cols, tl_column *const *slots,
                         int64_t start, int n, int *sel, int *nsel, const char *op,
                         tl_error *err);

/* Evaluates e over all `nrows` rows into a new column. */
tl_status tl_expr_column(expr *e, tl_column *const *cols, tl_column *const *slots,
                         int64_t nrows, const char *op, tl_column **out, tl_error *err);

/* Settings for tests and benchmarks; each returns the one it replaces.
** They change how plans run, never the values they compute, and apply to
** plans bound (folding) or run (the others) after the call.
**   vector size: rows per vector, 1 to TL_VEC (0 or out of range: TL_VEC);
**   folding: constants computed once at binding (default 1);
**   short circuit: and, or, if and coalesce skip the rows already decided
**   (default 1); without it those rows run too, and can fail. */
int tl_expr_set_vector_size(int n);
int tl_expr_vector_size(void);
int tl_expr_set_folding(int on);
int tl_expr_set_short_circuit(int on);

/* A default output name for an expression: "sum(participants)" gives
** "sum_participants". tl_alloc'd. */
char *tl_expr_default_name(const char *src);

/* Aggregate function ids, shared with group.c. */
enum {
  AGG_COUNT, AGG_SUM, AGG_MEAN, AGG_MIN, AGG_MAX, AGG_MEDIAN, AGG_QUANTILE,
  AGG_STDDEV, AGG_VAR, AGG_COUNT_DISTINCT, AGG_FIRST, AGG_LAST, AGG_CUSTOM
};

/* Aggregates of two columns, of bools, and the rest of the everyday library
** (core/agg/pairs.c, bools.c, pick2.c). */
enum {
  AGG_CORR = AGG_CUSTOM + 1, AGG_COVAR, AGG_REGR_SLOPE, AGG_REGR_INTERCEPT, AGG_MODE,
  AGG_ARG_MIN, AGG_ARG_MAX, AGG_COUNT_IF, AGG_BOOL_AND, AGG_BOOL_OR, AGG_PRODUCT,
  AGG_STRING_AGG, AGG_LIB_END
};

#endif
