/*
** spill_agg.c -- a scan's grouping under a memory limit. See spill_agg.h.
**
** Each batch gets a hidden column, the row's place in the input (morsel <<
** 32 | row), and every definition list a hidden `min` of it: the group's
** first appearance, which survives merging and spilling as any state does.
** The partitions' results are put in that order at the end, which is the
** order of the in-memory group_by. A partition's files hold its states in
** batch order (each spill covers the batches since the one before), so
** merging them in file order, then the states still in memory, folds every
** group's rows in input order, as first(), last() and string_agg need.
*/
#include <pthread.h>
#include <string.h>
#include <xxhash.h>

#include "base/alloc.h"
#include "base/column.h"
#include "agg/partial.h"
#include "base/error.h"
#include "base/pool.h"
#include "ops/keys.h"
#include "spill.h"
#include "spill_agg.h"

struct tl_xagg {
  const char *op;           /* group_by or distinct */
  int nkeys;
  const char *const *keys;
  const char **names;       /* distinct of every column: the schema's names */
  int ndefs;
  const char **defs;        /* the sink's, then the hidden one */
  const tl_scope *scope;    /* the sink's: the host's aggregates */
  char *ord, *orddef;       /* the hidden column and its definition */
  /* per partition, the states of the batches since the last spill (NULL:
  ** none), each batch's merged in turn: a merge costs the groups the batch
  ** brings, the partial keeping its index of the groups so far (merge.c) */
  tl_partial *acc[TL_XAGG_PARTS];
  tl_spill *file[TL_XAGG_PARTS];
  tl_spiller by;
  int nparts;               /* partitions in use, of TL_XAGG_PARTS */
  int64_t threshold, floor, step, sort_threshold;
  /* Spilling comes in waves: past the threshold, the partitions chosen
  ** (tl_xagg_lane) write their states the next time a batch's part of
  ** them is merged (lane_wave[p] behind wave), `pending` of them still to;
  ** under mu. */
  pthread_mutex_t mu;
  int64_t wave, lane_wave[TL_XAGG_PARTS];
  int64_t groups[TL_XAGG_PARTS];   /* in each partition's states in memory */
  int pending;
};

/* A column name neither a nor b uses. */
char *tl_fresh_name(const tl_table *a, const tl_table *b, const char *stem) {
  size_t n = strlen(stem);
  char *s = tl_alloc(n + 64);
  if (!s) return NULL;
  memcpy(s, stem, n + 1);
  for (int k = 0; tl_table_find(a, s) >= 0 || tl_table_find(b, s) >= 0; k++)
    snprintf(s + n, 64, "_%d", k);
  return s;
}

tl_status tl_xagg_new(const tl_scan *sink, const tl_table *schema, int64_t threshold,
                      int64_t sort_threshold, tl_xagg **out, tl_error *err) {
  tl_xagg *a = tl_calloc(1, sizeof *a);
  int distinct = sink->kind == P_DISTINCT;
  *out = NULL;
  if (!a) return tl_error_oom(err, distinct ? "distinct" : "group_by");
  a->op = distinct ? "distinct" : "group_by";
  a->nkeys = sink->na;
  a->keys = (const char *const *)sink->a;
  if (distinct && sink->na == 0) {   /* every column */
    a->nkeys = tl_table_ncols(schema);
    a->names = tl_calloc((size_t)a->nkeys + 1, sizeof *a->names);
    for (int j = 0; a->names && j < a->nkeys; j++) a->names[j] = tl_table_name(schema, j);
    a->keys = a->names;
  }
  a->ndefs = (distinct ? 0 : sink->nb) + 1;
  a->scope = &sink->scope;
  a->by.op = a->op;
  a->threshold = threshold;
  a->sort_threshold = sort_threshold;
  pthread_mutex_init(&a->mu, NULL);
  /* a batch in flight holds a partial per partition: many only with room */
  a->nparts = threshold - (int64_t)tl_env_memory(NULL) >= ((int64_t)128 << 20) ? TL_XAGG_PARTS : 8;
  a->step = (threshold - (int64_t)tl_env_memory(NULL)) / 4;
  a->defs = tl_calloc((size_t)a->ndefs, sizeof *a->defs);
  a->ord = tl_fresh_name(sink->schema, schema, "_tally_first_row");
  size_t n = a->ord ? 2 * strlen(a->ord) + 16 : 0;
  a->orddef = a->ord ? tl_alloc(n) : NULL;
  if (!a->defs || !a->orddef || !a->keys) { tl_xagg_free(a); return tl_error_oom(err, a->op); }
  snprintf(a->orddef, n, "%s = min(%s)", a->ord, a->ord);
  for (int k = 0; k < a->ndefs - 1; k++) a->defs[k] = sink->b[k];
  a->defs[a->ndefs - 1] = a->orddef;
  *out = a;
  return TL_OK;
}

