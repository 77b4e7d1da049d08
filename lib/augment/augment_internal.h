/*
 * The random half of the augmenter: every decision a view needs, drawn
 * before any pixel is touched, so that the test can check the draws'
 * distributions without producing images.
 */
#ifndef SIMCLR_LIB_AUGMENT_INTERNAL_H
#define SIMCLR_LIB_AUGMENT_INTERNAL_H

#include <stdint.h>

#include "common/rng.h"
#include "simclr/augment.h"

/* The four colour jitter steps, in the order torchvision numbers them. */
enum {
    SIMCLR__JITTER_BRIGHTNESS = 0,
    SIMCLR__JITTER_CONTRAST = 1,
    SIMCLR__JITTER_SATURATION = 2,
    SIMCLR__JITTER_HUE = 3
};

/* Each step draws from its own stream (view * SIMCLR__STAGES + stage), so
 * turning one step on never changes what another step draws. */
enum {
    SIMCLR__STAGE_CROP,
    SIMCLR__STAGE_FLIP,
    SIMCLR__STAGE_ROTATE,
    SIMCLR__STAGE_JITTER,
    SIMCLR__STAGE_GRAY,
    SIMCLR__STAGE_BLUR,
    SIMCLR__STAGE_SOBEL,
    SIMCLR__STAGE_NOISE,
    SIMCLR__STAGE_SOLARIZE,
    SIMCLR__STAGE_CUTOUT,
    SIMCLR__STAGE_NOISE_PIXELS,
    SIMCLR__STAGES = 16
};

/* What one view will do. */
typedef struct simclr__aug_params {
    uint32_t crop_x, crop_y, crop_w, crop_h; /* in source pixels */
    int crop_fallback;                       /* no attempt fitted */
    int flip;
    int rotate_k; /* quarter turns counter-clockwise, 0 = none */
    int jitter;
    int order[4]; /* SIMCLR__JITTER_* in application order */
    float brightness, contrast, saturation, hue;
    int gray;
    int blur;
    uint32_t blur_ksize;
    double blur_sigma;
    int sobel;
    int noise;
    double noise_std;
    int solarize;
    int cutout;
    int64_t cutout_x, cutout_y; /* top-left corner, may be negative */
    uint32_t cutout_side;
} simclr__aug_params;

/* torchvision's RandomResizedCrop.get_params on a width x height image. */
void simclr__aug_sample_crop(simclr__rng *rng, uint32_t width, uint32_t height,
                             const double scale[2], const double ratio[2],
                             uint32_t attempts, simclr__aug_params *p);

/* Every decision of view @p view (0 or 1) of sample @p index. */
void simclr__aug_sample(const simclr_augmenter *aug, uint64_t epoch,
                        uint64_t index, uint32_t view, uint32_t width,
                        uint32_t height, simclr__aug_params *p);

/* Blur kernel size of an augmenter: blur_kernel_frac * S, made odd. */
uint32_t simclr__aug_blur_ksize(const simclr_augmenter *aug);

#endif
