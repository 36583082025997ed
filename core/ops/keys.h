/*
** keys.h -- the keys of group_by, sort, top and distinct, where a key may
** be an expression (keys.c; internal to the core).
*/
#ifndef TL_KEYS_H
#define TL_KEYS_H

#include "tally/tally.h"

typedef struct tl_keys {
  tl_table *t;           /* the table with a column for each expression key */
  const char **keys;     /* the n keys as column names (with sort's '-') */
  char **owned;          /* what keys point into */
  const char **added;    /* the names of the columns added */
  int n, nadded;
  int hidden;            /* the added columns are dropped after (sort, top) */
} tl_keys;

/* Resolves n keys of t for operation op; signs: a leading '-' means
** descending (sort, top), and the added columns get names of their own, to
** be dropped with tl_keys_drop_added. */
tl_status tl_keys_resolve(const tl_table *t, int n, const char *const *keys, int signs,
                          const char *op, tl_keys *k, tl_error *err);
/* *t without the columns tl_keys_resolve added (replaced in place). */
tl_status tl_keys_drop_added(const tl_keys *k, tl_table **t, tl_error *err);
void tl_keys_free(tl_keys *k);

/* group.c: the group of each row of g's table (groups numbered as the rows
** of tl_grouping_agg's result), owned by g. */
tl_status tl_grouping_row_ids(tl_grouping *g, const int32_t **out, tl_error *err);
/* group.c: tl_table_group_by over rows[0 .. n) of t (ascending): the
** grouping's row i is t's row rows[i]. */
tl_status tl_group_by_rows(const tl_table *t, const int64_t *rows, int64_t n, int nkeys,
                           const char *const *keys, tl_grouping **out, tl_error *err);

#endif
