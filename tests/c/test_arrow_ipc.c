/*
** test_arrow_ipc.c -- the flatbuffer builder and reader (core/io/flatbuf.c)
** on each other's output and on every truncation of it; Arrow IPC files
** written by tally: a dictionary column stays a dictionary with its codes,
** an uncompressed file's columns stand on the mapped file while a
** compressed one's are copies, and the exact text of some errors; a
** stream built by hand with the types tally does not write.
*/
#include <stdint.h>
#include <stdio.h>
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


/* ---------------------------------------------------------------------------
** A stream built by hand, for the types tally never writes: utf8 (int32
** offsets), date64, timestamp[s], float16 and uint64.
*/

typedef struct bytes { uint8_t buf[4096]; size_t len; } bytes;

static void put(bytes *o, const void *p, size_t n) { memcpy(o->buf + o->len, p, n); o->len += n; }

static void message(bytes *o, fbb *b, uint8_t type, fb_ref header, int64_t body) {
  fbb_start(b);
  fbb_add_i16(b, 0, 4);
  fbb_add_u8(b, 1, type);
  fbb_add_ref(b, 2, header);
  fbb_add_i64(b, 3, body);
  size_t len;
  const uint8_t *p = fbb_finish(b, fbb_end(b), &len);
  uint32_t pre[2] = { 0xFFFFFFFFu, (uint32_t)len };
  put(o, pre, 8);
  put(o, p, len);
}

static fb_ref field(fbb *b, const char *name, uint8_t type, int a, int c) {
  fb_ref nm = fbb_string(b, name, strlen(name));
  fbb_start(b);
  if (type == 2) { fbb_add_i32(b, 0, a); fbb_add_u8(b, 1, (uint8_t)c); }   /* Int */
  else if (type == 3 || type == 8 || type == 10) fbb_add_i16(b, 0, (int16_t)a);
  fb_ref t = fbb_end(b);
  fb_ref kids = fbb_vector_refs(b, NULL, 0);
  fbb_start(b);
  fbb_add_ref(b, 0, nm);
  fbb_add_u8(b, 1, 1);
  fbb_add_u8(b, 2, type);
  fbb_add_ref(b, 3, t);
  fbb_add_ref(b, 5, kids);
  return fbb_end(b);
}

static void test_by_hand(void) {
  bytes o = { .len = 0 };
  fbb b;
  fbb_init(&b);
  fb_ref f[5] = { field(&b, "s", 5, 0, 0), field(&b, "d64", 8, 1, 0), field(&b, "sec", 10, 0, 0),
                  field(&b, "half", 3, 0, 0), field(&b, "u", 2, 64, 0) };
  fb_ref fields = fbb_vector_refs(&b, f, 5);
  fbb_start(&b);
  fbb_add_ref(&b, 1, fields);
  message(&o, &b, 1, fbb_end(&b), 0);
  fbb_free(&b);
  /* the body: 2 rows; row 1 of s is null; buffers at multiples of 8 */
  uint8_t body[256] = { 0 };
  int64_t bufs[11][2];
  size_t at = 0;
#define BUF(k, p, n) (memcpy(body + at, p, n), bufs[k][0] = (int64_t)at, bufs[k][1] = (int64_t)(n), at += ((n) + 7) & ~(size_t)7)
  static const uint8_t valid = 1;
  static const int32_t offs[3] = { 0, 3, 3 };
  static const int64_t ms[2] = { 86400000LL * 3 + 5, -1 }, secs[2] = { 2, -3 };
  static const uint16_t halves[2] = { 0x3c00, 0xc100 };   /* 1.0, -2.5 */
  static const uint64_t us[2] = { 7, UINT64_MAX };
  BUF(0, &valid, 1); BUF(1, offs, 12); BUF(2, "abc", 3);
  bufs[3][0] = bufs[3][1] = 0; BUF(4, ms, 16);
  bufs[5][0] = bufs[5][1] = 0; BUF(6, secs, 16);
  bufs[7][0] = bufs[7][1] = 0; BUF(8, halves, 4);
  bufs[9][0] = bufs[9][1] = 0; BUF(10, us, 16);
#undef BUF
  int64_t nodes[5][2] = { { 2, 1 }, { 2, 0 }, { 2, 0 }, { 2, 0 }, { 2, 0 } };
  fbb_init(&b);
  fb_ref nv = fbb_vector(&b, nodes, 5, 16, 8), bv = fbb_vector(&b, bufs, 11, 16, 8);
  fbb_start(&b);
  fbb_add_i64(&b, 0, 2);
  fbb_add_ref(&b, 1, nv);
  fbb_add_ref(&b, 2, bv);
  message(&o, &b, 3, fbb_end(&b), (int64_t)at);
  fbb_free(&b);
  put(&o, body, at);
  static const uint32_t eos[2] = { 0xFFFFFFFFu, 0 };
  put(&o, eos, 8);

  tl_table *t;
  tl_error err;
  /* the uint64 past int64 is an error naming the column and the row */
  CHECK(tl_read_arrow_buffer(o.buf, o.len, "h.arrows", NULL, &t, &err) == TL_EPARSE);
  CHECK_STR(err.message, "read_arrow: h.arrows: record batch 0, column 'u': row 2: unsigned "
            "value 18446744073709551615 is past the range of int (int64)");
  const char *some[4] = { "s", "d64", "sec", "half" };
  tl_arrow_read_options ro;
  tl_arrow_read_options_init(&ro);
  ro.columns = some;
  ro.ncolumns = 4;
  CHECK(tl_read_arrow_buffer(o.buf, o.len, "h.arrows", &ro, &t, &err) == TL_OK);
  if (!t) return;
  size_t len;
  const tl_column *c = tl_table_column(t, 0);
  CHECK(tl_column_type(c) == TL_STRING && tl_column_is_null(c, 1) &&
        strncmp(tl_column_string_at(c, 0, &len), "abc", 3) == 0 && len == 3);
  CHECK(tl_column_dates(tl_table_column(t, 1))[0] == 3 &&
        tl_column_dates(tl_table_column(t, 1))[1] == -1);          /* floored */
  CHECK(tl_column_timestamps(tl_table_column(t, 2))[1] == -3000000);
  CHECK(tl_column_floats(tl_table_column(t, 3))[0] == 1.0 &&
        tl_column_floats(tl_table_column(t, 3))[1] == -2.5);
  tl_table_release(t);
}

