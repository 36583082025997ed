/*
** window.h -- window functions of mutate (internal to the core).
*/
#ifndef TL_WINDOW_H
#define TL_WINDOW_H

#include "expr/expr.h"
#include "tally/tally.h"

/* The row order of one mutate, computed at its first window call and kept
** while its key columns stay the same. */
typedef struct tl_window tl_window;

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

void tl_window_free(tl_window *w);     /* NULL is allowed */

#endif
