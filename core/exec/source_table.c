/*
** source_table.c -- an in-memory table as a scan's source: morsels are
** slices of a fixed number of rows, sharing the table's columns.
*/
#include <stdint.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/table.h"
#include "source.h"

#define DEFAULT_ROWS 65536

typedef struct trun {
  int64_t rows;                 /* per morsel */
  tl_table *cols;               /* the wanted columns, all rows */
} trun;

static void t_close(void *run) {
  trun *r = run;
  if (!r) return;
  tl_table_release(r->cols);
  tl_free(r);
}

static tl_status t_open(const tl_source *src, const tl_source_want *want, void **run,
                        int64_t *nmorsels, tl_error *err) {
  trun *r = tl_calloc(1, sizeof *r);
  *run = r;
  if (!r) return tl_error_oom(err, "scan");
  r->rows = want->batch_rows > 0 ? want->batch_rows : DEFAULT_ROWS;
  TL_TRY(tl_table_select(src->impl, want->ncols, want->cols, &r->cols, err));
  int64_t n = tl_table_nrows(src->impl);   /* the wanted columns may be none */
  *nmorsels = (n + r->rows - 1) / r->rows;
  return TL_OK;
}

static tl_status t_read(const tl_source *src, void *run, int64_t k, tl_table **out,
                        tl_error *err) {
  const trun *r = run;
  if (tl_table_ncols(r->cols) == 0) {   /* no column wanted: the rows alone */
    int64_t n = tl_table_nrows(src->impl) - k * r->rows;
    TL_TRY(tl_table_new(0, NULL, NULL, out, err));
    (*out)->nrows = n < r->rows ? n : r->rows;
    return TL_OK;
  }
  return tl_table_slice(r->cols, k * r->rows, r->rows, out, err);
}

static void t_describe(const tl_source *src, tl_textbuf *tb) {
  tl_textbuf_printf(tb, "table: %lld rows", (long long)tl_table_nrows(src->impl));
}

static void t_free(tl_source *src) {
  tl_table_release(src->impl);
  tl_free(src);
}

static int64_t t_place(const tl_source *src, void *run, int64_t k, const char **file,
                       int64_t *line) {
  (void)src;
  *file = NULL;
  *line = 0;
  return k * ((const trun *)run)->rows;
}

static const tl_source_kind table_kind = { "table", t_open, t_read, t_close, t_describe, t_free,
                                           NULL };

tl_status tl_source_table(const tl_table *t, tl_source **out, tl_error *err) {
  tl_source *s = tl_calloc(1, sizeof *s);
  *out = NULL;
  if (!s) return tl_error_oom(err, "scan");
  tl_status st = tl_table_slice(t, 0, 0, &s->schema, err);
  if (st != TL_OK) { tl_free(s); return st; }
  s->kind = &table_kind;
  atomic_init(&s->refs, 1);
  s->impl = tl_table_retain((tl_table *)t);
  s->place = t_place;
  *out = s;
  return TL_OK;
}
