/*
** join.c -- hash joins: inner, left, right, full, semi and anti.
**
** The hash table is built on the smaller side and probed with the other.
** Matches come out in the order of the left rows, each left row's matches in
** the order of the right rows, whichever side was built; right rows without
** a match (right and full joins) follow, in their order. Null keys never
** match.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/table.h"
#include "ops/join.h"

/* Whether to stop before row i: the interrupt is read once every 64K rows. */
#define STOP(i) (((i) & 0xffff) == 0 && tl_interrupted())

void tl_join_options_init(tl_join_options *o) {
  memset(o, 0, sizeof *o);
  o->how = TL_JOIN_INNER;
  o->suffix_left = "";
  o->suffix_right = "_right";
}

static uint64_t mix(uint64_t x) {
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

/* The hash of a key value, by content (so that two columns, dictionary or
** not, hash equal values alike); 0 marks a null, which never matches. */
static uint64_t key_hash(const tl_column *c, int64_t i, uint64_t h) {
  uint64_t v;
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP: v = (uint64_t)((const int64_t *)c->values)[i]; break;
    case TL_DATE: v = (uint64_t)(uint32_t)((const int32_t *)c->values)[i]; break;
    case TL_BOOL: v = TL_BIT_GET((const uint8_t *)c->values, i); break;
    case TL_FLOAT: {
      double d = ((const double *)c->values)[i];
      if (d == 0) d = 0;
      memcpy(&v, &d, 8);
      break;
    }
    default: {
      size_t n;
      const char *s = tl_column_string_at(c, i, &n);
      return XXH3_64bits_withSeed(s, n, h) | 1;
    }
  }
  return mix(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6))) | 1;
}

typedef struct side {
  const tl_table *t;
  tl_column **keys;
  uint64_t *hash;    /* per row; 0 for a null key */
} side;

static int keys_equal(const side *a, int64_t i, const side *b, int64_t j, int nkeys) {
  for (int k = 0; k < nkeys; k++) {
    const tl_column *x = a->keys[k], *y = b->keys[k];
    if (x->type == TL_FLOAT) {
      double p = ((const double *)x->values)[i], q = ((const double *)y->values)[j];
      if (!(p == q)) return 0;   /* NaN matches nothing */
    } else if (tl_column_compare_values(x, i, y, j) != 0) {
      return 0;
    }
  }
  return 1;
}

static tl_status hash_side(side *s, int nkeys, tl_error *err) {
  int64_t n = s->t->nrows;
  s->hash = tl_alloc(((size_t)n + 1) * sizeof *s->hash);
  if (!s->hash) return tl_error_oom(err, "join");
  for (int64_t i = 0; i < n; i++) {
    if (STOP(i)) return tl_error_interrupted(err, "join");   /* the caller frees s->hash */
    uint64_t h = 0x2545f4914f6cdd1dULL;
    for (int k = 0; k < nkeys && h; k++) {
      const tl_column *c = s->keys[k];
      if (c->validity && !TL_BIT_GET(c->validity, i)) h = 0;
      else if (c->type == TL_FLOAT && isnan(((const double *)c->values)[i])) h = 0;
      else h = key_hash(c, i, h);
    }
    s->hash[i] = h;
  }
  return TL_OK;
}

/* Pairs (left row, right row) grown as matches are found. */
typedef struct pairs {
  int64_t *l, *r;
  int64_t n, cap;
} pairs;

static int pairs_add(pairs *p, int64_t l, int64_t r) {
  if (p->n == p->cap) {
    int64_t ncap = p->cap ? p->cap * 2 : 1024;
    int64_t *nl = tl_realloc(p->l, (size_t)ncap * sizeof *nl);
    if (nl) p->l = nl;
    int64_t *nr = nl ? tl_realloc(p->r, (size_t)ncap * sizeof *nr) : NULL;
    if (!nr) return -1;
    p->r = nr;
    p->cap = ncap;
  }
  p->l[p->n] = l;
  p->r[p->n++] = r;
  return 0;
}

