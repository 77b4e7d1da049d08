/**
 * @file dataset.h
 * @brief Datasets on disk and the batch loader that feeds training.
 *
 * A simclr_dataset is a numbered list of labelled images read from one
 * of the usual containers: a folder of image files (one subfolder per
 * class, or a flat folder without labels), IDX files (MNIST,
 * Fashion-MNIST; gzip-compressed or raw), CIFAR-10 and CIFAR-100 binary
 * batches, or STL-10 binary files. Container formats are read into
 * memory when the dataset is opened; folders keep a list of paths and
 * decode each image when it is asked for.
 *
 * A simclr_loader walks a dataset in batches: a fresh permutation each
 * epoch from (seed, epoch), images decoded ahead of the consumer on
 * worker threads. The batches depend only on the seed, the epoch and the
 * options, never on the number of worker threads.
 *
 * Bad files (truncated, corrupt, empty) do not end a run by default:
 * they are skipped, counted (simclr_dataset_skipped()) and the first few
 * paths are reported through the log callback at SIMCLR_LOG_WARN. In
 * strict mode the same file is an error instead.
 */
#ifndef SIMCLR_DATASET_H
#define SIMCLR_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "simclr/augment.h"
#include "simclr/export.h"
#include "simclr/image.h"
#include "simclr/status.h"

/** @brief A dataset: numbered images with labels. Opaque. */
typedef struct simclr_dataset simclr_dataset;

/** @brief Container format of a dataset. */
typedef enum simclr_dataset_format {
    SIMCLR_DATASET_AUTO = 0,     /**< detect from the path and contents */
    SIMCLR_DATASET_FOLDER = 1,   /**< image files, class subfolders */
    SIMCLR_DATASET_IDX = 2,      /**< IDX (MNIST, Fashion-MNIST) */
    SIMCLR_DATASET_CIFAR10 = 3,  /**< CIFAR-10 binary version */
    SIMCLR_DATASET_CIFAR100 = 4, /**< CIFAR-100 binary version */
    SIMCLR_DATASET_STL10 = 5     /**< STL-10 binary version */
} simclr_dataset_format;

/** @brief Which part of a container directory to read. */
typedef enum simclr_dataset_split {
    SIMCLR_SPLIT_TRAIN = 0,    /**< the training files */
    SIMCLR_SPLIT_TEST = 1,     /**< the test files */
    SIMCLR_SPLIT_UNLABELED = 2 /**< STL-10's unlabeled images */
} simclr_dataset_split;

/**
 * @brief How to open a dataset. Set defaults with
 *        simclr_dataset_options_init(), then change fields.
 */
typedef struct simclr_dataset_options {
    size_t size; /**< sizeof(simclr_dataset_options), set by _init */
    simclr_dataset_format format; /**< default SIMCLR_DATASET_AUTO */
    simclr_dataset_split split;   /**< for a container directory; default
                                       SIMCLR_SPLIT_TRAIN */
    int strict;              /**< nonzero: a bad file is an error; default 0
                                  (skip it and count it) */
    uint32_t channels;       /**< 0 keeps each image's own (default), 1 gray,
                                  3 RGB */
    int recursive;           /**< folders: look into subfolders of each class
                                  folder (and of a flat folder); default 1 */
    int unlabeled;           /**< folders: nonzero treats every image under the
                                  root as one unlabeled set, ignoring class
                                  subfolders; default 0 */
    int coarse_labels;       /**< CIFAR-100: the 20 superclasses instead of the
                                  100 classes; default 0 */
    const char *labels_path; /**< IDX: labels file; NULL (default) derives
                                  it from the images file name */
} simclr_dataset_options;

/** @brief A shuffling batch loader over a dataset. Opaque. */
typedef struct simclr_loader simclr_loader;

/** @brief One batch of images from a loader. Opaque. */
typedef struct simclr_batch simclr_batch;

/**
 * @brief How a loader walks its dataset. Set defaults with
 *        simclr_loader_options_init(), then change fields.
 */