/* String offsets that go down, in a file whose offsets can be used in
** place (8-byte, aligned): the error names the row, whether the last
** offset is in range or not, and in a dictionary batch too. */
static void test_offsets_down(const char *path) {
  static const int64_t off[4] = { 0, 3, 6, 9 };
  static const int32_t codes[3] = { 0, 2, 1 };
  tl_column *cols[2], *d;
  CHECK(tl_column_wrap_strings(3, off, "abcdefghi", NULL, NULL, NULL, &cols[0], NULL) == TL_OK);
  CHECK(tl_column_wrap_strings(3, off, "jklmnopqr", NULL, NULL, NULL, &d, NULL) == TL_OK);
  CHECK(tl_column_wrap_dictionary(3, codes, d, NULL, NULL, NULL, &cols[1], NULL) == TL_OK);
  const char *names[2] = { "s", "z" };
  tl_table *t;
  CHECK(tl_table_new(2, names, cols, &t, NULL) == TL_OK);
  for (int j = 0; j < 2; j++) tl_column_release(cols[j]);
  tl_column_release(d);
  tl_error err;
  CHECK(tl_write_arrow(t, path, NULL, &err) == TL_OK);
  tl_table_release(t);
  FILE *f = fopen(path, "rb");
  uint8_t buf[4096];
  size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
  if (f) fclose(f);
  CHECK(n > 0 && n < sizeof buf);
  static const int64_t down[4] = { 9, 0, 0, 0 };   /* in range at both ends */
  int found = 0;
  for (size_t at = 0; at + sizeof off <= n; at += 8) {
    if (memcmp(buf + at, off, sizeof off) != 0) continue;
    uint8_t copy[4096];
    memcpy(copy, buf, n);
    memcpy(copy + at, down, sizeof down);
    tl_table *u = NULL;
    CHECK(tl_read_arrow_buffer(copy, n, "d.arrow", NULL, &u, &err) == TL_EPARSE);
    CHECK(strstr(err.message, "row 1 has a negative string length") != NULL);
    tl_table_release(u);
    found++;
  }
  CHECK(found == 2);   /* the dictionary's offsets, then the column's */
}

