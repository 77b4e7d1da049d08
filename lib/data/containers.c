/*
 * Readers for the container formats that hold a whole dataset in a few
 * files: IDX (MNIST, Fashion-MNIST), CIFAR-10/100 binary, STL-10 binary.
 *
 * Each reader checks every size a header declares against the file
 * before allocating, converts the pixels to HWC once, and keeps them in
 * ds->pixels as (count, H, W, C).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "data_internal.h"

/* Deflate cannot expand data by more than about 1032:1; a gzip file that
 * claims to hold more than this is lying, and is rejected unread. */
#define GZIP_MAX_RATIO 1032

static bool regular_file(const char *path, off_t *size)
{
    struct stat sb;

    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return false;
    *size = sb.st_size;
    return true;
}

/* The directory part of @p path ("." if none), in a new allocation. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    char *dir;

    if (!slash)
        return simclr__strdup(".");
    dir = simclr__malloc(n + 1);
    if (!dir)
        return NULL;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return dir;
}

/* Class names from @p name next to @p path (a directory or a file in
 * it), else numbers. */
static simclr_status set_classes_near(simclr_dataset *ds, const char *path,
                                      bool path_is_dir, const char *name,
                                      size_t num_classes)
{
    char *dir = path_is_dir ? simclr__strdup(path) : dir_of(path);
    char *names = dir ? simclr__path_join(dir, name) : NULL;
    simclr_status st;

    if (!names) {
        simclr__free(dir);
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM, "dataset %s: out of memory",
                            path);
    }
    st = simclr__dataset_set_classes(ds, names, num_classes);
    simclr__free(names);
    simclr__free(dir);
    return st;
}

static bool is_dir(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The first of @p names (NULL-terminated) that exists in @p dir, joined
 * to it; NULL with a status when none does. */
static simclr_status find_in_dir(const char *dir, const char *const *names,
                                 char **found)
{
    size_t i;
    off_t size;

    *found = NULL;
    for (i = 0; names[i]; i++) {
        char *path = simclr__path_join(dir, names[i]);

        if (!path)
            return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                                "dataset %s: out of memory", dir);
        if (regular_file(path, &size)) {
            *found = path;
            return SIMCLR_OK;
        }
        simclr__free(path);
    }
    return simclr__fail(NULL, SIMCLR_ERR_IO,
                        "dataset %s: no file %s in this directory", dir,
                        names[0]);
}

/* ---- IDX ----------------------------------------------------------------- */

/* One IDX file of unsigned bytes: its dimensions and its data. */
typedef struct idx_file {
    uint32_t ndim;
    uint32_t dims[3];
    uint8_t *data; /* product of dims bytes */
    size_t bytes;
} idx_file;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/* Read exactly @p n bytes or as many as there are; gzread takes an int. */
static size_t gz_read_all(gzFile gz, uint8_t *dst, size_t n)
{
    size_t done = 0;

    while (done < n) {
        size_t chunk = n - done > (1u << 30) ? (1u << 30) : n - done;
        int got = gzread(gz, dst + done, (unsigned)chunk);

        if (got <= 0)
            break;
        done += (size_t)got;
    }
    return done;
}

/* The gzip layer's error (corrupt data, bad CRC, cut-off stream), if any. */
static bool gz_failed(gzFile gz, const char **why)
{
    int zerr;

    *why = gzerror(gz, &zerr);
    return zerr != Z_OK;
}

static simclr_status idx_check_size(const char *path, gzFile gz,
                                    off_t file_size, size_t header,
                                    size_t payload)
{
    size_t expected, bound;

    if (gzdirect(gz)) {
        if (!simclr__add_size(header, payload, &expected))
            return simclr__fail(NULL, SIMCLR_ERR_LIMIT,
                                "dataset %s: declared size overflows", path);
        if ((uint64_t)file_size != expected)
            return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                                "dataset %s: the IDX header declares %zu "
                                "bytes, the file has %lld",
                                path, expected, (long long)file_size);
        return SIMCLR_OK;
    }
    if (!simclr__mul_size((size_t)file_size, GZIP_MAX_RATIO, &bound))
        bound = SIZE_MAX;
    if (payload > bound)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "dataset %s: the IDX header declares %zu bytes "
                            "of data, more than a %lld-byte gzip file can "
                            "hold",
                            path, payload, (long long)file_size);
    return SIMCLR_OK;
}

