/*
** expr.c -- the expression language of filter, mutate and agg: a Pratt
** parser with Lua's precedences, a binder that resolves columns and checks
** types before any row is read and folds constants, and an evaluator that
** works a vector of TL_VEC rows at a time over a selection of its rows.
**
** core/expr: the expression language, in stages: lex.c and parse.c read
** the source into a tree, bind.c resolves names and types (fold.c then
** computes the constants), eval.c is the vector VM and call.c its function
** calls; expr.h is the interface to the rest of the core, expr_int.h what
** these files share. registry.c is the one table of built-in functions
** that the binder, the window pass of mutate and the bindings' help all
** read. This file holds the settings and the evaluation of whole columns
** over the thread pool. It stands on base only.
*/
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/column.h"
#include "base/pool.h"
#include "base/table.h"
#include "expr_int.h"
#include "fn_text.h"
#include "registry.h"

/* ---------------------------------------------------------------------------
** Settings that change how a plan runs, never what it computes, each the
** current env's (tl_env). The suite runs the same expressions under each
** of them and compares.
*/
int tl_expr_set_vector_size(int n) {
  int old = atomic_exchange(&tl_env_current()->vector_rows, n < 1 || n > TL_VEC ? 0 : n);
  return old ? old : TL_VEC;
}

int tl_expr_vector_size(void) {
  int n = atomic_load_explicit(&tl_env_current()->vector_rows, memory_order_relaxed);
  return n ? n : TL_VEC;
}

int tl_expr_set_folding(int on) { return !atomic_exchange(&tl_env_current()->no_folding, !on); }

int tl_expr_folding(void) {
  return !atomic_load_explicit(&tl_env_current()->no_folding, memory_order_relaxed);
}

int tl_expr_set_short_circuit(int on) {
  return !atomic_exchange(&tl_env_current()->no_shortcut, !on);
}


/* Bytes src[0..n) (zero or not) as bits [start, start + n) of a bitmap. */
static void pack_bits(uint8_t *bm, int64_t start, const uint8_t *src, int n) {
  int i = 0;
#ifdef BYTES_LE
  if ((start & 7) == 0) {   /* 8 bytes make a byte of the bitmap */
    uint8_t *d = bm + (start >> 3);
    for (; i + 8 <= n; i += 8) {
      uint64_t x;
      memcpy(&x, src + i, 8);
      x = (((x & 0x7f7f7f7f7f7f7f7fULL) + 0x7f7f7f7f7f7f7f7fULL) | x) & 0x8080808080808080ULL;
      d[i >> 3] = (uint8_t)(((x >> 7) * 0x0102040810204080ULL) >> 56);
    }
  }
#endif
  for (; i < n; i++) {
    if (src[i]) TL_BIT_SET(bm, start + i);
    else TL_BIT_CLEAR(bm, start + i);
  }
}

/* ---------------------------------------------------------------------------
** Whole columns
*/

/* A copy of a bound plan with scratch of its own, for another worker. */
static expr *clone_bound(const expr *e) {
  expr *c = tl_calloc(1, sizeof *c);
  if (!c) return NULL;
  c->kind = e->kind;
  c->op = e->op;
  c->pos = e->pos;
  c->type = e->type;
  c->lit = e->lit;
  c->col = e->col;
  c->fn = e->fn;
  c->dict_codes = e->dict_codes;
  c->custom = e->custom;
  c->hostfn = e->hostfn;
  tl_rx_share(c, e);
  int ok = 1;
  if (e->litbuf) {
    ok = (c->litbuf = tl_strndup(e->litbuf, e->lit.v.s.len)) != NULL;
    if (ok) c->lit.v.s.ptr = c->litbuf;
  }
  if (ok && e->name) ok = (c->name = tl_strdup(e->name)) != NULL;
  if (ok && e->nargs) {
    ok = (c->args = tl_calloc((size_t)e->nargs, sizeof *c->args)) != NULL;
    for (int k = 0; ok && k < e->nargs; k++, c->nargs++)
      ok = (c->args[k] = clone_bound(e->args[k])) != NULL;
  }
  if (!ok) { tl_expr_free(c); return NULL; }
  return c;
}

