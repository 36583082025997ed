/*
** late.c -- a top over a CSV or Parquet scan, materialized late. A top
** (or a sort with a head right after it, which is the same) whose keys
** are columns keeps few rows of many: each morsel is read with the key
** columns alone, and its best rows are kept as their keys and their place
** (morsel and row, one int64 that also orders them as the file does). At
** the end, the morsels that hold the survivors are read again whole and
** the survivors taken from them. The place is the last key, ascending, so
** that rows with equal keys come in the file's order, as the in-memory top
** (the first n of a stable sort) gives them, whatever worker read which
** morsel.
**
** A morsel's read is that of the source's run, the columns it reads being
** those of the want, which the run reads afresh at each read (source_csv.c,
** source_parquet.c). From a Parquet file only the row ranges around the
** survivors are read again; a CSV morsel is read whole and the rows taken.
** A bad value in a column that is not a key is only seen when its row
** survives, as read_csv with `columns` does not look at the others.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/pool.h"
#include "exec.h"
#include "testing.h"

#define PLACE "__tally_place"
#define MAX_LATE 4096      /* the rows a top keeps for this to pay */

typedef struct late {
  const tl_plan *pl;
  const tl_source *src;
  void *srun;
  int64_t count;           /* the rows the top keeps */
  int nkeys;               /* the top's keys, then the place */
  const char **keys;
  tl_table **best;         /* per worker: its best rows so far */
  int64_t bad;             /* the first morsel whose read failed; INT64_MAX: none */
  tl_error err;
  tl_status st;
  pthread_mutex_t mu;
  int64_t done, total;     /* progress, in bytes (or morsels) */
} late;

/* The source's column a top key names ("-x" for x descending), or NULL. */
static const char *key_column(const tl_table *schema, const char *key) {
  if (tl_table_find(schema, key) >= 0) return key;
  if (key[0] == '-' && tl_table_find(schema, key + 1) >= 0) return key + 1;
  return NULL;
}

int64_t tl_sink_top_rows(const tl_plan *pl) {
  const tl_scan *sink = pl->sink;
  if (sink->kind == P_TOP) return sink->count;
  for (int k = 1; sink->kind == P_SORT && k + 1 < pl->nsteps; k++)
    if (pl->steps[k] == sink && pl->steps[k + 1]->kind == P_HEAD) return pl->steps[k + 1]->count;
  return -1;
}

int tl_late_top_fits(const tl_plan *pl) {
  const tl_scan *sink = pl->sink;
  const tl_source *src = pl->steps[0]->src;
  if (!sink || pl->nstream > 0 || pl->nothing || !src ||
      !(tl_source_is_csv(src) || tl_source_is_parquet(src)) || tl_sink_top_rows(pl) <= 0 ||
      tl_sink_top_rows(pl) > MAX_LATE ||
      pl->steps[0]->opts.nshares > 1 || tl_table_find(pl->input, PLACE) >= 0)
    return 0;
  int cols = 0;
  for (int k = 0; k < sink->na; k++) {
    const char *c = key_column(pl->input, sink->a[k]);
    if (!c) return 0;
    int again = 0;
    for (int j = 0; j < k; j++) again |= strcmp(key_column(pl->input, sink->a[j]), c) == 0;
    cols += !again;
  }
  return cols < pl->nread;   /* fewer columns to read */
}

/* t with its place column: row i of morsel k at (k << 32) + i. */
static tl_status add_place(tl_table *t, int64_t k, tl_table **out, tl_error *err) {
  int64_t n = tl_table_nrows(t);
  if (n >= (int64_t)1 << 32 || k >= (int64_t)1 << 31)
    return tl_error_set(err, TL_ELIMIT, "scan: top: a morsel of too many rows");
  tl_column *c = NULL;
  TL_TRY(tl_column_alloc_raw(TL_INT, n, 0, &c, err));
  int64_t *v = c->values;
  for (int64_t i = 0; i < n; i++) v[i] = (k << 32) + i;
  tl_status st = tl_table_set_column(t, PLACE, c, out, err);
  tl_column_release(c);
  return st;
}

