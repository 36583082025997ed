/*
** test_csv_range.c -- reading byte ranges of a CSV input, and counting what
** lies before a cut (tl_csv_scan_range). Each input is cut at every byte
** offset into two ranges and at every pair of offsets into three; the
** ranges' rows, in order, must be the whole read's rows, and their rejects
** and errors (with line and record numbers) the whole read's. The ranges
** are read with the quote parity given, found by the reader (-1), and with
** the line and record numbers given or counted, at several chunk sizes.
*/
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "tally/tally.h"
#include "testing.h"

typedef struct buf {
  char *s;
  size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->s = realloc(b->s, b->cap);
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

/* Rows of t as text, one line each, strings in brackets; into b. */
static void rows(const tl_table *t, buf *b) {
  char cell[512];
  for (int64_t i = 0; i < tl_table_nrows(t); i++) {
    for (int j = 0; j < tl_table_ncols(t); j++) {
      tl_scalar v;
      tl_column_get(tl_table_column(t, j), i, &v);
      if (v.type == TL_STRING && !v.is_null)
        snprintf(cell, sizeof cell, "%s[%.*s]", j ? "," : "", (int)v.v.s.len, v.v.s.ptr);
      else {
        size_t k = 0;
        if (j) cell[k++] = ',';
        tl_scalar_format(&v, cell + k, sizeof cell - k);
      }
      puts_(b, cell);
    }
    puts_(b, "\n");
  }
}

static void names(const tl_table *t, buf *b) {
  for (int j = 0; j < tl_table_ncols(t); j++) {
    if (j) puts_(b, ",");
    puts_(b, tl_table_name(t, j));
  }
  puts_(b, "\n");
}

/* What a read gave: its names, rows, rejects and records, or its error. */
typedef struct result {
  buf names, rows, rejects;
  int64_t records;
  int failed;
  char error[TL_ERROR_SIZE];
} result;

static void result_free(result *r) {
  free(r->names.s);
  free(r->rows.s);
  free(r->rejects.s);
  memset(r, 0, sizeof *r);
}

static void read_into(const char *in, size_t len, const tl_csv_options *o, result *res) {
  tl_table *t = NULL;
  tl_csv_info *info = NULL;
  tl_error err;
  memset(res, 0, sizeof *res);
  puts_(&res->names, "");
  puts_(&res->rows, "");
  puts_(&res->rejects, "");
  if (tl_read_csv_buffer_ex(in, len, "r.csv", o, &t, &info, &err) != TL_OK) {
    res->failed = 1;
    snprintf(res->error, sizeof res->error, "%s", err.message);
    return;
  }
  names(t, &res->names);
  rows(t, &res->rows);
  rows(tl_csv_info_rejects(info), &res->rejects);
  res->records = tl_csv_info_records(info);
  tl_table_release(t);
  tl_csv_info_free(info);
}

/* Independent counts of [s, e) of in: quotes, and line ends beginning there. */
static void count(const char *in, size_t s, size_t e, int64_t *q, int64_t *l) {
  *q = *l = 0;
  for (size_t i = s; i < e; i++) {
    *q += in[i] == '"';
    *l += in[i] == '\r' || (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'));
  }
}

enum { PARITY, PARITY_GIVEN, WALK, NMODES };
static const char *const mode_name[] = { "parity", "parity+numbers", "walk" };

/* The option set for a range [a, b) of `in` in `mode` (b == len: to the end,
** as 0 or as len, alternately). Returns 0 when the mode cannot be set up. */
static int range_opts(const char *in, size_t len, const tl_csv_options *base, int mode, size_t a,
                      size_t b, tl_csv_options *o) {
  *o = *base;
  o->range_start = (int64_t)a;
  o->range_stop = b == len && (a & 1) ? 0 : (int64_t)b;
  if (mode == WALK) {
    o->range_quotes = -1;
    o->range_line = 7;        /* not used */
    o->range_record = 1000;
    return 1;
  }
  int64_t q, l;
  count(in, 0, a, &q, &l);
  o->range_quotes = (int)(q + (mode == PARITY ? 0 : 2));   /* the parity is what counts */
  if (mode == PARITY) return 1;
  o->range_line = 1 + l;
  /* the data records before a: those that start in [0, a) */
  tl_csv_options p = *base;
  p.on_error = TL_CSV_SKIP;
  p.range_start = 0;
  p.range_stop = (int64_t)a;
  p.range_quotes = -1;
  p.max_rows = -1;
  result r;
  read_into(in, len, &p, &r);
  int ok = !r.failed && a > 0;
  o->range_record = r.records + 1;
  result_free(&r);
  return ok;
}

static int failures_shown;

static void fail(const char *in, const char *what, const size_t *cuts, int n, int mode,
                 size_t chunk, const char *got, const char *want) {
  check_failures++;
  if (failures_shown++ > 10) return;
  fprintf(stderr, "input \"");
  for (const char *p = in; *p; p++)
    if (*p == '\n') fprintf(stderr, "\\n");
    else if (*p == '\r') fprintf(stderr, "\\r");
    else fputc(*p, stderr);
  fprintf(stderr, "\" %s, cuts", what);
  for (int k = 0; k < n; k++) fprintf(stderr, " %zu", cuts[k]);
  fprintf(stderr, ", %s, chunk %zu:\n--- got\n%s\n--- want\n%s\n", mode_name[mode], chunk, got, want);
}

/* Reads `in` cut at cuts[0..n) (ascending) as n + 1 ranges and compares
** with the whole read. */
static void check_cuts(const char *in, const tl_csv_options *base, const result *whole,
                       const size_t *cuts, int n, int mode, size_t chunk, int stray) {
  size_t len = strlen(in);
  buf rowsb = { 0 }, rej = { 0 };
  puts_(&rowsb, "");
  puts_(&rej, "");
  check_count++;
  for (int k = 0; k <= n; k++) {
    size_t a = k ? cuts[k - 1] : 0, b = k < n ? cuts[k] : len;
    if (b == 0) continue;   /* [0, 0) cannot be said: range_stop 0 is the end */
    tl_csv_options o;
    if (!range_opts(in, len, base, mode, a, b, &o)) range_opts(in, len, base, PARITY, a, b, &o);
    result r;
    tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, (int64_t)chunk);
    read_into(in, len, &o, &r);
    tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 0);
    if (r.failed) {
      if (stray && mode != WALK && strstr(r.error, "the quote count at byte")) {
        result_free(&r);   /* a stray quote, caught */
        goto done;
      }
      if (!whole->failed || strcmp(r.error, whole->error) != 0)
        fail(in, "error", cuts, n, mode, chunk, r.error, whole->failed ? whole->error : "(none)");
      result_free(&r);
      goto done;
    }
    if (!whole->failed && strcmp(r.names.s, whole->names.s) != 0)
      fail(in, "names", cuts, n, mode, chunk, r.names.s, whole->names.s);
    puts_(&rowsb, r.rows.s);
    puts_(&rej, r.rejects.s);
    result_free(&r);
  }
  if (whole->failed) fail(in, "no error", cuts, n, mode, chunk, rowsb.s, whole->error);
  else if (strcmp(rowsb.s, whole->rows.s) != 0)
    fail(in, "rows", cuts, n, mode, chunk, rowsb.s, whole->rows.s);
  else if (strcmp(rej.s, whole->rejects.s) != 0)
    fail(in, "rejects", cuts, n, mode, chunk, rej.s, whole->rejects.s);
done:
  free(rowsb.s);
  free(rej.s);
}

