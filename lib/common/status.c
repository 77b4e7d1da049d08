/*
 * Status names and descriptions, generated from the table in status.h,
 * and the thread-local text of the last failure.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

const char *simclr_status_str(simclr_status status)
{
    switch (status) {
#define SIMCLR_STATUS_CASE_(name, value, text)                                 \
    case name:                                                                 \
        return text;
        SIMCLR_STATUS_TABLE(SIMCLR_STATUS_CASE_)
#undef SIMCLR_STATUS_CASE_
    }
    return "unknown status";
}

const char *simclr_status_name(simclr_status status)
{
    switch (status) {
#define SIMCLR_STATUS_CASE_(name, value, text)                                 \
    case name:                                                                 \
        return #name;
        SIMCLR_STATUS_TABLE(SIMCLR_STATUS_CASE_)
#undef SIMCLR_STATUS_CASE_
    }
    return "SIMCLR_UNKNOWN";
}

static _Thread_local char last_error[SIMCLR__ERROR_MAX];

const char *simclr_last_error(void)
{
    return last_error;
}

void simclr_clear_last_error(void)
{
    last_error[0] = '\0';
}

simclr_status simclr__vfail(simclr__error *err, simclr_status status,
                            const char *fmt, va_list ap)
{
    char text[sizeof(last_error)];

    /* Format into a copy first: the arguments may include the thread's
     * own last_error, when a message wraps an inner failure's text. */
    vsnprintf(text, sizeof(text), fmt, ap);
    memcpy(last_error, text, sizeof(last_error));
    if (err)
        memcpy(err->msg, last_error, sizeof(err->msg));
    simclr__log(SIMCLR_LOG_DEBUG, "%s: %s", simclr_status_name(status),
                last_error);
    return status;
}

simclr_status simclr__fail(simclr__error *err, simclr_status status,
                           const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    simclr__vfail(err, status, fmt, ap);
    va_end(ap);
    return status;
}

void simclr__error_adopt(simclr__error *err)
{
    if (err)
        memcpy(err->msg, last_error, sizeof(err->msg));
}

const char *simclr__error_text(const simclr__error *err)
{
    return err ? err->msg : "";
}
