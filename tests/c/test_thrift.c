/*
** test_thrift.c -- the Thrift compact-protocol reader (core/io/thrift.c) on
** bytes written out by hand from the protocol's description: varints and
** zigzag, field headers with deltas and long ids, bool fields and bool
** elements, short and long list headers, maps, skipping of every type,
** the depth limit, and every length checked against the end.
*/
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "io/thrift.h"

#define READER(name, ...) \
  static const uint8_t name##_bytes[] = { __VA_ARGS__ }; \
  th_reader name; \
  th_init(&name, name##_bytes, sizeof name##_bytes)

static void integers(void) {
  READER(r, 0x00, 0x01, 0x02, 0x03, 0xac, 0x02, 0xfe, 0xff, 0xff, 0xff, 0x0f);
  int64_t v;
  uint64_t u;
  CHECK(th_i64(&r, &v) == 0 && v == 0);
  CHECK(th_i64(&r, &v) == 0 && v == -1);       /* zigzag 1 */
  CHECK(th_i64(&r, &v) == 0 && v == 1);        /* zigzag 2 */
  CHECK(th_i64(&r, &v) == 0 && v == -2);       /* zigzag 3 */
  CHECK(th_varint(&r, &u) == 0 && u == 300);   /* 0xac 0x02 */
  int32_t x;
  CHECK(th_i32(&r, &x) == 0 && x == INT32_MAX);   /* zigzag 0xfffffffe */
  CHECK(th_varint(&r, &u) < 0 && strcmp(r.msg, "truncated integer") == 0);

  READER(big, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
  CHECK(th_varint(&big, &u) == 0 && u == UINT64_MAX);
  READER(toolong, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
  CHECK(th_varint(&toolong, &u) < 0 && strcmp(toolong.msg, "integer too long") == 0);
  READER(wide, 0x80, 0x80, 0x80, 0x80, 0x20);  /* zigzag 2^33: past i32 */
  CHECK(th_i32(&wide, &x) < 0 && strcmp(wide.msg, "i32 out of range") == 0);
  READER(dbl, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f, 0x00);
  double d;
  CHECK(th_double(&dbl, &d) == 0 && d == 1.5);
  CHECK(th_double(&dbl, &d) < 0);
}

/* struct { 1: i32 = 5, 2: bool = true, 20: binary "ab", 21: bool = false } */
static void fields(void) {
  READER(r, 0x15, 0x0a, 0x11, 0x08, 0x28, 0x02, 'a', 'b', 0x12, 0x00);
  th_struct s;
  int16_t id;
  uint8_t t;
  int32_t v;
  int b;
  const uint8_t *p;
  uint32_t n;
  CHECK(th_begin(&r, &s) == 0);
  CHECK(th_field(&r, &s, &id, &t) == 1 && id == 1 && t == TH_I32);
  CHECK(th_int32_value(&r, t, &v) == 0 && v == 5);
  CHECK(th_field(&r, &s, &id, &t) == 1 && id == 2 && th_field_bool(t, &b) == 0 && b == 1);
  CHECK(th_field(&r, &s, &id, &t) == 1 && id == 20 && t == TH_BINARY);   /* long id */
  CHECK(th_binary(&r, &p, &n) == 0 && n == 2 && memcmp(p, "ab", 2) == 0);
  CHECK(th_field(&r, &s, &id, &t) == 1 && id == 21 && th_field_bool(t, &b) == 0 && b == 0);
  CHECK(th_field(&r, &s, &id, &t) == 0);
  CHECK(th_end(&r) == 0 && r.depth == 0 && r.p == r.end);

  READER(badtype, 0x1e, 0x00);
  CHECK(th_begin(&badtype, &s) == 0);
  CHECK(th_field(&badtype, &s, &id, &t) < 0 && strcmp(badtype.msg, "unknown field type") == 0);
  READER(cut, 0x18, 0x05, 'a');               /* a string of 5 with 1 byte */
  CHECK(th_begin(&cut, &s) == 0 && th_field(&cut, &s, &id, &t) == 1);
  CHECK(th_binary(&cut, &p, &n) < 0 && strcmp(cut.msg, "string length past the end") == 0);
  READER(nostop, 0x15, 0x02);
  CHECK(th_skip(&nostop, TH_STRUCT) < 0 && strcmp(nostop.msg, "truncated struct") == 0);
}

static void lists(void) {
  /* list<i32> [1, 2, 3], list<bool> [true, false], a long list header of 16
  ** bytes, then a struct */
  uint8_t bytes[64] = { 0x35, 0x02, 0x04, 0x06, 0x21, 0x01, 0x02, 0xf3, 0x10 };
  memset(bytes + 9, 0x01, 16);
  th_reader r;
  th_init(&r, bytes, 9 + 16);
  uint8_t et;
  uint32_t n;
  int32_t v;
  int b;
  CHECK(th_list(&r, &et, &n) == 0 && et == TH_I32 && n == 3);
  for (int k = 1; k <= 3; k++) CHECK(th_i32(&r, &v) == 0 && v == k);
  CHECK(th_list_end(&r) == 0);
  CHECK(th_list(&r, &et, &n) == 0 && et == TH_TRUE && n == 2);
  CHECK(th_list_bool(&r, &b) == 0 && b == 1);
  CHECK(th_list_bool(&r, &b) == 0 && b == 0);
  CHECK(th_list_end(&r) == 0);
  CHECK(th_list(&r, &et, &n) == 0 && et == TH_BYTE && n == 16);
  CHECK(th_list_end(&r) == 0);
  th_init(&r, bytes + 7, 2 + 15);              /* the same list one byte short */
  CHECK(th_list(&r, &et, &n) < 0 && strcmp(r.msg, "list count past the end") == 0);
}

/* Skipping: a struct holding every type, then more than TH_MAX_DEPTH levels. */
static void skipping(void) {
  READER(r,
    0x13, 0x7f,                                /* 1: byte */
    0x14, 0x04,                                /* 2: i16 */
    0x16, 0x80, 0x01,                          /* 3: i64 */
    0x17, 0, 0, 0, 0, 0, 0, 0, 0,              /* 4: double */
    0x18, 0x01, 'x',                           /* 5: binary */
    0x19, 0x21, 0x01, 0x00,                    /* 6: list<bool> */
    0x1a, 0x15, 0x02,                          /* 7: set<i32> */
    0x1b, 0x02, 0x85, 0x01, 'k', 0x02, 0x01, 'l', 0x04,   /* 8: map<binary, i32> */
    0x1b, 0x00,                                /* 9: empty map */
    0x1c, 0x11, 0x00,                          /* 10: struct { 1: true } */
    0x1d, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,   /* 11: uuid */
    0x11,                                      /* 12: bool */
    0x00,
    0x42);
  CHECK(th_skip(&r, TH_STRUCT) == 0 && r.depth == 0);
  CHECK(r.end - r.p == 1 && *r.p == 0x42);

  uint8_t deep[2 * TH_MAX_DEPTH + 4];
  for (int k = 0; k < TH_MAX_DEPTH + 1; k++) deep[k] = 0x1c;   /* field 1: struct, nested */
  memset(deep + TH_MAX_DEPTH + 1, 0, sizeof deep - TH_MAX_DEPTH - 1);
  th_reader d;
  th_init(&d, deep, sizeof deep);
  CHECK(th_skip(&d, TH_STRUCT) < 0 && strcmp(d.msg, "nested too deeply") == 0);
  th_init(&d, deep + 2, sizeof deep - 2);      /* two levels fewer: fits */
  CHECK(th_skip(&d, TH_STRUCT) == 0);

  READER(badmap, 0x02, 0x0d);                  /* a map of 2 with a stop key type */
  CHECK(th_skip(&badmap, TH_MAP) < 0);
  READER(hugemap, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x55);
  CHECK(th_skip(&hugemap, TH_MAP) < 0 && strcmp(hugemap.msg, "map count past the end") == 0);
}

int main(void) {
  integers();
  fields();
  lists();
  skipping();
  return check_done("thrift");
}
