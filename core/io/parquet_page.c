/*
** parquet_page.c -- one column chunk of read_parquet (one task): its pages
** one after another, each a Thrift header, a body decompressed through the
** system's codec libraries (snappy, zlib, zstd, lz4, brotli), the
** definition levels of an optional column, then the values (parquet_enc.c)
** converted to tally's types and stored at the task's rows. Strings stay
** codes into the chunk's dictionary while every page is dictionary-encoded.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <brotli/decode.h>
#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>


#include "base/alloc.h"
#include "base/parse.h"
#include "io/parquet_read.h"
#include "io/thrift.h"

#define MAX_PAGE ((size_t)1 << 30)

static const char *codec_name(int32_t c) {
  static const char *const names[] = { "UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI",
                                       "LZ4", "ZSTD", "LZ4_RAW" };
  return c >= 0 && c < 8 ? names[c] : "unknown";
}

/* ---------------------------------------------------------------------------
** Page headers.
*/

typedef struct page {
  int32_t type, usize, csize;
  int32_t nvalues, encoding, level_encoding;   /* v1 and dictionary pages */
  int32_t nnulls, nrows, def_len, rep_len;     /* v2 */
  int compressed;
  size_t header;                               /* bytes of the header */
} page;

/* The fields of DataPageHeader (v1), DictionaryPageHeader and
** DataPageHeaderV2 that the reader uses, by the header's field id. */
static int page_sub(th_reader *r, int which, page *pg) {
  th_struct s;
  int16_t id;
  uint8_t t;
  int more, b;
  if (th_begin(r, &s) < 0) return -1;
  while ((more = th_field(r, &s, &id, &t)) > 0) {
    int32_t *dst = NULL;
    if (id == 1) dst = &pg->nvalues;
    else if (which != 8 && id == 2) dst = &pg->encoding;
    else if (which == 5 && id == 3) dst = &pg->level_encoding;
    else if (which == 8 && id == 2) dst = &pg->nnulls;
    else if (which == 8 && id == 3) dst = &pg->nrows;
    else if (which == 8 && id == 4) dst = &pg->encoding;
    else if (which == 8 && id == 5) dst = &pg->def_len;
    else if (which == 8 && id == 6) dst = &pg->rep_len;
    if (dst) {
      if (th_int32_value(r, t, dst) < 0) return -1;
    } else if (which == 8 && id == 7 && th_field_bool(t, &b) == 0) {
      pg->compressed = b;
    } else if (th_skip_field(r, t) < 0) {
      return -1;
    }
  }
  return more < 0 ? -1 : th_end(r);
}

static tl_status page_header(pq_task *t, size_t pos, size_t end, page *pg) {
  th_reader rd, *r = &rd;
  th_struct s;
  int16_t id;
  uint8_t ty;
  int more, rc = 0;
  memset(pg, 0, sizeof *pg);
  pg->type = pg->usize = pg->csize = pg->nvalues = -1;
  pg->compressed = 1;
  th_init(r, t->data + pos, end - pos);
  if (th_begin(r, &s) < 0) rc = -1;
  while (rc == 0 && (more = th_field(r, &s, &id, &ty)) != 0) {
    if (more < 0) rc = -1;
    else if (id == 1) rc = th_int32_value(r, ty, &pg->type);
    else if (id == 2) rc = th_int32_value(r, ty, &pg->usize);
    else if (id == 3) rc = th_int32_value(r, ty, &pg->csize);
    else if ((id == 5 || id == 7 || id == 8) && ty == TH_STRUCT) rc = page_sub(r, id, pg);
    else rc = th_skip_field(r, ty);
  }
  if (rc < 0)
    return pq_fail(t, TL_EPARSE, "page header at byte %zu: %s", pos,
                   r->msg ? r->msg : "malformed");
  if (pg->type < 0 || pg->usize < 0 || pg->csize < 0)
    return pq_fail(t, TL_EPARSE, "page header at byte %zu: no type or size", pos);
  if ((pg->type == PQ_DATA_PAGE || pg->type == PQ_DATA_PAGE_V2 ||
       pg->type == PQ_DICTIONARY_PAGE) && pg->nvalues < 0)
    return pq_fail(t, TL_EPARSE, "page header at byte %zu: no value count", pos);
  pg->header = th_offset(r);
  if ((size_t)pg->csize > end - pos - pg->header)
    return pq_fail(t, TL_EPARSE, "page at byte %zu: its %d bytes run past the column chunk",
                   pos, (int)pg->csize);
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Codecs.
*/

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* The legacy LZ4 codec as Hadoop frames it: blocks of a big-endian
** decompressed size, a big-endian compressed size and an LZ4 block. */
static int lz4_hadoop(const uint8_t *src, size_t n, uint8_t *dst, size_t usize) {
  size_t out = 0;
  while (n >= 8) {
    uint32_t want = be32(src), len = be32(src + 4);
    src += 8;
    n -= 8;
    if (len > n || want > usize - out || len > INT32_MAX) return 0;
    int got = LZ4_decompress_safe((const char *)src, (char *)dst + out, (int)len, (int)want);
    if (got < 0 || (uint32_t)got != want) return 0;
    out += want;
    src += len;
    n -= len;
  }
  return n == 0 && out == usize;
}

static int lz4_raw(const uint8_t *src, size_t n, uint8_t *dst, size_t usize) {
  if (n > INT32_MAX || usize > INT32_MAX) return 0;
  int got = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)usize);
  return got >= 0 && (size_t)got == usize;
}

