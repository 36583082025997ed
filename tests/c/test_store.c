/*
** test_store.c -- saving and loading tables: round trips of every type,
** exact error messages, and damaged files (every truncation, random byte
** flips) that must fail cleanly or load a table that reads safely.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "tally.h"

static char path[64];   /* a scratch file under /tmp */
static char other[80];  /* a second one, for damaged copies */

/* ---------------------------------------------------------------------------
** Building tables
*/

enum { NROWS = 37 };   /* not a multiple of 8: bitmaps end in a partial byte */

static const char *const texts[] = {
  "Kabul", "", "Zürich", "東京", "naïve café", "🙂", "a\"b,c", "line\nbreak"
};

static int is_null_row(int i, int nullable) { return nullable && (i % 5 == 2 || i == 0); }

/* Column of `type` whose row i is derived from i; nulls every fifth row when
** `nullable`. */
static tl_column *make_column(tl_type type, int nullable, int n) {
  tl_builder *b;
  tl_column *c;
  if (tl_builder_new(type, 0, &b, NULL) != TL_OK) return NULL;
  for (int i = 0; i < n; i++) {
    tl_status st;
    if (is_null_row(i, nullable)) {
      st = tl_builder_append_null(b, NULL);
    } else {
      switch (type) {
        case TL_BOOL: st = tl_builder_append_bool(b, i % 3 == 1, NULL); break;
        case TL_INT: st = tl_builder_append_int(b, (int64_t)i * 1000003 - (i % 2 ? INT64_MAX : 0), NULL); break;
        case TL_FLOAT: {
          double v = i == 3 ? NAN : i == 4 ? -0.0 : i == 6 ? INFINITY : i * 0.1 - 1.5;
          st = tl_builder_append_float(b, v, NULL);
          break;
        }
        case TL_DATE: st = tl_builder_append_date(b, (int32_t)(i * 400 - 7000), NULL); break;
        case TL_TIMESTAMP: st = tl_builder_append_timestamp(b, (int64_t)i * 86400000123LL - 5, NULL); break;
        default: {
          const char *s = texts[i % 8];
          st = tl_builder_append_string(b, s, strlen(s), NULL);
        }
      }
    }
    if (st != TL_OK) { tl_builder_free(b); return NULL; }
  }
  return tl_builder_finish(b, &c, NULL) == TL_OK ? c : NULL;
}

/* A string column of empty strings only: no text at all. */
static tl_column *empty_strings(int n) {
  tl_builder *b;
  tl_column *c;
  if (tl_builder_new(TL_STRING, 0, &b, NULL) != TL_OK) return NULL;
  for (int i = 0; i < n; i++)
    if (tl_builder_append_string(b, "", 0, NULL) != TL_OK) { tl_builder_free(b); return NULL; }
  return tl_builder_finish(b, &c, NULL) == TL_OK ? c : NULL;
}

static tl_column *all_null(tl_type type, int n) {
  tl_builder *b;
  tl_column *c;
  if (tl_builder_new(type, 0, &b, NULL) != TL_OK) return NULL;
  for (int i = 0; i < n; i++)
    if (tl_builder_append_null(b, NULL) != TL_OK) { tl_builder_free(b); return NULL; }
  return tl_builder_finish(b, &c, NULL) == TL_OK ? c : NULL;
}

/* Every type with and without nulls, an all-empty string column and an
** all-null column, `n` rows. */
static tl_table *make_table(int n) {
  static const char *const names[] = {
    "b", "b?", "i", "i?", "f", "f?", "s", "s?", "d", "d?", "ts", "ts?",
    "empty", "Größe €", "nothing"
  };
  static const tl_type types[] = { TL_BOOL, TL_INT, TL_FLOAT, TL_STRING, TL_DATE, TL_TIMESTAMP };
  tl_column *cols[15] = { 0 };
  for (int k = 0; k < 6; k++) {
    cols[2 * k] = make_column(types[k], 0, n);
    cols[2 * k + 1] = make_column(types[k], 1, n);
  }
  cols[12] = empty_strings(n);
  cols[13] = make_column(TL_STRING, 1, n);
  cols[14] = all_null(TL_INT, n);
  tl_table *t = NULL;
  int ok = 1;
  for (int j = 0; j < 15; j++) ok &= cols[j] != NULL;
  if (ok && tl_table_new(15, names, cols, &t, NULL) != TL_OK) t = NULL;
  for (int j = 0; j < 15; j++) tl_column_release(cols[j]);
  return t;
}

