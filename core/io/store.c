/*
** store.c -- the table file: buffers written as they sit in memory, read
** back by mapping the file and pointing the columns into the mapping.
**
** Layout, every header field little-endian and fixed-width:
**
**   0   magic "TALLYTBL"
**   8   u32 format version (STORE_VERSION)
**   12  u32 byte-order mark: 0x01020304 in the byte order of the buffers
**   16  u32 number of columns
**   20  u32 reserved, 0
**   24  u64 number of rows
**   32  u64 header size: this fixed part + the directory + the names
**   40  u64 file size
**   48  u64 checksum (FNV-1a) of bytes [0, header size), this field read as 0
**   56  u64 reserved, 0
**   64  directory, one 112-byte entry per column:
**         0 u32 type, 4 u32 name length, 8 u64 null count,
**         16 u32 encoding (ENC_PLAIN, or ENC_DICT for a string column),
**         20 u32 reserved, 0, 24 u64 dictionary length (entries; 0 if plain),
**         32 validity, 48 values, 64 bytes, 80 dictionary offsets,
**         96 dictionary bytes: each a u64 offset + u64 length
**       then the names, one after another, without terminators.
**
** Then the buffers, in directory order, each at a file offset that is a
** multiple of 64 (zero padding between them, none after the last). An empty
** buffer has offset 0 and length 0; a column without nulls has no validity.
** A plain string column has n + 1 int64 offsets as values and its text as
** bytes. A dictionary-encoded one has n int32 codes as values, no bytes, and
** its dictionary, a string column without nulls, as d + 1 int64 offsets and
** their text. Other columns have values only (and validity).
**
** Version 1 had 64-byte entries without the encoding, the dictionary length
** and the two dictionary buffers; it is not read.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/mapfile.h"
#include "base/parse.h"
#include "base/table.h"

#define STORE_MAGIC "TALLYTBL"
#define STORE_VERSION 2u
#define STORE_BOM 0x01020304u
#define FIXED_SIZE 64u
#define ENTRY_SIZE 112u
#define ENTRY_BUFS 32u                 /* where an entry's buffer pairs start */
#define ALIGN 64u
#define MAX_ROWS ((uint64_t)1 << 59)   /* keeps every buffer size within int64 */
#define MAX_DICT ((uint64_t)INT32_MAX) /* codes are int32 */

enum { ENC_PLAIN = 0, ENC_DICT = 1 };
enum { B_VALIDITY, B_VALUES, B_BYTES, B_DICT_OFFSETS, B_DICT_BYTES, NBUF };
static const char *const buf_names[NBUF] = {
  "validity", "values", "bytes", "dictionary offsets", "dictionary bytes"
};

/* What an empty buffer points to, so that no column holds a NULL array. */
static _Alignas(64) uint8_t empty_buffer[64];

static void put32(uint8_t *p, uint32_t v) {
  for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (8 * k));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int k = 0; k < 8; k++) p[k] = (uint8_t)(v >> (8 * k));
}
static uint32_t get32(const uint8_t *p) {
  uint32_t v = 0;
  for (int k = 3; k >= 0; k--) v = (v << 8) | p[k];
  return v;
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int k = 7; k >= 0; k--) v = (v << 8) | p[k];
  return v;
}

static uint64_t align_up(uint64_t n) { return (n + ALIGN - 1) & ~(uint64_t)(ALIGN - 1); }

/* FNV-1a: each step is a bijection of the state, so any one changed byte
** always changes the result. */
static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t k = 0; k < n; k++) { h ^= p[k]; h *= 0x100000001b3ull; }
  return h;
}

static uint64_t header_checksum(const uint8_t *h, uint64_t size) {
  static const uint8_t zero[8];
  uint64_t x = fnv1a(0xcbf29ce484222325ull, h, 48);
  x = fnv1a(x, zero, 8);
  return fnv1a(x, h + 56, (size_t)(size - 56));
}