/* Chains of the build side's rows by hash bucket: head[bucket] is the
** first row, next[row] the one after it, in ascending order. */
typedef struct chains {
  int64_t *head, *next, cap;
} chains;

static tl_status build_chains(const side *B, chains *c, tl_error *err) {
  int64_t nb = B->t->nrows, cap = 16;
  while (cap < nb * 2) cap *= 2;
  c->cap = cap;
  c->head = tl_alloc((size_t)cap * sizeof *c->head);
  c->next = tl_alloc(((size_t)nb + 1) * sizeof *c->next);
  if (!c->head || !c->next) return tl_error_oom(err, "join");
  for (int64_t k = 0; k < cap; k++) c->head[k] = -1;
  /* each bucket is a chain of build rows in descending order: inserted
  ** from the last row down, so that walking it gives ascending rows */
  for (int64_t i = nb - 1; i >= 0; i--) {
    if (!B->hash[i]) continue;
    int64_t b = (int64_t)(B->hash[i] & (uint64_t)(cap - 1));
    c->next[i] = c->head[b];
    c->head[b] = i;
  }
  return TL_OK;
}

/* Every (probe row, build row) pair that matches, in probe-then-build
** order; `swap` stores them as (build, probe). */
static tl_status probe_chains(const side *B, const chains *c, const side *P, int nkeys,
                              int swap, pairs *out, tl_error *err) {
  for (int64_t j = 0; j < P->t->nrows; j++) {
    if (STOP(j)) return tl_error_interrupted(err, "join");
    uint64_t h = P->hash[j];
    if (!h) continue;
    for (int64_t i = c->head[h & (uint64_t)(c->cap - 1)]; i >= 0; i = c->next[i]) {
      if (B->hash[i] != h || !keys_equal(B, i, P, j, nkeys)) continue;
      if (pairs_add(out, swap ? i : j, swap ? j : i) != 0) return tl_error_oom(err, "join");
    }
  }
  return TL_OK;
}

/* Finds every matching (left, right) pair, in left-then-right order. */
static tl_status match(const side *L, const side *R, int nkeys, pairs *out, tl_error *err) {
  int build_left = L->t->nrows < R->t->nrows;
  const side *B = build_left ? L : R, *P = build_left ? R : L;
  chains c = { NULL, NULL, 0 };
  tl_status st = build_chains(B, &c, err);
  if (st == TL_OK) st = probe_chains(B, &c, P, nkeys, build_left, out, err);
  tl_free(c.head);
  tl_free(c.next);
  if (st != TL_OK || !build_left || out->n == 0) return st;
  /* probing the right side gave right order: a stable counting sort by
  ** left row restores left-then-right order */
  int64_t nl = L->t->nrows;
  int64_t *start = tl_calloc((size_t)nl + 2, sizeof *start);
  int64_t *sl = tl_alloc((size_t)out->n * sizeof *sl), *sr = tl_alloc((size_t)out->n * sizeof *sr);
  if (!start || !sl || !sr) st = tl_error_oom(err, "join");
  if (st == TL_OK) {
    for (int64_t k = 0; k < out->n; k++) start[out->l[k] + 1]++;
    for (int64_t i = 0; i < nl; i++) start[i + 1] += start[i];
    for (int64_t k = 0; k < out->n; k++) {
      int64_t at = start[out->l[k]]++;
      sl[at] = out->l[k];
      sr[at] = out->r[k];
    }
    tl_free(out->l);
    tl_free(out->r);
    out->l = sl;
    out->r = sr;
    sl = sr = NULL;
  }
  tl_free(start);
  tl_free(sl);
  tl_free(sr);
  return st;
}

