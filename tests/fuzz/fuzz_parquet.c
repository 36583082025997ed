/*
** fuzz_parquet.c -- read_parquet on any bytes as a whole file: footer, page
** headers, codecs, levels and every encoding. A file that reads is touched
** value by value and read again with only its last column, which must give
** that column's rows; a file that does not is an error naming it.
*/
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tl_table *t = NULL;
  tl_error err = { 0 };
  if (tl_read_parquet_buffer(data, size, "fuzz.parquet", NULL, &t, &err) != TL_OK) {
    FUZZ_ASSERT(strncmp(err.message, "read_parquet: fuzz.parquet: ", 28) == 0, "message %s",
                err.message);
    return 0;
  }
  fuzz_touch(t);
  int n = tl_table_ncols(t);
  if (n > 0) {
    const char *name = tl_table_name(t, n - 1);
    tl_parquet_options o;
    tl_parquet_options_init(&o);
    o.columns = &name;
    o.ncolumns = 1;
    tl_table *one = NULL;
    tl_status st = tl_read_parquet_buffer(data, size, "fuzz.parquet", &o, &one, &err);
    FUZZ_ASSERT(st == TL_OK, "the whole file reads but not its column '%s': %s", name,
                err.message);
    FUZZ_ASSERT(tl_table_nrows(one) == tl_table_nrows(t), "rows");
    tl_table_release(one);
  }
  tl_table_release(t);
  return 0;
}
