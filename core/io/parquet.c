/*
** parquet.c -- read_parquet: a Parquet file of flat columns into a table.
** The footer is decoded by parquet_meta.c; here each selected column is
** read chunk by chunk (the row groups in order) and page by page: a page
** header (Thrift), the page body decompressed through the system's codec
** libraries (snappy, zstd, zlib), the definition levels of an optional
** column (RLE/bit-packed hybrid), then the values, PLAIN or through the
** chunk's dictionary, converted to tally's types as they are stored. The
** columns are read in parallel, each into its own buffers. What the reader
** does not support yet (an encoding, a codec, a physical or logical type,
** a nested column) is an error naming the file, the column and the
** feature; a damaged file is an error naming the file and the part.
*/
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/parse.h"
#include "base/pool.h"
#include "base/table.h"
#include "io/parquet.h"
#include "io/thrift.h"

#define OP "read_parquet"
#define MAX_PAGE ((size_t)1 << 30)

/* One value as the page holds it, before conversion: integers (INT32
** sign-extended, BOOLEAN 0/1) in i, FLOAT and DOUBLE in f, byte arrays as a
** span of the page or the dictionary. */
typedef union pv {
  int64_t i;
  double f;
  struct { const uint8_t *p; uint32_t n; } s;
} pv;

/* What is known while a column is read, for its messages and its output. */
typedef struct col_rd {
  const char *file;
  const uint8_t *data;
  size_t len, footer;       /* the data pages lie in [4, footer) */
  const pq_meta *m;
  const pq_field *f;
  pq_kind kind;
  tl_type type;
  int group;                /* the row group being read */
  tl_column *col;           /* fixed-width output */
  int64_t *offs;            /* string output: offsets, bytes, validity */
  char *bytes;
  int64_t nbytes, cap;
  uint8_t *valid;
  pv *dict;                 /* the chunk's dictionary, its buffer */
  int64_t ndict;
  uint8_t *dict_buf;
  tl_status st;
  tl_error err;
} col_rd;

/* "read_parquet: f.parquet: row group 2, column 'x': <what>" */
static tl_status col_fail(col_rd *c, tl_status code, const char *fmt, ...) TL_PRINTF(3, 4);
static tl_status col_fail(col_rd *c, tl_status code, const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return tl_error_set(&c->err, code, "%s: %s: row group %d, column '%s': %s", OP, c->file,
                      c->group, c->f->name, what);
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p + 4) << 32 | le32(p); }

static const char *codec_name(int32_t c) {
  static const char *const names[] = { "UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI",
                                       "LZ4", "ZSTD", "LZ4_RAW" };
  return c >= 0 && c < 8 ? names[c] : "unknown";
}

