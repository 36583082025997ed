/*
** dist.c -- distributed tables: agreement between the ranks, moving
** tables and partial states, and the algorithms built on them (gather,
** aggregation, top/distinct/head, sample sort). The CSV reader is in
** dist_csv.c, the transports in transport_*.c.
**
** Every function is collective and returns the same status on every rank.
** A rank that fails locally does not return at once: it takes part in
** tl_dist_agree, which every rank calls at the same points, so that the
** ranks leave together with the failing rank's message.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"

void tl_dist_init(tl_dist *d, const tl_dist_transport *tr, const char *const *op_names,
                  int nops) {
  memset(d, 0, sizeof *d);
  d->tr = tr;
  d->rank = tr->rank;
  d->size = tr->size;
  d->op_names = op_names;
  d->nops = nops;
}

static tl_status fail(tl_error *err, tl_status st, const char *fmt, const char *op) {
  char msg[TL_ERROR_SIZE];
  snprintf(msg, sizeof msg, fmt, op);
  return tl_error_set(err, st, "%s", msg);
}

static tl_status oom(tl_error *err, const char *op) {
  return fail(err, TL_ENOMEM, "%s: out of memory", op);
}

/* ---------------------------------------------------------------------------
** Agreement
*/

/* Appends to the message what ranks r0..r1 called. */
static size_t say_called(tl_dist *d, size_t o, int r0, int r1, const int64_t *what) {
  size_t cap = sizeof d->diverged_msg - 8;   /* room for "..." */
  int64_t op = what[0];
  const char *name = op >= 0 && op < d->nops ? d->op_names[op] : "an unknown operation";
  int k = r0 == r1
              ? snprintf(d->diverged_msg + o, cap - o, "%srank %d called %s (#%lld)",
                         r0 ? ", " : "", r0, name, (long long)what[1])
              : snprintf(d->diverged_msg + o, cap - o, "%sranks %d-%d called %s (#%lld)",
                         r0 ? ", " : "", r0, r1, name, (long long)what[1]);
  if (k < 0 || (size_t)k >= cap - o) {
    memcpy(d->diverged_msg + o, "...", 4);
    return cap;
  }
  return o + (size_t)k;
}

static tl_status diverged(tl_dist *d, tl_error *err) {
  return tl_error_set(err, TL_EINVAL, "%s", d->diverged_msg);
}

tl_status tl_dist_begin(tl_dist *d, int op, tl_error *err) {
  if (d->diverged) return diverged(d, err);
  int64_t seq = ++d->ops_begun;
  int64_t v[4] = { op, -(int64_t)op, seq, -seq };
  d->tr->allreduce(d->tr->ud, v, 4, TL_DIST_MIN);
  if (v[0] == -v[1] && v[2] == -v[3]) return TL_OK;   /* min == max for both */
  int64_t pair[2] = { op, seq };
  int64_t *seen = malloc(2 * (size_t)d->size * sizeof *seen);
  if (!seen) {   /* the ranks disagree; the others' calls cannot be named */
    fprintf(stderr, "tally.mpi: out of memory naming a disagreement\n");
    abort();
  }
  d->tr->allgather(d->tr->ud, pair, sizeof pair, seen);
  size_t o = (size_t)snprintf(d->diverged_msg, sizeof d->diverged_msg,
                              "tally.mpi: ranks disagree: ");
  for (int r0 = 0, r1; r0 < d->size && o < sizeof d->diverged_msg - 8; r0 = r1 + 1) {
    for (r1 = r0; r1 + 1 < d->size && seen[2 * (r1 + 1)] == seen[2 * r0] &&
                  seen[2 * (r1 + 1) + 1] == seen[2 * r0 + 1]; r1++) {}
    o = say_called(d, o, r0, r1, seen + 2 * r0);
  }
  free(seen);
  d->diverged = 1;
  return diverged(d, err);
}

/* Every rank's message (NULL: it went well): -1 when every rank did well;
** else the lowest failing rank, its message (at most cap - 1 bytes) in out
** on every rank and its code in *code. */
static int agree_text(tl_dist *d, const char *msg, int64_t code, char *out, size_t cap,
                      int64_t *code_out) {
  int64_t first = msg ? d->rank : d->size;
  d->tr->allreduce(d->tr->ud, &first, 1, TL_DIST_MIN);
  if (first == d->size) return -1;
  int64_t hdr[2] = { 0, code };
  if (d->rank == first) hdr[0] = (int64_t)strnlen(msg, cap - 1);
  d->tr->bcast(d->tr->ud, (int)first, hdr, sizeof hdr);
  if (d->rank == first) memcpy(out, msg, (size_t)hdr[0]);
  d->tr->bcast(d->tr->ud, (int)first, out, (size_t)hdr[0]);
  out[hdr[0]] = '\0';
  *code_out = hdr[1];
  return (int)first;
}

