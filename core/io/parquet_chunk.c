/*
** parquet_chunk.c -- one column chunk of a Parquet file, encoded in memory:
** definition levels (a bit-packed run of the validity bits, or one RLE run
** when there is no null), values PLAIN or as RLE_DICTIONARY indices after a
** dictionary page, each page compressed with the chunk's codec behind its
** page header; and the chunk's statistics (min, max, null count).
*/
#include <lz4.h>
#include <math.h>
#include <snappy-c.h>
#include <string.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "io/parquet.h"
#include "io/parquet_write.h"
#include "io/thrift_write.h"

#define OP "write_parquet"

/* A growable byte buffer. */
typedef struct buf {
  uint8_t *p;
  size_t len, cap;
} buf;

static int buf_reserve(buf *b, size_t n) {
  uint8_t *p = tl_grow(b->p, &b->cap, b->len, n, 4096);
  if (p) b->p = p;
  return p != NULL;
}

static void put(buf *b, const void *p, size_t n) {   /* room reserved by the caller */
  if (n) memcpy(b->p + b->len, p, n);
  b->len += n;
}

static void put_varint(buf *b, uint64_t v) {
  while (v >= 0x80) { b->p[b->len++] = (uint8_t)(v | 0x80); v >>= 7; }
  b->p[b->len++] = (uint8_t)v;
}

static void put_le32(buf *b, uint32_t v) {
  uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
  put(b, x, 4);
}

/* The scratch of one chunk: the page body before and after compression,
** the dictionary (indices of `src` in first-seen order) and the codes of
** the chunk's valid rows. */
typedef struct enc {
  pqw_chunk *c;
  buf body, packed;
  th_writer hdr;
  const tl_column *src;             /* the strings the dictionary indexes */
  int64_t *entries;
  int64_t nentries;
  uint32_t *codes;
  int bw;                           /* bit width of the codes */
} enc;

static tl_status fail(enc *e, tl_status code, const char *what) {
  pqw_chunk *c = e->c;
  c->st = tl_error_set(&c->err, code, "%s: %s: row group %d, column '%s': %s", OP, c->file,
                       c->group, c->name, what);
  return c->st;
}

static tl_status oom(enc *e) { return fail(e, TL_ENOMEM, "out of memory"); }

int pqw_physical(tl_type type) {
  switch (type) {
    case TL_BOOL: return PQ_BOOLEAN;
    case TL_FLOAT: return PQ_DOUBLE;
    case TL_STRING: return PQ_BYTE_ARRAY;
    case TL_DATE: return PQ_INT32;
    default: return PQ_INT64;
  }
}

/* ---- statistics ---- */

static void stat_bytes(pqw_chunk *c, const void *mn, size_t nmn, const void *mx, size_t nmx) {
  if (nmn > PQW_STAT_MAX || nmx > PQW_STAT_MAX) return;
  memcpy(c->min, mn, nmn);
  memcpy(c->max, mx, nmx);
  c->min_len = nmn;
  c->max_len = nmx;
  c->has_minmax = 1;
}

static int cmp_bytes(const char *a, size_t na, const char *b, size_t nb) {
  int r = memcmp(a, b, na < nb ? na : nb);
  return r ? r : (na > nb) - (na < nb);
}

/* Min and max of the strings src[idx[k]] (idx NULL: the valid rows of
** [a, b) of src). */
static void stat_strings(pqw_chunk *c, const tl_column *src, const int64_t *idx, int64_t n,
                         int64_t a, int64_t b) {
  const char *mn = NULL, *mx = NULL;
  size_t nmn = 0, nmx = 0;
  int any = 0;
#define STAT_ONE(r) do { \
    size_t l_; const char *s_ = tl_column_string_at(src, (r), &l_); \
    if (!any || cmp_bytes(s_, l_, mn, nmn) < 0) { mn = s_; nmn = l_; } \
    if (!any || cmp_bytes(s_, l_, mx, nmx) > 0) { mx = s_; nmx = l_; } \
    any = 1; \
  } while (0)
  if (idx) {
    for (int64_t k = 0; k < n; k++) STAT_ONE(idx[k]);
  } else {
    TL_FOR_VALID_RANGE(src->validity, a, b, i, STAT_ONE(i));
  }
