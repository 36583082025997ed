/*
** host.c -- aggregates the host defines (tl_aggregate: Lua's
** tally.aggregate). Their states are the bytes `save` gives. One that
** merges runs over ranges of rows, on the workers when it can fork
** (host_ranges); any other in one run on the calling thread. Their errors
** name the definition.
*/
#include <stdatomic.h>

#include "base/pool.h"
#include "base/table.h"
#include "codec.h"
#include "kind.h"

/* Rows per batch handed to a host aggregate: several vectors, so that a
** host that works a group at a time (step_batch) sees long runs of values. */
#define AGG_BATCH ((int64_t)TL_VEC * 8)

static int32_t row_group(const tl_rowgroups *rg, int64_t i) {
  if (rg->gid) return rg->gid[i];
  if (!rg->codes) return 0;
  const tl_column *c = rg->codes;
  if (c->validity && !TL_BIT_GET(c->validity, i)) return rg->cmap[c->dict->length];
  return rg->cmap[((const int32_t *)c->values)[i]];
}

/* "agg: "<def>": " in front of a host's message. */
static tl_status host_error(tl_status st, const char *src, tl_error *err) {
  if (st != TL_OK && err && st != TL_ENOMEM) {
    char msg[TL_ERROR_SIZE];
    memcpy(msg, err->message, sizeof msg);
    tl_error_set(err, st, "agg: \"%s\": %s", src, msg);
  }
  return st;
}

/* Begins a run where this thread's mark puts the host (base/pool.h): on
** worker w's side during a streaming scan, else on the calling thread. */
static tl_status host_begin(const tl_aggregate *a, int64_t ng, void **run, tl_error *err) {
  int w = tl_host_worker();
  if (w >= 0 && a->begin_on) return a->begin_on(a->ud, w, ng, run, err);
  return a->begin(a->ud, ng, run, err);
}

static int has_merge(const tl_aggregate *a) { return a->save && a->load && a->merge; }

static tl_status no_merge(const tl_aggregate *a, tl_error *err) {
  return tl_error_set(err, TL_EINVAL,
                      "partial: aggregate '%s' has no merge, so it cannot be combined across "
                      "threads or processes (give it save, load and merge)", a->name);
}

/* Checks a host's results: ng values of its type. */
static tl_status check_result(const tl_aggregate *a, int64_t ng, tl_column **out, tl_error *err) {
  if (tl_column_length(*out) == ng && (!a->type || tl_column_type(*out) == a->type)) return TL_OK;
  if (ng == 0 && tl_column_length(*out) == 0 && a->type) {   /* no groups: no values to type */
    tl_column_release(*out);
    *out = NULL;
    return tl_column_alloc(a->type, 0, 0, 0, out, err);
  }
  tl_column_release(*out);
  *out = NULL;
  return tl_error_set(err, TL_ETYPE, "%s: the results are not %lld values of type %s", a->name,
                      (long long)ng, a->type ? tl_type_name(a->type) : "any");
}

/* Copies the bytes a host saved for group g into hb[g]. */
static tl_status save_group(const tl_aggregate *a, void *run, int64_t g, uint8_t **hb, size_t *hl,
                            tl_error *err) {
  const void *bytes = NULL;
  size_t len = 0;
  TL_TRY(a->save(run, g, &bytes, &len, err));
  uint8_t *copy = tl_alloc(len ? len : 1);
  if (!copy) return tl_error_oom(err, a->name);
  if (len) memcpy(copy, bytes, len);
  tl_free(hb[g]);
  hb[g] = copy;
  hl[g] = len;
  return TL_OK;
}

/* The end of a host slot's scan: its results (direct) or its saved states. */
static tl_status host_done(agst *s, const tl_aggregate *a, void *run, int64_t ng, int direct,
                           tl_error *err) {
  if (direct) {
    TL_TRY(a->finish(run, ng, &s->done, err));
    return check_result(a, ng, &s->done, err);
  }
  if (!tl_agg_state_grow(s, ng)) return tl_error_oom(err, "agg");
  for (int64_t g = 0; g < ng; g++) TL_TRY(save_group(a, run, g, s->hb, s->hl, err));
  return TL_OK;
}

