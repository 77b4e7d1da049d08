/*
 * The dataset handle: opening (format detection, then one reader per
 * format), the accessors, and decoding an item of an in-memory container.
 *
 * Container formats (IDX, CIFAR, STL-10) are read once, converted to HWC
 * and kept in memory; a get copies one image out. Folders keep paths and
 * decode on demand (folder.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "data_internal.h"

void simclr_dataset_options_init(simclr_dataset_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->size = sizeof(*opts);
    opts->format = SIMCLR_DATASET_AUTO;
    opts->split = SIMCLR_SPLIT_TRAIN;
    opts->recursive = 1;
}

/* ---- errors and bad files ------------------------------------------------ */

simclr_status simclr__dataset_fail(simclr_dataset *ds, simclr_status status,
                                   const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pthread_mutex_lock(&ds->err_lock);
    simclr__vfail(&ds->err, status, fmt, ap);
    pthread_mutex_unlock(&ds->err_lock);
    va_end(ap);
    return status;
}

bool simclr__status_is_bad_file(simclr_status status)
{
    return status == SIMCLR_ERR_IO || status == SIMCLR_ERR_CORRUPT ||
           status == SIMCLR_ERR_UNSUPPORTED || status == SIMCLR_ERR_LIMIT;
}

simclr_status simclr__dataset_bad_file(simclr_dataset *ds, const char *path,
                                       simclr_status status)
{
    size_t n;

    pthread_mutex_lock(&ds->err_lock);
    simclr__error_adopt(&ds->err);
    pthread_mutex_unlock(&ds->err_lock);
    if (ds->strict)
        return status;

    n = atomic_fetch_add(&ds->skipped, 1) + 1;
    if (n <= SIMCLR__DATA_REPORT_MAX && strstr(simclr_last_error(), path))
        simclr__log(SIMCLR_LOG_WARN, "dataset %s: skipping a bad file: %s",
                    ds->root, simclr_last_error());
    else if (n <= SIMCLR__DATA_REPORT_MAX)
        simclr__log(SIMCLR_LOG_WARN, "dataset %s: skipping %s: %s", ds->root,
                    path, simclr_last_error());
    if (n == SIMCLR__DATA_REPORT_MAX)
        simclr__log(SIMCLR_LOG_WARN,
                    "dataset %s: further bad files are counted but not "
                    "reported",
                    ds->root);
    return SIMCLR_OK;
}

/* ---- class names --------------------------------------------------------- */

/* Read up to @p want non-empty lines of @p path; false if there are
 * fewer or the file cannot be read. */
static bool read_names(simclr_dataset *ds, const char *path, size_t want,
                       simclr_status *st)
{
    char line[512];
    size_t n = 0;
    struct stat sb;
    FILE *f;

    *st = SIMCLR_OK;
    /* Only a regular file: opening a FIFO would wait for a writer. */
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return false;
    f = fopen(path, "r");
    if (!f)
        return false;
    while (n < want && fgets(line, sizeof(line), f)) {
        size_t len = strcspn(line, "\r\n");

        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
            len--;
        if (len == 0)
            continue;
        line[len] = '\0';
        ds->class_names[n] = simclr__strdup(line);
        if (!ds->class_names[n]) {
            *st = simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                               "dataset %s: out of memory for class names",
                               ds->root);
            break;
        }
        n++;
    }
    fclose(f);
    if (n < want && *st == SIMCLR_OK)
        simclr__log(SIMCLR_LOG_INFO,
                    "dataset %s: %s names %zu classes, not %zu: using "
                    "numbers",
                    ds->root, path, n, want);
    return n == want;
}

static void free_class_names(simclr_dataset *ds)
{
    size_t i;

    if (!ds->class_names)
        return;
    for (i = 0; i < ds->num_classes; i++)
        simclr__free(ds->class_names[i]);
    simclr__free(ds->class_names);
    ds->class_names = NULL;
}

