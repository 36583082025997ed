/*
** xsort.c -- external merge sort for scans. See xsort.h.
**
** A run is written in blocks (of at most BLOCK rows). The merge holds the
** current block of each run and a heap of the runs by their next row: it
** takes the least next row, row after row, noting where each comes from,
** and gathers a chunk of rows from the blocks at once (tl_table_gather);
** a run whose block is used up loads its next one. Each row is compared
** about log2(runs) times and copied once. The place in the input is the
** last key, so no two rows are equal and the order never depends on which
** run a row came from.
**
** The blocks of the runs merged at once and a chunk of rows are held
** together, so they are bounded by the room the sort was given: a block's rows are cut to fit it (from
** the bytes a gathered row took, down to one row, and by the bytes of
** their text when it is more: see weigh), and when there are more
** runs than a merge may take (its fan-in, 2 at least), the first runs are
** merged, in turns, into new runs (which any subset of runs may be, the
** places being global) until the rest fit one merge; so they are while
** rows still come in once OPEN_RUNS wait.
*/
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/table.h"
#include "ops/keys.h"
#include "spill.h"
#include "xsort.h"

#define BLOCK 16384
#define MAX_FAN 64
#define OPEN_RUNS 128     /* runs not merged yet, past which the first are */
#define PEND 64            /* pieces of rows handed out, given as one table */

typedef struct run {
  tl_spill *f;
  int64_t rows;            /* written */
  int done;
  /* while it is merged: */
  tl_table *blk;           /* its current block */
  tl_keys k;               /* the block's keys (a column added for each expression) */
  const tl_column **key;   /* the key columns of k.t */
  int64_t pos;             /* the block's next row */
  int piece;               /* the block's index among the chunk's; -1: not among them */
  int heavy;               /* its text takes more than s->row a row: rows are weighed */
} run;

struct tl_xsort {
  int nkeys;               /* sorted by: the last (the place) left out when `unique` */
  int unique;
  const char **keys;       /* the sink's, then the place */
  int *desc;               /* per key: descending */
  char *ord;               /* the hidden column of the places */
  tl_table *schema;        /* the batches', with the place */
  tl_table **list;
  int64_t nlist, cap, rows;
  run *runs;
  int nruns;
  tl_spiller by;
  int64_t threshold, floor, step;
  int64_t keep;            /* rows wanted; -1: all */
  int64_t given;           /* rows handed out */
  int64_t base;            /* bytes the env held when the sort began */
  int64_t gathered;        /* rows in the list, gathered since the last run */
  int64_t block;           /* rows a block of a run; 0: not chosen yet */
  int fan;                 /* runs a merge takes */
  int merges;              /* merges into a new run (passes before the last) */
  int lo;                  /* the first run not merged into another yet */
  int64_t row, room;       /* bytes a row was taken to hold; the room blocks were cut for */
  tl_table *pend[PEND];    /* rows handed out, not given to the receiver yet */
  int npend;
  int64_t npendrows, npendbytes;
  int64_t chunkbytes;      /* the weight of the chunk handed out (weigh) */
};

tl_status tl_xsort_new(int nkeys, const char *const *keys, const char *op,
                       const tl_table *schema, int64_t threshold, tl_xsort **out,
                       tl_error *err) {
  tl_xsort *s = tl_calloc(1, sizeof *s);
  *out = NULL;
  if (!s) return tl_error_oom(err, op);
  s->by.op = op;
  s->keep = -1;
  s->threshold = threshold;
  s->base = (int64_t)tl_env_memory(NULL);
  s->step = (threshold - s->base) / 4;
  s->nkeys = nkeys + 1;
  s->keys = tl_calloc((size_t)s->nkeys, sizeof *s->keys);
  s->desc = tl_calloc((size_t)s->nkeys, sizeof *s->desc);
  s->ord = tl_fresh_name(schema, schema, "_tally_row");
  tl_column *c = NULL;
  tl_status st = s->keys && s->desc && s->ord ? TL_OK : tl_error_oom(err, op);
  if (st == TL_OK) st = tl_column_alloc(TL_INT, 0, 0, 0, &c, err);
  if (st == TL_OK) st = tl_table_set_column(schema, s->ord, c, &s->schema, err);
  tl_column_release(c);
  if (st != TL_OK) { tl_xsort_free(s); return st; }
  for (int k = 0; k < nkeys; k++) s->keys[k] = keys[k];
  s->keys[nkeys] = s->ord;
  *out = s;
  return TL_OK;
}

