/*
** transport_threads.c -- N threads of one process as the ranks of a job,
** for tests and for hosts without MPI. The ranks share a mailbox: in each
** collective a rank posts the address of what it sends, all wait at a
** barrier, each copies what it needs from the others' posts, and all wait
** again before any post is reused.
*/
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"

typedef struct mailbox {
  int size;
  pthread_barrier_t barrier;
  const void **post;      /* per rank: what it offers in this collective */
  const size_t **lens;    /* per rank: alltoallv's lengths */
} mailbox;

typedef struct rank_ud {
  mailbox *box;
  int rank;
  tl_dist_transport tr;
  tl_dist d;
  void (*fn)(tl_dist *d, void *arg);
  void *arg;
} rank_ud;

static void wait_all(mailbox *b) { pthread_barrier_wait(&b->barrier); }

static void t_allreduce(void *ud, int64_t *v, int n, int op) {
  rank_ud *u = ud;
  mailbox *b = u->box;
  int64_t acc[16];
  b->post[u->rank] = v;
  wait_all(b);
  for (int k = 0; k < n && k < 16; k++) {
    acc[k] = ((const int64_t *)b->post[0])[k];
    for (int r = 1; r < b->size; r++) {
      int64_t x = ((const int64_t *)b->post[r])[k];
      if (op == TL_DIST_MIN) acc[k] = x < acc[k] ? x : acc[k];
      else if (op == TL_DIST_MAX) acc[k] = x > acc[k] ? x : acc[k];
      else acc[k] += x;
    }
  }
  wait_all(b);   /* every rank has read v before any rank writes it */
  memcpy(v, acc, (size_t)(n < 16 ? n : 16) * sizeof *v);
}

static void t_allgather(void *ud, const void *mine, size_t n, void *all) {
  rank_ud *u = ud;
  mailbox *b = u->box;
  b->post[u->rank] = mine;
  wait_all(b);
  for (int r = 0; r < b->size; r++) memcpy((char *)all + (size_t)r * n, b->post[r], n);
  wait_all(b);
}

static void t_bcast(void *ud, int root, void *buf, size_t len) {
  rank_ud *u = ud;
  mailbox *b = u->box;
  if (u->rank == root) b->post[root] = buf;
  wait_all(b);
  if (u->rank != root && len) memcpy(buf, b->post[root], len);
  wait_all(b);
}

static void t_alltoallv(void *ud, const void *const *out, const size_t *outlen, void *const *in,
                        const size_t *inlen) {
  rank_ud *u = ud;
  mailbox *b = u->box;
  b->post[u->rank] = out;
  b->lens[u->rank] = outlen;
  wait_all(b);
  for (int r = 0; r < b->size; r++) {
    const void *const *from = b->post[r];
    size_t n = b->lens[r][u->rank] < inlen[r] ? b->lens[r][u->rank] : inlen[r];
    if (n) memcpy(in[r], from[u->rank], n);
  }
  wait_all(b);
}

static void *run_rank(void *p) {
  rank_ud *u = p;
  u->fn(&u->d, u->arg);
  return NULL;
}

int tl_dist_threads_run(int size, void (*fn)(tl_dist *d, void *arg), void *arg,
                        const char *const *op_names, int nops) {
  mailbox box = { size, { { 0 } }, NULL, NULL };
  rank_ud *us = calloc((size_t)size, sizeof *us);
  pthread_t *th = calloc((size_t)size, sizeof *th);
  box.post = calloc((size_t)size, sizeof *box.post);
  box.lens = calloc((size_t)size, sizeof *box.lens);
  int ok = size > 0 && us && th && box.post && box.lens &&
           pthread_barrier_init(&box.barrier, NULL, (unsigned)size) == 0;
  int started = 0;
  for (int r = 0; ok && r < size; r++) {
    rank_ud *u = &us[r];
    u->box = &box;
    u->rank = r;
    u->fn = fn;
    u->arg = arg;
    u->tr = (tl_dist_transport){ u, r, size, t_allreduce, t_allgather, t_bcast, t_alltoallv, 0 };
    tl_dist_init(&u->d, &u->tr, op_names, nops);
  }
  for (int r = 0; ok && r < size; r++) {   /* a rank that cannot start leaves the others waiting */
    if (pthread_create(&th[r], NULL, run_rank, &us[r]) != 0) abort();
    started++;
  }
  for (int r = 0; r < started; r++) pthread_join(th[r], NULL);
  if (ok) pthread_barrier_destroy(&box.barrier);
  free(us);
  free(th);
  free(box.post);
  free(box.lens);
  return ok ? 0 : -1;
}
