/*
** scan.c -- the scan that fills the states of the built-in aggregates:
** ranges of rows on the worker threads, each into states of its own,
** merged into the partial's states in range order under a lock. The ranges
** never depend on the number of threads, so neither do the results.
**
** Over a selection (rg->sel: a filter's rows, not taken into a table), the
** ranges are ranges of the selected rows; each gathers, into buffers of its
** worker, the values of the arguments at those rows, and runs the kernels
** over them as over a range of a table of its own.
*/
#include <pthread.h>
#include <stdatomic.h>

#include "base/pool.h"
#include "base/table.h"
#include "kind.h"

#define MAX_WORKERS 256

typedef struct rpart {
  int64_t nl;
  int64_t *map;            /* local group -> group; NULL: the same */
  agst **st;
} rpart;

typedef struct wscratch {
  int32_t *ids, *lids;     /* a range's groups, and its local groups */
  int32_t *slot;           /* group -> local group, -1 when not in the range */
  int64_t *list;           /* the range's groups in order of first appearance */
  tl_column **g;           /* over a selection: slot s's x and y gathered, g[2s], g[2s + 1] */
  uint8_t **vb;            /* their validity buffers */
} wscratch;

typedef struct scanjob {
  const tl_rowgroups *rg;
  int64_t n, R, nranges;
  int local;               /* ranges number their groups from 0 */
  int nslots;
  agst **glob;             /* the states scanned (NULL: a host slot) */
  int *lead;               /* ranges of one group: the first slot summarizing slot s's
                           ** argument with it (fused.c), -1: none */
  unsigned *want;          /* of a lead slot: what its slots need of the summary */
  tl_column **x;
  int64_t hbudget;         /* counts a range's histogram may have */
  pthread_mutex_t mu;
  int64_t next;            /* the next range to merge */
  rpart **done;            /* ranges done, waiting for their turn */
  atomic_int failed;
  tl_status st;
  tl_error err;
  wscratch *ws[MAX_WORKERS];
} scanjob;

static void rpart_free(rpart *rp, int nslots) {
  if (!rp) return;
  for (int s = 0; rp->st && s < nslots; s++) tl_agg_state_free(rp->st[s]);
  tl_free(rp->st);
  tl_free(rp->map);
  tl_free(rp);
}

/* Records the first failure (the lock held). */
static void job_fail(scanjob *j, tl_status st, const tl_error *e) {
  if (atomic_load(&j->failed)) return;
  j->st = st;
  if (e) j->err = *e;
  else if (st == TL_EINTR) tl_error_interrupted(&j->err, "agg");
  else tl_error_oom(&j->err, "agg");
  atomic_store(&j->failed, 1);
}

static void job_fail_locked(scanjob *j, tl_status st) {
  pthread_mutex_lock(&j->mu);
  job_fail(j, st, NULL);
  pthread_mutex_unlock(&j->mu);
}

static void scratch_free(wscratch *w, int nslots) {
  if (!w) return;
  for (int k = 0; w->g && k < 2 * nslots; k++) {
    if (w->g[k]) w->g[k]->validity = w->vb[k];   /* its own, to be freed */
    tl_column_release(w->g[k]);
  }
  tl_free(w->g); tl_free(w->vb);
  tl_free(w->ids); tl_free(w->lids); tl_free(w->slot); tl_free(w->list); tl_free(w);
}

