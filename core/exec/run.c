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

#include "base/alloc.h"
#include "base/error.h"
#include "base/parse.h"
#include "base/pool.h"
#include "exec.h"
#include "io/csv.h"

typedef struct part {
  int ready;
  int past;                /* past the end of a source whose count was not known */
  tl_status st;
  tl_error err;
  tl_table *t;
  tl_partial *p;
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
  tl_status st;
  tl_error err;
  /* the sink */
  pkind kind;              /* the sink's kind; P_SOURCE: none */
  tl_partial *acc;
  tl_table *top;           /* P_TOP, P_DISTINCT: the rows so far */
  tl_table **list;         /* batches in order (P_DISTINCT: not folded yet) */
  int64_t nlist, caplist, rows;
  FILE *out;               /* write_csv */
  tl_scan_put put;         /* or another writer: each batch in order */
  void *put_ud;
} xrun;

static const tl_table *stream_schema(const tl_plan *p) {
  return p->nstream ? p->adj[p->nstream - 1].schema : p->input;
}

/* Morsel k through the streaming steps and the sink's part of it. */
static tl_status make_part(xrun *x, int64_t k, part *pt) {
  const tl_plan *pl = x->pl;
  const tl_scan *sink = pl->sink;
  tl_error *err = &pt->err;
  tl_table *t = NULL, *u = NULL;
  if (tl_interrupted()) return tl_error_interrupted(err, "scan");
  TL_TRY(x->src->kind->read(x->src, x->srun, k, &t, err));
  if (!t) { pt->past = 1; return TL_OK; }
  tl_status st = TL_OK;
  for (int s = 0; s < pl->nstream && st == TL_OK; s++) {
    st = tl_step_apply(&pl->adj[s], t, &u, err);
    tl_table_release(t);
    t = u;
    u = NULL;
  }
  if (st != TL_OK) return st;
  if (x->kind == P_AGG && sink->na) {
    tl_grouping *g = NULL;
    st = tl_table_group_by(t, sink->na, (const char *const *)sink->a, &g, err);
    if (st == TL_OK)
      st = tl_grouping_partial(g, sink->nb, (const char *const *)sink->b, NULL, &pt->p, err);
    tl_grouping_free(g);
  } else if (x->kind == P_AGG) {
    st = tl_table_partial(t, sink->nb, (const char *const *)sink->b, NULL, &pt->p, err);
  } else if (x->kind == P_HEAD || x->kind == P_TOP || x->kind == P_DISTINCT) {
    st = tl_step_apply(sink, t, &u, err);
  } else {
    u = tl_table_retain(t);
  }
  tl_table_release(t);
  pt->t = u;
  return st;
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
  else st = tl_table_concat((int)x->nlist, (const tl_table *const *)x->list, out, err);
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

/* Merges part k into the sink; runs in morsel order, one at a time. */
static tl_status merge_part(xrun *x, part *pt) {
  tl_error *err = &pt->err;
  tl_table *t = pt->t;
  pt->t = NULL;
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
    case P_TOP: TL_TRY(push(x, t, err)); return fold(x, err);
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
        if (st == TL_OK && !csv_write_rows(x->out, t)) st = tl_error_interrupted(err, "write_csv");
        tl_table_release(t);
        return st;
      }
  }
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

static void worker(void *ctx, int64_t task, int w) {
  (void)task, (void)w;
  xrun *x = ctx;
  pthread_mutex_lock(&x->mu);
  for (;;) {
    while (!x->stop && x->next < x->n && x->next >= x->merged + x->window)
      pthread_cond_wait(&x->cv, &x->mu);
    if (x->stop || x->next >= x->n) break;
    int64_t k = x->next++;
    part *pt = &x->parts[k % x->window];
    pthread_mutex_unlock(&x->mu);
    pt->st = make_part(x, k, pt);
    pthread_mutex_lock(&x->mu);
    pt->ready = 1;
    merge_ready(x);
  }
  pthread_cond_broadcast(&x->cv);
  pthread_mutex_unlock(&x->mu);
}

static void run_free(xrun *x) {
  for (int64_t k = 0; x->parts && k < x->window; k++) {
    tl_table_release(x->parts[k].t);
    tl_partial_free(x->parts[k].p);
  }
  tl_free(x->parts);
  for (int64_t k = 0; k < x->nlist; k++) tl_table_release(x->list[k]);
  tl_free(x->list);
  tl_table_release(x->top);
  tl_partial_free(x->acc);
  if (x->srun) x->src->kind->close(x->srun);
  pthread_mutex_destroy(&x->mu);
  pthread_cond_destroy(&x->cv);
}

