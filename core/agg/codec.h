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

/* Bytes written so far, in a buffer grown as they come; or, with `put`, in
** a buffer of `cap` bytes handed to put (and hashed into `xs`) each time it
** fills, an error of put's stopping the writing as running out of memory
** does (`st` says which). */
struct wbuf {
  uint8_t *p;
  size_t n, cap;
  int oom;
  tl_status (*put)(void *ud, const void *p, size_t n, tl_error *err);
  void *ud;
  struct XXH3_state_s *xs;
  tl_status st;
  tl_error *err;
};

struct rbuf {
  const uint8_t *p;
  size_t n, at;
  const char *bad;        /* what is wrong, or NULL */
};

void w_raw_slow(wbuf *w, const void *s, size_t n);

static inline void w_raw(wbuf *w, const void *s, size_t n) {
  if (!w->oom && n <= w->cap - w->n) {   /* room: most writes */
    if (n) memcpy(w->p + w->n, s, n);   /* an empty string's may be NULL */
    w->n += n;
  } else {
    w_raw_slow(w, s, n);
  }
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TL_CODEC_LE 1   /* the machine's words are the format's: arrays copied whole */
#else
#define TL_CODEC_LE 0
#endif

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

/* n 8-byte words (int64, uint64 or double) of array a. */
static inline void w_words(wbuf *w, const void *a, int64_t n) {
  if (TL_CODEC_LE) { w_raw(w, a, (size_t)n * 8); return; }
  const uint8_t *b = a;
  for (int64_t k = 0; k < n; k++) {
    uint64_t v;
    memcpy(&v, b + 8 * k, 8);
    w_u64(w, v);
  }
}

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

/* n 8-byte words into array a. */
static inline void r_words(rbuf *r, void *a, int64_t n) {
  if (n < 0 || (uint64_t)n > (r->n - r->at) / 8) { if (!r->bad) r->bad = "truncated"; return; }
  if (!r_need(r, (uint64_t)n * 8)) return;
  if (TL_CODEC_LE) { memcpy(a, r->p + r->at, (size_t)n * 8); r->at += (size_t)n * 8; return; }
  uint8_t *b = a;
  for (int64_t k = 0; k < n; k++) { uint64_t v = r_u64(r); memcpy(b + 8 * k, &v, 8); }
}

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