static simclr_status idx_read_header(const char *path, gzFile gz,
                                     uint32_t want_ndim, idx_file *idx,
                                     size_t *payload)
{
    unsigned char head[16];
    size_t header = 4 + 4 * (size_t)want_ndim;
    size_t got = gz_read_all(gz, head, header);
    const char *why;
    uint32_t i;

    if (got < header && gz_failed(gz, &why))
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT, "dataset %s: gzip: %s",
                            path, why);
    if (got < 4 || head[0] != 0 || head[1] != 0)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "dataset %s: not an IDX file (no magic number "
                            "in %zu bytes)",
                            path, got);
    if (head[2] != 0x08)
        return simclr__fail(NULL, SIMCLR_ERR_UNSUPPORTED,
                            "dataset %s: IDX element type 0x%02x; only "
                            "unsigned bytes (0x08) are supported",
                            path, head[2]);
    if (head[3] != want_ndim)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "dataset %s: IDX file has %u dimensions, "
                            "expected %u",
                            path, head[3], want_ndim);
    if (got < header)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "dataset %s: truncated IDX header: expected %zu "
                            "bytes, got %zu",
                            path, header, got);

    idx->ndim = want_ndim;
    *payload = 1;
    for (i = 0; i < want_ndim; i++) {
        idx->dims[i] = be32(head + 4 + 4 * i);
        if (!simclr__mul_size(*payload, idx->dims[i], payload))
            return simclr__fail(NULL, SIMCLR_ERR_LIMIT,
                                "dataset %s: IDX dimensions overflow the "
                                "address space",
                                path);
    }
    for (i = 1; i < want_ndim; i++)
        if (idx->dims[i] == 0)
            return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                                "dataset %s: IDX dimension %u is zero", path,
                                i);
    return SIMCLR_OK;
}

static simclr_status idx_read_gz(const char *path, gzFile gz, off_t size,
                                 uint32_t want_ndim, idx_file *idx)
{
    size_t payload = 0, got;
    const char *why;
    uint8_t extra;
    simclr_status st;

    st = idx_read_header(path, gz, want_ndim, idx, &payload);
    if (st == SIMCLR_OK)
        st = idx_check_size(path, gz, size, 4 + 4 * (size_t)want_ndim, payload);
    if (st != SIMCLR_OK)
        return st;

    idx->data = simclr__malloc(payload);
    if (!idx->data)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "dataset %s: cannot allocate %zu bytes", path,
                            payload);
    idx->bytes = payload;
    got = gz_read_all(gz, idx->data, payload);
    if (got < payload) {
        int zerr;

        why = gzerror(gz, &zerr);
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "dataset %s: truncated: expected %zu bytes of "
                            "data, got %zu%s%s",
                            path, payload, got, zerr ? ": " : "",
                            zerr ? why : "");
    }
    if (gzread(gz, &extra, 1) == 1)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "dataset %s: more data than the %zu bytes the "
                            "IDX header declares",
                            path, payload);
    /* All data is in, but the stream may still be cut short before its
     * CRC, or the CRC may not match. */
    if (gz_failed(gz, &why))
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT, "dataset %s: gzip: %s",
                            path, why);
    return SIMCLR_OK;
}

static simclr_status idx_read(const char *path, uint32_t want_ndim,
                              idx_file *idx)
{
    off_t size;
    gzFile gz;
    simclr_status st;

    memset(idx, 0, sizeof(*idx));
    if (!regular_file(path, &size))
        return simclr__fail(NULL, SIMCLR_ERR_IO,
                            "dataset %s: not a readable file", path);
    gz = gzopen(path, "rb");
    if (!gz)
        return simclr__fail(
            NULL, errno == ENOMEM ? SIMCLR_ERR_NOMEM : SIMCLR_ERR_IO,
            "dataset %s: cannot open: %s", path, strerror(errno));
    st = idx_read_gz(path, gz, size, want_ndim, idx);
    gzclose(gz);
    if (st != SIMCLR_OK) {
        simclr__free(idx->data);
        idx->data = NULL;
    }
    return st;
}

