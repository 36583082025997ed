/*
** test_csv_simd.c -- the CSV tokenizer gives the same records with each of
** its structural kernels (csv_scan.c: AVX2, SSE2, a byte loop): the same
** fields (where, how long, quoted or not, on which line), the same record
** lines and the same failure (line, field, message, place), on random text
** full of what makes CSV hard: quotes, doubled quotes, quoted separators
** and line ends, CRLF and lone CR, empty fields and blank lines, comments,
** multibyte UTF-8, four separators. Each text is read at every alignment
** of a 64-byte block, cut into chunks of many sizes (each chunk's records
** read on to the next as the parallel passes do), and ends where an
** allocation ends (so a load past it is caught under ASan). Whole loads
** give the same tables and errors too.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/alloc.h"
#include "io/csv.h"
#include "tally/tally.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint32_t next(uint32_t n) {   /* xorshift64*, below n */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

typedef struct buf {
  char *p;
  size_t n, cap;
} buf;

static void put(buf *b, const void *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

/* A random piece of a field: plain text, multibyte characters, digits. */
static void piece(buf *b, char sep, int in_quotes) {
  static const char *const bits[] = { "a", "xyz", "42", "-3.5", "\xc3\xa9", "\xe2\x82\xac",
                                      "\xf0\x9f\x98\x80", " ", "#", "'" };
  switch (next(12)) {
    case 0: if (in_quotes) puts_(b, "\"\""); else puts_(b, "q\"x"); break;   /* stray quote */
    case 1: if (in_quotes) put(b, &sep, 1); else puts_(b, "b"); break;
    case 2: if (in_quotes) puts_(b, next(2) ? "\n" : "\r\n"); else puts_(b, "c"); break;
    default: puts_(b, bits[next(sizeof bits / sizeof *bits)]); break;
  }
}

/* Text of mostly well-formed records with a few broken ones. */
static void random_csv(buf *b, char sep, int nrec) {
  int ncol = 1 + (int)next(5);
  for (int i = 0; i < nrec; i++) {
    int nf = next(10) ? ncol : 1 + (int)next(6);
    if (!next(15)) puts_(b, "# a comment, \"quoted\"\n");
    if (!next(20)) puts_(b, next(2) ? "\n" : "\r\n");   /* a blank line */
    for (int f = 0; f < nf; f++) {
      if (f) put(b, &sep, 1);
      int quoted = !next(3), len = (int)next(next(8) ? 6 : 70);
      if (quoted) puts_(b, "\"");
      for (int k = 0; k < len; k++) piece(b, sep, quoted);
      if (quoted && next(60)) puts_(b, "\"");   /* else unterminated */
      if (quoted && !next(80)) puts_(b, "x");   /* text after a closing quote */
    }
    static const char *const ends[] = { "\n", "\r\n", "\r", "\n" };
    if (i + 1 < nrec || next(2)) puts_(b, ends[next(4)]);
  }
}

/* Pure noise from the structural bytes and a few others. */
static void random_noise(buf *b, char sep, int n) {
  const char set[] = { '"', '"', '\n', '\r', 'a', ' ', '#', (char)0xc3, (char)0xa9, sep, sep };
  for (int i = 0; i < n; i++) put(b, &set[next(sizeof set)], 1);
}

/* Every record of data[0, len) read in chunks of `chunk` bytes, as text:
** the records' lines and fields, then the failure if there is one. */
static void tokenize(const char *data, size_t len, char sep, const char *comment, size_t chunk,
                     buf *out) {
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.comment = comment;
  tl_error err;
  reader r;
  memset(&r, 0, sizeof r);
  r.name = "t";
  r.data = r.p = data;
  r.end = data + len;
  r.o = &o;
  r.sep = sep;
  r.stop[(unsigned char)sep] = r.stop['\n'] = r.stop['\r'] = 1;
  r.ncomment = comment ? strlen(comment) : 0;
  r.line = 1;
  r.err = &err;
  r.max_field = 40;
  char line[160];
  const char *start = data;
  while (start < r.end) {
    r.until = (size_t)(r.end - start) > chunk ? start + chunk : r.end;
    for (;;) {
      tl_status st = csv_read_record(&r);
      if (st != TL_OK) {
        snprintf(line, sizeof line, "fail %d line %lld field %d at %td: %s\n", (int)st,
                 (long long)r.fail.line, r.fail.fieldno, r.fail.where - data, r.fail.what);
        puts_(out, line);
        tl_free(r.f);
        return;
      }
      if (r.nf == 0) break;
      snprintf(line, sizeof line, "rec %lld line %lld at %td big %d:", (long long)r.nrec,
               (long long)r.rec_line, r.rec_start - data, r.bigno);
      puts_(out, line);
      for (int k = 0; k < r.nf; k++) {
        const field *f = &r.f[k];
        snprintf(line, sizeof line, " %td+%zu/%zu%s@%lld", f->p - data, f->n, f->len,
                 f->quoted ? "q" : "", (long long)f->line);
        puts_(out, line);
      }
      puts_(out, "\n");
    }
    start = r.p;
  }
  tl_free(r.f);
}

static const int kernels[] = { CSV_SCAN_SCALAR, CSV_SCAN_SSE2, CSV_SCAN_AVX2 };
static const char *const kernel_names[] = { "scalar", "sse2", "avx2" };

/* The text read by every kernel the CPU has, at alignment `align`, in
** chunks of `chunk`: all must agree with the byte loop. */
static void compare(const buf *text, char sep, const char *comment, size_t align, size_t chunk) {
  char *mem = malloc(align + text->n + 1);   /* the text ends where the allocation does */
  if (!mem) abort();
  char *data = mem + align;
  if (text->n) memcpy(data, text->p, text->n);
  buf want = { 0 }, got = { 0 };
  CHECK(csv_scan_force(CSV_SCAN_SCALAR));
  puts_(&want, "records\n");
  tokenize(data, text->n, sep, comment, chunk, &want);
  for (int k = 1; k < 3; k++) {
    if (!csv_scan_force(kernels[k])) continue;
    got.n = 0;
    puts_(&got, "records\n");
    tokenize(data, text->n, sep, comment, chunk, &got);
    int same = got.n == want.n && memcmp(got.p, want.p, want.n) == 0;
    if (!same) {
      fprintf(stderr, "%s differs from scalar (sep '%c', align %zu, chunk %zu) on:\n%.*s\n"
              "scalar:\n%s\n%s:\n%s\n", kernel_names[k], sep, align, chunk, (int)text->n,
              text->p, want.p, kernel_names[k], got.p);
    }
    CHECK(same);
  }
  free(want.p);
  free(got.p);
  free(mem);
}

/* A whole load's table (shape, types, every string cell) or error, as text. */
static void load_text(const buf *text, char sep, buf *out) {
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.sep = sep;
  tl_table *t = NULL;
  tl_error err;
  char line[256];
  puts_(out, "load\n");
  if (tl_read_csv_buffer(text->n ? text->p : "", text->n, "t", &o, &t, &err) != TL_OK) {
    puts_(out, err.message);
    return;
  }
  snprintf(line, sizeof line, "%lld x %d\n", (long long)tl_table_nrows(t), tl_table_ncols(t));
  puts_(out, line);
  for (int j = 0; j < tl_table_ncols(t); j++) {
    const tl_column *c = tl_table_column(t, j);
    snprintf(line, sizeof line, "%s:%s\n", tl_table_name(t, j), tl_type_name(tl_column_type(c)));
    puts_(out, line);
    if (tl_column_type(c) != TL_STRING) continue;
    for (int64_t i = 0; i < tl_table_nrows(t); i++) {
      size_t n = 0;
      const char *s = tl_column_is_null(c, i) ? "<null>" : tl_column_string_at(c, i, &n);
      if (!tl_column_is_null(c, i)) put(out, s, n);
      else puts_(out, s);
      puts_(out, "|");
    }
  }
  tl_table_release(t);
}

static void compare_loads(const buf *text, char sep) {
  buf want = { 0 }, got = { 0 };
  CHECK(csv_scan_force(CSV_SCAN_SCALAR));
  load_text(text, sep, &want);
  for (int k = 1; k < 3; k++) {
    if (!csv_scan_force(kernels[k])) continue;
    got.n = 0;
    load_text(text, sep, &got);
    int same = got.n == want.n && memcmp(got.p, want.p, want.n) == 0;
    if (!same) fprintf(stderr, "load with %s: %s\nscalar: %s\n", kernel_names[k], got.p, want.p);
    CHECK(same);
  }
  free(want.p);
  free(got.p);
}

int main(void) {
  const char seps[] = { ',', ';', '\t', '|' };
  static const size_t chunks[] = { 1, 2, 3, 7, 31, 63, 64, 65, 127, 200, 1000, 1 << 20 };
  printf("kernels: scalar%s%s\n", csv_scan_force(CSV_SCAN_SSE2) ? " sse2" : "",
         csv_scan_force(CSV_SCAN_AVX2) ? " avx2" : "");
  for (int i = 0; i < 400; i++) {
    buf text = { 0 };
    char sep = seps[next(4)];
    if (i % 4 == 3) random_noise(&text, sep, (int)next(300));
    else random_csv(&text, sep, 1 + (int)next(i < 200 ? 8 : 60));
    const char *comment = next(2) ? "#" : NULL;
    for (size_t a = 0; a < 64; a += (i < 40 ? 1 : 1 + next(16)))
      compare(&text, sep, comment, a, chunks[next(sizeof chunks / sizeof *chunks)]);
    for (size_t c = 0; c < sizeof chunks / sizeof *chunks; c++) compare(&text, sep, comment, 0, chunks[c]);
    compare_loads(&text, sep);
    free(text.p);
  }
  /* the empty text, and text that ends inside a block or on a block's last byte */
  buf text = { 0 };
  compare(&text, ',', NULL, 0, 1);
  for (int n = 1; n <= 130; n++) {
    text.n = 0;
    for (int k = 0; k < n; k++) put(&text, k % 5 == 4 ? "," : (k % 17 == 16 ? "\n" : "v"), 1);
    for (size_t a = 0; a < 64; a += 9) compare(&text, ',', NULL, a, 64);
  }
  free(text.p);
  csv_scan_force(CSV_SCAN_AUTO);
  return check_done("csv_simd");
}