static int gunzip(const uint8_t *src, size_t n, uint8_t *dst, size_t usize) {
  z_stream z;
  int ok = 0;
  memset(&z, 0, sizeof z);
  if (n > UINT32_MAX || inflateInit2(&z, 15 + 32) != Z_OK) return 0;
  z.next_in = (Bytef *)src;
  z.avail_in = (uInt)n;
  z.next_out = dst;
  z.avail_out = (uInt)usize;
  ok = inflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out == usize;
  inflateEnd(&z);
  return ok;
}

/* A scratch buffer of at least `bytes`, its contents lost; NULL when out
** of memory. */
static void *buffer(pq_task *t, int slot, size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (bytes > t->scratch_cap[slot]) {
    size_t cap = bytes + bytes / 4;
    tl_free(t->scratch[slot]);
    t->scratch[slot] = tl_alloc(cap);
    t->scratch_cap[slot] = t->scratch[slot] ? cap : 0;
  }
  return t->scratch[slot];
}

void pq_scratch_free(pq_task *t) {
  for (int k = 0; k < PQ_NSCRATCH; k++) {
    tl_free(t->scratch[k]);
    t->scratch[k] = NULL;
    t->scratch_cap[k] = 0;
  }
}

/* The body [src, src + n) decompressed to `usize` bytes: *out is src itself
** when uncompressed, else a new buffer (*own set to free) when own is not
** NULL, else the task's page buffer. */
static tl_status decompress(pq_task *t, int32_t codec, const uint8_t *src, size_t n,
                            size_t usize, const uint8_t **out, uint8_t **own) {
  if (own) *own = NULL;
  if (codec == PQ_UNCOMPRESSED) {
    if (n != usize) return pq_fail(t, TL_EPARSE, "%zu bytes, %zu uncompressed", n, usize);
    *out = src;
    return TL_OK;
  }
  if (usize > MAX_PAGE) return pq_fail(t, TL_ELIMIT, "%zu bytes: over 1 GiB", usize);
  if (codec != PQ_SNAPPY && codec != PQ_GZIP && codec != PQ_ZSTD && codec != PQ_LZ4 &&
      codec != PQ_LZ4_RAW && codec != PQ_BROTLI)
    return pq_fail(t, TL_ETYPE, "codec %s is not supported", codec_name(codec));
  uint8_t *buf = own ? tl_alloc(usize ? usize : 1) : buffer(t, PQ_SC_PAGE, usize);
  if (!buf) return tl_error_oom(t->err, PQ_OP);
  int ok = 0;
  if (codec == PQ_SNAPPY) {
    size_t ul = 0;
    ok = snappy_uncompressed_length((const char *)src, n, &ul) == SNAPPY_OK && ul == usize &&
         snappy_uncompress((const char *)src, n, (char *)buf, &ul) == SNAPPY_OK && ul == usize;
  } else if (codec == PQ_ZSTD) {
    size_t got = ZSTD_decompress(buf, usize, src, n);
    ok = !ZSTD_isError(got) && got == usize;
  } else if (codec == PQ_GZIP) {
    ok = gunzip(src, n, buf, usize);
  } else if (codec == PQ_LZ4_RAW) {
    ok = lz4_raw(src, n, buf, usize);
  } else if (codec == PQ_LZ4) {           /* Hadoop's framing, else a bare block as Arrow */
    ok = lz4_hadoop(src, n, buf, usize) || lz4_raw(src, n, buf, usize);
  } else {
    size_t got = usize;
    ok = BrotliDecoderDecompress(n, src, &got, buf) == BROTLI_DECODER_RESULT_SUCCESS &&
         got == usize;
  }
  if (!ok) {
    if (own) tl_free(buf);
    return pq_fail(t, TL_EPARSE, "%s data does not decompress to its %zu bytes",
                   codec_name(codec), usize);
  }
  *out = buf;
  if (own) *own = buf;
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Values out: n rows from row r0 (of the task), def[k] 0 for a null (def
** NULL: none), the non-null values in vals.
*/

static tl_status put_string(pq_task *t, int64_t r, const uint8_t *p, uint32_t n) {
  if (!tl_utf8_valid((const char *)p, n))
    return pq_fail(t, TL_EPARSE, "row %lld: invalid UTF-8", (long long)(t->row0 + t->skip + r + 1));
  if (t->nbytes + n > t->cap) {
    int64_t cap = t->cap ? t->cap : 4096;
    while (cap < t->nbytes + n) cap *= 2;
    char *b = tl_realloc(t->bytes, (size_t)cap);
    if (!b) return tl_error_oom(t->err, PQ_OP);
    t->bytes = b;
    t->cap = cap;
  }
  if (n) memcpy(t->bytes + t->nbytes, p, n);
  t->nbytes += n;
  t->offs[r + 1] = t->nbytes;
  return TL_OK;
}

static double decimal_bytes(const uint8_t *p, uint32_t n) {
  if (n == 0) return 0;
  if (n <= 8) {
    uint64_t u = p[0] & 0x80 ? ~(uint64_t)0 : 0;
    for (uint32_t k = 0; k < n; k++) u = u << 8 | p[k];
    return (double)(int64_t)u;
  }
  double d = (int8_t)p[0];
  for (uint32_t k = 1; k < n; k++) d = d * 256.0 + p[k];
  return d;
}

static double scale_down(double d, int s) {
  static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                  1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                                  1e20, 1e21, 1e22 };
  return s <= 22 ? d / pow10[s] : d / pow(10.0, s);
}

