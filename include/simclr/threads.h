/**
 * @file threads.h
 * @brief The one thread-count setting shared by the library and its
 *        compute backend.
 */
#ifndef SIMCLR_THREADS_H
#define SIMCLR_THREADS_H

#include "simclr/export.h"
#include "simclr/status.h"

SIMCLR_BEGIN_DECLS

/**
 * @brief Set how many threads the library may use for computation.
 *
 * Applies to the compute backend (convolutions, batch norm, dense layers)
 * and to the library's own worker threads (augmentation, decoding), which
 * share the same budget so the cores are not oversubscribed. Takes effect
 * for calls started afterwards. Since 0.1.
 *
 * @param n Thread count, 1 to 1024; 0 restores the default (the number
 *          of online processors, or `SIMCLR_NUM_THREADS` if set).
 * @return SIMCLR_OK or SIMCLR_ERR_INVALID_ARGUMENT.
 */
SIMCLR_API simclr_status simclr_set_num_threads(int n);

/**
 * @brief The thread count in force. Thread-safe. Since 0.1.
 *
 * @return The count set with simclr_set_num_threads(), or the default.
 */
SIMCLR_API int simclr_get_num_threads(void);

SIMCLR_END_DECLS

#endif /* SIMCLR_THREADS_H */