static const size_t chunks[] = { 1, 2, 3, 7, 64, 4096, 0 };
#define NCHUNKS (sizeof chunks / sizeof *chunks)

/* Every cut into two ranges at every chunk size (or, when `light`, at two
** of them), and every pair of cuts into three at one chunk size each
** (taking turns), in every mode. */
static void check_some(const char *in, const tl_csv_options *o, int stray, int light) {
  size_t len = strlen(in);
  tl_csv_options w = *o;
  w.infer = 0;   /* ranges infer types from their own records: compare text */
  result whole;
  read_into(in, len, &w, &whole);
  for (int mode = 0; mode < NMODES; mode++) {
    tl_set_threads(mode == PARITY && !light ? 3 : 1);
    for (size_t a = 0; a <= len; a++)
      for (size_t c = light ? (a & 1) * 5 : 0; c < NCHUNKS; c += light ? 6 : 1)
        check_cuts(in, &w, &whole, &a, 1, mode, chunks[c], stray);
    size_t turn = 0;
    for (size_t a = 0; a <= len; a++)
      for (size_t b = a; b <= len; b++) {
        size_t cuts[2] = { a, b };
        check_cuts(in, &w, &whole, cuts, 2, mode, chunks[turn++ % NCHUNKS], stray);
      }
  }
  tl_set_threads(0);
  result_free(&whole);
}