void tl_xagg_free(tl_xagg *a) {
  if (!a) return;
  for (int p = 0; p < TL_XAGG_PARTS; p++) {
    tl_partial_free(a->acc[p]);
    tl_spill_close(a->file[p]);
  }
  tl_free(a->defs);
  tl_free(a->names);
  tl_free(a->ord);
  tl_free(a->orddef);
  pthread_mutex_destroy(&a->mu);
  tl_free(a);
}

int tl_xagg_nparts(const tl_xagg *a) { return a->nparts; }

void tl_xagg_spilled(const tl_xagg *a, int *files, int64_t *bytes) {
  *files = atomic_load(&a->by.files);
  *bytes = atomic_load(&a->by.written);
}

/* The partition hash: each key column's values (by content, equal keys
** alike: -0.0 as 0.0, every NaN alike, a dictionary's string by its text,
** as a plain string's) folded into h[] one column at a time. Only the
** partition matters, so collisions cost nothing but balance; the function
** is the same for every batch, so a key lands in the same partition across
** batches, files and threads. */
static inline uint64_t part_mix(uint64_t h, uint64_t v) {
  uint64_t x = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6));
  x ^= x >> 32; x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32; x *= 0xd6e8feb86659fd93ULL;
  return x ^ (x >> 32);
}

#define PART_NULL 0x6e756c6c6e756c6cULL
#define VALID(c, i) (!(c)->validity || TL_BIT_GET((c)->validity, (i)))

static uint64_t text_hash(const tl_column *c, int64_t i) {
  size_t n;
  const char *s = tl_column_string_at(c, i, &n);
  return XXH3_64bits(s, n);
}

/* A dictionary column's hashes: each entry's text hashed once (when the
** dictionary is no larger than the batch), the rows mapped by code. */
static tl_status dict_hash(const tl_column *c, uint64_t *h, int64_t n, const char *op,
                           tl_error *err) {
  const int32_t *code = c->values;
  int64_t nd = c->dict->length;
  if (nd > n) {
    for (int64_t i = 0; i < n; i++)
      h[i] = part_mix(h[i], VALID(c, i) ? text_hash(c->dict, code[i]) : PART_NULL);
    return TL_OK;
  }
  uint64_t *dh = tl_alloc((size_t)(nd ? nd : 1) * sizeof *dh);
  if (!dh) return tl_error_oom(err, op);
  for (int64_t d = 0; d < nd; d++) dh[d] = text_hash(c->dict, d);
  for (int64_t i = 0; i < n; i++) h[i] = part_mix(h[i], VALID(c, i) ? dh[code[i]] : PART_NULL);
  tl_free(dh);
  return TL_OK;
}

