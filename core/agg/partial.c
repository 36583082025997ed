/*
** partial.c -- partial aggregation: the states of a list of definitions
** over the groups of a table.
**
** core/agg: aggregation. A tl_partial is the states of a list of
** definitions, the key of each group, and what is needed to bind the
** definitions again after decoding: their text and the types of the
** columns they read. Each aggregate's state belongs to its kind (kind.h:
** one struct of functions per kind, one file per family of kinds); the
** phases are files of their own: scan.c fills the states over ranges of
** rows on every thread, merge.c merges partials by key, codec.c encodes
** them (for MPI). The ranges of a scan, the threads that run them and the
** processes of an MPI job all combine their work with the kinds' one
** merge, always in row order, so that no result depends on how the work
** was split. stats.c runs the same kinds over a column as one group. agg
** stands on expr and base; the verbs that group (ops) call it.
*/
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/table.h"
#include "kind.h"

#define DEFAULT_RANGE ((int64_t)1 << 16)

/* ---------------------------------------------------------------------------
** The range size
*/
/* The process's default: TALLY_RANGE_ROWS, else DEFAULT_RANGE. */
static int64_t default_range(void) {
  const char *env = getenv("TALLY_RANGE_ROWS");
  if (env && *env) {
    long long n = atoll(env);
    if (n >= 1) return (int64_t)n;
  }
  return DEFAULT_RANGE;
}

/* The current env's (tl_env); 0 there: the default. */
void tl_group_set_range_rows(int64_t n) {
  atomic_store(&tl_env_current()->range_rows, (long long)(n > 0 ? n : 0));
}

int64_t tl_group_range_rows(void) {
  long long n = atomic_load_explicit(&tl_env_current()->range_rows, memory_order_relaxed);
  return n > 0 ? (int64_t)n : default_range();
}

/* ---------------------------------------------------------------------------
** Keys as text, for messages
*/

/* Appends n bytes of s to buf as snprintf would: *k counts every byte. */
static void put(char *buf, size_t size, size_t *k, const char *s, size_t n) {
  if (*k + 1 < size) {
    size_t room = size - 1 - *k;
    memcpy(buf + *k, s, n < room ? n : room);
  }
  *k += n;
  if (size) buf[*k < size ? *k : size - 1] = '\0';
}

/* A string in single quotes, quotes and backslashes escaped, cut after
** 100 bytes (at a character boundary). */
static void put_quoted(char *buf, size_t size, size_t *k, const char *s, size_t n) {
  size_t cut = n > 100 ? 100 : n;
  while (cut < n && cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80) cut--;
  put(buf, size, k, "'", 1);
  for (size_t i = 0; i < cut; i++) {
    if (s[i] == '\'' || s[i] == '\\') put(buf, size, k, "\\", 1);
    put(buf, size, k, s + i, 1);
  }
  if (cut < n) put(buf, size, k, "...", 3);
  put(buf, size, k, "'", 1);
}

size_t tl_key_text(int nkeys, const char *const *names, tl_column *const *cols, int64_t row,
                   char *buf, size_t size) {
  size_t k = 0;
  if (size) buf[0] = '\0';
  for (int j = 0; j < nkeys; j++) {
    if (j) put(buf, size, &k, ", ", 2);
    put(buf, size, &k, names[j], strlen(names[j]));
    put(buf, size, &k, " = ", 3);
    tl_scalar v;
    tl_column_get(cols[j], row, &v);
    char tmp[64];
    if (v.is_null) {
      put(buf, size, &k, "null", 4);
    } else if (v.type == TL_STRING) {
      put_quoted(buf, size, &k, v.v.s.ptr, v.v.s.len);
    } else {
      size_t n = tl_scalar_format(&v, tmp, sizeof tmp);
      if (n >= sizeof tmp) n = sizeof tmp - 1;
      if (v.type == TL_DATE || v.type == TL_TIMESTAMP) put_quoted(buf, size, &k, tmp, n);
      else put(buf, size, &k, tmp, n);
    }
  }
  return k;
}

size_t tl_agg_key_text(const tl_agg_keys *keys, int64_t g, char *buf, size_t size) {
  if (!keys || keys->nkeys == 0) {
    if (size) buf[0] = '\0';
    return 0;
  }
  return tl_key_text(keys->nkeys, keys->names, keys->cols, keys->rows ? keys->rows[g] : g, buf,
                     size);
}

