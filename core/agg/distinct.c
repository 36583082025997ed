/*
** distinct.c -- count_distinct: per group, a set of the values seen (an
** open-addressing set of (group, value), entries in order of insertion),
** or for a dictionary-encoded column a bitmap of the codes seen.
*/
#include <xxhash.h>

#include "codec.h"
#include "kind.h"

static int distinct_init(agst *s, int64_t o, int64_t n) {
  GROW(s->cnt, o, n);
  if (s->mode == D_CODES) GROW(s->bits, o * s->stride, n * s->stride);
  return 1;
}


static uint64_t dslot_hash(uint64_t hv, int64_t g) {
  return tl_mix64(hv ^ ((uint64_t)g * 0x9e3779b97f4a7c15ULL));
}

static int dent_same(const dent *a, const dent *b, int strings) {
  if (a->hv != b->hv || a->g != b->g) return 0;
  if (!strings) return a->v.i == b->v.i;
  return a->len == b->len && memcmp(a->v.s, b->v.s, (size_t)a->len) == 0;
}

/* A slot: the high 32 bits of the entry's slot hash, then its index + 1 (0:
** empty), so that most probes need not look at the entry. */
#define SLOT_TAG(h) ((h) & ~(uint64_t)0xffffffff)

/* Adds e unless it is there; 1 when added, 0 when present, -1: no memory. */
static int dset_add(agst *s, const dent *e) {
  int strings = s->xt == TL_STRING;
  if (s->dn >= 0xfffffffe) return -1;
  if ((s->dn + 1) * 2 > s->dscap) {
    int64_t ncap = s->dscap ? s->dscap * 2 : 64;
    uint64_t *ns = tl_calloc((size_t)ncap, sizeof *ns);
    if (!ns) return -1;
    for (int64_t k = 0; k < s->dn; k++) {
      uint64_t h = dslot_hash(s->de[k].hv, s->de[k].g), p = h & (uint64_t)(ncap - 1);
      while (ns[p]) p = (p + 1) & (uint64_t)(ncap - 1);
      ns[p] = SLOT_TAG(h) | (uint64_t)(k + 1);
    }
    tl_free(s->dslot);
    s->dslot = ns;
    s->dscap = ncap;
  }
  uint64_t h = dslot_hash(e->hv, e->g), tag = SLOT_TAG(h), mask = (uint64_t)s->dscap - 1;
  uint64_t p = h & mask;
  for (uint64_t v; (v = s->dslot[p]) != 0; p = (p + 1) & mask)
    if (SLOT_TAG(v) == tag && dent_same(&s->de[(v & 0xffffffff) - 1], e, strings)) return 0;
  if (s->dn == s->dcap) {
    int64_t ncap = s->dcap ? s->dcap * 2 : 32;
    dent *nd = tl_realloc(s->de, (size_t)ncap * sizeof *nd);
    if (!nd) return -1;
    s->de = nd;
    s->dcap = ncap;
  }
  s->de[s->dn] = *e;
  s->dslot[p] = tag | (uint64_t)++s->dn;
  s->cnt[e->g]++;
  return 1;
}

static uint64_t hash_bits(int64_t v) { return tl_mix64((uint64_t)v + 0x9e3779b97f4a7c15ULL); }

/* -0.0 as 0.0 and every NaN as one, so that equal values have equal bits. */
static int64_t float_bits(double d) { return (int64_t)tl_float_key(d); }

/* Row i of x as a distinct value of group g. */
static void dent_of(const tl_column *x, int64_t i, int64_t g, dent *e) {
  e->g = g;
  e->len = 0;
  switch (x->type) {
    case TL_INT: case TL_TIMESTAMP: e->v.i = ((const int64_t *)x->values)[i]; break;
    case TL_DATE: e->v.i = ((const int32_t *)x->values)[i]; break;
    case TL_BOOL: e->v.i = TL_BIT_GET((const uint8_t *)x->values, i); break;
    case TL_FLOAT: e->v.i = float_bits(((const double *)x->values)[i]); break;
    default: {
      size_t n;
      e->v.s = tl_column_string_at(x, i, &n);
      e->len = (int64_t)n;
      e->hv = XXH3_64bits(e->v.s, n);
      return;
    }
  }
  e->hv = hash_bits(e->v.i);
}

