/*
** run.c -- the streaming executor. The source's morsels are handed out in
** order to the workers (every core, through tl_parallel_for), at most
** `window` ahead of the oldest not yet merged, which bounds the batches
** in memory. Each worker reads its morsel, runs the streaming steps on it
** and makes the sink's part (partial states, top rows, distinct rows, or
** the batch itself); the parts are merged strictly in morsel order by one
** worker at a time, so results never depend on the number of threads,
** head and collect keep the source's order, and the error reported is
** that of the first bad morsel, as a read of the whole would report it.
*/
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/parse.h"
#include "base/pool.h"
#include "base/table.h"
#include "exec.h"
#include "io/csv.h"
#include "testing.h"
#include "spill.h"
#include "spill_agg.h"
#include "xsort.h"

typedef struct part {
  int ready;
  int past;                /* past the end of a source whose count was not known */
  tl_status st;
  tl_error err;
  tl_table *t;
  tl_partial *p;
  tl_partial *pp[TL_XAGG_PARTS];   /* under a memory limit: per partition */
} part;

typedef struct xrun {
  const tl_plan *pl;
  const tl_source *src;
  void *srun;
  int64_t n, window;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int64_t next, merged;
  part *parts;             /* a ring of `window` */
  int stop, merging;
  /* a grouping that may spill: lane[p] morsels have merged their part of
  ** partition p, each in turn (tl_xagg_lane); `broken` when one failed */
  int64_t lane[TL_XAGG_PARTS];
  int broken;
  tl_status st;
  tl_error err;
  /* the sink */
  pkind kind;              /* the sink's kind; P_SOURCE: none */
  tl_partial *acc;
  tl_table *top;           /* P_TOP, P_DISTINCT: the rows so far */
  tl_table **list;         /* batches in order (P_DISTINCT: not folded yet) */
  int64_t nlist, caplist, rows;
  FILE *out;               /* write_csv */
  tl_xagg *xa;             /* under a memory limit: a grouping that may spill */
  tl_xsort *xs;            /* ... a sort that may spill (or a top that did) */
  int64_t top_threshold;   /* a top's rows past which they go to a sort */
  int hosts;               /* the host's calls: TL_HOST_ANY (none), TL_HOST_HERE
                           ** (on the calling thread), or 0 (forked: each worker's) */
  int64_t done, total;     /* progress: bytes (or morsels) merged, of total */
  int64_t first;           /* the share's first morsel: it runs morsels first .. first + n */
  tl_scan_put put;         /* or another writer: each batch in order */
  void *put_ud;
} xrun;

static const tl_table *stream_schema(const tl_plan *p) {
  return p->nstream ? p->adj[p->nstream - 1].schema : p->input;
}

/* The sink's part of batch t (the streaming steps' result of morsel k). */
static tl_status sink_part(xrun *x, tl_table *t, int64_t k, part *pt) {
  const tl_scan *sink = x->pl->sink;
  tl_error *err = &pt->err;
  tl_table *u = NULL;
  tl_status st = TL_OK;
  if (x->xa) {
    st = tl_xagg_part(x->xa, t, k, pt->pp, err);
  } else if (x->kind == P_AGG && sink->na) {
    tl_grouping *g = NULL;
    st = tl_table_group_by(t, sink->na, (const char *const *)sink->a, &g, err);
    if (st == TL_OK)
      st = tl_grouping_partial(g, sink->nb, (const char *const *)sink->b, &sink->scope, &pt->p,
                               err);
    tl_grouping_free(g);
  } else if (x->kind == P_AGG) {
    st = tl_table_partial(t, sink->nb, (const char *const *)sink->b, &sink->scope, &pt->p, err);
  } else if (x->kind == P_HEAD || x->kind == P_TOP || x->kind == P_DISTINCT) {
    st = tl_step_apply(sink, t, &u, err);
  } else {
    u = tl_table_retain(t);
  }
  pt->t = u;
  return st;
}

