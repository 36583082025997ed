/*
** lmpi.h -- tally.mpi: the same script on every rank of an MPI job (built
** with -DTALLY_MPI=ON; the executable only).
*/
#ifndef LMPI_H
#define LMPI_H

#include "lua.h"

/* Starts MPI when the process was launched by an MPI launcher (mpirun sets
** its variables in the environment); otherwise MPI starts on first use of
** tally.mpi, as a job of one. */
void lt_mpi_startup(int *argc, char ***argv);

/* Puts tally.mpi into the module table at the top of the stack. */
void lt_open_mpi(lua_State *L);

/* Rank and size of the job: 0 and 1 when MPI has not started. */
int lt_mpi_rank(void);
int lt_mpi_size(void);

/* 1 when `msg` (an error message, perhaps with a traceback after it) is the
** error every rank raised together, so that only rank 0 need print it. */
int lt_mpi_agreed(lua_State *L, const char *msg);

/* Ends MPI at exit. `failed`: this rank stops on an error of its own, which
** the other ranks do not know of; the job is then aborted so that no rank
** waits for it forever. Otherwise the end of the script is one more
** collective operation: returns NULL when every rank reached it, else the
** message naming what each rank called instead (the ranks then all fail,
** those in an operation with that message as their error). */
const char *lt_mpi_shutdown(int failed);

#endif