#undef STAT_ONE
  if (any) stat_bytes(c, mn, nmn, mx, nmx);
}

/* The min and max of the chunk's valid values of integer type T, little-endian. */
#define STAT_INTS(T) do { \
    const T *v = col->values; \
    T mn = 0, mx = 0; \
    TL_FOR_VALID_RANGE(col->validity, a, b, i, { \
      if (!any || v[i] < mn) mn = v[i]; \
      if (!any || v[i] > mx) mx = v[i]; \
      any = 1; \
    }); \
    if (any) stat_bytes(c, &mn, sizeof mn, &mx, sizeof mx); \
  } while (0)

static void stat_fixed(pqw_chunk *c) {
  const tl_column *col = c->col;
  int64_t a = c->row0, b = c->row0 + c->nrows;
  int any = 0;
  if (col->type == TL_FLOAT) {
    const double *v = col->values;
    double mn = 0, mx = 0;
    TL_FOR_VALID_RANGE(col->validity, a, b, i, {
      double x = v[i];
      if (isnan(x)) continue;
      if (!any || x < mn) mn = x;
      if (!any || x > mx) mx = x;
      any = 1;
    });
    if (!any) return;
    if (mn == 0) mn = -0.0;             /* as the format asks, for readers that compare zeros */
    if (mx == 0) mx = 0.0;
    stat_bytes(c, &mn, 8, &mx, 8);
  } else if (col->type == TL_DATE) {
    STAT_INTS(int32_t);
  } else if (col->type == TL_BOOL) {
    const uint8_t *v = col->values;
    uint8_t mn = 1, mx = 0;
    TL_FOR_VALID_RANGE(col->validity, a, b, i, {
      uint8_t x = (uint8_t)TL_BIT_GET(v, i);
      if (x < mn) mn = x;
      if (x > mx) mx = x;
      any = 1;
    });
    if (any) stat_bytes(c, &mn, 1, &mx, 1);
  } else {
    STAT_INTS(int64_t);
  }
#undef STAT_INTS
}

/* ---- dictionaries ---- */

/* A dictionary column: the codes used in the chunk, renumbered in order of
** first use, and the dictionary entries they stand for. */
static tl_status dict_remap(enc *e, int64_t nvalid) {
  const tl_column *col = e->c->col, *d = col->dict;
  const int32_t *codes = col->values;
  int32_t *map = tl_alloc(sizeof *map * (size_t)(d->length ? d->length : 1));
  e->entries = tl_alloc(sizeof *e->entries * (size_t)(d->length ? d->length : 1));
  e->codes = tl_alloc(sizeof *e->codes * (size_t)(nvalid ? nvalid : 1));
  if (!map || !e->entries || !e->codes) { tl_free(map); return oom(e); }
  memset(map, 0xff, sizeof *map * (size_t)d->length);
  int64_t k = 0, n = 0;
  TL_FOR_VALID_RANGE(col->validity, e->c->row0, e->c->row0 + e->c->nrows, i, {
    int32_t code = codes[i];
    if (code < 0 || code >= d->length) code = 0;
    if (map[code] < 0) { map[code] = (int32_t)n; e->entries[n++] = code; }
    e->codes[k++] = (uint32_t)map[code];
  });
  tl_free(map);
  e->src = d;
  e->nentries = n;
  return TL_OK;
}

/* The open-addressing table of dict_build: a slot is 0 when empty, else
** (entry + 1) << 32 | the string's 32-bit hash. */
typedef struct dset {
  uint64_t *slots;
  size_t size;                      /* a power of 2 */
} dset;

/* Doubles the table, placing each slot by its hash. */
static int dset_grow(dset *d) {
  size_t size = d->size * 2;
  uint64_t *slots = tl_calloc(size, sizeof *slots);
  if (!slots) return 0;
  for (size_t k = 0; k < d->size; k++) {
    uint64_t v = d->slots[k];
    if (!v) continue;
    size_t s = (size_t)(uint32_t)v & (size - 1);
    while (slots[s]) s = (s + 1) & (size - 1);
    slots[s] = v;
  }
  tl_free(d->slots);
  d->slots = slots;
  d->size = size;
  return 1;
}

