/*
** window.h -- window functions of mutate (internal to the core).
*/
#ifndef TL_WINDOW_H
#define TL_WINDOW_H

#include <math.h>

#include "base/column.h"
#include "expr/expr.h"
#include "expr/registry.h"
#include "tally/tally.h"

/* The row order of one mutate, computed at its first window call and kept
** while its key columns stay the same. */
typedef struct tl_window tl_window;
struct tl_window {   /* window.c makes it */
  int64_t n;
  int nkeys, norder;
  tl_column **keys;      /* retained: the order stays valid while they do */
  int64_t *perm;         /* position in the order -> row */
  int64_t *first, *end;  /* position -> its partition's [first, end) */
  int64_t *peer;         /* position -> its first peer; NULL without order keys */
};

/* window_fns.c: the functions past lag, lead, cumsum, rank and row_number,
** over the window's order w (ids W_* of expr/registry.h); k is ntile's
** count or the rolling frame's rows; x is null for cumcount(). */
tl_status tl_window_ranks(const tl_window *w, int id, int64_t k, tl_column **out,
                          tl_error *err);
tl_status tl_window_ends(const tl_window *w, int id, const tl_column *x, tl_column **out,
                         tl_error *err);
tl_status tl_window_running(const tl_window *w, int id, const tl_column *x, tl_column **out,
                            tl_error *err);
/* window_agg.c: the aggregate bi as a window aggregate with order_by,
** running through each row's ties; args[k] is argument k's column, NULL for
** a literal (e->args[k]). */
tl_status tl_window_aggregate(const tl_window *w, const tl_builtin *bi, const expr *e,
                              tl_column *const *args, tl_column **out, tl_error *err);
/* The aggregate fname over the whole partition of each of the n rows, the
** partitions given by the np columns pkeys (none: every row is one). */
tl_status tl_window_whole(int64_t n, int np, tl_column *const *pkeys, const char *fname,
                          const expr *e, tl_column *const *args, tl_column **out,
                          tl_error *err);
tl_status tl_window_rolling(const tl_window *w, int id, const tl_column *x, int64_t k,
                            tl_column **out, tl_error *err);

/* Computes every window call of the parsed expression e as a column over
** the rows of t, in the order given by opts (NULL: the table's order), and
** turns each call into a slot reference (E_AGG) to that column. *slots
** (tl_alloc'd, *nslots of them, each a reference) grows; *w caches the
** order between definitions. `src` is the definition, for messages. */
tl_status tl_window_prepare(expr *e, const tl_table *t, const tl_window_options *opts,
                            const tl_scope *scope, const char *src, tl_window **w,
                            tl_column ***slots, int *nslots, tl_error *err);

/* Checks that the key columns of opts exist in t. */
tl_status tl_window_check(const tl_table *t, const tl_window_options *opts, tl_error *err);

/* Row `row` of the numeric column x (float, int, date or bool) as a double
** and as an integer, for the running and rolling functions. */
static inline double num_at(const tl_column *x, int64_t row) {
  switch (x->type) {
    case TL_FLOAT: return ((const double *)x->values)[row];
    case TL_BOOL: return TL_BIT_GET((const uint8_t *)x->values, row);
    case TL_DATE: return ((const int32_t *)x->values)[row];
    default: return (double)((const int64_t *)x->values)[row];
  }
}

static inline int64_t int_at(const tl_column *x, int64_t row) {
  switch (x->type) {
    case TL_BOOL: return TL_BIT_GET((const uint8_t *)x->values, row);
    case TL_DATE: return ((const int32_t *)x->values)[row];
    default: return ((const int64_t *)x->values)[row];
  }
}

/* a before b in the order of values: NaN after every number. */
static inline int less(double a, double b) { return isnan(b) ? !isnan(a) : a < b; }

void tl_window_free(tl_window *w);     /* NULL is allowed */

#endif
