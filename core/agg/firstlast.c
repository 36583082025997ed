/*
** firstlast.c -- first and last: the value of the first or last row of
** each group that holds one (states as min and max keep theirs, minmax.c).
*/
#include "kind.h"

static int ends_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids,
                       int last) {
  int64_t ng = s->ng;
  int64_t *best = tl_alloc((size_t)(ng ? ng : 1) * sizeof *best);
  if (!best) return 0;
  for (int64_t g = 0; g < ng; g++) best[g] = -1;
  if (last) TL_FOR_VALID_RANGE(x->validity, a, b, i, { best[ids[i - a]] = i; });
  else TL_FOR_VALID_RANGE(x->validity, a, b, i, { int32_t g = ids[i - a]; if (best[g] < 0) best[g] = i; });
  tl_agg_pick_set(s, x, best);
  tl_free(best);
  return 1;
}

static int first_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  return ends_update(s, x, a, b, ids, 0);
}

static int last_update(agst *s, const tl_column *x, int64_t a, int64_t b, const int32_t *ids) {
  return ends_update(s, x, a, b, ids, 1);
}

/* fr's rows come after in's: first keeps in's value, last takes fr's. */
static tl_status ends_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err,
                            int last) {
  const int64_t *map = f->map;
  if (in->xt == TL_STRING && !tl_agg_state_keep_all(in, fr)) return tl_error_oom(err, f->op);
  for (int64_t g = 0; g < fr->ng; g++) {
    if (!fr->has[g]) continue;
    int64_t G = MAP(g);
    if (in->has[G] && !last) continue;
    tl_agg_pick_copy(in, G, fr, g);
  }
  return TL_OK;
}

static tl_status first_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  return ends_merge(in, fr, f, err, 0);
}

static tl_status last_merge(agst *in, const agst *fr, const tl_agg_fold *f, tl_error *err) {
  return ends_merge(in, fr, f, err, 1);
}

const tl_agg_kind tl_agg_first = {
  .name = "first", .init = tl_agg_pick_init, .layout = tl_agg_pick_layout,
  .update = first_update, .merge = first_merge, .finish = tl_agg_pick_finish,
  .save = tl_agg_pick_save, .load = tl_agg_pick_load,
};

const tl_agg_kind tl_agg_last = {
  .name = "last", .init = tl_agg_pick_init, .layout = tl_agg_pick_layout, .update = last_update,
  .merge = last_merge, .finish = tl_agg_pick_finish, .save = tl_agg_pick_save,
  .load = tl_agg_pick_load,
};
