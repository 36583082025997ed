/*
** join.h -- a join's right side built once (internal to the core), for a
** scan that joins each of its batches with the same table: the right
** table hashed and chained once, then each left side probed against it,
** with the rows, order and columns of tl_table_join.
*/
#ifndef TL_OPS_JOIN_H
#define TL_OPS_JOIN_H

#include "tally/tally.h"

typedef struct tl_join_build tl_join_build;

/* Builds on `right` (retained); the options' strings must outlive it. */
tl_status tl_join_build_new(const tl_table *right, const tl_join_options *o,
                            tl_join_build **out, tl_error *err);
/* tl_table_join(left, right, o); thread-safe for one build. */
tl_status tl_join_build_run(const tl_join_build *b, const tl_table *left, tl_table **out,
                            tl_error *err);
void tl_join_build_free(tl_join_build *b);   /* NULL is allowed */

#endif
