/*
** merge.c -- merging partials: the groups of one matched to the groups of
** the other by their keys, then each slot's states folded by its kind.
**
** A partial that receives merges keeps an index of its groups by the hash
** of their keys (struct tl_keyindex), made at its first merge and kept up
** by each one after, and grows its key columns in place: a partial merged
** into many times (a scan's accumulator, each batch in turn) costs each
** merge the groups it brings, not the groups it already holds. The key
** columns are the partial's own for that: plain columns (a dictionary's
** strings copied out) that no one else holds; when someone does (a result
** made by finishing shares them), the next merge copies them first.
*/
#include <string.h>
#include <xxhash.h>

#include "base/table.h"
#include "kind.h"

struct tl_keyindex {
  uint32_t *slot;          /* group + 1 (0: empty), a power of two of them */
  int64_t nslot;
  uint64_t *hash;          /* per group, its key's hash */
  int64_t hroom;
  int64_t *room;           /* per key column, rows its buffers have room for */
  int64_t *broom;          /* ... string bytes */
};

void tl_keyindex_free(tl_keyindex *ix) {
  if (!ix) return;
  tl_free(ix->slot);
  tl_free(ix->hash);
  tl_free(ix->room);
  tl_free(ix->broom);
  tl_free(ix);
}

/* ---------------------------------------------------------------------------
** Hashes of keys, by content, a column at a time: equal keys alike (a
** dictionary's string as a plain string's, -0.0 as 0.0, every NaN alike,
** nulls alike), for the equality of key_same.
*/
#define HASH_SEED 0x2545f4914f6cdd1dULL
#define HASH_NULL 0x6e756c6cULL

static inline uint64_t mix_in(uint64_t h, uint64_t v) {
  return tl_mix64(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6)));
}

static uint64_t text_hash(const tl_column *c, int64_t i) {
  size_t n;
  const char *s = tl_column_string_at(c, i, &n);
  return XXH3_64bits(s, n);
}

/* Folds rows [0, n) of c into h[0 .. n). */
static void hash_column(const tl_column *c, int64_t n, uint64_t *h) {
  const uint8_t *vb = c->validity;
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP: {
      const int64_t *v = c->values;
      for (int64_t i = 0; i < n; i++)
        h[i] = mix_in(h[i], !vb || TL_BIT_GET(vb, i) ? (uint64_t)v[i] : HASH_NULL);
      break;
    }
    case TL_FLOAT: {
      const double *v = c->values;
      for (int64_t i = 0; i < n; i++)
        h[i] = mix_in(h[i], !vb || TL_BIT_GET(vb, i) ? tl_float_key(v[i]) : HASH_NULL);
      break;
    }
    case TL_DATE: {
      const int32_t *v = c->values;
      for (int64_t i = 0; i < n; i++)
        h[i] = mix_in(h[i], !vb || TL_BIT_GET(vb, i) ? (uint64_t)(uint32_t)v[i] : HASH_NULL);
      break;
    }
    case TL_BOOL: {
      const uint8_t *v = c->values;
      for (int64_t i = 0; i < n; i++)
        h[i] = mix_in(h[i], !vb || TL_BIT_GET(vb, i) ? (uint64_t)TL_BIT_GET(v, i) : HASH_NULL);
      break;
    }
    default:
      for (int64_t i = 0; i < n; i++)
        h[i] = mix_in(h[i], !vb || TL_BIT_GET(vb, i) ? text_hash(c, i) : HASH_NULL);
  }
}

static void hash_keys(const tl_table *keys, int64_t n, uint64_t *h) {
  for (int64_t i = 0; i < n; i++) h[i] = HASH_SEED;
  for (int k = 0; k < keys->ncol; k++) hash_column(keys->cols[k], n, h);
}

/* 1 when row i of a and row j of b hold the same key (nulls equal nulls,
** NaN equals NaN, -0.0 equals 0.0). */
static int key_same(const tl_column *a, int64_t i, const tl_column *b, int64_t j) {
  int ni = a->validity && !TL_BIT_GET(a->validity, i);
  int nj = b->validity && !TL_BIT_GET(b->validity, j);
  if (ni || nj) return ni == nj;
  switch (a->type) {
    case TL_INT: case TL_TIMESTAMP:
      return ((const int64_t *)a->values)[i] == ((const int64_t *)b->values)[j];
    case TL_DATE: return ((const int32_t *)a->values)[i] == ((const int32_t *)b->values)[j];
    default: return tl_column_compare_values(a, i, b, j) == 0;
  }
}