tl_status tl_dist_agree(tl_dist *d, tl_status st, tl_error *err) {
  char msg[TL_ERROR_SIZE];
  const char *mine = NULL;
  if (st != TL_OK) mine = err->message[0] ? err->message : tl_status_string(st);
  int64_t code = st;
  int first = agree_text(d, mine, st, msg, sizeof msg, &code);
  if (first < 0) return TL_OK;
  int n = (int)(strlen(msg) < sizeof msg - 32 ? strlen(msg) : sizeof msg - 32);
  if (d->size > 1)   /* room kept for the rank */
    return tl_error_set(err, (tl_status)code, "%.*s (rank %d of %d)", n, msg, first, d->size);
  return tl_error_set(err, (tl_status)code, "%.*s", n, msg);
}

int64_t tl_dist_sum(tl_dist *d, int64_t n) {
  d->tr->allreduce(d->tr->ud, &n, 1, TL_DIST_SUM);
  return n;
}

/* ---------------------------------------------------------------------------
** Moving bytes
*/

void tl_dist_shares_free(tl_dist_shares *s) {
  if (!s) return;
  for (int r = 0; s->buf && r < s->n; r++) free(s->buf[r]);
  free(s->buf);
  free(s->at);
  free(s->len);
  free(s);
}

static tl_dist_shares *new_shares(int n, int rank) {
  tl_dist_shares *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->n = n;
  s->rank = rank;
  s->buf = calloc((size_t)n, sizeof *s->buf);
  s->at = calloc((size_t)n, sizeof *s->at);
  s->len = calloc((size_t)n, sizeof *s->len);
  if (s->buf && s->at && s->len) return s;
  tl_dist_shares_free(s);
  return NULL;
}

tl_status tl_dist_exchange(tl_dist *d, const void *mine, size_t len, tl_dist_shares **out,
                           tl_error *err) {
  *out = NULL;
  tl_dist_shares *s = new_shares(d->size, d->rank);
  uint64_t *lens = calloc((size_t)d->size, sizeof *lens);
  uint64_t l = len;
  tl_status st = s && lens ? TL_OK : oom(err, "tally.mpi");
  if (tl_dist_agree(d, st, err) != TL_OK) goto done;
  d->tr->allgather(d->tr->ud, &l, sizeof l, lens);
  for (int r = 0; r < d->size && st == TL_OK; r++) {
    s->len[r] = (size_t)lens[r];
    s->buf[r] = r == d->rank ? NULL : malloc(lens[r] ? (size_t)lens[r] : 1);
    s->at[r] = r == d->rank ? mine : s->buf[r];
    if (r != d->rank && !s->buf[r])
      st = fail(err, TL_ENOMEM, "%s: out of memory for the other ranks' data", "tally.mpi");
  }
  if (tl_dist_agree(d, st, err) != TL_OK) goto done;
  for (int r = 0; r < d->size; r++) {
    void *p = r == d->rank ? (void *)mine : s->buf[r];
    d->tr->bcast(d->tr->ud, r, p, s->len[r]);
    if (r == d->rank) d->bytes_sent += s->len[r];
    else d->bytes_received += s->len[r];
  }
  d->exchanges++;
  *out = s;
  s = NULL;
done:
  free(lens);
  tl_dist_shares_free(s);
  return *out ? TL_OK : err->code;
}

