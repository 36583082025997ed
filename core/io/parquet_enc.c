/*
** parquet_enc.c -- the value encodings of Parquet pages, decoded from a byte
** range and never past it: PLAIN, the RLE/bit-packed hybrid (levels,
** dictionary indices, RLE booleans), DELTA_BINARY_PACKED,
** DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT. Each
** function returns NULL or a fixed text saying what is wrong; the caller
** names the file, row group, column and page.
*/
#include <string.h>

#include "base/alloc.h"
#include "io/parquet_read.h"

/* Unsigned LEB128, as in the page encodings (not zigzag). */
static const char *uvarint(const uint8_t **pp, const uint8_t *e, uint64_t *v) {
  const uint8_t *p = *pp;
  uint64_t x = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= e) return "integer cut short";
    uint8_t b = *p++;
    if (shift == 63 && (b & 0x7e)) return "integer too long";
    x |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) { *v = x; *pp = p; return NULL; }
  }
  return "integer too long";
}

static const char *zigzag(const uint8_t **pp, const uint8_t *e, int64_t *v) {
  uint64_t u;
  const char *bad = uvarint(pp, e, &u);
  if (!bad) *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
  return bad;
}

/* Bits [bit, bit + bw) of p, bw <= 32; the caller has checked that they lie
** before e. */
static uint32_t unpack32(const uint8_t *p, const uint8_t *e, uint64_t bit, int bw) {
  const uint8_t *q = p + (bit >> 3);
  int shift = (int)(bit & 7);
  uint64_t w = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (e - q >= 8) {
    memcpy(&w, q, 8);
  } else
#endif
  {
    int nb = (shift + bw + 7) / 8;
    for (int k = 0; k < nb; k++) w |= (uint64_t)q[k] << (8 * k);
  }
  return (uint32_t)((w >> shift) & (((uint64_t)1 << bw) - 1));
}

/* The same for bw <= 64. */
static uint64_t unpack64(const uint8_t *p, uint64_t bit, int bw) {
  if (bw == 0) return 0;
  const uint8_t *q = p + (bit >> 3);
  int shift = (int)(bit & 7), nb = (shift + bw + 7) / 8;
  unsigned __int128 acc = 0;
  for (int k = 0; k < nb; k++) acc |= (unsigned __int128)q[k] << (8 * k);
  acc >>= shift;
  return bw == 64 ? (uint64_t)acc : (uint64_t)acc & (((uint64_t)1 << bw) - 1);
}

const char *pq_rle_decode(const uint8_t *p, const uint8_t *e, int bw, int64_t n, uint32_t *out) {
  int64_t k = 0;
  int vbytes = (bw + 7) / 8;
  while (k < n) {
    uint64_t h;
    if (uvarint(&p, e, &h)) return "levels or indices cut short";
    if (h & 1) {                                 /* bit-packed groups of 8 */
      uint64_t groups = h >> 1, avail = (uint64_t)(e - p);
      if (bw > 0 && groups > avail / (uint64_t)bw) return "bit-packed run past the end";
      uint64_t count = groups > (uint64_t)n ? (uint64_t)n * 8 : groups * 8;
      const uint8_t *re = p + groups * (uint64_t)bw;
      if (bw == 0) {
        for (uint64_t j = 0; j < count && k < n; j++) out[k++] = 0;
      } else {
        for (uint64_t j = 0; j < count && k < n; j++) out[k++] = unpack32(p, re, j * bw, bw);
      }
      p = re;
    } else {                                     /* a run of one value */
      uint64_t run = h >> 1;
      if (e - p < vbytes) return "repeated value past the end";
      uint64_t v = 0;
      for (int b = 0; b < vbytes; b++) v |= (uint64_t)p[b] << (8 * b);
      p += vbytes;
      if (bw < 32 && v >> bw) return "repeated value wider than its bit width";
      if (run > (uint64_t)(n - k)) run = (uint64_t)(n - k);
      for (uint64_t j = 0; j < run; j++) out[k++] = (uint32_t)v;
    }
  }
  return NULL;
}

