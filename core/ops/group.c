/*
** group.c -- group_by, and aggregation over the groups.
**
** Grouping gives every row a group id (in order of first appearance) through
** an open-addressing hash table on the key columns; a single dictionary-
** encoded key needs no hashing: its codes map to groups; nor does a single
** int, date or timestamp key whose values span a small range: the value
** less the least indexes a table. Aggregation makes the partial states of
** the definitions over ranges of rows on the worker threads (partial.c) and
** finishes them into columns; the expression around the aggregates
** ("sum(a) / sum(b)") is evaluated over those.
*/
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "keys.h"
#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "expr/expr.h"
#include "agg/partial.h"
#include "base/pool.h"
#include "base/table.h"

struct tl_grouping {
  tl_table *t;
  int nkeys;
  int *keys;            /* key column indexes */
  const char **knames;  /* their names and columns, for messages */
  tl_column **kcols;
  int64_t ngroups;
  int64_t n;            /* rows grouped */
  int64_t *sel;         /* row i is t's row sel[i] (ascending); NULL: row i */
  int32_t *gid;         /* per row; with cmap, made when first asked for */
  int32_t *cmap;        /* one dictionary-encoded key: the group of each code,
                        ** cmap[dictionary length] that of the nulls */
  int64_t *first;       /* first row of each group (a row of t) */
  int64_t *order;       /* rows sorted by group, made when first asked for */
  int64_t *start;       /* group k's rows: order[start[k] .. start[k + 1]) */
};

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

/* The hash of row i's key values, combined into h. */
static uint64_t hash_value(const tl_column *c, int64_t i, uint64_t h) {
  if (c->validity && !TL_BIT_GET(c->validity, i)) return mix64(h ^ 0x6e756c6cULL);
  uint64_t v;
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP: v = (uint64_t)((const int64_t *)c->values)[i]; break;
    case TL_FLOAT: v = tl_float_key(((const double *)c->values)[i]); break;
    case TL_DATE: v = (uint64_t)(uint32_t)((const int32_t *)c->values)[i]; break;
    case TL_BOOL: v = TL_BIT_GET((const uint8_t *)c->values, i); break;
    default: {
      if (c->dict) { v = (uint64_t)((const int32_t *)c->values)[i]; break; }
      size_t n;
      const char *s = tl_column_string_at(c, i, &n);
      return XXH3_64bits_withSeed(s, n, h);
    }
  }
  return mix64(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6)));
}

/* 1 when rows i and j hold the same key (nulls equal nulls). */
static int same_value(const tl_column *c, int64_t i, int64_t j) {
  int ni = c->validity && !TL_BIT_GET(c->validity, i);
  int nj = c->validity && !TL_BIT_GET(c->validity, j);
  if (ni || nj) return ni == nj;
  if (c->dict) return ((const int32_t *)c->values)[i] == ((const int32_t *)c->values)[j];
  if (c->type == TL_FLOAT) {
    double a = ((const double *)c->values)[i], b = ((const double *)c->values)[j];
    return a == b || (a != a && b != b);
  }
  return tl_column_compare_values(c, i, c, j) == 0;
}

void tl_grouping_free(tl_grouping *g) {
  if (!g) return;
  tl_table_release(g->t);
  tl_free(g->sel);
  tl_free(g->keys);
  tl_free(g->knames);
  tl_free(g->kcols);
  tl_free(g->gid);
  tl_free(g->cmap);
  tl_free(g->first);
  tl_free(g->order);
  tl_free(g->start);
  tl_free(g);
}

int64_t tl_grouping_count(const tl_grouping *g) { return g->ngroups; }

/* The row of t that is the grouping's row i. */
static inline int64_t row_of(const tl_grouping *g, int64_t i) { return g->sel ? g->sel[i] : i; }

/* One dictionary-encoded key: its codes are the groups, renumbered in order
** of first appearance, with no hashing at all and no id per row. The scan
** stops once every code (and the null, when there are nulls) has a group. */
static tl_status assign_by_codes(tl_grouping *g, const tl_column *c, tl_error *err) {
  int64_t n = g->n, nd = c->dict->length;
  const int32_t *codes = c->values;
  int64_t all = nd + (c->null_count > 0);
  g->cmap = tl_alloc(((size_t)nd + 2) * sizeof *g->cmap);   /* code -> group; nd: null */
  g->first = tl_alloc(((size_t)nd + 2) * sizeof *g->first);
  if (!g->cmap || !g->first) return tl_error_oom(err, "group_by");
  for (int64_t k = 0; k <= nd; k++) g->cmap[k] = -1;
  for (int64_t i = 0; i < n && g->ngroups < all; i++) {
    int64_t r = row_of(g, i);
    int64_t k = c->validity && !TL_BIT_GET(c->validity, r) ? nd : codes[r];
    if (g->cmap[k] < 0) {
      g->cmap[k] = (int32_t)g->ngroups;
      g->first[g->ngroups++] = r;
    }
    if ((i & 0xffff) == 0xffff && tl_interrupted()) return tl_error_interrupted(err, "group_by");
  }
  return TL_OK;
}

