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
#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/table.h"
#include "agg/partial.h"
#include "base/error.h"
#include "ops/keys.h"
#include "spill.h"
#include "spill_agg.h"

#define XLEVELS 48

struct tl_xagg {
  int nkeys;
  const char *const *keys;
  int ndefs;
  const char **defs;        /* the sink's, then the hidden one */
  char *ord, *orddef;       /* the hidden column and its definition */
  /* per partition, the states of consecutive runs of batches, a binary
  ** counter: acc[p][l] holds 2^l batches' (or none), the higher levels the
  ** older, so that a group's states are merged about log2(batches) times,
  ** not once per batch into states that hold every group so far */
  tl_partial *acc[TL_XAGG_PARTS][XLEVELS];
  tl_spill *file[TL_XAGG_PARTS];
  tl_spiller by;
  int nparts;               /* partitions in use, of TL_XAGG_PARTS */
  int64_t threshold, floor, step;
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
                      tl_xagg **out, tl_error *err) {
  tl_xagg *a = tl_calloc(1, sizeof *a);
  *out = NULL;
  if (!a) return tl_error_oom(err, "group_by");
  a->nkeys = sink->na;
  a->keys = (const char *const *)sink->a;
  a->ndefs = sink->nb + 1;
  a->by.op = "group_by";
  a->threshold = threshold;
  /* a batch in flight holds a partial per partition: many only with room */
  a->nparts = threshold - (int64_t)tl_env_memory(NULL) >= ((int64_t)128 << 20) ? TL_XAGG_PARTS : 8;
  a->step = (threshold - (int64_t)tl_env_memory(NULL)) / 4;
  a->defs = tl_calloc((size_t)a->ndefs, sizeof *a->defs);
  a->ord = tl_fresh_name(sink->schema, schema, "_tally_first_row");
  size_t n = a->ord ? 2 * strlen(a->ord) + 16 : 0;
  a->orddef = a->ord ? tl_alloc(n) : NULL;
  if (!a->defs || !a->orddef) { tl_xagg_free(a); return tl_error_oom(err, "group_by"); }
  snprintf(a->orddef, n, "%s = min(%s)", a->ord, a->ord);
  for (int k = 0; k < sink->nb; k++) a->defs[k] = sink->b[k];
  a->defs[sink->nb] = a->orddef;
  *out = a;
  return TL_OK;
}

void tl_xagg_free(tl_xagg *a) {
  if (!a) return;
  for (int p = 0; p < TL_XAGG_PARTS; p++) {
    for (int l = 0; l < XLEVELS; l++) tl_partial_free(a->acc[p][l]);
    tl_spill_close(a->file[p]);
  }
  tl_free(a->defs);
  tl_free(a->ord);
  tl_free(a->orddef);
  tl_free(a);
}

void tl_xagg_spilled(const tl_xagg *a, int *files, int64_t *bytes) {
  *files = a->by.files;
  *bytes = a->by.written;
}

/* The hash of row i's value, by content and with equal keys hashing
** alike: -0.0 as 0.0, every NaN alike, a dictionary's string by its text. */
static uint64_t cell_hash(const tl_column *c, int64_t i, uint64_t h) {
  if (c->validity && !TL_BIT_GET(c->validity, i)) return XXH3_64bits_withSeed("", 0, h ^ 0x6e756c6c);
  uint64_t v = 0;
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP: v = (uint64_t)((const int64_t *)c->values)[i]; break;
    case TL_FLOAT: {
      double d = ((const double *)c->values)[i];
      if (d == 0) d = 0;
      if (d != d) d = NAN;
      memcpy(&v, &d, 8);
      break;
    }
    case TL_DATE: v = (uint64_t)(uint32_t)((const int32_t *)c->values)[i]; break;
    case TL_BOOL: v = TL_BIT_GET((const uint8_t *)c->values, i); break;
    default: {
      size_t n;
      const char *s = tl_column_string_at(c, i, &n);
      return XXH3_64bits_withSeed(s, n, h);
    }
  }
  return XXH3_64bits_withSeed(&v, 8, h);
}