/* Hands rows [from, to) to run in batches, with the groups they belong to;
** marks the groups seen in mark[] and lists them in list[] (both optional). */
static tl_status host_scan(const tl_aggregate *a, void *run, const expr *e, tl_column *const *args,
                           const tl_rowgroups *rg, int64_t from, int64_t to, int64_t *rows,
                           int32_t *groups, uint8_t *mark, int32_t *list, int64_t *nlist,
                           tl_error *err) {
  for (int64_t start = from; start < to; start += AGG_BATCH) {
    int64_t stop = to - start < AGG_BATCH ? to : start + AGG_BATCH, m = 0;
    if (tl_interrupted()) return tl_error_interrupted(err, a->name);
    int checked = 0;
    for (int k = 0; k < e->nargs && !a->nulls; k++) checked |= args[k]->validity != NULL;
    if (!checked && !rg->gid && !rg->codes) {   /* every row, one group */
      for (int64_t i = start; i < stop; i++) { rows[m] = i; groups[m++] = 0; }
      if (mark && m && !mark[0]) { mark[0] = 1; list[(*nlist)++] = 0; }
    } else {
      for (int64_t i = start; i < stop; i++) {
        int ok = 1;
        for (int k = 0; k < e->nargs && ok && !a->nulls; k++)
          ok = !args[k]->validity || TL_BIT_GET(args[k]->validity, i);
        if (!ok) continue;
        int32_t g = row_group(rg, i);
        if (mark && !mark[g]) { mark[g] = 1; list[(*nlist)++] = g; }
        rows[m] = i;
        groups[m++] = g;
      }
    }
    if (m) {
      tl_agg_batch b = { m, rows, groups, e->nargs, args, tl_host_row_base() };
      TL_TRY(a->step(run, &b, err));
    }
  }
  return TL_OK;
}

/* The states one range of rows left: the groups it saw and their saved bytes. */
typedef struct hpart {
  int64_t n;
  int32_t *g;
  uint8_t **b;
  size_t *l;
} hpart;

typedef struct hjob {
  const tl_aggregate *a;
  const expr *e;
  tl_column *const *args;
  const tl_rowgroups *rg;
  int64_t R, nranges;
  hpart *parts;
  atomic_int failed;
} hjob;

static void hpart_clear(hpart *h) {
  for (int64_t i = 0; h->b && i < h->n; i++) tl_free(h->b[i]);
  tl_free(h->g); tl_free(h->b); tl_free(h->l);
  memset(h, 0, sizeof *h);
}

/* Range r of the job in a run of its own, whose states it saves into
** parts[r]. `worker` is the pool's worker, or -1 on the calling thread. */
static tl_status host_range(hjob *j, int64_t r, int worker, tl_error *err) {
  const tl_aggregate *a = j->a;
  int64_t ng = j->rg->ng, from = r * j->R;
  int64_t to = j->rg->n - from < j->R ? j->rg->n : from + j->R;
  hpart *h = &j->parts[r];
  int64_t *rows = tl_alloc(AGG_BATCH * sizeof *rows);
  int32_t *groups = tl_alloc(AGG_BATCH * sizeof *groups);
  uint8_t *mark = tl_calloc((size_t)ng + 1, 1);
  h->g = tl_alloc(((size_t)ng + 1) * sizeof *h->g);
  void *run = NULL;
  tl_status st = (rows && groups && mark && h->g) ? TL_OK : tl_error_oom(err, "agg");
  if (st == TL_OK)
    st = worker >= 0 ? a->begin_on(a->ud, worker, ng, &run, err) : a->begin(a->ud, ng, &run, err);
  int begun = st == TL_OK;
  if (begun && a->keys) a->keys(run, &j->rg->keys);
  if (st == TL_OK)
    st = host_scan(a, run, j->e, j->args, j->rg, from, to, rows, groups, mark, h->g, &h->n, err);
  if (st == TL_OK) {
    h->b = tl_calloc((size_t)h->n + 1, sizeof *h->b);
    h->l = tl_calloc((size_t)h->n + 1, sizeof *h->l);
    if (!h->b || !h->l) st = tl_error_oom(err, "agg");
  }
  for (int64_t i = 0; i < h->n && st == TL_OK; i++) {
    const void *bytes = NULL;
    size_t len = 0;
    st = a->save(run, h->g[i], &bytes, &len, err);
    if (st == TL_OK && !(h->b[i] = tl_alloc(len ? len : 1))) st = tl_error_oom(err, a->name);
    if (st == TL_OK) { if (len) memcpy(h->b[i], bytes, len); h->l[i] = len; }
  }
  if (begun) a->end(run);
  tl_free(rows);
  tl_free(groups);
  tl_free(mark);
  return st;
}

