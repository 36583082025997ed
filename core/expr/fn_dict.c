/*
** fn_dict.c -- text functions over a dictionary-encoded column, once per
** entry: lower(program) over 3 million rows of 40 programs computes 40
** texts and keeps the rows' codes (mapped onto the distinct results). It
** applies to a text-valued plan of built-in calls and constants over one
** dictionary column (`..` keeps making plain columns), which is null exactly where the
** column is; should any entry fail, the ordinary path runs instead, so that
** only the rows report errors.
*/
#include <xxhash.h>

#include "base/column.h"
#include "fn_text.h"
#include "registry.h"

/* 1 when e reads no column but `col` (a dictionary column) and is null
** exactly where that column is; *col is set by the first column seen. */
static int over_one_dict(const expr *e, tl_column *const *cols, int *col) {
  switch (e->kind) {
    case E_LIT: return !e->lit.is_null;
    case E_COL:
      if (*col < 0) *col = e->col;
      return e->col == *col && cols[e->col]->dict && !e->dict_codes;
    case E_CALL:
      if (e->hostfn || e->fn == F_IF || e->fn == F_COALESCE || e->fn == F_ISNULL ||
          tl_fn_text_nonstrict(e->fn))
        return 0;
      break;
    default: return 0;
  }
  for (int k = 0; k < e->nargs; k++)
    if (!over_one_dict(e->args[k], cols, col)) return 0;
  return 1;
}

/* The distinct texts of r (no nulls) into a new column, and each row's code there. */
static tl_status distinct_texts(const tl_column *r, int32_t *code, tl_column **out, tl_error *err) {
  int64_t n = r->length, ns = 16, bytes = 0, nd = 0;
  while (ns < 2 * n) ns *= 2;
  int64_t *slot = tl_alloc((size_t)ns * sizeof *slot), *first = tl_alloc((size_t)(n + 1) * sizeof *first);
  if (!slot || !first) { tl_free(slot); tl_free(first); return tl_error_oom(err, "mutate"); }
  for (int64_t k = 0; k < ns; k++) slot[k] = -1;
  for (int64_t i = 0; i < n; i++) {
    size_t len;
    const char *s = tl_column_string_at(r, i, &len);
    int64_t j = (int64_t)(XXH3_64bits(s, len) & (uint64_t)(ns - 1));
    for (; slot[j] >= 0; j = (j + 1) & (ns - 1)) {
      size_t l2;
      const char *t = tl_column_string_at(r, first[slot[j]], &l2);
      if (l2 == len && (!len || memcmp(s, t, len) == 0)) break;
    }
    if (slot[j] < 0) { slot[j] = nd; first[nd++] = i; bytes += (int64_t)len; }
    code[i] = (int32_t)slot[j];
  }
  tl_column *d;
  tl_status st = tl_column_alloc(TL_STRING, nd, 0, bytes, &d, err);
  if (st == TL_OK) {
    int64_t *off = d->values, at = 0;
    for (int64_t k = 0; k < nd; k++) {
      size_t len;
      const char *s = tl_column_string_at(r, first[k], &len);
      off[k] = at;
      if (len) memcpy(d->bytes + at, s, len);
      at += (int64_t)len;
    }
    off[nd] = at;
    tl_column_seal(d);
    *out = d;
  }
  tl_free(slot);
  tl_free(first);
  return st;
}

/* The largest column index e reads. */
static int max_col(const expr *e) {
  int m = e->kind == E_COL ? e->col : -1;
  for (int k = 0; k < e->nargs; k++) {
    int c = max_col(e->args[k]);
    if (c > m) m = c;
  }
  return m;
}

tl_status tl_fn_dict_column(expr *e, tl_column *const *cols, int64_t nrows, const char *op,
                            tl_column **out, tl_error *err) {
  int col = -1;
  *out = NULL;
  if (e->type != TL_STRING || !cols || !over_one_dict(e, cols, &col) || col < 0) return TL_OK;
  const tl_column *src = cols[col];
  if (src->length != nrows || src->dict->length == 0 || src->dict->length > nrows) return TL_OK;
  int nc = max_col(e) + 1;
  tl_column **dc = tl_calloc((size_t)nc, sizeof *dc), *r = NULL, *d = NULL, *c = NULL;
  int32_t *map = tl_alloc((size_t)(src->dict->length + 1) * sizeof *map);
  if (!dc || !map) { tl_free(dc); tl_free(map); return tl_error_oom(err, op); }
  dc[col] = src->dict;
  tl_error ferr;
  tl_status st = tl_expr_column(e, dc, NULL, src->dict->length, op, &r, &ferr);
  if (st == TL_ENOMEM) *err = ferr;
  if (st == TL_OK && r->null_count == 0) st = distinct_texts(r, map, &d, err);
  if (st == TL_OK && d) st = tl_column_alloc_dict(d, nrows, src->validity != NULL, &c, err);
  if (st == TL_OK && c) {
    const int32_t *from = src->values;
    int32_t *to = c->values;
    for (int64_t i = 0; i < nrows; i++) to[i] = map[from[i]];   /* null rows hold code 0 */
    if (src->validity) memcpy(c->validity, src->validity, TL_BITMAP_BYTES(nrows));
    tl_column_seal(c);
    *out = c;
  }
  tl_column_release(r);
  tl_column_release(d);
  tl_free(dc);
  tl_free(map);
  return st == TL_ENOMEM ? st : TL_OK;   /* a failure: the rows report it */
}
