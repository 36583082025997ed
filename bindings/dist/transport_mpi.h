/*
** transport_mpi.h -- the MPI transport of dist.h (built with TALLY_MPI).
*/
#ifndef TALLY_TRANSPORT_MPI_H
#define TALLY_TRANSPORT_MPI_H

#include <mpi.h>

#include "dist.h"

/* Fills tr for the ranks of *comm, which must outlive tr. */
void tl_dist_transport_mpi(tl_dist_transport *tr, MPI_Comm *comm);

#endif
