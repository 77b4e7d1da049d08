/*
 * Image decoding: every file of the test corpus gets the verdict Debian's
 * libpng and libjpeg-turbo gave it (tests/data/images/EXPECTED.tsv), a
 * sample decodes to the same pixels as Pillow
 * (tests/data/images/reference.tsv, from tests/ref/gen_image.py), and the
 * options, limits, errors, writer and thread safety behave as documented.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "simclr/simclr.h"

#define DATA SIMCLR_TEST_DATA "/images"

/* ---- utilities -------------------------------------------------------- */

static void data_path(char *buf, size_t n, const char *rel)
{
    if ((size_t)snprintf(buf, n, "%s/%s", DATA, rel) >= n)
        fail_msg("path too long: %s", rel);
}

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static uint64_t fnv1a64(const simclr_image *im)
{
    uint64_t h = 0xcbf29ce484222325ull;
    uint32_t y;
    size_t x;

    for (y = 0; y < im->height; y++)
        for (x = 0; x < (size_t)im->width * im->channels; x++) {
            h ^= im->data[y * im->stride + x];
            h *= 0x100000001b3ull;
        }
    return h;
}

static simclr_image *decode(const char *rel, const simclr_decode_options *o)
{
    char path[512];
    simclr_image *im = NULL;

    data_path(path, sizeof(path), rel);
    if (simclr_image_decode_file(path, o, &im) != SIMCLR_OK)
        fail_msg("%s: %s", rel, simclr_last_error());
    return im;
}

static void assert_same_pixels(const simclr_image *a, const simclr_image *b,
                               const char *what)
{
    uint32_t y;

    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    assert_int_equal(a->channels, b->channels);
    for (y = 0; y < a->height; y++)
        if (memcmp(a->data + y * a->stride, b->data + y * b->stride,
                   (size_t)a->width * a->channels) != 0)
            fail_msg("%s: row %u differs", what, y);
}

/* Split a tab-separated line in place; returns the field count. */
static int split_tabs(char *line, char **fields, int max)
{
    int n = 0;

    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        fields[n++] = line;
        line = strchr(line, '\t');
        if (!line)
            break;
        *line++ = '\0';
    }
    return n;
}

/* ---- the corpus verdicts ------------------------------------------------ */

static int orientation_of(const char *detail)
{
    const char *p = strstr(detail, "exif-orientation=");

    return p ? atoi(p + strlen("exif-orientation=")) : 1;
}

/* One EXPECTED.tsv row, decoded from the file and from memory. */
static void check_verdict(char **f, int *checked)
{
    const char *rel = f[0], *format = f[1], *result = f[2];
    const char *format_name = strcmp(format, "png") == 0 ? "PNG" : "JPEG";
    simclr_decode_options opts;
    simclr_image *im = NULL;
    char path[512];
    uint8_t *bytes;
    size_t size;
    simclr_status st;

    data_path(path, sizeof(path), rel);
    simclr_decode_options_init(&opts);
    st = simclr_image_decode_file(path, &opts, &im);
    if (strcmp(result, "ok") == 0) {
        uint32_t w = (uint32_t)atoi(f[3]), h = (uint32_t)atoi(f[4]);
        uint32_t c = (uint32_t)atoi(f[5]), want_c;

        if (st != SIMCLR_OK)
            fail_msg("%s should decode: %s", rel, simclr_last_error());
        if (orientation_of(f[6]) >= 5) {
            uint32_t t = w;
            w = h;
            h = t;
        }
        /* Gray and gray+alpha PNGs, gray JPEGs keep one channel. */
        want_c = (strcmp(format, "png") == 0 ? c <= 2 : c == 1) ? 1 : 3;
        if (im->width != w || im->height != h || im->channels != want_c)
            fail_msg("%s: %ux%u %u, expected %ux%u %u", rel, im->width,
                     im->height, im->channels, w, h, want_c);
        simclr_image_destroy(im);
    } else {
        /* reject, and ok_with_warnings in the default strict mode */
        if (st == SIMCLR_OK)
            fail_msg("%s (%s) decoded but must fail", rel, result);
        assert_null(im);
        if (!strstr(simclr_last_error(), path))
            fail_msg("%s: message does not name the file: %s", rel,
                     simclr_last_error());
        if (!strstr(simclr_last_error(), format_name) &&
            !strstr(simclr_last_error(), "unknown format"))
            fail_msg("%s: message does not name the format: %s", rel,
                     simclr_last_error());
    }

    /* From memory: the same verdict, the source named "memory buffer". */
    bytes = read_all(path, &size);
    st = simclr_image_decode_memory(bytes, size, &opts, &im);
    assert_int_equal(st == SIMCLR_OK, strcmp(result, "ok") == 0);
    if (st == SIMCLR_OK)
        simclr_image_destroy(im);
    else
        assert_non_null(strstr(simclr_last_error(), "memory buffer"));

    /* Lenient mode may accept what libjpeg-turbo only warned about; an
     * image it returns is complete. */
    if (strcmp(result, "ok_with_warnings") == 0) {
        opts.lenient = 1;
        if (simclr_image_decode_memory(bytes, size, &opts, &im) == SIMCLR_OK) {
            assert_int_equal(im->width, (uint32_t)atoi(f[3]));
            assert_int_equal(im->height, (uint32_t)atoi(f[4]));
            simclr_image_destroy(im);
        }
    }
    free(bytes);
    (*checked)++;
}