typedef struct simclr_loader_options {
    size_t size;       /**< sizeof(simclr_loader_options), set by _init */
    size_t batch_size; /**< images per batch, at least 1; default 256 */
    uint64_t seed;     /**< shuffle seed; default 0 */
    int shuffle;       /**< nonzero (default): a new order each epoch;
                            0: dataset order */
    int drop_last;     /**< nonzero: drop a last, smaller batch; default 0 */
    size_t prefetch;   /**< batches prepared ahead of the consumer, at
                            least 1; default 2 */
    int num_workers;   /**< decoding threads, 1 to 1024; 0 (default) uses
                            simclr_get_num_threads() */
    /** When not NULL, the workers also turn each image into its two
        augmented views (simclr_augment_pair() with the batch's epoch and
        the item's dataset index), and simclr_batch_views() returns them.
        Not owned: it must outlive the loader. Default NULL. */
    const simclr_augmenter *augmenter;
} simclr_loader_options;

SIMCLR_BEGIN_DECLS

/**
 * @brief Fill @p opts with the defaults and set its size field.
 *
 * Thread-safe. Since 0.1.
 *
 * @param opts Options to initialise; NULL is ignored.
 */
SIMCLR_API void simclr_dataset_options_init(simclr_dataset_options *opts);

/**
 * @brief Open a dataset.
 *
 * @p path is a folder of images, a container file, or a directory holding
 * the standard container files: `train-images-idx3-ubyte[.gz]` and
 * `t10k-images-idx3-ubyte[.gz]` (IDX), `data_batch_1.bin` to
 * `data_batch_5.bin` and `test_batch.bin` (CIFAR-10), `train.bin` and
 * `test.bin` (CIFAR-100), `train_X.bin`, `test_X.bin`, `unlabeled_X.bin`
 * with their `_y.bin` labels (STL-10). Class names come from the
 * container's name files when present (`batches.meta.txt`,
 * `fine_label_names.txt`, `coarse_label_names.txt`, `class_names.txt`),
 * else they are the label numbers. In a class folder, subfolders sorted
 * by name are classes 0, 1, ...; files whose extension is not an image
 * format are ignored; symbolic links are followed, each folder once.
 *
 * Thread-safe (the new handle is the caller's). Since 0.1.
 *
 * @param path Dataset location. Not NULL.
 * @param opts Options, or NULL for the defaults.
 * @param out  Receives the dataset; NULL on failure. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for NULL arguments or bad
 *         options; SIMCLR_ERR_IO if the path cannot be read;
 *         SIMCLR_ERR_CORRUPT for a malformed or truncated file (the
 *         message names the file and the expected and actual sizes),
 *         also in skip mode when every file was bad;
 *         SIMCLR_ERR_UNSUPPORTED for an unknown format or IDX element
 *         type; SIMCLR_ERR_LIMIT if declared sizes overflow;
 *         SIMCLR_ERR_END_OF_DATA if no image was found;
 *         SIMCLR_ERR_NOMEM. Details in simclr_last_error().
 */
SIMCLR_API simclr_status simclr_dataset_open(const char *path,
                                             const simclr_dataset_options *opts,
                                             simclr_dataset **out);

/**
 * @brief Release a dataset. NULL is ignored.
 *
 * No loader may still use it. Since 0.1.
 *
 * @param ds The dataset, or NULL.
 */
SIMCLR_API void simclr_dataset_destroy(simclr_dataset *ds);

/**
 * @brief Number of items. Thread-safe. Since 0.1.
 *
 * @param ds The dataset; NULL gives 0.
 * @return The item count, including items that will turn out to be
 *         unreadable when decoded.
 */
SIMCLR_API size_t simclr_dataset_count(const simclr_dataset *ds);

/**
 * @brief Number of classes (0 for an unlabeled dataset).
 *
 * Thread-safe. Since 0.1.
 *
 * @param ds The dataset; NULL gives 0.
 * @return The class count; labels are 0 to count - 1.
 */
SIMCLR_API size_t simclr_dataset_num_classes(const simclr_dataset *ds);

/**
 * @brief Name of a class.
 *
 * Thread-safe. Since 0.1.
 *
 * @param ds    The dataset.
 * @param label 0 to simclr_dataset_num_classes() - 1.
 * @return A string owned by the dataset, valid until it is destroyed;
 *         NULL for a NULL @p ds or a label out of range.
 */
SIMCLR_API const char *simclr_dataset_class_name(const simclr_dataset *ds,
                                                 size_t label);

