/*
** test_alloc_map.c -- the mapped blocks of the default allocator (alloc.c):
** big blocks are mappings of their own at 2 MiB boundaries. Checks where
** they start, that realloc keeps the bytes when a block crosses the size at
** which blocks are mapped (both ways) and while a mapping grows and
** shrinks, that tl_calloc's mapped blocks read as zeros, that the memory
** limit counts them as any other block (a refused block leaves the env's
** count, the block being grown and the live mappings as they were), that a
** host's allocator sees big blocks too, and that blocks fall back to the
** allocator when the system refuses mappings. Then a CSV load with nearly
** every block mapped runs under each memory limit from too small to
** enough, and with the Nth mapping refused for N = 1, 2, ...: each run ends
** in a clean TL_ENOMEM or the same table, with no byte or mapping left.
*/
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "check.h"
#include "tally/tally.h"
#include "testing.h"

#define MiB ((size_t)1 << 20)
#define HUGE ((size_t)2 << 20)

/* Fills n bytes with a pattern that depends on the offset and seed. */
static void fill(void *p, size_t from, size_t n, unsigned seed) {
  unsigned char *b = p;
  for (size_t i = from; i < n; i++) b[i] = (unsigned char)((i * 2654435761u) >> 13) ^ (unsigned char)seed;
}

static int same(const void *p, size_t n, unsigned seed) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != ((unsigned char)((i * 2654435761u) >> 13) ^ (unsigned char)seed)) return 0;
  return 1;
}

static int zeros(const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i]) return 0;
  return 1;
}

/* A mapped block's header is the mapping's first bytes, one max_align_t. */
static int huge_aligned(const void *p) {
  return ((uintptr_t)p & (HUGE - 1)) == sizeof(max_align_t);
}

static void test_placement(void) {
  long long maps0 = tl_alloc_maps();
  size_t used0 = tl_env_memory(NULL);
  char *small = tl_alloc(100000), *big = tl_alloc(3 * MiB);
  CHECK(small && big);
  CHECK(!tl_alloc_is_mapped(small));
  CHECK(tl_alloc_is_mapped(big));
  CHECK(tl_alloc_maps() == maps0 + 1);
  CHECK((uintptr_t)big % alignof(max_align_t) == 0);
  CHECK(huge_aligned(big));
  fill(big, 0, 3 * MiB, 1);
  CHECK(same(big, 3 * MiB, 1));
  /* counted as any block: its bytes and a header */
  size_t used = tl_env_memory(NULL) - used0;
  CHECK(used >= 3 * MiB + 100000 && used <= 3 * MiB + 100000 + 256);
  tl_free(small);
  tl_free(big);
  CHECK(tl_alloc_maps() == maps0);
  CHECK(tl_env_memory(NULL) == used0);

  /* just under and at the line (2 MiB with the header) */
  char *under = tl_alloc(HUGE - sizeof(max_align_t) - 1), *at = tl_alloc(HUGE - sizeof(max_align_t));
  CHECK(under && at && !tl_alloc_is_mapped(under) && tl_alloc_is_mapped(at));
  tl_free(under);
  tl_free(at);

  /* the knob moves the line */
  CHECK(tl_testing_set(NULL, TL_KNOB_MAP_BYTES, 8192) == 0);
  char *p = tl_alloc(10000);
  CHECK(p && tl_alloc_is_mapped(p));
  CHECK(((uintptr_t)p & (HUGE - 1)) == sizeof(max_align_t));
  tl_free(p);
  tl_testing_set(NULL, TL_KNOB_MAP_BYTES, (int64_t)1 << 40);
  p = tl_alloc(5 * MiB);
  CHECK(p && !tl_alloc_is_mapped(p));
  tl_free(p);
  tl_testing_set(NULL, TL_KNOB_MAP_BYTES, 0);
  CHECK(tl_alloc_maps() == maps0);
}

