/*
 * The safetensors reader and writer (lib/io/safetensors.h): round trips
 * of every dtype, a file written by the NumPy module the weight tools use
 * (tests/ref/gen_safetensors.py), every kind of corrupt header, every
 * truncation of a valid file, and atomic replacement when a write fails.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "simclr/simclr.h"
#include "io/safetensors.h"

static char dir[] = "/tmp/simclr-st-XXXXXX";

static void path_in_dir(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* Files in the test folder other than . and .. */
static int files_in_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* ---- round trip -----------------------------------------------------------
 */

static const float f32_data[6] = {1.5f, -2.25f, 3.0e-38f, 0.0f, -0.0f, 7e30f};
static const int64_t i64_data[1] = {-9000000000000000000LL};
static const uint16_t bf16_data[4] = {0x3f80, 0xc000, 0x7f80, 0x0001};
static const float scalar_data[1] = {42.0f};

static void write_all_dtypes(const char *path)
{
    static const uint64_t s23[2] = {2, 3}, s4[1] = {4}, s05[2] = {0, 5};
    simclr__st_writer *w;
    simclr__error err = {{0}};

    assert_int_equal(simclr__st_writer_create(&w), SIMCLR_OK);
    assert_int_equal(simclr__st_add(w, "layer1.0.conv1.weight",
                                    SIMCLR__DTYPE_F32, 2, s23, f32_data),
                     SIMCLR_OK);
    assert_int_equal(simclr__st_add(w, "bn1.num_batches_tracked",
                                    SIMCLR__DTYPE_I64, 0, NULL, i64_data),
                     SIMCLR_OK);
    assert_int_equal(
        simclr__st_add(w, "half/weights", SIMCLR__DTYPE_BF16, 1, s4, bf16_data),
        SIMCLR_OK);
    assert_int_equal(
        simclr__st_add(w, "empty", SIMCLR__DTYPE_F32, 2, s05, NULL), SIMCLR_OK);
    assert_int_equal(simclr__st_add(w, "scale \"q\" \xc3\xa9",
                                    SIMCLR__DTYPE_F32, 0, NULL, scalar_data),
                     SIMCLR_OK);
    assert_int_equal(simclr__st_add_metadata(w, "format", "simclr-encoder"),
                     SIMCLR_OK);
    assert_int_equal(simclr__st_add_metadata(w, "mean", "0.4914,0.4822,0.4465"),
                     SIMCLR_OK);
    assert_int_equal(simclr__st_write(w, path, &err), SIMCLR_OK);
    simclr__st_writer_destroy(w);
}

static void check_tensor(const simclr__st_file *f, size_t i, const char *name,
                         simclr__dtype dtype, uint32_t ndim,
                         const uint64_t *shape, const void *data, size_t nbytes)
{
    const simclr__st_tensor *t = simclr__st_at(f, i);
    uint32_t d;

    assert_non_null(t);
    assert_string_equal(t->name, name);
    assert_ptr_equal(simclr__st_find(f, name), t);
    assert_int_equal(t->dtype, dtype);
    assert_int_equal(t->ndim, ndim);
    for (d = 0; d < ndim; d++)
        assert_int_equal(t->shape[d], shape[d]);
    assert_int_equal(t->nbytes, nbytes);
    if (nbytes)
        assert_memory_equal(t->data, data, nbytes);
}

static void check_all_dtypes(const simclr__st_file *f)
{
    static const uint64_t s23[2] = {2, 3}, s4[1] = {4}, s05[2] = {0, 5};

    /* Offset order is insertion order; the empty tensor sits between. */
    assert_int_equal(simclr__st_count(f), 5);
    check_tensor(f, 0, "layer1.0.conv1.weight", SIMCLR__DTYPE_F32, 2, s23,
                 f32_data, sizeof(f32_data));
    check_tensor(f, 1, "bn1.num_batches_tracked", SIMCLR__DTYPE_I64, 0, NULL,
                 i64_data, sizeof(i64_data));
    check_tensor(f, 2, "half/weights", SIMCLR__DTYPE_BF16, 1, s4, bf16_data,
                 sizeof(bf16_data));
    check_tensor(f, 3, "empty", SIMCLR__DTYPE_F32, 2, s05, NULL, 0);
    check_tensor(f, 4, "scale \"q\" \xc3\xa9", SIMCLR__DTYPE_F32, 0, NULL,
                 scalar_data, sizeof(scalar_data));
    assert_null(simclr__st_at(f, 5));
    assert_null(simclr__st_find(f, "missing"));
    assert_string_equal(simclr__st_metadata(f, "format"), "simclr-encoder");
    assert_string_equal(simclr__st_metadata(f, "mean"), "0.4914,0.4822,0.4465");
    assert_null(simclr__st_metadata(f, "std"));
}

