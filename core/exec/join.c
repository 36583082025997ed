/*
** join.c -- s:join(table, ...): a scan joined with an in-memory table.
** The right side is hashed once per run (ops/join.h), and each batch, as
** the left side, is probed against it: its rows come in the left order, each left
** row's matches in the right order, so for inner, left, semi and anti
** joins the batches' results, merged in source order, are the result of
** the join of the whole input. Right and full joins add the right rows
** that nothing matched after all the others: they gather their input
** first (explain says so).
*/
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "exec.h"
#include "ops/join.h"

static void step_options(const tl_scan *s, tl_join_options *o) {
  tl_join_options_init(o);
  o->nkeys = s->na;
  o->left_keys = (const char *const *)s->a;
  o->right_keys = (const char *const *)s->b;
  o->how = (tl_join_kind)s->count;
  o->suffix_left = s->b[s->na];
  o->suffix_right = s->b[s->na + 1];
}

tl_status tl_join_step_build(tl_scan *adj, tl_error *err) {
  tl_join_options o;
  step_options(adj, &o);   /* its strings are the step's, which outlive the plan */
  return tl_join_build_new(adj->right, &o, &adj->build, err);
}

void tl_join_step_unbuild(tl_scan *adj) {
  tl_join_build_free(adj->build);
  adj->build = NULL;
}

tl_status tl_join_step_apply(const tl_scan *s, const tl_table *t, tl_table **out,
                             tl_error *err) {
  if (s->build) return tl_join_build_run(s->build, t, out, err);
  tl_join_options o;
  tl_join_options_init(&o);
  o.nkeys = s->na;
  o.left_keys = (const char *const *)s->a;
  o.right_keys = (const char *const *)s->b;
  o.how = (tl_join_kind)s->count;
  o.suffix_left = s->b[s->na];
  o.suffix_right = s->b[s->na + 1];
  return tl_table_join(t, s->right, &o, out, err);
}

static char **copy_list(int n, const char *const *v, const char *const *more, int nmore) {
  char **c = tl_calloc((size_t)(n + nmore) + 1, sizeof *c);
  for (int k = 0; c && k < n + nmore; k++) {
    const char *x = k < n ? v[k] : more[k - n];
    if (!(c[k] = tl_strdup(x))) {
      for (int j = 0; j < k; j++) tl_free(c[j]);
      tl_free(c);
      return NULL;
    }
  }
  return c;
}

tl_status tl_scan_join(const tl_scan *in, const tl_table *right, const tl_join_options *opts,
                       tl_scan **out, tl_error *err) {
  tl_join_options dflt;
  *out = NULL;
  if (!opts) { tl_join_options_init(&dflt); opts = &dflt; }
  if (opts->nkeys < 1) return tl_error_set(err, TL_EINVAL, "join: no key columns (on = ...)");
  if (opts->how < TL_JOIN_INNER || opts->how > TL_JOIN_ANTI)
    return tl_error_set(err, TL_EINVAL, "join: unknown kind of join");
  const char *suffixes[2] = { opts->suffix_left ? opts->suffix_left : "",
                              opts->suffix_right ? opts->suffix_right : "_right" };
  tl_scan *s = tl_calloc(1, sizeof *s);
  if (!s) return tl_error_oom(err, "join");
  atomic_init(&s->refs, 1);
  s->kind = opts->how == TL_JOIN_RIGHT || opts->how == TL_JOIN_FULL ? P_JOINX : P_JOIN;
  s->count = opts->how;
  s->na = s->nb = opts->nkeys;
  s->a = copy_list(opts->nkeys, opts->left_keys, NULL, 0);
  s->b = copy_list(opts->nkeys, opts->right_keys ? opts->right_keys : opts->left_keys,
                   suffixes, 2);
  s->right = tl_table_retain((tl_table *)right);
  if (!s->a || !s->b) { tl_scan_free(s); return tl_error_oom(err, "join"); }
  s->nb = opts->nkeys + 2;
  tl_status st = tl_join_step_apply(s, tl_scan_schema(in), &s->schema, err);   /* checks it */
  if (st != TL_OK) { tl_scan_free(s); return st; }
  atomic_fetch_add(&((tl_scan *)in)->refs, 1);
  s->in = (tl_scan *)in;
  *out = s;
  return TL_OK;
}