static tl_table *one_column(const char *name, tl_type type, int nullable, int n) {
  tl_column *c = make_column(type, nullable, n);
  tl_table *t = NULL;
  if (c && tl_table_new(1, &name, &c, &t, NULL) != TL_OK) t = NULL;
  tl_column_release(c);
  return t;
}

/* ---------------------------------------------------------------------------
** Comparing and reading
*/

static int same_value(const tl_scalar *a, const tl_scalar *b) {
  if (a->type != b->type || a->is_null != b->is_null) return 0;
  if (a->is_null) return 1;
  switch (a->type) {
    case TL_BOOL: return a->v.b == b->v.b;
    case TL_INT: case TL_TIMESTAMP: return a->v.i == b->v.i;
    case TL_FLOAT: return memcmp(&a->v.f, &b->v.f, sizeof(double)) == 0;   /* NaN, -0.0 */
    case TL_DATE: return a->v.d == b->v.d;
    case TL_STRING:
      return a->v.s.len == b->v.s.len && memcmp(a->v.s.ptr, b->v.s.ptr, a->v.s.len) == 0;
  }
  return 0;
}

static int same_table(const tl_table *a, const tl_table *b) {
  if (tl_table_ncols(a) != tl_table_ncols(b) || tl_table_nrows(a) != tl_table_nrows(b))
    return 0;
  for (int j = 0; j < tl_table_ncols(a); j++) {
    const tl_column *ca = tl_table_column(a, j), *cb = tl_table_column(b, j);
    if (strcmp(tl_table_name(a, j), tl_table_name(b, j)) != 0) return 0;
    if (tl_column_type(ca) != tl_column_type(cb)) return 0;
    if (tl_column_null_count(ca) != tl_column_null_count(cb)) return 0;
    if ((tl_column_validity(ca) == NULL) != (tl_column_validity(cb) == NULL)) return 0;
    for (int64_t i = 0; i < tl_table_nrows(a); i++) {
      tl_scalar x, y;
      tl_column_get(ca, i, &x);
      tl_column_get(cb, i, &y);
      if (!same_value(&x, &y)) return 0;
    }
  }
  return 1;
}

/* Reads every value of every column; a table built over damaged data must
** survive this under the sanitizers. Returns a sum so nothing is elided. */
static uint64_t touch(const tl_table *t) {
  uint64_t h = 0;
  for (int j = 0; j < tl_table_ncols(t); j++) {
    const tl_column *c = tl_table_column(t, j);
    h += strlen(tl_table_name(t, j));
    for (int64_t i = 0; i < tl_column_length(c); i++) {
      tl_scalar v;
      tl_column_get(c, i, &v);
      if (v.is_null) continue;
      if (v.type == TL_STRING) {
        for (size_t k = 0; k < v.v.s.len; k++) h += (uint8_t)v.v.s.ptr[k];
      } else {
        h += (uint64_t)v.v.i;
      }
    }
  }
  return h;
}

/* ---------------------------------------------------------------------------
** Files
*/

static unsigned char *read_all(const char *p, size_t *n) {
  FILE *f = fopen(p, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
  if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) { free(buf); buf = NULL; }
  fclose(f);
  *n = (size_t)len;
  return buf;
}

static int write_all(const char *p, const unsigned char *buf, size_t n) {
  FILE *f = fopen(p, "wb");
  if (!f) return 0;
  int ok = fwrite(buf, 1, n, f) == n;
  return (fclose(f) == 0) && ok;
}

static void put64(unsigned char *p, uint64_t v) {
  for (int k = 0; k < 8; k++) p[k] = (unsigned char)(v >> (8 * k));
}
static uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  for (int k = 7; k >= 0; k--) v = (v << 8) | p[k];
  return v;
}

/* Recomputes the header checksum after an edit (FNV-1a over the header,
** the checksum field read as zero), as a forger would. */
static void reseal(unsigned char *buf) {
  uint64_t hsize = get64(buf + 32), h = 0xcbf29ce484222325ull;
  for (uint64_t k = 0; k < hsize; k++) {
    h ^= (k >= 48 && k < 56) ? 0 : buf[k];
    h *= 0x100000001b3ull;
  }
  put64(buf + 48, h);
}

