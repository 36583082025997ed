/*
** verbs.c -- filter, mutate, select, drop, rename: the verbs that keep
** or add columns and rows. Columns that do not change are shared.
**
** core/ops: the verbs over tables: filter and mutate (verbs.c), sort, top
** and distinct (sort.c), join, pivots (reshape.c), window functions,
** group_by and describe. They stand on agg, expr and base.
*/
#include <string.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "expr/expr.h"
#include "base/pool.h"
#include "base/table.h"
#include "keys.h"
#include "window.h"

/* Appends rows start + sel[0..n) to *rows. */
static tl_status collect(const int *sel, int n, int64_t start, int64_t **rows, int64_t *count,
                         int64_t *cap, tl_error *err) {
  if (*count + n > *cap) {
    int64_t ncap = *cap ? *cap : 4096;
    while (ncap < *count + n) ncap *= 2;
    int64_t *nr = tl_realloc(*rows, (size_t)ncap * sizeof *nr);
    if (!nr) return tl_error_oom(err, "filter");
    *rows = nr;
    *cap = ncap;
  }
  int64_t *r = *rows + *count;
  for (int k = 0; k < n; k++) r[k] = start + sel[k];
  *count += n;
  return TL_OK;
}

static tl_status filter_rows(const tl_table *t, int64_t *rows, int64_t count, tl_table **out,
                             tl_error *err) {
  if (count == t->nrows) { *out = tl_table_retain((tl_table *)t); return TL_OK; }
  tl_status st = tl_table_take(t, rows, count, out, err);
  return st == TL_EINTR ? tl_error_interrupted(err, "filter") : st;   /* take's, as ours */
}

/* A parallel filter: a plan per worker; each task evaluates a range of rows
** into its own list, and the lists are joined in order. */
#define FILTER_TASK ((int64_t)TL_VEC * 32)

typedef struct filter_job {
  const tl_table *t;
  expr **plans;             /* one per worker */
  int64_t **rows, *count;   /* per task */
  tl_status *st;
  tl_error *errs;
} filter_job;

static void filter_task(void *ctx, int64_t k, int worker) {
  filter_job *fj = ctx;
  const tl_table *t = fj->t;
  expr *e = fj->plans[worker];
  int64_t start = k * FILTER_TASK, stop = start + FILTER_TASK < t->nrows ? start + FILTER_TASK : t->nrows;
  int64_t cap = 0;
  int vs = tl_expr_vector_size(), sel[TL_VEC], m = 0;
  tl_status st = TL_OK;
  if (tl_interrupted()) st = tl_error_interrupted(&fj->errs[k], "filter");
  for (int64_t s = start; s < stop && st == TL_OK; s += vs) {
    int n = (int)(stop - s < vs ? stop - s : vs);
    st = tl_expr_select(e, t->cols, NULL, s, n, sel, &m, "filter", &fj->errs[k]);
    if (st == TL_OK && m) st = collect(sel, m, s, &fj->rows[k], &fj->count[k], &cap, &fj->errs[k]);
  }
  fj->st[k] = st;
}

tl_status tl_table_filter(const tl_table *t, const char *src, tl_table **out, tl_error *err) {
  return tl_table_filter_with(t, src, NULL, out, err);
}