/* Size in bytes of the values buffer of `n` rows. */
static uint64_t values_bytes(tl_type type, int dict, uint64_t n) {
  if (type == TL_BOOL) return (n + 7) / 8;
  if (type == TL_STRING) return dict ? n * 4 : (n + 1) * 8;
  return n * tl_type_width(type);
}

/* Strict UTF-8 (tl_utf8_valid) without NUL. */
static int utf8_valid(const uint8_t *s, size_t n) {
  return !memchr(s, 0, n) && tl_utf8_valid((const char *)s, n);
}

/* ---------------------------------------------------------------------------
** Saving
*/

typedef struct wbuf {
  const void *ptr;
  uint64_t off, len;
} wbuf;

/* Large buffers go in pieces of CHUNK bytes, with a look at the interrupt
** between pieces. */
#define CHUNK ((size_t)1 << 26)
#define WRITE_INTERRUPTED (-1)   /* write_file's result for an interrupt */

/* 0, -1 with errno set, or WRITE_INTERRUPTED - 1 on an interrupt. */
static int write_all(int fd, const void *p, uint64_t n) {
  const char *s = p;
  while (n > 0) {
    if (tl_interrupted()) return WRITE_INTERRUPTED - 1;
    size_t chunk = n > CHUNK ? CHUNK : (size_t)n;
    ssize_t k = write(fd, s, chunk);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) { if (k == 0) errno = EIO; return -1; }
    s += k;
    n -= (uint64_t)k;
  }
  return 0;
}

static tl_status save_error(tl_error *err, const char *path, int e) {
  return tl_error_set(err, TL_EIO, "save: cannot write '%s': %s", path, strerror(e));
}

/* Writes header and buffers to an open descriptor; 0, an errno value, or
** WRITE_INTERRUPTED. */
static int write_file(int fd, const uint8_t *header, uint64_t hsize, const wbuf *bufs,
                      size_t nbufs) {
  static const uint8_t zeros[ALIGN];
  int r;
#define WRITE(p, n) \
  if ((r = write_all(fd, p, n)) != 0) return r == WRITE_INTERRUPTED - 1 ? WRITE_INTERRUPTED : errno
  WRITE(header, hsize);
  uint64_t pos = hsize;
  for (size_t k = 0; k < nbufs; k++) {
    if (bufs[k].len == 0) continue;
    WRITE(zeros, bufs[k].off - pos);
    WRITE(bufs[k].ptr, bufs[k].len);
#undef WRITE
    pos = bufs[k].off + bufs[k].len;
  }
  if (fsync(fd) != 0) return errno;
  return 0;
}

