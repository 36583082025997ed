/*
** spill_agg.h -- a scan's grouping under a memory limit (internal to exec):
** the rows of each batch split by the hash of their key into partitions,
** each with its own partial states; past the limit the states of the last
** partitions (those of every one, when the first take most of the room)
** are written to their temporary files, and at the end each partition's
** files are merged back in order, partitions on every worker.
*/
#ifndef TL_EXEC_SPILL_AGG_H
#define TL_EXEC_SPILL_AGG_H

#include "exec.h"
#include "xsort.h"

/* partitions at most: 8 when the room for the states is under 128 MB */
#define TL_XAGG_PARTS 64

typedef struct tl_xagg tl_xagg;

/* For grouping step `sink` (with keys), or a distinct (its columns as the
** keys, no definitions), over batches of `schema`; spills once the env
** holds more than `threshold` bytes, and its result's ordering past
** `sort_threshold`. */
tl_status tl_xagg_new(const tl_scan *sink, const tl_table *schema, int64_t threshold,
                      int64_t sort_threshold, tl_xagg **out, tl_error *err);
void tl_xagg_free(tl_xagg *a);                          /* NULL is allowed */
/* Batch `morsel` (on any thread): parts[p] the partial states of its rows
** in partition p (NULL when none). */
tl_status tl_xagg_part(const tl_xagg *a, const tl_table *t, int64_t morsel,
                       tl_partial *parts[TL_XAGG_PARTS], tl_error *err);
/* Partitions in use: a batch's parts are in parts[0 .. nparts). */
int tl_xagg_nparts(const tl_xagg *a);
/* Merges a batch's part of partition p (taken; NULL: none) into the
** partition's states. The batches' parts of one partition come in batch
** order, one at a time, those of different partitions at once on several
** threads (the lanes). Past the threshold, each partition spills its states
** the next time it is merged into. */
tl_status tl_xagg_lane(tl_xagg *a, int p, tl_partial *part, tl_error *err);
/* The result, handed to `emit` in order in one or more tables: the groups
** in order of first appearance, or, with `then` (a sort or a top step over
** the result), in its order, as that step in memory would give them, each
** partition's result going through an external sort (or the top rows) as
** it is made. *any = 0 when no batch had a row (nothing is emitted). */
tl_status tl_xagg_finish(tl_xagg *a, const tl_scan *then, tl_xsort_emit emit, void *ctx,
                         int *any, tl_error *err);
/* Files written and bytes spilled so far. */
void tl_xagg_spilled(const tl_xagg *a, int *files, int64_t *bytes);

#endif
