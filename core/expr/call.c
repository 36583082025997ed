/*
** call.c -- calls in the vector VM: if and coalesce, which hand their
** operands only the rows still undecided, the built-in scalar functions by
** family, and host functions, the slow path of a call to the host per
** vector.
*/
#define _GNU_SOURCE   /* memmem */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/column.h"
#include "base/pool.h"
#include "expr_int.h"
#include "fn_text.h"
#include "registry.h"
#include "time_int.h"

/* The byte offset of character k (0-based) of s, or len past the end. */
static int64_t utf8_offset(const char *s, int64_t len, int64_t k) {
  int64_t b = 0;
  for (; b < len; b++)
    if (((unsigned char)s[b] & 0xc0) != 0x80 && k-- == 0) return b;
  return len;
}

static int64_t days_of(const vec *v, int i) {
  if (v->type == TL_DATE) return v->d[i];
  int64_t us = v->i[i], day = 86400000000LL;
  return us >= 0 ? us / day : -(int64_t)((0 - (uint64_t)us + (uint64_t)day - 1) / (uint64_t)day);
}

/* if(c, x, y): x runs on the rows where c is true, y on the others. */
static tl_status eval_if(expr *e, evalctx *cx) {
  vec *o = &e->out;
  TL_TRY(tl_expr_eval_node(e->args[0], cx));
  const vec *c = &e->args[0]->out, *x = &e->args[1]->out, *y = &e->args[2]->out;
  int *yes = e->selbuf, *no = e->selbuf + TL_VEC, ny = 0, nn = 0;
  ROWS(cx, i, if (valid_at(c, i) && c->b[i]) yes[ny++] = i; else no[nn++] = i);
  if (short_circuit()) {
    evalctx sx = narrow(cx, yes, ny), sy = narrow(cx, no, nn);
    if (ny) TL_TRY(tl_expr_eval_node(e->args[1], &sx));
    if (nn) TL_TRY(tl_expr_eval_node(e->args[2], &sy));
  } else {
    TL_TRY(tl_expr_eval_node(e->args[1], cx));
    TL_TRY(tl_expr_eval_node(e->args[2], cx));
  }
  for (int k = 0; k < ny; k++) copy_row(o, e->type, x, yes[k]);
  for (int k = 0; k < nn; k++) copy_row(o, e->type, y, no[k]);
  return TL_OK;
}

