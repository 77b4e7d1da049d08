/*
 * The common module: version, status table, error text, logging,
 * allocator hooks, thread setting and the counter-based generator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "simclr/simclr.h"
#include "common/common.h"
#include "common/rng.h"

static void test_version_matches_header(void **state)
{
    char expect[32];

    (void)state;
    assert_int_equal(simclr_version(), SIMCLR_VERSION_NUMBER);
    snprintf(expect, sizeof(expect), "%d.%d.%d", SIMCLR_VERSION_MAJOR,
             SIMCLR_VERSION_MINOR, SIMCLR_VERSION_PATCH);
    assert_string_equal(simclr_version_string(), expect);
}

/* The numbers are ABI: a renumbering must fail here. */
static void test_status_numbers_pinned(void **state)
{
    (void)state;
    assert_int_equal(SIMCLR_OK, 0);
    assert_int_equal(SIMCLR_ERR_INVALID_ARGUMENT, 1);
    assert_int_equal(SIMCLR_ERR_NOMEM, 2);
    assert_int_equal(SIMCLR_ERR_IO, 3);
    assert_int_equal(SIMCLR_ERR_CORRUPT, 4);
    assert_int_equal(SIMCLR_ERR_UNSUPPORTED, 5);
    assert_int_equal(SIMCLR_ERR_LIMIT, 6);
    assert_int_equal(SIMCLR_ERR_SHAPE, 7);
    assert_int_equal(SIMCLR_ERR_NUMERIC, 8);
    assert_int_equal(SIMCLR_ERR_BACKEND, 9);
    assert_int_equal(SIMCLR_ERR_NOT_BUILT, 10);
    assert_int_equal(SIMCLR_ERR_STATE, 11);
    assert_int_equal(SIMCLR_ERR_INTERRUPTED, 12);
    assert_int_equal(SIMCLR_ERR_THREAD, 13);
    assert_int_equal(SIMCLR_ERR_DISTRIBUTED, 14);
    assert_int_equal(SIMCLR_ERR_END_OF_DATA, 15);
}

static void test_status_strings(void **state)
{
    (void)state;
    assert_string_equal(simclr_status_str(SIMCLR_OK), "success");
    assert_string_equal(simclr_status_str(SIMCLR_ERR_NOMEM), "out of memory");
    assert_string_equal(simclr_status_name(SIMCLR_ERR_IO), "SIMCLR_ERR_IO");
    assert_string_equal(simclr_status_str((simclr_status)9999),
                        "unknown status");
    assert_string_equal(simclr_status_name((simclr_status)-1),
                        "SIMCLR_UNKNOWN");
}

static void test_error_text_thread_local_and_handle(void **state)
{
    simclr__error handle_error = {{0}};
    simclr_status st;

    (void)state;
    simclr_clear_last_error();
    assert_string_equal(simclr_last_error(), "");
    st = simclr__fail(&handle_error, SIMCLR_ERR_SHAPE, "tensor %s: %d != %d",
                      "conv1.weight", 3, 4);
    assert_int_equal(st, SIMCLR_ERR_SHAPE);
    assert_string_equal(simclr_last_error(), "tensor conv1.weight: 3 != 4");
    assert_string_equal(simclr__error_text(&handle_error),
                        "tensor conv1.weight: 3 != 4");
    assert_string_equal(simclr__error_text(NULL), "");
}

struct log_capture {
    int calls;
    simclr_log_level level;
    char text[256];
};

static void capture_log(void *user, simclr_log_level level, const char *msg)
{
    struct log_capture *cap = user;

    cap->calls++;
    cap->level = level;
    snprintf(cap->text, sizeof(cap->text), "%s", msg);
}

static void test_log_callback_levels(void **state)
{
    struct log_capture cap = {0};

    (void)state;
    assert_int_equal(simclr_set_log_callback(capture_log, &cap,
                                             SIMCLR_LOG_WARN),
                     SIMCLR_OK);
    simclr__log(SIMCLR_LOG_INFO, "too verbose %d", 1);
    assert_int_equal(cap.calls, 0);
    simclr__log(SIMCLR_LOG_WARN, "skipped %s", "a.png");
    assert_int_equal(cap.calls, 1);
    assert_int_equal(cap.level, SIMCLR_LOG_WARN);
    assert_string_equal(cap.text, "skipped a.png");
    assert_int_equal(simclr_set_log_callback(capture_log, &cap,
                                             (simclr_log_level)9),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_set_log_callback(NULL, NULL, SIMCLR_LOG_ERROR),
                     SIMCLR_OK);
}

struct counting_allocator {
    size_t mallocs, frees;
};

static void *count_malloc(void *user, size_t size)
{
    ((struct counting_allocator *)user)->mallocs++;
    return malloc(size);
}

static void *count_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    return realloc(ptr, size);
}

static void count_free(void *user, void *ptr)
{
    ((struct counting_allocator *)user)->frees++;
    free(ptr);
}

