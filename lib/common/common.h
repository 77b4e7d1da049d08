/*
 * Internal services every module uses: error recording, logging,
 * allocation with overflow checks, and small arithmetic helpers.
 *
 * Names with the `simclr__` prefix are private to the library; they are
 * hidden from the shared object by the visibility settings.
 */
#ifndef SIMCLR_LIB_COMMON_H
#define SIMCLR_LIB_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "simclr/alloc.h"
#include "simclr/log.h"
#include "simclr/status.h"

#if defined(__GNUC__)
#define SIMCLR__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SIMCLR__PRINTF(fmt, args)
#endif

/* ---- errors ---------------------------------------------------------- */

#define SIMCLR__ERROR_MAX 512

/* The detail text a handle keeps of its last failure. */
typedef struct simclr__error {
    char msg[SIMCLR__ERROR_MAX];
} simclr__error;

/*
 * Record a failure: format the message into the thread's last-error text
 * and, when @p err is not NULL, into the handle's. Returns @p status so a
 * caller can write `return simclr__fail(...)`.
 */
simclr_status simclr__fail(simclr__error *err, simclr_status status,
                           const char *fmt, ...) SIMCLR__PRINTF(3, 4);
simclr_status simclr__vfail(simclr__error *err, simclr_status status,
                            const char *fmt, va_list ap);

/* Copy the thread's last-error text into a handle (after a failed call
 * into another module that recorded only the thread-local text). */
void simclr__error_adopt(simclr__error *err);

/* A handle's detail text; "" for NULL. */
const char *simclr__error_text(const simclr__error *err);

/* ---- logging --------------------------------------------------------- */

bool simclr__log_enabled(simclr_log_level level);
void simclr__log(simclr_log_level level, const char *fmt, ...)
    SIMCLR__PRINTF(2, 3);

/* ---- allocation ------------------------------------------------------ */

void *simclr__malloc(size_t size);
void *simclr__calloc(size_t count, size_t size);
void *simclr__realloc(void *ptr, size_t size);
void simclr__free(void *ptr);

/* count * size bytes, or NULL if the product overflows or memory runs
 * out. The calloc variant zero-fills. */
void *simclr__malloc_array(size_t count, size_t size);
void *simclr__realloc_array(void *ptr, size_t count, size_t size);

/* Memory aligned to @p align bytes (a power of two, at most 4096), for
 * tensors handed to vector kernels. Release with simclr__aligned_free. */
void *simclr__aligned_malloc(size_t size, size_t align);
void simclr__aligned_free(void *ptr);

/* A NUL-terminated copy of @p s, or NULL. */
char *simclr__strdup(const char *s);

/* ---- checked sizes --------------------------------------------------- */

static inline bool simclr__mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

static inline bool simclr__add_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

/* a * b * c * d without overflow; false if it would wrap. */
static inline bool simclr__mul4_size(size_t a, size_t b, size_t c, size_t d,
                                     size_t *out)
{
    size_t ab, abc;

    return simclr__mul_size(a, b, &ab) && simclr__mul_size(ab, c, &abc) &&
           simclr__mul_size(abc, d, out);
}

#define SIMCLR__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Internal invariants only; bad input never reaches an assert. */
#include <assert.h>

#endif /* SIMCLR_LIB_COMMON_H */