#define JULIAN_EPOCH 2440588   /* the Julian day of 1970-01-01 */

/* The loop of store(): every row, `nullstmt` for a null, else the statements
** after it with x the value. */
#define EACH_ROW(nullstmt, ...) do { \
    for (int64_t k = 0, v = 0; k < n; k++) { \
      int64_t r = r0 + k; \
      if (def && !def[k]) { TL_BIT_CLEAR(t->valid, r); nullstmt; continue; } \
      pv x = vals[v++]; \
      (void)x; __VA_ARGS__; \
    } \
  } while (0)

static tl_status store(pq_task *t, const uint32_t *def, const pv *vals, int64_t n,
                       int64_t r0) {
  pq_col *c = t->c;
  int64_t *iv = c->col ? (int64_t *)c->col->values + t->row0 : NULL;
  double *dv = c->col ? (double *)c->col->values + t->row0 : NULL;
  switch (c->kind) {
    case PK_BOOL: EACH_ROW((void)0, if (x.i) TL_BIT_SET(t->bools, r)); break;
    case PK_INT: EACH_ROW(iv[r] = 0, iv[r] = x.i); break;
    case PK_UINT32: EACH_ROW(iv[r] = 0, iv[r] = (int64_t)(uint32_t)x.i); break;
    case PK_UINT64:
      EACH_ROW(iv[r] = 0, if (x.i < 0) return pq_fail(t, TL_ERANGE, "row %lld: unsigned value "
               "%llu does not fit an int (int64)", (long long)(t->row0 + t->skip + r + 1),
               (unsigned long long)x.i); iv[r] = x.i);
      break;
    case PK_FLOAT: EACH_ROW(dv[r] = 0, dv[r] = x.f); break;
    case PK_DATE: {
      int32_t *d32 = (int32_t *)c->col->values + t->row0;
      EACH_ROW(d32[r] = 0, d32[r] = (int32_t)x.i);
      break;
    }
    case PK_TS_MS:
      EACH_ROW(iv[r] = 0, if (__builtin_mul_overflow(x.i, 1000, &iv[r])) return pq_fail(t,
               TL_ERANGE, "row %lld: timestamp out of range", (long long)(t->row0 + t->skip + r + 1)));
      break;
    case PK_TS_US: EACH_ROW(iv[r] = 0, iv[r] = x.i); break;
    case PK_TS_NS: EACH_ROW(iv[r] = 0, iv[r] = x.i / 1000 - (x.i % 1000 < 0)); break;
    case PK_INT96:
      EACH_ROW(iv[r] = 0, {
        int64_t nanos = (int64_t)pq_le64(x.s.p), day = (int32_t)pq_le32(x.s.p + 8);
        if (__builtin_mul_overflow(day - JULIAN_EPOCH, 86400000000LL, &iv[r]) ||
            __builtin_add_overflow(iv[r], nanos / 1000 - (nanos % 1000 < 0), &iv[r]))
          return pq_fail(t, TL_ERANGE, "row %lld: INT96 timestamp out of range",
                         (long long)(t->row0 + t->skip + r + 1));
      });
      break;
    case PK_DECIMAL: EACH_ROW(dv[r] = 0, dv[r] = scale_down((double)x.i, c->f->scale)); break;
    case PK_DECIMAL_BYTES:
      EACH_ROW(dv[r] = 0, dv[r] = scale_down(decimal_bytes(x.s.p, x.s.n), c->f->scale));
      break;
    default:
      EACH_ROW(t->offs[r + 1] = t->nbytes, TL_TRY(put_string(t, r, x.s.p, x.s.n)));
  }
  return TL_OK;
}

