/*
** test_limits.c -- every documented limit (docs/limits.md) at its boundary:
** the last value that works, and the first that fails with an error that
** names the limit.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tally/tally.h"
#include "testing.h"

/* n copies of `unit`, then `tail`; the caller frees it. */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail) {
  size_t lh = strlen(head), lu = strlen(unit), lt = strlen(tail);
  char *s = malloc(lh + lu * n + lt + 1);
  char *p = s;
  memcpy(p, head, lh);
  p += lh;
  for (size_t k = 0; k < n; k++, p += lu) memcpy(p, unit, lu);
  memcpy(p, tail, lt + 1);
  return s;
}

static tl_table *fixture(void) {
  tl_table *t = NULL;
  tl_error err;
  if (tl_read_csv_buffer("i,s\n1,a\n2,b\n", 12, "fixture", NULL, &t, &err) != TL_OK) abort();
  return t;
}

/* mutate with one definition; returns the status, err filled. */
static tl_status mutate(tl_table *t, const char *def, tl_error *err) {
  tl_table *o = NULL;
  tl_status st = tl_table_mutate(t, 1, &def, &o, err);
  tl_table_release(o);
  return st;
}

static void columns(void) {
  /* 100000 columns work; a record of 100001 fields is TL_ELIMIT */
  for (int n = 99999; n <= 100001; n++) {
    char *head = repeat("", "c,", (size_t)n - 1, "c\n");
    char *row = repeat("", "1,", (size_t)n - 1, "1\n");
    size_t lh = strlen(head), lr = strlen(row);
    char *csv = malloc(lh + lr + 1);
    memcpy(csv, head, lh);
    memcpy(csv + lh, row, lr + 1);
    tl_table *t = NULL;
    tl_error err;
    tl_status st = tl_read_csv_buffer(csv, lh + lr, "wide.csv", NULL, &t, &err);
    if (n <= 100000) {
      CHECK(st == TL_OK);
      CHECK(st == TL_OK && tl_table_ncols(t) == n && tl_table_nrows(t) == 1);
    } else {
      CHECK(st == TL_ELIMIT);
      CHECK_STR(err.message, "read_csv: wide.csv:1 (header): more than 100000 fields in a record: "
                             "near \"c,c,c,c,c,c,c,c,c,c,c,c,c,c,c,c,c,c,c,c,\"");
    }
    tl_table_release(t);
    free(head);
    free(row);
    free(csv);
  }
}

/* A header of 100000 equal names: renamed a, a_2, a_3, ... in linear time. */
static void repeated_names(void) {
  char *head = repeat("", "c,", 99999, "c\n");
  char *csv = repeat(head, "", 0, "");
  tl_table *t = NULL;
  tl_error err;
  tl_status st = tl_read_csv_buffer(csv, strlen(csv), "same.csv", NULL, &t, &err);
  CHECK(st == TL_OK);
  if (st == TL_OK) {
    CHECK_STR(tl_table_name(t, 0), "c");
    CHECK_STR(tl_table_name(t, 1), "c_2");
    CHECK_STR(tl_table_name(t, 99999), "c_100000");
    CHECK(tl_table_find(t, "c_50000") == 49999);
  }
  tl_table_release(t);
  free(head);
  free(csv);
  /* "a,a,a_2": the suffix skips a name the header already has */
  st = tl_read_csv_buffer("a,a_2,a\n1,2,3\n", 14, "x.csv", NULL, &t, &err);
  CHECK(st == TL_OK);
  if (st == TL_OK) CHECK_STR(tl_table_name(t, 2), "a_3");
  tl_table_release(t);
}

static void field(void) {
  /* a 64 MiB value (max_field_size's default), plain and quoted with
  ** doubled quotes, read in chunks far smaller than it; a byte more is
  ** TL_ELIMIT */
  size_t big = (size_t)64 << 20;
  char *csv = malloc(2 * big + 64);
  size_t n = 0;
  n += (size_t)sprintf(csv, "a,b\n");
  memset(csv + n, 'x', big);
  n += big;
  csv[n++] = ',';
  csv[n++] = '"';
  for (size_t k = 0; k < big / 2; k++) { csv[n++] = '"'; csv[n++] = '"'; }
  csv[n++] = '"';
  csv[n++] = '\n';
  n += (size_t)sprintf(csv + n, "y,z\n");
  tl_csv_options o;
  tl_csv_options_init(&o);
  tl_table *t = NULL;
  tl_error err;
  tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 4096);
  tl_status st = tl_read_csv_buffer(csv, n, "big.csv", &o, &t, &err);
  tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 0);
  CHECK(st == TL_OK);
  if (st == TL_OK) {
    size_t la, lb;
    const char *a = tl_column_string_at(tl_table_column(t, 0), 0, &la);
    const char *b = tl_column_string_at(tl_table_column(t, 1), 0, &lb);
    CHECK(la == big && a[0] == 'x' && a[big - 1] == 'x');
    CHECK(lb == big / 2 && b[0] == '"' && b[lb - 1] == '"');
    CHECK(tl_table_nrows(t) == 2);
  }
  tl_table_release(t);
  t = NULL;
  n = (size_t)sprintf(csv, "a\n");
  memset(csv + n, 'x', big + 1);
  n += big + 1;
  csv[n++] = '\n';
  st = tl_read_csv_buffer(csv, n, "big.csv", &o, &t, &err);
  CHECK(st == TL_ELIMIT);
  CHECK_STR(err.message, "read_csv: big.csv:2:1 (column 'a', record 1): field of 67108865 bytes "
                         "exceeds max_field_size (67108864): near "
                         "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"");
  n = (size_t)sprintf(csv, "a\n\"");
  for (size_t k = 0; k < big + 1; k++) { csv[n++] = '"'; csv[n++] = '"'; }
  csv[n++] = '"';
  st = tl_read_csv_buffer(csv, n, "big.csv", &o, &t, &err);
  CHECK(st == TL_ELIMIT);
  CHECK(strstr(err.message, "field of 67108865 bytes exceeds max_field_size (67108864)") != NULL);
  tl_table_release(t);
  free(csv);
}