/* The header and the places of the buffers of t, as `op` ("save",
** "encode") lays them out: *hp (hsize bytes) and *bp (ncol * NBUF) are
** tl_alloc'ed, *endp is the size of the whole. */
static tl_status layout(const tl_table *t, const char *op, uint8_t **hp, uint64_t *hsizep,
                        wbuf **bp, uint64_t *endp, tl_error *err) {
  uint64_t ncol = (uint64_t)t->ncol, nrows = (uint64_t)t->nrows;
  uint64_t hsize = FIXED_SIZE + ENTRY_SIZE * ncol;
  for (int j = 0; j < t->ncol; j++) {
    size_t len = strlen(t->names[j]);
    if (len > UINT32_MAX)
      return tl_error_set(err, TL_ELIMIT, "%s: column %d has a name over 4 GB", op, j + 1);
    if (!utf8_valid((const uint8_t *)t->names[j], len))
      return tl_error_set(err, TL_EINVAL, "%s: column %d has a name that is not valid UTF-8",
                          op, j + 1);
    hsize += len;
  }
  if (hsize > SIZE_MAX) return tl_error_oom(err, op);

  /* Place the buffers. */
  wbuf *bufs = tl_calloc((size_t)ncol * NBUF + 1, sizeof *bufs);
  uint8_t *h = tl_calloc(1, (size_t)hsize);
  if (!bufs || !h) { tl_free(bufs); tl_free(h); return tl_error_oom(err, op); }
  uint64_t end = hsize;
  for (int j = 0; j < t->ncol; j++) {
    const tl_column *c = t->cols[j];
    wbuf *b = bufs + (size_t)j * NBUF;
    if (c->null_count > 0 && c->validity) {
      b[B_VALIDITY].ptr = c->validity;
      b[B_VALIDITY].len = (nrows + 7) / 8;
    }
    b[B_VALUES].ptr = c->values;
    b[B_VALUES].len = values_bytes(c->type, c->dict != NULL, nrows);
    if (c->dict) {
      b[B_DICT_OFFSETS].ptr = c->dict->values;
      b[B_DICT_OFFSETS].len = values_bytes(TL_STRING, 0, (uint64_t)c->dict->length);
      b[B_DICT_BYTES].ptr = c->dict->bytes;
      b[B_DICT_BYTES].len = (uint64_t)c->dict->nbytes;
    } else if (c->type == TL_STRING) {
      b[B_BYTES].ptr = c->bytes;
      b[B_BYTES].len = (uint64_t)c->nbytes;
    }
    for (int k = 0; k < NBUF; k++) {
      if (b[k].len == 0) continue;
      b[k].off = align_up(end);
      end = b[k].off + b[k].len;
    }
  }

  /* Header and directory. */
  memcpy(h, STORE_MAGIC, 8);
  put32(h + 8, STORE_VERSION);
  uint32_t bom = STORE_BOM;
  memcpy(h + 12, &bom, 4);   /* native order: the order of the buffers */
  put32(h + 16, (uint32_t)ncol);
  put64(h + 24, nrows);
  put64(h + 32, hsize);
  put64(h + 40, end);
  uint8_t *name = h + FIXED_SIZE + ENTRY_SIZE * ncol;
  for (int j = 0; j < t->ncol; j++) {
    const tl_column *c = t->cols[j];
    const wbuf *b = bufs + (size_t)j * NBUF;
    uint8_t *e = h + FIXED_SIZE + ENTRY_SIZE * (uint64_t)j;
    size_t len = strlen(t->names[j]);
    put32(e, (uint32_t)c->type);
    put32(e + 4, (uint32_t)len);
    put64(e + 8, b[B_VALIDITY].len ? (uint64_t)c->null_count : 0);
    put32(e + 16, c->dict ? ENC_DICT : ENC_PLAIN);
    put64(e + 24, c->dict ? (uint64_t)c->dict->length : 0);
    for (int k = 0; k < NBUF; k++) {
      put64(e + ENTRY_BUFS + 16 * k, b[k].off);
      put64(e + ENTRY_BUFS + 8 + 16 * k, b[k].len);
    }
    memcpy(name, t->names[j], len);
    name += len;
  }
  put64(h + 48, header_checksum(h, hsize));

  *hp = h;
  *hsizep = hsize;
  *bp = bufs;
  *endp = end;
  return TL_OK;
}

tl_status tl_table_save(const tl_table *t, const char *path, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "save", err));
  uint8_t *h;
  wbuf *bufs;
  uint64_t hsize, end, ncol = (uint64_t)t->ncol;
  TL_TRY(layout(t, "save", &h, &hsize, &bufs, &end, err));
  (void)end;

  /* Write beside the target, then rename over it: a crash leaves either the
  ** old file or the new one under `path`, never half of one. */
  size_t plen = strlen(path);
  char *tmp = tl_alloc(plen + 5);
  if (!tmp) { tl_free(bufs); tl_free(h); return tl_error_oom(err, "save"); }
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp", 5);
  tl_status st = TL_OK;
  int fd = tl_interrupted() ? -2 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd == -2) {
    st = tl_error_interrupted(err, "save");
  } else if (fd < 0) {
    st = tl_error_set(err, TL_EIO, "save: cannot open '%s': %s", tmp, strerror(errno));
  } else {
    int e = write_file(fd, h, hsize, bufs, (size_t)ncol * NBUF);
    if (close(fd) != 0 && e == 0) e = errno;
    if (e == 0 && rename(tmp, path) != 0) e = errno;
    if (e != 0) {
      unlink(tmp);
      st = e == WRITE_INTERRUPTED ? tl_error_interrupted(err, "save") : save_error(err, path, e);
    }
  }
  tl_free(tmp);
  tl_free(bufs);
  tl_free(h);
  return st;
}