static tl_status column_hash(const tl_column *c, uint64_t *h, int64_t n, const char *op,
                             tl_error *err) {
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP: {
      const int64_t *v = c->values;
      for (int64_t i = 0; i < n; i++) h[i] = part_mix(h[i], VALID(c, i) ? (uint64_t)v[i] : PART_NULL);
      break;
    }
    case TL_FLOAT: {
      const double *v = c->values;
      for (int64_t i = 0; i < n; i++)
        h[i] = part_mix(h[i], VALID(c, i) ? tl_float_key(v[i]) : PART_NULL);
      break;
    }
    case TL_DATE: {
      const int32_t *v = c->values;
      for (int64_t i = 0; i < n; i++)
        h[i] = part_mix(h[i], VALID(c, i) ? (uint64_t)(uint32_t)v[i] : PART_NULL);
      break;
    }
    case TL_BOOL: {
      const uint8_t *v = c->values;
      for (int64_t i = 0; i < n; i++) h[i] = part_mix(h[i], VALID(c, i) ? TL_BIT_GET(v, i) : PART_NULL);
      break;
    }
    default:
      if (c->dict) return dict_hash(c, h, n, op, err);
      for (int64_t i = 0; i < n; i++) h[i] = part_mix(h[i], VALID(c, i) ? text_hash(c, i) : PART_NULL);
  }
  return TL_OK;
}

/* The partition of each row of k's table by its resolved keys. */
static tl_status partition_rows(const tl_xagg *a, const tl_keys *k, uint8_t *pid, tl_error *err) {
  int64_t n = tl_table_nrows(k->t);
  uint64_t *h = tl_alloc((size_t)(n ? n : 1) * sizeof *h);
  if (!h) return tl_error_oom(err, a->op);
  tl_status st = TL_OK;
  for (int64_t i = 0; i < n; i++) h[i] = 0x2545f4914f6cdd1dULL;
  for (int j = 0; st == TL_OK && j < k->n; j++) {
    if (tl_interrupted()) st = tl_error_interrupted(err, a->op);
    else st = column_hash(tl_table_column(k->t, tl_table_find(k->t, k->keys[j])), h, n, a->op, err);
  }
  for (int64_t i = 0; st == TL_OK && i < n; i++) pid[i] = (uint8_t)((h[i] >> 32) % (uint64_t)a->nparts);
  tl_free(h);
  return st;
}

/* t with the hidden column of each row's place in the input. */
static tl_status with_place(const tl_xagg *a, const tl_table *t, int64_t morsel, tl_table **out,
                            tl_error *err) {
  int64_t n = tl_table_nrows(t);
  tl_column *c = NULL;
  TL_TRY(tl_column_alloc(TL_INT, n, 0, 0, &c, err));
  int64_t *v = c->values;
  for (int64_t i = 0; i < n; i++) v[i] = (morsel << 32) | i;
  tl_column_seal(c);
  tl_status st = tl_table_set_column(t, a->ord, c, out, err);
  tl_column_release(c);
  return st;
}

/* The partial states of rows[0 .. n) of k's table (all of them when rows
** is NULL), grouped in place through the selection, not copied out. */
static tl_status part_states(const tl_xagg *a, const tl_keys *k, const int64_t *rows,
                             int64_t n, tl_partial **out, tl_error *err) {
  tl_grouping *g = NULL;
  TL_TRY(tl_group_by_rows(k->t, rows, n, k->n, k->keys, &g, err));
  tl_status st = tl_grouping_partial(g, a->ndefs, a->defs, a->scope, out, err);
  if (st == TL_OK) tl_partial_trim(*out);
  tl_grouping_free(g);
  return st;
}

/* After partition p's states failed: the error the whole batch gives, as
** the in-memory grouping would report it (its first bad row, counted in the
** batch, not in the partition); st when the batch gives none. */
static tl_status batch_error(const tl_xagg *a, const tl_table *t, tl_status st, tl_error *err) {
  if (st == TL_ENOMEM || st == TL_EINTR) return st;
  tl_grouping *g = NULL;
  tl_partial *p = NULL;
  tl_error e2;
  tl_status again = tl_table_group_by(t, a->nkeys, a->keys, &g, &e2);
  if (again == TL_OK) again = tl_grouping_partial(g, a->ndefs - 1, a->defs, a->scope, &p, &e2);
  tl_grouping_free(g);
  tl_partial_free(p);
  if (again == TL_OK || again == TL_ENOMEM || again == TL_EINTR) return st;
  *err = e2;
  return again;
}

