/*
** spill.c -- temporary files of the steps that pass the memory limit: made
** and unlinked at once in the temporary directory, written and read in
** blocks, and tables as blocks. See spill.h.
*/
#define _FILE_OFFSET_BITS 64   /* ftello past 2 GB */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "spill.h"

static atomic_llong blocks;       /* written since the process started */
static atomic_llong fail_at;      /* the block to fail; 0: none */

void tl_spill_fail_block(int64_t k) {
  atomic_store(&fail_at, k > 0 ? (long long)atomic_load(&blocks) + k : 0);
}

int64_t tl_spill_blocks(void) { return atomic_load(&blocks); }

int64_t tl_spill_threshold(int64_t base, double share) {
  size_t limit = tl_env_memory_limit(NULL);
  if (limit == 0) return 0;
  int64_t room = (int64_t)limit - base;
  if (room < 0) room = 0;
  return base + (int64_t)((double)room * share);
}

static tl_status failed(tl_spill *f, const char *what, int e, tl_error *err) {
  return tl_error_set(err, TL_EIO, "%s: cannot %s the temporary file '%s' (%lld bytes "
                      "written to the temporary directory): %s", f->by->op, what, f->path,
                      (long long)atomic_load(&f->by->written), strerror(e));
}

tl_status tl_spill_open(tl_spiller *by, tl_spill **out, tl_error *err) {
  const char *dir = tl_env_tmpdir(NULL);
  size_t n = strlen(dir) + 32;
  tl_spill *f = tl_calloc(1, sizeof *f);
  char *path = tl_alloc(n);
  *out = NULL;
  if (!f || !path) { tl_free(f); tl_free(path); return tl_error_oom(err, by->op); }
  snprintf(path, n, "%s/tally-spill-XXXXXX", dir);
  int fd = mkstemp(path);
  if (fd < 0) {
    int e = errno;
    tl_status st = tl_error_set(err, TL_EIO, "%s: cannot make a temporary file in '%s' "
                                "(another is chosen with TALLY_TEMP_DIRECTORY): %s", by->op,
                                dir, strerror(e));
    tl_free(f); tl_free(path);
    return st;
  }
  unlink(path);   /* gone from the directory now; the space is freed at close */
  f->f = fdopen(fd, "w+b");
  if (!f->f) { close(fd); tl_free(f); tl_free(path); return tl_error_oom(err, by->op); }
  f->path = path;
  f->by = by;
  atomic_fetch_add(&by->files, 1);
  *out = f;
  return TL_OK;
}

void tl_spill_close(tl_spill *f) {
  if (!f) return;
  fclose(f->f);
  tl_free(f->path);
  tl_free(f);
}

static int write_all(tl_spill *f, const void *p, size_t n) {
  if (n && fwrite(p, 1, n, f->f) != n) return 0;
  f->bytes += (int64_t)n;
  atomic_fetch_add(&f->by->written, (long long)n);
  return 1;
}

static void put_len(uint8_t head[8], uint64_t len) {
  for (int b = 0; b < 8; b++) head[b] = (uint8_t)(len >> (8 * b));
}

/* Counts a block; the one the test knob names fails. */
static tl_status count_block(tl_spill *f, tl_error *err) {
  long long k = atomic_fetch_add(&blocks, 1) + 1;
  long long at = atomic_load(&fail_at);
  if (at && k >= at) {   /* the disk is full from here on */
    atomic_store(&fail_at, 0);
    return failed(f, "write", ENOSPC, err);
  }
  return TL_OK;
}

tl_status tl_spill_put(tl_spill *f, const void *p, size_t n, tl_error *err) {
  TL_TRY(count_block(f, err));
  uint8_t head[8];
  put_len(head, n);
  if (!write_all(f, head, 8) || !write_all(f, p, n)) return failed(f, "write", errno, err);
  return TL_OK;
}

tl_status tl_spill_begin(tl_spill *f, tl_error *err) {
  TL_TRY(count_block(f, err));
  uint8_t head[8] = {0};
  f->at = ftello(f->f);
  if (f->at < 0 || !write_all(f, head, 8)) return failed(f, "write", errno, err);
  return TL_OK;
}