typedef struct gidjob {
  tl_grouping *g;
  const tl_column *c;
  int64_t chunk;
} gidjob;

static void gid_task(void *ctx, int64_t k, int worker) {
  gidjob *j = ctx;
  const int32_t *codes = j->c->values, *cmap = j->g->cmap;
  const uint8_t *vb = j->c->validity;
  int32_t nullg = cmap[j->c->dict->length];
  int64_t n = j->g->n, a = k * j->chunk, b = a + j->chunk < n ? a + j->chunk : n;
  (void)worker;
  for (int64_t i = a; i < b; i++) {
    int64_t r = row_of(j->g, i);
    j->g->gid[i] = vb && !TL_BIT_GET(vb, r) ? nullg : cmap[codes[r]];
  }
}

/* The group of each row, for the verbs that need it (group, apply). */
static tl_status need_gid(tl_grouping *g, tl_error *err) {
  if (g->gid) return TL_OK;
  const tl_column *c = g->t->cols[g->keys[0]];
  g->gid = tl_alloc(((size_t)g->n + 1) * sizeof *g->gid);
  if (!g->gid) return tl_error_oom(err, "group");
  gidjob j = { g, c, (int64_t)1 << 16 };
  tl_parallel_for((g->n + j.chunk - 1) / j.chunk, gid_task, &j);
  return TL_OK;
}

tl_status tl_grouping_row_ids(tl_grouping *g, const int32_t **out, tl_error *err) {
  if (!g->gid) TL_TRY(need_gid(g, err));
  *out = g->gid;
  return TL_OK;
}

/* An open-addressing table of keys: ids in order of insertion, each with
** its hash and the row that holds its key. */
typedef struct gtab {
  int64_t cap, n, fcap;
  uint32_t *slots;      /* id + 1; 0: empty */
  uint64_t *hashes;
  int64_t *first;
} gtab;

static int gtab_init(gtab *gt) {
  gt->cap = 1024;
  gt->fcap = 256;
  gt->n = 0;
  gt->slots = tl_calloc((size_t)gt->cap, sizeof *gt->slots);
  gt->hashes = tl_alloc((size_t)gt->fcap * sizeof *gt->hashes);
  gt->first = tl_alloc((size_t)gt->fcap * sizeof *gt->first);
  return gt->slots && gt->hashes && gt->first;
}

static void gtab_free(gtab *gt) {
  tl_free(gt->slots);
  tl_free(gt->hashes);
  tl_free(gt->first);
}

/* The id of row's key (hash h), added when it is new. -1: out of memory;
** -2: too many groups. */
static int64_t gtab_find(gtab *gt, const tl_grouping *g, int64_t row, uint64_t h) {
  const tl_table *t = g->t;
  uint64_t mask = (uint64_t)gt->cap - 1, p = h & mask;
  for (uint32_t s; (s = gt->slots[p]) != 0; p = (p + 1) & mask) {
    if (gt->hashes[s - 1] != h) continue;
    int64_t f = gt->first[s - 1];
    int same = 1;
    for (int k = 0; k < g->nkeys && same; k++) same = same_value(t->cols[g->keys[k]], row, f);
    if (same) return s - 1;
  }
  if (gt->n >= INT32_MAX - 1) return -2;
  if (gt->n == gt->fcap) {
    int64_t fcap = gt->fcap * 2;
    int64_t *nf = tl_realloc(gt->first, (size_t)fcap * sizeof *nf);
    if (nf) gt->first = nf;
    uint64_t *nh = tl_realloc(gt->hashes, (size_t)fcap * sizeof *nh);
    if (nh) gt->hashes = nh;
    if (!nf || !nh) return -1;
    gt->fcap = fcap;
  }
  int64_t id = gt->n++;
  gt->first[id] = row;
  gt->hashes[id] = h;
  gt->slots[p] = (uint32_t)(id + 1);
  if (gt->n * 2 > gt->cap) {   /* keep the table at most half full */
    int64_t ncap = gt->cap * 2;
    uint32_t *ns = tl_calloc((size_t)ncap, sizeof *ns);
    if (!ns) return -1;
    for (int64_t q = 0; q < gt->n; q++) {
      uint64_t r = gt->hashes[q] & (uint64_t)(ncap - 1);
      while (ns[r]) r = (r + 1) & (uint64_t)(ncap - 1);
      ns[r] = (uint32_t)(q + 1);
    }
    tl_free(gt->slots);
    gt->slots = ns;
    gt->cap = ncap;
  }
  return id;
}

