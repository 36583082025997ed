/*
** table.c -- immutable tables of named, shared columns.
**
** core/base: what every other part of the core stands on. Allocation (one
** pluggable allocator), errors (tl_error and the status codes), the thread
** pool and the interrupt flag, columns in the Arrow layout (column.c, and
** wrap.c for a host's arrays), tables and the selection of their rows
** (table.c, rows.c), text buffers, and values as text and back (scalar.c,
** parse.c). It calls nothing in the other folders.
*/
#include <string.h>

#include <xxhash.h>

#include "alloc.h"
#include "column.h"
#include "error.h"
#include "table.h"

static void free_parts(int ncol, char **names, tl_column **cols) {
  for (int j = 0; j < ncol; j++) {
    if (names) tl_free(names[j]);
    if (cols) tl_column_release(cols[j]);
  }
  tl_free(names);
  tl_free(cols);
}

/* The first column whose name repeats an earlier one, or -1; -2 when out of
** memory. A hash set past a few columns: a table may have 100000. */
static int find_duplicate(int ncol, char *const *names) {
  if (ncol <= 32) {
    for (int j = 0; j < ncol; j++)
      for (int k = 0; k < j; k++)
        if (strcmp(names[k], names[j]) == 0) return j;
    return -1;
  }
  size_t cap = 64;
  while (cap < 2 * (size_t)ncol) cap *= 2;
  int *tab = tl_calloc(cap, sizeof *tab), dup = -1;
  if (!tab) return -2;
  for (int j = 0; j < ncol && dup < 0; j++) {
    size_t k = (size_t)XXH3_64bits(names[j], strlen(names[j])) & (cap - 1);
    while (tab[k] && strcmp(names[tab[k] - 1], names[j]) != 0) k = (k + 1) & (cap - 1);
    if (tab[k]) dup = j;
    else tab[k] = j + 1;
  }
  tl_free(tab);
  return dup;
}

tl_status tl_table_adopt(int ncol, char **names, tl_column **cols, tl_table **out,
                         tl_error *err) {
  tl_status st = TL_OK;
  int64_t nrows = ncol > 0 ? cols[0]->length : 0;
  int dup = find_duplicate(ncol, names);
  if (dup == -2) st = tl_error_oom(err, "table");
  for (int j = 0; j < ncol && st == TL_OK; j++) {
    if (!names[j][0])
      st = tl_error_set(err, TL_EINVAL, "table: column %d has an empty name", j + 1);
    else if (cols[j]->length != nrows)
      st = tl_error_set(err, TL_EINVAL,
                        "table: column '%s' has %lld rows where column '%s' has %lld",
                        names[j], (long long)cols[j]->length, names[0], (long long)nrows);
    if (st == TL_OK && j == dup)
      st = tl_error_set(err, TL_EINVAL, "table: duplicate column name '%s'", names[j]);
  }
  tl_table *t = st == TL_OK ? tl_calloc(1, sizeof *t) : NULL;
  if (st == TL_OK && !t) st = tl_error_oom(err, "table");
  if (st != TL_OK) { free_parts(ncol, names, cols); return st; }
  atomic_init(&t->refs, 1);
  t->ncol = ncol;
  t->nrows = nrows;
  t->names = names;
  t->cols = cols;
  *out = t;
  return TL_OK;
}

tl_status tl_table_new(int ncol, const char *const *names, tl_column *const *cols,
                       tl_table **out, tl_error *err) {
  if (ncol < 0) return tl_error_set(err, TL_EINVAL, "table: negative column count");
  char **nm = tl_calloc((size_t)ncol + 1, sizeof *nm);
  tl_column **cs = tl_calloc((size_t)ncol + 1, sizeof *cs);
  if (!nm || !cs) { tl_free(nm); tl_free(cs); return tl_error_oom(err, "table"); }
  for (int j = 0; j < ncol; j++) {
    if (!names[j] || !cols[j]) {
      free_parts(j, nm, cs);
      return tl_error_set(err, TL_EINVAL, "table: column %d is missing its name or data", j + 1);
    }
    nm[j] = tl_strdup(names[j]);
    cs[j] = tl_column_retain(cols[j]);
    if (!nm[j]) { free_parts(j + 1, nm, cs); return tl_error_oom(err, "table"); }
  }
  return tl_table_adopt(ncol, nm, cs, out, err);
}

