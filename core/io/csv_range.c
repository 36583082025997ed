/*
** csv_range.c -- reading a byte range of a CSV input (the range_* options
** of read_csv, which tally.mpi uses to split a file between ranks), and
** tl_csv_scan_range, which counts the quotes and line ends of a range.
**
** A reader of bytes [range_start, range_stop) reads the header at
** the input's start as usual. Its first record is the first that starts at
** or after range_start, found from the first line start there that lies
** outside quotes; it reads the records that start before range_stop, the
** last of which may run past it. Outside quotes follows from the parity of
** the quotes before range_start when the caller gives it (range_quotes),
** or from walking the input from the header on as the tokenizer would.
** Parity is exact when every '"' belongs to a quoted field. A stray one
** (in an unquoted field, or a comment) misplaces the cuts after it, so a
** reader given the parity checks the cut it ends at: its last record must
** end where the parity says the next range starts. Its own start is checked
** too when it walks the input to count records.
*/
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/alloc.h"
#include "base/error.h"
#include "csv.h"

/* The first '"', LF or CR in [p, end), or end. */
static const char *quote_or_eol(const char *p, const char *end) {
#ifdef __SSE2__
  const __m128i vq = _mm_set1_epi8('"'), vlf = _mm_set1_epi8('\n'), vcr = _mm_set1_epi8('\r');
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, vq), _mm_cmpeq_epi8(v, vlf)),
                               _mm_cmpeq_epi8(v, vcr));
    int m = _mm_movemask_epi8(hit);
    if (m) return p + __builtin_ctz((unsigned)m);
    p += 16;
  }
#endif
  while (p < end && *p != '"' && !is_eol(*p)) p++;
  return p;
}

