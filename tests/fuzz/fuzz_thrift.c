/*
** fuzz_thrift.c -- the Thrift compact-protocol reader on any bytes: skipped
** as a struct, read as a Parquet footer (FileMetaData), and, behind a
** Parquet file's magic and footer length, read as a whole file. None may
** read out of bounds; a footer that reads must also skip as a struct.
*/
#include "fuzz.h"

#include "io/parquet.h"
#include "io/thrift.h"

/* Every primitive reader in turn from the input, until one fails. */
static void primitives(const uint8_t *data, size_t size) {
  th_reader r;
  th_init(&r, data, size);
  for (int k = 0; r.p < r.end; k++) {
    uint64_t u;
    int64_t i;
    int32_t x;
    int16_t h;
    double d;
    const uint8_t *p;
    uint32_t n;
    uint8_t t;
    int rc;
    switch (k % 6) {
      case 0: rc = th_varint(&r, &u); break;
      case 1: rc = th_i64(&r, &i); break;
      case 2: rc = th_i32(&r, &x); break;
      case 3: rc = th_i16(&r, &h); break;
      case 4: rc = th_double(&r, &d); break;
      default: rc = th_binary(&r, &p, &n); if (rc == 0) FUZZ_ASSERT(p + n <= r.end, "binary"); break;
    }
    FUZZ_ASSERT(r.p <= r.end, "read past the end");
    if (rc < 0) { FUZZ_ASSERT(r.msg != NULL, "failure without a message"); break; }
    (void)t;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  th_reader r;
  th_init(&r, data, size);
  int skipped = th_skip(&r, TH_STRUCT);
  FUZZ_ASSERT(r.p <= r.end, "skip read past the end");
  FUZZ_ASSERT(skipped == 0 || r.msg != NULL, "failure without a message");

  pq_meta m;
  const char *msg = NULL;
  size_t where = 0;
  int rc = pq_meta_read(data, size, &m, &msg, &where);
  FUZZ_ASSERT(rc == 0 || (msg && where <= size), "footer failure without a place");
  FUZZ_ASSERT(rc < 0 || skipped == 0, "a footer that reads but does not skip");
  pq_meta_free(&m);

  primitives(data, size);

  /* the input as the footer of a file with no data pages */
  uint8_t *file = malloc(size + 12);
  if (!file) return 0;
  memcpy(file, "PAR1", 4);
  memcpy(file + 4, data, size);
  uint32_t len = (uint32_t)size;
  for (int k = 0; k < 4; k++) file[4 + size + k] = (uint8_t)(len >> (8 * k));
  memcpy(file + 8 + size, "PAR1", 4);
  tl_table *t = NULL;
  tl_error err = { 0 };
  if (tl_read_parquet_buffer(file, size + 12, "fuzz.parquet", NULL, &t, &err) == TL_OK) {
    fuzz_touch(t);
    tl_table_release(t);
  } else {
    FUZZ_ASSERT(strncmp(err.message, "read_parquet: fuzz.parquet: ", 28) == 0, "message %s",
                err.message);
  }
  free(file);
  return 0;
}