void tl_xsort_keep(tl_xsort *s, int64_t n) { s->keep = n; }

void tl_xsort_unique(tl_xsort *s) { s->unique = s->nkeys > 1; }

/* Drops run r's current block. */
static void unload(run *r) {
  if (!r->blk) return;
  tl_keys_free(&r->k);
  tl_free(r->key);
  tl_table_release(r->blk);
  r->blk = NULL;
  r->key = NULL;
}

void tl_xsort_free(tl_xsort *s) {
  if (!s) return;
  for (int64_t k = 0; k < s->nlist; k++) tl_table_release(s->list[k]);
  for (int r = 0; r < s->nruns; r++) unload(&s->runs[r]), tl_spill_close(s->runs[r].f);
  for (int k = 0; k < s->npend; k++) tl_table_release(s->pend[k]);
  tl_free(s->list);
  tl_free(s->runs);
  tl_free(s->keys);
  tl_free(s->desc);
  tl_free(s->ord);
  tl_table_release(s->schema);
  tl_free(s);
}

void tl_xsort_spilled(const tl_xsort *s, int *runs, int64_t *bytes) {
  *runs = s->by.files;
  *bytes = s->by.written;
}

int tl_xsort_merges(const tl_xsort *s) { return s->merges; }

static tl_status reduce(tl_xsort *s, int most, tl_error *err);

/* An allocation of the sort's own work that failed names the sort's step
** (`sort: out of memory ...`), not the table function it was in. */
static tl_status own(const tl_xsort *s, tl_status st, tl_error *err) {
  return st == TL_ENOMEM ? tl_error_oom(err, s->by.op) : st;
}
static int64_t range_text(const tl_table *t, int64_t at, int64_t n);

static tl_status push(tl_xsort *s, tl_table *t, tl_error *err) {
  if (s->nlist == s->cap) {
    int64_t cap = s->cap ? 2 * s->cap : 64;
    tl_table **l = tl_realloc(s->list, (size_t)cap * sizeof *l);
    if (!l) { tl_table_release(t); return tl_error_oom(err, s->by.op); }
    s->list = l;
    s->cap = cap;
  }
  s->list[s->nlist++] = t;
  s->gathered += tl_table_nrows(t);
  return TL_OK;
}

/* The gathered batches as one table sorted by the keys and place; the
** list empties. */
static tl_status sort_list(tl_xsort *s, tl_table **out, tl_error *err) {
  tl_table *all = NULL;
  tl_status st = TL_OK;
  if (s->nlist == 0) all = tl_table_retain(s->schema);
  else st = tl_table_concat_consume((int)s->nlist, s->list, &all, err);
  for (int64_t k = 0; k < s->nlist; k++) tl_table_release(s->list[k]);
  s->nlist = s->gathered = 0;
  if (st == TL_OK) st = tl_table_sort(all, s->nkeys - s->unique, s->keys, out, err);
  tl_table_release(all);
  return own(s, st, err);
}

