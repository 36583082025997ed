/*
** column.h -- the column's storage (internal to the core).
*/
#ifndef TL_COLUMN_H
#define TL_COLUMN_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "tally/tally.h"

#define TL_BIT_GET(bm, i) (((bm)[(i) >> 3] >> ((i) & 7)) & 1)
#define TL_BIT_SET(bm, i) ((bm)[(i) >> 3] |= (uint8_t)(1u << ((i) & 7)))
#define TL_BIT_CLEAR(bm, i) ((bm)[(i) >> 3] &= (uint8_t)~(1u << ((i) & 7)))
#define TL_BITMAP_BYTES(n) ((size_t)(((n) + 7) / 8))

/* The validity bits of rows [w, min(w + 64, end)) of bitmap vb, w a
** multiple of 64, as one word (bit k: row w + k). */
static inline uint64_t tl_bitmap_word(const uint8_t *vb, int64_t w, int64_t end) {
  int64_t e = w + 64 < end ? w + 64 : end;
  uint64_t m = 0;
  for (int64_t b = 0; b < (e - w + 7) / 8; b++) m |= (uint64_t)vb[w / 8 + b] << (8 * b);
  if (e - w < 64) m &= ((uint64_t)1 << (e - w)) - 1;
  return m;
}

/* Runs the statements for every valid row `i` in [a, b) of bitmap vb (NULL:
** every row), in order, reading the bitmap 64 rows at a time: full words
** take a plain loop. */
#define TL_FOR_VALID_RANGE(vb, a, b, i, ...) do { \
    const uint8_t *vb_ = (vb); \
    int64_t a_ = (a), b_ = (b); \
    if (!vb_) { \
      for (int64_t i = a_; i < b_; i++) { __VA_ARGS__; } \
    } else { \
      for (int64_t w_ = a_ & ~(int64_t)63; w_ < b_; w_ += 64) { \
        uint64_t m_ = tl_bitmap_word(vb_, w_, b_); \
        if (w_ < a_) m_ &= ~(uint64_t)0 << (a_ - w_); \
        if (m_ == ~(uint64_t)0) { \
          for (int64_t i = w_; i < w_ + 64; i++) { __VA_ARGS__; } \
        } else { \
          while (m_) { \
            int64_t i = w_ + __builtin_ctzll(m_); \
            m_ &= m_ - 1; \
            __VA_ARGS__; \
          } \
        } \
      } \
    } \
  } while (0)

/* The same over every row of column c. */
#define TL_FOR_VALID(c, i, ...) TL_FOR_VALID_RANGE((c)->validity, 0, (c)->length, i, __VA_ARGS__)

/* 128-bit integers for exact sums (gcc and clang). */
__extension__ typedef __int128 tl_i128;

/* Values under null rows. The slot of a null row in `values` may hold
** anything: zero where tally's builders left it, but whatever a mapped Arrow
** or table file, a host's wrapped buffer (tl_column_wrap, the C data
** interface) or a computed column (`x + 1` is computed for every row) put
** there: any int, a NaN or an infinity, a date or timestamp out of every
** range, a set bool bit. So a kernel reads a row's value only when the row
** is valid (TL_FOR_VALID, a null check first), or masks what it read with
** the validity: no sum over every slot, no hash, comparison or equality of
** a null row's value, no error (overflow, range) raised for a null row.
** Writers that copy buffers whole (Arrow, save, the C data interface) copy
** the slots as they are, under the same nulls. Two things do stay fixed for
** null rows: a dictionary column's code is 0 (codes index the dictionary
** unchecked), and a string column's offsets are ordered and inside `bytes`
** (the text of a null row may be anything). The reader of tests/lua/
** test_arrow_garbage.lua checks every verb against this. */
struct tl_column {
  atomic_long refs;
  tl_type type;
  int64_t length;
  int64_t null_count;
  uint8_t *validity;   /* bit set = valid; NULL when null_count == 0 */
  void *values;        /* int64, double, int32, bitmap, or length+1 int64 offsets */
  char *bytes;         /* string payload */
  int64_t nbytes;
  /* A dictionary-encoded string column: `values` holds int32 codes into
  ** `dict`, a plain string column of distinct values without nulls, and
  ** `bytes` is NULL. Codes of null rows are 0. */
  tl_column *dict;
  /* Who frees the buffers: NULL means each is a tl_alloc block. */
  void (*release)(void *ctx);
  void *release_ctx;
  /* Whether the memory release_ctx stands for is still as it was (a mapped
  ** file not changed since); NULL when nothing can change under it. */
  tl_status (*check)(const void *ctx, const char *op, tl_error *err);
};

/* The bits of float d as a key: -0.0 as 0.0 and every NaN as one quiet
** NaN, so that the values that group together (and hash alike) have equal
** bits. */
static inline uint64_t tl_float_key(double d) {
  uint64_t u;
  if (d != d) return 0x7ff8000000000000ULL;
  if (d == 0) d = 0;
  memcpy(&u, &d, 8);
  return u;
}

/* Bytes per value for fixed-width types (0 for bool and string). */
size_t tl_type_width(tl_type type);

/* A column of `length` rows with zeroed buffers: values, a validity bitmap
** (all valid) when `nullable`, and `nbytes` of string payload. */
tl_status tl_column_alloc(tl_type type, int64_t length, int nullable, int64_t nbytes,
                          tl_column **out, tl_error *err);

/* The same for a fixed-width type whose every value the caller writes: the
** values are not zeroed (bool bitmaps are: bits are only ever set). */
tl_status tl_column_alloc_raw(tl_type type, int64_t length, int nullable, tl_column **out,
                              tl_error *err);

/* A dictionary-encoded string column of `length` zeroed codes into `dict`
** (retained). */
tl_status tl_column_alloc_dict(tl_column *dict, int64_t length, int nullable, tl_column **out,
                               tl_error *err);

/* Recounts nulls from the validity bitmap and drops it when there are none. */
void tl_column_seal(tl_column *c);

/* The set bits among the first n of bitmap bm. */
int64_t tl_bitmap_count(const uint8_t *bm, int64_t n);

/* Three-way comparison of rows i and j of two columns of the same type;
** nulls are not handled here. */
int tl_column_compare_values(const tl_column *a, int64_t i, const tl_column *b, int64_t j);

#endif
