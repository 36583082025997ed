/*
** xsort.c -- external merge sort for scans. See xsort.h.
**
** A run is written in blocks of BLOCK rows. The merge keeps a pool of
** rows: each run's current block to begin with. It sorts the pool, hands
** out every row up to the first of the runs' last loaded rows to come
** (the rows not loaded yet of every run come after its last loaded row,
** so nothing that is still on disk can come before the rows handed out),
** keeps the rest, and loads the next block of each run whose last loaded
** row was handed out. The place in the input is the last key, so the
** order of the pool's rows never depends on where they came from.
*/
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "spill.h"
#include "xsort.h"

#define BLOCK 16384

typedef struct run {
  tl_spill *f;
  int64_t last;            /* the place of its last loaded row */
  int done;
} run;

struct tl_xsort {
  int nkeys;
  const char **keys;       /* the sink's, then the place */
  char *ord;               /* the hidden column of the places */
  tl_table *schema;        /* the batches', with the place */
  tl_table **list;
  int64_t nlist, cap, rows;
  run *runs;
  int nruns;
  tl_spiller by;
  int64_t threshold, floor, step;
};

tl_status tl_xsort_new(const tl_scan *sink, const tl_table *schema, int64_t threshold,
                       tl_xsort **out, tl_error *err) {
  tl_xsort *s = tl_calloc(1, sizeof *s);
  *out = NULL;
  if (!s) return tl_error_oom(err, "sort");
  s->by.op = "sort";
  s->threshold = threshold;
  s->step = (threshold - (int64_t)tl_env_memory(NULL)) / 4;
  s->nkeys = sink->na + 1;
  s->keys = tl_calloc((size_t)s->nkeys, sizeof *s->keys);
  s->ord = tl_fresh_name(schema, schema, "_tally_row");
  tl_column *c = NULL;
  tl_status st = s->keys && s->ord ? TL_OK : tl_error_oom(err, "sort");
  if (st == TL_OK) st = tl_column_alloc(TL_INT, 0, 0, 0, &c, err);
  if (st == TL_OK) st = tl_table_set_column(schema, s->ord, c, &s->schema, err);
  tl_column_release(c);
  if (st != TL_OK) { tl_xsort_free(s); return st; }
  for (int k = 0; k < sink->na; k++) s->keys[k] = sink->a[k];
  s->keys[sink->na] = s->ord;
  *out = s;
  return TL_OK;
}

void tl_xsort_free(tl_xsort *s) {
  if (!s) return;
  for (int64_t k = 0; k < s->nlist; k++) tl_table_release(s->list[k]);
  for (int r = 0; r < s->nruns; r++) tl_spill_close(s->runs[r].f);
  tl_free(s->list);
  tl_free(s->runs);
  tl_free(s->keys);
  tl_free(s->ord);
  tl_table_release(s->schema);
  tl_free(s);
}

void tl_xsort_spilled(const tl_xsort *s, int *runs, int64_t *bytes) {
  *runs = s->by.files;
  *bytes = s->by.written;
}

static tl_status push(tl_xsort *s, tl_table *t, tl_error *err) {
  if (s->nlist == s->cap) {
    int64_t cap = s->cap ? 2 * s->cap : 64;
    tl_table **l = tl_realloc(s->list, (size_t)cap * sizeof *l);
    if (!l) { tl_table_release(t); return tl_error_oom(err, "sort"); }
    s->list = l;
    s->cap = cap;
  }
  s->list[s->nlist++] = t;
  return TL_OK;
}

/* The gathered batches as one table sorted by the keys and place; the
** list empties. */
static tl_status sort_list(tl_xsort *s, tl_table **out, tl_error *err) {
  tl_table *all = NULL;
  tl_status st = TL_OK;
  if (s->nlist == 0) all = tl_table_retain(s->schema);
  else st = tl_table_concat((int)s->nlist, (const tl_table *const *)s->list, &all, err);
  for (int64_t k = 0; k < s->nlist; k++) tl_table_release(s->list[k]);
  s->nlist = 0;
  if (st == TL_OK) st = tl_table_sort(all, s->nkeys, s->keys, out, err);
  tl_table_release(all);
  return st;
}

/* Sorts what is gathered and writes it as a new run. */
static tl_status spill_run(tl_xsort *s, tl_error *err) {
  run *r = tl_realloc(s->runs, (size_t)(s->nruns + 1) * sizeof *r);
  if (!r) return tl_error_oom(err, "sort");
  s->runs = r;
  r = &s->runs[s->nruns];
  memset(r, 0, sizeof *r);
  TL_TRY(tl_spill_open(&s->by, &r->f, err));
  s->nruns++;
  tl_table *t = NULL;
  TL_TRY(sort_list(s, &t, err));
  tl_status st = TL_OK;
  for (int64_t at = 0; at < tl_table_nrows(t) && st == TL_OK; at += BLOCK) {
    tl_table *b = NULL;
    if (tl_interrupted()) { st = tl_error_interrupted(err, "sort"); break; }
    st = tl_table_slice(t, at, BLOCK, &b, err);
    if (st == TL_OK) st = tl_spill_put_table(r->f, b, err);
    tl_table_release(b);
  }
  tl_table_release(t);
  return st;
}

