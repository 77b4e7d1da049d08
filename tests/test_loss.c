/*
 * The loss module: NT-Xent value, gradient and accuracy against PyTorch
 * autograd in float64 (tests/ref/gen_loss.py), the collapsed batch, the
 * anchor-block split a distributed trainer uses, and bad input.
 */
#include <math.h>
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
#include "loss/loss_internal.h"

#define DATA SIMCLR_TEST_DATA "/loss/"

#define VALUE_RTOL 1e-5
/* A loss near 0 is a difference of similarities near 1 / tau = 100 in the
 * reference, so its absolute error there is about 100 * 2^-52. */
#define VALUE_ATOL 1e-13
#define GRAD_RTOL  1e-4

/* ---- reference files ------------------------------------------------- */

static float *read_f32(const char *name, size_t count)
{
    char path[512];
    FILE *f;
    float *buf;

    snprintf(path, sizeof(path), DATA "%s", name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    buf = malloc(count * sizeof(float));
    assert_non_null(buf);
    if (fread(buf, sizeof(float), count, f) != count || fgetc(f) != EOF)
        fail_msg("%s does not hold %zu float32 values", path, count);
    fclose(f);
    return buf;
}

static simclr_loss *make_loss(double tau)
{
    simclr_loss_config cfg;
    simclr_loss *loss = NULL;

    assert_int_equal(simclr_loss_config_init(&cfg), SIMCLR_OK);
    cfg.temperature = tau;
    assert_int_equal(simclr_loss_create(&cfg, &loss), SIMCLR_OK);
    return loss;
}

/* The gradient's error, row by row: max |a - b| / max |b| within each row
 * of @p dim values, the largest over the rows. Rows are compared on their
 * own because a row's scale can be far from the others' (a zero row's
 * gradient is divided by 1e-12). At d = 1 the normalisation makes the
 * exact gradient zero and both sides hold rounding noise near 1e-17,
 * hence the floor on the scale. */
static double grad_error(const float *a, const float *b, size_t rows,
                         size_t dim)
{
    double worst = 0.0;

    for (size_t r = 0; r < rows; r++) {
        double diff = 0.0, scale = 1e-9;

        for (size_t k = r * dim; k < (r + 1) * dim; k++) {
            diff = fmax(diff, fabs((double)a[k] - b[k]));
            scale = fmax(scale, fabs((double)b[k]));
        }
        worst = fmax(worst, diff / scale);
    }
    return worst;
}

/* ---- against PyTorch ------------------------------------------------- */

static void test_matches_pytorch(void **state)
{
    char line[512], zname[128], dzname[128];
    double worst_value = 0.0, worst_grad = 0.0;
    int cases = 0;
    FILE *f = fopen(DATA "cases.txt", "r");

    (void)state;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        size_t n, d, rows;
        double tau, ref_value, ref_acc, value, acc, verr, gerr;
        float *z, *ref_dz, *dz;
        simclr_loss *loss;

        if (sscanf(line, "loss %zu %zu %lf %127s %127s %lf %lf", &n, &d, &tau,
                   zname, dzname, &ref_value, &ref_acc) != 7)
            fail_msg("bad manifest line: %s", line);
        rows = 2 * n;
        z = read_f32(zname, rows * d);
        ref_dz = read_f32(dzname, rows * d);
        dz = malloc(rows * d * sizeof(float));
        assert_non_null(dz);
        loss = make_loss(tau);

        assert_int_equal(
            simclr_loss_forward_backward(loss, z, rows, d, &value, &acc, dz),
            SIMCLR_OK);
        verr = fabs(value - ref_value) /
               fmax(fabs(ref_value), VALUE_ATOL / VALUE_RTOL);
        gerr = grad_error(dz, ref_dz, rows, d);
        if (verr > VALUE_RTOL || gerr > GRAD_RTOL || acc != ref_acc)
            fail_msg("N=%zu d=%zu tau=%g: value %.17g vs %.17g (rel %.3g), "
                     "grad rel %.3g, accuracy %g vs %g",
                     n, d, tau, value, ref_value, verr, gerr, acc, ref_acc);
        worst_value = fmax(worst_value, verr);
        worst_grad = fmax(worst_grad, gerr);
        cases++;

        simclr_loss_destroy(loss);
        free(dz);
        free(ref_dz);
        free(z);
    }
    fclose(f);
    assert_true(cases >= 40);
    print_message("%d cases: max relative error %.3g value, %.3g gradient\n",
                  cases, worst_value, worst_grad);
}

