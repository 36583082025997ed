/*
** pool.h -- running independent tasks on the worker threads (internal).
*/
#ifndef TL_POOL_H
#define TL_POOL_H

#include <stdint.h>

#include "tally/tally.h"

/* A task: `task` in [0, ntasks), `worker` in [0, threads) for per-worker
** scratch. Tasks must not depend on each other's order. */
typedef void (*tl_task_fn)(void *ctx, int64_t task, int worker);

/* Runs every task on up to tl_get_threads() threads (the caller is one of
** them) and returns when all are done. Results never depend on the count. */
void tl_parallel_for(int64_t ntasks, tl_task_fn fn, void *ctx);

/* Where the host's aggregates and functions (tl_scope) run on this thread.
** TL_HOST_ANY, the default: the verbs decide, forking them onto the workers
** for a scan of many rows. A streaming scan, which forks them once for its
** whole run, marks its threads: TL_HOST_HERE, through begin and call on
** the calling thread; w >= 0, through begin_on and call_on of worker w;
** in both cases no verb forks them again. */
#define TL_HOST_ANY (-1)
#define TL_HOST_HERE (-2)
int tl_host_worker(void);
/* Sets this thread's mark; returns the one before. */
int tl_host_worker_set(int w);
/* The number (0-based) in the input of row 0 of the table the host's
** calls on this thread see: 0, but for a scan's batch that comes straight
** from its source, the batch's first row in its file. For the rows that
** messages name (tl_fn_call's start, tl_agg_batch's first_row). */
int64_t tl_host_row_base(void);
void tl_host_row_base_set(int64_t row);

#endif