simclr_status simclr__dataset_set_classes(simclr_dataset *ds,
                                          const char *names_path,
                                          size_t num_classes)
{
    simclr_status st = SIMCLR_OK;
    size_t i;

    free_class_names(ds);
    ds->num_classes = num_classes;
    if (num_classes == 0)
        return SIMCLR_OK;
    ds->class_names = simclr__calloc(num_classes, sizeof(char *));
    if (!ds->class_names)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "dataset %s: out of memory for %zu class names",
                            ds->root, num_classes);
    if (names_path && read_names(ds, names_path, num_classes, &st))
        return SIMCLR_OK;
    if (st != SIMCLR_OK)
        return st;
    for (i = 0; i < num_classes; i++) {
        char number[24];

        simclr__free(ds->class_names[i]);
        snprintf(number, sizeof(number), "%zu", i);
        ds->class_names[i] = simclr__strdup(number);
        if (!ds->class_names[i])
            return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                                "dataset %s: out of memory for class names",
                                ds->root);
    }
    return SIMCLR_OK;
}

char *simclr__path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *path = simclr__malloc(a + b + 2);

    if (!path)
        return NULL;
    memcpy(path, dir, a);
    path[a] = '/';
    memcpy(path + a + 1, name, b + 1);
    return path;
}

/* ---- format detection ---------------------------------------------------- */

static bool dir_has(const char *dir, const char *name)
{
    char path[4096];
    struct stat sb;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
        sizeof(path))
        return false;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static simclr_dataset_format detect_dir(const char *dir)
{
    if (dir_has(dir, "train-images-idx3-ubyte") ||
        dir_has(dir, "train-images-idx3-ubyte.gz") ||
        dir_has(dir, "t10k-images-idx3-ubyte") ||
        dir_has(dir, "t10k-images-idx3-ubyte.gz"))
        return SIMCLR_DATASET_IDX;
    if (dir_has(dir, "data_batch_1.bin") || dir_has(dir, "test_batch.bin"))
        return SIMCLR_DATASET_CIFAR10;
    if (dir_has(dir, "train_X.bin") || dir_has(dir, "test_X.bin") ||
        dir_has(dir, "unlabeled_X.bin"))
        return SIMCLR_DATASET_STL10;
    if (dir_has(dir, "train.bin") || dir_has(dir, "test.bin"))
        return SIMCLR_DATASET_CIFAR100;
    return SIMCLR_DATASET_FOLDER;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A single file: IDX by its magic number (through gzip if compressed),
 * the others by their conventional names, then by record size. */
static simclr_status detect_file(const char *path, off_t size,
                                 simclr_dataset_format *format)
{
    unsigned char magic[4] = {0};
    const char *base = strrchr(path, '/');
    gzFile gz = gzopen(path, "rb");

    base = base ? base + 1 : path;
    if (gz) {
        int got = gzread(gz, magic, sizeof(magic)), zerr = Z_OK;

        if (got < (int)sizeof(magic)) {
            const char *why = gzerror(gz, &zerr);

            if (zerr != Z_OK) {
                simclr_status st = simclr__fail(
                    NULL, SIMCLR_ERR_CORRUPT, "dataset %s: gzip: %s", path,
                    why);

                gzclose(gz);
                return st;
            }
        }
        gzclose(gz);
        if (got == 4 && magic[0] == 0 && magic[1] == 0 && magic[2] == 0x08 &&
            magic[3] == 3) {
            *format = SIMCLR_DATASET_IDX;
            return SIMCLR_OK;
        }
    }
    if (ends_with(base, "_X.bin"))
        *format = SIMCLR_DATASET_STL10;
    else if (strstr(base, "data_batch") || strstr(base, "test_batch"))
        *format = SIMCLR_DATASET_CIFAR10;
    else if (size > 0 && size % 3073 == 0)
        *format = SIMCLR_DATASET_CIFAR10;
    else if (size > 0 && size % 3074 == 0)
        *format = SIMCLR_DATASET_CIFAR100;
    else if (size > 0 && size % (96 * 96 * 3) == 0)
        *format = SIMCLR_DATASET_STL10;
    else
        return simclr__fail(NULL, SIMCLR_ERR_UNSUPPORTED,
                            "dataset %s: not an IDX, CIFAR or STL-10 file "
                            "(%lld bytes); set the format to force one",
                            path, (long long)size);
    return SIMCLR_OK;
}

static simclr_status check_options(const char *path,
                                   const simclr_dataset_options *opts)
{
    if (opts->size < sizeof(*opts))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "dataset %s: options size %zu is smaller than "
                            "%zu: call simclr_dataset_options_init()",
                            path, opts->size, sizeof(*opts));
    if (opts->format < SIMCLR_DATASET_AUTO ||
        opts->format > SIMCLR_DATASET_STL10)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "dataset %s: unknown format %d", path,
                            (int)opts->format);
    if (opts->split < SIMCLR_SPLIT_TRAIN ||
        opts->split > SIMCLR_SPLIT_UNLABELED)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "dataset %s: unknown split %d", path,
                            (int)opts->split);
    if (opts->channels != 0 && opts->channels != 1 && opts->channels != 3)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "dataset %s: channels must be 0, 1 or 3, not %u",
                            path, opts->channels);
    return SIMCLR_OK;
}

