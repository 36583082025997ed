/*
** expr_bench.c -- the expression evaluator against a plain C loop over the
** same arrays: t:mutate("y = participants * cost") in ns per row beside
** y[i] = (double)a[i] * b[i] with the validity bitmaps ANDed a word at a
** time, and t:filter("year >= 2010 and region == 'Asia'") in seconds, each
** with 1 and 2 threads, medians of RUNS runs. The filter runs twice: over
** the whole table, and over its two columns year and region, where taking
** the rows kept costs little and the condition is most of the time.
**
**   expr_bench [TABLE.tally] [RUNS]
**
** Without a saved table it builds 10 M rows of its own (participants int
** with 2% nulls, cost float with 1% nulls, year int, region a dictionary).
*/
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tally/tally.h"

#define NROWS 10000000
#define MAXRUNS 101

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *xs, int n) {
  qsort(xs, (size_t)n, sizeof *xs, cmp_double);
  return xs[n / 2];
}

static void die(const char *what, const tl_error *err) {
  fprintf(stderr, "expr_bench: %s: %s\n", what, err ? err->message : "failed");
  exit(1);
}

/* A table of n rows with the four columns the queries use. */
static tl_table *build(int64_t n) {
  static const char *const regions[] = { "Asia", "Africa", "Europe", "Central Asia", "Oceania" };
  tl_builder *bp, *bc, *by, *br;
  tl_error err;
  if (tl_builder_new(TL_INT, n, &bp, &err) || tl_builder_new(TL_FLOAT, n, &bc, &err) ||
      tl_builder_new(TL_INT, n, &by, &err) || tl_builder_new(TL_STRING, n, &br, &err))
    die("builder", &err);
  uint64_t s = 88172645463325252ULL;
  for (int64_t i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;   /* xorshift64 */
    tl_status st = s % 50 == 0 ? tl_builder_append_null(bp, &err)
                               : tl_builder_append_int(bp, (int64_t)(s >> 40) % 40 + 1, &err);
    if (!st) st = (s >> 8) % 100 == 0 ? tl_builder_append_null(bc, &err)
                                      : tl_builder_append_float(bc, (double)((s >> 20) % 500000) / 100, &err);
    if (!st) st = tl_builder_append_int(by, 1990 + (int64_t)((s >> 30) % 36), &err);
    const char *r = regions[(s >> 50) % 5];
    if (!st) st = tl_builder_append_string(br, r, strlen(r), &err);
    if (st) die("append", &err);
  }
  tl_column *cols[4];
  if (tl_builder_finish(bp, &cols[0], &err) || tl_builder_finish(bc, &cols[1], &err) ||
      tl_builder_finish(by, &cols[2], &err) || tl_builder_finish(br, &cols[3], &err))
    die("finish", &err);
  const char *names[] = { "participants", "cost", "year", "region" };
  tl_table *t;
  if (tl_table_new(4, names, cols, &t, &err)) die("table", &err);
  for (int j = 0; j < 4; j++) tl_column_release(cols[j]);
  return t;
}

/* The plain loop: the same work as the mutate, on rows [lo, hi). */
typedef struct loop {
  const int64_t *a;
  const double *b;
  const uint8_t *va, *vb;
  double *y;
  uint64_t *vy;
  int64_t lo, hi;    /* multiples of 64, but for the last hi */
} loop;

static void *plain(void *arg) {
  loop *l = arg;
  for (int64_t i = l->lo; i < l->hi; i++) l->y[i] = (double)l->a[i] * l->b[i];
  for (int64_t w = l->lo / 64; w < (l->hi + 63) / 64; w++) {
    uint64_t x = ~(uint64_t)0, z = ~(uint64_t)0;
    if (l->va) memcpy(&x, l->va + w * 8, 8);
    if (l->vb) memcpy(&z, l->vb + w * 8, 8);
    l->vy[w] = x & z;
  }
  return NULL;
}