/* The rows of a block and the fan-in of a merge, chosen at the first run
** from the bytes a gathered row took and the bytes a block's table takes
** beside its rows: what a merge holds (fan blocks, a chunk of half as many
** rows gathered from them, the rows handed out and not given yet) fits in
** the room the sort was given, or a quarter of what is left under
** the limit when that is more (a sort made past its threshold, as a
** grouping's ending), down to blocks of one row and a fan-in of 2 (then
** the merge takes several passes). */
static void choose_block(tl_xsort *s) {
  if (s->block) return;
  size_t limit = tl_env_memory_limit(NULL);
  int64_t room = s->threshold - s->base, used = (int64_t)tl_env_memory(NULL) - s->base;
  int64_t left = ((int64_t)limit - (int64_t)tl_env_memory(NULL)) / 4;
  if (left > room) room = left;
  if (!limit) room = (int64_t)1 << 30;
  int64_t row = s->gathered > 0 && used > 0 ? used / s->gathered : 64;
  if (s->gathered > 0) {   /* at least what the rows hold (8 bytes a value, and their text):
                           ** the bytes in use undercount them when they were gathered before
                           ** the sort began (a top past its threshold, a grouping's end) */
    int64_t held = 0;
    for (int64_t k = 0; k < s->nlist; k++)
      held += 8 * tl_table_nrows(s->list[k]) * tl_table_ncols(s->list[k]) +
              range_text(s->list[k], 0, tl_table_nrows(s->list[k]));
    if (held / s->gathered > row) row = held / s->gathered;
  }
  if (row < 16) row = 16;
  int64_t over = 256 * (int64_t)tl_table_ncols(s->schema);   /* a table's own blocks */
  int64_t b = (room / 24 - over) / row;
  s->block = b < 1 ? 1 : b > BLOCK ? BLOCK : b;
  int64_t fan = room / (3 * (s->block * row + over));
  s->fan = fan < 2 ? 2 : fan > MAX_FAN ? MAX_FAN : (int)fan;
  s->row = row + over / s->block;
  s->room = room;
}

/* The bytes of the text of row i of t (its other values are in s->row). */
static int64_t text_bytes(const tl_table *t, int64_t i) {
  int64_t n = 0;
  for (int j = 0; j < tl_table_ncols(t); j++) {
    const tl_column *c = tl_table_column(t, j);
    size_t len = 0;
    if (c->type == TL_STRING && !(c->validity && !TL_BIT_GET(c->validity, i)))
      tl_column_string_at(c, i, &len);
    n += (int64_t)len;
  }
  return n;
}

/* What a row is taken to hold: s->row, or more when its text alone is
** more (a few long strings among short ones: the blocks, chunks and rows
** handed out are cut by bytes, not by rows of the mean size). */
static int64_t weigh(const tl_xsort *s, const tl_table *t, int64_t i) {
  int64_t b = text_bytes(t, i);
  return b > s->row ? b : s->row;
}

/* The bytes of the text of rows [at, at + n) of t: plain text from its
** offsets at once, a dictionary's row by row. */
static int64_t range_text(const tl_table *t, int64_t at, int64_t n) {
  int64_t b = 0;
  for (int j = 0; j < tl_table_ncols(t); j++) {
    const tl_column *c = tl_table_column(t, j);
    if (c->type != TL_STRING) continue;
    if (!c->dict) {
      const int64_t *off = c->values;
      b += off[at + n] - off[at];
      continue;
    }
    for (int64_t i = at; i < at + n; i++) {
      size_t len = 0;
      if (!(c->validity && !TL_BIT_GET(c->validity, i))) tl_column_string_at(c, i, &len);
      b += (int64_t)len;
    }
  }
  return b;
}

/* The rows from `at` (at most `most`, at least one) that make a block of a
** run: as many as the block was chosen for, fewer when their text is more
** than those rows were taken to hold. */
static int64_t block_rows(const tl_xsort *s, const tl_table *t, int64_t at, int64_t most) {
  int64_t budget = s->block * s->row;
  if (most > s->block) most = s->block;
  if (range_text(t, at, most) <= budget) return most;
  int64_t k = 0, bytes = 0;
  while (k < most && (k == 0 || bytes + weigh(s, t, at + k) <= budget))
    bytes += weigh(s, t, at + k++);
  return k;
}

/* A new run, empty, at the end of the list; *k its index. */
static tl_status new_run(tl_xsort *s, int *k, tl_error *err) {
  run *r = tl_realloc(s->runs, (size_t)(s->nruns + 1) * sizeof *r);
  if (!r) return tl_error_oom(err, s->by.op);
  s->runs = r;
  r = &s->runs[s->nruns];
  memset(r, 0, sizeof *r);
  TL_TRY(tl_spill_open(&s->by, &r->f, err));
  *k = s->nruns++;
  return TL_OK;
}

