/*
** source.h -- where a lazy scan's rows come from (internal to exec).
**
** A source knows its schema when it is made and cuts its input into
** morsels when a run opens it: byte ranges of CSV files, row slices of a
** table (a Parquet source would cut at row groups). Morsels are numbered in
** the input's order and read independently, from any worker thread, each
** into a table of the columns the plan needs. Adding a kind of source is
** one file: a tl_source_kind and a constructor.
*/
#ifndef TL_EXEC_SOURCE_H
#define TL_EXEC_SOURCE_H

#include <stdatomic.h>

#include "base/textbuf.h"
#include "tally/tally.h"

typedef struct tl_source tl_source;

/* What a run asks of its source. */
typedef struct tl_source_want {
  int ncols;                    /* the columns to read, of the schema, in its order */
  const char *const *cols;
  int64_t morsel_bytes;         /* test knobs (testing.h); 0: default */
  int64_t batch_rows;
  int nfilters;                 /* the filters pushed into the scan, over the columns */
  const char *const *filters;   /* read: a source may skip input none of whose rows
                                ** passes them (Parquet row groups by statistics) */
} tl_source_want;

typedef struct tl_source_kind {
  const char *name;             /* "csv", "table": for explain */
  /* Cuts the input into *nmorsels morsels for one run; *run holds what the
  ** reads need (freed by close, also after an error). *nmorsels -1: not
  ** known before the input is read (a compressed stream); then read sets
  ** *out to NULL for the morsels past the end. */
  tl_status (*open)(const tl_source *src, const tl_source_want *want, void **run,
                    int64_t *nmorsels, tl_error *err);
  /* Morsel k as a table of the wanted columns; thread-safe for distinct k. */
  tl_status (*read)(const tl_source *src, void *run, int64_t k, tl_table **out,
                    tl_error *err);
  void (*close)(void *run);
  /* One line for explain: what is read ("csv: 3 files, 1.2 GB"). */
  void (*describe)(const tl_source *src, tl_textbuf *tb);
  void (*free)(tl_source *src);
  /* Lines for explain about what a run with `want` reads (NULL: none). */
  void (*explain)(const tl_source *src, const tl_source_want *want, tl_textbuf *tb);
} tl_source_kind;

struct tl_source {
  const tl_source_kind *kind;
  atomic_long refs;
  tl_table *schema;             /* no rows: the names and types */
  void *impl;
  /* Optional: the bytes of input that morsel k of a run covers, for the
  ** progress of the run; NULL: the progress counts morsels. */
  int64_t (*bytes)(const tl_source *src, void *run, int64_t k);
  /* Optional, for messages: the number (0-based) of morsel k's first row
  ** in its file or table; *file the file's name (NULL: a table) and *line
  ** the line the morsel starts at (0: the file's start). NULL: row 0. */
  int64_t (*place)(const tl_source *src, void *run, int64_t k, const char **file,
                   int64_t *line);
};

tl_source *tl_source_retain(tl_source *s);
void tl_source_release(tl_source *s);

/* source_agree.c: the schema the files of a scan agree on (see there). */
typedef struct tl_agree {
  int ncol;
  char **names;
  tl_type *types;
  uint8_t *seen;                /* a value of the column was seen (CSV samples) */
} tl_agree;

/* Folds file f's columns (t: a sample when `sampled`, else a schema) into
** the schema of the files before it; path0 is the first file. */
tl_status tl_agree_add(tl_agree *a, int f, const char *path, const char *path0,
                       const tl_table *t, int sampled, tl_error *err);
void tl_agree_free(tl_agree *a);
/* The agreed schema as a table of no rows. */
tl_status tl_agree_schema(const tl_agree *a, tl_table **out, tl_error *err);
/* *t, read from `path` (replaced) with its int columns that are float in
** `schema` widened; a column of another type than the schema's (the file
** changed since the scan was made) is an error naming the file. */
tl_status tl_agree_widen(const tl_table *schema, const char *path, tl_table **t, tl_error *err);

/* source_csv.c: CSV reading options with what they point to copied into
** *nulls (o->nnulls strings) and *comment, which the caller frees. */
tl_status tl_csv_options_dup(tl_csv_options *o, char ***nulls, char **comment,
                             const tl_csv_options *from, tl_error *err);

/* csv_count.c: the data records of a CSV file found, none read, in spans
** of `span` bytes (0: the default) on the workers: *start the first one's
** byte, *records their number, and when cuts is not NULL *cuts (tl_free)
** the first record start of each span that has one: its byte, line and
** record number (from 1), *ncuts of them, the first at *start. *exact 0
** when a '"' that does not belong to a quoted field (or an empty file)
** means they cannot be trusted, or when a record has not ncol fields or is
** longer than max_field_size, which read_csv reports (*cuts NULL): the
** tokenizer must read it. */
typedef struct tl_csv_span_cut { int64_t start, line, record; } tl_csv_span_cut;
tl_status tl_csv_find_records(const char *path, const tl_csv_options *o, int ncol,
                              int64_t span, int64_t *start, int64_t *records,
                              tl_csv_span_cut **cuts, int64_t *ncuts, int *exact, tl_error *err);

/* source_csv.c: whether src is a CSV file source (not a compressed one),
** whose runs read the columns their want names at each read. */
int tl_source_is_csv(const tl_source *src);
/* source_parquet.c: whether src is a Parquet source (its runs, too, read
** the columns their want names at each read). */
int tl_source_is_parquet(const tl_source *src);
/* Rows `rows` (n of them, ascending, counted from the morsel's first) of
** morsel k of a run of Parquet source src, as its read gives them after a
** take, with only the row ranges that hold them read. */
tl_status tl_source_parquet_take(const tl_source *src, void *run, int64_t k,
                                 const int64_t *rows, int64_t n, tl_table **out, tl_error *err);

/* source_csv.c, source_table.c, source_parquet.c, source_csvz.c (compressed
** CSV, streamed); source_files.c picks one by the files' contents. */
tl_status tl_source_csv(int npaths, const char *const *paths, const tl_scan_options *opts,
                        tl_source **out, tl_error *err);
tl_status tl_source_table(const tl_table *t, tl_source **out, tl_error *err);
tl_status tl_source_parquet(int npaths, const char *const *paths, tl_source **out,
                            tl_error *err);
tl_status tl_source_csvz(int npaths, const char *const *paths, const tl_scan_options *opts,
                         tl_source **out, tl_error *err);

#endif