/* Loads `p`, expecting failure with exactly `want` after "load: <p>: ". */
static void load_fails(const char *p, tl_status code, const char *want) {
  char full[TL_ERROR_SIZE];
  snprintf(full, sizeof full, "load: %s: %s", p, want);
  tl_table *t = NULL;
  tl_error err;
  CHECK(tl_table_load(p, &t, &err) == code);
  CHECK(t == NULL);
  CHECK_STR(err.message, full);
}

/* ---------------------------------------------------------------------------
** Tests
*/

static void test_round_trip(void) {
  tl_table *t = make_table(NROWS), *u = NULL;
  tl_error err;
  CHECK(t != NULL);
  CHECK(tl_column_validity(tl_table_column(t, 0)) == NULL);
  CHECK(tl_table_save(t, path, &err) == TL_OK);
  CHECK(access(path, F_OK) == 0);
  char tmp[96];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  CHECK(access(tmp, F_OK) != 0);   /* renamed away */
  CHECK(tl_table_load(path, &u, &err) == TL_OK);
  CHECK(u && same_table(t, u));
  /* a column without nulls has no bitmap; loaded buffers are 64-byte aligned */
  for (int j = 0; u && j < tl_table_ncols(u); j++) {
    const tl_column *c = tl_table_column(u, j);
    CHECK((tl_column_validity(c) == NULL) == (tl_column_null_count(c) == 0));
    const void *vals = tl_column_type(c) == TL_INT ? (const void *)tl_column_ints(c)
                     : tl_column_type(c) == TL_STRING ? (const void *)tl_column_string_offsets(c)
                     : NULL;
    if (vals) CHECK((uintptr_t)vals % 64 == 0);
  }
  if (u) {
    size_t n;
    int j = tl_table_find(u, "s");
    const char *s = tl_column_string_at(tl_table_column(u, j), 3, &n);
    CHECK(n == strlen("東京") && memcmp(s, "東京", n) == 0);
    j = tl_table_find(u, "Größe €");
    CHECK(j == 13);
    CHECK(tl_column_null_count(tl_table_column(u, tl_table_find(u, "nothing"))) == NROWS);
  }

  /* a column outlives its table and keeps the mapping alive */
  tl_column *c = u ? tl_column_retain(tl_table_column(u, tl_table_find(u, "s?"))) : NULL;
  tl_table_release(u);
  u = NULL;
  if (c) {
    size_t n;
    const char *s = tl_column_string_at(c, 7, &n);   /* a null row reads as "" */
    CHECK(tl_column_is_null(c, 7) && n == 0);
    s = tl_column_string_at(c, 5, &n);
    CHECK(n == strlen("🙂") && memcmp(s, "🙂", n) == 0);
    tl_column_release(c);
  }

  /* saving a loaded table over its own file replaces, and the mapping stays */
  CHECK(tl_table_load(path, &u, &err) == TL_OK);
  if (u) {
    CHECK(tl_table_save(u, path, &err) == TL_OK);
    CHECK(same_table(t, u));
    tl_table *v = NULL;
    CHECK(tl_table_load(path, &v, &err) == TL_OK);
    CHECK(v && same_table(u, v));
    /* and a slice of a loaded table copies out of the mapping */
    tl_table *w = NULL;
    CHECK(tl_table_slice(v, 5, 9, &w, &err) == TL_OK);
    tl_table_release(v);
    tl_table_release(u);
    tl_table *x = NULL;
    CHECK(w && tl_table_save(w, path, &err) == TL_OK);
    CHECK(tl_table_load(path, &x, &err) == TL_OK);
    CHECK(x && same_table(w, x) && tl_table_nrows(x) == 9);
    tl_table_release(w);
    tl_table_release(x);
  }
  tl_table_release(t);
}

