/*
** verbs.h -- helpers that verbs share (internal to the core).
*/
#ifndef TL_VERBS_H
#define TL_VERBS_H

#include "tally.h"

/* Rows `rows[0..n)` (0-based, in range) of c, gathered into a new column;
** a negative index gives a null. */
tl_status tl_column_take(const tl_column *c, const int64_t *rows, int64_t n, tl_column **out,
                         tl_error *err);
/* The index of column `name`, or an "unknown column" error for `op` that
** suggests the closest name. */
tl_status tl_table_lookup(const tl_table *t, const char *name, const char *op, int *j,
                          tl_error *err);

#endif