/* Says where a step failed on morsel k: the rows its messages count are
** those of the morsel's file when no filter ran before (`exact`), else
** those the filters kept of the morsel. */
static void add_place(const xrun *x, int64_t k, int exact, tl_error *err) {
  const char *file = NULL;
  int64_t line = 0;
  if (!x->src->place) return;
  int64_t row = x->src->place(x->src, x->srun, k, &file, &line);
  size_t len = strlen(err->message), size = sizeof err->message - len;
  char *at = err->message + len;
  if (exact && file) snprintf(at, size, " (in %s)", file);
  else if (!exact && file)
    snprintf(at, size, " (rows counted among those the filters kept of %s from line %lld)", file,
             (long long)(line ? line : 1));
  else if (!exact)
    snprintf(at, size, " (rows counted among those the filters kept from row %lld of the table)",
             (long long)row + 1);
}

/* Morsel k through the streaming steps and the sink's part of it. While
** the rows are the source's, the host's calls count them from the
** morsel's first row in its file (tl_host_row_base). */
static tl_status make_part(xrun *x, int64_t k, part *pt) {
  const tl_plan *pl = x->pl;
  tl_error *err = &pt->err;
  tl_table *t = NULL, *u = NULL;
  if (tl_interrupted()) return tl_error_interrupted(err, "scan");
  TL_TRY(x->src->kind->read(x->src, x->srun, k, &t, err));
  if (!t) { pt->past = 1; return TL_OK; }
  const char *file;
  int64_t line;
  int exact = 1;
  if (x->src->place) tl_host_row_base_set(x->src->place(x->src, x->srun, k, &file, &line));
  tl_status st = TL_OK;
  for (int s = 0; s < pl->nstream && st == TL_OK; s++) {
    if (s > 0 && pl->adj[s - 1].kind == P_FILTER && exact) exact = 0, tl_host_row_base_set(0);
    st = tl_step_apply(&pl->adj[s], t, &u, err);
    tl_table_release(t);
    t = u;
    u = NULL;
  }
  if (pl->nstream && pl->adj[pl->nstream - 1].kind == P_FILTER && exact)
    exact = 0, tl_host_row_base_set(0);
  if (st == TL_OK) st = sink_part(x, t, k, pt);
  tl_host_row_base_set(0);
  tl_table_release(t);
  if (st != TL_OK && st != TL_EINTR && st != TL_ENOMEM) add_place(x, k, exact, err);
  return st;
}

/* A write of the CSV streamed failed (the file is full): the run stops; the
** error is made again with the path once the file is closed. */
static tl_status write_failed(tl_error *err) {
  return tl_error_set(err, TL_EIO, "write_csv: cannot write the file");
}

static tl_status push(xrun *x, tl_table *t, tl_error *err) {
  if (x->nlist == x->caplist) {
    int64_t cap = x->caplist ? 2 * x->caplist : 64;
    tl_table **l = tl_realloc(x->list, (size_t)cap * sizeof *l);
    if (!l) { tl_table_release(t); return tl_error_oom(err, "scan"); }
    x->list = l;
    x->caplist = cap;
  }
  x->list[x->nlist++] = t;
  x->rows += tl_table_nrows(t);
  return TL_OK;
}

/* The batches of the list as one table (the empty stream schema when
** there are none), after `first` when that is not NULL; the list empties. */
static tl_status gather(xrun *x, tl_table *first, tl_table **out, tl_error *err) {
  tl_status st = TL_OK;
  if (first) st = push(x, tl_table_retain(first), err);
  if (st != TL_OK) return st;
  if (first) {   /* to the front: its rows came first */
    memmove(x->list + 1, x->list, (size_t)(x->nlist - 1) * sizeof *x->list);
    x->list[0] = first;
  }
  if (x->nlist == 0) *out = tl_table_retain((tl_table *)stream_schema(x->pl));
  else if (x->nlist == 1) *out = x->list[0], x->list[0] = NULL;
  else st = tl_table_concat_consume((int)x->nlist, x->list, out, err);
  for (int64_t k = 0; k < x->nlist; k++) tl_table_release(x->list[k]);
  x->nlist = x->rows = 0;
  return st;
}

/* Folds what the top or distinct rows so far and the list give. */
static tl_status fold(xrun *x, tl_error *err) {
  tl_table *all = NULL, *t = NULL;
  TL_TRY(gather(x, x->top, &all, err));
  tl_status st = tl_step_apply(x->pl->sink, all, &t, err);
  tl_table_release(all);
  if (st != TL_OK) return st;
  tl_table_release(x->top);
  x->top = t;
  return TL_OK;
}

