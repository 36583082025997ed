/*
** thrift_write.c -- the Thrift compact protocol written into a growable
** buffer: zigzag varints, field headers as deltas, list headers, structs.
** The reader of the same protocol is thrift.c.
*/
#include <string.h>

#include "base/alloc.h"
#include "io/thrift_write.h"

void thw_init(th_writer *w) { memset(w, 0, sizeof *w); }

void thw_free(th_writer *w) {
  tl_free(w->buf);
  memset(w, 0, sizeof *w);
}

void thw_reset(th_writer *w) {
  w->len = 0;
  w->failed = 0;
  w->depth = 0;
  w->last[0] = 0;
}

static int reserve(th_writer *w, size_t n) {
  if (w->failed) return 0;
  if (w->cap - w->len >= n) return 1;
  size_t cap = w->cap ? w->cap : 256;
  while (cap - w->len < n) cap *= 2;
  uint8_t *p = tl_realloc(w->buf, cap);
  if (!p) { w->failed = 1; return 0; }
  w->buf = p;
  w->cap = cap;
  return 1;
}

void thw_bytes(th_writer *w, const void *p, size_t n) {
  if (!reserve(w, n)) return;
  if (n) memcpy(w->buf + w->len, p, n);
  w->len += n;
}

void thw_varint(th_writer *w, uint64_t v) {
  if (!reserve(w, 10)) return;
  while (v >= 0x80) {
    w->buf[w->len++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  w->buf[w->len++] = (uint8_t)v;
}

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

void thw_i32(th_writer *w, int32_t v) { thw_varint(w, zigzag(v)); }
void thw_i64(th_writer *w, int64_t v) { thw_varint(w, zigzag(v)); }

void thw_binary(th_writer *w, const void *p, size_t n) {
  thw_varint(w, n);
  thw_bytes(w, p, n);
}

void thw_string(th_writer *w, const char *s) { thw_binary(w, s, strlen(s)); }

void thw_field(th_writer *w, int16_t id, uint8_t type) {
  int16_t *last = &w->last[w->depth];
  int delta = id - *last;
  if (delta > 0 && delta <= 15) {
    uint8_t b = (uint8_t)(delta << 4 | type);
    thw_bytes(w, &b, 1);
  } else {
    thw_bytes(w, &type, 1);
    thw_i32(w, id);
  }
  *last = id;
}

void thw_field_i32(th_writer *w, int16_t id, int32_t v) {
  thw_field(w, id, TH_I32);
  thw_i32(w, v);
}

void thw_field_i64(th_writer *w, int16_t id, int64_t v) {
  thw_field(w, id, TH_I64);
  thw_i64(w, v);
}

void thw_field_bool(th_writer *w, int16_t id, int v) {
  thw_field(w, id, v ? TH_TRUE : TH_FALSE);
}

void thw_field_binary(th_writer *w, int16_t id, const void *p, size_t n) {
  thw_field(w, id, TH_BINARY);
  thw_binary(w, p, n);
}

void thw_field_string(th_writer *w, int16_t id, const char *s) {
  thw_field_binary(w, id, s, strlen(s));
}

void thw_begin(th_writer *w) {
  if (w->depth + 1 >= THW_MAX_DEPTH) { w->failed = 1; return; }
  w->last[++w->depth] = 0;
}

void thw_end(th_writer *w) {
  uint8_t stop = TH_STOP;
  thw_bytes(w, &stop, 1);
  if (w->depth > 0) w->depth--;
}

void thw_field_struct(th_writer *w, int16_t id) {
  thw_field(w, id, TH_STRUCT);
  thw_begin(w);
}

void thw_field_empty(th_writer *w, int16_t id) {
  thw_field_struct(w, id);
  thw_end(w);
}

void thw_list(th_writer *w, uint8_t elem, uint32_t n) {
  if (n < 15) {
    uint8_t b = (uint8_t)(n << 4 | elem);
    thw_bytes(w, &b, 1);
  } else {
    uint8_t b = (uint8_t)(0xf0 | elem);
    thw_bytes(w, &b, 1);
    thw_varint(w, n);
  }
}

void thw_field_list(th_writer *w, int16_t id, uint8_t elem, uint32_t n) {
  thw_field(w, id, TH_LIST);
  thw_list(w, elem, n);
}
