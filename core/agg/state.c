/*
** state.c -- what every kind's state shares: the table of kinds, making,
** growing and freeing states, keeping alive the columns string values
** point into, and the columns of results.
*/
#include <string.h>

#include "codec.h"
#include "kind.h"

/* The kinds by aggregate id (expr/expr.h's AGG_*, named by the registry). */
static const tl_agg_kind *const kinds[] = {
  [AGG_COUNT] = &tl_agg_count, [AGG_SUM] = &tl_agg_sum, [AGG_MEAN] = &tl_agg_mean,
  [AGG_MIN] = &tl_agg_min, [AGG_MAX] = &tl_agg_max, [AGG_MEDIAN] = &tl_agg_median,
  [AGG_QUANTILE] = &tl_agg_quantile, [AGG_STDDEV] = &tl_agg_stddev, [AGG_VAR] = &tl_agg_var,
  [AGG_COUNT_DISTINCT] = &tl_agg_count_distinct, [AGG_FIRST] = &tl_agg_first,
  [AGG_LAST] = &tl_agg_last, [AGG_CUSTOM] = &tl_agg_host,
  [AGG_CORR] = &tl_agg_corr, [AGG_COVAR] = &tl_agg_covar, [AGG_REGR_SLOPE] = &tl_agg_regr_slope,
  [AGG_REGR_INTERCEPT] = &tl_agg_regr_intercept, [AGG_MODE] = &tl_agg_mode,
  [AGG_ARG_MIN] = &tl_agg_arg_min, [AGG_ARG_MAX] = &tl_agg_arg_max,
  [AGG_COUNT_IF] = &tl_agg_count_if, [AGG_BOOL_AND] = &tl_agg_bool_and,
  [AGG_BOOL_OR] = &tl_agg_bool_or, [AGG_PRODUCT] = &tl_agg_product,
  [AGG_STRING_AGG] = &tl_agg_string_agg,
};

const tl_agg_kind *tl_agg_kind_of(int fn) {
  if (fn < 0 || (size_t)fn >= sizeof kinds / sizeof *kinds) return NULL;
  return kinds[fn];
}

/* Room for groups up to n (n >= s->ng), new groups empty. 0: out of memory. */
int tl_agg_state_grow(agst *s, int64_t n) {
  if (!s->kind->init(s, s->ng, n)) return 0;
  s->ng = n;
  return 1;
}

void tl_agg_state_free(agst *s) {
  if (!s) return;
  for (int64_t g = 0; s->lv && g < s->ng; g++) tl_free(s->lv[g]);
  for (int64_t g = 0; s->hb && g < s->ng; g++) tl_free(s->hb[g]);
  for (int k = 0; k < s->nkeep; k++) tl_column_release(s->keep[k]);
  tl_free(s->keep);
  tl_free(s->cnt); tl_free(s->is); tl_free(s->f1); tl_free(s->f2);
  tl_free(s->has); tl_free(s->iv); tl_free(s->dv); tl_free(s->sp); tl_free(s->sl);
  tl_free(s->h); tl_free(s->lv); tl_free(s->lcap); tl_free(s->flat); tl_free(s->fstart);
  tl_free(s->bits); tl_free(s->de); tl_free(s->dslot);
  tl_free(s->hb); tl_free(s->hl);
  tl_column_release(s->done);
  tl_agg_lib_free(s);
  tl_free(s);
}

/* An empty state of ng groups, like `like` (its kind, type and layout). */
agst *tl_agg_state_new(const agst *like, int mode, int64_t ng) {
  agst *s = tl_calloc(1, sizeof *s);
  if (!s) return NULL;
  s->kind = like->kind;
  s->fn = like->fn;
  s->xt = like->xt;
  s->q = like->q;
  s->host = like->host;
  s->mode = mode;
  s->hmin = like->hmin;
  s->hrange = like->hrange;
  s->dict = like->dict;
  s->stride = like->stride;
  if (!tl_agg_lib_copy(s, like)) { tl_agg_state_free(s); return NULL; }
  if (!tl_agg_state_grow(s, ng)) { tl_agg_state_free(s); return NULL; }
  return s;
}

/* About the bytes column c holds (its dictionary's too). */
static int64_t column_size(const tl_column *c) {
  int64_t n = c->nbytes + (c->length + 1) * 8 + (c->validity ? c->length / 8 + 1 : 0);
  if (c->dict) n += column_size(c->dict);
  return n;
}

/* Keeps column c alive as long as the state: string values point into it. */
int tl_agg_state_keep(agst *s, const tl_column *c) {
  int shared = 0;   /* a dictionary another kept column has (counted once) */
  for (int k = 0; k < s->nkeep; k++) {
    if (s->keep[k] == c) return 1;
    shared |= c->dict && s->keep[k]->dict == c->dict;
  }
  int64_t size = column_size(c) - (shared ? column_size(c->dict) : 0);
  if (s->nkeep == s->keepcap) {
    int cap = s->keepcap ? s->keepcap * 2 : 4;
    tl_column **nk = tl_realloc(s->keep, (size_t)cap * sizeof *nk);
    if (!nk) return 0;
    s->keep = nk;
    s->keepcap = cap;
  }
  s->keep[s->nkeep++] = tl_column_retain((tl_column *)c);
  s->keptbytes += size;
  return 1;
}