static int row_same(const tl_table *a, int64_t i, const tl_table *b, int64_t j) {
  for (int k = 0; k < a->ncol; k++)
    if (!key_same(a->cols[k], i, b->cols[k], j)) return 0;
  return 1;
}

/* ---------------------------------------------------------------------------
** Key columns of the partial's own, grown in place
*/

/* Room for `need` rows in key column k (and `bytes` more string bytes). */
static int col_room(tl_keyindex *ix, int k, tl_column *c, int64_t need, int64_t bytes) {
  if (need > ix->room[k]) {
    int64_t room = ix->room[k] ? ix->room[k] : 16;
    while (room < need) room *= 2;
    size_t vsize = c->type == TL_BOOL ? TL_BITMAP_BYTES(room)
                 : c->type == TL_STRING ? (size_t)(room + 1) * 8
                                        : (size_t)room * tl_type_width(c->type);
    void *v = tl_realloc(c->values, vsize ? vsize : 1);
    if (!v) return 0;
    c->values = v;
    if (c->validity) {
      uint8_t *vb = tl_realloc(c->validity, TL_BITMAP_BYTES(room));
      if (!vb) return 0;
      c->validity = vb;
    }
    ix->room[k] = room;
  }
  if (c->type == TL_STRING && c->nbytes + bytes > ix->broom[k]) {
    int64_t room = ix->broom[k] ? ix->broom[k] : 256;
    while (room < c->nbytes + bytes) room *= 2;
    char *b = tl_realloc(c->bytes, (size_t)room);
    if (!b) return 0;
    c->bytes = b;
    ix->broom[k] = room;
  }
  return 1;
}

/* Appends rows rows[0 .. n) of src (any layout; rows NULL: its first n)
** to column c, which has room for them (and a bitmap when one is null). */
static void col_append(tl_column *c, const tl_column *src, const int64_t *rows, int64_t n) {
  int64_t at = c->length;
  const uint8_t *sv = src->validity;
  if (c->validity) {
    for (int64_t i = 0; i < n; i++) {
      if (!sv || TL_BIT_GET(sv, rows ? rows[i] : i)) TL_BIT_SET(c->validity, at + i);
      else { TL_BIT_CLEAR(c->validity, at + i); c->null_count++; }
    }
  }
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP: case TL_FLOAT: {
      uint64_t *d = (uint64_t *)c->values + at;
      const uint64_t *s = src->values;
      if (!rows) memcpy(d, s, (size_t)n * 8);
      else for (int64_t i = 0; i < n; i++) d[i] = s[rows[i]];
      break;
    }
    case TL_DATE: {
      int32_t *d = (int32_t *)c->values + at;
      const int32_t *s = src->values;
      for (int64_t i = 0; i < n; i++) d[i] = s[rows ? rows[i] : i];
      break;
    }
    case TL_BOOL: {
      uint8_t *d = c->values;
      const uint8_t *s = src->values;
      for (int64_t i = 0; i < n; i++) {
        if (TL_BIT_GET(s, rows ? rows[i] : i)) TL_BIT_SET(d, at + i);
        else TL_BIT_CLEAR(d, at + i);
      }
      break;
    }
    default: {
      int64_t *off = c->values;
      off[0] = 0;
      for (int64_t i = 0; i < n; i++) {
        int64_t r = rows ? rows[i] : i;
        size_t len = 0;
        const char *s = (!sv || TL_BIT_GET(sv, r)) ? tl_column_string_at(src, r, &len) : NULL;
        if (len) memcpy(c->bytes + c->nbytes, s, len);
        c->nbytes += (int64_t)len;
        off[at + i + 1] = c->nbytes;
      }
    }
  }
  c->length = at + n;
}

/* The string bytes of rows rows[0 .. n) of src (its valid ones). */
static int64_t text_bytes(const tl_column *src, const int64_t *rows, int64_t n) {
  if (src->type != TL_STRING) return 0;
  int64_t b = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t r = rows ? rows[i] : i;
    size_t len = 0;
    if (!src->validity || TL_BIT_GET(src->validity, r)) tl_column_string_at(src, r, &len);
    b += (int64_t)len;
  }
  return b;
}

