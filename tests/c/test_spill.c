/*
** test_spill.c -- scans past the memory limit: a grouping that spills its
** partitions, a sort that spills runs, a distinct and a top that spill, and
** a grouping whose result is ordered by a sort or a top after it (through
** the external sort), give exactly the in-memory verbs' results, on
** generated tables with many groups, on 1 and 3 threads; and every spill
** write failing in turn (the ENOSPC knob of exec/spill.h) is an error
** naming the temporary file and the bytes written, leaves nothing in the
** temporary directory, and leaves the engine working. Also the default
** memory limit and the out-of-memory error of an in-memory verb.
*/
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "base/error.h"
#include "exec/spill.h"
#include "testing.h"
#include "tally/tally.h"

static char tmpdir[256];
/* Bytes past what the env holds: a grouping's batches in flight hold a
** partial per partition, so its room is larger. */
#define GROUP_ROOM ((size_t)32 << 20)
#define SORT_ROOM ((size_t)8 << 20)

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

static void ok(tl_status st, const tl_error *err) {
  if (st != TL_OK) { fprintf(stderr, "unexpected error: %s\n", err->message); exit(1); }
}

/* n rows: id (int, about n/3 distinct), s (string, 700 values, nulls),
** v (int, nulls), w (string, a few words). */
static tl_table *make_table(int64_t n) {
  static const char *words[] = { "alpha", "beta", "gamma", "", "delta, epsilon", "zeta" };
  tl_error err;
  tl_builder *b[4];
  tl_type ty[4] = { TL_INT, TL_STRING, TL_INT, TL_STRING };
  for (int j = 0; j < 4; j++) ok(tl_builder_new(ty[j], n, &b[j], &err), &err);
  for (int64_t i = 0; i < n; i++) {
    char s[32];
    int64_t id = (int64_t)(next_rand() % (uint64_t)(n / 3 + 1));
    ok(tl_builder_append_int(b[0], id, &err), &err);
    snprintf(s, sizeof s, "s%d", (int)(next_rand() % 700));
    if (next_rand() % 11 == 0) ok(tl_builder_append_null(b[1], &err), &err);
    else ok(tl_builder_append_string(b[1], s, strlen(s), &err), &err);
    if (next_rand() % 7 == 0) ok(tl_builder_append_null(b[2], &err), &err);
    else ok(tl_builder_append_int(b[2], (int64_t)(next_rand() % 1000) - 500, &err), &err);
    const char *w = words[next_rand() % 6];
    ok(tl_builder_append_string(b[3], w, strlen(w), &err), &err);
  }
  tl_column *c[4];
  for (int j = 0; j < 4; j++) ok(tl_builder_finish(b[j], &c[j], &err), &err);
  const char *names[4] = { "id", "s", "v", "w" };
  tl_table *t = NULL;
  ok(tl_table_new(4, names, c, &t, &err), &err);
  for (int j = 0; j < 4; j++) tl_column_release(c[j]);
  return t;
}

/* 1 when a and b have the same names, types and values. */
static int same(const tl_table *a, const tl_table *b, const char *what) {
  if (tl_table_ncols(a) != tl_table_ncols(b) || tl_table_nrows(a) != tl_table_nrows(b)) {
    fprintf(stderr, "%s: %d x %lld vs %d x %lld\n", what, tl_table_ncols(a),
            (long long)tl_table_nrows(a), tl_table_ncols(b), (long long)tl_table_nrows(b));
    return 0;
  }
  for (int j = 0; j < tl_table_ncols(a); j++) {
    const tl_column *x = tl_table_column(a, j), *y = tl_table_column(b, j);
    if (strcmp(tl_table_name(a, j), tl_table_name(b, j)) != 0 ||
        tl_column_type(x) != tl_column_type(y)) {
      fprintf(stderr, "%s: column %d differs\n", what, j);
      return 0;
    }
    for (int64_t i = 0; i < tl_table_nrows(a); i++) {
      tl_scalar p, q;
      char bp[128], bq[128];
      tl_column_get(x, i, &p);
      tl_column_get(y, i, &q);
      tl_scalar_format(&p, bp, sizeof bp);
      tl_scalar_format(&q, bq, sizeof bq);
      if (p.is_null != q.is_null || strcmp(bp, bq) != 0) {
        fprintf(stderr, "%s: %s row %lld: %s vs %s\n", what, tl_table_name(a, j),
                (long long)i, bp, bq);
        return 0;
      }
    }
  }
  return 1;
}