/* Sorted rows t (taken) to the end of run k, in blocks; past the rows
** wanted (a top) they are left out: they never make it. */
static tl_status write_rows(tl_xsort *s, int k, tl_table *t, tl_error *err) {
  run *r = &s->runs[k];
  int64_t n = tl_table_nrows(t);
  if (s->keep >= 0 && n > s->keep - r->rows) n = s->keep - r->rows;
  tl_status st = TL_OK;
  for (int64_t at = 0, m; at < n && st == TL_OK; at += m) {
    if (tl_interrupted()) { st = tl_error_interrupted(err, s->by.op); break; }
    m = block_rows(s, t, at, n - at);
    st = tl_spill_put_rows(r->f, t, at, m, err);
  }
  if (st == TL_OK) r->rows += n;
  tl_table_release(t);
  return st;
}

/* Sorts what is gathered and writes it as a new run. */
static tl_status spill_run(tl_xsort *s, tl_error *err) {
  int k;
  choose_block(s);
  TL_TRY(new_run(s, &k, err));
  tl_table *t = NULL;
  TL_TRY(sort_list(s, &t, err));
  return write_rows(s, k, t, err);
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
  /* a small room over a large input: not a file open per run */
  if (s->nruns - s->lo > OPEN_RUNS) TL_TRY(reduce(s, OPEN_RUNS / 2, err));
  s->floor = (int64_t)tl_env_memory(NULL);
  return TL_OK;
}

/* Where a merge's rows go (t taken, with the place column): to the
** receiver, or to another run. */
typedef struct merge_out {
  tl_xsort_emit emit;      /* NULL: into run `into` */
  void *ctx;
  int into;
} merge_out;

/* The rows handed out and not yet given to the receiver, as one table. */
static tl_status flush(tl_xsort *s, tl_xsort_emit emit, void *ctx, tl_error *err) {
  tl_table *u = NULL;
  tl_status st = TL_OK;
  if (s->npend == 0) return TL_OK;
  if (s->npend == 1) u = s->pend[0];
  else st = tl_table_concat(s->npend, (const tl_table *const *)s->pend, &u, err);
  for (int k = s->npend == 1 ? 1 : 0; k < s->npend; k++) tl_table_release(s->pend[k]);
  s->npend = 0;
  s->npendrows = s->npendbytes = 0;
  return st == TL_OK ? emit(ctx, u, err) : own(s, st, err);
}

/* t without the place column, to the receiver (cut at the rows wanted).
** A merge in a small room hands out a few rows at a step: they are given
** in tables of up to PEND pieces, BLOCK rows or an eighth of the room, not
** one each, which would take more than the rows in a receiver's list. */
static tl_status emit_rows(tl_xsort *s, tl_table *t, tl_xsort_emit emit, void *ctx,
                           tl_error *err) {
  tl_table *u = NULL, *v = NULL;
  const char *drop = s->ord;
  int64_t n = tl_table_nrows(t);
  if (s->keep >= 0 && n > s->keep - s->given) n = s->keep - s->given;
  s->given += n;
  tl_status st = tl_table_slice(t, 0, n, &v, err);
  tl_table_release(t);
  if (st == TL_OK) st = tl_table_drop(v, 1, &drop, &u, err);
  tl_table_release(v);
  if (st != TL_OK) return st;
  s->pend[s->npend++] = u;
  s->npendrows += n;
  s->npendbytes += s->chunkbytes;
  s->chunkbytes = 0;
  int full = s->npend == PEND || s->npendrows >= BLOCK || s->npendrows * s->row >= s->room / 8 ||
             s->npendbytes >= s->room / 8;
  return full ? flush(s, emit, ctx, err) : TL_OK;
}