/* Appends rows rows[0 .. n) of `from` to the partial's own key table. */
static int keys_append(tl_keyindex *ix, tl_table *keys, const tl_table *from,
                       const int64_t *rows, int64_t n) {
  for (int k = 0; k < keys->ncol; k++) {
    tl_column *c = keys->cols[k];
    const tl_column *s = from->cols[k];
    if (!col_room(ix, k, c, c->length + n, text_bytes(s, rows, n))) return 0;
    int nulls = 0;
    for (int64_t i = 0; s->validity && !c->validity && i < n && !nulls; i++)
      nulls = !TL_BIT_GET(s->validity, rows ? rows[i] : i);
    if (nulls) {   /* the first null: a bitmap, every row so far valid */
      size_t nb = TL_BITMAP_BYTES(ix->room[k]);
      if (!(c->validity = tl_alloc(nb ? nb : 1))) return 0;
      memset(c->validity, 0xff, nb ? nb : 1);
      c->null_count = 0;
    }
    col_append(c, s, rows, n);
  }
  keys->nrows += n;
  return 1;
}

static int owns(const tl_table *t) {
  if (atomic_load((atomic_long *)&t->refs) != 1) return 0;
  for (int k = 0; k < t->ncol; k++) {
    tl_column *c = t->cols[k];
    if (atomic_load(&c->refs) != 1 || c->dict || c->release) return 0;
  }
  return 1;
}

