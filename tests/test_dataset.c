/*
 * The data module: every container reader on tiny files in its exact
 * format (laid out by NumPy in tests/ref/gen_dataset.py, or written here
 * byte by byte when the point is a malformed file), the folder reader on
 * a tree built here, the batch loader, and the real Fashion-MNIST that
 * Debian's dataset-fashion-mnist package installs.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "simclr/simclr.h"
#include "data/data_internal.h"

#define DATA        SIMCLR_TEST_DATA "/dataset"
#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

/* ---- utilities ----------------------------------------------------------- */

/* The pixel pattern of gen_dataset.py. */
static unsigned pattern(unsigned n, unsigned y, unsigned x, unsigned c)
{
    return (n * 41 + y * 7 + x * 3 + c * 85) % 256;
}

static char *make_temp_dir(void)
{
    char *dir = strdup("/tmp/simclr-dataset-XXXXXX");

    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    return dir;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static char *join(const char *dir, const char *name)
{
    char *path;

    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    return path;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char *path = join(dir, name);

    write_file(path, text, strlen(text));
    free(path);
}

static void copy_file(const char *src, const char *dst)
{
    FILE *f = fopen(src, "rb");
    char *data;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n + 1);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    write_file(dst, data, (size_t)n);
    free(data);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* An IDX header for unsigned bytes with @p ndim dimensions. */
static size_t idx_header(uint8_t *head, uint32_t ndim, const uint32_t *dims)
{
    uint32_t i;

    head[0] = head[1] = 0;
    head[2] = 0x08;
    head[3] = (uint8_t)ndim;
    for (i = 0; i < ndim; i++)
        put_be32(head + 4 + 4 * i, dims[i]);
    return 4 + 4 * (size_t)ndim;
}

/* Header plus @p n data bytes, compressed or not. */
static void write_idx(const char *path, bool gz, uint32_t ndim,
                      const uint32_t *dims, const uint8_t *data, size_t n)
{
    uint8_t head[16];
    size_t h = idx_header(head, ndim, dims);

    if (gz) {
        gzFile f = gzopen(path, "wb");

        assert_non_null(f);
        assert_int_equal(gzwrite(f, head, (unsigned)h), (int)h);
        if (n)
            assert_int_equal(gzwrite(f, data, (unsigned)n), (int)n);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");

        assert_non_null(f);
        assert_int_equal(fwrite(head, 1, h, f), h);
        if (n)
            assert_int_equal(fwrite(data, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
    }
}

static simclr_status open_as(const char *path, simclr_dataset_format format,
                             int strict, simclr_dataset **ds)
{
    simclr_dataset_options o;

    simclr_dataset_options_init(&o);
    o.format = format;
    o.strict = strict;
    return simclr_dataset_open(path, &o, ds);
}

/* Whether the thread's last error mentions every one of the strings. */
static void assert_error_mentions(const char *first, ...)
{
    const char *text = simclr_last_error();
    const char *s;
    va_list ap;

    va_start(ap, first);
    for (s = first; s; s = va_arg(ap, const char *))
        if (!strstr(text, s))
            fail_msg("error \"%s\" does not mention \"%s\"", text, s);
    va_end(ap);
}

/* Log messages at WARN, collected for the bad-file tests. */
static int warnings;
static char first_warning[1024];

static void collect_log(void *user, simclr_log_level level, const char *msg)
{
    (void)user;
    if (level != SIMCLR_LOG_WARN)
        return;
    if (warnings++ == 0)
        snprintf(first_warning, sizeof(first_warning), "%s", msg);
}

static void start_collecting(void)
{
    warnings = 0;
    first_warning[0] = '\0';
    assert_int_equal(
        simclr_set_log_callback(collect_log, NULL, SIMCLR_LOG_WARN), SIMCLR_OK);
}

static void stop_collecting(void)
{
    assert_int_equal(simclr_set_log_callback(NULL, NULL, SIMCLR_LOG_WARN),
                     SIMCLR_OK);
}

/* Every test ends with every library allocation released. */
static int check_no_leaks(void **state)
{
    (void)state;
    if (simclr_live_allocations() != 0) {
        print_error("%zu library allocations leaked\n",
                    simclr_live_allocations());
        return -1;
    }
    return 0;
}

/* ---- IDX ----------------------------------------------------------------- */

static void check_tiny_idx(simclr_dataset *ds)
{
    static const int32_t labels[] = {7, 2, 5};
    size_t n, y, x;

    assert_int_equal(simclr_dataset_count(ds), 3);
    assert_int_equal(simclr_dataset_num_classes(ds), 8);
    assert_string_equal(simclr_dataset_class_name(ds, 7), "7");
    assert_null(simclr_dataset_class_name(ds, 8));
    for (n = 0; n < 3; n++) {
        simclr_image *im;
        int32_t label;

        assert_int_equal(simclr_dataset_label(ds, n, &label), SIMCLR_OK);
        assert_int_equal(label, labels[n]);
        assert_int_equal(simclr_dataset_get(ds, n, &im), SIMCLR_OK);
        assert_int_equal(im->width, 5);
        assert_int_equal(im->height, 4);
        assert_int_equal(im->channels, 1);
        for (y = 0; y < 4; y++)
            for (x = 0; x < 5; x++)
                assert_int_equal(im->data[y * im->stride + x],
                                 pattern(n, y, x, 0));
        simclr_image_destroy(im);
    }
}

static void test_idx_gz_from_numpy(void **state)
{
    simclr_dataset *ds;

    (void)state;
    assert_int_equal(
        simclr_dataset_open(DATA "/tiny-images-idx3-ubyte.gz", NULL, &ds),
        SIMCLR_OK);
    check_tiny_idx(ds);
    simclr_dataset_destroy(ds);
}

/* The same images uncompressed, labels named explicitly. */
static void test_idx_raw_with_labels_path(void **state)
{
    static const uint32_t dims[] = {3, 4, 5}, ldims[] = {3};
    static const uint8_t labels[] = {7, 2, 5};
    uint8_t pixels[60];
    char *dir = make_temp_dir();
    char *images = join(dir, "imgs.idx"), *lab = join(dir, "labs.idx");
    simclr_dataset_options o;
    simclr_dataset *ds;
    size_t n, y, x;

    (void)state;
    for (n = 0; n < 3; n++)
        for (y = 0; y < 4; y++)
            for (x = 0; x < 5; x++)
                pixels[(n * 4 + y) * 5 + x] = (uint8_t)pattern(n, y, x, 0);
    write_idx(images, false, 3, dims, pixels, sizeof(pixels));
    write_idx(lab, false, 1, ldims, labels, 3);

    simclr_dataset_options_init(&o);
    o.labels_path = lab;
    assert_int_equal(simclr_dataset_open(images, &o, &ds), SIMCLR_OK);
    check_tiny_idx(ds);
    simclr_dataset_destroy(ds);

    /* Without labels the dataset is unlabeled. */
    assert_int_equal(simclr_dataset_open(images, NULL, &ds), SIMCLR_OK);
    assert_int_equal(simclr_dataset_num_classes(ds), 0);
    {
        int32_t label = 0;

        assert_int_equal(simclr_dataset_label(ds, 2, &label), SIMCLR_OK);
        assert_int_equal(label, -1);
    }
    simclr_dataset_destroy(ds);
    free(images);
    free(lab);
    remove_tree(dir);
}

static void test_idx_truncated(void **state)
{
    static const uint32_t dims[] = {3, 4, 5};
    uint8_t pixels[60] = {0};
    char *dir = make_temp_dir();
    char *raw = join(dir, "raw-images-idx3-ubyte");
    char *gz = join(dir, "gz-images-idx3-ubyte.gz");
    simclr_dataset *ds = (simclr_dataset *)1;

    (void)state;
    write_idx(raw, false, 3, dims, pixels, 50);
    assert_int_equal(simclr_dataset_open(raw, NULL, &ds), SIMCLR_ERR_CORRUPT);
    assert_null(ds);
    assert_error_mentions(raw, "76 bytes", "has 66", NULL);

    write_idx(gz, true, 3, dims, pixels, 50);
    assert_int_equal(open_as(gz, SIMCLR_DATASET_IDX, 0, &ds),
                     SIMCLR_ERR_CORRUPT);
    assert_error_mentions(gz, "expected 60 bytes", "got 50", NULL);

    /* A file cut inside its header, and an empty one. */
    write_file(raw, "\0\0\x08\x03\0\0", 6);
    assert_int_equal(open_as(raw, SIMCLR_DATASET_IDX, 0, &ds),
                     SIMCLR_ERR_CORRUPT);
    assert_error_mentions(raw, "truncated IDX header", NULL);
    write_file(raw, "", 0);
    assert_int_equal(open_as(raw, SIMCLR_DATASET_IDX, 0, &ds),
                     SIMCLR_ERR_CORRUPT);
    assert_error_mentions(raw, "not an IDX file", NULL);

    /* Too much data is as wrong as too little. */
    write_idx(raw, false, 3, dims, pixels, 60);
    {
        FILE *f = fopen(raw, "ab");

        fputc(0, f);
        fclose(f);
    }
    assert_int_equal(simclr_dataset_open(raw, NULL, &ds), SIMCLR_ERR_CORRUPT);
    assert_error_mentions(raw, "76 bytes", "has 77", NULL);

    /* A gzip file cut before its CRC and length, or with a wrong CRC,
     * holds all the data but is damaged all the same. */
    write_idx(gz, true, 3, dims, pixels, 60);
    {
        struct stat sb;
        FILE *f;
        int crc0;

        assert_int_equal(stat(gz, &sb), 0);
        f = fopen(gz, "r+b");
        assert_non_null(f);
        assert_int_equal(fseek(f, (long)sb.st_size - 8, SEEK_SET), 0);
        crc0 = fgetc(f);
        assert_int_equal(fseek(f, (long)sb.st_size - 8, SEEK_SET), 0);
        assert_int_equal(fputc(crc0 ^ 0xff, f), crc0 ^ 0xff);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(simclr_dataset_open(gz, NULL, &ds),
                         SIMCLR_ERR_CORRUPT);
        assert_error_mentions(gz, "gzip", "incorrect data check", NULL);
        assert_int_equal(truncate(gz, sb.st_size - 8), 0);
        assert_int_equal(simclr_dataset_open(gz, NULL, &ds),
                         SIMCLR_ERR_CORRUPT);
        assert_error_mentions(gz, "gzip", "unexpected end of file", NULL);
    }
    free(raw);
    free(gz);
    remove_tree(dir);
}

/* Allocation sizes seen by a spying allocator. */
static size_t largest_request;

static void *spy_malloc(void *user, size_t size)
{
    (void)user;
    if (size > largest_request)
        largest_request = size;
    return malloc(size);
}

static void *spy_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    if (size > largest_request)
        largest_request = size;
    return realloc(ptr, size);
}

static void spy_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

/* Headers that declare absurd sizes are rejected before any allocation
 * of that size is attempted. */
static void test_idx_huge_header_rejected(void **state)
{
    static const uint32_t big[] = {1, 0x80000000u, 0x80000000u};
    static const uint32_t huge[] = {0x80000000u, 0x80000000u, 0x80000000u};
    char *dir = make_temp_dir();
    char *raw = join(dir, "a-images-idx3-ubyte");
    char *gz = join(dir, "b-images-idx3-ubyte.gz");
    simclr_dataset *ds;

    (void)state;
    largest_request = 0;
    assert_int_equal(
        simclr_set_allocator(spy_malloc, spy_realloc, spy_free, NULL),
        SIMCLR_OK);
    write_idx(raw, false, 3, big, NULL, 0);
    assert_int_equal(simclr_dataset_open(raw, NULL, &ds), SIMCLR_ERR_CORRUPT);
    assert_error_mentions(raw, "4611686018427387920 bytes", NULL);
    write_idx(gz, true, 3, big, NULL, 0);
    assert_int_equal(simclr_dataset_open(gz, NULL, &ds), SIMCLR_ERR_CORRUPT);
    assert_error_mentions(gz, "gzip file can hold", NULL);
    write_idx(raw, false, 3, huge, NULL, 0);
    assert_int_equal(simclr_dataset_open(raw, NULL, &ds), SIMCLR_ERR_LIMIT);
    assert_error_mentions(raw, "overflow", NULL);
    assert_int_equal(simclr_set_allocator(NULL, NULL, NULL, NULL), SIMCLR_OK);
    assert_true(largest_request < 65536);
    free(raw);
    free(gz);
    remove_tree(dir);
}

static void test_idx_bad_headers(void **state)
{
    static const uint32_t dims[] = {2, 2, 2}, ldims[] = {3};
    static const uint8_t pixels[8] = {0}, labels[3] = {0};
    char *dir = make_temp_dir();
    char *images = join(dir, "x-images-idx3-ubyte");
    char *lab = join(dir, "x-labels-idx1-ubyte");
    uint8_t head[16];
    simclr_dataset *ds;

    (void)state;
    /* Labels beside the images, but one too many. */
    write_idx(images, false, 3, dims, pixels, 8);
    write_idx(lab, false, 1, ldims, labels, 3);
    assert_int_equal(simclr_dataset_open(images, NULL, &ds),
                     SIMCLR_ERR_CORRUPT);
    assert_error_mentions(lab, "3 labels", "2 images", NULL);

    /* Element type float (0x0D) is not images of bytes. */
    idx_header(head, 3, dims);
    head[2] = 0x0D;
    write_file(images, head, 16);
    assert_int_equal(open_as(images, SIMCLR_DATASET_IDX, 0, &ds),
                     SIMCLR_ERR_UNSUPPORTED);
    assert_error_mentions(images, "0x0d", NULL);
    free(images);
    free(lab);
    remove_tree(dir);
}

/* ---- CIFAR --------------------------------------------------------------- */

static void check_rgb_pattern(const simclr_image *im, unsigned n,
                              uint32_t width, uint32_t height)
{
    uint32_t y, x, c;

    assert_int_equal(im->width, width);
    assert_int_equal(im->height, height);
    assert_int_equal(im->channels, 3);
    for (y = 0; y < height; y++)
        for (x = 0; x < width; x++)
            for (c = 0; c < 3; c++)
                if (im->data[y * im->stride + x * 3 + c] != pattern(n, y, x, c))
                    fail_msg("image %u pixel (%u, %u, %u) is %u, expected "
                             "%u",
                             n, y, x, c, im->data[y * im->stride + x * 3 + c],
                             pattern(n, y, x, c));
}

static void test_cifar10_tiny(void **state)
{
    static const int32_t labels[] = {3, 0, 9};
    simclr_dataset *ds;
    unsigned n;

    (void)state;
    assert_int_equal(simclr_dataset_open(DATA "/cifar10_tiny.bin", NULL, &ds),
                     SIMCLR_OK);
    assert_int_equal(simclr_dataset_count(ds), 3);
    assert_int_equal(simclr_dataset_num_classes(ds), 10);
    assert_string_equal(simclr_dataset_class_name(ds, 3), "3");
    for (n = 0; n < 3; n++) {
        simclr_image *im;
        int32_t label;

        assert_int_equal(simclr_dataset_label(ds, n, &label), SIMCLR_OK);
        assert_int_equal(label, labels[n]);
        assert_int_equal(simclr_dataset_get(ds, n, &im), SIMCLR_OK);
        check_rgb_pattern(im, n, 32, 32);
        simclr_image_destroy(im);
    }
    simclr_dataset_destroy(ds);
}

/* RGB to gray matches Pillow's "L" conversion exactly. */
static void test_cifar10_gray_matches_pillow(void **state)
{
    uint8_t gray[3 * 32 * 32];
    FILE *f = fopen(DATA "/cifar10_tiny_gray.bin", "rb");
    simclr_dataset_options o;
    simclr_dataset *ds;
    unsigned n;

    (void)state;
    assert_non_null(f);
    assert_int_equal(fread(gray, 1, sizeof(gray), f), sizeof(gray));
    fclose(f);
    simclr_dataset_options_init(&o);
    o.channels = 1;
    assert_int_equal(simclr_dataset_open(DATA "/cifar10_tiny.bin", &o, &ds),
                     SIMCLR_OK);
    for (n = 0; n < 3; n++) {
        simclr_image *im;

        assert_int_equal(simclr_dataset_get(ds, n, &im), SIMCLR_OK);
        assert_int_equal(im->channels, 1);
        assert_memory_equal(im->data, gray + n * 1024, 1024);
        simclr_image_destroy(im);
    }
    simclr_dataset_destroy(ds);
}

static void test_cifar100_fine_and_coarse(void **state)
{
    simclr_dataset_options o;
    simclr_dataset *ds;
    int32_t label;
    simclr_image *im;

    (void)state;
    simclr_dataset_options_init(&o);
    o.format = SIMCLR_DATASET_CIFAR100;
    assert_int_equal(simclr_dataset_open(DATA "/cifar100_tiny.bin", &o, &ds),
                     SIMCLR_OK);
    assert_int_equal(simclr_dataset_count(ds), 2);
    assert_int_equal(simclr_dataset_num_classes(ds), 100);
    assert_int_equal(simclr_dataset_label(ds, 0, &label), SIMCLR_OK);
    assert_int_equal(label, 30);
    assert_int_equal(simclr_dataset_label(ds, 1, &label), SIMCLR_OK);
    assert_int_equal(label, 99);
    assert_int_equal(simclr_dataset_get(ds, 1, &im), SIMCLR_OK);
    check_rgb_pattern(im, 1, 32, 32);
    simclr_image_destroy(im);
    simclr_dataset_destroy(ds);

    o.coarse_labels = 1;
    assert_int_equal(simclr_dataset_open(DATA "/cifar100_tiny.bin", &o, &ds),
                     SIMCLR_OK);
    assert_int_equal(simclr_dataset_num_classes(ds), 20);
    assert_int_equal(simclr_dataset_label(ds, 0, &label), SIMCLR_OK);
    assert_int_equal(label, 4);
    assert_int_equal(simclr_dataset_label(ds, 1, &label), SIMCLR_OK);
    assert_int_equal(label, 19);
    simclr_dataset_destroy(ds);
}

/* A CIFAR-10 directory: five training batches, names from the meta file;
 * one batch cut short is skipped and counted, or fails in strict mode. */
static void test_cifar10_directory_with_bad_batch(void **state)
{
    char *dir = make_temp_dir();
    char name[64], *path;
    simclr_dataset *ds;
    int i;

    (void)state;
    for (i = 1; i <= 5; i++) {
        snprintf(name, sizeof(name), "data_batch_%d.bin", i);
        path = join(dir, name);
        copy_file(DATA "/cifar10_tiny.bin", path);
        if (i == 3)
            assert_int_equal(truncate(path, 3073 * 2 + 100), 0);
        free(path);
    }
    write_text(dir, "batches.meta.txt",
               "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\n"
               "ship\ntruck\n\n");

    start_collecting();
    assert_int_equal(simclr_dataset_open(dir, NULL, &ds), SIMCLR_OK);
    stop_collecting();
    assert_int_equal(simclr_dataset_count(ds), 12);
    assert_int_equal(simclr_dataset_skipped(ds), 1);
    assert_int_equal(warnings, 1);
    assert_non_null(strstr(first_warning, "data_batch_3.bin"));
    assert_non_null(strstr(first_warning, "multiple of 3073"));
    assert_string_equal(simclr_dataset_class_name(ds, 3), "cat");
    assert_string_equal(simclr_dataset_class_name(ds, 9), "truck");
    {
        simclr_image *im;

        /* Item 10 is the second record of the fifth batch. */
        assert_int_equal(simclr_dataset_get(ds, 10, &im), SIMCLR_OK);
        check_rgb_pattern(im, 1, 32, 32);
        simclr_image_destroy(im);
    }
    simclr_dataset_destroy(ds);

    assert_int_equal(open_as(dir, SIMCLR_DATASET_AUTO, 1, &ds),
                     SIMCLR_ERR_CORRUPT);
    assert_error_mentions("data_batch_3.bin", "3073 bytes", "has 6246", NULL);

    /* The test split is missing altogether. */
    {
        simclr_dataset_options o;

        simclr_dataset_options_init(&o);
        o.split = SIMCLR_SPLIT_TEST;
        o.strict = 1;
        assert_int_equal(simclr_dataset_open(dir, &o, &ds), SIMCLR_ERR_IO);
        assert_error_mentions("test_batch.bin", NULL);
    }
    remove_tree(dir);
}

static void test_cifar_single_file_truncated(void **state)
{
    char *dir = make_temp_dir();
    char *path = join(dir, "test_batch.bin");
    simclr_dataset *ds;

    (void)state;
    copy_file(DATA "/cifar10_tiny.bin", path);
    assert_int_equal(truncate(path, 9000), 0);
    assert_int_equal(simclr_dataset_open(path, NULL, &ds), SIMCLR_ERR_CORRUPT);
    assert_error_mentions(path, "1 bad file", "has 9000", NULL);
    assert_int_equal(open_as(path, SIMCLR_DATASET_CIFAR10, 1, &ds),
                     SIMCLR_ERR_CORRUPT);
    assert_error_mentions(path, "multiple of 3073 bytes", "has 9000", NULL);
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(open_as(path, SIMCLR_DATASET_CIFAR10, 1, &ds),
                     SIMCLR_ERR_CORRUPT);
    assert_error_mentions(path, "has 0", NULL);

    /* A label out of range is corrupt data. */
    copy_file(DATA "/cifar10_tiny.bin", path);
    {
        FILE *f = fopen(path, "r+b");

        fseek(f, 3073, SEEK_SET);
        fputc(10, f);
        fclose(f);
    }
    assert_int_equal(open_as(path, SIMCLR_DATASET_CIFAR10, 1, &ds),
                     SIMCLR_ERR_CORRUPT);
    assert_error_mentions(path, "record 1", "label 10", NULL);
    free(path);
    remove_tree(dir);
}

/* ---- STL-10 -------------------------------------------------------------- */

/* STL-10 stores pixels column by column; rows must come out right. */
static void test_stl10_orientation(void **state)
{
    simclr_dataset *ds;
    simclr_image *im;
    int32_t label;
    unsigned n;

    (void)state;
    assert_int_equal(simclr_dataset_open(DATA "/stl_tiny_X.bin", NULL, &ds),
                     SIMCLR_OK);
    assert_int_equal(simclr_dataset_count(ds), 2);
    assert_int_equal(simclr_dataset_num_classes(ds), 10);
    for (n = 0; n < 2; n++) {
        assert_int_equal(simclr_dataset_get(ds, n, &im), SIMCLR_OK);
        check_rgb_pattern(im, n, 96, 96);
        simclr_image_destroy(im);
    }
    assert_int_equal(simclr_dataset_label(ds, 0, &label), SIMCLR_OK);
    assert_int_equal(label, 0);
    assert_int_equal(simclr_dataset_label(ds, 1, &label), SIMCLR_OK);
    assert_int_equal(label, 9);
    simclr_dataset_destroy(ds);
}

static void test_stl10_directory_splits(void **state)
{
    char *dir = make_temp_dir();
    char *x = join(dir, "train_X.bin"), *y = join(dir, "train_y.bin");
    char *u = join(dir, "unlabeled_X.bin");
    simclr_dataset_options o;
    simclr_dataset *ds;
    int32_t label;

    (void)state;
    copy_file(DATA "/stl_tiny_X.bin", x);
    copy_file(DATA "/stl_tiny_y.bin", y);
    copy_file(DATA "/stl_tiny_X.bin", u);
    write_text(dir, "class_names.txt",
               "airplane\nbird\ncar\ncat\ndeer\ndog\nhorse\nmonkey\nship\n"
               "truck\n");
    assert_int_equal(simclr_dataset_open(dir, NULL, &ds), SIMCLR_OK);
    assert_int_equal(simclr_dataset_count(ds), 2);
    assert_string_equal(simclr_dataset_class_name(ds, 9), "truck");
    simclr_dataset_destroy(ds);

    simclr_dataset_options_init(&o);
    o.split = SIMCLR_SPLIT_UNLABELED;
    assert_int_equal(simclr_dataset_open(dir, &o, &ds), SIMCLR_OK);
    assert_int_equal(simclr_dataset_num_classes(ds), 0);
    assert_int_equal(simclr_dataset_label(ds, 1, &label), SIMCLR_OK);
    assert_int_equal(label, -1);
    simclr_dataset_destroy(ds);

    /* Labels that do not match the images. */
    write_file(y, "\x01\x02\x03", 3);
    assert_int_equal(simclr_dataset_open(dir, NULL, &ds), SIMCLR_ERR_CORRUPT);
    assert_error_mentions(y, "expected 2 bytes", "has 3", NULL);
    write_file(y, "\x01\x00", 2);
    assert_int_equal(simclr_dataset_open(dir, NULL, &ds), SIMCLR_ERR_CORRUPT);
    assert_error_mentions(y, "label 1", NULL);
    assert_int_equal(truncate(x, 27648 + 5), 0);
    assert_int_equal(simclr_dataset_open(dir, NULL, &ds), SIMCLR_ERR_CORRUPT);
    assert_error_mentions(x, "27648", "has 27653", NULL);
    free(x);
    free(y);
    free(u);
    remove_tree(dir);
}

/* A FIFO in place of CIFAR's class-name file is not read: the classes
 * get numbers, as when the file is missing. */
static void test_cifar_names_fifo_ignored(void **state)
{
    char *dir = make_temp_dir(), *batch = join(dir, "data_batch_1.bin");
    char *names = join(dir, "batches.meta.txt");
    simclr_dataset *ds = NULL;

    (void)state;
    copy_file(DATA "/cifar10_tiny.bin", batch);
    assert_int_equal(mkfifo(names, 0600), 0);
    alarm(20); /* a blocking open ends the test program */
    assert_int_equal(simclr_dataset_open(dir, NULL, &ds), SIMCLR_OK);
    alarm(0);
    assert_int_equal(simclr_dataset_count(ds), 3);
    assert_string_equal(simclr_dataset_class_name(ds, 9), "9");
    simclr_dataset_destroy(ds);
    free(batch);
    free(names);
    remove_tree(dir);
}

/* A FIFO given as the dataset is refused at once, not read from. */
static void test_fifo_refused(void **state)
{
    char *dir = make_temp_dir(), *fifo = join(dir, "pipe");
    simclr_dataset *ds = NULL;

    (void)state;
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(20); /* a blocking open ends the test program */
    assert_int_equal(simclr_dataset_open(fifo, NULL, &ds), SIMCLR_ERR_IO);
    alarm(0);
    assert_null(ds);
    assert_non_null(strstr(simclr_last_error(), "pipe: neither a folder"));
    free(fifo);
    remove_tree(dir);
}

static void test_bad_arguments(void **state)
{
    simclr_dataset_options o;
    simclr_dataset *ds;
    simclr_image *im;
    int32_t label;

    (void)state;
    assert_int_equal(simclr_dataset_open(NULL, NULL, &ds),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_dataset_open("x", NULL, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    simclr_dataset_options_init(&o);
    o.size = 4;
    assert_int_equal(simclr_dataset_open(DATA, &o, &ds),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    simclr_dataset_options_init(&o);
    o.channels = 2;
    assert_int_equal(simclr_dataset_open(DATA, &o, &ds),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_dataset_open("/nonexistent/simclr", NULL, &ds),
                     SIMCLR_ERR_IO);
    assert_error_mentions("/nonexistent/simclr", NULL);
    assert_int_equal(simclr_dataset_open(DATA "/fashion_mnist.txt", NULL, &ds),
                     SIMCLR_ERR_UNSUPPORTED);

    assert_int_equal(simclr_dataset_open(DATA "/cifar10_tiny.bin", NULL, &ds),
                     SIMCLR_OK);
    assert_int_equal(simclr_dataset_get(ds, 3, &im),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_null(im);
    assert_non_null(strstr(simclr_dataset_error(ds), "index 3"));
    assert_int_equal(simclr_dataset_label(ds, 3, &label),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_dataset_get(NULL, 0, &im),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    simclr_dataset_destroy(ds);
    simclr_dataset_destroy(NULL);
    assert_int_equal(simclr_dataset_count(NULL), 0);
    assert_string_equal(simclr_dataset_error(NULL), "");
}

/* ---- folders ------------------------------------------------------------- */

static void make_dir(const char *root, const char *name)
{
    char *path = join(root, name);

    assert_int_equal(mkdir(path, 0755), 0);
    free(path);
}

/*
 * root/
 *   b_cat/one.png  b_cat/EMPTY.JPG (0 bytes)  b_cat/notes.txt
 *   a_dog/two.jpg  a_dog/deep/three.jpeg  a_dog/loop -> .. (the root)
 *   c_none/        (a class without images)
 *   stray.png      (a file beside the classes: ignored)
 */
static char *make_class_tree(void)
{
    char *root = make_temp_dir();
    char *link;

    make_dir(root, "b_cat");
    make_dir(root, "a_dog");
    make_dir(root, "a_dog/deep");
    make_dir(root, "c_none");
    write_text(root, "b_cat/one.png", "png bytes");
    write_text(root, "b_cat/EMPTY.JPG", "");
    write_text(root, "b_cat/notes.txt", "not an image");
    write_text(root, "a_dog/two.jpg", "jpeg bytes");
    write_text(root, "a_dog/deep/three.jpeg", "jpeg bytes");
    write_text(root, "stray.png", "png bytes");
    link = join(root, "a_dog/loop");
    assert_int_equal(symlink("..", link), 0);
    free(link);
    return root;
}

static void assert_item(simclr_dataset *ds, size_t i, const char *suffix,
                        int32_t want)
{
    int32_t label;

    assert_true(i < ds->count);
    if (!strstr(ds->paths[i], suffix))
        fail_msg("item %zu is %s, expected ...%s", i, ds->paths[i], suffix);
    assert_int_equal(simclr_dataset_label(ds, i, &label), SIMCLR_OK);
    assert_int_equal(label, want);
}

static void test_folder_classes_sorted_and_loop_safe(void **state)
{
    char *root = make_class_tree();
    simclr_dataset *ds;

    (void)state;
    start_collecting();
    assert_int_equal(simclr_dataset_open(root, NULL, &ds), SIMCLR_OK);
    stop_collecting();
    assert_int_equal(simclr_dataset_num_classes(ds), 3);
    assert_string_equal(simclr_dataset_class_name(ds, 0), "a_dog");
    assert_string_equal(simclr_dataset_class_name(ds, 1), "b_cat");
    assert_string_equal(simclr_dataset_class_name(ds, 2), "c_none");
    /* The loop back to the root is entered zero times, not forever. */
    assert_int_equal(simclr_dataset_count(ds), 3);
    assert_item(ds, 0, "a_dog/deep/three.jpeg", 0);
    assert_item(ds, 1, "a_dog/two.jpg", 0);
    assert_item(ds, 2, "b_cat/one.png", 1);
    /* The empty file is a bad file, counted and reported by name. */
    assert_int_equal(simclr_dataset_skipped(ds), 1);
    assert_int_equal(warnings, 1);
    assert_non_null(strstr(first_warning, "EMPTY.JPG"));
    assert_non_null(strstr(first_warning, "empty file"));
    simclr_dataset_destroy(ds);

    assert_int_equal(open_as(root, SIMCLR_DATASET_FOLDER, 1, &ds),
                     SIMCLR_ERR_CORRUPT);
    assert_error_mentions("EMPTY.JPG", "empty file", NULL);
    remove_tree(root);
}

static void test_folder_flat_and_options(void **state)
{
    char *root = make_class_tree();
    simclr_dataset_options o;
    simclr_dataset *ds;
    int32_t label;

    (void)state;
    /* Every image under the root as one unlabeled set. */
    simclr_dataset_options_init(&o);
    o.unlabeled = 1;
    assert_int_equal(simclr_dataset_open(root, &o, &ds), SIMCLR_OK);
    assert_int_equal(simclr_dataset_num_classes(ds), 0);
    assert_int_equal(simclr_dataset_count(ds), 4);
    assert_item(ds, 0, "a_dog/deep/three.jpeg", -1);
    assert_item(ds, 3, "/stray.png", -1);
    simclr_dataset_destroy(ds);

    /* Not recursive: the class folder's own files only. */
    simclr_dataset_options_init(&o);
    o.recursive = 0;
    assert_int_equal(simclr_dataset_open(root, &o, &ds), SIMCLR_OK);
    assert_int_equal(simclr_dataset_count(ds), 2);
    assert_item(ds, 0, "a_dog/two.jpg", 0);
    simclr_dataset_destroy(ds);

    /* A flat folder has no labels. */
    {
        char *flat = join(root, "b_cat");

        assert_int_equal(simclr_dataset_open(flat, NULL, &ds), SIMCLR_OK);
        assert_int_equal(simclr_dataset_count(ds), 1);
        assert_int_equal(simclr_dataset_label(ds, 0, &label), SIMCLR_OK);
        assert_int_equal(label, -1);
        simclr_dataset_destroy(ds);

        /* No image at all. */
        free(flat);
        flat = join(root, "c_none");
        assert_int_equal(simclr_dataset_open(flat, NULL, &ds),
                         SIMCLR_ERR_END_OF_DATA);
        free(flat);
    }
    remove_tree(root);
}

/* ---- the loader ---------------------------------------------------------- */

#define LOADER_ITEMS 103

/* An IDX file whose item i is a 2x3 image holding i (low byte, high byte,
 * then i % 7 ...), labels i % 10. */
static char *make_indexed_idx(char **dir)
{
    static const uint32_t dims[] = {LOADER_ITEMS, 2, 3};
    static const uint32_t ldims[] = {LOADER_ITEMS};
    uint8_t pixels[LOADER_ITEMS * 6], labels[LOADER_ITEMS];
    char *images, *lab;
    size_t i, k;

    *dir = make_temp_dir();
    images = join(*dir, "n-images-idx3-ubyte");
    lab = join(*dir, "n-labels-idx1-ubyte");
    for (i = 0; i < LOADER_ITEMS; i++) {
        pixels[6 * i] = (uint8_t)i;
        pixels[6 * i + 1] = (uint8_t)(i >> 8);
        for (k = 2; k < 6; k++)
            pixels[6 * i + k] = (uint8_t)(i % (k + 5));
        labels[i] = (uint8_t)(i % 10);
    }
    write_idx(images, false, 3, dims, pixels, sizeof(pixels));
    write_idx(lab, false, 1, ldims, labels, sizeof(labels));
    free(lab);
    return images;
}

static size_t item_of(const simclr_image *im)
{
    return im->data[0] | (size_t)im->data[1] << 8;
}

/* One epoch's dataset indices, in batch order; checks every batch. */
static size_t read_epoch(simclr_loader *ld, size_t batch_size, size_t *indices,
                         size_t *batches)
{
    simclr_batch *b;
    simclr_status st;
    size_t n = 0;

    *batches = 0;
    while ((st = simclr_loader_next(ld, &b)) == SIMCLR_OK) {
        const simclr_image *const *images = simclr_batch_images(b);
        const size_t *idx = simclr_batch_indices(b);
        const int32_t *labels = simclr_batch_labels(b);
        size_t i, count = simclr_batch_count(b);

        assert_true(count >= 1 && count <= batch_size);
        for (i = 0; i < count; i++) {
            assert_int_equal(item_of(images[i]), idx[i]);
            assert_int_equal(labels[i], (int32_t)(idx[i] % 10));
            indices[n++] = idx[i];
        }
        simclr_batch_destroy(b);
        (*batches)++;
    }
    assert_int_equal(st, SIMCLR_ERR_END_OF_DATA);
    assert_null(b);
    return n;
}

static simclr_loader *make_loader(simclr_dataset *ds, size_t batch,
                                  uint64_t seed, int workers, size_t prefetch,
                                  int drop_last, int shuffle)
{
    simclr_loader_options o;
    simclr_loader *ld;

    simclr_loader_options_init(&o);
    o.batch_size = batch;
    o.seed = seed;
    o.num_workers = workers;
    o.prefetch = prefetch;
    o.drop_last = drop_last;
    o.shuffle = shuffle;
    assert_int_equal(simclr_loader_create(ds, &o, &ld), SIMCLR_OK);
    return ld;
}

static void test_loader_epoch_is_a_permutation(void **state)
{
    size_t seen[LOADER_ITEMS], order[LOADER_ITEMS], order2[LOADER_ITEMS];
    char *dir, *path = make_indexed_idx(&dir);
    simclr_dataset *ds;
    simclr_loader *ld;
    size_t n, i, batches;
    bool shuffled = false;

    (void)state;
    assert_int_equal(simclr_dataset_open(path, NULL, &ds), SIMCLR_OK);
    ld = make_loader(ds, 10, 42, 3, 2, 0, 1);
    assert_int_equal(simclr_loader_num_batches(ld), 11);
    n = read_epoch(ld, 10, order, &batches);
    assert_int_equal(n, LOADER_ITEMS);
    assert_int_equal(batches, 11);
    memset(seen, 0, sizeof(seen));
    for (i = 0; i < n; i++)
        seen[order[i]]++;
    for (i = 0; i < LOADER_ITEMS; i++) {
        assert_int_equal(seen[i], 1);
        shuffled |= order[i] != i;
    }
    assert_true(shuffled);

    /* The next call starts epoch 1, in another order. */
    assert_int_equal(simclr_loader_epoch(ld), 0);
    n = read_epoch(ld, 10, order2, &batches);
    assert_int_equal(n, LOADER_ITEMS);
    assert_int_equal(simclr_loader_epoch(ld), 1);
    assert_true(memcmp(order, order2, sizeof(order)) != 0);

    /* Back to epoch 0: the first order again. */
    assert_int_equal(simclr_loader_set_epoch(ld, 0), SIMCLR_OK);
    n = read_epoch(ld, 10, order2, &batches);
    assert_memory_equal(order, order2, sizeof(order));
    simclr_loader_destroy(ld);

    /* drop_last: ten full batches, no shuffle: dataset order. */
    ld = make_loader(ds, 10, 42, 2, 1, 1, 0);
    assert_int_equal(simclr_loader_num_batches(ld), 10);
    n = read_epoch(ld, 10, order, &batches);
    assert_int_equal(n, 100);
    assert_int_equal(batches, 10);
    for (i = 0; i < n; i++)
        assert_int_equal(order[i], i);
    simclr_loader_destroy(ld);

    simclr_dataset_destroy(ds);
    free(path);
    remove_tree(dir);
}

/* Same seed, same batches, whatever the thread count or prefetch depth. */
static void test_loader_thread_count_independent(void **state)
{
    size_t ref[3][LOADER_ITEMS], got[LOADER_ITEMS];
    char *dir, *path = make_indexed_idx(&dir);
    static const int workers[] = {1, 4, 2};
    static const size_t prefetch[] = {1, 3, 8};
    simclr_dataset *ds;
    size_t batches, e, w;

    (void)state;
    assert_int_equal(simclr_dataset_open(path, NULL, &ds), SIMCLR_OK);
    for (w = 0; w < 3; w++) {
        simclr_loader *ld =
            make_loader(ds, 7, 1234, workers[w], prefetch[w], 0, 1);

        for (e = 0; e < 3; e++) {
            size_t *dst = w == 0 ? ref[e] : got;

            assert_int_equal(read_epoch(ld, 7, dst, &batches), LOADER_ITEMS);
            assert_int_equal(batches, 15);
            if (w > 0)
                assert_memory_equal(ref[e], got, sizeof(got));
        }
        simclr_loader_destroy(ld);
    }
    simclr_dataset_destroy(ds);
    free(path);
    remove_tree(dir);
}

static void test_loader_destroy_mid_epoch(void **state)
{
    char *dir, *path = make_indexed_idx(&dir);
    simclr_dataset *ds;
    simclr_loader *ld;
    simclr_batch *b;

    (void)state;
    assert_int_equal(simclr_dataset_open(path, NULL, &ds), SIMCLR_OK);
    ld = make_loader(ds, 5, 7, 4, 4, 0, 1);
    assert_int_equal(simclr_loader_next(ld, &b), SIMCLR_OK);
    simclr_loader_destroy(ld); /* workers busy with the next batches */
    assert_int_equal(simclr_batch_count(b), 5);
    simclr_batch_destroy(b); /* a batch outlives its loader */

    /* Destroy at once, before any batch was taken, and restart often. */
    ld = make_loader(ds, 3, 7, 4, 2, 0, 1);
    assert_int_equal(simclr_loader_set_epoch(ld, 5), SIMCLR_OK);
    assert_int_equal(simclr_loader_next(ld, &b), SIMCLR_OK);
    assert_int_equal(simclr_batch_epoch(b), 5);
    simclr_batch_destroy(b);
    assert_int_equal(simclr_loader_set_epoch(ld, 6), SIMCLR_OK);
    simclr_loader_destroy(ld);
    simclr_loader_destroy(NULL);
    simclr_dataset_destroy(ds);
    free(path);
    remove_tree(dir);
}

static void test_loader_bad_options(void **state)
{
    char *dir, *path = make_indexed_idx(&dir);
    simclr_loader_options o;
    simclr_dataset *ds;
    simclr_loader *ld;
    simclr_batch *b;

    (void)state;
    assert_int_equal(simclr_dataset_open(path, NULL, &ds), SIMCLR_OK);
    simclr_loader_options_init(&o);
    o.batch_size = 0;
    assert_int_equal(simclr_loader_create(ds, &o, &ld),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_null(ld);
    simclr_loader_options_init(&o);
    o.prefetch = 0;
    assert_int_equal(simclr_loader_create(ds, &o, &ld),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    simclr_loader_options_init(&o);
    o.num_workers = -1;
    assert_int_equal(simclr_loader_create(ds, &o, &ld),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    simclr_loader_options_init(&o);
    o.batch_size = 200;
    o.drop_last = 1;
    assert_int_equal(simclr_loader_create(ds, &o, &ld),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_error_mentions("103 items", "batch of 200", NULL);
    assert_int_equal(simclr_loader_create(NULL, NULL, &ld),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_loader_next(NULL, &b), SIMCLR_ERR_INVALID_ARGUMENT);

    /* Defaults: one batch of everything (batch size 256). */
    assert_int_equal(simclr_loader_create(ds, NULL, &ld), SIMCLR_OK);
    assert_int_equal(simclr_loader_num_batches(ld), 1);
    assert_int_equal(simclr_loader_next(ld, &b), SIMCLR_OK);
    assert_int_equal(simclr_batch_count(b), LOADER_ITEMS);
    simclr_batch_destroy(b);
    assert_int_equal(simclr_loader_next(ld, &b), SIMCLR_ERR_END_OF_DATA);
    assert_non_null(strstr(simclr_loader_error(ld), "end of epoch 0"));
    simclr_loader_destroy(ld);
    simclr_dataset_destroy(ds);
    free(path);
    remove_tree(dir);
}

/* The sample-transform hook: runs per item with (seed, epoch, index), its
 * results travel with the batch, and its failure fails just that batch. */
typedef struct sum_sample {
    size_t index;
    uint64_t seed, epoch;
    unsigned sum;
} sum_sample;

static size_t failing_index = SIZE_MAX;

static simclr_status sum_apply(void *user, const simclr_image *src,
                               uint64_t seed, uint64_t epoch, size_t index,
                               void **dst)
{
    sum_sample *s;
    uint32_t i;

    assert_ptr_equal(user, &failing_index);
    if (index == failing_index)
        return simclr__fail(NULL, SIMCLR_ERR_NUMERIC,
                            "transform refused item %zu", index);
    s = simclr__malloc(sizeof(*s));
    if (!s)
        return SIMCLR_ERR_NOMEM;
    s->index = index;
    s->seed = seed;
    s->epoch = epoch;
    s->sum = 0;
    for (i = 0; i < src->width * src->height; i++)
        s->sum += src->data[i];
    *dst = s;
    return SIMCLR_OK;
}

static void sum_release(void *user, void *sample)
{
    (void)user;
    simclr__free(sample);
}

/* With an augmenter, each batch carries one (2n, C, S, S) tensor whose
 * rows 2i and 2i + 1 are exactly the views the augmenter makes of item i
 * on its own, whatever the number of workers. */
static void check_views_epoch(simclr_dataset *ds, const simclr_augmenter *aug,
                              int workers, float **all_views)
{
    enum { S = 8 };
    simclr_loader_options o;
    simclr_loader *ld;
    simclr_batch *b;
    simclr_status st;
    size_t offset = 0;
    float expect[2 * S * S];

    simclr_loader_options_init(&o);
    o.batch_size = 16;
    o.seed = 5;
    o.num_workers = workers;
    o.augmenter = aug;
    assert_int_equal(simclr_loader_create(ds, &o, &ld), SIMCLR_OK);
    assert_int_equal(simclr_loader_set_epoch(ld, 2), SIMCLR_OK);
    while ((st = simclr_loader_next(ld, &b)) == SIMCLR_OK) {
        size_t shape[4], n = simclr_batch_count(b), i;
        const float *views = simclr_batch_views(b, shape);

        assert_non_null(views);
        assert_int_equal(shape[0], 2 * n);
        assert_int_equal(shape[1], 1);
        assert_int_equal(shape[2], S);
        assert_int_equal(shape[3], S);
        for (i = 0; i < n; i++) {
            size_t index = simclr_batch_indices(b)[i];
            simclr_image *im;

            assert_int_equal(simclr_dataset_get(ds, index, &im), SIMCLR_OK);
            assert_int_equal(simclr_augment_pair(aug, im, 2, index, expect),
                             SIMCLR_OK);
            simclr_image_destroy(im);
            assert_memory_equal(views + i * 2 * S * S, expect,
                                sizeof(expect));
        }
        *all_views = realloc(*all_views,
                             (offset + 2 * n * S * S) * sizeof(float));
        assert_non_null(*all_views);
        memcpy(*all_views + offset, views, 2 * n * S * S * sizeof(float));
        offset += 2 * n * S * S;
        simclr_batch_destroy(b);
    }
    assert_int_equal(st, SIMCLR_ERR_END_OF_DATA);
    assert_int_equal(offset, (size_t)LOADER_ITEMS * 2 * S * S);
    simclr_loader_destroy(ld);
}

static void test_loader_views(void **state)
{
    char *dir, *path = make_indexed_idx(&dir);
    simclr_augment_config cfg;
    simclr_augmenter *aug;
    simclr_dataset *ds;
    simclr_loader_options o;
    simclr_loader *ld;
    simclr_batch *b;
    float *one = NULL, *three = NULL;
    size_t shape[4] = {1, 1, 1, 1};

    (void)state;
    assert_int_equal(simclr_dataset_open(path, NULL, &ds), SIMCLR_OK);
    assert_int_equal(simclr_augment_config_init(&cfg,
                                                SIMCLR_AUGMENT_PRESET_CIFAR),
                     SIMCLR_OK);
    cfg.output_size = 8;
    cfg.seed = 17;
    assert_int_equal(simclr_augmenter_create(&cfg, &aug), SIMCLR_OK);

    check_views_epoch(ds, aug, 1, &one);
    check_views_epoch(ds, aug, 3, &three);
    assert_memory_equal(one, three,
                        (size_t)LOADER_ITEMS * 2 * 8 * 8 * sizeof(float));

    /* Without an augmenter there are no views. */
    simclr_loader_options_init(&o);
    o.batch_size = 4;
    assert_int_equal(simclr_loader_create(ds, &o, &ld), SIMCLR_OK);
    assert_int_equal(simclr_loader_next(ld, &b), SIMCLR_OK);
    assert_null(simclr_batch_views(b, shape));
    assert_int_equal(shape[0] + shape[1] + shape[2] + shape[3], 0);
    assert_null(simclr_batch_views(NULL, NULL));
    simclr_batch_destroy(b);
    simclr_loader_destroy(ld);

    /* Options from a header that predates the augmenter field are read
     * up to their size; the rest keeps its default (no views). Another
     * size is refused. */
    simclr_loader_options_init(&o);
    o.batch_size = 4;
    o.augmenter = aug;
    o.size = offsetof(simclr_loader_options, augmenter);
    assert_int_equal(simclr_loader_create(ds, &o, &ld), SIMCLR_OK);
    assert_int_equal(simclr_loader_next(ld, &b), SIMCLR_OK);
    assert_null(simclr_batch_views(b, NULL));
    simclr_batch_destroy(b);
    simclr_loader_destroy(ld);
    o.size = sizeof(o) + 8;
    assert_int_equal(simclr_loader_create(ds, &o, &ld),
                     SIMCLR_ERR_INVALID_ARGUMENT);

    free(one);
    free(three);
    simclr_augmenter_destroy(aug);
    simclr_dataset_destroy(ds);
    free(path);
    remove_tree(dir);
}

static void test_loader_transform_hook(void **state)
{
    simclr__sample_transform t = {sum_apply, sum_release, &failing_index};
    char *dir, *path = make_indexed_idx(&dir);
    simclr_loader_options o;
    simclr_dataset *ds;
    simclr_loader *ld;
    simclr_batch *b;
    simclr_status st;
    size_t batches = 0, failures = 0, items = 0;

    (void)state;
    assert_int_equal(simclr_dataset_open(path, NULL, &ds), SIMCLR_OK);
    simclr_loader_options_init(&o);
    o.batch_size = 8;
    o.seed = 99;
    o.num_workers = 3;
    failing_index = 50;
    assert_int_equal(simclr_loader_set_epoch(NULL, 1),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr__loader_create(ds, &o, &t, &ld), SIMCLR_OK);
    assert_int_equal(simclr_loader_set_epoch(ld, 3), SIMCLR_OK);
    while ((st = simclr_loader_next(ld, &b)) != SIMCLR_ERR_END_OF_DATA) {
        if (st != SIMCLR_OK) {
            assert_int_equal(st, SIMCLR_ERR_NUMERIC);
            assert_null(b);
            assert_non_null(strstr(simclr_loader_error(ld), "item 50"));
            failures++;
            continue;
        }
        {
            const simclr_image *const *images = simclr_batch_images(b);
            void *const *samples = simclr__batch_samples(b);
            size_t i;

            for (i = 0; i < simclr_batch_count(b); i++) {
                const sum_sample *s = samples[i];
                unsigned sum = 0, k;

                for (k = 0; k < 6; k++)
                    sum += images[i]->data[k];
                assert_int_equal(s->index, simclr_batch_indices(b)[i]);
                assert_int_equal(s->seed, 99);
                assert_int_equal(s->epoch, 3);
                assert_int_equal(s->sum, sum);
                items++;
            }
        }
        simclr_batch_destroy(b);
        batches++;
    }
    assert_int_equal(failures, 1);
    assert_int_equal(batches, 12);
    assert_int_equal(items, LOADER_ITEMS - 8);
    simclr_loader_destroy(ld);
    failing_index = SIZE_MAX;
    simclr_dataset_destroy(ds);
    free(path);
    remove_tree(dir);
}

/* ---- folders of real images ---------------------------------------------- */

/*
 * root/a/photo.jpg  root/a/rgb.png
 * root/b/broken.png (the first 40 bytes of a PNG)  root/b/gray.png
 * root/b/text.jpg   (not an image at all)
 */
static char *make_image_tree(void)
{
    char *root = make_temp_dir();
    char *path;

    make_dir(root, "a");
    make_dir(root, "b");
    path = join(root, "a/photo.jpg");
    copy_file(DATA "/photo_24x16.jpg", path);
    free(path);
    path = join(root, "a/rgb.png");
    copy_file(DATA "/rgb_5x3.png", path);
    free(path);
    path = join(root, "b/gray.png");
    copy_file(DATA "/gray_4x6.png", path);
    free(path);
    path = join(root, "b/broken.png");
    copy_file(DATA "/rgb_5x3.png", path);
    assert_int_equal(truncate(path, 40), 0);
    free(path);
    write_text(root, "b/text.jpg", "this is not a JPEG file");
    return root;
}

static void check_gray_pattern(const simclr_image *im, unsigned channels)
{
    uint32_t y, x, c;

    assert_int_equal(im->width, 4);
    assert_int_equal(im->height, 6);
    assert_int_equal(im->channels, channels);
    for (y = 0; y < 6; y++)
        for (x = 0; x < 4; x++)
            for (c = 0; c < channels; c++)
                assert_int_equal(im->data[y * im->stride + x * channels + c],
                                 pattern(1, y, x, 0));
}

static void test_folder_decodes_images(void **state)
{
    char *root = make_image_tree();
    simclr_dataset_options o;
    simclr_dataset *ds;
    simclr_image *im;

    (void)state;
    start_collecting();
    assert_int_equal(simclr_dataset_open(root, NULL, &ds), SIMCLR_OK);
    assert_int_equal(simclr_dataset_count(ds), 5);
    assert_item(ds, 0, "a/photo.jpg", 0);
    assert_item(ds, 2, "b/broken.png", 1);

    assert_int_equal(simclr_dataset_get(ds, 0, &im), SIMCLR_OK);
    assert_int_equal(im->width, 24);
    assert_int_equal(im->height, 16);
    assert_int_equal(im->channels, 3);
    simclr_image_destroy(im);
    assert_int_equal(simclr_dataset_get(ds, 1, &im), SIMCLR_OK);
    check_rgb_pattern(im, 0, 5, 3);
    simclr_image_destroy(im);
    assert_int_equal(simclr_dataset_get(ds, 3, &im), SIMCLR_OK);
    check_gray_pattern(im, 1);
    simclr_image_destroy(im);

    /* A bad file fails each time it is asked for, but counts once. */
    assert_true(simclr__status_is_bad_file(simclr_dataset_get(ds, 2, &im)));
    assert_null(im);
    assert_non_null(strstr(simclr_dataset_error(ds), "broken.png"));
    assert_true(simclr__status_is_bad_file(simclr_dataset_get(ds, 2, &im)));
    assert_int_equal(simclr_dataset_skipped(ds), 1);
    stop_collecting();
    assert_int_equal(warnings, 1);
    assert_non_null(strstr(first_warning, "broken.png"));
    simclr_dataset_destroy(ds);

    /* Gray sources replicated to RGB on request. */
    simclr_dataset_options_init(&o);
    o.channels = 3;
    assert_int_equal(simclr_dataset_open(root, &o, &ds), SIMCLR_OK);
    assert_int_equal(simclr_dataset_get(ds, 3, &im), SIMCLR_OK);
    check_gray_pattern(im, 3);
    simclr_image_destroy(im);
    simclr_dataset_destroy(ds);
    remove_tree(root);
}

/* Many bad files: the first few are named, the rest only counted. */
static void test_folder_reports_first_bad_files(void **state)
{
    char *root = make_temp_dir();
    char name[32], *good = join(root, "good.png");
    simclr_dataset *ds;
    int i;

    (void)state;
    copy_file(DATA "/rgb_5x3.png", good);
    for (i = 0; i < SIMCLR__DATA_REPORT_MAX + 4; i++) {
        snprintf(name, sizeof(name), "empty%02d.png", i);
        write_text(root, name, "");
    }
    start_collecting();
    assert_int_equal(simclr_dataset_open(root, NULL, &ds), SIMCLR_OK);
    stop_collecting();
    assert_int_equal(simclr_dataset_count(ds), 1);
    assert_int_equal(simclr_dataset_skipped(ds), SIMCLR__DATA_REPORT_MAX + 4);
    /* One line per reported file, and one saying the rest are not. */
    assert_int_equal(warnings, SIMCLR__DATA_REPORT_MAX + 1);
    assert_non_null(strstr(first_warning, "empty00.png"));
    simclr_dataset_destroy(ds);
    free(good);
    remove_tree(root);
}

/* Skip mode: bad images leave holes, the same for any thread count. */
static void test_loader_skips_bad_files(void **state)
{
    size_t first[8], got[8], batches, n, i;
    char *root = make_image_tree();
    static const int workers[] = {1, 3};
    simclr_dataset *ds;
    int w;

    (void)state;
    for (w = 0; w < 2; w++) {
        simclr_loader *ld;
        simclr_batch *b;
        simclr_status st;

        start_collecting();
        assert_int_equal(simclr_dataset_open(root, NULL, &ds), SIMCLR_OK);
        ld = make_loader(ds, 2, 77, workers[w], 2, 0, 1);
        for (n = 0, batches = 0; (st = simclr_loader_next(ld, &b)) == SIMCLR_OK;
             batches++) {
            for (i = 0; i < simclr_batch_count(b); i++)
                got[n++] = simclr_batch_indices(b)[i];
            simclr_batch_destroy(b);
        }
        assert_int_equal(st, SIMCLR_ERR_END_OF_DATA);
        assert_int_equal(n, 3);
        for (i = 0; i < n; i++)
            assert_true(got[i] != 2 && got[i] != 4);
        if (w == 0)
            memcpy(first, got, sizeof(got));
        else
            assert_memory_equal(first, got, n * sizeof(size_t));
        /* A second epoch meets the same bad files without recounting. */
        while (simclr_loader_next(ld, &b) == SIMCLR_OK)
            simclr_batch_destroy(b);
        stop_collecting();
        assert_int_equal(simclr_dataset_skipped(ds), 2);
        assert_int_equal(warnings, 2);
        simclr_loader_destroy(ld);
        simclr_dataset_destroy(ds);
    }
    remove_tree(root);
}

/* Strict mode: the batch holding a bad image fails, the others do not. */
static void test_loader_strict_fails_batch(void **state)
{
    char *root = make_image_tree();
    simclr_dataset *ds;
    simclr_loader *ld;
    simclr_batch *b;
    simclr_status st;

    (void)state;
    assert_int_equal(open_as(root, SIMCLR_DATASET_FOLDER, 1, &ds), SIMCLR_OK);
    ld = make_loader(ds, 2, 0, 2, 3, 0, 0);
    assert_int_equal(simclr_loader_next(ld, &b), SIMCLR_OK);
    assert_int_equal(simclr_batch_count(b), 2);
    simclr_batch_destroy(b);
    st = simclr_loader_next(ld, &b); /* broken.png, gray.png */
    assert_true(simclr__status_is_bad_file(st));
    assert_null(b);
    assert_non_null(strstr(simclr_loader_error(ld), "broken.png"));
    assert_non_null(strstr(simclr_last_error(), "broken.png"));
    st = simclr_loader_next(ld, &b); /* text.jpg */
    assert_true(simclr__status_is_bad_file(st));
    assert_non_null(strstr(simclr_loader_error(ld), "text.jpg"));
    assert_int_equal(simclr_loader_next(ld, &b), SIMCLR_ERR_END_OF_DATA);
    assert_int_equal(simclr_dataset_skipped(ds), 0);
    simclr_loader_destroy(ld);
    simclr_dataset_destroy(ds);
    remove_tree(root);
}

/* ---- Fashion-MNIST ------------------------------------------------------- */

typedef struct fashion_ref {
    size_t count, width, height;
    size_t histogram[10];
    int first_labels[16];
    size_t sum_index[5];
    int sum_label[5];
    long long sum[5];
    long long total;
} fashion_ref;

static void read_fashion_ref(const char *split, fashion_ref *ref)
{
    FILE *f = fopen(DATA "/fashion_mnist.txt", "r");
    char line[512], key[32], name[16];
    size_t sums = 0;
    int at, i;

    assert_non_null(f);
    memset(ref, 0, sizeof(*ref));
    while (fgets(line, sizeof(line), f)) {
        char *p;

        if (sscanf(line, "%15s %31s %n", name, key, &at) != 2 ||
            strcmp(name, split) != 0)
            continue;
        p = line + at;
        if (strcmp(key, "count") == 0) {
            assert_int_equal(sscanf(p, "%zu %zu %zu", &ref->count, &ref->height,
                                    &ref->width),
                             3);
        } else if (strcmp(key, "histogram") == 0) {
            for (i = 0; i < 10; i++)
                ref->histogram[i] = strtoul(p, &p, 10);
        } else if (strcmp(key, "first_labels") == 0) {
            for (i = 0; i < 16; i++)
                ref->first_labels[i] = (int)strtol(p, &p, 10);
        } else if (strcmp(key, "sum") == 0) {
            assert_true(sums < 5);
            assert_int_equal(sscanf(p, "%zu %d %lld", &ref->sum_index[sums],
                                    &ref->sum_label[sums], &ref->sum[sums]),
                             3);
            sums++;
        } else if (strcmp(key, "total") == 0) {
            ref->total = strtoll(p, NULL, 10);
        }
    }
    fclose(f);
    assert_int_equal(sums, 5);
}

static long long pixel_sum(const simclr_image *im)
{
    long long s = 0;
    uint32_t y, x;

    for (y = 0; y < im->height; y++)
        for (x = 0; x < im->width * im->channels; x++)
            s += im->data[y * im->stride + x];
    return s;
}

static void check_fashion_split(simclr_dataset_split split, const char *name)
{
    simclr_dataset_options o;
    simclr_loader_options lo;
    simclr_dataset *ds;
    simclr_loader *ld;
    simclr_batch *b;
    fashion_ref ref;
    size_t hist[10] = {0}, i, seen = 0;
    long long total = 0;

    read_fashion_ref(name, &ref);
    simclr_dataset_options_init(&o);
    o.split = split;
    o.strict = 1;
    assert_int_equal(simclr_dataset_open(FASHION_DIR, &o, &ds), SIMCLR_OK);
    assert_int_equal(simclr_dataset_count(ds), ref.count);
    assert_int_equal(simclr_dataset_num_classes(ds), 10);
    for (i = 0; i < ref.count; i++) {
        int32_t label;

        assert_int_equal(simclr_dataset_label(ds, i, &label), SIMCLR_OK);
        assert_true(label >= 0 && label < 10);
        hist[label]++;
        if (i < 16)
            assert_int_equal(label, ref.first_labels[i]);
    }
    assert_memory_equal(hist, ref.histogram, sizeof(hist));
    for (i = 0; i < 5; i++) {
        simclr_image *im;
        int32_t label;

        assert_int_equal(simclr_dataset_get(ds, ref.sum_index[i], &im),
                         SIMCLR_OK);
        assert_int_equal(im->width, ref.width);
        assert_int_equal(im->height, ref.height);
        assert_int_equal(im->channels, 1);
        assert_int_equal(pixel_sum(im), ref.sum[i]);
        simclr_image_destroy(im);
        assert_int_equal(simclr_dataset_label(ds, ref.sum_index[i], &label),
                         SIMCLR_OK);
        assert_int_equal(label, ref.sum_label[i]);
    }

    /* One shuffled epoch through the loader sees every pixel once. */
    simclr_loader_options_init(&lo);
    lo.batch_size = 512;
    lo.num_workers = 2;
    lo.seed = 5;
    assert_int_equal(simclr_loader_create(ds, &lo, &ld), SIMCLR_OK);
    while (simclr_loader_next(ld, &b) == SIMCLR_OK) {
        const simclr_image *const *images = simclr_batch_images(b);

        for (i = 0; i < simclr_batch_count(b); i++)
            total += pixel_sum(images[i]);
        seen += simclr_batch_count(b);
        simclr_batch_destroy(b);
    }
    assert_int_equal(seen, ref.count);
    assert_int_equal(total, ref.total);
    simclr_loader_destroy(ld);
    simclr_dataset_destroy(ds);
}

static void test_fashion_mnist(void **state)
{
    struct stat sb;
    simclr_dataset *ds;

    (void)state;
    if (stat(FASHION_DIR, &sb) != 0) {
        print_message("skipping: %s is missing (install the Debian package "
                      "dataset-fashion-mnist; scripts/bootstrap.sh does)\n",
                      FASHION_DIR);
        skip();
    }
    check_fashion_split(SIMCLR_SPLIT_TRAIN, "train");
    check_fashion_split(SIMCLR_SPLIT_TEST, "test");

    /* The file itself, found by its magic number; labels beside it. */
    assert_int_equal(simclr_dataset_open(
                         FASHION_DIR "/t10k-images-idx3-ubyte.gz", NULL, &ds),
                     SIMCLR_OK);
    assert_int_equal(simclr_dataset_count(ds), 10000);
    assert_int_equal(simclr_dataset_num_classes(ds), 10);
    simclr_dataset_destroy(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_idx_gz_from_numpy, check_no_leaks),
        cmocka_unit_test_teardown(test_idx_raw_with_labels_path,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_idx_truncated, check_no_leaks),
        cmocka_unit_test_teardown(test_idx_huge_header_rejected,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_idx_bad_headers, check_no_leaks),
        cmocka_unit_test_teardown(test_cifar10_tiny, check_no_leaks),
        cmocka_unit_test_teardown(test_cifar10_gray_matches_pillow,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_cifar100_fine_and_coarse,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_cifar10_directory_with_bad_batch,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_cifar_single_file_truncated,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_stl10_orientation, check_no_leaks),
        cmocka_unit_test_teardown(test_stl10_directory_splits, check_no_leaks),
        cmocka_unit_test_teardown(test_bad_arguments, check_no_leaks),
        cmocka_unit_test_teardown(test_fifo_refused, check_no_leaks),
        cmocka_unit_test_teardown(test_cifar_names_fifo_ignored,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_folder_classes_sorted_and_loop_safe,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_folder_flat_and_options, check_no_leaks),
        cmocka_unit_test_teardown(test_loader_epoch_is_a_permutation,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_loader_thread_count_independent,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_loader_destroy_mid_epoch,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_loader_bad_options, check_no_leaks),
        cmocka_unit_test_teardown(test_loader_transform_hook, check_no_leaks),
        cmocka_unit_test_teardown(test_loader_views, check_no_leaks),
        cmocka_unit_test_teardown(test_folder_decodes_images, check_no_leaks),
        cmocka_unit_test_teardown(test_folder_reports_first_bad_files,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_loader_skips_bad_files, check_no_leaks),
        cmocka_unit_test_teardown(test_loader_strict_fails_batch,
                                  check_no_leaks),
        cmocka_unit_test_teardown(test_fashion_mnist, check_no_leaks),
    };

    return cmocka_run_group_tests_name("dataset", tests, NULL, NULL);
}
