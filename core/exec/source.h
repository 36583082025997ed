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
} tl_source_want;

typedef struct tl_source_kind {
  const char *name;             /* "csv", "table": for explain */
  /* Cuts the input into *nmorsels morsels for one run; *run holds what the
  ** reads need (freed by close, also after an error). */
  tl_status (*open)(const tl_source *src, const tl_source_want *want, void **run,
                    int64_t *nmorsels, tl_error *err);
  /* Morsel k as a table of the wanted columns; thread-safe for distinct k. */
  tl_status (*read)(const tl_source *src, void *run, int64_t k, tl_table **out,
                    tl_error *err);
  void (*close)(void *run);
  /* One line for explain: what is read ("csv: 3 files, 1.2 GB"). */
  void (*describe)(const tl_source *src, tl_textbuf *tb);
  void (*free)(tl_source *src);
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

/* source_csv.c, source_table.c */
tl_status tl_source_csv(int npaths, const char *const *paths, const tl_scan_options *opts,
                        tl_source **out, tl_error *err);
tl_status tl_source_table(const tl_table *t, tl_source **out, tl_error *err);

#endif