static tl_status gtab_error(int64_t id, tl_error *err) {
  if (id == -2) return tl_error_set(err, TL_ELIMIT, "group_by: more than %d groups", INT32_MAX - 1);
  return tl_error_oom(err, "group_by");
}

/* Ids for rows [a, b) from table gt, into gid[]: hashed a vector at a time,
** one key column after another. */
static tl_status assign_rows(tl_grouping *g, gtab *gt, int64_t a, int64_t b, tl_error *err) {
  const tl_table *t = g->t;
  uint64_t hv[TL_VEC];
  for (int64_t start = a; start < b; start += TL_VEC) {
    int m = (int)(b - start < TL_VEC ? b - start : TL_VEC);
    if (tl_interrupted()) return tl_error_interrupted(err, "group_by");
    for (int i = 0; i < m; i++) hv[i] = 0x2545f4914f6cdd1dULL;
    const int64_t *sel = g->sel ? g->sel + start : NULL;
    for (int k = 0; k < g->nkeys; k++) {
      const tl_column *c = t->cols[g->keys[k]];
      if (sel) for (int i = 0; i < m; i++) hv[i] = hash_value(c, sel[i], hv[i]);
      else for (int i = 0; i < m; i++) hv[i] = hash_value(c, start + i, hv[i]);
    }
    for (int i = 0; i < m; i++) {
      int64_t id = gtab_find(gt, g, sel ? sel[i] : start + i, hv[i]);
      if (id < 0) return gtab_error(id, err);
      g->gid[start + i] = (int32_t)id;
    }
  }
  return TL_OK;
}

/* Rows per chunk of a parallel group_by (not derived from the thread
** count: the ids never depend on it anyway). */
#define GROUP_CHUNK ((int64_t)1 << 16)

typedef struct gchunk {
  gtab local;            /* the chunk's keys, ids local to it */
  int32_t *remap;        /* local id -> group */
  tl_status st;
  tl_error err;
} gchunk;

typedef struct gjob {
  tl_grouping *g;
  gchunk *chunks;
} gjob;

static void chunk_ids(void *ctx, int64_t k, int worker) {
  gjob *j = ctx;
  gchunk *c = &j->chunks[k];
  int64_t n = j->g->n, a = k * GROUP_CHUNK, b = a + GROUP_CHUNK < n ? a + GROUP_CHUNK : n;
  (void)worker;
  if (!gtab_init(&c->local)) { c->st = tl_error_oom(&c->err, "group_by"); return; }
  c->st = assign_rows(j->g, &c->local, a, b, &c->err);
}

static void chunk_remap(void *ctx, int64_t k, int worker) {
  gjob *j = ctx;
  int64_t n = j->g->n, a = k * GROUP_CHUNK, b = a + GROUP_CHUNK < n ? a + GROUP_CHUNK : n;
  const int32_t *remap = j->chunks[k].remap;
  int32_t *gid = j->g->gid;
  (void)worker;
  for (int64_t i = a; i < b; i++) gid[i] = remap[gid[i]];
}

static void later_chunk_ids(void *ctx, int64_t k, int worker) { chunk_ids(ctx, k + 1, worker); }

/* On several threads: each chunk numbers its own keys, then the chunks'
** keys go into one table in chunk order, so that groups keep the order of
** their first appearance, and the rows take the ids of the groups. That
** pays when chunks repeat keys; when the first chunk shows that they hardly
** do, *used is 0 and nothing is done. */
static tl_status assign_parallel(tl_grouping *g, gtab *gt, int *used, tl_error *err) {
  int64_t n = g->n, nchunks = (n + GROUP_CHUNK - 1) / GROUP_CHUNK;
  gjob j = { g, tl_calloc((size_t)nchunks, sizeof(gchunk)) };
  if (!j.chunks) return tl_error_oom(err, "group_by");
  chunk_ids(&j, 0, 0);
  *used = j.chunks[0].st != TL_OK || j.chunks[0].local.n <= GROUP_CHUNK / 4;
  if (*used) tl_parallel_for(nchunks - 1, later_chunk_ids, &j);
  else nchunks = 1;
  tl_status st = TL_OK;
  for (int64_t k = 0; k < nchunks && st == TL_OK && *used; k++) {
    gchunk *c = &j.chunks[k];
    if (c->st != TL_OK) { st = c->st; if (err) *err = c->err; break; }
    if (!(c->remap = tl_alloc(((size_t)c->local.n + 1) * sizeof *c->remap))) {
      st = tl_error_oom(err, "group_by");
      break;
    }
    for (int64_t l = 0; l < c->local.n; l++) {
      int64_t id = gtab_find(gt, g, c->local.first[l], c->local.hashes[l]);
      if (id < 0) { st = gtab_error(id, err); break; }
      c->remap[l] = (int32_t)id;
    }
  }
  if (st == TL_OK && *used) tl_parallel_for(nchunks, chunk_remap, &j);
  for (int64_t k = 0; k < nchunks; k++) {
    gtab_free(&j.chunks[k].local);
    tl_free(j.chunks[k].remap);
  }
  tl_free(j.chunks);
  return st;
}