static void check_input(const char *in, const tl_csv_options *o, int stray) {
  check_some(in, o, stray, 0);
}

/* Inputs made of pieces that CSV gets wrong: quotes anywhere, doubled ones,
** line ends of each kind, blank lines, comments, separators. */
static void test_random(void) {
  static const char *const pieces[] = { "a", "1", ",", ",", "\"", "\"\"", "\n", "\n", "\r\n", "\r",
                                        "\"x,\ny\"", "#", "\n\n", "x\"y", "\",\"" };
  uint64_t rng = 0x9E3779B97F4A7C15ull;
  char in[64];
  for (int round = 0; round < 120; round++) {
    size_t n = 0;
    while (n < 36) {
      rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
      const char *p = pieces[rng % (sizeof pieces / sizeof *pieces)];
      size_t k = strlen(p);
      if (n + k >= sizeof in) break;
      memcpy(in + n, p, k);
      n += k;
    }
    in[n] = '\0';
    tl_csv_options o;
    tl_csv_options_init(&o);
    o.sep = ',';
    o.header = (int)(rng >> 20) & 1;
    o.comment = (rng >> 21) & 1 ? "#" : NULL;
    o.skip = (int)(rng >> 22) & 1;
    o.on_error = (rng >> 23) & 1 ? TL_CSV_SKIP : TL_CSV_FAIL;
    check_some(in, &o, 1, 1);
  }
}

static void test_splits(void) {
  tl_csv_options o;
  tl_csv_options_init(&o);
  /* quoted line ends, doubled quotes, no final newline */
  check_input("a,b\n1,\"x\ny\"\n\"p\"\"q\",2\n\"\"\"\",\"\n\"\n3,4", &o, 0);
  /* a BOM, CRLF, a quoted CRLF, a quoted lone CR */
  check_input("\xEF\xBB\xBF" "a,b\r\n1,2\r\n\"3\r\n3\",4\r\n\"5\r\",6\r\n", &o, 0);
  /* lone CR */
  check_input("a,b\r1,2\r3,\"x\ry\"\r\r4,5", &o, 0);
  /* blank lines: skipped, or records of one null field */
  check_input("a,b\n\n1,2\n\n\n3,4\n\n", &o, 0);
  check_input("a\n1\n\n2\n\r\n\n3\n", &o, 0);
  /* a quote in a skipped line does not upset the parity after it */
  o.skip = 2;
  check_input("ti\"tle\n\"\na,b\n1,\"2\n2\"\n3,4\n", &o, 0);
  o.skip = 0;
  /* comments */
  o.comment = "#";
  check_input("a,b\n# c\n1,2\n#x\n3,\"4\n#5\"\n6,7\n", &o, 0);
  o.comment = NULL;
  /* no header: the first record is data, the names column1.. in every range */
  o.header = 0;
  check_input("1,\"a\nb\"\n2,c\n\"d\",\"\"\n", &o, 0);
  o.header = 1;
  /* errors: the range that holds the bad record gives the whole read's error */
  check_input("a,b\n1,2\n\"x\ny\",3,4\n5,6\n", &o, 0);
  check_input("a,b\n1,2\n3,\"x\n4,5\n", &o, 0);
  check_input("a,b\n1,2\n3,\"x\"y\n4,5\n", &o, 0);
  /* skipped records: the rejects, with their lines and records */
  o.on_error = TL_CSV_SKIP;
  o.max_field_size = 3;
  check_input("a,b\n1\n\"2\n\",\"2\"\"2\"\n3,4,5\n6,\"xxxx\"\n7,8\n\"9999\n\",9", &o, 0);
  o.on_error = TL_CSV_FAIL;
  check_input("a,b\n1,2\n3,\"4\n444\"\n5,6\n", &o, 0);
  /* the same over CRLF and lone CR, the cut between a CR and its LF too */
  o.on_error = TL_CSV_SKIP;
  check_input("a,b\r\n1\r\n\"2\r\n\",\"2\"\"2\"\r3,4,5\r\n6,\"x\rxx\"\r\n7,8\r\n", &o, 0);
  o.on_error = TL_CSV_FAIL;
  check_input("a,b\r\n1,2\r\n\"3\r\n3\",4\r5,6,7\r\n", &o, 0);
  o.max_field_size = 0;
  /* a stray quote fools the parity: the reader given it stops with an
  ** error rather than read a record twice or never; the walk is exact */
  check_input("a,b\n5\"3,x\n1,\"2\n2\"\n7,8\n", &o, 1);
  o.comment = "#";
  check_input("a,b\n# it's \"quoted\n1,\"2\n2\"\n7,8\n", &o, 1);
  o.comment = NULL;
}

