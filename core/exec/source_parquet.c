/*
** source_parquet.c -- Parquet files as a scan's source. The footers are
** read when the scan is made, and the files must agree on names and types
** (int widening to float). A run opens every file once (mapped, footer
** decoded) and makes each row group a morsel, in file order, or several
** when it holds more than a batch of rows (the batch_rows knob, else
** BATCH_ROWS): a large row group is read a batch of rows at a time, so it
** is never held whole. A worker reads only the columns the plan wants of
** its rows. A row group whose min/max statistics prove that a filter
** pushed into the scan is never true is not read at all: its morsels are
** empty batches.
*/
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/table.h"
#include "io/parquet_file.h"
#include "prune.h"
#include "source.h"

typedef struct pqsrc {
  int nfiles;
  char **paths;
  int64_t total;           /* bytes */
} pqsrc;

/* The rows of a batch of a large row group: about what a CSV morsel of
** 4 MiB holds, and the pages of tally's writer (PQW_PAGE_ROWS), so that
** batches of the files tally writes start at a page. */
#define BATCH_ROWS ((int64_t)1 << 17)

typedef struct pmorsel {
  int file, group;
  int64_t row, nrows;      /* the rows of the row group; nrows -1: all of them */
} pmorsel;

typedef struct prun {
  const tl_source *src;
  const tl_source_want *want;
  pq_file **files;
  int64_t n;
  pmorsel *m;
  uint8_t *skip;           /* per morsel: excluded by the statistics */
  int64_t ngroups, nskip;  /* row groups, and those excluded */
  tl_prune *prune;
} prun;

static void p_free(tl_source *src) {
  pqsrc *p = src->impl;
  if (p) {
    for (int k = 0; k < p->nfiles; k++) tl_free(p->paths[k]);
    tl_free(p->paths);
    tl_free(p);
  }
  tl_free(src);
}

static void p_close(void *run) {
  prun *r = run;
  if (!r) return;
  for (int f = 0; r->files && f < ((const pqsrc *)r->src->impl)->nfiles; f++)
    pq_file_close(r->files[f]);
  tl_free(r->files);
  tl_free(r->m);
  tl_free(r->skip);
  tl_prune_free(r->prune);
  tl_free(r);
}

typedef struct statctx {
  const pq_file *f;
  int g;
} statctx;

static int group_stat(void *ud, const char *col, pq_stat *s) {
  const statctx *c = ud;
  return pq_file_stat(c->f, c->g, col, s);
}

/* Opens the files, lists their row groups and marks those the filters exclude. */
static tl_status open_run(prun *r, tl_error *err) {
  const pqsrc *p = r->src->impl;
  if (!(r->files = tl_calloc((size_t)p->nfiles, sizeof *r->files))) return tl_error_oom(err, "scan");
  int64_t n = 0, per = r->want->batch_rows > 0 ? r->want->batch_rows : BATCH_ROWS;
  for (int f = 0; f < p->nfiles; f++) {
    TL_TRY(pq_file_open(p->paths[f], &r->files[f], err));
    for (int g = 0; g < pq_file_groups(r->files[f]); g++) {
      int64_t rows = pq_file_group_rows(r->files[f], g);
      if (rows > INT64_MAX - per)   /* a damaged footer: its morsels could not be counted */
        return tl_error_set(err, TL_EPARSE, "scan: %s: row group %d claims %lld rows",
                            p->paths[f], g, (long long)rows);
      int64_t k = rows > per ? rows / per + (rows % per != 0) : 1;
      if (k > (int64_t)(SIZE_MAX / sizeof *r->m / 2) - n) return tl_error_oom(err, "scan");
      n += k;
    }
  }
  r->m = tl_calloc((size_t)n + 1, sizeof *r->m);
  r->skip = tl_calloc((size_t)n + 1, 1);
  if (!r->m || !r->skip) return tl_error_oom(err, "scan");
  const tl_source_want *w = r->want;
  tl_table *cols = NULL;
  TL_TRY(tl_table_select(r->src->schema, w->ncols, w->cols, &cols, err));
  tl_status st = tl_prune_make(w->nfilters, w->filters, cols, &r->prune, err);
  tl_table_release(cols);
  TL_TRY(st);
  for (int f = 0; f < p->nfiles; f++)
    for (int g = 0; g < pq_file_groups(r->files[f]); g++) {
      statctx c = { r->files[f], g };
      int64_t rows = pq_file_group_rows(r->files[f], g);
      uint8_t skip = (uint8_t)tl_prune_excludes(r->prune, group_stat, &c);
      r->ngroups++;
      r->nskip += skip;
      for (int64_t at = 0; at == 0 || at < rows; at += per) {
        r->m[r->n] = rows > per ? (pmorsel){ f, g, at, rows - at < per ? rows - at : per }
                                : (pmorsel){ f, g, 0, -1 };
        r->skip[r->n++] = skip;
      }
    }
  return TL_OK;
}