static void test_realloc(void) {
  long long maps0 = tl_alloc_maps();
  size_t used0 = tl_env_memory(NULL);
  size_t n = 1 * MiB;
  char *p = tl_alloc(n);
  CHECK(p && !tl_alloc_is_mapped(p));
  fill(p, 0, n, 7);
  /* up across the line: copied into a mapping */
  p = tl_realloc(p, 5 * MiB);
  CHECK(p && tl_alloc_is_mapped(p) && huge_aligned(p));
  CHECK(same(p, n, 7));
  n = 5 * MiB;
  fill(p, 0, n, 7);
  /* a mapping grown again and again: its pages move, the bytes stay */
  for (size_t m = 7 * MiB; m <= 90 * MiB; m = m * 3 / 2) {
    p = tl_realloc(p, m);
    CHECK(p && tl_alloc_is_mapped(p) && huge_aligned(p));
    CHECK(same(p, n, 7));
    fill(p, n, m, 7);
    n = m;
    CHECK(tl_env_memory(NULL) - used0 >= m && tl_env_memory(NULL) - used0 <= m + 64);
  }
  CHECK(tl_alloc_maps() == maps0 + 1);
  /* shrunk in place */
  p = tl_realloc(p, 3 * MiB + 5);
  CHECK(p && tl_alloc_is_mapped(p) && same(p, 3 * MiB + 5, 7));
  /* a little under the line it stays mapped (no back and forth) ... */
  p = tl_realloc(p, 1536 * 1024);
  CHECK(p && tl_alloc_is_mapped(p) && same(p, 1536 * 1024, 7));
  /* ... well under it goes back to the allocator */
  p = tl_realloc(p, 300000);
  CHECK(p && !tl_alloc_is_mapped(p) && same(p, 300000, 7));
  CHECK(tl_alloc_maps() == maps0);
  CHECK(tl_env_memory(NULL) - used0 >= 300000 && tl_env_memory(NULL) - used0 <= 300000 + 64);
  tl_free(p);
  CHECK(tl_env_memory(NULL) == used0);

  /* tl_grow doubles a mapped block as it does any */
  size_t cap = 0;
  char *g = NULL;
  for (size_t len = 0; len < 20 * MiB; len += 3 * MiB) {
    char *ng = tl_grow(g, &cap, len, 3 * MiB, 4096);
    CHECK(ng != NULL);
    g = ng;
    fill(g + len, 0, 3 * MiB, 3);
    CHECK(same(g + (len ? len - 3 * MiB : 0), 3 * MiB, 3));
  }
  CHECK(tl_alloc_is_mapped(g));
  tl_free(g);
  CHECK(tl_alloc_maps() == maps0);
}

static void test_calloc(void) {
  for (int round = 0; round < 3; round++) {
    unsigned char *p = tl_calloc(3, 3 * MiB);
    CHECK(p && tl_alloc_is_mapped(p) && zeros(p, 9 * MiB));
    memset(p, 0xab, 9 * MiB);   /* dirty for the next round, in case it is reused */
    tl_free(p);
  }
  CHECK(tl_calloc(SIZE_MAX / 2, 4) == NULL);
}

/* The memory limit counts mapped blocks; a refused one changes nothing. */
static void test_limit(void) {
  tl_env *env;
  tl_env_options o = { 0 };
  o.memory_limit = 16 * MiB;
  CHECK(tl_env_new(&o, &env, NULL) == TL_OK);
  tl_env *prev = tl_env_use(env);
  long long maps0 = tl_alloc_maps();
  char *a = tl_alloc(10 * MiB);
  CHECK(a && tl_alloc_is_mapped(a));
  fill(a, 0, 10 * MiB, 9);
  size_t used = tl_env_memory(env);
  CHECK(tl_alloc(7 * MiB) == NULL);
  CHECK(tl_alloc_failed_limit() == 16 * MiB);
  CHECK(tl_env_memory(env) == used && tl_alloc_maps() == maps0 + 1);
  CHECK(tl_realloc(a, 17 * MiB) == NULL);   /* a untouched */
  CHECK(tl_env_memory(env) == used && tl_alloc_maps() == maps0 + 1);
  CHECK(tl_alloc_is_mapped(a) && same(a, 10 * MiB, 9));
  char *b = tl_realloc(a, 15 * MiB);
  CHECK(b && same(b, 10 * MiB, 9));
  if (b) a = b;
  CHECK(tl_alloc(2 * MiB) == NULL);
  b = tl_realloc(a, 4 * MiB);   /* shrinking gives the bytes back */
  CHECK(b && same(b, 4 * MiB, 9));
  if (b) a = b;
  char *c = tl_alloc(8 * MiB);
  CHECK(c && tl_alloc_is_mapped(c));
  tl_free(c);
  tl_free(a);
  CHECK(tl_env_memory(env) == 0 && tl_alloc_maps() == maps0);
  tl_env_use(prev);
  tl_env_free(env);
}

