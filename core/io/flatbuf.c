/*
** flatbuf.c -- reading and building FlatBuffers by hand, for the Arrow IPC
** metadata. The reader trusts nothing: each table, vtable, field, string
** and vector is checked to lie inside the buffer before it is read, and
** every load goes through memcpy, so that misaligned input is harmless.
*/
#include <string.h>

#include "base/alloc.h"
#include "flatbuf.h"

static uint32_t ld32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

int64_t fb_load_i64(const uint8_t *p) {
  return (int64_t)((uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32);
}
int32_t fb_load_i32(const uint8_t *p) { return (int32_t)ld32(p); }

static int fail(const char **msg, const char *what) {
  *msg = what;
  return -1;
}

/* The table at pos of buf[0, size). */
static int table_at(const uint8_t *buf, size_t size, size_t pos, fb_table *out,
                    const char **msg) {
  if (pos > size || size - pos < 4) return fail(msg, "a table offset points outside the buffer");
  int64_t vt = (int64_t)pos - (int64_t)fb_load_i32(buf + pos);
  if (vt < 0 || (uint64_t)vt > size || size - (size_t)vt < 4)
    return fail(msg, "a vtable offset points outside the buffer");
  uint16_t vtsize = ld16(buf + vt), tsize = ld16(buf + vt + 2);
  if (vtsize < 4 || vtsize % 2 || (size_t)vtsize > size - (size_t)vt)
    return fail(msg, "a vtable has a bad size");
  if (tsize < 4 || (size_t)tsize > size - pos) return fail(msg, "a table overruns the buffer");
  out->buf = buf;
  out->size = size;
  out->pos = pos;
  out->vt = (size_t)vt;
  out->vtsize = vtsize;
  out->tsize = tsize;
  return 0;
}

int fb_root(const uint8_t *buf, size_t size, fb_table *out, const char **msg) {
  if (size < 4) return fail(msg, "the buffer is too short for a root offset");
  return table_at(buf, size, ld32(buf), out, msg);
}

/* The position of field id's `width` bytes, or 0 when absent. */
static int field(const fb_table *t, int id, size_t width, size_t *pos, const char **msg) {
  size_t slot = 4 + 2 * (size_t)id;
  if (id < 0 || slot + 2 > t->vtsize) return 0;
  uint16_t off = ld16(t->buf + t->vt + slot);
  if (off == 0) return 0;
  if (off < 4 || (size_t)off + width > t->tsize) return fail(msg, "a field overruns its table");
  *pos = t->pos + off;
  return 1;
}

#define SCALAR(name, type, width, load) \
  int name(const fb_table *t, int id, type def, type *out, const char **msg) { \
    size_t pos; \
    int r = field(t, id, width, &pos, msg); \
    *out = r == 1 ? (type)(load) : def; \
    return r; \
  }
SCALAR(fb_u8, uint8_t, 1, t->buf[pos])
SCALAR(fb_i16, int16_t, 2, ld16(t->buf + pos))
SCALAR(fb_i32, int32_t, 4, ld32(t->buf + pos))
SCALAR(fb_i64, int64_t, 8, fb_load_i64(t->buf + pos))
#undef SCALAR

/* Follows the uoffset of field id to its target. */
static int follow(const fb_table *t, int id, size_t *target, const char **msg) {
  size_t pos;
  int r = field(t, id, 4, &pos, msg);
  if (r != 1) return r;
  uint64_t to = (uint64_t)pos + ld32(t->buf + pos);
  if (to >= t->size) return fail(msg, "an offset points outside the buffer");
  *target = (size_t)to;
  return 1;
}

int fb_table_field(const fb_table *t, int id, fb_table *out, const char **msg) {
  size_t to;
  int r = follow(t, id, &to, msg);
  if (r != 1) return r;
  return table_at(t->buf, t->size, to, out, msg) < 0 ? -1 : 1;
}

/* The vector at `to`: its length and elements inside the buffer. */
static int vec_at(const uint8_t *buf, size_t size, size_t to, uint32_t elem, fb_vec *out,
                  const char **msg) {
  if (size - to < 4) return fail(msg, "a vector overruns the buffer");
  uint32_t len = ld32(buf + to);
  if ((uint64_t)len * elem > size - to - 4) return fail(msg, "a vector overruns the buffer");
  out->buf = buf;
  out->size = size;
  out->pos = to + 4;
  out->len = len;
  out->elem = elem;
  return 1;
}

int fb_vector(const fb_table *t, int id, uint32_t elem, fb_vec *out, const char **msg) {
  size_t to;
  int r = follow(t, id, &to, msg);
  if (r != 1) {
    out->len = 0;
    return r;
  }
  return vec_at(t->buf, t->size, to, elem, out, msg);
}

int fb_string(const fb_table *t, int id, const char **s, uint32_t *len, const char **msg) {
  fb_vec v;
  int r = fb_vector(t, id, 1, &v, msg);
  if (r != 1) {
    *s = "";
    *len = 0;
    return r;
  }
  *s = (const char *)(v.buf + v.pos);
  *len = v.len;
  return 1;
}

int fb_vec_table(const fb_vec *v, uint32_t i, fb_table *out, const char **msg) {
  size_t at = v->pos + (size_t)i * 4;
  uint64_t to = (uint64_t)at + ld32(v->buf + at);
  if (to >= v->size) return fail(msg, "an offset points outside the buffer");
  return table_at(v->buf, v->size, (size_t)to, out, msg);
}

const uint8_t *fb_vec_struct(const fb_vec *v, uint32_t i) {
  return v->buf + v->pos + (size_t)i * v->elem;
}

int64_t fb_vec_i64(const fb_vec *v, uint32_t i) { return fb_load_i64(fb_vec_struct(v, i)); }

/* ---------------------------------------------------------------------------
** The builder
*/

void fbb_init(fbb *b) { memset(b, 0, sizeof *b); }
void fbb_free(fbb *b) { tl_free(b->buf); memset(b, 0, sizeof *b); }

/* Room for n more bytes in front of the data. */
static int grow(fbb *b, size_t n) {
  if (b->oom) return 0;
  if (b->cap - b->used >= n) return 1;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->used < n) {
    if (cap > SIZE_MAX / 2) { b->oom = 1; return 0; }
    cap *= 2;
  }
  uint8_t *p = tl_alloc(cap);
  if (!p) { b->oom = 1; return 0; }
  if (b->used) memcpy(p + cap - b->used, b->buf + b->cap - b->used, b->used);
  tl_free(b->buf);
  b->buf = p;
  b->cap = cap;
  return 1;
}

