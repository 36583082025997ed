/*
** table.h -- the table's storage (internal to the core).
*/
#ifndef TL_TABLE_H
#define TL_TABLE_H

#include <stdatomic.h>

#include "tally/tally.h"

struct tl_table {
  atomic_long refs;
  int ncol;
  int64_t nrows;
  char **names;
  tl_column **cols;
};

/* Takes ownership of `names` (tl_alloc'd strings in a tl_alloc'd array) and of
** one reference of each column: on error they are released too. */
tl_status tl_table_adopt(int ncol, char **names, tl_column **cols, tl_table **out,
                         tl_error *err);

/* Rows `rows[0..n)` (0-based, in range) of c, gathered into a new column;
** a negative index gives a null. */
tl_status tl_column_take(const tl_column *c, const int64_t *rows, int64_t n, tl_column **out,
                         tl_error *err);
/* Rows of several tables with the same columns (names and types, in the
** same order), gathered: row k of the result is row row[k] of
** parts[part[k]] (both in range). A string column stays dictionary-encoded
** when every part shares one dictionary. The merges of an external sort. */
tl_status tl_table_gather(int n, const tl_table *const *parts, const int32_t *part,
                          const int64_t *row, int64_t m, tl_table **out, tl_error *err);
/* tl_table_concat of tables the caller holds and drops after: the columns
** of those no one else holds are let go as the result's are made, so that a
** gather holds its result and one column's inputs, not all of both. The
** tables are only fit to be released after, even on error. */
tl_status tl_table_concat_consume(int n, tl_table *const *tables, tl_table **out,
                                  tl_error *err);
/* The index of column `name`, or an "unknown column" error for `op` that
** suggests the closest name. */
tl_status tl_table_lookup(const tl_table *t, const char *name, const char *op, int *j,
                          tl_error *err);

#endif