tl_status tl_xagg_part(const tl_xagg *a, const tl_table *t, int64_t morsel,
                       tl_partial *parts[TL_XAGG_PARTS], tl_error *err) {
  for (int p = 0; p < TL_XAGG_PARTS; p++) parts[p] = NULL;
  int64_t n = tl_table_nrows(t);
  if (n == 0) return TL_OK;
  tl_table *u = NULL;
  tl_keys k;
  TL_TRY(with_place(a, t, morsel, &u, err));
  tl_status st = tl_keys_resolve(u, a->nkeys, a->keys, 0, a->op, &k, err);
  tl_table_release(u);
  if (st != TL_OK) return batch_error(a, t, st, err);
  uint8_t *pid = tl_alloc((size_t)n);
  int64_t *rows = tl_alloc((size_t)n * sizeof *rows);
  int64_t start[TL_XAGG_PARTS + 1] = {0};
  st = pid && rows ? TL_OK : tl_error_oom(err, a->op);
  if (st == TL_OK) st = partition_rows(a, &k, pid, err);
  if (st == TL_OK) {   /* the rows of each partition, in order */
    int64_t at[TL_XAGG_PARTS];
    for (int64_t i = 0; i < n; i++) start[pid[i] + 1]++;
    for (int p = 0; p < TL_XAGG_PARTS; p++) start[p + 1] += start[p], at[p] = start[p];
    for (int64_t i = 0; i < n; i++) rows[at[pid[i]]++] = i;
  }
  for (int p = 0; p < TL_XAGG_PARTS && st == TL_OK; p++) {
    int64_t m = start[p + 1] - start[p];
    if (m > 0) st = part_states(a, &k, m == n ? NULL : rows + start[p], m, &parts[p], err);
  }
  tl_free(pid);
  tl_free(rows);
  tl_keys_free(&k);
  if (st != TL_OK) st = batch_error(a, t, st, err);
  if (st != TL_OK)
    for (int p = 0; p < TL_XAGG_PARTS; p++) tl_partial_free(parts[p]), parts[p] = NULL;
  return st;
}

static tl_status put_piece(void *ud, const void *p, size_t n, tl_error *err) {
  return tl_spill_write(ud, p, n, err);
}

/* Writes partition p's states in memory to its file and frees them. */
static tl_status spill_lane(tl_xagg *a, int p, tl_error *err) {
  tl_partial *m = a->acc[p];
  if (!m) return TL_OK;
  if (tl_interrupted()) return tl_error_interrupted(err, a->op);
  tl_status st = a->file[p] ? TL_OK : tl_spill_open(&a->by, &a->file[p], err);
  if (st == TL_OK) st = tl_spill_begin(a->file[p], err);
  if (st == TL_OK) st = tl_partial_write(m, put_piece, a->file[p], err);
  if (st == TL_OK) st = tl_spill_end(a->file[p], err);
  if (st != TL_OK) return st;
  /* The memory the states held is not handed back to the system (no
  ** tl_alloc_trim): the states made next take it again, where memory handed
  ** back would be faulted in page by page once more. */
  tl_partial_free(m);
  a->acc[p] = NULL;
  return TL_OK;
}