static const char *encoding_name(int32_t e) {
  static const char *const names[] = { "PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE",
                                       "BIT_PACKED", "DELTA_BINARY_PACKED",
                                       "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                       "RLE_DICTIONARY", "BYTE_STREAM_SPLIT" };
  return e >= 0 && e < 10 ? names[e] : "unknown";
}

/* ---------------------------------------------------------------------------
** Types: what each leaf becomes.
*/

static const char *logical_name(int l) {
  static const char *const names[] = { "?", "STRING", "MAP", "LIST", "ENUM", "DECIMAL",
                                       "DATE", "TIME", "TIMESTAMP", "?", "INTEGER", "UNKNOWN",
                                       "JSON", "BSON", "UUID", "FLOAT16", "VARIANT",
                                       "GEOMETRY", "GEOGRAPHY" };
  return l > 0 && l < 19 ? names[l] : "unknown";
}

static const char *physical_name(int32_t t) {
  static const char *const names[] = { "BOOLEAN", "INT32", "INT64", "INT96", "FLOAT",
                                       "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY" };
  return t >= 0 && t < 8 ? names[t] : "unknown";
}

/* The kind of an annotated integer or decimal, or -1. */
static int annotated(const pq_field *f) {
  int l = f->logical, t = f->type, c = f->converted;
  int is_int = t == PQ_INT32 || t == PQ_INT64;
  if (l == 1 || l == 4 || l == 12) return t == PQ_BYTE_ARRAY ? PK_STRING : -1;
  if (l == 5) return is_int ? PK_DECIMAL : -1;
  if (l == 6) return t == PQ_INT32 ? PK_DATE : -1;
  if (l == 8) {
    if (t != PQ_INT64) return -1;
    return f->ts_unit == 1 ? PK_TS_MS : f->ts_unit == 2 ? PK_TS_US : f->ts_unit == 3 ? PK_TS_NS : -1;
  }
  if (l == 10) {
    if (!is_int) return -1;
    if (f->int_signed) return PK_INT;
    return t == PQ_INT32 ? PK_UINT32 : PK_UINT64;
  }
  if (l) return -1;
  if (c == 0 || c == 4 || c == 19) return t == PQ_BYTE_ARRAY ? PK_STRING : -1;
  if (c == 5) return is_int ? PK_DECIMAL : -1;
  if (c == 6) return t == PQ_INT32 ? PK_DATE : -1;
  if (c == 9 || c == 10) return t == PQ_INT64 ? (c == 9 ? PK_TS_MS : PK_TS_US) : -1;
  if (c >= 11 && c <= 14) return !is_int ? -1 : t == PQ_INT32 ? PK_UINT32 : PK_UINT64;
  if (c >= 15 && c <= 18) return is_int ? PK_INT : -1;
  return -1;
}

/* The kind and tally type of field f, or an error naming what is missing. */
static tl_status field_kind(const char *file, const pq_field *f, pq_kind *kind, tl_type *type,
                            tl_error *err) {
  static const tl_type types[] = { TL_BOOL, TL_INT, TL_INT, TL_INT, TL_FLOAT, TL_DATE,
                                   TL_TIMESTAMP, TL_TIMESTAMP, TL_TIMESTAMP, TL_FLOAT,
                                   TL_STRING };
  int k = -1;
  if (f->logical || f->converted >= 0) {
    k = annotated(f);
    if (k < 0 && f->logical)
      return tl_error_set(err, TL_ETYPE, "%s: %s: column '%s': logical type %s of %s is not "
                          "supported yet", OP, file, f->name, logical_name(f->logical),
                          physical_name(f->type));
    if (k < 0)
      return tl_error_set(err, TL_ETYPE, "%s: %s: column '%s': converted type %d of %s is "
                          "not supported yet", OP, file, f->name, (int)f->converted,
                          physical_name(f->type));
  } else {
    switch (f->type) {
      case PQ_BOOLEAN: k = PK_BOOL; break;
      case PQ_INT32: case PQ_INT64: k = PK_INT; break;
      case PQ_FLOAT: case PQ_DOUBLE: k = PK_FLOAT; break;
      case PQ_BYTE_ARRAY: k = PK_STRING; break;
      default:
        return tl_error_set(err, TL_ETYPE, "%s: %s: column '%s': physical type %s is not "
                            "supported yet", OP, file, f->name, physical_name(f->type));
    }
  }
  if (k == PK_DECIMAL && (f->scale < 0 || f->scale > 38))
    return tl_error_set(err, TL_EPARSE, "%s: %s: column '%s': decimal scale %d out of range",
                        OP, file, f->name, (int)f->scale);
  *kind = (pq_kind)k;
  *type = types[k];
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Output: one value or one null at row `row`.
*/

static tl_status put_string(col_rd *c, int64_t row, const uint8_t *p, uint32_t n) {
  if (!tl_utf8_valid((const char *)p, n))
    return col_fail(c, TL_EPARSE, "row %lld: invalid UTF-8", (long long)row + 1);
  if (c->nbytes + n > c->cap) {
    int64_t cap = c->cap ? c->cap : 4096;
    while (cap < c->nbytes + n) cap *= 2;
    char *b = tl_realloc(c->bytes, (size_t)cap);
    if (!b) return tl_error_oom(&c->err, OP);
    c->bytes = b;
    c->cap = cap;
  }
  memcpy(c->bytes + c->nbytes, p, n);
  c->nbytes += n;
  c->offs[row + 1] = c->nbytes;
  return TL_OK;
}

static tl_status put_value(col_rd *c, int64_t row, pv v) {
  static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                  1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                                  1e20, 1e21, 1e22 };
  int64_t *iv = c->col ? c->col->values : NULL;
  switch (c->kind) {
    case PK_BOOL: if (v.i) TL_BIT_SET((uint8_t *)c->col->values, row); break;
    case PK_INT: iv[row] = v.i; break;
    case PK_UINT32: iv[row] = (int64_t)(uint32_t)v.i; break;
    case PK_UINT64:
      if (v.i < 0)
        return col_fail(c, TL_ERANGE, "row %lld: unsigned value %llu does not fit an int "
                        "(int64)", (long long)row + 1, (unsigned long long)v.i);
      iv[row] = v.i;
      break;
    case PK_FLOAT: ((double *)c->col->values)[row] = v.f; break;
    case PK_DATE: ((int32_t *)c->col->values)[row] = (int32_t)v.i; break;
    case PK_TS_MS:
      if (__builtin_mul_overflow(v.i, 1000, &iv[row]))
        return col_fail(c, TL_ERANGE, "row %lld: timestamp out of range", (long long)row + 1);
      break;
    case PK_TS_US: iv[row] = v.i; break;
    case PK_TS_NS: iv[row] = v.i / 1000 - (v.i % 1000 < 0); break;   /* floor */
    case PK_DECIMAL: {
      double d = (double)v.i;
      int s = c->f->scale;
      ((double *)c->col->values)[row] = s <= 22 ? d / pow10[s] : d / pow(10.0, s);
      break;
    }
    case PK_STRING: return put_string(c, row, v.s.p, v.s.n);
  }
  return TL_OK;
}

static void put_null(col_rd *c, int64_t row) {
  if (c->kind == PK_STRING) {
    TL_BIT_CLEAR(c->valid, row);
    c->offs[row + 1] = c->nbytes;
  } else {
    TL_BIT_CLEAR(c->col->validity, row);
  }
}

/* ---------------------------------------------------------------------------
** The RLE/bit-packed hybrid of levels and dictionary indices: n values of
** bw bits (0..32) from [p, e) into out. NULL on success, else what is wrong.
*/

static uint32_t unpack(const uint8_t *p, uint64_t bit, int bw) {
  uint64_t w = 0;
  const uint8_t *q = p + (bit >> 3);
  int shift = (int)(bit & 7), nb = (shift + bw + 7) / 8;
  for (int k = 0; k < nb; k++) w |= (uint64_t)q[k] << (8 * k);
  return (uint32_t)((w >> shift) & (((uint64_t)1 << bw) - 1));
}

static const char *rle_decode(const uint8_t *p, const uint8_t *e, int bw, int64_t n,
                              uint32_t *out) {
  int64_t k = 0;
  int vbytes = (bw + 7) / 8;
  while (k < n) {
    th_reader r;
    uint64_t h;
    th_init(&r, p, (size_t)(e - p));
    if (th_varint(&r, &h) < 0) return "levels or indices cut short";
    p = r.p;
    if (h & 1) {                                 /* bit-packed groups of 8 */
      uint64_t groups = h >> 1, avail = (uint64_t)(e - p);
      if (bw > 0 && groups > avail / (uint64_t)bw) return "bit-packed run past the end";
      uint64_t count = groups > (uint64_t)n ? (uint64_t)n * 8 : groups * 8;
      for (uint64_t j = 0; j < count && k < n; j++) out[k++] = bw ? unpack(p, j * bw, bw) : 0;
      p += groups * (uint64_t)bw;
    } else {                                     /* a run of one value */
      uint64_t run = h >> 1;
      if (e - p < vbytes) return "repeated value past the end";
      uint64_t v = 0;
      for (int b = 0; b < vbytes; b++) v |= (uint64_t)p[b] << (8 * b);
      p += vbytes;
      if (bw < 32 && v >> bw) return "repeated value wider than its bit width";
      for (uint64_t j = 0; j < run && k < n; j++) out[k++] = (uint32_t)v;
    }
  }
  return NULL;
}

/* ---------------------------------------------------------------------------
** Values: n non-null values of a page (or a dictionary) into out.
*/

static tl_status plain_values(col_rd *c, const uint8_t *p, const uint8_t *e, int64_t n,
                              pv *out, const char *part) {
  size_t avail = (size_t)(e - p);
  int32_t t = c->f->type;
  size_t w = t == PQ_INT32 || t == PQ_FLOAT ? 4 : t == PQ_INT64 || t == PQ_DOUBLE ? 8
           : t == PQ_FLBA ? (size_t)c->f->type_length : 0;
  if (t == PQ_BOOLEAN && (size_t)(n + 7) / 8 > avail)
    return col_fail(c, TL_EPARSE, "%s: %lld booleans need more than its %zu bytes", part,
                    (long long)n, avail);
  if (w && (size_t)n > avail / w)
    return col_fail(c, TL_EPARSE, "%s: %lld values need more than its %zu bytes", part,
                    (long long)n, avail);
  for (int64_t k = 0; k < n; k++) {
    switch (t) {
      case PQ_BOOLEAN: out[k].i = (p[k >> 3] >> (k & 7)) & 1; break;
      case PQ_INT32: out[k].i = (int32_t)le32(p + 4 * k); break;
      case PQ_INT64: out[k].i = (int64_t)le64(p + 8 * k); break;
      case PQ_FLOAT: {
        uint32_t u = le32(p + 4 * k);
        float f;
        memcpy(&f, &u, 4);
        out[k].f = f;
        break;
      }
      case PQ_DOUBLE: {
        uint64_t u = le64(p + 8 * k);
        memcpy(&out[k].f, &u, 8);
        break;
      }
      case PQ_BYTE_ARRAY: {
        if (e - p < 4)
          return col_fail(c, TL_EPARSE, "%s: value %lld cut short", part, (long long)k + 1);
        uint32_t len = le32(p);
        if (len > (uint64_t)(e - p - 4))
          return col_fail(c, TL_EPARSE, "%s: value %lld: length %u past the end", part,
                          (long long)k + 1, len);
        out[k].s.p = p + 4;
        out[k].s.n = len;
        p += 4 + (size_t)len;
        break;
      }
      default:
        out[k].s.p = p + w * (size_t)k;
        out[k].s.n = (uint32_t)w;
    }
  }
  return TL_OK;
}

static tl_status dict_values(col_rd *c, const uint8_t *p, const uint8_t *e, int64_t n,
                             pv *out) {
  if (!c->dict)
    return col_fail(c, TL_EPARSE, "data page: dictionary-encoded without a dictionary page");
  if (n == 0) return TL_OK;
  if (p >= e) return col_fail(c, TL_EPARSE, "data page: no bit width for the indices");
  int bw = *p++;
  if (bw > 32) return col_fail(c, TL_EPARSE, "data page: index bit width %d", bw);
  uint32_t *idx = tl_alloc((size_t)n * sizeof *idx);
  if (!idx) return tl_error_oom(&c->err, OP);
  const char *bad = rle_decode(p, e, bw, n, idx);
  tl_status st = TL_OK;
  if (bad) st = col_fail(c, TL_EPARSE, "data page: %s", bad);
  for (int64_t k = 0; st == TL_OK && k < n; k++) {
    if (idx[k] >= (uint64_t)c->ndict)
      st = col_fail(c, TL_EPARSE, "data page: dictionary index %u out of range (%lld entries)",
                    idx[k], (long long)c->ndict);
    else
      out[k] = c->dict[idx[k]];
  }
  tl_free(idx);
  return st;
}

static tl_status rle_bools(col_rd *c, const uint8_t *p, const uint8_t *e, int64_t n, pv *out) {
  if (e - p < 4) return col_fail(c, TL_EPARSE, "data page: RLE booleans cut short");
  uint32_t len = le32(p);
  if (len > (uint64_t)(e - p - 4))
    return col_fail(c, TL_EPARSE, "data page: RLE booleans: length %u past the end", len);
  uint32_t *v = tl_alloc((size_t)(n ? n : 1) * sizeof *v);
  if (!v) return tl_error_oom(&c->err, OP);
  const char *bad = rle_decode(p + 4, p + 4 + len, 1, n, v);
  for (int64_t k = 0; !bad && k < n; k++) out[k].i = v[k];
  tl_free(v);
  return bad ? col_fail(c, TL_EPARSE, "data page: %s", bad) : TL_OK;
}

static tl_status page_values(col_rd *c, int32_t enc, const uint8_t *p, const uint8_t *e,
                             int64_t n, pv *out) {
  if (enc == PQ_PLAIN) return plain_values(c, p, e, n, out, "data page");
  if (enc == PQ_PLAIN_DICTIONARY || enc == PQ_RLE_DICTIONARY) return dict_values(c, p, e, n, out);
  if (enc == PQ_RLE && c->f->type == PQ_BOOLEAN) return rle_bools(c, p, e, n, out);
  return col_fail(c, TL_ETYPE, "encoding %s is not supported yet", encoding_name(enc));
}

/* ---------------------------------------------------------------------------
** Pages.
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

static tl_status page_header(col_rd *c, size_t pos, size_t end, page *pg) {
  th_reader rd, *r = &rd;
  th_struct s;
  int16_t id;
  uint8_t t;
  int more, rc = 0;
  memset(pg, 0, sizeof *pg);
  pg->type = pg->usize = pg->csize = pg->nvalues = -1;
  pg->compressed = 1;
  th_init(r, c->data + pos, end - pos);
  if (th_begin(r, &s) < 0) rc = -1;
  while (rc == 0 && (more = th_field(r, &s, &id, &t)) != 0) {
    if (more < 0) rc = -1;
    else if (id == 1) rc = th_int32_value(r, t, &pg->type);
    else if (id == 2) rc = th_int32_value(r, t, &pg->usize);
    else if (id == 3) rc = th_int32_value(r, t, &pg->csize);
    else if ((id == 5 || id == 7 || id == 8) && t == TH_STRUCT) rc = page_sub(r, id, pg);
    else rc = th_skip_field(r, t);
  }
  if (rc < 0)
    return col_fail(c, TL_EPARSE, "page header at byte %zu: %s", pos,
                    r->msg ? r->msg : "malformed");
  if (pg->type < 0 || pg->usize < 0 || pg->csize < 0)
    return col_fail(c, TL_EPARSE, "page header at byte %zu: no type or size", pos);
  if ((pg->type == PQ_DATA_PAGE || pg->type == PQ_DATA_PAGE_V2 ||
       pg->type == PQ_DICTIONARY_PAGE) && pg->nvalues < 0)
    return col_fail(c, TL_EPARSE, "page header at byte %zu: no value count", pos);
  pg->header = th_offset(r);
  if ((size_t)pg->csize > end - pos - pg->header)
    return col_fail(c, TL_EPARSE, "page at byte %zu: its %d bytes run past the column chunk",
                    pos, (int)pg->csize);
  return TL_OK;
}

/* The body [src, src + n) decompressed to `usize` bytes: *out is src itself
** when uncompressed, else a new buffer (*own set to free). */
static tl_status decompress(col_rd *c, int32_t codec, const uint8_t *src, size_t n,
                            size_t usize, const uint8_t **out, uint8_t **own) {
  *own = NULL;
  if (codec == PQ_UNCOMPRESSED) {
    if (n != usize)
      return col_fail(c, TL_EPARSE, "page: %zu bytes, %zu uncompressed", n, usize);
    *out = src;
    return TL_OK;
  }
  if (usize > MAX_PAGE) return col_fail(c, TL_ELIMIT, "page of %zu bytes: over 1 GiB", usize);
  uint8_t *buf = tl_alloc(usize ? usize : 1);
  if (!buf) return tl_error_oom(&c->err, OP);
  int ok = 0;
  if (codec == PQ_SNAPPY) {
    size_t ul = 0;
    ok = snappy_uncompressed_length((const char *)src, n, &ul) == SNAPPY_OK && ul == usize &&
         snappy_uncompress((const char *)src, n, (char *)buf, &ul) == SNAPPY_OK && ul == usize;
  } else if (codec == PQ_ZSTD) {
    size_t got = ZSTD_decompress(buf, usize, src, n);
    ok = !ZSTD_isError(got) && got == usize;
  } else if (codec == PQ_GZIP) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) == Z_OK) {
      z.next_in = (Bytef *)src;
      z.avail_in = (uInt)n;
      z.next_out = buf;
      z.avail_out = (uInt)usize;
      int zr = inflate(&z, Z_FINISH);
      ok = zr == Z_STREAM_END && z.total_out == usize;
      inflateEnd(&z);
    }
  } else {
    tl_free(buf);
    return col_fail(c, TL_ETYPE, "codec %s is not supported yet", codec_name(codec));
  }
  if (!ok) {
    tl_free(buf);
    return col_fail(c, TL_EPARSE, "page: %s data does not decompress to its %zu bytes",
                    codec_name(codec), usize);
  }
  *out = buf;
  *own = buf;
  return TL_OK;
}