/* Where the root writes its values for rows from `start` on: straight into
** a fixed-width column, when it computes them (a literal, a column or a slot
** has them elsewhere, and is copied). */
static void *target_at(const expr *e, const tl_column *c, int64_t start) {
  if (!c || c->type == TL_BOOL || !e->type || e->kind == E_LIT || e->kind == E_COL ||
      e->kind == E_AGG)
    return NULL;
  return (char *)c->values + (size_t)start * tl_type_width(c->type);
}

/* Stores a vector of fixed-width results into column c at row `start`. */
static void store_vec(const expr *e, tl_column *c, int64_t start, int n) {
  const vec *v = &e->out;
  if (!e->type) {
    for (int i = 0; i < n; i++) TL_BIT_CLEAR(c->validity, start + i);
    return;
  }
  size_t w = tl_type_width(c->type);
  const void *src = NULL;
  switch (c->type) {
    case TL_INT: case TL_TIMESTAMP: src = v->i; break;
    case TL_FLOAT: src = v->f; break;
    case TL_DATE: src = v->d; break;
    case TL_BOOL: pack_bits(c->values, start, v->b, n); break;
    default: break;
  }
  char *dst = (char *)c->values + (size_t)start * w;
  if (src && src != dst) memcpy(dst, src, (size_t)n * w);
  if (v->valid && c->validity) pack_bits(c->validity, start, v->valid, n);
}

/* 1 when a plan's result is null exactly where one of its columns is: no
** literal null, nothing that makes a null of a value (division, and, or,
** if, coalesce, is_null, a host function). Its values can then be computed
** as if no row were null, and its validity is the AND of its columns'. */
static int strict(const expr *e) {
  switch (e->kind) {
    case E_LIT: return !e->lit.is_null;
    case E_COL: case E_AGG: return 1;   /* an aggregate's arguments are not run here */
    case E_BIN:
      if (e->op == OP_AND || e->op == OP_OR || e->op == OP_DIV || e->op == OP_IDIV ||
          e->op == OP_MOD)
        return 0;
      break;
    case E_CALL:
      if (e->hostfn || e->fn == F_ISNULL || e->fn == F_COALESCE || e->fn == F_IF) return 0;
      if (e->fn == F_TRY_CAST) return 0;   /* makes nulls of what does not convert */
      if (tl_fn_text_nonstrict(e->fn)) return 0;
      break;
    default: break;
  }
  for (int k = 0; k < e->nargs; k++)
    if (!strict(e->args[k])) return 0;
  return 1;
}

/* 1 when a column the plan reads has nulls. */
static int reads_nulls(const expr *e, tl_column *const *cols, tl_column *const *slots) {
  const tl_column *c = e->kind == E_COL ? cols[e->col] : e->kind == E_AGG ? slots[e->col] : NULL;
  if (c) return c->validity != NULL;
  for (int k = 0; k < e->nargs; k++)
    if (reads_nulls(e->args[k], cols, slots)) return 1;
  return 0;
}

/* Bytes [b0, b1) of the validity of a strict plan: the AND of those of its
** columns, a word at a time. *first is 1 until one has been copied. */
static void strict_valid(const expr *e, tl_column *const *cols, tl_column *const *slots,
                         uint8_t *dst, int64_t b0, int64_t b1, int *first) {
  const tl_column *c = e->kind == E_COL ? cols[e->col] : e->kind == E_AGG ? slots[e->col] : NULL;
  if (!c) {
    for (int k = 0; k < e->nargs; k++) strict_valid(e->args[k], cols, slots, dst, b0, b1, first);
    return;
  }
  if (!c->validity) return;
  if (*first) memcpy(dst + b0, c->validity + b0, (size_t)(b1 - b0));
  else and_bytes(dst + b0, dst + b0, c->validity + b0, (size_t)(b1 - b0));
  *first = 0;
}

static int popcount64(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (int)((x * 0x0101010101010101ULL) >> 56);
}

/* Valid rows among [start, stop) of a bitmap; start is a multiple of 8. */
static int64_t count_valid(const uint8_t *bm, int64_t start, int64_t stop) {
  int64_t n = 0, k = start >> 3, full = stop >> 3;
  for (; k + 8 <= full; k += 8) {
    uint64_t x;
    memcpy(&x, bm + k, 8);
    n += popcount64(x);
  }
  for (; k < full; k++) n += popcount64(bm[k]);
  for (int64_t i = full << 3 > start ? full << 3 : start; i < stop; i++) n += TL_BIT_GET(bm, i);
  return n;
}

