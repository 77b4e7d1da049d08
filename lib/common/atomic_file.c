/*
 * Atomic file replacement (atomic_file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"

simclr_status simclr__atomic_open(simclr__atomic_file *af, const char *path,
                                  simclr__error *err)
{
    static const char suffix[] = ".tmp.XXXXXX";
    size_t len = strlen(path);
    struct stat old;
    char why[128];
    int fd;

    memset(af, 0, sizeof(*af));
    af->path = path;
    /* The rename would replace a device, FIFO or folder entry with a
     * regular file (as root, /dev/null itself). */
    if (stat(path, &old) == 0 && !S_ISREG(old.st_mode))
        return simclr__fail(err, SIMCLR_ERR_IO,
                            "%s: exists and is not a regular file; not "
                            "replaced",
                            path);
    af->tmp = simclr__malloc(len + sizeof(suffix));
    if (!af->tmp)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "%s: cannot allocate a temporary name", path);
    memcpy(af->tmp, path, len);
    memcpy(af->tmp + len, suffix, sizeof(suffix));

    fd = mkstemp(af->tmp);
    if (fd < 0) {
        simclr_status st =
            simclr__fail(err, SIMCLR_ERR_IO, "%s: cannot create %s: %s", path,
                         af->tmp, strerror_r(errno, why, sizeof(why)));

        simclr__free(af->tmp);
        af->tmp = NULL;
        return st;
    }
    /* mkstemp makes the file private; give it the replaced file's mode,
     * or the usual one for a new file. */
    if (fchmod(fd, stat(path, &old) == 0 ? old.st_mode & 07777 : 0644) != 0)
        simclr__log(SIMCLR_LOG_WARN, "%s: cannot set the mode of %s", path,
                    af->tmp);

    af->file = fdopen(fd, "wb");
    if (!af->file) {
        simclr_status st =
            simclr__fail(err, SIMCLR_ERR_IO, "%s: cannot open %s: %s", path,
                         af->tmp, strerror_r(errno, why, sizeof(why)));

        close(fd);
        unlink(af->tmp);
        simclr__free(af->tmp);
        af->tmp = NULL;
        return st;
    }
    return SIMCLR_OK;
}

/* fsync the folder that holds @p path, so the rename itself is durable. */
static int sync_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t len = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
    char *dir = simclr__malloc(len + 1);
    int fd, rc;

    if (!dir)
        return -1;
    memcpy(dir, slash ? path : ".", len);
    dir[len] = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    simclr__free(dir);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

simclr_status simclr__atomic_commit(simclr__atomic_file *af, simclr__error *err)
{
    simclr_status st = SIMCLR_OK;
    char why[128];

    if (fflush(af->file) != 0 || fsync(fileno(af->file)) != 0)
        st = simclr__fail(err, SIMCLR_ERR_IO, "%s: cannot write %s: %s",
                          af->path, af->tmp,
                          strerror_r(errno, why, sizeof(why)));
    if (fclose(af->file) != 0 && st == SIMCLR_OK)
        st = simclr__fail(err, SIMCLR_ERR_IO, "%s: cannot close %s: %s",
                          af->path, af->tmp,
                          strerror_r(errno, why, sizeof(why)));
    af->file = NULL;
    if (st == SIMCLR_OK && rename(af->tmp, af->path) != 0)
        st = simclr__fail(err, SIMCLR_ERR_IO, "%s: cannot rename %s: %s",
                          af->path, af->tmp,
                          strerror_r(errno, why, sizeof(why)));
    if (st != SIMCLR_OK) {
        simclr__atomic_discard(af);
        return st;
    }
    simclr__free(af->tmp);
    af->tmp = NULL;
    /* The new file is in place; a folder that cannot be synced (some file
     * systems refuse) only weakens durability after a crash. */
    if (sync_folder(af->path) != 0)
        simclr__log(SIMCLR_LOG_WARN, "%s: cannot sync its folder: %s", af->path,
                    strerror_r(errno, why, sizeof(why)));
    return SIMCLR_OK;
}

void simclr__atomic_discard(simclr__atomic_file *af)
{
    if (af->file)
        fclose(af->file);
    af->file = NULL;
    if (af->tmp) {
        unlink(af->tmp);
        simclr__free(af->tmp);
    }
    af->tmp = NULL;
}
