/*
** test_env.c -- two envs in one process, each on a thread of its own and
** running at the same time: the one with a small memory limit meets it
** (a CSV read and a sort fail as out of memory) while the other, with no
** limit, reads and sorts the same data correctly; an interrupt of one env
** stops its scans and not the other's; a block freed under another env is
** uncounted from the env that made it; an env freed while its tables live
** goes when the last of them does; the settings of how plans run (vector
** size, folding, short circuits, range size) are each env's. The threads record what they saw and
** the main thread checks it.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/alloc.h"
#include "agg/partial.h"
#include "base/pool.h"
#include "testing.h"
#include "check.h"
#include "expr/expr.h"
#include "tally/tally.h"

#define ROWS 200000
#define LIMIT ((size_t)1 << 20)

static char *csv;
static size_t csv_len;
static int64_t ints[ROWS];
static pthread_barrier_t barrier;
static atomic_long calls_a;   /* calls of env A's allocator */
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t seen[8];     /* the threads that called it */
static int nseen;

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud; (void)osize;
  atomic_fetch_add(&calls_a, 1);
  pthread_mutex_lock(&seen_mu);
  int k = 0;
  while (k < nseen && !pthread_equal(seen[k], pthread_self())) k++;
  if (k == nseen && nseen < 8) seen[nseen++] = pthread_self();
  pthread_mutex_unlock(&seen_mu);
  if (nsize == 0) { free(ptr); return NULL; }
  return realloc(ptr, nsize);
}

typedef struct side {
  tl_env *env;
  tl_status read, sort, small, interrupted_sort, after_clear;
  char read_msg[TL_ERROR_SIZE], sort_msg[TL_ERROR_SIZE], intr_msg[TL_ERROR_SIZE];
  tl_status filter;
  int64_t nrows, sorted_ok, filtered;
  size_t memory_held, memory_after;
  int interrupt;          /* this side interrupts its env */
  tl_table *kept;         /* a table left for the main thread */
} side;

/* Whether column 0 of t holds 0, 1, ..., n - 1 in order. */
static int ascending(const tl_table *t) {
  const int64_t *k = tl_column_ints(tl_table_column(t, 0));
  for (int64_t i = 0; i < tl_table_nrows(t); i++)
    if (k[i] != i) return 0;
  return tl_table_nrows(t) == ROWS;
}

static void *run(void *arg) {
  side *s = arg;
  tl_error err;
  tl_table *t = NULL, *u = NULL, *w = NULL;
  tl_env_use(s->env);
  static const char *const key[] = { "k" };
  /* both at once: a read, then a sort of what was read (or of wrapped ints) */
  pthread_barrier_wait(&barrier);
  s->read = tl_read_csv_buffer(csv, csv_len, "big.csv", NULL, &t, &err);
  if (s->read != TL_OK) snprintf(s->read_msg, sizeof s->read_msg, "%s", err.message);
  if (!t) {
    tl_column *c;
    const char *name = "k";
    if (tl_column_wrap(TL_INT, ROWS, ints, NULL, NULL, NULL, &c, &err) == TL_OK) {
      if (tl_table_new(1, &name, &c, &t, &err) != TL_OK) t = NULL;
      tl_column_release(c);
    }
  }
  s->nrows = t ? tl_table_nrows(t) : -1;
  s->sort = t ? tl_table_sort(t, 1, key, &u, &err) : TL_EINVAL;
  if (s->sort != TL_OK) snprintf(s->sort_msg, sizeof s->sort_msg, "%s", err.message);
  else s->sorted_ok = ascending(u);
  s->memory_held = tl_env_memory(s->env);
  /* a filter: its workers collect rows, allocating under the caller's env */
  s->filter = t ? tl_table_filter(t, "k % 2 == 0", &w, &err) : TL_EINVAL;
  s->filtered = s->filter == TL_OK ? tl_table_nrows(w) : -1;
  if (s->filter == TL_OK) tl_table_release(w);
  w = NULL;
  /* something small fits under either env */
  s->small = tl_read_csv_buffer("k\n1\n2\n", 6, "small.csv", NULL, &w, &err);
  tl_table_release(w);
  w = NULL;
  pthread_barrier_wait(&barrier);
  /* one env interrupted, both sort: A a table that fits its limit */
  tl_table *v = t;
  if (s->interrupt) {
    tl_column *c;
    const char *name = "k";
    v = NULL;
    if (tl_column_wrap(TL_INT, 1000, ints, NULL, NULL, NULL, &c, &err) == TL_OK) {
      if (tl_table_new(1, &name, &c, &v, &err) != TL_OK) v = NULL;
      tl_column_release(c);
    }
    tl_interrupt();
  }
  pthread_barrier_wait(&barrier);
  s->interrupted_sort = v ? tl_table_sort(v, 1, key, &w, &err) : TL_EINVAL;
  if (s->interrupted_sort != TL_OK) snprintf(s->intr_msg, sizeof s->intr_msg, "%s", err.message);
  tl_table_release(w);
  w = NULL;
  pthread_barrier_wait(&barrier);
  if (s->interrupt) tl_clear_interrupt();
  s->after_clear = v ? tl_table_sort(v, 1, key, &w, &err) : TL_EINVAL;
  tl_table_release(w);
  if (v != t) tl_table_release(v);
  tl_table_release(u);
  s->kept = t;
  s->memory_after = tl_env_memory(s->env);
  tl_env_use(NULL);
  return NULL;
}

