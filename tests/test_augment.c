/*
 * The augment module: each deterministic step against Pillow and
 * torchvision outputs (tests/ref/gen_augment.py), the distributions of
 * the random draws, determinism across threads, and bad input.
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
#include "augment/augment_internal.h"
#include "augment/ops.h"
#include "augment/preprocess.h"
#include "augment/resample.h"
#include "common/common.h"

#define DATA  SIMCLR_TEST_DATA "/augment/"
#define DRAWS 10000

/* ---- reference files ------------------------------------------------- */

static void *read_file(const char *name, size_t expect)
{
    char path[512];
    FILE *f;
    void *buf;
    long size;

    snprintf(path, sizeof(path), DATA "%s", name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size < 0 || (size_t)size != expect)
        fail_msg("%s has %ld bytes, expected %zu", path, size, expect);
    buf = malloc(expect);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, expect, f), expect);
    fclose(f);
    return buf;
}

/* Calls fn for each manifest line starting with @p kind. */
static int for_each_case(const char *kind,
                         void (*fn)(const char *line, void *user), void *user)
{
    char line[1024];
    FILE *f = fopen(DATA "cases.txt", "r");
    size_t len = strlen(kind);
    int count = 0;

    if (!f)
        fail_msg("cannot open " DATA "cases.txt");
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, kind, len) == 0 && line[len] == ' ') {
            fn(line + len + 1, user);
            count++;
        }
    }
    fclose(f);
    return count;
}

typedef struct test_image {
    char name[32];
    simclr_image img;
} test_image;

static test_image test_images[4];
static int test_image_count;

static void load_image(const char *line, void *user)
{
    test_image *t = &test_images[test_image_count];
    char file[256];
    unsigned w, h, c;

    (void)user;
    assert_int_equal(
        sscanf(line, "%31s %u %u %u %255s", t->name, &w, &h, &c, file), 5);
    t->img.width = w;
    t->img.height = h;
    t->img.channels = c;
    t->img.stride = (size_t)w * c;
    t->img.data = read_file(file, (size_t)w * h * c);
    test_image_count++;
}

static const simclr_image *find_image(const char *name)
{
    int i;

    for (i = 0; i < test_image_count; i++)
        if (strcmp(test_images[i].name, name) == 0)
            return &test_images[i].img;
    fail_msg("no image %s in the manifest", name);
    return NULL;
}

static int setup_images(void **state)
{
    (void)state;
    test_image_count = 0;
    for_each_case("image", load_image, NULL);
    return test_image_count > 0 ? 0 : -1;
}

static int teardown_images(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < test_image_count; i++)
        free(test_images[i].img.data);
    return 0;
}

/* ---- crop + resize against Pillow ----------------------------------- */

static void check_resize(const char *line, void *user)
{
    char name[32], filter[16], file[256];
    double box[4], max_diff = 0.0, sum_diff = 0.0;
    unsigned w, h;
    const simclr_image *src;
    uint8_t *ref;
    float *dst;
    size_t i, n;

    assert_int_equal(sscanf(line, "%31s %15s %lf %lf %lf %lf %u %u %255s", name,
                            filter, &box[0], &box[1], &box[2], &box[3], &w, &h,
                            file),
                     9);
    src = find_image(name);
    n = (size_t)w * h * src->channels;
    ref = read_file(file, n);
    dst = malloc(n * sizeof(float));
    assert_non_null(dst);
    assert_int_equal(simclr__resample_box(src, box, w, h,
                                          strcmp(filter, "bicubic") == 0
                                              ? SIMCLR_INTERP_BICUBIC
                                              : SIMCLR_INTERP_BILINEAR,
                                          dst),
                     SIMCLR_OK);

    /* dst is (C, H, W), Pillow's output (H, W, C). Pillow rounds to
     * 8 bits between its passes and at the end, so compare our value
     * rounded to 8 bits: at most one level apart, and rarely that. */
    for (i = 0; i < n; i++) {
        size_t c = i % src->channels, px = i / src->channels;
        double v = dst[c * w * h + px] * 255.0;
        double d = fabs(nearbyint(v) - ref[i]);

        if (d > max_diff)
            max_diff = d;
        sum_diff += fabs(v - ref[i]);
    }
    if (max_diff > 1.0 || sum_diff / n > 0.35)
        fail_msg("resize %s: max difference %.0f grey levels, mean %.3f", line,
                 max_diff, sum_diff / n);
    (*(int *)user)++;
    free(ref);
    free(dst);
}

static void test_resize_matches_pillow(void **state)
{
    int checked = 0;

    (void)state;
    assert_true(for_each_case("resize", check_resize, &checked) >= 12);
    assert_true(checked >= 12);
}

/* ---- colour and filter steps against torchvision -------------------- */