/* Turns a D_CODES state into a D_SET one: each code's string. */
static int codes_to_set(agst *s) {
  uint64_t *bits = s->bits;
  const tl_column *dict = s->dict;
  s->bits = NULL;
  s->mode = D_SET;
  for (int64_t g = 0; g < s->ng; g++) s->cnt[g] = 0;
  int ok = 1;
  for (int64_t g = 0; g < s->ng && ok; g++) {
    for (int64_t w = 0; w < s->stride && ok; w++) {
      uint64_t m = bits[g * s->stride + w];
      while (m && ok) {
        int64_t code = w * 64 + __builtin_ctzll(m);
        m &= m - 1;
        dent e;
        dent_of(dict, code, g, &e);
        ok = dset_add(s, &e) >= 0;
      }
    }
  }
  tl_free(bits);
  return ok;
}

/* The hash of row i of c, as a distinct value hashes. */
uint64_t tl_agg_value_hash(const tl_column *c, int64_t i) {
  dent e;
  dent_of(c, i, 0, &e);
  return e.hv;
}

static int distinct_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  if (s->mode == D_CODES) {
    const int32_t *codes = x->values;
    uint64_t *bits = s->bits;
    int64_t stride = s->stride;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, {
      int32_t g = ids[i - a];
      int32_t c = codes[i];
      uint64_t *w = bits + g * stride + (c >> 6), m = (uint64_t)1 << (c & 63);
      if (!(*w & m)) { *w |= m; s->cnt[g]++; }
    });
    return 1;
  }
  int ok = 1;
  TL_FOR_VALID_RANGE(x->validity, a, b, i, {
    if (ok) {
      dent e;
      dent_of(x, i, ids[i - a], &e);
      ok = dset_add(s, &e) >= 0;
    }
  });
  return ok;
}


static int merge_sets(agst *in, const agst *fr, const int64_t *map) {
  if (in->mode == D_CODES && fr->mode == D_CODES && in->dict == fr->dict) {
    for (int64_t g = 0; g < fr->ng; g++) {
      if (!fr->cnt[g]) continue;
      int64_t G = MAP(g), added = 0;
      uint64_t *w = in->bits + G * in->stride;
      const uint64_t *f = fr->bits + g * fr->stride;
      for (int64_t k = 0; k < in->stride; k++) {
        added += __builtin_popcountll(f[k] & ~w[k]);
        w[k] |= f[k];
      }
      in->cnt[G] += added;
    }
    return 1;
  }
  if (in->mode == D_CODES && !codes_to_set(in)) return 0;
  if (!tl_agg_state_keep_all(in, fr)) return 0;
  if (fr->mode == D_CODES) {
    for (int64_t g = 0; g < fr->ng; g++) {
      for (int64_t w = 0; w < fr->stride; w++) {
        uint64_t m = fr->bits[g * fr->stride + w];
        while (m) {
          int64_t code = w * 64 + __builtin_ctzll(m);
          m &= m - 1;
          dent e;
          dent_of(fr->dict, code, MAP(g), &e);
          if (dset_add(in, &e) < 0) return 0;
        }
      }
    }
    return 1;
  }
  for (int64_t k = 0; k < fr->dn; k++) {
    dent e = fr->de[k];
    e.g = MAP(e.g);
    if (dset_add(in, &e) < 0) return 0;
  }
  return 1;
}


static tl_status distinct_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  return merge_sets(in, fr, f->map) ? TL_OK : tl_error_oom(err, f->op);
}