/* out[q] to rank q; *in gets what every rank sent here, in rank order. */
static tl_status all_to_all(tl_dist *d, const char *op, const char *const *out,
                            const size_t *outlen, tl_dist_shares **in, tl_error *err) {
  int n = d->size;
  *in = NULL;
  uint64_t *mat = malloc((size_t)n * (size_t)n * sizeof *mat);
  uint64_t *mine = malloc((size_t)n * sizeof *mine);
  tl_dist_shares *s = new_shares(n, d->rank);
  tl_status st = mat && mine && s ? TL_OK : oom(err, op);
  if (tl_dist_agree(d, st, err) != TL_OK) goto done;
  uint64_t sent = 0, got = 0, cap = d->tr->max_alltoall;
  for (int q = 0; q < n; q++) sent += (mine[q] = outlen[q]);
  d->tr->allgather(d->tr->ud, mine, (size_t)n * sizeof *mine, mat);
  for (int r = 0; r < n; r++) got += (s->len[r] = (size_t)mat[(size_t)r * (size_t)n + (size_t)d->rank]);
  if (cap && sent > cap) st = fail(err, TL_ELIMIT, "%s: more than 2 GB to send from one rank", op);
  else if (cap && got > cap) st = fail(err, TL_ELIMIT, "%s: more than 2 GB to receive on one rank", op);
  if (st == TL_OK && !(s->buf[0] = malloc((size_t)got + 1))) st = oom(err, op);
  if (tl_dist_agree(d, st, err) != TL_OK) goto done;
  size_t at = 0;
  for (int r = 0; r < n; r++) {   /* buf[0] owns the whole; the others point into it */
    s->at[r] = s->buf[0] + at;
    at += s->len[r];
  }
  d->tr->alltoallv(d->tr->ud, (const void *const *)out, outlen, (void *const *)s->at, s->len);
  d->bytes_sent += sent - outlen[d->rank];
  d->bytes_received += got - s->len[d->rank];
  d->exchanges++;
  *in = s;
  s = NULL;
done:
  free(mat);
  free(mine);
  tl_dist_shares_free(s);
  return *in ? TL_OK : err->code;
}

/* ---------------------------------------------------------------------------
** Tables across ranks
*/

static void release_all(tl_table **ts, int n) {
  for (int k = 0; ts && k < n; k++) tl_table_release(ts[k]);
  free(ts);
}

/* Decodes every rank's bytes into a table (agreed). */
static tl_status decode_all(tl_dist *d, const tl_dist_shares *s, const char *op,
                            tl_table ***out, tl_error *err) {
  tl_table **ts = calloc((size_t)d->size, sizeof *ts);
  tl_status st = ts ? TL_OK : oom(err, op);
  for (int r = 0; r < d->size && st == TL_OK; r++) {
    char name[32];
    snprintf(name, sizeof name, "rank %d", r);
    st = tl_table_decode(s->at[r], s->len[r], name, &ts[r], err);
  }
  st = tl_dist_agree(d, st, err);
  if (st != TL_OK) release_all(ts, d->size), ts = NULL;
  *out = ts;
  return st;
}

/* Every rank's t, in rank order, on every rank (size tables). */
static tl_status all_tables(tl_dist *d, const tl_table *t, const char *op, tl_table ***out,
                            tl_error *err) {
  void *buf = NULL;
  size_t len = 0;
  tl_dist_shares *s = NULL;
  *out = NULL;
  tl_status st = tl_dist_agree(d, tl_table_encode(t, &buf, &len, err), err);
  if (st == TL_OK) st = tl_dist_exchange(d, buf, len, &s, err);
  if (st == TL_OK) st = decode_all(d, s, op, out, err);
  tl_dist_shares_free(s);
  tl_free(buf);
  return st;
}

tl_status tl_dist_gather(tl_dist *d, const tl_table *t, tl_table **out, tl_error *err) {
  tl_table **ts;
  *out = NULL;
  tl_status st = all_tables(d, t, "gather", &ts, err);
  if (st != TL_OK) return st;
  st = tl_table_concat(d->size, (const tl_table *const *)ts, out, err);
  release_all(ts, d->size);
  return tl_dist_agree(d, st, err);
}

tl_status tl_dist_distribute(tl_dist *d, const tl_table *t, tl_table **out, tl_error *err) {
  int64_t n = tl_table_nrows(t), size = d->size, rank = d->rank;
  int64_t from = n / size * rank + (rank < n % size ? rank : n % size);
  tl_status st = tl_table_slice(t, from, n / size + (rank < n % size), out, err);
  return tl_dist_agree(d, st, err);
}

/* ---------------------------------------------------------------------------
** Aggregation: partial states, exchanged and merged in rank order.
*/