/*
 * The labels file named like @p images with @p from replaced by @p to (of
 * the same length) in its base name, as the standard distributions name
 * them: "train-images-idx3-ubyte.gz" and "train-labels-idx1-ubyte.gz",
 * "train_X.bin" and "train_y.bin". *labels is NULL if the name does not
 * follow the pattern or there is no such file.
 */
static simclr_status labels_beside(const char *images, const char *from,
                                   const char *to, char **labels)
{
    const char *base = strrchr(images, '/');
    const char *at = strstr(base ? base : images, from);
    off_t size;

    *labels = NULL;
    if (!at)
        return SIMCLR_OK;
    *labels = simclr__strdup(images);
    if (!*labels)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM, "dataset %s: out of memory",
                            images);
    memcpy(*labels + (at - images), to, strlen(to));
    if (!regular_file(*labels, &size)) {
        simclr__free(*labels);
        *labels = NULL;
    }
    return SIMCLR_OK;
}

static simclr_status idx_set_labels(simclr_dataset *ds, const char *images,
                                    const idx_file *labels,
                                    const char *labels_path)
{
    size_t i, max = 0;

    if (labels->dims[0] != ds->count)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "dataset %s: %u labels in %s for %zu images in "
                            "%s",
                            ds->root, labels->dims[0], labels_path, ds->count,
                            images);
    ds->labels = simclr__malloc_array(ds->count, sizeof(int32_t));
    if (!ds->labels)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "dataset %s: out of memory for labels", ds->root);
    for (i = 0; i < ds->count; i++) {
        ds->labels[i] = labels->data[i];
        if (labels->data[i] > max)
            max = labels->data[i];
    }
    return simclr__dataset_set_classes(ds, NULL, max + 1);
}

static simclr_status idx_open_images(const char *path,
                                     const simclr_dataset_options *opts,
                                     char **images)
{
    static const char *const train[] = {"train-images-idx3-ubyte",
                                        "train-images-idx3-ubyte.gz", NULL};
    static const char *const test[] = {"t10k-images-idx3-ubyte",
                                       "t10k-images-idx3-ubyte.gz", NULL};

    if (!is_dir(path)) {
        *images = simclr__strdup(path);
        return *images ? SIMCLR_OK
                       : simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                                      "dataset %s: out of memory", path);
    }
    if (opts->split == SIMCLR_SPLIT_UNLABELED)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "dataset %s: IDX has no unlabeled split", path);
    return find_in_dir(path, opts->split == SIMCLR_SPLIT_TEST ? test : train,
                       images);
}

simclr_status simclr__read_idx(simclr_dataset *ds, const char *path,
                               const simclr_dataset_options *opts)
{
    idx_file img = {0}, lab = {0};
    char *images = NULL, *labels = NULL;
    simclr_status st;

    st = idx_open_images(path, opts, &images);
    if (st == SIMCLR_OK)
        st = idx_read(images, 3, &img);
    if (st != SIMCLR_OK)
        goto done;
    ds->pixels = img.data;
    ds->count = img.dims[0];
    ds->height = img.dims[1];
    ds->width = img.dims[2];
    ds->depth = 1;

    if (opts->labels_path) {
        labels = simclr__strdup(opts->labels_path);
        if (!labels)
            st = simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                              "dataset %s: out of memory", path);
    } else {
        st = labels_beside(images, "images-idx3", "labels-idx1", &labels);
        if (st == SIMCLR_OK && !labels)
            simclr__log(SIMCLR_LOG_INFO,
                        "dataset %s: no labels file beside %s: unlabeled", path,
                        images);
    }
    if (!labels)
        goto done;
    st = idx_read(labels, 1, &lab);
    if (st == SIMCLR_OK)
        st = idx_set_labels(ds, images, &lab, labels);

done:
    simclr__free(lab.data);
    simclr__free(labels);
    simclr__free(images);
    return st;
}

/* ---- CIFAR --------------------------------------------------------------- */