static tl_status p_open(const tl_source *src, const tl_source_want *want, void **run,
                        int64_t *nmorsels, tl_error *err) {
  prun *r = tl_calloc(1, sizeof *r);
  *run = r;
  if (!r) return tl_error_oom(err, "scan");
  r->src = src;
  r->want = want;
  TL_TRY(open_run(r, err));
  *nmorsels = r->n;
  return TL_OK;
}

static tl_status p_read(const tl_source *src, void *run, int64_t k, tl_table **out,
                        tl_error *err) {
  const prun *r = run;
  const tl_source_want *w = r->want;
  const pmorsel *m = &r->m[k];
  if (r->skip[k]) return tl_table_select(src->schema, w->ncols, w->cols, out, err);
  if (w->ncols == 0) {   /* no column wanted (a count): the rows alone, from the footer */
    TL_TRY(tl_table_new(0, NULL, NULL, out, err));
    (*out)->nrows = m->nrows < 0 ? pq_file_group_rows(r->files[m->file], m->group) : m->nrows;
    return TL_OK;
  }
  if (m->nrows < 0)
    TL_TRY(pq_file_read_group(r->files[m->file], m->group, w->ncols, w->cols, out, err));
  else
    TL_TRY(pq_file_read_rows(r->files[m->file], m->group, m->row, m->nrows, w->ncols, w->cols,
                             out, err));
  return tl_agree_widen(src->schema, ((const pqsrc *)src->impl)->paths[m->file], out, err);
}

/* Survivors this close (in rows) are read as one range of the row group:
** the rows between cost less than another read of the pages. */
#define TAKE_GAP 4096

/* Each run of near rows is read as one range of the row group (the pages
** before it passed over by their headers), and its rows taken. */
tl_status tl_source_parquet_take(const tl_source *src, void *run, int64_t k,
                                 const int64_t *rows, int64_t n, tl_table **out, tl_error *err) {
  const prun *r = run;
  const tl_source_want *w = r->want;
  const pmorsel *m = &r->m[k];
  int64_t first = m->nrows < 0 ? 0 : m->row;
  tl_table **parts = tl_calloc((size_t)n + 1, sizeof *parts);
  int64_t *at = tl_calloc((size_t)n + 1, sizeof *at);
  int64_t nparts = 0;
  *out = NULL;
  tl_status st = parts && at ? TL_OK : tl_error_oom(err, "scan");
  for (int64_t a = 0, b; st == TL_OK && a < n; a = b) {
    tl_table *t = NULL;
    for (b = a + 1; b < n && rows[b] - rows[b - 1] <= TAKE_GAP; b++) {}
    for (int64_t i = a; i < b; i++) at[i - a] = rows[i] - rows[a];
    st = pq_file_read_rows(r->files[m->file], m->group, first + rows[a], rows[b - 1] - rows[a] + 1,
                           w->ncols, w->cols, &t, err);
    if (st == TL_OK) st = tl_table_take(t, at, b - a, &parts[nparts++], err);
    tl_table_release(t);
  }
  if (st == TL_OK && nparts == 1) *out = parts[0], parts[0] = NULL;
  else if (st == TL_OK) st = tl_table_concat((int)nparts, (const tl_table *const *)parts, out, err);
  for (int64_t j = 0; parts && j < nparts; j++) tl_table_release(parts[j]);
  tl_free(parts);
  tl_free(at);
  return st == TL_OK ? tl_agree_widen(src->schema, ((const pqsrc *)src->impl)->paths[m->file], out, err) : st;
}

