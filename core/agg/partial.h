/*
** partial.h -- partial aggregation states: made over ranges of rows, merged
** in range order, finished into columns (internal to the core).
*/
#ifndef TL_PARTIAL_H
#define TL_PARTIAL_H

#include <stdint.h>

#include "tally/tally.h"

/* Rows per range of an aggregation scan; n <= 0 goes back to the default.
** The ranges never depend on the number of threads and their states are
** merged in range order, so neither do the results. A knob for tests, which
** run the same query at several range sizes. */
void tl_group_set_range_rows(int64_t n);
int64_t tl_group_range_rows(void);

/* What names the groups of a run in messages: the key columns and, per
** group, the row that holds its key (rows NULL: row g is group g's). */
struct tl_agg_keys {
  int nkeys;
  const char *const *names;
  tl_column *const *cols;
  const int64_t *rows;
};

/* The groups of the rows of a table (all of them, or those of a
** selection), as a scan needs them: per row its group in `gid`; or, for one dictionary-encoded key, cmap[code] (the
** null rows: cmap[dictionary length]); or, with neither, every row in
** group 0. */
typedef struct tl_rowgroups {
  const tl_table *t;
  int64_t n;               /* rows */
  const int64_t *sel;      /* row i is t's row sel[i] (ascending); NULL: row i */
  int64_t ng;
  const int32_t *gid;
  const tl_column *codes;
  const int32_t *cmap;
  tl_agg_keys keys;
} tl_rowgroups;

/* The partial states of the definitions over the rows of rg->t. `direct`:
** for a result made at once (tl_partial_finish_ex with consume), so host
** aggregates run to their results and need no save, load or merge. The
** partial has no keys yet: tl_partial_set_keys gives them. */
tl_status tl_partial_make(const tl_rowgroups *rg, int n, const char *const *defs,
                          const tl_scope *scope, int direct, tl_partial **out,
                          tl_error *err);
/* Takes a reference to `keys` (one row per group; NULL: none, one group). */
void tl_partial_set_keys(tl_partial *p, tl_table *keys);
/* tl_partial_finish; `consume` lets it reuse the states' memory, after
** which p may only be freed. */
tl_status tl_partial_finish_ex(tl_partial *p, int consume, tl_table **out, tl_error *err);

/* tl_partial_encode's bytes, handed to `put` in pieces of a few hundred kB
** as they are made rather than gathered: for a partial written to a file.
** An error of put's is returned as it is. */
tl_status tl_partial_write(const tl_partial *p,
                           tl_status (*put)(void *ud, const void *b, size_t n, tl_error *err),
                           void *ud, tl_error *err);

/* tl_partial_decode of buf (a tl_alloc'd block, taken whatever happens)
** without copying it: the string states point into it. */
tl_status tl_partial_decode_taken(void *buf, size_t len, const tl_scope *scope, tl_partial **out,
                                  tl_error *err);

/* Frees what the partial's bound definitions hold to be evaluated (made
** again by finishing): for partials kept a while, as a scan's. */
void tl_partial_trim(tl_partial *p);

/* Writes "name = value, ..." for row `row` of the key columns: strings,
** dates and timestamps quoted, nulls as null. Returns the full length. */
size_t tl_key_text(int nkeys, const char *const *names, tl_column *const *cols, int64_t row,
                   char *buf, size_t size);

#endif
