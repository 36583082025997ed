/*
** test_store.c -- saving and loading tables: round trips of every type and
** of dictionary-encoded string columns, exact error messages, and damaged files (every truncation, random byte
** flips) that must fail cleanly or load a table that reads safely.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "tally/tally.h"

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

/* Dictionary-encoded string columns come from the CSV reader, which encodes
** a string column with few distinct values. `n` rows of: id (int), kind (4
** values, no nulls), "kind?" (3 values, nulls as in make_column), note
** (distinct: a plain string column). */
static const char *const kinds[] = { "Kabul", "Zürich", "東京", "\"a,b\"" };   /* as CSV */
static tl_table *dict_table(int n) {
  size_t cap = 64 + (size_t)n * 64, len = 0;
  char *csv = malloc(cap);
  if (!csv) return NULL;
  len += (size_t)snprintf(csv, cap, "id,kind,kind?,note\n");
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(csv + len, cap - len, "%d,%s,%s,n%d\n", i, kinds[i % 4],
                            is_null_row(i, 1) ? "" : kinds[(i / 3) % 3], i * 7);
  tl_table *t = NULL;
  if (tl_read_csv_buffer(csv, len, "mem", NULL, &t, NULL) != TL_OK) t = NULL;
  free(csv);
  return t;
}