/* ---- open and destroy ---------------------------------------------------- */

static simclr_status read_dataset(simclr_dataset *ds, const char *path,
                                  const simclr_dataset_options *opts)
{
    simclr_dataset_format format = opts->format;
    struct stat sb;
    simclr_status st;

    if (stat(path, &sb) != 0)
        return simclr__fail(NULL, SIMCLR_ERR_IO, "dataset %s: %s", path,
                            strerror(errno));
    if (format == SIMCLR_DATASET_AUTO) {
        if (S_ISDIR(sb.st_mode))
            format = detect_dir(path);
        else if (!S_ISREG(sb.st_mode))
            return simclr__fail(NULL, SIMCLR_ERR_IO,
                                "dataset %s: neither a folder nor a regular "
                                "file",
                                path);
        else if ((st = detect_file(path, sb.st_size, &format)) != SIMCLR_OK)
            return st;
    }
    ds->format = format;
    switch (format) {
    case SIMCLR_DATASET_IDX:
        return simclr__read_idx(ds, path, opts);
    case SIMCLR_DATASET_CIFAR10:
    case SIMCLR_DATASET_CIFAR100:
        return simclr__read_cifar(ds, path, opts);
    case SIMCLR_DATASET_STL10:
        return simclr__read_stl10(ds, path, opts);
    case SIMCLR_DATASET_FOLDER:
    default:
        return simclr__read_folder(ds, path, opts);
    }
}

simclr_status simclr_dataset_open(const char *path,
                                  const simclr_dataset_options *opts,
                                  simclr_dataset **out)
{
    simclr_dataset_options defaults;
    simclr_dataset *ds;
    simclr_status st;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "dataset: out is NULL");
    *out = NULL;
    if (!path)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "dataset: path is NULL");
    if (!opts) {
        simclr_dataset_options_init(&defaults);
        opts = &defaults;
    }
    if ((st = check_options(path, opts)) != SIMCLR_OK)
        return st;

    ds = simclr__calloc(1, sizeof(*ds));
    if (!ds)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM, "dataset %s: out of memory",
                            path);
    pthread_mutex_init(&ds->err_lock, NULL);
    ds->strict = opts->strict;
    ds->channels = opts->channels;
    ds->root = simclr__strdup(path);
    if (!ds->root) {
        simclr_dataset_destroy(ds);
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM, "dataset %s: out of memory",
                            path);
    }
    st = read_dataset(ds, path, opts);
    if (st == SIMCLR_OK && ds->count == 0 && ds->skipped > 0)
        st = simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                          "dataset %s: no readable image, %zu bad file%s; "
                          "the last: %s",
                          path, (size_t)ds->skipped,
                          ds->skipped == 1 ? "" : "s", ds->err.msg);
    else if (st == SIMCLR_OK && ds->count == 0)
        st = simclr__fail(NULL, SIMCLR_ERR_END_OF_DATA,
                          "dataset %s: no image found", path);
    if (st != SIMCLR_OK) {
        simclr_dataset_destroy(ds);
        return st;
    }
    *out = ds;
    return SIMCLR_OK;
}