static void make_data(void) {
  csv = malloc((size_t)ROWS * 24 + 16);
  size_t k = (size_t)sprintf(csv, "k,v\n");
  for (int64_t i = 0; i < ROWS; i++) {
    int64_t key = (i * 7919) % ROWS;   /* 7919 is prime: a permutation of 0..ROWS-1 */
    ints[i] = key;
    k += (size_t)sprintf(csv + k, "%lld,%lld\n", (long long)key, (long long)(i % 97));
  }
  csv_len = k;
}

/* Two tasks that wait for each other, so that they run on two threads at
** once (the caller's and a worker), each allocating once. */
static atomic_int arrived;

static void meet_task(void *ctx, int64_t k, int worker) {
  (void)ctx; (void)k; (void)worker;
  atomic_fetch_add(&arrived, 1);
  for (int spin = 0; atomic_load(&arrived) < 2 && spin < 10000; spin++)
    usleep(1000);   /* 10 s at most: a worker that never starts fails the check */
  tl_free(tl_alloc(64));
}

/* A worker of a call made under env A allocates under A. */
static void test_worker_env(tl_env *a) {
  tl_env *was = tl_env_use(a);
  pthread_mutex_lock(&seen_mu);
  nseen = 0;
  pthread_mutex_unlock(&seen_mu);
  atomic_store(&arrived, 0);
  tl_parallel_for(2, meet_task, NULL);
  CHECK(atomic_load(&arrived) == 2);
  CHECK(nseen == 2);   /* this thread and the worker, both through A's allocator */
  tl_env_use(was);
}

