/*
** stats.c -- whole-column statistics: sum, mean, min, max, count. They are
** the aggregates' own kinds run over the column as one group, by the same
** scan over the same ranges, so that sum(x) here equals t:agg("sum(x)") to
** the bit and nothing depends on the thread count. Each skips nulls;
** integer sums are exact or an error, float sums compensated (sum.h).
*/
#include <string.h>

#include "base/table.h"
#include "kind.h"
#include "sum.h"

int64_t tl_column_count(const tl_column *c) { return c->length - c->null_count; }

static void set_null(tl_scalar *out, tl_type type) {
  memset(out, 0, sizeof *out);
  out->type = type;
  out->is_null = 1;
}

/* The state of aggregate fn over the values of c, as one group. Errors
** are named by `op`. */
static tl_status one_group(int fn, const tl_column *c, const char *op, agst **out,
                           tl_error *err) {
  agst like = { 0 };
  like.kind = tl_agg_kind_of(fn);
  like.fn = fn;
  like.xt = c->type;
  const char *name = "x";
  tl_column *x = (tl_column *)c;
  tl_table *t = NULL;
  agst *s = tl_agg_state_new(&like, 0, 0);
  tl_status st = s ? tl_table_new(1, &name, &x, &t, err) : TL_ENOMEM;
  if (st == TL_OK) {
    tl_rowgroups rg = { .t = t, .n = t->nrows, .ng = 1 };
    st = tl_agg_scan(&s, 1, &rg, &x, err);
  }
  tl_table_release(t);
  if (st != TL_OK) {
    tl_agg_state_free(s);
    return st == TL_EINTR ? tl_error_interrupted(err, op) : tl_error_oom(err, op);
  }
  *out = s;
  return TL_OK;
}

tl_status tl_column_sum(const tl_column *c, tl_scalar *out, tl_error *err) {
  TL_TRY(tl_column_check_file(c, "sum", err));
  if (c->type != TL_INT && c->type != TL_FLOAT && c->type != TL_BOOL)
    return tl_error_set(err, TL_ETYPE, "sum: %s columns have no sum", tl_type_name(c->type));
  agst *s;
  TL_TRY(one_group(AGG_SUM, c, "sum", &s, err));
  tl_status st = TL_OK;
  if (c->type == TL_FLOAT) {
    set_null(out, TL_FLOAT);
    out->v.f = tl_sum_value(s->f1[0], s->f2[0]);
  } else if (s->is[0] > INT64_MAX || s->is[0] < INT64_MIN) {
    st = tl_error_set(err, TL_ERANGE, "sum: integer overflow (the sum leaves int64)");
  } else {
    set_null(out, TL_INT);
    out->v.i = (int64_t)s->is[0];
  }
  if (st == TL_OK) out->is_null = s->cnt[0] == 0;
  tl_agg_state_free(s);
  return st;
}

tl_status tl_column_mean(const tl_column *c, tl_scalar *out, tl_error *err) {
  TL_TRY(tl_column_check_file(c, "mean", err));
  if (c->type != TL_INT && c->type != TL_FLOAT)
    return tl_error_set(err, TL_ETYPE, "mean: %s columns have no mean", tl_type_name(c->type));
  agst *s;
  TL_TRY(one_group(AGG_MEAN, c, "mean", &s, err));
  int64_t n = s->cnt[0];
  double sum = c->type == TL_FLOAT ? tl_sum_value(s->f1[0], s->f2[0]) : (double)s->is[0];
  set_null(out, TL_FLOAT);
  out->is_null = n == 0;
  out->v.f = n ? sum / (double)n : 0;
  tl_agg_state_free(s);
  return TL_OK;
}

/* min or max of any type. NaN is the greatest float: max takes it, min only
** when there is nothing else. */
static tl_status extreme(const tl_column *c, int fn, const char *op, tl_scalar *out,
                         tl_error *err) {
  TL_TRY(tl_column_check_file(c, op, err));
  agst *s;
  TL_TRY(one_group(fn, c, op, &s, err));
  set_null(out, c->type);
  if (s->has[0]) {
    out->is_null = 0;
    switch (c->type) {
      case TL_FLOAT: out->v.f = s->dv[0]; break;
      case TL_STRING: out->v.s.ptr = s->sp[0]; out->v.s.len = (size_t)s->sl[0]; break;
      case TL_DATE: out->v.d = (int32_t)s->iv[0]; break;
      case TL_BOOL: out->v.b = (int)s->iv[0]; break;
      default: out->v.i = s->iv[0];
    }
  }
  tl_agg_state_free(s);
  return TL_OK;
}

tl_status tl_column_min(const tl_column *c, tl_scalar *out, tl_error *err) {
  return extreme(c, AGG_MIN, "min", out, err);
}

tl_status tl_column_max(const tl_column *c, tl_scalar *out, tl_error *err) {
  return extreme(c, AGG_MAX, "max", out, err);
}