/* " in group k = 'a'" for group g, or "" when the groups have no keys. */
void tl_agg_group_suffix(const tl_agg_keys *keys, int64_t g, char *buf, size_t size) {
  buf[0] = '\0';
  if (!keys || keys->nkeys == 0) return;
  size_t k = 0;
  put(buf, size, &k, " in group ", 10);
  if (k < size) tl_agg_key_text(keys, g, buf + k, size - k);
}

/* ---------------------------------------------------------------------------
** Partials
*/
void tl_partial_free(tl_partial *p) {
  if (!p) return;
  for (int k = 0; k < p->ndefs; k++) {
    if (p->defs) tl_free(p->defs[k]);
    if (p->names) tl_free(p->names[k]);
    if (p->e) tl_expr_free(p->e[k]);
    if (p->aggs) tl_free(p->aggs[k]);
  }
  for (int s = 0; p->st && s < p->nslots; s++) tl_agg_state_free(p->st[s]);
  tl_free(p->defs); tl_free(p->names); tl_free(p->e); tl_free(p->aggs);
  tl_free(p->naggs); tl_free(p->first); tl_free(p->st);
  tl_table_release(p->schema);
  tl_table_release(p->keys);
  tl_keyindex_free(p->ix);
  tl_free(p);
}

int64_t tl_partial_groups(const tl_partial *p) { return p->ng; }

void tl_partial_set_keys(tl_partial *p, tl_table *keys) {
  tl_keyindex_free(p->ix);   /* of the keys before */
  p->ix = NULL;
  tl_table_release(p->keys);
  p->keys = tl_table_retain(keys);
}

/* The expression of slot s, and its definition's text. */
static expr *slot_expr(const tl_partial *p, int s, const char **src) {
  int k = 0;
  while (k + 1 < p->ndefs && p->first[k + 1] <= s) k++;
  if (src) *src = p->defs[k];
  return p->aggs[k][s - p->first[k]];
}

const char *tl_partial_src(const tl_partial *p, int s) {
  const char *src;
  slot_expr(p, s, &src);
  return src;
}

void tl_agg_keys_of(const tl_table *keys, tl_agg_keys *out) {
  out->nkeys = keys ? keys->ncol : 0;
  out->names = keys ? (const char *const *)keys->names : NULL;
  out->cols = keys ? keys->cols : NULL;
  out->rows = NULL;
}

