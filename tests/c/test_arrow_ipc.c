/*
** test_arrow_ipc.c -- the flatbuffer builder and reader (core/io/flatbuf.c)
** on each other's output and on every truncation of it; Arrow IPC files
** written by tally: a dictionary column stays a dictionary with its codes,
** an uncompressed file's columns stand on the mapped file while a
** compressed one's are copies, and the exact text of some errors.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/column.h"
#include "check.h"
#include "io/flatbuf.h"
#include "tally/tally.h"

/* A table {a: int, s: string, v: vector of longs, t: {x: i16}}. */
static const uint8_t *build(fbb *b, size_t *len) {
  static const int64_t longs[3] = { 1, -2, INT64_MAX };
  fbb_init(b);
  fb_ref s = fbb_string(b, "hello", 5);
  fb_ref v = fbb_vector(b, longs, 3, 8, 8);
  fbb_start(b);
  fbb_add_i16(b, 0, -7);
  fb_ref inner = fbb_end(b);
  fb_ref vt = fbb_vector_refs(b, &inner, 1);
  fbb_start(b);
  fbb_add_i64(b, 0, 1234567890123LL);
  fbb_add_ref(b, 1, s);
  fbb_add_ref(b, 2, v);
  fbb_add_ref(b, 3, inner);
  fbb_add_ref(b, 5, vt);
  fbb_add_u8(b, 6, 9);
  return fbb_finish(b, fbb_end(b), len);
}

static void test_flatbuf(void) {
  fbb b;
  size_t len;
  const uint8_t *p = build(&b, &len);
  CHECK(p != NULL && len % 8 == 0);
  fb_table t, in, el;
  fb_vec v, vt;
  const char *msg, *s;
  uint32_t slen;
  int64_t x;
  int16_t h;
  uint8_t u;
  CHECK(fb_root(p, len, &t, &msg) == 0);
  CHECK(fb_i64(&t, 0, 0, &x, &msg) == 1 && x == 1234567890123LL);
  CHECK(fb_string(&t, 1, &s, &slen, &msg) == 1 && slen == 5 && memcmp(s, "hello", 5) == 0);
  CHECK(fb_vector(&t, 2, 8, &v, &msg) == 1 && v.len == 3 && fb_vec_i64(&v, 2) == INT64_MAX &&
        fb_vec_i64(&v, 1) == -2);
  CHECK(fb_table_field(&t, 3, &in, &msg) == 1 && fb_i16(&in, 0, 0, &h, &msg) == 1 && h == -7);
  CHECK(fb_table_field(&t, 4, &in, &msg) == 0);                 /* absent */
  CHECK(fb_u8(&t, 6, 0, &u, &msg) == 1 && u == 9);
  CHECK(fb_i64(&t, 40, 77, &x, &msg) == 0 && x == 77);          /* past the vtable */
  CHECK(fb_vector(&t, 5, 4, &vt, &msg) == 1 && vt.len == 1 &&
        fb_vec_table(&vt, 0, &el, &msg) == 0 && fb_i16(&el, 0, 0, &h, &msg) == 1 && h == -7);
  /* every truncation: an error or values read inside the shorter buffer
  ** (ASan checks the second); the copy is exactly as long */
  for (size_t n = 0; n < len; n++) {
    uint8_t *cut = malloc(n + 1);
    memcpy(cut, p, n);
    if (fb_root(cut, n, &t, &msg) == 0) {
      (void)fb_i64(&t, 0, 0, &x, &msg);
      if (fb_string(&t, 1, &s, &slen, &msg) == 1) CHECK((const uint8_t *)s + slen <= cut + n);
      if (fb_vector(&t, 2, 8, &v, &msg) == 1) CHECK(v.pos + (size_t)v.len * 8 <= n);
      if (fb_table_field(&t, 3, &in, &msg) == 1) (void)fb_i16(&in, 0, 0, &h, &msg);
    } else {
      CHECK(msg != NULL);
    }
    free(cut);
  }
  fbb_free(&b);
}

