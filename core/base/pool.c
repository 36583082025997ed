/*
** pool.c -- worker threads for the kernels that split their work into
** independent tasks (CSV chunks first). Threads are started per call: a
** call is a scan over millions of rows, so their start-up cost is noise,
** and nothing lingers between calls.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "pool.h"

#define MAX_THREADS 256

static atomic_int threads_setting;   /* 0: not chosen yet */
static volatile atomic_int interrupted;

void tl_interrupt(void) { atomic_store(&interrupted, 1); }
void tl_clear_interrupt(void) { atomic_store(&interrupted, 0); }

int tl_interrupted(void) { return atomic_load_explicit(&interrupted, memory_order_relaxed); }

static int default_threads(void) {
  const char *env = getenv("TALLY_THREADS");
  if (env && *env) {
    int n = atoi(env);
    if (n >= 1) return n > MAX_THREADS ? MAX_THREADS : n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

int tl_get_threads(void) {
  int n = atomic_load(&threads_setting);
  if (n == 0) {
    n = default_threads();
    atomic_store(&threads_setting, n);
  }
  return n;
}

void tl_set_threads(int n) {
  atomic_store(&threads_setting, n <= 0 ? default_threads() : n > MAX_THREADS ? MAX_THREADS : n);
}

typedef struct run {
  tl_task_fn fn;
  void *ctx;
  int64_t ntasks;
  atomic_llong next;
} run;

typedef struct worker {
  run *r;
  int id;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  run *r = w->r;
  for (;;) {
    int64_t k = atomic_fetch_add(&r->next, 1);
    if (k >= r->ntasks) break;
    r->fn(r->ctx, k, w->id);
  }
  return NULL;
}

void tl_parallel_for(int64_t ntasks, tl_task_fn fn, void *ctx) {
  run r = { fn, ctx, ntasks, 0 };
  int n = tl_get_threads();
  if (n > ntasks) n = (int)ntasks;
  pthread_t tid[MAX_THREADS];
  worker ws[MAX_THREADS];
  int started = 0;
  for (int i = 1; i < n; i++) {   /* a thread that cannot start leaves its share to the others */
    ws[i] = (worker){ &r, i };
    if (pthread_create(&tid[i], NULL, work, &ws[i]) != 0) break;
    started = i;
  }
  ws[0] = (worker){ &r, 0 };
  work(&ws[0]);
  for (int i = 1; i <= started; i++) pthread_join(tid[i], NULL);
}
