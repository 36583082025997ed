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

/* The whole partition: group the rows by partition (a column of ids) with
** the arguments as columns a0, a1, ...; one aggregate per group; its value
** taken back to every row of the group. */
static tl_status whole(const tl_window *w, const char *fname, const expr *e,
                       tl_column *const *args, tl_column **out, tl_error *err) {
  int64_t n = w->n;
  tl_status st = TL_OK;
  tl_column *pid = NULL, *cols[17];
  const char *names[17] = {"p", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
                           "a8", "a9", "a10", "a11", "a12", "a13", "a14", "a15"};
  tl_table *t = NULL, *res = NULL;
  tl_grouping *g = NULL;
  int64_t *idx = NULL, *rowof = NULL;
  tl_textbuf def = {0};
  if (e->nargs > 16) return tl_error_set(err, TL_EINVAL, "mutate: %s: too many arguments", fname);
  TL_TRY(tl_column_alloc(TL_INT, n, 0, 0, &pid, err));
  int64_t *pv = pid->values, np = 0;
  for (int64_t p = 0; p < n; p++) {
    if (w->first[p] == p) np++;
    pv[w->perm[p]] = np - 1;
  }
  tl_column_seal(pid);
  cols[0] = pid;
  int nc = 1;
  tl_textbuf_printf(&def, "v = %s(", fname);
  for (int k = 0; k < e->nargs; k++) {
    if (k) tl_textbuf_str(&def, ", ");
    if (args[k]) {
      cols[nc] = args[k];
      tl_textbuf_str(&def, names[nc++]);
    } else if (!literal_text(&def, &e->args[k]->lit)) {
      st = tl_error_set(err, TL_ETYPE, "mutate: %s: argument %d must be a number, text or "
                        "bool constant here", fname, k + 1);
    }
  }
  tl_textbuf_str(&def, ")");
  if (st == TL_OK && def.failed) st = tl_error_oom(err, "mutate");
  if (st == TL_OK) st = tl_table_new(nc, names, cols, &t, err);
  const char *key = "p", *d = def.p;
  if (st == TL_OK) st = tl_table_group_by(t, 1, &key, &g, err);
  if (st == TL_OK) st = tl_grouping_agg(g, 1, &d, &res, err);
  if (st == TL_OK) {
    idx = tl_alloc(((size_t)n + 1) * sizeof *idx);
    rowof = tl_alloc(((size_t)np + 1) * sizeof *rowof);
    if (!idx || !rowof) st = tl_error_oom(err, "mutate");
  }
  if (st == TL_OK) {
    const int64_t *rp = tl_column_ints(res->cols[0]);
    for (int64_t r = 0; r < res->nrows; r++) rowof[rp[r]] = r;
    for (int64_t i = 0; i < n; i++) idx[i] = rowof[pv[i]];
    st = tl_column_take(res->cols[1], idx, n, out, err);
  }
  tl_free(idx);
  tl_free(rowof);
  tl_free(def.p);
  tl_grouping_free(g);
  tl_table_release(res);
  tl_table_release(t);
  tl_column_release(pid);
  return st;
}

static double num_at(const tl_column *x, int64_t row) {
  switch (x->type) {
    case TL_FLOAT: return ((const double *)x->values)[row];
    case TL_BOOL: return TL_BIT_GET((const uint8_t *)x->values, row);
    case TL_DATE: return ((const int32_t *)x->values)[row];
    default: return (double)((const int64_t *)x->values)[row];
  }
}

static int64_t int_at(const tl_column *x, int64_t row) {
  switch (x->type) {
    case TL_BOOL: return TL_BIT_GET((const uint8_t *)x->values, row);
    case TL_DATE: return ((const int32_t *)x->values)[row];
    default: return ((const int64_t *)x->values)[row];
  }
}

static int less(double a, double b) { return isnan(b) ? !isnan(a) : a < b; }

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
  if (!w->peer) return whole(w, fname, e, args, out, err);
  int id = bi->id;
  if (id != AGG_COUNT && id != AGG_SUM && id != AGG_MEAN && id != AGG_MIN && id != AGG_MAX)
    return tl_error_set(err, TL_EINVAL, "mutate: %s with order_by: a running aggregate is "
                        "count, sum, mean, min or max (without order_by, %s is over the whole "
                        "partition)", fname, fname);
  return running(w, id, fname, e->nargs ? args[0] : NULL, out, err);
}