static tl_status read_dict(col_rd *c, const page *pg, const uint8_t *body, int32_t codec) {
  const uint8_t *p;
  uint8_t *own;
  if (c->dict) return col_fail(c, TL_EPARSE, "a second dictionary page");
  if (pg->encoding != PQ_PLAIN && pg->encoding != PQ_PLAIN_DICTIONARY)
    return col_fail(c, TL_ETYPE, "dictionary page: encoding %s is not supported yet",
                    encoding_name(pg->encoding));
  TL_TRY(decompress(c, codec, body, (size_t)pg->csize, (size_t)pg->usize, &p, &own));
  c->dict_buf = own;
  if ((uint64_t)pg->nvalues > 8 * (uint64_t)pg->usize + 8)
    return col_fail(c, TL_EPARSE, "dictionary page: %d values in %d bytes", (int)pg->nvalues,
                    (int)pg->usize);
  c->dict = tl_alloc((size_t)(pg->nvalues ? pg->nvalues : 1) * sizeof *c->dict);
  if (!c->dict) return tl_error_oom(&c->err, OP);
  c->ndict = pg->nvalues;
  return plain_values(c, p, p + pg->usize, pg->nvalues, c->dict, "dictionary page");
}

/* The values of a data page once its levels are known: def[k] 0 for a null
** row (def NULL: none). */
static tl_status page_rows(col_rd *c, const page *pg, const uint32_t *def, const uint8_t *p,
                           const uint8_t *e, int64_t row0) {
  int64_t n = pg->nvalues, nn = 0;
  for (int64_t k = 0; k < n; k++) nn += def ? def[k] != 0 : 1;
  pv *vals = tl_alloc((size_t)(nn ? nn : 1) * sizeof *vals);
  if (!vals) return tl_error_oom(&c->err, OP);
  tl_status st = page_values(c, pg->encoding, p, e, nn, vals);
  for (int64_t k = 0, v = 0; st == TL_OK && k < n; k++) {
    if (def && !def[k]) put_null(c, row0 + k);
    else st = put_value(c, row0 + k, vals[v++]);
  }
  tl_free(vals);
  return st;
}