tl_status tl_spill_write(tl_spill *f, const void *p, size_t n, tl_error *err) {
  return write_all(f, p, n) ? TL_OK : failed(f, "write", errno, err);
}

tl_status tl_spill_end(tl_spill *f, tl_error *err) {
  off_t end = ftello(f->f);
  uint8_t head[8];
  put_len(head, (uint64_t)(end - f->at - 8));
  if (end < 0 || fseeko(f->f, f->at, SEEK_SET) != 0 || fwrite(head, 1, 8, f->f) != 8 ||
      fseeko(f->f, end, SEEK_SET) != 0)
    return failed(f, "write", errno, err);
  return TL_OK;
}

tl_status tl_spill_get(tl_spill *f, void **p, size_t *n, tl_error *err) {
  *p = NULL;
  *n = 0;
  if (!f->reading) {
    if (fflush(f->f) != 0) return failed(f, "write", errno, err);
    rewind(f->f);
    f->reading = 1;
  }
  uint8_t head[8];
  size_t got = fread(head, 1, 8, f->f);
  if (got == 0 && feof(f->f)) return TL_OK;
  uint64_t len = 0;
  for (int b = 0; b < 8; b++) len |= (uint64_t)head[b] << (8 * b);
  if (got != 8 || len > (uint64_t)f->bytes) return failed(f, "read", ferror(f->f) ? errno : EIO, err);
  void *buf = tl_alloc(len ? (size_t)len : 1);
  if (!buf) return tl_error_oom(err, f->by->op);
  if (fread(buf, 1, (size_t)len, f->f) != len) {
    tl_free(buf);
    return failed(f, "read", ferror(f->f) ? errno : EIO, err);
  }
  *p = buf;
  *n = (size_t)len;
  return TL_OK;
}

/* ---------------------------------------------------------------------------
** Tables as blocks: u64 rows, u32 columns, then per column its u8 type and
** per row u8 valid and the value (bool u8, date i32, the others 8 bytes,
** strings u64 length and bytes), little-endian as the machine's.
*/
typedef struct obuf { uint8_t *p; size_t n, cap; int oom; } obuf;

static void put(obuf *b, const void *s, size_t n) {
  if (b->oom) return;
  if (n > b->cap - b->n) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->n < n) cap *= 2;
    uint8_t *np = tl_realloc(b->p, cap);
    if (!np) { b->oom = 1; return; }
    b->p = np;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

static void put_cell(obuf *b, const tl_column *c, int64_t i) {
  tl_scalar v;
  tl_column_get(c, i, &v);
  uint8_t valid = !v.is_null;
  put(b, &valid, 1);
  if (v.is_null) return;
  switch (v.type) {
    case TL_BOOL: { uint8_t x = (uint8_t)v.v.b; put(b, &x, 1); break; }
    case TL_DATE: put(b, &v.v.d, 4); break;
    case TL_FLOAT: put(b, &v.v.f, 8); break;
    case TL_STRING: { uint64_t n = v.v.s.len; put(b, &n, 8); put(b, v.v.s.ptr, n); break; }
    default: put(b, &v.v.i, 8);
  }
}

tl_status tl_spill_put_table(tl_spill *f, const tl_table *t, tl_error *err) {
  obuf b = {0};
  uint64_t nrows = (uint64_t)tl_table_nrows(t);
  uint32_t ncols = (uint32_t)tl_table_ncols(t);
  put(&b, &nrows, 8);
  put(&b, &ncols, 4);
  for (int j = 0; j < (int)ncols; j++) {
    const tl_column *c = tl_table_column(t, j);
    uint8_t type = (uint8_t)tl_column_type(c);
    put(&b, &type, 1);
    for (int64_t i = 0; i < (int64_t)nrows && !b.oom; i++) put_cell(&b, c, i);
  }
  tl_status st = b.oom ? tl_error_oom(err, f->by->op) : tl_spill_put(f, b.p, b.n, err);
  tl_free(b.p);
  return st;
}

