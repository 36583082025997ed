/*
** csv_write.c -- writing a table as CSV: a header line, then one line a
** row; text is quoted when it must be, and a null is an empty field (or the
** null text asked for). The separator, the quote, the header line and the
** format of dates are options.
*/
#define _DEFAULT_SOURCE   /* lstat */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/alloc.h"
#include "base/column.h"
#include "base/error.h"
#include "base/parse.h"
#include "base/pool.h"
#include "base/table.h"
#include "csv.h"
#include "tally/tally.h"

void tl_csv_write_options_init(tl_csv_write_options *o) {
  memset(o, 0, sizeof *o);
  o->sep = ',';
  o->quote = '"';
  o->header = 1;
}

/* What one write shares: the options, filled in; and the text one thread
** made and has not written yet (stdio's calls per character cost more than
** the characters). */
typedef struct wctx {
  char sep, quote;
  const char *null;
  size_t nulllen;
  const char *dateformat;
  char *buf;
  size_t n, cap;
  int oom;                 /* the text could not grow: what follows is lost */
} wctx;

/* Room for `need` more bytes; 0 when there is none to be had. */
static int out_grow(wctx *w, size_t need) {
  if (w->oom) return 0;
  size_t cap = w->cap ? w->cap : 65536;
  while (cap - w->n < need) cap *= 2;
  char *b = tl_realloc(w->buf, cap);
  if (!b) { w->oom = 1; return 0; }
  w->buf = b;
  w->cap = cap;
  return 1;
}

static void out(wctx *w, const char *s, size_t n) {
  if (n == 0 || (n > w->cap - w->n && !out_grow(w, n))) return;   /* buf may be NULL */
  memcpy(w->buf + w->n, s, n);
  w->n += n;
}

static inline void out_ch(wctx *w, char c) {
  if (w->n == w->cap && !out_grow(w, 1)) return;
  w->buf[w->n++] = c;
}

/* v in decimal, as %lld. */
static void out_int(wctx *w, int64_t v) {
  char t[24];
  int k = sizeof t;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do { t[--k] = (char)('0' + u % 10); u /= 10; } while (u);
  if (v < 0) t[--k] = '-';
  out(w, t + k, sizeof t - (size_t)k);
}

/* A field is quoted when it holds the separator, the quote or a line end,
** or when it would read back as a null (the null text, or empty). */
static int needs_quotes(const wctx *w, const char *s, size_t n) {
  if (n == 0) return 1;
  if (n == w->nulllen && memcmp(s, w->null, n) == 0) return 1;
  for (size_t i = 0; i < n; i++)
    if (s[i] == w->sep || s[i] == w->quote || s[i] == '\n' || s[i] == '\r') return 1;
  return 0;
}

static void put_text(wctx *w, const char *s, size_t n) {
  if (!needs_quotes(w, s, n)) { out(w, s, n); return; }
  out_ch(w, w->quote);
  for (size_t i = 0; i < n; i++) {
    if (s[i] == w->quote) out_ch(w, w->quote);
    out_ch(w, s[i]);
  }
  out_ch(w, w->quote);
}

/* A date through strftime's format (only the date fields are set). */
static void put_date(wctx *w, int32_t days) {
  struct tm tm;
  char buf[256];
  int y, m, d;
  tl_civil_from_days(days, &y, &m, &d);
  memset(&tm, 0, sizeof tm);
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  tm.tm_wday = (int)(((days % 7) + 11) % 7);     /* 1970-01-01 was a Thursday */
  tm.tm_yday = (int)(days - tl_days_from_civil(y, 1, 1));
  size_t n = strftime(buf, sizeof buf, w->dateformat, &tm);
  put_text(w, buf, n);
}

