/*
** sort.c -- sort, top, distinct, concat, value_counts and unique.
**
** A sort computes a permutation of the rows and gathers every column through
** it (tl_table_take). One key of a fixed-width type, or of dictionary
** strings, sorts (key, row) pairs with an LSD radix sort on a 64-bit image of
** the key that keeps its order; a dictionary's strings are ranked once, so
** that rows compare int32 ranks, not strings. Several keys sort by the first
** one so, then each run of equal first keys by a merge sort of row indexes
** with a comparator over the other keys. top keeps a bounded heap per chunk
** of rows instead of sorting the whole table. distinct, value_counts and
** unique are groupings.
**
** Every comparator breaks ties by row index, which is what a stable sort of
** rows in table order gives: results never depend on the chunking, hence
** not on the number of threads.
*/
#include <string.h>

#include "keys.h"
#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/pool.h"
#include "base/table.h"

#define PAR_MIN 65536      /* rows below which one thread does the work */
#define TOP_HEAP_MAX (1 << 20)

/* ---------------------------------------------------------------------------
** Sort keys
*/

enum { K_I64, K_I32, K_F64, K_BOOL, K_RANK, K_STR, K_PACK };

typedef struct skey {
  int kind, desc;
  const void *v;            /* values; int32 codes for K_RANK; the images for K_PACK */
  const uint8_t *valid;     /* NULL: no nulls */
  const int64_t *off;       /* K_STR */
  const char *bytes;
  int32_t *rank;            /* K_RANK: the rank of each dictionary entry (owned) */
} skey;

/* The class of row i under key k: 0 a value, 1 null. Nulls come last
** whatever the direction. NaN is a value, the largest (as in DuckDB): last
** ascending, first descending. */
static inline int kclass(const skey *k, int64_t i) {
  return k->valid && !TL_BIT_GET(k->valid, i);
}

#define CMP3(x, y) (((x) > (y)) - ((x) < (y)))

/* Floats in the order of the sort: NaN equals NaN and is above every number. */
static inline int fcmp(double x, double y) {
  if (x != x || y != y) return (x != x) - (y != y);
  return CMP3(x, y);
}

/* Compares the values (class 0) of rows a and b, in the key's direction. */
static inline int kcmp(const skey *k, int64_t a, int64_t b) {
  int r;
  switch (k->kind) {
    case K_I64: r = CMP3(((const int64_t *)k->v)[a], ((const int64_t *)k->v)[b]); break;
    case K_I32: r = CMP3(((const int32_t *)k->v)[a], ((const int32_t *)k->v)[b]); break;
    case K_F64: r = fcmp(((const double *)k->v)[a], ((const double *)k->v)[b]); break;
    case K_BOOL:
      r = CMP3(TL_BIT_GET((const uint8_t *)k->v, a), TL_BIT_GET((const uint8_t *)k->v, b));
      break;
    case K_RANK: {
      const int32_t *codes = k->v;
      r = CMP3(k->rank[codes[a]], k->rank[codes[b]]);
      break;
    }
    case K_PACK: r = CMP3(((const uint64_t *)k->v)[a], ((const uint64_t *)k->v)[b]); break;
    default: {
      int64_t la = k->off[a + 1] - k->off[a], lb = k->off[b + 1] - k->off[b];
      r = memcmp(k->bytes + k->off[a], k->bytes + k->off[b], (size_t)(la < lb ? la : lb));
      r = r ? (r > 0) - (r < 0) : CMP3(la, lb);
      break;
    }
  }
  return k->desc ? -r : r;
}

/* The order of rows a and b under keys k[0..n), with no tie-break. */
static inline int cmp_keys(const skey *k, int n, int64_t a, int64_t b) {
  for (int j = 0; j < n; j++) {
    int ca = kclass(&k[j], a), cb = kclass(&k[j], b);
    if (ca != cb) return ca < cb ? -1 : 1;
    if (ca == 0) {
      int r = kcmp(&k[j], a, b);
      if (r) return r;
    }
  }
  return 0;
}

/* The order of rows a and b under keys k[0..n), ties broken by row. */
static inline int cmp_rows(const skey *k, int n, int64_t a, int64_t b) {
  int r = cmp_keys(k, n, a, b);
  return r ? r : CMP3(a, b);
}

/* A 64-bit image of a value (class 0) whose unsigned order is the key's. */
static inline uint64_t kbits(const skey *k, int64_t i) {
  uint64_t u;
  switch (k->kind) {
    case K_I64: u = (uint64_t)((const int64_t *)k->v)[i] ^ (1ULL << 63); break;
    case K_I32: u = (uint32_t)((const int32_t *)k->v)[i] ^ 0x80000000u; break;
    case K_F64: {
      double d = ((const double *)k->v)[i];
      if (d == 0) d = 0;                       /* -0.0 sorts as 0.0 */
      memcpy(&u, &d, sizeof u);
      u = (u >> 63) ? ~u : u | (1ULL << 63);   /* negatives reversed, below positives */
      if (d != d) u = UINT64_MAX;              /* every NaN one value, above infinity */
      break;
    }
    case K_BOOL: u = TL_BIT_GET((const uint8_t *)k->v, i); break;
    case K_PACK: return ((const uint64_t *)k->v)[i];
    default: u = (uint32_t)k->rank[((const int32_t *)k->v)[i]]; break;
  }
  return k->desc ? ~u : u;
}

