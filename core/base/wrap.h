/*
** wrap.h -- columns over foreign memory (internal to the core).
*/
#ifndef TL_WRAP_H
#define TL_WRAP_H

#include "tally/tally.h"

/* Whether the plain string column d has no nulls and no repeated value:
** 1 yes, 0 no; TL_ENOMEM as -1. */
int tl_dict_is_valid(const tl_column *d);

#endif