static const char *keys[] = { "id" };
static const char *defs[] = { "n = count()", "t = sum(v)", "lo = min(v)", "hi = max(s)",
                              "f = first(w)", "l = last(v)", "m = mean(v)",
                              "d = count_distinct(w)", "j = string_agg(w, '|')" };
#define NDEFS ((int)(sizeof defs / sizeof *defs))
static const char *sort_keys[] = { "w", "-v" };

static tl_status scan_group(const tl_table *t, tl_table **out, tl_error *err) {
  tl_scan_options o;
  tl_scan_options_init(&o);
  tl_scan *s = NULL, *g = NULL;
  TL_TRY(tl_scan_table(t, &o, &s, err));
  int64_t was = tl_testing_set(NULL, TL_KNOB_BATCH_ROWS, 10000);
  tl_status st = tl_scan_agg(s, 1, keys, NDEFS, defs, &g, err);
  if (st == TL_OK) st = tl_scan_collect(g, out, err);
  tl_scan_free(g);
  tl_scan_free(s);
  tl_testing_set(NULL, TL_KNOB_BATCH_ROWS, was);
  return st;
}

static tl_status scan_sort(const tl_table *t, const char *path, tl_table **out, tl_error *err) {
  tl_scan_options o;
  tl_scan_options_init(&o);
  tl_scan *s = NULL, *g = NULL;
  TL_TRY(tl_scan_table(t, &o, &s, err));
  int64_t was = tl_testing_set(NULL, TL_KNOB_BATCH_ROWS, 1000);
  tl_status st = tl_scan_sort(s, 2, sort_keys, &g, err);
  if (st == TL_OK) st = path ? tl_scan_write_csv(g, path, err) : tl_scan_collect(g, out, err);
  tl_scan_free(g);
  tl_scan_free(s);
  tl_testing_set(NULL, TL_KNOB_BATCH_ROWS, was);
  return st;
}

/* The plans beyond grouping and sorting, each run on a table scan in
** batches of 10000 rows, into a table or (path) a CSV file. */
enum { C_DISTINCT, C_DISTINCT_ALL, C_TOP, C_GROUP_SORT, C_GROUP_TOP, NCASES };
static const char *case_names[NCASES] = { "distinct(id, w)", "distinct()", "top(rows * 2 / 5, w, -v)",
                                          "group_by(id):agg:sort(f, -n)",
                                          "group_by(id):agg:top(3000, -n, f)" };
static const char *dist_cols[] = { "id", "w" };
/* Bytes past what the env holds for each case. */
static const size_t case_room[NCASES] = { (size_t)12 << 20, GROUP_ROOM, SORT_ROOM, GROUP_ROOM, GROUP_ROOM };
static const char *then_sort[] = { "f", "-n" };
static const char *then_top[] = { "-n", "f" };
#define TOP_N (tl_table_nrows(t) * 2 / 5)
#define GTOP_N 3000

/* The in-memory result of case c (or, as a scan, its plan over s). */
static tl_status memory_case(int c, const tl_table *t, tl_table **out, tl_error *err) {
  tl_grouping *gr = NULL;
  tl_table *g = NULL;
  tl_status st;
  switch (c) {
    case C_DISTINCT: return tl_table_distinct(t, 2, dist_cols, out, err);
    case C_DISTINCT_ALL: return tl_table_distinct(t, 0, NULL, out, err);
    case C_TOP: return tl_table_top(t, TOP_N, 2, sort_keys, out, err);
    default:
      TL_TRY(tl_table_group_by(t, 1, keys, &gr, err));
      st = tl_grouping_agg(gr, NDEFS, defs, &g, err);
      tl_grouping_free(gr);
      if (st == TL_OK)
        st = c == C_GROUP_SORT ? tl_table_sort(g, 2, then_sort, out, err)
                               : tl_table_top(g, GTOP_N, 2, then_top, out, err);
      tl_table_release(g);
      return st;
  }
}