tl_status tl_xagg_lane(tl_xagg *a, int p, tl_partial *part, tl_error *err) {
  tl_status st = TL_OK;
  if (part && !a->acc[p]) a->acc[p] = part;
  else if (part) st = tl_partial_merge(a->acc[p], part, err), tl_partial_free(part);
  if (st != TL_OK || !a->threshold) return st;
  pthread_mutex_lock(&a->mu);
  int64_t used = (int64_t)tl_env_memory(NULL);
  /* past the threshold, and the states grew since the last wave (what else
  ** is live, the batches in flight, is not the states' to free) */
  a->groups[p] = a->acc[p] ? tl_partial_groups(a->acc[p]) : 0;
  if (a->pending == 0 && used > a->threshold && used > a->floor + a->step) {
    /* the last partitions, down to those that hold half the groups in
    ** memory, spill; the first ones keep theirs while they fit, so their
    ** groups' later rows merge in memory rather than spill again. Groups
    ** are not bytes (a string_agg's grow with its rows): when the last wave
    ** left most of the room taken, every partition spills. */
    int64_t all = 0, some = 0;
    for (int q = 0; q < a->nparts; q++) all += a->groups[q];
    int cut = a->nparts;
    while (cut > 0 && 2 * some < all) some += a->groups[--cut];
    if (a->floor > a->threshold - a->step) cut = 0;
    a->wave++;
    a->pending = a->nparts - cut;
    for (int q = 0; q < cut; q++) a->lane_wave[q] = a->wave;
  }
  int spill = a->lane_wave[p] != a->wave;
  a->lane_wave[p] = a->wave;
  pthread_mutex_unlock(&a->mu);
  if (!spill) return TL_OK;
  st = spill_lane(a, p, err);
  pthread_mutex_lock(&a->mu);
  a->groups[p] = 0;
  if (--a->pending == 0) a->floor = (int64_t)tl_env_memory(NULL);
  pthread_mutex_unlock(&a->mu);
  return st;
}

