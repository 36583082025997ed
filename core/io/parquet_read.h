/*
** parquet_read.h -- what the parts of read_parquet share (internal to io):
** parquet.c (the file, the tasks, the assembly of the columns),
** parquet_page.c (one column chunk: pages, codecs, levels, values out) and
** parquet_enc.c (the value encodings).
*/
#ifndef TL_PARQUET_READ_H
#define TL_PARQUET_READ_H

#include <stddef.h>
#include <stdint.h>

#include "base/column.h"
#include "base/error.h"
#include "base/mapfile.h"
#include "io/parquet.h"

#define PQ_OP "read_parquet"

/* Encodings past those of parquet.h. */
enum { PQ_DELTA_BINARY_PACKED = 5, PQ_DELTA_LENGTH_BYTE_ARRAY = 6, PQ_DELTA_BYTE_ARRAY = 7,
       PQ_BYTE_STREAM_SPLIT = 9 };

/* Kinds past those of pq_kind: INT96 timestamps, decimals held as big-endian
** bytes (FIXED_LEN_BYTE_ARRAY or BYTE_ARRAY). */
enum { PK_INT96 = PK_STRING + 1, PK_DECIMAL_BYTES };

/* One value as the page holds it, before conversion: integers (INT32
** sign-extended, BOOLEAN 0/1) in i, FLOAT and DOUBLE in f, byte arrays as a
** span of the page, the dictionary or a scratch buffer. */
typedef union pv {
  int64_t i;
  double f;
  struct { const uint8_t *p; uint32_t n; } s;
} pv;

/* The scratch buffers of a task: a decompressed page, its levels, its
** values, its indices, integers of a delta encoding. */
enum { PQ_SC_PAGE, PQ_SC_DEF, PQ_SC_VALS, PQ_SC_IDX, PQ_SC_INTS, PQ_NSCRATCH };

/* A selected column, shared by its tasks (one per row group). */
typedef struct pq_col {
  const pq_field *f;
  int kind;                 /* pq_kind or PK_INT96 / PK_DECIMAL_BYTES */
  tl_type type;
  tl_column *col;           /* the result; fixed-width ones are written in place;
                               for strings, int32 codes until the columns are joined */
} pq_col;

/* One task: column `c` of row group `group`, rows [row0, row0 + nrows) of
** the table. Fixed-width values go straight into c->col; validity and
** booleans into bitmaps of the task's rows; strings into the task's own
** offsets and bytes, or, while every page is dictionary-encoded, into
** int32 codes of the chunk's dictionary. */
typedef struct pq_task {
  const char *file;
  const uint8_t *data;
  size_t footer;            /* the column chunks lie in [4, footer) */
  const pq_group *g;
  pq_col *c;
  int group, page;          /* page: the page being read, -1 outside one */
  int64_t row0, nrows;
  int64_t skip;             /* rows of the chunk before the task's first (a scan's
                               batch of a row group): their pages are passed over */
  uint8_t *valid;           /* validity of the task's rows (NULL: not nullable) */
  uint8_t *bools;           /* a bool column's values */
  int64_t *offs;            /* string output: nrows + 1 offsets and the bytes */
  char *bytes;
  int64_t nbytes, cap;
  int32_t *codes;           /* dictionary output: codes into dict, the task's rows of
                               the column's codes (not owned) */
  const tl_mapfile *map;    /* read_parquet's own mapping of the file, or NULL:
                               a chunk's pages are dropped from memory once read */
  int dict_mode;            /* 1 while the strings are kept as codes */
  pv *dict;                 /* the chunk's dictionary and its buffers */
  int64_t ndict;
  uint8_t *dict_buf;        /* the decompressed dictionary page */
  uint8_t *dict_scratch;    /* its values when an encoding had to build them */
  void *scratch[PQ_NSCRATCH];   /* buffers reused from page to page */
  size_t scratch_cap[PQ_NSCRATCH];
  tl_status st;
  tl_error *err;            /* where a failure is told, while the task runs */
} pq_task;