#define CIFAR_SIDE   32
#define CIFAR_PIXELS (CIFAR_SIDE * CIFAR_SIDE * 3)

/* CHW planes of one record to HWC. */
static void cifar_to_hwc(const uint8_t *src, uint8_t *dst)
{
    size_t i, c;

    for (i = 0; i < CIFAR_SIDE * CIFAR_SIDE; i++)
        for (c = 0; c < 3; c++)
            dst[3 * i + c] = src[c * CIFAR_SIDE * CIFAR_SIDE + i];
}

typedef struct cifar_layout {
    size_t label_bytes; /* 1 (CIFAR-10) or 2 (coarse, fine) */
    size_t label_at;    /* which label byte to keep */
    size_t num_classes;
} cifar_layout;

/* Append the records of one batch file at ds->count; on failure ds->count
 * is unchanged. */
static simclr_status cifar_read_file(simclr_dataset *ds, const char *path,
                                     const cifar_layout *lay, size_t records)
{
    uint8_t record[2 + CIFAR_PIXELS];
    size_t size = lay->label_bytes + CIFAR_PIXELS, i;
    FILE *f = fopen(path, "rb");

    if (!f)
        return simclr__fail(NULL, SIMCLR_ERR_IO, "dataset %s: %s", path,
                            strerror(errno));
    for (i = 0; i < records; i++) {
        size_t at = ds->count + i;
        uint8_t label;

        if (fread(record, 1, size, f) != size) {
            fclose(f);
            return simclr__fail(NULL, SIMCLR_ERR_IO,
                                "dataset %s: read error in record %zu", path,
                                i);
        }
        label = record[lay->label_at];
        if (label >= lay->num_classes) {
            fclose(f);
            return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                                "dataset %s: record %zu has label %u, "
                                "expected below %zu",
                                path, i, label, lay->num_classes);
        }
        ds->labels[at] = label;
        cifar_to_hwc(record + lay->label_bytes, ds->pixels + at * CIFAR_PIXELS);
    }
    fclose(f);
    ds->count += records;
    return SIMCLR_OK;
}

/* Records a batch file holds, or a failure naming the expected and
 * actual sizes. */
static simclr_status cifar_records(const char *path, size_t record,
                                   size_t *records)
{
    off_t size;

    *records = 0;
    if (!regular_file(path, &size))
        return simclr__fail(NULL, SIMCLR_ERR_IO,
                            "dataset %s: not a readable file", path);
    if (size == 0 || (uint64_t)size % record != 0)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "dataset %s: expected a multiple of %zu bytes "
                            "(one record per image), the file has %lld "
                            "(%lld whole records and %lld bytes over)",
                            path, record, (long long)size,
                            (long long)(size / (off_t)record),
                            (long long)(size % (off_t)record));
    *records = (size_t)size / record;
    return SIMCLR_OK;
}

/* The batch files to read: every one given, or the split's standard
 * names in a directory. */
static simclr_status cifar_files(const char *path,
                                 const simclr_dataset_options *opts,
                                 bool cifar10, char ***files, size_t *n)
{
    static const char *const c10_train[] = {
        "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
        "data_batch_4.bin", "data_batch_5.bin"};
    static const char *const c10_test[] = {"test_batch.bin"};
    static const char *const c100_train[] = {"train.bin"};
    static const char *const c100_test[] = {"test.bin"};
    const char *const *names;
    size_t i;
    bool dir = is_dir(path);

    if (dir && opts->split == SIMCLR_SPLIT_UNLABELED)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "dataset %s: CIFAR has no unlabeled split", path);
    if (!dir) {
        *n = 1;
    } else if (cifar10) {
        bool test = opts->split == SIMCLR_SPLIT_TEST;

        names = test ? c10_test : c10_train;
        *n = test ? 1 : SIMCLR__ARRAY_SIZE(c10_train);
    } else {
        names = opts->split == SIMCLR_SPLIT_TEST ? c100_test : c100_train;
        *n = 1;
    }
    *files = simclr__calloc(*n, sizeof(char *));
    if (!*files)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM, "dataset %s: out of memory",
                            path);
    for (i = 0; i < *n; i++) {
        (*files)[i] =
            dir ? simclr__path_join(path, names[i]) : simclr__strdup(path);
        if (!(*files)[i])
            return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                                "dataset %s: out of memory", path);
    }
    return SIMCLR_OK;
}

