/* Images the library allocates: header and pixels in one block. */
#include "simclr/image.h"
#include "common/common.h"

simclr_status simclr_image_create(uint32_t width, uint32_t height,
                                  uint32_t channels, simclr_image **out)
{
    size_t stride, pixels, total;
    simclr_image *image;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "image: out is NULL");
    *out = NULL;
    if (width == 0 || height == 0 || (channels != 1 && channels != 3))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "image: invalid size %ux%u with %u channels", width,
                            height, channels);
    if (!simclr__mul_size(width, channels, &stride) ||
        !simclr__mul_size(stride, height, &pixels) ||
        !simclr__add_size(pixels, sizeof(*image), &total))
        return simclr__fail(NULL, SIMCLR_ERR_LIMIT,
                            "image: %ux%ux%u bytes overflow", width, height,
                            channels);

    image = simclr__malloc(total);
    if (!image)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "image: cannot allocate %zu bytes", total);
    image->data = (uint8_t *)(image + 1);
    image->width = width;
    image->height = height;
    image->channels = channels;
    image->stride = stride;
    *out = image;
    return SIMCLR_OK;
}

void simclr_image_destroy(simclr_image *image)
{
    simclr__free(image);
}
