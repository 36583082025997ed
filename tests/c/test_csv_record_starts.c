/*
** test_csv_record_starts.c -- tl_csv_record_starts finds, for every byte
** offset of a file, the first record start at or after it as the tokenizer
** reads the file (a '"' inside an unquoted field opens nothing; a quoted
** field may hold line ends), with the line and record numbers there; and
** ranges read from those starts with TL_CSV_AT_RECORD tile the file: their
** rows, in order, are the whole read's rows.
*/
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "tally/tally.h"

static const char text[] =
    "a,b\n"
    "1,a 5\" disk\n"           /* a stray quote in an unquoted field */
    "2,\"two\nlines\"\n"       /* a quoted field with a line end */
    "3,\"x \"\"y\"\"\"\n"
    "4,plain\n";
/* the record starts (byte offsets), their lines and record numbers */
static const int64_t rec_at[] = { 4, 16, 30, 42, 50 };   /* 50: the end */
static const int64_t rec_line[] = { 2, 3, 5, 6, 7 };

/* Row i of t's column b as text. */
static void cell(const tl_table *t, int64_t i, char *out, size_t size) {
  tl_scalar v;
  tl_column_get(tl_table_column(t, 1), i, &v);
  snprintf(out, size, "%.*s", (int)v.v.s.len, v.v.s.ptr);
}

int main(void) {
  char path[] = "/tmp/tally_record_starts_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  size_t len = sizeof text - 1;
  CHECK(write(fd, text, len) == (ssize_t)len);
  close(fd);
  CHECK(rec_at[4] == (int64_t)len);
  tl_error err;
  tl_table *whole = NULL;
  tl_csv_options o;
  tl_csv_options_init(&o);
  CHECK(tl_read_csv(path, &o, &whole, &err) == TL_OK);
  CHECK(whole && tl_table_nrows(whole) == 4);
  for (int64_t x = 0; x <= (int64_t)len + 2; x++) {
    int64_t start = 0, line = 0, rec = 0;
    CHECK(tl_csv_record_starts(path, &o, 1, &x, &start, &line, &rec, &err) == TL_OK);
    int k = 0;
    while (k < 4 && rec_at[k] < x) k++;
    CHECK(start == rec_at[k]);
    CHECK(line == rec_line[k]);
    CHECK(rec == k + 1);
    /* two ranges cut there read every row once, in order */
    if (start <= rec_at[0] || start >= (int64_t)len) continue;
    tl_table *t1 = NULL, *t2 = NULL;
    tl_csv_options r = o;
    r.range_quotes = TL_CSV_AT_RECORD;
    r.range_start = 0;
    r.range_stop = start;
    CHECK(tl_read_csv(path, &r, &t1, &err) == TL_OK);
    r.range_start = start;
    r.range_stop = 0;
    r.range_line = line;
    r.range_record = rec;
    CHECK(tl_read_csv(path, &r, &t2, &err) == TL_OK);
    CHECK(t1 && t2 && tl_table_nrows(t1) == k && tl_table_nrows(t2) == 4 - k);
    for (int64_t i = 0; t1 && t2 && i < 4; i++) {
      char a[64], b[64];
      cell(whole, i, a, sizeof a);
      cell(i < k ? t1 : t2, i < k ? i : i - k, b, sizeof b);
      CHECK_STR(b, a);
    }
    tl_table_release(t1);
    tl_table_release(t2);
  }
  /* a bad record after the cut is named by its exact line and record */
  FILE *f = fopen(path, "ab");
  fputs("x,y\n", f);
  fclose(f);
  tl_csv_options r = o;
  tl_type ty = TL_INT;
  const char *name = "a";
  r.type_names = &name;
  r.types = &ty;
  r.ntypes = 1;
  r.range_quotes = TL_CSV_AT_RECORD;
  r.range_start = rec_at[2];
  r.range_line = rec_line[2];
  r.range_record = 3;
  tl_table *bad = NULL;
  CHECK(tl_read_csv(path, &r, &bad, &err) == TL_ETYPE);
  CHECK(strstr(err.message, ":7:1 (column 'a', record 5)") != NULL);
  tl_table_release(whole);
  unlink(path);
  return check_done("test_csv_record_starts");
}
