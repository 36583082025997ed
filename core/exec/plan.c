/*
** plan.c -- lazy plans: the steps a scan's verbs add, each checked when it
** is made by running the in-memory verb on the empty table of the step
** before (so a scan's errors read as the table's), and the layout of a
** plan for a run: filters moved towards the source (past mutate, select
** and drop when they read nothing those define), filters that fold to a
** constant dropped or turned into "read nothing", and the source's columns
** cut to those some later step uses. A mutate whose definitions read the
** whole input (window functions, aggregates) is a window step: like a sort,
** it ends the streaming part and runs on the rows gathered.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "exec.h"
#include "expr/expr.h"
#include "expr/registry.h"

tl_source *tl_source_retain(tl_source *s) {
  atomic_fetch_add(&s->refs, 1);
  return s;
}

void tl_source_release(tl_source *s) {
  if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
  tl_table_release(s->schema);
  s->kind->free(s);
}

static void free_strs(char **v, int n) {
  for (int k = 0; v && k < n; k++) tl_free(v[k]);
  tl_free(v);
}

void tl_scan_free(tl_scan *s) {
  while (s && atomic_fetch_sub(&s->refs, 1) == 1) {
    tl_scan *in = s->in;
    tl_source_release(s->src);
    free_strs(s->a, s->na);
    free_strs(s->b, s->nb);
    free_strs(s->w, s->norder + s->npart);
    tl_table_release(s->schema);
    tl_table_release(s->right);
    tl_free(s);
    s = in;
  }
}

const tl_table *tl_scan_schema(const tl_scan *s) { return s->schema; }

void tl_scan_options_init(tl_scan_options *opts) { memset(opts, 0, sizeof *opts); }

static char **copy_strs(int n, const char *const *v) {
  char **c = tl_calloc((size_t)n + 1, sizeof *c);
  for (int k = 0; c && k < n; k++)
    if (!(c[k] = tl_strdup(v[k]))) { free_strs(c, k); return NULL; }
  return c;
}

/* A mutate's definitions, over the order of its window options. */
static tl_status apply_mutate(const tl_scan *s, const tl_table *t, tl_table **out, tl_error *err) {
  tl_window_options win;
  tl_window_options_init(&win);
  win.order_by = (const char *const *)s->w;
  win.norder = s->norder;
  win.partition_by = s->w ? (const char *const *)s->w + s->norder : NULL;
  win.npartition = s->npart;
  return tl_table_mutate_ex(t, s->na, (const char *const *)s->a, &s->scope,
                            s->norder + s->npart ? &win : NULL, out, err);
}

tl_status tl_step_apply(const tl_scan *s, const tl_table *t, tl_table **out, tl_error *err) {
  const char *const *a = (const char *const *)s->a;
  const tl_scope *scope = &s->scope;
  switch (s->kind) {
    case P_FILTER: return tl_table_filter_with(t, a[0], scope, out, err);
    case P_WINDOW: return apply_mutate(s, t, out, err);
    case P_MUTATE: {
      if (s->nb == 0) return apply_mutate(s, t, out, err);
      tl_table *m = NULL;                  /* a plan's mutate: then its columns put back */
      TL_TRY(apply_mutate(s, t, &m, err));
      tl_status st = tl_table_select(m, s->nb, (const char *const *)s->b, out, err);
      tl_table_release(m);
      return st;
    }
    case P_SELECT: return tl_table_select(t, s->na, a, out, err);
    case P_DROP: return tl_table_drop(t, s->na, a, out, err);
    case P_RENAME: return tl_table_rename(t, s->na, a, (const char *const *)s->b, out, err);
    case P_HEAD: return tl_table_slice(t, 0, s->count, out, err);
    case P_TOP: return tl_table_top(t, s->count, s->na, a, out, err);
    case P_DISTINCT: return tl_table_distinct(t, s->na, a, out, err);
    case P_SORT: return tl_table_sort(t, s->na, a, out, err);
    case P_JOIN: case P_JOINX: return tl_join_step_apply(s, t, out, err);
    case P_AGG: {
      const char *const *b = (const char *const *)s->b;
      if (s->na == 0) return tl_table_agg_scope(t, s->nb, b, scope, out, err);
      tl_grouping *g = NULL;
      tl_status st = tl_table_group_by(t, s->na, a, &g, err);
      if (st == TL_OK) st = tl_grouping_agg_scope(g, s->nb, b, scope, out, err);
      tl_grouping_free(g);
      return st;
    }
    default: return tl_table_retain((tl_table *)t), *out = (tl_table *)t, TL_OK;
  }
}

