/*
 * Resampling of 8-bit images into float planes, compatible with Pillow's
 * Image.resize(size, filter, box=...): the same filter supports, the
 * same tap positions and the same normalisation, computed in float
 * instead of Pillow's fixed point (results agree within one grey level).
 *
 * The augmenter's random resized crop uses it, and so does the encoder's
 * preprocessing (resize, centre crop) before inference.
 */
#ifndef SIMCLR_LIB_AUGMENT_RESAMPLE_H
#define SIMCLR_LIB_AUGMENT_RESAMPLE_H

#include <stdint.h>

#include "simclr/augment.h"
#include "simclr/image.h"
#include "simclr/status.h"

/*
 * Resize the box {x0, y0, x1, y1} of @p src (pixel edges, as Pillow's
 * box: 0 <= x0 < x1 <= width, 0 <= y0 < y1 <= height, fractional values
 * allowed) to dst_w x dst_h with antialiased bilinear or bicubic
 * filtering. Shrinking widens the filter by the scale factor, so the
 * result is antialiased like Pillow's.
 *
 * src: (H, W, C) uint8, C = 1 or 3, rows @p src->stride bytes apart.
 * dst: (C, dst_h, dst_w) float32 in [0, 1] (value / 255, bicubic
 *      overshoot clipped), caller-provided.
 *
 * Allocates its scratch through simclr__malloc and frees it before
 * returning. Thread-safe. Returns SIMCLR_OK, SIMCLR_ERR_INVALID_ARGUMENT
 * (NULL, empty image, bad box, zero output size, unknown filter),
 * SIMCLR_ERR_LIMIT (a side above 2^28 pixels, or sizes that overflow) or
 * SIMCLR_ERR_NOMEM, with the thread's error text set.
 */
simclr_status simclr__resample_box(const simclr_image *src, const double box[4],
                                   uint32_t dst_w, uint32_t dst_h,
                                   simclr_interp filter, float *dst);

#endif
