/*
** test_spill_table.c -- tables through spill blocks (exec/spill.h): every
** type, with and without nulls, dictionary string columns (one whose rows
** are all null over an empty dictionary), empty strings and zero rows,
** written whole and as row ranges starting at every bit of a byte, read
** back equal; and a damaged block (each byte flipped in turn, the length
** cut) is an I/O error naming the operation and the temporary file, or
** reads back a table of the schema's shape, never a crash (run under ASan).
*/
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "base/column.h"
#include "base/error.h"
#include "exec/spill.h"
#include "tally/tally.h"

static void ok(tl_status st, const tl_error *err) {
  if (st != TL_OK) { fprintf(stderr, "unexpected error: %s\n", err->message); exit(1); }
}

#define NCOLS 9
static const char *names[NCOLS] = { "b", "i", "f", "s", "d", "ts", "k", "e", "n" };

/* n rows of every type: nulls in all but "n" (no nulls); "k" a dictionary
** column with nulls, "e" a dictionary column of nulls over an empty
** dictionary; strings of 0 to 12 bytes. */
static tl_table *make_table(int64_t n) {
  tl_error err;
  tl_type ty[6] = { TL_BOOL, TL_INT, TL_FLOAT, TL_STRING, TL_DATE, TL_TIMESTAMP };
  tl_builder *b[6];
  tl_column *c[NCOLS];
  for (int j = 0; j < 6; j++) ok(tl_builder_new(ty[j], n, &b[j], &err), &err);
  for (int64_t i = 0; i < n; i++) {
    char s[16];
    int null = i % 5 == 3;
    for (int j = 0; j < 6; j++) {
      if (null || (i * 7 + j) % 11 == 0) { ok(tl_builder_append_null(b[j], &err), &err); continue; }
      switch (ty[j]) {
        case TL_BOOL: ok(tl_builder_append_bool(b[j], i % 3 == 1, &err), &err); break;
        case TL_INT: ok(tl_builder_append_int(b[j], i * 1000003 - 7, &err), &err); break;
        case TL_FLOAT: ok(tl_builder_append_float(b[j], (double)i / 3.0 - 5, &err), &err); break;
        case TL_STRING:
          snprintf(s, sizeof s, "%.*s", (int)(i % 13), "abcdefghijklm");
          ok(tl_builder_append_string(b[j], s, strlen(s), &err), &err);
          break;
        case TL_DATE: ok(tl_builder_append_date(b[j], (int32_t)(i - 400), &err), &err); break;
        default: ok(tl_builder_append_timestamp(b[j], i * 86400000001LL, &err), &err);
      }
    }
  }
  for (int j = 0; j < 6; j++) ok(tl_builder_finish(b[j], &c[j], &err), &err);
  /* dictionary columns */
  tl_builder *db;
  tl_column *dict, *empty;
  static const char *words[] = { "red", "", "green", "blue, dark" };
  ok(tl_builder_new(TL_STRING, 4, &db, &err), &err);
  for (int k = 0; k < 4; k++) ok(tl_builder_append_string(db, words[k], strlen(words[k]), &err), &err);
  ok(tl_builder_finish(db, &dict, &err), &err);
  ok(tl_column_alloc(TL_STRING, 0, 0, 0, &empty, &err), &err);
  ok(tl_column_alloc_dict(dict, n, 1, &c[6], &err), &err);
  ok(tl_column_alloc_dict(empty, n, 1, &c[7], &err), &err);
  for (int64_t i = 0; i < n; i++) {
    if (i % 4 == 2) TL_BIT_CLEAR(c[6]->validity, i);
    else ((int32_t *)c[6]->values)[i] = (int32_t)((i / 3) % 4);
    TL_BIT_CLEAR(c[7]->validity, i);
  }
  tl_column_seal(c[6]);
  tl_column_seal(c[7]);
  tl_column_release(dict);
  tl_column_release(empty);
  ok(tl_column_alloc(TL_INT, n, 0, 0, &c[8], &err), &err);
  for (int64_t i = 0; i < n; i++) ((int64_t *)c[8]->values)[i] = n - i;
  tl_table *t = NULL;
  ok(tl_table_new(NCOLS, names, c, &t, &err), &err);
  for (int j = 0; j < NCOLS; j++) tl_column_release(c[j]);
  return t;
}

/* 1 when rows [at, at + n) of a equal b's rows (types, nulls, values). */
static int same_rows(const tl_table *a, int64_t at, int64_t n, const tl_table *b) {
  if (tl_table_ncols(a) != tl_table_ncols(b) || tl_table_nrows(b) != n) return 0;
  for (int j = 0; j < tl_table_ncols(a); j++) {
    const tl_column *x = tl_table_column(a, j), *y = tl_table_column(b, j);
    if (tl_column_type(x) != tl_column_type(y) || strcmp(tl_table_name(b, j), names[j]) != 0)
      return 0;
    for (int64_t i = 0; i < n; i++) {
      tl_scalar p, q;
      tl_column_get(x, at + i, &p);
      tl_column_get(y, i, &q);
      if (p.is_null != q.is_null) return 0;
      if (p.is_null) continue;
      if (p.type == TL_STRING) {
        if (p.v.s.len != q.v.s.len || memcmp(p.v.s.ptr, q.v.s.ptr, p.v.s.len) != 0) return 0;
      } else if (memcmp(&p.v, &q.v, sizeof p.v) != 0) {
        return 0;
      }
    }
  }
  return 1;
}