static void test_empty(void) {
  tl_error err;
  tl_table *t = make_table(0), *u = NULL;
  CHECK(t && tl_table_nrows(t) == 0);
  CHECK(tl_table_save(t, path, &err) == TL_OK);
  CHECK(tl_table_load(path, &u, &err) == TL_OK);
  CHECK(u && same_table(t, u) && tl_table_ncols(u) == 15);
  if (u) {
    const tl_column *s = tl_table_column(u, tl_table_find(u, "s"));
    CHECK(tl_column_string_offsets(s) != NULL && tl_column_string_offsets(s)[0] == 0);
    CHECK(tl_column_string_bytes(s) != NULL);
    CHECK(tl_column_ints(tl_table_column(u, 2)) != NULL);
  }
  tl_table_release(t);
  tl_table_release(u);

  /* no columns at all */
  CHECK(tl_table_new(0, NULL, NULL, &t, &err) == TL_OK);
  CHECK(tl_table_save(t, path, &err) == TL_OK);
  u = NULL;
  CHECK(tl_table_load(path, &u, &err) == TL_OK);
  CHECK(u && tl_table_ncols(u) == 0 && tl_table_nrows(u) == 0);
  size_t n;
  unsigned char *buf = read_all(path, &n);
  CHECK(buf && n == 64);   /* the fixed header only */
  free(buf);
  tl_table_release(t);
  tl_table_release(u);
}