/* Line ends that begin in [s, e) of the input at `data`: a CRLF begins at
** its CR, so that the counts of adjacent spans add up. */
static int64_t line_ends(const char *data, const char *s, const char *e) {
  int64_t n = 0;
  for (const char *p = s; p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
    n += p == data || p[-1] != '\r';
  for (const char *p = s; p < e && (p = memchr(p, '\r', (size_t)(e - p))) != NULL; p++) n++;
  return n;
}

/* line_ends over a span of any size, dropping the pages as it goes. */
static int64_t count_line_ends(const reader *r, const char *s, const char *e) {
  int64_t n = 0;
  while (s < e) {
    const char *b = (size_t)(e - s) > DEFAULT_CHUNK ? s + DEFAULT_CHUNK : e;
    n += line_ends(r->data, s, b);
    csv_drop_pages(r, s, b);
    s = b;
  }
  return n;
}

const char *csv_line_start(const reader *r, const char *x, int odd, const char *limit) {
  const char *end = r->end;
  if (x >= end) return end;
  if (!odd && is_eol(x[-1]) && !(x[-1] == '\r' && *x == '\n')) return x;
  for (const char *p = x; (p = quote_or_eol(p, limit)) < limit; p++) {
    if (*p == '"') odd ^= 1;
    else if (!odd) {
      if (*p == '\r' && p + 1 < end && p[1] == '\n') p++;
      return p + 1;
    }
  }
  return limit;
}

/* Walks the input from p, a line start outside quotes, as the tokenizer
** reads it but without its fields: a quote opens a quoted field only where
** a field starts. Stops at the first line start outside quotes at or after
** `target` (or the end), adding to *lines the line ends on the way and to
** *recs the records that start before it. Drops the pages it has read. */
static const char *walk(const reader *r, const char *p, const char *target, int64_t *lines,
                        int64_t *recs) {
  const char *end = r->end, *dropped = p;
  int64_t nl = 0, nr = 0;
  while (p < target && p < end) {
    if ((size_t)(p - dropped) > DEFAULT_CHUNK) { csv_drop_pages(r, dropped, p); dropped = p; }
    if (comment_at(r, p) || (is_eol(*p) && r->ncol != 1)) {   /* as skip_line */
      while (p < end && !is_eol(*p)) p++;
      if (p < end) {
        if (*p == '\r' && p + 1 < end && p[1] == '\n') p++;
        p++;
        nl++;
      }
      continue;
    }
    nr++;
    const char *rs = p;
    for (;;) {
      p = quote_or_eol(p, end);
      if (p == end) goto out;
      if (*p == '"') {
        if (p != rs && p[-1] != r->sep) { p++; continue; }   /* text, not a quoted field */
        const char *q = p + 1, *c;
        while ((c = memchr(q, '"', (size_t)(end - q))) != NULL && c + 1 < end && c[1] == '"') {
          nl += count_lines(q, c);
          q = c + 2;
        }
        if (!c) { nl += count_lines(q, end); p = end; goto out; }   /* unterminated */
        nl += count_lines(q, c);
        p = c + 1;
        continue;
      }
      if (*p == '\r' && p + 1 < end && p[1] == '\n') p++;
      p++;
      nl++;
      break;
    }
  }
out:
  csv_drop_pages(r, dropped, p);
  *lines += nl;
  *recs += nr;
  return p;
}

const char *csv_walk(const reader *r, const char *p, const char *target, int64_t *lines,
                     int64_t *recs) {
  return walk(r, p, target, lines, recs);
}

static tl_status stray_quote(const reader *r, int64_t line, const char *at) {
  return tl_error_set(r->err, TL_EPARSE,
                      "read_csv: %s:%lld: the quote count at byte %lld does not match the "
                      "records (a '\"' outside a quoted field?); range_quotes = -1 finds "
                      "them exactly", r->name, (long long)line, (long long)(at - r->data));
}

/* Moves r from the first line start after the header to that of the range,
** with r->line there and *rec0 the data records before it, and sets r->until. */
tl_status csv_seek_range(reader *r, int64_t *rec0) {
  const tl_csv_options *o = r->o;
  int64_t len = (int64_t)(r->end - r->data);
  if (o->range_start < 0 || o->range_stop < 0 || (o->range_stop && o->range_stop < o->range_start))
    return tl_error_set(r->err, TL_EINVAL, "read_csv: %s: bad range [%lld, %lld)", r->name,
                        (long long)o->range_start, (long long)o->range_stop);
  const char *from = r->data + (o->range_start < len ? o->range_start : len);
  const char *to = o->range_stop && o->range_stop < len ? r->data + o->range_stop : r->end;
  const char *head = r->p;
  *rec0 = 0;
  if (from > head) {
    int64_t lines = 0, recs = 0;
    if (o->range_quotes == TL_CSV_AT_RECORD) {   /* the caller found the record start */
      r->p = from;
      if (o->range_line > 0) r->line = o->range_line;
      recs = o->range_record > 0 ? o->range_record - 1 : 0;
    } else if (o->range_quotes < 0) {
      r->p = walk(r, head, from, &lines, &recs);
      r->line += lines;
    } else {
      int odd = (int)((o->range_quotes - count_quotes(r->data, head)) & 1);
      const char *s = csv_line_start(r, from, odd, r->end);
      int walked = o->range_record <= 0;
      if (walked && walk(r, head, from, &lines, &recs) != s)
        return stray_quote(r, r->line + lines, from);
      if (o->range_line > 0) r->line = o->range_line + line_ends(r->data, from, s);
      else if (walked) r->line += lines;
      else r->line = 1 + count_line_ends(r, r->data, s);
      if (!walked) recs = o->range_record - 1;
      r->p = s;
    }
    *rec0 = recs;
  }
  r->until = to > r->p ? to : r->p;
  return TL_OK;
}

/* Under a given parity: the range's last record, read by the tokenizer,
** must end where the parity says the next range starts. The chunks counted
** the quotes of their spans (run->count_quotes), which cover the range up
** to `to`. */
tl_status csv_check_cut(reader *r, const csvrun *run, const char *to) {
  const job *last = &run->jobs[run->njobs - 1];
  const char *e = last->end;
  int64_t quotes = 0;   /* from the range's first record, at an even parity, to `to` */
  for (int k = 0; k < run->njobs; k++) quotes += run->jobs[k].quotes;
  int odd = (int)(quotes & 1);
  const char *limit = e < r->end ? e + 1 : r->end;
  if (csv_line_start(r, to, odd, limit) != e) return stray_quote(r, last->line0 + last->lines, to);
  return TL_OK;
}

/* Adds to *q the quotes and to *l the line ends that begin in [s, e),
** `prev` being the byte before s (0: none). With SSE2 each byte lane counts
** its hits (at most 2 a round, so 127 rounds fit a byte) and the lanes are
** summed at the end of each run of rounds. */
static void scan_block(const char *s, const char *e, char prev, int64_t *q, int64_t *l) {
  const char *s0 = s;
  int64_t nq = 0, nl = 0;
#ifdef __SSE2__
  const __m128i vq = _mm_set1_epi8('"'), vlf = _mm_set1_epi8('\n'), vcr = _mm_set1_epi8('\r');
  const __m128i zero = _mm_setzero_si128();
  __m128i lastcr = _mm_insert_epi16(zero, prev == '\r' ? 0xff00 : 0, 7);   /* lane 15 */
  while (e - s >= 16) {
    __m128i aq = zero, al = zero;
    for (int k = 0; k < 127 && e - s >= 16; k++, s += 16) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
      __m128i cr = _mm_cmpeq_epi8(v, vcr), lf = _mm_cmpeq_epi8(v, vlf);
      __m128i after_cr = _mm_or_si128(_mm_slli_si128(cr, 1), _mm_srli_si128(lastcr, 15));
      aq = _mm_sub_epi8(aq, _mm_cmpeq_epi8(v, vq));
      al = _mm_sub_epi8(al, _mm_add_epi8(cr, _mm_andnot_si128(after_cr, lf)));
      lastcr = cr;
    }
    __m128i sq = _mm_sad_epu8(aq, zero), sl = _mm_sad_epu8(al, zero);
    nq += _mm_cvtsi128_si32(sq) + _mm_extract_epi16(sq, 4);
    nl += _mm_cvtsi128_si32(sl) + _mm_extract_epi16(sl, 4);
  }
#endif
  for (unsigned cr = s > s0 ? s[-1] == '\r' : prev == '\r'; s < e; s++) {
    nq += *s == '"';
    nl += *s == '\r' || (*s == '\n' && !cr);
    cr = *s == '\r';
  }
  *q += nq;
  *l += nl;
}