/* ---------------------------------------------------------------------------
** Merge sort of row indexes
*/

static void msort(const skey *k, int nk, int64_t *a, int64_t *tmp, int64_t n) {
  if (n <= 16) {
    for (int64_t i = 1; i < n; i++) {
      int64_t x = a[i], j = i;
      for (; j > 0 && cmp_rows(k, nk, a[j - 1], x) > 0; j--) a[j] = a[j - 1];
      a[j] = x;
    }
    return;
  }
  int64_t h = n / 2;
  msort(k, nk, a, tmp, h);
  msort(k, nk, a + h, tmp + h, n - h);
  if (cmp_rows(k, nk, a[h - 1], a[h]) < 0) return;   /* already in order */
  memcpy(tmp, a, (size_t)n * sizeof *a);
  int64_t i = 0, j = h, o = 0;
  while (i < h && j < n) a[o++] = cmp_rows(k, nk, tmp[j], tmp[i]) < 0 ? tmp[j++] : tmp[i++];
  while (i < h) a[o++] = tmp[i++];
  while (j < n) a[o++] = tmp[j++];
}

typedef struct psort {
  const skey *k;
  int nk;
  int64_t *a, *tmp, n;
  int64_t parts, width;     /* chunks; chunks per half of a merge */
} psort;

static int64_t part_start(const psort *p, int64_t c) { return p->n * c / p->parts; }

static void psort_chunk(void *ctx, int64_t c, int worker) {
  const psort *p = ctx;
  (void)worker;
  if (tl_interrupted()) return;   /* the rows stay a permutation; the callers fail */
  int64_t lo = part_start(p, c), hi = part_start(p, c + 1);
  msort(p->k, p->nk, p->a + lo, p->tmp + lo, hi - lo);
}

static void psort_merge(void *ctx, int64_t task, int worker) {
  const psort *p = ctx;
  (void)worker;
  int64_t c = task * 2 * p->width;
  int64_t lo = part_start(p, c);
  int64_t mid = part_start(p, c + p->width < p->parts ? c + p->width : p->parts);
  int64_t hi = part_start(p, c + 2 * p->width < p->parts ? c + 2 * p->width : p->parts);
  int64_t *a = p->a, *t = p->tmp;
  if (tl_interrupted()) return;
  if (mid == hi || mid == lo || cmp_rows(p->k, p->nk, a[mid - 1], a[mid]) < 0) return;
  memcpy(t + lo, a + lo, (size_t)(hi - lo) * sizeof *a);
  int64_t i = lo, j = mid, o = lo;
  while (i < mid && j < hi) a[o++] = cmp_rows(p->k, p->nk, t[j], t[i]) < 0 ? t[j++] : t[i++];
  while (i < mid) a[o++] = t[i++];
  while (j < hi) a[o++] = t[j++];
}

/* Sorts a[0..n) by the keys: chunks sorted on the worker threads, then
** merged pairwise, each round of merges in parallel too. Under an interrupt
** a[] may stay unsorted: every caller looks for one after. */
static void sort_rows(const skey *k, int nk, int64_t *a, int64_t *tmp, int64_t n) {
  int threads = tl_get_threads();
  if (threads <= 1 || n < PAR_MIN) { msort(k, nk, a, tmp, n); return; }
  psort p = { k, nk, a, tmp, n, 1, 1 };
  while (p.parts < threads) p.parts *= 2;
  tl_parallel_for(p.parts, psort_chunk, &p);
  for (p.width = 1; p.width < p.parts; p.width *= 2)
    tl_parallel_for((p.parts + 2 * p.width - 1) / (2 * p.width), psort_merge, &p);
}

/* ---------------------------------------------------------------------------
** Setting up the keys
*/

static void free_keys(skey *k, int n) {
  for (int j = 0; k && j < n; j++) tl_free(k[j].rank);
  tl_free(k);
}

/* The rank of each entry of a dictionary in byte order (equal strings, which
** a damaged file may hold, get equal ranks). */
static tl_status dict_ranks(const tl_column *d, int32_t **out, const char *op, tl_error *err) {
  int64_t n = d->length;
  int32_t *rank = tl_alloc(((size_t)n + 1) * sizeof *rank);
  int64_t *idx = tl_alloc(((size_t)n + 1) * sizeof *idx);
  int64_t *tmp = tl_alloc(((size_t)n + 1) * sizeof *tmp);
  if (!rank || !idx || !tmp) {
    tl_free(rank); tl_free(idx); tl_free(tmp);
    return tl_error_oom(err, op);
  }
  skey s = { K_STR, 0, NULL, NULL, d->values, d->bytes, NULL };
  for (int64_t i = 0; i < n; i++) idx[i] = i;
  sort_rows(&s, 1, idx, tmp, n);
  if (tl_interrupted()) {
    tl_free(rank); tl_free(idx); tl_free(tmp);
    return tl_error_interrupted(err, op);
  }
  for (int64_t r = 0; r < n; r++)
    rank[idx[r]] = r > 0 && kcmp(&s, idx[r - 1], idx[r]) == 0 ? rank[idx[r - 1]] : (int32_t)r;
  tl_free(idx);
  tl_free(tmp);
  *out = rank;
  return TL_OK;
}