/* The output rows of an outer join: unmatched left rows get right row -1,
** in place; unmatched right rows follow with left row -1. */
static tl_status outer_rows(const pairs *m, int64_t nl, int64_t nr, int left, int right,
                            pairs *out, tl_error *err) {
  uint8_t *seen = right ? tl_calloc((size_t)nr + 1, 1) : NULL;
  if (right && !seen) return tl_error_oom(err, "join");
  int64_t k = 0;
  for (int64_t i = 0; i < nl; i++) {
    if (STOP(i)) { tl_free(seen); return tl_error_interrupted(err, "join"); }
    int any = 0;
    for (; k < m->n && m->l[k] == i; k++) {
      any = 1;
      if (seen) seen[m->r[k]] = 1;
      if (pairs_add(out, i, m->r[k]) != 0) { tl_free(seen); return tl_error_oom(err, "join"); }
    }
    if (!any && left && pairs_add(out, i, -1) != 0) { tl_free(seen); return tl_error_oom(err, "join"); }
  }
  for (int64_t j = 0; right && j < nr; j++)
    if (!seen[j] && pairs_add(out, -1, j) != 0) { tl_free(seen); return tl_error_oom(err, "join"); }
  tl_free(seen);
  return TL_OK;
}

/* A key column of the output that both sides share by name: the left value,
** or the right one where the row has no left side. */
static tl_status merged_key(const tl_column *lc, const tl_column *rc, const pairs *p,
                            tl_column **out, tl_error *err) {
  int any_right = 0;
  for (int64_t k = 0; k < p->n; k++) any_right |= p->l[k] < 0;
  tl_status st;
  if (!any_right) {
    st = tl_column_take(lc, p->l, p->n, out, err);
  } else {
    tl_builder *b;
    st = tl_builder_new(lc->type, p->n, &b, err);
    for (int64_t k = 0; k < p->n && st == TL_OK; k++) {
      if (STOP(k)) { st = tl_error_interrupted(err, "join"); break; }
      tl_scalar v;
      if (p->l[k] >= 0) tl_column_get(lc, p->l[k], &v);
      else tl_column_get(rc, p->r[k], &v);
      st = tl_builder_append_scalar(b, &v, err);
    }
    if (st == TL_OK) st = tl_builder_finish(b, out, err);
    else tl_builder_free(b);
  }
  return st;
}

static char *suffixed(const char *name, const char *suffix) {
  size_t a = strlen(name), b = strlen(suffix);
  char *s = tl_alloc(a + b + 1);
  if (s) { memcpy(s, name, a); memcpy(s + a, suffix, b + 1); }
  return s;
}

/* A right side hashed and chained once, for many left sides. */
struct tl_join_build {
  tl_table *rt;
  tl_join_options o;
  uint64_t *hash;
  chains c;
};

static tl_status join_run(const tl_table *lt, const tl_table *rt, const tl_join_options *o,
                          const tl_join_build *pre, tl_table **out, tl_error *err);

tl_status tl_table_join(const tl_table *lt, const tl_table *rt, const tl_join_options *o,
                        tl_table **out, tl_error *err) {
  return join_run(lt, rt, o, NULL, out, err);
}

tl_status tl_join_build_run(const tl_join_build *b, const tl_table *left, tl_table **out,
                            tl_error *err) {
  return join_run(left, b->rt, &b->o, b, out, err);
}

void tl_join_build_free(tl_join_build *b) {
  if (!b) return;
  tl_table_release(b->rt);
  tl_free(b->hash);
  tl_free(b->c.head);
  tl_free(b->c.next);
  tl_free(b);
}

tl_status tl_join_build_new(const tl_table *rt, const tl_join_options *o, tl_join_build **out,
                            tl_error *err) {
  *out = NULL;
  if (o->nkeys < 1) return tl_error_set(err, TL_EINVAL, "join: no key columns (on = ...)");
  tl_join_build *b = tl_calloc(1, sizeof *b);
  tl_column **keys = tl_calloc((size_t)o->nkeys, sizeof *keys);
  tl_status st = b && keys ? TL_OK : tl_error_oom(err, "join");
  for (int k = 0; k < o->nkeys && st == TL_OK; k++) {
    int j;
    st = tl_table_lookup(rt, o->right_keys ? o->right_keys[k] : o->left_keys[k], "join", &j,
                         err);
    if (st == TL_OK) keys[k] = rt->cols[j];
  }
  side R = { rt, keys, NULL };
  if (st == TL_OK) st = hash_side(&R, o->nkeys, err);
  if (b) b->hash = R.hash;
  else tl_free(R.hash);
  if (st == TL_OK) st = build_chains(&R, &b->c, err);
  tl_free(keys);
  if (st != TL_OK) { tl_join_build_free(b); return st; }
  b->rt = tl_table_retain((tl_table *)rt);
  b->o = *o;
  *out = b;
  return TL_OK;
}

