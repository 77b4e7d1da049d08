/*
 * The augmenter: config, the random draws of each view, the pipeline
 * that applies them, and the batch loop over the library's threads.
 */
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "simclr/augment.h"
#include "augment_internal.h"
#include "common/common.h"
#include "common/threads_internal.h"
#include "ops.h"
#include "resample.h"

#define MAX_OUTPUT_SIZE 4096u

struct simclr_augmenter {
    simclr_augment_config cfg;
    uint32_t blur_ksize;
    atomic_flag err_lock; /* guards err: calls run on many threads */
    simclr__error err;
};

/* ---- config --------------------------------------------------------- */

simclr_status simclr_augment_config_set_strength(simclr_augment_config *cfg,
                                                 double strength)
{
    if (!cfg)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment config: cfg is NULL");
    if (!(strength >= 0.0 && strength <= 2.5))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment config: colour strength %g is not in "
                            "[0, 2.5]",
                            strength);
    cfg->jitter_brightness = 0.8 * strength;
    cfg->jitter_contrast = 0.8 * strength;
    cfg->jitter_saturation = 0.8 * strength;
    cfg->jitter_hue = 0.2 * strength;
    return SIMCLR_OK;
}

simclr_status simclr_augment_config_init(simclr_augment_config *cfg,
                                         simclr_augment_preset preset)
{
    static const float mean[3] = {0.485f, 0.456f, 0.406f};
    static const float std[3] = {0.229f, 0.224f, 0.225f};
    int cifar = preset == SIMCLR_AUGMENT_PRESET_CIFAR;

    if (!cfg)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment config: cfg is NULL");
    if (preset != SIMCLR_AUGMENT_PRESET_IMAGENET && !cifar)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment config: unknown preset %d", (int)preset);
    memset(cfg, 0, sizeof(*cfg));
    cfg->size = sizeof(*cfg);
    cfg->output_size = cifar ? 32 : 224;
    memcpy(cfg->mean, mean, sizeof(mean));
    memcpy(cfg->std, std, sizeof(std));
    cfg->crop_scale_min = 0.08;
    cfg->crop_scale_max = 1.0;
    cfg->crop_ratio_min = 3.0 / 4.0;
    cfg->crop_ratio_max = 4.0 / 3.0;
    cfg->crop_attempts = 10;
    cfg->interp = SIMCLR_INTERP_BILINEAR;
    cfg->flip_p = 0.5;
    cfg->jitter_p = 0.8;
    simclr_augment_config_set_strength(cfg, cifar ? 0.5 : 1.0);
    cfg->grayscale_p = 0.2;
    cfg->blur_p = cifar ? 0.0 : 0.5;
    cfg->blur_kernel_frac = 0.1;
    cfg->blur_sigma_min = 0.1;
    cfg->blur_sigma_max = 2.0;
    cfg->noise_std_min = 0.05;
    cfg->noise_std_max = 0.2;
    cfg->solarize_threshold = 0.5;
    cfg->cutout_size_frac = 0.5;
    return SIMCLR_OK;
}

/* A field and the closed interval it must lie in (NaN never does). */
typedef struct bound {
    const char *name;
    double value, lo, hi;
} bound;

static simclr_status check_range(const char *name, double lo, double hi,
                                 double min_allowed)
{
    if (!(lo >= min_allowed && lo <= hi && isfinite(hi)))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment config: %s range [%g, %g] is inverted, "
                            "NaN or below %g",
                            name, lo, hi, min_allowed);
    return SIMCLR_OK;
}

