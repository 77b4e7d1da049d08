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

/* ---- decoding ------------------------------------------------------- */

/** Default of simclr_decode_options::max_pixels: 100 megapixels. */
#define SIMCLR_IMAGE_DEFAULT_MAX_PIXELS 100000000u

/** Default of simclr_decode_options::max_scans. */
#define SIMCLR_IMAGE_DEFAULT_MAX_SCANS 500u

/** @brief Channels of a decoded image. Since 0.1. */
typedef enum simclr_color_mode {
    SIMCLR_COLOR_KEEP = 0, /**< 1 channel for gray sources, else 3 */
    SIMCLR_COLOR_GRAY = 1, /**< always 1 channel (luma) */
    SIMCLR_COLOR_RGB = 2   /**< always 3 channels; gray is replicated */
} simclr_color_mode;

/** @brief What happens to an alpha channel or a tRNS colour. Since 0.1. */
typedef enum simclr_alpha_mode {
    SIMCLR_ALPHA_COMPOSITE = 0, /**< blend over options.background */
    SIMCLR_ALPHA_DROP = 1       /**< ignore alpha, keep the colours */
} simclr_alpha_mode;

/** @brief Container formats the decoder recognises. Since 0.1. */
typedef enum simclr_image_format {
    SIMCLR_FORMAT_UNKNOWN = 0, /**< neither of the below */
    SIMCLR_FORMAT_PNG = 1,     /**< PNG, through libpng */
    SIMCLR_FORMAT_JPEG = 2     /**< JPEG/JFIF/EXIF, through libjpeg-turbo */
} simclr_image_format;

/**
 * @brief How to decode. Fill with simclr_decode_options_init(), then
 *        change fields.
 *
 * The struct may grow at its end in later versions; @c size tells the
 * library which fields the caller knows about. Since 0.1.
 */
typedef struct simclr_decode_options {
    size_t size;             /**< sizeof(simclr_decode_options), set by
                                  simclr_decode_options_init() */
    simclr_color_mode color; /**< default SIMCLR_COLOR_KEEP */
    simclr_alpha_mode alpha; /**< default SIMCLR_ALPHA_COMPOSITE */
    uint8_t background[3];   /**< RGB under transparent pixels; default
                                  white (255, 255, 255). Gray output uses
                                  its luma. */
    uint64_t max_pixels;     /**< width * height above this is refused
                                  from the header, before pixels are
                                  allocated; 0 means
                                  SIMCLR_IMAGE_DEFAULT_MAX_PIXELS */
    uint32_t max_side;       /**< 0: full size. Otherwise JPEGs are
                                  DCT-scaled by the smallest factor n/8
                                  (n = 1..8) that keeps the longer side at
                                  least max_side; PNGs are not scaled */
    uint32_t max_scans;      /**< progressive JPEG scans above this are
                                  refused; 0 means
                                  SIMCLR_IMAGE_DEFAULT_MAX_SCANS */
    int apply_orientation;   /**< apply the JPEG EXIF Orientation tag;
                                  default 1 */
    int lenient;             /**< accept JPEG data libjpeg-turbo can only
                                  decode with warnings (corrupt or
                                  truncated data); default 0 */
} simclr_decode_options;

/**
 * @brief Fill @p opts with the defaults listed on each field.
 *
 * Thread-safe. Since 0.1.
 *
 * @param opts The struct to fill; NULL is ignored.
 */
SIMCLR_API void simclr_decode_options_init(simclr_decode_options *opts);

/**
 * @brief Decode a PNG or JPEG file into an 8-bit HWC image.
 *
 * The format is detected from the bytes, not the name. The file is read
 * whole into memory, then decoded as by simclr_image_decode_memory().
 * JPEG orientation is applied (if asked), so width and height are those
 * of the upright picture.
 *
 * Thread-safe: different threads may decode at once. Since 0.1.
 *
 * @param path File to read. Not NULL.
 * @param opts Options, or NULL for the defaults.
 * @param out  Receives the image, owned by the caller and released with
 *             simclr_image_destroy(); NULL on failure. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for NULL arguments or
 *         invalid options; SIMCLR_ERR_IO if the file cannot be read;
 *         SIMCLR_ERR_UNSUPPORTED for an unknown format or an unsupported
 *         variant (12-bit or lossless JPEG); SIMCLR_ERR_CORRUPT for
 *         malformed or truncated data; SIMCLR_ERR_LIMIT if the image
 *         exceeds max_pixels or max_scans; SIMCLR_ERR_NOMEM. The detail
 *         text (simclr_last_error()) names the file, the format and the
 *         reason.
 */
SIMCLR_API simclr_status simclr_image_decode_file(
    const char *path, const simclr_decode_options *opts, simclr_image **out);

/**
 * @brief Decode a PNG or JPEG held in memory into an 8-bit HWC image.
 *
 * Thread-safe. Since 0.1.
 *
 * @param data Encoded bytes; not modified, not kept. Not NULL.
 * @param size Byte count of @p data, at least 1.
 * @param opts Options, or NULL for the defaults.
 * @param out  Receives the image, owned by the caller; NULL on failure.
 *             Not NULL.
 * @return As simclr_image_decode_file(), without SIMCLR_ERR_IO; error
 *         texts name the source "memory buffer".
 */
SIMCLR_API simclr_status simclr_image_decode_memory(
    const void *data, size_t size, const simclr_decode_options *opts,
    simclr_image **out);

/**
 * @brief Recognise the format from the first bytes of a file.
 *
 * Thread-safe. Since 0.1.
 *
 * @param data Bytes; may be NULL when @p size is 0.
 * @param size Byte count of @p data.
 * @return SIMCLR_FORMAT_PNG, SIMCLR_FORMAT_JPEG or SIMCLR_FORMAT_UNKNOWN.
 */
SIMCLR_API simclr_image_format simclr_image_detect(const void *data,
                                                   size_t size);

/**
 * @brief The name of a format: "PNG", "JPEG" or "unknown".
 *
 * Thread-safe. Since 0.1.
 *
 * @param f Any value.
 * @return A static string; never NULL.
 */
SIMCLR_API const char *simclr_image_format_name(simclr_image_format f);

/**
 * @brief Write an image as an 8-bit gray or RGB PNG.
 *
 * The file is written to a temporary name in the same folder, flushed to
 * disk and renamed over @p path, so an existing file is either replaced
 * whole or left as it was. A replaced file keeps its permissions; a new
 * one gets 0644.
 *
 * Thread-safe for different paths. Since 0.1.
 *
 * @param image Image to write (any stride). Not NULL.
 * @param path  Destination. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for NULL arguments or an
 *         image with a zero size, NULL pixels or a channel count other
 *         than 1 or 3;
 *         SIMCLR_ERR_IO if the file cannot be written or @p path names
 *         something other than a regular file (a folder, device or FIFO,
 *         which is left alone); SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_image_write_png(const simclr_image *image,
                                                const char *path);

SIMCLR_END_DECLS

#endif /* SIMCLR_IMAGE_H */