static tl_status scan_case(int c, const tl_table *t, const char *path, tl_table **out,
                           tl_error *err) {
  tl_scan_options o;
  tl_scan_options_init(&o);
  tl_scan *s = NULL, *g = NULL, *h = NULL;
  TL_TRY(tl_scan_table(t, &o, &s, err));
  int64_t was = tl_testing_set(NULL, TL_KNOB_BATCH_ROWS, 10000);
  tl_status st;
  switch (c) {
    case C_DISTINCT: st = tl_scan_distinct(s, 2, dist_cols, &h, err); break;
    case C_DISTINCT_ALL: st = tl_scan_distinct(s, 0, NULL, &h, err); break;
    case C_TOP: st = tl_scan_top(s, TOP_N, 2, sort_keys, &h, err); break;
    default:
      st = tl_scan_agg(s, 1, keys, NDEFS, defs, &g, err);
      if (st == TL_OK && c == C_GROUP_SORT) st = tl_scan_sort(g, 2, then_sort, &h, err);
      else if (st == TL_OK) st = tl_scan_top(g, GTOP_N, 2, then_top, &h, err);
  }
  if (st == TL_OK) st = path ? tl_scan_write_csv(h, path, err) : tl_scan_collect(h, out, err);
  tl_scan_free(h);
  tl_scan_free(g);
  tl_scan_free(s);
  tl_testing_set(NULL, TL_KNOB_BATCH_ROWS, was);
  return st;
}

