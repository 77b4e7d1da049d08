/*
 * The deterministic preprocessing that inference applies to an image of
 * any size before the encoder sees it: the centred square of side
 * min(width, height) resampled to S x S with antialiased bilinear
 * filtering (as Pillow's resize with a box), then normalised with the
 * encoder's mean and std. For a square image this is a plain resize; for
 * another shape it equals resizing the shorter side to S and cutting the
 * centre, with the crop's edges placed exactly (fractional) rather than
 * rounded to whole pixels of the resized image.
 */
#ifndef SIMCLR_LIB_AUGMENT_PREPROCESS_H
#define SIMCLR_LIB_AUGMENT_PREPROCESS_H

#include <stdint.h>

#include "simclr/image.h"
#include "simclr/status.h"

/*
 * src: (H, W, C) uint8, C = 1 or 3.
 * dst: (C, S, S) float32, caller-provided: (value / 255 - mean[c]) /
 *      std[c], with mean[0] and std[0] for a gray image.
 *
 * Thread-safe. Returns SIMCLR_OK, or the resampler's failures
 * (SIMCLR_ERR_INVALID_ARGUMENT, SIMCLR_ERR_LIMIT, SIMCLR_ERR_NOMEM) with
 * the thread's error text set.
 */
simclr_status simclr__preprocess_center(const simclr_image *src,
                                        uint32_t size, const float mean[3],
                                        const float std[3], float *dst);

#endif