/* Workers take whole ranges of vectors: a multiple of 64 rows, so that no
** two of them write the same byte of a bitmap. */
#define COLUMN_TASK ((int64_t)TL_VEC * 16)

typedef struct column_job {
  expr **plans;                 /* one per worker */
  tl_column *const *cols, *const *slots;
  int64_t nrows;
  const char *op;
  tl_column *out;
  int strict;                   /* the plan is strict() */
  tl_status *st;
  tl_error *errs;
  int64_t *valid;               /* valid rows of each task */
} column_job;

/* Rows [start, stop) of e into column c (start a multiple of 8), a vector
** at a time; *valid counts the valid rows. A strict plan computes its
** values alone and its validity from the columns' bitmaps; should that
** fail (an overflow in a null row's value, say), the range runs again the
** ordinary way, which fails only where a valid row does. */
static tl_status column_range(expr *e, tl_column *const *cols, tl_column *const *slots,
                              int64_t start, int64_t stop, const char *op, tl_column *c,
                              int strict, int64_t *valid, tl_error *err) {
  int vs = tl_expr_vector_size();
  tl_status st = TL_OK;
  for (int pass = strict ? 0 : 1; pass < 2; pass++) {
    evalctx cx = { cols, slots, 0, 0, NULL, 0, op, err, pass == 0 };
    st = TL_OK;
    for (int64_t s = start; s < stop && st == TL_OK; s += vs) {
      cx.start = s;
      cx.n = cx.nsel = (int)(stop - s < vs ? stop - s : vs);
      e->target = target_at(e, c, s);
      st = tl_expr_eval_node(e, &cx);
      if (st == TL_OK) store_vec(e, c, s, cx.n);
    }
    e->target = NULL;
    if (st == TL_OK || st == TL_ENOMEM) break;
  }
  if (st != TL_OK || !c->validity) { *valid = stop - start; return st; }
  if (strict) {
    int first = 1;
    strict_valid(e, cols, slots, c->validity, start >> 3, (stop + 7) >> 3, &first);
  }
  *valid = count_valid(c->validity, start, stop);
  return TL_OK;
}

static void column_task(void *ctx, int64_t k, int worker) {
  column_job *cj = ctx;
  int64_t start = k * COLUMN_TASK;
  int64_t stop = start + COLUMN_TASK < cj->nrows ? start + COLUMN_TASK : cj->nrows;
  cj->st[k] = tl_interrupted()
                ? tl_error_interrupted(&cj->errs[k], cj->op)
                : column_range(cj->plans[worker], cj->cols, cj->slots, start, stop, cj->op,
                               cj->out, cj->strict, &cj->valid[k], &cj->errs[k]);
}