static void check_expected_file(const char *rel, int *checked)
{
    char path[512], line[4096];
    FILE *f;

    data_path(path, sizeof(path), rel);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *fields[8];

        if (line[0] == '#' || strncmp(line, "file\t", 5) == 0)
            continue;
        assert_int_equal(split_tabs(line, fields, 8), 7);
        check_verdict(fields, checked);
    }
    fclose(f);
}

static void test_corpus_verdicts(void **state)
{
    int checked = 0;

    (void)state;
    check_expected_file("EXPECTED.tsv", &checked);
    check_expected_file("generated/EXPECTED.tsv", &checked);
    printf("# %d files checked\n", checked);
    assert_true(checked > 480);
    assert_int_equal(simclr_live_allocations(), 0);
}

/* ---- pixels against Pillow ---------------------------------------------- */

static void check_reference(char **f)
{
    const char *rel = f[0];
    simclr_decode_options opts;
    simclr_image *im;
    char what[600];

    simclr_decode_options_init(&opts);
    opts.color = strcmp(f[1], "gray") == 0  ? SIMCLR_COLOR_GRAY
                 : strcmp(f[1], "rgb") == 0 ? SIMCLR_COLOR_RGB
                                            : SIMCLR_COLOR_KEEP;
    opts.alpha =
        strcmp(f[2], "drop") == 0 ? SIMCLR_ALPHA_DROP : SIMCLR_ALPHA_COMPOSITE;
    opts.max_side = (uint32_t)atoi(f[3]);
    snprintf(what, sizeof(what), "%s %s %s max_side %s", rel, f[1], f[2], f[3]);
    im = decode(rel, &opts);
    if (im->width != (uint32_t)atoi(f[4]) ||
        im->height != (uint32_t)atoi(f[5]) ||
        im->channels != (uint32_t)atoi(f[6]))
        fail_msg("%s: %ux%u %u, Pillow %sx%s %s", what, im->width, im->height,
                 im->channels, f[4], f[5], f[6]);
    if (strcmp(f[9], "-") == 0) {
        char hash[32];

        snprintf(hash, sizeof(hash), "%016llx",
                 (unsigned long long)fnv1a64(im));
        if (strcmp(hash, f[8]) != 0)
            fail_msg("%s: pixels differ from Pillow's", what);
    } else {
        char rel_raw[300], path[600];
        int tol = atoi(f[7]);
        size_t size, i;
        uint8_t *ref;

        snprintf(rel_raw, sizeof(rel_raw), "reference/%s", f[9]);
        data_path(path, sizeof(path), rel_raw);
        ref = read_all(path, &size);
        assert_int_equal(size, (size_t)im->width * im->height * im->channels);
        for (i = 0; i < size; i++)
            if (abs((int)ref[i] - (int)im->data[i]) > tol)
                fail_msg("%s: byte %zu is %u, Pillow %u (tolerance %d)", rel, i,
                         im->data[i], ref[i], tol);
        free(ref);
    }
    simclr_image_destroy(im);
}