static void test_round_trip(void **state)
{
    simclr__error err = {{0}};
    simclr__st_file *f;
    char path[256];
    uint8_t *bytes;
    uint64_t header_len = 0;
    size_t size, i;

    (void)state;
    path_in_dir(path, sizeof(path), "all.safetensors");
    write_all_dtypes(path);
    assert_int_equal(simclr__st_open(path, &err, &f), SIMCLR_OK);
    assert_string_equal(simclr__st_source(f), path);
    check_all_dtypes(f);
    simclr__st_close(f);

    /* The layout: a header padded with spaces to a multiple of 8, the
     * data right after it. */
    bytes = read_file(path, &size);
    for (i = 0; i < 8; i++)
        header_len |= (uint64_t)bytes[i] << (8 * i);
    assert_int_equal(header_len % 8, 0);
    assert_int_equal(bytes[8], '{');
    assert_int_equal(size, 8 + header_len + sizeof(f32_data) +
                               sizeof(i64_data) + sizeof(bf16_data) +
                               sizeof(scalar_data));
    assert_int_equal(simclr__st_open_memory(bytes, size, "copy", &err, &f),
                     SIMCLR_OK);
    assert_string_equal(simclr__st_source(f), "copy");
    check_all_dtypes(f);
    simclr__st_close(f);
    free(bytes);

    /* A second write replaces the first whole; nothing is left over. */
    write_all_dtypes(path);
    assert_int_equal(files_in_dir(), 1);
    unlink(path);
    assert_int_equal(simclr_live_allocations(), 0);
}

static void test_empty_file(void **state)
{
    simclr__error err = {{0}};
    simclr__st_writer *w;
    simclr__st_file *f;
    char path[256];
    uint8_t *bytes;
    size_t size;

    (void)state;
    path_in_dir(path, sizeof(path), "empty.safetensors");
    assert_int_equal(simclr__st_writer_create(&w), SIMCLR_OK);
    assert_int_equal(simclr__st_write(w, path, &err), SIMCLR_OK);
    simclr__st_writer_destroy(w);
    bytes = read_file(path, &size);
    /* As the reference implementation writes it: "{}" and 6 spaces. */
    assert_int_equal(size, 16);
    assert_memory_equal(bytes, "\x08\0\0\0\0\0\0\0{}      ", 16);
    free(bytes);
    assert_int_equal(simclr__st_open(path, &err, &f), SIMCLR_OK);
    assert_int_equal(simclr__st_count(f), 0);
    simclr__st_close(f);
    unlink(path);
}

static void test_read_f32(void **state)
{
    static const uint64_t s23[2] = {2, 3}, s32[2] = {3, 2}, s6[1] = {6};
    simclr__error err = {{0}};
    simclr__st_file *f;
    char path[256];
    float dst[6];

    (void)state;
    path_in_dir(path, sizeof(path), "read.safetensors");
    write_all_dtypes(path);
    assert_int_equal(simclr__st_open(path, &err, &f), SIMCLR_OK);

    assert_int_equal(
        simclr__st_read_f32(f, "layer1.0.conv1.weight", 2, s23, dst, &err),
        SIMCLR_OK);
    assert_memory_equal(dst, f32_data, sizeof(f32_data));
    assert_int_equal(
        simclr__st_read_f32(f, "scale \"q\" \xc3\xa9", 0, NULL, dst, &err),
        SIMCLR_OK);
    assert_true(dst[0] == 42.0f);

    assert_int_equal(
        simclr__st_read_f32(f, "layer1.0.conv1.weight", 2, s32, dst, &err),
        SIMCLR_ERR_SHAPE);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "tensor layer1.0.conv1.weight has shape "
                                    "[2, 3], expected [3, 2]"));
    assert_int_equal(
        simclr__st_read_f32(f, "layer1.0.conv1.weight", 1, s6, dst, &err),
        SIMCLR_ERR_SHAPE);
    assert_non_null(strstr(err.msg, "[2, 3], expected [6]"));
    assert_int_equal(simclr__st_read_f32(f, "conv1.weight", 1, s6, dst, &err),
                     SIMCLR_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, "missing tensor conv1.weight"));
    assert_string_equal(simclr_last_error(), err.msg);
    assert_int_equal(
        simclr__st_read_f32(f, "bn1.num_batches_tracked", 0, NULL, dst, &err),
        SIMCLR_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, "has dtype I64, expected F32"));

    simclr__st_close(f);
    unlink(path);
}