static void host_task(void *ctx, int64_t r, int worker) {
  hjob *j = ctx;
  tl_error err;
  if (atomic_load(&j->failed)) return;
  if (host_range(j, r, worker, &err) != TL_OK) atomic_store(&j->failed, 1);
}

/* The ranged scan of a host aggregate that merges: each range of R rows in
** a run of its own (on the worker threads when the host can fork), its
** states folded into one run in row order, so that no result depends on
** the thread count. Should a range fail on a worker, every range runs
** again on the calling thread: that run gives the error, with its place. */
static tl_status host_ranges(agst *s, const expr *e, tl_column *const *args,
                             const tl_rowgroups *rg, int direct, int64_t R, tl_error *err) {
  const tl_aggregate *a = e->custom;
  int64_t ng = rg->ng;
  hjob j = { .a = a, .e = e, .args = args, .rg = rg, .R = R };
  j.nranges = (rg->n + R - 1) / R;
  j.parts = tl_calloc((size_t)j.nranges, sizeof *j.parts);
  if (!j.parts) return tl_error_oom(err, "agg");
  tl_status st = TL_OK;
  int threads = tl_get_threads();   /* as many as tl_parallel_for will use */
  if (threads > j.nranges) threads = (int)j.nranges;
  int done = 0;   /* on the workers, without a failure */
  if (threads > 1 && a->fork && a->begin_on && a->join && a->fork(a->ud, threads)) {
    atomic_init(&j.failed, 0);
    tl_parallel_for(j.nranges, host_task, &j);
    a->join(a->ud);
    done = !atomic_load(&j.failed);
    for (int64_t r = 0; !done && r < j.nranges; r++) hpart_clear(&j.parts[r]);
  }
  for (int64_t r = 0; !done && r < j.nranges && st == TL_OK; r++)
    st = host_range(&j, r, -1, err);
  /* the fold, in row order */
  void *run = NULL;
  uint8_t *loaded = st == TL_OK ? tl_calloc((size_t)ng + 1, 1) : NULL;
  if (st == TL_OK && !loaded) st = tl_error_oom(err, "agg");
  if (st == TL_OK) st = a->begin(a->ud, ng, &run, err);
  int begun = st == TL_OK;
  if (begun && a->keys) a->keys(run, &rg->keys);
  for (int64_t r = 0; r < j.nranges && st == TL_OK; r++) {
    const hpart *h = &j.parts[r];
    for (int64_t i = 0; i < h->n && st == TL_OK; i++) {
      int32_t g = h->g[i];
      st = loaded[g] ? a->merge(run, g, h->b[i], h->l[i], err) : a->load(run, g, h->b[i], h->l[i], err);
      loaded[g] = 1;
    }
  }
  if (st == TL_OK) st = host_done(s, a, run, ng, direct, err);
  if (begun) a->end(run);
  for (int64_t r = 0; r < j.nranges; r++) hpart_clear(&j.parts[r]);
  tl_free(j.parts);
  tl_free(loaded);
  return st;
}

static tl_status make_states(agst *s, const expr *e, tl_column *const *args,
                             const tl_rowgroups *rg, int direct, tl_error *err) {
  const tl_aggregate *a = e->custom;
  int64_t ng = rg->ng, R = tl_group_range_rows();
  while (R < 64 * ng) R *= 2;   /* a range's states, saved and merged, few next to its rows */
  if (has_merge(a) && rg->n > R && tl_host_worker() == TL_HOST_ANY)
    return host_ranges(s, e, args, rg, direct, R, err);
  void *run = NULL;
  int64_t *rows = tl_alloc(AGG_BATCH * sizeof *rows);
  int32_t *groups = tl_alloc(AGG_BATCH * sizeof *groups);
  tl_status st = (rows && groups) ? TL_OK : tl_error_oom(err, "agg");
  if (st == TL_OK) st = host_begin(a, ng, &run, err);
  int begun = st == TL_OK;
  if (begun && a->keys) a->keys(run, &rg->keys);
  if (st == TL_OK) st = host_scan(a, run, e, args, rg, 0, rg->n, rows, groups, NULL, NULL, NULL, err);
  if (st == TL_OK) st = host_done(s, a, run, ng, direct, err);
  if (begun) a->end(run);
  tl_free(rows);
  tl_free(groups);
  return st;
}