static void test_pixels_match_pillow(void **state)
{
    char path[512], line[1024];
    int checked = 0;
    FILE *f;

    (void)state;
    data_path(path, sizeof(path), "reference.tsv");
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *fields[10];

        if (line[0] == '#')
            continue;
        assert_int_equal(split_tabs(line, fields, 10), 10);
        check_reference(fields);
        checked++;
    }
    fclose(f);
    printf("# %d references checked\n", checked);
    assert_true(checked > 400);
}

/* ---- PNG specifics ------------------------------------------------------- */

static void test_interlaced_twins(void **state)
{
    static const char *const twins[] = {
        "basi0g01", "basi0g02", "basi0g04", "basi0g08", "basi0g16",
        "basi2c08", "basi2c16", "basi3p01", "basi3p02", "basi3p04",
        "basi3p08", "basi4a08", "basi4a16", "basi6a08", "basi6a16"};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(twins) / sizeof(twins[0]); i++) {
        char a[64], b[64];
        simclr_image *ia, *ib;

        snprintf(a, sizeof(a), "pngsuite/%s.png", twins[i]);
        snprintf(b, sizeof(b), "pngsuite/basn%s.png", twins[i] + 4);
        ia = decode(a, NULL);
        ib = decode(b, NULL);
        assert_same_pixels(ia, ib, a);
        simclr_image_destroy(ia);
        simclr_image_destroy(ib);
    }
}

static void test_16bit_scaling(void **state)
{
    static const unsigned levels[4] = {0, 257, 32896, 65535};
    simclr_image *im = decode("generated/gray16_levels.png", NULL);
    int i;

    (void)state;
    assert_int_equal(im->width, 4);
    assert_int_equal(im->channels, 1);
    for (i = 0; i < 4; i++) /* round(v * 255 / 65535) */
        assert_int_equal(im->data[i], (levels[i] * 255 + 32767) / 65535);
    simclr_image_destroy(im);
}

static void test_background_and_drop(void **state)
{
    simclr_decode_options opts;
    simclr_image *over_black, *dropped;
    size_t i, differ = 0;

    (void)state;
    simclr_decode_options_init(&opts);
    assert_int_equal(opts.background[0], 255);
    memset(opts.background, 0, 3);
    over_black = decode("pngsuite/basn6a08.png", &opts);
    opts.alpha = SIMCLR_ALPHA_DROP;
    dropped = decode("pngsuite/basn6a08.png", &opts);
    /* Over black, every sample is at most the unblended colour. */
    for (i = 0; i < (size_t)dropped->width * dropped->height * 3; i++) {
        assert_true(over_black->data[i] <= dropped->data[i]);
        differ += over_black->data[i] != dropped->data[i];
    }
    assert_true(differ > 0);
    simclr_image_destroy(over_black);
    simclr_image_destroy(dropped);
}

/* ---- JPEG specifics ------------------------------------------------------ */

static void test_orientation(void **state)
{
    simclr_decode_options opts;
    simclr_image *im;

    (void)state;
    im = decode("generated/exif_6.jpg", NULL);
    assert_int_equal(im->width, 24);
    assert_int_equal(im->height, 40);
    simclr_image_destroy(im);

    simclr_decode_options_init(&opts);
    opts.apply_orientation = 0;
    im = decode("generated/exif_6.jpg", &opts);
    assert_int_equal(im->width, 40);
    assert_int_equal(im->height, 24);
    simclr_image_destroy(im);
}

static void test_dct_scaling(void **state)
{
    simclr_decode_options opts;
    simclr_image *im;

    (void)state;
    simclr_decode_options_init(&opts);
    /* testorig is 227x149: 1/8 gives 29 wide, 2/8 gives 57. */
    opts.max_side = 40;
    im = decode("jpeg/testorig.jpg", &opts);
    assert_int_equal(im->width, 57);
    assert_int_equal(im->height, 38);
    simclr_image_destroy(im);
    /* Never larger than stored. */
    opts.max_side = 1000;
    im = decode("jpeg/testorig.jpg", &opts);
    assert_int_equal(im->width, 227);
    simclr_image_destroy(im);
}

