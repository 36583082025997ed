/*
** hosts.c -- the host's aggregates and functions (tl_scope, Lua's
** tally.aggregate and tally.func) in a streaming run. A run forks those
** its streaming steps and its sink call once, for all its batches, and
** marks each worker thread with its worker (base/pool.h), so that the
** verbs run on a batch call them there and never fork them again. One
** that cannot fork keeps the whole run on the calling thread.
*/
#include <string.h>

#include "base/error.h"
#include "exec.h"
#include "expr/expr.h"

static void add_agg(tl_hosts *h, const tl_aggregate *a) {
  for (int k = 0; k < h->naggs; k++)
    if (h->aggs[k] == a) return;
  if (h->naggs == TL_MAX_HOSTS) h->many = 1;
  else h->aggs[h->naggs++] = a;
}

static void add_fn(tl_hosts *h, const tl_function *f) {
  for (int k = 0; k < h->nfns; k++)
    if (h->fns[k] == f) return;
  if (h->nfns == TL_MAX_HOSTS) h->many = 1;
  else h->fns[h->nfns++] = f;
}

/* The scope's aggregates and functions called `name`. */
static void add_named(tl_hosts *h, const tl_scope *sc, const char *name) {
  for (int k = 0; k < sc->naggs; k++)
    if (sc->aggs[k] && strcmp(sc->aggs[k]->name, name) == 0) add_agg(h, sc->aggs[k]);
  for (int k = 0; k < sc->nfuncs; k++)
    if (sc->funcs[k] && strcmp(sc->funcs[k]->name, name) == 0) add_fn(h, sc->funcs[k]);
}

static void add_calls(tl_hosts *h, const tl_scope *sc, const expr *e) {
  if ((e->kind == E_CALL || e->kind == E_AGG) && e->name) add_named(h, sc, e->name);
  for (int k = 0; k < e->nargs; k++) add_calls(h, sc, e->args[k]);
}

/* The calls of one expression of a step; text that does not parse (a key
** that is a column's name with spaces) calls nothing. */
static void add_source(tl_hosts *h, const tl_scope *sc, const char *src) {
  expr *e = NULL;
  tl_error err;
  char *name = NULL;
  if (tl_expr_parse(src, "scan", &name, &e, &err) == TL_OK) add_calls(h, sc, e);
  tl_free(name);
  tl_expr_free(e);
}

static void add_step(tl_hosts *h, const tl_scan *s) {
  const tl_scope *sc = &s->scope;
  if (!sc->naggs && !sc->nfuncs) return;
  for (int k = 0; k < s->na; k++) add_source(h, sc, s->a[k]);
  for (int k = 0; k < s->nb; k++) add_source(h, sc, s->b[k]);
}

tl_status tl_hosts_find(const tl_plan *p, tl_hosts *h, tl_error *err) {
  (void)err;
  memset(h, 0, sizeof *h);
  for (int k = 0; k < p->nstream; k++) add_step(h, p->stream[k]);
  if (p->sink && p->sink->kind != P_WINDOW) add_step(h, p->sink);   /* that one runs here */
  return TL_OK;
}

int tl_hosts_fork(tl_hosts *h, int nworkers) {
  int a = 0, f = 0, ok = !h->many && nworkers > 1;
  for (; ok && a < h->naggs; a++) {
    const tl_aggregate *x = h->aggs[a];
    ok = x->fork && x->begin_on && x->join && x->fork(x->ud, nworkers);
  }
  if (ok) a = h->naggs;
  else if (a > 0) a--;   /* the one that failed is not forked */
  for (; ok && f < h->nfns; f++) {
    const tl_function *x = h->fns[f];
    ok = x->fork && x->call_on && x->join && x->fork(x->ud, nworkers);
  }
  if (ok) return 1;
  if (f > 0) f--;
  while (f-- > 0) h->fns[f]->join(h->fns[f]->ud);
  while (a-- > 0) h->aggs[a]->join(h->aggs[a]->ud);
  return 0;
}

void tl_hosts_join(tl_hosts *h) {
  for (int k = 0; k < h->nfns; k++) h->fns[k]->join(h->fns[k]->ud);
  for (int k = 0; k < h->naggs; k++) h->aggs[k]->join(h->aggs[k]->ud);
}