/* Run r's next block, its keys resolved (the block is dropped once used up:
** a chunk that holds rows of it holds the block too). */
static tl_status load(tl_xsort *s, run *r, tl_error *err) {
  unload(r);
  r->pos = 0;
  r->piece = -1;
  tl_table *t = NULL;
  TL_TRY(own(s, tl_spill_get_table(r->f, s->schema, &t, err), err));
  if (!t || tl_table_nrows(t) == 0) { tl_table_release(t); r->done = 1; return TL_OK; }
  r->blk = t;
  r->heavy = range_text(t, 0, tl_table_nrows(t)) > tl_table_nrows(t) * s->row;
  TL_TRY(tl_keys_resolve(t, s->nkeys, s->keys, 1, s->by.op, &r->k, err));
  r->key = tl_calloc((size_t)s->nkeys, sizeof *r->key);
  if (!r->key) return tl_error_oom(err, s->by.op);
  for (int j = 0; j < s->nkeys; j++) {
    const char *name = r->k.keys[j];
    int desc = name[0] == '-' && tl_table_find(r->k.t, name) < 0, col;
    TL_TRY(tl_table_lookup(r->k.t, name + desc, s->by.op, &col, err));
    r->key[j] = tl_table_column(r->k.t, col);
    s->desc[j] = desc;
  }
  return TL_OK;
}

/* The order of runs a's and b's next rows: the sort's (nulls last, in
** either direction). */
static int before(const tl_xsort *s, const run *a, const run *b) {
  for (int j = 0; j < s->nkeys; j++) {
    const tl_column *x = a->key[j], *y = b->key[j];
    int nx = x->validity && !TL_BIT_GET(x->validity, a->pos);
    int ny = y->validity && !TL_BIT_GET(y->validity, b->pos);
    if (nx != ny) return nx < ny;
    if (nx) continue;
    int c = tl_column_compare_values(x, a->pos, y, b->pos);
    if (c) return s->desc[j] ? c > 0 : c < 0;
  }
  return 0;
}

static void sift_down(const tl_xsort *s, int *heap, int n, int i) {
  for (;;) {
    int l = 2 * i + 1, m = i;
    if (l < n && before(s, &s->runs[heap[l]], &s->runs[heap[m]])) m = l;
    if (l + 1 < n && before(s, &s->runs[heap[l + 1]], &s->runs[heap[m]])) m = l + 1;
    if (m == i) return;
    int t = heap[i]; heap[i] = heap[m]; heap[m] = t;
    i = m;
  }
}

static tl_status put_rows(tl_xsort *s, tl_table *t, const merge_out *o, tl_error *err) {
  return o->emit ? emit_rows(s, t, o->emit, o->ctx, err) : write_rows(s, o->into, t, err);
}

/* The rows of a merge taken so far, and the blocks they come from. */
typedef struct chunk {
  int32_t *part;
  int64_t *row;
  int64_t n, cap;
  int64_t bytes, most;     /* the rows' weight, and the most a chunk takes */
  tl_table **pieces;
  int npieces, piececap;
} chunk;

/* Row r->pos of run r to the chunk. */
static tl_status take_row(tl_xsort *s, chunk *c, run *r, tl_error *err) {
  if (r->piece < 0) {
    if (c->npieces == c->piececap) {
      int cap = c->piececap ? 2 * c->piececap : 16;
      tl_table **p = tl_realloc(c->pieces, (size_t)cap * sizeof *p);
      if (!p) return tl_error_oom(err, s->by.op);
      c->pieces = p;
      c->piececap = cap;
    }
    c->pieces[c->npieces] = tl_table_retain(r->blk);
    r->piece = c->npieces++;
  }
  c->bytes += r->heavy ? weigh(s, r->blk, r->pos) : s->row;
  c->part[c->n] = r->piece;
  c->row[c->n++] = r->pos++;
  return TL_OK;
}