/* The rows where condition src holds, in order, into *rows (tl_alloc'd)
** and *total: the filter without the take. */
static tl_status filter_select(const tl_table *t, const char *src, const tl_scope *scope,
                               int64_t **rows_out, int64_t *total_out, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "filter", err));
  int nplans = tl_get_threads();
  int64_t ntasks = (t->nrows + FILTER_TASK - 1) / FILTER_TASK;
  if (nplans > ntasks) nplans = ntasks > 0 ? (int)ntasks : 1;
  expr **plans = tl_calloc((size_t)nplans, sizeof *plans);
  if (!plans) return tl_error_oom(err, "filter");
  tl_status st = TL_OK;
  int forked = 0;
  for (int w = 0; w < nplans && st == TL_OK; w++) {
    st = tl_expr_parse(src, "filter", NULL, &plans[w], err);
    if (st == TL_OK) st = tl_expr_bind_scope(plans[w], t, "filter", src, NULL, NULL, scope, err);
    if (st == TL_OK && plans[w]->type && plans[w]->type != TL_BOOL)
      st = tl_error_set(err, TL_ETYPE, "filter: \"%s\": the condition is %s, not bool", src,
                        tl_type_name(plans[w]->type));
    if (st == TL_OK && w == 0 && nplans > 1 && tl_expr_has_host(plans[0]) &&
        !(forked = tl_expr_fork_hosts(plans[0], nplans)))
      nplans = 1;   /* host functions that stay on this thread */
    if (st == TL_OK && forked) tl_expr_host_worker(plans[w], w);
  }
  filter_job fj = { t, plans, NULL, NULL, NULL, NULL };
  if (st == TL_OK) {
    fj.rows = tl_calloc((size_t)ntasks + 1, sizeof *fj.rows);
    fj.count = tl_calloc((size_t)ntasks + 1, sizeof *fj.count);
    fj.st = tl_calloc((size_t)ntasks + 1, sizeof *fj.st);
    fj.errs = tl_alloc(((size_t)ntasks + 1) * sizeof *fj.errs);
    if (!fj.rows || !fj.count || !fj.st || !fj.errs) st = tl_error_oom(err, "filter");
  }
  if (st == TL_OK && nplans == 1 && tl_expr_has_host(plans[0]))
    for (int64_t k = 0; k < ntasks; k++) filter_task(&fj, k, 0);   /* on this thread */
  else if (st == TL_OK)
    tl_parallel_for(ntasks, filter_task, &fj);
  if (forked) {   /* should a task fail on a worker, all run again on this thread */
    tl_expr_join_hosts(plans[0]);
    tl_expr_host_worker(plans[0], -1);
    int again = 0;
    for (int64_t k = 0; k < ntasks && st == TL_OK && !again; k++) again = fj.st[k] != TL_OK;
    for (int64_t k = 0; k < ntasks && again; k++) {
      tl_free(fj.rows[k]);
      fj.rows[k] = NULL;
      fj.count[k] = 0;
      filter_task(&fj, k, 0);
    }
  }
  int64_t total = 0;
  for (int64_t k = 0; k < ntasks && st == TL_OK; k++) {   /* the first failure in row order */
    if ((st = fj.st[k]) != TL_OK && err) *err = fj.errs[k];
    total += fj.count[k];
  }
  int64_t *rows = NULL;
  if (st == TL_OK && !(rows = tl_alloc(((size_t)total + 1) * sizeof *rows)))
    st = tl_error_oom(err, "filter");
  if (st == TL_OK) {
    int64_t at = 0;
    for (int64_t k = 0; k < ntasks; k++) {
      if (fj.count[k]) memcpy(rows + at, fj.rows[k], (size_t)fj.count[k] * sizeof *rows);
      at += fj.count[k];
    }
    *rows_out = rows;
    *total_out = total;
  }
  for (int64_t k = 0; fj.rows && k < ntasks; k++) tl_free(fj.rows[k]);
  tl_free(fj.rows);
  tl_free(fj.count);
  tl_free(fj.st);
  tl_free(fj.errs);
  for (int w = 0; w < nplans; w++) tl_expr_free(plans[w]);
  tl_free(plans);
  return st;
}

tl_status tl_table_filter_with(const tl_table *t, const char *src, const tl_scope *scope,
                               tl_table **out, tl_error *err) {
  int64_t *rows = NULL, total = 0;
  TL_TRY(filter_select(t, src, scope, &rows, &total, err));
  tl_status st = filter_rows(t, rows, total, out, err);
  tl_free(rows);
  return st;
}

/* ---------------------------------------------------------------------------
** Selections: a filter's rows before they are taken. group_by works over
** them in place, so a filter followed by a grouped aggregation reads only
** the columns the grouping and the aggregates use, for the rows selected.
*/
struct tl_selection {
  tl_table *t;
  int64_t *rows;            /* ascending */
  int64_t n;
};

