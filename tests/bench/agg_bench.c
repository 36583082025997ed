/*
** agg_bench.c -- the aggregation queries of the harness (tests/bench/queries.lua)
** over a table built in memory, repeated, timed in CPU seconds of the
** process (user + system of every thread, which the load of other processes
** hardly changes) and in wall seconds:
**
**   q2  t:agg("sum(participants)", "mean(cost)", "min(year)", "max(year)")
**   q3  t:group_by("program"):agg("count()", "sum(participants)", "mean(cost)")
**   q4  t:filter("year >= 2010 and region == 'Asia'"):group_by("country", "year")
**        :agg("s = sum(participants)")
**   q6  t:group_by("program"):agg("count_distinct(country)")
**   plain  q2 as a plain C loop over the arrays on THREADS threads (two
**          halves of the rows with 2): a plain sum of the floats, nulls
**          taken from the validity bitmaps a bit at a time; what memory
**          alone costs
**
**   agg_bench QUERY REPS [THREADS] [ROWS]
**
** REPS 0 builds the table and runs nothing: with `perf stat -e instructions`
** the difference between REPS n and REPS 0, over n, is the instructions of
** one query. The table: participants int with 2% nulls, cost float with 1%
** nulls, year int, program, country and region strings (10 M rows unless
** ROWS says otherwise). The result's first row goes to stdout.
*/
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tally/tally.h"

static double clock_of(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const tl_error *err) {
  fprintf(stderr, "agg_bench: %s: %s\n", what, err ? err->message : "failed");
  exit(1);
}

enum { NCOL = 6 };

static tl_table *build(int64_t n) {
  static const char *const regions[] = { "Asia", "Africa", "Europe", "Central Asia", "Oceania" };
  static const char *const names[NCOL] = { "participants", "cost", "year", "program",
                                           "country", "region" };
  static const tl_type types[NCOL] = { TL_INT, TL_FLOAT, TL_INT, TL_STRING, TL_STRING,
                                       TL_STRING };
  tl_builder *b[NCOL];
  tl_error err;
  for (int j = 0; j < NCOL; j++)
    if (tl_builder_new(types[j], n, &b[j], &err)) die("builder", &err);
  uint64_t s = 88172645463325252ULL;
  for (int64_t i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;   /* xorshift64 */
    char prog[16], country[16];
    snprintf(prog, sizeof prog, "P%02d", (int)((s >> 12) % 12));
    snprintf(country, sizeof country, "C%03d", (int)((s >> 24) % 150));
    const char *r = regions[(s >> 50) % 5];
    tl_status st = s % 50 == 0 ? tl_builder_append_null(b[0], &err)
                               : tl_builder_append_int(b[0], (int64_t)(s >> 40) % 40 + 1, &err);
    if (!st) st = (s >> 8) % 100 == 0 ? tl_builder_append_null(b[1], &err)
                                      : tl_builder_append_float(b[1], (double)((s >> 20) % 500000) / 100, &err);
    if (!st) st = tl_builder_append_int(b[2], 1990 + (int64_t)((s >> 30) % 36), &err);
    if (!st) st = tl_builder_append_string(b[3], prog, strlen(prog), &err);
    if (!st) st = tl_builder_append_string(b[4], country, strlen(country), &err);
    if (!st) st = tl_builder_append_string(b[5], r, strlen(r), &err);
    if (st) die("append", &err);
  }
  tl_column *cols[NCOL];
  for (int j = 0; j < NCOL; j++)
    if (tl_builder_finish(b[j], &cols[j], &err)) die("finish", &err);
  tl_table *t;
  if (tl_table_new(NCOL, names, cols, &t, &err)) die("table", &err);
  for (int j = 0; j < NCOL; j++) tl_column_release(cols[j]);
  return t;
}

/* The plain loop over rows [lo, hi) (lo a multiple of 64). */
typedef struct plain {
  const int64_t *p, *y;
  const double *c;
  const uint8_t *vp, *vc;
  int64_t lo, hi;
  int64_t sp, np, nc, mn, mx;
  double sc;
} plain;

static void *run_plain(void *arg) {
  plain *l = arg;
  int64_t sp = 0, np = 0, nc = 0, mn = INT64_MAX, mx = INT64_MIN;
  double sc = 0;
  for (int64_t i = l->lo; i < l->hi; i++) {
    int okp = !l->vp || (l->vp[i >> 3] >> (i & 7)) & 1, okc = !l->vc || (l->vc[i >> 3] >> (i & 7)) & 1;
    sp += okp ? l->p[i] : 0;
    np += okp;
    sc += okc ? l->c[i] : 0;
    nc += okc;
    mn = l->y[i] < mn ? l->y[i] : mn;
    mx = l->y[i] > mx ? l->y[i] : mx;
  }
  l->sp = sp; l->np = np; l->nc = nc; l->sc = sc; l->mn = mn; l->mx = mx;
  return NULL;
}

