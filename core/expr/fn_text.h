/*
** fn_text.h -- what the files of the text, regular expression and operator
** functions (fn_text.c, fn_regex.c, fn_ops.c, fn_bind.c) share with the
** binder and the evaluator: their type checks, their kernels, and the
** compiled patterns of regexp_* held by a plan's nodes.
*/
#ifndef TL_FN_TEXT_H
#define TL_FN_TEXT_H

#include "expr_int.h"

/* 1 when fn (F_*) is one of these families' functions. */
int tl_fn_text_owns(int fn);

/* Checks the types of call e (its arguments bound) and sets e->type; a
** pattern of regexp_* is compiled here. */
tl_status tl_fn_text_bind(expr *e, const char *op, const char *src, tl_error *err);
/* The result type of the aggregate e (AGG_CORR and on), or an error. */
tl_status tl_fn_agg2_bind(expr *e, const char *op, const char *src, tl_error *err);

/* Computes call e over the rows of cx: its arguments are computed, and
** valid is NULL (every row) or the rows where none is null. */
tl_status tl_fn_text_eval(expr *e, const uint8_t *valid, evalctx *cx);
tl_status tl_fn_regex_eval(expr *e, const uint8_t *valid, evalctx *cx);
tl_status tl_fn_ops_eval(expr *e, evalctx *cx);
/* 1 for the functions whose result can be null where no argument is, or
** not null where one is (their values are not computed as if no row were
** null). */
int tl_fn_text_nonstrict(int fn);

/* A text-valued plan over one dictionary column, computed once per entry
** into a dictionary column (fn_dict.c); *out is NULL when that does not
** apply or an entry fails (the rows then run the ordinary way). */
tl_status tl_fn_dict_column(expr *e, tl_column *const *cols, int64_t nrows, const char *op,
                            tl_column **out, tl_error *err);

/* The error for row i's invalid UTF-8 in function `fn`. */
tl_status tl_fn_bad_utf8(const evalctx *cx, const char *fn, int i);

/* A compiled pattern, shared by the copies of a plan (refcounted). */
tl_status tl_rx_compile(expr *e, const char *op, const char *src, tl_error *err);
void tl_rx_share(expr *to, const expr *from);
/* Releases node e's pattern and its match data. */
void tl_rx_release(expr *e);

/* String results: row i's text goes to e->sbuf from offset `used` on;
** finish turns the offsets into pointers once the buffer stops moving. */
typedef struct sout { expr *e; size_t used; } sout;

static inline int sout_put(sout *so, const char *p, size_t n) {
  if (!n) return 1;
  if (!sbuf_reserve(so->e, so->used, n)) return 0;
  memcpy(so->e->sbuf + so->used, p, n);
  so->used += n;
  return 1;
}

/* Row i's result is the bytes written since `begin`. */
static inline void sout_row(sout *so, int i, size_t begin) {
  so->e->out.s[i] = (const char *)(uintptr_t)begin;
  so->e->out.sl[i] = (int64_t)(so->used - begin);
}

void tl_sout_finish(sout *so, const uint8_t *valid, const evalctx *cx);

/* The code point at s[0..n) into *cp and its length in bytes, or -1 when
** the bytes there are not UTF-8. */
int tl_utf8_next(const char *s, int64_t n, int32_t *cp);

#endif
