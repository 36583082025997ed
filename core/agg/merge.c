/*
** merge.c -- merging partials: the groups of one matched to the groups of
** the other by their keys, then each slot's states folded by its kind.
*/
#include <string.h>

#include "base/table.h"
#include "kind.h"

/* The hash of row i's key value, by content (a dictionary's codes are not
** comparable across columns). */
static uint64_t key_hash(const tl_column *c, int64_t i, uint64_t h) {
  if (c->validity && !TL_BIT_GET(c->validity, i)) return tl_mix64(h ^ 0x6e756c6cULL);
  return tl_mix64(h ^ (tl_agg_value_hash(c, i) + 0x9e3779b97f4a7c15ULL + (h << 6)));
}

/* 1 when row i of a and row j of b hold the same key (nulls equal nulls,
** NaN equals NaN). */
static int key_same(const tl_column *a, int64_t i, const tl_column *b, int64_t j) {
  int ni = a->validity && !TL_BIT_GET(a->validity, i);
  int nj = b->validity && !TL_BIT_GET(b->validity, j);
  if (ni || nj) return ni == nj;
  return tl_column_compare_values(a, i, b, j) == 0;
}

static int row_same(const tl_table *a, int64_t i, const tl_table *b, int64_t j) {
  for (int k = 0; k < a->ncol; k++)
    if (!key_same(a->cols[k], i, b->cols[k], j)) return 0;
  return 1;
}

static uint64_t row_hash(const tl_table *t, int64_t i) {
  uint64_t h = 0x2545f4914f6cdd1dULL;
  for (int k = 0; k < t->ncol; k++) h = key_hash(t->cols[k], i, h);
  return h;
}

/* map[g]: the group of `in` that group g of `fr` folds into; fr's groups
** that in lacks get new ones, after in's, in fr's order (listed in *add). */
static tl_status key_map(const tl_partial *in, const tl_partial *fr, int64_t *map,
                         int64_t *add, int64_t *nadd, tl_error *err) {
  *nadd = 0;
  if (!in->keys) {   /* the whole table: one group each */
    map[0] = 0;
    return TL_OK;
  }
  int64_t total = in->ng + fr->ng, cap = 16;
  while (cap < 2 * total) cap *= 2;
  int64_t *slot = tl_calloc((size_t)cap, sizeof *slot);   /* in's g + 1, or -(fr's g + 1) */
  if (!slot) return tl_error_oom(err, "partial");
  uint64_t mask = (uint64_t)cap - 1;
  for (int64_t g = 0; g < in->ng; g++) {
    uint64_t p = row_hash(in->keys, g) & mask;
    while (slot[p]) p = (p + 1) & mask;
    slot[p] = g + 1;
  }
  for (int64_t g = 0; g < fr->ng; g++) {
    uint64_t p = row_hash(fr->keys, g) & mask;
    int64_t found = -1;
    for (; slot[p]; p = (p + 1) & mask) {
      int64_t s = slot[p];
      if (s > 0 ? row_same(in->keys, s - 1, fr->keys, g) : row_same(fr->keys, -s - 1, fr->keys, g)) {
        found = s > 0 ? s - 1 : map[-s - 1];
        break;
      }
    }
    if (found < 0) {
      found = in->ng + *nadd;
      add[(*nadd)++] = g;
      slot[p] = -(g + 1);
    }
    map[g] = found;
  }
  tl_free(slot);
  return TL_OK;
}

static int same_schema(const tl_table *a, const tl_table *b) {
  if (!a || !b) return a == b;
  if (a->ncol != b->ncol) return 0;
  for (int j = 0; j < a->ncol; j++)
    if (strcmp(a->names[j], b->names[j]) != 0 || a->cols[j]->type != b->cols[j]->type) return 0;
  return 1;
}

static tl_status compatible(const tl_partial *a, const tl_partial *b, tl_error *err) {
  if (a == b) return tl_error_set(err, TL_EINVAL, "partial: cannot merge a partial into itself");
  if (a->direct || b->direct)
    return tl_error_set(err, TL_EINVAL, "partial: a partial made for one result cannot be merged");
  if (a->ndefs != b->ndefs)
    return tl_error_set(err, TL_EINVAL, "partial: cannot merge partials of %d and %d definitions",
                        a->ndefs, b->ndefs);
  for (int k = 0; k < a->ndefs; k++)
    if (strcmp(a->defs[k], b->defs[k]) != 0)
      return tl_error_set(err, TL_EINVAL,
                          "partial: cannot merge partials of different definitions (\"%s\" and "
                          "\"%s\")", a->defs[k], b->defs[k]);
  if (!same_schema(a->keys, b->keys))
    return tl_error_set(err, TL_EINVAL, "partial: cannot merge partials grouped by different keys");
  if (!same_schema(a->schema, b->schema))
    return tl_error_set(err, TL_EINVAL,
                        "partial: cannot merge partials made from columns of different types");
  for (int s = 0; s < a->nslots; s++) {
    const agst *x = a->st[s], *y = b->st[s];
    if (x->fn != y->fn || x->xt != y->xt || !x->host != !y->host ||
        (x->host && strcmp(x->host->name, y->host->name) != 0))
      return tl_error_set(err, TL_EINVAL, "partial: cannot merge partials of different aggregates");
  }
  return TL_OK;
}

tl_status tl_partial_merge(tl_partial *into, const tl_partial *from, tl_error *err) {
  TL_TRY(compatible(into, from, err));
  int64_t *map = tl_alloc(((size_t)from->ng + 1) * sizeof *map);
  int64_t *add = tl_alloc(((size_t)from->ng + 1) * sizeof *add), nadd = 0;
  tl_table *keys = NULL, *more = NULL;
  tl_status st = (map && add) ? TL_OK : tl_error_oom(err, "partial");
  if (st == TL_OK) st = key_map(into, from, map, add, &nadd, err);
  if (st == TL_OK && nadd) {   /* the keys of the new groups, after into's */
    st = tl_table_take(from->keys, add, nadd, &more, err);
    const tl_table *both[2] = { into->keys, more };
    if (st == TL_OK) st = tl_table_concat(2, both, &keys, err);
  } else if (st == TL_OK) {
    keys = tl_table_retain(into->keys);
  }
  int64_t old = into->ng, ng = into->ng + nadd;
  for (int s = 0; s < into->nslots && st == TL_OK; s++)
    if (!tl_agg_state_grow(into->st[s], ng)) st = tl_error_oom(err, "partial");
  tl_agg_keys kt;
  tl_agg_keys_of(keys, &kt);
  for (int s = 0; s < into->nslots && st == TL_OK; s++) {
    agst *a = into->st[s];
    tl_agg_fold f = { map, old, &kt, "partial", tl_partial_src(into, s) };
    st = a->kind->merge(a, from->st[s], &f, err);
    if (st == TL_OK && !tl_agg_state_tidy(a)) st = tl_error_oom(err, "partial");
  }
  if (st == TL_OK) {
    tl_table_release(into->keys);
    into->keys = keys;
    into->ng = ng;
    keys = NULL;
  }
  tl_table_release(keys);
  tl_table_release(more);
  tl_free(map);
  tl_free(add);
  return st;
}
