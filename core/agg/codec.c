/*
** codec.c -- partials as bytes (for MPI and tally.partial): little-endian,
** whatever the machine.
**
**   "TLPS" u32 version
**   u32 ndefs, each a string (u32 length, bytes)
**   u32 ncols, each name and u8 type: the columns the definitions read
**   u32 nkeys, each name and u8 type; i64 groups
**   per key column, per group: u8 valid, then the value
**   u32 nslots, each u8 kind, u8 argument type, u8 layout, then its states
**   u64 XXH3 of everything before it
**
** A value: bool u8, int and timestamp i64, float the bits of the double as
** u64, date i32, string u64 length and bytes. Each kind writes and reads
** its layout and states (its save and load); decoding checks every length
** against what is left of the buffer before anything is allocated for it.
*/
#define XXH_STATIC_LINKING_ONLY   /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "base/table.h"
#include "codec.h"
#include "kind.h"

#define MAGIC "TLPS"
#define VERSION 1

/* ---------------------------------------------------------------------------
** Encoding
*/
/* A streaming buffer's bytes so far to its put; the buffer empties. */
static void w_flush(wbuf *w, const void *s, size_t n) {
  if (w->oom || n == 0) return;
  (void)XXH3_64bits_update(w->xs, s, n);
  w->st = w->put(w->ud, s, n, w->err);
  if (w->st != TL_OK) w->oom = 1;
}

void w_raw_slow(wbuf *w, const void *s, size_t n) {
  if (w->oom) return;
  if (w->put && n > w->cap - w->n) {
    w_flush(w, w->p, w->n);
    w->n = 0;
    if (n > w->cap) { w_flush(w, s, n); return; }
  }
  uint8_t *np = tl_grow(w->p, &w->cap, w->n, n, 256);
  if (!np) { w->oom = 1; return; }
  w->p = np;
  if (n) memcpy(w->p + w->n, s, n);
  w->n += n;
}

static void w_name(wbuf *w, const char *s) { size_t n = strlen(s); w_u32(w, (uint32_t)n); w_raw(w, s, n); }

/* A value of type t: iv for int-like types, dv for floats, (s, len) for strings. */
void w_value(wbuf *w, tl_type t, int64_t iv, double dv, const char *s, int64_t len) {
  switch (t) {
    case TL_BOOL: w_u8(w, iv != 0); break;
    case TL_FLOAT: w_f64(w, dv); break;
    case TL_DATE: w_u32(w, (uint32_t)(int32_t)iv); break;
    case TL_STRING: w_u64(w, (uint64_t)len); w_raw(w, s, (size_t)len); break;
    default: w_i64(w, iv);
  }
}

static void w_cell(wbuf *w, const tl_column *c, int64_t i) {
  tl_scalar v;
  tl_column_get(c, i, &v);
  w_u8(w, !v.is_null);
  if (v.is_null) return;
  int64_t iv = v.type == TL_DATE ? v.v.d : v.type == TL_BOOL ? v.v.b : v.v.i;
  w_value(w, v.type, iv, v.v.f, v.v.s.ptr, (int64_t)v.v.s.len);
}

/* Key column c's cells, groups 0 .. ng: 8-byte values read straight. */
static void w_keycol(wbuf *w, const tl_column *c, int64_t ng) {
  if (c->dict || (c->type != TL_INT && c->type != TL_FLOAT && c->type != TL_TIMESTAMP)) {
    for (int64_t g = 0; g < ng; g++) w_cell(w, c, g);
    return;
  }
  const uint64_t *v = c->values;
  for (int64_t g = 0; g < ng; g++) {
    int valid = !c->validity || ((c->validity[g >> 3] >> (g & 7)) & 1);
    w_u8(w, (unsigned)valid);
    if (valid) w_u64(w, v[g]);
  }
}

static void w_table_schema(wbuf *w, const tl_table *t) {
  w_u32(w, t ? (uint32_t)t->ncol : 0);
  for (int j = 0; t && j < t->ncol; j++) { w_name(w, t->names[j]); w_u8(w, t->cols[j]->type); }
}

static void w_state(wbuf *w, const agst *s) {
  w_u8(w, (unsigned)s->fn);
  w_u8(w, (unsigned)s->xt);
  s->kind->save(w, s);
}