tl_status tl_table_select_rows(const tl_table *t, const char *expr, const tl_scope *scope,
                               tl_selection **out, tl_error *err) {
  tl_selection *s = tl_calloc(1, sizeof *s);
  if (!s) return tl_error_oom(err, "filter");
  tl_status st = filter_select(t, expr, scope, &s->rows, &s->n, err);
  if (st != TL_OK) { tl_free(s); return st; }
  s->t = tl_table_retain((tl_table *)t);
  *out = s;
  return TL_OK;
}

void tl_selection_free(tl_selection *s) {
  if (!s) return;
  tl_table_release(s->t);
  tl_free(s->rows);
  tl_free(s);
}

int64_t tl_selection_count(const tl_selection *s) { return s->n; }

tl_status tl_selection_table(const tl_selection *s, tl_table **out, tl_error *err) {
  return filter_rows(s->t, s->rows, s->n, out, err);
}

tl_status tl_selection_group_by(const tl_selection *s, int nkeys, const char *const *keys,
                                tl_grouping **out, tl_error *err) {
  if (s->n == s->t->nrows) return tl_table_group_by(s->t, nkeys, keys, out, err);
  return tl_group_by_rows(s->t, s->rows, s->n, nkeys, keys, out, err);
}

tl_status tl_table_filter_mask(const tl_table *t, const tl_column *mask, tl_table **out,
                               tl_error *err) {
  TL_TRY(tl_table_check_files(t, "filter", err));
  if (mask->type != TL_BOOL)
    return tl_error_set(err, TL_ETYPE, "filter: the mask must be a bool column, not %s",
                        tl_type_name(mask->type));
  if (mask->length != t->nrows)
    return tl_error_set(err, TL_EINVAL, "filter: the mask has %lld rows, the table %lld",
                        (long long)mask->length, (long long)t->nrows);
  int64_t *rows = tl_alloc((size_t)(t->nrows + 1) * sizeof *rows), count = 0;
  if (!rows) return tl_error_oom(err, "filter");
  const uint8_t *bits = mask->values;
  for (int64_t i = 0; i < t->nrows; i++) {
    if ((i & 0xffff) == 0 && tl_interrupted()) {
      tl_free(rows);
      return tl_error_interrupted(err, "filter");
    }
    rows[count] = i;
    count += TL_BIT_GET(bits, i) & (!mask->validity || TL_BIT_GET(mask->validity, i));
  }
  tl_status st = filter_rows(t, rows, count, out, err);
  tl_free(rows);
  return st;
}

tl_status tl_table_eval(const tl_table *t, const char *src, const char *op, tl_column **out,
                        tl_error *err) {
  return tl_table_eval_with(t, src, op, NULL, out, err);
}

tl_status tl_table_eval_with(const tl_table *t, const char *src, const char *op,
                             const tl_scope *scope, tl_column **out, tl_error *err) {
  TL_TRY(tl_table_check_files(t, op ? op : "eval", err));
  expr *e;
  TL_TRY(tl_expr_parse(src, op, NULL, &e, err));
  tl_status st = tl_expr_bind_scope(e, t, op, src, NULL, NULL, scope, err);
  if (st == TL_OK) st = tl_expr_column(e, t->cols, NULL, t->nrows, op, out, err);
  tl_expr_free(e);
  return st;
}

tl_status tl_table_mutate(const tl_table *t, int n, const char *const *defs, tl_table **out,
                          tl_error *err) {
  return tl_table_mutate_with(t, n, defs, NULL, out, err);
}

tl_status tl_table_mutate_with(const tl_table *t, int n, const char *const *defs,
                               const tl_scope *scope, tl_table **out, tl_error *err) {
  return tl_table_mutate_ex(t, n, defs, scope, NULL, out, err);
}