/* A new step of kind k over `in`, checked on in's empty schema. */
static tl_status add_step_win(const tl_scan *in, pkind k, int na, const char *const *a, int nb,
                              const char *const *b, int64_t count, const tl_scope *scope,
                              const tl_window_options *win, tl_scan **out, tl_error *err) {
  *out = NULL;
  if (na < 0 || nb < 0 || count < 0)
    return tl_error_set(err, TL_EINVAL, "scan: a negative count");
  tl_scan *s = tl_calloc(1, sizeof *s);
  if (!s) return tl_error_oom(err, "scan");
  atomic_init(&s->refs, 1);
  s->kind = k;
  s->count = count;
  s->na = na;
  s->nb = nb;
  s->a = copy_strs(na, a);
  s->b = copy_strs(nb, b);
  if (scope) s->scope = *scope;
  if (win && win->norder + win->npartition > 0) {
    if (win->norder < 0 || win->npartition < 0 || (win->norder && !win->order_by) ||
        (win->npartition && !win->partition_by)) {
      tl_scan_free(s);
      return tl_error_set(err, TL_EINVAL, "mutate: bad window options");
    }
    s->w = tl_calloc((size_t)(win->norder + win->npartition) + 1, sizeof *s->w);
    for (int k = 0; s->w && k < win->norder + win->npartition; k++) {
      const char *key = k < win->norder ? win->order_by[k] : win->partition_by[k - win->norder];
      if (!key) {
        tl_scan_free(s);
        return tl_error_set(err, TL_EINVAL, "mutate: a null key name");
      }
      if (!(s->w[k] = tl_strdup(key))) { tl_scan_free(s); return tl_error_oom(err, "scan"); }
      if (k < win->norder) s->norder++;
      else s->npart++;
    }
    if (!s->w) { tl_scan_free(s); return tl_error_oom(err, "scan"); }
  }
  if (!s->a || !s->b) { tl_scan_free(s); return tl_error_oom(err, "scan"); }
  tl_status st = tl_step_apply(s, in->schema, &s->schema, err);
  if (st != TL_OK) { tl_scan_free(s); return st; }
  atomic_fetch_add(&((tl_scan *)in)->refs, 1);
  s->in = (tl_scan *)in;
  *out = s;
  return TL_OK;
}

static tl_status add_step_with(const tl_scan *in, pkind k, int na, const char *const *a, int nb,
                               const char *const *b, int64_t count, const tl_scope *scope,
                               tl_scan **out, tl_error *err) {
  return add_step_win(in, k, na, a, nb, b, count, scope, NULL, out, err);
}

static tl_status add_step(const tl_scan *in, pkind k, int na, const char *const *a, int nb,
                          const char *const *b, int64_t count, tl_scan **out, tl_error *err) {
  return add_step_with(in, k, na, a, nb, b, count, NULL, out, err);
}

/* The first call of e to a window function or a built-in aggregate, or
** NULL: in mutate both read the whole input (a partition, or the table). */
static const expr *whole_input_call(const expr *e, int *kind) {
  if (e->kind == E_CALL || e->kind == E_AGG) {
    const tl_builtin *bi = tl_builtin_lookup(e->name);
    if (bi && (bi->info.kind == TL_FN_WINDOW || bi->info.kind == TL_FN_AGGREGATE)) {
      *kind = bi->info.kind == TL_FN_WINDOW ? 1 : 2;
      return e;
    }
  }
  for (int k = 0; k < e->nargs; k++) {
    const expr *c = whole_input_call(e->args[k], kind);
    if (c) return c;
  }
  return NULL;
}

int tl_whole_input_call(int n, char *const *defs, char *name, size_t size) {
  int kind = 0;
  for (int k = 0; k < n && !kind; k++) {
    expr *e = NULL;
    char *nm = NULL;
    tl_error ignored;
    if (tl_expr_parse(defs[k], "mutate", &nm, &e, &ignored) != TL_OK) continue;   /* checked */
    const expr *c = whole_input_call(e, &kind);
    if (c && size) snprintf(name, size, "%s", c->name);
    tl_free(nm);
    tl_expr_free(e);
  }
  return kind;
}

/* A mutate whose definitions read the whole input gathers it first: its
** step is a window step, which ends the streaming part of a plan. */
static tl_status mutate_step(const tl_scan *s, int n, const char *const *defs,
                             const tl_scope *scope, const tl_window_options *win, tl_scan **out,
                             tl_error *err) {
  TL_TRY(add_step_win(s, P_MUTATE, n, defs, 0, NULL, 0, scope, win, out, err));
  if (tl_whole_input_call((*out)->na, (*out)->a, NULL, 0)) (*out)->kind = P_WINDOW;
  return TL_OK;
}

/* The keys of a scan's distinct and grouping, checked by the verb, must
** also be columns: the batches' distinct rows and partial states are merged
** by them, by name. The table's verbs also take expressions, which a scan
** would accept here and then fail to read; *out is freed on error. */
static tl_status key_names(const tl_scan *in, const char *op, int n, const char *const *keys,
                           tl_scan **out, tl_error *err) {
  for (int k = 0; k < n; k++)
    if (tl_table_find(in->schema, keys[k]) < 0) {
      tl_scan_free(*out);
      *out = NULL;
      return tl_error_set(err, TL_EINVAL, "%s: a scan's keys are column names, and '%s' is "
                          "not one: mutate it first (s:mutate(\"k = ...\"):%s(\"k\"))", op,
                          keys[k], op);
    }
  return TL_OK;
}