static void test_allocator_hooks(void **state)
{
    struct counting_allocator counts = {0};
    void *block, *aligned;

    (void)state;
    assert_int_equal(simclr_live_allocations(), 0);
    assert_int_equal(simclr_set_allocator(count_malloc, NULL, NULL, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_set_allocator(count_malloc, count_realloc,
                                          count_free, &counts),
                     SIMCLR_OK);
    block = simclr__malloc(100);
    assert_non_null(block);
    assert_int_equal(simclr_live_allocations(), 1);
    /* Swapping allocators with live memory would free it with the wrong
     * one: refused. */
    assert_int_equal(simclr_set_allocator(NULL, NULL, NULL, NULL),
                     SIMCLR_ERR_STATE);
    aligned = simclr__aligned_malloc(1000, 64);
    assert_non_null(aligned);
    assert_int_equal((uintptr_t)aligned % 64, 0);
    simclr__aligned_free(aligned);
    simclr__free(block);
    assert_int_equal(counts.mallocs, 2);
    assert_int_equal(counts.frees, 2);
    assert_int_equal(simclr_live_allocations(), 0);
    assert_int_equal(simclr_set_allocator(NULL, NULL, NULL, NULL), SIMCLR_OK);
}

static void test_checked_sizes(void **state)
{
    size_t out;

    (void)state;
    assert_true(simclr__mul_size(1000, 1000, &out));
    assert_int_equal(out, 1000000);
    assert_false(simclr__mul_size(SIZE_MAX / 2 + 1, 2, &out));
    assert_false(simclr__mul4_size(65536, 65536, 65536, 65536, &out));
    assert_null(simclr__malloc_array(SIZE_MAX / 4, 8));
    assert_null(simclr__calloc(SIZE_MAX / 4, 8));
    assert_int_equal(simclr_live_allocations(), 0);
}

static void test_threads_setting(void **state)
{
    (void)state;
    assert_true(simclr_get_num_threads() >= 1);
    assert_int_equal(simclr_set_num_threads(3), SIMCLR_OK);
    assert_int_equal(simclr_get_num_threads(), 3);
    assert_int_equal(simclr_set_num_threads(-1), SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_set_num_threads(100000),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_get_num_threads(), 3);
    assert_int_equal(simclr_set_num_threads(0), SIMCLR_OK);
    assert_true(simclr_get_num_threads() >= 1);
}

/* Known-answer vectors published with Random123 (kat_vectors). */
static void test_philox_known_answers(void **state)
{
    static const struct {
        uint32_t ctr[4], key[2], out[4];
    } kat[] = {
        {{0, 0, 0, 0},
         {0, 0},
         {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
         {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    size_t i;

    (void)state;
    for (i = 0; i < SIMCLR__ARRAY_SIZE(kat); i++) {
        uint32_t out[4];

        simclr__philox4x32_10(kat[i].ctr, kat[i].key, out);
        assert_memory_equal(out, kat[i].out, sizeof(out));
    }
}

static void test_rng_streams_independent_of_order(void **state)
{
    simclr__rng a, b, c;
    uint32_t first[8], again[8];
    int i;

    (void)state;
    simclr__rng_init(&a, 42, 3, 1000, 1);
    for (i = 0; i < 8; i++)
        first[i] = simclr__rng_u32(&a);
    /* Draw from another stream in between: no shared state. */
    simclr__rng_init(&c, 42, 3, 1000, 0);
    (void)simclr__rng_u32(&c);
    simclr__rng_init(&b, 42, 3, 1000, 1);
    for (i = 0; i < 8; i++)
        again[i] = simclr__rng_u32(&b);
    assert_memory_equal(first, again, sizeof(first));
    assert_true(simclr__rng_u32(&c) != first[1]);
}

/* Mean and variance of 10^5 uniforms: within 5 standard errors. */
static void test_rng_uniform_moments(void **state)
{
    const int n = 100000;
    double sum = 0, sumsq = 0, mean, var;
    simclr__rng rng;
    int i;

    (void)state;
    simclr__rng_init(&rng, 7, 0, 0, 0);
    for (i = 0; i < n; i++) {
        double u = simclr__rng_uniform(&rng);

        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
        sumsq += u * u;
    }
    mean = sum / n;
    var = sumsq / n - mean * mean;
    /* sd of the mean: sqrt(1/12/n) = 9.1e-4 */
    assert_true(mean > 0.5 - 5 * 9.2e-4 && mean < 0.5 + 5 * 9.2e-4);
    assert_true(var > 1.0 / 12 - 0.003 && var < 1.0 / 12 + 0.003);
    for (i = 0; i < 1000; i++)
        assert_true(simclr__rng_below(&rng, 7) < 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_matches_header),
        cmocka_unit_test(test_status_numbers_pinned),
        cmocka_unit_test(test_status_strings),
        cmocka_unit_test(test_error_text_thread_local_and_handle),
        cmocka_unit_test(test_log_callback_levels),
        cmocka_unit_test(test_allocator_hooks),
        cmocka_unit_test(test_checked_sizes),
        cmocka_unit_test(test_threads_setting),
        cmocka_unit_test(test_philox_known_answers),
        cmocka_unit_test(test_rng_streams_independent_of_order),
        cmocka_unit_test(test_rng_uniform_moments),
    };

    return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