/* Entries of the temporary directory. */
static int files_left(void) {
  DIR *d = opendir(tmpdir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
  if (d) closedir(d);
  return n;
}

/* Limits the env to `room` bytes more than it holds. */
static void limit_room(size_t room) {
  tl_env_set_memory_limit(NULL, 0);
  tl_env_set_memory_limit(NULL, tl_env_memory(NULL) + room);
}

static void compare(const tl_table *t, const tl_table *small, int threads) {
  tl_error err;
  tl_grouping *gr = NULL;
  tl_table *want = NULL, *got = NULL, *wsort = NULL, *gsort = NULL;
  tl_env_set_threads(tl_env_current(), threads);
  ok(tl_table_group_by(t, 1, keys, &gr, &err), &err);
  ok(tl_grouping_agg(gr, NDEFS, defs, &want, &err), &err);
  tl_grouping_free(gr);
  ok(tl_table_sort(small, 2, sort_keys, &wsort, &err), &err);

  int64_t before = tl_spill_blocks();
  limit_room(GROUP_ROOM);
  tl_status st = scan_group(t, &got, &err);
  CHECK(st == TL_OK);
  if (st != TL_OK) fprintf(stderr, "group_by: %s\n", err.message);
  CHECK(tl_spill_blocks() > before);             /* it did spill */
  if (got) CHECK(same(got, want, "group_by"));

  before = tl_spill_blocks();
  limit_room(SORT_ROOM);
  st = scan_sort(small, NULL, &gsort, &err);
  CHECK(st == TL_OK);
  if (st != TL_OK) fprintf(stderr, "sort: %s\n", err.message);
  CHECK(tl_spill_blocks() > before);
  if (gsort) CHECK(same(gsort, wsort, "sort"));
  tl_env_set_memory_limit(NULL, 0);
  CHECK(files_left() == 0);
  tl_table_release(want); tl_table_release(got);
  tl_table_release(wsort); tl_table_release(gsort);
}

/* 1 when the files at a and b hold the same bytes. */
static int same_file(const char *a, const char *b) {
  FILE *f = fopen(a, "rb"), *g = fopen(b, "rb");
  int same = f && g;
  for (int x = 0, y = 0; same && (x != EOF || y != EOF);) {
    x = fgetc(f);
    y = fgetc(g);
    same = x == y;
  }
  if (f) fclose(f);
  if (g) fclose(g);
  return same;
}

/* Each case spills (at `room` bytes past what the env holds), its result
** equals the in-memory verbs', and so does what its write_csv writes. */
static void compare_cases(const tl_table *t, int threads, const char *out, const char *want_path) {
  tl_env_set_threads(tl_env_current(), threads);
  for (int c = 0; c < NCASES; c++) {
    tl_error err;
    tl_table *want = NULL, *got = NULL;
    ok(memory_case(c, t, &want, &err), &err);
    int64_t before = tl_spill_blocks();
    limit_room(case_room[c]);
    tl_status st = scan_case(c, t, NULL, &got, &err);
    if (st != TL_OK) fprintf(stderr, "%s: %s\n", case_names[c], err.message);
    CHECK(st == TL_OK);
    CHECK(tl_spill_blocks() > before);             /* it did spill */
    if (got && !same(got, want, case_names[c])) CHECK(0);
    limit_room(case_room[c]);
    before = tl_spill_blocks();
    st = scan_case(c, t, out, NULL, &err);
    if (st != TL_OK) fprintf(stderr, "%s to csv: %s\n", case_names[c], err.message);
    CHECK(st == TL_OK);
    CHECK(tl_spill_blocks() > before);
    tl_env_set_memory_limit(NULL, 0);
    ok(tl_write_csv(want, want_path, &err), &err);
    if (!same_file(out, want_path)) {
      fprintf(stderr, "%s: write_csv differs from the in-memory table's\n", case_names[c]);
      CHECK(0);
    }
    CHECK(files_left() == 0);
    printf("%s, %d threads: %lld rows, equal (%.1f s of CPU so far)\n", case_names[c], threads,
           (long long)(got ? tl_table_nrows(got) : -1), (double)clock() / CLOCKS_PER_SEC);
    tl_table_release(want);
    tl_table_release(got);
  }
}

/* Every spill write of case c failing in turn, as fail_each. */
static void fail_case(const tl_table *t, int c, const char *out_path, size_t room) {
  int failures = 0;
  for (int64_t k = 1; k < 10000; k++) {
    tl_error err;
    tl_table *got = NULL;
    limit_room(room);
    tl_spill_fail_block(k);
    tl_status st = scan_case(c, t, out_path, &got, &err);
    tl_spill_fail_block(0);
    tl_env_set_memory_limit(NULL, 0);
    tl_table_release(got);
    CHECK(files_left() == 0);
    if (out_path && st != TL_OK) CHECK(access(out_path, F_OK) != 0);
    if (st != TL_OK && st != TL_EIO) fprintf(stderr, "k = %lld: %s\n", (long long)k, err.message);
    if (st != TL_EIO) { CHECK(st == TL_OK); break; }
    failures++;
    CHECK(strstr(err.message, tmpdir) != NULL);
    CHECK(strstr(err.message, "No space left on device") != NULL);
  }
  CHECK(failures > 0);
  printf("%s%s: %d spill writes failed in turn (%.1f s of CPU so far)\n", case_names[c],
         out_path ? " to csv" : "", failures, (double)clock() / CLOCKS_PER_SEC);
}

/* The default limit: 80% of the machine's memory (or of the cgroup's);
** options 0 give it, SIZE_MAX none; and an in-memory verb past a limit
** fails with an error naming it and how to raise it. */
static void default_limit(const tl_table *t) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  double ram = (double)pages * (double)page;
  size_t d = tl_memory_limit_default();
  CHECK(d > 0 && (double)d <= 0.8 * ram + 1);
  FILE *f = fopen("/sys/fs/cgroup/memory.max", "r");
  unsigned long long cg = 0;
  if (f && fscanf(f, "%llu", &cg) == 1 && (double)cg < ram) ram = (double)cg;
  if (f) fclose(f);
  CHECK((double)d <= 0.8 * ram + 1 && (double)d >= 0.8 * ram * 0.5);
  tl_env *e = NULL;
  tl_error err;
  tl_env_options o = { 0 };
  ok(tl_env_new(&o, &e, &err), &err);
  CHECK(tl_env_memory_limit(e) == d);
  tl_env_set_memory_limit(e, 0);
  CHECK(tl_env_memory_limit(e) == 0);
  tl_env_set_memory_limit(e, TL_MEMORY_LIMIT_DEFAULT);
  CHECK(tl_env_memory_limit(e) == d);
  tl_env_free(e);
  o.memory_limit = SIZE_MAX;
  ok(tl_env_new(&o, &e, &err), &err);
  CHECK(tl_env_memory_limit(e) == 0);
  tl_env_free(e);
  /* the process's default env starts with it too (this test sets none
  ** before this call) */
  CHECK(tl_env_memory_limit(tl_env_default()) == d);
  tl_table *sorted = NULL;
  limit_room((size_t)1 << 20);
  size_t lim = tl_env_memory_limit(NULL);
  tl_status st = tl_table_sort(t, 2, sort_keys, &sorted, &err);
  tl_env_set_memory_limit(NULL, TL_MEMORY_LIMIT_DEFAULT);
  tl_table_release(sorted);
  char want[128];
  snprintf(want, sizeof want, "out of memory (memory limit %zu bytes): raise it", lim);
  CHECK(st == TL_ENOMEM);
  CHECK(strstr(err.message, want) != NULL);
  CHECK(strstr(err.message, "TALLY_MEMORY_LIMIT") != NULL);
  if (st != TL_ENOMEM || !strstr(err.message, want)) fprintf(stderr, "got: %s\n", err.message);
}

