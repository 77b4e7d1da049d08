/**
 * @file alloc.h
 * @brief Replace the memory allocator used by the library.
 *
 * All memory the library itself allocates (handles, images, tensors,
 * buffers handed to the compute backend) goes through these hooks. The
 * compute backend's own internal objects (its primitive descriptors) are
 * allocated by the backend and do not use them.
 */
#ifndef SIMCLR_ALLOC_H
#define SIMCLR_ALLOC_H

#include <stddef.h>

#include "simclr/export.h"
#include "simclr/status.h"

/** @brief malloc() replacement: NULL on failure. */
typedef void *(*simclr_malloc_fn)(void *user, size_t size);
/** @brief realloc() replacement: NULL on failure, leaving @p ptr valid. */
typedef void *(*simclr_realloc_fn)(void *user, void *ptr, size_t size);
/** @brief free() replacement; must accept NULL. */
typedef void (*simclr_free_fn)(void *user, void *ptr);

SIMCLR_BEGIN_DECLS

/**
 * @brief Install process-wide allocator hooks.
 *
 * Call it before anything else in the library, or when every object the
 * library allocated has been freed: memory must be released by the
 * allocator that gave it. Not thread-safe with other library calls.
 * Since 0.1.
 *
 * @param malloc_fn  Allocation function; NULL for all three restores the
 *                   C library's malloc, realloc and free.
 * @param realloc_fn Reallocation function.
 * @param free_fn    Release function.
 * @param user       Passed unchanged to the three functions; may be NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT if only some of the
 *         functions are NULL; SIMCLR_ERR_STATE if memory from the
 *         current allocator is still in use.
 */
SIMCLR_API simclr_status simclr_set_allocator(simclr_malloc_fn malloc_fn,
                                              simclr_realloc_fn realloc_fn,
                                              simclr_free_fn free_fn,
                                              void *user);

/**
 * @brief Number of library allocations not yet freed.
 *
 * Useful in tests to prove that every allocation was released.
 * Thread-safe. Since 0.1.
 *
 * @return The count of blocks allocated through the hooks and not freed.
 */
SIMCLR_API size_t simclr_live_allocations(void);

SIMCLR_END_DECLS

#endif /* SIMCLR_ALLOC_H */
