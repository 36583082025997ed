/*
** exec.h -- lazy plans and the streaming executor (internal to exec).
**
** A tl_scan is one step of a plan: a source, or a verb over the step
** before. Steps are immutable and reference-counted, so the scans a script
** builds share their common part. Running a plan (run.c) cuts it in two:
** the streaming part (filter, mutate, select, drop, rename) runs per batch
** on the workers and ends in a sink (partial states of an aggregation,
** top-k, head, distinct, or the batches themselves in source order, which
** a sort, a right or full join and a window mutate gather); the
** verbs after the first that needs its whole input run in memory on what
** the sink made.
*/
#ifndef TL_EXEC_H
#define TL_EXEC_H

#include <stdatomic.h>

#include "source.h"
#include "tally/tally.h"

typedef enum {
  P_SOURCE, P_FILTER, P_MUTATE, P_SELECT, P_DROP, P_RENAME,
  P_AGG, P_HEAD, P_TOP, P_DISTINCT, P_SORT,
  P_JOIN,                  /* inner, left, semi, anti: per batch */
  P_JOINX,                 /* right, full: the unmatched right rows come last */
  P_WINDOW                 /* a mutate that reads its whole input (a window
                           ** function, an aggregate over the table): its
                           ** input gathered, then mutated */
} pkind;

struct tl_scan {
  atomic_long refs;
  pkind kind;
  tl_scan *in;             /* the step before; NULL at the source */
  tl_source *src;          /* P_SOURCE */
  tl_scan_options opts;    /* P_SOURCE: its knobs (csv is not kept) */
  int na, nb;
  char **a;                /* filter: [expr]; mutate: defs; select, drop, distinct:
                           ** names; rename: from; agg, top, sort: keys */
  char **b;                /* rename: to; agg: defs */
  int64_t count;           /* head, top; join: its tl_join_kind */
  int norder, npart;       /* mutate: its window options' keys, in w */
  char **w;                /* order_by keys, then partition_by keys */
  tl_scope scope;          /* filter, mutate, agg: the host's aggregates and
                           ** functions (borrowed: the host keeps them alive) */
  tl_table *right;         /* join: the right table (b: its keys, then the two
                           ** suffixes) */
  struct tl_join_build *build;   /* a plan's join step: the right side built */
  tl_table *schema;        /* the step's result, without rows */
};

/* Streaming steps run per batch; the others need their whole input. */
static inline int tl_step_streams(pkind k) {
  return (k >= P_FILTER && k <= P_RENAME) || k == P_JOIN;
}

/* join.c: a join step applied to a table; a plan's copy of a join step
** built for its runs (once), and freed. */
tl_status tl_join_step_apply(const tl_scan *s, const tl_table *t, tl_table **out, tl_error *err);
tl_status tl_join_step_build(tl_scan *adj, tl_error *err);
void tl_join_step_unbuild(tl_scan *adj);

/* plan.c: applies one step to a table; also used on the empty schema to
** check a verb when it is made. */
tl_status tl_step_apply(const tl_scan *s, const tl_table *t, tl_table **out, tl_error *err);
/* The first call in mutate definitions that reads the whole input, its
** name copied to name[size]: 1 for a window function (lag, rank, ...), 2
** for an aggregate (sum(x) over the table or a partition), 0: none. */
int tl_whole_input_call(int n, char *const *defs, char *name, size_t size);
/* An out-of-memory error of a run whose sink is window mutate s, said as
** the mutate's: what it was gathering. */
void tl_window_step_oom(const tl_scan *s, tl_error *err);

/* A plan laid out for a run: the steps from the source on, with the
** filters moved towards the source and what the source must read. */
typedef struct tl_plan {
  int nsteps;
  const tl_scan **steps;   /* steps[0] is the source */
  int nstream;             /* steps[1 .. 1 + nstream) stream (after reordering) */
  const tl_scan **stream;  /* in the order they run */
  int npushed;             /* stream[0 .. npushed) are filters run at the read */
  const tl_scan *sink;     /* the first step that needs its whole input; NULL: none */
  int nread;               /* the source's columns to read */
  char **read;
  int nothing;             /* a filter is always false: read nothing */
  tl_scan *adj;            /* stream[k] as it runs on the columns read (owned) */
  tl_table *input;         /* the columns read, no rows */
  const tl_scan *then;     /* a sort or top right after a grouping or distinct
                           ** sink that spills: applied by the sink's run as
                           ** it ends (tl_plan_fuse), not in memory after it */
  int share;               /* one share of several (tl_scan_collect_share): a
                           ** right or full join is left to the host, which
                           ** joins the shares' rows together */
} tl_plan;

/* A scan of a source, which it takes (also on failure). */
/* The first CSV reading option of opts (its csv, its sample_bytes) set to
** other than its default, by its name in the bindings; NULL: none. A scan
** of Parquet files or of a table fails with it named. */
const char *tl_scan_csv_option(const tl_scan_options *opts);
tl_status tl_scan_from_source(tl_source *src, const tl_scan_options *opts, tl_scan **out,
                              tl_error *err);

tl_status tl_plan_make(const tl_scan *s, tl_plan *p, tl_error *err);
/* Under a memory limit, a sink that may spill and whose result can stream
** (p->then set when the step after it is a sort or a top: the run orders
** the result as it makes it). */
int tl_plan_spills(const tl_plan *p);
void tl_plan_fuse(tl_plan *p);
/* Whether a run of p can hand its whole result to a writer as it is made:
** no sink, or one that may spill and is the last step (p->then the last). */
int tl_plan_streams(const tl_plan *p);
void tl_plan_free(tl_plan *p);

/* hosts.c: the host aggregates and functions the streaming part of a plan
** calls, forked onto the workers for the whole run. */
#define TL_MAX_HOSTS 32
typedef struct tl_hosts {
  int naggs, nfns;
  const tl_aggregate *aggs[TL_MAX_HOSTS];
  const tl_function *fns[TL_MAX_HOSTS];
  int many;                /* more than TL_MAX_HOSTS: they stay on the calling thread */
} tl_hosts;

/* Those that the streaming steps and the sink of p call (found by name in
** their expressions, in each step's scope). */
tl_status tl_hosts_find(const tl_plan *p, tl_hosts *h, tl_error *err);
static inline int tl_hosts_any(const tl_hosts *h) { return h->naggs + h->nfns + h->many > 0; }
/* Readies every one for `nworkers` workers; 0 (none left forked) when one
** must stay on the calling thread. */
int tl_hosts_fork(tl_hosts *h, int nworkers);
void tl_hosts_join(tl_hosts *h);
/* run.c: runs the plan, handing each batch of its result to `put` in
** order (a plan with a sink: its result, once). */
typedef tl_status (*tl_scan_put)(void *ud, const tl_table *t, tl_error *err);
tl_status tl_scan_run_into(const tl_scan *s, tl_scan_put put, void *ud, tl_error *err);
/* The columns of the batches handed to `put`, as a table of no rows. */
tl_status tl_scan_result_schema(const tl_scan *s, tl_table **out, tl_error *err);

/* late.c: whether the plan's sink is a top (or a sort and a head) over a
** CSV or Parquet scan, whose keys are columns of fewer than those read,
** that late.c can run; and that run (the sink's result). */
int tl_late_top_fits(const tl_plan *pl);
/* The rows the sink keeps as a top: a top's count, or that of a head right
** after a sort (the head of a stable sort is the top); -1: neither. */
int64_t tl_sink_top_rows(const tl_plan *pl);
tl_status tl_late_top(const tl_plan *pl, tl_table **out, tl_error *err);

#endif
