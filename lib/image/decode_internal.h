/*
 * Shared by the image decoders: the resolved options, the error texts that
 * name the source, and the pixel conversions both formats need.
 */
#ifndef SIMCLR_LIB_IMAGE_DECODE_INTERNAL_H
#define SIMCLR_LIB_IMAGE_DECODE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "simclr/image.h"
#include "common/common.h"

/* For the function libpng or libjpeg longjmp out of: kept out of line so
 * its locals never share a frame with the setjmp. */
#if defined(__GNUC__)
#define SIMCLR__NOINLINE __attribute__((noinline))
#else
#define SIMCLR__NOINLINE
#endif

/* The options with defaults filled in, plus what the message needs. */
typedef struct simclr__decode_job {
    const uint8_t *data; /* encoded bytes */
    size_t size;
    const char *name; /* file path or "memory buffer" */
    simclr_color_mode color;
    simclr_alpha_mode alpha;
    uint8_t background[3];
    uint8_t background_gray; /* luma of background */
    uint64_t max_pixels;
    uint32_t max_side;
    uint32_t max_scans;
    int apply_orientation;
    int lenient;
} simclr__decode_job;

/* "NAME: FORMAT: reason" into the thread's last-error text. */
simclr_status simclr__decode_fail(const simclr__decode_job *job,
                                  const char *format, simclr_status status,
                                  const char *fmt, ...) SIMCLR__PRINTF(4, 5);

/* Refuse width x height above job->max_pixels (or zero). */
simclr_status simclr__check_size(const simclr__decode_job *job,
                                 const char *format, uint64_t width,
                                 uint64_t height);

/* The RGB -> gray weights Pillow and ITU-R 601 use, in 16-bit fixed
 * point. */
static inline uint8_t simclr__luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

/* Exact round(v / 255) for v in [0, 255 * 255]. */
static inline uint8_t simclr__div255(unsigned v)
{
    return (uint8_t)((v + 128u + ((v + 128u) >> 8)) >> 8);
}

/*
 * Convert one row of @p width pixels with @p src_channels interleaved
 * 8-bit samples (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) to @p dst_channels
 * (1 or 3), applying the job's alpha mode.
 */
void simclr__convert_row(const simclr__decode_job *job, const uint8_t *src,
                         unsigned src_channels, uint8_t *dst,
                         unsigned dst_channels, uint32_t width);

/* Output channels for a source that is gray (1) or colour (0). */
unsigned simclr__output_channels(const simclr__decode_job *job,
                                 int source_is_gray);

simclr_status simclr__decode_png(const simclr__decode_job *job,
                                 simclr_image **out);
simclr_status simclr__decode_jpeg(const simclr__decode_job *job,
                                  simclr_image **out);

#endif /* SIMCLR_LIB_IMAGE_DECODE_INTERNAL_H */