/* coalesce(a, b, ...): each argument runs on the rows still null. */
static tl_status eval_coalesce(expr *e, evalctx *cx) {
  vec *o = &e->out;
  int sc = short_circuit();
  evalctx rest = *cx;   /* the rows still null */
  ROWS(cx, i, null_row(o, e->type, i));
  for (int k = 0; k < e->nargs; k++) {
    int m = 0, *left = e->selbuf;
    if (sc && rest.sel && rest.nsel == 0) break;
    TL_TRY(tl_expr_eval_node(e->args[k], sc ? &rest : cx));
    const vec *v = &e->args[k]->out;
    ROWS(&rest, i, if (valid_at(v, i)) copy_row(o, e->type, v, i); else left[m++] = i);
    rest = narrow(cx, left, m);
  }
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Host functions: the slow path, a call to the host per vector.
*/
struct tl_fn_result {
  expr *e;
  size_t used;         /* bytes of e->sbuf holding string results */
};

tl_status tl_fn_result_set(tl_fn_result *res, int i, const tl_scalar *v, tl_error *err) {
  expr *e = res->e;
  vec *o = &e->out;
  const char *name = e->hostfn->name;
  if (i < 0 || i >= o->n)
    return tl_error_set(err, TL_EINVAL, "%s: result row %d outside the vector", name, i + 1);
  if (v->is_null) { o->valid[i] = 0; return TL_OK; }
  if (v->type != e->type && !(e->type == TL_FLOAT && v->type == TL_INT))
    return tl_error_set(err, TL_ETYPE, "%s: a %s result, not %s", name, tname(v->type),
                        tl_type_name(e->type));
  switch (e->type) {
    case TL_INT: case TL_TIMESTAMP: o->i[i] = v->v.i; break;
    case TL_FLOAT: o->f[i] = v->type == TL_INT ? (double)v->v.i : v->v.f; break;
    case TL_DATE: o->d[i] = v->v.d; break;
    case TL_BOOL: o->b[i] = v->v.b != 0; break;
    case TL_STRING:
      if (!sbuf_reserve(e, res->used, v->v.s.len)) return tl_error_oom(err, name);
      if (v->v.s.len) memcpy(e->sbuf + res->used, v->v.s.ptr, v->v.s.len);
      o->s[i] = (const char *)(uintptr_t)res->used;   /* an offset until the end */
      o->sl[i] = (int64_t)v->v.s.len;
      res->used += v->v.s.len;
      break;
  }
  o->valid[i] = 1;
  return TL_OK;
}

int tl_expr_has_host(const expr *e) {
  if (e->hostfn) return 1;
  for (int k = 0; k < e->nargs; k++)
    if (tl_expr_has_host(e->args[k])) return 1;
  return 0;
}

/* The distinct host functions of e, up to `max` (more: returns max + 1). */
static int host_list(const expr *e, const tl_function **fs, int n, int max) {
  if (e->hostfn) {
    int k = 0;
    while (k < n && fs[k] != e->hostfn) k++;
    if (k == n) {
      if (n == max) return max + 1;
      fs[n++] = e->hostfn;
    }
  }
  for (int k = 0; k < e->nargs && n <= max; k++) n = host_list(e->args[k], fs, n, max);
  return n;
}

#define MAX_FORKED 32

int tl_expr_fork_hosts(expr *e, int nworkers) {
  const tl_function *fs[MAX_FORKED];
  int n = host_list(e, fs, 0, MAX_FORKED);
  if (n > MAX_FORKED || nworkers < 2 || tl_host_worker() != TL_HOST_ANY) return 0;
  for (int k = 0; k < n; k++) {
    if (!fs[k]->fork || !fs[k]->call_on || !fs[k]->join || !fs[k]->fork(fs[k]->ud, nworkers)) {
      while (k-- > 0) fs[k]->join(fs[k]->ud);
      return 0;
    }
  }
  return n > 0;
}

void tl_expr_join_hosts(expr *e) {
  const tl_function *fs[MAX_FORKED];
  int n = host_list(e, fs, 0, MAX_FORKED);
  for (int k = 0; k < n && n <= MAX_FORKED; k++) fs[k]->join(fs[k]->ud);
}

void tl_expr_host_worker(expr *e, int w) {
  if (e->hostfn) e->hostworker = w + 1;
  for (int k = 0; k < e->nargs; k++) tl_expr_host_worker(e->args[k], w);
}

static tl_status eval_host(expr *e, evalctx *cx) {
  int n = cx->n;
  vec *o = &e->out;
  const tl_function *f = e->hostfn;
  if (n <= 0) return TL_OK;
  for (int k = 0; k < e->nargs; k++) TL_TRY(tl_expr_eval_node(e->args[k], cx));
  tl_vector args[64], *av = e->nargs <= 64 ? args : tl_alloc((size_t)e->nargs * sizeof *av);
  if (!av) return tl_error_oom(cx->err, cx->op);
  int *sel = e->selbuf;
  const uint8_t *none = (const uint8_t *)(sel + TL_VEC);   /* TL_VEC zero bytes */
  int nsel = 0;
  ROWS(cx, i, {   /* the selected rows, less those with a null argument */
    int ok = 1;
    for (int k = 0; k < e->nargs && ok && !f->nulls; k++) ok = valid_at(&e->args[k]->out, i);
    sel[nsel] = i;
    nsel += ok;
  });
  for (int k = 0; k < e->nargs; k++) {
    const vec *v = &e->args[k]->out;
    av[k] = (tl_vector){ v->type, n, v->type ? v->valid : none, v->i, v->f, v->d, v->b,
                         (const char *const *)v->s, v->sl };
  }
  memset(o->valid, 0, (size_t)n);
  if (e->type == TL_STRING)
    for (int i = 0; i < n; i++) { o->s[i] = NULL; o->sl[i] = 0; }
  else   /* null rows hold 0, as the kernels expect */
    memset(o->i, 0, (size_t)n * (e->type == TL_BOOL ? 1 : tl_type_width(e->type)));
  tl_fn_result res = { e, 0 };
  tl_fn_call call = { cx->start + tl_host_row_base(), n, nsel, sel, e->nargs, av };
  tl_status st = TL_OK;
  if (nsel) {
    tl_error herr;
    herr.message[0] = '\0';
    int w = e->hostworker ? e->hostworker - 1 : tl_host_worker();   /* base/pool.h */
    st = w >= 0 ? f->call_on(f->ud, w, &call, &res, &herr) : f->call(f->ud, &call, &res, &herr);
    if (st != TL_OK) {
      if (!herr.message[0]) tl_error_set(&herr, st, "%s: %s", f->name, tl_status_string(st));
      tl_error_set(cx->err, st, "%s: %s", cx->op, herr.message);
    }
  }
  if (av != args) tl_free(av);
  if (st == TL_OK && e->type == TL_STRING)
    for (int i = 0; i < n; i++)
      if (o->valid[i]) o->s[i] = e->sbuf ? e->sbuf + (uintptr_t)o->s[i] : "";
  return st;
}

/* abs, floor, ceil, round, ln, log, exp and sqrt (valid: the rows not null). */
static tl_status call_math(expr *e, const vec *a, const uint8_t *valid, evalctx *cx) {
  vec *o = &e->out;
  switch (e->fn) {
    case F_ABS:
      if (e->type == TL_INT) {
        ROWS(cx, i, {
          if (a->i[i] == INT64_MIN && (!valid || valid[i]))
            return tl_error_set(cx->err, TL_ERANGE, "%s: integer overflow in 'abs' at row %lld",
                                cx->op, (long long)(cx->start + i + 1));
          o->i[i] = a->i[i] < 0 ? (int64_t)(0 - (uint64_t)a->i[i]) : a->i[i];   /* no UB in null slots */
        });
      } else {
        ROWS(cx, i, o->f[i] = fabs(a->f[i]));
      }
      break;
    case F_FLOOR: case F_CEIL: case F_ROUND:
      if (e->type == TL_INT && a->type == TL_INT) { ROWS(cx, i, o->i[i] = a->i[i]); break; }
      ROWS(cx, i, {
        double x = num_at(a, i);
        if (e->fn == F_FLOOR) x = floor(x);
        else if (e->fn == F_CEIL) x = ceil(x);
        else if (e->nargs > 1) { double p = pow(10, (double)e->args[1]->out.i[i]); x = round(x * p) / p; }
        else x = round(x);
        o->f[i] = x;
      });
      break;
    case F_LN: case F_LOG: case F_EXP: case F_SQRT:
      ROWS(cx, i, {
        double x = num_at(a, i), r;
        if (e->fn == F_EXP) r = exp(x);
        else if (e->fn == F_SQRT) r = sqrt(x);
        else if (e->fn == F_LOG && e->nargs > 1) r = log(x) / log(num_at(&e->args[1]->out, i));
        else r = e->fn == F_LOG ? log10(x) : log(x);
        o->f[i] = r;
      });
      break;
  }
  return TL_OK;
}

/* substr, contains, starts_with and ends_with (the other text functions: fn_text.c). */
static tl_status call_text(expr *e, const vec *a, const uint8_t *valid, evalctx *cx) {
  vec *o = &e->out;
  switch (e->fn) {
    case F_SUBSTR: {
      size_t used = 0;
      ROWS(cx, i, {
        if (valid && !valid[i]) { o->s[i] = NULL; o->sl[i] = 0; continue; }
        const char *s = a->s[i];
        int64_t len = a->sl[i], from = 0, cnt = len;
        {
          /* as string.sub, in characters: 1-based, inclusive, negatives count from the end */
          int64_t nch = 0;
          for (int64_t j = 0; j < len; j++) nch += ((unsigned char)s[j] & 0xc0) != 0x80;
          int64_t i0 = e->args[1]->out.i[i], j0 = e->nargs > 2 ? e->args[2]->out.i[i] : -1;
          if (i0 < 0) i0 = nch + i0 + 1 > 0 ? nch + i0 + 1 : 1;
          else if (i0 == 0) i0 = 1;
          if (j0 < 0) j0 = nch + j0 + 1;
          else if (j0 > nch) j0 = nch;
          from = utf8_offset(s, len, i0 - 1);
          cnt = j0 >= i0 ? utf8_offset(s, len, j0) - from : 0;
        }
        if (!sbuf_reserve(e, used, (size_t)cnt)) return tl_error_oom(cx->err, cx->op);
        if (cnt) memcpy(e->sbuf + used, s + from, (size_t)cnt);
        o->s[i] = (const char *)(uintptr_t)used;
        o->sl[i] = cnt;
        used += (size_t)cnt;
      });
      ROWS(cx, i, {
        if (!valid || valid[i]) o->s[i] = e->sbuf ? e->sbuf + (uintptr_t)o->s[i] : "";   /* all empty: no buffer */
      });
      break;
    }
    case F_CONTAINS: case F_STARTS: case F_ENDS: {
      const vec *b = &e->args[1]->out;
      ROWS(cx, i, {
        if (valid && !valid[i]) { o->b[i] = 0; continue; }
        int64_t la = a->sl[i], lb = b->sl[i];
        int r = 0;
        if (lb <= la) {
          if (lb == 0) r = 1;   /* and no memcmp of a NULL pointer */
          else if (e->fn == F_STARTS) r = memcmp(a->s[i], b->s[i], (size_t)lb) == 0;
          else if (e->fn == F_ENDS) r = memcmp(a->s[i] + la - lb, b->s[i], (size_t)lb) == 0;
          else r = memmem(a->s[i], (size_t)la, b->s[i], (size_t)lb) != NULL;
        }
        o->b[i] = (uint8_t)r;
      });
      break;
    }
  }
  return TL_OK;
}

tl_status tl_expr_eval_call(expr *e, evalctx *cx) {
  int n = cx->n;
  vec *o = &e->out;
  if (e->hostfn) return eval_host(e, cx);
  if (e->fn == F_IF) return eval_if(e, cx);
  if (e->fn == F_COALESCE) return eval_coalesce(e, cx);
  if (tl_fn_text_owns(e->fn) && tl_fn_text_nonstrict(e->fn)) return tl_fn_ops_eval(e, cx);
  for (int k = 0; k < e->nargs; k++) TL_TRY(tl_expr_eval_node(e->args[k], cx));
  const vec *a = &e->args[0]->out;
  if (e->fn == F_ISNULL) {
    if (!a->type) memset(o->b, 1, (size_t)n);
    else if (!a->valid) memset(o->b, 0, (size_t)n);
    else ROWS(cx, i, o->b[i] = !a->valid[i]);
    o->valid = NULL;
    return TL_OK;
  }
  /* the rest are null when any argument is */
  uint8_t *valid = o->valid;
  if (!a->type || a->valid || e->nargs > 1) {
    memset(valid, 1, (size_t)n);
    for (int k = 0; k < e->nargs; k++) {
      const vec *v = &e->args[k]->out;
      if (!v->type) { memset(valid, 0, (size_t)n); break; }
      if (v->valid) ROWS(cx, i, valid[i] &= v->valid[i]);
    }
  } else {
    valid = NULL;
  }
  o->valid = valid;
  if (tl_is_time_fn(e->fn)) return tl_expr_call_time(e, a, valid, cx);
  switch (e->fn) {
    case F_ABS: case F_FLOOR: case F_CEIL: case F_ROUND:
    case F_LN: case F_LOG: case F_EXP: case F_SQRT:
      return call_math(e, a, valid, cx);
    case F_SUBSTR: case F_CONTAINS: case F_STARTS: case F_ENDS:
      return call_text(e, a, valid, cx);
    case F_YEAR: case F_MONTH: case F_DAY:
      ROWS(cx, i, {
        int y, m, d;
        tl_civil_from_days((int32_t)days_of(a, i), &y, &m, &d);
        o->i[i] = e->fn == F_YEAR ? y : e->fn == F_MONTH ? m : d;
      });
      break;
    default:
      if (e->fn >= F_LIKE && e->fn <= F_RX_EXTRACT) return tl_fn_regex_eval(e, valid, cx);
      if (tl_fn_text_owns(e->fn)) return tl_fn_text_eval(e, valid, cx);
      break;
  }
  return TL_OK;
}