/* ---------------------------------------------------------------------------
** One int, date or timestamp key whose values span a small range: the value
** less the least is the key's slot in a table of its own (the nulls have
** the last), no hashing and no comparing. The threads find the least and
** the greatest value, then the first row of every slot (each thread over
** its chunks, the least row kept), which orders the groups as the hash
** table would; then each row takes its slot's group.
*/
#define RANGE_SLOTS ((int64_t)1 << 20)   /* slots of a direct table at most */

typedef struct rangejob {
  tl_grouping *g;
  const tl_column *c;
  int wide;                /* int64 values (int, timestamp); else int32 (date) */
  int64_t lo, span;        /* slot v - lo for values lo .. lo + span - 1; span: null */
  int64_t (*mm)[3];        /* per chunk: least, greatest, whether a value */
  int64_t **first;         /* per worker: slot -> first row seen, INT64_MAX none */
  int32_t *map;            /* slot -> group */
  atomic_int failed;       /* 1: interrupted, 2: out of memory */
} rangejob;

static inline int64_t chunk_end(const rangejob *j, int64_t k) {
  int64_t b = (k + 1) * GROUP_CHUNK;
  return b < j->g->n ? b : j->g->n;
}

static inline int64_t key_at(const rangejob *j, int64_t r) {
  return j->wide ? ((const int64_t *)j->c->values)[r] : ((const int32_t *)j->c->values)[r];
}

static int range_stop(rangejob *j) {
  if (atomic_load_explicit(&j->failed, memory_order_relaxed)) return 1;
  if (!tl_interrupted()) return 0;
  atomic_store(&j->failed, 1);
  return 1;
}

/* The slots of the grouping's rows [a, a + m) into out; the plain loops
** for a column of every row and no nulls. */
static void range_slots(const rangejob *j, int64_t a, int m, uint32_t *out) {
  const uint8_t *vb = j->c->validity;
  if (!j->g->sel && !vb && j->wide) {
    const int64_t *v = (const int64_t *)j->c->values + a;
    uint64_t lo = (uint64_t)j->lo;
    for (int k = 0; k < m; k++) out[k] = (uint32_t)((uint64_t)v[k] - lo);
  } else if (!j->g->sel && !vb) {
    const int32_t *v = (const int32_t *)j->c->values + a;
    int32_t lo = (int32_t)j->lo;   /* a date's span fits: v - lo does not overflow as uint32 */
    for (int k = 0; k < m; k++) out[k] = (uint32_t)v[k] - (uint32_t)lo;
  } else {
    for (int k = 0; k < m; k++) {
      int64_t r = row_of(j->g, a + k);
      out[k] = vb && !TL_BIT_GET(vb, r) ? (uint32_t)j->span
                                         : (uint32_t)((uint64_t)key_at(j, r) - (uint64_t)j->lo);
    }
  }
}

#define MINMAX(v, lo, hi, a, b) do { \
    for (int64_t i_ = (a); i_ < (b); i_++) { \
      int64_t x_ = (v)[i_]; \
      lo = x_ < lo ? x_ : lo; \
      hi = x_ > hi ? x_ : hi; \
    } \
  } while (0)

static void range_minmax(void *ctx, int64_t k, int worker) {
  rangejob *j = ctx;
  int64_t lo = INT64_MAX, hi = INT64_MIN, a = k * GROUP_CHUNK, b = chunk_end(j, k);
  const uint8_t *vb = j->c->validity;
  (void)worker;
  if (range_stop(j)) return;
  if (!j->g->sel && !vb && j->wide) {
    MINMAX((const int64_t *)j->c->values, lo, hi, a, b);
  } else if (!j->g->sel && !vb) {
    int32_t lo32 = INT32_MAX, hi32 = INT32_MIN;
    const int32_t *v = j->c->values;
    for (int64_t i = a; i < b; i++) {
      lo32 = v[i] < lo32 ? v[i] : lo32;
      hi32 = v[i] > hi32 ? v[i] : hi32;
    }
    if (a < b) { lo = lo32; hi = hi32; }
  } else {
    for (int64_t i = a; i < b; i++) {
      int64_t r = row_of(j->g, i);
      if (vb && !TL_BIT_GET(vb, r)) continue;
      int64_t x = key_at(j, r);
      lo = x < lo ? x : lo;
      hi = x > hi ? x : hi;
    }
  }
  j->mm[k][0] = lo;
  j->mm[k][1] = hi;
  j->mm[k][2] = lo <= hi;
}