/* Without dz or the other outputs the value is the same. */
static void test_outputs_optional(void **state)
{
    size_t rows = 16, d = 16;
    float *z = read_f32("z_8_16.f32", rows * d);
    simclr_loss *loss = make_loss(0.5);
    double full, alone, acc;
    float *dz = malloc(rows * d * sizeof(float));

    (void)state;
    assert_non_null(dz);
    assert_int_equal(
        simclr_loss_forward_backward(loss, z, rows, d, &full, &acc, dz),
        SIMCLR_OK);
    assert_int_equal(
        simclr_loss_forward_backward(loss, z, rows, d, &alone, NULL, NULL),
        SIMCLR_OK);
    assert_true(full == alone);
    assert_int_equal(
        simclr_loss_forward_backward(loss, z, rows, d, NULL, NULL, NULL),
        SIMCLR_OK);
    simclr_loss_destroy(loss);
    free(dz);
    free(z);
}

/* The same bits with one thread and with several. */
static void test_thread_count_independent(void **state)
{
    size_t rows = 128, d = 64;
    float *z = read_f32("z_64_64.f32", rows * d);
    float *dz1 = malloc(rows * d * sizeof(float));
    float *dz3 = malloc(rows * d * sizeof(float));
    simclr_loss *loss = make_loss(0.1);
    double v1, v3, a1, a3;

    (void)state;
    assert_true(dz1 && dz3);
    assert_int_equal(simclr_set_num_threads(1), SIMCLR_OK);
    assert_int_equal(
        simclr_loss_forward_backward(loss, z, rows, d, &v1, &a1, dz1),
        SIMCLR_OK);
    assert_int_equal(simclr_set_num_threads(3), SIMCLR_OK);
    assert_int_equal(
        simclr_loss_forward_backward(loss, z, rows, d, &v3, &a3, dz3),
        SIMCLR_OK);
    assert_int_equal(simclr_set_num_threads(0), SIMCLR_OK);
    assert_memory_equal(&v1, &v3, sizeof(v1));
    assert_true(a1 == a3);
    assert_memory_equal(dz1, dz3, rows * d * sizeof(float));
    simclr_loss_destroy(loss);
    free(dz3);
    free(dz1);
    free(z);
}

/* dz against central differences of the value, on small random batches
 * including tau = 0.05, where the similarities are steep. */
