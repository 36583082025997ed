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

#endif
