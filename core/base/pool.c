/*
** pool.c -- worker threads for the kernels that split their work into
** independent tasks (CSV chunks first). Threads are started per call: a
** call is a scan over millions of rows, so their start-up cost is noise,
** and nothing lingers between calls. Each worker runs under the env of
** the thread that started it, so its allocations, its thread count and
** its interrupt flag are the caller's.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc.h"
#include "pool.h"

#define MAX_THREADS 256

/* A signal handler reads only the thread's env pointer (a thread-local the
** thread has touched at its first allocation) and stores to an atomic. */
void tl_env_interrupt(tl_env *env) { atomic_store(&env->interrupted, 1); }
void tl_env_clear_interrupt(tl_env *env) { atomic_store(&env->interrupted, 0); }
int tl_env_interrupted(const tl_env *env) {
  return atomic_load_explicit(&env->interrupted, memory_order_relaxed);
}

void tl_interrupt(void) { tl_env_interrupt(tl_env_current()); }
void tl_clear_interrupt(void) { tl_env_clear_interrupt(tl_env_current()); }
int tl_interrupted(void) { return tl_env_interrupted(tl_env_current()); }

static int default_threads(void) {
  const char *env = getenv("TALLY_THREADS");
  if (env && *env) {
    int n = atoi(env);
    if (n >= 1) return n > MAX_THREADS ? MAX_THREADS : n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

int tl_env_get_threads(tl_env *env) {
  int n = atomic_load(&env->threads);
  if (n == 0) {
    n = default_threads();
    atomic_store(&env->threads, n);
  }
  return n;
}

void tl_env_set_threads(tl_env *env, int n) {
  atomic_store(&env->threads, n <= 0 ? default_threads() : n > MAX_THREADS ? MAX_THREADS : n);
}

int tl_get_threads(void) { return tl_env_get_threads(tl_env_current()); }
void tl_set_threads(int n) { tl_env_set_threads(tl_env_current(), n); }

typedef struct run {
  tl_task_fn fn;
  void *ctx;
  int64_t ntasks;
  atomic_llong next;
  tl_env *env;
} run;

typedef struct worker {
  run *r;
  int id;
} worker;

/* Set on the pool's threads while they run tasks: a task that calls
** tl_parallel_for (a streaming scan reading a CSV range) runs it alone,
** rather than start threads of its own on every worker. */
static _Thread_local int in_task;

static void *work(void *arg) {
  worker *w = arg;
  run *r = w->r;
  int was = in_task;
  in_task = 1;
  if (w->id != 0) tl_env_use(r->env);
  for (;;) {
    int64_t k = atomic_fetch_add(&r->next, 1);
    if (k >= r->ntasks) break;
    r->fn(r->ctx, k, w->id);
  }
  if (w->id != 0) tl_env_use(NULL);
  in_task = was;
  return NULL;
}

static _Thread_local int host_worker = TL_HOST_ANY;

int tl_host_worker(void) { return host_worker; }

static _Thread_local int64_t host_row_base;

int64_t tl_host_row_base(void) { return host_row_base; }
void tl_host_row_base_set(int64_t row) { host_row_base = row; }

int tl_host_worker_set(int w) {
  int was = host_worker;
  host_worker = w;
  return was;
}

void tl_parallel_for(int64_t ntasks, tl_task_fn fn, void *ctx) {
  run r = { fn, ctx, ntasks, 0, tl_env_current() };
  int n = in_task ? 1 : tl_env_get_threads(r.env);
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