static simclr_status validate(const simclr_augment_config *c)
{
    const bound bounds[] = {
        {"flip_p", c->flip_p, 0, 1},
        {"rotate_p", c->rotate_p, 0, 1},
        {"jitter_p", c->jitter_p, 0, 1},
        {"grayscale_p", c->grayscale_p, 0, 1},
        {"blur_p", c->blur_p, 0, 1},
        {"sobel_p", c->sobel_p, 0, 1},
        {"noise_p", c->noise_p, 0, 1},
        {"solarize_p", c->solarize_p, 0, 1},
        {"cutout_p", c->cutout_p, 0, 1},
        {"jitter_brightness", c->jitter_brightness, 0, 1e6},
        {"jitter_contrast", c->jitter_contrast, 0, 1e6},
        {"jitter_saturation", c->jitter_saturation, 0, 1e6},
        {"jitter_hue", c->jitter_hue, 0, 0.5},
        {"solarize_threshold", c->solarize_threshold, 0, 1},
        {"cutout_size_frac", c->cutout_size_frac, 1e-9, 1},
        {"blur_kernel_frac", c->blur_kernel_frac, 1e-9, 1},
        {"crop_scale_max", c->crop_scale_max, 0, 1},
    };
    simclr_status st;
    size_t i;

    if (c->output_size == 0 || c->output_size > MAX_OUTPUT_SIZE)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment config: output_size %u is not between 1 "
                            "and %u",
                            c->output_size, MAX_OUTPUT_SIZE);
    for (i = 0; i < SIMCLR__ARRAY_SIZE(bounds); i++)
        if (!(bounds[i].value >= bounds[i].lo &&
              bounds[i].value <= bounds[i].hi))
            return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                                "augment config: %s = %g is not in [%g, %g]",
                                bounds[i].name, bounds[i].value, bounds[i].lo,
                                bounds[i].hi);
    for (i = 0; i < 3; i++)
        if (!isfinite(c->mean[i]) || !(c->std[i] > 0.0f) ||
            !isfinite(c->std[i]))
            return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                                "augment config: channel %zu has mean %g, "
                                "std %g (std must be finite and > 0)",
                                i, c->mean[i], c->std[i]);
    if ((st = check_range("crop_scale", c->crop_scale_min, c->crop_scale_max,
                          1e-12)) != SIMCLR_OK ||
        (st = check_range("crop_ratio", c->crop_ratio_min, c->crop_ratio_max,
                          1e-12)) != SIMCLR_OK ||
        (st = check_range("blur_sigma", c->blur_sigma_min, c->blur_sigma_max,
                          1e-12)) != SIMCLR_OK ||
        (st = check_range("noise_std", c->noise_std_min, c->noise_std_max,
                          0.0)) != SIMCLR_OK)
        return st;
    if (c->crop_attempts == 0)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment config: crop_attempts is 0");
    if (c->interp != SIMCLR_INTERP_BILINEAR &&
        c->interp != SIMCLR_INTERP_BICUBIC)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment config: unknown interp %d",
                            (int)c->interp);
    return SIMCLR_OK;
}

/* ---- the handle ----------------------------------------------------- */

simclr_status simclr_augmenter_create(const simclr_augment_config *cfg,
                                      simclr_augmenter **out)
{
    simclr_augment_config defaults;
    simclr_augmenter *aug;
    simclr_status st;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augmenter: out is NULL");
    *out = NULL;
    if (!cfg) {
        simclr_augment_config_init(&defaults, SIMCLR_AUGMENT_PRESET_IMAGENET);
        cfg = &defaults;
    }
    if (cfg->size != sizeof(*cfg))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment config: size %zu is not %zu; fill the "
                            "config with simclr_augment_config_init()",
                            cfg->size, sizeof(*cfg));
    st = validate(cfg);
    if (st != SIMCLR_OK)
        return st;

    aug = simclr__calloc(1, sizeof(*aug));
    if (!aug)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "augmenter: cannot allocate %zu bytes",
                            sizeof(*aug));
    aug->cfg = *cfg;
    aug->blur_ksize = (uint32_t)(cfg->blur_kernel_frac * cfg->output_size);
    if (aug->blur_ksize % 2 == 0)
        aug->blur_ksize++;
    atomic_flag_clear(&aug->err_lock);
    *out = aug;
    return SIMCLR_OK;
}

void simclr_augmenter_destroy(simclr_augmenter *aug)
{
    simclr__free(aug);
}

uint32_t simclr_augmenter_output_size(const simclr_augmenter *aug)
{
    return aug ? aug->cfg.output_size : 0;
}

const char *simclr_augmenter_error(const simclr_augmenter *aug)
{
    return simclr__error_text(aug ? &aug->err : NULL);
}

uint32_t simclr__aug_blur_ksize(const simclr_augmenter *aug)
{
    return aug->blur_ksize;
}

/* Copy the calling thread's error text into the handle. The handle is
 * otherwise read-only, so only this write needs the lock. */
static simclr_status record(const simclr_augmenter *aug, simclr_status st)
{
    simclr_augmenter *a = (simclr_augmenter *)aug;

    while (atomic_flag_test_and_set(&a->err_lock))
        ;
    simclr__error_adopt(&a->err);
    atomic_flag_clear(&a->err_lock);
    return st;
}

/* ---- random draws --------------------------------------------------- */

