/*
 * The data module's private interface: the dataset handle shared by the
 * readers, and the loader's hook for a per-sample transform.
 */
#ifndef SIMCLR_LIB_DATA_INTERNAL_H
#define SIMCLR_LIB_DATA_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "simclr/dataset.h"
#include "common/common.h"

/* Bad files reported by path through the log; the rest are only counted. */
#define SIMCLR__DATA_REPORT_MAX 8

struct simclr_dataset {
    simclr__error err;
    pthread_mutex_t err_lock; /* gets on worker threads may fail at once */
    char *root;               /* the path given to open, for messages */
    simclr_dataset_format format;
    int strict;
    uint32_t channels; /* requested: 0 keep, 1 gray, 3 RGB */
    size_t count;

    /* Container formats: every image in memory, (count, H, W, C) HWC. */
    uint8_t *pixels;
    uint32_t width, height, depth; /* depth: channels stored */

    /* Folders: one path per item, decoded on demand. */
    char **paths;
    atomic_uchar *bad; /* items already counted as bad */

    int32_t *labels; /* count labels; NULL when unlabeled */
    char **class_names;
    size_t num_classes;

    atomic_size_t skipped;
};

/*
 * Record a failure in the dataset's detail text as well as the thread's.
 * Safe to call from several worker threads at once.
 */
simclr_status simclr__dataset_fail(simclr_dataset *ds, simclr_status status,
                                   const char *fmt, ...) SIMCLR__PRINTF(3, 4);

/*
 * A bad file was met (at open, or decoding item @p what): count it and
 * report it through the log while few have been reported. Returns
 * @p status in strict mode, SIMCLR_OK when the file is to be skipped.
 * The thread's last error holds the reason.
 */
simclr_status simclr__dataset_bad_file(simclr_dataset *ds, const char *path,
                                       simclr_status status);

/* Whether @p status means "this file cannot be read", as opposed to a
 * failure of the process (memory, threads) that no skip can cure. */
bool simclr__status_is_bad_file(simclr_status status);

/* Class names "0", "1", ... for containers without a names file, or read
 * one name per non-empty line of @p names_path when it has enough. */
simclr_status simclr__dataset_set_classes(simclr_dataset *ds,
                                          const char *names_path,
                                          size_t num_classes);

/* The readers fill @p ds from @p path (format already known). */
simclr_status simclr__read_idx(simclr_dataset *ds, const char *path,
                               const simclr_dataset_options *opts);
simclr_status simclr__read_cifar(simclr_dataset *ds, const char *path,
                                 const simclr_dataset_options *opts);
simclr_status simclr__read_stl10(simclr_dataset *ds, const char *path,
                                 const simclr_dataset_options *opts);
simclr_status simclr__read_folder(simclr_dataset *ds, const char *path,
                                  const simclr_dataset_options *opts);

/* Decode item @p index of a folder dataset. */
simclr_status simclr__folder_get(simclr_dataset *ds, size_t index,
                                 simclr_image **out);

/* "dir/name" in a new allocation, or NULL when out of memory. */
char *simclr__path_join(const char *dir, const char *name);

/* ---- loader hook --------------------------------------------------------- */

/*
 * A per-sample transform run on the loader's worker threads right after
 * an item is decoded (the augmenter turns each image into its two
 * views). It receives the decoded image, the loader's seed, the epoch and
 * the dataset index, which together name the random streams it may use,
 * so its output does not depend on which thread runs it. It writes its
 * result to *dst; the loader keeps the result with the batch and releases
 * it with @c release. A failing transform fails the batch, also in skip
 * mode.
 */
typedef struct simclr__sample_transform {
    simclr_status (*apply)(void *user, const simclr_image *src, uint64_t seed,
                           uint64_t epoch, size_t index, void **dst);
    void (*release)(void *user, void *sample);
    void *user;
} simclr__sample_transform;

/* simclr_loader_create() with a transform (NULL for none). */
simclr_status simclr__loader_create(simclr_dataset *ds,
                                    const simclr_loader_options *opts,
                                    const simclr__sample_transform *transform,
                                    simclr_loader **out);

/* The transform results of a batch, one per image, in batch order. */
void *const *simclr__batch_samples(const simclr_batch *batch);

#endif