static tl_status levels(col_rd *c, const uint8_t *p, const uint8_t *e, int64_t n,
                        uint32_t **def) {
  *def = tl_alloc((size_t)(n ? n : 1) * sizeof **def);
  if (!*def) return tl_error_oom(&c->err, OP);
  const char *bad = rle_decode(p, e, 1, n, *def);
  if (bad) return col_fail(c, TL_EPARSE, "data page: definition levels: %s", bad);
  return TL_OK;
}

static tl_status data_page_v1(col_rd *c, const page *pg, const uint8_t *body, int32_t codec,
                              int64_t row0) {
  const uint8_t *p;
  uint8_t *own;
  uint32_t *def = NULL;
  TL_TRY(decompress(c, codec, body, (size_t)pg->csize, (size_t)pg->usize, &p, &own));
  const uint8_t *e = p + pg->usize;
  tl_status st = TL_OK;
  if (c->f->repetition == 1) {
    uint32_t len = 0;
    if (pg->level_encoding != PQ_RLE)
      st = col_fail(c, TL_ETYPE, "definition levels: encoding %s is not supported yet",
                    encoding_name(pg->level_encoding));
    else if (e - p < 4 || (len = le32(p)) > (uint64_t)(e - p - 4))
      st = col_fail(c, TL_EPARSE, "data page: definition levels cut short");
    else
      st = levels(c, p + 4, p + 4 + len, pg->nvalues, &def);
    p += 4 + (size_t)len;
  }
  if (st == TL_OK) st = page_rows(c, pg, def, p, e, row0);
  tl_free(def);
  tl_free(own);
  return st;
}

