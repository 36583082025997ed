/*
** test_dist.c -- the distributed algorithms of bindings/dist over the
** threads transport, with 1, 2 and 3 ranks: every result equals what one
** process computes over the same rows. The CSV read cuts a file whose
** quoted fields hold separators, doubled quotes and line ends, and whose
** column is int early and float late (so the ranks must agree on types).
** Each rank records its results as text; the checks run on the main thread.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dist.h"
#include "tally/tally.h"

#define MAXR 3

static const char *const op_names[] = { "read_csv", "agg", "gather", "sort" };
enum { OP_READ, OP_AGG, OP_GATHER, OP_SORT };

/* A table as text: names and types, then the rows. */
static char *show(const tl_table *t) {
  size_t cap = 1 << 20, k = 0;
  char *out = malloc(cap);
  if (!t) return strcpy(out, "(no table)");
  out[0] = '\0';
  for (int j = 0; j < tl_table_ncols(t) && k < cap; j++)
    k += (size_t)snprintf(out + k, cap - k, "%s%s:%s", j ? "," : "", tl_table_name(t, j),
                          tl_type_name(tl_column_type(tl_table_column(t, j))));
  for (int64_t i = 0; i < tl_table_nrows(t) && k < cap; i++) {
    for (int j = 0; j < tl_table_ncols(t) && k < cap; j++) {
      tl_scalar v;
      char buf[256];
      tl_column_get(tl_table_column(t, j), i, &v);
      tl_scalar_format(&v, buf, sizeof buf);
      k += (size_t)snprintf(out + k, cap - k, "%s%s", j ? "," : "\n", buf);
    }
  }
  return out;
}

/* The first line of show(): the names and types only. */
static char *schema(const tl_table *t) {
  char *s = show(t), *nl = strchr(s, '\n');
  if (nl) *nl = '\0';
  return s;
}

static char dir[64];
static char big[96], parts[3][96], bad[96];

static void put(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
    perror(path);
    exit(2);
  }
}

/* The data: rows with awkward quoted fields, a column int then float. */
static void make_files(void) {
  static const char *const progs[] = { "Police", "\"Crime \"\"Prevention\"\"\"",
                                       "\"Disaster, Relief\"", "\"Forensic\nScience\"",
                                       "Traffic" };
  size_t cap = 1 << 20, k = 0, cut[4] = { 0, 0, 0, 0 };
  char *text = malloc(cap), *rows = malloc(cap);
  unsigned seed = 12345;
  const char *header = "prog,year,n,ratio\n";
  rows[0] = '\0';
  for (int i = 0; i < 400; i++) {
    seed = seed * 1103515245u + 12345u;
    unsigned r = seed >> 8;
    char ratio[32];
    if (i < 300) snprintf(ratio, sizeof ratio, "%u", r % 100);
    else snprintf(ratio, sizeof ratio, "%u.5", r % 100);
    k += (size_t)snprintf(rows + k, cap - k, "%s,%u,%s,%s\n", progs[r % 5], 2000 + r % 7,
                          r % 11 == 0 ? "" : (r % 3 ? "4" : "17"), ratio);
    if (i == 129) cut[1] = k;
    if (i == 269) cut[2] = k;
  }
  cut[3] = k;
  snprintf(text, cap, "%s%s", header, rows);
  put(big, text);
  for (int p = 0; p < 3; p++) {
    snprintf(text, cap, "%s%.*s", header, (int)(cut[p + 1] - cut[p]), rows + cut[p]);
    put(parts[p], text);
  }
  snprintf(text, cap, "%s%.*sbroken,2001\n%s", header, (int)cut[2], rows, rows + cut[2]);
  put(bad, text);
  free(text);
  free(rows);
}

/* What each rank got, by test. */
typedef struct results {
  char *got[MAXR][8];
  char msg[MAXR][TL_ERROR_SIZE];
  int64_t sum[MAXR], rec[MAXR];
} results;