/* make_table's columns followed by dict_table's. */
static tl_table *mixed_table(int n) {
  tl_table *a = make_table(n), *b = dict_table(n), *t = NULL;
  if (a && b) {
    int na = tl_table_ncols(a), nb = tl_table_ncols(b);
    const char *names[32];
    tl_column *cols[32];
    for (int j = 0; j < na + nb && j < 32; j++) {
      const tl_table *from = j < na ? a : b;
      int k = j < na ? j : j - na;
      names[j] = tl_table_name(from, k);
      cols[j] = tl_table_column(from, k);
    }
    if (na + nb > 32 || tl_table_new(na + nb, names, cols, &t, NULL) != TL_OK) t = NULL;
  }
  tl_table_release(a);
  tl_table_release(b);
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
    const tl_column *da = tl_column_dictionary(ca), *db = tl_column_dictionary(cb);
    if ((da == NULL) != (db == NULL)) return 0;
    if (da) {   /* the same entries, and the same codes outside null rows */
      if (tl_column_length(da) != tl_column_length(db) || tl_column_null_count(db) != 0 ||
          tl_column_validity(db) != NULL || tl_column_dictionary(db) != NULL)
        return 0;
      for (int64_t k = 0; k < tl_column_length(da); k++) {
        size_t la, lb;
        const char *sa = tl_column_string_at(da, k, &la), *sb = tl_column_string_at(db, k, &lb);
        if (la != lb || memcmp(sa, sb, la) != 0) return 0;
      }
      const int32_t *xa = tl_column_codes(ca), *xb = tl_column_codes(cb);
      for (int64_t i = 0; i < tl_table_nrows(a); i++)
        if (!tl_column_is_null(ca, i) && xa[i] != xb[i]) return 0;
    }
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
  return (unsigned char *)check_slurp(p, n);
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

  /* header 64 + directory 112 + "cost" = 180; values at 192, 24 bytes */
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
  load_fails(other, TL_EPARSE, "truncated file (the header ends at byte 180, the file has 100 bytes)");
  CHECK(write_all(other, good, 200));
  load_fails(other, TL_EPARSE,
             "truncated file (column 'cost' values end at byte 216, the file has 200 bytes)");
  CHECK(write_all(other, good, 185));   /* inside the padding */
  load_fails(other, TL_EPARSE,
             "truncated file (column 'cost' values end at byte 216, the file has 185 bytes)");

  memcpy(buf, good, n);
  memset(buf + n, 0, 3);
  CHECK(write_all(other, buf, n + 3));
  load_fails(other, TL_EPARSE, "corrupted file (3 unexpected bytes after the table)");

  memcpy(buf, good, n);
  buf[177] = 'a';   /* "cost" -> "cast" */
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (checksum mismatch)");

  memcpy(buf, good, n);
  buf[8] = 1;   /* the first format: 64-byte entries, no dictionaries */
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "unsupported format version 1 (this library reads version 2)");
  buf[8] = 3;
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "unsupported format version 3 (this library reads version 2)");

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
  put64(buf + 64 + 48, 200);   /* values offset */
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted header (column 'cost' values at byte 200 is not aligned to 64)");

  memcpy(buf, good, n);
  put64(buf + 64 + 48, 128);
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted header (column 'cost' values at byte 128 overlaps what precedes)");

  memcpy(buf, good, n);
  put64(buf + 64 + 56, 16);   /* values length */
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (column 'cost' values has 16 bytes, 24 expected)");

  memcpy(buf, good, n);
  put64(buf + 64 + 56, UINT64_MAX - 100);
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
  buf[176] = 0xff;   /* a name that is not UTF-8 */
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
  CHECK(buf && n > 64 + 224 + 4);
  if (buf) {
    buf[64 + 224 + 3] = 'b';
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
    /* header 64 + 112 + "s" = 177; validity at 192 (2 bytes), offsets at 256 */
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

/* The directory entry of column j of a saved file: 112 bytes after the
** 64-byte fixed header; its fields by offset. */
enum { E_ENC = 16, E_RESERVED = 20, E_NDICT = 24, E_VALUES = 48, E_DICT_OFFSETS = 80,
       E_DICT_BYTES = 96 };
static unsigned char *entry(unsigned char *buf, int j) { return buf + 64 + 112 * j; }

static void put32(unsigned char *p, uint32_t v) {
  for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}

/* Dictionary-encoded columns among plain ones: saved encoded, loaded
** encoded over the mapping, the same rows, nulls and dictionary entries. */
static void test_dict_round_trip(void) {
  tl_table *t = mixed_table(NROWS), *u = NULL;
  tl_error err;
  CHECK(t != NULL);
  if (!t) return;
  int kind = tl_table_find(t, "kind"), kindn = tl_table_find(t, "kind?");
  int note = tl_table_find(t, "note");
  CHECK(kind > 0 && kindn > 0 && note > 0);
  if (kind <= 0 || kindn <= 0 || note <= 0) { tl_table_release(t); return; }
  /* the CSV reader encoded them, as this test needs */
  CHECK(tl_column_dictionary(tl_table_column(t, kind)) != NULL);
  CHECK(tl_column_dictionary(tl_table_column(t, kindn)) != NULL);
  CHECK(tl_column_dictionary(tl_table_column(t, note)) == NULL);
  CHECK(tl_column_null_count(tl_table_column(t, kindn)) == 8);

  CHECK(tl_table_save(t, path, &err) == TL_OK);
  CHECK(tl_table_load(path, &u, &err) == TL_OK);
  CHECK(u && same_table(t, u));
  if (!u) { tl_table_release(t); return; }
  const tl_column *k = tl_table_column(u, kind), *kn = tl_table_column(u, kindn);
  const tl_column *d = tl_column_dictionary(k);
  CHECK(d != NULL && tl_column_dictionary(kn) != NULL);
  CHECK(tl_column_dictionary(tl_table_column(u, note)) == NULL);
  CHECK(tl_column_string_offsets(k) == NULL && tl_column_string_bytes(k) == NULL);
  CHECK(tl_column_codes(k) != NULL && (uintptr_t)tl_column_codes(k) % 64 == 0);
  if (d) {
    size_t n;
    CHECK(tl_column_length(d) == 4 && tl_column_null_count(d) == 0);
    CHECK((uintptr_t)tl_column_string_offsets(d) % 64 == 0);
    const char *s = tl_column_string_at(d, 2, &n);
    CHECK(n == strlen("東京") && memcmp(s, "東京", n) == 0);
    s = tl_column_string_at(k, 3, &n);   /* a row through its code */
    CHECK(n == 3 && memcmp(s, "a,b", 3) == 0);
  }
  CHECK(tl_column_is_null(kn, 7) && !tl_column_is_null(kn, 8));
  CHECK(tl_column_null_count(kn) == 8);
  CHECK(tl_column_length(tl_column_dictionary(kn)) == 3);

  /* an encoded column outlives its table and keeps the mapping alive */
  tl_column *c = tl_column_retain(tl_table_column(u, kind));
  tl_table_release(u);
  u = NULL;
  {
    size_t n;
    const char *s = tl_column_string_at(c, 5, &n);
    CHECK(n == strlen("Zürich") && memcmp(s, "Zürich", n) == 0);
    tl_column_release(c);
  }

  /* saved over its own file; rows taken from it share the mapped dictionary */
  CHECK(tl_table_load(path, &u, &err) == TL_OK);
  if (u) {
    CHECK(tl_table_save(u, path, &err) == TL_OK);
    tl_table *v = NULL, *w = NULL, *x = NULL;
    CHECK(tl_table_load(path, &v, &err) == TL_OK);
    CHECK(v && same_table(t, v));
    CHECK(v && tl_table_slice(v, 5, 9, &w, &err) == TL_OK);
    CHECK(w && tl_column_dictionary(tl_table_column(w, kind)) ==
                   tl_column_dictionary(tl_table_column(v, kind)));
    tl_table_release(v);
    tl_table_release(u);
    CHECK(w && tl_table_save(w, path, &err) == TL_OK);
    CHECK(tl_table_load(path, &x, &err) == TL_OK);
    CHECK(x && same_table(w, x) && tl_table_nrows(x) == 9);
    tl_table_release(w);
    tl_table_release(x);
  }

  /* no rows: no codes, the dictionary still there */
  tl_table *e = NULL, *f = NULL;
  CHECK(tl_table_slice(t, 1, 0, &e, &err) == TL_OK);
  CHECK(e && tl_table_nrows(e) == 0 && tl_column_dictionary(tl_table_column(e, kind)) != NULL);
  CHECK(e && tl_table_save(e, path, &err) == TL_OK);
  CHECK(tl_table_load(path, &f, &err) == TL_OK);
  CHECK(f && same_table(e, f));
  if (f) {
    const tl_column *fk = tl_table_column(f, kind);
    CHECK(tl_column_dictionary(fk) != NULL && tl_column_codes(fk) != NULL);
    CHECK(tl_column_dictionary(fk) && tl_column_length(tl_column_dictionary(fk)) == 4);
  }
  tl_table_release(e);
  tl_table_release(f);
  tl_table_release(t);
}

/* Damaged dictionary columns: codes outside the dictionary, its offsets,
** and directory entries that do not add up. */
static void test_dict_errors(void) {
  tl_error err;
  tl_table *t = dict_table(12), *u = NULL;   /* id, kind, kind? (rows 0, 2, 7 null), note */
  CHECK(t && tl_table_save(t, path, &err) == TL_OK);
  CHECK(t && tl_column_dictionary(tl_table_column(t, 1)) != NULL);
  CHECK(t && tl_column_dictionary(tl_table_column(t, 2)) != NULL);
  tl_table_release(t);
  size_t n;
  unsigned char *good = read_all(path, &n), *buf = malloc(n);
  CHECK(good && buf);
  if (!good || !buf) { free(good); free(buf); return; }
  CHECK(get64(entry(good, 1) + E_NDICT) == 4 && get64(entry(good, 2) + E_NDICT) == 3);
  CHECK(get64(entry(good, 1) + E_DICT_BYTES + 8) == 21);
  CHECK(get64(entry(good, 3) + E_NDICT) == 0);
  uint64_t codes = get64(entry(good, 1) + E_VALUES);
  uint64_t codesn = get64(entry(good, 2) + E_VALUES);
  uint64_t doff = get64(entry(good, 1) + E_DICT_OFFSETS);
  CHECK(get64(entry(good, 1) + E_VALUES + 8) == 48);   /* 12 int32 codes */
  CHECK(codes % 64 == 0 && doff % 64 == 0 && doff > codes);

  /* codes: the data, so the header checksum still holds */
  memcpy(buf, good, n);
  put32(buf + codes + 4 * 5, 4);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted column 'kind' (row 6 has code 4, outside its dictionary of 4 entries)");
  memcpy(buf, good, n);
  put32(buf + codes + 4 * 11, UINT32_MAX);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted column 'kind' (row 12 has code -1, outside its dictionary of 4 entries)");
  memcpy(buf, good, n);
  put32(buf + codesn, 3);   /* a null row's code is read too, so it is checked too */
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted column 'kind?' (row 1 has code 3, outside its dictionary of 3 entries)");
  memcpy(buf, good, n);
  put32(buf + codesn, 2);   /* but any code inside the dictionary will do */
  CHECK(write_all(other, buf, n));
  CHECK(tl_table_load(other, &u, &err) == TL_OK);
  if (u) {
    const tl_column *kn = tl_table_column(u, 2);
    CHECK(tl_column_is_null(kn, 0) && tl_column_null_count(kn) == 3);
    size_t len;
    (void)tl_column_string_at(kn, 0, &len);
    CHECK(len == strlen("東京"));
    tl_table_release(u);
    u = NULL;
  }

  /* the dictionary's offsets: ordered, inside its text */
  memcpy(buf, good, n);
  put64(buf + doff + 8 * 2, 0);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted column 'kind' (dictionary entry 2 has a negative string length)");
  memcpy(buf, good, n);
  put64(buf + doff + 8 * 4, 1000);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted column 'kind' (dictionary offsets end at 1000, past its 21 bytes)");
  memcpy(buf, good, n);
  put64(buf + doff, (uint64_t)-1);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted column 'kind' (dictionary offsets start at -1)");

  /* the directory, resealed as a bug in a writer would */
  memcpy(buf, good, n);
  put64(entry(buf, 1) + E_NDICT, (uint64_t)1 << 31);
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted header (column 'kind' has a dictionary of 2147483648 entries)");
  memcpy(buf, good, n);
  put64(entry(buf, 1) + E_NDICT, 5);
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted header (column 'kind' dictionary offsets has 40 bytes, 48 expected)");
  memcpy(buf, good, n);
  put32(entry(buf, 1) + E_ENC, 0);   /* plain, with a dictionary */
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (column 'kind' has a dictionary of 4 entries)");
  memcpy(buf, good, n);
  put32(entry(buf, 1) + E_ENC, 7);
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (column 'kind' has unknown encoding 7)");
  memcpy(buf, good, n);
  put32(entry(buf, 1) + E_RESERVED, 1);
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (column 'kind' has reserved field 1, not 0)");
  memcpy(buf, good, n);
  put32(entry(buf, 0) + E_ENC, 1);
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (column 'id' of type int is dictionary-encoded)");
  memcpy(buf, good, n);
  put32(entry(buf, 3) + E_ENC, 1);   /* a plain string column said to be encoded */
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE, "corrupted header (column 'note' values has 104 bytes, 48 expected)");
  memcpy(buf, good, n);
  put64(entry(buf, 1) + E_DICT_BYTES + 8, 20);   /* text shorter: the padding grows */
  reseal(buf);
  CHECK(write_all(other, buf, n));
  load_fails(other, TL_EPARSE,
             "corrupted column 'kind' (dictionary offsets end at 21, past its 20 bytes)");
  free(good);
  free(buf);
}

