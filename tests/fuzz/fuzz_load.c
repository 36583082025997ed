/*
** fuzz_load.c -- the table file loader on any bytes, written to a file
** first since the loader maps files. A file that loads must read back in
** full without a fault.
*/
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64];
  if (!path[0]) snprintf(path, sizeof path, "/tmp/tally-fuzz-load-%ld.tally", (long)getpid());
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  if (size && fwrite(data, 1, size, f) != size) { fclose(f); return 0; }
  if (fclose(f) != 0) return 0;
  tl_table *t = NULL;
  tl_error err = { 0 };
  tl_status st = tl_table_load(path, &t, &err);
  unlink(path);
  if (st == TL_OK) {
    fuzz_touch(t);
    /* and once more through the verbs that walk every value */
    tl_table *d = NULL;
    if (tl_table_distinct(t, 0, NULL, &d, &err) == TL_OK) tl_table_release(d);
    tl_table_release(t);
  } else {
    FUZZ_ASSERT(err.message[0] != '\0', "status %d without a message", (int)st);
  }
  return 0;
}
