/*
** window_agg.c -- aggregates inside mutate, as window aggregates: without
** order_by, over the whole partition (`share = cost / sum(cost)` with
** partition_by), computed by the group-by of the partitions and spread back
** to their rows; with order_by, running from the partition's first row
** through the current row and its ties (SQL's default RANGE frame, as
** DuckDB: the running sum of 1, 1, 2 is 2, 2, 4), for count, sum, mean,
** min and max.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/table.h"
#include "base/textbuf.h"
#include "agg/sum.h"
#include "expr/registry.h"
#include "keys.h"
#include "window.h"

#define STOP(p) (((p) & 0xffff) == 0 && tl_interrupted())

/* A literal argument as expression text ("0.5", "'|'"); 0 when it has no
** such text. */
static int literal_text(tl_textbuf *b, const tl_scalar *v) {
  char buf[64];
  if (v->is_null) { tl_textbuf_str(b, "null"); return 1; }
  switch (v->type) {
    case TL_INT: snprintf(buf, sizeof buf, "%lld", (long long)v->v.i); break;
    case TL_FLOAT: snprintf(buf, sizeof buf, "%.17g", v->v.f); break;
    case TL_BOOL: snprintf(buf, sizeof buf, "%s", v->v.b ? "true" : "false"); break;
    case TL_STRING:
      tl_textbuf_str(b, "'");
      for (size_t i = 0; i < v->v.s.len; i++) {
        char c = v->v.s.ptr[i];
        if (c == '\'' || c == '\\') tl_textbuf_add(b, "\\", 1);
        if (c == '\n') { tl_textbuf_str(b, "\\n"); continue; }
        if (c == '\0') { tl_textbuf_str(b, "\\0"); continue; }
        tl_textbuf_add(b, &c, 1);
      }
      tl_textbuf_str(b, "'");
      return 1;
    default: return 0;
  }
  tl_textbuf_str(b, buf);
  return 1;
}

/* The whole partition: the rows grouped by the partition keys (columns p0,
** p1, ...; none: one group of every row) with the arguments as columns a0,
** a1, ...; one aggregate per group, taken back to every row of the group.
** No sort: the grouping gives each row its group. */
tl_status tl_window_whole(int64_t n, int np, tl_column *const *pkeys, const char *fname,
                          const expr *e, tl_column *const *args, tl_column **out,
                          tl_error *err) {
  tl_status st = TL_OK;
  if (e->nargs > 16) return tl_error_set(err, TL_EINVAL, "mutate: %s: too many arguments", fname);
  int ncols = np + e->nargs;
  tl_column **cols = tl_calloc((size_t)ncols + 1, sizeof *cols);
  char (*names)[16] = tl_calloc((size_t)ncols + 1, sizeof *names);
  const char **cn = tl_calloc((size_t)ncols + 1, sizeof *cn);
  tl_table *t = NULL, *res = NULL;
  tl_grouping *g = NULL;
  int64_t *idx = tl_alloc(((size_t)n + 1) * sizeof *idx);
  tl_textbuf def = {0};
  if (!cols || !names || !cn || !idx) st = tl_error_oom(err, "mutate");
  int nc = 0;
  for (int k = 0; k < np && st == TL_OK; k++, nc++) {
    snprintf(names[nc], sizeof names[nc], "p%d", k);
    cols[nc] = pkeys[k];
  }
  tl_textbuf_printf(&def, "v = %s(", fname);
  for (int k = 0; k < e->nargs && st == TL_OK; k++) {
    if (k) tl_textbuf_str(&def, ", ");
    if (args[k]) {
      snprintf(names[nc], sizeof names[nc], "a%d", k);
      cols[nc] = args[k];
      tl_textbuf_str(&def, names[nc++]);
    } else if (!literal_text(&def, &e->args[k]->lit)) {
      st = tl_error_set(err, TL_ETYPE, "mutate: %s: argument %d must be a number, text or "
                        "bool constant here", fname, k + 1);
    }
  }
  tl_textbuf_str(&def, ")");
  for (int k = 0; k < nc && st == TL_OK; k++) cn[k] = names[k];
  if (st == TL_OK && def.failed) st = tl_error_oom(err, "mutate");
  const char *d = def.p;
  if (st == TL_OK && nc == 0) {      /* count() over no partition: no column to hold the rows */
    tl_column *one = NULL;
    st = tl_column_alloc(TL_BOOL, n, 0, 0, &one, err);
    if (st == TL_OK) {
      memset(one->values, 0, ((size_t)n + 7) / 8);
      tl_column_seal(one);
      snprintf(names[0], sizeof names[0], "a0");
      cn[0] = names[0];
      cols[0] = one;
      st = tl_table_new(1, cn, cols, &t, err);
      tl_column_release(one);
    }
  } else if (st == TL_OK) {
    st = tl_table_new(nc, cn, cols, &t, err);
  }
  if (st == TL_OK && np > 0) st = tl_table_group_by(t, np, cn, &g, err);
  if (st == TL_OK) st = g ? tl_grouping_agg(g, 1, &d, &res, err) : tl_table_agg(t, 1, &d, &res, err);
  if (st == TL_OK && g) {
    const int32_t *gid = NULL;
    st = tl_grouping_row_ids(g, &gid, err);
    for (int64_t i = 0; st == TL_OK && i < n; i++) idx[i] = gid[i];
  } else if (st == TL_OK) {
    memset(idx, 0, (size_t)n * sizeof *idx);
  }
  if (st == TL_OK) st = tl_column_take(res->cols[res->ncol - 1], idx, n, out, err);
  tl_free(idx);
  tl_free(def.p);
  tl_free(cols);
  tl_free(names);
  tl_free(cn);
  tl_grouping_free(g);
  tl_table_release(res);
  tl_table_release(t);
  return st;
}

