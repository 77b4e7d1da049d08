/*
 * The log sink: a host callback if one is installed, else standard error
 * when SIMCLR_VERBOSE asks for it, else nothing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

static simclr_log_fn log_fn;
static void *log_user;
static simclr_log_level log_max;

/* 0 means silent: the level SIMCLR_VERBOSE asked for, read once. */
static int env_level;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void read_env_level(void)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    const char *v = getenv("SIMCLR_VERBOSE");
    size_t i;

    if (!v || !*v || strcmp(v, "0") == 0)
        return;
    env_level = SIMCLR_LOG_INFO;
    if (v[0] >= '1' && v[0] <= '4' && v[1] == '\0')
        env_level = v[0] - '0';
    for (i = 0; i < SIMCLR__ARRAY_SIZE(names); i++)
        if (strcasecmp(v, names[i]) == 0)
            env_level = (int)i + 1;
}

simclr_status simclr_set_log_callback(simclr_log_fn fn, void *user,
                                      simclr_log_level max_level)
{
    if (max_level < SIMCLR_LOG_ERROR || max_level > SIMCLR_LOG_DEBUG)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "log level %d is not between %d and %d",
                            (int)max_level, SIMCLR_LOG_ERROR,
                            SIMCLR_LOG_DEBUG);
    log_fn = fn;
    log_user = user;
    log_max = max_level;
    return SIMCLR_OK;
}

bool simclr__log_enabled(simclr_log_level level)
{
    if (log_fn)
        return level <= log_max;
    pthread_once(&env_once, read_env_level);
    return (int)level <= env_level;
}

void simclr__log(simclr_log_level level, const char *fmt, ...)
{
    static const char *const tags[] = {"", "error", "warn", "info", "debug"};
    char line[1024];
    va_list ap;

    if (!simclr__log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (log_fn)
        log_fn(log_user, level, line);
    else
        fprintf(stderr, "simclr %s: %s\n", tags[level], line);
}