static wscratch *scratch(scanjob *j, int worker) {
  if (j->ws[worker]) return j->ws[worker];
  int64_t m = j->R < j->n ? j->R : j->n, ng = j->rg->ng;
  wscratch *w = tl_calloc(1, sizeof *w);
  if (!w) return NULL;
  w->ids = tl_calloc((size_t)m + 1, sizeof *w->ids);   /* zeros: group 0 without keys */
  if (j->local) {
    w->lids = tl_alloc(((size_t)m + 1) * sizeof *w->lids);
    w->slot = tl_alloc(((size_t)ng + 1) * sizeof *w->slot);
    w->list = tl_alloc(((size_t)(m < ng ? m : ng) + 1) * sizeof *w->list);
    if (w->slot) for (int64_t g = 0; g < ng; g++) w->slot[g] = -1;
  }
  if (j->rg->sel) {
    w->g = tl_calloc(2 * (size_t)j->nslots + 1, sizeof *w->g);
    w->vb = tl_calloc(2 * (size_t)j->nslots + 1, sizeof *w->vb);
  }
  if (!w->ids || (j->local && (!w->lids || !w->slot || !w->list)) ||
      (j->rg->sel && (!w->g || !w->vb))) {
    scratch_free(w, j->nslots);
    return NULL;
  }
  j->ws[worker] = w;
  return w;
}

/* Merges the ranges that are next in order (the lock held). */
static void drain(scanjob *j) {
  while (j->next < j->nranges && j->done[j->next] && !atomic_load(&j->failed)) {
    rpart *rp = j->done[j->next];
    tl_error e;
    tl_agg_fold f = { rp->map, 0, NULL, "agg", NULL };
    for (int s = 0; s < j->nslots; s++) {
      if (!j->glob[s]) continue;
      tl_status st = j->glob[s]->kind->merge(j->glob[s], rp->st[s], &f, &e);
      if (st != TL_OK) { job_fail(j, st, &e); break; }
    }
    rpart_free(rp, j->nslots);
    j->done[j->next++] = NULL;
  }
}

/* Rows sel[0 .. m) of x into scratch column k of w (made on first use,
** with room for R rows): fixed-width values and their validity. 0: out
** of memory. */
static tl_column *gather(scanjob *j, wscratch *w, int k, const tl_column *x, const int64_t *sel,
                         int64_t m) {
  tl_column *g = w->g[k];
  if (!g) {
    tl_error e;
    if (tl_column_alloc_raw(x->type, j->R < j->n ? j->R : j->n, 1, &g, &e) != TL_OK) return NULL;
    w->g[k] = g;
    w->vb[k] = g->validity;
  }
  g->length = m;
  if (x->type == TL_BOOL) {
    uint8_t *d = g->values;
    const uint8_t *v = x->values;
    memset(d, 0, (size_t)TL_BITMAP_BYTES(m));
    for (int64_t i = 0; i < m; i++) if (TL_BIT_GET(v, sel[i])) d[i >> 3] |= (uint8_t)(1u << (i & 7));
  } else if (tl_type_width(x->type) == 4) {
    int32_t *d = g->values;
    const int32_t *v = x->values;
    for (int64_t i = 0; i < m; i++) d[i] = v[sel[i]];
  } else {
    int64_t *d = g->values;
    const int64_t *v = x->values;
    for (int64_t i = 0; i < m; i++) d[i] = v[sel[i]];
  }
  int64_t nulls = 0;
  if (x->validity && x->null_count > 0) {
    uint8_t *d = w->vb[k];
    memset(d, 0, (size_t)TL_BITMAP_BYTES(m));
    for (int64_t i = 0; i < m; i++) {
      int ok = TL_BIT_GET(x->validity, sel[i]);
      d[i >> 3] |= (uint8_t)(ok << (i & 7));
      nulls += !ok;
    }
  }
  g->null_count = nulls;
  g->validity = nulls ? w->vb[k] : NULL;
  return g;
}

