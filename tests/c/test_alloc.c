/*
** test_alloc.c -- allocation failures. An allocator that fails the Nth
** allocation is set with tl_set_allocator, and each scenario runs for
** N = 1, 2, ... until it succeeds. Every failed run must return a clean
** error (TL_ENOMEM, or the scenario's own expected error) with a message,
** must give back every byte it took (the allocator counts live bytes), and
** must leave the engine working: the same scenario then runs with memory to
** spare. The distinct call stacks that reached a failing allocation are
** counted and reported as allocation sites.
*/
#define _GNU_SOURCE
#include <execinfo.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "tally/tally.h"
#include "testing.h"

/* ---------------------------------------------------------------------------
** The failing allocator. Worker threads allocate too: counters are atomic.
*/
static atomic_llong live;        /* bytes held */
static atomic_llong calls;       /* allocations (not frees) so far */
static atomic_llong fail_at;     /* the allocation to fail; 0: none */
static atomic_int failed;        /* the failure happened */

#define MAX_SITES 4096
static uint64_t sites[MAX_SITES];
static int nsites;

/* Remembers the call stack of a failed allocation (a hash of a few frames
** above the allocator), so that distinct sites can be counted. */
static void note_site(void) {
  void *frames[8];
  int n = backtrace(frames, 8);
  uint64_t h = 1469598103934665603u;
  for (int k = 2; k < n && k < 6; k++) h = (h ^ (uint64_t)(uintptr_t)frames[k]) * 1099511628211u;
  for (int k = 0; k < nsites; k++)
    if (sites[k] == h) return;
  if (nsites < MAX_SITES) sites[nsites++] = h;
}

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    if (ptr) atomic_fetch_sub(&live, (long long)osize);
    free(ptr);
    return NULL;
  }
  if (nsize > osize || !ptr) {
    long long k = atomic_fetch_add(&calls, 1) + 1;
    long long at = atomic_load(&fail_at);
    if (at && k >= at) {   /* every allocation from the Nth on fails */
      if (!atomic_exchange(&failed, 1)) note_site();
      return NULL;
    }
  }
  void *p = realloc(ptr, nsize);
  if (p) atomic_fetch_add(&live, (long long)nsize - (long long)(ptr ? osize : 0));
  return p;
}

/* ---------------------------------------------------------------------------
** Scenarios: each builds what it needs, runs, and frees everything whether
** it succeeded or not. It returns its status; err holds the message.
*/
static const char *csv_path;
static const char *save_path;

static const char small_csv[] =
    "program,year,participants,cost,start,note\n"
    "Water,2016,11,1.5,2016-04-01,first\n"
    "Water,2017,,2.25,2017-04-01,\n"
    "Health,2016,7,,2016-05-01,\"quoted, text\"\n"
    "Health,2018,13,4.75,,last\n"
    "Roads,2018,9,3.0,2018-01-10,x\n";

static tl_status read_big(tl_table **out, tl_error *err) {
  tl_csv_options o;
  tl_csv_options_init(&o);
  tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 512);   /* several chunks, read by several threads */
  tl_status st = tl_read_csv(csv_path, &o, out, err);
  tl_testing_set(NULL, TL_KNOB_CSV_CHUNK, 0);
  return st;
}

static tl_status sc_read_csv(tl_error *err) {
  tl_table *t = NULL;
  tl_status st = read_big(&t, err);
  tl_table_release(t);
  return st;
}

static tl_status sc_read_buffer(tl_error *err) {
  static const char *const nulls[] = { "", "NA" };
  static const char *const tn[] = { "year" };
  static const tl_type tt[] = { TL_FLOAT };
  tl_csv_options o;
  tl_csv_options_init(&o);
  o.nulls = nulls;
  o.nnulls = 2;
  o.type_names = tn;
  o.types = tt;
  o.ntypes = 1;
  tl_table *t = NULL;
  tl_status st = tl_read_csv_buffer(small_csv, sizeof small_csv - 1, "small", &o, &t, err);
  tl_table_release(t);
  return st;
}