static void range_first(void *ctx, int64_t k, int worker) {
  rangejob *j = ctx;
  uint32_t s[TL_VEC];
  if (range_stop(j)) return;
  int64_t *first = j->first[worker];
  if (!first) {
    if (!(first = tl_alloc(((size_t)j->span + 1) * sizeof *first))) {
      atomic_store(&j->failed, 2);
      return;
    }
    for (int64_t q = 0; q <= j->span; q++) first[q] = INT64_MAX;
    j->first[worker] = first;
  }
  for (int64_t a = k * GROUP_CHUNK, b = chunk_end(j, k); a < b; a += TL_VEC) {
    int m = (int)(b - a < TL_VEC ? b - a : TL_VEC);
    range_slots(j, a, m, s);
    for (int q = 0; q < m; q++)
      if (first[s[q]] > a + q) first[s[q]] = a + q;
  }
}

static void range_ids(void *ctx, int64_t k, int worker) {
  rangejob *j = ctx;
  uint32_t s[TL_VEC];
  int32_t *gid = j->g->gid;
  const int32_t *map = j->map;
  (void)worker;
  if (range_stop(j)) return;
  for (int64_t a = k * GROUP_CHUNK, b = chunk_end(j, k); a < b; a += TL_VEC) {
    int m = (int)(b - a < TL_VEC ? b - a : TL_VEC);
    range_slots(j, a, m, s);
    for (int q = 0; q < m; q++) gid[a + q] = map[s[q]];
  }
}

static int by_first_row(const void *a, const void *b) {
  int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
  return (x > y) - (x < y);
}

/* Many groups: the (first row, slot) pairs put in order of the rows through
** g->gid (n entries, not yet the groups), a slot at each first row, rather
** than sorted. 0: interrupted. */
static int bucket_by_first_row(tl_grouping *g, int64_t (*seen)[2], int64_t nseen) {
  int32_t *at = g->gid;
  for (int64_t i = 0; i < g->n; i++) at[i] = -1;
  for (int64_t q = 0; q < nseen; q++) at[seen[q][0]] = (int32_t)seen[q][1];   /* slots < 2^20 */
  int64_t k = 0;
  for (int64_t i = 0; i < g->n; i++) {
    if ((i & 0xfffff) == 0xfffff && tl_interrupted()) return 0;
    if (at[i] < 0) continue;
    seen[k][0] = i;
    seen[k++][1] = at[i];
  }
  return 1;
}

/* The groups from the first rows of the slots: in order of those rows. */
static tl_status range_groups(rangejob *j, int nworkers, tl_error *err) {
  tl_grouping *g = j->g;
  int64_t *first = NULL, (*seen)[2] = NULL, nseen = 0;
  for (int w = 0; w < nworkers; w++) {
    if (!j->first[w]) continue;
    if (!first) { first = j->first[w]; continue; }
    for (int64_t s = 0; s <= j->span; s++) first[s] = j->first[w][s] < first[s] ? j->first[w][s] : first[s];
  }
  for (int64_t s = 0; first && s <= j->span; s++) nseen += first[s] != INT64_MAX;
  seen = tl_alloc(((size_t)nseen + 1) * sizeof *seen);
  j->map = tl_alloc(((size_t)j->span + 1) * sizeof *j->map);
  g->first = tl_alloc(((size_t)nseen + 1) * sizeof *g->first);
  if (!seen || !j->map || !g->first) { tl_free(seen); return tl_error_oom(err, "group_by"); }
  nseen = 0;
  for (int64_t s = 0; first && s <= j->span; s++) {
    if (first[s] == INT64_MAX) continue;
    seen[nseen][0] = first[s];
    seen[nseen++][1] = s;
  }
  if (nseen <= 4096 || nseen * 16 < g->n) qsort(seen, (size_t)nseen, sizeof *seen, by_first_row);
  else if (!bucket_by_first_row(g, seen, nseen)) { tl_free(seen); return tl_error_interrupted(err, "group_by"); }
  for (int64_t q = 0; q < nseen; q++) {
    j->map[seen[q][1]] = (int32_t)q;
    g->first[q] = row_of(g, seen[q][0]);
  }
  g->ngroups = nseen;
  tl_free(seen);
  return TL_OK;
}

