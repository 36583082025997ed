/*
** minmax.c -- min and max, and what they share with first and last
** (firstlast.c): one value per group, of the argument's type, chosen by
** the row that holds it and kept as it is (strings point into the columns
** the state keeps alive).
*/
#include "codec.h"
#include "kind.h"

int tl_agg_pick_init(agst *s, int64_t o, int64_t n) {
  GROW(s->has, o, n);
  if (s->xt == TL_FLOAT) GROW(s->dv, o, n);
  else if (s->xt == TL_STRING) { GROW(s->sp, o, n); GROW(s->sl, o, n); }
  else GROW(s->iv, o, n);
  return 1;
}

tl_status tl_agg_pick_layout(agst *s, const tl_column *x, const tl_agg_plan *plan,
                             tl_error *err) {
  (void)plan;
  if (x->type == TL_STRING && !tl_agg_state_keep(s, x)) return tl_error_oom(err, "agg");
  return TL_OK;
}

/* The values of rows best[g] (-1: none) as the values of the groups. */
void tl_agg_pick_set(agst *s, const tl_column *x, const int64_t *best) {
  for (int64_t g = 0; g < s->ng; g++) {
    int64_t i = best[g];
    if (i < 0) continue;
    s->has[g] = 1;
    switch (x->type) {
      case TL_FLOAT: s->dv[g] = ((const double *)x->values)[i]; break;
      case TL_STRING: {
        size_t n;
        s->sp[g] = tl_column_string_at(x, i, &n);
        s->sl[g] = (int64_t)n;
        break;
      }
      case TL_DATE: s->iv[g] = ((const int32_t *)x->values)[i]; break;
      case TL_BOOL: s->iv[g] = TL_BIT_GET((const uint8_t *)x->values, i); break;
      default: s->iv[g] = ((const int64_t *)x->values)[i];
    }
  }
}

/* Group g of fr's value as group G's of in. */
void tl_agg_pick_copy(agst *in, int64_t G, const agst *fr, int64_t g) {
  in->has[G] = 1;
  if (in->xt == TL_FLOAT) in->dv[G] = fr->dv[g];
  else if (in->xt == TL_STRING) { in->sp[G] = fr->sp[g]; in->sl[G] = fr->sl[g]; }
  else in->iv[G] = fr->iv[g];
}

/* The first row of [a, b) (a < b) holding the least (mx 0) or the greatest
** value of v: the extreme in a loop without branches, then its first row,
** found again in the range the loop just brought into cache. */
#define EXTREME_FIRST(T, v, a, b, mx, out) do { \
    T m_ = (v)[a]; \
    if (!(mx)) for (int64_t i_ = (a) + 1; i_ < (b); i_++) m_ = (v)[i_] < m_ ? (v)[i_] : m_; \
    else for (int64_t i_ = (a) + 1; i_ < (b); i_++) m_ = (v)[i_] > m_ ? (v)[i_] : m_; \
    int64_t k_ = (a); \
    while ((v)[k_] != m_) k_++; \
    (out) = k_; \
  } while (0)

/* The winning row of each group: the first that holds its least (mx 0) or
** greatest value. NaN is greater than every number: max takes it, min
** passes it by unless there is nothing else. */
static void extremes(const tl_column *x, int mx, int64_t a, int64_t b, const int32_t *ids,
                     int64_t ng, int64_t *best) {
  if (ng == 1 && !x->validity && a < b && (x->type == TL_INT || x->type == TL_TIMESTAMP)) {
    EXTREME_FIRST(int64_t, (const int64_t *)x->values, a, b, mx, best[0]);
  } else if (ng == 1 && !x->validity && a < b && x->type == TL_DATE) {
    EXTREME_FIRST(int32_t, (const int32_t *)x->values, a, b, mx, best[0]);
  } else if (x->type == TL_INT || x->type == TL_TIMESTAMP) {
    const int64_t *v = x->values;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, {
      int32_t g = ids[i - a];
      int64_t k = best[g];
      if (k < 0 || (mx ? v[i] > v[k] : v[i] < v[k])) best[g] = i;
    });
  } else if (x->type == TL_FLOAT) {
    const double *v = x->values;
    TL_FOR_VALID_RANGE(x->validity, a, b, i, {
      int32_t g = ids[i - a];
      int64_t k = best[g];
      if (k < 0) { best[g] = i; } else {
        double u = v[i], w = v[k];
        if (mx ? (w == w && (u != u || u > w)) : (w != w ? u == u : u < w)) best[g] = i;
      }
    });
  } else {
    TL_FOR_VALID_RANGE(x->validity, a, b, i, {
      int32_t g = ids[i - a];
      int64_t k = best[g];
      if (k < 0) { best[g] = i; } else {
        int c = tl_column_compare_values(x, i, x, k);
        if (mx ? c > 0 : c < 0) best[g] = i;
      }
    });
  }
}

static int extreme_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids,
                          int mx) {
  int64_t ng = s->ng;
  int64_t *best = tl_alloc((size_t)(ng ? ng : 1) * sizeof *best);
  if (!best) return 0;
  for (int64_t g = 0; g < ng; g++) best[g] = -1;
  extremes(x, mx, a, b, ids, ng, best);
  tl_agg_pick_set(s, x, best);
  tl_free(best);
  return 1;
}