static void p_describe(const tl_source *src, tl_textbuf *tb) {
  const pqsrc *p = src->impl;
  tl_textbuf_printf(tb, "parquet: %s", p->paths[0]);
  if (p->nfiles > 1) tl_textbuf_printf(tb, " and %d more files", p->nfiles - 1);
  if (p->total < 1000000) tl_textbuf_printf(tb, " (%.1f kB)", (double)p->total / 1e3);
  else tl_textbuf_printf(tb, " (%.1f MB)", (double)p->total / 1e6);
}

/* What the statistics make of the pushed filters, from the footers. */
static void p_explain(const tl_source *src, const tl_source_want *want, tl_textbuf *tb) {
  prun r;
  tl_error err;
  memset(&r, 0, sizeof r);
  r.src = src;
  r.want = want;
  if (want->nfilters == 0) return;
  if (open_run(&r, &err) != TL_OK) {
    tl_textbuf_printf(tb, "\n  row groups: not known (%s)", err.message);
  } else if (tl_prune_count(r.prune) == 0) {
    tl_textbuf_str(tb, "\n  row groups: all read (no filter compares a column with a constant)");
  } else {
    tl_textbuf_printf(tb, "\n  row groups: %lld of %lld skipped by their min/max statistics",
                      (long long)r.nskip, (long long)r.ngroups);
  }
  prun *heap = tl_alloc(sizeof *heap);   /* p_close frees the run it is given */
  if (heap) { *heap = r; p_close(heap); }
}

static const tl_source_kind parquet_kind = { "parquet", p_open, p_read, p_close, p_describe,
                                             p_free, p_explain };

int tl_source_is_parquet(const tl_source *src) { return src->kind == &parquet_kind; }

/* Each file's schema from its footer, folded into the one they agree on. */
static tl_status p_init(pqsrc *p, int npaths, const char *const *paths, tl_table **schema,
                        tl_error *err) {
  if (!(p->paths = tl_calloc((size_t)npaths, sizeof *p->paths))) return tl_error_oom(err, "scan");
  tl_agree ag = {0};
  tl_status st = TL_OK;
  for (int f = 0; f < npaths && st == TL_OK; f++) {
    pq_file *pf = NULL;
    tl_table *t = NULL;
    if (!(p->paths[f] = tl_strdup(paths[f]))) { st = tl_error_oom(err, "scan"); break; }
    p->nfiles++;
    st = pq_file_open(paths[f], &pf, err);
    if (st == TL_OK) {
      p->total += pq_file_bytes(pf);
      st = pq_file_schema(pf, &t, err);
    }
    if (st == TL_OK) st = tl_agree_add(&ag, f, paths[f], paths[0], t, 0, err);
    tl_table_release(t);
    pq_file_close(pf);
  }
  if (st == TL_OK) st = tl_agree_schema(&ag, schema, err);
  tl_agree_free(&ag);
  return st;
}

tl_status tl_source_parquet(int npaths, const char *const *paths, tl_source **out,
                            tl_error *err) {
  *out = NULL;
  if (npaths < 1) return tl_error_set(err, TL_EINVAL, "scan: no files");
  tl_source *s = tl_calloc(1, sizeof *s);
  pqsrc *p = tl_calloc(1, sizeof *p);
  if (!s || !p) { tl_free(s); tl_free(p); return tl_error_oom(err, "scan"); }
  s->kind = &parquet_kind;
  s->impl = p;
  atomic_init(&s->refs, 1);
  tl_status st = p_init(p, npaths, paths, &s->schema, err);
  if (st != TL_OK) { tl_table_release(s->schema); p_free(s); return st; }
  *out = s;
  return TL_OK;
}