tl_status tl_scan_filter(const tl_scan *s, const char *expr, tl_scan **out, tl_error *err) {
  return add_step(s, P_FILTER, 1, &expr, 0, NULL, 0, out, err);
}
tl_status tl_scan_mutate(const tl_scan *s, int n, const char *const *defs, tl_scan **out,
                         tl_error *err) {
  return mutate_step(s, n, defs, NULL, NULL, out, err);
}
tl_status tl_scan_filter_with(const tl_scan *s, const char *expr, const tl_scope *scope,
                              tl_scan **out, tl_error *err) {
  return add_step_with(s, P_FILTER, 1, &expr, 0, NULL, 0, scope, out, err);
}
tl_status tl_scan_mutate_with(const tl_scan *s, int n, const char *const *defs,
                              const tl_scope *scope, tl_scan **out, tl_error *err) {
  return mutate_step(s, n, defs, scope, NULL, out, err);
}
tl_status tl_scan_mutate_ex(const tl_scan *s, int n, const char *const *defs,
                            const tl_scope *scope, const tl_window_options *win, tl_scan **out,
                            tl_error *err) {
  return mutate_step(s, n, defs, scope, win, out, err);
}
tl_status tl_scan_agg_with(const tl_scan *s, int nkeys, const char *const *keys, int n,
                           const char *const *defs, const tl_scope *scope, tl_scan **out,
                           tl_error *err) {
  TL_TRY(add_step_with(s, P_AGG, nkeys, keys, n, defs, 0, scope, out, err));
  return key_names(s, "group_by", nkeys, keys, out, err);
}
tl_status tl_scan_select(const tl_scan *s, int n, const char *const *names, tl_scan **out,
                         tl_error *err) {
  return add_step(s, P_SELECT, n, names, 0, NULL, 0, out, err);
}
tl_status tl_scan_drop(const tl_scan *s, int n, const char *const *names, tl_scan **out,
                       tl_error *err) {
  return add_step(s, P_DROP, n, names, 0, NULL, 0, out, err);
}
tl_status tl_scan_rename(const tl_scan *s, int n, const char *const *from,
                         const char *const *to, tl_scan **out, tl_error *err) {
  return add_step(s, P_RENAME, n, from, n, to, 0, out, err);
}
tl_status tl_scan_agg(const tl_scan *s, int nkeys, const char *const *keys, int n,
                      const char *const *defs, tl_scan **out, tl_error *err) {
  return tl_scan_agg_with(s, nkeys, keys, n, defs, NULL, out, err);
}
tl_status tl_scan_head(const tl_scan *s, int64_t n, tl_scan **out, tl_error *err) {
  return add_step(s, P_HEAD, 0, NULL, 0, NULL, n, out, err);
}
tl_status tl_scan_top(const tl_scan *s, int64_t n, int nkeys, const char *const *keys,
                      tl_scan **out, tl_error *err) {
  return add_step(s, P_TOP, nkeys, keys, 0, NULL, n, out, err);
}
tl_status tl_scan_distinct(const tl_scan *s, int n, const char *const *cols, tl_scan **out,
                           tl_error *err) {
  TL_TRY(add_step(s, P_DISTINCT, n, cols, 0, NULL, 0, out, err));
  return key_names(s, "distinct", n, cols, out, err);
}
tl_status tl_scan_sort(const tl_scan *s, int nkeys, const char *const *keys, tl_scan **out,
                       tl_error *err) {
  return add_step(s, P_SORT, nkeys, keys, 0, NULL, 0, out, err);
}

tl_status tl_scan_from_source(tl_source *src, const tl_scan_options *opts, tl_scan **out,
                             tl_error *err) {
  tl_scan *s = tl_calloc(1, sizeof *s);
  if (!s) { tl_source_release(src); return tl_error_oom(err, "scan"); }
  atomic_init(&s->refs, 1);
  s->kind = P_SOURCE;
  s->src = src;
  s->schema = tl_table_retain(src->schema);
  if (opts) s->opts = *opts;
  s->opts.csv = NULL;
  *out = s;
  return TL_OK;
}

tl_status tl_scan_csv(int npaths, const char *const *paths, const tl_scan_options *opts,
                      tl_scan **out, tl_error *err) {
  tl_source *src = NULL;
  *out = NULL;
  TL_TRY(tl_source_csv(npaths, paths, opts, &src, err));
  return tl_scan_from_source(src, opts, out, err);
}

const char *tl_scan_csv_option(const tl_scan_options *opts) {
  if (!opts) return NULL;
  if (opts->sample_bytes > 0) return "sample_bytes";
  const tl_csv_options *o = opts->csv;
  if (!o) return NULL;
  if (o->ntypes > 0) return "types";
  if (o->sep) return "sep";
  if (o->header != 1) return "header";
  if (o->nnulls > 0) return "null";
  if (o->skip) return "skip";
  if (o->comment) return "comment";
  if (o->max_field_size) return "max_field_size";
  if (o->infer != 1) return "infer";
  if (o->dateformat) return "dateformat";
  if (o->timestampformat) return "timestampformat";
  if (o->columns) return "columns";
  if (o->max_rows >= 0) return "max_rows";
  if (o->on_error) return "on_error";
  return NULL;
}