static tl_table *make_table(void) {
  static const int64_t ints[5] = { 10, 20, 30, 40, 50 };
  static const int64_t doff[4] = { 0, 5, 10, 14 };
  static const int32_t codes[5] = { 2, 0, 0, 1, 2 };
  tl_column *d, *cols[3];
  tl_builder *b;
  CHECK(tl_column_wrap_strings(3, doff, "northsoutheast", NULL, NULL, NULL, &d, NULL) == TL_OK);
  CHECK(tl_column_wrap_dictionary(5, codes, d, NULL, NULL, NULL, &cols[0], NULL) == TL_OK);
  CHECK(tl_column_wrap(TL_INT, 5, ints, NULL, NULL, NULL, &cols[1], NULL) == TL_OK);
  CHECK(tl_builder_new(TL_STRING, 5, &b, NULL) == TL_OK);
  for (int i = 0; i < 5; i++) {
    if (i == 3) CHECK(tl_builder_append_null(b, NULL) == TL_OK);
    else CHECK(tl_builder_append_string(b, "xyz", (size_t)i, NULL) == TL_OK);
  }
  CHECK(tl_builder_finish(b, &cols[2], NULL) == TL_OK);
  const char *names[3] = { "zone", "n", "s" };
  tl_table *t;
  CHECK(tl_table_new(3, names, cols, &t, NULL) == TL_OK);
  for (int j = 0; j < 3; j++) tl_column_release(cols[j]);
  tl_column_release(d);
  return t;
}

static void test_files(const char *path) {
  tl_table *t = make_table(), *u;
  tl_arrow_write_options o;
  tl_error err;
  tl_arrow_write_options_init(&o);
  for (int codec = 0; codec <= 2; codec++) {
    o.compression = (tl_arrow_compression)codec;
    CHECK(tl_write_arrow(t, path, &o, &err) == TL_OK);
    CHECK(tl_read_arrow(path, NULL, &u, &err) == TL_OK);
    const tl_column *zone = tl_table_column(u, 0), *n = tl_table_column(u, 1);
    const tl_column *s = tl_table_column(u, 2);
    CHECK(tl_column_dictionary(zone) != NULL && tl_column_dictionary(zone)->length == 3);
    CHECK(tl_column_codes(zone)[0] == 2 && tl_column_codes(zone)[3] == 1);
    CHECK(tl_column_ints(n)[4] == 50 && tl_column_null_count(s) == 1);
    size_t len;
    CHECK(strncmp(tl_column_string_at(s, 4, &len), "xyzx", 4) == 0 || len == 4);
    /* mapped: the columns check the file before each use; copies need not */
    int mapped = codec == 0;
    CHECK((n->check != NULL) == mapped && (s->check != NULL) == mapped &&
          (zone->check != NULL) == mapped && (zone->dict->check != NULL) == mapped);
    tl_table_release(u);
  }
  /* exact errors */
  CHECK(truncate(path, 100) == 0);
  CHECK(tl_read_arrow(path, NULL, &u, &err) == TL_EPARSE);
  char want[256];
  snprintf(want, sizeof want, "read_arrow: %s: footer: truncated file (it does not end with "
           "ARROW1)", path);
  CHECK_STR(err.message, want);
  static const char junk[] = "not arrow at all";
  CHECK(tl_read_arrow_buffer(junk, sizeof junk, "j.arrow", NULL, &u, &err) == TL_EPARSE);
  CHECK_STR(err.message, "read_arrow: j.arrow: schema: not an Arrow IPC file or stream (no "
            "ARROW1 magic, no message)");
  tl_table_release(t);
}

int main(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/tally_arrow_ipc_%ld.arrow", (long)getpid());
  test_flatbuf();
  test_files(path);
  unlink(path);
  return check_done("test_arrow_ipc");
}