/* A plain string column: its distinct values, when there are at most half
** as many as valid rows (else the chunk is written PLAIN and *used is 0).
** The table starts small and doubles as entries come. */
static tl_status dict_build(enc *e, int64_t nvalid, int *used) {
  const tl_column *col = e->c->col;
  const int64_t *off = col->values;
  const char *bytes = col->bytes ? col->bytes : "";
  int64_t limit = nvalid / 2;
  *used = 0;
  if (limit < 1) return TL_OK;
  dset d = { tl_calloc(1024, sizeof(uint64_t)), 1024 };
  e->entries = tl_alloc(sizeof *e->entries * (size_t)limit);
  e->codes = tl_alloc(sizeof *e->codes * (size_t)nvalid);
  if (!d.slots || !e->entries || !e->codes) { tl_free(d.slots); return oom(e); }
  int64_t n = 0, k = 0;
  int over = 0;
  TL_FOR_VALID_RANGE(col->validity, e->c->row0, e->c->row0 + e->c->nrows, i, {
    if (over) break;
    const char *str = bytes + off[i];
    size_t ln = (size_t)(off[i + 1] - off[i]);
    uint32_t h = (uint32_t)XXH3_64bits(str, ln);
    size_t s = h & (d.size - 1);
    for (;;) {
      uint64_t v = d.slots[s];
      if (v == 0) {
        if (n == limit) { over = 1; break; }
        d.slots[s] = (uint64_t)(n + 1) << 32 | h;
        e->entries[n] = i;
        e->codes[k++] = (uint32_t)n++;
        if ((size_t)n * 2 > d.size && !dset_grow(&d)) { tl_free(d.slots); return oom(e); }
        break;
      }
      if ((uint32_t)v == h) {
        int64_t r = e->entries[(v >> 32) - 1];
        if ((size_t)(off[r + 1] - off[r]) == ln && memcmp(bytes + off[r], str, ln) == 0) {
          e->codes[k++] = (uint32_t)((v >> 32) - 1);
          break;
        }
      }
      s = (s + 1) & (d.size - 1);
    }
  });
  tl_free(d.slots);
  if (over) return TL_OK;
  e->src = col;
  e->nentries = n;
  *used = 1;
  return TL_OK;
}

/* ---- RLE / bit-packed hybrid ---- */

static int run_at(const uint32_t *v, int64_t i, int64_t n) {
  int64_t j = i + 1;
  while (j < n && j - i < 8 && v[j] == v[i]) j++;
  return j - i >= 8;
}

/* Appends the hybrid encoding of v[0..n) at bit width bw (1..32). */
static int rle_hybrid(buf *b, const uint32_t *v, int64_t n, int bw) {
  int vbytes = (bw + 7) / 8;
  if (!buf_reserve(b, (size_t)n * 5 + (size_t)n / 8 * 10 + 32)) return 0;
  int64_t i = 0;
  while (i < n) {
    if (run_at(v, i, n)) {
      int64_t j = i + 1;
      while (j < n && v[j] == v[i]) j++;
      put_varint(b, (uint64_t)(j - i) << 1);
      uint32_t x = v[i];
      for (int k = 0; k < vbytes; k++) b->p[b->len++] = (uint8_t)(x >> (8 * k));
      i = j;
      continue;
    }
    int64_t g = i;                  /* groups of 8 until a run of 8 starts */
    do { g += 8; } while (g < n && !run_at(v, g, n) && (g - i) / 8 < 63);
    int64_t groups = (g - i) / 8;
    put_varint(b, (uint64_t)groups << 1 | 1);
    uint64_t acc = 0;
    int nbits = 0;
    for (int64_t k = i; k < g; k++) {
      acc |= (uint64_t)(k < n ? v[k] : 0) << nbits;
      nbits += bw;
      while (nbits >= 8) { b->p[b->len++] = (uint8_t)acc; acc >>= 8; nbits -= 8; }
    }
    i = g;
  }
  return 1;
}