tl_status tl_csv_scan_range(const char *path, int64_t start, int64_t stop, int64_t *quotes,
                            int64_t *lines, tl_error *err) {
  int64_t q = 0, l = 0;
  if (start < 0 || stop < start)
    return tl_error_set(err, TL_EINVAL, "csv_scan_range: bad range [%lld, %lld)",
                        (long long)start, (long long)stop);
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return tl_error_set(err, TL_EIO, "csv_scan_range: cannot open '%s': %s", path, strerror(errno));
  struct stat sb;
  int e = fstat(fd, &sb) != 0 ? errno : S_ISDIR(sb.st_mode) ? EISDIR : S_ISREG(sb.st_mode) ? 0 : EINVAL;
  if (e) {
    close(fd);
    return tl_error_set(err, TL_EIO, "csv_scan_range: cannot read '%s': %s", path, strerror(e));
  }
  if (stop > (int64_t)sb.st_size) stop = (int64_t)sb.st_size;
  if (start > stop) start = stop;
  size_t size = (size_t)1 << 20;
  char *buf = tl_alloc(size);
  if (!buf) { close(fd); return tl_error_oom(err, "csv_scan_range"); }
  char prev = 0;
  int64_t at = start > 0 ? start - 1 : 0;
  while (at < stop) {
    size_t want = (size_t)(stop - at) < size ? (size_t)(stop - at) : size;
    ssize_t k = pread(fd, buf, want, (off_t)at);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      e = k < 0 ? errno : EIO;
      tl_free(buf);
      close(fd);
      return tl_error_set(err, TL_EIO, "csv_scan_range: cannot read '%s': %s", path, strerror(e));
    }
    const char *s = buf;
    if (at < start) { prev = *s++; at++; }   /* the byte before the range: only for a CRLF */
    scan_block(s, buf + k, prev, &q, &l);
    prev = buf[k - 1];
    at += buf + k - s;
  }
  tl_free(buf);
  close(fd);
  if (quotes) *quotes = q;
  if (lines) *lines = l;
  return TL_OK;
}
