/*
** codec.h -- the byte buffers partials are encoded into and decoded from
** (internal to agg): little-endian, whatever the machine. The format is
** described in codec.c; each kind writes and reads its own states.
*/
#ifndef TL_AGG_CODEC_H
#define TL_AGG_CODEC_H

#include <stdint.h>
#include <string.h>

#include "kind.h"

struct wbuf { uint8_t *p; size_t n, cap; int oom; };

struct rbuf {
  const uint8_t *p;
  size_t n, at;
  const char *bad;        /* what is wrong, or NULL */
};

void w_raw(wbuf *w, const void *s, size_t n);

static inline void w_u64(wbuf *w, uint64_t v) {
  uint8_t b[8];
  for (int k = 0; k < 8; k++) b[k] = (uint8_t)(v >> (8 * k));
  w_raw(w, b, 8);
}

static inline void w_u32(wbuf *w, uint32_t v) {
  uint8_t b[4];
  for (int k = 0; k < 4; k++) b[k] = (uint8_t)(v >> (8 * k));
  w_raw(w, b, 4);
}

static inline void w_u8(wbuf *w, unsigned v) { uint8_t b = (uint8_t)v; w_raw(w, &b, 1); }
static inline void w_i64(wbuf *w, int64_t v) { w_u64(w, (uint64_t)v); }
static inline void w_f64(wbuf *w, double d) { uint64_t v; memcpy(&v, &d, 8); w_u64(w, v); }

/* A value of type t: iv for int-like types, dv for floats, (s, len) for strings. */
void w_value(wbuf *w, tl_type t, int64_t iv, double dv, const char *s, int64_t len);

static inline int r_need(rbuf *r, uint64_t n) {
  if (r->bad) return 0;
  if (n > r->n - r->at) { r->bad = "truncated"; return 0; }
  return 1;
}

static inline uint64_t r_u64(rbuf *r) {
  if (!r_need(r, 8)) return 0;
  uint64_t v = 0;
  for (int k = 0; k < 8; k++) v |= (uint64_t)r->p[r->at + k] << (8 * k);
  r->at += 8;
  return v;
}

static inline uint32_t r_u32(rbuf *r) {
  if (!r_need(r, 4)) return 0;
  uint32_t v = 0;
  for (int k = 0; k < 4; k++) v |= (uint32_t)r->p[r->at + k] << (8 * k);
  r->at += 4;
  return v;
}

static inline unsigned r_u8(rbuf *r) { return r_need(r, 1) ? r->p[r->at++] : 0; }
static inline int64_t r_i64(rbuf *r) { return (int64_t)r_u64(r); }
static inline double r_f64(rbuf *r) { uint64_t v = r_u64(r); double d; memcpy(&d, &v, 8); return d; }

/* A count of items of at least `size` bytes each that must fit in the rest. */
static inline int64_t r_count(rbuf *r, int64_t n, int64_t size) {
  if (r->bad) return 0;
  if (n < 0 || (size && (uint64_t)n > (r->n - r->at) / (uint64_t)size)) { r->bad = "bad count"; return 0; }
  return n;
}

/* Bytes in the buffer (their place in it: strings point into the copy). */
static inline const uint8_t *r_bytes(rbuf *r, uint64_t n) {
  if (!r_need(r, n)) return NULL;
  const uint8_t *s = r->p + r->at;
  r->at += n;
  return s;
}

/* A value of type t: into iv, dv or (s, len). */
void r_value(rbuf *r, tl_type t, int64_t *iv, double *dv, const char **s, int64_t *len);

#endif