static void check_op(const char *line, void *user)
{
    char op[32], src_file[256], ref_file[256];
    double p1, p2, tol = 1e-5, max_diff = 0.0;
    unsigned c, h, w;
    float *x, *ref, *tmp;
    size_t i, n;

    assert_int_equal(sscanf(line, "%31s %lf %lf %u %u %u %255s %255s", op, &p1,
                            &p2, &c, &h, &w, src_file, ref_file),
                     8);
    n = (size_t)c * h * w;
    x = read_file(src_file, n * sizeof(float));
    ref = read_file(ref_file, n * sizeof(float));
    tmp = malloc(simclr__aug_blur_scratch(h, w, 64) * sizeof(float));
    assert_non_null(tmp);

    if (strcmp(op, "brightness") == 0)
        simclr__aug_brightness(x, c, h, w, (float)p1);
    else if (strcmp(op, "contrast") == 0)
        simclr__aug_contrast(x, c, h, w, (float)p1);
    else if (strcmp(op, "saturation") == 0)
        simclr__aug_saturation(x, c, h, w, (float)p1);
    else if (strcmp(op, "hue") == 0) {
        simclr__aug_hue(x, c, h, w, (float)p1);
        tol = 1e-4;
    } else if (strcmp(op, "grayscale") == 0)
        simclr__aug_grayscale(x, c, h, w);
    else if (strcmp(op, "blur") == 0)
        simclr__aug_blur(x, c, h, w, (uint32_t)p1, p2, tmp);
    else if (strcmp(op, "solarize") == 0)
        simclr__aug_solarize(x, c, h, w, (float)p1);
    else if (strcmp(op, "rotate") == 0)
        simclr__aug_rotate90(x, c, h, (int)p1, tmp);
    else if (strcmp(op, "flip") == 0)
        simclr__aug_flip(x, c, h, w);
    else
        fail_msg("unknown op %s", op);

    for (i = 0; i < n; i++)
        if (fabs((double)x[i] - ref[i]) > max_diff)
            max_diff = fabs((double)x[i] - ref[i]);
    if (max_diff > tol)
        fail_msg("%s: max difference %g > %g", line, max_diff, tol);
    (*(int *)user)++;
    free(x);
    free(ref);
    free(tmp);
}

static void test_ops_match_torchvision(void **state)
{
    int checked = 0;

    (void)state;
    for_each_case("op", check_op, &checked);
    assert_true(checked >= 30);
}

/* Sobel against a float64 evaluation of its definition on a ramp. */
static void test_sobel_on_ramp(void **state)
{
    float x[3 * 6 * 7], tmp[6 * 7];
    uint32_t i, j;

    (void)state;
    for (i = 0; i < 6; i++)
        for (j = 0; j < 7; j++) {
            x[i * 7 + j] = 0.05f * j;
            x[42 + i * 7 + j] = 0.05f * j;
            x[84 + i * 7 + j] = 0.05f * j;
        }
    simclr__aug_sobel(x, 3, 6, 7, tmp);
    /* Inside, gx = 4 * 2 * 0.05 = 0.4, gy = 0, so |g| / 4 = 0.1; on the
     * reflected left and right edges gx = 0. */
    for (i = 0; i < 6; i++) {
        assert_float_equal(x[i * 7 + 0], 0.0, 1e-6);
        assert_float_equal(x[i * 7 + 6], 0.0, 1e-6);
        for (j = 1; j < 6; j++) {
            assert_float_equal(x[i * 7 + j], 0.1, 1e-4);
            assert_float_equal(x[84 + i * 7 + j], 0.1, 1e-4);
        }
    }
}

static void test_cutout_and_normalize(void **state)
{
    float x[2 * 5 * 5];
    const float mean[2] = {0.5f, 0.25f}, std[2] = {0.5f, 0.25f};
    uint32_t i;

    (void)state;
    for (i = 0; i < 50; i++)
        x[i] = 1.0f;
    simclr__aug_cutout(x, 2, 5, 5, -1, 3, 3); /* columns 0-1, rows 3-4 */
    for (i = 0; i < 50; i++) {
        uint32_t row = (i % 25) / 5, col = i % 5;
        int inside = row >= 3 && col <= 1;

        assert_float_equal(x[i], inside ? 0.0 : 1.0, 0.0);
    }
    simclr__aug_normalize(x, 2, 5, 5, mean, std);
    assert_float_equal(x[0], 1.0, 1e-6);
    assert_float_equal(x[25], 3.0, 1e-6);
    assert_float_equal(x[15], -1.0, 1e-6);
    assert_float_equal(x[40], -1.0, 1e-6);
}

/* ---- distributions of the random draws ------------------------------ */