/* Ranges of a file, cut with the counts of tl_csv_scan_range. */
static void test_files(void) {
  const char *in = "\xEF\xBB\xBF" "id,note\r\n1,\"a\r\nb\"\r\n2,\"\"\"q\"\"\"\r3,x\n4,\"\n\n\"\n5,y";
  size_t len = strlen(in);
  char path[] = "/tmp/tally_range_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0 && write(fd, in, len) == (ssize_t)len);
  close(fd);
  tl_error err;
  /* the counts, at every pair of offsets, and past the end */
  for (size_t a = 0; a <= len; a++)
    for (size_t b = a; b <= len + 2; b++) {
      int64_t q, l, wq, wl;
      count(in, a, b < len ? b : len, &wq, &wl);
      tl_status st = tl_csv_scan_range(path, (int64_t)a, (int64_t)b, &q, &l, &err);
      check_count++;
      if (st != TL_OK || q != wq || l != wl) {
        check_failures++;
        fprintf(stderr, "scan [%zu, %zu): %lld quotes %lld lines, want %lld %lld\n", a, b,
                (long long)q, (long long)l, (long long)wq, (long long)wl);
      }
    }
  CHECK(tl_csv_scan_range(path, 0, (int64_t)len, NULL, NULL, &err) == TL_OK);
  /* a long file: many rounds of the vector loop, buffers of the reader */
  {
    size_t big = (size_t)3 << 20;
    char *text = malloc(big);
    uint64_t rng = 7;
    for (size_t i = 0; i < big; i++) {
      rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
      text[i] = "\"\r\nab,\r\n\n"[rng % 10];
    }
    memset(text + (1 << 20), '"', 8192);   /* a hit in every byte, round after round */
    memset(text + (2 << 20), '\r', 8192);
    char bpath[] = "/tmp/tally_range_big_XXXXXX";
    int bfd = mkstemp(bpath);
    CHECK(bfd >= 0 && write(bfd, text, big) == (ssize_t)big);
    close(bfd);
    for (int k = 0; k < 40; k++) {
      rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
      size_t a = k ? (size_t)(rng % big) : 0, b = a + (size_t)((rng >> 32) % (big - a + 1));
      int64_t q, l, wq, wl;
      count(text, a, b, &wq, &wl);
      CHECK(tl_csv_scan_range(bpath, (int64_t)a, (int64_t)b, &q, &l, &err) == TL_OK);
      CHECK(q == wq && l == wl);
    }
    unlink(bpath);
    free(text);
  }
  CHECK(tl_csv_scan_range(path, 5, 4, NULL, NULL, &err) == TL_EINVAL);
  CHECK_STR(err.message, "csv_scan_range: bad range [5, 4)");
  CHECK(tl_csv_scan_range("/no/such.csv", 0, 1, NULL, NULL, &err) == TL_EIO);
  CHECK_STR(err.message, "csv_scan_range: cannot open '/no/such.csv': No such file or directory");
  CHECK(tl_csv_scan_range("/tmp", 0, 1, NULL, NULL, &err) == TL_EIO);
  CHECK_STR(err.message, "csv_scan_range: cannot read '/tmp': Is a directory");

  /* a file read in three ranges gives the rows of the whole read */
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.infer = 0;
  tl_table *whole;
  CHECK(tl_read_csv(path, &o, &whole, &err) == TL_OK);
  buf want = { 0 };
  puts_(&want, "");
  rows(whole, &want);
  tl_table_release(whole);
  for (size_t a = 0; a <= len; a += 3)
    for (size_t b = a; b <= len; b += 5) {
      size_t cut[4] = { 0, a, b, len };
      buf got = { 0 };
      puts_(&got, "");
      for (int k = 0; k < 3; k++) {
        int64_t q = 0, l = 0;
        CHECK(tl_csv_scan_range(path, 0, (int64_t)cut[k], &q, &l, &err) == TL_OK);
        o.range_start = (int64_t)cut[k];
        o.range_stop = (int64_t)cut[k + 1];
        o.range_quotes = (int)(q & 1);
        o.range_line = 1 + l;
        tl_table *t;
        if (cut[k] == cut[k + 1]) continue;
        tl_status st = tl_read_csv(path, &o, &t, &err);
        CHECK(st == TL_OK);
        if (st != TL_OK) break;
        rows(t, &got);
        tl_table_release(t);
      }
      check_count++;
      if (strcmp(got.s, want.s) != 0) {
        check_failures++;
        fprintf(stderr, "file cut at %zu, %zu:\n--- got\n%s--- want\n%s", a, b, got.s, want.s);
      }
      free(got.s);
    }
  free(want.s);
  unlink(path);
}