tl_status tl_scan_table(const tl_table *t, const tl_scan_options *opts, tl_scan **out,
                        tl_error *err) {
  tl_source *src = NULL;
  *out = NULL;
  const char *given = tl_scan_csv_option(opts);
  if (given)
    return tl_error_set(err, TL_EINVAL, "scan: option '%s' is for CSV files: it does not "
                        "apply to a table", given);
  TL_TRY(tl_source_table(t, &src, err));
  return tl_scan_from_source(src, opts, out, err);
}

/* ---------------------------------------------------------------------------
** Names: sets of column names as arrays (plans have few columns).
*/
typedef struct names {
  int n, cap;
  char **v;                 /* borrowed from the steps or expressions' copies */
  int failed;
} names;

static int names_has(const names *s, const char *x) {
  for (int k = 0; k < s->n; k++)
    if (strcmp(s->v[k], x) == 0) return 1;
  return 0;
}

static void names_add(names *s, const char *x) {
  if (s->failed || names_has(s, x)) return;
  if (s->n == s->cap) {
    int cap = s->cap ? 2 * s->cap : 16;
    char **v = tl_realloc(s->v, (size_t)cap * sizeof *v);
    if (!v) { s->failed = 1; return; }
    s->v = v;
    s->cap = cap;
  }
  if (!(s->v[s->n] = tl_strdup(x))) { s->failed = 1; return; }
  s->n++;
}

static void names_del(names *s, const char *x) {
  for (int k = 0; k < s->n; k++)
    if (strcmp(s->v[k], x) == 0) {
      tl_free(s->v[k]);
      s->v[k] = s->v[--s->n];
      return;
    }
}

static void names_clear(names *s) {
  for (int k = 0; k < s->n; k++) tl_free(s->v[k]);
  s->n = 0;
}

static void names_free(names *s) {
  names_clear(s);
  tl_free(s->v);
}

static void expr_cols(const expr *e, names *s) {
  if (e->kind == E_COL) names_add(s, e->name);
  for (int k = 0; k < e->nargs; k++) expr_cols(e->args[k], s);
}

/* Adds the columns expression `src` reads; with `def`, src is a definition
** whose name is returned in *name (tl_alloc'd). */
static tl_status src_cols(const char *src, int def, names *s, char **name, tl_error *err) {
  expr *e = NULL;
  if (name) *name = NULL;
  TL_TRY(tl_expr_parse(src, "scan", def ? name : NULL, &e, err));
  expr_cols(e, s);
  tl_expr_free(e);
  return s->failed ? tl_error_oom(err, "scan") : TL_OK;
}

/* What step s (streaming, or the sink) needs of its input when `need` is
** wanted of its output; `need` is updated in place. */
static tl_status need_before(const tl_scan *s, names *need, uint8_t *live, tl_error *err) {
  const tl_table *in = s->in->schema;
  names tmp = {0};
  tl_status st = TL_OK;
  switch (s->kind) {
    case P_FILTER: return src_cols(s->a[0], 0, need, NULL, err);
    case P_MUTATE:
      for (int k = s->na - 1; k >= 0 && st == TL_OK; k--) {
        char *name = NULL;
        names_clear(&tmp);
        st = src_cols(s->a[k], 1, &tmp, &name, err);
        if (st != TL_OK) break;
        const char *nm = name;
        char *dflt = name ? NULL : tl_expr_default_name(s->a[k]);
        if (!nm) nm = dflt;
        if (nm && names_has(need, nm)) {
          if (live) live[k] = 1;
          names_del(need, nm);
          for (int j = 0; j < tmp.n; j++) names_add(need, tmp.v[j]);
        }
        tl_free(name);
        tl_free(dflt);
      }
      names_free(&tmp);
      return st;
    case P_DROP: return TL_OK;
    case P_HEAD: case P_TOP: case P_SORT: case P_JOIN: case P_JOINX: case P_WINDOW:   /* every column */
      for (int j = 0; j < tl_table_ncols(in); j++) names_add(need, tl_table_name(in, j));
      return TL_OK;
    case P_SELECT:
      for (int k = 0; k < s->na; k++) names_add(need, s->a[k]);
      return TL_OK;
    case P_RENAME:   /* all at once: { a = "b", b = "a" } swaps */
      for (int j = 0; j < need->n; j++) {
        const char *x = need->v[j];
        for (int k = 0; k < s->na; k++)
          if (strcmp(x, s->b[k]) == 0) { x = s->a[k]; break; }
        names_add(&tmp, x);
      }
      if (tmp.failed) { names_free(&tmp); return tl_error_oom(err, "scan"); }
      names_free(need);
      *need = tmp;
      return TL_OK;
    case P_DISTINCT: case P_AGG:
      names_clear(need);
      if (s->kind == P_DISTINCT && s->na == 0)
        for (int j = 0; j < tl_table_ncols(in); j++) names_add(need, tl_table_name(in, j));
      for (int k = 0; k < s->na; k++) names_add(need, s->a[k]);
      for (int k = 0; k < s->nb && st == TL_OK; k++) {
        char *name = NULL;
        st = src_cols(s->b[k], 1, need, &name, err);
        tl_free(name);
      }
      return st;
    default: return TL_OK;
  }
}