/* A top whose rows so far pass the threshold: they, then the batches not
** folded yet, go (in input order) into an external sort that keeps only
** the top rows of each run, and so do the batches after them. */
static tl_status top_to_sort(xrun *x, tl_error *err) {
  const tl_scan *sink = x->pl->sink;
  TL_TRY(tl_xsort_new(sink->na, (const char *const *)sink->a, "top", stream_schema(x->pl),
                      x->top_threshold, &x->xs, err));
  tl_xsort_keep(x->xs, sink->count);
  tl_status st = TL_OK;
  if (x->top) st = tl_xsort_add(x->xs, x->top, err), x->top = NULL;
  for (int64_t k = 0; k < x->nlist; k++) {
    if (st == TL_OK) st = tl_xsort_add(x->xs, x->list[k], err);
    else tl_table_release(x->list[k]);
    x->list[k] = NULL;
  }
  x->nlist = x->rows = 0;
  return st;
}

/* Merges part k into the sink; runs in morsel order, one at a time. */
static tl_status merge_part(xrun *x, part *pt) {
  tl_error *err = &pt->err;
  tl_table *t = pt->t;
  pt->t = NULL;
  if (x->xa) {   /* merged by its worker (lanes); what is left, when another failed, is not */
    for (int p = 0; p < TL_XAGG_PARTS; p++) tl_partial_free(pt->pp[p]), pt->pp[p] = NULL;
    return TL_OK;
  }
  if (x->xs) return tl_xsort_add(x->xs, t, err);
  switch (x->kind) {
    case P_AGG: {
      tl_partial *p = pt->p;
      pt->p = NULL;
      if (!x->acc) { x->acc = p; return TL_OK; }
      tl_status st = tl_partial_merge(x->acc, p, err);
      tl_partial_free(p);
      return st;
    }
    case P_HEAD: {
      int64_t want = x->pl->sink->count - x->rows;
      tl_table *u = NULL;
      tl_status st = TL_OK;
      if (tl_table_nrows(t) > want) st = tl_table_slice(t, 0, want, &u, err);
      if (u) tl_table_release(t), t = u;
      if (st == TL_OK) st = push(x, t, err);
      else tl_table_release(t);
      return st;
    }
    case P_TOP:
      TL_TRY(push(x, t, err));
      if (x->top_threshold && (int64_t)tl_env_memory(NULL) > x->top_threshold)
        return top_to_sort(x, err);
      return fold(x, err);
    case P_DISTINCT:
      TL_TRY(push(x, t, err));
      return x->rows > 65536 && x->rows > tl_table_nrows(x->top) ? fold(x, err) : TL_OK;
    default:
      if (x->put) {
        tl_status st = x->put(x->put_ud, t, err);
        tl_table_release(t);
        return st;
      }
      if (!x->out) return push(x, t, err);
      {
        tl_status st = tl_table_check_utf8(t, "write_csv", err);
        if (st == TL_OK) st = csv_write_rows(x->out, t, err);
        if (st == TL_OK && ferror(x->out)) st = write_failed(err);
        tl_table_release(t);
        return st;
      }
  }
}

/* Tells the source's progress callback that morsel k is merged. */
static void progress(xrun *x, int64_t k) {
  const tl_scan_options *o = &x->pl->steps[0]->opts;
  if (!o->progress || x->total <= 0) return;   /* total 0: not known (a compressed file) */
  x->done += x->src->bytes ? x->src->bytes(x->src, x->srun, k) : 1;
  o->progress(o->progress_ud, 1, x->done, x->total);
}