/* Everything but the checksum. */
static void w_partial(wbuf *w, const tl_partial *p) {
  w_raw(w, MAGIC, 4);
  w_u32(w, VERSION);
  w_u32(w, (uint32_t)p->ndefs);
  for (int k = 0; k < p->ndefs; k++) w_name(w, p->defs[k]);
  w_table_schema(w, p->schema);
  w_table_schema(w, p->keys);
  w_i64(w, p->ng);
  for (int j = 0; p->keys && j < p->keys->ncol; j++)
    w_keycol(w, p->keys->cols[j], p->ng);
  w_u32(w, (uint32_t)p->nslots);
  for (int s = 0; s < p->nslots; s++) w_state(w, p->st[s]);
}

static tl_status not_direct(const tl_partial *p, tl_error *err) {
  if (!p->direct) return TL_OK;
  return tl_error_set(err, TL_EINVAL, "partial: a partial made for one result cannot be encoded");
}

tl_status tl_partial_encode(const tl_partial *p, void **buf, size_t *len, tl_error *err) {
  TL_TRY(not_direct(p, err));
  wbuf w = { NULL, 0, 0, 0, NULL, NULL, NULL, TL_OK, NULL };
  w_partial(&w, p);
  if (!w.oom) w_u64(&w, XXH3_64bits(w.p, w.n));
  if (w.oom) { tl_free(w.p); return tl_error_oom(err, "partial"); }
  *buf = w.p;
  *len = w.n;
  return TL_OK;
}

tl_status tl_partial_write(const tl_partial *p,
                           tl_status (*put)(void *ud, const void *b, size_t n, tl_error *err),
                           void *ud, tl_error *err) {
  TL_TRY(not_direct(p, err));
  enum { PIECE = 256 << 10 };
  XXH3_state_t xs;
  (void)XXH3_64bits_reset(&xs);
  wbuf w = { tl_alloc(PIECE), 0, PIECE, 0, put, ud, &xs, TL_OK, err };
  if (!w.p) return tl_error_oom(err, "partial");
  w_partial(&w, p);
  w_flush(&w, w.p, w.n);
  w.n = 0;
  if (!w.oom) {
    uint64_t h = XXH3_64bits_digest(&xs);
    uint8_t b[8];
    for (int k = 0; k < 8; k++) b[k] = (uint8_t)(h >> (8 * k));
    w.st = put(ud, b, 8, err);
  }
  tl_free(w.p);
  if (w.st != TL_OK) return w.st;
  return w.oom ? tl_error_oom(err, "partial") : TL_OK;
}


/* ---------------------------------------------------------------------------
** Decoding
*/

/* A tl_alloc'd NUL-terminated name (NULL when bad). */
static char *r_name(rbuf *r) {
  uint32_t n = r_u32(r);
  const uint8_t *s = r_bytes(r, n);
  if (!s) return NULL;
  if (memchr(s, 0, n)) { r->bad = "a name holds a NUL"; return NULL; }
  char *d = tl_strndup((const char *)s, n);
  if (!d) r->bad = "out of memory";
  return d;
}

static int valid_type(unsigned t) { return t >= TL_BOOL && t <= TL_TIMESTAMP; }

/* A value of type t: into iv, dv or (s, len). */
void r_value(rbuf *r, tl_type t, int64_t *iv, double *dv, const char **s, int64_t *len) {
  switch (t) {
    case TL_BOOL: { unsigned b = r_u8(r); if (b > 1) r->bad = "bad bool"; *iv = b; break; }
    case TL_FLOAT: *dv = r_f64(r); break;
    case TL_DATE: *iv = (int32_t)r_u32(r); break;
    case TL_STRING: {
      uint64_t n = r_u64(r);
      *s = (const char *)r_bytes(r, n);
      *len = (int64_t)n;
      break;
    }
    default: *iv = r_i64(r);
  }
}

/* Names and types: a schema or the keys. */
static void r_schema(rbuf *r, int *n, char ***names, tl_type **types) {
  uint32_t m = r_u32(r);
  *n = (int)r_count(r, m > INT32_MAX / 2 ? -1 : (int64_t)m, 5);
  *names = tl_calloc((size_t)*n + 1, sizeof **names);
  *types = tl_calloc((size_t)*n + 1, sizeof **types);
  if (!*names || !*types) { r->bad = "out of memory"; return; }
  for (int j = 0; j < *n && !r->bad; j++) {
    (*names)[j] = r_name(r);
    unsigned t = r_u8(r);
    if (!r->bad && !valid_type(t)) r->bad = "bad type";
    (*types)[j] = (tl_type)t;
  }
}

