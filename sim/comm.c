/* comm.c — the ranks of a run (see comm.h). */
#include "sim/comm.h"

#include <mpi.h>
#include <stdlib.h>

static int g_active, g_rank, g_size = 1;

static int launched_by_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE");
}

rc_status rc_comm_init(int *argc, char ***argv, rc_err *err)
{
    if (g_active || !launched_by_mpirun()) return RC_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return rc_err_set(err, RC_ERR_IO, "MPI_Init_thread failed (started by mpirun?)");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_active = 1;
    return RC_OK;
}

int rc_comm_active(void) { return g_active; }
int rc_comm_rank(void) { return g_rank; }
int rc_comm_size(void) { return g_size; }

void rc_comm_finalize(void)
{
    if (!g_active) return;
    MPI_Finalize();
    g_active = 0;
}

_Noreturn void rc_comm_abort(int code)
{
    if (g_active) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}
