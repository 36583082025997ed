/*
** fuzz_flatbuf.c -- the flatbuffer reader on any bytes: from the root,
** every scalar, string, vector and sub-table of the first fields is read,
** and the tables of vectors and sub-tables two levels down. Nothing may be
** read outside the input (ASan sees the exact-size copy); every failure has
** a message.
*/
#include "fuzz.h"

#include "io/flatbuf.h"

static void walk(const fb_table *t, int depth, const uint8_t *end) {
  const char *msg = NULL, *s;
  uint32_t len;
  for (int id = 0; id < 8; id++) {
    uint8_t u;
    int16_t h;
    int32_t i;
    int64_t l;
    fb_vec v;
    fb_table sub;
    if (fb_u8(t, id, 0, &u, &msg) < 0) FUZZ_ASSERT(msg, "no message");
    if (fb_i16(t, id, 0, &h, &msg) < 0) FUZZ_ASSERT(msg, "no message");
    if (fb_i32(t, id, 0, &i, &msg) < 0) FUZZ_ASSERT(msg, "no message");
    if (fb_i64(t, id, 0, &l, &msg) < 0) FUZZ_ASSERT(msg, "no message");
    if (fb_string(t, id, &s, &len, &msg) == 1)
      FUZZ_ASSERT((const uint8_t *)s + len <= end, "string past the end");
    if (fb_vector(t, id, 16, &v, &msg) == 1 && v.len)
      (void)fb_load_i64(fb_vec_struct(&v, v.len - 1) + 8);
    if (depth < 2 && fb_vector(t, id, 4, &v, &msg) == 1)
      for (uint32_t k = 0; k < v.len && k < 16; k++)
        if (fb_vec_table(&v, k, &sub, &msg) == 0) walk(&sub, depth + 1, end);
    if (depth < 2 && fb_table_field(t, id, &sub, &msg) == 1) walk(&sub, depth + 1, end);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  fb_table t;
  const char *msg = NULL;
  if (fb_root(copy, size, &t, &msg) == 0) walk(&t, 0, copy + size);
  else FUZZ_ASSERT(msg, "no message");
  free(copy);
  return 0;
}