tl_table *tl_table_retain(tl_table *t) {
  if (t) atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
  return t;
}

void tl_table_release(tl_table *t) {
  if (!t) return;
  if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1) return;
  free_parts(t->ncol, t->names, t->cols);
  tl_free(t);
}

int64_t tl_table_nrows(const tl_table *t) { return t->nrows; }
int tl_table_ncols(const tl_table *t) { return t->ncol; }

tl_column *tl_table_column(const tl_table *t, int j) {
  return (j >= 0 && j < t->ncol) ? t->cols[j] : NULL;
}

const char *tl_table_name(const tl_table *t, int j) {
  return (j >= 0 && j < t->ncol) ? t->names[j] : NULL;
}

int tl_table_find(const tl_table *t, const char *name) {
  for (int j = 0; j < t->ncol; j++)
    if (strcmp(t->names[j], name) == 0) return j;
  return -1;
}

/* Optimal string alignment distance, case-insensitive, capped at `cap`. */
static int distance(const char *a, const char *b, int cap) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return cap + 1;
  int d[65][65];
  for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int ca = a[i - 1] | 0x20, cb = b[j - 1] | 0x20;
      int cost = ca != cb;
      int v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && ca == (b[j - 2] | 0x20) && (a[i - 2] | 0x20) == cb &&
          d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;   /* a transposition: 'yaer' for 'year' */
      d[i][j] = v;
    }
  return d[la][lb];
}

const char *tl_suggest(const char *name, const char *const *names, int n) {
  const char *best = NULL;
  int best_d = 0;
  int cap = ((int)strlen(name) + 1) / 3;   /* 'yaer' -> 'year'; no guesses for one letter */
  for (int j = 0; j < n; j++) {
    if (!names[j]) continue;
    int dj = distance(name, names[j], cap);
    if (dj <= cap && (!best || dj < best_d)) { best = names[j]; best_d = dj; }
  }
  return best;
}

const char *tl_table_suggest(const tl_table *t, const char *name) {
  return tl_suggest(name, (const char *const *)t->names, t->ncol);
}

tl_status tl_table_slice(const tl_table *t, int64_t offset, int64_t n, tl_table **out,
                         tl_error *err) {
  if (offset < 0) offset = 0;
  if (offset > t->nrows) offset = t->nrows;
  if (n < 0) n = 0;
  if (n > t->nrows - offset) n = t->nrows - offset;
  if (offset == 0 && n == t->nrows) { *out = tl_table_retain((tl_table *)t); return TL_OK; }
  int64_t *rows = tl_alloc(((size_t)n + 1) * sizeof *rows);
  if (!rows) return tl_error_oom(err, "slice");
  for (int64_t i = 0; i < n; i++) rows[i] = offset + i;
  tl_status st = tl_table_take(t, rows, n, out, err);
  tl_free(rows);
  return st;
}

/* A column's memory may stand on something that can change under it (a
** mapped file); its creator then gave a check, run once per operation. */
tl_status tl_column_check_file(const tl_column *c, const char *op, tl_error *err) {
  if (c->check) TL_TRY(c->check(c->release_ctx, op, err));
  if (c->dict && c->dict->check) TL_TRY(c->dict->check(c->dict->release_ctx, op, err));
  return TL_OK;
}

tl_status tl_table_check_files(const tl_table *t, const char *op, tl_error *err) {
  const void *done = NULL;   /* the owner checked last: a table's columns share one */
  for (int j = 0; j < t->ncol; j++) {
    const tl_column *c = t->cols[j];
    if ((!c->check || c->release_ctx == done) && !(c->dict && c->dict->check)) continue;
    TL_TRY(tl_column_check_file(c, op, err));
    done = c->release_ctx;
  }
  return TL_OK;
}