static tl_spiller by = { "test", 0, 0 };

/* Whole tables of 0 .. 70 rows, and every range [at, at + n) of one of
** 150 rows with at in 0 .. 17 and n of 0, 1, 7, 8, 9, 64, the rest. */
static void round_trip(void) {
  tl_error err;
  for (int64_t n = 0; n <= 70; n++) {
    tl_table *t = make_table(n), *u = NULL;
    tl_spill *f;
    ok(tl_spill_open(&by, &f, &err), &err);
    ok(tl_spill_put_table(f, t, &err), &err);
    ok(tl_spill_put_table(f, t, &err), &err);
    for (int k = 0; k < 2; k++) {
      ok(tl_spill_get_table(f, t, &u, &err), &err);
      CHECK(u && same_rows(t, 0, n, u));
      CHECK(u && tl_column_null_count(tl_table_column(u, 0)) == tl_column_null_count(tl_table_column(t, 0)));
      CHECK(u && tl_column_null_count(tl_table_column(u, 8)) == 0);
      tl_table_release(u);
    }
    ok(tl_spill_get_table(f, t, &u, &err), &err);
    CHECK(u == NULL);   /* the end */
    tl_spill_close(f);
    tl_table_release(t);
  }
  tl_table *t = make_table(150);
  static const int64_t lens[] = { 0, 1, 7, 8, 9, 64, -1 };
  for (int64_t at = 0; at < 18; at++) {
    tl_spill *f;
    ok(tl_spill_open(&by, &f, &err), &err);
    for (int k = 0; k < 7; k++) ok(tl_spill_put_rows(f, t, at, lens[k], &err), &err);
    for (int k = 0; k < 7; k++) {
      tl_table *u = NULL;
      int64_t n = lens[k] < 0 ? 150 - at : lens[k];
      ok(tl_spill_get_table(f, t, &u, &err), &err);
      if (!u || !same_rows(t, at, n, u)) {
        fprintf(stderr, "rows %lld + %lld differ\n", (long long)at, (long long)n);
        CHECK(0);
      }
      tl_table_release(u);
    }
    tl_spill_close(f);
  }
  tl_table_release(t);
}

/* A block of t whose byte k (of the block, after its length) is flipped,
** or whose length says `cut` bytes fewer, read back: an error naming the
** operation and the file, or a table of t's shape. */
static void damage(void) {
  tl_error err;
  tl_table *t = make_table(21);
  int errors = 0, reads = 0;
  long size;
  {
    tl_spill *f;
    ok(tl_spill_open(&by, &f, &err), &err);
    ok(tl_spill_put_table(f, t, &err), &err);
    size = (long)f->bytes - 8;
    tl_spill_close(f);
  }
  for (long k = -1; k < size; k++) {
    for (int cut = 0; cut <= (k < 0 ? 40 : 0); cut++) {
      tl_spill *f;
      tl_table *u = NULL;
      ok(tl_spill_open(&by, &f, &err), &err);
      ok(tl_spill_put_table(f, t, &err), &err);
      CHECK(fflush(f->f) == 0);
      if (k >= 0) {
        CHECK(fseek(f->f, 8 + k, SEEK_SET) == 0);
        int x = fgetc(f->f);
        CHECK(fseek(f->f, 8 + k, SEEK_SET) == 0);
        fputc(x ^ 0xff, f->f);
      } else {
        uint64_t len = (uint64_t)(size - cut);
        CHECK(fseek(f->f, 0, SEEK_SET) == 0);
        fwrite(&len, 8, 1, f->f);
      }
      tl_status st = tl_spill_get_table(f, t, &u, &err);
      if (st == TL_OK) {
        CHECK(u && tl_table_ncols(u) == NCOLS);
        CHECK(cut == 0);
        reads++;
      } else {
        CHECK(st == TL_EIO);
        CHECK(strstr(err.message, "test: cannot read") == err.message);
        CHECK(strstr(err.message, f->path) != NULL);
        errors++;
      }
      tl_table_release(u);
      tl_spill_close(f);
    }
  }
  CHECK(errors > 40 && reads > 0);
  printf("damaged blocks: %d errors, %d read back\n", errors, reads);
  tl_table_release(t);
}

int main(void) {
  char dir[256];
  const char *base = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/tally-spill-table-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  setenv("TALLY_TEMP_DIRECTORY", dir, 1);
  round_trip();
  damage();
  CHECK(rmdir(dir) == 0);   /* no file left in it */
  return check_done("test_spill_table");
}
