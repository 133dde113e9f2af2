/* comm.h — the ranks of a run. rcsim is one binary for one machine and for
 * many: started by mpirun (OpenMPI), it joins MPI_COMM_WORLD; started
 * directly, it is one rank and never initialises MPI (no MPI start-up cost,
 * no MPI memory in sanitizer and valgrind runs). Code above this file asks
 * rc_comm_size() / rc_comm_rank() and, where rc_comm_active(), calls MPI on
 * MPI_COMM_WORLD itself (include <mpi.h>).
 *
 * Errors on MPI_COMM_WORLD return (MPI_ERRORS_RETURN) instead of aborting
 * silently, so a failed collective becomes one clear error line. */
#ifndef RC_COMM_H
#define RC_COMM_H

#include "base/status.h"

/* Launched by mpirun/srun with an MPI launcher (OMPI_COMM_WORLD_SIZE, PMIX_RANK
 * or PMI_SIZE in the environment): MPI_Init_thread(FUNNELED) and set the error
 * handler. Otherwise nothing: one rank. Call once, first thing in main. */
rc_status rc_comm_init(int *argc, char ***argv, rc_err *err);

int rc_comm_active(void);   /* 1 when MPI was initialised                   */
int rc_comm_rank(void);     /* 0 when not active                            */
int rc_comm_size(void);     /* 1 when not active                            */

/* MPI_Finalize when active. Call once, last thing in main. */
void rc_comm_finalize(void);

/* Ends every rank of the job with exit status `code` (MPI_Abort when active,
 * else exit). For a rank that cannot continue while others may wait on it. */
_Noreturn void rc_comm_abort(int code);

#endif