/* The names a mutate defines, or a filter's columns, for the reordering. */
static tl_status defined_by(const tl_scan *s, names *out, tl_error *err) {
  for (int k = 0; k < s->na; k++) {
    names tmp = {0};
    char *name = NULL;
    tl_status st = src_cols(s->a[k], 1, &tmp, &name, err);
    names_free(&tmp);
    if (st != TL_OK) return st;
    char *nm = name ? name : tl_expr_default_name(s->a[k]);
    if (nm) names_add(out, nm);
    tl_free(nm);
  }
  return out->failed ? tl_error_oom(err, "scan") : TL_OK;
}

/* 1 when the filter folds to a constant on its input's schema: *value is
** 1 for true, 0 for false or null. */
static int constant_filter(const tl_scan *f, int *value) {
  expr *e = NULL;
  tl_error err;
  int is = 0;
  if (tl_expr_parse(f->a[0], "filter", NULL, &e, &err) == TL_OK &&
      tl_expr_bind(e, f->in->schema, "filter", f->a[0], NULL, NULL, &err) == TL_OK &&
      e->kind == E_LIT) {
    is = 1;
    *value = !e->lit.is_null && e->lit.type == TL_BOOL && e->lit.v.b;
  }
  tl_expr_free(e);
  return is;
}

/* Moves filter k of the stream towards the source while the step before
** it defines nothing the filter reads; returns its new place. */
static tl_status push_filter(tl_plan *p, int k, int *at, tl_error *err) {
  names uses = {0};
  const tl_scan *f = p->stream[k];
  tl_status st = src_cols(f->a[0], 0, &uses, NULL, err);
  while (st == TL_OK && k > p->npushed) {
    const tl_scan *prev = p->stream[k - 1];
    int ok = prev->kind == P_SELECT || prev->kind == P_DROP || prev->kind == P_FILTER;
    if (prev->kind == P_MUTATE) {
      names def = {0};
      st = defined_by(prev, &def, err);
      ok = st == TL_OK;
      for (int j = 0; ok && j < uses.n; j++) ok = !names_has(&def, uses.v[j]);
      names_free(&def);
    }
    if (!ok) break;
    p->stream[k] = prev;
    k--;
  }
  p->stream[k] = f;
  names_free(&uses);
  *at = k;
  return st;
}

void tl_window_step_oom(const tl_scan *s, tl_error *err) {
  char fn[64] = "";
  int kind = tl_whole_input_call(s->na, s->a, fn, sizeof fn);
  tl_error_rename(err, "mutate");
  size_t len = strlen(err->message);
  snprintf(err->message + len, sizeof err->message - len, " (a scan's mutate with the %s '%s' "
           "gathers its input in memory)", kind == 1 ? "window function" : "aggregate", fn);
}

void tl_plan_free(tl_plan *p) {
  for (int k = 0; p->adj && k < p->nstream; k++) {
    tl_join_step_unbuild(&p->adj[k]);
    tl_free(p->adj[k].a);
    tl_free(p->adj[k].b);
    tl_table_release(p->adj[k].schema);
  }
  tl_free(p->adj);
  tl_table_release(p->input);
  tl_free(p->steps);
  tl_free(p->stream);
  free_strs(p->read, p->nread);
  memset(p, 0, sizeof *p);
}

/* The steps from the source on; the streaming ones up to the sink, with
** the constant filters taken out. */
static tl_status lay_out(const tl_scan *s, tl_plan *p, tl_error *err) {
  int n = 0;
  for (const tl_scan *x = s; x; x = x->in) n++;
  p->steps = tl_calloc((size_t)n, sizeof *p->steps);
  p->stream = tl_calloc((size_t)n, sizeof *p->stream);
  if (!p->steps || !p->stream) return tl_error_oom(err, "scan");
  p->nsteps = n;
  for (const tl_scan *x = s; x; x = x->in) p->steps[--n] = x;
  for (int k = 1; k < p->nsteps && !p->sink; k++) {
    const tl_scan *x = p->steps[k];
    int value;
    if (!tl_step_streams(x->kind)) p->sink = x;
    else if (x->kind == P_FILTER && constant_filter(x, &value)) p->nothing |= !value;
    else p->stream[p->nstream++] = x;
  }
  for (int k = 0; k < p->nstream; k++) {
    if (p->stream[k]->kind != P_FILTER) continue;
    int at;
    TL_TRY(push_filter(p, k, &at, err));
    if (at == p->npushed) p->npushed++;
  }
  return TL_OK;
}