static int min_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  return extreme_update(s, x, a, b, ids, 0);
}

static int max_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  return extreme_update(s, x, a, b, ids, 1);
}

/* The summary's least or greatest value as group 0's. */
static void extreme_take(agst *s, const tl_colsum *cs, int mx) {
  if (!cs->n) return;
  s->has[0] = 1;
  if (s->xt == TL_FLOAT) s->dv[0] = mx ? cs->dmax : cs->dmin;
  else s->iv[0] = mx ? cs->imax : cs->imin;
}

static void min_take(agst *s, const tl_colsum *cs) { extreme_take(s, cs, 0); }
static void max_take(agst *s, const tl_colsum *cs) { extreme_take(s, cs, 1); }

/* 1 when value b (of group fg of fr) beats value a (of group g of in). */
static int beats(const agst *in, int64_t g, const agst *fr, int64_t fg, int mx) {
  if (in->xt == TL_FLOAT) {
    double w = in->dv[g], u = fr->dv[fg];
    return mx ? (w == w && (u != u || u > w)) : (w != w ? u == u : u < w);
  }
  if (in->xt == TL_STRING) {
    int64_t la = in->sl[g], lb = fr->sl[fg];
    int r = memcmp(fr->sp[fg], in->sp[g], (size_t)(la < lb ? la : lb));
    if (!r) r = (lb > la) - (lb < la);
    return mx ? r > 0 : r < 0;
  }
  return mx ? fr->iv[fg] > in->iv[g] : fr->iv[fg] < in->iv[g];
}

static tl_status extreme_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err,
                               int mx) {
  const int64_t *map = f->map;
  if (in->xt == TL_STRING && !tl_agg_state_keep_all(in, fr)) return tl_error_oom(err, f->op);
  for (int64_t g = 0; g < fr->ng; g++) {
    if (!fr->has[g]) continue;
    int64_t G = MAP(g);
    if (in->has[G] && !beats(in, G, fr, g, mx)) continue;
    tl_agg_pick_copy(in, G, fr, g);
  }
  return TL_OK;
}

static tl_status min_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  return extreme_merge(in, fr, f, err, 0);
}

static tl_status max_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  return extreme_merge(in, fr, f, err, 1);
}

tl_status tl_agg_pick_finish(agst *s, int consume, const tl_agg_fold *f, tl_column **out,
                             tl_error *err) {
  (void)consume; (void)f;
  if (s->xt != TL_STRING) return tl_agg_make_column(s->xt, s->ng, s->iv, s->dv, s->has, out, err);
  int64_t nbytes = 0;
  for (int64_t g = 0; g < s->ng; g++) if (s->has[g]) nbytes += s->sl[g];
  tl_column *c;
  TL_TRY(tl_column_alloc(TL_STRING, s->ng, 1, nbytes, &c, err));
  int64_t *off = c->values, at = 0;
  for (int64_t g = 0; g < s->ng; g++) {
    off[g] = at;
    if (!s->has[g]) { TL_BIT_CLEAR(c->validity, g); continue; }
    memcpy(c->bytes + at, s->sp[g], (size_t)s->sl[g]);
    at += s->sl[g];
  }
  off[s->ng] = at;
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

void tl_agg_pick_save(wbuf *w, const agst *s) {
  w_u8(w, 0);
  for (int64_t g = 0; g < s->ng; g++) {
    w_u8(w, s->has[g]);
    if (!s->has[g]) continue;
    w_value(w, s->xt, s->iv ? s->iv[g] : 0, s->dv ? s->dv[g] : 0, s->sp ? s->sp[g] : NULL,
            s->sl ? s->sl[g] : 0);
  }
}

int tl_agg_pick_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  if (!tl_agg_load_start(r, s, ng, blob)) return 0;
  if (r->bad) return 1;
  const char *base = (const char *)r->p, *arena = blob->bytes;
  for (int64_t g = 0; g < ng && !r->bad; g++) {
    unsigned has = r_u8(r);
    if (has > 1) r->bad = "bad flag";
    if (r->bad || !has) continue;
    int64_t iv = 0, len = 0;
    double dv = 0;
    const char *str = NULL;
    r_value(r, s->xt, &iv, &dv, &str, &len);
    if (r->bad) break;
    s->has[g] = 1;
    if (s->xt == TL_FLOAT) s->dv[g] = dv;
    else if (s->xt == TL_STRING) { s->sp[g] = arena + (str - base); s->sl[g] = len; }
    else s->iv[g] = iv;
  }
  return 1;
}

const tl_agg_kind tl_agg_min = {
  .name = "min", .init = tl_agg_pick_init, .layout = tl_agg_pick_layout, .update = min_update,
  .fuse = CS_MIN, .take = min_take,
  .merge = min_merge, .finish = tl_agg_pick_finish, .save = tl_agg_pick_save,
  .load = tl_agg_pick_load,
};

const tl_agg_kind tl_agg_max = {
  .name = "max", .init = tl_agg_pick_init, .layout = tl_agg_pick_layout, .update = max_update,
  .fuse = CS_MAX, .take = max_take,
  .merge = max_merge, .finish = tl_agg_pick_finish, .save = tl_agg_pick_save,
  .load = tl_agg_pick_load,
};
