/*
** fuzz.h -- what the fuzz targets share: the libFuzzer entry point, a
** table comparison, and a check that stops the run loudly (a fuzzer counts
** an abort as a finding).
*/
#ifndef TALLY_FUZZ_H
#define TALLY_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally/tally.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...) do { \
    if (!(cond)) { fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } \
  } while (0)

/* Reads every value of every column, so that a bad offset or a code out of
** its dictionary shows up under the sanitizers. */
static inline void fuzz_touch(const tl_table *t) {
  volatile size_t sink = 0;
  for (int j = 0; j < tl_table_ncols(t); j++) {
    const tl_column *c = tl_table_column(t, j);
    sink += strlen(tl_table_name(t, j));
    for (int64_t i = 0; i < tl_column_length(c); i++) {
      tl_scalar v;
      tl_column_get(c, i, &v);
      if (!v.is_null && v.type == TL_STRING && v.v.s.len) sink += (unsigned char)v.v.s.ptr[v.v.s.len - 1];
      char buf[64];
      sink += tl_scalar_format(&v, buf, sizeof buf);
    }
  }
  (void)sink;
}

/* 1 when a and b hold the same names, types and values (NaN equals NaN). */
static inline int fuzz_same(const tl_table *a, const tl_table *b) {
  if (tl_table_ncols(a) != tl_table_ncols(b) || tl_table_nrows(a) != tl_table_nrows(b))
    return 0;
  for (int j = 0; j < tl_table_ncols(a); j++) {
    const tl_column *x = tl_table_column(a, j), *y = tl_table_column(b, j);
    if (strcmp(tl_table_name(a, j), tl_table_name(b, j)) != 0) return 0;
    if (tl_column_type(x) != tl_column_type(y)) return 0;
    if (tl_column_null_count(x) != tl_column_null_count(y)) return 0;
    for (int64_t i = 0; i < tl_column_length(x); i++) {
      tl_scalar u, v;
      tl_column_get(x, i, &u);
      tl_column_get(y, i, &v);
      if (u.is_null != v.is_null) return 0;
      if (u.is_null) continue;
      switch (u.type) {
        case TL_BOOL: if (!u.v.b != !v.v.b) return 0; break;
        case TL_INT: case TL_TIMESTAMP: if (u.v.i != v.v.i) return 0; break;
        case TL_DATE: if (u.v.d != v.v.d) return 0; break;
        case TL_FLOAT:
          if (u.v.f != v.v.f && !(u.v.f != u.v.f && v.v.f != v.v.f)) return 0;
          break;
        case TL_STRING:
          if (u.v.s.len != v.v.s.len ||
              (u.v.s.len && memcmp(u.v.s.ptr, v.v.s.ptr, u.v.s.len) != 0)) return 0;
          break;
      }
    }
  }
  return 1;
}

#endif
