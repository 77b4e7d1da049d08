/**
 * @file status.h
 * @brief Status codes returned by every libsimclr call, and error detail.
 *
 * Every fallible function returns a simclr_status. The numbers are part
 * of the ABI: they are pinned and never reused. A status says what kind of
 * failure happened; the detail text (which file, which tensor, what size)
 * is kept by the handle that failed and can be read with that handle's
 * `simclr_<object>_error()` function, or, for failures that happen before
 * a handle exists, with simclr_last_error().
 */
#ifndef SIMCLR_STATUS_H
#define SIMCLR_STATUS_H

#include "simclr/export.h"

/**
 * @brief The one table of status codes: name, pinned number, description.
 *
 * The enum below and simclr_status_str() are both generated from it, so
 * the two can never disagree. New codes are appended with a new number.
 */
#define SIMCLR_STATUS_TABLE(X)                                                 \
    X(SIMCLR_OK, 0, "success")                                                 \
    X(SIMCLR_ERR_INVALID_ARGUMENT, 1, "invalid argument")                      \
    X(SIMCLR_ERR_NOMEM, 2, "out of memory")                                    \
    X(SIMCLR_ERR_IO, 3, "input/output error")                                  \
    X(SIMCLR_ERR_CORRUPT, 4, "corrupt or malformed data")                      \
    X(SIMCLR_ERR_UNSUPPORTED, 5, "unsupported format or feature")             \
    X(SIMCLR_ERR_LIMIT, 6, "size limit exceeded")                              \
    X(SIMCLR_ERR_SHAPE, 7, "tensor shape mismatch")                            \
    X(SIMCLR_ERR_NUMERIC, 8, "non-finite value (NaN or infinity)")             \
    X(SIMCLR_ERR_BACKEND, 9, "compute backend error")                          \
    X(SIMCLR_ERR_NOT_BUILT, 10, "feature not built into this library")         \
    X(SIMCLR_ERR_STATE, 11, "call not valid in the current state")             \
    X(SIMCLR_ERR_INTERRUPTED, 12, "interrupted by the caller")                 \
    X(SIMCLR_ERR_THREAD, 13, "thread creation or synchronisation failed")      \
    X(SIMCLR_ERR_DISTRIBUTED, 14, "another process reported an error")         \
    X(SIMCLR_ERR_END_OF_DATA, 15, "no more data")

/** @brief Result of a libsimclr call. 0 is success, everything else a failure. */
typedef enum simclr_status {
/** @cond INTERNAL */
#define SIMCLR_STATUS_ENUM_(name, value, text) name = value,
/** @endcond */
    SIMCLR_STATUS_TABLE(SIMCLR_STATUS_ENUM_)
#undef SIMCLR_STATUS_ENUM_
} simclr_status;

SIMCLR_BEGIN_DECLS

/**
 * @brief A short, fixed description of a status code.
 *
 * Thread-safe. Since 0.1.
 *
 * @param status Any value; unknown values give "unknown status".
 * @return A static string; never NULL, never freed.
 */
SIMCLR_API const char *simclr_status_str(simclr_status status);

/**
 * @brief The symbolic name of a status code, such as "SIMCLR_ERR_IO".
 *
 * Thread-safe. Since 0.1.
 *
 * @param status Any value; unknown values give "SIMCLR_UNKNOWN".
 * @return A static string; never NULL, never freed.
 */
SIMCLR_API const char *simclr_status_name(simclr_status status);

/**
 * @brief Detail text of the most recent failure on the calling thread.
 *
 * Every failing call records its message here as well as in its handle,
 * so this also covers failures before a handle exists (a `create` or
 * `load` that returns an error leaves no handle to ask). A successful call
 * does not clear it.
 *
 * Thread-safe: each thread has its own text. Since 0.1.
 *
 * @return A string valid until the next failing call on this thread;
 *         never NULL ("" when nothing has failed yet).
 */
SIMCLR_API const char *simclr_last_error(void);

/**
 * @brief Forget the calling thread's last error text.
 *
 * Thread-safe. Since 0.1.
 */
SIMCLR_API void simclr_clear_last_error(void);

SIMCLR_END_DECLS

#endif /* SIMCLR_STATUS_H */
