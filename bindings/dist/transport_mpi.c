/*
** transport_mpi.c -- tl_dist_transport over MPI (built with TALLY_MPI).
** Counts of MPI calls are int: a broadcast moves at most PIECE bytes per
** call, and one alltoallv at most INT_MAX bytes per rank (max_alltoall).
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "transport_mpi.h"

#define PIECE ((size_t)1 << 30)

static MPI_Comm comm_of(void *ud) { return *(MPI_Comm *)ud; }

static void m_allreduce(void *ud, int64_t *v, int n, int op) {
  long long in[16] = { 0 }, out[16] = { 0 };
  for (int k = 0; k < n && k < 16; k++) in[k] = (long long)v[k];
  MPI_Op mop = op == TL_DIST_MIN ? MPI_MIN : op == TL_DIST_MAX ? MPI_MAX : MPI_SUM;
  MPI_Allreduce(in, out, n < 16 ? n : 16, MPI_LONG_LONG, mop, comm_of(ud));
  for (int k = 0; k < n && k < 16; k++) v[k] = (int64_t)out[k];
}

static void m_allgather(void *ud, const void *mine, size_t n, void *all) {
  MPI_Allgather(mine, (int)n, MPI_BYTE, all, (int)n, MPI_BYTE, comm_of(ud));
}

static void m_bcast(void *ud, int root, void *buf, size_t len) {
  for (size_t at = 0; at < len; at += PIECE) {
    size_t n = len - at < PIECE ? len - at : PIECE;
    MPI_Bcast((char *)buf + at, (int)n, MPI_BYTE, root, comm_of(ud));
  }
}

/* Packs the outgoing pieces into one buffer for MPI_Alltoallv; the caller
** checked that each rank's total fits an int. */
static void m_alltoallv(void *ud, const void *const *out, const size_t *outlen, void *const *in,
                        const size_t *inlen) {
  MPI_Comm comm = comm_of(ud);
  int size;
  MPI_Comm_size(comm, &size);
  int *cnt = malloc((size_t)size * 4 * sizeof *cnt);
  size_t sent = 0, got = 0;
  for (int q = 0; q < size; q++) sent += outlen[q], got += inlen[q];
  char *sbuf = malloc(sent + 1), *rbuf = malloc(got + 1);
  if (!cnt || !sbuf || !rbuf) MPI_Abort(comm, 1);   /* nothing else can keep the ranks together */
  int *scnt = cnt, *sdis = cnt + size, *rcnt = cnt + 2 * size, *rdis = cnt + 3 * size;
  size_t at = 0;
  for (int q = 0; q < size; q++) {
    scnt[q] = (int)outlen[q];
    sdis[q] = (int)at;
    if (outlen[q]) memcpy(sbuf + at, out[q], outlen[q]);
    at += outlen[q];
  }
  at = 0;
  for (int r = 0; r < size; r++) {
    rcnt[r] = (int)inlen[r];
    rdis[r] = (int)at;
    at += inlen[r];
  }
  MPI_Alltoallv(sbuf, scnt, sdis, MPI_BYTE, rbuf, rcnt, rdis, MPI_BYTE, comm);
  for (int r = 0; r < size; r++)
    if (inlen[r]) memcpy(in[r], rbuf + rdis[r], inlen[r]);
  free(sbuf);
  free(rbuf);
  free(cnt);
}

void tl_dist_transport_mpi(tl_dist_transport *tr, MPI_Comm *comm) {
  memset(tr, 0, sizeof *tr);
  tr->ud = comm;
  MPI_Comm_rank(*comm, &tr->rank);
  MPI_Comm_size(*comm, &tr->size);
  tr->allreduce = m_allreduce;
  tr->allgather = m_allgather;
  tr->bcast = m_bcast;
  tr->alltoallv = m_alltoallv;
  tr->max_alltoall = INT_MAX;
}