/* |observed - p| within 5 standard errors of a Bernoulli mean. */
static void check_rate(const char *what, long hits, long n, double p)
{
    double rate = (double)hits / n;
    double tol = 5.0 * sqrt(p * (1.0 - p) / n) + 1e-12;

    if (fabs(rate - p) > tol)
        fail_msg("%s: rate %.4f, expected %.4f +- %.4f", what, rate, p, tol);
}

static simclr_augmenter *make(const simclr_augment_config *cfg)
{
    simclr_augmenter *aug = NULL;

    assert_int_equal(simclr_augmenter_create(cfg, &aug), SIMCLR_OK);
    return aug;
}

static void test_probabilities(void **state)
{
    simclr_augment_config cfg;
    simclr_augmenter *aug;
    long flip = 0, rot = 0, rot_k[4] = {0}, jit = 0, gray = 0, blur = 0;
    long sobel = 0, noise = 0, sol = 0, cut = 0, first[4] = {0};
    double sigma_sum = 0.0, sigma_min = 1e9, sigma_max = -1e9;
    double bright_min = 1e9, bright_max = -1e9, hue_min = 1e9, hue_max = -1e9;
    long i;

    (void)state;
    simclr_augment_config_init(&cfg, SIMCLR_AUGMENT_PRESET_IMAGENET);
    cfg.rotate_p = 0.3;
    cfg.sobel_p = 0.1;
    cfg.noise_p = 0.4;
    cfg.solarize_p = 0.2;
    cfg.cutout_p = 0.6;
    aug = make(&cfg);
    for (i = 0; i < DRAWS; i++) {
        simclr__aug_params p;

        simclr__aug_sample(aug, 3, (uint64_t)i / 2, (uint32_t)(i % 2), 320, 240,
                           &p);
        flip += p.flip;
        rot += p.rotate_k != 0;
        rot_k[p.rotate_k]++;
        jit += p.jitter;
        gray += p.gray;
        blur += p.blur;
        sobel += p.sobel;
        noise += p.noise;
        sol += p.solarize;
        cut += p.cutout;
        first[p.order[0]]++;
        sigma_sum += p.blur_sigma;
        sigma_min = fmin(sigma_min, p.blur_sigma);
        sigma_max = fmax(sigma_max, p.blur_sigma);
        bright_min = fmin(bright_min, p.brightness);
        bright_max = fmax(bright_max, p.brightness);
        hue_min = fmin(hue_min, p.hue);
        hue_max = fmax(hue_max, p.hue);
        assert_true(p.noise_std >= 0.05 && p.noise_std <= 0.2);
        assert_int_equal(p.blur_ksize, 23);
    }
    check_rate("flip", flip, DRAWS, 0.5);
    check_rate("rotate", rot, DRAWS, 0.3);
    check_rate("rotate by 90", rot_k[1], rot, 1.0 / 3.0);
    check_rate("rotate by 270", rot_k[3], rot, 1.0 / 3.0);
    check_rate("jitter", jit, DRAWS, 0.8);
    check_rate("grayscale", gray, DRAWS, 0.2);
    check_rate("blur", blur, DRAWS, 0.5);
    check_rate("sobel", sobel, DRAWS, 0.1);
    check_rate("noise", noise, DRAWS, 0.4);
    check_rate("solarize", sol, DRAWS, 0.2);
    check_rate("cutout", cut, DRAWS, 0.6);
    for (i = 0; i < 4; i++)
        check_rate("jitter step applied first", first[i], DRAWS, 0.25);

    /* sigma ~ U(0.1, 2): the range is covered and the mean is 1.05, sd
     * 1.9 / sqrt(12). */
    assert_true(sigma_min >= 0.1 && sigma_min < 0.1 + 0.01);
    assert_true(sigma_max <= 2.0 && sigma_max > 2.0 - 0.01);
    assert_float_equal(sigma_sum / DRAWS, 1.05,
                       5.0 * 1.9 / sqrt(12.0) / sqrt(DRAWS));
    assert_true(bright_min >= 0.2f - 1e-6 && bright_min < 0.21f);
    assert_true(bright_max <= 1.8f + 1e-6 && bright_max > 1.79f);
    assert_true(hue_min >= -0.2f - 1e-6 && hue_min < -0.19f);
    assert_true(hue_max <= 0.2f + 1e-6 && hue_max > 0.19f);
    simclr_augmenter_destroy(aug);

    /* p = 0 and p = 1 are exact. */
    cfg.flip_p = 1.0;
    cfg.jitter_p = 0.0;
    aug = make(&cfg);
    for (i = 0; i < 1000; i++) {
        simclr__aug_params p;

        simclr__aug_sample(aug, 0, (uint64_t)i, 0, 50, 50, &p);
        assert_true(p.flip && !p.jitter);
    }
    simclr_augmenter_destroy(aug);
}