/* Definition levels of rows [a, b): one RLE run of 1 without nulls, else
** the validity bits as one bit-packed run; behind a 4-byte length. */
static int def_levels(buf *out, const tl_column *col, int64_t a, int64_t b, int nulls) {
  int64_t n = b - a;
  size_t nbytes = (size_t)((n + 7) / 8);
  if (!buf_reserve(out, nbytes + 32)) return 0;
  size_t at = out->len;
  put_le32(out, 0);
  if (!nulls) {
    put_varint(out, (uint64_t)n << 1);
    out->p[out->len++] = 1;
  } else {
    put_varint(out, (uint64_t)nbytes << 1 | 1);
    const uint8_t *vb = col->validity;
    if ((a & 7) == 0) {
      memcpy(out->p + out->len, vb + a / 8, nbytes);
      if (n & 7) out->p[out->len + nbytes - 1] &= (uint8_t)((1u << (n & 7)) - 1);
      out->len += nbytes;
    } else {
      for (size_t k = 0; k < nbytes; k++) {
        uint8_t x = 0;
        for (int t = 0; t < 8; t++) {
          int64_t r = a + (int64_t)k * 8 + t;
          if (r < b && TL_BIT_GET(vb, r)) x |= (uint8_t)(1u << t);
        }
        out->p[out->len++] = x;
      }
    }
  }
  size_t len = out->len - at - 4;
  for (int k = 0; k < 4; k++) out->p[at + (size_t)k] = (uint8_t)(len >> (8 * k));
  return 1;
}

/* ---- values ---- */

/* PLAIN values of the valid rows of [a, b). */
static int plain_values(buf *out, const tl_column *col, int64_t a, int64_t b) {
  const uint8_t *vb = col->validity;
  int64_t n = b - a;
  if (col->type == TL_BOOL) {
    if (!buf_reserve(out, (size_t)(n + 7) / 8)) return 0;
    const uint8_t *v = col->values;
    uint8_t x = 0;
    int nb = 0;
    TL_FOR_VALID_RANGE(vb, a, b, i, {
      x |= (uint8_t)(TL_BIT_GET(v, i) << nb);
      if (++nb == 8) { out->p[out->len++] = x; x = 0; nb = 0; }
    });
    if (nb) out->p[out->len++] = x;
  } else if (col->type == TL_STRING) {
    const int64_t *off = col->values;
    size_t total = (size_t)(off[b] - off[a]) + (size_t)n * 4;
    if (!buf_reserve(out, total)) return 0;
    const char *bytes = col->bytes ? col->bytes : "";
    TL_FOR_VALID_RANGE(vb, a, b, i, {
      size_t l = (size_t)(off[i + 1] - off[i]);
      put_le32(out, (uint32_t)l);
      put(out, bytes + off[i], l);
    });
  } else {
    size_t w = col->type == TL_DATE ? 4 : 8;
    if (!buf_reserve(out, (size_t)n * w)) return 0;
    const uint8_t *v = col->values;
    if (!vb) {
      put(out, v + (size_t)a * w, (size_t)n * w);
    } else if (w == 4) {
      TL_FOR_VALID_RANGE(vb, a, b, i, put(out, v + (size_t)i * 4, 4));
    } else {
      TL_FOR_VALID_RANGE(vb, a, b, i, put(out, v + (size_t)i * 8, 8));
    }
  }
  return 1;
}

/* The dictionary page's body: the entries as PLAIN strings. */
static int dict_body(buf *out, const enc *e) {
  size_t total = 0, l;
  for (int64_t k = 0; k < e->nentries; k++) {
    tl_column_string_at(e->src, e->entries[k], &l);
    total += l + 4;
  }
  if (!buf_reserve(out, total)) return 0;
  for (int64_t k = 0; k < e->nentries; k++) {
    const char *s = tl_column_string_at(e->src, e->entries[k], &l);
    put_le32(out, (uint32_t)l);
    put(out, s, l);
  }
  return 1;
}

/* ---- pages ---- */