/**
 * @brief Label of item @p index, without decoding it.
 *
 * Thread-safe. Since 0.1.
 *
 * @param ds    The dataset. Not NULL.
 * @param index 0 to simclr_dataset_count() - 1.
 * @param label Receives the label, or -1 for an unlabeled item. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for NULL pointers or an
 *         index out of range.
 */
SIMCLR_API simclr_status simclr_dataset_label(const simclr_dataset *ds,
                                              size_t index, int32_t *label);

/**
 * @brief Decode item @p index into a new image.
 *
 * Thread-safe: loader workers call it concurrently for different indices.
 * A bad file is counted once in simclr_dataset_skipped() and its path
 * logged (in skip mode), and the call fails either way: the caller
 * decides whether to skip the item.
 *
 * @param ds    The dataset. Not NULL.
 * @param index 0 to simclr_dataset_count() - 1.
 * @param out   Receives an image the caller releases with
 *              simclr_image_destroy(); NULL on failure. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT; SIMCLR_ERR_IO,
 *         SIMCLR_ERR_CORRUPT, SIMCLR_ERR_UNSUPPORTED or SIMCLR_ERR_LIMIT
 *         for a file that cannot be decoded; SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_dataset_get(simclr_dataset *ds, size_t index,
                                            simclr_image **out);

/**
 * @brief How many bad files were skipped so far (when opening, and when
 *        decoding items). Thread-safe. Since 0.1.
 *
 * @param ds The dataset; NULL gives 0.
 * @return The count of distinct files skipped.
 */
SIMCLR_API size_t simclr_dataset_skipped(const simclr_dataset *ds);

/**
 * @brief Detail text of the dataset's last failure.
 *
 * Since 0.1.
 *
 * @param ds The dataset; NULL gives "".
 * @return A string owned by the dataset, valid until its next failing
 *         call; never NULL.
 */
SIMCLR_API const char *simclr_dataset_error(const simclr_dataset *ds);

/**
 * @brief Fill @p opts with the defaults and set its size field.
 *
 * Thread-safe. Since 0.1.
 *
 * @param opts Options to initialise; NULL is ignored.
 */
SIMCLR_API void simclr_loader_options_init(simclr_loader_options *opts);

/**
 * @brief Create a loader over @p ds, positioned at the start of epoch 0.
 *
 * Worker threads start at once and prepare the first batches. The
 * dataset must outlive the loader.
 *
 * Thread-safe (the new handle is the caller's). Since 0.1.
 *
 * @param ds   The dataset. Not NULL.
 * @param opts Options, or NULL for the defaults.
 * @param out  Receives the loader; NULL on failure. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for NULL arguments, a
 *         zero batch size or prefetch depth, a worker count out of range,
 *         or (with drop_last) a dataset smaller than one batch;
 *         SIMCLR_ERR_THREAD; SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_loader_create(simclr_dataset *ds,
                                              const simclr_loader_options *opts,
                                              simclr_loader **out);

/**
 * @brief Stop the workers (also mid-epoch) and release the loader.
 *
 * NULL is ignored. Batches already returned stay valid. Since 0.1.
 *
 * @param loader The loader, or NULL.
 */
SIMCLR_API void simclr_loader_destroy(simclr_loader *loader);

/**
 * @brief Number of batches in one epoch. Since 0.1.
 *
 * @param loader The loader; NULL gives 0.
 * @return ceil(count / batch_size), or floor with drop_last.
 */
SIMCLR_API size_t simclr_loader_num_batches(const simclr_loader *loader);

/**
 * @brief Restart at the beginning of epoch @p epoch.
 *
 * Work in progress for the current epoch is discarded. The order of epoch
 * @p epoch is the permutation keyed by (seed, epoch). Since 0.1.
 *
 * @param loader The loader. Not NULL.
 * @param epoch  Any epoch number.
 * @return SIMCLR_OK or SIMCLR_ERR_INVALID_ARGUMENT.
 */
SIMCLR_API simclr_status simclr_loader_set_epoch(simclr_loader *loader,
                                                 uint64_t epoch);

/**
 * @brief The epoch the next batch comes from. Since 0.1.
 *
 * @param loader The loader; NULL gives 0.
 * @return The current epoch number.
 */