static void put_value(wctx *w, const tl_column *c, int64_t i) {
  char num[128];
  if (c->validity && !TL_BIT_GET(c->validity, i)) {
    out(w, w->null, w->nulllen);
  } else if (c->type == TL_STRING) {
    size_t n;
    const char *s = tl_column_string_at(c, i, &n);
    put_text(w, s, n);
  } else if (c->type == TL_INT) {
    out_int(w, ((const int64_t *)c->values)[i]);
  } else if (c->type == TL_DATE && w->dateformat != NULL) {
    tl_scalar v;
    tl_column_get(c, i, &v);
    put_date(w, v.v.d);
  } else {
    tl_scalar v;
    tl_column_get(c, i, &v);
    size_t n = tl_scalar_format(&v, num, sizeof num);
    out(w, num, n < sizeof num ? n : sizeof num - 1);
  }
}

static void put_header(wctx *w, const tl_table *t) {
  for (int j = 0; j < t->ncol; j++) {
    if (j) out_ch(w, w->sep);
    put_text(w, t->names[j], strlen(t->names[j]));
  }
  out_ch(w, '\n');
}

static void put_row(wctx *w, const tl_table *t, int64_t i) {
  for (int j = 0; j < t->ncol; j++) {
    if (j) out_ch(w, w->sep);
    put_value(w, t->cols[j], i);
  }
  out_ch(w, '\n');
}

static void default_ctx(wctx *w) {
  tl_csv_write_options o;
  tl_csv_write_options_init(&o);
  memset(w, 0, sizeof *w);
  w->sep = o.sep;
  w->quote = o.quote;
  w->null = "";
  w->dateformat = o.dateformat;
}

#define SHARE 16384        /* rows a task formats at once */

typedef struct fmt_job {
  const tl_table *t;
  int64_t lo, hi;
  wctx *w;                 /* a task's own */
  FILE *f;                 /* one task: its text goes to f as it grows */
} fmt_job;

static void fmt_task(void *ctx, int64_t k, int worker) {
  fmt_job *j = ctx;
  wctx *w = &j->w[k];
  int64_t a = j->lo + k * SHARE, b = a + SHARE < j->hi ? a + SHARE : j->hi;
  (void)worker;
  w->n = 0;
  for (int64_t i = a; i < b && !w->oom; i++) {
    put_row(w, j->t, i);
    if (j->f && w->n >= 60000) fwrite(w->buf, 1, w->n, j->f), w->n = 0;
  }
}

/* The rows of t to f, as `how` formats them: in rounds of SHARE rows a
** thread, each task's rows made into its own text on the worker threads,
** then written in order (a single task writes as it goes: a scan's small
** batches under a small memory limit hold no more than 64 kB of text). */
static tl_status write_rows(const wctx *how, FILE *f, const tl_table *t, tl_error *err) {
  int ntask = tl_get_threads();
  wctx *w = tl_calloc((size_t)ntask, sizeof *w);
  if (!w) return tl_error_oom(err, "write_csv");
  for (int k = 0; k < ntask; k++) {
    w[k] = *how;
    w[k].buf = NULL;
    w[k].n = w[k].cap = 0;
  }
  tl_status st = TL_OK;
  for (int64_t lo = 0; lo < t->nrows && st == TL_OK; lo += (int64_t)ntask * SHARE) {
    if (tl_interrupted()) { st = tl_error_interrupted(err, "write_csv"); break; }
    fmt_job j = { t, lo, lo + (int64_t)ntask * SHARE < t->nrows ? lo + (int64_t)ntask * SHARE : t->nrows,
                  w, NULL };
    int64_t tasks = (j.hi - lo + SHARE - 1) / SHARE;
    if (tasks > 1) tl_parallel_for(tasks, fmt_task, &j);
    else j.f = f, fmt_task(&j, 0, 0);
    for (int64_t k = 0; k < tasks && st == TL_OK; k++) {
      if (w[k].oom) st = tl_error_oom(err, "write_csv");
      else if (w[k].n) fwrite(w[k].buf, 1, w[k].n, f);
    }
    if (ferror(f)) break;   /* a full disk: the caller says so, with the path */
  }
  for (int k = 0; k < ntask; k++) tl_free(w[k].buf);
  tl_free(w);
  return st;
}