/* What the sink made, once every morsel is merged. */
static tl_status sink_result(xrun *x, tl_table **out, tl_error *err) {
  const tl_scan *sink = x->pl->sink;
  switch (x->kind) {
    case P_AGG:
      if (x->acc) return tl_partial_finish(x->acc, out, err);
      return tl_step_apply(sink, stream_schema(x->pl), out, err);   /* no rows */
    case P_TOP: case P_DISTINCT: TL_TRY(fold(x, err)); *out = x->top; x->top = NULL; return TL_OK;
    case P_SORT: case P_JOINX: {
      tl_table *all = NULL;
      TL_TRY(gather(x, NULL, &all, err));
      tl_status st = tl_step_apply(sink, all, out, err);
      tl_table_release(all);
      return st;
    }
    default: return gather(x, NULL, out, err);
  }
}

/* Runs the plan's streaming part into its sink; *out the sink's result
** (NULL when writing to `f`). */
static tl_status run_stream_put(const tl_scan *s, const tl_plan *pl, FILE *f, tl_scan_put put,
                                void *put_ud, tl_table **out, tl_error *err);

static tl_status run_stream(const tl_scan *s, const tl_plan *pl, FILE *f, tl_table **out,
                            tl_error *err) {
  return run_stream_put(s, pl, f, NULL, NULL, out, err);
}

static tl_status run_stream_put(const tl_scan *s, const tl_plan *pl, FILE *f, tl_scan_put put,
                                void *put_ud, tl_table **out, tl_error *err) {
  xrun x;
  memset(&x, 0, sizeof x);
  x.pl = pl;
  x.src = pl->steps[0]->src;
  x.kind = pl->sink ? pl->sink->kind : P_SOURCE;
  x.out = f;
  x.put = put;
  x.put_ud = put_ud;
  pthread_mutex_init(&x.mu, NULL);
  pthread_cond_init(&x.cv, NULL);
  const tl_scan_options *o = &pl->steps[0]->opts;
  const char **filters = tl_calloc((size_t)pl->npushed + 1, sizeof *filters);
  for (int k = 0; filters && k < pl->npushed; k++) filters[k] = pl->stream[k]->a[0];
  tl_source_want want = { pl->nread, (const char *const *)pl->read, o->morsel_bytes,
                          o->batch_rows, filters ? pl->npushed : 0, filters };
  int threads = tl_get_threads();
  tl_status st = x.src->kind->open(x.src, &want, &x.srun, &x.n, err);
  (void)s;
  if (x.n < 0) x.n = INT64_MAX;   /* known once the source is read to its end */
  if (pl->nothing || (x.kind == P_HEAD && pl->sink->count == 0)) x.n = 0;
  x.window = 2 * (int64_t)threads + 2;
  if (st == TL_OK && !(x.parts = tl_calloc((size_t)x.window, sizeof *x.parts)))
    st = tl_error_oom(err, "scan");
  if (st == TL_OK && x.n > 0) {
    tl_parallel_for(threads < x.n ? threads : x.n, worker, &x);
    if (x.st != TL_OK) { *err = x.err; st = x.st; }
  }
  if (st == TL_OK && !f && !put) st = sink_result(&x, out, err);
  run_free(&x);
  tl_free(filters);
  return st;
}

/* The steps after the sink, in memory. */
static tl_status run_after(const tl_plan *pl, tl_table **t, tl_error *err) {
  int after = 0;
  for (int k = 1; k < pl->nsteps; k++) {
    if (!after) { after = pl->steps[k] == pl->sink; continue; }
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
  tl_table *t = NULL;
  tl_status st = run_stream(s, &pl, NULL, &t, err);
  if (st == TL_OK) st = run_after(&pl, &t, err);
  tl_plan_free(&pl);
  if (st == TL_OK) *out = t;
  else tl_table_release(t);
  return st;
}

tl_status tl_scan_write_csv(const tl_scan *s, const char *path, tl_error *err) {
  tl_plan pl;
  TL_TRY(tl_plan_make(s, &pl, err));
  if (pl.sink) {   /* the result of a sink is small: collect it, then write it */
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
  csv_write_header(f, stream_schema(&pl));
  tl_status st = run_stream(s, &pl, f, NULL, err);
  int bad = ferror(f), e = errno;
  if (fclose(f) != 0 && !bad) bad = 1, e = errno;
  if (st == TL_OK && bad)
    st = tl_error_set(err, TL_EIO, "write_csv: cannot write '%s': %s", path, strerror(e));
  if (st != TL_OK) remove(path);
  tl_plan_free(&pl);
  return st;
}

tl_status tl_scan_run_into(const tl_scan *s, tl_scan_put put, void *ud, tl_error *err) {
  tl_plan pl;
  TL_TRY(tl_plan_make(s, &pl, err));
  tl_status st;
  if (pl.sink) {   /* the result of a sink is small: collect it, then hand it over */
    tl_table *t = NULL;
    st = tl_scan_collect(s, &t, err);
    if (st == TL_OK) st = put(ud, t, err);
    tl_table_release(t);
  } else {
    st = run_stream_put(s, &pl, NULL, put, ud, NULL, err);
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