/* Kolmogorov-Smirnov distance of sorted samples from U(lo, hi). */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double ks_uniform(double *v, size_t n, double lo, double hi)
{
    double d = 0.0;
    size_t i;

    qsort(v, n, sizeof(double), cmp_double);
    for (i = 0; i < n; i++) {
        double cdf = (v[i] - lo) / (hi - lo);

        d = fmax(d, fmax(fabs(cdf - (double)i / n),
                         fabs(cdf - (double)(i + 1) / n)));
    }
    return d;
}

/* When every attempt fits, the area fraction is U(scale) and the log
 * aspect U(log ratio), up to the rounding of w and h to pixels. */
static void test_crop_draws_uniform(void **state)
{
    static double area[DRAWS], logr[DRAWS];
    const double scale[2] = {0.08, 0.5}, ratio[2] = {0.75, 4.0 / 3.0};
    const double crit = 1.63 / sqrt(DRAWS); /* KS at alpha = 0.01 */
    size_t i;

    (void)state;
    for (i = 0; i < DRAWS; i++) {
        simclr__aug_params p;
        simclr__rng rng;

        simclr__rng_init(&rng, 11, 0, i, 0);
        simclr__aug_sample_crop(&rng, 2000, 2000, scale, ratio, 10, &p);
        assert_false(p.crop_fallback);
        assert_true(p.crop_x + p.crop_w <= 2000 && p.crop_y + p.crop_h <= 2000);
        area[i] = (double)p.crop_w * p.crop_h / (2000.0 * 2000.0);
        logr[i] = log((double)p.crop_w / p.crop_h);
    }
    /* Rounding moves w and h by half a pixel: allow 0.005 extra. */
    assert_true(ks_uniform(area, DRAWS, 0.08, 0.5) < crit + 0.005);
    assert_true(ks_uniform(logr, DRAWS, log(0.75), log(4.0 / 3.0)) <
                crit + 0.005);
}

/* The accepted crops, with rejections and the centre fallback, against
 * torchvision's RandomResizedCrop.get_params on the same image sizes. */
static void check_crop_stats(const char *line, void *user)
{
    unsigned w, h;
    long nref, i;
    double ref_area, ref_area_sd, ref_logr, ref_logr_sd;
    double sa = 0.0, sa2 = 0.0, sl = 0.0, sl2 = 0.0, ma, ml, sda, sdl;
    const double scale[2] = {0.08, 1.0}, ratio[2] = {0.75, 4.0 / 3.0};

    assert_int_equal(sscanf(line, "%u %u %ld %lf %lf %lf %lf", &w, &h, &nref,
                            &ref_area, &ref_area_sd, &ref_logr, &ref_logr_sd),
                     7);
    for (i = 0; i < DRAWS; i++) {
        simclr__aug_params p;
        simclr__rng rng;
        double a, l;

        simclr__rng_init(&rng, 5, 1, (uint64_t)i, 0);
        simclr__aug_sample_crop(&rng, w, h, scale, ratio, 10, &p);
        assert_true(p.crop_w >= 1 && p.crop_x + p.crop_w <= w);
        assert_true(p.crop_h >= 1 && p.crop_y + p.crop_h <= h);
        a = (double)p.crop_w * p.crop_h / ((double)w * h);
        l = log((double)p.crop_w / p.crop_h);
        sa += a;
        sa2 += a * a;
        sl += l;
        sl2 += l * l;
    }
    ma = sa / DRAWS;
    ml = sl / DRAWS;
    sda = sqrt(sa2 / DRAWS - ma * ma);
    sdl = sqrt(sl2 / DRAWS - ml * ml);

    /* Means within 5 standard errors of the difference of two sample
     * means; standard deviations within 5 % (their standard error at
     * these sizes is under 1 %). */
    if (fabs(ma - ref_area) >
            5.0 * ref_area_sd * sqrt(1.0 / DRAWS + 1.0 / nref) ||
        fabs(ml - ref_logr) >
            5.0 * ref_logr_sd * sqrt(1.0 / DRAWS + 1.0 / nref) ||
        fabs(sda / ref_area_sd - 1.0) > 0.05 ||
        fabs(sdl / ref_logr_sd - 1.0) > 0.05)
        fail_msg("crop %ux%u: area %.4f (sd %.4f), log ratio %.4f (sd %.4f); "
                 "torchvision %.4f (%.4f), %.4f (%.4f)",
                 w, h, ma, sda, ml, sdl, ref_area, ref_area_sd, ref_logr,
                 ref_logr_sd);
    (*(int *)user)++;
}

static void test_crop_matches_torchvision(void **state)
{
    int checked = 0;

    (void)state;
    for_each_case("crop", check_crop_stats, &checked);
    assert_int_equal(checked, 2);
}

/* torchvision's centre fallback: a 1000x10 strip cannot hold any crop
 * with aspect <= 4/3 and area >= 8 %, so it gets h = 10, w = 13. */