static void test_limits(void **state)
{
    simclr_decode_options opts;
    simclr_image *im = NULL;
    char path[512];

    (void)state;
    simclr_decode_options_init(&opts);
    opts.max_pixels = 227 * 149 - 1;
    data_path(path, sizeof(path), "jpeg/testorig.jpg");
    assert_int_equal(simclr_image_decode_file(path, &opts, &im),
                     SIMCLR_ERR_LIMIT);
    assert_non_null(strstr(simclr_last_error(), "limit"));

    simclr_decode_options_init(&opts);
    opts.max_scans = 2;
    data_path(path, sizeof(path), "jpeg/testimgp.jpg");
    assert_int_equal(simclr_image_decode_file(path, &opts, &im),
                     SIMCLR_ERR_LIMIT);
    assert_non_null(strstr(simclr_last_error(), "scans"));
    assert_null(im);

    /* No limit at all is a valid choice too. */
    simclr_decode_options_init(&opts);
    opts.max_pixels = UINT64_MAX;
    assert_int_equal(simclr_image_decode_file(path, &opts, &im), SIMCLR_OK);
    assert_int_equal(im->width, 227);
    simclr_image_destroy(im);
}

/* Largest single allocation the library asked for. */
static size_t largest_request;

static void *track_malloc(void *user, size_t size)
{
    (void)user;
    if (size > largest_request)
        largest_request = size;
    return malloc(size);
}

static void *track_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    if (size > largest_request)
        largest_request = size;
    return realloc(ptr, size);
}

static void track_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

static void test_huge_claims_rejected_fast(void **state)
{
    static const char *const files[] = {"generated/huge_claim.png",
                                        "generated/huge_claim.jpg"};
    simclr_decode_options opts;
    size_t i;

    (void)state;
    assert_int_equal(
        simclr_set_allocator(track_malloc, track_realloc, track_free, NULL),
        SIMCLR_OK);
    for (i = 0; i < 2; i++) {
        char path[512];
        simclr_image *im = NULL;
        clock_t start = clock();

        data_path(path, sizeof(path), files[i]);
        largest_request = 0;
        assert_int_equal(simclr_image_decode_file(path, NULL, &im),
                         SIMCLR_ERR_LIMIT);
        assert_non_null(strstr(simclr_last_error(), "35584x18696"));
        assert_true(largest_request < 1 << 20);
        assert_true(clock() - start < CLOCKS_PER_SEC / 2);
    }
    /* With the pixel limit lifted, the PNG is still refused: its 230 bytes
     * cannot inflate to that many rows. */
    simclr_decode_options_init(&opts);
    opts.max_pixels = UINT64_MAX;
    {
        char path[512];
        simclr_image *im = NULL;

        data_path(path, sizeof(path), files[0]);
        largest_request = 0;
        assert_int_equal(simclr_image_decode_file(path, &opts, &im),
                         SIMCLR_ERR_CORRUPT);
        assert_true(largest_request < 1 << 20);
    }
    assert_int_equal(simclr_set_allocator(NULL, NULL, NULL, NULL), SIMCLR_OK);
}

static void test_truncated(void **state)
{
    simclr_decode_options opts;
    simclr_image *im = NULL;
    char path[512];

    (void)state;
    data_path(path, sizeof(path), "generated/truncated.jpg");
    assert_int_equal(simclr_image_decode_file(path, NULL, &im),
                     SIMCLR_ERR_CORRUPT);
    assert_non_null(strstr(simclr_last_error(), "truncated"));
    simclr_decode_options_init(&opts);
    opts.lenient = 1;
    assert_int_equal(simclr_image_decode_file(path, &opts, &im), SIMCLR_OK);
    assert_int_equal(im->width, 227);
    simclr_image_destroy(im);

    data_path(path, sizeof(path), "generated/truncated.png");
    assert_int_equal(simclr_image_decode_file(path, &opts, &im),
                     SIMCLR_ERR_CORRUPT);
    assert_non_null(strstr(simclr_last_error(), "truncated"));
}

/* Inputs the fuzzer found: each is refused, without large allocations. */
static void test_fuzz_crashers(void **state)
{
    char dir[512];
    struct dirent *e;
    int checked = 0;
    DIR *d;

    (void)state;
    data_path(dir, sizeof(dir), "fuzz-crashers");
    d = opendir(dir);
    assert_non_null(d);
    assert_int_equal(
        simclr_set_allocator(track_malloc, track_realloc, track_free, NULL),
        SIMCLR_OK);
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        simclr_decode_options opts;
        simclr_image *im = NULL;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        simclr_decode_options_init(&opts);
        opts.lenient = 1;
        largest_request = 0;
        if (simclr_image_decode_file(path, &opts, &im) == SIMCLR_OK)
            fail_msg("%s decoded", e->d_name);
        if (largest_request > 64u << 20)
            fail_msg("%s: an allocation of %zu bytes", e->d_name,
                     largest_request);
        checked++;
    }
    closedir(d);
    assert_int_equal(simclr_set_allocator(NULL, NULL, NULL, NULL), SIMCLR_OK);
    assert_true(checked >= 2);
}