static tl_status sc_filter_mutate(tl_error *err) {
  tl_table *t = NULL, *f = NULL, *m = NULL;
  static const char *const defs[] = {
    "rate = participants / cost", "label = upper(program) .. '-' .. substr(note, 1, 2)",
    "big = if(participants > 10, true, false)", "y = year(start) + month(start)",
  };
  tl_status st = read_big(&t, err);
  if (st == TL_OK) st = tl_table_filter(t, "year >= 2017 and program ~= 'Roads'", &f, err);
  if (st == TL_OK) st = tl_table_mutate(f, 4, defs, &m, err);
  tl_table_release(t);
  tl_table_release(f);
  tl_table_release(m);
  return st;
}

static tl_status sc_group_agg(tl_error *err) {
  static const char *const keys[] = { "program", "year" };
  static const char *const defs[] = {
    "n = count()", "nx = count(participants)", "s = sum(participants)", "m = mean(cost)",
    "a = avg(cost)", "lo = min(start)", "hi = max(note)", "med = median(cost)",
    "q = quantile(participants, 0.9)", "sd = stddev(cost)", "v = var(participants)",
    "cd = count_distinct(note)", "f = first(note)", "l = last(start)",
    "r = sum(participants) / sum(cost)",
  };
  tl_table *t = NULL, *a = NULL, *w = NULL, *k = NULL;
  tl_grouping *g = NULL;
  tl_status st = read_big(&t, err);
  if (st == TL_OK) st = tl_table_group_by(t, 2, keys, &g, err);
  if (st == TL_OK) st = tl_grouping_agg(g, 15, defs, &a, err);
  if (st == TL_OK) st = tl_grouping_keys(g, &k, err);
  if (st == TL_OK) st = tl_table_agg(t, 15, defs, &w, err);
  tl_grouping_free(g);
  tl_table_release(t);
  tl_table_release(a);
  tl_table_release(w);
  tl_table_release(k);
  return st;
}

static tl_status sc_sort_distinct(tl_error *err) {
  static const char *const keys[] = { "-year", "program", "cost" };
  static const char *const cols[] = { "program" };
  tl_table *t = NULL, *s = NULL, *d = NULL, *p = NULL;
  tl_status st = read_big(&t, err);
  if (st == TL_OK) st = tl_table_sort(t, 3, keys, &s, err);
  if (st == TL_OK) st = tl_table_top(t, 5, 2, keys, &p, err);
  if (st == TL_OK) st = tl_table_distinct(t, 1, cols, &d, err);
  tl_table_release(t);
  tl_table_release(s);
  tl_table_release(d);
  tl_table_release(p);
  return st;
}

static tl_status sc_save_load(tl_error *err) {
  tl_table *t = NULL, *l = NULL;
  tl_status st = read_big(&t, err);
  if (st == TL_OK) st = tl_table_save(t, save_path, err);
  if (st == TL_OK) st = tl_table_load(save_path, &l, err);
  if (st == TL_OK && tl_table_nrows(l) != tl_table_nrows(t)) st = TL_EINVAL;
  tl_table_release(t);
  tl_table_release(l);
  return st;
}

/* Errors of the expressions: the expected error, or out of memory. */
static tl_status sc_expr_errors(tl_error *err) {
  tl_table *t = NULL, *o = NULL;
  tl_status st = tl_read_csv_buffer(small_csv, sizeof small_csv - 1, "small", NULL, &t, err);
  if (st != TL_OK) return st;
  static const char *const bad[] = {
    "yaer > 1", "participants +", "upper(year)", "sum(", "'unfinished", "a..b..c..",
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad && st != TL_ENOMEM; k++) {
    st = tl_table_filter(t, bad[k], &o, err);
    if (st == TL_OK) { tl_table_release(o); st = TL_EINVAL; break; }
  }
  tl_table_release(t);
  return st == TL_ENOMEM ? st : TL_OK;
}