/* A host state's results: a run that loads every group's bytes. */
static tl_status finish_states(const agst *s, const tl_agg_keys *keys, tl_column **out,
                               tl_error *err) {
  const tl_aggregate *a = s->host;
  void *run = NULL;
  TL_TRY(host_begin(a, s->ng, &run, err));
  if (a->keys) a->keys(run, keys);
  tl_status st = TL_OK;
  for (int64_t g = 0; g < s->ng && st == TL_OK; g++) st = a->load(run, g, s->hb[g], s->hl[g], err);
  if (st == TL_OK) st = a->finish(run, s->ng, out, err);
  if (st == TL_OK) st = check_result(a, s->ng, out, err);
  a->end(run);
  return st;
}

/* Folds fr's host states into in's (which has room for ng groups, of which
** the first `old` are in's own): load in's, then load or merge fr's, then
** save them all. */
static tl_status merge_states(agst *in, const agst *fr, const int64_t *map, int64_t old,
                              const tl_agg_keys *keys, tl_error *err) {
  const tl_aggregate *a = in->host;
  int64_t ng = in->ng;
  uint8_t **hb = tl_calloc((size_t)ng + 1, sizeof *hb);
  size_t *hl = tl_calloc((size_t)ng + 1, sizeof *hl);
  uint8_t *loaded = tl_calloc((size_t)ng + 1, 1);
  void *run = NULL;
  tl_status st = (hb && hl && loaded) ? TL_OK : tl_error_oom(err, "partial");
  if (st == TL_OK) st = host_begin(a, ng, &run, err);
  int begun = st == TL_OK;
  if (begun && a->keys) a->keys(run, keys);
  for (int64_t g = 0; g < old && st == TL_OK; g++) {
    st = a->load(run, g, in->hb[g], in->hl[g], err);
    loaded[g] = 1;
  }
  for (int64_t g = 0; g < fr->ng && st == TL_OK; g++) {
    int64_t G = map[g];
    st = loaded[G] ? a->merge(run, G, fr->hb[g], fr->hl[g], err)
                   : a->load(run, G, fr->hb[g], fr->hl[g], err);
    loaded[G] = 1;
  }
  for (int64_t g = 0; g < ng && st == TL_OK; g++) st = save_group(a, run, g, hb, hl, err);
  if (begun) a->end(run);
  if (st == TL_OK) {   /* the new states replace the old */
    for (int64_t g = 0; g < ng; g++) tl_free(in->hb[g]);
    tl_free(in->hb);
    tl_free(in->hl);
    in->hb = hb;
    in->hl = hl;
  } else {
    for (int64_t g = 0; hb && g < ng; g++) tl_free(hb[g]);
    tl_free(hb);
    tl_free(hl);
  }
  tl_free(loaded);
  return st;
}

/* ---------------------------------------------------------------------------
** The kind
*/

static int host_init(agst *s, int64_t o, int64_t n) {
  GROW(s->hb, o, n);
  GROW(s->hl, o, n);
  return 1;
}

static tl_status host_make(agst *s, const expr *e, tl_column *const *args,
                           const tl_rowgroups *rg, int direct, const char *src, tl_error *err) {
  return host_error(make_states(s, e, args, rg, direct, err), src, err);
}

static tl_status host_check(const agst *s, tl_error *err) {
  return has_merge(s->host) ? TL_OK : no_merge(s->host, err);
}

static tl_status host_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  if (!f->map) return tl_error_set(err, TL_EINVAL, "%s: host states merge through their run", f->op);
  return host_error(merge_states(in, fr, f->map, f->old, f->keys, err), f->src, err);
}

static tl_status host_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                             tl_error *err) {
  (void)consume;
  return host_error(finish_states(s, f->keys, out, err), f->src, err);
}

static void host_save(wbuf *w, const agst *s) {
  w_u8(w, 0);
  for (int64_t g = 0; g < s->ng; g++) { w_u64(w, s->hl[g]); w_raw(w, s->hb[g], s->hl[g]); }
}

static int host_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  if (!tl_agg_load_start(r, s, ng, blob)) return 0;
  for (int64_t g = 0; g < ng && !r->bad; g++) {
    uint64_t n = r_u64(r);
    const uint8_t *b = r_bytes(r, n);
    if (!b) break;
    if (!(s->hb[g] = tl_alloc(n ? n : 1))) return 0;
    memcpy(s->hb[g], b, n);
    s->hl[g] = n;
  }
  return 1;
}

const tl_agg_kind tl_agg_host = {
  .name = "host", .init = host_init, .make = host_make, .check = host_check,
  .merge = host_merge, .finish = host_finish, .save = host_save, .load = host_load,
};
