/*
** column.h -- the column's storage (internal to the core).
*/
#ifndef TL_COLUMN_H
#define TL_COLUMN_H

#include <stdatomic.h>
#include <stdint.h>

#include "tally.h"

#define TL_BIT_GET(bm, i) (((bm)[(i) >> 3] >> ((i) & 7)) & 1)
#define TL_BIT_SET(bm, i) ((bm)[(i) >> 3] |= (uint8_t)(1u << ((i) & 7)))
#define TL_BIT_CLEAR(bm, i) ((bm)[(i) >> 3] &= (uint8_t)~(1u << ((i) & 7)))
#define TL_BITMAP_BYTES(n) ((size_t)(((n) + 7) / 8))

/* Runs the statements for every valid row `i` of column c, in order, reading the
** validity bitmap 64 rows at a time: full words take a plain loop. */
#define TL_FOR_VALID(c, i, ...) do { \
    const uint8_t *vb_ = (c)->validity; \
    int64_t n_ = (c)->length; \
    if (!vb_) { \
      for (int64_t i = 0; i < n_; i++) { __VA_ARGS__; } \
    } else { \
      for (int64_t w_ = 0; w_ < n_; w_ += 64) { \
        int64_t e_ = w_ + 64 < n_ ? w_ + 64 : n_; \
        uint64_t m_ = 0; \
        for (int64_t b_ = 0; b_ < (e_ - w_ + 7) / 8; b_++) \
          m_ |= (uint64_t)vb_[w_ / 8 + b_] << (8 * b_); \
        if (e_ - w_ == 64 && m_ == ~(uint64_t)0) { \
          for (int64_t i = w_; i < e_; i++) { __VA_ARGS__; } \
        } else { \
          while (m_) { \
            int64_t i = w_ + __builtin_ctzll(m_); \
            m_ &= m_ - 1; \
            if (i >= e_) break; \
            __VA_ARGS__; \
          } \
        } \
      } \
    } \
  } while (0)

/* 128-bit integers for exact sums (gcc and clang). */
__extension__ typedef __int128 tl_i128;

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
};

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

/* Three-way comparison of rows i and j of two columns of the same type;
** nulls are not handled here. */
int tl_column_compare_values(const tl_column *a, int64_t i, const tl_column *b, int64_t j);

#endif