/* Looks the keys up ("-name": descending) and prepares each for comparing. */
static tl_status make_keys(const tl_table *t, int nkeys, const char *const *names,
                           const char *op, skey **out, tl_error *err) {
  if (nkeys < 1) return tl_error_set(err, TL_EINVAL, "%s: expected at least one key", op);
  skey *k = tl_calloc((size_t)nkeys, sizeof *k);
  if (!k) return tl_error_oom(err, op);
  tl_status st = TL_OK;
  for (int j = 0; j < nkeys && st == TL_OK; j++) {
    const char *name = names[j];
    int col;
    if (name[0] == '-' && tl_table_find(t, name) < 0) {   /* a column may start with '-' */
      k[j].desc = 1;
      name++;
    }
    if ((st = tl_table_lookup(t, name, op, &col, err)) != TL_OK) break;
    const tl_column *c = t->cols[col];
    k[j].v = c->values;
    k[j].valid = c->validity;
    switch (c->type) {
      case TL_INT: case TL_TIMESTAMP: k[j].kind = K_I64; break;
      case TL_DATE: k[j].kind = K_I32; break;
      case TL_FLOAT: k[j].kind = K_F64; break;
      case TL_BOOL: k[j].kind = K_BOOL; break;
      case TL_STRING:
        if (c->dict) {
          k[j].kind = K_RANK;
          st = dict_ranks(c->dict, &k[j].rank, op, err);
        } else {
          k[j].kind = K_STR;
          k[j].off = c->values;
          k[j].bytes = c->bytes;
        }
        break;
    }
  }
  if (st != TL_OK) { free_keys(k, nkeys); return st; }
  *out = k;
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Radix sort of one key
*/

typedef struct radix {
  const skey *k;
  int64_t n, m;             /* rows; rows with a value */
  int64_t parts;
  int compact;              /* some rows are null */
  uint64_t *K, *K2;
  int64_t *R, *R2;
  int64_t *start;           /* per chunk: where its rows with a value go */
  int64_t (*hist)[256];     /* per chunk */
  uint64_t (*bits)[2];      /* per chunk: the AND and the OR of its keys */
  int shift;
} radix;

static void rx_count(void *ctx, int64_t c, int worker) {
  radix *x = ctx;
  (void)worker;
  int64_t lo = x->n * c / x->parts, hi = x->n * (c + 1) / x->parts, m = 0;
  for (int64_t i = lo; i < hi; i++) m += kclass(x->k, i) == 0;
  x->start[c + 1] = m;
}

/* Fills the (key, row) pairs of chunk c's rows with a value, and ANDs and
** ORs its keys: a byte where the two agree over every chunk is the same
** in every key, and needs no pass. */
static void rx_fill(void *ctx, int64_t c, int worker) {
  radix *x = ctx;
  (void)worker;
  int64_t lo = x->n * c / x->parts, hi = x->n * (c + 1) / x->parts, o = x->start[c];
  uint64_t all = ~(uint64_t)0, any = 0;
  for (int64_t i = lo; i < hi; i++) {
    if (x->compact && kclass(x->k, i) != 0) continue;
    uint64_t u = kbits(x->k, i);
    x->K[o] = u;
    x->R[o++] = i;
    all &= u;
    any |= u;
  }
  x->bits[c][0] = all;
  x->bits[c][1] = any;
}

static void rx_hist(void *ctx, int64_t c, int worker) {
  radix *x = ctx;
  (void)worker;
  int64_t lo = x->m * c / x->parts, hi = x->m * (c + 1) / x->parts;
  int64_t *h = x->hist[c];
  memset(h, 0, sizeof x->hist[c]);
  for (int64_t i = lo; i < hi; i++) h[(x->K[i] >> x->shift) & 0xff]++;
}

static void rx_scatter(void *ctx, int64_t c, int worker) {
  radix *x = ctx;
  (void)worker;
  int64_t lo = x->m * c / x->parts, hi = x->m * (c + 1) / x->parts;
  int64_t *pos = x->hist[c];                   /* offsets by now */
  const uint64_t *K = x->K;
  const int64_t *R = x->R;
  int shift = x->shift;
  for (int64_t i = lo; i < hi; i++) {
    int64_t o = pos[(K[i] >> shift) & 0xff]++;
    x->K2[o] = K[i];
    x->R2[o] = R[i];
  }
}

/* Sorts the rows by one key of a fixed-width type into perm[0..n): rows
** with a value in order (ties in row order), then the null rows.
** When `keys_out` is not NULL it receives the sorted key images (m of
** them) and *m_out their count; the caller frees them. */
static tl_status radix_sort(const skey *k, int64_t n, int64_t *perm, uint64_t **keys_out,
                            int64_t *m_out, const char *op, tl_error *err) {
  radix x;
  memset(&x, 0, sizeof x);
  x.k = k;
  x.n = n;
  x.parts = n < PAR_MIN ? 1 : tl_get_threads();
  if (x.parts > 256) x.parts = 256;
  x.compact = k->valid != NULL;
  x.K = tl_alloc(((size_t)n + 1) * sizeof *x.K);
  x.K2 = tl_alloc(((size_t)n + 1) * sizeof *x.K2);
  x.R2 = tl_alloc(((size_t)n + 1) * sizeof *x.R2);
  x.start = tl_calloc((size_t)x.parts + 1, sizeof *x.start);
  x.hist = tl_alloc((size_t)x.parts * sizeof *x.hist);
  x.bits = tl_alloc((size_t)x.parts * sizeof *x.bits);
  x.R = perm;
  if (!x.K || !x.K2 || !x.R2 || !x.start || !x.hist || !x.bits) {
    tl_free(x.K); tl_free(x.K2); tl_free(x.R2);
    tl_free(x.start); tl_free(x.hist); tl_free(x.bits);
    return tl_error_oom(err, op);
  }
  if (x.compact) {
    tl_parallel_for(x.parts, rx_count, &x);
    for (int64_t c = 0; c < x.parts; c++) x.start[c + 1] += x.start[c];
  } else {
    for (int64_t c = 0; c <= x.parts; c++) x.start[c] = n * c / x.parts;
  }
  x.m = x.start[x.parts];
  tl_parallel_for(x.parts, rx_fill, &x);
  uint64_t all = ~(uint64_t)0, any = 0;
  for (int64_t c = 0; c < x.parts; c++) { all &= x.bits[c][0]; any |= x.bits[c][1]; }
  uint64_t vary = x.m ? all ^ any : 0;         /* the bits that differ between keys */
  for (int b = 0; b < 8; b++) {
    if (((vary >> (8 * b)) & 0xff) == 0) continue;   /* every key has the same byte here */
    x.shift = 8 * b;
    tl_parallel_for(x.parts, rx_hist, &x);
    int64_t o = 0;
    for (int v = 0; v < 256; v++)              /* bucket by bucket, chunks in order */
      for (int64_t c = 0; c < x.parts; c++) {
        int64_t s = x.hist[c][v];
        x.hist[c][v] = o;
        o += s;
      }
    tl_parallel_for(x.parts, rx_scatter, &x);
    uint64_t *tk = x.K; x.K = x.K2; x.K2 = tk;
    int64_t *tr = x.R; x.R = x.R2; x.R2 = tr;
  }
  if (x.R != perm) {
    memcpy(perm, x.R, (size_t)x.m * sizeof *perm);
    x.R2 = x.R;
  }
  if (x.m < n) {                               /* then the null rows */
    int64_t o = x.m;
    for (int64_t i = 0; i < n; i++) if (kclass(k, i)) perm[o++] = i;
  }
  tl_free(x.R2);
  tl_free(x.K2);
  tl_free(x.start);
  tl_free(x.hist);
  tl_free(x.bits);
  if (keys_out) {
    *keys_out = x.K;
    *m_out = x.m;
  } else {
    tl_free(x.K);
  }
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Sort
*/

typedef struct runs {
  const skey *k;            /* the keys after the first */
  int nk;
  int64_t *perm, *tmp;
  const int64_t *rs;        /* run starts, then the end */
  int64_t nruns, ntasks;
} runs;

static void sort_runs(void *ctx, int64_t task, int worker) {
  const runs *r = ctx;
  (void)worker;
  int64_t lo = r->nruns * task / r->ntasks, hi = r->nruns * (task + 1) / r->ntasks;
  for (int64_t q = lo; q < hi && !tl_interrupted(); q++) {
    int64_t s = r->rs[q], e = r->rs[q + 1];
    msort(r->k, r->nk, r->perm + s, r->tmp + s, e - s);
  }
}

/* Orders the runs of equal first key (given by the sorted key images K of
** the m rows with a value, then the null rows) by the other keys. */
static tl_status refine(const tl_table *t, const skey *k, int nk, int64_t *perm,
                        const uint64_t *K, int64_t m, const char *op, tl_error *err) {
  int64_t n = t->nrows, nruns = 0;
  int64_t *rs = tl_alloc(((size_t)n + 2) * sizeof *rs);
  int64_t *tmp = tl_alloc(((size_t)n + 1) * sizeof *tmp);
  if (!rs || !tmp) { tl_free(rs); tl_free(tmp); return tl_error_oom(err, op); }
  for (int64_t i = 0; i < m; i++)
    if (i == 0 || K[i] != K[i - 1]) rs[nruns++] = i;
  if (m < n) rs[nruns++] = m;                  /* one run of null rows */
  rs[nruns] = n;
  /* A long run sorts on every thread by itself; the short ones share the
  ** threads, a range of runs per task. */
  int64_t big = n / 4 > PAR_MIN ? n / 4 : PAR_MIN, q0 = 0;
  for (int64_t q = 0; q <= nruns; q++) {
    if (q < nruns && rs[q + 1] - rs[q] < big) continue;
    if (q > q0) {
      runs r = { k + 1, nk - 1, perm, tmp, rs + q0, q - q0, 1 };
      if (rs[q] - rs[q0] >= PAR_MIN) r.ntasks = 8 * (int64_t)tl_get_threads();
      if (r.ntasks > r.nruns) r.ntasks = r.nruns;
      tl_parallel_for(r.ntasks, sort_runs, &r);
    }
    if (q < nruns)
      sort_rows(k + 1, nk - 1, perm + rs[q], tmp + rs[q], rs[q + 1] - rs[q]);
    q0 = q + 1;
  }
  tl_free(rs);
  tl_free(tmp);
  return TL_OK;
}

/* Several fixed-width keys whose images span few enough values pack into
** one 64-bit image per row, the first key in the high bits: each key's
** image less its smallest, nulls one past its largest (last either way).
** Equal packs are equal keys, so one radix sort of the packs is the sort.
** Returns the packs (tl_free), or NULL when the keys do not fit (or memory
** is short: the comparator sort needs none). */
static uint64_t *pack_keys(const skey *k, int nk, int64_t n) {
  uint64_t lo[8], span[8];
  int shift[8], total = 0;
  if (nk > 8 || n < 2) return NULL;
  for (int j = 0; j < nk; j++) {
    if (k[j].kind == K_STR) return NULL;
    uint64_t a = UINT64_MAX, b = 0;
    int nulls = 0;
    for (int64_t i = 0; i < n; i++) {
      if (kclass(&k[j], i)) { nulls = 1; continue; }
      uint64_t u = kbits(&k[j], i);
      if (u < a) a = u;
      if (u > b) b = u;
    }
    if (a > b) a = b = 0;                      /* nulls only */
    if (nulls && b - a == UINT64_MAX) return NULL;
    lo[j] = a;
    span[j] = b - a + (uint64_t)nulls;         /* the largest packed value of key j */
    int bits = 0;
    while (bits < 64 && (span[j] >> bits) != 0) bits++;
    shift[j] = bits;
    total += bits;
    if (total > 64) return NULL;
  }
  uint64_t *p = tl_alloc(((size_t)n + 1) * sizeof *p);
  if (!p) return NULL;
  for (int64_t i = 0; i < n; i++) {
    uint64_t u = 0;
    if ((i & 0xffff) == 0 && tl_interrupted()) { tl_free(p); return NULL; }   /* the caller looks */
    for (int j = 0; j < nk; j++) {
      uint64_t v = kclass(&k[j], i) ? span[j] : kbits(&k[j], i) - lo[j];
      u = shift[j] == 64 ? v : (u << shift[j]) | v;
    }
    p[i] = u;
  }
  return p;
}

/* The permutation of the sort into perm (n rows). */
static tl_status sort_perm(const tl_table *t, const skey *k, int nk, int64_t *perm,
                           const char *op, tl_error *err) {
  int64_t n = t->nrows;
  uint64_t *packs = nk > 1 ? pack_keys(k, nk, n) : NULL;
  if (packs) {
    skey pk = { K_PACK, 0, packs, NULL, NULL, NULL, NULL };
    tl_status st = radix_sort(&pk, n, perm, NULL, NULL, op, err);
    tl_free(packs);
    if (st == TL_OK && tl_interrupted()) st = tl_error_interrupted(err, op);
    return st;
  }
  if (k[0].kind != K_STR) {
    uint64_t *K = NULL;
    int64_t m = 0;
    TL_TRY(radix_sort(&k[0], n, perm, nk > 1 ? &K : NULL, &m, op, err));
    tl_status st = nk == 1 ? TL_OK : refine(t, k, nk, perm, K, m, op, err);
    tl_free(K);
    if (st == TL_OK && tl_interrupted()) st = tl_error_interrupted(err, op);
    return st;
  }
  int64_t *tmp = tl_alloc(((size_t)n + 1) * sizeof *tmp);
  if (!tmp) return tl_error_oom(err, op);
  for (int64_t i = 0; i < n; i++) perm[i] = i;
  sort_rows(k, nk, perm, tmp, n);
  tl_free(tmp);
  return tl_interrupted() ? tl_error_interrupted(err, op) : TL_OK;
}

/* The table through the permutation; itself when that is the identity. */
static tl_status apply_perm(const tl_table *t, const int64_t *perm, int64_t n, tl_table **out,
                            tl_error *err) {
  if (n == t->nrows) {
    int64_t i = 0;
    while (i < n && perm[i] == i) i++;
    if (i == n) { *out = tl_table_retain((tl_table *)t); return TL_OK; }
  }
  return tl_table_take(t, perm, n, out, err);
}

static tl_status sort_names(const tl_table *t, int nkeys, const char *const *keys,
                            tl_table **out, tl_error *err);

tl_status tl_table_sort(const tl_table *t, int nkeys, const char *const *keys, tl_table **out,
                        tl_error *err) {
  TL_TRY(tl_table_check_files(t, "sort", err));
  tl_keys k;
  TL_TRY(tl_keys_resolve(t, nkeys, keys, 1, "sort", &k, err));
  tl_status st = sort_names(k.t, nkeys, k.keys, out, err);
  if (st == TL_OK) st = tl_keys_drop_added(&k, out, err);
  tl_keys_free(&k);
  return st;
}

static tl_status sort_names(const tl_table *t, int nkeys, const char *const *keys,
                            tl_table **out, tl_error *err) {
  skey *k;
  TL_TRY(make_keys(t, nkeys, keys, "sort", &k, err));
  int64_t n = t->nrows;
  int64_t *perm = tl_alloc(((size_t)n + 1) * sizeof *perm);
  tl_status st = perm ? TL_OK : tl_error_oom(err, "sort");
  if (st == TL_OK) st = sort_perm(t, k, nkeys, perm, "sort", err);
  free_keys(k, nkeys);
  if (st == TL_OK) st = apply_perm(t, perm, n, out, err);
  tl_free(perm);
  return st;
}

/* ---------------------------------------------------------------------------
** Where probe rows fall in a sorted table: the cuts of a distributed sort.
*/

tl_status tl_table_sorted_counts(const tl_table *sorted, const tl_table *probes, int nkeys,
                                 const char *const *keys, int64_t *counts, tl_error *err) {
  TL_TRY(tl_table_check_files(sorted, "sorted_counts", err));
  TL_TRY(tl_table_check_files(probes, "sorted_counts", err));
  if (nkeys < 1) return tl_error_set(err, TL_EINVAL, "sort: expected at least one key");
  const char **names = tl_calloc((size_t)nkeys, sizeof *names);
  if (!names) return tl_error_oom(err, "sort");
  for (int j = 0; j < nkeys; j++)   /* the columns themselves, without the '-' */
    names[j] = keys[j][0] == '-' && tl_table_find(sorted, keys[j]) < 0 ? keys[j] + 1 : keys[j];
  tl_table *a = NULL, *b = NULL, *both = NULL;
  tl_status st = tl_table_select(sorted, nkeys, names, &a, err);
  if (st == TL_OK) st = tl_table_select(probes, nkeys, names, &b, err);
  if (st == TL_OK) {   /* one table, so that one set of keys compares across both */
    const tl_table *two[2] = { a, b };
    st = tl_table_concat(2, two, &both, err);
  }
  skey *k = NULL;
  if (st == TL_OK) st = make_keys(both, nkeys, keys, "sort", &k, err);
  if (st == TL_OK) {
    int64_t n = sorted->nrows;
    for (int64_t q = 0; q < probes->nrows; q++) {
      int64_t lo = 0, hi = n;
      while (lo < hi) {   /* the first row after probe q */
        int64_t mid = lo + (hi - lo) / 2;
        if (cmp_keys(k, nkeys, mid, n + q) <= 0) lo = mid + 1;
        else hi = mid;
      }
      counts[q] = lo;
    }
    free_keys(k, nkeys);
  }
  tl_table_release(a);
  tl_table_release(b);
  tl_table_release(both);
  tl_free(names);
  return st;
}

/* ---------------------------------------------------------------------------
** Top: per chunk of rows, a max-heap of the best n rows seen (the worst of
** them at the root), so that most rows cost one comparison with the root.
*/

typedef struct top {
  const skey *k;
  int nk;
  int64_t nrows, n, parts;
  int fast;                 /* one fixed-width key: heaps of (image, row) */
  uint64_t *hk;             /* parts x n */
  int64_t *hr;              /* parts x n */
  int64_t *size;            /* per chunk */
} top;

/* (ka, ra) after (kb, rb) */
#define PAIR_GT(ka, ra, kb, rb) ((ka) > (kb) || ((ka) == (kb) && (ra) > (rb)))

static void pair_down(uint64_t *hk, int64_t *hr, int64_t size, int64_t i) {
  uint64_t key = hk[i];
  int64_t row = hr[i];
  for (;;) {
    int64_t c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && PAIR_GT(hk[c + 1], hr[c + 1], hk[c], hr[c])) c++;
    if (!PAIR_GT(hk[c], hr[c], key, row)) break;
    hk[i] = hk[c];
    hr[i] = hr[c];
    i = c;
  }
  hk[i] = key;
  hr[i] = row;
}

static void pair_up(uint64_t *hk, int64_t *hr, int64_t i) {
  uint64_t key = hk[i];
  int64_t row = hr[i];
  while (i > 0) {
    int64_t p = (i - 1) / 2;
    if (!PAIR_GT(key, row, hk[p], hr[p])) break;
    hk[i] = hk[p];
    hr[i] = hr[p];
    i = p;
  }
  hk[i] = key;
  hr[i] = row;
}

static void row_down(const skey *k, int nk, int64_t *h, int64_t size, int64_t i) {
  int64_t row = h[i];
  for (;;) {
    int64_t c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && cmp_rows(k, nk, h[c + 1], h[c]) > 0) c++;
    if (cmp_rows(k, nk, h[c], row) <= 0) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = row;
}

static void row_up(const skey *k, int nk, int64_t *h, int64_t i) {
  int64_t row = h[i];
  while (i > 0) {
    int64_t p = (i - 1) / 2;
    if (cmp_rows(k, nk, row, h[p]) <= 0) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = row;
}

static void top_chunk(void *ctx, int64_t c, int worker) {
  top *p = ctx;
  (void)worker;
  int64_t lo = p->nrows * c / p->parts, hi = p->nrows * (c + 1) / p->parts;
  int64_t n = p->n, size = 0;
  int64_t *hr = p->hr + c * n;
  if (p->fast && (p->k->kind == K_F64 || p->k->kind == K_I64)) {
    /* once the heap is full, a row must beat the root's value to matter, and
    ** one comparison in the values' own domain tells; nulls are looked at
    ** only for the rows that pass. NaN is the largest value: ascending it
    ** never beats the root, descending it always may (the images decide) */
    const skey *k = p->k;
    uint64_t *hk = p->hk + c * n;
    int desc = k->desc, f64 = k->kind == K_F64;
    const double *fv = k->v;
    const int64_t *iv = k->v;
    double fthr = 0;
    int64_t ithr = 0;
    for (int64_t i = lo; i < hi; i++) {
      if (size == n && f64 && desc) {          /* the usual case, eight rows a step */
        while (i + 8 <= hi) {
          int any = 0;
          for (int j = 0; j < 8; j++) any |= !(fv[i + j] <= fthr);
          if (any) break;
          i += 8;
        }
        if (i >= hi) break;
      }
      if (size == n) {
        if (f64 ? (desc ? fv[i] <= fthr : fv[i] >= fthr || fv[i] != fv[i])
                : !(desc ? iv[i] > ithr : iv[i] < ithr))
          continue;
      }
      if (k->valid && !TL_BIT_GET(k->valid, i)) continue;
      uint64_t u = kbits(k, i);
      if (size < n) {
        hk[size] = u;
        hr[size] = i;
        pair_up(hk, hr, size++);
      } else if (u < hk[0]) {
        hk[0] = u;
        hr[0] = i;
        pair_down(hk, hr, size, 0);
      }
      if (size == n) {
        if (f64) fthr = fv[hr[0]];
        else ithr = iv[hr[0]];
      }
    }
  } else if (p->fast) {   /* rows arrive in order: a later row equal to the root loses */
    const skey *k = p->k;
    uint64_t *hk = p->hk + c * n;
    for (int64_t i = lo; i < hi; i++) {
      if (kclass(k, i) != 0) continue;         /* nulls come after every value */
      uint64_t u = kbits(k, i);
      if (size < n) {
        hk[size] = u;
        hr[size] = i;
        pair_up(hk, hr, size++);
      } else if (u < hk[0]) {
        hk[0] = u;
        hr[0] = i;
        pair_down(hk, hr, size, 0);
      }
    }
  } else {
    for (int64_t i = lo; i < hi; i++) {
      if (size < n) {
        hr[size] = i;
        row_up(p->k, p->nk, hr, size++);
      } else if (cmp_rows(p->k, p->nk, i, hr[0]) < 0) {
        hr[0] = i;
        row_down(p->k, p->nk, hr, size, 0);
      }
    }
  }
  p->size[c] = size;
}

/* The first n rows of the order into perm; *count of them. */
static tl_status top_perm(const tl_table *t, const skey *k, int nk, int64_t n, int64_t *perm,
                          int64_t *count, tl_error *err) {
  top p;
  memset(&p, 0, sizeof p);
  p.k = k;
  p.nk = nk;
  p.nrows = t->nrows;
  p.n = n;
  p.parts = t->nrows < PAR_MIN ? 1 : tl_get_threads();
  p.fast = nk == 1 && k[0].kind != K_STR;
  size_t cells = (size_t)p.parts * (size_t)n + 1;
  p.hr = tl_alloc(cells * sizeof *p.hr);
  p.hk = p.fast ? tl_alloc(cells * sizeof *p.hk) : NULL;
  p.size = tl_calloc((size_t)p.parts, sizeof *p.size);
  int64_t *tmp = tl_alloc(cells * sizeof *tmp);
  if (!p.hr || (p.fast && !p.hk) || !p.size || !tmp) {
    tl_free(p.hr); tl_free(p.hk); tl_free(p.size); tl_free(tmp);
    return tl_error_oom(err, "top");
  }
  tl_parallel_for(p.parts, top_chunk, &p);
  /* the candidates of every chunk, sorted; the first n are the answer */
  int64_t total = 0;
  for (int64_t c = 0; c < p.parts; c++) {
    memmove(p.hr + total, p.hr + c * n, (size_t)p.size[c] * sizeof *p.hr);
    total += p.size[c];
  }
  sort_rows(k, nk, p.hr, tmp, total);
  int64_t m = total < n ? total : n;
  memcpy(perm, p.hr, (size_t)m * sizeof *perm);
  if (p.fast && m < n)                         /* then the null rows */
    for (int64_t i = 0; i < t->nrows && m < n; i++) if (kclass(k, i)) perm[m++] = i;
  tl_free(p.hr);
  tl_free(p.hk);
  tl_free(p.size);
  tl_free(tmp);
  *count = m;
  return tl_interrupted() ? tl_error_interrupted(err, "top") : TL_OK;
}

static tl_status top_names(const tl_table *t, int64_t n, int nkeys, const char *const *keys,
                           tl_table **out, tl_error *err);

tl_status tl_table_top(const tl_table *t, int64_t n, int nkeys, const char *const *keys,
                       tl_table **out, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "top", err));
  if (n < 0)
    return tl_error_set(err, TL_EINVAL, "top: the number of rows must not be negative, got %lld",
                        (long long)n);
  tl_keys k;
  TL_TRY(tl_keys_resolve(t, nkeys, keys, 1, "top", &k, err));
  tl_status st = top_names(k.t, n, nkeys, k.keys, out, err);
  if (st == TL_OK) st = tl_keys_drop_added(&k, out, err);
  tl_keys_free(&k);
  return st;
}

