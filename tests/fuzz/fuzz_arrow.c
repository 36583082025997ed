/*
** fuzz_arrow.c -- the Arrow IPC reader on any bytes, read from memory (the
** same code as a mapped file: the copy is aligned as a mapping is). A table
** that reads must read back in full without a fault; a failure must name
** the operation and the input. A table that reads is written again (for one
** input in 16: files are slow) and must read back the same.
*/
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tl_table *t = NULL;
  tl_error err = { 0 };
  tl_status st = tl_read_arrow_buffer(data, size, "fuzz.arrow", NULL, &t, &err);
  if (st != TL_OK) {
    FUZZ_ASSERT(st == TL_ENOMEM || strncmp(err.message, "read_arrow: fuzz.arrow: ", 24) == 0,
                "message %s", err.message);
    return 0;
  }
  fuzz_touch(t);
  if (size % 16 != 0) {   /* writing a file is slow: one input in 16 */
    tl_table_release(t);
    return 0;
  }
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "/tmp/tally-fuzz-arrow-%ld.arrow", (long)getpid());
  tl_arrow_write_options o;
  tl_arrow_write_options_init(&o);
  o.compression = size % 3 == 0 ? TL_ARROW_ZSTD : TL_ARROW_UNCOMPRESSED;
  if (tl_write_arrow(t, path, &o, &err) == TL_OK) {
    tl_table *u = NULL;
    FUZZ_ASSERT(tl_read_arrow(path, NULL, &u, &err) == TL_OK, "rereading: %s", err.message);
    FUZZ_ASSERT(fuzz_same(t, u), "the table written does not read back the same");
    tl_table_release(u);
    unlink(path);
  }
  tl_table_release(t);
  return 0;
}