static void test_crop_fallback(void **state)
{
    const double scale[2] = {0.08, 1.0}, ratio[2] = {0.75, 4.0 / 3.0};
    simclr__aug_params p;
    simclr__rng rng;

    (void)state;
    simclr__rng_init(&rng, 1, 2, 3, 0);
    simclr__aug_sample_crop(&rng, 1000, 10, scale, ratio, 10, &p);
    assert_true(p.crop_fallback);
    assert_int_equal(p.crop_h, 10);
    assert_int_equal(p.crop_w, 13);
    assert_int_equal(p.crop_x, (1000 - 13) / 2);
    assert_int_equal(p.crop_y, 0);
}

/* ---- the whole pipeline --------------------------------------------- */

/* With every random step off, a view is the resized crop, normalised. */
static void test_pipeline_is_crop_then_normalize(void **state)
{
    const simclr_image *src = find_image("rgb");
    simclr_augment_config cfg;
    simclr_augmenter *aug;
    simclr__aug_params p;
    float views[2 * 3 * 20 * 20], expect[3 * 20 * 20];
    double box[4];
    uint32_t v, i;

    (void)state;
    simclr_augment_config_init(&cfg, SIMCLR_AUGMENT_PRESET_IMAGENET);
    cfg.output_size = 20;
    cfg.flip_p = cfg.jitter_p = cfg.grayscale_p = cfg.blur_p = 0.0;
    cfg.interp = SIMCLR_INTERP_BICUBIC;
    aug = make(&cfg);
    assert_int_equal(simclr_augment_pair(aug, src, 4, 77, views), SIMCLR_OK);
    for (v = 0; v < 2; v++) {
        simclr__aug_sample(aug, 4, 77, v, src->width, src->height, &p);
        box[0] = p.crop_x;
        box[1] = p.crop_y;
        box[2] = p.crop_x + p.crop_w;
        box[3] = p.crop_y + p.crop_h;
        assert_int_equal(simclr__resample_box(src, box, 20, 20,
                                              SIMCLR_INTERP_BICUBIC, expect),
                         SIMCLR_OK);
        for (i = 0; i < 3 * 400; i++) {
            float want = (expect[i] - cfg.mean[i / 400]) / cfg.std[i / 400];

            assert_float_equal(views[v * 1200 + i], want, 1e-5);
        }
    }
    simclr_augmenter_destroy(aug);
}

/* Every deterministic step on: a view is the steps applied in the
 * documented order with the parameters the sampler drew. */
static void test_pipeline_order(void **state)
{
    const simclr_image *src = find_image("rgb");
    simclr_augment_config cfg;
    simclr_augmenter *aug;
    simclr__aug_params p;
    float views[2 * 3 * 24 * 24], x[3 * 24 * 24], tmp[4096];
    double box[4];
    uint32_t v, k;

    (void)state;
    simclr_augment_config_init(&cfg, SIMCLR_AUGMENT_PRESET_IMAGENET);
    cfg.output_size = 24;
    cfg.flip_p = cfg.rotate_p = cfg.jitter_p = cfg.grayscale_p = 1.0;
    cfg.blur_p = cfg.solarize_p = cfg.cutout_p = 1.0;
    cfg.blur_kernel_frac = 0.3;
    aug = make(&cfg);
    assert_int_equal(simclr_augment_pair(aug, src, 9, 3, views), SIMCLR_OK);
    for (v = 0; v < 2; v++) {
        simclr__aug_sample(aug, 9, 3, v, src->width, src->height, &p);
        box[0] = p.crop_x;
        box[1] = p.crop_y;
        box[2] = p.crop_x + p.crop_w;
        box[3] = p.crop_y + p.crop_h;
        assert_int_equal(
            simclr__resample_box(src, box, 24, 24, SIMCLR_INTERP_BILINEAR, x),
            SIMCLR_OK);
        simclr__aug_flip(x, 3, 24, 24);
        simclr__aug_rotate90(x, 3, 24, p.rotate_k, tmp);
        for (k = 0; k < 4; k++) {
            if (p.order[k] == SIMCLR__JITTER_BRIGHTNESS)
                simclr__aug_brightness(x, 3, 24, 24, p.brightness);
            else if (p.order[k] == SIMCLR__JITTER_CONTRAST)
                simclr__aug_contrast(x, 3, 24, 24, p.contrast);
            else if (p.order[k] == SIMCLR__JITTER_SATURATION)
                simclr__aug_saturation(x, 3, 24, 24, p.saturation);
            else
                simclr__aug_hue(x, 3, 24, 24, p.hue);
        }
        simclr__aug_grayscale(x, 3, 24, 24);
        assert_int_equal(p.blur_ksize, 7);
        simclr__aug_blur(x, 3, 24, 24, p.blur_ksize, p.blur_sigma, tmp);
        simclr__aug_solarize(x, 3, 24, 24, 0.5f);
        simclr__aug_cutout(x, 3, 24, 24, p.cutout_x, p.cutout_y, p.cutout_side);
        simclr__aug_normalize(x, 3, 24, 24, cfg.mean, cfg.std);
        assert_memory_equal(views + v * 3 * 576, x, sizeof(x));
    }
    assert_memory_not_equal(views, views + 3 * 576, sizeof(x));
    simclr_augmenter_destroy(aug);
}