static tl_status data_page_v2(col_rd *c, const page *pg, const uint8_t *body, int32_t codec,
                              int64_t row0) {
  const uint8_t *p;
  uint8_t *own = NULL;
  uint32_t *def = NULL;
  if (pg->rep_len != 0)
    return col_fail(c, TL_EPARSE, "data page v2: repetition levels in a flat column");
  if (pg->def_len < 0 || pg->def_len > pg->csize || pg->def_len > pg->usize)
    return col_fail(c, TL_EPARSE, "data page v2: definition levels of %d bytes",
                    (int)pg->def_len);
  tl_status st = TL_OK;
  if (c->f->repetition == 1)
    st = levels(c, body, body + pg->def_len, pg->nvalues, &def);
  size_t cn = (size_t)(pg->csize - pg->def_len), un = (size_t)(pg->usize - pg->def_len);
  if (st == TL_OK)
    st = decompress(c, pg->compressed ? codec : PQ_UNCOMPRESSED, body + pg->def_len, cn, un,
                    &p, &own);
  if (st == TL_OK) st = page_rows(c, pg, def, p, p + un, row0);
  tl_free(def);
  tl_free(own);
  return st;
}

/* One column chunk: the rows [row0, row0 + g->num_rows) of the column. */
static tl_status read_chunk(col_rd *c, const pq_group *g, int64_t row0) {
  const pq_chunk *ch = &g->chunks[c->f->leaf];
  if (ch->type != c->f->type)
    return col_fail(c, TL_EPARSE, "column chunk: type %s, the schema says %s",
                    physical_name(ch->type), physical_name(c->f->type));
  int64_t start = ch->dict_offset >= 4 && ch->dict_offset < ch->data_offset ? ch->dict_offset
                                                                             : ch->data_offset;
  if (start < 4 || (uint64_t)start >= c->footer || ch->compressed_size < 0 ||
      (uint64_t)ch->compressed_size > c->footer - (uint64_t)start)
    return col_fail(c, TL_EPARSE, "column chunk: bytes %lld to %lld lie outside the file's "
                    "data", (long long)start, (long long)start + (long long)ch->compressed_size);
  size_t pos = (size_t)start, end = pos + (size_t)ch->compressed_size;
  int64_t done = 0;
  tl_status st = TL_OK;
  while (st == TL_OK && done < g->num_rows) {
    page pg;
    if (pos >= end)
      return col_fail(c, TL_EPARSE, "column chunk ends after %lld of its %lld rows",
                      (long long)done, (long long)g->num_rows);
    TL_TRY(page_header(c, pos, end, &pg));
    const uint8_t *body = c->data + pos + pg.header;
    int data = pg.type == PQ_DATA_PAGE || pg.type == PQ_DATA_PAGE_V2;
    if (data && pg.nvalues > g->num_rows - done)
      return col_fail(c, TL_EPARSE, "page at byte %zu: %d values past the row group's %lld "
                      "rows", pos, (int)pg.nvalues, (long long)g->num_rows);
    if (pg.type == PQ_DICTIONARY_PAGE) st = read_dict(c, &pg, body, ch->codec);
    else if (pg.type == PQ_DATA_PAGE) st = data_page_v1(c, &pg, body, ch->codec, row0 + done);
    else if (pg.type == PQ_DATA_PAGE_V2) st = data_page_v2(c, &pg, body, ch->codec, row0 + done);
    if (data) done += pg.nvalues;
    pos += pg.header + (size_t)pg.csize;
  }
  return st;
}