/* A host's allocator sees every block, big ones too. */
static long long host_calls, host_live;

static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) { host_live -= (long long)osize; free(ptr); return NULL; }
  host_calls++;
  void *p = realloc(ptr, nsize);
  if (p) host_live += (long long)nsize - (long long)(ptr ? osize : 0);
  return p;
}

static void test_host_allocator(void) {
  tl_env *env;
  tl_env_options o = { 0 };
  o.alloc = host_alloc;
  CHECK(tl_env_new(&o, &env, NULL) == TL_OK);
  tl_env *prev = tl_env_use(env);
  long long maps0 = tl_alloc_maps(), live0 = host_live;
  char *p = tl_alloc(6 * MiB);
  CHECK(p && !tl_alloc_is_mapped(p) && tl_alloc_maps() == maps0);
  CHECK(host_live - live0 >= (long long)(6 * MiB));
  p = tl_realloc(p, 12 * MiB);
  CHECK(p && !tl_alloc_is_mapped(p));
  tl_free(p);
  CHECK(host_live == live0);
  tl_env_use(prev);
  tl_env_free(env);
}

/* Refused mappings: the blocks come from the allocator, bytes kept. */
static void test_refused(void) {
  long long maps0 = tl_alloc_maps();
  tl_alloc_refuse_maps(1);
  char *p = tl_alloc(5 * MiB);
  CHECK(p && !tl_alloc_is_mapped(p));
  fill(p, 0, 5 * MiB, 5);
  p = tl_realloc(p, 9 * MiB);
  CHECK(p && !tl_alloc_is_mapped(p) && same(p, 5 * MiB, 5));
  tl_free(p);
  CHECK(tl_alloc_maps() == maps0);
  /* the first mapping is granted, its growth refused: moved to the allocator */
  tl_alloc_refuse_maps(2);
  p = tl_alloc(3 * MiB);
  CHECK(p && tl_alloc_is_mapped(p));
  fill(p, 0, 3 * MiB, 6);
  p = tl_realloc(p, 40 * MiB);
  CHECK(p && !tl_alloc_is_mapped(p) && same(p, 3 * MiB, 6));
  CHECK(tl_alloc_maps() == maps0);
  tl_free(p);
  tl_alloc_refuse_maps(0);
  p = tl_alloc(3 * MiB);
  CHECK(p && tl_alloc_is_mapped(p));
  tl_free(p);
}

/* ---------------------------------------------------------------------------
** A load with nearly every block mapped.
*/
static char *csv;
static size_t csv_len;

static void make_csv(int rows) {
  size_t cap = (size_t)rows * 96 + 128;
  csv = malloc(cap);
  size_t k = (size_t)snprintf(csv, cap, "id,name,city,score,day,flag,note\n");
  static const char *const cities[] = { "Oslo", "Lima", "\"Quito, EC\"", "Pune", "" };
  for (int i = 0; i < rows; i++) {
    k += (size_t)snprintf(csv + k, cap - k, "%d,n%d,%s,%s,2024-%02d-%02d,%s,%s\n", i * 7 - 300,
                          i % 5000, cities[i % 5], i % 11 ? "" : "1.25",
                          1 + i % 12, 1 + i % 28, i % 3 ? "true" : "false",
                          i % 13 ? "plain" : "\"say \"\"hi\"\"\"");
    if (i % 9 == 0) k += (size_t)snprintf(csv + k, cap - k, ",,,,,,\n");   /* nulls */
  }
  csv_len = k;
}