void simclr__aug_sample_crop(simclr__rng *rng, uint32_t width, uint32_t height,
                             const double scale[2], const double ratio[2],
                             uint32_t attempts, simclr__aug_params *p)
{
    double area = (double)width * height;
    double log_lo = log(ratio[0]), log_hi = log(ratio[1]);
    double in_ratio = (double)width / height;
    uint32_t a, w, h;

    /* Up to @p attempts draws of (area, log-aspect) that fit. */
    for (a = 0; a < attempts; a++) {
        double target = area * simclr__rng_range(rng, scale[0], scale[1]);
        double aspect = exp(simclr__rng_range(rng, log_lo, log_hi));
        double fw = nearbyint(sqrt(target * aspect));
        double fh = nearbyint(sqrt(target / aspect));

        if (fw >= 1.0 && fw <= width && fh >= 1.0 && fh <= height) {
            w = (uint32_t)fw;
            h = (uint32_t)fh;
            p->crop_y = (uint32_t)simclr__rng_below(rng, height - h + 1);
            p->crop_x = (uint32_t)simclr__rng_below(rng, width - w + 1);
            p->crop_w = w;
            p->crop_h = h;
            p->crop_fallback = 0;
            return;
        }
    }

    /* The centre crop, with the aspect clamped into the ratio range. */
    if (in_ratio < ratio[0]) {
        w = width;
        h = (uint32_t)nearbyint(w / ratio[0]);
    } else if (in_ratio > ratio[1]) {
        h = height;
        w = (uint32_t)nearbyint(h * ratio[1]);
    } else {
        w = width;
        h = height;
    }
    w = w < 1 ? 1 : w > width ? width : w;
    h = h < 1 ? 1 : h > height ? height : h;
    p->crop_w = w;
    p->crop_h = h;
    p->crop_y = (height - h) / 2;
    p->crop_x = (width - w) / 2;
    p->crop_fallback = 1;
}

static void open_stage(simclr__rng *rng, const simclr_augmenter *aug,
                       uint64_t epoch, uint64_t index, uint32_t view,
                       uint32_t stage)
{
    simclr__rng_init(rng, aug->cfg.seed, epoch, index,
                     view * SIMCLR__STAGES + stage);
}

/* A factor U(max(0, 1 - m), 1 + m). */
static float jitter_factor(simclr__rng *rng, double m)
{
    return (float)simclr__rng_range(rng, m < 1.0 ? 1.0 - m : 0.0, 1.0 + m);
}

void simclr__aug_sample(const simclr_augmenter *aug, uint64_t epoch,
                        uint64_t index, uint32_t view, uint32_t width,
                        uint32_t height, simclr__aug_params *p)
{
    const simclr_augment_config *c = &aug->cfg;
    const double scale[2] = {c->crop_scale_min, c->crop_scale_max};
    const double ratio[2] = {c->crop_ratio_min, c->crop_ratio_max};
    simclr__rng rng;
    int i;

    memset(p, 0, sizeof(*p));
    open_stage(&rng, aug, epoch, index, view, SIMCLR__STAGE_CROP);
    simclr__aug_sample_crop(&rng, width, height, scale, ratio, c->crop_attempts,
                            p);

    open_stage(&rng, aug, epoch, index, view, SIMCLR__STAGE_FLIP);
    p->flip = simclr__rng_bernoulli(&rng, c->flip_p);

    open_stage(&rng, aug, epoch, index, view, SIMCLR__STAGE_ROTATE);
    if (simclr__rng_bernoulli(&rng, c->rotate_p))
        p->rotate_k = 1 + (int)simclr__rng_below(&rng, 3);

    /* Jitter: a random permutation (Fisher-Yates) and four factors. */
    open_stage(&rng, aug, epoch, index, view, SIMCLR__STAGE_JITTER);
    p->jitter = simclr__rng_bernoulli(&rng, c->jitter_p);
    for (i = 0; i < 4; i++)
        p->order[i] = i;
    for (i = 3; i > 0; i--) {
        int j = (int)simclr__rng_below(&rng, (uint64_t)i + 1), t = p->order[i];

        p->order[i] = p->order[j];
        p->order[j] = t;
    }
    p->brightness = jitter_factor(&rng, c->jitter_brightness);
    p->contrast = jitter_factor(&rng, c->jitter_contrast);
    p->saturation = jitter_factor(&rng, c->jitter_saturation);
    p->hue = (float)simclr__rng_range(&rng, -c->jitter_hue, c->jitter_hue);

    open_stage(&rng, aug, epoch, index, view, SIMCLR__STAGE_GRAY);
    p->gray = simclr__rng_bernoulli(&rng, c->grayscale_p);

    open_stage(&rng, aug, epoch, index, view, SIMCLR__STAGE_BLUR);
    p->blur = simclr__rng_bernoulli(&rng, c->blur_p);
    p->blur_sigma =
        simclr__rng_range(&rng, c->blur_sigma_min, c->blur_sigma_max);
    p->blur_ksize = aug->blur_ksize;

    open_stage(&rng, aug, epoch, index, view, SIMCLR__STAGE_SOBEL);
    p->sobel = simclr__rng_bernoulli(&rng, c->sobel_p);

    open_stage(&rng, aug, epoch, index, view, SIMCLR__STAGE_NOISE);
    p->noise = simclr__rng_bernoulli(&rng, c->noise_p);
    p->noise_std = simclr__rng_range(&rng, c->noise_std_min, c->noise_std_max);

    open_stage(&rng, aug, epoch, index, view, SIMCLR__STAGE_SOLARIZE);
    p->solarize = simclr__rng_bernoulli(&rng, c->solarize_p);

    /* Cutout: the square's centre is uniform over the view, so the square
     * may hang over an edge (as in DeVries and Taylor's cutout). */
    open_stage(&rng, aug, epoch, index, view, SIMCLR__STAGE_CUTOUT);
    p->cutout = simclr__rng_bernoulli(&rng, c->cutout_p);
    p->cutout_side = (uint32_t)nearbyint(c->cutout_size_frac * c->output_size);
    if (p->cutout_side < 1)
        p->cutout_side = 1;
    p->cutout_x =
        (int64_t)simclr__rng_below(&rng, c->output_size) - p->cutout_side / 2;
    p->cutout_y =
        (int64_t)simclr__rng_below(&rng, c->output_size) - p->cutout_side / 2;
}

