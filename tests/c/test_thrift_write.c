/*
** test_thrift_write.c -- the Thrift compact-protocol writer
** (core/io/thrift_write.c): exact bytes for varints, zigzag, field deltas,
** long field ids, bools, short and long list headers and nested structs, as
** the protocol describes them; then a struct of every kind written and read
** back with the reader (core/io/thrift.c).
*/
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "io/thrift.h"
#include "io/thrift_write.h"

#define BYTES(w, ...) do { \
    static const uint8_t want_[] = { __VA_ARGS__ }; \
    CHECK((w)->len == sizeof want_ && memcmp((w)->buf, want_, sizeof want_) == 0); \
  } while (0)

static void exact(void) {
  th_writer w;
  thw_init(&w);
  thw_i64(&w, 0); thw_i64(&w, -1); thw_i64(&w, 1); thw_i64(&w, -2);
  thw_varint(&w, 300);
  thw_i32(&w, INT32_MAX);
  BYTES(&w, 0x00, 0x01, 0x02, 0x03, 0xac, 0x02, 0xfe, 0xff, 0xff, 0xff, 0x0f);
  thw_reset(&w);
  thw_begin(&w);
  thw_field_i32(&w, 1, 3);            /* delta 1, i32 */
  thw_field_bool(&w, 2, 1);           /* delta 1, TRUE */
  thw_field_bool(&w, 3, 0);           /* delta 1, FALSE */
  thw_field_i64(&w, 20, 1);           /* delta 17: type byte, then zigzag id */
  thw_field_string(&w, 21, "ab");
  thw_end(&w);
  BYTES(&w, 0x15, 0x06, 0x11, 0x12, 0x06, 0x28, 0x02, 0x18, 0x02, 'a', 'b', 0x00);
  thw_reset(&w);
  thw_list(&w, TH_I32, 2);
  thw_list(&w, TH_STRUCT, 15);        /* 15 and over: long form */
  thw_list(&w, TH_BINARY, 300);
  BYTES(&w, 0x25, 0xfc, 0x0f, 0xf8, 0xac, 0x02);
  thw_reset(&w);
  thw_begin(&w);                      /* nested structs keep their own deltas */
  thw_field_struct(&w, 5);
  thw_field_empty(&w, 1);
  thw_end(&w);
  thw_field_i32(&w, 6, 0);
  thw_end(&w);
  BYTES(&w, 0x5c, 0x1c, 0x00, 0x00, 0x15, 0x00, 0x00);
  CHECK(!w.failed && w.depth == 0);
  thw_free(&w);
}

static void round_trip(void) {
  th_writer w;
  thw_init(&w);
  thw_begin(&w);
  thw_field_i32(&w, 1, -123456);
  thw_field_i64(&w, 2, INT64_MIN);
  thw_field_bool(&w, 3, 1);
  thw_field_binary(&w, 4, "x\0y", 3);
  thw_field_list(&w, 7, TH_I32, 20);
  for (int k = 0; k < 20; k++) thw_i32(&w, k - 10);
  thw_field_struct(&w, 300);
  thw_field_i64(&w, 1, 99);
  thw_end(&w);
  thw_end(&w);
  CHECK(!w.failed);

  th_reader r;
  th_struct s, t;
  int16_t id;
  uint8_t type;
  int32_t i32;
  int64_t i64;
  int b;
  const uint8_t *p;
  uint32_t n;
  th_init(&r, w.buf, w.len);
  CHECK(th_begin(&r, &s) == 0);
  CHECK(th_field(&r, &s, &id, &type) == 1 && id == 1 && th_i32(&r, &i32) == 0 && i32 == -123456);
  CHECK(th_field(&r, &s, &id, &type) == 1 && id == 2 && th_i64(&r, &i64) == 0 && i64 == INT64_MIN);
  CHECK(th_field(&r, &s, &id, &type) == 1 && id == 3 && th_field_bool(type, &b) == 0 && b == 1);
  CHECK(th_field(&r, &s, &id, &type) == 1 && id == 4 && th_binary(&r, &p, &n) == 0 && n == 3 &&
        memcmp(p, "x\0y", 3) == 0);
  CHECK(th_field(&r, &s, &id, &type) == 1 && id == 7 && type == TH_LIST);
  CHECK(th_list(&r, &type, &n) == 0 && type == TH_I32 && n == 20);
  int all = 1;
  for (int k = 0; k < 20; k++) all &= th_i32(&r, &i32) == 0 && i32 == k - 10;
  CHECK(all && th_list_end(&r) == 0);
  CHECK(th_field(&r, &s, &id, &type) == 1 && id == 300 && type == TH_STRUCT);
  CHECK(th_begin(&r, &t) == 0);
  CHECK(th_field(&r, &t, &id, &type) == 1 && id == 1 && th_i64(&r, &i64) == 0 && i64 == 99);
  CHECK(th_field(&r, &t, &id, &type) == 0 && th_end(&r) == 0);
  CHECK(th_field(&r, &s, &id, &type) == 0 && th_end(&r) == 0);
  CHECK(r.p == r.end && r.msg == NULL);
  thw_free(&w);
}

int main(void) {
  exact();
  round_trip();
  return check_done("thrift_write");
}
