/*
** test_xsort_room.c -- the external sort (exec/xsort.h) in rooms so small
** that it writes many runs, in blocks down to one row, and merges them in
** more than one pass (a fan-in of 2 and up): its rows equal the in-memory
** sort's (tl_table_sort) row for row, for keys of every type, ascending and
** descending, with nulls, NaN and many ties (a column of input places, not
** a key, shows that ties keep the input order) and for an expression key;
** with a top (keep n), its
** first n rows. No spill file is left behind.
*/
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "base/column.h"
#include "base/error.h"
#include "exec/xsort.h"
#include "tally/tally.h"

static void ok(tl_status st, const tl_error *err) {
  if (st != TL_OK) { fprintf(stderr, "unexpected error: %s\n", err->message); exit(1); }
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

#define NCOLS 8
static const char *names[NCOLS] = { "b", "i", "f", "s", "d", "ts", "k", "pos" };

/* n rows: every type with nulls and few distinct values (ties), NaN among
** the floats, empty strings; k a dictionary column; pos the row's place. */
static tl_table *make_table(int64_t n) {
  static const char *words[] = { "pear", "", "apple", "Apple", "fig, dried", "zucchini" };
  tl_error err;
  tl_type ty[6] = { TL_BOOL, TL_INT, TL_FLOAT, TL_STRING, TL_DATE, TL_TIMESTAMP };
  tl_builder *b[6];
  tl_column *c[NCOLS];
  for (int j = 0; j < 6; j++) ok(tl_builder_new(ty[j], n, &b[j], &err), &err);
  for (int64_t i = 0; i < n; i++) {
    for (int j = 0; j < 6; j++) {
      uint64_t r = next_rand();
      if (r % 9 == 0) { ok(tl_builder_append_null(b[j], &err), &err); continue; }
      r >>= 8;
      switch (ty[j]) {
        case TL_BOOL: ok(tl_builder_append_bool(b[j], r & 1, &err), &err); break;
        case TL_INT: ok(tl_builder_append_int(b[j], (int64_t)(r % 7) - 3, &err), &err); break;
        case TL_FLOAT:
          ok(tl_builder_append_float(b[j], r % 10 == 0 ? NAN : (double)(r % 5) / 4 - 0.5, &err), &err);
          break;
        case TL_STRING: {
          const char *w = words[r % 6];
          ok(tl_builder_append_string(b[j], w, strlen(w), &err), &err);
          break;
        }
        case TL_DATE: ok(tl_builder_append_date(b[j], (int32_t)(r % 4) - 1, &err), &err); break;
        default: ok(tl_builder_append_timestamp(b[j], (int64_t)(r % 3) * 1000000, &err), &err);
      }
    }
  }
  for (int j = 0; j < 6; j++) ok(tl_builder_finish(b[j], &c[j], &err), &err);
  tl_builder *db;
  tl_column *dict;
  ok(tl_builder_new(TL_STRING, 3, &db, &err), &err);
  ok(tl_builder_append_string(db, "b", 1, &err), &err);
  ok(tl_builder_append_string(db, "a", 1, &err), &err);
  ok(tl_builder_append_string(db, "c", 1, &err), &err);
  ok(tl_builder_finish(db, &dict, &err), &err);
  ok(tl_column_alloc_dict(dict, n, 1, &c[6], &err), &err);
  tl_column_release(dict);
  ok(tl_column_alloc(TL_INT, n, 0, 0, &c[7], &err), &err);
  for (int64_t i = 0; i < n; i++) {
    uint64_t r = next_rand() % 4;
    if (r == 3) TL_BIT_CLEAR(c[6]->validity, i);
    else ((int32_t *)c[6]->values)[i] = (int32_t)r;
    ((int64_t *)c[7]->values)[i] = i;
  }
  tl_column_seal(c[6]);
  tl_table *t = NULL;
  ok(tl_table_new(NCOLS, names, c, &t, &err), &err);
  for (int j = 0; j < NCOLS; j++) tl_column_release(c[j]);
  return t;
}

/* 1 when a's first n rows equal b's (same names, types, nulls and values;
** NaN equals NaN). */
static int same(const tl_table *a, const tl_table *b, int64_t n, const char *what) {
  if (tl_table_ncols(a) != tl_table_ncols(b) || tl_table_nrows(b) != n || tl_table_nrows(a) < n) {
    fprintf(stderr, "%s: %lld rows, want %lld\n", what, (long long)tl_table_nrows(b), (long long)n);
    return 0;
  }
  for (int j = 0; j < tl_table_ncols(a); j++) {
    if (strcmp(tl_table_name(a, j), tl_table_name(b, j)) != 0) return 0;
    for (int64_t i = 0; i < n; i++) {
      tl_scalar p, q;
      char bp[64], bq[64];
      tl_column_get(tl_table_column(a, j), i, &p);
      tl_column_get(tl_table_column(b, j), i, &q);
      tl_scalar_format(&p, bp, sizeof bp);
      tl_scalar_format(&q, bq, sizeof bq);
      if (p.type != q.type || p.is_null != q.is_null || strcmp(bp, bq) != 0) {
        fprintf(stderr, "%s: %s row %lld: %s, want %s\n", what, tl_table_name(a, j),
                (long long)i, bq, bp);
        return 0;
      }
    }
  }
  return 1;
}

typedef struct sink { tl_table *got[1 << 16]; int n; } sink;
static sink out;

static tl_status take(void *ctx, tl_table *t, tl_error *err) {
  sink *k = ctx;
  if (k->n == (int)(sizeof k->got / sizeof *k->got)) {
    tl_table_release(t);
    return tl_error_set(err, TL_EINVAL, "test: too many pieces");
  }
  k->got[k->n++] = t;
  return TL_OK;
}

static char tmpdir[256];

static int files_left(void) {
  DIR *d = opendir(tmpdir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

/* t sorted by keys through the external sort given `room` bytes, fed in
** batches of `batch` rows; keep >= 0: a top of that many rows. */
static void sort_case(const tl_table *t, int nk, const char **keys, int64_t room, int64_t batch,
                      int64_t keep, int *merges) {
  tl_error err;
  tl_table *want = NULL, *schema = NULL, *got = NULL;
  ok(tl_table_sort(t, nk, keys, &want, &err), &err);
  ok(tl_table_slice(t, 0, 0, &schema, &err), &err);
  tl_env_set_memory_limit(NULL, tl_env_memory(NULL) + ((size_t)64 << 20));
  tl_xsort *s = NULL;
  ok(tl_xsort_new(nk, keys, "sort", schema, (int64_t)tl_env_memory(NULL) + room, &s, &err), &err);
  if (keep >= 0) tl_xsort_keep(s, keep);
  for (int64_t at = 0; at < tl_table_nrows(t); at += batch) {
    tl_table *b = NULL;
    ok(tl_table_slice(t, at, batch, &b, &err), &err);
    ok(tl_xsort_add(s, b, &err), &err);
  }
  out.n = 0;
  ok(tl_xsort_finish(s, take, &out, &err), &err);
  int runs;
  int64_t bytes;
  tl_xsort_spilled(s, &runs, &bytes);
  *merges += tl_xsort_merges(s);
  tl_xsort_free(s);
  tl_env_set_memory_limit(NULL, 0);
  if (runs < 3) fprintf(stderr, "%d runs in a room of %lld (keys %s, batches of %lld)\n", runs,
                        (long long)room, keys[0], (long long)batch);
  CHECK(runs >= 3);   /* it spilled, several runs */
  if (out.n == 0) ok(tl_table_slice(schema, 0, 0, &got, &err), &err);
  else ok(tl_table_concat(out.n, (const tl_table *const *)out.got, &got, &err), &err);
  for (int k = 0; k < out.n; k++) tl_table_release(out.got[k]);
  char what[128];
  snprintf(what, sizeof what, "sort by %s%s (room %lld, batches of %lld, keep %lld)", keys[0],
           nk > 1 ? ", ..." : "", (long long)room, (long long)batch, (long long)keep);
  int64_t n = keep >= 0 && keep < tl_table_nrows(t) ? keep : tl_table_nrows(t);
  if (!same(want, got, n, what)) CHECK(0);
  CHECK(files_left() == 0);
  tl_table_release(want);
  tl_table_release(got);
  tl_table_release(schema);
}

int main(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/tally-xsort-test-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
  setenv("TALLY_TEMP_DIRECTORY", tmpdir, 1);
  tl_table *t = make_table(3000);
  static const char *k1[] = { "i" }, *k2[] = { "-f" }, *k3[] = { "s", "-d" },
                    *k4[] = { "-b", "ts" }, *k5[] = { "-k", "f", "i" }, *k6[] = { "d", "-s", "b" },
                    *k7[] = { "-ts", "-i" }, *k8[] = { "-(i * 2 - f)", "s" };
  static const char **keys[] = { k1, k2, k3, k4, k5, k6, k7, k8 };
  static const int nkeys[] = { 1, 1, 2, 2, 3, 3, 2, 2 };
  static const int64_t rooms[] = { 4 << 10, 16 << 10, 64 << 10 };
  int merges = 0;
  for (int r = 0; r < 3; r++) {
    int before = merges;
    for (int k = 0; k < 8; k++) sort_case(t, nkeys[k], keys[k], rooms[r], 61, -1, &merges);
    sort_case(t, 2, k3, rooms[r], 1, -1, &merges);      /* batches of one row */
    sort_case(t, 3, k5, rooms[r], 97, 250, &merges);    /* a top */
    sort_case(t, 1, k2, rooms[r], 97, 0, &merges);
    printf("room %lld: %d merges into new runs\n", (long long)rooms[r], merges - before);
    if (r == 0) CHECK(merges - before >= 9);   /* more than one pass in each case */
  }
  tl_table_release(t);
  CHECK(rmdir(tmpdir) == 0);
  return check_done("test_xsort_room");
}