/* After part k was stored: merges the ready parts in order, unless another
** worker is at it. Called and returns with the lock held. */
static void merge_ready(xrun *x) {
  while (!x->merging && !x->stop && x->merged < x->next) {
    part *pt = &x->parts[x->merged % x->window];
    if (!pt->ready) break;
    if (pt->st == TL_OK && pt->past) {   /* the input ended before morsel `merged` */
      x->n = x->merged;
      pt->ready = pt->past = 0;
      pthread_cond_broadcast(&x->cv);
      break;
    }
    x->merging = 1;
    pthread_mutex_unlock(&x->mu);
    tl_status st = pt->st == TL_OK ? merge_part(x, pt) : pt->st;
    if (st == TL_OK) progress(x, x->first + x->merged);
    pthread_mutex_lock(&x->mu);
    if (st != TL_OK && x->st == TL_OK) { x->st = st; x->err = pt->err; }
    if (st != TL_OK) x->stop = 1;
    if (x->kind == P_HEAD && x->rows >= x->pl->sink->count) x->stop = 1;   /* enough rows */
    pt->ready = 0;
    x->merging = 0;
    x->merged++;
    pthread_cond_broadcast(&x->cv);
  }
}

/* Morsel k's parts of the partitions, each merged once morsel k - 1 has
** merged its own: the workers of consecutive morsels follow one another
** through the partitions, merging at once. Called and returns without the
** lock; after a failure (this morsel's or another's) the others stop. */
static tl_status lanes(xrun *x, int64_t k, part *pt) {
  int n = tl_xagg_nparts(x->xa);
  tl_status st = pt->st;
  for (int p = 0; p < n && st == TL_OK; p++) {
    pthread_mutex_lock(&x->mu);
    while (x->lane[p] != k && !x->broken) pthread_cond_wait(&x->cv, &x->mu);
    int go = !x->broken;
    pthread_mutex_unlock(&x->mu);
    if (!go) break;
    st = tl_xagg_lane(x->xa, p, pt->pp[p], &pt->err);
    pt->pp[p] = NULL;
    pthread_mutex_lock(&x->mu);
    x->lane[p] = k + 1;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
  }
  if (st != TL_OK) {
    pthread_mutex_lock(&x->mu);
    x->broken = 1;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
  }
  return st;
}

static void worker(void *ctx, int64_t task, int w) {
  (void)task;
  xrun *x = ctx;
  int mark = tl_host_worker_set(x->hosts == 0 ? w : x->hosts);
  pthread_mutex_lock(&x->mu);
  for (;;) {
    while (!x->stop && x->next < x->n && x->next >= x->merged + x->window)
      pthread_cond_wait(&x->cv, &x->mu);
    if (x->stop || x->next >= x->n) break;
    int64_t k = x->next++;
    part *pt = &x->parts[k % x->window];
    pthread_mutex_unlock(&x->mu);
    pt->st = make_part(x, x->first + k, pt);
    if (x->xa) pt->st = lanes(x, k, pt);
    pthread_mutex_lock(&x->mu);
    pt->ready = 1;
    merge_ready(x);
  }
  pthread_cond_broadcast(&x->cv);
  pthread_mutex_unlock(&x->mu);
  tl_host_worker_set(mark);
}

static void run_free(xrun *x) {
  for (int64_t k = 0; x->parts && k < x->window; k++) {
    tl_table_release(x->parts[k].t);
    tl_partial_free(x->parts[k].p);
    for (int p = 0; p < TL_XAGG_PARTS; p++) tl_partial_free(x->parts[k].pp[p]);
  }
  tl_xagg_free(x->xa);
  tl_xsort_free(x->xs);
  tl_free(x->parts);
  for (int64_t k = 0; k < x->nlist; k++) tl_table_release(x->list[k]);
  tl_free(x->list);
  tl_table_release(x->top);
  tl_partial_free(x->acc);
  if (x->srun) x->src->kind->close(x->srun);
  pthread_mutex_destroy(&x->mu);
  pthread_cond_destroy(&x->cv);
}

/* Rows of the sink's result, in order: kept, or written. */
static tl_status emit_rows(void *ctx, tl_table *t, tl_error *err) {
  xrun *x = ctx;
  if (x->put) {
    tl_status st = x->put(x->put_ud, t, err);
    tl_table_release(t);
    return st;
  }
  if (!x->out) return push(x, t, err);
  tl_status st = tl_table_check_utf8(t, "write_csv", err);
  if (st == TL_OK) st = csv_write_rows(x->out, t, err);
  if (st == TL_OK && ferror(x->out)) st = write_failed(err);
  tl_table_release(t);
  return st;
}