static tl_status top_names(const tl_table *t, int64_t n, int nkeys, const char *const *keys,
                           tl_table **out, tl_error *err) {
  skey *k;
  TL_TRY(make_keys(t, nkeys, keys, "top", &k, err));
  int64_t nrows = t->nrows;
  if (n > nrows) n = nrows;
  int64_t *perm = tl_alloc(((size_t)nrows + 1) * sizeof *perm), m = n;
  tl_status st = perm ? TL_OK : tl_error_oom(err, "top");
  if (st == TL_OK && n > 0) {
    if (n >= nrows / 4 || n > TOP_HEAP_MAX)   /* a large share: sorting is as good */
      st = sort_perm(t, k, nkeys, perm, "top", err);
    else
      st = top_perm(t, k, nkeys, n, perm, &m, err);
  }
  free_keys(k, nkeys);
  if (st == TL_OK) st = apply_perm(t, perm, m, out, err);
  tl_free(perm);
  return st;
}

/* ---------------------------------------------------------------------------
** distinct, value_counts, unique: groupings
*/

static tl_status distinct_names(const tl_table *t, int n, const char *const *cols,
                                tl_table **out, tl_error *err);

tl_status tl_table_distinct(const tl_table *t, int n, const char *const *cols, tl_table **out,
                            tl_error *err) {
  TL_TRY(tl_table_check_files(t, "distinct", err));
  if (n < 0) return tl_error_set(err, TL_EINVAL, "distinct: negative column count");
  tl_keys k;
  TL_TRY(tl_keys_resolve(t, n, cols, 0, "distinct", &k, err));
  tl_status st = distinct_names(k.t, n, k.keys, out, err);
  tl_keys_free(&k);
  return st;
}