/* The line and record numbers of messages, given or counted; the start of a
** range inside a quoted field; bad ranges. */
static void test_numbers(void) {
  const char *in = "a,b\n1,\"x\n\ny\"\n2,\"\n3,4\n\"\n5\n6,7\n";
  /* records: 1 at lines 2-4, 2 at 5-7, 3 (bad) at 8 */
  tl_csv_options o;
  tl_csv_options_init(&o);
  tl_table *t;
  tl_error err;
  const char *want = "read_csv: r.csv:8:2 (column 'b', record 3): too few fields (expected 2, "
                     "found 1): near \"5\"";
  CHECK(tl_read_csv_buffer(in, strlen(in), "r.csv", &o, &t, &err) == TL_EPARSE);
  CHECK_STR(err.message, want);
  /* a range that starts inside record 2's quoted field (at "3,4") */
  o.range_start = 17;
  o.range_quotes = 3;
  CHECK(tl_read_csv_buffer(in, strlen(in), "r.csv", &o, &t, &err) == TL_EPARSE);
  CHECK_STR(err.message, want);
  o.range_quotes = -1;
  CHECK(tl_read_csv_buffer(in, strlen(in), "r.csv", &o, &t, &err) == TL_EPARSE);
  CHECK_STR(err.message, want);
  /* given numbers are taken as they are: line 100 at byte 17, so 102 at 23 */
  o.range_quotes = 1;
  o.range_line = 100;
  o.range_record = 50;
  CHECK(tl_read_csv_buffer(in, strlen(in), "r.csv", &o, &t, &err) == TL_EPARSE);
  CHECK_STR(err.message, "read_csv: r.csv:102:2 (column 'b', record 50): too few fields "
                         "(expected 2, found 1): near \"5\"");
  /* a range past the end, or before the first record: no rows, the names */
  tl_csv_options_init(&o);
  o.range_start = 1000;
  CHECK(tl_read_csv_buffer(in, strlen(in), "r.csv", &o, &t, &err) == TL_OK);
  CHECK(tl_table_nrows(t) == 0 && tl_table_ncols(t) == 2);
  tl_table_release(t);
  o.range_start = 1;
  o.range_stop = 4;
  CHECK(tl_read_csv_buffer(in, strlen(in), "r.csv", &o, &t, &err) == TL_OK);
  CHECK(tl_table_nrows(t) == 0 && tl_table_ncols(t) == 2);
  tl_table_release(t);
  /* max_rows counts the range's records */
  o.range_start = 5;
  o.range_stop = 0;
  o.max_rows = 1;
  CHECK(tl_read_csv_buffer(in, strlen(in), "r.csv", &o, &t, &err) == TL_OK);
  CHECK(tl_table_nrows(t) == 1);
  if (tl_table_nrows(t) == 1) {
    size_t n;
    const char *s = tl_column_string_at(tl_table_column(t, 1), 0, &n);
    CHECK(n == 5 && memcmp(s, "\n3,4\n", 5) == 0);
  }
  tl_table_release(t);
  o.max_rows = -1;
  o.range_start = 5;
  o.range_stop = 2;
  CHECK(tl_read_csv_buffer(in, strlen(in), "r.csv", &o, &t, &err) == TL_EINVAL);
  CHECK_STR(err.message, "read_csv: r.csv: bad range [5, 2)");
  o.range_start = -1;
  CHECK(tl_read_csv_buffer(in, strlen(in), "r.csv", &o, &t, &err) == TL_EINVAL);
  /* a stray quote seen at the cut the reader ends at */
  const char *stray = "a,b\n1,x\"y\n2,3\n4,5\n";
  tl_csv_options_init(&o);
  o.range_stop = 13;
  o.range_quotes = 0;
  CHECK(tl_read_csv_buffer(stray, strlen(stray), "s.csv", &o, &t, &err) == TL_EPARSE);
  CHECK_STR(err.message, "read_csv: s.csv:4: the quote count at byte 13 does not match the records "
                         "(a '\"' outside a quoted field?); range_quotes = -1 finds them exactly");
}

int main(void) {
  test_splits();
  test_random();
  test_files();
  test_numbers();
  return check_done("csv_range");
}