const char *pq_delta_ints(const uint8_t *p, const uint8_t *e, int64_t n, int is32,
                          int64_t *out, const uint8_t **end) {
  uint64_t bs, mb, total;
  int64_t first;
  const char *bad;
  if ((bad = uvarint(&p, e, &bs)) || (bad = uvarint(&p, e, &mb)) ||
      (bad = uvarint(&p, e, &total)) || (bad = zigzag(&p, e, &first)))
    return "delta header cut short";
  if (bs == 0 || bs % 128 != 0 || bs > (1u << 20) || mb == 0 || bs % mb != 0 ||
      (bs / mb) % 32 != 0)
    return "delta header: bad block or miniblock size";
  if (total < (uint64_t)n) return "delta: fewer values than the page holds";
  uint64_t per = bs / mb, last = (uint64_t)first, k = 1;
  if (total == 0) { *end = p; return NULL; }
  if (n > 0) out[0] = is32 ? (int32_t)(uint32_t)last : (int64_t)last;
  while (k < total) {
    int64_t min_delta;
    if (zigzag(&p, e, &min_delta)) return "delta block cut short";
    if ((uint64_t)(e - p) < mb) return "delta block: bit widths cut short";
    const uint8_t *widths = p;
    p += mb;
    for (uint64_t i = 0; i < mb && k < total; i++) {
      int w = widths[i];
      if (w > 64) return "delta block: bit width over 64";
      uint64_t bytes = per * (uint64_t)w / 8;
      if (bytes > (uint64_t)(e - p)) return "delta miniblock past the end";
      for (uint64_t j = 0; j < per && k < total; j++, k++) {
        last += (uint64_t)min_delta + unpack64(p, j * (uint64_t)w, w);
        if (k < (uint64_t)n) out[k] = is32 ? (int32_t)(uint32_t)last : (int64_t)last;
      }
      p += bytes;
    }
  }
  *end = p;
  return NULL;
}

/* The lengths of DELTA_LENGTH_BYTE_ARRAY, then spans of the bytes after them. */
static const char *lengths_spans(const uint8_t *p, const uint8_t *e, int64_t n, pv *out,
                                 const uint8_t **end) {
  int64_t *len = tl_alloc((size_t)(n ? n : 1) * sizeof *len);
  if (!len) return "out of memory";
  const uint8_t *q;
  const char *bad = pq_delta_ints(p, e, n, 1, len, &q);
  for (int64_t k = 0; !bad && k < n; k++) {
    if (len[k] < 0 || len[k] > e - q) { bad = "byte array length past the end"; break; }
    out[k].s.p = q;
    out[k].s.n = (uint32_t)len[k];
    q += len[k];
  }
  tl_free(len);
  if (!bad && end) *end = q;
  return bad;
}

const char *pq_delta_lengths(const uint8_t *p, const uint8_t *e, int64_t n, pv *out) {
  return lengths_spans(p, e, n, out, NULL);
}

const char *pq_delta_strings(const uint8_t *p, const uint8_t *e, int64_t n, pv *out,
                             uint8_t **scratch) {
  *scratch = NULL;
  int64_t *pre = tl_alloc((size_t)(n ? n : 1) * sizeof *pre);
  if (!pre) return "out of memory";
  const uint8_t *q;
  const char *bad = pq_delta_ints(p, e, n, 1, pre, &q);
  if (!bad) bad = lengths_spans(q, e, n, out, NULL);
  uint64_t total = 0, prev = 0;
  for (int64_t k = 0; !bad && k < n; k++) {
    if (pre[k] < 0 || (uint64_t)pre[k] > prev) { bad = "prefix longer than the value before"; break; }
    prev = (uint64_t)pre[k] + out[k].s.n;
    if (prev > UINT32_MAX) { bad = "value over 4 GiB"; break; }
    total += prev;
    if (total > ((uint64_t)1 << 30)) { bad = "values of over 1 GiB in one page"; break; }
  }
  uint8_t *buf = bad ? NULL : tl_alloc(total ? (size_t)total : 1);
  if (!bad && !buf) bad = "out of memory";
  uint8_t *w = buf;
  const uint8_t *before = NULL;
  for (int64_t k = 0; !bad && k < n; k++) {
    if (pre[k]) memcpy(w, before, (size_t)pre[k]);
    memcpy(w + pre[k], out[k].s.p, out[k].s.n);
    out[k].s.n += (uint32_t)pre[k];
    out[k].s.p = w;
    before = w;
    w += out[k].s.n;
  }
  tl_free(pre);
  if (bad) tl_free(buf);
  else *scratch = buf;
  return bad;
}