static void test_errors(void) {
  tl_error err;
  tl_table *t = NULL;

  CHECK(tl_table_load("/nonexistent/t.tally", &t, &err) == TL_EIO);
  CHECK_STR(err.message, "load: cannot open '/nonexistent/t.tally': No such file or directory");
  CHECK(tl_table_load("/tmp", &t, &err) == TL_EIO);
  CHECK_STR(err.message, "load: cannot read '/tmp': Is a directory");
  CHECK(tl_table_load("/dev/null", &t, &err) == TL_EIO);
  CHECK_STR(err.message, "load: cannot read '/dev/null': not a regular file");
  CHECK(t == NULL);

  tl_table *u = one_column("cost", TL_INT, 0, 3);
  CHECK(u != NULL);
  if (!u) return;
  CHECK(tl_table_save(u, "/nonexistent/t.tally", &err) == TL_EIO);
  CHECK_STR(err.message,
            "save: cannot open '/nonexistent/t.tally.tmp': No such file or directory");

  /* header 64 + directory 64 + "cost" = 132; values at 192, 24 bytes */
  CHECK(tl_table_save(u, path, &err) == TL_OK);
  size_t n;
  unsigned char *good = read_all(path, &n), *buf = malloc(n + 16);
  CHECK(good && buf && n == 216);
  if (!good || !buf || n != 216) { free(good); free(buf); tl_table_release(u); return; }

  CHECK(write_all(other, (const unsigned char *)"name,cost\nx,1\n", 14));
  load_fails(other, TL_EPARSE, "not a tally table file (bad magic)");
  CHECK(write_all(other, good, 0));
  load_fails(other, TL_EPARSE, "truncated file (the header needs 64 bytes, the file has 0 bytes)");
  CHECK(write_all(other, good, 10));
  load_fails(other, TL_EPARSE, "truncated file (the header needs 64 bytes, the file has 10 bytes)");
  CHECK(write_all(other, good, 100));
  load_fails(other, TL_EPARSE, "truncated file (the header ends at byte 132, the file has 100 bytes)");
  CHECK(write_all(other, good, 200));
  load_fails(other, TL_EPARSE,
             "truncated file (column 'cost' values end at byte 216, the file has 200 bytes)");
  CHECK(write_all(other, good, 150));   /* inside the padding */
  load_fails(other, TL_EPARSE,
             "truncated file (column 'cost' values end at byte 216, the file has 150 bytes)");

  memcpy(buf, good, n);
  memset(buf + n, 0, 3);
  CHECK(write_all(other, buf, n + 3));
  load_fails(other, TL_EPARSE, "corrupted file (3 unexpected bytes after the table)");

  memcpy(buf, good, n);
  buf[129] = 'a';   /* "cost" -> "cast" */
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (checksum mismatch)");

  memcpy(buf, good, n);
  buf[8] = 2;
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "unsupported format version 2 (this library reads version 1)");

  memcpy(buf, good, n);
  unsigned char t4 = buf[12];
  buf[12] = buf[15]; buf[15] = t4;
  t4 = buf[13]; buf[13] = buf[14]; buf[14] = t4;
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "written on a machine of the other byte order");

  /* edits that keep the checksum valid, as a bug in a writer would */
  memcpy(buf, good, n);
  buf[64] = 9;   /* type */
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (column 'cost' has unknown type 9)");

  memcpy(buf, good, n);
  put64(buf + 64 + 32, 200);   /* values offset */
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted header (column 'cost' values at byte 200 is not aligned to 64)");

  memcpy(buf, good, n);
  put64(buf + 64 + 32, 128);
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted header (column 'cost' values at byte 128 overlaps what precedes)");

  memcpy(buf, good, n);
  put64(buf + 64 + 40, 16);   /* values length */
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (column 'cost' values has 16 bytes, 24 expected)");

  memcpy(buf, good, n);
  put64(buf + 64 + 40, UINT64_MAX - 100);
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted header (column 'cost' values has 18446744073709551515 bytes, 24 expected)");

  memcpy(buf, good, n);
  put64(buf + 64 + 8, 1);   /* a null count without a bitmap */
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (column 'cost' validity has 0 bytes, 1 expected)");

  memcpy(buf, good, n);
  buf[128] = 0xff;   /* a name that is not UTF-8 */
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (the name of column 1 is not valid UTF-8)");

  memcpy(buf, good, n);
  buf[68] = 5;   /* name length past the header */
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (the name of column 1 overruns it)");

  free(good);
  free(buf);
  tl_table_release(u);

  /* duplicate names: two columns "ab" and "ac", then the second renamed */
  tl_column *c2[2] = { make_column(TL_INT, 0, 2), make_column(TL_INT, 0, 2) };
  const char *nm[2] = { "ab", "ac" };
  CHECK(tl_table_new(2, nm, c2, &u, &err) == TL_OK);
  tl_column_release(c2[0]);
  tl_column_release(c2[1]);
  CHECK(tl_table_save(u, path, &err) == TL_OK);
  tl_table_release(u);
  buf = read_all(path, &n);
  CHECK(buf && n > 64 + 128 + 4);
  if (buf) {
    buf[64 + 128 + 3] = 'b';
    reseal(buf);
    CHECK(write_all(other, buf, n));
    load_fails(other, TL_EPARSE, "corrupted header (duplicate column name 'ab')");
    free(buf);
  }

  /* contents: a validity bitmap that disagrees, string offsets out of order */
  u = one_column("s", TL_STRING, 1, 12);   /* rows 0, 2, 7 null */
  CHECK(u && tl_column_null_count(tl_table_column(u, 0)) == 3);
  CHECK(u && tl_table_save(u, path, &err) == TL_OK);
  tl_table_release(u);
  buf = read_all(path, &n);
  CHECK(buf != NULL);
  if (buf) {
    /* header 64 + 64 + "s" = 129; validity at 192 (2 bytes), offsets at 256 */
    unsigned char *copy = malloc(n);
    memcpy(copy, buf, n);
    copy[192] |= 1;
    CHECK(write_all(other, copy, n));
    load_fails(other, TL_EPARSE,
               "corrupted column 's' (2 nulls in its validity bitmap, 3 in the header)");
    copy[193] |= 0xf0;   /* bits past the last row do not count */
    CHECK(write_all(other, copy, n));
    load_fails(other, TL_EPARSE,
               "corrupted column 's' (2 nulls in its validity bitmap, 3 in the header)");
    memcpy(copy, buf, n);
    put64(copy + 256 + 8 * 5, 2);   /* row 4 (0-based) ends before it starts */
    CHECK(write_all(other, copy, n));
    load_fails(other, TL_EPARSE, "corrupted column 's' (row 5 has a negative string length)");
    memcpy(copy, buf, n);
    put64(copy + 256 + 8 * 12, 1000);
    CHECK(write_all(other, copy, n));
    load_fails(other, TL_EPARSE,
               "corrupted column 's' (string offsets end at 1000, past its 45 bytes)");
    memcpy(copy, buf, n);
    put64(copy + 256, (uint64_t)-1);
    CHECK(write_all(other, copy, n));
    load_fails(other, TL_EPARSE, "corrupted column 's' (string offsets start at -1)");
    free(copy);
    free(buf);
  }
}

