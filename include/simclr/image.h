/**
 * @file image.h
 * @brief 8-bit images: the pixels every other module consumes.
 */
#ifndef SIMCLR_IMAGE_H
#define SIMCLR_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "simclr/export.h"
#include "simclr/status.h"

/**
 * @brief A view of 8-bit pixels, rows top to bottom, channels interleaved
 *        (HWC).
 *
 * The struct is complete and fixed: a caller may fill one in to describe
 * pixels it owns, and pass it to any function that takes images. Images
 * made by the library (simclr_image_create(), the decoders) own their
 * pixels and are released with simclr_image_destroy().
 */
typedef struct simclr_image {
    uint8_t *data;     /**< first pixel of the top row */
    uint32_t width;    /**< pixels per row, at least 1 */
    uint32_t height;   /**< rows, at least 1 */
    uint32_t channels; /**< 1 (gray) or 3 (RGB) */
    size_t stride;     /**< bytes from one row to the next, at least
                            width * channels */
} simclr_image;

SIMCLR_BEGIN_DECLS

/**
 * @brief Allocate an image with uninitialised pixels and a packed stride.
 *
 * Thread-safe. Since 0.1.
 *
 * @param width    Pixels per row, at least 1.
 * @param height   Rows, at least 1.
 * @param channels 1 or 3.
 * @param out      Receives the image; set to NULL on failure. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a zero size, a
 *         channel count other than 1 or 3 or a NULL @p out;
 *         SIMCLR_ERR_LIMIT if the byte count overflows;
 *         SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_image_create(uint32_t width, uint32_t height,
                                             uint32_t channels,
                                             simclr_image **out);

/**
 * @brief Release an image made by the library. NULL is ignored.
 *
 * Must not be given a caller-filled struct. Since 0.1.
 *
 * @param image An image from simclr_image_create() or a decoder, or NULL.
 */
SIMCLR_API void simclr_image_destroy(simclr_image *image);

SIMCLR_END_DECLS

#endif /* SIMCLR_IMAGE_H */
