/*
 * Atomic file replacement: write under a temporary name in the target's
 * folder, flush to disk, rename over the target, flush the folder. A
 * reader sees the old file or the new one, never part of one, and a
 * failure at any step leaves the old file as it was.
 *
 *     simclr__atomic_file af;
 *
 *     if (simclr__atomic_open(&af, path, err) != SIMCLR_OK)
 *         return ...;
 *     ... fwrite(..., af.file) ...
 *     if (something failed) {
 *         simclr__atomic_discard(&af);
 *         return ...;
 *     }
 *     return simclr__atomic_commit(&af, err);
 */
#ifndef SIMCLR_LIB_COMMON_ATOMIC_FILE_H
#define SIMCLR_LIB_COMMON_ATOMIC_FILE_H

#include <stdio.h>

#include "common/common.h"

typedef struct simclr__atomic_file {
    FILE *file;       /* write the new contents here */
    char *tmp;        /* the temporary file's path */
    const char *path; /* the target, borrowed from the caller */
} simclr__atomic_file;

/*
 * Create the temporary file next to @p path, with the mode of the file it
 * will replace (0644 for a new file). Fails with SIMCLR_ERR_IO or
 * SIMCLR_ERR_NOMEM; @p af then needs no discard.
 */
simclr_status simclr__atomic_open(simclr__atomic_file *af, const char *path,
                                  simclr__error *err);

/*
 * Flush and fsync the temporary file, rename it over the target and fsync
 * the folder. On failure the temporary file is removed and the target is
 * untouched (SIMCLR_ERR_IO). Either way @p af is released.
 */
simclr_status simclr__atomic_commit(simclr__atomic_file *af,
                                    simclr__error *err);

/* Close and remove the temporary file; the target is untouched. */
void simclr__atomic_discard(simclr__atomic_file *af);

#endif /* SIMCLR_LIB_COMMON_ATOMIC_FILE_H */