/* The best rows of a and b (either NULL). */
static tl_status fold(late *L, tl_table *a, tl_table *b, tl_table **out, tl_error *err) {
  tl_table *both = NULL;
  const tl_table *two[2] = { a, b };
  if (!a || !b) { *out = tl_table_retain(a ? a : b); return TL_OK; }
  TL_TRY(tl_table_concat(2, two, &both, err));
  tl_status st = tl_table_top(both, L->count, L->nkeys, L->keys, out, err);
  tl_table_release(both);
  return st;
}

static tl_status keys_of(late *L, int64_t k, int w, tl_error *err) {
  tl_table *t = NULL, *u = NULL, *v = NULL;
  TL_TRY(L->src->kind->read(L->src, L->srun, k, &t, err));
  tl_status st = add_place(t, k, &u, err);
  tl_table_release(t);
  if (st == TL_OK) st = tl_table_top(u, L->count, L->nkeys, L->keys, &v, err);
  tl_table_release(u);
  if (st == TL_OK) st = fold(L, L->best[w], v, &t, err);
  tl_table_release(v);
  if (st != TL_OK) return st;
  tl_table_release(L->best[w]);
  L->best[w] = t;
  return TL_OK;
}

static void progress(late *L, int64_t k) {
  const tl_scan_options *o = &L->pl->steps[0]->opts;
  if (!o->progress) return;
  pthread_mutex_lock(&L->mu);
  L->done += L->src->bytes ? L->src->bytes(L->src, L->srun, k) : 1;
  o->progress(o->progress_ud, 1, L->done, L->total);
  pthread_mutex_unlock(&L->mu);
}

static void task(void *ctx, int64_t k, int w) {
  late *L = ctx;
  tl_error err;
  if (k > __atomic_load_n(&L->bad, __ATOMIC_RELAXED)) return;   /* past a failure */
  err.message[0] = '\0';
  tl_status st = tl_interrupted() ? tl_error_interrupted(&err, "scan") : keys_of(L, k, w, &err);
  if (st == TL_OK) { progress(L, k); return; }
  pthread_mutex_lock(&L->mu);
  if (k < L->bad) { L->bad = k; L->st = st; L->err = err; }   /* the first in the file */
  pthread_mutex_unlock(&L->mu);
}