/* A range of one group: for each argument that slots summarize, its
** summary over the range in one pass (over a selection, of the gathered
** values), taken by each of those slots' states. 0: out of memory. */
static int scan_fused(scanjob *j, wscratch *w, rpart *rp, int64_t a, int64_t b) {
  const int64_t *sel = j->rg->sel;
  for (int l = 0; l < j->nslots; l++) {
    if (j->lead[l] != l) continue;
    const tl_column *x = j->x[l];
    int64_t lo = a, hi = b;
    if (sel) {
      if (!(x = gather(j, w, 2 * l, x, sel + a, b - a))) return 0;
      lo = 0;
      hi = b - a;
    }
    tl_colsum cs = { .want = j->want[l] };
    tl_agg_colsum(x, lo, hi, &cs);
    for (int s = l; s < j->nslots; s++)
      if (j->lead[s] == l) j->glob[s]->kind->take(rp->st[s], &cs);
  }
  return 1;
}

static void scan_range(void *ctx, int64_t r, int worker) {
  scanjob *j = ctx;
  const tl_rowgroups *rg = j->rg;
  if (atomic_load(&j->failed)) return;
  if (tl_interrupted()) { job_fail_locked(j, TL_EINTR); return; }
  wscratch *w = scratch(j, worker);
  rpart *rp = tl_calloc(1, sizeof *rp);
  if (!w || !rp) { tl_free(rp); job_fail_locked(j, TL_ENOMEM); return; }
  int64_t a = r * j->R, b = a + j->R < j->n ? a + j->R : j->n, m = b - a;
  const int32_t *ids = w->ids;
  if (rg->gid) {
    ids = rg->gid + a;
  } else if (rg->codes) {
    const int32_t *codes = rg->codes->values, *cmap = rg->cmap;
    const uint8_t *vb = rg->codes->validity;
    int32_t nullg = cmap[rg->codes->dict->length];
    for (int64_t i = a; i < b; i++) {
      int64_t row = rg->sel ? rg->sel[i] : i;
      w->ids[i - a] = vb && !TL_BIT_GET(vb, row) ? nullg : cmap[codes[row]];
    }
  }
  rp->nl = rg->ng;
  if (j->local) {   /* the range's groups, numbered in order of first appearance */
    int64_t nl = 0;
    for (int64_t i = 0; i < m; i++) {
      int32_t g = ids[i], l = w->slot[g];
      if (l < 0) { l = w->slot[g] = (int32_t)nl; w->list[nl++] = g; }
      w->lids[i] = l;
    }
    for (int64_t k = 0; k < nl; k++) w->slot[w->list[k]] = -1;
    rp->nl = nl;
    rp->map = tl_alloc(((size_t)nl + 1) * sizeof *rp->map);
    if (rp->map) memcpy(rp->map, w->list, (size_t)nl * sizeof *rp->map);
    ids = w->lids;
  }
  rp->st = tl_calloc((size_t)j->nslots + 1, sizeof *rp->st);
  int ok = rp->st && (!j->local || rp->map);
  for (int s = 0; s < j->nslots && ok; s++) {
    const agst *gs = j->glob[s];
    if (!gs) continue;
    int mode = gs->kind->range_mode ? gs->kind->range_mode(gs, rp->nl, j->hbudget) : gs->mode;
    ok = (rp->st[s] = tl_agg_state_new(gs, mode, rp->nl)) != NULL;
  }
  int fused = ok && rp->nl == 1;
  if (fused) ok = scan_fused(j, w, rp, a, b);
  for (int s = 0; s < j->nslots && ok; s++) {
    const agst *gs = j->glob[s];
    if (!gs || (fused && j->lead[s] >= 0)) continue;
    if (rg->sel) {   /* the selected rows' values, as rows [0, m) */
      const tl_column *x = j->x[s] ? gather(j, w, 2 * s, j->x[s], rg->sel + a, m) : NULL;
      if (gs->y) rp->st[s]->y = gather(j, w, 2 * s + 1, gs->y, rg->sel + a, m);
      ok = (!j->x[s] || x) && (!gs->y || rp->st[s]->y) && gs->kind->update(rp->st[s], x, 0, m, ids);
      rp->st[s]->y = gs->y;
    } else {
      ok = gs->kind->update(rp->st[s], j->x[s], a, b, ids);
    }
  }
  pthread_mutex_lock(&j->mu);
  if (!ok) {
    job_fail(j, TL_ENOMEM, NULL);
    rpart_free(rp, j->nslots);
  } else {
    j->done[r] = rp;
    drain(j);
  }
  pthread_mutex_unlock(&j->mu);
}

