/*
** parquet.h -- Parquet's footer as read by parquet_meta.c, for parquet.c
** (internal to io). Only what the reader uses is kept; the rest of the
** footer is skipped field by field.
*/
#ifndef TL_PARQUET_H
#define TL_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "tally/tally.h"

/* Physical types, codecs, encodings and page types of parquet.thrift. */
enum { PQ_BOOLEAN, PQ_INT32, PQ_INT64, PQ_INT96, PQ_FLOAT, PQ_DOUBLE, PQ_BYTE_ARRAY, PQ_FLBA };
enum { PQ_UNCOMPRESSED, PQ_SNAPPY, PQ_GZIP, PQ_LZO, PQ_BROTLI, PQ_LZ4, PQ_ZSTD, PQ_LZ4_RAW };
enum { PQ_PLAIN = 0, PQ_PLAIN_DICTIONARY = 2, PQ_RLE = 3, PQ_BIT_PACKED = 4,
       PQ_RLE_DICTIONARY = 8 };
enum { PQ_DATA_PAGE = 0, PQ_INDEX_PAGE = 1, PQ_DICTIONARY_PAGE = 2, PQ_DATA_PAGE_V2 = 3 };

/* What a leaf column's values become in tally. */
typedef enum {
  PK_BOOL, PK_INT, PK_UINT32, PK_UINT64, PK_FLOAT, PK_DATE, PK_TS_MS, PK_TS_US, PK_TS_NS,
  PK_DECIMAL, PK_STRING
} pq_kind;

/* A top-level field of the schema: a flat column, or a nested one (a
** group or a repeated field) that spans `nleaves` leaf columns. */
typedef struct pq_field {
  char *name;
  int nested;
  int nleaves;
  int leaf;            /* index of its first leaf column */
  int32_t type, type_length, repetition, converted, scale, precision;
  /* the logical type when the writer gave one: its union member (1 STRING,
  ** 5 DECIMAL, 6 DATE, 8 TIMESTAMP, 10 INTEGER, ...), 0 when absent */
  int logical;
  int ts_unit;         /* 1 millis, 2 micros, 3 nanos */
  int int_bits, int_signed;
} pq_field;

typedef struct pq_chunk {
  int32_t type, codec;
  int64_t num_values, data_offset, dict_offset, compressed_size;
  int has_meta;
  /* Statistics, spans of the footer (NULL: absent): min_value and max_value,
  ** or, when only they are there, the deprecated min and max (legacy: their
  ** order is signed, which is right for numbers only). */
  const uint8_t *smin, *smax;
  uint32_t smin_len, smax_len;
  int legacy;
  int64_t null_count;  /* -1: unknown */
} pq_chunk;

typedef struct pq_group {
  int64_t num_rows;
  int nchunks;
  pq_chunk *chunks;    /* one per leaf column */
} pq_group;

typedef struct pq_meta {
  int nfields;
  pq_field *fields;
  int nleaves;
  int64_t num_rows;
  int ngroups;
  pq_group *groups;
} pq_meta;

/* Reads the FileMetaData in [data, data + len) into *m. On failure sets
** *msg to a fixed text and *where to the offset inside the footer. */
int pq_meta_read(const uint8_t *data, size_t len, pq_meta *m, const char **msg, size_t *where);
void pq_meta_free(pq_meta *m);

#endif