static tl_status distinct_names(const tl_table *t, int n, const char *const *cols,
                                tl_table **out, tl_error *err) {
  if (n == 0) {
    if (t->ncol == 0) { *out = tl_table_retain((tl_table *)t); return TL_OK; }
    n = t->ncol;
    cols = (const char *const *)t->names;
  }
  for (int j = 0; j < n; j++) {
    int col;
    TL_TRY(tl_table_lookup(t, cols[j], "distinct", &col, err));
    for (int i = 0; i < j; i++)
      if (strcmp(cols[i], cols[j]) == 0)
        return tl_error_set(err, TL_EINVAL, "distinct: column '%s' is named twice", cols[j]);
  }
  tl_grouping *g;
  TL_TRY(tl_table_group_by(t, n, cols, &g, err));
  tl_status st = tl_grouping_keys(g, out, err);
  tl_grouping_free(g);
  return st;
}

/* Groups the one-column table (value) made of c. */
static tl_status group_values(const tl_column *c, tl_grouping **g, tl_error *err) {
  const char *name = "value";
  tl_column *col = (tl_column *)c;             /* tl_table_new retains it */
  tl_table *t;
  TL_TRY(tl_table_new(1, &name, &col, &t, err));
  tl_status st = tl_table_group_by(t, 1, &name, g, err);
  tl_table_release(t);                         /* the grouping holds it */
  return st;
}

tl_status tl_column_value_counts(const tl_column *c, tl_table **out, tl_error *err) {
  TL_TRY(tl_column_check_file(c, "value_counts", err));
  tl_grouping *g;
  TL_TRY(group_values(c, &g, err));
  const char *def = "count = count()", *key = "-count";
  tl_table *counts;
  tl_status st = tl_grouping_agg(g, 1, &def, &counts, err);
  tl_grouping_free(g);
  if (st != TL_OK) return st;
  st = tl_table_sort(counts, 1, &key, out, err);   /* stable: ties in order of appearance */
  tl_table_release(counts);
  return st;
}

tl_status tl_column_unique(const tl_column *c, tl_column **out, tl_error *err) {
  TL_TRY(tl_column_check_file(c, "unique", err));
  tl_grouping *g;
  TL_TRY(group_values(c, &g, err));
  tl_table *keys;
  tl_status st = tl_grouping_keys(g, &keys, err);
  tl_grouping_free(g);
  if (st != TL_OK) return st;
  *out = tl_column_retain(keys->cols[0]);
  tl_table_release(keys);
  return TL_OK;
}