static tl_status sc_format(tl_error *err) {
  tl_table *t = NULL;
  char *s = NULL;
  size_t n;
  tl_status st = tl_read_csv_buffer(small_csv, sizeof small_csv - 1, "small", NULL, &t, err);
  if (st == TL_OK) st = tl_table_format(t, NULL, &s, &n, err);
  tl_free(s);
  tl_table_release(t);
  return st;
}

typedef struct scenario {
  const char *name;
  tl_status (*run)(tl_error *err);
} scenario;

static const scenario scenarios[] = {
  { "read_csv", sc_read_csv },
  { "read_csv_buffer", sc_read_buffer },
  { "filter_mutate", sc_filter_mutate },
  { "group_agg", sc_group_agg },
  { "sort_distinct", sc_sort_distinct },
  { "save_load", sc_save_load },
  { "expr_errors", sc_expr_errors },
  { "format", sc_format },
};

/* Runs one scenario with the Nth allocation failing, N = 1, 2, ...; returns
** the number of failed runs. */
static long run_scenario(const scenario *sc, int threads) {
  tl_set_threads(threads);
  long n;
  for (n = 1; n < 1000000; n++) {
    tl_error err;
    memset(&err, 0, sizeof err);
    long long before = atomic_load(&live);
    atomic_store(&calls, 0);
    atomic_store(&failed, 0);
    atomic_store(&fail_at, n);
    tl_status st = sc->run(&err);
    atomic_store(&fail_at, 0);
    long long after = atomic_load(&live);
    if (after != before) {
      CHECK(after == before);
      fprintf(stderr, "%s (threads %d): failing allocation %ld leaks %lld bytes (%s)\n",
              sc->name, threads, n, after - before, err.message);
    }
    if (!atomic_load(&failed)) {   /* nothing failed: the scenario ran through */
      if (st != TL_OK) fprintf(stderr, "%s: %s\n", sc->name, err.message);
      CHECK(st == TL_OK);
      break;
    }
    if (st != TL_ENOMEM) {
      /* only a scenario that expects an error may carry on past a failure
      ** that was taken as that error; anything else is unclean */
      if (st == TL_OK) {
        fprintf(stderr, "%s (threads %d): allocation %ld failed, yet TL_OK\n", sc->name,
                threads, n);
        CHECK(st != TL_OK);
      }
    } else {
      CHECK(err.message[0] != '\0');
    }
    /* the engine still works */
    tl_error e2;
    tl_status again = sc_read_buffer(&e2);
    CHECK(again == TL_OK);
  }
  return n - 1;
}

int main(void) {
  /* a CSV of a few thousand rows, so that reading cuts it into chunks */
  char path[] = "/tmp/tally-alloc-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("program,year,participants,cost,start,note\n", f);
  for (int i = 0; i < 400; i++)
    fprintf(f, "%s,%d,%s,%.2f,%s,%s\n", i % 3 ? "Water" : "Health \"H\"", 2010 + i % 9,
            i % 7 ? "12" : "", i * 0.25, i % 5 ? "2018-03-04" : "",
            i % 2 ? "note" : "\"a, b\"");
  fclose(f);
  csv_path = path;
  char spath[64];
  snprintf(spath, sizeof spath, "%s.tally", path);
  save_path = spath;

  long long start = atomic_load(&live);
  tl_set_allocator(failing_alloc, NULL);
  long total = 0;
  static const int threads[] = { 1, 4 };
  for (size_t k = 0; k < sizeof scenarios / sizeof *scenarios; k++) {
    for (int t = 0; t < 2; t++) {
      long n = run_scenario(&scenarios[k], threads[t]);
      printf("%-16s threads %d: %ld failing allocations\n", scenarios[k].name, threads[t], n);
      total += n;
    }
  }
  CHECK(atomic_load(&live) == start);
  printf("allocation failures injected: %ld; distinct allocation sites reached: %d\n", total,
         nsites);
  tl_set_allocator(NULL, NULL);
  tl_set_threads(0);
  unlink(path);
  unlink(spath);
  return check_done("test_alloc");
}