static void free_names(int n, char **names) {
  for (int j = 0; names && j < n; j++) tl_free(names[j]);
  tl_free(names);
}

/* A key column of 8-byte values: straight into its buffers. */
static tl_status r_keywords(rbuf *r, tl_type t, int64_t ng, tl_column **out, tl_error *err) {
  tl_column *c = NULL;
  TL_TRY(tl_column_alloc_raw(t, ng, 1, &c, err));
  uint64_t *v = c->values;
  for (int64_t g = 0; g < ng && !r->bad; g++) {
    unsigned valid = r_u8(r);
    if (valid > 1) r->bad = "bad validity";
    if (r->bad) break;
    if (valid) v[g] = r_u64(r);
    else v[g] = 0, c->validity[g >> 3] &= (uint8_t)~(1u << (g & 7));
  }
  if (r->bad) { tl_column_release(c); return TL_OK; }
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

/* Key column j: ng cells of type t. */
static tl_status r_keycol(rbuf *r, tl_type t, int64_t ng, tl_column **out, tl_error *err) {
  if (t == TL_INT || t == TL_FLOAT || t == TL_TIMESTAMP) return r_keywords(r, t, ng, out, err);
  tl_builder *b;
  TL_TRY(tl_builder_new(t, ng, &b, err));
  tl_status st = TL_OK;
  for (int64_t g = 0; g < ng && st == TL_OK && !r->bad; g++) {
    unsigned valid = r_u8(r);
    if (valid > 1) r->bad = "bad validity";
    if (r->bad) break;
    if (!valid) { st = tl_builder_append_null(b, err); continue; }
    int64_t iv = 0, len = 0;
    double dv = 0;
    const char *s = NULL;
    r_value(r, t, &iv, &dv, &s, &len);
    if (r->bad) break;
    switch (t) {
      case TL_BOOL: st = tl_builder_append_bool(b, (int)iv, err); break;
      case TL_FLOAT: st = tl_builder_append_float(b, dv, err); break;
      case TL_DATE: st = tl_builder_append_date(b, (int32_t)iv, err); break;
      case TL_TIMESTAMP: st = tl_builder_append_timestamp(b, iv, err); break;
      case TL_STRING: st = tl_builder_append_string(b, s, (size_t)len, err); break;
      default: st = tl_builder_append_int(b, iv, err);
    }
  }
  if (st != TL_OK || r->bad) { tl_builder_free(b); return st; }
  return tl_builder_finish(b, out, err);
}

static tl_status damaged(const char *what, tl_error *err) {
  return tl_error_set(err, TL_EPARSE, "partial: damaged buffer (%s)", what);
}

/* The partial in blob's bytes (its string values point there: the
** states that keep any hold a reference to it). */
static tl_status decode_blob(tl_column *blob, const tl_scope *scope, tl_partial **out,
                             tl_error *err) {
  const void *buf = blob->bytes;
  size_t len = (size_t)blob->nbytes;
  rbuf r = { buf, len, 0, NULL };
  if (len < 16 || memcmp(buf, MAGIC, 4) != 0)
    return tl_error_set(err, TL_EPARSE, "partial: not a partial state (bad magic)");
  r.at = 4;
  uint32_t version = r_u32(&r);
  if (version != VERSION)
    return tl_error_set(err, TL_EPARSE, "partial: format version %u is not supported (this "
                        "library reads version %d)", version, VERSION);
  r.n = len - 8;
  rbuf tail = { buf, len, len - 8, NULL };
  if (r_u64(&tail) != XXH3_64bits(buf, len - 8)) return damaged("checksum", err);

  tl_partial *p = tl_calloc(1, sizeof *p);
  if (!p) return tl_error_oom(err, "partial");
  char **defs = NULL, **snames = NULL, **knames = NULL;
  tl_type *stypes = NULL, *ktypes = NULL;
  int ndefs = 0, ns = 0, nk = 0;
  tl_column **kcols = NULL;
  tl_status st = TL_OK;
  {
    uint32_t m = r_u32(&r);
    ndefs = (int)r_count(&r, m > INT32_MAX / 2 ? -1 : (int64_t)m, 4);
    if (!(defs = tl_calloc((size_t)ndefs + 1, sizeof *defs))) r.bad = "out of memory";
    for (int k = 0; k < ndefs && !r.bad; k++) defs[k] = r_name(&r);
    r_schema(&r, &ns, &snames, &stypes);
    r_schema(&r, &nk, &knames, &ktypes);
    p->ng = r_i64(&r);
    if (!r.bad && (p->ng < 0 || (nk == 0 && p->ng != 1) || (nk > 0 && r_count(&r, p->ng, nk) != p->ng)))
      r.bad = "bad group count";
  }
  if (st == TL_OK && !r.bad && nk > 0) {
    if (!(kcols = tl_calloc((size_t)nk + 1, sizeof *kcols))) st = tl_error_oom(err, "partial");
    for (int j = 0; j < nk && st == TL_OK && !r.bad; j++) st = r_keycol(&r, ktypes[j], p->ng, &kcols[j], err);
    if (st == TL_OK && !r.bad) {
      tl_status ts = tl_table_new(nk, (const char *const *)knames, kcols, &p->keys, err);
      if (ts == TL_ENOMEM) st = ts;
      else if (ts != TL_OK) r.bad = "bad key names";
    }
  }
  if (st == TL_OK && !r.bad) {
    tl_status ts = tl_partial_schema((const char **)snames, stypes, ns, &p->schema, err);
    if (ts == TL_ENOMEM) st = ts;
    else if (ts != TL_OK) r.bad = "bad column names";
  }
  if (st == TL_OK && !r.bad) {   /* the definitions, bound again */
    int64_t ng = p->ng;
    st = tl_partial_bind(p, ndefs, (const char *const *)defs, p->schema, scope, err);
    p->ng = ng;
  }
  if (st == TL_OK && !r.bad) {
    uint32_t m = r_u32(&r);
    if (!r.bad && m != (uint32_t)p->nslots) r.bad = "the aggregates do not match the definitions";
  }
  for (int s = 0; s < p->nslots && st == TL_OK && !r.bad; s++) {
    agst *a = p->st[s];
    unsigned fn = r_u8(&r), xt = r_u8(&r);
    if (r.bad) break;
    if ((int)fn != a->fn || (tl_type)xt != a->xt) { r.bad = "the aggregates do not match the definitions"; break; }
    if (a->kind->check && (st = a->kind->check(a, err)) != TL_OK) break;
    if (!a->kind->load(&r, a, p->ng, blob)) st = tl_error_oom(err, "partial");
  }
  if (st == TL_OK && !r.bad && r.at != r.n) r.bad = "bytes after the end";
  if (st == TL_OK && r.bad)
    st = strcmp(r.bad, "out of memory") == 0 ? tl_error_oom(err, "partial") : damaged(r.bad, err);
  for (int j = 0; kcols && j < nk; j++) tl_column_release(kcols[j]);
  tl_free(kcols);
  free_names(ndefs, defs);
  free_names(ns, snames);
  free_names(nk, knames);
  tl_free(stypes);
  tl_free(ktypes);
  if (st != TL_OK) { tl_partial_free(p); return st; }
  *out = p;
  return TL_OK;
}

tl_status tl_partial_decode(const void *buf, size_t len, const tl_scope *scope, tl_partial **out,
                            tl_error *err) {
  void *copy = tl_alloc(len ? len : 1);
  *out = NULL;
  if (!copy) return tl_error_oom(err, "partial");
  if (len) memcpy(copy, buf, len);
  return tl_partial_decode_taken(copy, len, scope, out, err);
}

tl_status tl_partial_decode_taken(void *buf, size_t len, const tl_scope *scope, tl_partial **out,
                                  tl_error *err) {
  tl_column *blob = NULL;
  *out = NULL;
  tl_status st = tl_column_alloc(TL_STRING, 0, 0, 0, &blob, err);
  if (st != TL_OK) { tl_free(buf); return st; }
  tl_free(blob->bytes);
  blob->bytes = buf;
  blob->nbytes = (int64_t)len;
  st = decode_blob(blob, scope, out, err);
  tl_column_release(blob);
  return st;
}