/* Fixed-width results, by tasks over every worker (or this thread alone);
** the first failure in row order is the one reported. Host functions run
** on the workers when they fork (`may_fork`); should a task fail there,
** every task runs again on this thread, whose failure is the one reported. */
static tl_status column_fixed(expr *e, tl_column *const *cols, tl_column *const *slots,
                              int64_t nrows, const char *op, tl_column *c, int strict,
                              int may_fork, tl_error *err) {
  int64_t ntasks = (nrows + COLUMN_TASK - 1) / COLUMN_TASK;
  int nplans = tl_get_threads(), forked = 0;
  if (nplans > ntasks) nplans = (int)ntasks;
  if (nrows < 2 * COLUMN_TASK) nplans = 1;
  else if (nplans > 1 && tl_expr_has_host(e) && !(may_fork && (forked = tl_expr_fork_hosts(e, nplans))))
    nplans = 1;
  column_job cj = { NULL, cols, slots, nrows, op, c, strict, NULL, NULL, NULL };
  cj.plans = tl_calloc((size_t)nplans + 1, sizeof *cj.plans);
  cj.st = tl_calloc((size_t)ntasks + 1, sizeof *cj.st);
  cj.errs = tl_alloc(((size_t)ntasks + 1) * sizeof *cj.errs);
  cj.valid = tl_calloc((size_t)ntasks + 1, sizeof *cj.valid);
  tl_status st = (cj.plans && cj.st && cj.errs && cj.valid) ? TL_OK : tl_error_oom(err, op);
  if (st == TL_OK) cj.plans[0] = e;
  for (int w = 1; w < nplans && st == TL_OK; w++)
    if (!(cj.plans[w] = clone_bound(e)) || tl_expr_alloc_scratch(cj.plans[w], err, op) != TL_OK)
      st = tl_error_oom(err, op);
  for (int w = 0; forked && w < nplans && st == TL_OK; w++) tl_expr_host_worker(cj.plans[w], w);
  if (st == TL_OK && nplans > 1) {
    tl_parallel_for(ntasks, column_task, &cj);
  } else if (st == TL_OK) {
    for (int64_t k = 0; k < ntasks; k++)
      if ((column_task(&cj, k, 0), cj.st[k]) != TL_OK) { ntasks = k + 1; break; }
  }
  int again = 0;
  if (forked) {
    tl_expr_join_hosts(e);
    tl_expr_host_worker(e, -1);
    for (int64_t k = 0; k < ntasks && st == TL_OK && !again; k++) again = cj.st[k] != TL_OK;
  }
  int64_t valid = 0;
  for (int64_t k = 0; k < ntasks && st == TL_OK && !again; k++) {
    if ((st = cj.st[k]) != TL_OK && err) *err = cj.errs[k];
    valid += cj.valid[k];
  }
  if (st == TL_OK && !again) {   /* as tl_column_seal, with the count the tasks made */
    c->null_count = nrows - valid;
    if (!c->null_count && c->validity) { tl_free(c->validity); c->validity = NULL; }
  }
  for (int w = 1; cj.plans && w < nplans; w++) tl_expr_free(cj.plans[w]);
  tl_free(cj.plans);
  tl_free(cj.st);
  tl_free(cj.errs);
  tl_free(cj.valid);
  if (again) return column_fixed(e, cols, slots, nrows, op, c, strict, 0, err);
  return st;
}

tl_status tl_expr_column(expr *e, tl_column *const *cols, tl_column *const *slots,
                         int64_t nrows, const char *op, tl_column **out, tl_error *err) {
  tl_type type = e->type ? e->type : TL_INT;   /* a bare null makes an all-null int column */
  tl_builder *b = NULL;
  tl_column *c = NULL;
  tl_status st;
  int sp = e->type && strict(e);
  if (type == TL_STRING) {   /* over a dictionary column: once per entry */
    TL_TRY(tl_fn_dict_column(e, cols, nrows, op, out, err));
    if (*out) return TL_OK;
  }
  if (type == TL_STRING) st = tl_builder_new(TL_STRING, nrows, &b, err);
  else if (type == TL_BOOL) st = tl_column_alloc(type, nrows, 1, 0, &c, err);
  else   /* every value is written; no bitmap when no row can be null */
    st = tl_column_alloc_raw(type, nrows, !sp || reads_nulls(e, cols, slots), &c, err);
  if (st != TL_OK) return st;
  if (c) {
    st = column_fixed(e, cols, slots, nrows, op, c, sp, 1, err);
  } else {
    int vs = tl_expr_vector_size();
    for (int64_t start = 0; start < nrows && st == TL_OK; start += vs) {
      int n = (int)(nrows - start < vs ? nrows - start : vs);
      if (tl_interrupted()) { st = tl_error_interrupted(err, op); break; }
      if ((st = tl_expr_eval(e, cols, slots, start, n, op, err)) != TL_OK) break;
      const vec *v = &e->out;
      for (int i = 0; i < n && st == TL_OK; i++)   /* strings: appended in order */
        st = (v->valid && !v->valid[i]) || !e->type
                 ? tl_builder_append_null(b, err)
                 : tl_builder_append_string(b, v->s[i], (size_t)v->sl[i], err);
    }
  }
  if (st != TL_OK) { tl_builder_free(b); tl_column_release(c); return st; }
  if (b) return tl_builder_finish(b, out, err);
  *out = c;
  return TL_OK;
}