/* Under a memory limit, the sinks that may spill: a grouping or a distinct
** partitions its states past half of the room left, a sort writes runs
** past a quarter (sorting what it gathered takes as much again; with a
** head right after it, its runs and merge keep that many rows, as a top's
** do), and so does the ordering of a grouping's result; a top's rows go
** to a sort past a quarter. */
static tl_status spill_sinks(xrun *x, tl_error *err) {
  int64_t base = (int64_t)tl_env_memory(NULL);
  int64_t half = tl_spill_threshold(base, 0.5), quarter = tl_spill_threshold(base, 0.25);
  const tl_scan *sink = x->pl->sink;
  if (!half) return TL_OK;
  if ((x->kind == P_AGG && sink->na) || x->kind == P_DISTINCT)
    return tl_xagg_new(sink, stream_schema(x->pl), half, quarter, &x->xa, err);
  if (x->kind == P_SORT) {
    TL_TRY(tl_xsort_new(sink->na, (const char *const *)sink->a, "sort", stream_schema(x->pl),
                        quarter, &x->xs, err));
    if (tl_sink_top_rows(x->pl) >= 0) tl_xsort_keep(x->xs, tl_sink_top_rows(x->pl));   /* a head after it */
    return TL_OK;
  }
  if (x->kind == P_TOP) x->top_threshold = quarter;
  return TL_OK;
}

/* The result gathered for collect(): out of memory is collect's. */
static tl_status collected(xrun *x, tl_table **out, tl_error *err) {
  tl_status st = gather(x, NULL, out, err);
  return st == TL_ENOMEM ? tl_error_oom(err, "collect") : st;
}

/* What the sink made, once every morsel is merged. */
static tl_status sink_result(xrun *x, tl_table **out, tl_error *err) {
  const tl_scan *sink = x->pl->sink;
  int writes = x->out || x->put, any = 1;
  if (x->xs) {
    TL_TRY(tl_xsort_finish(x->xs, emit_rows, x, err));
    return writes ? TL_OK : collected(x, out, err);
  }
  if (x->xa) {
    TL_TRY(tl_xagg_finish(x->xa, x->pl->then, emit_rows, x, &any, err));
    if (any) return writes ? TL_OK : collected(x, out, err);
    tl_table *t = NULL;   /* no rows: the steps on the empty schema */
    TL_TRY(tl_step_apply(sink, stream_schema(x->pl), &t, err));
    tl_status st = x->pl->then ? tl_step_apply(x->pl->then, t, out, err) : TL_OK;
    if (x->pl->then) tl_table_release(t);
    else *out = t;
    return st;
  }
  switch (x->kind) {
    case P_AGG:
      if (x->acc) return tl_partial_finish(x->acc, out, err);
      return tl_step_apply(sink, stream_schema(x->pl), out, err);   /* no rows */
    case P_TOP: case P_DISTINCT: TL_TRY(fold(x, err)); *out = x->top; x->top = NULL; return TL_OK;
    case P_SORT: case P_JOINX: case P_WINDOW: {   /* the rows gathered, then the verb */
      if (x->kind != P_SORT && x->pl->share) return gather(x, NULL, out, err);   /* the host's */
      tl_table *all = NULL;
      TL_TRY(gather(x, NULL, &all, err));
      tl_status st = tl_step_apply(sink, all, out, err);
      tl_table_release(all);
      return st;
    }
    default: return collected(x, out, err);
  }
}

/* The merged partial states of an aggregation sink, unfinished (states
** of no rows when the share had none). */
static tl_status keep_partial(xrun *x, tl_partial **keep, tl_error *err) {
  if (!x->acc) {
    part pt;
    memset(&pt, 0, sizeof pt);
    tl_status st = sink_part(x, (tl_table *)stream_schema(x->pl), 0, &pt);
    if (st != TL_OK) { *err = pt.err; return st; }
    x->acc = pt.p;
  }
  *keep = x->acc;
  x->acc = NULL;
  return TL_OK;
}

/* The input's total for the progress callback, which is told it starts. */
static void progress_start(xrun *x) {
  const tl_scan_options *o = &x->pl->steps[0]->opts;
  if (!o->progress) return;
  x->total = 0;
  for (int64_t k = x->first; k < x->first + x->n; k++) x->total += x->src->bytes ? x->src->bytes(x->src, x->srun, k) : 1;
  o->progress(o->progress_ud, 1, 0, x->total);
}

