/*
 * Inference preprocessing: centre square, resample, normalise. The
 * resampler does the filtering; this file only chooses the box.
 */
#include "preprocess.h"

#include "common/common.h"
#include "ops.h"
#include "resample.h"

simclr_status simclr__preprocess_center(const simclr_image *src,
                                        uint32_t size, const float mean[3],
                                        const float std[3], float *dst)
{
    double side, box[4];
    simclr_status st;

    if (!src || !mean || !std || !dst)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "preprocess: NULL argument");
    if (src->width == 0 || src->height == 0)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "preprocess: empty image (%ux%u)", src->width,
                            src->height);

    /* The centred square, in Pillow's box coordinates (pixel edges). */
    side = src->width < src->height ? src->width : src->height;
    box[0] = 0.5 * (src->width - side);
    box[1] = 0.5 * (src->height - side);
    box[2] = box[0] + side;
    box[3] = box[1] + side;

    st = simclr__resample_box(src, box, size, size, SIMCLR_INTERP_BILINEAR,
                              dst);
    if (st != SIMCLR_OK)
        return st;
    simclr__aug_normalize(dst, src->channels, size, size, mean, std);
    return SIMCLR_OK;
}