static void nesting(void) {
  tl_table *t = fixture();
  tl_error err;
  /* parentheses: 199 pairs work, 200 do not */
  char *ok = repeat("x = ", "(", 199, "i");
  char *ok2 = repeat(ok, ")", 199, "");
  CHECK(mutate(t, ok2, &err) == TL_OK);
  char *bad = repeat("x = ", "(", 200, "i");
  char *bad2 = repeat(bad, ")", 200, "");
  CHECK(mutate(t, bad2, &err) == TL_EPARSE);
  CHECK(strstr(err.message, "expression nested deeper than 200 levels at column 205") != NULL);
  free(ok); free(ok2); free(bad); free(bad2);
  /* unary operators and calls count too */
  char *neg = repeat("x = ", "-", 199, "i");
  CHECK(mutate(t, neg, &err) == TL_OK);
  free(neg);
  neg = repeat("x = ", "-", 200, "i");
  CHECK(mutate(t, neg, &err) == TL_EPARSE);
  CHECK(strstr(err.message, "nested deeper than 200 levels") != NULL);
  free(neg);
  char *abs1 = repeat("x = ", "abs(", 199, "i");
  char *abs2 = repeat(abs1, ")", 199, "");
  CHECK(mutate(t, abs2, &err) == TL_OK);
  free(abs1); free(abs2);
  /* a chain of operators: 1000 work, 1001 do not, and the message says
  ** what to do */
  char *chain = repeat("x = ", "i + ", 1000, "1");
  CHECK(mutate(t, chain, &err) == TL_OK);
  free(chain);
  chain = repeat("x = ", "i + ", 1001, "1");
  CHECK(mutate(t, chain, &err) == TL_EPARSE);
  CHECK(strstr(err.message, "...\": more than 1000 operators in a chain (split the expression "
                            "into several definitions) at column 4007") != NULL);
  free(chain);
  /* a chain far longer: an error, not a stack overflow */
  chain = repeat("x = ", "i .. ", 200000, "'x'");
  CHECK(mutate(t, chain, &err) == TL_EPARSE);
  free(chain);
  chain = repeat("x = ", "s .. ", 1000, "'x'");
  CHECK(mutate(t, chain, &err) == TL_OK);
  free(chain);
  /* coalesce: 64 arguments */
  char *co = repeat("x = coalesce(", "i, ", 63, "1)");
  CHECK(mutate(t, co, &err) == TL_OK);
  free(co);
  co = repeat("x = coalesce(", "i, ", 64, "1)");
  CHECK(mutate(t, co, &err) == TL_ETYPE);
  CHECK(strstr(err.message, "wrong number of arguments to 'coalesce' (65 given)") != NULL);
  free(co);
  tl_table_release(t);
}

static void length(void) {
  tl_table *t = fixture();
  tl_error err;
  /* 16 MiB of expression work, one byte more does not */
  size_t max = (size_t)1 << 24;
  const char *head = "x = s .. '", *tail = "'";
  size_t fill = max - strlen(head) - strlen(tail);
  char *e = malloc(max + 2);
  strcpy(e, head);
  memset(e + strlen(head), 'y', fill);
  strcpy(e + strlen(head) + fill, tail);
  CHECK(strlen(e) == max);
  tl_table *o = NULL;
  const char *def = e;
  CHECK(tl_table_mutate(t, 1, &def, &o, &err) == TL_OK);
  if (o) {
    size_t n;
    tl_column_string_at(tl_table_column(o, 2), 0, &n);
    CHECK(n == fill + 1);
  }
  tl_table_release(o);
  memmove(e + strlen(head) + 1, e + strlen(head), fill + strlen(tail) + 1);
  CHECK(strlen(e) == max + 1);
  CHECK(mutate(t, e, &err) == TL_ELIMIT);
  CHECK_STR(err.message, "mutate: expression longer than 16777216 bytes");
  o = NULL;
  CHECK(tl_table_filter(t, e, &o, &err) == TL_ELIMIT);
  CHECK_STR(err.message, "filter: expression longer than 16777216 bytes");
  free(e);
  tl_table_release(t);
}

int main(void) {
  columns();
  repeated_names();
  field();
  nesting();
  length();
  return check_done("test_limits");
}