/* The bytes of text a CSV morsel reads: the source's default (0) unless a
** memory limit leaves little room, then less, so that the batches in flight
** (2 threads + 2, each about twice its text once read) take at most an
** eighth of the room and a sink's runs the rest; 64 kB at least. */
static int64_t morsel_bytes(int threads) {
  int64_t knob = tl_testing_get(TL_KNOB_MORSEL_BYTES);
  size_t limit = tl_env_memory_limit(NULL);
  if (knob > 0 || !limit) return knob;
  int64_t room = (int64_t)limit - (int64_t)tl_env_memory(NULL);
  int64_t b = room / (16 * (2 * (int64_t)threads + 2));
  if (b >= ((int64_t)4 << 20)) return 0;
  return b < 65536 ? 65536 : b;
}

/* One run of the plan's streaming part into its sink on `threads` threads,
** the host's calls where `hosts` says (those of h forked: joined once the
** workers are done); *out the sink's result (NULL when writing to `f`). */
static tl_status run_once(const tl_plan *pl, FILE *f, tl_scan_put put, void *put_ud,
                          int threads, int hosts, tl_hosts *h, tl_table **out,
                          tl_partial **keep, tl_error *err) {
  xrun x;
  memset(&x, 0, sizeof x);
  x.pl = pl;
  x.src = pl->steps[0]->src;
  x.kind = pl->sink ? pl->sink->kind : P_SOURCE;
  x.out = f;
  x.hosts = hosts;
  x.put = put;
  x.put_ud = put_ud;
  pthread_mutex_init(&x.mu, NULL);
  pthread_cond_init(&x.cv, NULL);
  const tl_scan_options *o = &pl->steps[0]->opts;
  const char **filters = tl_calloc((size_t)pl->npushed + 1, sizeof *filters);
  for (int k = 0; filters && k < pl->npushed; k++) filters[k] = pl->stream[k]->a[0];
  tl_source_want want = { pl->nread, (const char *const *)pl->read,
                          morsel_bytes(threads),
                          tl_testing_get(TL_KNOB_BATCH_ROWS), filters ? pl->npushed : 0,
                          filters };
  tl_status st = x.src->kind->open(x.src, &want, &x.srun, &x.n, err);
  if (st == TL_OK && x.n < 0 && o->nshares > 1)
    st = tl_error_set(err, TL_EINVAL, "scan: a compressed CSV file cannot be shared out by "
                      "morsels among processes: give each its own files");
  if (x.n < 0) x.n = INT64_MAX;   /* known once the source is read to its end */
  if (st == TL_OK && o->nshares > 1) {   /* this process's consecutive share of the morsels */
    int64_t n = x.n;
    x.first = n * o->share / o->nshares;
    x.n = n * (o->share + 1) / o->nshares - x.first;
  }
  if (pl->nothing || (x.kind == P_HEAD && pl->sink->count == 0)) x.n = 0;
  x.window = 2 * (int64_t)threads + 2;
  if (st == TL_OK && !keep) st = spill_sinks(&x, err);   /* a share's states go to the ranks' merge */
  if (x.xa) x.window = threads + 1;   /* each batch in flight holds a partial per partition */
  if (st == TL_OK && !(x.parts = tl_calloc((size_t)x.window, sizeof *x.parts)))
    st = tl_error_oom(err, "scan");
  if (st == TL_OK && x.n < INT64_MAX) progress_start(&x);
  if (st == TL_OK && x.n > 0) {
    tl_parallel_for(threads < x.n ? threads : x.n, worker, &x);
    if (x.st != TL_OK) { *err = x.err; st = x.st; }
  }
  if (h) tl_hosts_join(h);
  if (st == TL_OK && keep) {
    st = keep_partial(&x, keep, err);
  } else if (st == TL_OK && ((!f && !put) || x.kind != P_SOURCE)) {
    tl_table *t = NULL;   /* a writer's: what the sink did not hand over as it went */
    st = sink_result(&x, &t, err);
    if (st == TL_OK && t && (f || put)) st = emit_rows(&x, t, err), t = NULL;
    if (out) *out = t;
    else tl_table_release(t);
  }
  if (st == TL_ENOMEM && x.kind == P_WINDOW) tl_window_step_oom(pl->sink, err);
  if (st == TL_ENOMEM && x.kind == P_SOURCE && out && !f && !put) {   /* rows kept, nothing else */
    tl_error_rename(err, "collect");
    size_t len = strlen(err->message);
    snprintf(err->message + len, sizeof err->message - len, " (collect() holds every row of "
             "the result: write_csv or write_parquet streams them to a file)");
  }
  tl_free(filters);
  run_free(&x);
  return st;
}