/* The matching pairs in left-then-right order, on the right side built
** once (pre) or on the smaller side. */
static tl_status find_pairs(side *L, side *R, const tl_join_build *pre, int nkeys, pairs *m,
                            tl_error *err) {
  TL_TRY(hash_side(L, nkeys, err));
  if (!pre) {
    TL_TRY(hash_side(R, nkeys, err));
    return match(L, R, nkeys, m, err);
  }
  R->hash = pre->hash;   /* borrowed: probing the left gives left order */
  tl_status st = probe_chains(R, &pre->c, L, nkeys, 0, m, err);
  R->hash = NULL;
  return st;
}

static tl_status join_run(const tl_table *lt, const tl_table *rt, const tl_join_options *o,
                          const tl_join_build *pre, tl_table **out, tl_error *err) {
  TL_TRY(tl_table_check_files(lt, "join", err));
  TL_TRY(tl_table_check_files(rt, "join", err));
  tl_join_options defaults;
  if (!o) { tl_join_options_init(&defaults); o = &defaults; }
  int nkeys = o->nkeys;
  if (nkeys < 1) return tl_error_set(err, TL_EINVAL, "join: no key columns (on = ...)");
  if (o->how < TL_JOIN_INNER || o->how > TL_JOIN_ANTI)
    return tl_error_set(err, TL_EINVAL, "join: unknown kind of join");
  side L = { lt, NULL, NULL }, R = { rt, NULL, NULL };
  int *lk = tl_calloc((size_t)nkeys, sizeof *lk), *rk = tl_calloc((size_t)nkeys, sizeof *rk);
  L.keys = tl_calloc((size_t)nkeys, sizeof *L.keys);
  R.keys = tl_calloc((size_t)nkeys, sizeof *R.keys);
  pairs m = { 0 }, p = { 0 };
  tl_column **cols = NULL;
  char **names = NULL;
  int ncol = 0;
  tl_status st = (lk && rk && L.keys && R.keys) ? TL_OK : tl_error_oom(err, "join");
  for (int k = 0; k < nkeys && st == TL_OK; k++) {
    const char *ln = o->left_keys[k], *rn = o->right_keys ? o->right_keys[k] : ln;
    if ((st = tl_table_lookup(lt, ln, "join", &lk[k], err)) != TL_OK) break;
    if ((st = tl_table_lookup(rt, rn, "join", &rk[k], err)) != TL_OK) {
      if (err) {
        char msg[TL_ERROR_SIZE];
        memcpy(msg, err->message, sizeof msg);
        tl_error_set(err, st, "%s (in the right table)", msg);
      }
      break;
    }
    L.keys[k] = lt->cols[lk[k]];
    R.keys[k] = rt->cols[rk[k]];
    tl_type a = L.keys[k]->type, b = R.keys[k]->type;
    if (a != b)
      st = tl_error_set(err, TL_ETYPE, "join: key '%s' is %s on the left but '%s' is %s on the right",
                        ln, tl_type_name(a), rn, tl_type_name(b));
  }
  if (st == TL_OK) st = find_pairs(&L, &R, pre, nkeys, &m, err);

  if (st == TL_OK && (o->how == TL_JOIN_SEMI || o->how == TL_JOIN_ANTI)) {
    int64_t *rows = tl_alloc(((size_t)lt->nrows + 1) * sizeof *rows), n = 0, k = 0;
    if (!rows) st = tl_error_oom(err, "join");
    for (int64_t i = 0; i < lt->nrows && st == TL_OK; i++) {
      if (STOP(i)) { st = tl_error_interrupted(err, "join"); break; }
      int any = 0;
      for (; k < m.n && m.l[k] == i; k++) any = 1;
      if (any == (o->how == TL_JOIN_SEMI)) rows[n++] = i;
    }
    if (st == TL_OK) st = tl_table_take(lt, rows, n, out, err);
    if (st == TL_EINTR) tl_error_interrupted(err, "join");   /* take's, as ours */
    tl_free(rows);
    goto done;
  }
  if (st == TL_OK) {
    int left = o->how == TL_JOIN_LEFT || o->how == TL_JOIN_FULL;
    int right = o->how == TL_JOIN_RIGHT || o->how == TL_JOIN_FULL;
    if (left || right) st = outer_rows(&m, lt->nrows, rt->nrows, left, right, &p, err);
    else { p = m; m = (pairs){ 0 }; }
  }
  /* the columns: the left ones, then the right ones but the keys shared by name */
  if (st == TL_OK) {
    cols = tl_calloc((size_t)(lt->ncol + rt->ncol) + 1, sizeof *cols);
    names = tl_calloc((size_t)(lt->ncol + rt->ncol) + 1, sizeof *names);
    if (!cols || !names) st = tl_error_oom(err, "join");
  }
  for (int j = 0; j < lt->ncol && st == TL_OK; j++) {
    if (tl_interrupted()) { st = tl_error_interrupted(err, "join"); break; }
    int shared = -1;
    for (int k = 0; k < nkeys; k++)
      if (lk[k] == j && strcmp(lt->names[j], rt->names[rk[k]]) == 0) shared = k;
    const char *nm = lt->names[j];
    int clash = shared < 0 && tl_table_find(rt, nm) >= 0;
    names[ncol] = clash ? suffixed(nm, o->suffix_left ? o->suffix_left : "") : tl_strdup(nm);
    if (!names[ncol]) { st = tl_error_oom(err, "join"); break; }
    if (shared >= 0) st = merged_key(lt->cols[j], rt->cols[rk[shared]], &p, &cols[ncol], err);
    else st = tl_column_take(lt->cols[j], p.l, p.n, &cols[ncol], err);
    ncol++;
  }
  for (int j = 0; j < rt->ncol && st == TL_OK; j++) {
    if (tl_interrupted()) { st = tl_error_interrupted(err, "join"); break; }
    int skip = 0;
    for (int k = 0; k < nkeys; k++)
      if (rk[k] == j && strcmp(lt->names[lk[k]], rt->names[j]) == 0) skip = 1;
    if (skip) continue;
    const char *nm = rt->names[j];
    int clash = tl_table_find(lt, nm) >= 0;
    names[ncol] = clash ? suffixed(nm, o->suffix_right ? o->suffix_right : "_right") : tl_strdup(nm);
    if (!names[ncol]) { st = tl_error_oom(err, "join"); break; }
    st = tl_column_take(rt->cols[j], p.r, p.n, &cols[ncol], err);
    ncol++;
  }
  if (st == TL_OK) {
    st = tl_table_new(ncol, (const char *const *)names, cols, out, err);
    if (st == TL_EINVAL && err) {   /* the suffixes made two names equal */
      char msg[TL_ERROR_SIZE];
      snprintf(msg, sizeof msg, "%s", tl_error_detail(err));
      tl_error_set(err, st, "join: %s (choose other suffixes)", msg);
    }
  }
done:
  for (int j = 0; j < ncol; j++) {
    if (cols) tl_column_release(cols[j]);
    if (names) tl_free(names[j]);
  }
  tl_free(cols);
  tl_free(names);
  tl_free(m.l); tl_free(m.r); tl_free(p.l); tl_free(p.r);
  tl_free(L.hash); tl_free(R.hash);
  tl_free(L.keys); tl_free(R.keys);
  tl_free(lk); tl_free(rk);
  return st;
}