/* One definition after another; the window calls of each are computed
** first, as slots, over an order kept while its key columns do not change. */
tl_status tl_table_mutate_ex(const tl_table *t, int n, const char *const *defs,
                             const tl_scope *scope, const tl_window_options *win,
                             tl_table **out, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "mutate", err));
  tl_table *cur = tl_table_retain((tl_table *)t);
  tl_window *w = NULL;
  tl_status st = TL_OK;
  for (int k = 0; k < n && st == TL_OK; k++) {
    char *name = NULL;
    expr *e;
    if ((st = tl_expr_parse(defs[k], "mutate", &name, &e, err)) != TL_OK) break;
    if (!name && !(name = tl_expr_default_name(defs[k]))) st = tl_error_oom(err, "mutate");
    tl_column *c = NULL, **slots = NULL;
    int nslots = 0;
    if (st == TL_OK)
      st = tl_window_prepare(e, cur, win, scope, defs[k], &w, &slots, &nslots, err);
    if (st == TL_OK) st = tl_expr_bind_scope(e, cur, "mutate", defs[k], NULL, NULL, scope, err);
    if (st == TL_OK) st = tl_expr_column(e, cur->cols, slots, cur->nrows, "mutate", &c, err);
    tl_table *next = NULL;
    if (st == TL_OK) st = tl_table_set_column(cur, name, c, &next, err);
    for (int j = 0; j < nslots; j++) tl_column_release(slots[j]);
    tl_free(slots);
    tl_column_release(c);
    tl_expr_free(e);
    tl_free(name);
    if (st == TL_OK) {
      tl_table_release(cur);
      cur = next;
    }
  }
  if (st == TL_OK && !w) st = tl_window_check(cur, win, err);   /* keys no call used */
  tl_window_free(w);
  if (st != TL_OK) { tl_table_release(cur); return st; }
  *out = cur;
  return TL_OK;
}

tl_status tl_table_select(const tl_table *t, int n, const char *const *names, tl_table **out,
                          tl_error *err) {
  tl_column **cols = tl_calloc((size_t)n + 1, sizeof *cols);
  if (!cols) return tl_error_oom(err, "select");
  tl_status st = TL_OK;
  for (int k = 0; k < n && st == TL_OK; k++) {
    int j;
    if ((st = tl_table_lookup(t, names[k], "select", &j, err)) == TL_OK) cols[k] = t->cols[j];
  }
  if (st == TL_OK) st = tl_table_new(n, names, cols, out, err);
  tl_free(cols);
  return st;
}

tl_status tl_table_drop(const tl_table *t, int n, const char *const *names, tl_table **out,
                        tl_error *err) {
  char *gone = tl_calloc((size_t)t->ncol + 1, 1);
  const char **keep = tl_calloc((size_t)t->ncol + 1, sizeof *keep);
  tl_status st = (gone && keep) ? TL_OK : tl_error_oom(err, "drop");
  for (int k = 0; k < n && st == TL_OK; k++) {
    int j;
    if ((st = tl_table_lookup(t, names[k], "drop", &j, err)) == TL_OK) gone[j] = 1;
  }
  int m = 0;
  for (int j = 0; j < t->ncol && st == TL_OK; j++)
    if (!gone[j]) keep[m++] = t->names[j];
  if (st == TL_OK) st = tl_table_select(t, m, keep, out, err);
  tl_free(gone);
  tl_free(keep);
  return st;
}

tl_status tl_table_rename(const tl_table *t, int n, const char *const *from,
                          const char *const *to, tl_table **out, tl_error *err) {
  const char **names = tl_calloc((size_t)t->ncol + 1, sizeof *names);
  if (!names) return tl_error_oom(err, "rename");
  for (int j = 0; j < t->ncol; j++) names[j] = t->names[j];
  tl_status st = TL_OK;
  for (int k = 0; k < n && st == TL_OK; k++) {
    int j;
    if ((st = tl_table_lookup(t, from[k], "rename", &j, err)) == TL_OK) names[j] = to[k];
  }
  if (st == TL_OK) {
    st = tl_table_new(t->ncol, names, t->cols, out, err);
    if (st == TL_EINVAL) tl_error_rename(err, "rename");   /* a duplicate name */
  }
  tl_free(names);
  return st;
}