/* Cuts f back to `at` bytes, for a run again from the start. */
static int rewind_to(FILE *f, long at) {
  return !f || (at >= 0 && fflush(f) == 0 && ftruncate(fileno(f), at) == 0 &&
                fseek(f, at, SEEK_SET) == 0);
}

/* Runs the plan's streaming part into its sink; *out the sink's result
** (NULL when writing to `f`). The host's aggregates and functions run on
** the workers when they all fork, else the run keeps to the calling
** thread; a run on the workers that fails runs again on the calling
** thread, whose error is the one of the in-memory verbs. */
static tl_status run_stream_put(const tl_plan *pl, FILE *f, tl_scan_put put, void *put_ud,
                                tl_table **out, tl_partial **keep, tl_error *err) {
  tl_hosts h;
  TL_TRY(tl_hosts_find(pl, &h, err));
  int threads = tl_get_threads();
  if (!tl_hosts_any(&h))
    return run_once(pl, f, put, put_ud, threads, TL_HOST_ANY, NULL, out, keep, err);
  long at = f ? ftell(f) : 0;
  /* a writer's batches cannot be taken back: with one, no second try */
  if (threads > 1 && !put && tl_hosts_fork(&h, threads)) {
    tl_status st = run_once(pl, f, NULL, NULL, threads, 0, &h, out, keep, err);
    if (st == TL_OK || st == TL_EINTR || !rewind_to(f, at)) return st;
  }
  return run_once(pl, f, put, put_ud, 1, TL_HOST_HERE, NULL, out, keep, err);
}

static tl_status run_stream(const tl_plan *pl, FILE *f, tl_table **out, tl_partial **keep,
                            tl_error *err) {
  return run_stream_put(pl, f, NULL, NULL, out, keep, err);
}

/* The steps after the sink (with `from_sink`, the sink too), in memory. */
static tl_status run_after(const tl_plan *pl, int from_sink, tl_table **t, tl_error *err) {
  int after = 0;
  for (int k = 1; k < pl->nsteps; k++) {
    if (pl->steps[k] == pl->then) continue;   /* the sink's run applied it */
    if (!after) {
      after = pl->steps[k] == pl->sink;
      if (!after || !from_sink) continue;
    }
    tl_table *u = NULL;
    TL_TRY(tl_step_apply(pl->steps[k], *t, &u, err));
    tl_table_release(*t);
    *t = u;
  }
  return TL_OK;
}

tl_status tl_scan_collect(const tl_scan *s, tl_table **out, tl_error *err) {
  tl_plan pl;
  *out = NULL;
  TL_TRY(tl_plan_make(s, &pl, err));
  tl_plan_fuse(&pl);
  tl_table *t = NULL;
  tl_status st = tl_late_top_fits(&pl) ? tl_late_top(&pl, &t, err)
                                       : run_stream(&pl, NULL, &t, NULL, err);
  if (st == TL_OK) st = run_after(&pl, 0, &t, err);
  tl_plan_free(&pl);
  if (st == TL_OK) *out = t;
  else tl_table_release(t);
  return st;
}