/* The source's columns some step reads, in the source's order. */
static tl_status projection(tl_plan *p, tl_error *err) {
  names need = {0};
  const tl_table *last = p->sink ? p->sink->in->schema
                                 : p->steps[p->nsteps - 1]->schema;
  tl_status st = TL_OK;
  if (p->sink) st = need_before(p->sink, &need, NULL, err);
  else
    for (int j = 0; j < tl_table_ncols(last); j++) names_add(&need, tl_table_name(last, j));
  for (int k = p->nstream - 1; k >= 0 && st == TL_OK; k--) {
    const tl_scan *x = p->stream[k];
    if (x->kind == P_SELECT) names_clear(&need);
    uint8_t *live = x->kind == P_MUTATE ? tl_calloc((size_t)x->na, 1) : NULL;
    if (x->kind == P_MUTATE && !live) st = tl_error_oom(err, "scan");
    if (st == TL_OK) st = need_before(x, &need, live, err);
    if (st == TL_OK && live) {   /* the definitions nothing later reads are left out */
      tl_scan *a = &p->adj[k];
      a->na = 0;
      for (int d = 0; d < x->na; d++)
        if (live[d]) a->a[a->na++] = x->a[d];
    }
    tl_free(live);
  }
  if (st == TL_OK && need.failed) st = tl_error_oom(err, "scan");
  const tl_table *src = p->steps[0]->schema;
  if (st == TL_OK && !(p->read = tl_calloc((size_t)tl_table_ncols(src) + 1, sizeof *p->read)))
    st = tl_error_oom(err, "scan");
  for (int j = 0; st == TL_OK && j < tl_table_ncols(src); j++) {
    if (!names_has(&need, tl_table_name(src, j))) continue;
    if (!(p->read[p->nread] = tl_strdup(tl_table_name(src, j)))) st = tl_error_oom(err, "scan");
    else p->nread++;
  }
  names_free(&need);
  return st;
}

/* The steps as they run on batches of the columns read: a copy of each
** streaming step with its own argument lists (borrowed strings). */
static tl_status copy_stream(tl_plan *p, tl_error *err) {
  if (!(p->adj = tl_calloc((size_t)p->nstream + 1, sizeof *p->adj))) return tl_error_oom(err, "scan");
  for (int k = 0; k < p->nstream; k++) {
    const tl_scan *x = p->stream[k];
    tl_scan *a = &p->adj[k];
    a->kind = x->kind;
    a->in = x->in;
    a->count = x->count;
    a->right = x->right;     /* borrowed */
    a->scope = x->scope;
    a->na = x->na;
    a->nb = x->nb;
    a->a = tl_calloc((size_t)x->na + 1, sizeof *a->a);
    a->b = tl_calloc((size_t)x->nb + 1, sizeof *a->b);
    if (!a->a || !a->b) return tl_error_oom(err, "scan");
    memcpy(a->a, x->a, (size_t)x->na * sizeof *a->a);
    memcpy(a->b, x->b, (size_t)x->nb * sizeof *a->b);
    if (a->kind == P_JOIN) TL_TRY(tl_join_step_build(a, err));
  }
  return TL_OK;
}

/* A mutate that replaces a column the plan does not read (nothing wants
** its old values) adds it at the end of the batch, where in memory it
** keeps its place: the plan's copy `a` of mutate x then selects the
** batch's columns in the order of x's result (a->b, names borrowed from
** x's schema). */
static tl_status keep_places(const tl_scan *x, tl_scan *a, tl_error *err) {
  const tl_table *want = x->schema, *got = a->schema;
  int n = tl_table_ncols(got), m = 0, moved = 0;
  const char **order = tl_calloc((size_t)n + 1, sizeof *order);
  if (!order) return tl_error_oom(err, "scan");
  for (int j = 0; j < tl_table_ncols(want) && m < n; j++) {
    const char *nm = tl_table_name(want, j);
    if (tl_table_find(got, nm) < 0) continue;
    moved |= strcmp(nm, tl_table_name(got, m)) != 0;
    order[m++] = nm;
  }
  if (m != n || !moved) {
    tl_free(order);
    return TL_OK;
  }
  tl_table *sel = NULL;
  tl_status st = tl_table_select(got, n, order, &sel, err);
  if (st != TL_OK) { tl_free(order); return st; }
  tl_free(a->b);
  a->b = (char **)order;
  a->nb = n;
  tl_table_release(a->schema);
  a->schema = sel;
  return TL_OK;
}