static void push(fbb *b, const void *p, size_t n) {
  if (n == 0 || !grow(b, n)) return;
  b->used += n;
  memcpy(b->buf + b->cap - b->used, p, n);
}

/* Zero padding so that `used + extra` becomes a multiple of `align`. */
static void pad(fbb *b, size_t align, size_t extra) {
  static const uint8_t zeros[8];
  size_t n = (align - (b->used + extra) % align) % align;
  push(b, zeros, n);
}

static void push32(fbb *b, uint32_t v) {
  uint8_t p[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
  push(b, p, 4);
}

/* Patches the 4 bytes of the object at `ref` (already written). */
static void patch32(fbb *b, fb_ref ref, uint32_t v) {
  if (b->oom) return;
  uint8_t *p = b->buf + b->cap - ref;
  for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (8 * k));
}

fb_ref fbb_string(fbb *b, const char *s, size_t len) {
  pad(b, 4, len + 1);
  push(b, "", 1);
  push(b, s, len);
  push32(b, (uint32_t)len);
  return b->oom ? 0 : (fb_ref)b->used;
}

fb_ref fbb_vector(fbb *b, const void *data, uint32_t n, uint32_t elem, uint32_t align) {
  size_t bytes = (size_t)n * elem;
  pad(b, align < 4 ? 4 : align, bytes);
  push(b, data, bytes);
  push32(b, n);
  return b->oom ? 0 : (fb_ref)b->used;
}

fb_ref fbb_vector_refs(fbb *b, const fb_ref *refs, uint32_t n) {
  pad(b, 4, 0);
  for (uint32_t i = n; i-- > 0;) push32(b, (uint32_t)(b->used + 4 - refs[i]));
  push32(b, n);
  return b->oom ? 0 : (fb_ref)b->used;
}

void fbb_start(fbb *b) {
  b->in_table = 1;
  b->table_start = b->used;
  b->nfields = 0;
  memset(b->fields, 0, sizeof b->fields);
}

static void add(fbb *b, int id, const void *p, size_t n) {
  if (id < 0 || id >= FBB_MAX_FIELDS) { b->oom = 1; return; }   /* a misuse: fail loudly */
  pad(b, n, n);
  push(b, p, n);
  b->fields[id] = (fb_ref)b->used;
  if (id + 1 > b->nfields) b->nfields = id + 1;
}

void fbb_add_u8(fbb *b, int id, uint8_t v) { add(b, id, &v, 1); }
void fbb_add_i16(fbb *b, int id, int16_t v) {
  uint8_t p[2] = { (uint8_t)v, (uint8_t)((uint16_t)v >> 8) };
  add(b, id, p, 2);
}
void fbb_add_i32(fbb *b, int id, int32_t v) {
  uint8_t p[4];
  for (int k = 0; k < 4; k++) p[k] = (uint8_t)((uint32_t)v >> (8 * k));
  add(b, id, p, 4);
}
void fbb_add_i64(fbb *b, int id, int64_t v) {
  uint8_t p[8];
  for (int k = 0; k < 8; k++) p[k] = (uint8_t)((uint64_t)v >> (8 * k));
  add(b, id, p, 8);
}
void fbb_add_ref(fbb *b, int id, fb_ref ref) {
  pad(b, 4, 4);
  add(b, id, "\0\0\0\0", 4);
  if (!b->oom) patch32(b, b->fields[id], (uint32_t)(b->fields[id] - ref));
}

fb_ref fbb_end(fbb *b) {
  pad(b, 4, 4);
  push32(b, 0);                      /* the vtable's soffset, patched below */
  fb_ref table = (fb_ref)b->used;
  size_t tsize = b->used - b->table_start;
  uint8_t vt[4 + 2 * FBB_MAX_FIELDS];
  size_t vtsize = 4 + 2 * (size_t)b->nfields;
  vt[0] = (uint8_t)vtsize;
  vt[1] = 0;
  vt[2] = (uint8_t)tsize;
  vt[3] = (uint8_t)(tsize >> 8);
  for (int id = 0; id < b->nfields; id++) {
    uint32_t off = b->fields[id] ? table - b->fields[id] : 0;
    vt[4 + 2 * id] = (uint8_t)off;
    vt[5 + 2 * id] = (uint8_t)(off >> 8);
  }
  push(b, vt, vtsize);
  patch32(b, table, (uint32_t)(b->used - table));   /* vtable precedes: positive */
  b->in_table = 0;
  return b->oom ? 0 : table;
}

const uint8_t *fbb_finish(fbb *b, fb_ref root, size_t *len) {
  pad(b, 8, 4);
  push32(b, (uint32_t)(b->used + 4 - root));
  if (b->oom) return NULL;
  *len = b->used;
  return b->buf + b->cap - b->used;
}