void simclr_dataset_destroy(simclr_dataset *ds)
{
    size_t i;

    if (!ds)
        return;
    if (ds->paths)
        for (i = 0; i < ds->count; i++)
            simclr__free(ds->paths[i]);
    simclr__free(ds->paths);
    simclr__free(ds->bad);
    simclr__free(ds->pixels);
    simclr__free(ds->labels);
    free_class_names(ds);
    simclr__free(ds->root);
    pthread_mutex_destroy(&ds->err_lock);
    simclr__free(ds);
}

/* ---- accessors ----------------------------------------------------------- */

size_t simclr_dataset_count(const simclr_dataset *ds)
{
    return ds ? ds->count : 0;
}

size_t simclr_dataset_num_classes(const simclr_dataset *ds)
{
    return ds ? ds->num_classes : 0;
}

const char *simclr_dataset_class_name(const simclr_dataset *ds, size_t label)
{
    if (!ds || label >= ds->num_classes)
        return NULL;
    return ds->class_names[label];
}

simclr_status simclr_dataset_label(const simclr_dataset *ds, size_t index,
                                   int32_t *label)
{
    if (!ds || !label)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "dataset label: %s is NULL",
                            ds ? "label" : "dataset");
    if (index >= ds->count)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "dataset %s: index %zu out of range (%zu items)",
                            ds->root, index, ds->count);
    *label = ds->labels ? ds->labels[index] : -1;
    return SIMCLR_OK;
}

size_t simclr_dataset_skipped(const simclr_dataset *ds)
{
    return ds ? atomic_load(&ds->skipped) : 0;
}

const char *simclr_dataset_error(const simclr_dataset *ds)
{
    return ds ? simclr__error_text(&ds->err) : "";
}

/* ---- get ----------------------------------------------------------------- */

/* Copy one in-memory image, converting its channel count if asked:
 * gray to RGB repeats the value; RGB to gray uses ITU-R 601-2 luma with
 * the same fixed-point weights as Pillow's "L" conversion. */
static void copy_pixels(const uint8_t *src, uint32_t src_c, uint8_t *dst,
                        uint32_t dst_c, size_t pixels)
{
    size_t i;

    if (src_c == dst_c) {
        memcpy(dst, src, pixels * src_c);
        return;
    }
    for (i = 0; i < pixels; i++) {
        if (src_c == 1) {
            dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = src[i];
        } else {
            const uint8_t *p = src + 3 * i;

            dst[i] = (uint8_t)((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u +
                                0x8000u) >>
                               16);
        }
    }
}

static simclr_status memory_get(simclr_dataset *ds, size_t index,
                                simclr_image **out)
{
    uint32_t channels = ds->channels ? ds->channels : ds->depth;
    size_t pixels = (size_t)ds->width * ds->height;
    simclr_image *image;
    simclr_status st;

    st = simclr_image_create(ds->width, ds->height, channels, &image);
    if (st != SIMCLR_OK) {
        pthread_mutex_lock(&ds->err_lock);
        simclr__error_adopt(&ds->err);
        pthread_mutex_unlock(&ds->err_lock);
        return st;
    }
    /* The sizes were checked for overflow when the container was read. */
    copy_pixels(ds->pixels + index * pixels * ds->depth, ds->depth, image->data,
                channels, pixels);
    *out = image;
    return SIMCLR_OK;
}

simclr_status simclr_dataset_get(simclr_dataset *ds, size_t index,
                                 simclr_image **out)
{
    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "dataset get: out is NULL");
    *out = NULL;
    if (!ds)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "dataset get: dataset is NULL");
    if (index >= ds->count)
        return simclr__dataset_fail(ds, SIMCLR_ERR_INVALID_ARGUMENT,
                                    "dataset %s: index %zu out of range "
                                    "(%zu items)",
                                    ds->root, index, ds->count);
    if (ds->paths)
        return simclr__folder_get(ds, index, out);
    return memory_get(ds, index, out);
}