/* ---- arguments and messages ---------------------------------------------- */

static void test_errors(void **state)
{
    static const uint8_t zero_width[] = {
        0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I',
        'H',  'D', 'R', 0,   0,    0,    0,    0,    0, 0, 1, 8,  0,
        0,    0,   0,   0,   0,    0,    0,    0,    0, 0, 0, 0,  0};
    simclr_decode_options opts;
    simclr_image *im = (simclr_image *)&opts;

    (void)state;
    assert_int_equal(
        simclr_image_decode_memory(zero_width, sizeof(zero_width), NULL, &im),
        SIMCLR_ERR_CORRUPT);
    assert_null(im);
    assert_string_equal(simclr_last_error(),
                        "memory buffer: PNG: IHDR: invalid width 0");

    assert_int_equal(simclr_image_decode_memory(NULL, 4, NULL, &im),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_image_decode_memory(zero_width, 0, NULL, &im),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(
        simclr_image_decode_memory(zero_width, sizeof(zero_width), NULL, NULL),
        SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_image_decode_file(NULL, NULL, &im),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_image_decode_memory("GIF89a", 6, NULL, &im),
                     SIMCLR_ERR_UNSUPPORTED);
    assert_non_null(strstr(simclr_last_error(), "unknown format"));
    assert_int_equal(simclr_image_decode_file("/nonexistent/x.png", NULL, &im),
                     SIMCLR_ERR_IO);
    assert_non_null(strstr(simclr_last_error(), "/nonexistent/x.png"));
    assert_int_equal(simclr_image_decode_file(DATA, NULL, &im), SIMCLR_ERR_IO);

    simclr_decode_options_init(&opts);
    opts.size = 8;
    assert_int_equal(
        simclr_image_decode_memory(zero_width, sizeof(zero_width), &opts, &im),
        SIMCLR_ERR_INVALID_ARGUMENT);
    simclr_decode_options_init(&opts);
    opts.color = (simclr_color_mode)7;
    assert_int_equal(
        simclr_image_decode_memory(zero_width, sizeof(zero_width), &opts, &im),
        SIMCLR_ERR_INVALID_ARGUMENT);

    assert_int_equal(simclr_image_detect(zero_width, 8), SIMCLR_FORMAT_PNG);
    assert_int_equal(simclr_image_detect("\xff\xd8\xff", 3),
                     SIMCLR_FORMAT_JPEG);
    assert_int_equal(simclr_image_detect("\xff", 1), SIMCLR_FORMAT_UNKNOWN);
    assert_int_equal(simclr_image_detect(NULL, 0), SIMCLR_FORMAT_UNKNOWN);
    assert_string_equal(simclr_image_format_name(SIMCLR_FORMAT_PNG), "PNG");
    assert_string_equal(simclr_image_format_name(SIMCLR_FORMAT_JPEG), "JPEG");
    assert_string_equal(simclr_image_format_name((simclr_image_format)9),
                        "unknown");
    simclr_decode_options_init(NULL);
}

/* A FIFO is refused at once, not waited on until a writer opens it. */
static void test_fifo_refused(void **state)
{
    char dir[] = "/tmp/simclr-image-XXXXXX", fifo[128];
    simclr_image *im = NULL;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(fifo, sizeof(fifo), "%s/pipe.png", dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    alarm(20); /* a blocking open ends the test program */
    assert_int_equal(simclr_image_decode_file(fifo, NULL, &im), SIMCLR_ERR_IO);
    alarm(0);
    assert_null(im);
    assert_non_null(strstr(simclr_last_error(), "not a regular file"));
    assert_int_equal(unlink(fifo), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- the PNG writer -------------------------------------------------------
 */

static void test_write_png_round_trip(void **state)
{
    static const char *const files[] = {"pngsuite/basn2c08.png",
                                        "pngsuite/basn0g08.png"};
    char dir[] = "/tmp/simclr-image-XXXXXX", out[128];
    size_t i;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof(out), "%s/out.png", dir);
    for (i = 0; i < 2; i++) {
        simclr_image *src = decode(files[i], NULL), *back = NULL;

        /* The second write replaces the first file whole. */
        assert_int_equal(simclr_image_write_png(src, out), SIMCLR_OK);
        assert_int_equal(simclr_image_decode_file(out, NULL, &back), SIMCLR_OK);
        assert_same_pixels(src, back, files[i]);
        simclr_image_destroy(src);
        simclr_image_destroy(back);
    }
    /* A view with padding between rows is written without it. */
    {
        uint8_t px[2 * 8] = {1, 2, 3, 4, 5, 6, 9, 9, 7, 8, 9, 10, 11, 12};
        simclr_image view = {px, 2, 2, 3, 8}, *back = NULL;

        assert_int_equal(simclr_image_write_png(&view, out), SIMCLR_OK);
        assert_int_equal(simclr_image_decode_file(out, NULL, &back), SIMCLR_OK);
        assert_same_pixels(&view, back, "strided view");
        simclr_image_destroy(back);
        view.channels = 2;
        assert_int_equal(simclr_image_write_png(&view, out),
                         SIMCLR_ERR_INVALID_ARGUMENT);
    }
    snprintf(out, sizeof(out), "%s/missing/out.png", dir);
    {
        simclr_image *src = decode(files[0], NULL);

        assert_int_equal(simclr_image_write_png(src, out), SIMCLR_ERR_IO);
        simclr_image_destroy(src);
    }
    /* A FIFO or a folder in the way is refused and left as it was. */
    snprintf(out, sizeof(out), "%s/fifo.png", dir);
    assert_int_equal(mkfifo(out, 0600), 0);
    {
        simclr_image *src = decode(files[0], NULL);
        struct stat sb;

        assert_int_equal(simclr_image_write_png(src, out), SIMCLR_ERR_IO);
        assert_non_null(strstr(simclr_last_error(), "not a regular file"));
        assert_int_equal(stat(out, &sb), 0);
        assert_true(S_ISFIFO(sb.st_mode));
        assert_int_equal(unlink(out), 0);
        assert_int_equal(simclr_image_write_png(src, dir), SIMCLR_ERR_IO);
        simclr_image_destroy(src);
    }
    /* Nothing but the output is left in the folder. */
    snprintf(out, sizeof(out), "rm %s/out.png && rmdir %s", dir, dir);
    assert_int_equal(system(out), 0);
    assert_int_equal(simclr_live_allocations(), 0);
}

/* ---- threads ----------------------------------------------------------------
 */

typedef struct thread_job {
    const char *rel;
    uint64_t hash;
    int failures;
} thread_job;

static void *decode_repeatedly(void *arg)
{
    thread_job *job = arg;
    int i;

    for (i = 0; i < 20; i++) {
        char path[512];
        simclr_image *im = NULL;

        data_path(path, sizeof(path), job->rel);
        if (simclr_image_decode_file(path, NULL, &im) != SIMCLR_OK ||
            fnv1a64(im) != job->hash)
            job->failures++;
        simclr_image_destroy(im);
    }
    return NULL;
}

static void test_threads(void **state)
{
    thread_job jobs[3] = {{"jpeg/testimgp.jpg", 0, 0},
                          {"pngsuite/basi6a08.png", 0, 0},
                          {"generated/exif_8.jpg", 0, 0}};
    pthread_t threads[3];
    int i;

    (void)state;
    for (i = 0; i < 3; i++) {
        simclr_image *im = decode(jobs[i].rel, NULL);

        jobs[i].hash = fnv1a64(im);
        simclr_image_destroy(im);
    }
    for (i = 0; i < 3; i++)
        assert_int_equal(
            pthread_create(&threads[i], NULL, decode_repeatedly, &jobs[i]), 0);
    for (i = 0; i < 3; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_verdicts),
        cmocka_unit_test(test_pixels_match_pillow),
        cmocka_unit_test(test_interlaced_twins),
        cmocka_unit_test(test_16bit_scaling),
        cmocka_unit_test(test_background_and_drop),
        cmocka_unit_test(test_orientation),
        cmocka_unit_test(test_dct_scaling),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_huge_claims_rejected_fast),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_fuzz_crashers),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_fifo_refused),
        cmocka_unit_test(test_write_png_round_trip),
        cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
