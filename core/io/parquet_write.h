/*
** parquet_write.h -- what the Parquet writer's files share (internal to
** io): one column chunk, encoded by parquet_chunk.c into memory (its pages
** with their headers, compressed), placed in the file and described in the
** footer by parquet_write.c.
*/
#ifndef TL_PARQUET_WRITE_H
#define TL_PARQUET_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "tally/tally.h"

/* Pages hold at most this many rows, and plain string pages about this
** many bytes of values. */
#define PQW_PAGE_ROWS (1 << 17)
#define PQW_PAGE_BYTES (1 << 20)
/* A string longer than this is left out of the statistics (min and max
** are then not written). */
#define PQW_STAT_MAX 4096

typedef struct pqw_chunk {
  /* in */
  const tl_column *col;
  const char *file, *name;          /* for messages */
  int group;                        /* row group index, for messages */
  int64_t row0, nrows;
  int codec;                        /* PQ_UNCOMPRESSED, PQ_SNAPPY, ... */
  /* out: the pages, headers included */
  uint8_t *buf;
  size_t len, cap;
  int64_t uncompressed;             /* the pages' size before compression, headers included */
  size_t data_off;                  /* where the first data page starts in buf */
  int has_dict;
  int64_t null_count;
  int has_minmax;
  uint8_t min[PQW_STAT_MAX], max[PQW_STAT_MAX];
  size_t min_len, max_len;
  tl_status st;
  tl_error err;
} pqw_chunk;

/* Encodes the chunk; c->st and c->err say how it went. Frees nothing on
** failure: pqw_chunk_free does. */
void pqw_chunk_encode(pqw_chunk *c);
void pqw_chunk_free(pqw_chunk *c);

/* Parquet's physical type of a tally type. */
int pqw_physical(tl_type type);

#endif