tl_status tl_dist_merge(tl_dist *d, const tl_partial *p, const tl_scope *scope, tl_table **out,
                        tl_error *err) {
  void *buf = NULL;
  size_t len = 0;
  tl_dist_shares *s = NULL;
  tl_partial *acc = NULL, *q = NULL;
  *out = NULL;
  tl_status st = tl_dist_agree(d, tl_partial_encode(p, &buf, &len, err), err);
  if (st == TL_OK) st = tl_dist_exchange(d, buf, len, &s, err);
  if (st != TL_OK) return tl_free(buf), st;
  st = tl_partial_decode(s->at[0], s->len[0], scope, &acc, err);
  for (int r = 1; r < d->size && st == TL_OK; r++) {
    st = tl_partial_decode(s->at[r], s->len[r], scope, &q, err);
    if (st == TL_OK) st = tl_partial_merge(acc, q, err);
    tl_partial_free(q);
    q = NULL;
  }
  if (st == TL_OK) st = tl_partial_finish(acc, out, err);
  tl_partial_free(acc);
  tl_dist_shares_free(s);
  tl_free(buf);   /* this rank's share borrowed it */
  return tl_dist_agree(d, st, err);
}

tl_status tl_dist_agg(tl_dist *d, const tl_table *t, int n, const char *const *defs,
                      const tl_scope *scope, tl_table **out, tl_error *err) {
  tl_partial *p = NULL;
  *out = NULL;
  tl_status st = tl_dist_agree(d, tl_table_partial(t, n, defs, scope, &p, err), err);
  if (st == TL_OK) st = tl_dist_merge(d, p, scope, out, err);
  tl_partial_free(p);
  return st;
}

tl_status tl_dist_grouped_agg(tl_dist *d, const tl_grouping *g, int n, const char *const *defs,
                              const tl_scope *scope, tl_table **out, tl_error *err) {
  tl_partial *p = NULL;
  *out = NULL;
  tl_status st = tl_dist_agree(d, tl_grouping_partial(g, n, defs, scope, &p, err), err);
  if (st == TL_OK) st = tl_dist_merge(d, p, scope, out, err);
  tl_partial_free(p);
  return st;
}

/* ---------------------------------------------------------------------------
** Gather and recompute
*/

enum { TOP, DISTINCT, HEAD };

typedef struct recompute {
  int what;
  int64_t n;
  int nk;
  const char *const *keys;
} recompute;

static tl_status once(const recompute *rc, const tl_table *t, tl_table **out, tl_error *err) {
  switch (rc->what) {
  case TOP: return tl_table_top(t, rc->n, rc->nk, rc->keys, out, err);
  case DISTINCT: return tl_table_distinct(t, rc->nk, rc->keys, out, err);
  default: {
    int64_t n = rc->n < tl_table_nrows(t) ? rc->n : tl_table_nrows(t);
    return tl_table_slice(t, 0, n, out, err);
  }
  }
}

static tl_status twice(tl_dist *d, const recompute *rc, const tl_table *t, tl_table **out,
                       tl_error *err) {
  tl_table *mine = NULL, *all = NULL;
  *out = NULL;
  tl_status st = tl_dist_agree(d, once(rc, t, &mine, err), err);
  if (st == TL_OK) st = tl_dist_gather(d, mine, &all, err);
  if (st == TL_OK) st = tl_dist_agree(d, once(rc, all, out, err), err);
  tl_table_release(mine);
  tl_table_release(all);
  return st;
}

tl_status tl_dist_top(tl_dist *d, const tl_table *t, int64_t n, int nkeys,
                      const char *const *keys, tl_table **out, tl_error *err) {
  recompute rc = { TOP, n, nkeys, keys };
  return twice(d, &rc, t, out, err);
}

tl_status tl_dist_distinct(tl_dist *d, const tl_table *t, int ncols, const char *const *cols,
                           tl_table **out, tl_error *err) {
  recompute rc = { DISTINCT, 0, ncols, cols };
  return twice(d, &rc, t, out, err);
}

tl_status tl_dist_head(tl_dist *d, const tl_table *t, int64_t n, tl_table **out, tl_error *err) {
  recompute rc = { HEAD, n < 0 ? 0 : n, 0, NULL };
  return twice(d, &rc, t, out, err);
}

/* ---------------------------------------------------------------------------
** Sample sort
*/

#define SAMPLES 64   /* rows each rank offers as samples of its sorted share */