static tl_table *plain_q2(const tl_table *t, int threads) {
  const tl_column *p = tl_table_column(t, 0), *c = tl_table_column(t, 1), *y = tl_table_column(t, 2);
  int64_t n = tl_table_nrows(t), mid = threads > 1 ? n / 2 / 64 * 64 : n;
  plain ls[2];
  for (int k = 0; k < 2; k++)
    ls[k] = (plain){ tl_column_ints(p), tl_column_ints(y), tl_column_floats(c),
                     tl_column_validity(p), tl_column_validity(c), k ? mid : 0, k ? n : mid,
                     0, 0, 0, 0, 0, 0 };
  pthread_t tid;
  if (pthread_create(&tid, NULL, run_plain, &ls[1]) != 0) die("pthread_create", NULL);
  run_plain(&ls[0]);
  pthread_join(tid, NULL);
  const char *names[] = { "sum_p", "avg_cost", "min_y", "max_y" };
  static const tl_type types[4] = { TL_INT, TL_FLOAT, TL_INT, TL_INT };
  tl_builder *b[4];
  tl_column *cols[4];
  tl_error err;
  for (int j = 0; j < 4; j++)
    if (tl_builder_new(types[j], 1, &b[j], &err)) die("builder", &err);
  double mean = (ls[0].sc + ls[1].sc) / (double)(ls[0].nc + ls[1].nc);
  if (tl_builder_append_int(b[0], ls[0].sp + ls[1].sp, &err) ||
      tl_builder_append_float(b[1], mean, &err) ||
      tl_builder_append_int(b[2], ls[0].mn < ls[1].mn ? ls[0].mn : ls[1].mn, &err) ||
      tl_builder_append_int(b[3], ls[0].mx > ls[1].mx ? ls[0].mx : ls[1].mx, &err))
    die("append", &err);
  for (int j = 0; j < 4; j++)
    if (tl_builder_finish(b[j], &cols[j], &err)) die("finish", &err);
  tl_table *out;
  if (tl_table_new(4, names, cols, &out, &err)) die("table", &err);
  for (int j = 0; j < 4; j++) tl_column_release(cols[j]);
  return out;
}

static tl_table *group_agg(const tl_table *t, int nk, const char *const *keys, int n,
                           const char *const *defs) {
  tl_grouping *g;
  tl_table *out;
  tl_error err;
  if (tl_table_group_by(t, nk, keys, &g, &err)) die("group_by", &err);
  if (tl_grouping_agg(g, n, defs, &out, &err)) die("agg", &err);
  tl_grouping_free(g);
  return out;
}

static tl_table *query(const char *q, const tl_table *t, int threads) {
  static const char *const q2[] = { "sum_p = sum(participants)", "avg_cost = mean(cost)",
                                    "min_y = min(year)", "max_y = max(year)" };
  static const char *const q3[] = { "n = count()", "sum_p = sum(participants)",
                                    "avg_cost = mean(cost)" };
  static const char *const q4[] = { "s = sum(participants)" };
  static const char *const q6[] = { "n_country = count_distinct(country)" };
  static const char *const prog[] = { "program" }, *const cy[] = { "country", "year" };
  tl_table *out = NULL;
  tl_error err;
  if (!strcmp(q, "q2")) {
    if (tl_table_agg(t, 4, q2, &out, &err)) die("agg", &err);
  } else if (!strcmp(q, "q3")) {
    out = group_agg(t, 1, prog, 3, q3);
  } else if (!strcmp(q, "q4")) {
    tl_table *f;
    if (tl_table_filter(t, "year >= 2010 and region == 'Asia'", &f, &err)) die("filter", &err);
    out = group_agg(f, 2, cy, 1, q4);
    tl_table_release(f);
  } else if (!strcmp(q, "plain")) {
    out = plain_q2(t, threads);
  } else if (!strcmp(q, "q6")) {
    out = group_agg(t, 1, prog, 1, q6);
  } else {
    die("unknown query (q2, q3, q4, q6, plain)", NULL);
  }
  return out;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: agg_bench QUERY REPS [THREADS] [ROWS]\n");
    return 2;
  }
  int reps = atoi(argv[2]), threads = argc > 3 ? atoi(argv[3]) : 2;
  tl_env_set_threads(tl_env_current(), threads);
  int64_t n = argc > 4 ? atoll(argv[4]) : 10000000;
  tl_table *t = build(n);
  double c0 = clock_of(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_of(CLOCK_MONOTONIC);
  tl_table *last = NULL;
  for (int r = 0; r < reps; r++) {
    tl_table_release(last);
    last = query(argv[1], t, threads);
  }
  double cpu = clock_of(CLOCK_PROCESS_CPUTIME_ID) - c0, wall = clock_of(CLOCK_MONOTONIC) - w0;
  if (reps > 0) {
    fprintf(stderr, "@%s cpu %.5f wall %.5f seconds a run (%d runs)\n", argv[1], cpu / reps,
            wall / reps, reps);
    for (int j = 0; j < tl_table_ncols(last); j++) {
      tl_scalar v;
      tl_column_get(tl_table_column(last, j), 0, &v);
      char buf[64];
      tl_scalar_format(&v, buf, sizeof buf);
      printf("%s%s", j ? "\t" : "", v.is_null ? "" : buf);
    }
    printf("\n");
  }
  tl_table_release(last);
  tl_table_release(t);
  return 0;
}
