/*
 * simclr_encode(): features of decoded images of any size. Each image is
 * preprocessed on its own (centre square, resample to S x S, channel
 * conversion, normalisation: lib/augment/preprocess.h) into a batch
 * tensor, and the batches go through simclr_encode_tensor(). Batches
 * have a fixed size, so the encoder keeps at most two inference plans
 * (full batches and the last, shorter one) for any number of images.
 */
#include <string.h>

#include "augment/preprocess.h"
#include "encoder_internal.h"

/* Images preprocessed and encoded together: enough to keep the
 * convolutions busy, few enough that a ResNet-50 batch at 224 x 224
 * stays within a few hundred megabytes. */
#define ENCODE_BATCH 16

/* ITU-R 601 luma with the weights of the augmenter's grayscale step. */
#define LUMA_R 0.2989f
#define LUMA_G 0.587f
#define LUMA_B 0.114f

/* Image @p img as (C, S, S) encoder input in @p dst, C the encoder's
 * channel count: gray images are repeated into three channels, colour
 * images reduced to their luma for a one-channel encoder. @p rgb is
 * scratch for 3 S * S floats. */
static simclr_status preprocess(const simclr_encoder *enc,
                                const simclr_image *img, size_t index,
                                float *rgb, float *dst)
{
    static const float zero[3] = {0.f, 0.f, 0.f};
    static const float one[3] = {1.f, 1.f, 1.f};
    const simclr_encoder_config *cfg = &enc->cfg;
    size_t plane = (size_t)cfg->input_size * cfg->input_size, i;
    uint32_t c, channels = cfg->in_channels;
    simclr_status st;

    if (!img)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encode: image %zu is NULL", index);
    if (img->channels != 1 && img->channels != 3)
        return simclr__fail(NULL, SIMCLR_ERR_SHAPE,
                            "encode: image %zu has %u channels, not 1 or 3",
                            index, img->channels);
    if (channels != 1 && channels != 3)
        return simclr__fail(NULL, SIMCLR_ERR_SHAPE,
                            "encode: the encoder takes %u channels; only "
                            "1- and 3-channel encoders take images (use "
                            "simclr_encode_tensor())",
                            channels);

    if (img->channels == channels) {
        st = simclr__preprocess_center(img, cfg->input_size, cfg->mean,
                                       cfg->std, dst);
        if (st != SIMCLR_OK)
            return simclr__fail(NULL, st, "encode: image %zu: %s", index,
                                simclr_last_error());
        return SIMCLR_OK;
    }

    /* Another channel count: pixels in [0, 1] in the image's own
     * channels, converted, then normalised. */
    st = simclr__preprocess_center(img, cfg->input_size, zero, one, rgb);
    if (st != SIMCLR_OK)
        return simclr__fail(NULL, st, "encode: image %zu: %s", index,
                            simclr_last_error());

    for (i = 0; i < plane; i++) {
        if (channels == 3)
            dst[i] = dst[plane + i] = dst[2 * plane + i] = rgb[i];
        else
            dst[i] = LUMA_R * rgb[i] + LUMA_G * rgb[plane + i] +
                     LUMA_B * rgb[2 * plane + i];
    }
    for (c = 0; c < channels; c++)
        for (i = 0; i < plane; i++)
            dst[c * plane + i] =
                (dst[c * plane + i] - cfg->mean[c]) / cfg->std[c];
    return SIMCLR_OK;
}

simclr_status simclr_encode(simclr_encoder *enc,
                            const simclr_image *const *images, size_t n,
                            float *dst)
{
    size_t per_image, done, batch, i;
    float *src = NULL, *rgb = NULL;
    simclr_status st = SIMCLR_OK;
    uint32_t size;

    if (!enc || !images || !dst)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encode: encoder, images or dst is NULL");
    if (n == 0)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encode: no images (n is 0)");

    /* (ENCODE_BATCH, C, S, S) and (3, S, S); S <= 4096 and C <= 64 keep
     * these products far from overflow, but check them all the same. */
    size = enc->cfg.input_size;
    batch = n < ENCODE_BATCH ? n : ENCODE_BATCH;
    if (!simclr__mul4_size(enc->cfg.in_channels, size, size, 1, &per_image) ||
        !(src = simclr__malloc_array(batch, per_image * sizeof(float))) ||
        !(rgb = simclr__malloc_array(3 * (size_t)size * size,
                                     sizeof(float)))) {
        simclr__free(src);
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "encode: out of memory for a batch of %zu "
                            "images",
                            batch);
    }

    for (done = 0; st == SIMCLR_OK && done < n; done += batch) {
        if (batch > n - done)
            batch = n - done;
        for (i = 0; st == SIMCLR_OK && i < batch; i++)
            st = preprocess(enc, images[done + i], done + i, rgb,
                            src + i * per_image);
        if (st == SIMCLR_OK)
            st = simclr_encode_tensor(enc, src, batch, enc->cfg.in_channels,
                                      size, size, dst + done * enc->dim);
    }
    if (st != SIMCLR_OK) {
        pthread_mutex_lock(&enc->lock);
        simclr__error_adopt(&enc->err);
        pthread_mutex_unlock(&enc->lock);
    }
    simclr__free(rgb);
    simclr__free(src);
    return st;
}