/* The splitters: size - 1 rows of the key columns, chosen from every rank's
** evenly spaced samples of its sorted share ls (agreed). */
static tl_status splitters(tl_dist *d, const tl_table *ls, int nk, const char *const *keys,
                           tl_table **out, tl_error *err) {
  const char **names = malloc((size_t)nk * sizeof *names);
  int64_t *at = malloc((size_t)(d->size + SAMPLES) * sizeof *at);
  tl_table *kt = NULL, *samples = NULL, *pooled = NULL, *pool = NULL, **ts = NULL;
  tl_status st = names && at ? TL_OK : oom(err, "sort");
  *out = NULL;
  for (int j = 0; st == TL_OK && j < nk; j++)   /* "-x": descending x, unless a column is so named */
    names[j] = keys[j][0] == '-' && tl_table_find(ls, keys[j]) < 0 ? keys[j] + 1 : keys[j];
  int64_t n = tl_table_nrows(ls), m = n < SAMPLES ? n : SAMPLES;
  for (int64_t i = 0; st == TL_OK && i < m; i++) at[i] = (2 * i + 1) * n / (2 * m);
  if (st == TL_OK) st = tl_table_select(ls, nk, names, &kt, err);
  if (st == TL_OK) st = tl_table_take(kt, at, m, &samples, err);
  st = tl_dist_agree(d, st, err);
  if (st == TL_OK) st = all_tables(d, samples, "sort", &ts, err);
  if (st == TL_OK) {
    st = tl_table_concat(d->size, (const tl_table *const *)ts, &pooled, err);
    if (st == TL_OK) st = tl_table_sort(pooled, nk, keys, &pool, err);
    int64_t np = st == TL_OK ? tl_table_nrows(pool) : 0, nspl = np ? d->size - 1 : 0;
    for (int64_t q = 0; q < nspl; q++) at[q] = (q + 1) * np / d->size;
    if (st == TL_OK) st = tl_table_take(pool, at, nspl, out, err);
    st = tl_dist_agree(d, st, err);
  }
  release_all(ts, ts ? d->size : 0);
  tl_table_release(kt);
  tl_table_release(samples);
  tl_table_release(pooled);
  tl_table_release(pool);
  free(names);
  free(at);
  return st;
}

/* The slices of the sorted share ls cut at the splitters, encoded: buf[q]
** goes to rank q. */
static tl_status cut_slices(tl_dist *d, const tl_table *ls, const tl_table *spl, int nk,
                            const char *const *keys, char **buf, size_t *len, tl_error *err) {
  int64_t *cut = malloc((size_t)(d->size + 1) * sizeof *cut);
  tl_status st = cut ? TL_OK : oom(err, "sort");
  if (st == TL_OK) {
    cut[0] = 0;
    for (int q = 1; q <= d->size; q++) cut[q] = tl_table_nrows(ls);
    if (tl_table_nrows(spl) > 0) st = tl_table_sorted_counts(ls, spl, nk, keys, cut + 1, err);
  }
  for (int q = 0; q < d->size && st == TL_OK; q++) {
    tl_table *slice = NULL;
    void *b = NULL;
    st = tl_table_slice(ls, cut[q], cut[q + 1] - cut[q], &slice, err);
    if (st == TL_OK) st = tl_table_encode(slice, &b, &len[q], err);
    tl_table_release(slice);
    buf[q] = b;
  }
  free(cut);
  return tl_dist_agree(d, st, err);
}

tl_status tl_dist_sort(tl_dist *d, const tl_table *t, int nkeys, const char *const *keys,
                       tl_table **out, tl_error *err) {
  tl_table *ls = NULL, *spl = NULL, **got = NULL, *mine = NULL;
  char **buf = calloc((size_t)d->size, sizeof *buf);
  size_t *len = calloc((size_t)d->size, sizeof *len);
  tl_dist_shares *in = NULL;
  *out = NULL;
  tl_status st = buf && len ? tl_table_sort(t, nkeys, keys, &ls, err) : oom(err, "sort");
  st = tl_dist_agree(d, st, err);
  if (st == TL_OK) st = splitters(d, ls, nkeys, keys, &spl, err);
  if (st == TL_OK) st = cut_slices(d, ls, spl, nkeys, keys, buf, len, err);
  if (st == TL_OK) st = all_to_all(d, "sort", (const char *const *)buf, len, &in, err);
  if (st == TL_OK) st = decode_all(d, in, "sort", &got, err);
  if (st == TL_OK) {   /* what came in, in rank order, sorted (stable: ties keep rank order) */
    st = tl_table_concat(d->size, (const tl_table *const *)got, &mine, err);
    if (st == TL_OK) st = tl_table_sort(mine, nkeys, keys, out, err);
    st = tl_dist_agree(d, st, err);
  }
  for (int q = 0; buf && q < d->size; q++) tl_free(buf[q]);
  free(buf);
  free(len);
  tl_dist_shares_free(in);
  release_all(got, got ? d->size : 0);
  tl_table_release(ls);
  tl_table_release(spl);
  tl_table_release(mine);
  if (st != TL_OK) tl_table_release(*out), *out = NULL;
  return st;
}