typedef struct ibuf { const uint8_t *p; size_t n, at; int bad; } ibuf;

static const void *take(ibuf *r, size_t n) {
  if (r->bad || n > r->n - r->at) { r->bad = 1; return NULL; }
  const void *s = r->p + r->at;
  r->at += n;
  return s;
}

static tl_status get_cell(ibuf *r, tl_builder *bd, tl_type t, tl_error *err) {
  const uint8_t *valid = take(r, 1);
  if (!valid) return TL_OK;
  if (!*valid) return tl_builder_append_null(bd, err);
  const void *p;
  uint64_t n;
  int64_t iv;
  double dv;
  int32_t d;
  switch (t) {
    case TL_BOOL: return (p = take(r, 1)) ? tl_builder_append_bool(bd, *(const uint8_t *)p, err) : TL_OK;
    case TL_DATE:
      if (!(p = take(r, 4))) return TL_OK;
      memcpy(&d, p, 4);
      return tl_builder_append_date(bd, d, err);
    case TL_FLOAT:
      if (!(p = take(r, 8))) return TL_OK;
      memcpy(&dv, p, 8);
      return tl_builder_append_float(bd, dv, err);
    case TL_STRING:
      if (!(p = take(r, 8))) return TL_OK;
      memcpy(&n, p, 8);
      if (!(p = take(r, (size_t)n))) return TL_OK;
      return tl_builder_append_string(bd, p, (size_t)n, err);
    default:
      if (!(p = take(r, 8))) return TL_OK;
      memcpy(&iv, p, 8);
      return t == TL_TIMESTAMP ? tl_builder_append_timestamp(bd, iv, err)
                               : tl_builder_append_int(bd, iv, err);
  }
}

static tl_status get_column(ibuf *r, tl_type want, int64_t nrows, tl_column **out, tl_error *err) {
  const uint8_t *type = take(r, 1);
  if (!type || *type != want) { r->bad = 1; return TL_OK; }
  tl_builder *bd = NULL;
  TL_TRY(tl_builder_new(want, nrows, &bd, err));
  tl_status st = TL_OK;
  for (int64_t i = 0; i < nrows && st == TL_OK && !r->bad; i++) st = get_cell(r, bd, want, err);
  if (st != TL_OK || r->bad) { tl_builder_free(bd); return st; }
  return tl_builder_finish(bd, out, err);
}

tl_status tl_spill_get_table(tl_spill *f, const tl_table *schema, tl_table **out,
                             tl_error *err) {
  void *p = NULL;
  size_t n = 0;
  *out = NULL;
  TL_TRY(tl_spill_get(f, &p, &n, err));
  if (!p) return TL_OK;
  ibuf r = { p, n, 0, 0 };
  uint64_t nrows = 0;
  uint32_t ncols = 0;
  const void *h = take(&r, 12);
  if (h) { memcpy(&nrows, h, 8); memcpy(&ncols, (const uint8_t *)h + 8, 4); }
  int nc = tl_table_ncols(schema);
  if ((int64_t)ncols != nc || nrows > n) r.bad = 1;
  tl_column **cols = tl_calloc((size_t)nc + 1, sizeof *cols);
  const char **names = tl_calloc((size_t)nc + 1, sizeof *names);
  tl_status st = cols && names ? TL_OK : tl_error_oom(err, f->by->op);
  for (int j = 0; j < nc && st == TL_OK && !r.bad; j++) {
    names[j] = tl_table_name(schema, j);
    st = get_column(&r, tl_column_type(tl_table_column(schema, j)), (int64_t)nrows, &cols[j], err);
  }
  if (st == TL_OK && r.bad) st = failed(f, "read back", EIO, err);
  if (st == TL_OK) st = tl_table_new(nc, names, cols, out, err);
  for (int j = 0; cols && j < nc; j++) tl_column_release(cols[j]);
  tl_free(cols);
  tl_free(names);
  tl_free(p);
  return st;
}