tl_status tl_xsort_add(tl_xsort *s, tl_table *t, tl_error *err) {
  int64_t n = tl_table_nrows(t);
  tl_column *c = NULL;
  tl_table *u = NULL;
  tl_status st = tl_column_alloc(TL_INT, n, 0, 0, &c, err);
  if (st == TL_OK) {
    int64_t *v = c->values;
    for (int64_t i = 0; i < n; i++) v[i] = s->rows + i;
    tl_column_seal(c);
    st = tl_table_set_column(t, s->ord, c, &u, err);
  }
  tl_column_release(c);
  tl_table_release(t);
  if (st != TL_OK) return st;
  s->rows += n;
  TL_TRY(push(s, u, err));
  if (!s->threshold) return TL_OK;
  int64_t used = (int64_t)tl_env_memory(NULL);
  if (used <= s->threshold || used <= s->floor + s->step) return TL_OK;
  TL_TRY(spill_run(s, err));
  s->floor = (int64_t)tl_env_memory(NULL);
  return TL_OK;
}

/* t without the place column, to the receiver. */
static tl_status emit_rows(tl_xsort *s, tl_table *t, tl_xsort_emit emit, void *ctx,
                           tl_error *err) {
  tl_table *u = NULL;
  const char *drop = s->ord;
  tl_status st = tl_table_drop(t, 1, &drop, &u, err);
  tl_table_release(t);
  return st == TL_OK ? emit(ctx, u, err) : st;
}

/* Run r's next block into the list. */
static tl_status load(tl_xsort *s, run *r, tl_error *err) {
  tl_table *t = NULL;
  TL_TRY(tl_spill_get_table(r->f, s->schema, &t, err));
  if (!t) { r->done = 1; return TL_OK; }
  const tl_column *c = tl_table_column(t, tl_table_ncols(t) - 1);
  r->last = ((const int64_t *)c->values)[tl_table_nrows(t) - 1];
  return push(s, t, err);
}

/* One step of the merge: sorts the pool, hands out the rows that are
** safe, keeps the others in the list and loads the runs that need it. */
static tl_status merge_step(tl_xsort *s, tl_xsort_emit emit, void *ctx, tl_error *err) {
  tl_table *sorted = NULL, *head = NULL, *rest = NULL;
  TL_TRY(sort_list(s, &sorted, err));
  int64_t n = tl_table_nrows(sorted), cut = n;
  const int64_t *ord = tl_table_column(sorted, tl_table_ncols(sorted) - 1)->values;
  int64_t *at = tl_calloc((size_t)s->nruns + 1, sizeof *at);
  tl_status st = at ? TL_OK : tl_error_oom(err, "sort");
  for (int r = 0; st == TL_OK && r < s->nruns; r++) {
    if (s->runs[r].done) continue;
    for (at[r] = 0; at[r] < n && ord[at[r]] != s->runs[r].last; at[r]++) {}
    if (at[r] == n) at[r] = -1;   /* handed out before: load the next block */
    else if (at[r] + 1 < cut) cut = at[r] + 1;
  }
  if (st == TL_OK) st = tl_table_slice(sorted, 0, cut, &head, err);
  if (st == TL_OK) st = tl_table_slice(sorted, cut, n - cut, &rest, err);
  tl_table_release(sorted);
  if (st == TL_OK && tl_table_nrows(rest)) st = push(s, rest, err), rest = NULL;
  if (st == TL_OK) st = emit_rows(s, head, emit, ctx, err), head = NULL;
  for (int r = 0; st == TL_OK && r < s->nruns; r++)
    if (!s->runs[r].done && at[r] < cut) st = load(s, &s->runs[r], err);
  tl_table_release(head);
  tl_table_release(rest);
  tl_free(at);
  return st;
}

tl_status tl_xsort_finish(tl_xsort *s, tl_xsort_emit emit, void *ctx, tl_error *err) {
  if (s->nruns == 0) {   /* it all fit: the in-memory sort */
    tl_table *t = NULL;
    TL_TRY(sort_list(s, &t, err));
    return emit_rows(s, t, emit, ctx, err);
  }
  if (s->nlist) TL_TRY(spill_run(s, err));
  for (int r = 0; r < s->nruns; r++) TL_TRY(load(s, &s->runs[r], err));
  for (;;) {
    int open = 0;
    for (int r = 0; r < s->nruns; r++) open |= !s->runs[r].done;
    if (!open && s->nlist == 0) return TL_OK;
    if (tl_interrupted()) return tl_error_interrupted(err, "sort");
    TL_TRY(merge_step(s, emit, ctx, err));
  }
}