/* A dictionary's codes as bits, when the bitmaps stay small next to the
** ranges' rows. */
static tl_status distinct_layout(agst *s, const tl_column *x, const tl_agg_plan *plan,
                                 tl_error *err) {
  int64_t ng = plan->ng;
  if (x->dict) {
    int64_t nd = x->dict->length, stride = (nd + 63) / 64;
    int64_t per = plan->local ? (ng < plan->R ? ng : plan->R) : ng;
    if (ng * stride * 64 <= ((int64_t)1 << 28) && per * stride <= 2 * plan->R + 4096) {
      s->mode = D_CODES;
      s->dict = x->dict;
      s->stride = stride;
      s->ng = 0;
    }
  }
  if (x->type == TL_STRING && !tl_agg_state_keep(s, x)) return tl_error_oom(err, "agg");
  return TL_OK;
}

static tl_status distinct_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                                 tl_error *err) {
  (void)consume; (void)f;
  return tl_agg_make_column(TL_INT, s->ng, s->cnt, NULL, NULL, out, err);
}

static void w_dent(wbuf *w, tl_type t, const dent *e) {
  double d;
  memcpy(&d, &e->v.i, 8);
  w_value(w, t, e->v.i, d, e->v.s, e->len);
}

/* The values of each group, group by group. */
static void distinct_save(wbuf *w, const agst *s) {
  int64_t ng = s->ng;
  w_u8(w, 0);
  tl_agg_save_counts(w, s);
  if (s->mode == D_CODES) {
    for (int64_t g = 0; g < ng; g++)
      for (int64_t k = 0; k < s->stride; k++)
        for (uint64_t m = s->bits[g * s->stride + k]; m; m &= m - 1) {
          dent e;
          dent_of(s->dict, k * 64 + __builtin_ctzll(m), g, &e);
          w_dent(w, s->xt, &e);
        }
    return;
  }
  /* the entries by group: a counting sort of their indexes */
  int64_t *at = tl_calloc((size_t)ng + 2, sizeof *at), *ord = tl_alloc(((size_t)s->dn + 1) * sizeof *ord);
  if (!at || !ord) { tl_free(at); tl_free(ord); w->oom = 1; return; }
  for (int64_t k = 0; k < s->dn; k++) at[s->de[k].g + 1]++;
  for (int64_t g = 0; g < ng; g++) at[g + 1] += at[g];
  for (int64_t k = 0; k < s->dn; k++) ord[at[s->de[k].g]++] = k;
  for (int64_t k = 0; k < s->dn; k++) w_dent(w, s->xt, &s->de[ord[k]]);
  tl_free(at);
  tl_free(ord);
}

static int distinct_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  if (!tl_agg_load_start(r, s, ng, blob)) return 0;
  if (r->bad) return 1;
  if (!tl_agg_state_keep(s, blob)) return 0;
  const char *base = (const char *)r->p, *arena = blob->bytes;
  int64_t *want = tl_alloc(((size_t)ng + 1) * sizeof *want);
  if (!want) return 0;
  int64_t total = 0;
  for (int64_t g = 0; g < ng && !r->bad; g++) {
    want[g] = r_count(r, r_i64(r), 1);
    total += want[g];
  }
  r_count(r, total, 1);
  for (int64_t g = 0; g < ng && !r->bad; g++) {
    for (int64_t k = 0; k < want[g] && !r->bad; k++) {
      int64_t iv = 0, len = 0;
      double dv = 0;
      const char *str = NULL;
      r_value(r, s->xt, &iv, &dv, &str, &len);
      if (r->bad) break;
      dent e = { 0, g, { 0 }, 0 };
      if (s->xt == TL_STRING) {
        e.v.s = arena + (str - base);
        e.len = len;
        e.hv = XXH3_64bits(e.v.s, (size_t)len);
      } else {
        e.v.i = s->xt == TL_FLOAT ? float_bits(dv) : iv;
        e.hv = hash_bits(e.v.i);
      }
      if (dset_add(s, &e) < 0) { tl_free(want); return 0; }
    }
  }
  tl_free(want);
  return 1;
}

const tl_agg_kind tl_agg_count_distinct = {
  .name = "count_distinct", .init = distinct_init, .layout = distinct_layout,
  .update = distinct_update, .merge = distinct_merge, .finish = distinct_finish,
  .save = distinct_save, .load = distinct_load,
};
