/*
** thrift.c -- the Thrift compact protocol, read by hand (see thrift.h).
** Integers are ULEB128 varints, signed ones zigzag-encoded; a field header
** is one byte, the id's delta from the previous field in the high nibble
** (0: the id follows as a zigzag i16) and the type in the low one; a list
** header holds a count below 15 in its high nibble or 15 and a varint count.
*/
#include "io/thrift.h"

#include <string.h>

static int fail(th_reader *r, const char *msg) {
  if (!r->msg) r->msg = msg;
  return -1;
}

void th_init(th_reader *r, const void *data, size_t len) {
  r->start = r->p = data;
  r->end = r->p + len;
  r->depth = 0;
  r->msg = NULL;
}

size_t th_offset(const th_reader *r) { return (size_t)(r->p - r->start); }

int th_varint(th_reader *r, uint64_t *v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (r->p >= r->end) return fail(r, "truncated integer");
    uint8_t b = *r->p++;
    if (shift == 63 && (b & 0x7e)) return fail(r, "integer too long");
    x |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) { *v = x; return 0; }
  }
  return fail(r, "integer too long");
}

static int64_t unzigzag(uint64_t u) { return (int64_t)(u >> 1) ^ -(int64_t)(u & 1); }

int th_i64(th_reader *r, int64_t *v) {
  uint64_t u;
  if (th_varint(r, &u) < 0) return -1;
  *v = unzigzag(u);
  return 0;
}

int th_i32(th_reader *r, int32_t *v) {
  int64_t x;
  if (th_i64(r, &x) < 0) return -1;
  if (x < INT32_MIN || x > INT32_MAX) return fail(r, "i32 out of range");
  *v = (int32_t)x;
  return 0;
}

int th_i16(th_reader *r, int16_t *v) {
  int64_t x;
  if (th_i64(r, &x) < 0) return -1;
  if (x < INT16_MIN || x > INT16_MAX) return fail(r, "i16 out of range");
  *v = (int16_t)x;
  return 0;
}

int th_byte(th_reader *r, int8_t *v) {
  if (r->p >= r->end) return fail(r, "truncated byte");
  *v = (int8_t)*r->p++;
  return 0;
}

int th_double(th_reader *r, double *v) {
  if (r->end - r->p < 8) return fail(r, "truncated double");
  uint64_t u = 0;
  for (int k = 7; k >= 0; k--) u = (u << 8) | r->p[k];
  memcpy(v, &u, sizeof *v);
  r->p += 8;
  return 0;
}

int th_binary(th_reader *r, const uint8_t **ptr, uint32_t *len) {
  uint64_t n;
  if (th_varint(r, &n) < 0) return -1;
  if (n > (uint64_t)(r->end - r->p)) return fail(r, "string length past the end");
  *ptr = r->p;
  *len = (uint32_t)n;
  r->p += n;
  return 0;
}

static int enter(th_reader *r) {
  if (r->depth >= TH_MAX_DEPTH) return fail(r, "nested too deeply");
  r->depth++;
  return 0;
}

int th_begin(th_reader *r, th_struct *s) {
  s->last = 0;
  return enter(r);
}

int th_end(th_reader *r) {
  if (r->depth > 0) r->depth--;
  return 0;
}

int th_field(th_reader *r, th_struct *s, int16_t *id, uint8_t *type) {
  if (r->p >= r->end) return fail(r, "truncated struct");
  uint8_t b = *r->p++;
  if (b == TH_STOP) return 0;
  uint8_t t = b & 0x0f, delta = b >> 4;
  if (t > TH_UUID) return fail(r, "unknown field type");
  if (delta) {
    if (s->last > INT16_MAX - delta) return fail(r, "field id out of range");
    *id = (int16_t)(s->last + delta);
  } else if (th_i16(r, id) < 0) {
    return -1;
  }
  s->last = *id;
  *type = t;
  return 1;
}

int th_field_bool(uint8_t type, int *v) {
  if (type != TH_TRUE && type != TH_FALSE) return -1;
  *v = type == TH_TRUE;
  return 0;
}

