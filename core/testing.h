/*
** testing.h -- the knobs the tests turn (not installed, not exported).
**
** A knob changes how the core cuts its work, never what it computes, so
** that a test can run one input across every boundary: read_csv's chunks
** and a CSV scan's morsels down to 1 byte, a table scan's batches down to
** 1 row. Knobs belong to an env, as its threads do: two hosts in one
** process never see each other's. 0 everywhere: the defaults. Two older
** knobs of the kind sit with their subsystems: tl_expr_set_vector_size
** (expr/expr.h) and tl_group_set_range_rows (agg/partial.h).
**
** The C tests include this header; the Lua tests reach it through the
** module tally.testing (bindings/lua/ltesting.c), which only the test
** runner has.
*/
#ifndef TL_TESTING_H
#define TL_TESTING_H

#include <stdint.h>

#include "tally/tally.h"

typedef enum tl_knob {
  TL_KNOB_CSV_CHUNK,      /* bytes a chunk of read_csv's first pass (4 MiB) */
  TL_KNOB_MORSEL_BYTES,   /* bytes a morsel of a CSV scan (4 MiB) */
  TL_KNOB_BATCH_ROWS,     /* rows a batch of a table scan (65536) */
  TL_KNOB_MAP_BYTES,      /* bytes from which a block of the default allocator
                          ** is a mapping of its own (2 MiB; alloc.c) */
  TL_NKNOBS
} tl_knob;

/* Sets the knob of env (NULL: the current env) to value (0 or less: the
** default); returns its previous value. */
int64_t tl_testing_set(tl_env *env, tl_knob knob, int64_t value);
/* The knob of the current env; 0: the default. */
int64_t tl_testing_get(tl_knob knob);

#endif