/* Partition p's states: its files in order, then those in memory. */
static tl_status merge_partition(tl_xagg *a, int p, tl_partial **out, tl_error *err) {
  tl_partial *m = NULL;
  tl_status st = TL_OK;
  while (a->file[p] && st == TL_OK) {
    void *buf = NULL;
    size_t len = 0;
    tl_partial *d = NULL;
    if (tl_interrupted()) { st = tl_error_interrupted(err, a->op); break; }
    st = tl_spill_get(a->file[p], &buf, &len, err);
    if (st != TL_OK || !buf) break;
    st = tl_partial_decode_taken(buf, len, a->scope, &d, err);
    if (st == TL_OK && !m) m = d, d = NULL;
    else if (st == TL_OK) st = tl_partial_merge(m, d, err);
    tl_partial_free(d);
  }
  tl_spill_close(a->file[p]);
  a->file[p] = NULL;
  tl_partial *mem = a->acc[p];
  a->acc[p] = NULL;
  if (st == TL_OK && mem) {
    if (!m) m = mem, mem = NULL;
    else st = tl_partial_merge(m, mem, err);
  }
  tl_partial_free(mem);
  if (st != TL_OK) { tl_partial_free(m); return st; }
  *out = m;
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** The end: each partition's result (with the hidden column) goes, as it is
** made, into an external sort by the order wanted (the keys of a sort that
** follows, then the first appearance), or into the top rows so far of a
** top that follows; so the whole result is never held unless the caller
** keeps it.
*/
typedef struct ending {
  tl_xagg *a;
  const tl_scan *then;
  int nkeys;
  const char **keys;       /* then's, then the hidden column */
  tl_xsort *xs;
  tl_table *top;
  tl_xsort_emit emit;
  void *ctx;
} ending;

/* t without the hidden column, to the receiver. */
static tl_status emit_visible(void *ctx, tl_table *t, tl_error *err) {
  ending *e = ctx;
  tl_table *u = NULL;
  const char *drop = e->a->ord;
  tl_status st = tl_table_drop(t, 1, &drop, &u, err);
  tl_table_release(t);
  return st == TL_OK ? e->emit(e->ctx, u, err) : st;
}

/* A partition's result (taken) into the ending. */
static tl_status end_part(ending *e, tl_table *u, tl_error *err) {
  tl_status st = TL_OK;
  if (e->then && e->then->kind == P_TOP) {
    tl_table *all = u, *t = NULL;
    if (e->top) {
      const tl_table *two[2] = { e->top, u };
      st = tl_table_concat(2, two, &all, err);
      tl_table_release(u);
    }
    if (st == TL_OK) st = tl_table_top(all, e->then->count, e->nkeys, e->keys, &t, err);
    tl_table_release(all);
    tl_table_release(e->top);
    e->top = t;
    return st;
  }
  if (!e->xs) {
    tl_table *none = NULL;
    st = tl_table_slice(u, 0, 0, &none, err);
    if (st == TL_OK)
      st = tl_xsort_new(e->nkeys, e->keys, e->then ? "sort" : e->a->op, none,
                        e->a->sort_threshold, &e->xs, err);
    if (st == TL_OK) tl_xsort_unique(e->xs);   /* the first appearance is a group's own */
    tl_table_release(none);
  }
  if (st != TL_OK) { tl_table_release(u); return st; }
  return tl_xsort_add(e->xs, u, err);
}

/* The partitions, merged and finished on the workers (one at a time
** when the host's aggregates are among the definitions: they run on the
** calling thread), each result into the ending in turn. */
typedef struct finishing {
  ending *e;
  pthread_mutex_t mu;
  int next, any;
  tl_status st;
  tl_error err;
} finishing;

/* Threads for the end: as many as there is room for partitions merged at
** once (a partition's files, about what it holds at the end, three times
** over: its states, its result, and what the sort of the results takes). */
static int finish_threads(const tl_xagg *a) {
  if (a->scope && (a->scope->naggs > 0 || a->scope->nfuncs > 0)) return 1;
  int64_t room = (int64_t)tl_env_memory_limit(NULL) - (int64_t)tl_env_memory(NULL);
  int64_t per = atomic_load(&a->by.written) / a->nparts + ((int64_t)1 << 20);
  int64_t n = room / (3 * per);
  int threads = tl_get_threads();
  return n < 1 ? 1 : n < threads ? (int)n : threads;
}

static void finish_parts(void *ctx, int64_t task, int w) {
  (void)task; (void)w;
  finishing *f = ctx;
  tl_xagg *a = f->e->a;
  pthread_mutex_lock(&f->mu);
  while (f->st == TL_OK && f->next < TL_XAGG_PARTS) {
    int p = f->next++;
    pthread_mutex_unlock(&f->mu);
    tl_partial *m = NULL;
    tl_table *u = NULL;
    tl_error err;
    tl_status st = merge_partition(a, p, &m, &err);
    if (st == TL_OK && m) st = tl_partial_finish_ex(m, 1, &u, &err);
    tl_partial_free(m);
    pthread_mutex_lock(&f->mu);
    if (st == TL_OK && u && f->st == TL_OK) f->any = 1, st = end_part(f->e, u, &err);
    else tl_table_release(u);
    if (st != TL_OK && f->st == TL_OK) f->st = st, f->err = err;
  }
  pthread_mutex_unlock(&f->mu);
}

tl_status tl_xagg_finish(tl_xagg *a, const tl_scan *then, tl_xsort_emit emit, void *ctx,
                         int *any, tl_error *err) {
  ending e = { a, then, (then ? then->na : 0) + 1, NULL, NULL, NULL, emit, ctx };
  *any = 0;
  e.keys = tl_calloc((size_t)e.nkeys, sizeof *e.keys);
  if (!e.keys) return tl_error_oom(err, a->op);
  for (int k = 0; k < e.nkeys - 1; k++) e.keys[k] = then->a[k];
  e.keys[e.nkeys - 1] = a->ord;
  finishing f = { &e, PTHREAD_MUTEX_INITIALIZER, 0, 0, TL_OK, { 0 } };
  int threads = finish_threads(a);
  if (threads == 1) finish_parts(&f, 0, 0);
  else tl_parallel_for(threads, finish_parts, &f);
  pthread_mutex_destroy(&f.mu);
  tl_status st = f.st;
  if (st != TL_OK) *err = f.err;
  *any = f.any;
  if (st == TL_OK && e.xs) st = tl_xsort_finish(e.xs, emit_visible, &e, err);
  if (st == TL_OK && e.top) st = emit_visible(&e, e.top, err), e.top = NULL;
  tl_xsort_free(e.xs);
  tl_table_release(e.top);
  tl_free(e.keys);
  return st;
}
