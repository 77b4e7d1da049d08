/* The thread budget, for the library's parallel loops and the backend. */
#ifndef SIMCLR_LIB_THREADS_INTERNAL_H
#define SIMCLR_LIB_THREADS_INTERNAL_H

/* Threads a parallel region may use now (at least 1). */
int simclr__num_threads(void);

#endif
