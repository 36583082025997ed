/*
** xsort.h -- a scan's sort under a memory limit (internal to exec): the
** batches gathered in order; past the limit, what is gathered is sorted and
** written to a temporary file as a run; at the end the runs are merged.
** Each row carries its place in the input as the last key, so the sort is
** stable and the merge gives exactly the in-memory sort's order.
*/
#ifndef TL_EXEC_XSORT_H
#define TL_EXEC_XSORT_H

#include "exec.h"

typedef struct tl_xsort tl_xsort;

/* What receives the sorted rows, in order (t taken). */
typedef tl_status (*tl_xsort_emit)(void *ctx, tl_table *t, tl_error *err);

/* For the rows of `schema` in the order of `keys` (kept, not copied: they
** outlive the sort); `op` names the step in messages. */
tl_status tl_xsort_new(int nkeys, const char *const *keys, const char *op,
                       const tl_table *schema, int64_t threshold, tl_xsort **out,
                       tl_error *err);
/* Only the first n rows of the order are wanted (a top): a run keeps its
** first n rows, and the merge stops after n. */
void tl_xsort_keep(tl_xsort *s, int64_t n);
/* The keys given tell every two rows apart (their last is unique): the
** place in the input is not sorted on as well. */
void tl_xsort_unique(tl_xsort *s);
void tl_xsort_free(tl_xsort *s);                        /* NULL is allowed */
/* The next batch (taken), in input order. */
tl_status tl_xsort_add(tl_xsort *s, tl_table *t, tl_error *err);
/* The rows in order, in one or more tables. */
tl_status tl_xsort_finish(tl_xsort *s, tl_xsort_emit emit, void *ctx, tl_error *err);
/* The spill files made (runs, first and merged) and the bytes written. */
void tl_xsort_spilled(const tl_xsort *s, int *runs, int64_t *bytes);
/* The merges whose rows went to a new run rather than to the receiver. */
int tl_xsort_merges(const tl_xsort *s);

#endif