/* Frees the task's page buffers (parquet_page.c). */
void pq_scratch_free(pq_task *t);

/* Files whose column chunks take fewer bytes are read on the calling thread
** alone (the tests lower it to run the threads on small files). */
extern size_t pq_small_file;

/* "read_parquet: f.parquet: row group 2, column 'x', page 3: <what>" */
tl_status pq_fail(pq_task *t, tl_status code, const char *fmt, ...) TL_PRINTF(3, 4);

const char *pq_encoding_name(int32_t e);
const char *pq_physical_name(int32_t t);

/* parquet.c's steps, for parquet_file.c: the footer of the file in
** [d, d + len) into *m (freed on failure) with where the data ends; the
** kind and tally type of a field; the fields that options select; and
** the selected fields of every row group of m (numbered from group0 in
** messages) read into a table. */
tl_status pq_footer(const char *name, const uint8_t *d, size_t len, pq_meta *m,
                    size_t *data_end, tl_error *err);
tl_status pq_field_kind(const char *file, const pq_field *f, int *kind, tl_type *type,
                        tl_error *err);
tl_status pq_select_fields(const char *name, const pq_meta *m, const tl_parquet_options *o,
                           int *sel, int *nsel, tl_error *err);
/* The fields sel[0 .. nsel) of the row groups of m (the first of them the
** file's row group group0, for the messages); `map`: the mapping d is in,
** whose pages are dropped once read, or NULL. take >= 0: m has one row
** group, of which rows [skip, skip + take) are read (m->num_rows is take);
** take < 0: every row. */
tl_status pq_read_columns(const char *name, const uint8_t *d, size_t data_end,
                          const tl_mapfile *map, const pq_meta *m, int group0, const int *sel,
                          int nsel, int64_t skip, int64_t take, tl_table **out,
                          tl_error *err);

/* Reads the task's column chunk into its outputs (parquet_page.c). */
tl_status pq_read_chunk(pq_task *t);

/* The encodings (parquet_enc.c). Each reads from [p, e) and returns NULL,
** or a fixed text saying what is wrong. */

/* The RLE/bit-packed hybrid: n values of bw bits (0..32) into out. */
const char *pq_rle_decode(const uint8_t *p, const uint8_t *e, int bw, int64_t n, uint32_t *out);

/* DELTA_BINARY_PACKED: n values into out (INT32 ones wrap at 32 bits when
** `is32`); *end is set past the encoded values. */
const char *pq_delta_ints(const uint8_t *p, const uint8_t *e, int64_t n, int is32,
                          int64_t *out, const uint8_t **end);

/* DELTA_LENGTH_BYTE_ARRAY: n spans of the page into out. */
const char *pq_delta_lengths(const uint8_t *p, const uint8_t *e, int64_t n, pv *out);

/* DELTA_BYTE_ARRAY: n values built in a new buffer *scratch (tl_alloc'd,
** the caller frees it) that the spans of out point into. */
const char *pq_delta_strings(const uint8_t *p, const uint8_t *e, int64_t n, pv *out,
                             uint8_t **scratch);

/* BYTE_STREAM_SPLIT of n values of `width` bytes: physical type `type`
** into out (i, f), or FIXED_LEN_BYTE_ARRAY values into *scratch. */
const char *pq_byte_stream_split(const uint8_t *p, const uint8_t *e, int64_t n, int32_t type,
                                 int width, pv *out, uint8_t **scratch);

/* PLAIN: n values of physical type `type` (FIXED_LEN_BYTE_ARRAY of `width`
** bytes) into out. */
const char *pq_plain(const uint8_t *p, const uint8_t *e, int64_t n, int32_t type, int width,
                     pv *out);

static inline uint32_t pq_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t pq_le64(const uint8_t *p) {
  return (uint64_t)pq_le32(p + 4) << 32 | pq_le32(p);
}

#endif