SIMCLR_API uint64_t simclr_loader_epoch(const simclr_loader *loader);

/**
 * @brief Take the next batch of the current epoch.
 *
 * Batches come in order. In skip mode, items whose file cannot be decoded
 * are left out, so a batch may hold fewer images than the batch size (a
 * batch in which every item failed is passed over). After the last batch
 * the call returns SIMCLR_ERR_END_OF_DATA once, and the call after that
 * starts the following epoch.
 *
 * Use the loader from one thread at a time. Since 0.1.
 *
 * @param loader The loader. Not NULL.
 * @param out    Receives a batch the caller releases with
 *               simclr_batch_destroy(); NULL unless SIMCLR_OK. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_END_OF_DATA at the end of an epoch;
 *         SIMCLR_ERR_INVALID_ARGUMENT; in strict mode, the status of the
 *         first item of the batch that failed (that batch is dropped and
 *         the next call continues with the one after it);
 *         SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_loader_next(simclr_loader *loader,
                                            simclr_batch **out);

/**
 * @brief Detail text of the loader's last failure.
 *
 * Since 0.1.
 *
 * @param loader The loader; NULL gives "".
 * @return A string owned by the loader, valid until its next failing call;
 *         never NULL.
 */
SIMCLR_API const char *simclr_loader_error(const simclr_loader *loader);

/**
 * @brief Number of images in a batch. Thread-safe. Since 0.1.
 *
 * @param batch The batch; NULL gives 0.
 * @return The count, at most the loader's batch size.
 */
SIMCLR_API size_t simclr_batch_count(const simclr_batch *batch);

/**
 * @brief The images of a batch, in batch order.
 *
 * Thread-safe. Since 0.1.
 *
 * @param batch The batch. Not NULL.
 * @return simclr_batch_count() images owned by the batch, valid until
 *         simclr_batch_destroy(); NULL for a NULL @p batch.
 */
SIMCLR_API const simclr_image *const *
simclr_batch_images(const simclr_batch *batch);

/**
 * @brief The augmented views of a batch, for a loader with an augmenter.
 *
 * One float32 tensor of shape (2n, C, S, S), n = simclr_batch_count():
 * rows 2i and 2i + 1 are the two views of image i, normalised as the
 * augmenter's configuration says. This is the layout the encoder and the
 * loss take. All images of a batch must have the same channel count (open
 * the dataset with a fixed `channels` to be sure); a batch that mixes them
 * fails in simclr_loader_next() with SIMCLR_ERR_SHAPE.
 *
 * Thread-safe. Since 0.1.
 *
 * @param batch The batch; NULL gives NULL.
 * @param shape When not NULL, receives {2n, C, S, S} (zeros when the
 *              batch has no views).
 * @return The views, owned by the batch and valid until
 *         simclr_batch_destroy(); NULL when the loader has no augmenter.
 */
SIMCLR_API const float *simclr_batch_views(const simclr_batch *batch,
                                           size_t shape[4]);

/**
 * @brief The labels of a batch (-1 for unlabeled items).
 *
 * Thread-safe. Since 0.1.
 *
 * @param batch The batch. Not NULL.
 * @return simclr_batch_count() labels owned by the batch; NULL for a NULL
 *         @p batch.
 */
SIMCLR_API const int32_t *simclr_batch_labels(const simclr_batch *batch);

/**
 * @brief The dataset index of each image of a batch.
 *
 * Thread-safe. Since 0.1.
 *
 * @param batch The batch. Not NULL.
 * @return simclr_batch_count() indices owned by the batch; NULL for a NULL
 *         @p batch.
 */
SIMCLR_API const size_t *simclr_batch_indices(const simclr_batch *batch);

/**
 * @brief The epoch a batch belongs to. Thread-safe. Since 0.1.
 *
 * @param batch The batch; NULL gives 0.
 * @return The epoch number.
 */
SIMCLR_API uint64_t simclr_batch_epoch(const simclr_batch *batch);

/**
 * @brief Release a batch and its images. NULL is ignored. Since 0.1.
 *
 * @param batch The batch, or NULL.
 */
SIMCLR_API void simclr_batch_destroy(simclr_batch *batch);

SIMCLR_END_DECLS

#endif /* SIMCLR_DATASET_H */