/* The chunk's rows as one table, to o; the chunk empties. */
static tl_status put_chunk(tl_xsort *s, chunk *c, int lo, int hi, const merge_out *o,
                           tl_error *err) {
  tl_table *t = NULL;
  tl_status st = tl_table_gather(c->npieces, (const tl_table *const *)c->pieces, c->part,
                                 c->row, c->n, &t, err);
  for (int k = 0; k < c->npieces; k++) tl_table_release(c->pieces[k]);
  for (int r = lo; r < hi; r++) s->runs[r].piece = -1;
  c->npieces = 0;
  c->n = 0;
  s->chunkbytes = c->bytes;
  c->bytes = 0;
  return st == TL_OK ? put_rows(s, t, o, err) : own(s, st, err);
}

/* Merges runs lo .. hi (the list empty) into o; their files are closed. */
static tl_status merge_runs(tl_xsort *s, int lo, int hi, const merge_out *o, tl_error *err) {
  int n = 0, *heap = tl_calloc((size_t)(hi - lo) + 1, sizeof *heap);
  chunk c = { 0 };
  c.cap = s->block * s->fan / 2;
  if (c.cap < 64) c.cap = 64;
  if (c.cap > BLOCK) c.cap = BLOCK;
  c.most = c.cap * s->row;
  c.part = tl_alloc((size_t)c.cap * sizeof *c.part);
  c.row = tl_alloc((size_t)c.cap * sizeof *c.row);
  tl_status st = heap && c.part && c.row ? TL_OK : tl_error_oom(err, s->by.op);
  for (int r = lo; r < hi && st == TL_OK; r++)
    if ((st = load(s, &s->runs[r], err)) == TL_OK && !s->runs[r].done) heap[n++] = r;
  for (int i = n / 2 - 1; st == TL_OK && i >= 0; i--) sift_down(s, heap, n, i);
  while (st == TL_OK && n > 0) {
    if (o->emit && s->keep >= 0 && s->given >= s->keep) break;
    if (tl_interrupted()) { st = tl_error_interrupted(err, s->by.op); break; }
    while (st == TL_OK && n > 0 && c.n < c.cap && c.bytes < c.most) {
      run *r = &s->runs[heap[0]];
      st = take_row(s, &c, r, err);
      if (st == TL_OK && r->pos == tl_table_nrows(r->blk)) {
        st = load(s, r, err);
        if (st == TL_OK && r->done) heap[0] = heap[--n];
      }
      if (st == TL_OK && n > 0) sift_down(s, heap, n, 0);
    }
    if (st == TL_OK && c.n) st = put_chunk(s, &c, lo, hi, o, err);
  }
  for (int k = 0; k < c.npieces; k++) tl_table_release(c.pieces[k]);
  for (int r = lo; r < hi; r++) {
    unload(&s->runs[r]);
    tl_spill_close(s->runs[r].f), s->runs[r].f = NULL;
  }
  tl_free(c.pieces);
  tl_free(c.part);
  tl_free(c.row);
  tl_free(heap);
  return st;
}

/* Merges the first runs not merged yet, fan at a time, into new runs until
** at most `most` are left (the list empty). */
static tl_status reduce(tl_xsort *s, int most, tl_error *err) {
  while (s->nruns - s->lo > most) {
    merge_out into = { NULL, NULL, 0 };
    TL_TRY(new_run(s, &into.into, err));
    TL_TRY(merge_runs(s, s->lo, s->lo + s->fan, &into, err));
    s->lo += s->fan;
    s->merges++;
  }
  return TL_OK;
}

tl_status tl_xsort_finish(tl_xsort *s, tl_xsort_emit emit, void *ctx, tl_error *err) {
  if (s->nruns == 0) {   /* it all fit: the in-memory sort */
    tl_table *t = NULL;
    TL_TRY(sort_list(s, &t, err));
    TL_TRY(emit_rows(s, t, emit, ctx, err));
    return flush(s, emit, ctx, err);
  }
  if (s->nlist) TL_TRY(spill_run(s, err));
  TL_TRY(reduce(s, s->fan, err));   /* too many for one merge: the first into new runs */
  merge_out o = { emit, ctx, 0 };
  TL_TRY(merge_runs(s, s->lo, s->nruns, &o, err));
  return flush(s, emit, ctx, err);
}