tl_status tl_scan_write_csv(const tl_scan *s, const char *path, tl_error *err) {
  tl_plan pl;
  TL_TRY(tl_plan_make(s, &pl, err));
  tl_plan_fuse(&pl);
  if (!tl_plan_streams(&pl)) {   /* the result of a sink is small: collect it, then write it */
    tl_plan_free(&pl);
    tl_table *t = NULL;
    TL_TRY(tl_scan_collect(s, &t, err));
    tl_status st = tl_write_csv(t, path, err);
    tl_table_release(t);
    return st;
  }
  FILE *f = fopen(path, "wb");
  if (!f) {
    tl_plan_free(&pl);
    return tl_error_set(err, TL_EIO, "write_csv: cannot open '%s': %s", path, strerror(errno));
  }
  tl_status st = csv_write_header(f, pl.sink ? tl_scan_schema(s) : stream_schema(&pl), err);
  if (st == TL_OK) st = run_stream(&pl, f, NULL, NULL, err);
  int bad = ferror(f), e = errno;
  if (fclose(f) != 0 && !bad) bad = 1, e = errno;
  if (bad && (st == TL_OK || st == TL_EIO))   /* the run stopped at the write that failed */
    st = tl_error_set(err, TL_EIO, "write_csv: cannot write '%s': %s", path, strerror(e));
  if (st != TL_OK) csv_remove_output(path);
  tl_plan_free(&pl);
  return st;
}

/* ---------------------------------------------------------------------------
** Shares: one plan run by several processes, each over its share of the
** morsels (tl_scan_options' share and nshares), their results combined by
** the host (tally.mpi.scan).
*/
const char *tl_scan_sink(const tl_scan *s) {
  const tl_scan *sink = NULL;
  for (const tl_scan *x = s; x && x->in; x = x->in)
    if (!tl_step_streams(x->kind)) sink = x;   /* the last met is the first in order */
  if (!sink) return NULL;
  switch (sink->kind) {
    case P_AGG: return "agg";
    case P_HEAD: return "head";
    case P_TOP: return "top";
    case P_DISTINCT: return "distinct";
    case P_SORT: return "sort";
    case P_JOINX: return "join";   /* right, full: the unmatched right rows need every left row */
    case P_WINDOW: return "mutate";   /* a window over every share's rows */
    default: return "scan";
  }
}

tl_status tl_scan_collect_share(const tl_scan *s, tl_table **rows, tl_partial **partial,
                                tl_error *err) {
  tl_plan pl;
  *rows = NULL;
  *partial = NULL;
  TL_TRY(tl_plan_make(s, &pl, err));
  pl.share = 1;
  tl_status st = run_stream(&pl, NULL, rows, pl.sink && pl.sink->kind == P_AGG ? partial : NULL,
                            err);
  tl_plan_free(&pl);
  return st;
}

tl_status tl_scan_finish_shares(const tl_scan *s, const tl_table *in, tl_table **out,
                                tl_error *err) {
  tl_plan pl;
  *out = NULL;
  TL_TRY(tl_plan_make(s, &pl, err));
  tl_table *t = tl_table_retain((tl_table *)in);
  tl_status st = pl.sink ? run_after(&pl, pl.sink->kind != P_AGG, &t, err) : TL_OK;
  tl_plan_free(&pl);
  if (st == TL_OK) *out = t;
  else tl_table_release(t);
  return st;
}

/* ---------------------------------------------------------------------------
** Other writers: the result handed over batch by batch (write_parquet,
** write_arrow).
*/
tl_status tl_scan_run_into(const tl_scan *s, tl_scan_put put, void *ud, tl_error *err) {
  tl_plan pl;
  TL_TRY(tl_plan_make(s, &pl, err));
  tl_plan_fuse(&pl);
  tl_status st;
  if (!tl_plan_streams(&pl)) {   /* the result of a sink is small: collect it, then hand it over */
    tl_table *t = NULL;
    st = tl_scan_collect(s, &t, err);
    if (st == TL_OK) st = put(ud, t, err);
    tl_table_release(t);
  } else {
    st = run_stream_put(&pl, NULL, put, ud, NULL, NULL, err);
  }
  tl_plan_free(&pl);
  return st;
}

tl_status tl_scan_result_schema(const tl_scan *s, tl_table **out, tl_error *err) {
  tl_plan pl;
  *out = NULL;
  TL_TRY(tl_plan_make(s, &pl, err));
  *out = tl_table_retain((tl_table *)(pl.sink ? tl_scan_schema(s) : stream_schema(&pl)));
  tl_plan_free(&pl);
  return TL_OK;
}