static int compress_page(int codec, const buf *in, buf *out) {
  const uint8_t *src = in->p;
  size_t n = in->len;
  out->len = 0;
  if (codec == PQ_SNAPPY) {
    size_t bound = snappy_max_compressed_length(n);
    if (!buf_reserve(out, bound)) return 0;
    size_t got = bound;
    if (snappy_compress((const char *)src, n, (char *)out->p, &got) != SNAPPY_OK) return -1;
    out->len = got;
  } else if (codec == PQ_ZSTD) {
    size_t bound = ZSTD_compressBound(n);
    if (!buf_reserve(out, bound)) return 0;
    size_t got = ZSTD_compress(out->p, bound, src, n, 3);
    if (ZSTD_isError(got)) return -1;
    out->len = got;
  } else if (codec == PQ_LZ4_RAW) {
    if (n > LZ4_MAX_INPUT_SIZE) return -1;
    size_t bound = (size_t)LZ4_compressBound((int)n);
    if (!buf_reserve(out, bound)) return 0;
    int got = LZ4_compress_default((const char *)src, (char *)out->p, (int)n, (int)bound);
    if (got <= 0 && n > 0) return -1;
    out->len = (size_t)got;
  } else {   /* PQ_GZIP */
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    size_t bound = deflateBound(&z, (uLong)n) + 32;
    if (!buf_reserve(out, bound)) { deflateEnd(&z); return 0; }
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = out->p;
    z.avail_out = (uInt)bound;
    int r = deflate(&z, Z_FINISH);
    out->len = z.total_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) return -1;
  }
  return 1;
}

/* Appends the page in e->body (type PQ_DATA_PAGE with nvalues values, or
** PQ_DICTIONARY_PAGE with nvalues entries) to the chunk, compressed, behind
** its header. */
static tl_status add_page(enc *e, int type, int64_t nvalues, int encoding) {
  pqw_chunk *c = e->c;
  const buf *data = &e->body;
  if (e->body.len > 0x7fffffff) return fail(e, TL_ELIMIT, "a page of over 2 GiB");
  if (c->codec != PQ_UNCOMPRESSED) {
    int r = compress_page(c->codec, &e->body, &e->packed);
    if (r == 0) return oom(e);
    if (r < 0 || e->packed.len > 0x7fffffff) return fail(e, TL_EIO, "compression failed");
    data = &e->packed;
  }
  th_writer *h = &e->hdr;
  thw_reset(h);
  thw_begin(h);
  thw_field_i32(h, 1, type);
  thw_field_i32(h, 2, (int32_t)e->body.len);
  thw_field_i32(h, 3, (int32_t)data->len);
  if (type == PQ_DATA_PAGE) {
    thw_field_struct(h, 5);
    thw_field_i32(h, 1, (int32_t)nvalues);
    thw_field_i32(h, 2, encoding);
    thw_field_i32(h, 3, PQ_RLE);
    thw_field_i32(h, 4, PQ_RLE);
    thw_end(h);
  } else {
    thw_field_struct(h, 7);
    thw_field_i32(h, 1, (int32_t)nvalues);
    thw_field_i32(h, 2, PQ_PLAIN);
    thw_end(h);
  }
  thw_end(h);
  if (h->failed) return oom(e);
  buf out = { c->buf, c->len, c->cap };
  if (!buf_reserve(&out, h->len + data->len)) return oom(e);
  put(&out, h->buf, h->len);
  put(&out, data->p, data->len);
  c->buf = out.p;
  c->len = out.len;
  c->cap = out.cap;
  c->uncompressed += (int64_t)(h->len + e->body.len);
  return TL_OK;
}

static int bit_width(int64_t n) {   /* of codes in [0, n) */
  int bw = 1;
  while (bw < 32 && ((int64_t)1 << bw) < n) bw++;
  return bw;
}