int main(void) {
  make_data();
  tl_error err;
  tl_env *a = NULL, *b = NULL;
  tl_env_options oa = { .alloc = counting_alloc, .memory_limit = LIMIT, .threads = 2 };
  tl_env_options ob = { .threads = 2, .tmpdir = "/var/tmp" };
  CHECK(tl_env_new(&oa, &a, &err) == TL_OK && tl_env_new(&ob, &b, &err) == TL_OK);
  if (!a || !b) return check_done("test_env");
  CHECK_STR(tl_env_tmpdir(b), "/var/tmp");
  CHECK(tl_env_get_threads(a) == 2);
  size_t default_before = tl_env_memory(tl_env_default());
  nseen = 0;   /* the main thread allocated env A itself */

  side sa = { .env = a, .interrupt = 1 }, sb = { .env = b };
  pthread_t ta, tb;
  pthread_barrier_init(&barrier, NULL, 2);
  pthread_create(&ta, NULL, run, &sa);
  pthread_create(&tb, NULL, run, &sb);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  pthread_barrier_destroy(&barrier);

  /* A: past its limit, out of memory; B at the same time: all correct */
  CHECK(sa.read == TL_ENOMEM && strstr(sa.read_msg, "out of memory"));
  CHECK(sa.nrows == ROWS);   /* the wrapped ints: foreign memory, not counted */
  CHECK(sa.sort == TL_ENOMEM && strstr(sa.sort_msg, "out of memory"));
  CHECK(sa.small == TL_OK);
  CHECK(sa.memory_held <= LIMIT);
  CHECK(sb.read == TL_OK && sb.nrows == ROWS);
  CHECK(sb.sort == TL_OK && sb.sorted_ok);
  CHECK(sb.memory_held > 4 * LIMIT);
  CHECK(sb.small == TL_OK);
  CHECK(sb.filter == TL_OK && sb.filtered == ROWS / 2);
  /* A's interrupt stopped A's sort only, and stood until A cleared it */
  CHECK(sa.interrupted_sort == TL_EINTR);
  CHECK_STR(sa.intr_msg, "sort: interrupted");
  CHECK(sb.interrupted_sort == TL_OK);
  CHECK(sa.after_clear == TL_OK && sb.after_clear == TL_OK);
  CHECK(!tl_env_interrupted(a) && !tl_env_interrupted(b) && !tl_interrupted());
  /* the workers allocated under their caller's env, never the default's */
  CHECK(atomic_load(&calls_a) > 0);
  CHECK(tl_env_memory(tl_env_default()) == default_before);
  test_worker_env(a);

  /* a table of B's, released here (default env current): B is credited */
  size_t b_held = tl_env_memory(b);
  CHECK(b_held > 0 && b_held == sb.memory_after);
  tl_table_release(sb.kept);
  CHECK(tl_env_memory(b) == 0);
  CHECK(tl_env_memory(tl_env_default()) == default_before);

  /* the settings of how plans run are each env's: B's leave A's alone */
  tl_env_use(b);
  tl_expr_set_vector_size(7);
  tl_expr_set_folding(0);
  tl_expr_set_short_circuit(0);
  tl_group_set_range_rows(100);
  CHECK(tl_expr_vector_size() == 7 && tl_group_range_rows() == 100);
  tl_env_use(a);
  CHECK(tl_expr_vector_size() == TL_VEC && tl_group_range_rows() != 100);
  CHECK(tl_expr_set_folding(1) == 1 && tl_expr_set_short_circuit(1) == 1);
  tl_env_use(b);
  CHECK(tl_expr_set_folding(1) == 0 && tl_expr_set_short_circuit(1) == 0);
  tl_env_use(NULL);
  /* and so are the knobs of testing.h, set on an env named or current */
  CHECK(tl_testing_set(b, TL_KNOB_CSV_CHUNK, 3) == 0);
  tl_env_use(b);
  CHECK(tl_testing_set(NULL, TL_KNOB_BATCH_ROWS, 5) == 0);
  CHECK(tl_testing_get(TL_KNOB_CSV_CHUNK) == 3 && tl_testing_get(TL_KNOB_BATCH_ROWS) == 5);
  tl_env_use(a);
  CHECK(tl_testing_get(TL_KNOB_CSV_CHUNK) == 0 && tl_testing_get(TL_KNOB_BATCH_ROWS) == 0);
  CHECK(tl_testing_set(b, TL_KNOB_CSV_CHUNK, -1) == 3);   /* back to the default */
  CHECK(tl_testing_set(b, TL_KNOB_BATCH_ROWS, 0) == 5);
  tl_env_use(NULL);

  /* an env freed before its last table: the table stays usable */
  tl_table *last = NULL;
  tl_env_use(b);
  CHECK(tl_read_csv_buffer("k\n5\n", 4, "last.csv", NULL, &last, &err) == TL_OK);
  tl_env_use(NULL);
  tl_env_free(b);
  CHECK(last && tl_column_ints(tl_table_column(last, 0))[0] == 5);
  tl_table_release(last);   /* B goes with it (ASan checks) */

  tl_table_release(sa.kept);
  CHECK(tl_env_memory(a) == 0);
  tl_env_free(a);
  free(csv);
  return check_done("test_env");
}
