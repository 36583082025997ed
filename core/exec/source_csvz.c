/*
** source_csvz.c -- compressed CSV files (gzip, zstd; plain files among them
** too) as a scan's source. A compressed stream cannot be cut at byte
** offsets, so a run reads the files one after the other: the morsels are
** cut in order, each of about morsel_bytes of text ending at a record start
** (tl_csv_cut, the tokenizer's walk), by whichever worker asks for the
** next one, under a lock; the parsing of the morsels, the longer part, runs
** on every core. Each morsel is parsed as the input's start (byte-order
** mark, skipped lines, header) followed by its text, read from the record
** start with exact line and record numbers, so its errors are read_csv's.
** The count of morsels is known at the end only: a read past it gives no
** table. Types: a sample of sample_bytes of text at each file's start, as
** for plain CSV.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "io/csv.h"
#include "source.h"

#define DEFAULT_MORSEL ((int64_t)4 << 20)
#define DEFAULT_SAMPLE ((int64_t)1 << 20)
#define INPUT ((size_t)1 << 18)          /* compressed bytes read at a time */

typedef struct zsrc {
  int nfiles;
  char **paths;
  int64_t total;
  tl_csv_options o;
  char **nulls, *comment;
  tl_agree ag;             /* the schema: names and types force the reads' types */
  int inferred;
} zsrc;

/* A file's text, decompressed as it is asked for. */
typedef struct zin {
  const char *path;
  int fd, kind, started, ended;   /* kind: 0 plain, TL_CSV_GZIP, TL_CSV_ZSTD */
  int frame_open;                 /* zstd: inside a frame */
  z_stream z;
  ZSTD_DCtx *dc;
  unsigned char *in;
  size_t ilen, ipos;
  int in_eof;
} zin;

/* The text of one file so far: its start (the preamble, pre bytes) and the
** text not yet cut, from `from`. */
typedef struct cursor {
  zin in;
  char *buf;
  size_t len, cap, from;
  int64_t line, rec;       /* at `from` */
  int eof;                 /* the file's text is all in buf */
} cursor;

static tl_status zerr(const zin *z, const char *why, tl_error *err) {
  const char *codec = z->kind == TL_CSV_GZIP ? "gzip" : "zstd";
  return tl_error_set(err, TL_EINVAL, "read_csv: %s: %s: %s", z->path, codec, why);
}

/* Damaged input, in read_csv's words (csv_unzip.c). */
static tl_status zdamaged(const zin *z, const char *why, tl_error *err) {
  const char *codec = z->kind == TL_CSV_GZIP ? "gzip" : "zstd";
  return tl_error_set(err, TL_EINVAL, "read_csv: %s: %s: damaged data (%s)", z->path, codec,
                      why ? why : "bad data");
}

static void zin_close(zin *z) {
  if (z->fd >= 0) close(z->fd);
  if (z->kind == TL_CSV_GZIP && z->started) inflateEnd(&z->z);
  ZSTD_freeDCtx(z->dc);
  tl_free(z->in);
  memset(z, 0, sizeof *z);
  z->fd = -1;
}

static tl_status fill_input(zin *z, tl_error *err) {
  if (z->ipos < z->ilen || z->in_eof) return TL_OK;
  ssize_t k;
  do k = read(z->fd, z->in, INPUT); while (k < 0 && errno == EINTR);
  if (k < 0) return tl_error_set(err, TL_EIO, "read_csv: cannot read '%s': %s", z->path,
                                 strerror(errno));
  z->ilen = (size_t)k;
  z->ipos = 0;
  z->in_eof = k == 0;
  return TL_OK;
}

static tl_status zin_open(zin *z, const char *path, tl_error *err) {
  memset(z, 0, sizeof *z);
  z->path = path;
  z->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (z->fd < 0)
    return tl_error_set(err, TL_EIO, "read_csv: cannot open '%s': %s", path, strerror(errno));
  if (!(z->in = tl_alloc(INPUT))) return tl_error_oom(err, "scan");
  TL_TRY(fill_input(z, err));
  z->kind = tl_csv_compression(z->in, z->ilen);
  if (z->kind == TL_CSV_GZIP) {
    if (inflateInit2(&z->z, 15 + 16) != Z_OK) return tl_error_oom(err, "scan");
    z->started = 1;
  } else if (z->kind == TL_CSV_ZSTD && !(z->dc = ZSTD_createDCtx())) {
    return tl_error_oom(err, "scan");
  }
  return TL_OK;
}