/* ---- the pipeline --------------------------------------------------- */

static simclr_status check_image(const simclr_image *img, size_t i)
{
    if (!img || !img->data)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment: image %zu is NULL", i);
    if (img->width == 0 || img->height == 0 ||
        (img->channels != 1 && img->channels != 3) ||
        img->stride < (size_t)img->width * img->channels)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment: image %zu is %ux%u with %u channels "
                            "and stride %zu (need at least 1x1, 1 or 3 "
                            "channels, stride >= width * channels)",
                            i, img->width, img->height, img->channels,
                            img->stride);
    return SIMCLR_OK;
}

static void jitter(float *x, uint32_t c, uint32_t s,
                   const simclr__aug_params *p)
{
    int i;

    for (i = 0; i < 4; i++) {
        switch (p->order[i]) {
        case SIMCLR__JITTER_BRIGHTNESS:
            simclr__aug_brightness(x, c, s, s, p->brightness);
            break;
        case SIMCLR__JITTER_CONTRAST:
            simclr__aug_contrast(x, c, s, s, p->contrast);
            break;
        case SIMCLR__JITTER_SATURATION:
            simclr__aug_saturation(x, c, s, s, p->saturation);
            break;
        default:
            simclr__aug_hue(x, c, s, s, p->hue);
            break;
        }
    }
}

/*
 * One view of @p src into dst (C, S, S), in the documented order. Runs on
 * any thread; failures set only the thread's error text.
 */
