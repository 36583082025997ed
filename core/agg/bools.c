/*
** bools.c -- count_if, bool_and, bool_or and product: a count of the
** values not null and one number per group (trues counted, the and, the
** or, the product), each merged by the same operation. Over no values
** not null each is null, as in DuckDB.
*/
#include "codec.h"
#include "kind.h"

static int b_init(agst *s, int64_t o, int64_t n) {
  GROW(s->cnt, o, n);
  if (s->fn == AGG_PRODUCT) GROW(s->f1, o, n);
  else GROW(s->iv, o, n);
  return 1;
}

/* Folds value v (a bool as 0/1, or a number) into group g. */
static inline void b_fold(agst *s, int64_t g, int64_t bit, double v, int64_t n) {
  int first = s->cnt[g] == 0;
  s->cnt[g] += n;
  switch (s->fn) {
    case AGG_COUNT_IF: s->iv[g] += bit; break;
    case AGG_BOOL_AND: s->iv[g] = first ? bit : (s->iv[g] & bit); break;
    case AGG_BOOL_OR: s->iv[g] = first ? bit : (s->iv[g] | bit); break;
    default: s->f1[g] = first ? v : s->f1[g] * v;
  }
}

static int b_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  if (s->fn == AGG_PRODUCT) {
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { b_fold(s, ids[i - a], 0, tl_agg_num(x, i), 1); });
  } else if (x->type == TL_BOOL) {
    const uint8_t *bits = x->values;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, { b_fold(s, ids[i - a], TL_BIT_GET(bits, i) != 0, 0, 1); });
  }   /* else a bare null: nothing */
  return 1;
}

static tl_status b_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  const int64_t *map = f->map;
  (void)err;
  for (int64_t g = 0; g < fr->ng; g++) {
    if (fr->cnt[g] == 0) continue;
    if (in->fn == AGG_PRODUCT) b_fold(in, MAP(g), 0, fr->f1[g], fr->cnt[g]);
    else if (in->fn == AGG_COUNT_IF) { in->cnt[MAP(g)] += fr->cnt[g]; in->iv[MAP(g)] += fr->iv[g]; }
    else b_fold(in, MAP(g), fr->iv[g], 0, fr->cnt[g]);
  }
  return TL_OK;
}

static tl_status b_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                          tl_error *err) {
  (void)consume; (void)f;
  int64_t ng = s->ng;
  uint8_t *valid = tl_alloc((size_t)(ng ? ng : 1));
  if (!valid) return tl_error_oom(err, "agg");
  for (int64_t g = 0; g < ng; g++) valid[g] = s->cnt[g] > 0;
  tl_type t = s->fn == AGG_PRODUCT ? TL_FLOAT : s->fn == AGG_COUNT_IF ? TL_INT : TL_BOOL;
  tl_status st = tl_agg_make_column(t, ng, s->iv, s->f1, valid, out, err);
  tl_free(valid);
  return st;
}

static void b_save(wbuf *w, const agst *s) {
  w_u8(w, 0);
  tl_agg_save_counts(w, s);
  for (int64_t g = 0; g < s->ng; g++) {
    if (s->fn == AGG_PRODUCT) w_f64(w, s->f1[g]);
    else w_i64(w, s->iv[g]);
  }
}

static int b_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  if (!tl_agg_load_start(r, s, ng, blob)) return 0;
  if (r->bad) return 1;
  tl_agg_load_counts(r, s, ng);
  for (int64_t g = 0; g < ng && !r->bad; g++) {
    if (s->fn == AGG_PRODUCT) { s->f1[g] = r_f64(r); continue; }
    s->iv[g] = r_i64(r);
    if (s->iv[g] < 0 || (s->fn != AGG_COUNT_IF && s->iv[g] > 1) || s->iv[g] > s->cnt[g])
      r->bad = "bad value";
  }
  return 1;
}

#define B_KIND(id, nm) \
  const tl_agg_kind id = { .name = nm, .init = b_init, .update = b_update, .merge = b_merge, \
    .finish = b_finish, .save = b_save, .load = b_load }

B_KIND(tl_agg_count_if, "count_if");
B_KIND(tl_agg_bool_and, "bool_and");
B_KIND(tl_agg_bool_or, "bool_or");
B_KIND(tl_agg_product, "product");