/* The header line to f. */
static tl_status write_header(const wctx *how, FILE *f, const tl_table *t, tl_error *err) {
  wctx w = *how;
  w.buf = NULL;
  w.n = w.cap = 0;
  put_header(&w, t);
  if (!w.oom) fwrite(w.buf, 1, w.n, f);
  tl_free(w.buf);
  return w.oom ? tl_error_oom(err, "write_csv") : TL_OK;
}

static tl_status check_options(const tl_csv_write_options *o, tl_error *err) {
  if (o->sep == '\0' || o->sep == '\n' || o->sep == '\r' || o->sep == o->quote)
    return tl_error_set(err, TL_EINVAL, "write_csv: the separator must be one character, "
                        "not a line end or the quote");
  if (o->quote == '\0' || o->quote == '\n' || o->quote == '\r')
    return tl_error_set(err, TL_EINVAL, "write_csv: the quote must be one character, "
                        "not a line end");
  if (o->null != NULL && (strchr(o->null, o->sep) || strchr(o->null, o->quote) ||
                          strpbrk(o->null, "\r\n")))
    return tl_error_set(err, TL_EINVAL, "write_csv: the null text cannot hold the separator, "
                        "the quote or a line end");
  if (o->dateformat != NULL && o->dateformat[0] == '\0')
    return tl_error_set(err, TL_EINVAL, "write_csv: the date format is empty");
  return TL_OK;
}

tl_status tl_write_csv(const tl_table *t, const char *path, tl_error *err) {
  return tl_write_csv_opts(t, path, NULL, err);
}

tl_status tl_write_csv_opts(const tl_table *t, const char *path,
                            const tl_csv_write_options *opts, tl_error *err) {
  tl_csv_write_options def;
  if (opts == NULL) {
    tl_csv_write_options_init(&def);
    opts = &def;
  }
  TL_TRY(check_options(opts, err));
  TL_TRY(tl_table_check_files(t, "write_csv", err));
  tl_status st = tl_table_check_utf8(t, "write_csv", err);   /* read_csv wants UTF-8 */
  if (st != TL_OK)
    return st;
  if (tl_interrupted()) return tl_error_interrupted(err, "write_csv");
  FILE *f = fopen(path, "wb");
  if (!f)
    return tl_error_set(err, TL_EIO, "write_csv: cannot open '%s': %s", path, strerror(errno));
  wctx w;
  default_ctx(&w);
  w.sep = opts->sep;
  w.quote = opts->quote;
  w.null = opts->null ? opts->null : "";
  w.nulllen = strlen(w.null);
  w.dateformat = opts->dateformat;
  char vbuf[1 << 16];
  setvbuf(f, vbuf, _IOFBF, sizeof vbuf);
  if (opts->header) st = write_header(&w, f, t, err);
  if (st == TL_OK) st = write_rows(&w, f, t, err);
  if (st != TL_OK) {   /* no half of a file is left */
    fclose(f);
    csv_remove_output(path);
    return st;
  }
  int bad = ferror(f);
  int e = errno;
  if (fclose(f) != 0 && !bad) { bad = 1; e = errno; }
  if (bad)
    return tl_error_set(err, TL_EIO, "write_csv: cannot write '%s': %s", path, strerror(e));
  return TL_OK;
}

void csv_remove_output(const char *path) {
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) remove(path);
}

/* The streaming writer of scans (core/exec): the header, then batches of
** rows, with the default options. */
tl_status csv_write_header(FILE *f, const tl_table *t, tl_error *err) {
  wctx w;
  default_ctx(&w);
  return write_header(&w, f, t, err);
}

tl_status csv_write_rows(FILE *f, const tl_table *t, tl_error *err) {
  wctx w;
  default_ctx(&w);
  return write_rows(&w, f, t, err);
}
