/*
** spill.h -- temporary files for the steps of a scan that pass the memory
** limit (internal to exec): the partitions of a grouping (spill_agg.c) and
** the sorted runs of an external sort (xsort.c).
**
** A spill file is made in the env's temporary directory (tl_env_tmpdir:
** TALLY_TEMP_DIRECTORY, else $TMPDIR, else /tmp) and unlinked at once, so
** nothing is left behind whatever ends the process: success, an error, an
** interrupt or a crash. It is written in blocks (a length, then bytes) and
** read back block by block from the start.
*/
#ifndef TL_EXEC_SPILL_H
#define TL_EXEC_SPILL_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "tally/tally.h"

/* What the spill files of one run share, for messages: the operation and
** the bytes written so far over all its files. */
typedef struct tl_spiller {
  const char *op;
  atomic_llong written;    /* files of one spiller may be written on */
  atomic_int files;        /* several threads at once */
} tl_spiller;

typedef struct tl_spill {
  FILE *f;
  char *path;              /* where it was made (unlinked), for messages */
  tl_spiller *by;
  int64_t bytes;           /* written to this file */
  int64_t at;              /* where the block being written began (tl_spill_begin) */
  int reading;
} tl_spill;

tl_status tl_spill_open(tl_spiller *by, tl_spill **out, tl_error *err);
void tl_spill_close(tl_spill *f);                       /* NULL is allowed */
/* One block of n bytes. */
tl_status tl_spill_put(tl_spill *f, const void *p, size_t n, tl_error *err);
/* One block written in pieces: begun, its bytes in any number of writes,
** ended (which writes its length where it began). */
tl_status tl_spill_begin(tl_spill *f, tl_error *err);
tl_status tl_spill_write(tl_spill *f, const void *p, size_t n, tl_error *err);
tl_status tl_spill_end(tl_spill *f, tl_error *err);
/* The next block (tl_alloc'd, to free), or *p = NULL at the end. */
tl_status tl_spill_get(tl_spill *f, void **p, size_t *n, tl_error *err);

/* Tables as blocks, without their names (the reader gives them), a column
** at a time; a block read back that is not as written (a damaged file) is
** an I/O error naming the operation and the file. */
tl_status tl_spill_put_table(tl_spill *f, const tl_table *t, tl_error *err);
/* Rows [at, at + n) of t as one block, without a copy of the table. */
tl_status tl_spill_put_rows(tl_spill *f, const tl_table *t, int64_t at, int64_t n,
                            tl_error *err);
tl_status tl_spill_get_table(tl_spill *f, const tl_table *schema, tl_table **out,
                             tl_error *err);

/* The bytes of live blocks past which a scan that started with `base`
** bytes live spills, keeping `share` of what is left under the limit for
** that; 0 when the env has no limit. */
int64_t tl_spill_threshold(int64_t base, double share);

/* A column name (tl_alloc'd) that neither a nor b has: stem, or stem_0 ... */
char *tl_fresh_name(const tl_table *a, const tl_table *b, const char *stem);

/* For tests: the k-th spill block written from now on (k >= 1) fails as if
** the disk were full (ENOSPC); 0: none. tl_spill_blocks counts the blocks
** written since the process started. */
void tl_spill_fail_block(int64_t k);
int64_t tl_spill_blocks(void);

#endif
