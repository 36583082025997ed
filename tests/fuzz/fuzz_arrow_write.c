/*
** fuzz_arrow_write.c -- write_arrow's round trip: a table built from the
** bytes (fuzz_table.h) is written as an Arrow IPC file or stream with the
** compression and batch size the bytes pick, read back and compared value
** by value. A table the writer refuses is an error naming the operation, and
** leaves no file behind.
*/
#include <unistd.h>

#include "fuzz_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "/tmp/tally-fuzz-aw-%ld.arrow", (long)getpid());
  if (size < 1) return 0;
  tl_table *t = NULL, *u = NULL;
  tl_error err = { 0 };
  if (fuzz_table(data + 1, size - 1, &t, &err) != TL_OK) return 0;
  tl_arrow_write_options o;
  tl_arrow_write_options_init(&o);
  o.compression = (tl_arrow_compression)(data[0] % 3);
  o.stream = (data[0] >> 2) & 1;
  o.batch_rows = (data[0] >> 3) * 8;   /* 0 (one batch) to 248 rows */
  tl_status st = tl_write_arrow(t, path, &o, &err);
  if (st != TL_OK) {
    FUZZ_ASSERT(strncmp(err.message, "write_arrow: ", 13) == 0, "message %s", err.message);
    FUZZ_ASSERT(access(path, F_OK) != 0, "a file left behind after: %s", err.message);
    tl_table_release(t);
    return 0;
  }
  st = tl_read_arrow(path, NULL, &u, &err);
  unlink(path);
  FUZZ_ASSERT(st == TL_OK, "tally's own file does not read: %s", err.message);
  FUZZ_ASSERT(fuzz_same(t, u), "the file reads back other values");
  tl_table_release(u);
  tl_table_release(t);
  return 0;
}
