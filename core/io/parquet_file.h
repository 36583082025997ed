/*
** parquet_file.h -- a Parquet file kept open for a lazy scan (internal to
** the core): its footer decoded once, then any row group read on its own,
** from any thread, and the min/max statistics of its column chunks.
*/
#ifndef TL_PARQUET_FILE_H
#define TL_PARQUET_FILE_H

#include <stdint.h>

#include "tally/tally.h"

typedef struct pq_file pq_file;

/* Maps the file and decodes its footer; errors name the file and the part. */
tl_status pq_file_open(const char *path, pq_file **out, tl_error *err);
void pq_file_close(pq_file *f);   /* NULL is allowed */

/* Every column as a table of no rows: the types read_parquet gives; a
** nested or unsupported column is an error naming it. */
tl_status pq_file_schema(const pq_file *f, tl_table **out, tl_error *err);
int pq_file_groups(const pq_file *f);
int64_t pq_file_group_rows(const pq_file *f, int g);
int64_t pq_file_bytes(const pq_file *f);

/* Row group g's columns `cols` (by name, in this order) as a table, as
** read_parquet reads them; errors name the file, the row group, the column. */
tl_status pq_file_read_group(const pq_file *f, int g, int ncols, const char *const *cols,
                             tl_table **out, tl_error *err);
/* Rows [from, from + n) of row group g, as pq_file_read_group reads them:
** the pages before `from` are passed over by their headers, and reading
** stops at the page holding the last row, so a batch of a large row group
** costs memory in proportion to its rows. */
tl_status pq_file_read_rows(const pq_file *f, int g, int64_t from, int64_t n, int ncols,
                            const char *const *cols, tl_table **out, tl_error *err);

/* What the statistics of a column chunk prove of its values, in the tally
** type of the column (`type`): every non-null value lies in [min, max]
** (has_range), and `nulls` of the `rows` are null (-1: unknown). A float
** column's range never excludes NaN, which writers leave out of their
** statistics: its max is NaN. */
typedef struct pq_stat {
  tl_type type;
  int64_t rows, nulls;
  int has_range;
  int64_t imin, imax;            /* int, date (days), timestamp (microseconds) */
  double fmin, fmax;             /* float */
  const char *smin, *smax;       /* string: byte-wise bounds, spans of the footer */
  size_t lmin, lmax;
} pq_stat;

/* The statistics of column `col` in row group g; 0 when the file has no
** such column. */
int pq_file_stat(const pq_file *f, int g, const char *col, pq_stat *out);

#endif