/* Parses and binds the definitions against t; one empty state per slot. */
tl_status tl_partial_bind(tl_partial *p, int n, const char *const *defs, const tl_table *t,
                           const tl_scope *scope, tl_error *err) {
  p->ndefs = n;
  p->defs = tl_calloc((size_t)n + 1, sizeof *p->defs);
  p->names = tl_calloc((size_t)n + 1, sizeof *p->names);
  p->e = tl_calloc((size_t)n + 1, sizeof *p->e);
  p->aggs = tl_calloc((size_t)n + 1, sizeof *p->aggs);
  p->naggs = tl_calloc((size_t)n + 1, sizeof *p->naggs);
  p->first = tl_calloc((size_t)n + 1, sizeof *p->first);
  if (!p->defs || !p->names || !p->e || !p->aggs || !p->naggs || !p->first) {
    p->ndefs = 0;
    return tl_error_oom(err, "agg");
  }
  for (int k = 0; k < n; k++) {
    if (!(p->defs[k] = tl_strdup(defs[k]))) return tl_error_oom(err, "agg");
    TL_TRY(tl_expr_parse(defs[k], "agg", &p->names[k], &p->e[k], err));
    if (!p->names[k] && !(p->names[k] = tl_expr_default_name(defs[k])))
      return tl_error_oom(err, "agg");
    TL_TRY(tl_expr_bind_scope(p->e[k], t, "agg", defs[k], &p->aggs[k], &p->naggs[k], scope, err));
    for (int s = 0; s < p->naggs[k]; s++) {
      expr *a = p->aggs[k][s];
      if (a->fn == AGG_CUSTOM && !a->type && a != p->e[k])
        return tl_error_set(err, TL_ETYPE,
                            "agg: \"%s\": aggregate '%s' has no declared result type, so it can "
                            "only stand alone (declare one: type = \"float\")",
                            defs[k], a->custom->name);
    }
    p->first[k] = p->nslots;
    p->nslots += p->naggs[k];
  }
  p->st = tl_calloc((size_t)p->nslots + 1, sizeof *p->st);
  if (!p->st) return tl_error_oom(err, "agg");
  for (int s = 0; s < p->nslots; s++) {
    expr *a = slot_expr(p, s, NULL);
    agst like = { 0 };
    like.kind = tl_agg_kind_of(a->fn);
    like.fn = a->fn;
    like.xt = a->fn != AGG_CUSTOM && a->nargs ? a->args[0]->type : 0;
    like.host = a->custom;
    like.q = 0.5;
    if (tl_agg_takes_pair(a->fn)) like.yt = a->args[1]->type;
    if (a->fn == AGG_STRING_AGG) {   /* its separator, a constant (',' by default) */
      const expr *sp = a->nargs > 1 ? a->args[1] : NULL;
      like.sep = (char *)(sp ? (sp->lit.is_null ? "" : sp->lit.v.s.ptr) : ",");
      like.sepn = sp ? (sp->lit.is_null ? 0 : (int64_t)sp->lit.v.s.len) : 1;
    }
    if (a->fn == AGG_QUANTILE) {
      const expr *q = a->args[1];
      like.q = q->type == TL_INT ? (double)q->lit.v.i : q->lit.v.f;
    }
    if (!like.kind) return tl_error_set(err, TL_EINVAL, "agg: \"%s\": no such aggregate", defs[0]);
    if (!(p->st[s] = tl_agg_state_new(&like, 0, 0))) return tl_error_oom(err, "agg");
  }
  return TL_OK;
}