int tl_agg_state_keep_all(agst *s, const agst *from) {
  for (int k = 0; k < from->nkeep; k++)
    if (!tl_agg_state_keep(s, from->keep[k])) return 0;
  return 1;
}

/* ---------------------------------------------------------------------------
** Tidying: the strings a state points into, copied out of the columns it
** keeps. Only states folded over many batches (a scan's) keep many columns;
** one over a table in memory keeps that table's column and is never tidied.
*/
#define TIDY_MIN_KEEP 4                   /* columns kept before tidying is considered */
#define TIDY_SLACK ((int64_t)1 << 20)     /* bytes kept past twice the state's own */

typedef struct tidy {
  int64_t n, nbytes;   /* strings and their bytes */
  tl_column *c;        /* pass 2: the column they are copied into */
} tidy;

static void tidy_count(void *ud, const char **p, int64_t len) {
  tidy *t = ud;
  (void)p;
  t->n++;
  t->nbytes += len;
}

static void tidy_copy(void *ud, const char **p, int64_t len) {
  tidy *t = ud;
  int64_t *off = t->c->values, at = off[t->n];
  if (len) memcpy(t->c->bytes + at, *p, (size_t)len);
  *p = len ? t->c->bytes + at : "";
  off[++t->n] = at + len;
}

/* Each string value s points into: min, max, first, last (and arg_min's,
** arg_max's x), the by values of arg_min and arg_max, the sets of
** count_distinct and the counts of mode. */
static void each_ref(agst *s, tl_agg_ref_fn f, void *ud) {
  if (s->sp && s->has)
    for (int64_t g = 0; g < s->ng; g++) if (s->has[g]) f(ud, &s->sp[g], s->sl[g]);
  if (s->jp && s->has)
    for (int64_t g = 0; g < s->ng; g++) if (s->has[g]) f(ud, &s->jp[g], s->jl[g]);
  if (s->de && s->xt == TL_STRING)
    for (int64_t k = 0; k < s->dn; k++) f(ud, &s->de[k].v.s, s->de[k].len);
  tl_agg_mode_refs(s, f, ud);
}

int tl_agg_state_tidy(agst *s) {
  if (s->nkeep < TIDY_MIN_KEEP || s->keptbytes <= 2 * s->ownbytes + TIDY_SLACK) return 1;
  /* count_distinct's bits over the codes of a dictionary point into it */
  if (s->kind == &tl_agg_count_distinct && s->mode == D_CODES) return 1;
  tidy t = { 0, 0, NULL };
  each_ref(s, tidy_count, &t);
  tl_error err;
  if (tl_column_alloc(TL_STRING, t.n, 0, t.nbytes, &t.c, &err) != TL_OK) return 0;
  t.n = 0;
  each_ref(s, tidy_copy, &t);
  tl_column_seal(t.c);
  for (int k = 0; k < s->nkeep; k++) tl_column_release(s->keep[k]);
  s->keep[0] = t.c;
  s->nkeep = 1;
  s->keptbytes = s->ownbytes = column_size(t.c);
  if (s->kind == &tl_agg_count_distinct) s->dict = NULL;   /* a set now, if ever codes */
  return 1;
}

/* A column of ng rows: values (int64 or double, as the type stores them;
** date values and bools as int64) and a validity byte per group. */
tl_status tl_agg_make_column(tl_type type, int64_t ng, const int64_t *iv, const double *dv,
                             const uint8_t *valid, tl_column **out, tl_error *err) {
  tl_column *c;
  TL_TRY(tl_column_alloc(type, ng, 1, 0, &c, err));
  for (int64_t g = 0; g < ng; g++) {
    if (valid && !valid[g]) { TL_BIT_CLEAR(c->validity, g); continue; }
    switch (type) {
      case TL_FLOAT: ((double *)c->values)[g] = dv[g]; break;
      case TL_DATE: ((int32_t *)c->values)[g] = (int32_t)iv[g]; break;
      case TL_BOOL: if (iv[g]) TL_BIT_SET((uint8_t *)c->values, g); break;
      default: ((int64_t *)c->values)[g] = iv[g];
    }
  }
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

int tl_agg_load_start(rbuf *r, agst *s, int64_t ng, const tl_column *blob) {
  unsigned layout = r_u8(r);
  if (r->bad) return 1;
  if (layout != 0) { r->bad = "bad layout"; return 1; }
  if (!tl_agg_state_grow(s, ng)) return 0;
  if (s->xt == TL_STRING && !tl_agg_state_keep(s, blob)) return 0;
  return 1;
}

void tl_agg_load_counts(rbuf *r, agst *s, int64_t ng) {
  r_words(r, s->cnt, ng);
  for (int64_t g = 0; g < ng && !r->bad; g++)
    if (s->cnt[g] < 0) r->bad = "bad count";
}

void tl_agg_save_counts(wbuf *w, const agst *s) { w_words(w, s->cnt, s->ng); }