static void test_writer_refuses(void **state)
{
    static const uint64_t s2[1] = {2};
    static const uint64_t huge[2] = {1ull << 40, 1ull << 40};
    static const uint64_t s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    simclr__st_writer *w;

    (void)state;
    assert_int_equal(simclr__st_writer_create(&w), SIMCLR_OK);
    assert_int_equal(simclr__st_add(w, "a", SIMCLR__DTYPE_F32, 1, s2, f32_data),
                     SIMCLR_OK);
    assert_int_equal(simclr__st_add(w, "a", SIMCLR__DTYPE_F32, 1, s2, f32_data),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(simclr_last_error(), "tensor a is added twice"));
    assert_int_equal(
        simclr__st_add(w, "__metadata__", SIMCLR__DTYPE_F32, 1, s2, f32_data),
        SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr__st_add(w, "b", SIMCLR__DTYPE_F32, 1, s2, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr__st_add(w, "c", SIMCLR__DTYPE_F32, 9, s9, f32_data),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(
        simclr__st_add(w, "d", SIMCLR__DTYPE_F32, 2, huge, f32_data),
        SIMCLR_ERR_LIMIT);
    assert_int_equal(simclr__st_add(w, "e", (simclr__dtype)7, 1, s2, f32_data),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr__st_add_metadata(w, "k", "v"), SIMCLR_OK);
    assert_int_equal(simclr__st_add_metadata(w, "k", "w"),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    simclr__st_writer_destroy(w);
    simclr__st_writer_destroy(NULL);
    simclr__st_close(NULL);
}

/* ---- a file written by the NumPy module ------------------------------------
 */

static void hex_decode(const char *hex, char *out, size_t cap)
{
    size_t i;

    for (i = 0; hex[2 * i] && i + 1 < cap; i++) {
        unsigned v;

        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (char)v;
    }
    out[i] = '\0';
}

static void test_python_reference(void **state)
{
    simclr__error err = {{0}};
    simclr__st_file *f;
    char line[4096];
    size_t index = 0;
    FILE *ref;

    (void)state;
    assert_int_equal(simclr__st_open(SIMCLR_TEST_DATA
                                     "/safetensors/reference.safetensors",
                                     &err, &f),
                     SIMCLR_OK);
    ref = fopen(SIMCLR_TEST_DATA "/safetensors/reference.txt", "r");
    assert_non_null(ref);
    while (fgets(line, sizeof(line), ref)) {
        char name[256], dtype[8], key[64], value[256], *tok;
        const simclr__st_tensor *t;
        uint64_t shape[SIMCLR__ST_MAX_DIMS], elements = 1;
        unsigned ndim, d;
        uint64_t e;

        if (line[0] == '#')
            continue;
        if (sscanf(line, "meta %63s %255s", key, value) == 2) {
            assert_non_null(simclr__st_metadata(f, key));
            assert_string_equal(simclr__st_metadata(f, key), value);
            continue;
        }
        tok = strtok(line, " \n");
        hex_decode(tok, name, sizeof(name));
        snprintf(dtype, sizeof(dtype), "%s", strtok(NULL, " \n"));
        ndim = (unsigned)strtoul(strtok(NULL, " \n"), NULL, 10);
        for (d = 0; d < ndim; d++) {
            shape[d] = strtoull(strtok(NULL, " \n"), NULL, 10);
            elements *= shape[d];
        }
        t = simclr__st_at(f, index++);
        assert_non_null(t);
        assert_string_equal(t->name, name);
        assert_int_equal(t->ndim, ndim);
        for (d = 0; d < ndim; d++)
            assert_int_equal(t->shape[d], shape[d]);
        if (strcmp(dtype, "F32") == 0) {
            float *got = malloc(elements * sizeof(float) + 1);

            assert_int_equal(t->dtype, SIMCLR__DTYPE_F32);
            assert_int_equal(
                simclr__st_read_f32(f, name, ndim, shape, got, &err),
                SIMCLR_OK);
            for (e = 0; e < elements; e++)
                assert_true(got[e] == strtof(strtok(NULL, " \n"), NULL));
            free(got);
        } else {
            int64_t v;

            assert_string_equal(dtype, "I64");
            assert_int_equal(t->dtype, SIMCLR__DTYPE_I64);
            assert_int_equal(elements, 1);
            memcpy(&v, t->data, 8);
            assert_int_equal(v, strtoll(strtok(NULL, " \n"), NULL, 10));
        }
        assert_null(strtok(NULL, " \n"));
    }
    fclose(ref);
    assert_int_equal(simclr__st_count(f), index);
    simclr__st_close(f);
}

static void test_python_unsupported_dtype(void **state)
{
    simclr__error err = {{0}};
    simclr__st_file *f = (simclr__st_file *)&err;

    (void)state;
    assert_int_equal(simclr__st_open(SIMCLR_TEST_DATA
                                     "/safetensors/unsupported.safetensors",
                                     &err, &f),
                     SIMCLR_ERR_UNSUPPORTED);
    assert_null(f);
    assert_non_null(strstr(err.msg, "unsupported.safetensors: tensor "
                                    "half.weight: dtype F16 is not "
                                    "supported"));
}

/* ---- corrupt files ----------------------------------------------------------
 */

/* A file of @p header (length taken as given) and @p data_len bytes of
 * data, opened from memory. */
static simclr_status open_crafted_n(const char *header, size_t hlen,
                                    size_t data_len, simclr__error *err)
{
    size_t size = 8 + hlen + data_len, i;
    uint8_t *bytes = calloc(1, size);
    simclr__st_file *f = NULL;
    simclr_status st;

    assert_non_null(bytes);
    for (i = 0; i < 8; i++)
        bytes[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(bytes + 8, header, hlen);
    st = simclr__st_open_memory(bytes, size, "w.safetensors", err, &f);
    free(bytes);
    if (st == SIMCLR_OK)
        simclr__st_close(f);
    else
        assert_null(f);
    assert_int_equal(simclr_live_allocations(), 0);
    return st;
}

static simclr_status open_crafted(const char *header, size_t data_len,
                                  simclr__error *err)
{
    return open_crafted_n(header, strlen(header), data_len, err);
}

#define E(body) "{\"t\":{" body "}}"
#define T       "\"dtype\":\"F32\",\"shape\":[2]"

static const struct {
    const char *header;
    size_t data_len;
    simclr_status status;
    const char *message;
} corrupt[] = {
    {"{", 0, SIMCLR_ERR_CORRUPT, "not valid JSON"},
    {"{\"t\":{'dtype':1}}", 0, SIMCLR_ERR_CORRUPT, "not valid JSON"},
    {"{\"t\":{\"dtype\":'F32'}}", 0, SIMCLR_ERR_CORRUPT, "not valid JSON"},
    {"{\"t\":{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,0]}}", 0,
     SIMCLR_ERR_CORRUPT, "shape[0] is not a non-negative integer"},
    {E("\"dtype\":\"F32\",\"shape\":[18446744073709551616,0],"
       "\"data_offsets\":[0,0]"),
     0, SIMCLR_ERR_CORRUPT, "shape[0] is not a non-negative integer"},
    {"[1, 2]", 0, SIMCLR_ERR_CORRUPT, "the header is not a JSON object"},
    {"\"text\"", 0, SIMCLR_ERR_CORRUPT, "the header is not a JSON object"},
    {"{} {}", 0, SIMCLR_ERR_CORRUPT, "not valid JSON"},
    {"{\"t\xff\":{}}", 0, SIMCLR_ERR_CORRUPT, "not valid JSON"},
    {"{\"t\":[]}", 0, SIMCLR_ERR_CORRUPT, "tensor t: the entry is not a JSON"},
    {E("\"shape\":[2],\"data_offsets\":[0,8]"), 8, SIMCLR_ERR_CORRUPT,
     "tensor t: dtype is missing"},
    {E("\"dtype\":3,\"shape\":[2],\"data_offsets\":[0,8]"), 8,
     SIMCLR_ERR_CORRUPT, "tensor t: dtype is not a string"},
    {E("\"dtype\":\"F32\",\"data_offsets\":[0,8]"), 8, SIMCLR_ERR_CORRUPT,
     "tensor t: shape is missing"},
    {E(T), 8, SIMCLR_ERR_CORRUPT, "tensor t: data_offsets is missing"},
    {E("\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]"), 8,
     SIMCLR_ERR_CORRUPT, "tensor t: shape[0] is not a non-negative integer"},
    {E("\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]"), 8,
     SIMCLR_ERR_CORRUPT, "tensor t: shape[0] is not a non-negative integer"},
    {E("\"dtype\":\"F32\",\"shape\":[1,\"2\"],\"data_offsets\":[0,8]"), 8,
     SIMCLR_ERR_CORRUPT, "tensor t: shape[1] is not a non-negative integer"},
    {E("\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]"), 8,
     SIMCLR_ERR_CORRUPT, "tensor t: shape is not an array"},
    {E("\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],"
       "\"data_offsets\":[0,8]"),
     8, SIMCLR_ERR_UNSUPPORTED, "tensor t: 9 dimensions, at most 8"},
    {E(T ",\"data_offsets\":[0]"), 8, SIMCLR_ERR_CORRUPT,
     "tensor t: data_offsets is not an array of two integers"},
    {E(T ",\"data_offsets\":[0,8,8]"), 8, SIMCLR_ERR_CORRUPT,
     "tensor t: data_offsets is not an array of two integers"},
    {E(T ",\"data_offsets\":[0,-8]"), 8, SIMCLR_ERR_CORRUPT,
     "tensor t: data_offsets are not non-negative integers"},
    {E(T ",\"data_offsets\":[0,8.5]"), 8, SIMCLR_ERR_CORRUPT,
     "tensor t: data_offsets are not non-negative integers"},
    {E(T ",\"data_offsets\":[0,18446744073709551616]"), 8, SIMCLR_ERR_CORRUPT,
     "tensor t:"},
    {E(T ",\"data_offsets\":[10,5]"), 10, SIMCLR_ERR_CORRUPT,
     "w.safetensors: tensor t: data_offsets [10, 5] are reversed"},
    {E(T ",\"data_offsets\":[0,16]"), 8, SIMCLR_ERR_CORRUPT,
     "tensor t: data_offsets [0, 16] run past the end of the data (8 bytes)"},
    {E(T ",\"data_offsets\":[0,12]"), 12, SIMCLR_ERR_CORRUPT,
     "tensor t: 12 bytes for 2 F32 elements, expected 8"},
    {E("\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],"
       "\"data_offsets\":[0,8]"),
     8, SIMCLR_ERR_CORRUPT, "tensor t: the element count of the shape"},
    {E("\"dtype\":\"I64\",\"shape\":[4611686018427387904],"
       "\"data_offsets\":[0,8]"),
     8, SIMCLR_ERR_CORRUPT, "tensor t: the byte size of the shape overflows"},
    {E(T ",\"data_offsets\":[0,8],\"extra\":1"), 8, SIMCLR_ERR_CORRUPT,
     "tensor t: unknown field \"extra\""},
    {E("\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]"), 4,
     SIMCLR_ERR_UNSUPPORTED, "tensor t: dtype F16 is not supported"},
    {E("\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]"), 2,
     SIMCLR_ERR_UNSUPPORTED, "tensor t: dtype U8 is not supported"},
    {E("\"dtype\":\"F32\\u0000\",\"shape\":[2],\"data_offsets\":[0,8]"), 8,
     SIMCLR_ERR_UNSUPPORTED, "tensor t: dtype F32 is not supported"},
    /* Together the byte ranges must tile the data exactly. */
    {"{\"a\":{" T ",\"data_offsets\":[0,8]},"
     "\"b\":{" T ",\"data_offsets\":[4,12]}}",
     12, SIMCLR_ERR_CORRUPT,
     "tensor b: data_offsets [4, 12] overlap those of tensor a"},
    {"{\"a\":{" T ",\"data_offsets\":[0,8]},"
     "\"b\":{" T ",\"data_offsets\":[0,8]}}",
     8, SIMCLR_ERR_CORRUPT, "overlap those of tensor"},
    {"{\"a\":{" T ",\"data_offsets\":[0,8]},"
     "\"b\":{" T ",\"data_offsets\":[12,20]}}",
     20, SIMCLR_ERR_CORRUPT,
     "tensor b: data_offsets [12, 20] leave bytes [8, 12) of the data to no "
     "tensor"},
    {E(T ",\"data_offsets\":[4,12]"), 12, SIMCLR_ERR_CORRUPT,
     "leave bytes [0, 4) of the data to no tensor"},
    {E(T ",\"data_offsets\":[0,8]"), 9, SIMCLR_ERR_CORRUPT,
     "bytes [8, 9) of the data belong to no tensor"},
    {"{}", 1, SIMCLR_ERR_CORRUPT, "bytes [0, 1) of the data belong to no"},
    /* Names and keys given twice, which json-c alone would merge. */
    {"{\"a\":{" T ",\"data_offsets\":[0,8]},"
     "\"a\":{" T ",\"data_offsets\":[0,8]}}",
     8, SIMCLR_ERR_CORRUPT, "tensor a appears twice in the header"},
    {"{\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
     "\"y\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
     "\"\\u0078\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}",
     0, SIMCLR_ERR_CORRUPT, "tensor x appears twice in the header"},
    {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, SIMCLR_ERR_CORRUPT,
     "__metadata__ appears twice"},
    {E(T ",\"shape\":[2],\"data_offsets\":[0,8]"), 8, SIMCLR_ERR_CORRUPT,
     "tensor t: a key appears twice in its entry"},
    {"{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, SIMCLR_ERR_CORRUPT,
     "__metadata__: a key appears twice"},
    {"{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[0],"
     "\"data_offsets\":[0,0]}}",
     0, SIMCLR_ERR_CORRUPT, "contains a NUL character"},
    /* Metadata: an object of strings. */
    {"{\"__metadata__\":[]}", 0, SIMCLR_ERR_CORRUPT,
     "__metadata__ is not a JSON object"},
    {"{\"__metadata__\":{\"epoch\":3}}", 0, SIMCLR_ERR_CORRUPT,
     "__metadata__: the value of \"epoch\" is not a string"},
    {"{\"__metadata__\":{\"k\":null}}", 0, SIMCLR_ERR_CORRUPT,
     "the value of \"k\" is not a string"},
    {"{\"__metadata__\":{\"k\":\"a\\u0000b\"}}", 0, SIMCLR_ERR_CORRUPT,
     "the value of \"k\" is not a string"},
};

static void test_corrupt_headers(void **state)
{
    simclr__error err;
    size_t i;

    (void)state;
    for (i = 0; i < SIMCLR__ARRAY_SIZE(corrupt); i++) {
        /* Newer json-c (Debian 13) refuses integers beyond 64 bits while
         * parsing instead of clamping them: its message is also right. */
        const char *alt =
            strstr(corrupt[i].header, "18446744073709551616") ? "not valid JSON"
                                                              : NULL;
        simclr_status st;

        memset(&err, 0, sizeof(err));
        st = open_crafted(corrupt[i].header, corrupt[i].data_len, &err);
        if (st != corrupt[i].status ||
            (!strstr(err.msg, corrupt[i].message) &&
             !(alt && strstr(err.msg, alt))) ||
            !strstr(err.msg, "w.safetensors: "))
            fail_msg("header %s: %s (%s), expected %s with \"%s\"",
                     corrupt[i].header, simclr_status_name(st), err.msg,
                     simclr_status_name(corrupt[i].status), corrupt[i].message);
    }

    /* A NUL byte after the object is not white space. */
    assert_int_equal(open_crafted_n("{}\0     ", 8, 0, &err),
                     SIMCLR_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, "followed by more than white space"));

    /* The same shapes are accepted when the data matches. */
    assert_int_equal(open_crafted(E(T ",\"data_offsets\":[0,8]"), 8, &err),
                     SIMCLR_OK);
    assert_int_equal(open_crafted("  {\"a\":{" T ",\"data_offsets\":[8,16]},"
                                  "\"b\":{" T ",\"data_offsets\":[0,8]}}\t\n  ",
                                  16, &err),
                     SIMCLR_OK);
    assert_int_equal(
        open_crafted(E("\"dtype\":\"F32\",\"shape\":[1099511627776,0],"
                       "\"data_offsets\":[0,0]"),
                     0, &err),
        SIMCLR_OK);
}

static void test_header_length(void **state)
{
    static const struct {
        uint64_t len;
        simclr_status status;
        const char *message;
    } cases[] = {
        {UINT64_MAX, SIMCLR_ERR_CORRUPT, "not a safetensors file?"},
        {100000001, SIMCLR_ERR_CORRUPT, "runs past the end of the file"},
        {100000000, SIMCLR_ERR_CORRUPT, "runs past the end of the file"},
        {9, SIMCLR_ERR_CORRUPT,
         "header length 9 runs past the end of the "
         "file (16 bytes)"},
    };
    uint8_t bytes[16] = {0, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    simclr__error err;
    simclr__st_file *f;
    size_t i, b;

    (void)state;
    for (i = 0; i < SIMCLR__ARRAY_SIZE(cases); i++) {
        for (b = 0; b < 8; b++)
            bytes[b] = (uint8_t)(cases[i].len >> (8 * b));
        assert_int_equal(
            simclr__st_open_memory(bytes, sizeof(bytes), "h", &err, &f),
            cases[i].status);
        assert_non_null(strstr(err.msg, cases[i].message));
    }
    /* A header above the limit inside a file that holds it. */
    {
        size_t big = 8 + 100000001;
        uint8_t *huge = calloc(big, 1);

        assert_non_null(huge);
        for (b = 0; b < 8; b++)
            huge[b] = (uint8_t)(100000001ull >> (8 * b));
        assert_int_equal(simclr__st_open_memory(huge, big, "h", &err, &f),
                         SIMCLR_ERR_LIMIT);
        assert_non_null(strstr(err.msg, "header length 100000001 is above "
                                        "the limit of 100000000 bytes"));
        free(huge);
    }
    assert_int_equal(simclr__st_open_memory(bytes, 7, "h", &err, &f),
                     SIMCLR_ERR_CORRUPT);
    assert_string_equal(err.msg,
                        "h: 7 bytes are too few for a safetensors file");
    assert_int_equal(simclr__st_open_memory(NULL, 0, NULL, &err, &f),
                     SIMCLR_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, "memory buffer: 0 bytes"));
    assert_int_equal(simclr__st_open("/nonexistent/w.safetensors", &err, &f),
                     SIMCLR_ERR_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/w.safetensors: cannot"));
    assert_int_equal(simclr__st_open(dir, &err, &f), SIMCLR_ERR_IO);
    assert_int_equal(simclr_live_allocations(), 0);
}

/* Every proper prefix of a valid file fails cleanly. */
static void test_every_truncation(void **state)
{
    simclr__error err;
    simclr__st_file *f;
    char path[256];
    uint8_t *bytes;
    size_t size, n;

    (void)state;
    path_in_dir(path, sizeof(path), "trunc.safetensors");
    write_all_dtypes(path);
    bytes = read_file(path, &size);
    for (n = 0; n < size; n++) {
        /* A heap copy of exactly n bytes, so ASan sees any overread. */
        uint8_t *prefix = malloc(n ? n : 1);
        simclr_status st;

        memcpy(prefix, bytes, n);
        st = simclr__st_open_memory(prefix, n, "t", &err, &f);
        free(prefix);
        if (st == SIMCLR_OK || f != NULL)
            fail_msg("a prefix of %zu of %zu bytes was accepted", n, size);
        assert_int_equal(simclr_live_allocations(), 0);
    }
    assert_int_equal(simclr__st_open_memory(bytes, size, "t", &err, &f),
                     SIMCLR_OK);
    simclr__st_close(f);
    free(bytes);
    unlink(path);
}

/* ---- atomic replacement
 * ------------------------------------------------------ */

static int allocations_left = -1;

static void *failing_malloc(void *user, size_t size)
{
    (void)user;
    if (allocations_left == 0)
        return NULL;
    if (allocations_left > 0)
        allocations_left--;
    return malloc(size);
}

static void *failing_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    if (allocations_left == 0)
        return NULL;
    if (allocations_left > 0)
        allocations_left--;
    return realloc(ptr, size);
}

static void failing_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

static void assert_file_is(const char *path, const uint8_t *bytes, size_t size)
{
    size_t got_size;
    uint8_t *got = read_file(path, &got_size);

    assert_int_equal(got_size, size);
    assert_memory_equal(got, bytes, size);
    free(got);
}

static void test_failed_write_keeps_old_file(void **state)
{
    static float big[4096];
    static const uint64_t s[1] = {4096};
    simclr__error err = {{0}};
    simclr__st_writer *w;
    struct rlimit old_limit, limit;
    struct stat st;
    char path[256], missing[256];
    uint8_t *old;
    size_t old_size;

    (void)state;
    path_in_dir(path, sizeof(path), "keep.safetensors");
    write_all_dtypes(path);
    chmod(path, 0600);
    old = read_file(path, &old_size);
    assert_int_equal(simclr__st_writer_create(&w), SIMCLR_OK);
    assert_int_equal(simclr__st_add(w, "big", SIMCLR__DTYPE_F32, 1, s, big),
                     SIMCLR_OK);

    /* The disk fills up in the middle of the data (a file size limit). */
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_limit);
    limit = old_limit;
    limit.rlim_cur = 1000;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &limit), 0);
    assert_int_equal(simclr__st_write(w, path, &err), SIMCLR_ERR_IO);
    setrlimit(RLIMIT_FSIZE, &old_limit);
    assert_non_null(strstr(err.msg, path));
    assert_file_is(path, old, old_size);
    assert_int_equal(files_in_dir(), 1);

    /* No memory for the temporary name. */
    allocations_left = 0;
    assert_int_equal(simclr_set_allocator(failing_malloc, failing_realloc,
                                          failing_free, NULL),
                     SIMCLR_ERR_STATE); /* the writer is still live */
    simclr__st_writer_destroy(w);
    assert_int_equal(simclr_set_allocator(failing_malloc, failing_realloc,
                                          failing_free, NULL),
                     SIMCLR_OK);
    allocations_left = -1;
    assert_int_equal(simclr__st_writer_create(&w), SIMCLR_OK);
    assert_int_equal(simclr__st_add(w, "big", SIMCLR__DTYPE_F32, 1, s, big),
                     SIMCLR_OK);
    allocations_left = 0;
    assert_int_equal(simclr__st_write(w, path, &err), SIMCLR_ERR_NOMEM);
    allocations_left = -1;
    assert_file_is(path, old, old_size);
    assert_int_equal(files_in_dir(), 1);

    /* A folder that does not exist. */
    snprintf(missing, sizeof(missing), "%s/missing/w.safetensors", dir);
    assert_int_equal(simclr__st_write(w, missing, &err), SIMCLR_ERR_IO);
    assert_non_null(strstr(err.msg, missing));

    /* A folder we may not write to (root may write anywhere). */
    if (geteuid() != 0) {
        chmod(dir, 0500);
        assert_int_equal(simclr__st_write(w, path, &err), SIMCLR_ERR_IO);
        chmod(dir, 0700);
        assert_file_is(path, old, old_size);
    }

    /* A write that succeeds keeps the replaced file's mode. */
    assert_int_equal(simclr__st_write(w, path, &err), SIMCLR_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(files_in_dir(), 1);
    simclr__st_writer_destroy(w);
    assert_int_equal(simclr_set_allocator(NULL, NULL, NULL, NULL), SIMCLR_OK);
    free(old);
    unlink(path);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_read_f32),
        cmocka_unit_test(test_writer_refuses),
        cmocka_unit_test(test_python_reference),
        cmocka_unit_test(test_python_unsupported_dtype),
        cmocka_unit_test(test_corrupt_headers),
        cmocka_unit_test(test_header_length),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_failed_write_keeps_old_file),
    };

    return cmocka_run_group_tests_name("safetensors", tests, setup, teardown);
}