static simclr_status cifar_read_all(simclr_dataset *ds, char **files, size_t n,
                                    const cifar_layout *lay)
{
    size_t record = lay->label_bytes + CIFAR_PIXELS;
    size_t *records = simclr__calloc(n, sizeof(size_t));
    size_t total = 0, bytes, i;
    simclr_status st = SIMCLR_OK;

    if (!records)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM, "dataset %s: out of memory",
                            ds->root);

    /* Sizes first: a file of the wrong size is bad and is not read. */
    for (i = 0; i < n && st == SIMCLR_OK; i++) {
        st = cifar_records(files[i], record, &records[i]);
        if (st != SIMCLR_OK)
            st = simclr__dataset_bad_file(ds, files[i], st);
        total += records[i];
    }
    if (st == SIMCLR_OK && total > 0) {
        ds->width = ds->height = CIFAR_SIDE;
        ds->depth = 3;
        if (!simclr__mul_size(total, CIFAR_PIXELS, &bytes))
            st = simclr__fail(NULL, SIMCLR_ERR_LIMIT,
                              "dataset %s: %zu records overflow", ds->root,
                              total);
    }
    if (st == SIMCLR_OK && total > 0) {
        ds->pixels = simclr__malloc(bytes);
        ds->labels = simclr__malloc_array(total, sizeof(int32_t));
        if (!ds->pixels || !ds->labels)
            st = simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                              "dataset %s: cannot allocate %zu images",
                              ds->root, total);
    }

    for (i = 0; i < n && st == SIMCLR_OK && total > 0; i++) {
        if (records[i] == 0)
            continue;
        st = cifar_read_file(ds, files[i], lay, records[i]);
        if (st != SIMCLR_OK)
            st = simclr__dataset_bad_file(ds, files[i], st);
    }
    simclr__free(records);
    return st;
}

simclr_status simclr__read_cifar(simclr_dataset *ds, const char *path,
                                 const simclr_dataset_options *opts)
{
    bool cifar10 = ds->format == SIMCLR_DATASET_CIFAR10;
    cifar_layout lay;
    char **files = NULL;
    const char *names;
    size_t n = 0, i;
    simclr_status st;

    if (cifar10) {
        lay = (cifar_layout){1, 0, 10};
        names = "batches.meta.txt";
    } else if (opts->coarse_labels) {
        lay = (cifar_layout){2, 0, 20};
        names = "coarse_label_names.txt";
    } else {
        lay = (cifar_layout){2, 1, 100};
        names = "fine_label_names.txt";
    }
    st = cifar_files(path, opts, cifar10, &files, &n);
    if (st == SIMCLR_OK)
        st = cifar_read_all(ds, files, n, &lay);
    if (st == SIMCLR_OK)
        st = set_classes_near(ds, path, is_dir(path), names, lay.num_classes);
    for (i = 0; files && i < n; i++)
        simclr__free(files[i]);
    simclr__free(files);
    return st;
}

/* ---- STL-10 -------------------------------------------------------------- */

#define STL_SIDE   96
#define STL_PIXELS (STL_SIDE * STL_SIDE * 3)

/*
 * STL-10 stores each image as three planes, and each plane column by
 * column: byte (c, x, y) is at c * 96 * 96 + x * 96 + y. Rows must come
 * out top to bottom, so the transpose happens here.
 */
static void stl_to_hwc(const uint8_t *src, uint8_t *dst)
{
    size_t x, y, c;

    for (c = 0; c < 3; c++)
        for (x = 0; x < STL_SIDE; x++)
            for (y = 0; y < STL_SIDE; y++)
                dst[(y * STL_SIDE + x) * 3 + c] =
                    src[(c * STL_SIDE + x) * STL_SIDE + y];
}