static int by_place(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The survivors (best, in order) read whole from their morsels. */
static tl_status materialize(late *L, const tl_table *best, tl_table **out, tl_error *err) {
  int64_t n = tl_table_nrows(best);
  const int64_t *place = tl_column_ints(tl_table_column(best, tl_table_find(best, PLACE)));
  int64_t *sorted = tl_calloc(3 * (size_t)n + 1, sizeof *sorted), *perm = sorted + n;
  int64_t *rows = perm + n;
  tl_table **parts = tl_calloc((size_t)n + 1, sizeof *parts);
  int nparts = 0;
  tl_status st = sorted && parts ? TL_OK : tl_error_oom(err, "scan");
  if (st == TL_OK) memcpy(sorted, place, (size_t)n * sizeof *sorted);
  if (st == TL_OK) qsort(sorted, (size_t)n, sizeof *sorted, by_place);
  for (int64_t a = 0, b; st == TL_OK && a < n; a = b) {   /* the survivors of each morsel */
    tl_table *t = NULL;
    for (b = a; b < n && sorted[b] >> 32 == sorted[a] >> 32; b++)
      rows[b - a] = sorted[b] & 0xffffffff;
    if (tl_source_is_parquet(L->src)) {   /* the survivors' rows alone */
      st = tl_source_parquet_take(L->src, L->srun, sorted[a] >> 32, rows, b - a,
                                  &parts[nparts++], err);
    } else {
      st = L->src->kind->read(L->src, L->srun, sorted[a] >> 32, &t, err);
      if (st == TL_OK) st = tl_table_take(t, rows, b - a, &parts[nparts++], err);
      tl_table_release(t);
    }
    if (st == TL_OK && nparts == 64) {   /* one table, not a part per small morsel */
      st = tl_table_concat(nparts, (const tl_table *const *)parts, &t, err);
      for (int k = 0; k < nparts; k++) tl_table_release(parts[k]);
      parts[0] = t;
      nparts = 1;
    }
  }
  for (int64_t i = 0; st == TL_OK && i < n; i++) {   /* back to the top's order */
    int64_t *at = bsearch(&place[i], sorted, (size_t)n, sizeof *sorted, by_place);
    perm[i] = at - sorted;
  }
  tl_table *all = NULL;
  if (st == TL_OK && nparts == 0) all = tl_table_retain(L->pl->input);
  else if (st == TL_OK) st = tl_table_concat(nparts, (const tl_table *const *)parts, &all, err);
  if (st == TL_OK) st = tl_table_take(all, perm, n, out, err);
  tl_table_release(all);
  for (int k = 0; k < nparts; k++) tl_table_release(parts[k]);
  tl_free(parts);
  tl_free(sorted);
  return st;
}

/* Reads the key columns of every morsel into the workers' best rows, and
** folds those. */
static tl_status best_rows(late *L, int64_t n, tl_table **best, tl_error *err) {
  int nw = tl_get_threads();
  if (!(L->best = tl_calloc((size_t)nw, sizeof *L->best))) return tl_error_oom(err, "scan");
  const tl_scan_options *o = &L->pl->steps[0]->opts;
  if (o->progress) {
    for (int64_t k = 0; k < n; k++) L->total += L->src->bytes ? L->src->bytes(L->src, L->srun, k) : 1;
    o->progress(o->progress_ud, 1, 0, L->total);
  }
  tl_parallel_for(n, task, L);
  tl_status st = L->st;
  if (st != TL_OK) *err = L->err;
  tl_table *acc = NULL;
  for (int w = 0; w < nw && st == TL_OK; w++) {
    tl_table *t = NULL;
    st = fold(L, acc, L->best[w], &t, err);
    tl_table_release(acc);
    acc = t;
  }
  for (int w = 0; w < nw; w++) tl_table_release(L->best[w]);
  tl_free(L->best);
  if (st == TL_OK) *best = acc;
  else tl_table_release(acc);
  return st;
}

tl_status tl_late_top(const tl_plan *pl, tl_table **out, tl_error *err) {
  late L;
  memset(&L, 0, sizeof L);
  L.pl = pl;
  L.src = pl->steps[0]->src;
  L.bad = INT64_MAX;
  const tl_scan *sink = pl->sink;
  L.count = tl_sink_top_rows(pl);
  L.nkeys = sink->na + 1;
  const char **keys = tl_calloc((size_t)sink->na + 2, sizeof *keys);
  const char **cols = tl_calloc((size_t)pl->nread + 1, sizeof *cols);
  if (!keys || !cols) { tl_free(keys); tl_free(cols); return tl_error_oom(err, "scan"); }
  memcpy(keys, sink->a, (size_t)sink->na * sizeof *keys);
  keys[sink->na] = PLACE;
  L.keys = keys;
  int ncols = 0;   /* the key columns, in the source's order */
  for (int j = 0; j < pl->nread; j++)
    for (int k = 0; k < sink->na; k++)
      if (strcmp(key_column(pl->input, sink->a[k]), pl->read[j]) == 0) {
        cols[ncols++] = pl->read[j];
        break;
      }
  tl_source_want want = { ncols, cols, tl_testing_get(TL_KNOB_MORSEL_BYTES),
                          tl_testing_get(TL_KNOB_BATCH_ROWS), 0, NULL };
  int64_t n = 0;
  pthread_mutex_init(&L.mu, NULL);
  tl_status st = L.src->kind->open(L.src, &want, &L.srun, &n, err);
  tl_table *best = NULL;
  if (st == TL_OK) st = best_rows(&L, n, &best, err);
  if (st == TL_OK && best) {   /* the survivors' morsels read whole */
    want.ncols = pl->nread;
    want.cols = (const char *const *)pl->read;
    st = materialize(&L, best, out, err);
  } else if (st == TL_OK) {
    *out = tl_table_retain(pl->input);   /* no morsels: no rows */
  }
  tl_table_release(best);
  if (L.srun) L.src->kind->close(L.srun);
  pthread_mutex_destroy(&L.mu);
  tl_free(keys);
  tl_free(cols);
  return st;
}
