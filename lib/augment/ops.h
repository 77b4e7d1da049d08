/*
 * The deterministic steps of the augmentation pipeline, each with its
 * parameters fixed, on float planes in [0, 1]:
 *
 *   x: (C, H, W) float32, C = 1 or 3, planes contiguous.
 *
 * They work in place. Colour steps follow torchvision.transforms.functional
 * (0.14) on float tensors, formula for formula, so that the two agree to
 * float rounding; grayscale luma uses torchvision's weights (0.2989,
 * 0.587, 0.114). With C = 1, saturation, hue and grayscale are the
 * identity. The test calls these directly with the reference parameters.
 */
#ifndef SIMCLR_LIB_AUGMENT_OPS_H
#define SIMCLR_LIB_AUGMENT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "common/rng.h"

/* dst[i] = sum over t < taps of k[t] * src[t * stride + i], i < n, the
 * taps added in order: the inner step of separable filters (stride 1
 * slides along a row, stride = row length stacks rows). */
void simclr__aug_weighted_rows(float *restrict dst, const float *src,
                               size_t stride, const float *k, uint32_t taps,
                               uint32_t n);

/* x = clip(f * x). */
void simclr__aug_brightness(float *x, uint32_t c, uint32_t h, uint32_t w,
                            float f);

/* x = clip(f * x + (1 - f) * mean(luma(x))). */
void simclr__aug_contrast(float *x, uint32_t c, uint32_t h, uint32_t w,
                          float f);

/* x = clip(f * x + (1 - f) * luma(x)) per pixel. */
void simclr__aug_saturation(float *x, uint32_t c, uint32_t h, uint32_t w,
                            float f);

/* Hue rotated by @p shift turns (in [-0.5, 0.5]) through HSV. */
void simclr__aug_hue(float *x, uint32_t c, uint32_t h, uint32_t w, float shift);

/* Every channel = luma. */
void simclr__aug_grayscale(float *x, uint32_t c, uint32_t h, uint32_t w);

/* Mirror left-right. */
void simclr__aug_flip(float *x, uint32_t c, uint32_t h, uint32_t w);

/* Rotate a square image by k * 90 degrees counter-clockwise (as
 * torch.rot90(x, k, dims=(-2, -1))). tmp: h * w floats. */
void simclr__aug_rotate90(float *x, uint32_t c, uint32_t s, int k, float *tmp);

/* The normalised 1-D Gaussian of torchvision's gaussian_blur: @p ksize
 * (odd) taps at -(ksize-1)/2 .. (ksize-1)/2. */
void simclr__aug_gaussian_kernel(float *k, uint32_t ksize, double sigma);

/* Separable Gaussian blur with reflect padding (edge not repeated).
 * tmp: h * w + w + ksize floats. */
void simclr__aug_blur(float *x, uint32_t c, uint32_t h, uint32_t w,
                      uint32_t ksize, double sigma, float *tmp);

/* Floats of scratch simclr__aug_blur needs. */
size_t simclr__aug_blur_scratch(uint32_t h, uint32_t w, uint32_t ksize);

/* Sobel gradient magnitude of the luma, / 4 and clipped to [0, 1], into
 * every channel; reflect padding. tmp: h * w floats. */
void simclr__aug_sobel(float *x, uint32_t c, uint32_t h, uint32_t w,
                       float *tmp);

/* x = clip(x + std * N(0, 1)), normals drawn from @p rng in order. */
void simclr__aug_noise(float *x, uint32_t c, uint32_t h, uint32_t w, double std,
                       simclr__rng *rng);

/* x = 1 - x where x >= threshold. */
void simclr__aug_solarize(float *x, uint32_t c, uint32_t h, uint32_t w,
                          float threshold);

/* Zero the square of side @p side whose top-left corner is (x0, y0),
 * clipped to the image (corners may be negative). */
void simclr__aug_cutout(float *x, uint32_t c, uint32_t h, uint32_t w,
                        int64_t x0, int64_t y0, uint32_t side);

/* x = (x - mean[ch]) / std[ch]. */
void simclr__aug_normalize(float *x, uint32_t c, uint32_t h, uint32_t w,
                           const float *mean, const float *std);

#endif