static simclr_status stl_read_images(simclr_dataset *ds, const char *path)
{
    uint8_t *record = NULL;
    size_t i, bytes;
    off_t size;
    FILE *f;

    if (!regular_file(path, &size))
        return simclr__fail(NULL, SIMCLR_ERR_IO,
                            "dataset %s: not a readable file", path);
    if (size == 0 || (uint64_t)size % STL_PIXELS != 0)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "dataset %s: expected a multiple of %d bytes "
                            "(96x96x3 per image), the file has %lld",
                            path, STL_PIXELS, (long long)size);
    ds->count = (size_t)size / STL_PIXELS;
    ds->width = ds->height = STL_SIDE;
    ds->depth = 3;
    bytes = (size_t)size;
    ds->pixels = simclr__malloc(bytes);
    record = simclr__malloc(STL_PIXELS);
    f = ds->pixels && record ? fopen(path, "rb") : NULL;
    if (!f) {
        simclr__free(record);
        if (!ds->pixels || !record)
            return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                                "dataset %s: cannot allocate %zu images", path,
                                ds->count);
        return simclr__fail(NULL, SIMCLR_ERR_IO, "dataset %s: %s", path,
                            strerror(errno));
    }
    for (i = 0; i < ds->count; i++) {
        if (fread(record, 1, STL_PIXELS, f) != STL_PIXELS)
            break;
        stl_to_hwc(record, ds->pixels + i * STL_PIXELS);
    }
    fclose(f);
    simclr__free(record);
    if (i < ds->count)
        return simclr__fail(NULL, SIMCLR_ERR_IO,
                            "dataset %s: read error in image %zu", path, i);
    return SIMCLR_OK;
}

/* Labels are one byte per image, 1 to 10. */
static simclr_status stl_read_labels(simclr_dataset *ds, const char *path)
{
    uint8_t *bytes;
    size_t i, got;
    off_t size;
    FILE *f;

    if (!regular_file(path, &size))
        return simclr__fail(NULL, SIMCLR_ERR_IO,
                            "dataset %s: not a readable file", path);
    if ((uint64_t)size != ds->count)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "dataset %s: expected %zu bytes (one label per "
                            "image), the file has %lld",
                            path, ds->count, (long long)size);
    bytes = simclr__malloc(ds->count);
    ds->labels = simclr__malloc_array(ds->count, sizeof(int32_t));
    if (!bytes || !ds->labels) {
        simclr__free(bytes);
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "dataset %s: out of memory for labels", path);
    }
    f = fopen(path, "rb");
    got = f ? fread(bytes, 1, ds->count, f) : 0;
    if (f)
        fclose(f);
    for (i = 0; i < got; i++) {
        if (bytes[i] < 1 || bytes[i] > 10)
            break;
        ds->labels[i] = bytes[i] - 1;
    }
    simclr__free(bytes);
    if (got < ds->count)
        return simclr__fail(NULL, SIMCLR_ERR_IO,
                            "dataset %s: cannot read the labels", path);
    if (i < ds->count)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "dataset %s: label %zu is not between 1 and 10",
                            path, i);
    return SIMCLR_OK;
}

simclr_status simclr__read_stl10(simclr_dataset *ds, const char *path,
                                 const simclr_dataset_options *opts)
{
    static const char *const x_names[] = {"train_X.bin", "test_X.bin",
                                          "unlabeled_X.bin"};
    bool dir = is_dir(path);
    char *images, *labels = NULL;
    simclr_status st = SIMCLR_OK;

    images = dir ? simclr__path_join(path, x_names[opts->split])
                 : simclr__strdup(path);
    if (!images)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM, "dataset %s: out of memory",
                            path);
    st = stl_read_images(ds, images);
    if (st == SIMCLR_OK && opts->labels_path) {
        labels = simclr__strdup(opts->labels_path);
        if (!labels)
            st = simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                              "dataset %s: out of memory", path);
    } else if (st == SIMCLR_OK &&
               !(dir && opts->split == SIMCLR_SPLIT_UNLABELED)) {
        st = labels_beside(images, "_X.bin", "_y.bin", &labels);
    }
    if (st == SIMCLR_OK && labels)
        st = stl_read_labels(ds, labels);
    if (st == SIMCLR_OK && labels)
        st = set_classes_near(ds, path, dir, "class_names.txt", 10);
    simclr__free(labels);
    simclr__free(images);
    return st;
}