/* The least and greatest key into j->lo, j->span (span -1: too wide for a
** table, 0: no values). */
static void range_bounds(rangejob *j, int64_t nchunks) {
  int64_t lo = INT64_MAX, hi = INT64_MIN, any = 0;
  tl_parallel_for(nchunks, range_minmax, j);
  for (int64_t k = 0; k < nchunks; k++) {
    if (!j->mm[k][2]) continue;
    any = 1;
    lo = j->mm[k][0] < lo ? j->mm[k][0] : lo;
    hi = j->mm[k][1] > hi ? j->mm[k][1] : hi;
  }
  uint64_t width = any ? (uint64_t)hi - (uint64_t)lo + 1 : 0;   /* 0 when the whole int64 range */
  int64_t most = j->g->n < RANGE_SLOTS ? j->g->n : RANGE_SLOTS;
  j->lo = any ? lo : 0;
  j->span = any && (width == 0 || width > (uint64_t)most) ? -1 : (int64_t)width;
}

/* Groups by the range table when the key suits it; *done says whether it did. */
static tl_status assign_by_range(tl_grouping *g, int *done, tl_error *err) {
  const tl_column *c = g->t->cols[g->keys[0]];
  *done = 0;
  if (g->nkeys != 1 || c->dict || (c->type != TL_INT && c->type != TL_DATE && c->type != TL_TIMESTAMP))
    return TL_OK;
  int64_t nchunks = (g->n + GROUP_CHUNK - 1) / GROUP_CHUNK;
  int nworkers = tl_get_threads();
  rangejob j = { .g = g, .c = c, .wide = c->type != TL_DATE };
  atomic_init(&j.failed, 0);
  j.mm = tl_alloc(((size_t)nchunks + 1) * sizeof *j.mm);
  j.first = tl_calloc((size_t)nworkers + 1, sizeof *j.first);
  tl_status st = j.mm && j.first ? TL_OK : tl_error_oom(err, "group_by");
  if (st == TL_OK) range_bounds(&j, nchunks);
  if (st == TL_OK && j.span >= 0 && !atomic_load(&j.failed)) {
    *done = 1;
    g->gid = tl_alloc(((size_t)g->n + 1) * sizeof *g->gid);
    if (!g->gid) st = tl_error_oom(err, "group_by");
    if (st == TL_OK) tl_parallel_for(nchunks, range_first, &j);
    if (st == TL_OK && !atomic_load(&j.failed)) st = range_groups(&j, nworkers, err);
    if (st == TL_OK && !atomic_load(&j.failed)) tl_parallel_for(nchunks, range_ids, &j);
  }
  if (st == TL_OK && atomic_load(&j.failed) == 1) st = tl_error_interrupted(err, "group_by");
  else if (st == TL_OK && atomic_load(&j.failed)) st = tl_error_oom(err, "group_by");
  for (int w = 0; j.first && w < nworkers; w++) tl_free(j.first[w]);
  tl_free(j.first);
  tl_free(j.mm);
  tl_free(j.map);
  return st;
}

/* Assigns group ids to rows: the core of group_by. */
static tl_status assign_groups(tl_grouping *g, tl_error *err) {
  const tl_table *t = g->t;
  if (g->nkeys == 1 && t->cols[g->keys[0]]->dict) return assign_by_codes(g, t->cols[g->keys[0]], err);
  int by_range;
  TL_TRY(assign_by_range(g, &by_range, err));
  if (by_range) return TL_OK;
  int64_t n = g->n;
  gtab gt;
  g->gid = tl_alloc((size_t)(n + 1) * sizeof *g->gid);
  int ok = gtab_init(&gt);
  tl_status st = TL_OK;
  int done = 0;
  if (!g->gid || !ok) st = tl_error_oom(err, "group_by");
  else if (tl_get_threads() > 1 && n > 2 * GROUP_CHUNK) st = assign_parallel(g, &gt, &done, err);
  if (st == TL_OK && !done) st = assign_rows(g, &gt, 0, n, err);
  g->ngroups = gt.n;
  g->first = gt.first;
  gt.first = NULL;
  gtab_free(&gt);
  return st;
}

static tl_status group_by_names(const tl_table *t, const int64_t *rows, int64_t n, int nkeys,
                                const char *const *keys, tl_grouping **out, tl_error *err);

