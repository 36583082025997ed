/*
** test_parquet_read.c -- what read_parquet gives beyond values: strings
** whose every page is dictionary-encoded come out as dictionary columns,
** the row groups' dictionaries merged into one without duplicates (DuckDB's
** groups.parquet, 3 row groups; types_zstd's ENUM and color columns); a
** column that is not dictionary-encoded, or whose values are nearly all
** distinct, comes out as plain strings; the results do not depend on the
** number of threads; an interrupt stops a read.
*/
#include <string.h>

#include "check.h"
#include "io/parquet_read.h"
#include "tally/tally.h"

#define DIR "tests/data/parquet/"

static tl_table *read(const char *file, const char *col) {
  tl_parquet_options o;
  tl_error err;
  tl_table *t = NULL;
  tl_parquet_options_init(&o);
  o.columns = &col;
  o.ncolumns = 1;
  if (tl_read_parquet(file, &o, &t, &err) != TL_OK) {
    fprintf(stderr, "%s\n", err.message);
    return NULL;
  }
  return t;
}

/* The column's dictionary: each value once, n of them. */
static void dictionary(const char *file, const char *col, int64_t n) {
  tl_table *t = read(file, col);
  CHECK(t != NULL);
  if (!t) return;
  const tl_column *d = tl_column_dictionary(tl_table_column(t, 0));
  CHECK(d != NULL);
  if (d) {
    CHECK(tl_column_length(d) == n);
    const int64_t *off = tl_column_string_offsets(d);
    const char *bytes = tl_column_string_bytes(d);
    for (int64_t i = 0; i < tl_column_length(d); i++)
      for (int64_t j = i + 1; j < tl_column_length(d); j++)
        CHECK(off[i + 1] - off[i] != off[j + 1] - off[j] ||
              memcmp(bytes + off[i], bytes + off[j], (size_t)(off[i + 1] - off[i])) != 0);
  }
  tl_table_release(t);
}

static void plain(const char *file, const char *col) {
  tl_table *t = read(file, col);
  CHECK(t != NULL);
  if (t) CHECK(tl_column_dictionary(tl_table_column(t, 0)) == NULL);
  tl_table_release(t);
}

int main(void) {
  pq_small_file = 0;                               /* every file on the threads */
  dictionary(DIR "groups.parquet", "g", 23);
  dictionary(DIR "groups_v2.parquet", "g", 23);
  dictionary(DIR "types_zstd.parquet", "color", 3);
  dictionary(DIR "types_zstd.parquet", "en", 3);
  dictionary(DIR "polars_types_zstd.parquet", "cat", 2);
  plain(DIR "types_v2.parquet", "s");              /* DELTA_LENGTH_BYTE_ARRAY */
  plain(DIR "types_zstd.parquet", "s");            /* nearly every value distinct */

  /* one thread or four, or the calling thread alone: the same table */
  tl_table *t[3];
  tl_error err;
  for (int k = 0; k < 3; k++) {
    tl_set_threads(k ? 4 : 1);
    if (k == 2) pq_small_file = (size_t)1 << 20;
    CHECK(tl_read_parquet(DIR "groups.parquet", NULL, &t[k], &err) == TL_OK);
  }
  for (int j = 0; j < 6; j++) {
    const tl_column *a = tl_table_column(t[0], j % 3), *b = tl_table_column(t[1 + j / 3], j % 3);
    for (int64_t i = 0; i < tl_column_length(a); i++) {
      tl_scalar x, y;
      tl_column_get(a, i, &x);
      tl_column_get(b, i, &y);
      CHECK(x.is_null == y.is_null);
      if (!x.is_null && x.type == TL_STRING)
        CHECK(x.v.s.len == y.v.s.len && memcmp(x.v.s.ptr, y.v.s.ptr, x.v.s.len) == 0);
      else if (!x.is_null)
        CHECK(x.v.i == y.v.i);
    }
  }
  for (int k = 0; k < 3; k++) tl_table_release(t[k]);

  /* an interrupt stops the read, on the threads and on the calling thread */
  for (int k = 0; k < 2; k++) {
    tl_table *x = NULL;
    pq_small_file = k ? (size_t)1 << 20 : 0;
    tl_interrupt();
    CHECK(tl_read_parquet(DIR "groups.parquet", NULL, &x, &err) == TL_EINTR);
    CHECK_STR(err.message, "read_parquet: interrupted");
    CHECK(x == NULL);
    tl_clear_interrupt();
  }
  return check_done("parquet_read");
}