static char *show_or_error(tl_status st, tl_table *t, const tl_error *err) {
  char *s = st == TL_OK ? show(t) : strdup(err->message);
  tl_table_release(t);
  return s;
}

static void read_rank(tl_dist *d, void *arg) {
  results *res = arg;
  int r = d->rank;
  tl_error err = { 0 };
  tl_table *t = NULL, *all = NULL;
  const char *one[] = { big }, *three[] = { parts[0], parts[1], parts[2] }, *wrong[] = { bad };
  tl_status st = tl_dist_begin(d, OP_READ, &err);
  if (st == TL_OK) st = tl_dist_read_csv(d, 1, one, NULL, &t, &err);
  res->sum[r] = t ? tl_dist_sum(d, tl_table_nrows(t)) : -1;
  res->got[r][2] = schema(t);   /* every share of the types one read infers */
  if (st == TL_OK) st = tl_dist_gather(d, t, &all, &err);
  tl_table_release(t);
  res->got[r][0] = show_or_error(st, all, &err);
  t = all = NULL;
  st = tl_dist_read_csv(d, 3, three, NULL, &t, &err);
  if (st == TL_OK) st = tl_dist_gather(d, t, &all, &err);
  tl_table_release(t);
  res->got[r][1] = show_or_error(st, all, &err);
  t = NULL;
  st = tl_dist_read_csv(d, 1, wrong, NULL, &t, &err);
  tl_table_release(t);
  snprintf(res->msg[r], sizeof res->msg[r], "%s", st == TL_OK ? "(no error)" : err.message);
  /* skipped: every rank's rejects, gathered, are those of one read */
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.on_error = TL_CSV_SKIP;
  tl_table *rej = NULL;
  int64_t records = -1;
  t = all = NULL;
  st = tl_dist_read_csv_ex(d, 1, wrong, &o, &t, &rej, &records, &err);
  res->rec[r] = st == TL_OK ? tl_dist_sum(d, records) : -1;
  if (st == TL_OK) st = tl_dist_gather(d, rej, &all, &err);
  tl_table_release(t);
  tl_table_release(rej);
  res->got[r][3] = show_or_error(st, all, &err);
}

static void test_read(int n) {
  results res;
  tl_table *t = NULL;
  tl_error err = { 0 };
  memset(&res, 0, sizeof res);
  CHECK(tl_dist_threads_run(n, read_rank, &res, op_names, 4) == 0);
  CHECK(tl_read_csv(big, NULL, &t, &err) == TL_OK);
  char *want = show(t), *want_schema = schema(t);
  tl_table_release(t);
  tl_table *ps[3] = { NULL, NULL, NULL }, *cat = NULL;
  for (int p = 0; p < 3; p++) CHECK(tl_read_csv(parts[p], NULL, &ps[p], &err) == TL_OK);
  CHECK(tl_table_concat(3, (const tl_table *const *)ps, &cat, &err) == TL_OK);
  char *want3 = show(cat);
  for (int p = 0; p < 3; p++) tl_table_release(ps[p]);
  tl_table_release(cat);
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.on_error = TL_CSV_SKIP;
  tl_csv_info *info = NULL;
  CHECK(tl_read_csv_ex(bad, &o, &t, &info, &err) == TL_OK);
  char *want_rej = show(tl_csv_info_rejects(info));
  int64_t want_rec = tl_csv_info_records(info);
  CHECK(tl_table_nrows(tl_csv_info_rejects(info)) == 1);
  tl_csv_info_free(info);
  tl_table_release(t);
  CHECK(tl_read_csv(bad, NULL, &t, &err) != TL_OK);
  for (int r = 0; r < n; r++) {
    CHECK_STR(res.got[r][3], want_rej);
    CHECK(res.rec[r] == want_rec);
    free(res.got[r][3]);
    CHECK_STR(res.got[r][0], want);
    CHECK_STR(res.got[r][1], want3);
    CHECK_STR(res.got[r][2], want_schema);
    free(res.got[r][2]);
    CHECK(res.sum[r] == 400);
    CHECK(strstr(res.msg[r], err.message) != NULL);   /* names the record as one read does */
    CHECK(strcmp(res.msg[r], res.msg[0]) == 0);
    free(res.got[r][0]);
    free(res.got[r][1]);
  }
  if (strstr(res.msg[0], err.message) == NULL) fprintf(stderr, "  %s\n  %s\n", res.msg[0], err.message);
  free(want);
  free(want3);
  free(want_schema);
  free(want_rej);
}