tl_status tl_table_group_by(const tl_table *t, int nkeys, const char *const *keys,
                            tl_grouping **out, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "group_by", err));
  tl_keys k;
  TL_TRY(tl_keys_resolve(t, nkeys, keys, 0, "group_by", &k, err));
  tl_status st = group_by_names(k.t, NULL, t->nrows, nkeys, k.keys, out, err);
  tl_keys_free(&k);
  return st;
}

tl_status tl_group_by_rows(const tl_table *t, const int64_t *rows, int64_t n, int nkeys,
                           const char *const *keys, tl_grouping **out, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "group_by", err));
  tl_keys k;
  TL_TRY(tl_keys_resolve(t, nkeys, keys, 0, "group_by", &k, err));
  tl_status st = group_by_names(k.t, rows, n, nkeys, k.keys, out, err);
  tl_keys_free(&k);
  return st;
}

static tl_status group_by_names(const tl_table *t, const int64_t *rows, int64_t n, int nkeys,
                                const char *const *keys, tl_grouping **out, tl_error *err) {
  tl_grouping *g = tl_calloc(1, sizeof *g);
  if (!g) return tl_error_oom(err, "group_by");
  g->t = tl_table_retain((tl_table *)t);
  g->n = n;
  if (rows && !(g->sel = tl_alloc(((size_t)n + 1) * sizeof *g->sel))) {
    tl_grouping_free(g);
    return tl_error_oom(err, "group_by");
  }
  if (rows) memcpy(g->sel, rows, (size_t)n * sizeof *g->sel);
  g->nkeys = nkeys;
  g->keys = tl_calloc((size_t)nkeys + 1, sizeof *g->keys);
  g->knames = tl_calloc((size_t)nkeys + 1, sizeof *g->knames);
  g->kcols = tl_calloc((size_t)nkeys + 1, sizeof *g->kcols);
  tl_status st = g->keys && g->knames && g->kcols ? TL_OK : tl_error_oom(err, "group_by");
  for (int k = 0; k < nkeys && st == TL_OK; k++) {
    st = tl_table_lookup(t, keys[k], "group_by", &g->keys[k], err);
    if (st == TL_OK) {
      g->knames[k] = t->names[g->keys[k]];
      g->kcols[k] = t->cols[g->keys[k]];
    }
  }
  if (st == TL_OK) st = assign_groups(g, err);
  if (st != TL_OK) { tl_grouping_free(g); return st; }
  *out = g;
  return TL_OK;
}

tl_status tl_grouping_keys(const tl_grouping *g, tl_table **out, tl_error *err) {
  TL_TRY(tl_table_check_files(g->t, "group_by", err));
  const char **names = tl_calloc((size_t)g->nkeys + 1, sizeof *names);
  if (!names) return tl_error_oom(err, "group_by");
  for (int k = 0; k < g->nkeys; k++) names[k] = g->t->names[g->keys[k]];
  tl_table *sel;
  tl_status st = tl_table_select(g->t, g->nkeys, names, &sel, err);
  tl_free(names);
  if (st != TL_OK) return st;
  st = tl_table_take(sel, g->first, g->ngroups, out, err);
  tl_table_release(sel);
  return st;
}

tl_status tl_grouping_group(const tl_grouping *g, int64_t k, tl_table **out, tl_error *err) {
  TL_TRY(tl_table_check_files(g->t, "group", err));
  if (tl_interrupted()) return tl_error_interrupted(err, "group");
  if (k < 0 || k >= g->ngroups)
    return tl_error_set(err, TL_ERANGE, "group: group %lld out of range (there are %lld)",
                        (long long)k + 1, (long long)g->ngroups);
  if (!g->order) {   /* a counting sort of the rows by group, once */
    tl_grouping *m = (tl_grouping *)g;
    TL_TRY(need_gid(m, err));
    int64_t n = g->n;
    int64_t *start = tl_calloc((size_t)g->ngroups + 2, sizeof *start);
    int64_t *order = tl_alloc(((size_t)n + 1) * sizeof *order);
    if (!start || !order) { tl_free(start); tl_free(order); return tl_error_oom(err, "group"); }
    for (int64_t i = 0; i < n; i++) start[g->gid[i] + 1]++;
    if (tl_interrupted()) {
      tl_free(start);
      tl_free(order);
      return tl_error_interrupted(err, "group");
    }
    for (int64_t q = 0; q < g->ngroups; q++) start[q + 1] += start[q];
    for (int64_t i = 0; i < n; i++) order[start[g->gid[i]]++] = row_of(g, i);
    for (int64_t q = g->ngroups; q > 0; q--) start[q] = start[q - 1];   /* back to the starts */
    start[0] = 0;
    m->order = order;
    m->start = start;
  }
  tl_status st = tl_table_take(g->t, g->order + g->start[k], g->start[k + 1] - g->start[k], out,
                               err);
  return st == TL_EINTR ? tl_error_interrupted(err, "group") : st;   /* take's, as ours */
}


