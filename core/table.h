/*
** table.h -- the table's storage (internal to the core).
*/
#ifndef TL_TABLE_H
#define TL_TABLE_H

#include <stdatomic.h>

#include "tally.h"

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

#endif