/* ---------------------------------------------------------------------------
** Loading
*/

/* The file's bytes: see base/mapfile.h. */
static const tl_mapfile_kind LOAD = { "load", "table file", "loaded", "load" };

typedef struct entry {
  tl_type type;
  int dict;            /* dictionary-encoded */
  int64_t nulls;
  int64_t ndict;       /* dictionary entries */
  uint64_t off[NBUF], len[NBUF];
} entry;

typedef struct loader {
  const char *op;      /* "load", "decode" */
  const char *path;
  tl_error *err;
  const uint8_t *p;    /* the file */
  uint64_t size;
  uint32_t ncol;
  uint64_t nrows, hsize;
  char **names;        /* ncol + 1, tl_alloc'd */
  entry *ents;
} loader;

static tl_status bad(loader *L, const char *fmt, ...) TL_PRINTF(2, 3);
static tl_status bad(loader *L, const char *fmt, ...) {
  char msg[TL_ERROR_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return tl_error_set(L->err, TL_EPARSE, "%s: %s: %s", L->op, L->path, msg);
}

/* The fixed header: magic, version, byte order, size, checksum. */
static tl_status check_header(loader *L) {
  const uint8_t *p = L->p;
  uint64_t size = L->size;
  size_t m = size < 8 ? (size_t)size : 8;
  if (memcmp(p, STORE_MAGIC, m) != 0) return bad(L, "not a tally table file (bad magic)");
  if (size < FIXED_SIZE)
    return bad(L, "truncated file (the header needs %u bytes, the file has %llu bytes)",
               FIXED_SIZE, (unsigned long long)size);
  uint32_t version = get32(p + 8);
  if (version != STORE_VERSION)
    return bad(L, "unsupported format version %lu (this library reads version %u)",
               (unsigned long)version, STORE_VERSION);
  uint32_t bom;
  memcpy(&bom, p + 12, 4);
  if (bom != STORE_BOM) {
    if (bom == __builtin_bswap32(STORE_BOM))
      return bad(L, "written on a machine of the other byte order");
    return bad(L, "corrupted header (bad byte-order mark)");
  }
  L->hsize = get64(p + 32);
  if (L->hsize > size)
    return bad(L, "truncated file (the header ends at byte %llu, the file has %llu bytes)",
               (unsigned long long)L->hsize, (unsigned long long)size);
  if (L->hsize < FIXED_SIZE) return bad(L, "corrupted header (checksum mismatch)");
  if (header_checksum(p, L->hsize) != get64(p + 48))
    return bad(L, "corrupted header (checksum mismatch)");
  L->ncol = get32(p + 16);
  L->nrows = get64(p + 24);
  if (L->ncol > (uint32_t)INT32_MAX - 1)
    return bad(L, "corrupted header (%lu columns)", (unsigned long)L->ncol);
  if (L->nrows > MAX_ROWS || (L->ncol == 0 && L->nrows != 0))
    return bad(L, "corrupted header (%llu rows)", (unsigned long long)L->nrows);
  if (L->hsize < FIXED_SIZE + ENTRY_SIZE * (uint64_t)L->ncol)
    return bad(L, "corrupted header (the directory of %lu columns overruns it)",
               (unsigned long)L->ncol);
  return TL_OK;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names: non-empty, UTF-8, unique. Copies them into L->names. */
static tl_status check_names(loader *L) {
  uint64_t pos = FIXED_SIZE + ENTRY_SIZE * (uint64_t)L->ncol;
  for (uint32_t j = 0; j < L->ncol; j++) {
    uint64_t len = get32(L->p + FIXED_SIZE + ENTRY_SIZE * (uint64_t)j + 4);
    if (len > L->hsize - pos)
      return bad(L, "corrupted header (the name of column %lu overruns it)",
                 (unsigned long)j + 1);
    const uint8_t *s = L->p + pos;
    pos += len;
    if (len == 0) return bad(L, "corrupted header (column %lu has an empty name)",
                             (unsigned long)j + 1);
    if (!utf8_valid(s, (size_t)len))
      return bad(L, "corrupted header (the name of column %lu is not valid UTF-8)",
                 (unsigned long)j + 1);
    L->names[j] = tl_strndup((const char *)s, (size_t)len);
    if (!L->names[j]) return tl_error_oom(L->err, L->op);
  }
  if (pos != L->hsize)
    return bad(L, "corrupted header (%llu stray bytes after the names)",
               (unsigned long long)(L->hsize - pos));
  if (L->ncol < 2) return TL_OK;
  char **sorted = tl_alloc(L->ncol * sizeof *sorted);
  if (!sorted) return tl_error_oom(L->err, L->op);
  memcpy(sorted, L->names, L->ncol * sizeof *sorted);
  qsort(sorted, L->ncol, sizeof *sorted, cmp_names);
  tl_status st = TL_OK;
  for (uint32_t j = 1; j < L->ncol && st == TL_OK; j++)
    if (strcmp(sorted[j - 1], sorted[j]) == 0)
      st = bad(L, "corrupted header (duplicate column name '%s')", sorted[j]);
  tl_free(sorted);
  return st;
}

/* The directory: types, encodings, null counts, and every buffer of the
** right length, aligned, in order, and inside the file. O(ncol). */
static tl_status check_directory(loader *L) {
  uint64_t end = L->hsize;
  for (uint32_t j = 0; j < L->ncol; j++) {
    const uint8_t *e = L->p + FIXED_SIZE + ENTRY_SIZE * (uint64_t)j;
    entry *en = &L->ents[j];
    const char *name = L->names[j];
    uint32_t type = get32(e), enc = get32(e + 16), reserved = get32(e + 20);
    uint64_t nulls = get64(e + 8), ndict = get64(e + 24);
    if (!tl_type_name((tl_type)type))
      return bad(L, "corrupted header (column '%s' has unknown type %lu)", name,
                 (unsigned long)type);
    if (enc != ENC_PLAIN && enc != ENC_DICT)
      return bad(L, "corrupted header (column '%s' has unknown encoding %lu)", name,
                 (unsigned long)enc);
    if (reserved != 0)
      return bad(L, "corrupted header (column '%s' has reserved field %lu, not 0)", name,
                 (unsigned long)reserved);
    if (enc == ENC_DICT && type != TL_STRING)
      return bad(L, "corrupted header (column '%s' of type %s is dictionary-encoded)", name,
                 tl_type_name((tl_type)type));
    if (nulls > L->nrows)
      return bad(L, "corrupted header (column '%s' has %llu nulls in %llu rows)", name,
                 (unsigned long long)nulls, (unsigned long long)L->nrows);
    if (enc == ENC_PLAIN ? ndict != 0 : ndict > MAX_DICT)
      return bad(L, "corrupted header (column '%s' has a dictionary of %llu entries)", name,
                 (unsigned long long)ndict);
    en->type = (tl_type)type;
    en->dict = enc == ENC_DICT;
    en->nulls = (int64_t)nulls;
    en->ndict = (int64_t)ndict;
    /* the lengths of every buffer but text, which may be any size */
    uint64_t want[NBUF] = { 0 };
    int text = en->dict ? B_DICT_BYTES : en->type == TL_STRING ? B_BYTES : -1;
    want[B_VALIDITY] = nulls ? (L->nrows + 7) / 8 : 0;
    want[B_VALUES] = values_bytes(en->type, en->dict, L->nrows);
    if (en->dict) want[B_DICT_OFFSETS] = values_bytes(TL_STRING, 0, ndict);
    for (int k = 0; k < NBUF; k++) {
      uint64_t off = get64(e + ENTRY_BUFS + 16 * k), len = get64(e + ENTRY_BUFS + 8 + 16 * k);
      en->off[k] = off;
      en->len[k] = len;
      if (k != text) {
        if (len != want[k])
          return bad(L, "corrupted header (column '%s' %s has %llu bytes, %llu expected)",
                     name, buf_names[k], (unsigned long long)len,
                     (unsigned long long)want[k]);
      } else if (len > (uint64_t)INT64_MAX) {
        return bad(L, "corrupted header (column '%s' has %llu bytes of text)", name,
                   (unsigned long long)len);
      }
      if (len == 0) {
        if (off != 0)
          return bad(L, "corrupted header (column '%s' empty %s at byte %llu)", name,
                     buf_names[k], (unsigned long long)off);
        continue;
      }
      if (off % ALIGN != 0)
        return bad(L, "corrupted header (column '%s' %s at byte %llu is not aligned to %u)",
                   name, buf_names[k], (unsigned long long)off, ALIGN);
      if (off < end)
        return bad(L, "corrupted header (column '%s' %s at byte %llu overlaps what precedes)",
                   name, buf_names[k], (unsigned long long)off);
      if (off > L->size || len > L->size - off) {
        if (len > UINT64_MAX - off)
          return bad(L, "corrupted header (column '%s' %s has %llu bytes)", name,
                     buf_names[k], (unsigned long long)len);
        return bad(L, "truncated file (column '%s' %s end at byte %llu, the file has %llu bytes)",
                   name, buf_names[k], (unsigned long long)(off + len),
                   (unsigned long long)L->size);
      }
      end = off + len;
    }
  }
  uint64_t fsize = get64(L->p + 40);
  if (fsize != end)
    return bad(L, "corrupted header (it says %llu bytes, its buffers end at byte %llu)",
               (unsigned long long)fsize, (unsigned long long)end);
  if (L->size != end)
    return bad(L, "corrupted file (%llu unexpected bytes after the table)",
               (unsigned long long)(L->size - end));
  return TL_OK;
}


/* The row at which string offsets first decrease, or -1. */
static int64_t offsets_unordered(const int64_t *off, int64_t n) {
  int bad_order = 0;
  for (int64_t i = 0; i < n; i++) bad_order |= off[i + 1] < off[i];   /* no branch: vectorizes */
  if (!bad_order) return -1;
  for (int64_t i = 0; i < n; i++)
    if (off[i + 1] < off[i]) return i;
  return -1;
}

/* The row whose code is outside [0, ndict), or -1. */
static int64_t codes_outside(const int32_t *codes, int64_t n, int64_t ndict) {
  uint32_t limit = (uint32_t)ndict;   /* a negative code reads as past it */
  int outside = 0;
  for (int64_t i = 0; i < n; i++) outside |= (uint32_t)codes[i] >= limit;   /* vectorizes */
  if (!outside) return -1;
  for (int64_t i = 0; i < n; i++)
    if ((uint32_t)codes[i] >= limit) return i;
  return -1;
}

/* The n + 1 offsets of n strings of column `name`: ordered and inside its
** nbytes of text. `what` names them, `unit` one string. */
static tl_status check_offsets(loader *L, const char *name, const char *what, const char *unit,
                               const int64_t *off, int64_t n, int64_t nbytes) {
  if (off[0] < 0 || off[0] > nbytes)
    return bad(L, "corrupted column '%s' (%s offsets start at %lld)", name, what,
               (long long)off[0]);
  int64_t row = offsets_unordered(off, n);
  if (row >= 0)
    return bad(L, "corrupted column '%s' (%s %lld has a negative string length)", name, unit,
               (long long)row + 1);
  if (off[n] > nbytes)
    return bad(L, "corrupted column '%s' (%s offsets end at %lld, past its %lld bytes)", name,
               what, (long long)off[n], (long long)nbytes);
  return TL_OK;
}

/* The contents the columns rely on: null counts match the validity bitmaps
** (a popcount, n/8 bytes), string offsets are ordered and inside the text (a
** sequential pass over 8n bytes) and dictionary codes are inside their
** dictionary (4n bytes), null rows included: they are read too. The values
** themselves need no check. */
static tl_status check_data(loader *L) {
  int64_t n = (int64_t)L->nrows;
  for (uint32_t j = 0; j < L->ncol; j++) {
    const entry *en = &L->ents[j];
    const char *name = L->names[j];
    if (tl_interrupted()) return tl_error_interrupted(L->err, L->op);   /* a pass a column */
    if (en->nulls) {
      int64_t nulls = n - tl_bitmap_count(L->p + en->off[B_VALIDITY], n);
      if (nulls != en->nulls)
        return bad(L, "corrupted column '%s' (%lld nulls in its validity bitmap, %lld in the header)",
                   name, (long long)nulls, (long long)en->nulls);
    }
    if (en->dict) {
      TL_TRY(check_offsets(L, name, "dictionary", "dictionary entry",
                           (const int64_t *)(L->p + en->off[B_DICT_OFFSETS]), en->ndict,
                           (int64_t)en->len[B_DICT_BYTES]));
      const int32_t *codes = (const int32_t *)(L->p + en->off[B_VALUES]);
      int64_t row = codes_outside(codes, n, en->ndict);
      if (row >= 0)
        return bad(L, "corrupted column '%s' (row %lld has code %ld, outside its dictionary of %lld entries)",
                   name, (long long)row + 1, (long)codes[row], (long long)en->ndict);
    } else if (en->type == TL_STRING) {
      TL_TRY(check_offsets(L, name, "string", "row", (const int64_t *)(L->p + en->off[B_VALUES]),
                           n, (int64_t)en->len[B_BYTES]));
    }
  }
  return TL_OK;
}

/* Checks the mapped file and builds the table over it. */
static tl_status load_mapped(loader *L, tl_mapfile *m, tl_table **out) {
  tl_status st = check_header(L);
  if (st != TL_OK) return st;
  L->names = tl_calloc((size_t)L->ncol + 1, sizeof *L->names);
  L->ents = tl_calloc((size_t)L->ncol + 1, sizeof *L->ents);
  if (!L->names || !L->ents) return tl_error_oom(L->err, L->op);
  TL_TRY(check_names(L));
  TL_TRY(check_directory(L));
  TL_TRY(check_data(L));
  tl_column **cols = tl_calloc((size_t)L->ncol + 1, sizeof *cols);
  if (!cols) return tl_error_oom(L->err, L->op);
  for (uint32_t j = 0; j < L->ncol; j++) {
    const entry *en = &L->ents[j];
    tl_column *c = tl_calloc(1, sizeof *c);
    tl_column *d = en->dict ? tl_calloc(1, sizeof *d) : NULL;
    if (!c || (en->dict && !d)) {
      tl_free(c);
      tl_free(d);
      for (uint32_t k = 0; k < j; k++) tl_column_release(cols[k]);
      tl_free(cols);
      return tl_error_oom(L->err, L->op);
    }
    uint8_t *buf[NBUF];
    for (int k = 0; k < NBUF; k++)   /* the mapping is read-only; columns never write */
      buf[k] = en->len[k] ? (uint8_t *)(uintptr_t)(L->p + en->off[k]) : empty_buffer;
    atomic_init(&c->refs, 1);
    c->type = en->type;
    c->length = (int64_t)L->nrows;
    c->null_count = en->nulls;
    c->validity = en->nulls ? buf[B_VALIDITY] : NULL;
    c->values = buf[B_VALUES];
    if (d) {   /* the dictionary: a plain string column of its own over the mapping */
      atomic_init(&d->refs, 1);
      d->type = TL_STRING;
      d->length = en->ndict;
      d->values = buf[B_DICT_OFFSETS];
      d->bytes = (char *)buf[B_DICT_BYTES];
      d->nbytes = (int64_t)en->len[B_DICT_BYTES];
      tl_mapfile_attach(d, m);
      c->dict = d;   /* the column's reference */
    } else if (en->type == TL_STRING) {
      c->bytes = (char *)buf[B_BYTES];
      c->nbytes = (int64_t)en->len[B_BYTES];
    }
    tl_mapfile_attach(c, m);
    cols[j] = c;
  }
  char **names = L->names;
  L->names = NULL;   /* adopted, also on error */
  return tl_table_adopt((int)L->ncol, names, cols, out, L->err);
}

tl_status tl_table_load_ex(const char *path, int flags, tl_table **out, tl_error *err) {
  tl_mapfile *m = NULL;
  if (tl_interrupted()) return tl_error_interrupted(err, "load");
  int how = flags & TL_LOAD_COPY ? TL_MAPFILE_COPY : TL_MAPFILE_WATCH;
  TL_TRY(tl_mapfile_open(path, how, &LOAD, &m, err));
  loader L;
  memset(&L, 0, sizeof L);
  L.op = "load";
  L.path = path;
  L.err = err;
  L.p = m->data;
  L.size = m->size;
  tl_status st = load_mapped(&L, m, out);
  if (L.names)
    for (uint32_t j = 0; j < L.ncol; j++) tl_free(L.names[j]);
  tl_free(L.names);
  tl_free(L.ents);
  tl_mapfile_release(m);   /* the columns hold their own references */
  return st;
}

tl_status tl_table_load(const char *path, tl_table **out, tl_error *err) {
  return tl_table_load_ex(path, 0, out, err);
}

/* ---------------------------------------------------------------------------
** Encoding: the file's bytes in memory, for moving a table between
** processes.
*/

tl_status tl_table_encode(const tl_table *t, void **buf, size_t *len, tl_error *err) {
  TL_TRY(tl_table_check_files(t, "encode", err));
  uint8_t *h;
  wbuf *bufs;
  uint64_t hsize, end, ncol = (uint64_t)t->ncol;
  TL_TRY(layout(t, "encode", &h, &hsize, &bufs, &end, err));
  uint8_t *out = end <= SIZE_MAX ? tl_alloc((size_t)end + 1) : NULL;
  if (!out) {
    tl_free(h);
    tl_free(bufs);
    return tl_error_oom(err, "encode");
  }
  memcpy(out, h, (size_t)hsize);
  uint64_t pos = hsize;
  for (size_t k = 0; k < (size_t)ncol * NBUF; k++) {
    if (bufs[k].len == 0) continue;
    memset(out + pos, 0, (size_t)(bufs[k].off - pos));
    memcpy(out + bufs[k].off, bufs[k].ptr, (size_t)bufs[k].len);
    pos = bufs[k].off + bufs[k].len;
  }
  tl_free(h);
  tl_free(bufs);
  *buf = out;
  *len = (size_t)end;
  return TL_OK;
}

tl_status tl_table_decode(const void *buf, size_t len, const char *name, tl_table **out,
                          tl_error *err) {
  static const tl_mapfile_kind DECODE = { "decode", "buffer", "decoded", "decode" };
  tl_mapfile *m;
  TL_TRY(tl_mapfile_copy(buf, len, &DECODE, &m, err));
  loader L;
  memset(&L, 0, sizeof L);
  L.op = "decode";
  L.path = name ? name : "buffer";
  L.err = err;
  L.p = m->data;
  L.size = len;
  tl_status st = load_mapped(&L, m, out);
  if (L.names)
    for (uint32_t j = 0; j < L.ncol; j++) tl_free(L.names[j]);
  tl_free(L.names);
  tl_free(L.ents);
  tl_mapfile_release(m);
  return st;
}