/* Grayscale images go the whole way too, with every step on. */
static void test_gray_images(void **state)
{
    const simclr_image *src = find_image("gray");
    simclr_augment_config cfg;
    simclr_augmenter *aug;
    float views[2 * 32 * 32];
    uint32_t i;

    (void)state;
    simclr_augment_config_init(&cfg, SIMCLR_AUGMENT_PRESET_CIFAR);
    cfg.jitter_p = cfg.grayscale_p = cfg.blur_p = cfg.rotate_p = 1.0;
    cfg.sobel_p = 0.0;
    cfg.noise_p = cfg.solarize_p = cfg.cutout_p = 1.0;
    aug = make(&cfg);
    assert_int_equal(simclr_augment_pair(aug, src, 0, 1, views), SIMCLR_OK);
    for (i = 0; i < 2 * 32 * 32; i++) {
        float x = views[i] * cfg.std[0] + cfg.mean[0];

        assert_true(x >= -1e-5f && x <= 1.0f + 1e-5f);
    }
    simclr_augmenter_destroy(aug);
}

static void synth_image(simclr_image *img, uint8_t *px, uint32_t w, uint32_t h)
{
    uint32_t i;

    for (i = 0; i < w * h * 3; i++)
        px[i] = (uint8_t)((i * 7919u) ^ (i / 13));
    img->data = px;
    img->width = w;
    img->height = h;
    img->channels = 3;
    img->stride = (size_t)w * 3;
}

static void test_threads_and_determinism(void **state)
{
    enum { N = 8, S = 24, VIEW = 3 * S * S };
    static uint8_t px[3 * 61 * 47];
    static float a[2 * N * VIEW], b[2 * N * VIEW], c[2 * N * VIEW];
    simclr_image img;
    const simclr_image *images[N];
    uint64_t indices[N];
    simclr_augment_config cfg;
    simclr_augmenter *aug;
    int i, j, saved = simclr_get_num_threads();

    (void)state;
    synth_image(&img, px, 61, 47);
    for (i = 0; i < N; i++) {
        images[i] = &img;
        indices[i] = 100 + (uint64_t)i;
    }
    simclr_augment_config_init(&cfg, SIMCLR_AUGMENT_PRESET_IMAGENET);
    cfg.output_size = S;
    cfg.seed = 42;
    aug = make(&cfg);

    /* 8 copies of one image on 4 threads: 16 different views. */
    assert_int_equal(simclr_set_num_threads(4), SIMCLR_OK);
    assert_int_equal(simclr_augment_batch(aug, images, N, 2, 100, NULL, a),
                     SIMCLR_OK);
    for (i = 0; i < 2 * N; i++)
        for (j = i + 1; j < 2 * N; j++)
            assert_memory_not_equal(a + i * VIEW, a + j * VIEW,
                                    VIEW * sizeof(float));

    /* Rerun, and the index array, give the same bytes. */
    assert_int_equal(simclr_augment_batch(aug, images, N, 2, 100, NULL, b),
                     SIMCLR_OK);
    assert_memory_equal(a, b, sizeof(a));
    assert_int_equal(simclr_augment_batch(aug, images, N, 2, 0, indices, c),
                     SIMCLR_OK);
    assert_memory_equal(a, c, sizeof(a));

    /* One thread gives the same bytes; so does the single-image call. */
    assert_int_equal(simclr_set_num_threads(1), SIMCLR_OK);
    assert_int_equal(simclr_augment_batch(aug, images, N, 2, 100, NULL, c),
                     SIMCLR_OK);
    assert_memory_equal(a, c, sizeof(a));
    assert_int_equal(simclr_augment_pair(aug, &img, 2, 105, c), SIMCLR_OK);
    assert_memory_equal(a + 10 * VIEW, c, 2 * VIEW * sizeof(float));

    /* Another epoch or seed gives other views. */
    assert_int_equal(simclr_augment_batch(aug, images, N, 3, 100, NULL, c),
                     SIMCLR_OK);
    assert_memory_not_equal(a, c, VIEW * sizeof(float));
    simclr_augmenter_destroy(aug);
    cfg.seed = 43;
    aug = make(&cfg);
    assert_int_equal(simclr_augment_batch(aug, images, N, 2, 100, NULL, c),
                     SIMCLR_OK);
    assert_memory_not_equal(a, c, VIEW * sizeof(float));
    simclr_augmenter_destroy(aug);
    assert_int_equal(simclr_set_num_threads(saved), SIMCLR_OK);
}