/* The partition of each row of t by its keys (expressions evaluated). */
static tl_status partition_rows(const tl_xagg *a, const tl_table *t, uint8_t *pid, tl_error *err) {
  tl_keys k;
  TL_TRY(tl_keys_resolve(t, a->nkeys, a->keys, 0, "group_by", &k, err));
  int64_t n = tl_table_nrows(t);
  for (int64_t i = 0; i < n; i++) pid[i] = 0;
  uint64_t *h = tl_alloc((size_t)(n ? n : 1) * sizeof *h);
  tl_status st = h ? TL_OK : tl_error_oom(err, "group_by");
  for (int64_t i = 0; st == TL_OK && i < n; i++) h[i] = 0x2545f4914f6cdd1dULL;
  for (int j = 0; st == TL_OK && j < k.n; j++) {
    const tl_column *c = tl_table_column(k.t, tl_table_find(k.t, k.keys[j]));
    for (int64_t i = 0; i < n; i++) h[i] = cell_hash(c, i, h[i]);
  }
  for (int64_t i = 0; st == TL_OK && i < n; i++) pid[i] = (uint8_t)((h[i] >> 32) % (uint64_t)a->nparts);
  tl_free(h);
  tl_keys_free(&k);
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

/* The partial states of the rows of u in partition p. */
static tl_status part_states(const tl_xagg *a, const tl_table *u, const int64_t *rows,
                             int64_t n, tl_partial **out, tl_error *err) {
  tl_table *sub = NULL;
  tl_grouping *g = NULL;
  TL_TRY(tl_table_take(u, rows, n, &sub, err));
  tl_status st = tl_table_group_by(sub, a->nkeys, a->keys, &g, err);
  if (st == TL_OK) st = tl_grouping_partial(g, a->ndefs, a->defs, NULL, out, err);
  if (st == TL_OK) tl_partial_trim(*out);
  tl_grouping_free(g);
  tl_table_release(sub);
  return st;
}

tl_status tl_xagg_part(const tl_xagg *a, const tl_table *t, int64_t morsel,
                       tl_partial *parts[TL_XAGG_PARTS], tl_error *err) {
  for (int p = 0; p < TL_XAGG_PARTS; p++) parts[p] = NULL;
  int64_t n = tl_table_nrows(t);
  if (n == 0) return TL_OK;
  tl_table *u = NULL;
  TL_TRY(with_place(a, t, morsel, &u, err));
  uint8_t *pid = tl_alloc((size_t)n);
  int64_t *rows = tl_alloc((size_t)n * sizeof *rows);
  int64_t start[TL_XAGG_PARTS + 1] = {0};
  tl_status st = pid && rows ? TL_OK : tl_error_oom(err, "group_by");
  if (st == TL_OK) st = partition_rows(a, u, pid, err);
  if (st == TL_OK) {   /* the rows of each partition, in order */
    int64_t at[TL_XAGG_PARTS];
    for (int64_t i = 0; i < n; i++) start[pid[i] + 1]++;
    for (int p = 0; p < TL_XAGG_PARTS; p++) start[p + 1] += start[p], at[p] = start[p];
    for (int64_t i = 0; i < n; i++) rows[at[pid[i]]++] = i;
  }
  for (int p = 0; p < TL_XAGG_PARTS && st == TL_OK; p++)
    if (start[p + 1] > start[p])
      st = part_states(a, u, rows + start[p], start[p + 1] - start[p], &parts[p], err);
  tl_free(pid);
  tl_free(rows);
  tl_table_release(u);
  if (st != TL_OK)
    for (int p = 0; p < TL_XAGG_PARTS; p++) tl_partial_free(parts[p]), parts[p] = NULL;
  return st;
}

/* Partition p's states in memory as one (*out NULL: none), the runs
** merged oldest first. */
static tl_status fold_levels(tl_xagg *a, int p, tl_partial **out, tl_error *err) {
  tl_partial *m = NULL;
  tl_status st = TL_OK;
  for (int l = XLEVELS - 1; l >= 0; l--) {
    tl_partial *d = a->acc[p][l];
    a->acc[p][l] = NULL;
    if (!d) continue;
    if (!m) { m = d; continue; }
    if (st == TL_OK) st = tl_partial_merge(m, d, err);
    tl_partial_free(d);
  }
  if (st != TL_OK) { tl_partial_free(m); m = NULL; }
  *out = m;
  return st;
}

/* Writes the states in memory to their partitions' files and frees them. */
static tl_status spill_all(tl_xagg *a, tl_error *err) {
  for (int p = 0; p < TL_XAGG_PARTS; p++) {
    tl_partial *m = NULL;
    if (tl_interrupted()) return tl_error_interrupted(err, "group_by");
    TL_TRY(fold_levels(a, p, &m, err));
    if (!m) continue;
    void *buf = NULL;
    size_t len = 0;
    tl_status st = a->file[p] ? TL_OK : tl_spill_open(&a->by, &a->file[p], err);
    if (st == TL_OK) st = tl_partial_encode(m, &buf, &len, err);
    tl_partial_free(m);
    if (st == TL_OK) st = tl_spill_put(a->file[p], buf, len, err);
    tl_free(buf);
    if (st != TL_OK) return st;
  }
  return TL_OK;
}

/* Adds batch states d (taken) to partition p's counter: merged into the
** older runs of as many batches while there are such. */
static tl_status add_level(tl_xagg *a, int p, tl_partial *d, tl_error *err) {
  int l = 0;
  for (; l < XLEVELS - 1 && a->acc[p][l]; l++) {
    tl_partial *older = a->acc[p][l];
    tl_status st = tl_partial_merge(older, d, err);
    tl_partial_free(d);
    a->acc[p][l] = NULL;
    d = older;
    if (st != TL_OK) { tl_partial_free(d); return st; }
  }
  if (a->acc[p][l]) {   /* the top level: 2^47 batches, never in practice */
    tl_status st = tl_partial_merge(a->acc[p][l], d, err);
    tl_partial_free(d);
    return st;
  }
  a->acc[p][l] = d;
  return TL_OK;
}

tl_status tl_xagg_merge(tl_xagg *a, tl_partial *parts[TL_XAGG_PARTS], tl_error *err) {
  tl_status st = TL_OK;
  for (int p = 0; p < TL_XAGG_PARTS; p++) {
    if (!parts[p]) continue;
    if (st == TL_OK) st = add_level(a, p, parts[p], err);
    else tl_partial_free(parts[p]);
    parts[p] = NULL;
  }
  if (st != TL_OK || !a->threshold) return st;
  int64_t used = (int64_t)tl_env_memory(NULL);
  /* past the threshold, and the states grew since the last spill (what
  ** else is live, the batches in flight, is not the states' to free) */
  if (used <= a->threshold || used <= a->floor + a->step) return TL_OK;
  TL_TRY(spill_all(a, err));
  tl_alloc_trim();   /* the states were many small blocks */
  a->floor = (int64_t)tl_env_memory(NULL);
  return TL_OK;
}

/* Partition p's states: its files in order, then those in memory. */
static tl_status merge_partition(tl_xagg *a, int p, tl_partial **out, tl_error *err) {
  tl_partial *m = NULL;
  tl_status st = TL_OK;
  while (a->file[p] && st == TL_OK) {
    void *buf = NULL;
    size_t len = 0;
    tl_partial *d = NULL;
    if (tl_interrupted()) { st = tl_error_interrupted(err, "group_by"); break; }
    st = tl_spill_get(a->file[p], &buf, &len, err);
    if (st != TL_OK || !buf) break;
    st = tl_partial_decode(buf, len, NULL, &d, err);
    tl_free(buf);
    if (st == TL_OK && !m) m = d, d = NULL;
    else if (st == TL_OK) st = tl_partial_merge(m, d, err);
    tl_partial_free(d);
  }
  tl_spill_close(a->file[p]);
  a->file[p] = NULL;
  tl_partial *mem = NULL;
  if (st == TL_OK) st = fold_levels(a, p, &mem, err);
  if (st == TL_OK && mem) {
    if (!m) m = mem, mem = NULL;
    else st = tl_partial_merge(m, mem, err);
  }
  tl_partial_free(mem);
  if (st != TL_OK) { tl_partial_free(m); return st; }
  *out = m;
  return TL_OK;
}

/* The place of each result row in order of first appearance, as an index
** into the partitions' results one after the other: a merge of them, each
** in that order already (a partition's states add new groups after the
** old ones, batches in order); 0 when one is not, which sorting handles. */
static int merge_order(tl_xagg *a, int n, tl_table **parts, int64_t *perm) {
  const int64_t *ord[TL_XAGG_PARTS];
  int64_t len[TL_XAGG_PARTS], base[TL_XAGG_PARTS], at[TL_XAGG_PARTS], m = 0;
  int heap[TL_XAGG_PARTS], nh = 0;
  for (int k = 0; k < n; k++) {
    const tl_column *c = tl_table_column(parts[k], tl_table_find(parts[k], a->ord));
    if (!c || c->type != TL_INT || c->validity) return 0;
    ord[k] = c->values;
    len[k] = tl_table_nrows(parts[k]);
    base[k] = m;
    at[k] = 0;
    m += len[k];
    for (int64_t i = 1; i < len[k]; i++)
      if (ord[k][i - 1] >= ord[k][i]) return 0;
  }
#define HEAD(k) ord[k][at[k]]
  for (int k = 0; k < n; k++) {   /* a min-heap of the parts by their next place */
    if (!len[k]) continue;
    int i = nh++;
    for (; i > 0 && HEAD(heap[(i - 1) / 2]) > HEAD(k); i = (i - 1) / 2) heap[i] = heap[(i - 1) / 2];
    heap[i] = k;
  }
  for (int64_t r = 0; nh; r++) {
    int k = heap[0];
    perm[r] = base[k] + at[k]++;
    if (at[k] == len[k]) k = heap[--nh];
    int i = 0;
    for (;;) {   /* k sifted down from the top */
      int c = 2 * i + 1;
      if (c >= nh) break;
      if (c + 1 < nh && HEAD(heap[c + 1]) < HEAD(heap[c])) c++;
      if (HEAD(heap[c]) >= HEAD(k)) break;
      heap[i] = heap[c];
      i = c;
    }
    if (nh) heap[i] = k;
  }
#undef HEAD
  return 1;
}

/* The partitions' results (released) in order of first appearance, without
** the hidden column, put together a column at a time so that each column
** of the parts is freed once it is in place: the memory they take grows by
** about one column, not by a copy of them all. */
static tl_status in_order(tl_xagg *a, int n, tl_table **parts, tl_table **out, tl_error *err) {
  int64_t total = 0;
  for (int k = 0; k < n; k++) total += tl_table_nrows(parts[k]);
  int64_t *perm = tl_alloc((size_t)(total ? total : 1) * sizeof *perm);
  if (!perm) return tl_error_oom(err, "group_by");
  if (!merge_order(a, n, parts, perm)) {   /* not expected: sort them as a whole */
    tl_table *all = NULL, *sorted = NULL;
    const char *key = a->ord;
    tl_free(perm);
    TL_TRY(tl_table_concat(n, (const tl_table *const *)parts, &all, err));
    for (int k = 0; k < n; k++) tl_table_release(parts[k]), parts[k] = NULL;
    tl_status st = tl_table_sort(all, 1, &key, &sorted, err);
    tl_table_release(all);
    if (st == TL_OK) st = tl_table_drop(sorted, 1, &key, out, err);
    tl_table_release(sorted);
    return st;
  }
  tl_table *t0 = tl_table_retain(parts[0]);   /* for the names: one part of many */
  int ncol = tl_table_ncols(t0), nout = 0;
  tl_table **bycol = tl_calloc((size_t)ncol * (size_t)n, sizeof *bycol);   /* [j * n + k] */
  char **names = tl_calloc((size_t)ncol, sizeof *names);
  tl_column **cols = tl_calloc((size_t)ncol, sizeof *cols);
  tl_status st = bycol && names && cols ? TL_OK : tl_error_oom(err, "group_by");
  for (int j = 0; j < ncol && st == TL_OK; j++) {   /* each column of each part on its own */
    const char *name = t0->names[j];
    for (int k = 0; k < n && st == TL_OK; k++) st = tl_table_select(parts[k], 1, &name, &bycol[j * n + k], err);
  }
  for (int k = 0; k < n; k++) tl_table_release(parts[k]), parts[k] = NULL;
  for (int j = 0; j < ncol && st == TL_OK; j++) {
    tl_table *all = NULL, *one = NULL;
    if (strcmp(t0->names[j], a->ord) != 0) {
      st = tl_table_concat(n, (const tl_table *const *)&bycol[j * n], &all, err);
      for (int k = 0; k < n; k++) tl_table_release(bycol[j * n + k]), bycol[j * n + k] = NULL;
      if (st == TL_OK) st = tl_table_take(all, perm, total, &one, err);
      tl_table_release(all);
      if (st == TL_OK && !(names[nout] = tl_strdup(t0->names[j]))) st = tl_error_oom(err, "group_by");
      if (st == TL_OK) cols[nout++] = tl_column_retain(tl_table_column(one, 0));
      tl_table_release(one);
    }
    for (int k = 0; k < n; k++) tl_table_release(bycol[j * n + k]), bycol[j * n + k] = NULL;
    tl_alloc_trim();   /* the parts' columns just freed, before the next is made */
  }
  for (int i = 0; bycol && i < ncol * n; i++) tl_table_release(bycol[i]);
  tl_free(bycol);
  tl_free(perm);
  tl_table_release(t0);
  if (st == TL_OK) return tl_table_adopt(nout, names, cols, out, err);
  for (int j = 0; j < nout; j++) tl_free(names[j]), tl_column_release(cols[j]);
  tl_free(names);
  tl_free(cols);
  return st;
}

tl_status tl_xagg_finish(tl_xagg *a, tl_table **out, tl_error *err) {
  tl_table *parts[TL_XAGG_PARTS] = {0};
  int n = 0;
  tl_status st = TL_OK;
  *out = NULL;
  for (int p = 0; p < TL_XAGG_PARTS && st == TL_OK; p++) {
    tl_partial *m = NULL;
    st = merge_partition(a, p, &m, err);
    if (st == TL_OK && m) st = tl_partial_finish_ex(m, 1, &parts[n++], err);
    tl_partial_free(m);
    tl_alloc_trim();
  }
  if (st == TL_OK && n) st = in_order(a, n, parts, out, err);
  for (int k = 0; k < n; k++) tl_table_release(parts[k]);
  return st;
}