/* Up to cap bytes of text into dst; *got 0 at the end of the file. */
static tl_status zin_read(zin *z, char *dst, size_t cap, size_t *got, tl_error *err) {
  *got = 0;
  while (*got == 0 && !z->ended) {
    TL_TRY(fill_input(z, err));
    size_t avail = z->ilen - z->ipos;
    if (z->kind == 0) {
      size_t n = avail < cap ? avail : cap;
      memcpy(dst, z->in + z->ipos, n);
      z->ipos += n;
      *got = n;
      z->ended = z->in_eof;
    } else if (z->kind == TL_CSV_GZIP) {
      z->z.next_in = z->in + z->ipos;
      z->z.avail_in = (uInt)avail;
      z->z.next_out = (Bytef *)dst;
      z->z.avail_out = (uInt)cap;
      int rc = inflate(&z->z, Z_NO_FLUSH);
      z->ipos = z->ilen - z->z.avail_in;
      *got = cap - z->z.avail_out;
      if (rc == Z_STREAM_END) {   /* another member may follow */
        TL_TRY(fill_input(z, err));
        if (z->ipos == z->ilen && z->in_eof) z->ended = 1;
        else inflateReset(&z->z);
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return zdamaged(z, z->z.msg, err);
      } else if (*got == 0 && z->in_eof) {
        return zerr(z, "truncated (the data ends before the end of the stream)", err);
      }
    } else {
      ZSTD_inBuffer in = { z->in + z->ipos, avail, 0 };
      ZSTD_outBuffer out = { dst, cap, 0 };
      size_t left = ZSTD_decompressStream(z->dc, &out, &in);
      z->ipos += in.pos;
      *got = out.pos;
      if (ZSTD_isError(left)) return zdamaged(z, ZSTD_getErrorName(left), err);
      if (in.pos || out.pos) z->frame_open = left != 0;   /* 0: at the end of a frame */
      if (z->in_eof && out.pos == 0) {
        if (z->frame_open)
          return zerr(z, "truncated (the data ends before the end of the stream)", err);
        z->ended = 1;
      }
    }
  }
  return TL_OK;
}

/* Reads text until buf holds `want` bytes or the file ends. */
static tl_status more_text(cursor *c, size_t want, tl_error *err) {
  while (!c->eof && c->len < want) {
    if (tl_interrupted()) return tl_error_interrupted(err, "scan");
    if (c->cap - c->len < INPUT) {
      size_t cap = c->cap ? 2 * c->cap : 2 * INPUT;
      while (cap - c->len < INPUT) cap *= 2;
      char *b = tl_realloc(c->buf, cap);
      if (!b) return tl_error_oom(err, "scan");
      c->buf = b;
      c->cap = cap;
    }
    size_t got;
    TL_TRY(zin_read(&c->in, c->buf + c->len, c->cap - c->len, &got, err));
    c->len += got;
    c->eof = got == 0;
  }
  return TL_OK;
}

/* The next morsel of about `size` bytes of text: a new buffer of the
** preamble and the morsel's records (*pre: the preamble's length), with
** the line and record numbers where they start; *out NULL: no records left. */
static tl_status next_morsel(cursor *c, const tl_csv_options *o, size_t size, char **out,
                             size_t *outlen, size_t *pre, int64_t *line, int64_t *rec,
                             tl_error *err) {
  size_t want = c->from + size, cut = 0;
  int64_t lines = 0, recs = 0;
  *out = NULL;
  for (;;) {
    TL_TRY(more_text(c, want + 1, err));
    if (c->len == 0) return TL_OK;               /* an empty file */
    size_t from = c->from;
    tl_status st = tl_csv_cut(c->buf, c->len, c->in.path, o, &from, &c->line, want, &cut,
                              &lines, &recs, err);
    if (st != TL_OK && !c->eof) { want += size; continue; }   /* a header longer than this */
    TL_TRY(st);
    if (c->from == 0) {
      if (from == 0) return TL_OK;               /* an empty file */
      c->from = from;
      c->rec = 1;
      want = from + size;
      continue;
    }
    if (cut < c->len || c->eof) break;
    want += size;                                /* a record runs past the text so far */
  }
  if (cut <= c->from) return TL_OK;              /* nothing but the header */
  size_t n = cut - c->from;
  char *m = tl_alloc(c->from + n + 1);
  if (!m) return tl_error_oom(err, "scan");
  memcpy(m, c->buf, c->from);                    /* the preamble: BOM, skipped lines, header */
  memcpy(m + c->from, c->buf + c->from, n);
  *out = m;
  *outlen = c->from + n;
  *pre = c->from;
  *line = c->line;
  *rec = c->rec;
  memmove(c->buf + c->from, c->buf + cut, c->len - cut);
  c->len -= n;
  c->line += lines;
  c->rec += recs;
  return TL_OK;
}