/* Every prefix of a saved file fails cleanly. */
static void test_truncations(void) {
  tl_table *t = make_table(NROWS);
  tl_error err;
  CHECK(t && tl_table_save(t, path, &err) == TL_OK);
  tl_table_release(t);
  size_t n;
  unsigned char *buf = read_all(path, &n);
  CHECK(buf != NULL);
  if (!buf) return;
  int clean = 0;
  for (size_t len = 0; len < n; len++) {
    tl_table *u = NULL;
    err.message[0] = '\0';
    if (!write_all(other, buf, len)) { CHECK(0); break; }
    tl_status st = tl_table_load(other, &u, &err);
    clean += (st == TL_EPARSE || st == TL_EIO) && u == NULL &&
             strncmp(err.message, "load: ", 6) == 0;
    if (u) tl_table_release(u);
  }
  CHECK(clean == (int)n);
  free(buf);
}

/* Random single-byte damage: either a table that reads safely, or a clean
** failure. Seeded, so a failure reproduces. */
static void test_flips(void) {
  tl_table *t = make_table(NROWS);
  tl_error err;
  CHECK(t && tl_table_save(t, path, &err) == TL_OK);
  size_t n;
  unsigned char *buf = read_all(path, &n), *copy = malloc(n);
  CHECK(buf && copy);
  if (!buf || !copy) { free(buf); free(copy); tl_table_release(t); return; }
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  int loaded = 0, failed = 0, unchanged = 0;
  for (int k = 0; k < 600; k++) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    size_t at = (size_t)(rng % n);
    unsigned char x = (unsigned char)((rng >> 32) % 255 + 1);
    memcpy(copy, buf, n);
    copy[at] ^= x;
    if (!write_all(other, copy, n)) { CHECK(0); break; }
    tl_table *u = NULL;
    tl_status st = tl_table_load(other, &u, &err);
    if (st == TL_OK) {
      loaded++;
      CHECK(u && tl_table_ncols(u) == 15 && tl_table_nrows(u) == NROWS);
      if (u) {
        (void)touch(u);
        unchanged += same_table(t, u);   /* damage in padding changes nothing */
      }
      tl_table_release(u);
    } else {
      failed++;
      CHECK(st == TL_EPARSE && u == NULL);
      CHECK(strncmp(err.message, "load: ", 6) == 0);
    }
  }
  CHECK(loaded > 0 && failed > 0 && unchanged > 0);
  free(buf);
  free(copy);
  tl_table_release(t);
}

/* Allocator that fails the nth allocation from now (0: never). */
static int fail_at, alloc_seen;
static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud; (void)osize;
  if (nsize == 0) { free(ptr); return NULL; }
  if (fail_at && ++alloc_seen == fail_at) return NULL;
  return realloc(ptr, nsize);
}

/* Failing the 1st, 2nd, ... allocation of save and load: each failure is
** clean (ENOMEM, no leak under ASan), until the operation succeeds. */
static void test_out_of_memory(void) {
  tl_table *t = make_table(NROWS), *u = NULL;
  CHECK(t != NULL);
  if (!t) return;
  tl_error err;
  tl_set_allocator(failing_alloc, NULL);
  int k, ok = 0;
  for (k = 1; k < 100 && !ok; k++) {
    fail_at = k; alloc_seen = 0;
    tl_status st = tl_table_save(t, path, &err);
    ok = st == TL_OK;
    if (!ok) CHECK(st == TL_ENOMEM && strcmp(err.message, "save: out of memory") == 0);
  }
  CHECK(ok && k > 2);
  ok = 0;
  for (k = 1; k < 100 && !ok; k++) {
    fail_at = k; alloc_seen = 0;
    tl_status st = tl_table_load(path, &u, &err);
    ok = st == TL_OK;
    if (!ok) CHECK(st == TL_ENOMEM && u == NULL);
  }
  CHECK(ok && k > 10);
  fail_at = 0;
  CHECK(u && same_table(t, u));
  tl_table_release(u);
  tl_table_release(t);
  tl_set_allocator(NULL, NULL);
}

int main(void) {
  strcpy(path, "/tmp/tally_store_XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0) { perror("mkstemp"); return 1; }
  close(fd);
  snprintf(other, sizeof other, "%s.bad", path);

  test_round_trip();
  test_empty();
  test_errors();
  test_truncations();
  test_flips();
  test_out_of_memory();

  unlink(path);
  unlink(other);
  return check_done("test_store");
}