/* Cuts drop and rename to the columns there are, and checks each step on
** the empty table of the columns read, keeping its result's schema. */
static tl_status fit_stream(tl_plan *p, tl_error *err) {
  TL_TRY(tl_table_select(p->steps[0]->schema, p->nread, (const char *const *)p->read,
                         &p->input, err));
  const tl_table *t = p->input;
  for (int k = 0; k < p->nstream; k++) {
    tl_scan *a = &p->adj[k];
    if (a->kind == P_DROP || a->kind == P_RENAME) {
      int n = 0;
      for (int j = 0; j < a->na; j++) {
        if (tl_table_find(t, a->a[j]) < 0) continue;
        a->a[n] = a->a[j];
        if (a->kind == P_RENAME) a->b[n] = a->b[j];
        n++;
      }
      a->na = n;
      if (a->kind == P_RENAME) a->nb = n;
    }
    TL_TRY(tl_step_apply(a, t, &a->schema, err));
    if (a->kind == P_MUTATE) TL_TRY(keep_places(p->stream[k], a, err));
    t = a->schema;
  }
  return TL_OK;
}

tl_status tl_plan_make(const tl_scan *s, tl_plan *p, tl_error *err) {
  memset(p, 0, sizeof *p);
  tl_status st = lay_out(s, p, err);
  if (st == TL_OK) st = copy_stream(p, err);
  if (st == TL_OK) st = projection(p, err);
  if (st == TL_OK) st = fit_stream(p, err);
  if (st != TL_OK) tl_plan_free(p);
  return st;
}

int tl_plan_spills(const tl_plan *p) {
  const tl_scan *k = p->sink;
  return k && tl_env_memory_limit(NULL) &&
         ((k->kind == P_AGG && k->na) || k->kind == P_DISTINCT || k->kind == P_SORT ||
          k->kind == P_TOP);
}

void tl_plan_fuse(tl_plan *p) {
  p->then = NULL;
  if (!tl_plan_spills(p) || (p->sink->kind != P_AGG && p->sink->kind != P_DISTINCT)) return;
  for (int k = 1; k + 1 < p->nsteps; k++)
    if (p->steps[k] == p->sink && (p->steps[k + 1]->kind == P_SORT || p->steps[k + 1]->kind == P_TOP))
      p->then = p->steps[k + 1];
}

int tl_plan_streams(const tl_plan *p) {
  if (!p->sink) return 1;
  const tl_scan *last = p->steps[p->nsteps - 1];
  return tl_plan_spills(p) && (last == p->sink || (p->then && last == p->then));
}

/* ---------------------------------------------------------------------------
** explain
*/
static const char *step_name(pkind k) {
  static const char *const n[] = { "scan", "filter", "mutate", "select", "drop", "rename",
                                   "agg", "head", "top", "distinct", "sort", "join",
                                   "join", "mutate" };
  return n[k];
}

static void add_list(tl_textbuf *tb, char *const *v, int n, const char *sep) {
  for (int k = 0; k < n; k++) tl_textbuf_printf(tb, "%s%s", k ? sep : "", v[k]);
}

static void explain_step(tl_textbuf *tb, const tl_scan *s) {
  tl_textbuf_printf(tb, "%s", step_name(s->kind));
  if (s->kind == P_AGG && s->na) { tl_textbuf_str(tb, " by "); add_list(tb, s->a, s->na, ", "); }
  if (s->kind == P_HEAD || s->kind == P_TOP) tl_textbuf_printf(tb, " %lld", (long long)s->count);
  if (s->kind == P_RENAME) {
    for (int k = 0; k < s->na; k++) tl_textbuf_printf(tb, "%s%s -> %s", k ? ", " : " ", s->a[k], s->b[k]);
  } else if (s->kind != P_AGG && s->na) {
    tl_textbuf_str(tb, " ");
    add_list(tb, s->a, s->na, s->kind == P_FILTER ? "" : ", ");
  }
  if (s->kind == P_AGG) { tl_textbuf_str(tb, ": "); add_list(tb, s->b, s->nb, ", "); }
  if (s->norder) { tl_textbuf_str(tb, " (order_by "); add_list(tb, s->w, s->norder, ", "); }
  if (s->npart) {
    tl_textbuf_str(tb, s->norder ? "; partition_by " : " (partition_by ");
    add_list(tb, s->w + s->norder, s->npart, ", ");
  }
  if (s->norder + s->npart) tl_textbuf_str(tb, ")");
  if (s->kind == P_JOIN || s->kind == P_JOINX) {
    static const char *const how[] = { "", "inner", "left", "right", "full", "semi", "anti" };
    tl_textbuf_printf(tb, " (%s, with a table of %lld rows)", how[s->count],
                      (long long)tl_table_nrows(s->right));
  }
}

static const char *sink_how(pkind k) {
  switch (k) {
    case P_AGG: return "streamed: partial states per batch, merged in order";
    case P_HEAD: return "streamed: stops once the rows are read, in source order";
    case P_TOP: return "streamed: the top rows of each batch, merged in order";
    case P_DISTINCT: return "streamed: the distinct rows of each batch, merged in order";
    case P_JOINX: return "materializes: the rows are gathered in memory, then joined";
    default: return "materializes: the rows are gathered in memory, then sorted";
  }
}

