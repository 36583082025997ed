/*
** fuzz_csvgz.c -- compressed CSV through the reader. The first byte
** chooses: its low bit 0, the rest is text, compressed here with gzip
** (zlib) or zstd (bit 1) and read both ways, which must give the same
** table or the same error (the name aside); its low bit 1, the rest is
** taken as a gzip or zstd stream (the magic bytes put in front), damaged
** as it may be, which must read or fail without a crash.
*/
#include <zlib.h>
#include <zstd.h>

#include "fuzz.h"

static size_t gzip_of(const uint8_t *p, size_t n, uint8_t **out) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
  size_t cap = deflateBound(&z, (uLong)n) + 32;
  *out = malloc(cap);
  z.next_in = (Bytef *)(uintptr_t)p;
  z.avail_in = (uInt)n;
  z.next_out = *out;
  z.avail_out = (uInt)cap;
  int rc = deflate(&z, Z_FINISH);
  size_t len = rc == Z_STREAM_END ? cap - z.avail_out : 0;
  deflateEnd(&z);
  return len;
}

static size_t zstd_of(const uint8_t *p, size_t n, uint8_t **out) {
  size_t cap = ZSTD_compressBound(n);
  *out = malloc(cap);
  size_t len = ZSTD_compress(*out, cap, p, n, 3);
  return ZSTD_isError(len) ? 0 : len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > (1 << 16)) return 0;
  unsigned flags = data[0];
  const uint8_t *rest = data + 1;
  size_t n = size - 1;
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.on_error = flags & 4 ? TL_CSV_SKIP : TL_CSV_FAIL;
  if (flags & 1) {   /* a stream as it comes */
    static const uint8_t gz[2] = { 0x1f, 0x8b }, zs[4] = { 0x28, 0xb5, 0x2f, 0xfd };
    size_t m = flags & 2 ? 4 : 2;
    uint8_t *buf = malloc(n + m);
    memcpy(buf, flags & 2 ? zs : gz, m);
    memcpy(buf + m, rest, n);
    tl_table *t = NULL;
    tl_error err = { 0 };
    if (tl_read_csv_buffer((const char *)buf, n + m, "fuzz.csv.gz", &o, &t, &err) == TL_OK)
      fuzz_touch(t);
    tl_table_release(t);
    free(buf);
    return 0;
  }
  if ((n >= 2 && rest[0] == 0x1f && rest[1] == 0x8b) ||
      (n >= 4 && rest[0] == 0x28 && rest[1] == 0xb5 && rest[2] == 0x2f && rest[3] == 0xfd))
    return 0;   /* text that opens as a compressed stream is one */
  uint8_t *z = NULL;
  size_t zn = flags & 2 ? zstd_of(rest, n, &z) : gzip_of(rest, n, &z);
  if (zn > 0) {
    tl_table *a = NULL, *b = NULL;
    tl_error ea = { 0 }, eb = { 0 };
    tl_status sa = tl_read_csv_buffer((const char *)rest, n, "f", &o, &a, &ea);
    tl_status sb = tl_read_csv_buffer((const char *)z, zn, "f", &o, &b, &eb);
    FUZZ_ASSERT(sa == sb, "status %d plain, %d compressed (%s | %s)", (int)sa, (int)sb,
                ea.message, eb.message);
    if (sa == TL_OK) FUZZ_ASSERT(fuzz_same(a, b), "another table when compressed");
    else FUZZ_ASSERT(strcmp(ea.message, eb.message) == 0, "\"%s\" plain, \"%s\" compressed",
                     ea.message, eb.message);
    tl_table_release(a);
    tl_table_release(b);
  }
  free(z);
  return 0;
}