/* A value of `width` bytes (4 or 8) little-endian at b, as its pv. */
static pv fixed_value(const uint8_t *b, int32_t type) {
  pv v;
  switch (type) {
    case PQ_INT32: v.i = (int32_t)pq_le32(b); break;
    case PQ_INT64: v.i = (int64_t)pq_le64(b); break;
    case PQ_FLOAT: {
      uint32_t u = pq_le32(b);
      float f;
      memcpy(&f, &u, 4);
      v.f = f;
      break;
    }
    default: {
      uint64_t u = pq_le64(b);
      memcpy(&v.f, &u, 8);
    }
  }
  return v;
}

const char *pq_byte_stream_split(const uint8_t *p, const uint8_t *e, int64_t n, int32_t type,
                                 int width, pv *out, uint8_t **scratch) {
  *scratch = NULL;
  if (width <= 0) return "BYTE_STREAM_SPLIT of a type without a fixed width";
  uint64_t stride = (uint64_t)(e - p) / (uint64_t)width;
  if (stride < (uint64_t)n) return "values run past the end of the page";
  if (type == PQ_FLBA) {
    uint8_t *buf = tl_alloc((size_t)n * (size_t)width + 1);
    if (!buf) return "out of memory";
    for (int64_t k = 0; k < n; k++) {
      for (int b = 0; b < width; b++) buf[k * width + b] = p[(uint64_t)b * stride + (uint64_t)k];
      out[k].s.p = buf + k * width;
      out[k].s.n = (uint32_t)width;
    }
    *scratch = buf;
    return NULL;
  }
  if (width != 4 && width != 8) return "BYTE_STREAM_SPLIT of this type";
  for (int64_t k = 0; k < n; k++) {
    uint8_t b8[8];
    for (int b = 0; b < width; b++) b8[b] = p[(uint64_t)b * stride + (uint64_t)k];
    out[k] = fixed_value(b8, type);
  }
  return NULL;
}

const char *pq_plain(const uint8_t *p, const uint8_t *e, int64_t n, int32_t type, int width,
                     pv *out) {
  size_t avail = (size_t)(e - p);
  size_t w = type == PQ_INT32 || type == PQ_FLOAT ? 4 : type == PQ_INT64 || type == PQ_DOUBLE ? 8
           : type == PQ_INT96 ? 12 : type == PQ_FLBA ? (size_t)width : 0;
  if (type == PQ_BOOLEAN) {
    if ((size_t)(n + 7) / 8 > avail) return "booleans run past the end of the page";
    for (int64_t k = 0; k < n; k++) out[k].i = (p[k >> 3] >> (k & 7)) & 1;
    return NULL;
  }
  if (type == PQ_BYTE_ARRAY) {
    for (int64_t k = 0; k < n; k++) {
      if (e - p < 4) return "byte array length cut short";
      uint32_t len = pq_le32(p);
      if (len > (uint64_t)(e - p - 4)) return "byte array length past the end";
      out[k].s.p = p + 4;
      out[k].s.n = len;
      p += 4 + (size_t)len;
    }
    return NULL;
  }
  if (w == 0) return type == PQ_FLBA ? "fixed-length byte arrays of no length" : "unknown type";
  if ((size_t)n > avail / w) return "values run past the end of the page";
  if (type == PQ_INT96 || type == PQ_FLBA) {
    for (int64_t k = 0; k < n; k++) {
      out[k].s.p = p + w * (size_t)k;
      out[k].s.n = (uint32_t)w;
    }
    return NULL;
  }
  for (int64_t k = 0; k < n; k++) out[k] = fixed_value(p + w * (size_t)k, type);
  return NULL;
}