/* How a window mutate runs: its input gathered, in file order, then the
** table's mutate; under a memory limit, that what it gathers must fit. */
static void explain_window(tl_textbuf *tb, const tl_scan *x) {
  char fn[64] = "";
  int kind = tl_whole_input_call(x->na, x->a, fn, sizeof fn);
  tl_textbuf_printf(tb, "  [materializes: the rows are gathered in memory in file order for the "
                    "%s '%s', then mutated as a table]", kind == 1 ? "window function"
                                                                   : "aggregate over the input",
                    fn);
  if (tl_env_memory_limit(NULL))
    tl_textbuf_printf(tb, "\n  does not spill: the rows gathered must fit the memory limit "
                      "(%zu bytes)", tl_env_memory_limit(NULL));
}

/* Under a memory limit, how a grouping, distinct, top or sort goes past
** it (`then`: the sort or top after it that its run applies). */
static void explain_spill(tl_textbuf *tb, const tl_scan *x, const tl_scan *then) {
  size_t limit = tl_env_memory_limit(NULL);
  const char *how = NULL;
  if (!limit) return;
  if ((x->kind == P_AGG && x->na) || x->kind == P_DISTINCT)
    how = x->kind == P_AGG ? "partial states partitioned by key hash, then merged partition by "
                             "partition, the result ordered by an external sort"
                           : "the distinct rows partitioned by hash, then merged partition by "
                             "partition, the result ordered by an external sort";
  else if (x->kind == P_SORT) how = "sorted runs, then a merge of the runs";
  else if (x->kind == P_TOP) how = "past a quarter of the room, sorted runs of the top rows, then a merge";
  if (!how) return;
  tl_textbuf_printf(tb, "\n  may spill past the memory limit (%zu bytes) to %s: %s", limit,
                    tl_env_tmpdir(NULL), how);
  if (then)
    tl_textbuf_printf(tb, "\n  the %s after it is applied as each partition's result is made",
                      then->kind == P_SORT ? "sort" : "top");
}

/* What the source says of a run of the plan (Parquet: the row groups its
** statistics skip). */
static void explain_source(tl_textbuf *tb, const tl_plan *p) {
  const tl_source *src = p->steps[0]->src;
  const char **f = tl_calloc((size_t)p->npushed + 1, sizeof *f);
  if (!f) { tb->failed = 1; return; }
  for (int k = 0; k < p->npushed; k++) f[k] = p->stream[k]->a[0];
  tl_source_want w = { p->nread, (const char *const *)p->read, 0, 0, p->npushed, f };
  src->kind->explain(src, &w, tb);
  tl_free(f);
}

tl_status tl_scan_explain(const tl_scan *s, char **text, tl_error *err) {
  tl_plan p;
  *text = NULL;
  TL_TRY(tl_plan_make(s, &p, err));
  tl_plan_fuse(&p);
  tl_textbuf tb = {0};
  const tl_source *src = p.steps[0]->src;
  tl_textbuf_str(&tb, "scan ");
  src->kind->describe(src, &tb);
  tl_textbuf_printf(&tb, "\n  columns read: %d of %d: ", p.nread, tl_table_ncols(src->schema));
  add_list(&tb, p.read, p.nread, ", ");
  if (p.npushed) tl_textbuf_str(&tb, "\n  filters pushed into the scan:");
  for (int k = 0; k < p.npushed; k++) tl_textbuf_printf(&tb, "\n    %s", p.stream[k]->a[0]);
  if (p.nothing) tl_textbuf_str(&tb, "\n  a filter is always false: nothing is read");
  if (src->kind->explain) explain_source(&tb, &p);
  for (int k = p.npushed; k < p.nstream; k++) {
    tl_textbuf_str(&tb, "\n");
    explain_step(&tb, &p.adj[k]);
    tl_textbuf_str(&tb, "  [per batch]");
  }
  int after = 0;
  for (int k = 1; k < p.nsteps; k++) {
    const tl_scan *x = p.steps[k];
    if (x == p.sink && x->kind == P_WINDOW) {
      tl_textbuf_str(&tb, "\n");
      explain_step(&tb, x);
      explain_window(&tb, x);
      after = 1;
    } else if (x == p.sink) {
      tl_textbuf_str(&tb, "\n");
      explain_step(&tb, x);
      tl_textbuf_printf(&tb, "  [%s]", tl_late_top_fits(&p)
                                            ? "late: the keys of each batch, the rows of the "
                                              "top ones read again at the end"
                                            : sink_how(x->kind));
      if (!tl_late_top_fits(&p)) explain_spill(&tb, x, p.then);   /* a late top never spills */
      after = 1;
    } else if (after) {
      tl_textbuf_str(&tb, "\n");
      explain_step(&tb, x);
      tl_textbuf_str(&tb, x == p.then ? "  [streamed: applied by the step above as it ends]"
                                      : "  [in memory, on the result above]");
    }
  }
  if (!p.sink) tl_textbuf_str(&tb, "\ncollect  [batches kept in source order]");
  tl_textbuf_str(&tb, "\n");
  tl_plan_free(&p);
  if (tb.failed) { tl_free(tb.p); return tl_error_oom(err, "explain"); }
  *text = tb.p;
  return TL_OK;
}