/* Which slots share a summary of their argument in the ranges of one
** group: those whose kinds take one, by argument column, each led by the
** first of them, when the summary fits the column and all they need. */
static void plan_fusion(scanjob *j) {
  for (int s = 0; s < j->nslots; s++) {
    const agst *gs = j->glob[s];
    j->lead[s] = -1;
    if (!gs || !gs->kind->take || !j->x[s] || gs->y) continue;
    int l = 0;
    while (l < s && (j->lead[l] != l || j->x[l] != j->x[s])) l++;
    j->lead[s] = l;
    j->want[l] |= gs->kind->fuse;
  }
  for (int l = 0; l < j->nslots; l++) {
    if (j->lead[l] != l || tl_agg_colsum_fits(j->x[l]->type, j->want[l])) continue;
    for (int s = l; s < j->nslots; s++) if (j->lead[s] == l) j->lead[s] = -1;
  }
}

/* Scans the rows for every slot whose kind scans (x[s] its argument, NULL
** for count()); the others are left alone. */
tl_status tl_agg_scan(agst **states, int nslots, const tl_rowgroups *rg, tl_column **x,
                      tl_error *err) {
  scanjob *j = tl_calloc(1, sizeof *j);
  if (!j) return tl_error_oom(err, "agg");
  j->rg = rg;
  j->n = rg->n;
  j->R = tl_group_range_rows();
  j->nranges = (j->n + j->R - 1) / j->R;
  j->local = rg->ng * 2 > j->R;
  j->nslots = nslots;
  j->x = x;
  j->hbudget = 2 * j->R > 4096 ? 2 * j->R : 4096;
  j->glob = tl_calloc((size_t)nslots + 1, sizeof *j->glob);
  tl_status st = j->glob ? TL_OK : tl_error_oom(err, "agg");
  j->lead = tl_alloc(((size_t)nslots + 1) * sizeof *j->lead);
  j->want = tl_calloc((size_t)nslots + 1, sizeof *j->want);
  if (st == TL_OK && (!j->lead || !j->want)) st = tl_error_oom(err, "agg");
  tl_agg_plan plan = { rg->ng, j->R, j->local };
  int nscanned = 0;
  for (int s = 0; s < nslots && st == TL_OK; s++) {
    if (!states[s]->kind->update) continue;
    j->glob[s] = states[s];
    nscanned++;
    if (x[s] && states[s]->kind->layout) st = states[s]->kind->layout(states[s], x[s], &plan, err);
    if (st == TL_OK && !tl_agg_state_grow(states[s], rg->ng)) st = tl_error_oom(err, "agg");
  }
  if (st == TL_OK) plan_fusion(j);
  if (st == TL_OK && j->nranges > 0 && nscanned > 0) {
    j->done = tl_calloc((size_t)j->nranges, sizeof *j->done);
    if (!j->done || pthread_mutex_init(&j->mu, NULL) != 0) {
      st = tl_error_oom(err, "agg");
    } else {
      tl_parallel_for(j->nranges, scan_range, j);
      pthread_mutex_destroy(&j->mu);
      if (atomic_load(&j->failed)) {
        st = j->st;
        if (err) *err = j->err;
      }
      for (int64_t r = 0; r < j->nranges; r++) rpart_free(j->done[r], j->nslots);
    }
  }
  for (int w = 0; w < MAX_WORKERS; w++) scratch_free(j->ws[w], nslots);
  tl_free(j->done);
  tl_free(j->glob);
  tl_free(j->lead);
  tl_free(j->want);
  tl_free(j);
  return st;
}