static void test_finite_differences(void **state)
{
    static const double taus[] = {0.05, 0.5, 2.0};
    enum { ROWS = 6, DIM = 5 };
    float z[ROWS * DIM], dz[ROWS * DIM];
    uint32_t seed = 12345;

    (void)state;
    for (size_t t = 0; t < 3; t++) {
        simclr_loss *loss = make_loss(taus[t]);
        double diff = 0.0, scale = 0.0;

        for (size_t i = 0; i < ROWS * DIM; i++) {
            seed = seed * 1664525u + 1013904223u;
            z[i] = (float)(seed >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
        }
        assert_int_equal(
            simclr_loss_forward_backward(loss, z, ROWS, DIM, NULL, NULL, dz),
            SIMCLR_OK);
        for (size_t i = 0; i < ROWS * DIM; i++) {
            float keep = z[i], hi = keep + 1e-3f, lo = keep - 1e-3f;
            double vhi, vlo, fd;

            z[i] = hi;
            assert_int_equal(simclr_loss_forward_backward(loss, z, ROWS, DIM,
                                                          &vhi, NULL, NULL),
                             SIMCLR_OK);
            z[i] = lo;
            assert_int_equal(simclr_loss_forward_backward(loss, z, ROWS, DIM,
                                                          &vlo, NULL, NULL),
                             SIMCLR_OK);
            z[i] = keep;
            /* the step actually taken, after rounding to float */
            fd = (vhi - vlo) / ((double)hi - (double)lo);
            diff = fmax(diff, fabs(fd - dz[i]));
            scale = fmax(scale, fabs(fd));
        }
        print_message("tau %g: fd rel %.3g\n", taus[t], diff / scale);
        if (diff > 1e-4 * scale)
            fail_msg("tau %g: finite differences differ by %.3g of %.3g",
                     taus[t], diff, scale);
        simclr_loss_destroy(loss);
    }
}

/* ---- collapsed batch -------------------------------------------------- */

/* All rows equal: every similarity is 1 / tau, so each anchor's softmax
 * is uniform over 2N - 1 rows and the loss is ln(2N - 1) whatever tau. */
static void test_collapsed(void **state)
{
    static const size_t ns[] = {2, 3, 8, 64};
    static const double taus[] = {0.01, 0.5, 1.0};

    (void)state;
    for (size_t a = 0; a < 4; a++) {
        for (size_t t = 0; t < 3; t++) {
            size_t rows = 2 * ns[a], d = 7;
            float *z = malloc(rows * d * sizeof(float));
            float *dz = malloc(rows * d * sizeof(float));
            simclr_loss *loss = make_loss(taus[t]);
            double value, acc, expect = log((double)rows - 1.0);

            assert_non_null(z);
            assert_non_null(dz);
            for (size_t i = 0; i < rows * d; i++)
                z[i] = 0.25f * (float)(i % d) - 0.6f;
            assert_int_equal(simclr_loss_forward_backward(loss, z, rows, d,
                                                          &value, &acc, dz),
                             SIMCLR_OK);
            if (fabs(value - expect) > 1e-6 * expect)
                fail_msg("N=%zu tau=%g: %.17g, expected ln(%zu) = %.17g", ns[a],
                         taus[t], value, rows - 1, expect);
            /* every positive ties with every negative: no hit */
            assert_true(acc == 0.0);
            /* the gradient is along z, which normalisation removes */
            for (size_t i = 0; i < rows * d; i++)
                assert_true(fabsf(dz[i]) < 1e-5f);
            simclr_loss_destroy(loss);
            free(dz);
            free(z);
        }
    }
}

/* ---- blocks of anchors -------------------------------------------------- */

/* Splitting the anchors into blocks, as processes holding parts of a
 * gathered batch would, and summing the parts gives the whole. */
static void test_blocks_sum_to_whole(void **state)
{
    size_t rows = 128, d = 16;
    size_t cuts[] = {0, 32, 33, 90, 128};
    float *z = read_f32("z_64_16.f32", rows * d);
    float *dz = malloc(rows * d * sizeof(float));
    float *part = malloc(rows * d * sizeof(float));
    double *sum = calloc(rows * d, sizeof(double));
    simclr_loss *loss = make_loss(0.1);
    double value, acc, total = 0.0, block_sum;
    size_t hits = 0, block_hits;

    (void)state;
    assert_true(dz && part && sum);
    assert_int_equal(
        simclr_loss_forward_backward(loss, z, rows, d, &value, &acc, dz),
        SIMCLR_OK);
    for (size_t b = 0; b + 1 < SIMCLR__ARRAY_SIZE(cuts); b++) {
        assert_int_equal(simclr__loss_block(loss, z, rows, d, cuts[b],
                                            cuts[b + 1] - cuts[b], &block_sum,
                                            &block_hits, part),
                         SIMCLR_OK);
        total += block_sum;
        hits += block_hits;
        for (size_t i = 0; i < rows * d; i++)
            sum[i] += part[i];
    }
    assert_true(fabs(total - value) <= 1e-12 * value);
    assert_true((double)hits / (double)rows == acc);
    for (size_t i = 0; i < rows * d; i++)
        assert_true(fabs(sum[i] - dz[i]) <= 1e-6 * fabs(dz[i]) + 1e-9);

    /* a block must lie inside the batch */
    assert_int_equal(
        simclr__loss_block(loss, z, rows, d, 100, 29, NULL, NULL, NULL),
        SIMCLR_ERR_SHAPE);
    assert_int_equal(
        simclr__loss_block(loss, z, rows, d, 0, 0, NULL, NULL, NULL),
        SIMCLR_ERR_SHAPE);
    simclr_loss_destroy(loss);
    free(sum);
    free(part);
    free(dz);
    free(z);
}

/* ---- bad input ---------------------------------------------------------- */

static void test_bad_temperature(void **state)
{
    static const double bad[] = {0.0, -0.5, NAN, INFINITY};
    simclr_loss_config cfg;
    simclr_loss *loss = (simclr_loss *)&cfg;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        simclr_loss_config_init(&cfg);
        cfg.temperature = bad[i];
        assert_int_equal(simclr_loss_create(&cfg, &loss),
                         SIMCLR_ERR_INVALID_ARGUMENT);
        assert_null(loss);
        assert_non_null(strstr(simclr_last_error(), "temperature"));
    }
    simclr_loss_config_init(&cfg);
    cfg.size = 4;
    assert_int_equal(simclr_loss_create(&cfg, &loss),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_loss_create(NULL, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_loss_config_init(NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);

    assert_int_equal(simclr_loss_create(NULL, &loss), SIMCLR_OK);
    assert_true(simclr_loss_temperature(loss) == 0.5);
    simclr_loss_destroy(loss);
    simclr_loss_destroy(NULL);
}

static void test_bad_shapes(void **state)
{
    float z[6 * 4] = {0};
    simclr_loss *loss = make_loss(0.5);
    double value = 42.0;

    (void)state;
    for (size_t i = 0; i < 24; i++)
        z[i] = (float)((i * 7) % 5) - 2.0f;

    /* N = 1: the only other row is the positive */
    assert_int_equal(
        simclr_loss_forward_backward(loss, z, 2, 4, &value, NULL, NULL),
        SIMCLR_ERR_SHAPE);
    assert_non_null(strstr(simclr_loss_error(loss), "at least 2 images"));
    /* odd row count */
    assert_int_equal(
        simclr_loss_forward_backward(loss, z, 5, 4, &value, NULL, NULL),
        SIMCLR_ERR_SHAPE);
    assert_non_null(strstr(simclr_loss_error(loss), "even"));
    assert_int_equal(
        simclr_loss_forward_backward(loss, z, 6, 0, &value, NULL, NULL),
        SIMCLR_ERR_SHAPE);
    assert_int_equal(
        simclr_loss_forward_backward(loss, NULL, 6, 4, &value, NULL, NULL),
        SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(
        simclr_loss_forward_backward(NULL, z, 6, 4, &value, NULL, NULL),
        SIMCLR_ERR_INVALID_ARGUMENT);
    assert_true(value == 42.0);

    /* N = 3, a short last batch, works */
    assert_int_equal(
        simclr_loss_forward_backward(loss, z, 6, 4, &value, NULL, NULL),
        SIMCLR_OK);
    assert_true(isfinite(value) && value > 0.0);
    simclr_loss_destroy(loss);
}

static void test_non_finite(void **state)
{
    static const float bad[] = {NAN, INFINITY, -INFINITY};
    float z[8 * 3], dz[8 * 3];
    simclr_loss *loss = make_loss(0.5);
    double value = 42.0;

    (void)state;
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < 24; i++) {
            z[i] = (float)i * 0.1f - 1.0f;
            dz[i] = 7.0f;
        }
        z[5 * 3 + 1] = bad[k];
        assert_int_equal(
            simclr_loss_forward_backward(loss, z, 8, 3, &value, NULL, dz),
            SIMCLR_ERR_NUMERIC);
        assert_non_null(strstr(simclr_loss_error(loss), "row 5"));
        assert_non_null(strstr(simclr_last_error(), "row 5"));
        assert_true(value == 42.0);
        for (size_t i = 0; i < 24; i++)
            assert_true(dz[i] == 7.0f);
    }
    simclr_loss_destroy(loss);
}

/* tau = 0.01 with well separated pairs: similarities near +-100 must not
 * overflow exp. */
static void test_small_temperature_finite(void **state)
{
    size_t rows = 8, d = 2;
    float z[16] = {1, 0, 1, 0, -1, 0, -1, 0, 0, 1, 0, 1, 0, -1, 0, -1};
    float dz[16];
    simclr_loss *loss = make_loss(0.001);
    double value, acc;

    (void)state;
    assert_int_equal(
        simclr_loss_forward_backward(loss, z, rows, d, &value, &acc, dz),
        SIMCLR_OK);
    /* each anchor: its positive at s = 1000, negatives at 0 or -1000 */
    assert_true(isfinite(value));
    assert_true(value >= 0.0 && value < 1e-6);
    assert_true(acc == 1.0);
    for (size_t i = 0; i < 16; i++)
        assert_true(isfinite(dz[i]));
    simclr_loss_destroy(loss);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_pytorch),
        cmocka_unit_test(test_outputs_optional),
        cmocka_unit_test(test_thread_count_independent),
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_collapsed),
        cmocka_unit_test(test_blocks_sum_to_whole),
        cmocka_unit_test(test_bad_temperature),
        cmocka_unit_test(test_bad_shapes),
        cmocka_unit_test(test_non_finite),
        cmocka_unit_test(test_small_temperature_finite),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