/* Reads one morsel's text as read_csv reads the file from that record on. */
static tl_status parse(const char *path, const tl_csv_options *base, const tl_source_want *w,
                       const char *m, size_t len, size_t pre, int64_t line, int64_t rec,
                       tl_table **out, tl_error *err) {
  tl_csv_options o = *base;
  if (w) o.columns = w->cols, o.ncolumns = w->ncols;
  o.range_start = (int64_t)pre;
  o.range_stop = 0;
  o.range_quotes = TL_CSV_AT_RECORD;
  o.range_line = line;
  o.range_record = rec;
  return tl_read_csv_buffer(m, len, path, &o, out, err);
}

/* ---------------------------------------------------------------------------
** A run: one cursor over the files in turn, morsels cut in order.
*/
typedef struct zrun {
  const zsrc *c;
  const tl_source_want *want;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int64_t made, end;       /* morsels cut; their count once known (-1 before) */
  int64_t failed;          /* the morsel whose cut failed, or -1 */
  tl_status st;
  tl_error err;
  int file, done;           /* the file being read; done: its records are cut */
  cursor cur;
} zrun;

static void z_close(void *run) {
  zrun *r = run;
  if (!r) return;
  zin_close(&r->cur.in);
  tl_free(r->cur.buf);
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
  tl_free(r);
}

static void cursor_reset(cursor *c) {
  zin_close(&c->in);
  c->len = c->from = 0;
  c->line = c->rec = 0;
  c->eof = 0;
}

static tl_status z_open(const tl_source *src, const tl_source_want *want, void **run,
                        int64_t *nmorsels, tl_error *err) {
  zrun *r = tl_calloc(1, sizeof *r);
  *run = r;
  if (!r) return tl_error_oom(err, "scan");
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  r->c = src->impl;
  r->want = want;
  r->end = r->failed = -1;
  r->cur.in.fd = -1;
  r->file = -1;
  *nmorsels = -1;
  return TL_OK;
}

/* Cuts morsel r->made, from this file or the next ones (lock held). */
static tl_status cut_next(zrun *r, char **m, size_t *len, size_t *pre, int64_t *line,
                          int64_t *rec, int *file, tl_error *err) {
  const zsrc *c = r->c;
  int64_t size = r->want->morsel_bytes > 0 ? r->want->morsel_bytes : DEFAULT_MORSEL;
  *m = NULL;
  for (;;) {
    if (r->file < 0 || r->done) {
      if (r->file + 1 >= c->nfiles) return TL_OK;
      cursor_reset(&r->cur);
      r->file++;
      r->done = 0;
      TL_TRY(zin_open(&r->cur.in, c->paths[r->file], err));
    }
    TL_TRY(next_morsel(&r->cur, &c->o, (size_t)size, m, len, pre, line, rec, err));
    if (*m) break;
    r->done = 1;                                 /* this file has no records left */
  }
  *file = r->file;
  return TL_OK;
}

static tl_status z_read(const tl_source *src, void *run, int64_t k, tl_table **out,
                        tl_error *err) {
  zrun *r = run;
  const zsrc *c = src->impl;
  *out = NULL;
  pthread_mutex_lock(&r->mu);
  while (r->made < k && r->end < 0 && r->failed < 0) pthread_cond_wait(&r->cv, &r->mu);
  if (r->failed >= 0 || (r->end >= 0 && k >= r->end)) {
    tl_status st = r->failed >= 0 ? r->st : TL_OK;
    if (st != TL_OK) *err = r->err;
    pthread_mutex_unlock(&r->mu);
    return st;
  }
  char *m;
  size_t len = 0, pre = 0;
  int64_t line = 0, rec = 0;
  int file = 0;
  tl_status st = cut_next(r, &m, &len, &pre, &line, &rec, &file, err);
  if (st != TL_OK) { r->failed = k; r->st = st; r->err = *err; }
  else if (!m) r->end = k;
  else r->made++;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  if (st != TL_OK || !m) return st;
  st = parse(c->paths[file], &c->o, r->want, m, len, pre, line, rec, out, err);
  tl_free(m);
  if (st == TL_ETYPE && c->inferred) {
    size_t n = strlen(err->message);
    snprintf(err->message + n, sizeof err->message - n,
             " (the scan inferred the types from the start of the input: give them in 'types')");
  }
  return st;
}

static void z_describe(const tl_source *src, tl_textbuf *tb) {
  const zsrc *c = src->impl;
  tl_textbuf_printf(tb, "csv, decompressed in order: %s", c->paths[0]);
  if (c->nfiles > 1) tl_textbuf_printf(tb, " and %d more files", c->nfiles - 1);
  if (c->total < 1000000) tl_textbuf_printf(tb, " (%.1f kB)", (double)c->total / 1e3);
  else tl_textbuf_printf(tb, " (%.1f MB)", (double)c->total / 1e6);
}