/* Running: along the order, a peer group at a time; each row of the group
** gets the value through its last row. */
static tl_status running(const tl_window *w, int id, const char *fname, const tl_column *x,
                         tl_column **out, tl_error *err) {
  tl_type xt = x ? x->type : TL_INT;
  int num = xt == TL_INT || xt == TL_FLOAT || xt == TL_BOOL;
  if ((id == AGG_SUM || id == AGG_MEAN) && !num)
    return tl_error_set(err, TL_ETYPE, "mutate: %s of %s values", fname, tl_type_name(xt));
  if ((id == AGG_MIN || id == AGG_MAX) && !(num || xt == TL_DATE || xt == TL_TIMESTAMP))
    return tl_error_set(err, TL_ETYPE, "mutate: a running %s of %s values", fname,
                        tl_type_name(xt));
  tl_type ot = id == AGG_COUNT ? TL_INT : id == AGG_MEAN ? TL_FLOAT
             : id == AGG_SUM ? (xt == TL_FLOAT ? TL_FLOAT : TL_INT)
             : xt == TL_BOOL ? TL_INT : xt;
  int isf = ot == TL_FLOAT;
  tl_column *c;
  TL_TRY(tl_column_alloc(ot, w->n, 1, 0, &c, err));
  int64_t cnt = 0, si = 0, best_i = 0;
  double sf = 0, comp = 0, best_f = 0;
  for (int64_t p = 0; p < w->n;) {
    if (STOP(p)) { tl_column_release(c); return tl_error_interrupted(err, "mutate"); }
    if (w->first[p] == p) { cnt = si = 0; sf = comp = 0; }
    int64_t q = p;                              /* the peer group [p, q] */
    while (q + 1 < w->end[p] && w->peer[q + 1] == w->peer[p]) q++;
    for (int64_t r = p; r <= q; r++) {
      int64_t row = w->perm[r];
      if (x && tl_column_is_null(x, row)) continue;
      if (id == AGG_SUM && !isf && __builtin_add_overflow(si, int_at(x, row), &si)) {
        tl_column_release(c);
        return tl_error_set(err, TL_ERANGE, "mutate: integer overflow in a running sum at "
                            "row %lld", (long long)row + 1);
      }
      if (x && (isf || id == AGG_MEAN)) {
        double v = num_at(x, row);
        if (id == AGG_SUM || id == AGG_MEAN) tl_sum_add(&sf, &comp, v);
        if (id == AGG_MAX && (cnt == 0 || less(best_f, v))) best_f = v;
        if (id == AGG_MIN && (cnt == 0 || less(v, best_f))) best_f = v;
      } else if (x) {
        int64_t v = int_at(x, row);
        if (id == AGG_MAX && (cnt == 0 || v > best_i)) best_i = v;
        if (id == AGG_MIN && (cnt == 0 || v < best_i)) best_i = v;
      }
      cnt++;
    }
    for (int64_t r = p; r <= q; r++) {
      int64_t row = w->perm[r];
      if (id == AGG_COUNT) ((int64_t *)c->values)[row] = cnt;
      else if (cnt == 0) TL_BIT_CLEAR(c->validity, row);
      else if (id == AGG_MEAN) ((double *)c->values)[row] = tl_sum_value(sf, comp) / (double)cnt;
      else if (id == AGG_SUM && isf) ((double *)c->values)[row] = tl_sum_value(sf, comp);
      else if (id == AGG_SUM) ((int64_t *)c->values)[row] = si;
      else if (isf) ((double *)c->values)[row] = best_f;
      else if (ot == TL_DATE) ((int32_t *)c->values)[row] = (int32_t)best_i;
      else ((int64_t *)c->values)[row] = best_i;
    }
    p = q + 1;
  }
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

tl_status tl_window_aggregate(const tl_window *w, const tl_builtin *bi, const expr *e,
                              tl_column *const *args, tl_column **out, tl_error *err) {
  const char *fname = bi->info.name;
  int id = bi->id;
  if (id != AGG_COUNT && id != AGG_SUM && id != AGG_MEAN && id != AGG_MIN && id != AGG_MAX)
    return tl_error_set(err, TL_EINVAL, "mutate: %s with order_by: a running aggregate is "
                        "count, sum, mean, min or max (without order_by, %s is over the whole "
                        "partition)", fname, fname);
  return running(w, id, fname, e->nargs ? args[0] : NULL, out, err);
}
