/*
** prune.h -- skipping input by statistics (internal to exec): the filters
** pushed into a scan, cut into their conjuncts, keep those of the form
** `column op constant` (op a comparison, either side); a part of the
** input (a Parquet row group) whose statistics prove that one of them is
** never true for any of its rows is not read.
*/
#ifndef TL_EXEC_PRUNE_H
#define TL_EXEC_PRUNE_H

#include "io/parquet_file.h"
#include "tally/tally.h"

typedef struct tl_prune tl_prune;

/* The conditions of the filters, bound on `schema` (the columns read). */
tl_status tl_prune_make(int nfilters, const char *const *filters, const tl_table *schema,
                        tl_prune **out, tl_error *err);
void tl_prune_free(tl_prune *p);   /* NULL is allowed */
int tl_prune_count(const tl_prune *p);

/* The statistics of column `col`, or 0 when there are none. */
typedef int (*tl_prune_stat)(void *ud, const char *col, pq_stat *s);

/* 1 when the statistics prove that no row passes the filters. */
int tl_prune_excludes(const tl_prune *p, tl_prune_stat stat, void *ud);

#endif