/* The end of the page that starts at row a: PQW_PAGE_ROWS rows, and for
** plain strings about PQW_PAGE_BYTES of them. */
static int64_t page_end(const enc *e, int64_t a, int64_t end) {
  int64_t b = end - a > PQW_PAGE_ROWS ? a + PQW_PAGE_ROWS : end;
  const tl_column *col = e->c->col;
  if (col->type == TL_STRING && !e->src && !col->dict) {
    const int64_t *off = col->values;
    if (off[b] - off[a] > PQW_PAGE_BYTES) {
      int64_t lo = a + 1, hi = b;       /* the first row past the byte budget */
      while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (off[mid] - off[a] > PQW_PAGE_BYTES) hi = mid; else lo = mid + 1;
      }
      b = lo > a + 1 ? lo - 1 : a + 1;
    }
  }
  return b;
}

static int64_t count_valid(const tl_column *col, int64_t a, int64_t b) {
  if (!col->validity) return b - a;
  int64_t n = 0;
  for (int64_t w = a & ~(int64_t)63; w < b; w += 64) {
    uint64_t m = tl_bitmap_word(col->validity, w, b);
    if (w < a) m &= ~(uint64_t)0 << (a - w);
    n += __builtin_popcountll(m);
  }
  return n;
}

static tl_status data_pages(enc *e) {
  pqw_chunk *c = e->c;
  const tl_column *col = c->col;
  int64_t end = c->row0 + c->nrows, k = 0;
  tl_env *env = tl_env_current();
  for (int64_t a = c->row0; a < end || a == c->row0;) {
    if (tl_env_interrupted(env)) return c->st = tl_error_interrupted(&c->err, OP);
    int64_t b = page_end(e, a, end);
    int64_t nvalid = count_valid(col, a, b);
    e->body.len = 0;
    if (!def_levels(&e->body, col, a, b, nvalid < b - a)) return oom(e);
    if (e->src) {
      if (!buf_reserve(&e->body, 1)) return oom(e);
      e->body.p[e->body.len++] = (uint8_t)e->bw;
      if (!rle_hybrid(&e->body, e->codes + k, nvalid, e->bw)) return oom(e);
      k += nvalid;
    } else if (!col->dict && !plain_values(&e->body, col, a, b)) {   /* (a dictionary
                                      ** column without entries here is all null) */
      return oom(e);
    }
    TL_TRY(add_page(e, PQ_DATA_PAGE, b - a, e->src ? PQ_RLE_DICTIONARY : PQ_PLAIN));
    a = b;
    if (a == end) break;
  }
  return TL_OK;
}

void pqw_chunk_encode(pqw_chunk *c) {
  enc e;
  memset(&e, 0, sizeof e);
  e.c = c;
  thw_init(&e.hdr);
  c->st = TL_OK;
  const tl_column *col = c->col;
  int64_t a = c->row0, b = c->row0 + c->nrows;
  int64_t nvalid = count_valid(col, a, b);
  c->null_count = c->nrows - nvalid;
  if (col->type == TL_STRING) {
    int used = 1;
    if (col->dict) c->st = dict_remap(&e, nvalid);
    else c->st = dict_build(&e, nvalid, &used);
    if (c->st == TL_OK && (!used || e.nentries == 0)) {   /* no dictionary; all null: no values */
      e.src = NULL;
      tl_free(e.entries); tl_free(e.codes);
      e.entries = NULL; e.codes = NULL;
    }
  }
  if (c->st == TL_OK && e.src) {
    stat_strings(c, e.src, e.entries, e.nentries, 0, 0);
    e.bw = bit_width(e.nentries);
    if (!dict_body(&e.body, &e)) oom(&e);
    else if (add_page(&e, PQ_DICTIONARY_PAGE, e.nentries, PQ_PLAIN) == TL_OK) c->has_dict = 1;
  } else if (c->st == TL_OK && col->type == TL_STRING) {
    stat_strings(c, col, NULL, 0, a, b);
  } else if (c->st == TL_OK) {
    stat_fixed(c);
  }
  c->data_off = c->len;
  if (c->st == TL_OK) data_pages(&e);
  tl_free(e.body.p);
  tl_free(e.packed.p);
  thw_free(&e.hdr);
  tl_free(e.entries);
  tl_free(e.codes);
}

void pqw_chunk_free(pqw_chunk *c) {
  tl_free(c->buf);
  c->buf = NULL;
  c->len = c->cap = 0;
}
