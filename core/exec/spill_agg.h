/*
** spill_agg.h -- a scan's grouping under a memory limit (internal to exec):
** the rows of each batch split by the hash of their key into partitions,
** each with its own partial states; past the limit the states of every
** partition are written to its temporary file, and at the end each
** partition's files are merged back in order, one partition at a time.
*/
#ifndef TL_EXEC_SPILL_AGG_H
#define TL_EXEC_SPILL_AGG_H

#include "exec.h"

/* partitions at most: 8 when the room for the states is under 128 MB */
#define TL_XAGG_PARTS 64

typedef struct tl_xagg tl_xagg;

/* For grouping step `sink` (with keys) over batches of `schema`; spills
** once the env holds more than `threshold` bytes. */
tl_status tl_xagg_new(const tl_scan *sink, const tl_table *schema, int64_t threshold,
                      tl_xagg **out, tl_error *err);
void tl_xagg_free(tl_xagg *a);                          /* NULL is allowed */
/* Batch `morsel` (on any thread): parts[p] the partial states of its rows
** in partition p (NULL when none). */
tl_status tl_xagg_part(const tl_xagg *a, const tl_table *t, int64_t morsel,
                       tl_partial *parts[TL_XAGG_PARTS], tl_error *err);
/* Merges a batch's parts (taken), in batch order; spills past the threshold. */
tl_status tl_xagg_merge(tl_xagg *a, tl_partial *parts[TL_XAGG_PARTS], tl_error *err);
/* The result, groups in order of first appearance; *out NULL when no batch
** had a row. */
tl_status tl_xagg_finish(tl_xagg *a, tl_table **out, tl_error *err);
/* Files written and bytes spilled so far. */
void tl_xagg_spilled(const tl_xagg *a, int *files, int64_t *bytes);

#endif