/* ---- bad input ------------------------------------------------------ */

static void expect_bad_config(simclr_augment_config *cfg, const char *field)
{
    simclr_augmenter *aug = (simclr_augmenter *)cfg; /* must be reset */

    assert_int_equal(simclr_augmenter_create(cfg, &aug),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_null(aug);
    if (!strstr(simclr_last_error(), field))
        fail_msg("error \"%s\" does not name %s", simclr_last_error(), field);
    simclr_augment_config_init(cfg, SIMCLR_AUGMENT_PRESET_IMAGENET);
}

static void test_bad_config(void **state)
{
    simclr_augment_config cfg;
    simclr_augmenter *aug;

    (void)state;
    assert_int_equal(simclr_augment_config_init(NULL, 0),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_augment_config_init(&cfg, 7),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_augmenter_create(NULL, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    simclr_augment_config_init(&cfg, SIMCLR_AUGMENT_PRESET_IMAGENET);
    assert_int_equal(simclr_augment_config_set_strength(&cfg, -1.0),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_augment_config_set_strength(&cfg, NAN),
                     SIMCLR_ERR_INVALID_ARGUMENT);

    cfg.size = 8;
    expect_bad_config(&cfg, "size");
    cfg.output_size = 0;
    expect_bad_config(&cfg, "output_size");
    cfg.flip_p = 1.5;
    expect_bad_config(&cfg, "flip_p");
    cfg.jitter_p = -0.1;
    expect_bad_config(&cfg, "jitter_p");
    cfg.blur_p = NAN;
    expect_bad_config(&cfg, "blur_p");
    cfg.cutout_p = 2.0;
    expect_bad_config(&cfg, "cutout_p");
    cfg.crop_scale_min = 0.9;
    cfg.crop_scale_max = 0.5;
    expect_bad_config(&cfg, "crop_scale");
    cfg.crop_ratio_min = 2.0;
    expect_bad_config(&cfg, "crop_ratio");
    cfg.blur_sigma_max = 0.01;
    expect_bad_config(&cfg, "blur_sigma");
    cfg.std[1] = 0.0f;
    expect_bad_config(&cfg, "std");
    cfg.jitter_hue = 0.7;
    expect_bad_config(&cfg, "jitter_hue");
    cfg.crop_attempts = 0;
    expect_bad_config(&cfg, "crop_attempts");
    cfg.interp = (simclr_interp)9;
    expect_bad_config(&cfg, "interp");

    /* NULL config means the imagenet preset. */
    assert_int_equal(simclr_augmenter_create(NULL, &aug), SIMCLR_OK);
    assert_int_equal(simclr_augmenter_output_size(aug), 224);
    simclr_augmenter_destroy(aug);
    simclr_augmenter_destroy(NULL);
    assert_int_equal(simclr_augmenter_output_size(NULL), 0);
    assert_string_equal(simclr_augmenter_error(NULL), "");
}

static void test_bad_images(void **state)
{
    simclr_augment_config cfg;
    simclr_augmenter *aug;
    uint8_t px[4 * 4 * 3] = {0};
    simclr_image ok = {px, 4, 4, 3, 12}, bad;
    const simclr_image *images[2] = {&ok, &bad};
    float dst[4 * 3 * 8 * 8];
    double box[4] = {0, 0, 4, 4};

    (void)state;
    simclr_augment_config_init(&cfg, SIMCLR_AUGMENT_PRESET_CIFAR);
    cfg.output_size = 8;
    aug = make(&cfg);

    assert_int_equal(simclr_augment_pair(NULL, &ok, 0, 0, dst),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_augment_pair(aug, NULL, 0, 0, dst),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_augment_pair(aug, &ok, 0, 0, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);

    bad = ok;
    bad.width = 0;
    assert_int_equal(simclr_augment_pair(aug, &bad, 0, 0, dst),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(simclr_augmenter_error(aug), "0x4"));
    assert_int_equal(simclr_augment_batch(aug, images, 2, 0, 0, NULL, dst),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(simclr_augmenter_error(aug), "image 1"));
    bad = ok;
    bad.channels = 2;
    assert_int_equal(simclr_augment_pair(aug, &bad, 0, 0, dst),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    bad = ok;
    bad.stride = 5;
    assert_int_equal(simclr_augment_pair(aug, &bad, 0, 0, dst),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    bad = ok;
    bad.channels = 1;
    bad.stride = 4;
    assert_int_equal(simclr_augment_batch(aug, images, 2, 0, 0, NULL, dst),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(simclr_augmenter_error(aug), "channels"));
    assert_int_equal(simclr_augment_batch(aug, images, 0, 0, 0, NULL, dst),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_augment_batch(aug, NULL, 1, 0, 0, NULL, dst),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_augment_batch(aug, images, 1, 0, 0, NULL, dst),
                     SIMCLR_OK);

    /* A side beyond the resampler's limit is refused before any pixel is
     * read. */
    bad = ok;
    bad.width = 1u << 29;
    bad.stride = (size_t)3 << 29;
    assert_int_equal(simclr_augment_pair(aug, &bad, 0, 0, dst),
                     SIMCLR_ERR_LIMIT);
    images[1] = &bad;
    assert_int_equal(simclr_augment_batch(aug, images, 2, 0, 0, NULL, dst),
                     SIMCLR_ERR_LIMIT);
    assert_non_null(strstr(simclr_augmenter_error(aug), "limit"));

    /* The resampler guards its own arguments. */
    assert_int_equal(
        simclr__resample_box(&ok, box, 0, 8, SIMCLR_INTERP_BILINEAR, dst),
        SIMCLR_ERR_INVALID_ARGUMENT);
    box[2] = 5;
    assert_int_equal(
        simclr__resample_box(&ok, box, 8, 8, SIMCLR_INTERP_BILINEAR, dst),
        SIMCLR_ERR_INVALID_ARGUMENT);
    box[2] = 4;
    box[0] = 4;
    assert_int_equal(
        simclr__resample_box(&ok, box, 8, 8, SIMCLR_INTERP_BILINEAR, dst),
        SIMCLR_ERR_INVALID_ARGUMENT);
    simclr_augmenter_destroy(aug);
}

/* ---- inference preprocessing ----------------------------------------------- */

/* The centred square resampled to S x S and normalised equals Pillow's
 * resize(box=centre square), normalised the same way, within one grey
 * level; a bad image is refused. */
static void test_preprocess_center(void **state)
{
    const float mean[3] = {0.485f, 0.456f, 0.406f};
    const float std[3] = {0.229f, 0.224f, 0.225f};
    FILE *cases = fopen(SIMCLR_TEST_DATA "/preprocess/cases.txt", "r");
    char source[256], file[256];
    unsigned size;
    int checked = 0;

    (void)state;
    assert_non_null(cases);
    while (fscanf(cases, " center %255s %u %255s", source, &size, file) ==
           3) {
        char path[512];
        simclr_image *img;
        uint8_t *ref;
        float *dst;
        size_t plane = (size_t)size * size, i;
        uint32_t c;

        snprintf(path, sizeof(path), "%s/%s", SIMCLR_TEST_DATA, source);
        assert_int_equal(simclr_image_decode_file(path, NULL, &img),
                         SIMCLR_OK);
        snprintf(path, sizeof(path), "../preprocess/%s", file);
        ref = read_file(path, plane * img->channels);
        dst = malloc(sizeof(float) * plane * img->channels);
        assert_non_null(dst);
        assert_int_equal(simclr__preprocess_center(img, size, mean, std, dst),
                         SIMCLR_OK);
        for (c = 0; c < img->channels; c++)
            for (i = 0; i < plane; i++) {
                float want = ((float)ref[i * img->channels + c] / 255.0f -
                              mean[c]) / std[c];
                float tol = 1.0f / 255.0f / std[c] + 1e-5f;

                if (fabsf(dst[c * plane + i] - want) > tol)
                    fail_msg("%s at %u: pixel %zu channel %u is %g, Pillow "
                             "%g",
                             source, size, i, c, dst[c * plane + i], want);
            }
        free(dst);
        free(ref);
        simclr_image_destroy(img);
        checked++;
    }
    fclose(cases);
    assert_int_equal(checked, 12);

    {
        simclr_image empty = {0};
        float out[4];

        assert_int_equal(simclr__preprocess_center(NULL, 2, mean, std, out),
                         SIMCLR_ERR_INVALID_ARGUMENT);
        assert_int_equal(simclr__preprocess_center(&empty, 2, mean, std, out),
                         SIMCLR_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(simclr_last_error(), "empty image"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_matches_pillow),
        cmocka_unit_test(test_ops_match_torchvision),
        cmocka_unit_test(test_sobel_on_ramp),
        cmocka_unit_test(test_cutout_and_normalize),
        cmocka_unit_test(test_probabilities),
        cmocka_unit_test(test_crop_draws_uniform),
        cmocka_unit_test(test_crop_matches_torchvision),
        cmocka_unit_test(test_crop_fallback),
        cmocka_unit_test(test_pipeline_is_crop_then_normalize),
        cmocka_unit_test(test_pipeline_order),
        cmocka_unit_test(test_gray_images),
        cmocka_unit_test(test_threads_and_determinism),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_bad_images),
        cmocka_unit_test(test_preprocess_center),
    };

    return cmocka_run_group_tests_name("augment", tests, setup_images,
                                       teardown_images);
}