static void drop_dict(col_rd *c) {
  tl_free(c->dict);
  tl_free(c->dict_buf);
  c->dict = NULL;
  c->dict_buf = NULL;
  c->ndict = 0;
}

static tl_status out_alloc(col_rd *c) {
  int64_t n = c->m->num_rows;
  int nullable = c->f->repetition == 1;
  if (c->kind != PK_STRING) return tl_column_alloc(c->type, n, nullable, 0, &c->col, &c->err);
  c->offs = tl_calloc((size_t)n + 1, sizeof *c->offs);
  if (nullable) c->valid = tl_alloc(TL_BITMAP_BYTES(n) ? TL_BITMAP_BYTES(n) : 1);
  if (!c->offs || (nullable && !c->valid)) return tl_error_oom(&c->err, OP);
  if (nullable) memset(c->valid, 0xff, TL_BITMAP_BYTES(n));
  return TL_OK;
}

/* The string column from the buffers the pages filled. */
static tl_status out_strings(col_rd *c) {
  int64_t n = c->m->num_rows;
  TL_TRY(tl_column_alloc(TL_STRING, n, c->valid != NULL, c->nbytes, &c->col, &c->err));
  memcpy(c->col->values, c->offs, (size_t)(n + 1) * sizeof *c->offs);
  if (c->nbytes) memcpy(c->col->bytes, c->bytes, (size_t)c->nbytes);
  if (c->valid) memcpy(c->col->validity, c->valid, TL_BITMAP_BYTES(n));
  return TL_OK;
}