/* Marks the columns e reads. */
static void mark_columns(const expr *e, uint8_t *used) {
  if (e->kind == E_COL && e->col >= 0) used[e->col] = 1;
  for (int k = 0; k < e->nargs; k++) mark_columns(e->args[k], used);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The schema: the columns the definitions read, by name, without rows. */
tl_status tl_partial_schema(const char **names, const tl_type *types, int n, tl_table **out,
                           tl_error *err) {
  tl_column **cols = tl_calloc((size_t)n + 1, sizeof *cols);
  if (!cols) return tl_error_oom(err, "agg");
  tl_status st = TL_OK;
  for (int j = 0; j < n && st == TL_OK; j++) st = tl_column_alloc(types[j], 0, 0, 0, &cols[j], err);
  if (st == TL_OK) st = tl_table_new(n, names, cols, out, err);
  for (int j = 0; j < n; j++) tl_column_release(cols[j]);
  tl_free(cols);
  return st;
}

static tl_status make_schema(tl_partial *p, const tl_table *t, tl_error *err) {
  uint8_t *used = tl_calloc((size_t)t->ncol + 1, 1);
  const char **names = tl_calloc((size_t)t->ncol + 1, sizeof *names);
  tl_type *types = tl_calloc((size_t)t->ncol + 1, sizeof *types);
  tl_status st = (used && names && types) ? TL_OK : tl_error_oom(err, "agg");
  int n = 0;
  if (st == TL_OK) {
    for (int k = 0; k < p->ndefs; k++) mark_columns(p->e[k], used);
    for (int j = 0; j < t->ncol; j++) if (used[j]) names[n++] = t->names[j];
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    for (int j = 0; j < n; j++) types[j] = t->cols[tl_table_find(t, names[j])]->type;
    st = tl_partial_schema(names, types, n, &p->schema, err);
  }
  tl_free(used); tl_free(names); tl_free(types);
  return st;
}

/* ---------------------------------------------------------------------------
** Making and finishing
*/

/* The argument columns of slot s: args[k] for host slots, args[0] for
** built-ins (count() has none). A bare null is an all-null int column.
** cols: the table's columns (those no definition reads may be NULL), of
** nrows rows. */
static int slot_nargs(const expr *a) {
  return a->fn == AGG_CUSTOM ? a->nargs : tl_agg_takes_pair(a->fn) ? 2 : (a->nargs > 0 ? 1 : 0);
}

static tl_status slot_args(const expr *a, tl_column *const *cols, int64_t nrows, tl_column **args,
                           tl_error *err) {
  int n = slot_nargs(a);
  for (int k = 0; k < n; k++) {
    const expr *x = a->args[k];
    if (x->kind == E_COL) { args[k] = tl_column_retain(cols[x->col]); continue; }
    TL_TRY(tl_expr_column((expr *)x, (tl_column **)cols, NULL, nrows, "agg", &args[k], err));
    if (!x->type && a->fn != AGG_CUSTOM) {
      tl_column_release(args[k]);
      args[k] = NULL;
      TL_TRY(tl_column_alloc(TL_INT, nrows, 1, 0, &args[k], err));
      memset(args[k]->validity, 0, TL_BITMAP_BYTES(nrows));
      tl_column_seal(args[k]);
    }
  }
  return TL_OK;
}

/* Over a selection, 1 when the scan can gather what every slot reads at
** the selected rows: built-in kernels over columns of fixed width (string
** states point into their columns, host aggregates and expressions run
** over whole columns). */
static int gathers(const tl_partial *p, const tl_table *t) {
  for (int s = 0; s < p->nslots; s++) {
    const expr *a = slot_expr(p, s, NULL);
    const agst *st = p->st[s];
    if (!st->kind->update || st->kind->make) return 0;
    for (int k = 0; k < slot_nargs(a); k++) {
      const expr *x = a->args[k];
      if (x->kind != E_COL || x->col < 0 || t->cols[x->col]->type == TL_STRING) return 0;
    }
  }
  return 1;
}

/* Otherwise the columns the definitions read are taken at the selected
** rows (*cols, the others NULL) and the scan runs over them as a whole,
** with the rows' groups in *gid: the filtered table, without the columns
** nothing reads. */
static tl_status take_selected(const tl_partial *p, const tl_rowgroups *rg, tl_column ***cols,
                               int32_t **gid, tl_rowgroups *out, tl_error *err) {
  const tl_table *t = rg->t;
  *out = *rg;
  out->sel = NULL;
  *cols = tl_calloc((size_t)t->ncol + 1, sizeof **cols);
  if (!*cols) return tl_error_oom(err, "agg");
  for (int j = 0; j < p->schema->ncol; j++) {
    int c = tl_table_find(t, p->schema->names[j]);
    TL_TRY(tl_column_take(t->cols[c], rg->sel, rg->n, &(*cols)[c], err));
  }
  if (rg->codes) {   /* one dictionary key: its codes are those of t's rows */
    if (!(*gid = tl_alloc(((size_t)rg->n + 1) * sizeof **gid))) return tl_error_oom(err, "agg");
    const tl_column *c = rg->codes;
    const int32_t *codes = c->values;
    for (int64_t i = 0; i < rg->n; i++) {
      int64_t r = rg->sel[i];
      (*gid)[i] = c->validity && !TL_BIT_GET(c->validity, r) ? rg->cmap[c->dict->length]
                                                              : rg->cmap[codes[r]];
    }
    out->gid = *gid;
    out->codes = NULL;
  }
  return TL_OK;
}

tl_status tl_partial_make(const tl_rowgroups *rg, int n, const char *const *defs,
                          const tl_scope *scope, int direct, tl_partial **out,
                          tl_error *err) {
  tl_partial *p = tl_calloc(1, sizeof *p);
  if (!p) return tl_error_oom(err, "agg");
  p->direct = direct;
  p->ng = rg->ng;
  tl_status st = tl_partial_bind(p, n, defs, rg->t, scope, err);
  if (st != TL_OK) { tl_partial_free(p); return st; }
  for (int s = 0; s < p->nslots && st == TL_OK && !direct; s++)
    if (p->st[s]->kind->check) st = p->st[s]->kind->check(p->st[s], err);
  if (st == TL_OK) st = make_schema(p, rg->t, err);
  tl_column ***args = tl_calloc((size_t)p->nslots + 1, sizeof *args);
  tl_column **x = tl_calloc((size_t)p->nslots + 1, sizeof *x), **taken = NULL;
  int32_t *gid = NULL;
  tl_rowgroups sub;
  tl_column *const *cols = rg->t->cols;
  if (st == TL_OK && (!args || !x)) st = tl_error_oom(err, "agg");
  if (st == TL_OK && rg->sel && !gathers(p, rg->t)) {
    st = take_selected(p, rg, &taken, &gid, &sub, err);
    rg = &sub;
    cols = taken;
  }
  for (int s = 0; s < p->nslots && st == TL_OK; s++) {
    expr *a = slot_expr(p, s, NULL);
    if (!(args[s] = tl_calloc((size_t)a->nargs + 1, sizeof **args))) st = tl_error_oom(err, "agg");
    else st = slot_args(a, cols, rg->sel ? rg->t->nrows : rg->n, args[s], err);
    if (a->fn != AGG_CUSTOM && args[s]) x[s] = args[s][0];
    if (st == TL_OK && tl_agg_takes_pair(a->fn)) p->st[s]->y = args[s][1];
  }
  if (st == TL_OK) st = tl_agg_scan(p->st, p->nslots, rg, x, err);
  for (int s = 0; s < p->nslots && st == TL_OK; s++) {   /* kinds that run over the whole table */
    const char *src;
    expr *a = slot_expr(p, s, &src);
    if (p->st[s]->kind->make) st = p->st[s]->kind->make(p->st[s], a, args[s], rg, direct, src, err);
  }
  for (int s = 0; args && s < p->nslots; s++) {
    expr *a = slot_expr(p, s, NULL);
    for (int k = 0; args[s] && k < a->nargs; k++) tl_column_release(args[s][k]);
    p->st[s]->y = NULL;   /* released with the arguments */
    tl_free(args[s]);
  }
  tl_free(args);
  tl_free(x);
  for (int j = 0; taken && j < rg->t->ncol; j++) tl_column_release(taken[j]);
  tl_free(taken);
  tl_free(gid);
  if (st != TL_OK) { tl_partial_free(p); return st; }
  *out = p;
  return TL_OK;
}

void tl_partial_trim(tl_partial *p) {
  for (int k = 0; k < p->ndefs; k++) tl_expr_drop_tree_scratch(p->e[k]);
}

tl_status tl_partial_finish_ex(tl_partial *p, int consume, tl_table **out, tl_error *err) {
  tl_table *cur = NULL;
  tl_status st = p->keys ? (cur = tl_table_retain(p->keys), TL_OK)
                         : tl_table_new(0, NULL, NULL, &cur, err);
  if (st != TL_OK) return st;
  tl_agg_keys keys;
  tl_agg_keys_of(p->keys, &keys);
  for (int k = 0; k < p->ndefs && st == TL_OK; k++) {
    int na = p->naggs[k];
    tl_column **slots = tl_calloc((size_t)na + 1, sizeof *slots), *c = NULL;
    if (!slots) st = tl_error_oom(err, "agg");
    for (int s = 0; s < na && st == TL_OK; s++) {
      agst *a = p->st[p->first[k] + s];
      tl_agg_fold f = { NULL, a->ng, &keys, "agg", p->defs[k] };
      if (a->done) slots[s] = tl_column_retain(a->done);   /* a host's, made at once */
      else st = a->kind->finish(a, consume, &f, &slots[s], err);
    }
    if (st == TL_OK) {
      if (p->e[k]->kind == E_AGG) c = tl_column_retain(slots[0]);
      else if ((st = tl_expr_keep_scratch(p->e[k], "agg", err)) == TL_OK)
        st = tl_expr_column(p->e[k], NULL, slots, p->ng, "agg", &c, err);
    }
    tl_table *next = NULL;
    if (st == TL_OK) st = tl_table_set_column(cur, p->names[k], c, &next, err);
    if (st == TL_OK) { tl_table_release(cur); cur = next; }
    tl_column_release(c);
    for (int s = 0; slots && s < na; s++) tl_column_release(slots[s]);
    tl_free(slots);
  }
  if (st != TL_OK) { tl_table_release(cur); return st; }
  *out = cur;
  return TL_OK;
}

tl_status tl_partial_finish(const tl_partial *p, tl_table **out, tl_error *err) {
  return tl_partial_finish_ex((tl_partial *)p, 0, out, err);
}