/* Seconds of the plain loop with `threads` threads, output allocated fresh
** each time as the engine's is. */
static double run_plain(const tl_table *t, int threads, double *check) {
  const tl_column *ca = tl_table_column(t, tl_table_find(t, "participants"));
  const tl_column *cb = tl_table_column(t, tl_table_find(t, "cost"));
  int64_t n = tl_table_nrows(t);
  double t0 = now();
  double *y = malloc((size_t)n * sizeof *y);
  uint64_t *vy = malloc((size_t)(n + 63) / 64 * 8 + 8);
  if (!y || !vy) die("malloc", NULL);
  loop ls[2];
  pthread_t tid;
  int64_t mid = n / 2 / 64 * 64;
  for (int k = 0; k < 2; k++)
    ls[k] = (loop){ tl_column_ints(ca), tl_column_floats(cb), tl_column_validity(ca),
                    tl_column_validity(cb), y, vy, threads == 1 ? (k ? n : 0) : (k ? mid : 0),
                    threads == 1 ? n : (k ? n : mid) };
  if (threads == 1) {
    plain(&ls[0]);
  } else {
    if (pthread_create(&tid, NULL, plain, &ls[1]) != 0) die("pthread_create", NULL);
    plain(&ls[0]);
    pthread_join(tid, NULL);
  }
  double dt = now() - t0;
  *check = y[n / 3];
  free(y);
  free(vy);
  return dt;
}

static double run_mutate(const tl_table *t, double *check) {
  const char *def = "y = participants * cost";
  tl_table *out;
  tl_error err;
  double t0 = now();
  if (tl_table_mutate(t, 1, &def, &out, &err)) die("mutate", &err);
  double dt = now() - t0;
  const tl_column *y = tl_table_column(out, tl_table_find(out, "y"));
  *check = tl_column_floats(y)[tl_table_nrows(t) / 3];
  tl_table_release(out);
  return dt;
}

static double run_filter(const tl_table *t, int64_t *rows) {
  tl_table *out;
  tl_error err;
  double t0 = now();
  if (tl_table_filter(t, "year >= 2010 and region == 'Asia'", &out, &err)) die("filter", &err);
  double dt = now() - t0;
  *rows = tl_table_nrows(out);
  tl_table_release(out);
  return dt;
}

int main(int argc, char **argv) {
  const char *path = argc > 1 && argv[1][0] ? argv[1] : NULL;
  int runs = argc > 2 ? atoi(argv[2]) : 7;
  if (runs < 1) runs = 1;
  if (runs > MAXRUNS) runs = MAXRUNS;
  tl_table *t;
  tl_error err;
  if (path) {
    if (tl_table_load(path, &t, &err)) die(path, &err);
  } else {
    t = build(NROWS);
  }
  int64_t n = tl_table_nrows(t);
  const char *two[] = { "year", "region" };
  tl_table *narrow;
  if (tl_table_select(t, 2, two, &narrow, &err)) die("select", &err);
  printf("rows %lld, %s, median of %d runs\n", (long long)n, path ? path : "built in memory", runs);
  printf("threads  mutate ns/row  plain ns/row  ratio  filter s  filter 2 columns s\n");
  for (int threads = 1; threads <= 2; threads++) {
    tl_set_threads(threads);
    double m[MAXRUNS], p[MAXRUNS], f[MAXRUNS], f2[MAXRUNS], c1 = 0, c2 = 0;
    int64_t rows = 0, rows2 = 0;
    double warm;
    run_mutate(t, &warm);   /* the pages of the inputs, once */
    for (int r = 0; r < runs; r++) {   /* interleaved, so that a slow moment hits all three */
      m[r] = run_mutate(t, &c1);
      p[r] = run_plain(t, threads, &c2);
      f[r] = run_filter(t, &rows);
      f2[r] = run_filter(narrow, &rows2);
    }
    if (c1 != c2) fprintf(stderr, "expr_bench: results differ: %g and %g\n", c1, c2);
    if (rows != rows2) fprintf(stderr, "expr_bench: filters differ: %lld and %lld rows\n",
                               (long long)rows, (long long)rows2);
    double mm = median(m, runs) / (double)n * 1e9, pm = median(p, runs) / (double)n * 1e9;
    printf("%7d  %13.2f  %12.2f  %5.2f  %8.4f  %18.4f  (%lld rows kept)\n", threads, mm, pm,
           mm / pm, median(f, runs), median(f2, runs), (long long)rows);
  }
  tl_table_release(narrow);
  tl_table_release(t);
  return 0;
}
