/*
** csv_unzip.c -- compressed CSV: input that opens with the magic bytes of
** gzip (1f 8b) or zstd (28 b5 2f fd), whatever the file is called, is
** decompressed whole into one buffer, which the reader then reads as it
** reads a file (the same table, errors, rejects and line numbers).
**
** Memory: the reader reads one buffer, so the decompressed text is held in
** memory whole, allocated under the current env (its memory limit counts
** it) and freed when the read ends; the compressed file is mapped, not
** copied. The buffer starts at the size the stream declares (zstd's frame
** header, gzip's trailer), bounded by 64 times the input, and doubles as
** needed. Several gzip
** members or zstd frames one after the other are one text, as gzip -d and
** zstd -d read them.
*/
#include <stdint.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "csv.h"

#define STEP ((size_t)1 << 20)          /* bytes fed between looks at the interrupt */
#define FIRST_MAX ((size_t)1 << 30)     /* a declared size trusted up to this */

int tl_csv_compression(const void *data, size_t len) {
  const unsigned char *p = data;
  if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b) return TL_CSV_GZIP;
  if (len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) return TL_CSV_ZSTD;
  return 0;
}

/* The output buffer: grown by doubling, under the env's limit. */
typedef struct obuf {
  char *p;
  size_t len, cap;
} obuf;

static int ensure(obuf *o, size_t room) {
  char *q = tl_grow(o->p, &o->cap, o->len, room, STEP);
  if (q) o->p = q;
  return q != NULL;
}

/* A declared size is trusted up to 64 times the input (a damaged or
** truncated stream declares anything), else the text is taken to be four
** times the input; the buffer doubles from there. */
static size_t first_size(size_t declared, size_t n) {
  size_t most = n < SIZE_MAX / 64 ? 64 * n : SIZE_MAX;
  size_t guess = declared ? (declared < most ? declared : most) : (n < SIZE_MAX / 4 ? 4 * n : n);
  if (guess > FIRST_MAX) guess = FIRST_MAX;
  return guess + 1 > STEP ? guess + 1 : STEP;
}

static tl_status damaged(const char *name, const char *codec, const char *why, tl_error *err) {
  return tl_error_set(err, TL_EINVAL, "read_csv: %s: %s: damaged data (%s)", name, codec,
                      why ? why : "bad data");
}

static tl_status truncated(const char *name, const char *codec, tl_error *err) {
  return tl_error_set(err, TL_EINVAL,
                      "read_csv: %s: %s: truncated (the data ends before the end of the stream)",
                      name, codec);
}

static tl_status gunzip(const unsigned char *src, size_t n, const char *name, obuf *o,
                        tl_error *err) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 15 + 16) != Z_OK) return tl_error_oom(err, "read_csv");
  uint32_t isize = 0;
  if (n >= 18) memcpy(&isize, src + n - 4, 4);   /* the last member's size mod 2^32 */
  tl_status st = ensure(o, first_size(isize, n)) ? TL_OK : tl_error_oom(err, "read_csv");
  size_t at = 0;
  int ended = 0;
  while (st == TL_OK) {
    if (ended) {   /* another member, or the end */
      if (at == n) break;
      if (n - at < 2 || src[at] != 0x1f || src[at + 1] != 0x8b) {
        st = tl_error_set(err, TL_EINVAL, "read_csv: %s: gzip: bytes after the end of the "
                          "compressed data", name);
        break;
      }
      inflateReset(&z);
      ended = 0;
    }
    if (tl_interrupted()) { st = tl_error_interrupted(err, "read_csv"); break; }
    if (!ensure(o, STEP)) { st = tl_error_oom(err, "read_csv"); break; }
    size_t in = n - at < STEP ? n - at : STEP;
    z.next_in = (unsigned char *)(uintptr_t)(src + at);
    z.avail_in = (uInt)in;
    z.next_out = (unsigned char *)o->p + o->len;
    z.avail_out = (uInt)(o->cap - o->len < UINT32_MAX ? o->cap - o->len : UINT32_MAX);
    uInt out0 = z.avail_out;
    int rc = inflate(&z, Z_NO_FLUSH);
    at += in - z.avail_in;
    o->len += out0 - z.avail_out;
    if (rc == Z_STREAM_END) ended = 1;
    else if (rc == Z_MEM_ERROR) st = tl_error_oom(err, "read_csv");
    else if (rc != Z_OK && rc != Z_BUF_ERROR) st = damaged(name, "gzip", z.msg, err);
    else if (at == n && z.avail_out > 0) st = truncated(name, "gzip", err);
  }
  inflateEnd(&z);
  return st;
}

static tl_status unzstd(const unsigned char *src, size_t n, const char *name, obuf *o,
                        tl_error *err) {
  ZSTD_DCtx *dc = ZSTD_createDCtx();
  if (!dc) return tl_error_oom(err, "read_csv");
  unsigned long long declared = ZSTD_getFrameContentSize(src, n);
  if (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR) declared = 0;
  tl_status st = ensure(o, first_size(declared < FIRST_MAX ? (size_t)declared : FIRST_MAX, n))
                     ? TL_OK : tl_error_oom(err, "read_csv");
  ZSTD_inBuffer in = { src, 0, 0 };
  size_t left = 1;   /* 0: at the end of a frame */
  while (st == TL_OK && (in.pos < n || left != 0)) {
    if (tl_interrupted()) { st = tl_error_interrupted(err, "read_csv"); break; }
    if (!ensure(o, STEP)) { st = tl_error_oom(err, "read_csv"); break; }
    in.size = n - in.pos < STEP ? n : in.pos + STEP;
    ZSTD_outBuffer out = { o->p + o->len, o->cap - o->len, 0 };
    left = ZSTD_decompressStream(dc, &out, &in);
    o->len += out.pos;
    if (ZSTD_isError(left)) st = damaged(name, "zstd", ZSTD_getErrorName(left), err);
    else if (left != 0 && in.pos == n && out.pos < out.size) st = truncated(name, "zstd", err);
  }
  ZSTD_freeDCtx(dc);
  return st;
}

tl_status tl_csv_decompress(const void *data, size_t len, int kind, const char *name,
                            char **out, size_t *outlen, tl_error *err) {
  obuf o = { NULL, 0, 0 };
  tl_status st = kind == TL_CSV_GZIP ? gunzip(data, len, name, &o, err)
                                     : unzstd(data, len, name, &o, err);
  if (st != TL_OK) {
    tl_free(o.p);
    return st;
  }
  *out = o.p;
  *outlen = o.len;
  return TL_OK;
}