int th_list(th_reader *r, uint8_t *elem, uint32_t *n) {
  if (r->p >= r->end) return fail(r, "truncated list");
  uint8_t b = *r->p++;
  uint64_t count = b >> 4;
  *elem = b & 0x0f;
  if (count == 15 && th_varint(r, &count) < 0) return -1;
  if (*elem == TH_STOP || *elem > TH_UUID) return fail(r, "unknown list element type");
  if (count > (uint64_t)(r->end - r->p)) return fail(r, "list count past the end");
  *n = (uint32_t)count;
  return enter(r);
}

int th_list_end(th_reader *r) { return th_end(r); }

int th_list_bool(th_reader *r, int *v) {
  if (r->p >= r->end) return fail(r, "truncated bool");
  uint8_t b = *r->p++;
  if (b > 2) return fail(r, "bad bool");
  *v = b == 1;
  return 0;
}

static int skip_bytes(th_reader *r, size_t n) {
  if ((size_t)(r->end - r->p) < n) return fail(r, "truncated value");
  r->p += n;
  return 0;
}

static int skip_map(th_reader *r) {
  uint64_t n;
  if (th_varint(r, &n) < 0) return -1;
  if (n == 0) return 0;
  if (n > (uint64_t)(r->end - r->p)) return fail(r, "map count past the end");
  if (r->p >= r->end) return fail(r, "truncated map");
  uint8_t kv = *r->p++, kt = kv >> 4, vt = kv & 0x0f;
  if (kt == TH_STOP || kt > TH_UUID || vt == TH_STOP || vt > TH_UUID)
    return fail(r, "unknown map element type");
  if (enter(r) < 0) return -1;
  for (uint64_t k = 0; k < n; k++) {
    if (th_skip(r, kt == TH_FALSE ? TH_TRUE : kt) < 0) return -1;
    if (th_skip(r, vt == TH_FALSE ? TH_TRUE : vt) < 0) return -1;
  }
  return th_end(r);
}

static int skip_struct(th_reader *r) {
  th_struct s;
  int16_t id;
  uint8_t t;
  int more;
  if (th_begin(r, &s) < 0) return -1;
  while ((more = th_field(r, &s, &id, &t)) > 0)
    if (th_skip_field(r, t) < 0) return -1;
  if (more < 0) return -1;
  return th_end(r);
}

/* In a container an element of type TH_TRUE (or TH_FALSE) is a bool byte. */
int th_skip(th_reader *r, uint8_t type) {
  uint64_t u;
  switch (type) {
    case TH_TRUE: case TH_FALSE: case TH_BYTE: return skip_bytes(r, 1);
    case TH_I16: case TH_I32: case TH_I64: return th_varint(r, &u);
    case TH_DOUBLE: return skip_bytes(r, 8);
    case TH_UUID: return skip_bytes(r, 16);
    case TH_BINARY: {
      const uint8_t *p;
      uint32_t n;
      return th_binary(r, &p, &n);
    }
    case TH_LIST: case TH_SET: {
      uint8_t elem;
      uint32_t n;
      if (th_list(r, &elem, &n) < 0) return -1;
      for (uint32_t k = 0; k < n; k++)
        if (th_skip(r, elem == TH_FALSE ? TH_TRUE : elem) < 0) return -1;
      return th_list_end(r);
    }
    case TH_MAP: return skip_map(r);
    case TH_STRUCT: return skip_struct(r);
    default: return fail(r, "unknown type");
  }
}

int th_skip_field(th_reader *r, uint8_t type) {
  if (type == TH_TRUE || type == TH_FALSE) return 0;
  return th_skip(r, type);
}

int th_int32_value(th_reader *r, uint8_t type, int32_t *v) {
  if (type == TH_BYTE) {
    int8_t b;
    if (th_byte(r, &b) < 0) return -1;
    *v = b;
    return 0;
  }
  if (type == TH_I16 || type == TH_I32) return th_i32(r, v);
  return fail(r, "field of the wrong type");
}

int th_int64_value(th_reader *r, uint8_t type, int64_t *v) {
  if (type == TH_I64) return th_i64(r, v);
  int32_t x;
  if (th_int32_value(r, type, &x) < 0) return -1;
  *v = x;
  return 0;
}