/* A digest of every value of t. */
static uint64_t digest(const tl_table *t) {
  uint64_t h = 1469598103934665603u;
  for (int j = 0; j < tl_table_ncols(t); j++) {
    const tl_column *c = tl_table_column(t, j);
    for (int64_t i = 0; i < tl_column_length(c); i++) {
      tl_scalar v;
      char buf[160];
      tl_column_get(c, i, &v);
      if (v.type == TL_STRING && !v.is_null) snprintf(buf, sizeof buf, "'%.*s'", (int)v.v.s.len, v.v.s.ptr);
      else tl_scalar_format(&v, buf, sizeof buf);
      for (const char *s = buf; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
      h = (h ^ '|') * 1099511628211u;
    }
  }
  return h;
}

static tl_status load_csv(uint64_t *dig, tl_error *err) {
  tl_table *t = NULL;
  tl_status st = tl_read_csv_buffer(csv, csv_len, "gen", NULL, &t, err);
  if (st == TL_OK) *dig = digest(t);
  tl_table_release(t);
  return st;
}

static void test_load(int threads) {
  tl_env *env;
  tl_env_options o = { 0 };
  o.memory_limit = SIZE_MAX;
  o.threads = threads;
  CHECK(tl_env_new(&o, &env, NULL) == TL_OK);
  tl_env *prev = tl_env_use(env);
  tl_testing_set(env, TL_KNOB_CSV_CHUNK, 40000);
  tl_error err;
  uint64_t want = 0, got = 0;
  CHECK(load_csv(&want, &err) == TL_OK);   /* blocks where they would be */
  tl_testing_set(env, TL_KNOB_MAP_BYTES, 4096);
  long long maps0 = tl_alloc_maps();
  CHECK(load_csv(&got, &err) == TL_OK && got == want);
  CHECK(tl_env_memory(env) == 0 && tl_alloc_maps() == maps0);

  /* every limit from far too small up to enough, in steps */
  int fails = 0, oks = 0;
  for (size_t limit = 4096; ; limit += limit / 8 + 4096) {
    tl_env_set_memory_limit(env, limit);
    memset(&err, 0, sizeof err);
    got = 0;
    tl_status st = load_csv(&got, &err);
    tl_env_set_memory_limit(env, 0);   /* none */
    if (tl_env_memory(env) != 0 || tl_alloc_maps() != maps0) {
      fprintf(stderr, "limit %zu: %zu bytes and %lld mappings left\n", limit, tl_env_memory(env),
              tl_alloc_maps() - maps0);
      CHECK(0);
    }
    if (st == TL_OK) { CHECK(got == want); oks++; break; }
    CHECK(st == TL_ENOMEM && strstr(err.message, "memory") != NULL);
    fails++;
  }
  CHECK(fails > 10 && oks == 1);

  /* the Nth mapping and all after it refused: the same table */
  long long n, asked = 0, runs = 0;
  for (n = 1; ; n += 1 + n / 8) {
    tl_alloc_refuse_maps(n);
    got = 0;
    tl_status st = load_csv(&got, &err);
    asked = tl_alloc_refuse_maps(0);
    runs++;
    CHECK(st == TL_OK && got == want);
    CHECK(tl_env_memory(env) == 0 && tl_alloc_maps() == maps0);
    if (asked < n) break;   /* none was refused: past the run's last mapping */
  }
  CHECK(runs > 10);
  tl_env_use(prev);
  tl_env_free(env);
}

int main(void) {
  test_placement();
  test_realloc();
  test_calloc();
  test_limit();
  test_host_allocator();
  test_refused();
  make_csv(20000);
  test_load(1);
  test_load(3);
  free(csv);
  return check_done("alloc_map");
}
