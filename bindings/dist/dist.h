/*
** dist.h -- distributed tables over a transport: the algorithms of
** tally.mpi in C, for any host and any way of moving bytes.
**
** A job is `size` ranks that run the same program. A distributed table is
** each rank's share of the rows; the functions here are collective: every
** rank calls the same one, in the same order, and every rank gets the same
** status and message back (an error on one rank is agreed on before
** anything else moves, so no rank waits forever for one that stopped).
**
** The transport moves bytes and nothing else. tl_dist_transport_mpi
** (transport_mpi.c, built with TALLY_MPI) is one; tl_dist_threads_run
** (transport_threads.c) runs N threads as the ranks of one process, for
** tests. The folder is not part of libtally: it uses only the public API of
** tally.h, and the MPI transport needs MPI, which the library must not.
*/
#ifndef TALLY_DIST_H
#define TALLY_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "tally/tally.h"

/* Reductions of tl_dist_transport.allreduce. */
enum { TL_DIST_MIN, TL_DIST_MAX, TL_DIST_SUM };

/* How bytes move between the ranks. Every call is collective; none fails
** (a transport that cannot go on ends the job). Buffers are the caller's. */
typedef struct tl_dist_transport {
  void *ud;
  int rank, size;
  /* v[0..n) reduced over every rank, in place (n <= 16). */
  void (*allreduce)(void *ud, int64_t *v, int n, int op);
  /* n bytes from each rank; all receives size * n, in rank order. */
  void (*allgather)(void *ud, const void *mine, size_t n, void *all);
  /* len bytes of root's buf into every rank's buf. */
  void (*bcast)(void *ud, int root, void *buf, size_t len);
  /* out[q] (outlen[q] bytes) to rank q; in[r] receives inlen[r] bytes from
  ** rank r (the lengths were agreed before). */
  void (*alltoallv)(void *ud, const void *const *out, const size_t *outlen, void *const *in,
                    const size_t *inlen);
  /* The most bytes one rank may send or receive in one alltoallv; 0: no limit. */
  size_t max_alltoall;
} tl_dist_transport;

/* What a rank keeps across operations. */
typedef struct tl_dist {
  const tl_dist_transport *tr;
  int rank, size;
  const char *const *op_names;   /* the names of the caller's operation codes */
  int nops;
  int64_t ops_begun;             /* collective operations begun on this rank */
  int diverged;                  /* the ranks disagreed once: they stay so */
  char diverged_msg[1024];
  uint64_t bytes_sent, bytes_received, exchanges;
} tl_dist;

void tl_dist_init(tl_dist *d, const tl_dist_transport *tr, const char *const *op_names,
                  int nops);

/* The start of collective operation `op` (an index of op_names): TL_OK when
** every rank began the same one as its same number; else TL_EINVAL with
** "tally.mpi: ranks disagree: rank 0 called agg (#2), ranks 1-2 called
** gather (#2)" on every rank, and every later call fails the same way. */
tl_status tl_dist_begin(tl_dist *d, int op, tl_error *err);

/* Every rank's outcome: TL_OK when every rank's st was; else every rank gets
** the status and message of the lowest failing rank, with " (rank r of n)"
** after it when there is more than one rank. */
tl_status tl_dist_agree(tl_dist *d, tl_status st, tl_error *err);

/* The sum of every rank's n. */
int64_t tl_dist_sum(tl_dist *d, int64_t n);

/* Every rank's bytes to every rank: at[r] (len[r] bytes) is rank r's, this
** rank's own borrowed from `mine`; the others are malloc'ed, freed with
** tl_dist_shares_free. */
typedef struct tl_dist_shares {
  int n;
  int rank;
  char **buf;
  const char **at;
  size_t *len;
} tl_dist_shares;
tl_status tl_dist_exchange(tl_dist *d, const void *mine, size_t len, tl_dist_shares **out,
                           tl_error *err);
void tl_dist_shares_free(tl_dist_shares *s);

/* Every rank's t concatenated in rank order, on every rank. */
tl_status tl_dist_gather(tl_dist *d, const tl_table *t, tl_table **out, tl_error *err);

/* The rows of rank r of a table every rank holds (the same): the r-th of
** `size` slices of equal length (the first ones one row longer). */
tl_status tl_dist_distribute(tl_dist *d, const tl_table *t, tl_table **out, tl_error *err);

/* Aggregation: each rank's partial states, exchanged with tl_partial_encode
** and merged in rank order; every rank gets the result of one process over
** the rows in rank order. p is this rank's partial (the caller frees it). */
tl_status tl_dist_merge(tl_dist *d, const tl_partial *p, const tl_scope *scope, tl_table **out,
                        tl_error *err);
tl_status tl_dist_agg(tl_dist *d, const tl_table *t, int n, const char *const *defs,
                      const tl_scope *scope, tl_table **out, tl_error *err);
tl_status tl_dist_grouped_agg(tl_dist *d, const tl_grouping *g, int n, const char *const *defs,
                              const tl_scope *scope, tl_table **out, tl_error *err);

/* Gather and recompute: each rank's own answer, gathered, answered again.
** The result is on every rank. */
tl_status tl_dist_top(tl_dist *d, const tl_table *t, int64_t n, int nkeys,
                      const char *const *keys, tl_table **out, tl_error *err);
tl_status tl_dist_distinct(tl_dist *d, const tl_table *t, int ncols, const char *const *cols,
                           tl_table **out, tl_error *err);
tl_status tl_dist_head(tl_dist *d, const tl_table *t, int64_t n, tl_table **out, tl_error *err);

/* A sample sort: rank r gets the r-th slice of the order of every rank's
** rows (ties in rank order, as one stable sort). */
tl_status tl_dist_sort(tl_dist *d, const tl_table *t, int nkeys, const char *const *keys,
                       tl_table **out, tl_error *err);

/* The files, taken as one stream of bytes, cut into `size` spans; rank r
** reads the records that start in its span (the range_* options of
** tl_csv_options, which must be unset in opts), knowing from the ranks
** before it the quote parity and line number where its span begins. The
** ranks agree on the column types (the narrowest that holds every rank's
** values, unless opts forces them) and names. An error names the record as
** a single read would. */
tl_status tl_dist_read_csv(tl_dist *d, int nfiles, const char *const *paths,
                           const tl_csv_options *opts, tl_table **out, tl_error *err);
/* The same, with what this rank's reads skipped (on_error TL_CSV_SKIP):
** *rejects its rejected records as tl_csv_info_rejects has them (lines of
** their own file; the files in order), *records the records it read.
** Either may be NULL; *rejects is the caller's. opts->progress is called
** for each part this rank reads. */
tl_status tl_dist_read_csv_ex(tl_dist *d, int nfiles, const char *const *paths,
                              const tl_csv_options *opts, tl_table **out, tl_table **rejects,
                              int64_t *records, tl_error *err);

/* Runs fn(d, arg) on `size` threads, each with its own tl_dist over one
** in-process transport (a mailbox shared under a barrier). Returns 0, or -1
** when the threads could not start. */
int tl_dist_threads_run(int size, void (*fn)(tl_dist *d, void *arg), void *arg,
                        const char *const *op_names, int nops);

#endif