/* Fails spill block k = 1, 2, ... until the run succeeds; each failure is
** an I/O error naming the temporary file and the bytes written. */
static void fail_each(const tl_table *t, int sort, const char *out_path) {
  int failures = 0;
  for (int64_t k = 1; k < 10000; k++) {
    tl_error err;
    tl_table *got = NULL;
    limit_room(sort ? SORT_ROOM : GROUP_ROOM);
    tl_spill_fail_block(k);
    tl_status st = sort ? scan_sort(t, out_path, &got, &err) : scan_group(t, &got, &err);
    tl_spill_fail_block(0);
    tl_env_set_memory_limit(NULL, 0);
    tl_table_release(got);
    CHECK(files_left() == 0);
    if (out_path && st != TL_OK) CHECK(access(out_path, F_OK) != 0);
    if (st != TL_OK && st != TL_EIO) fprintf(stderr, "k = %lld: %s\n", (long long)k, err.message);
    if (st == TL_OK || st != TL_EIO) CHECK(st == TL_OK);
    if (st == TL_OK || st != TL_EIO) break;
    failures++;
    CHECK(st == TL_EIO);
    CHECK(strstr(err.message, tmpdir) != NULL);
    CHECK(strstr(err.message, "bytes written") != NULL);
    CHECK(strstr(err.message, "No space left on device") != NULL);
    if (st != TL_EIO || failures == 1) fprintf(stderr, "  (k = %lld: %s)\n", (long long)k, err.message);
  }
  CHECK(failures > 0);
  printf("%s%s: %d spill writes failed in turn\n", sort ? "sort" : "group_by",
         out_path ? " to csv" : "", failures);
}

int main(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/tally-spill-test-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
  setenv("TALLY_TEMP_DIRECTORY", tmpdir, 1);
  tl_table *t = make_table(200000), *small = make_table(60000);
  default_limit(small);
  char out[300], want_path[300];
  snprintf(out, sizeof out, "%s.csv", tmpdir);
  snprintf(want_path, sizeof want_path, "%s.want.csv", tmpdir);
  compare_cases(t, 1, out, want_path);
  compare_cases(t, 3, out, want_path);
  compare(t, small, 1);
  compare(t, small, 3);
  fail_each(t, 0, NULL);
  fail_each(small, 1, NULL);
  fail_each(small, 1, out);
  /* on fewer rows (the runs again and again are the test's cost) */
  tl_table *mid = make_table(100000);
  fail_case(mid, C_DISTINCT_ALL, NULL, (size_t)16 << 20);
  fail_case(mid, C_TOP, NULL, SORT_ROOM);
  fail_case(mid, C_GROUP_SORT, out, GROUP_ROOM);
  tl_table_release(mid);
  remove(want_path);
  tl_table_release(small);
  remove(out);
  tl_table_release(t);
  rmdir(tmpdir);
  return check_done("test_spill");
}