/* Every prefix of a saved file fails cleanly. */
static void test_truncations(tl_table *(*make)(int)) {
  tl_table *t = make(NROWS);
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
static void test_flips(tl_table *(*make)(int)) {
  tl_table *t = make(NROWS);
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
      CHECK(u && tl_table_ncols(u) == tl_table_ncols(t) && tl_table_nrows(u) == NROWS);
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
  tl_table *t = mixed_table(NROWS), *u = NULL;
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

/* Encoding to memory and back: the same table as a file round trip, the
** same bytes as the saved file, and every truncation and some flips of the
** bytes fail cleanly with the decoder's name in the message. */
static void test_encode(tl_table *(*make)(int)) {
  tl_table *t = make(NROWS), *u = NULL;
  tl_error err;
  void *buf = NULL;
  size_t len = 0;
  CHECK(t && tl_table_encode(t, &buf, &len, &err) == TL_OK);
  CHECK(tl_table_decode(buf, len, "rank 1", &u, &err) == TL_OK);
  CHECK(u && same_table(t, u));
  tl_table_release(u);
  CHECK(tl_table_save(t, path, &err) == TL_OK);
  size_t n;
  unsigned char *file = read_all(path, &n);
  CHECK(file && n == len && memcmp(file, buf, n) == 0);
  free(file);
  int clean = 0;
  for (size_t k = 0; k < len; k++) {
    u = NULL;
    tl_status st = tl_table_decode(buf, k, "rank 1", &u, &err);
    clean += st == TL_EPARSE && u == NULL && strncmp(err.message, "decode: rank 1: ", 16) == 0;
  }
  CHECK(clean == (int)len);
  unsigned char *copy = malloc(len);
  uint64_t rng = 0x2545f4914f6cdd1dull;
  for (int k = 0; copy && k < 300; k++) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    memcpy(copy, buf, len);
    copy[rng % len] ^= (unsigned char)((rng >> 32) % 255 + 1);
    u = NULL;
    tl_status st = tl_table_decode(copy, len, NULL, &u, &err);
    if (st == TL_OK) { CHECK(u && tl_table_nrows(u) == NROWS); (void)touch(u); }
    else CHECK(st == TL_EPARSE && strncmp(err.message, "decode: buffer: ", 16) == 0);
    tl_table_release(u);
  }
  free(copy);
  tl_free(buf);
  tl_table_release(t);
}

/* A loaded file truncated in place: every operation that reads the mapped
** columns is TL_EIO naming the file (before, a SIGBUS); a copy
** (TL_LOAD_COPY) does not care; a file replaced by a save is still fine. */
static void test_changed_file(void) {
  tl_table *t = mixed_table(300), *u = NULL, *v = NULL, *r = NULL;
  tl_error err;
  CHECK(tl_table_save(t, path, &err) == TL_OK);
  CHECK(tl_table_load(path, &u, &err) == TL_OK);
  CHECK(tl_table_load_ex(path, TL_LOAD_COPY, &v, &err) == TL_OK);
  CHECK(tl_table_check_files(u, "test", &err) == TL_OK);
  CHECK(tl_table_check_files(v, "test", &err) == TL_OK);
  CHECK(truncate(path, 0) == 0);
  char want[160];
  snprintf(want, sizeof want, "filter: table file '%s' changed since it was loaded", path);
  CHECK(tl_table_filter(u, "true", &r, &err) == TL_EIO && r == NULL);
  CHECK(strncmp(err.message, want, strlen(want)) == 0);
  CHECK(tl_table_sort(u, 1, (const char *const[]){ tl_table_name(u, 0) }, &r, &err) == TL_EIO);
  char *text = NULL;
  size_t len;
  CHECK(tl_table_format(u, NULL, &text, &len, &err) == TL_EIO && text == NULL);
  tl_scalar sum;
  CHECK(tl_column_sum(tl_table_column(u, 0), &sum, &err) == TL_EIO);
  CHECK(tl_table_agg(u, 1, (const char *const[]){ "n = count()" }, &r, &err) == TL_EIO);
  CHECK(tl_table_save(u, other, &err) == TL_EIO);
  CHECK(tl_table_filter(v, "true", &r, &err) == TL_OK && same_table(r, t));
  tl_table_release(r);
  tl_table_release(u);
  tl_table_release(v);
  /* replaced by a save: the mapping keeps the old inode */
  CHECK(tl_table_save(t, path, &err) == TL_OK);
  CHECK(tl_table_load(path, &u, &err) == TL_OK);
  CHECK(tl_table_save(t, path, &err) == TL_OK);
  CHECK(tl_table_filter(u, "true", &r, &err) == TL_OK && same_table(r, t));
  tl_table_release(r);
  tl_table_release(u);
  tl_table_release(t);
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
  test_dict_round_trip();
  test_dict_errors();
  test_truncations(make_table);
  test_truncations(mixed_table);
  test_flips(make_table);
  test_flips(mixed_table);
  test_out_of_memory();
  test_encode(make_table);
  test_encode(mixed_table);
  test_changed_file();

  unlink(path);
  unlink(other);
  return check_done("test_store");
}
