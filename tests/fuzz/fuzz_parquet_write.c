/*
** fuzz_parquet_write.c -- write_parquet's round trip: a table built from the
** bytes (fuzz_table.h: every type, nulls, NaN, low- and high-cardinality
** strings, dictionary columns, strings that may not be UTF-8) is written
** with the codec and row group size the bytes pick, read back and compared
** value by value. A table the writer refuses (only invalid UTF-8) is an
** error naming the operation, and leaves no file behind.
*/
#include <unistd.h>

#include "fuzz_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const codecs[] = { "zstd", "snappy", "gzip", "lz4", "none" };
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "/tmp/tally-fuzz-pqw-%ld.parquet", (long)getpid());
  if (size < 1) return 0;
  tl_table *t = NULL, *u = NULL;
  tl_error err = { 0 };
  if (fuzz_table(data + 1, size - 1, &t, &err) != TL_OK) return 0;
  tl_parquet_write_options o;
  tl_parquet_write_options_init(&o);
  o.compression = codecs[data[0] % 5];
  o.row_group_size = data[0] >> 3;   /* 0 (the default) to 31 rows */
  tl_status st = tl_write_parquet(t, path, &o, &err);
  if (st != TL_OK) {
    FUZZ_ASSERT(strncmp(err.message, "write_parquet: ", 15) == 0, "message %s", err.message);
    FUZZ_ASSERT(access(path, F_OK) != 0, "a file left behind after: %s", err.message);
    tl_table_release(t);
    return 0;
  }
  st = tl_read_parquet(path, NULL, &u, &err);
  unlink(path);
  FUZZ_ASSERT(st == TL_OK, "tally's own file does not read: %s", err.message);
  FUZZ_ASSERT(fuzz_same(t, u), "the file reads back other values (%s)", o.compression);
  tl_table_release(u);
  tl_table_release(t);
  return 0;
}