/* ---------------------------------------------------------------------------
** Aggregation, sort, top, distinct, head over a distributed share.
*/

static const char *const defs[] = {
  "c = count()", "cn = count(n)", "s = sum(n)", "lo = min(ratio)", "hi = max(ratio)",
  "f = first(prog)", "l = last(n)", "cd = count_distinct(year)", "m = median(n)"
};
#define NDEFS ((int)(sizeof defs / sizeof defs[0]))
static const char *const keys[] = { "prog", "-year" };

static void algo_rank(tl_dist *d, void *arg) {
  results *res = arg;
  int r = d->rank;
  tl_error err = { 0 };
  tl_table *whole = NULL, *t = NULL, *out = NULL, *all = NULL;
  tl_grouping *g = NULL;
  tl_status st = tl_read_csv(big, NULL, &whole, &err);
  if (st == TL_OK) st = tl_dist_distribute(d, whole, &t, &err);
  tl_table_release(whole);
  if (st == TL_OK) st = tl_dist_begin(d, OP_AGG, &err);
  if (st == TL_OK) st = tl_dist_agg(d, t, NDEFS, defs, NULL, &out, &err);
  res->got[r][0] = show_or_error(st, out, &err);
  out = NULL;
  const char *by[] = { "prog", "n" };
  st = tl_table_group_by(t, 2, by, &g, &err);
  st = tl_dist_agree(d, st, &err);
  if (st == TL_OK) st = tl_dist_grouped_agg(d, g, NDEFS, defs, NULL, &out, &err);
  tl_grouping_free(g);
  res->got[r][1] = show_or_error(st, out, &err);
  out = NULL;
  st = tl_dist_begin(d, OP_SORT, &err);
  if (st == TL_OK) st = tl_dist_sort(d, t, 2, keys, &out, &err);
  if (st == TL_OK) st = tl_dist_gather(d, out, &all, &err);
  tl_table_release(out);
  res->got[r][2] = show_or_error(st, all, &err);
  out = NULL;
  st = tl_dist_top(d, t, 9, 2, keys, &out, &err);
  res->got[r][3] = show_or_error(st, out, &err);
  out = NULL;
  st = tl_dist_distinct(d, t, 2, by, &out, &err);
  res->got[r][4] = show_or_error(st, out, &err);
  out = NULL;
  st = tl_dist_head(d, t, 5, &out, &err);
  res->got[r][5] = show_or_error(st, out, &err);
  tl_table_release(t);
}

static void test_algorithms(int n) {
  results res;
  tl_error err = { 0 };
  tl_table *t = NULL, *o[6] = { NULL };
  tl_grouping *g = NULL;
  const char *by[] = { "prog", "n" };
  memset(&res, 0, sizeof res);
  CHECK(tl_dist_threads_run(n, algo_rank, &res, op_names, 4) == 0);
  CHECK(tl_read_csv(big, NULL, &t, &err) == TL_OK);
  CHECK(tl_table_agg_scope(t, NDEFS, defs, NULL, &o[0], &err) == TL_OK);
  CHECK(tl_table_group_by(t, 2, by, &g, &err) == TL_OK);
  CHECK(tl_grouping_agg_scope(g, NDEFS, defs, NULL, &o[1], &err) == TL_OK);
  CHECK(tl_table_sort(t, 2, keys, &o[2], &err) == TL_OK);
  CHECK(tl_table_top(t, 9, 2, keys, &o[3], &err) == TL_OK);
  CHECK(tl_table_distinct(t, 2, by, &o[4], &err) == TL_OK);
  CHECK(tl_table_slice(t, 0, 5, &o[5], &err) == TL_OK);
  for (int k = 0; k < 6; k++) {
    char *want = show(o[k]);
    for (int r = 0; r < n; r++) {
      CHECK_STR(res.got[r][k], want);
      free(res.got[r][k]);
    }
    free(want);
    tl_table_release(o[k]);
  }
  tl_grouping_free(g);
  tl_table_release(t);
}

