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
#include "base/column.h"
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

/* A piece of a block. */
typedef struct piece { const void *p; size_t n; } piece;

/* One block made of the np pieces, in order. */
static tl_status put_pieces(tl_spill *f, const piece *ps, int np, tl_error *err) {
  TL_TRY(count_block(f, err));
  uint64_t len = 0;
  for (int i = 0; i < np; i++) len += ps[i].n;
  uint8_t head[8];
  put_len(head, len);
  if (!write_all(f, head, 8)) return failed(f, "write", errno, err);
  for (int i = 0; i < np; i++)
    if (!write_all(f, ps[i].p, ps[i].n)) return failed(f, "write", errno, err);
  return TL_OK;
}

tl_status tl_spill_put(tl_spill *f, const void *p, size_t n, tl_error *err) {
  piece one = { p, n };
  return put_pieces(f, &one, 1, err);
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

/* The length of the next block, checked against the bytes written; *end
** when there is none. */
static tl_status get_head(tl_spill *f, uint64_t *len, int *end, tl_error *err) {
  *len = 0;
  *end = 0;
  if (!f->reading) {
    if (fflush(f->f) != 0) return failed(f, "write", errno, err);
    rewind(f->f);
    f->reading = 1;
  }
  uint8_t head[8];
  size_t got = fread(head, 1, 8, f->f);
  if (got == 0 && feof(f->f)) { *end = 1; return TL_OK; }
  for (int b = 0; b < 8; b++) *len |= (uint64_t)head[b] << (8 * b);
  if (got != 8 || *len > (uint64_t)f->bytes) return failed(f, "read", ferror(f->f) ? errno : EIO, err);
  return TL_OK;
}

tl_status tl_spill_get(tl_spill *f, void **p, size_t *n, tl_error *err) {
  uint64_t len;
  int end;
  *p = NULL;
  *n = 0;
  TL_TRY(get_head(f, &len, &end, err));
  if (end) return TL_OK;
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
** Tables as blocks, a column at a time, each buffer in one piece:
**   u64 rows, u32 columns, then per column
**   u8 type, u8 1 when a validity bitmap follows (0: no nulls),
**   [string: u64 bytes of text,]
**   [the validity bitmap, (rows + 7) / 8 bytes,]
**   bool: a bitmap as the validity's; date: i32 per row; int, float,
**   timestamp: 8 bytes per row; string: rows + 1 i64 offsets (from any
**   first one: the reader subtracts it), then the text,
** in the machine's byte order. The values of null rows are as the column
** had them; a dictionary column is written as plain strings.
*/

/* Bits [at, at + n) of bitmap src (of sb bytes) at the start of dst. */
static void bits_copy(uint8_t *dst, const uint8_t *src, size_t sb, int64_t at, int64_t n) {
  size_t nb = TL_BITMAP_BYTES(n), from = (size_t)(at >> 3);
  int s = (int)(at & 7);
  if (s == 0) { memcpy(dst, src + from, nb); return; }
  for (size_t k = 0; k < nb; k++) {
    unsigned b = (unsigned)src[from + k] >> s;
    if (from + k + 1 < sb) b |= (unsigned)src[from + k + 1] << (8 - s);
    dst[k] = (uint8_t)b;
  }
}

/* What the writer of one column needs beside the column's own buffers. */
typedef struct colw {
  uint8_t head[2];
  uint64_t nbytes;
  void *tmp[3];          /* tl_alloc'd: a shifted validity and values, decoded strings */
} colw;

/* A bitmap piece for bits [at, at + n) of bm (of a column of len rows):
** the bitmap itself from a byte boundary, else a shifted copy in *tmp. */
static int bits_piece(piece *p, const uint8_t *bm, int64_t len, int64_t at, int64_t n,
                      void **tmp) {
  p->n = TL_BITMAP_BYTES(n);
  if ((at & 7) == 0) { p->p = bm + (at >> 3); return 1; }
  uint8_t *b = tl_alloc(p->n);
  if (!b) return 0;
  bits_copy(b, bm, TL_BITMAP_BYTES(len), at, n);
  p->p = *tmp = b;
  return 1;
}

/* A dictionary column's rows [at, at + n) as plain strings: offsets from 0
** in tmp[1] and bytes in tmp[2] (null rows empty: their code may be 0 in
** an empty dictionary). */
static int dict_decode(const tl_column *c, int64_t at, int64_t n, colw *w) {
  const int32_t *code = (const int32_t *)c->values + at;
  const int64_t *doff = c->dict->values;
  int64_t *off = tl_alloc(((size_t)n + 1) * sizeof *off);
  if (!off) return 0;
  w->tmp[1] = off;
  off[0] = 0;
  for (int64_t i = 0; i < n; i++) {
    int64_t len = c->validity && !TL_BIT_GET(c->validity, at + i) ? 0
                : doff[code[i] + 1] - doff[code[i]];
    off[i + 1] = off[i] + len;
  }
  char *b = tl_alloc((size_t)off[n]);
  if (!b) return 0;
  w->tmp[2] = b;
  for (int64_t i = 0; i < n; i++)
    if (off[i + 1] > off[i]) memcpy(b + off[i], c->dict->bytes + doff[code[i]], (size_t)(off[i + 1] - off[i]));
  w->nbytes = (uint64_t)off[n];
  return 1;
}

/* The pieces of column c's rows [at, at + n) from ps; their count, or -1
** when out of memory. */
static int column_pieces(const tl_column *c, int64_t at, int64_t n, colw *w, piece *ps) {
  int np = 0, nulls = c->validity && c->null_count > 0;
  const int64_t *off = NULL;
  const char *bytes = NULL;
  w->head[0] = (uint8_t)c->type;
  w->head[1] = (uint8_t)nulls;
  ps[np++] = (piece){ w->head, 2 };
  if (c->type == TL_STRING) {
    if (c->dict) {
      if (!dict_decode(c, at, n, w)) return -1;
      off = w->tmp[1];
      bytes = w->tmp[2];
    } else {
      off = (const int64_t *)c->values + at;
      bytes = c->bytes + off[0];
      w->nbytes = (uint64_t)(off[n] - off[0]);
    }
    ps[np++] = (piece){ &w->nbytes, 8 };
  }
  if (nulls && !bits_piece(&ps[np++], c->validity, c->length, at, n, &w->tmp[0])) return -1;
  switch (c->type) {
    case TL_BOOL:
      if (!bits_piece(&ps[np++], c->values, c->length, at, n, &w->tmp[1])) return -1;
      break;
    case TL_STRING:
      ps[np++] = (piece){ off, ((size_t)n + 1) * sizeof *off };
      ps[np++] = (piece){ bytes, (size_t)w->nbytes };
      break;
    default: {
      size_t wd = tl_type_width(c->type);
      ps[np++] = (piece){ (const char *)c->values + (size_t)at * wd, (size_t)n * wd };
    }
  }
  return np;
}

#define PIECES 6   /* at most, per column */

tl_status tl_spill_put_rows(tl_spill *f, const tl_table *t, int64_t at, int64_t n,
                            tl_error *err) {
  int nc = tl_table_ncols(t);
  if (at < 0) at = 0;
  if (at > tl_table_nrows(t)) at = tl_table_nrows(t);
  if (n < 0 || n > tl_table_nrows(t) - at) n = tl_table_nrows(t) - at;
  colw *w = tl_calloc((size_t)nc + 1, sizeof *w);
  piece *ps = tl_alloc(((size_t)nc * PIECES + 1) * sizeof *ps);
  uint8_t head[12];
  uint64_t rows = (uint64_t)n;
  uint32_t cols = (uint32_t)nc;
  memcpy(head, &rows, 8);
  memcpy(head + 8, &cols, 4);
  int np = 0;
  tl_status st = w && ps ? TL_OK : tl_error_oom(err, f->by->op);
  if (st == TL_OK) ps[np++] = (piece){ head, 12 };
  for (int j = 0; j < nc && st == TL_OK; j++) {
    int k = column_pieces(tl_table_column(t, j), at, n, &w[j], ps + np);
    if (k < 0) st = tl_error_oom(err, f->by->op);
    else np += k;
  }
  if (st == TL_OK) st = put_pieces(f, ps, np, err);
  for (int j = 0; w && j < nc; j++)
    for (int k = 0; k < 3; k++) tl_free(w[j].tmp[k]);
  tl_free(w);
  tl_free(ps);
  return st;
}

tl_status tl_spill_put_table(tl_spill *f, const tl_table *t, tl_error *err) {
  return tl_spill_put_rows(f, t, 0, tl_table_nrows(t), err);
}

/* Reading one block back: the bytes of it not read yet, and whether what
** was read was not what a writer writes. */
typedef struct rd { tl_spill *f; uint64_t left; int bad; } rd;

/* n bytes of the block into p; 0 when the block has fewer left (bad) or
** the read failed (*st set). */
static int rd_take(rd *r, void *p, uint64_t n, tl_status *st, tl_error *err) {
  if (r->bad || n > r->left) { r->bad = 1; return 0; }
  if (n && fread(p, 1, (size_t)n, r->f->f) != n) {
    *st = failed(r->f, "read", ferror(r->f->f) ? errno : EIO, err);
    return 0;
  }
  r->left -= n;
  return 1;
}

/* Whether string offsets off[0 .. n] are ordered and span nbytes; they are
** made to start at 0. */
static int offsets_ok(int64_t *off, int64_t n, uint64_t nbytes) {
  for (int64_t i = 0; i < n; i++)
    if (off[i + 1] < off[i]) return 0;
  if ((uint64_t)off[n] - (uint64_t)off[0] != nbytes) return 0;
  uint64_t o = (uint64_t)off[0];
  if (o)
    for (int64_t i = 0; i <= n; i++) off[i] = (int64_t)((uint64_t)off[i] - o);
  return 1;
}

static tl_status get_column(rd *r, tl_type want, int64_t n, tl_column **out, tl_error *err) {
  uint8_t head[2];
  tl_status st = TL_OK;
  tl_column *c = NULL;
  uint64_t nb = TL_BITMAP_BYTES(n), nbytes = 0;
  *out = NULL;
  if (!rd_take(r, head, 2, &st, err)) return st;
  if (head[0] != want || head[1] > 1 || (head[1] && nb > r->left)) { r->bad = 1; return TL_OK; }
  if (want == TL_STRING) {
    if (!rd_take(r, &nbytes, 8, &st, err)) return st;
    uint64_t offs = ((uint64_t)n + 1) * 8, need = (head[1] ? nb : 0) + offs;
    if (need > r->left || nbytes > r->left - need) { r->bad = 1; return TL_OK; }
    TL_TRY(tl_column_alloc(TL_STRING, n, head[1], (int64_t)nbytes, &c, err));
  } else {
    uint64_t wd = tl_type_width(want), need = (head[1] ? nb : 0);
    uint64_t vals = want == TL_BOOL ? nb : (uint64_t)n * wd;
    if (need > r->left || vals > r->left - need) { r->bad = 1; return TL_OK; }
    TL_TRY(tl_column_alloc_raw(want, n, head[1], &c, err));
  }
  if (head[1] && rd_take(r, c->validity, nb, &st, err) && nb)
    c->validity[nb - 1] &= (uint8_t)(0xffu >> ((8 - n % 8) % 8));   /* no bits past the rows */
  if (!r->bad && st == TL_OK) {
    if (want == TL_STRING) {
      if (rd_take(r, c->values, ((uint64_t)n + 1) * 8, &st, err) &&
          rd_take(r, c->bytes, nbytes, &st, err) && !offsets_ok(c->values, n, nbytes))
        r->bad = 1;
    } else if (want == TL_BOOL) {
      if (rd_take(r, c->values, nb, &st, err) && nb)
        ((uint8_t *)c->values)[nb - 1] &= (uint8_t)(0xffu >> ((8 - n % 8) % 8));
    } else {
      rd_take(r, c->values, (uint64_t)n * tl_type_width(want), &st, err);
    }
  }
  if (st != TL_OK || r->bad) { tl_column_release(c); return st; }
  tl_column_seal(c);
  *out = c;
  return TL_OK;
}

tl_status tl_spill_get_table(tl_spill *f, const tl_table *schema, tl_table **out,
                             tl_error *err) {
  uint64_t len;
  int end;
  *out = NULL;
  TL_TRY(get_head(f, &len, &end, err));
  if (end) return TL_OK;
  rd r = { f, len, 0 };
  uint8_t h[12];
  uint64_t nrows = 0;
  uint32_t ncols = 0;
  tl_status st = TL_OK;
  if (!rd_take(&r, h, 12, &st, err)) return st != TL_OK ? st : failed(f, "read back", EIO, err);
  memcpy(&nrows, h, 8);
  memcpy(&ncols, h + 8, 4);
  int nc = tl_table_ncols(schema);
  if ((int64_t)ncols != nc || nrows > len) r.bad = 1;
  tl_column **cols = tl_calloc((size_t)nc + 1, sizeof *cols);
  const char **names = tl_calloc((size_t)nc + 1, sizeof *names);
  if (!cols || !names) st = tl_error_oom(err, f->by->op);
  for (int j = 0; j < nc && st == TL_OK && !r.bad; j++) {
    names[j] = tl_table_name(schema, j);
    st = get_column(&r, tl_column_type(tl_table_column(schema, j)), (int64_t)nrows, &cols[j], err);
  }
  if (st == TL_OK && (r.bad || r.left)) st = failed(f, "read back", EIO, err);
  if (st == TL_OK) st = tl_table_new(nc, names, cols, out, err);
  for (int j = 0; cols && j < nc; j++) tl_column_release(cols[j]);
  tl_free(cols);
  tl_free(names);
  return st;
}
