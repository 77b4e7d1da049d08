/*
 * The thread budget shared by the compute backend and the library's own
 * parallel loops. Both run on OpenMP, so one team of threads serves both
 * and the cores are never oversubscribed.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "simclr/threads.h"
#include "common.h"
#include "threads_internal.h"

#define MAX_THREADS 1024

static atomic_int thread_count; /* 0: not chosen yet */

static int default_thread_count(void)
{
    const char *env = getenv("SIMCLR_NUM_THREADS");
    long n;

    if (env && *env) {
        char *end;

        n = strtol(env, &end, 10);
        if (*end == '\0' && n >= 1 && n <= MAX_THREADS)
            return (int)n;
    }
    n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > MAX_THREADS ? MAX_THREADS : (int)n;
}

simclr_status simclr_set_num_threads(int n)
{
    if (n < 0 || n > MAX_THREADS)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "thread count %d is not between 0 and %d", n,
                            MAX_THREADS);
    atomic_store(&thread_count, n == 0 ? default_thread_count() : n);
    return SIMCLR_OK;
}

int simclr_get_num_threads(void)
{
    int n = atomic_load(&thread_count);

    if (n == 0) {
        n = default_thread_count();
        atomic_store(&thread_count, n);
    }
    return n;
}

int simclr__num_threads(void)
{
    return simclr_get_num_threads();
}