static void z_free(tl_source *src) {
  zsrc *c = src->impl;
  if (c) {
    for (int k = 0; k < c->nfiles; k++) tl_free(c->paths[k]);
    for (int k = 0; k < c->o.nnulls; k++) tl_free(c->nulls[k]);
    tl_free(c->paths);
    tl_free(c->nulls);
    tl_free(c->comment);
    tl_agree_free(&c->ag);
    tl_free(c);
  }
  tl_free(src);
}

static const tl_source_kind csvz_kind = { "csv", z_open, z_read, z_close, z_describe, z_free,
                                          NULL };

/* The sample of file f: its first sample_bytes of text, to a record start,
** the given types forced. */
static tl_status sample(zsrc *c, int f, const tl_scan_options *opts, tl_table **out,
                        tl_error *err) {
  cursor cur;
  memset(&cur, 0, sizeof cur);
  cur.in.fd = -1;
  tl_csv_options o = c->o;
  const tl_csv_options *u = opts->csv;
  if (u) o.type_names = u->type_names, o.types = u->types, o.ntypes = u->ntypes;
  int64_t size = opts->sample_bytes > 0 ? opts->sample_bytes : DEFAULT_SAMPLE;
  char *m = NULL;
  size_t len = 0, pre = 0;
  int64_t line = 0, rec = 0;
  tl_status st = zin_open(&cur.in, c->paths[f], err);
  if (st == TL_OK) st = next_morsel(&cur, &o, (size_t)size, &m, &len, &pre, &line, &rec, err);
  if (st == TL_OK && !m) {   /* a header alone, or nothing */
    st = tl_read_csv_buffer(cur.buf ? cur.buf : "", cur.len, c->paths[f], &o, out, err);
  } else if (st == TL_OK) {
    o.max_rows = -1;
    st = parse(c->paths[f], &o, NULL, m, len, pre, line, rec, out, err);
  }
  tl_free(m);
  zin_close(&cur.in);
  tl_free(cur.buf);
  return st;
}

static tl_status z_init(zsrc *c, int npaths, const char *const *paths,
                        const tl_scan_options *opts, tl_table **schema, tl_error *err) {
  if (!(c->paths = tl_calloc((size_t)npaths, sizeof *c->paths))) return tl_error_oom(err, "scan");
  for (int f = 0; f < npaths; f++) {
    struct stat sb;
    if (!(c->paths[f] = tl_strdup(paths[f]))) return tl_error_oom(err, "scan");
    c->nfiles++;                                   /* freed from here on */
    if (stat(paths[f], &sb) != 0)
      return tl_error_set(err, TL_EIO, "scan: cannot read '%s': %s", paths[f], strerror(errno));
    c->total += (int64_t)sb.st_size;
  }
  TL_TRY(tl_csv_options_dup(&c->o, &c->nulls, &c->comment, opts->csv, err));
  for (int f = 0; f < npaths; f++) {
    tl_table *t = NULL;
    tl_status st = sample(c, f, opts, &t, err);
    if (st == TL_OK) st = tl_agree_add(&c->ag, f, c->paths[f], c->paths[0], t, 1, err);
    tl_table_release(t);
    TL_TRY(st);
  }
  c->inferred = (opts->csv ? opts->csv->ntypes : 0) < c->ag.ncol;
  c->o.type_names = (const char *const *)c->ag.names;
  c->o.types = c->ag.types;
  c->o.ntypes = c->ag.ncol;
  return tl_agree_schema(&c->ag, schema, err);
}

tl_status tl_source_csvz(int npaths, const char *const *paths, const tl_scan_options *opts,
                         tl_source **out, tl_error *err) {
  tl_scan_options dflt;
  *out = NULL;
  if (!opts) { tl_scan_options_init(&dflt); opts = &dflt; }
  if (npaths < 1) return tl_error_set(err, TL_EINVAL, "scan: no files");
  tl_source *s = tl_calloc(1, sizeof *s);
  zsrc *c = tl_calloc(1, sizeof *c);
  if (!s || !c) { tl_free(s); tl_free(c); return tl_error_oom(err, "scan"); }
  s->kind = &csvz_kind;
  s->impl = c;
  atomic_init(&s->refs, 1);
  tl_status st = z_init(c, npaths, paths, opts, &s->schema, err);
  if (st != TL_OK) { tl_table_release(s->schema); z_free(s); return st; }
  *out = s;
  return TL_OK;
}