/* ---------------------------------------------------------------------------
** Agreement: ranks that call different operations, and one rank's failure.
*/

static void diverge_rank(tl_dist *d, void *arg) {
  results *res = arg;
  int r = d->rank;
  tl_error err = { 0 };
  tl_status st = tl_dist_begin(d, OP_READ, &err);
  if (st == TL_OK) st = tl_dist_begin(d, r == 0 ? OP_AGG : OP_GATHER, &err);
  snprintf(res->msg[r], sizeof res->msg[r], "%s", st == TL_OK ? "(agreed)" : err.message);
  st = tl_dist_begin(d, OP_SORT, &err);   /* once diverged, always */
  res->sum[r] = st != TL_OK && strcmp(err.message, res->msg[r]) == 0;
}

static void test_diverge(int n) {
  results res;
  memset(&res, 0, sizeof res);
  CHECK(tl_dist_threads_run(n, diverge_rank, &res, op_names, 4) == 0);
  const char *want = n == 1 ? "(agreed)"
                   : n == 2 ? "tally.mpi: ranks disagree: rank 0 called agg (#2), "
                              "rank 1 called gather (#2)"
                            : "tally.mpi: ranks disagree: rank 0 called agg (#2), "
                              "ranks 1-2 called gather (#2)";
  for (int r = 0; r < n; r++) {
    CHECK_STR(res.msg[r], want);
    CHECK(res.sum[r] == (n > 1));
  }
}

/* One rank's failure reaches every rank, named. */
static void fail_rank(tl_dist *d, void *arg) {
  results *res = arg;
  tl_error e = { 0 };
  if (d->rank == d->size - 1) snprintf(e.message, sizeof e.message, "filter: unknown column 'nope'");
  tl_status st = tl_dist_agree(d, d->rank == d->size - 1 ? TL_EINVAL : TL_OK, &e);
  res->got[d->rank][0] = strdup(st == TL_EINVAL ? e.message : "(no failure)");
}

static void test_fail(int n) {
  results res;
  char want[128];
  memset(&res, 0, sizeof res);
  CHECK(tl_dist_threads_run(n, fail_rank, &res, op_names, 4) == 0);
  if (n > 1) snprintf(want, sizeof want, "filter: unknown column 'nope' (rank %d of %d)", n - 1, n);
  else snprintf(want, sizeof want, "filter: unknown column 'nope'");
  for (int r = 0; r < n; r++) {
    CHECK_STR(res.got[r][0], want);
    free(res.got[r][0]);
  }
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/tally_dist_XXXXXX");
  if (!mkdtemp(dir)) return perror("mkdtemp"), 2;
  snprintf(big, sizeof big, "%s/big.csv", dir);
  snprintf(bad, sizeof bad, "%s/bad.csv", dir);
  for (int p = 0; p < 3; p++) snprintf(parts[p], sizeof parts[p], "%s/part%d.csv", dir, p + 1);
  make_files();
  for (int n = 1; n <= MAXR; n++) {
    test_read(n);
    test_algorithms(n);
    test_diverge(n);
    test_fail(n);
  }
  unlink(big);
  unlink(bad);
  for (int p = 0; p < 3; p++) unlink(parts[p]);
  rmdir(dir);
  return check_done("test_dist");
}