/* Strings kept as codes so far become offsets and bytes: a page that is
** not dictionary-encoded follows. */
static tl_status leave_dict(pq_task *t, int64_t upto) {
  t->offs = tl_calloc((size_t)t->nrows + 1, sizeof *t->offs);
  if (!t->offs) return tl_error_oom(t->err, PQ_OP);
  t->dict_mode = 0;
  for (int64_t r = 0; r < upto; r++) {
    if (t->valid && !TL_BIT_GET(t->valid, r)) { t->offs[r + 1] = t->nbytes; continue; }
    const pv *x = &t->dict[t->codes[r]];
    TL_TRY(put_string(t, r, x->s.p, x->s.n));
  }
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Data pages.
*/

/* Dictionary indices of a page: n of them into idx, each checked. */
static tl_status dict_indices(pq_task *t, const uint8_t *p, const uint8_t *e, int64_t n,
                              uint32_t *idx) {
  if (n == 0) return TL_OK;
  if (!t->dict) return pq_fail(t, TL_EPARSE, "dictionary-encoded without a dictionary page");
  if (p >= e) return pq_fail(t, TL_EPARSE, "no bit width for the dictionary indices");
  int bw = *p++;
  if (bw > 32) return pq_fail(t, TL_EPARSE, "dictionary index bit width %d", bw);
  const char *bad = pq_rle_decode(p, e, bw, n, idx);
  if (bad) return pq_fail(t, TL_EPARSE, "dictionary indices: %s", bad);
  for (int64_t k = 0; k < n; k++)
    if (idx[k] >= (uint64_t)t->ndict)
      return pq_fail(t, TL_EPARSE, "dictionary index %u out of range (%lld entries)", idx[k],
                     (long long)t->ndict);
  return TL_OK;
}

/* The n non-null values of a page in encoding enc into out (*scratch: a
** buffer the values point into, to free after them). */
static tl_status page_values(pq_task *t, int32_t enc, const uint8_t *p, const uint8_t *e,
                             int64_t n, pv *out, uint8_t **scratch) {
  const pq_field *f = t->c->f;
  int32_t ty = f->type;
  const char *bad = NULL;
  *scratch = NULL;
  if (enc == PQ_PLAIN) {
    bad = pq_plain(p, e, n, ty, f->type_length, out);
  } else if (enc == PQ_PLAIN_DICTIONARY || enc == PQ_RLE_DICTIONARY) {
    uint32_t *idx = buffer(t, PQ_SC_IDX, (size_t)n * sizeof *idx);
    if (!idx) return tl_error_oom(t->err, PQ_OP);
    tl_status st = dict_indices(t, p, e, n, idx);
    for (int64_t k = 0; st == TL_OK && k < n; k++) out[k] = t->dict[idx[k]];
    return st;
  } else if (enc == PQ_RLE && ty == PQ_BOOLEAN) {
    uint32_t len = 0;
    uint32_t *v = buffer(t, PQ_SC_IDX, (size_t)n * sizeof *v);
    if (!v) return tl_error_oom(t->err, PQ_OP);
    if (e - p < 4 || (len = pq_le32(p)) > (uint64_t)(e - p - 4)) bad = "RLE booleans cut short";
    else bad = pq_rle_decode(p + 4, p + 4 + len, 1, n, v);
    for (int64_t k = 0; !bad && k < n; k++) out[k].i = v[k];
  } else if (enc == PQ_DELTA_BINARY_PACKED && (ty == PQ_INT32 || ty == PQ_INT64)) {
    int64_t *v = buffer(t, PQ_SC_INTS, (size_t)n * sizeof *v);
    const uint8_t *end;
    if (!v) return tl_error_oom(t->err, PQ_OP);
    bad = pq_delta_ints(p, e, n, ty == PQ_INT32, v, &end);
    for (int64_t k = 0; !bad && k < n; k++) out[k].i = v[k];
  } else if (enc == PQ_DELTA_LENGTH_BYTE_ARRAY && ty == PQ_BYTE_ARRAY) {
    bad = pq_delta_lengths(p, e, n, out);
  } else if (enc == PQ_DELTA_BYTE_ARRAY && (ty == PQ_BYTE_ARRAY || ty == PQ_FLBA)) {
    bad = pq_delta_strings(p, e, n, out, scratch);
  } else if (enc == PQ_BYTE_STREAM_SPLIT && ty != PQ_BOOLEAN && ty != PQ_BYTE_ARRAY &&
             ty != PQ_INT96) {
    int w = ty == PQ_INT32 || ty == PQ_FLOAT ? 4 : ty == PQ_FLBA ? f->type_length : 8;
    bad = pq_byte_stream_split(p, e, n, ty, w, out, scratch);
  } else {
    return pq_fail(t, TL_ETYPE, "encoding %s of %s is not supported", pq_encoding_name(enc),
                   pq_physical_name(ty));
  }
  if (bad) return pq_fail(t, TL_EPARSE, "%s: %s", pq_encoding_name(enc), bad);
  return TL_OK;
}

/* The values of a data page once its levels are known. The page holds rows
** [at, at + nvalues) of the chunk; those of the task's window (from row
** t->skip, t->nrows of them) are stored, from the task's row at - skip on. */
static tl_status page_rows(pq_task *t, const page *pg, const uint32_t *def, const uint8_t *p,
                           const uint8_t *e, int64_t at) {
  int64_t n = pg->nvalues, nn = 0;
  int64_t lo = t->skip > at ? t->skip - at : 0;            /* the window, in the page */
  int64_t hi = t->skip + t->nrows - at < n ? t->skip + t->nrows - at : n;
  int64_t r0 = at + lo - t->skip, v0 = 0;                  /* its first row, value */
  for (int64_t k = 0; k < n; k++) {
    if (k == lo) v0 = nn;
    nn += def ? def[k] != 0 : 1;
  }
  int enc = pg->encoding;
  int is_dict = enc == PQ_PLAIN_DICTIONARY || enc == PQ_RLE_DICTIONARY;
  if (t->dict_mode && !is_dict) TL_TRY(leave_dict(t, r0));
  if (t->dict_mode) {                    /* codes straight into the task's output */
    uint32_t *idx = buffer(t, PQ_SC_IDX, (size_t)nn * sizeof *idx);
    if (!idx) return tl_error_oom(t->err, PQ_OP);
    TL_TRY(dict_indices(t, p, e, nn, idx));
    int32_t *codes = t->codes + r0;
    if (!def) {
      memcpy(codes, idx + lo, (size_t)(hi - lo) * sizeof *codes);
      return TL_OK;
    }
    for (int64_t k = lo, v = v0; k < hi; k++) {
      if (!def[k]) { TL_BIT_CLEAR(t->valid, r0 + k - lo); codes[k - lo] = 0; }
      else codes[k - lo] = (int32_t)idx[v++];
    }
    return TL_OK;
  }
  pv *vals = buffer(t, PQ_SC_VALS, (size_t)nn * sizeof *vals);
  uint8_t *built = NULL;
  if (!vals) return tl_error_oom(t->err, PQ_OP);
  tl_status st = page_values(t, enc, p, e, nn, vals, &built);
  if (st == TL_OK) st = store(t, def ? def + lo : NULL, vals + v0, hi - lo, r0);
  tl_free(built);
  return st;
}

static tl_status levels(pq_task *t, const uint8_t *p, const uint8_t *e, int64_t n,
                        uint32_t **def) {
  *def = buffer(t, PQ_SC_DEF, (size_t)n * sizeof **def);
  if (!*def) return tl_error_oom(t->err, PQ_OP);
  const char *bad = pq_rle_decode(p, e, 1, n, *def);
  if (bad) return pq_fail(t, TL_EPARSE, "definition levels: %s", bad);
  return TL_OK;
}

static tl_status data_page_v1(pq_task *t, const page *pg, const uint8_t *body, int32_t codec,
                              int64_t r0) {
  const uint8_t *p;
  uint32_t *def = NULL;
  TL_TRY(decompress(t, codec, body, (size_t)pg->csize, (size_t)pg->usize, &p, NULL));
  const uint8_t *e = p + pg->usize;
  tl_status st = TL_OK;
  if (t->c->f->repetition == 1) {
    uint32_t len = 0;
    if (pg->level_encoding != PQ_RLE)
      st = pq_fail(t, TL_ETYPE, "definition levels: encoding %s is not supported",
                   pq_encoding_name(pg->level_encoding));
    else if (e - p < 4 || (len = pq_le32(p)) > (uint64_t)(e - p - 4))
      st = pq_fail(t, TL_EPARSE, "definition levels cut short");
    else
      st = levels(t, p + 4, p + 4 + len, pg->nvalues, &def);
    p += 4 + (size_t)len;
  }
  if (st == TL_OK) st = page_rows(t, pg, def, p, e, r0);
  return st;
}

static tl_status data_page_v2(pq_task *t, const page *pg, const uint8_t *body, int32_t codec,
                              int64_t r0) {
  const uint8_t *p;
  uint32_t *def = NULL;
  if (pg->rep_len != 0)
    return pq_fail(t, TL_EPARSE, "repetition levels in a flat column");
  if (pg->def_len < 0 || pg->def_len > pg->csize || pg->def_len > pg->usize)
    return pq_fail(t, TL_EPARSE, "definition levels of %d bytes", (int)pg->def_len);
  tl_status st = TL_OK;
  if (t->c->f->repetition == 1) st = levels(t, body, body + pg->def_len, pg->nvalues, &def);
  size_t cn = (size_t)(pg->csize - pg->def_len), un = (size_t)(pg->usize - pg->def_len);
  if (st == TL_OK)
    st = decompress(t, pg->compressed ? codec : PQ_UNCOMPRESSED, body + pg->def_len, cn, un,
                    &p, NULL);
  if (st == TL_OK) st = page_rows(t, pg, def, p, p + un, r0);
  return st;
}

static tl_status read_dict(pq_task *t, const page *pg, const uint8_t *body, int32_t codec) {
  const uint8_t *p;
  if (t->dict) return pq_fail(t, TL_EPARSE, "a second dictionary page");
  if (pg->encoding != PQ_PLAIN && pg->encoding != PQ_PLAIN_DICTIONARY)
    return pq_fail(t, TL_ETYPE, "dictionary page: encoding %s is not supported",
                   pq_encoding_name(pg->encoding));
  TL_TRY(decompress(t, codec, body, (size_t)pg->csize, (size_t)pg->usize, &p, &t->dict_buf));
  if ((uint64_t)pg->nvalues > 8 * (uint64_t)pg->usize + 8)
    return pq_fail(t, TL_EPARSE, "dictionary page: %d values in %d bytes", (int)pg->nvalues,
                   (int)pg->usize);
  t->dict = tl_alloc((size_t)(pg->nvalues ? pg->nvalues : 1) * sizeof *t->dict);
  if (!t->dict) return tl_error_oom(t->err, PQ_OP);
  t->ndict = pg->nvalues;
  const char *bad = pq_plain(p, p + pg->usize, pg->nvalues, t->c->f->type,
                             t->c->f->type_length, t->dict);
  if (bad) return pq_fail(t, TL_EPARSE, "dictionary page: %s", bad);
  if (t->c->kind == PK_STRING)
    for (int64_t k = 0; k < t->ndict; k++)
      if (!tl_utf8_valid((const char *)t->dict[k].s.p, t->dict[k].s.n))
        return pq_fail(t, TL_EPARSE, "dictionary page: entry %lld: invalid UTF-8",
                       (long long)k + 1);
  return TL_OK;
}

/* The task's outputs before its first page. */
static tl_status outputs(pq_task *t) {
  int64_t n = t->nrows;
  size_t bm = TL_BITMAP_BYTES(n) ? TL_BITMAP_BYTES(n) : 1;
  if (t->c->f->repetition == 1) {
    t->valid = tl_alloc(bm);
    if (!t->valid) return tl_error_oom(t->err, PQ_OP);
    memset(t->valid, 0xff, bm);
  }
  if (t->c->kind == PK_BOOL && !(t->bools = tl_calloc(bm, 1)))
    return tl_error_oom(t->err, PQ_OP);
  if (t->c->kind == PK_STRING) {
    t->dict_mode = 1;
    t->codes = (int32_t *)t->c->col->values + t->row0;
  }
  return TL_OK;
}

static tl_status read_pages(pq_task *t, size_t pos, size_t end, size_t *stop);

/* Drops the memory pages of [pos, end) of the mapped file: read once, they
** would otherwise stay counted in the process's memory (a mapping of the
** file, so any later read faults them in again). */
static void drop_range(pq_task *t, size_t pos, size_t end) {
  tl_mapfile_drop(t->map, t->data + pos, end - pos);
}

tl_status pq_read_chunk(pq_task *t) {
  const pq_chunk *ch = &t->g->chunks[t->c->f->leaf];
  t->page = -1;
  TL_TRY(outputs(t));
  if (ch->type != t->c->f->type)
    return pq_fail(t, TL_EPARSE, "column chunk: type %s, the schema says %s",
                   pq_physical_name(ch->type), pq_physical_name(t->c->f->type));
  int64_t start = ch->dict_offset >= 4 && ch->dict_offset < ch->data_offset ? ch->dict_offset
                                                                             : ch->data_offset;
  if (start < 4 || (uint64_t)start >= t->footer || ch->compressed_size < 0 ||
      (uint64_t)ch->compressed_size > t->footer - (uint64_t)start)
    return pq_fail(t, TL_EPARSE, "column chunk: bytes %lld to %lld lie outside the file's "
                   "data", (long long)start, (long long)start + (long long)ch->compressed_size);
  size_t pos = (size_t)start, end = pos + (size_t)ch->compressed_size, stop = end;
  tl_status st = read_pages(t, pos, end, &stop);
  drop_range(t, pos, stop);
  if (st == TL_OK) pq_scratch_free(t);
  return st;
}

/* The pages of the chunk in [pos, end) until the task's last row; the data
** pages wholly before its first row (t->skip) are passed over by their
** headers, neither decompressed nor decoded. *stop: where reading stopped. */
static tl_status read_pages(pq_task *t, size_t pos, size_t end, size_t *stop) {
  const pq_chunk *ch = &t->g->chunks[t->c->f->leaf];
  int64_t seen = 0, total = t->g->num_rows, last = t->skip + t->nrows;
  while (seen < last) {
    page pg;
    *stop = pos;
    if (pos >= end)
      return pq_fail(t, TL_EPARSE, "column chunk ends after %lld of its %lld rows",
                     (long long)seen, (long long)total);
    t->page++;
    if (tl_interrupted()) return tl_error_interrupted(t->err, PQ_OP);
    TL_TRY(page_header(t, pos, end, &pg));
    const uint8_t *body = t->data + pos + pg.header;
    int data = pg.type == PQ_DATA_PAGE || pg.type == PQ_DATA_PAGE_V2;
    if (data && pg.nvalues > total - seen)
      return pq_fail(t, TL_EPARSE, "%d values past the row group's %lld rows",
                     (int)pg.nvalues, (long long)total);
    if (pg.type == PQ_DICTIONARY_PAGE) TL_TRY(read_dict(t, &pg, body, ch->codec));
    else if (data && seen + pg.nvalues <= t->skip) { /* before the window */ }
    else if (pg.type == PQ_DATA_PAGE) TL_TRY(data_page_v1(t, &pg, body, ch->codec, seen));
    else if (pg.type == PQ_DATA_PAGE_V2) TL_TRY(data_page_v2(t, &pg, body, ch->codec, seen));
    if (data) seen += pg.nvalues;
    pos += pg.header + (size_t)pg.csize;
  }
  *stop = pos;
  t->page = -1;
  return TL_OK;
}