/* The partial's keys as its own, with room that the index records: a copy
** when they are shared, of a dictionary or someone else's memory, or when
** the index is new (its room unknown). */
static tl_status own_keys(tl_partial *p, tl_keyindex *ix, int fresh, tl_error *err) {
  tl_table *t = p->keys;
  if (!fresh && owns(t)) return TL_OK;
  int nk = t->ncol;
  tl_column **cols = tl_calloc((size_t)nk + 1, sizeof *cols);
  tl_table *u = NULL;
  tl_status st = cols ? TL_OK : tl_error_oom(err, "partial");
  for (int k = 0; k < nk && st == TL_OK; k++) {
    st = tl_column_alloc(t->cols[k]->type, 0, 0, 0, &cols[k], err);
    ix->room[k] = ix->broom[k] = 0;
  }
  if (st == TL_OK) st = tl_table_new(nk, (const char *const *)t->names, cols, &u, err);
  for (int k = 0; cols && k < nk; k++) tl_column_release(cols[k]);   /* u holds them */
  tl_free(cols);
  if (st == TL_OK && !keys_append(ix, u, t, NULL, t->nrows)) st = tl_error_oom(err, "partial");
  if (st != TL_OK) { tl_table_release(u); return st; }
  tl_table_release(p->keys);
  p->keys = u;
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** The index
*/

/* Slots for `n` groups (at most half full), the groups so far placed again. */
static int index_room(tl_keyindex *ix, int64_t ng, int64_t n) {
  if (n > ix->hroom) {
    int64_t room = ix->hroom ? ix->hroom : 16;
    while (room < n) room *= 2;
    uint64_t *h = tl_realloc(ix->hash, (size_t)room * sizeof *h);
    if (!h) return 0;
    ix->hash = h;
    ix->hroom = room;
  }
  if (2 * n <= ix->nslot) return 1;
  int64_t cap = ix->nslot ? ix->nslot : 16;
  while (cap < 2 * n) cap *= 2;
  uint32_t *slot = tl_calloc((size_t)cap, sizeof *slot);
  if (!slot) return 0;
  uint64_t mask = (uint64_t)cap - 1;
  for (int64_t g = 0; g < ng; g++) {
    uint64_t p = ix->hash[g] & mask;
    while (slot[p]) p = (p + 1) & mask;
    slot[p] = (uint32_t)(g + 1);
  }
  tl_free(ix->slot);
  ix->slot = slot;
  ix->nslot = cap;
  return 1;
}

/* The partial's index, made at its first merge. */
static tl_status make_index(tl_partial *p, tl_error *err) {
  tl_keyindex *ix = tl_calloc(1, sizeof *ix);
  int nk = p->keys->ncol;
  if (ix) {
    ix->room = tl_calloc((size_t)nk + 1, sizeof *ix->room);
    ix->broom = tl_calloc((size_t)nk + 1, sizeof *ix->broom);
  }
  tl_status st = ix && ix->room && ix->broom ? TL_OK : tl_error_oom(err, "partial");
  if (st == TL_OK) st = own_keys(p, ix, 1, err);
  if (st == TL_OK && !index_room(ix, 0, p->ng)) st = tl_error_oom(err, "partial");
  if (st == TL_OK) {
    hash_keys(p->keys, p->ng, ix->hash);
    uint64_t mask = (uint64_t)ix->nslot - 1;
    for (int64_t g = 0; g < p->ng; g++) {   /* distinct keys, as groups are */
      uint64_t h = ix->hash[g], q = h & mask;
      while (ix->slot[q]) q = (q + 1) & mask;
      ix->slot[q] = (uint32_t)(g + 1);
    }
  }
  if (st != TL_OK) { tl_keyindex_free(ix); return st; }
  p->ix = ix;
  return TL_OK;
}

/* map[g]: the group of `in` that group g of `fr` folds into; fr's groups
** that in lacks get new ones, after in's, in fr's order (listed in *add,
** their hashes recorded). */
static tl_status key_map(tl_partial *in, const tl_partial *fr, int64_t *map, int64_t *add,
                         int64_t *nadd, tl_error *err) {
  *nadd = 0;
  if (!in->keys) {   /* the whole table: one group each */
    map[0] = 0;
    return TL_OK;
  }
  if (in->ng + fr->ng >= (int64_t)UINT32_MAX)
    return tl_error_set(err, TL_ERANGE, "partial: more than %lld groups",
                        (long long)UINT32_MAX - 1);
  if (!in->ix) TL_TRY(make_index(in, err));
  tl_keyindex *ix = in->ix;
  TL_TRY(own_keys(in, ix, 0, err));
  if (!index_room(ix, in->ng, in->ng + fr->ng)) return tl_error_oom(err, "partial");
  uint64_t *fh = ix->hash + in->ng;   /* fr's hashes, where its new groups' go */
  hash_keys(fr->keys, fr->ng, fh);
  const tl_table *ik = in->keys, *fk = fr->keys;
  uint32_t *slot = ix->slot;
  const uint64_t *hash = ix->hash;
  uint64_t mask = (uint64_t)ix->nslot - 1;
  int64_t old = in->ng;
  for (int64_t g = 0; g < fr->ng; g++) {
    uint64_t h = fh[g], p = h & mask;
    int64_t found = -1;
    for (uint32_t s; (s = slot[p]) != 0; p = (p + 1) & mask) {
      int64_t G = (int64_t)s - 1;
      if (hash[G] != h) continue;
      if (G < old ? row_same(ik, G, fk, g) : row_same(fk, add[G - old], fk, g)) {
        found = G;
        break;
      }
    }
    if (found < 0) {   /* a new group: its hash moves down to its place */
      found = old + *nadd;
      add[(*nadd)++] = g;
      ix->hash[found] = h;
      slot[p] = (uint32_t)(found + 1);
    }
    map[g] = found;
  }
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Merging
*/
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
  tl_status st = (map && add) ? TL_OK : tl_error_oom(err, "partial");
  if (st == TL_OK) st = key_map(into, from, map, add, &nadd, err);
  if (st == TL_OK && nadd && !keys_append(into->ix, into->keys, from->keys, add, nadd))
    st = tl_error_oom(err, "partial");
  int64_t old = into->ng, ng = into->ng + nadd;
  for (int s = 0; s < into->nslots && st == TL_OK; s++)
    if (!tl_agg_state_grow(into->st[s], ng)) st = tl_error_oom(err, "partial");
  tl_agg_keys kt;
  tl_agg_keys_of(into->keys, &kt);
  for (int s = 0; s < into->nslots && st == TL_OK; s++) {
    agst *a = into->st[s];
    tl_agg_fold f = { map, old, &kt, "partial", tl_partial_src(into, s) };
    st = a->kind->merge(a, from->st[s], &f, err);
    if (st == TL_OK && !tl_agg_state_tidy(a)) st = tl_error_oom(err, "partial");
  }
  if (st == TL_OK) into->ng = ng;
  tl_free(map);
  tl_free(add);
  return st;
}