/* ---------------------------------------------------------------------------
** Aggregation
*/

/* The groups of g's rows, as the scans of partial.c read them. */
static void rowgroups_of(const tl_grouping *g, tl_rowgroups *rg) {
  memset(rg, 0, sizeof *rg);
  rg->t = g->t;
  rg->n = g->n;
  rg->sel = g->sel;
  rg->ng = g->ngroups;
  rg->gid = g->gid;
  if (!g->gid && g->cmap) {
    rg->codes = g->t->cols[g->keys[0]];
    rg->cmap = g->cmap;
  }
  rg->keys.nkeys = g->nkeys;
  rg->keys.names = g->knames;
  rg->keys.cols = g->kcols;
  rg->keys.rows = g->first;
}

static void rowgroups_table(const tl_table *t, tl_rowgroups *rg) {
  memset(rg, 0, sizeof *rg);
  rg->t = t;
  rg->n = t->nrows;
  rg->ng = 1;
}

/* Makes the partial states of rg's rows and, with `result`, finishes them
** at once; `keys` (NULL: none) go in front. */
static tl_status run(const tl_rowgroups *rg, tl_table *keys, int n, const char *const *defs,
                     const tl_scope *scope, tl_table **result, tl_partial **partial,
                     tl_error *err) {
  tl_partial *p;
  TL_TRY(tl_partial_make(rg, n, defs, scope, result != NULL, &p, err));
  tl_partial_set_keys(p, keys);
  if (partial) { *partial = p; return TL_OK; }
  tl_status st = tl_partial_finish_ex(p, 1, result, err);
  tl_partial_free(p);
  return st;
}

tl_status tl_grouping_agg(const tl_grouping *g, int n, const char *const *defs, tl_table **out,
                          tl_error *err) {
  return tl_grouping_agg_with(g, n, defs, 0, NULL, out, err);
}

tl_status tl_grouping_agg_with(const tl_grouping *g, int n, const char *const *defs, int nfns,
                               const tl_aggregate *const *fns, tl_table **out, tl_error *err) {
  tl_scope scope = { nfns, fns, 0, NULL };
  return tl_grouping_agg_scope(g, n, defs, &scope, out, err);
}

/* run() over the groups of g: a finished table (out) or a partial. */
static tl_status run_grouping(const tl_grouping *g, int n, const char *const *defs,
                              const tl_scope *scope, tl_table **out, tl_partial **partial,
                              tl_error *err) {
  tl_table *keys;
  tl_rowgroups rg;
  TL_TRY(tl_grouping_keys(g, &keys, err));
  rowgroups_of(g, &rg);
  tl_status st = run(&rg, keys, n, defs, scope, out, partial, err);
  tl_table_release(keys);
  return st;
}

tl_status tl_grouping_agg_scope(const tl_grouping *g, int n, const char *const *defs,
                                const tl_scope *scope, tl_table **out, tl_error *err) {
  TL_TRY(tl_table_check_files(g->t, "agg", err));
  return run_grouping(g, n, defs, scope, out, NULL, err);
}

tl_status tl_grouping_partial(const tl_grouping *g, int n, const char *const *defs,
                              const tl_scope *scope, tl_partial **out, tl_error *err) {
  TL_TRY(tl_table_check_files(g->t, "agg", err));
  return run_grouping(g, n, defs, scope, NULL, out, err);
}

tl_status tl_table_agg(const tl_table *t, int n, const char *const *defs, tl_table **out,
                       tl_error *err) {
  return tl_table_agg_with(t, n, defs, 0, NULL, out, err);
}

tl_status tl_table_agg_with(const tl_table *t, int n, const char *const *defs, int nfns,
                            const tl_aggregate *const *fns, tl_table **out, tl_error *err) {
  tl_scope scope = { nfns, fns, 0, NULL };
  return tl_table_agg_scope(t, n, defs, &scope, out, err);
}

tl_status tl_table_agg_scope(const tl_table *t, int n, const char *const *defs,
                             const tl_scope *scope, tl_table **out, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "agg", err));
  tl_rowgroups rg;
  rowgroups_table(t, &rg);
  return run(&rg, NULL, n, defs, scope, out, NULL, err);
}

tl_status tl_table_partial(const tl_table *t, int n, const char *const *defs,
                           const tl_scope *scope, tl_partial **out, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "agg", err));
  tl_rowgroups rg;
  rowgroups_table(t, &rg);
  return run(&rg, NULL, n, defs, scope, NULL, out, err);
}
