/**
 * @file log.h
 * @brief Where the library's diagnostic messages go.
 *
 * The library prints nothing by default. A host program installs a
 * callback to receive messages; alternatively, setting the environment
 * variable `SIMCLR_VERBOSE` (to `error`, `warn`, `info` or `debug`, or to
 * 1 to 4; any other non-empty value means `info`) sends messages at that
 * level and above to standard error while no callback is installed.
 */
#ifndef SIMCLR_LOG_H
#define SIMCLR_LOG_H

#include "simclr/export.h"
#include "simclr/status.h"

/** @brief Message severity, most severe first. */
typedef enum simclr_log_level {
    SIMCLR_LOG_ERROR = 1, /**< an operation failed */
    SIMCLR_LOG_WARN = 2,  /**< something was skipped or repaired */
    SIMCLR_LOG_INFO = 3,  /**< progress worth knowing about */
    SIMCLR_LOG_DEBUG = 4  /**< detail for diagnosing the library */
} simclr_log_level;

/**
 * @brief Receives one message.
 *
 * May be called from any library thread, concurrently: the callback must
 * be thread-safe. It must not call back into libsimclr.
 *
 * @param user  The pointer given to simclr_set_log_callback().
 * @param level Severity of the message.
 * @param msg   One line of text without a trailing newline; valid only
 *              during the call.
 */
typedef void (*simclr_log_fn)(void *user, simclr_log_level level,
                              const char *msg);

SIMCLR_BEGIN_DECLS

/**
 * @brief Install (or remove) the process-wide log callback.
 *
 * Messages more verbose than @p max_level are not formatted at all.
 * Set it before other threads use the library. Since 0.1.
 *
 * @param fn        The callback, or NULL to go back to the default
 *                  (silent unless `SIMCLR_VERBOSE` is set).
 * @param user      Passed unchanged to @p fn; may be NULL.
 * @param max_level The most verbose level delivered.
 * @return SIMCLR_OK, or SIMCLR_ERR_INVALID_ARGUMENT if @p max_level is
 *         not a simclr_log_level.
 */
SIMCLR_API simclr_status simclr_set_log_callback(simclr_log_fn fn, void *user,
                                                 simclr_log_level max_level);

SIMCLR_END_DECLS

#endif /* SIMCLR_LOG_H */
