/*
** fuzz_table.h -- a table built from fuzz bytes, for the writers' round
** trips: the first byte gives the number of columns, the second the rows,
** then each column takes a byte for its type and its values come from the
** bytes that follow (zeros once they run out). A value byte's low bit makes
** the row null where its column can hold nulls. Strings are short and
** mostly from a small alphabet (so that writers dictionary-encode them),
** sometimes raw bytes (which may not be UTF-8: a writer must refuse those
** with an error); a dictionary column has up to 8 entries.
*/
#ifndef TALLY_FUZZ_TABLE_H
#define TALLY_FUZZ_TABLE_H

#include "fuzz.h"

typedef struct fuzz_in { const uint8_t *p; size_t n, at; } fuzz_in;

static inline uint8_t fuzz_byte(fuzz_in *in) { return in->at < in->n ? in->p[in->at++] : 0; }

static inline uint64_t fuzz_u64(fuzz_in *in) {
  uint64_t v = 0;
  for (int k = 0; k < 8; k++) v |= (uint64_t)fuzz_byte(in) << (8 * k);
  return v;
}

static inline tl_status fuzz_value(tl_builder *b, tl_type type, int raw, fuzz_in *in,
                                   tl_error *err) {
  uint8_t h = fuzz_byte(in);
  if (h & 1) return tl_builder_append_null(b, err);
  switch (type) {
    case TL_BOOL: return tl_builder_append_bool(b, (h >> 1) & 1, err);
    case TL_INT: return tl_builder_append_int(b, (int64_t)fuzz_u64(in), err);
    case TL_TIMESTAMP: return tl_builder_append_timestamp(b, (int64_t)fuzz_u64(in), err);
    case TL_DATE: return tl_builder_append_date(b, (int32_t)fuzz_u64(in), err);
    case TL_FLOAT: {
      uint64_t u = fuzz_u64(in);
      double d;
      memcpy(&d, &u, sizeof d);
      return tl_builder_append_float(b, d, err);
    }
    default: {
      char s[16];
      size_t len = (h >> 1) % 16;
      for (size_t k = 0; k < len; k++) {
        uint8_t c = fuzz_byte(in);
        s[k] = raw ? (char)c : "abcdefgh"[c % (h & 2 ? 2 : 8)];
      }
      return tl_builder_append_string(b, s, len, err);
    }
  }
}

static void fuzz_free_codes(void *ctx) { free(ctx); }

/* A dictionary column of n rows with up to 8 entries "d0".."d7". */
static inline tl_status fuzz_dict_column(int64_t n, fuzz_in *in, tl_column **out,
                                         tl_error *err) {
  int k = 1 + fuzz_byte(in) % 8;
  tl_builder *b;
  tl_column *dict;
  if (tl_builder_new(TL_STRING, k, &b, err) != TL_OK) return err->code;
  for (int i = 0; i < k; i++) {
    char s[3] = { 'd', (char)('0' + i), 0 };
    if (tl_builder_append_string(b, s, 2, err) != TL_OK) { tl_builder_free(b); return err->code; }
  }
  if (tl_builder_finish(b, &dict, err) != TL_OK) return err->code;
  /* codes and validity in one block, freed when the column goes */
  int32_t *codes = calloc((size_t)n + 1 + ((size_t)n / 8 + 8) / 4, sizeof *codes);
  uint8_t *valid = codes ? (uint8_t *)(codes + n + 1) : NULL;
  int nulls = 0;
  for (int64_t i = 0; codes && i < n; i++) {
    uint8_t h = fuzz_byte(in);
    if (h & 1) { nulls = 1; continue; }
    codes[i] = (h >> 1) % k;
    valid[i / 8] |= (uint8_t)(1u << (i % 8));
  }
  tl_status st = codes ? tl_column_wrap_dictionary(n, codes, dict, nulls ? valid : NULL,
                                                   fuzz_free_codes, codes, out, err)
                       : TL_ENOMEM;
  if (st != TL_OK) free(codes);
  tl_column_release(dict);
  return st;
}

/* The table of the bytes; TL_OK or the builder's error. */
static inline tl_status fuzz_table(const uint8_t *data, size_t size, tl_table **out,
                                   tl_error *err) {
  static const tl_type types[] = { TL_BOOL, TL_INT, TL_FLOAT, TL_STRING, TL_DATE,
                                   TL_TIMESTAMP, TL_STRING, TL_STRING };
  fuzz_in in = { data, size, 0 };
  int ncol = 1 + fuzz_byte(&in) % 6;
  int64_t n = fuzz_byte(&in);
  tl_column *cols[6] = { 0 };
  const char *names[6] = { "a", "b", "c", "d", "e", "f" };
  tl_status st = TL_OK;
  for (int j = 0; j < ncol && st == TL_OK; j++) {
    int which = fuzz_byte(&in) % 8;
    if (which == 7) { st = fuzz_dict_column(n, &in, &cols[j], err); continue; }
    tl_builder *b;
    st = tl_builder_new(types[which], n, &b, err);
    for (int64_t i = 0; st == TL_OK && i < n; i++)
      st = fuzz_value(b, types[which], which == 6, &in, err);
    if (st == TL_OK) st = tl_builder_finish(b, &cols[j], err);
    else tl_builder_free(b);
  }
  if (st == TL_OK) st = tl_table_new(ncol, names, cols, out, err);
  for (int j = 0; j < ncol; j++) tl_column_release(cols[j]);
  return st;
}

#endif