static simclr_status augment_view(const simclr_augmenter *aug,
                                  const simclr_image *src, uint64_t epoch,
                                  uint64_t index, uint32_t view, float *dst)
{
    const simclr_augment_config *c = &aug->cfg;
    uint32_t s = c->output_size, ch = src->channels;
    simclr__aug_params p;
    double box[4];
    float *tmp = NULL;
    simclr_status st;

    simclr__aug_sample(aug, epoch, index, view, src->width, src->height, &p);

    /* Scratch for the steps that cannot work in place. */
    if (p.rotate_k || p.blur || p.sobel) {
        size_t need = simclr__aug_blur_scratch(s, s, p.blur_ksize);

        tmp = simclr__malloc_array(need, sizeof(float));
        if (!tmp)
            return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                                "augment: cannot allocate %zu floats of "
                                "scratch",
                                need);
    }

    /* Crop and resize: (H, W, C) uint8 -> dst (C, S, S) in [0, 1]. */
    box[0] = p.crop_x;
    box[1] = p.crop_y;
    box[2] = (double)p.crop_x + p.crop_w;
    box[3] = (double)p.crop_y + p.crop_h;
    st = simclr__resample_box(src, box, s, s, c->interp, dst);
    if (st != SIMCLR_OK) {
        simclr__free(tmp);
        return st;
    }

    /* The geometric, colour and filter steps, in place on dst. */
    if (p.flip)
        simclr__aug_flip(dst, ch, s, s);
    if (p.rotate_k)
        simclr__aug_rotate90(dst, ch, s, p.rotate_k, tmp);
    if (p.jitter)
        jitter(dst, ch, s, &p);
    if (p.gray)
        simclr__aug_grayscale(dst, ch, s, s);
    if (p.blur)
        simclr__aug_blur(dst, ch, s, s, p.blur_ksize, p.blur_sigma, tmp);
    if (p.sobel)
        simclr__aug_sobel(dst, ch, s, s, tmp);
    if (p.noise) {
        simclr__rng rng;

        open_stage(&rng, aug, epoch, index, view, SIMCLR__STAGE_NOISE_PIXELS);
        simclr__aug_noise(dst, ch, s, s, p.noise_std, &rng);
    }
    if (p.solarize)
        simclr__aug_solarize(dst, ch, s, s, (float)c->solarize_threshold);
    if (p.cutout)
        simclr__aug_cutout(dst, ch, s, s, p.cutout_x, p.cutout_y,
                           p.cutout_side);
    simclr__aug_normalize(dst, ch, s, s, c->mean, c->std);

    simclr__free(tmp);
    return SIMCLR_OK;
}

/* Floats in one view: C * S * S. */
static size_t view_floats(const simclr_augmenter *aug, uint32_t channels)
{
    return (size_t)channels * aug->cfg.output_size * aug->cfg.output_size;
}

simclr_status simclr_augment_pair(const simclr_augmenter *aug,
                                  const simclr_image *src, uint64_t epoch,
                                  uint64_t index, float *dst)
{
    simclr_status st;
    uint32_t v;

    if (!aug || !dst)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment: NULL augmenter or destination");
    st = check_image(src, 0);
    if (st != SIMCLR_OK)
        return record(aug, st);

    for (v = 0; v < 2; v++) {
        st = augment_view(aug, src, epoch, index, v,
                          dst + v * view_floats(aug, src->channels));
        if (st != SIMCLR_OK)
            return record(aug, st);
    }
    return SIMCLR_OK;
}

simclr_status simclr_augment_batch(const simclr_augmenter *aug,
                                   const simclr_image *const *images, size_t n,
                                   uint64_t epoch, uint64_t base_index,
                                   const uint64_t *indices, float *dst)
{
    size_t per_view, views, i, total;
    uint32_t channels;
    atomic_int failed = 0;
    char first_error[SIMCLR__ERROR_MAX] = "";
    simclr_status first_status = SIMCLR_OK;
    long k;

    if (!aug || !images || !dst)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "augment: NULL augmenter, images or destination");
    if (n == 0)
        return record(aug, simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                                        "augment: batch of 0 images"));
    for (i = 0; i < n; i++) {
        simclr_status st = check_image(images[i], i);

        if (st != SIMCLR_OK)
            return record(aug, st);
        if (images[i]->channels != images[0]->channels)
            return record(aug, simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                                            "augment: image %zu has %u "
                                            "channels, image 0 has %u",
                                            i, images[i]->channels,
                                            images[0]->channels));
    }
    channels = images[0]->channels;
    per_view = view_floats(aug, channels);
    if (!simclr__mul_size(n, 2, &views) ||
        !simclr__mul_size(views, per_view, &total) || views > LONG_MAX)
        return record(aug, simclr__fail(NULL, SIMCLR_ERR_LIMIT,
                                        "augment: %zu images overflow the "
                                        "output size",
                                        n));

        /* One view per iteration: the draws depend only on (index, view), so
         * the schedule cannot change the result. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(simclr__num_threads())
    for (k = 0; k < (long)views; k++) {
        size_t img = (size_t)k / 2;
        uint64_t index = indices ? indices[img] : base_index + img;
        simclr_status st;

        if (atomic_load(&failed))
            continue;
        st = augment_view(aug, images[img], epoch, index, (uint32_t)(k % 2),
                          dst + (size_t)k * per_view);
        if (st != SIMCLR_OK && !atomic_exchange(&failed, 1)) {
            first_status = st;
            snprintf(first_error, sizeof(first_error), "%s",
                     simclr_last_error());
        }
    }

    if (failed)
        return record(aug, simclr__fail(NULL, first_status, "%s", first_error));
    return SIMCLR_OK;
}
