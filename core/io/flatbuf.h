/*
** flatbuf.h -- a small FlatBuffers reader and builder (internal to the
** core), enough for the metadata of Arrow IPC files. The reader checks
** every offset against the buffer before it follows it: a damaged buffer
** gives an error (-1 and a message), never a read outside it. The builder
** writes back to front, as FlatBuffers are laid out.
*/
#ifndef TL_FLATBUF_H
#define TL_FLATBUF_H

#include <stddef.h>
#include <stdint.h>

/* A table inside a buffer: where it starts and its vtable. */
typedef struct fb_table {
  const uint8_t *buf;
  size_t size;         /* of the whole buffer */
  size_t pos;          /* the table's first byte */
  size_t vt;           /* its vtable's first byte */
  uint16_t vtsize;     /* bytes of the vtable */
  uint16_t tsize;      /* bytes of the table's inline part */
} fb_table;

/* A vector: `len` elements of `elem` bytes from `pos`. */
typedef struct fb_vec {
  const uint8_t *buf;
  size_t size;
  size_t pos;
  uint32_t len;
  uint32_t elem;
} fb_vec;

/* Every call that can fail returns -1 and sets *msg to what is wrong (a
** static string); 0 when the field is absent (its default is stored) and 1
** when present, for the getters of optional fields. */

/* The root table of buf[0, size). */
int fb_root(const uint8_t *buf, size_t size, fb_table *out, const char **msg);

/* Scalars of field `id`; `def` when absent. */
int fb_u8(const fb_table *t, int id, uint8_t def, uint8_t *out, const char **msg);
int fb_i16(const fb_table *t, int id, int16_t def, int16_t *out, const char **msg);
int fb_i32(const fb_table *t, int id, int32_t def, int32_t *out, const char **msg);
int fb_i64(const fb_table *t, int id, int64_t def, int64_t *out, const char **msg);

/* A sub-table, a string (not terminated: `*len` bytes) or a vector of
** `elem`-byte elements (4 for tables and strings, a struct's size for
** structs). */
int fb_table_field(const fb_table *t, int id, fb_table *out, const char **msg);
int fb_string(const fb_table *t, int id, const char **s, uint32_t *len, const char **msg);
int fb_vector(const fb_table *t, int id, uint32_t elem, fb_vec *out, const char **msg);

/* Element i (< v->len) of a vector of tables; of a vector of structs, the
** element's bytes (v->elem of them). */
int fb_vec_table(const fb_vec *v, uint32_t i, fb_table *out, const char **msg);
const uint8_t *fb_vec_struct(const fb_vec *v, uint32_t i);
int64_t fb_vec_i64(const fb_vec *v, uint32_t i);   /* a vector of longs */

/* Little-endian loads from bytes known to be inside the buffer. */
int64_t fb_load_i64(const uint8_t *p);
int32_t fb_load_i32(const uint8_t *p);

/* The builder. Objects are named by their distance from the buffer's end
** (fb_ref), valid until fbb_finish. A failed allocation sets `oom` and makes
** every later call a no-op; check it once at fbb_finish. */
typedef uint32_t fb_ref;

#define FBB_MAX_FIELDS 16

typedef struct fbb {
  uint8_t *buf;        /* data sits in [cap - used, cap) */
  size_t cap, used;
  int oom;
  int in_table;
  size_t table_start;  /* `used` when the table began */
  int nfields;         /* 1 + the highest field id set */
  fb_ref fields[FBB_MAX_FIELDS];   /* 0: absent */
} fbb;

void fbb_init(fbb *b);
void fbb_free(fbb *b);

/* Strings, vectors of scalars or structs (`elem` bytes each, aligned to
** `align`), vectors of offsets. Not inside a table. */
fb_ref fbb_string(fbb *b, const char *s, size_t len);
fb_ref fbb_vector(fbb *b, const void *data, uint32_t n, uint32_t elem, uint32_t align);
fb_ref fbb_vector_refs(fbb *b, const fb_ref *refs, uint32_t n);

/* A table: start, add fields by id (0 <= id < FBB_MAX_FIELDS), end. */
void fbb_start(fbb *b);
void fbb_add_u8(fbb *b, int id, uint8_t v);
void fbb_add_i16(fbb *b, int id, int16_t v);
void fbb_add_i32(fbb *b, int id, int32_t v);
void fbb_add_i64(fbb *b, int id, int64_t v);
void fbb_add_ref(fbb *b, int id, fb_ref ref);
fb_ref fbb_end(fbb *b);

/* Adds the root offset and returns the finished bytes (*len of them,
** a multiple of 8, inside b->buf); NULL when an allocation failed. */
const uint8_t *fbb_finish(fbb *b, fb_ref root, size_t *len);

#endif