/* A task of tl_parallel_for: column `task` of the selection, every row group. */
static void read_column(void *ctx, int64_t task, int worker) {
  col_rd *c = (col_rd *)ctx + task;
  (void)worker;
  int64_t row0 = 0;
  c->st = out_alloc(c);
  for (int g = 0; c->st == TL_OK && g < c->m->ngroups; g++) {
    c->group = g;
    if (tl_interrupted()) c->st = tl_error_interrupted(&c->err, OP);
    else c->st = read_chunk(c, &c->m->groups[g], row0);
    drop_dict(c);
    row0 += c->m->groups[g].num_rows;
  }
  if (c->st == TL_OK && c->kind == PK_STRING) c->st = out_strings(c);
  if (c->st == TL_OK) tl_column_seal(c->col);
  tl_free(c->offs);
  tl_free(c->bytes);
  tl_free(c->valid);
  c->offs = NULL;
  c->bytes = NULL;
  c->valid = NULL;
}

/* ---------------------------------------------------------------------------
** The file: magic, footer, selection, the columns in parallel.
*/

void tl_parquet_options_init(tl_parquet_options *opts) {
  memset(opts, 0, sizeof *opts);
}

static tl_status footer(const char *name, const uint8_t *d, size_t len, pq_meta *m,
                        size_t *data_end, tl_error *err) {
  const char *msg;
  size_t where;
  if (len < 12 || memcmp(d, "PAR1", 4) != 0 || memcmp(d + len - 4, "PAR1", 4) != 0)
    return tl_error_set(err, TL_EPARSE, "%s: %s: not a Parquet file (no PAR1 magic at its "
                        "start and end)", OP, name);
  uint32_t flen = le32(d + len - 8);
  if (flen > len - 12)
    return tl_error_set(err, TL_EPARSE, "%s: %s: footer: its length %u is past the start of "
                        "the file (%zu bytes)", OP, name, flen, len);
  *data_end = len - 8 - flen;
  if (pq_meta_read(d + *data_end, flen, m, &msg, &where) < 0) {
    pq_meta_free(m);
    return tl_error_set(err, TL_EPARSE, "%s: %s: footer: %s (at byte %zu of its %u)", OP,
                        name, msg, where, flen);
  }
  int64_t rows = 0;
  for (int g = 0; g < m->ngroups; g++) {
    if (m->groups[g].nchunks != m->nleaves) {
      tl_error_set(err, TL_EPARSE, "%s: %s: footer: row group %d has %d column chunks for "
                   "%d columns", OP, name, g, m->groups[g].nchunks, m->nleaves);
      pq_meta_free(m);
      return TL_EPARSE;
    }
    if (__builtin_add_overflow(rows, m->groups[g].num_rows, &rows)) rows = -1;
  }
  if (rows != m->num_rows) {
    tl_error_set(err, TL_EPARSE, "%s: %s: footer: the row groups hold %lld rows, the file "
                 "says %lld", OP, name, (long long)rows, (long long)m->num_rows);
    pq_meta_free(m);
    return TL_EPARSE;
  }
  return TL_OK;
}

static tl_status unknown_column(const char *name, const pq_meta *m, const char *col,
                                tl_error *err) {
  char list[256] = "";
  size_t used = 0;
  for (int j = 0; j < m->nfields && used < sizeof list - 8; j++) {
    int w = snprintf(list + used, sizeof list - used, "%s'%s'", j ? ", " : "",
                     m->fields[j].name);
    used = w < 0 ? sizeof list : used + (size_t)w;
  }
  if (used >= sizeof list - 8) memcpy(list + sizeof list - 5, "...", 4);
  return tl_error_set(err, TL_EINVAL, "%s: %s: unknown column '%s' (the file has %s)", OP,
                      name, col, list);
}

