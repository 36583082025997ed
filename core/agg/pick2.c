/*
** pick2.c -- the aggregates that keep values rather than sums: arg_min and
** arg_max: x of the row with the least or greatest `by` (the first such
** row; NaN above every number), over the rows where neither is null.
*/
#include <math.h>

#include "codec.h"
#include "kind.h"

/* ---------------------------------------------------------------------------
** arg_min, arg_max
*/
static int arg_init(agst *s, int64_t o, int64_t n) {
  if (!tl_agg_pick_init(s, o, n)) return 0;
  if (s->yt == TL_FLOAT) GROW(s->jd, o, n);
  else if (s->yt == TL_STRING) { GROW(s->jp, o, n); GROW(s->jl, o, n); }
  else GROW(s->jv, o, n);
  return 1;
}

static tl_status arg_layout(agst *s, const tl_column *x, const tl_agg_plan *plan, tl_error *err) {
  (void)plan;
  if ((x->type == TL_STRING && !tl_agg_state_keep(s, x)) ||
      (s->y && s->y->type == TL_STRING && !tl_agg_state_keep(s, s->y)))
    return tl_error_oom(err, "agg");
  return TL_OK;
}

/* c < 0 when by-value a comes before b (NaN after every number). */
static int by_cmp(tl_type t, int64_t ia, double da, const char *sa, int64_t la, int64_t ib,
                  double db, const char *sb, int64_t lb) {
  if (t == TL_FLOAT) {
    if (isnan(da) || isnan(db)) return isnan(da) - isnan(db);
    return (da > db) - (da < db);
  }
  if (t == TL_STRING) {
    int r = la && lb ? memcmp(sa, sb, (size_t)(la < lb ? la : lb)) : 0;
    return r ? r : (la > lb) - (la < lb);
  }
  return (ia > ib) - (ia < ib);
}

/* Row i of the by column as the pick of group g. */
static void by_set(agst *s, int64_t g, const tl_column *y, int64_t i) {
  switch (y->type) {
    case TL_FLOAT: s->jd[g] = ((const double *)y->values)[i]; break;
    case TL_STRING: { size_t n; s->jp[g] = tl_column_string_at(y, i, &n); s->jl[g] = (int64_t)n; break; }
    case TL_DATE: s->jv[g] = ((const int32_t *)y->values)[i]; break;
    default: s->jv[g] = ((const int64_t *)y->values)[i];
  }
}

static int arg_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  const tl_column *y = s->y;
  int mx = s->fn == AGG_ARG_MAX;
  int64_t ng = s->ng;
  int64_t *best = tl_alloc((size_t)(ng ? ng : 1) * sizeof *best);
  if (!best) return 0;
  for (int64_t g = 0; g < ng; g++) best[g] = -1;
  TL_FOR_VALID_RANGE(x->validity, a, b, i, {
    if (y->validity && !TL_BIT_GET(y->validity, i)) continue;
    int32_t g = ids[i - a];
    int64_t k = best[g];
    if (k < 0) { best[g] = i; by_set(s, g, y, i); continue; }
    int64_t iv = 0;
    double dv = 0;
    const char *sp = NULL;
    size_t sl = 0;
    if (y->type == TL_FLOAT) dv = ((const double *)y->values)[i];
    else if (y->type == TL_STRING) sp = tl_column_string_at(y, i, &sl);
    else if (y->type == TL_DATE) iv = ((const int32_t *)y->values)[i];
    else iv = ((const int64_t *)y->values)[i];
    int c = by_cmp(y->type, iv, dv, sp, (int64_t)sl, s->jv ? s->jv[g] : 0, s->jd ? s->jd[g] : 0,
                   s->jp ? s->jp[g] : NULL, s->jl ? s->jl[g] : 0);
    if (mx ? c > 0 : c < 0) { best[g] = i; by_set(s, g, y, i); }
  });
  tl_agg_pick_set(s, x, best);
  tl_free(best);
  return 1;
}

static tl_status arg_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  const int64_t *map = f->map;
  int mx = in->fn == AGG_ARG_MAX;
  if (!tl_agg_state_keep_all(in, fr)) return tl_error_oom(err, f->op);
  for (int64_t g = 0; g < fr->ng; g++) {
    if (!fr->has[g]) continue;
    int64_t G = MAP(g);
    if (in->has[G]) {
      int c = by_cmp(in->yt, fr->jv ? fr->jv[g] : 0, fr->jd ? fr->jd[g] : 0, fr->jp ? fr->jp[g] : NULL,
                     fr->jl ? fr->jl[g] : 0, in->jv ? in->jv[G] : 0, in->jd ? in->jd[G] : 0,
                     in->jp ? in->jp[G] : NULL, in->jl ? in->jl[G] : 0);
      if (!(mx ? c > 0 : c < 0)) continue;   /* ties keep the earlier rows' */
    }
    tl_agg_pick_copy(in, G, fr, g);
    if (in->jv) in->jv[G] = fr->jv[g];
    if (in->jd) in->jd[G] = fr->jd[g];
    if (in->jp) { in->jp[G] = fr->jp[g]; in->jl[G] = fr->jl[g]; }
  }
  return TL_OK;
}

static void arg_save(wbuf *w, const agst *s) {
  tl_agg_pick_save(w, s);
  w_u8(w, (unsigned)s->yt);
  for (int64_t g = 0; g < s->ng; g++)
    if (s->has[g])
      w_value(w, s->yt, s->jv ? s->jv[g] : 0, s->jd ? s->jd[g] : 0, s->jp ? s->jp[g] : NULL,
              s->jl ? s->jl[g] : 0);
}

static int arg_load(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  if (!tl_agg_pick_load(r, s, ng, blob)) return 0;
  if (r->bad) return 1;
  if (s->yt == TL_STRING && !tl_agg_state_keep(s, blob)) return 0;
  if (r_u8(r) != (unsigned)s->yt && !r->bad) r->bad = "the aggregates do not match the definitions";
  const char *base = (const char *)r->p, *arena = blob->bytes;
  for (int64_t g = 0; g < ng && !r->bad; g++) {
    if (!s->has[g]) continue;
    int64_t iv = 0, len = 0;
    double dv = 0;
    const char *str = NULL;
    r_value(r, s->yt, &iv, &dv, &str, &len);
    if (r->bad) break;
    if (s->jd) s->jd[g] = dv;
    else if (s->jp) { s->jp[g] = arena + (str - base); s->jl[g] = len; }
    else s->jv[g] = iv;
  }
  return 1;
}

const tl_agg_kind tl_agg_arg_min = {
  .name = "arg_min", .init = arg_init, .layout = arg_layout, .update = arg_update,
  .merge = arg_merge, .finish = tl_agg_pick_finish, .save = arg_save, .load = arg_load,
};

const tl_agg_kind tl_agg_arg_max = {
  .name = "arg_max", .init = arg_init, .layout = arg_layout, .update = arg_update,
  .merge = arg_merge, .finish = tl_agg_pick_finish, .save = arg_save, .load = arg_load,
};