/* The checks that run in blocks (offsets 32 at a time, codes 64 at a time)
** on 200 rows: a string offset going down, one going negative after a huge
** one (their difference wraps), a code outside the dictionary in a column
** with nulls, and a null row's code that is in range but not 0 (the column
** is then copied, with code 0 there). */
static void test_checks_in_blocks(const char *path) {
  enum { N = 200 };
  static int64_t off[N + 1], doff[4] = { 0, 1, 2, 3 };
  static int32_t codes[N];
  static uint8_t valid[N / 8];
  static char text[N];
  for (int i = 0; i <= N; i++) off[i] = i;
  for (int i = 0; i < N; i++) {
    text[i] = (char)('a' + i % 26);
    codes[i] = i % 3;
  }
  memset(valid, 0xff, sizeof valid);
  for (int i = 7; i < N; i += 10) {   /* nulls, code 0 */
    TL_BIT_CLEAR(valid, i);
    codes[i] = 0;
  }
  tl_column *cols[2], *d;
  CHECK(tl_column_wrap_strings(N, off, text, NULL, NULL, NULL, &cols[0], NULL) == TL_OK);
  CHECK(tl_column_wrap_strings(3, doff, "xyz", NULL, NULL, NULL, &d, NULL) == TL_OK);
  CHECK(tl_column_wrap_dictionary(N, codes, d, valid, NULL, NULL, &cols[1], NULL) == TL_OK);
  const char *names[2] = { "s", "z" };
  tl_table *t;
  uint8_t *file;
  size_t n;
  tl_error err;
  CHECK(tl_table_new(2, names, cols, &t, NULL) == TL_OK);
  for (int j = 0; j < 2; j++) tl_column_release(cols[j]);
  tl_column_release(d);
  CHECK(tl_write_arrow(t, path, NULL, &err) == TL_OK);
  tl_table_release(t);
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL && fseek(f, 0, SEEK_END) == 0);
  n = f ? (size_t)ftell(f) : 0;
  file = malloc(n + 1);
  CHECK(f && file && fseek(f, 0, SEEK_SET) == 0 && fread(file, 1, n, f) == n);
  if (f) fclose(f);
  size_t at_off = 0, at_codes = 0;
  for (size_t at = 0; at + sizeof off <= n; at += 8)
    if (memcmp(file + at, off, sizeof off) == 0) at_off = at;
  for (size_t at = 0; at + sizeof codes <= n; at += 8)
    if (memcmp(file + at, codes, sizeof codes) == 0) at_codes = at;
  CHECK(at_off > 0 && at_codes > 0);
  uint8_t *copy = malloc(n);
  tl_table *u = NULL;
  /* row 150 goes down, in range at both ends */
  memcpy(copy, file, n);
  int64_t v = 140;
  memcpy(copy + at_off + 150 * 8, &v, 8);
  CHECK(tl_read_arrow_buffer(copy, n, "b.arrow", NULL, &u, &err) == TL_EPARSE);
  CHECK(strstr(err.message, "row 150 has a negative string length") != NULL);
  /* a huge offset, then a negative one: v[i] - v[i - 1] wraps to positive */
  memcpy(copy, file, n);
  int64_t huge = INT64_C(0x6000000000000000), neg = -INT64_C(0x6000000000000000);
  memcpy(copy + at_off + 99 * 8, &huge, 8);
  memcpy(copy + at_off + 100 * 8, &neg, 8);
  CHECK(tl_read_arrow_buffer(copy, n, "b.arrow", NULL, &u, &err) == TL_EPARSE);
  CHECK(strstr(err.message, "row 100 has a negative string length") != NULL);
  /* a code outside the dictionary at row 181 */
  memcpy(copy, file, n);
  int32_t bad = 3;
  memcpy(copy + at_codes + 180 * 4, &bad, 4);
  CHECK(tl_read_arrow_buffer(copy, n, "b.arrow", NULL, &u, &err) == TL_EPARSE);
  CHECK(strstr(err.message, "row 181: dictionary index 3 is outside the dictionary of 3") != NULL);
  /* a null row (17) with code 2: read, its code 0 */
  memcpy(copy, file, n);
  int32_t two = 2;
  memcpy(copy + at_codes + 17 * 4, &two, 4);
  CHECK(tl_read_arrow_buffer(copy, n, "b.arrow", NULL, &u, &err) == TL_OK);
  const tl_column *z = tl_table_column(u, 1);
  CHECK(tl_column_codes(z)[17] == 0 && tl_column_codes(z)[18] == 18 % 3 &&
        tl_column_null_count(z) == 20 && tl_column_is_null(z, 17));
  tl_table_release(u);
  free(copy);
  free(file);
}

int main(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/tally_arrow_ipc_%ld.arrow", (long)getpid());
  test_flatbuf();
  test_files(path);
  test_by_hand();
  test_offsets_down(path);
  test_checks_in_blocks(path);
  unlink(path);
  return check_done("test_arrow_ipc");
}