/* The fields to read, in order, into sel (m->nfields entries at most). */
static tl_status select_fields(const char *name, const pq_meta *m,
                               const tl_parquet_options *o, int *sel, int *nsel,
                               tl_error *err) {
  int n = 0;
  if (o && o->columns) {
    for (int k = 0; k < o->ncolumns; k++) {
      int j = 0;
      while (j < m->nfields && strcmp(m->fields[j].name, o->columns[k]) != 0) j++;
      if (j == m->nfields) return unknown_column(name, m, o->columns[k], err);
      for (int q = 0; q < n; q++)
        if (sel[q] == j)
          return tl_error_set(err, TL_EINVAL, "%s: %s: column '%s' listed twice", OP, name,
                              o->columns[k]);
      sel[n++] = j;
    }
  } else {
    for (int j = 0; j < m->nfields; j++) sel[n++] = j;
  }
  for (int k = 0; k < n; k++) {
    const pq_field *f = &m->fields[sel[k]];
    if (!f->name[0])
      return tl_error_set(err, TL_EPARSE, "%s: %s: footer: column %d has an empty name", OP,
                          name, sel[k] + 1);
    for (int q = 0; q < k; q++)
      if (strcmp(m->fields[sel[q]].name, f->name) == 0)
        return tl_error_set(err, TL_EPARSE, "%s: %s: footer: two columns are named '%s'", OP,
                            name, f->name);
    if (f->nested)
      return tl_error_set(err, TL_ETYPE, "%s: %s: column '%s' is nested (a list, struct or "
                          "map), which is not supported yet; the option columns can leave "
                          "it out", OP, name, f->name);
  }
  *nsel = n;
  return TL_OK;
}

static tl_status read_columns(const char *name, const uint8_t *d, size_t data_end,
                              const pq_meta *m, const int *sel, int nsel, tl_table **out,
                              tl_error *err) {
  col_rd *cols = tl_calloc(nsel ? (size_t)nsel : 1, sizeof *cols);
  char **names = tl_calloc(nsel ? (size_t)nsel : 1, sizeof *names);
  tl_column **tc = tl_calloc(nsel ? (size_t)nsel : 1, sizeof *tc);
  tl_status st = cols && names && tc ? TL_OK : tl_error_oom(err, OP);
  for (int k = 0; st == TL_OK && k < nsel; k++) {
    col_rd *c = &cols[k];
    c->file = name;
    c->data = d;
    c->len = data_end;
    c->footer = data_end;
    c->m = m;
    c->f = &m->fields[sel[k]];
    st = field_kind(name, c->f, &c->kind, &c->type, err);
  }
  if (st == TL_OK) tl_parallel_for(nsel, read_column, cols);
  for (int k = 0; st == TL_OK && k < nsel; k++)
    if (cols[k].st != TL_OK) {
      *err = cols[k].err;
      st = cols[k].st;
    }
  for (int k = 0; st == TL_OK && k < nsel; k++) {
    names[k] = tl_strdup(cols[k].f->name);
    if (!names[k]) st = tl_error_oom(err, OP);
  }
  if (st == TL_OK) {
    for (int k = 0; k < nsel; k++) tc[k] = cols[k].col;
    st = tl_table_adopt(nsel, names, tc, out, err);   /* owns names, tc and columns now */
    tl_free(cols);
    return st;
  }
  for (int k = 0; cols && k < nsel; k++) tl_column_release(cols[k].col);
  for (int k = 0; names && k < nsel; k++) tl_free(names[k]);
  tl_free(names);
  tl_free(tc);
  tl_free(cols);
  return st;
}

tl_status tl_read_parquet_buffer(const void *data, size_t len, const char *name,
                                 const tl_parquet_options *opts, tl_table **out,
                                 tl_error *err) {
  pq_meta m;
  size_t data_end = 0;
  *out = NULL;
  if (!name) name = "<buffer>";
  TL_TRY(footer(name, data, len, &m, &data_end, err));
  int *sel = tl_alloc(((size_t)m.nfields + (opts ? (size_t)opts->ncolumns : 0) + 1) *
                      sizeof *sel);
  int nsel = 0;
  tl_status st = sel ? TL_OK : tl_error_oom(err, OP);
  if (st == TL_OK) st = select_fields(name, &m, opts, sel, &nsel, err);
  if (st == TL_OK) st = read_columns(name, data, data_end, &m, sel, nsel, out, err);
  tl_free(sel);
  pq_meta_free(&m);
  return st;
}

tl_status tl_read_parquet(const char *path, const tl_parquet_options *opts, tl_table **out,
                          tl_error *err) {
  struct stat sb;
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return tl_error_set(err, TL_EIO, "%s: %s: %s", OP, path, strerror(errno));
  if (fstat(fd, &sb) != 0) {
    int e = errno;
    close(fd);
    return tl_error_set(err, TL_EIO, "%s: %s: %s", OP, path, strerror(e));
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    return tl_error_set(err, TL_EIO, "%s: %s: not a regular file", OP, path);
  }
  if (sb.st_size < 12) {
    close(fd);
    return tl_error_set(err, TL_EPARSE, "%s: %s: not a Parquet file (%lld bytes)", OP, path,
                        (long long)sb.st_size);
  }
  void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return tl_error_set(err, TL_EIO, "%s: %s: %s", OP, path, strerror(errno));
  tl_status st = tl_read_parquet_buffer(map, (size_t)sb.st_size, path, opts, out, err);
  munmap(map, (size_t)sb.st_size);
  return st;
}
