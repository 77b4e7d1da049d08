/*
 * libFuzzer harness for the image decoders: every input is decoded from
 * memory with a few option sets. The decoder must return a status for
 * anything, and an image it returns must be complete.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "simclr/simclr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(const uint8_t *data, size_t size,
                   const simclr_decode_options *opts)
{
    simclr_image *image = NULL;
    unsigned sum = 0;
    size_t y, x;

    if (simclr_image_decode_memory(data, size, opts, &image) != SIMCLR_OK)
        return;
    /* Touch every byte so the sanitizer sees reads of unwritten or
     * out-of-bounds pixels. */
    for (y = 0; y < image->height; y++)
        for (x = 0; x < (size_t)image->width * image->channels; x++)
            sum += image->data[y * image->stride + x];
    if (image->channels != 1 && image->channels != 3)
        __builtin_trap();
    (void)sum;
    simclr_image_destroy(image);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    simclr_decode_options opts;

    /* Small limits keep each run fast; they are part of what is tested. */
    simclr_decode_options_init(&opts);
    opts.max_pixels = 1u << 20;
    opts.max_scans = 64;
    decode(data, size, &opts);

    opts.color = SIMCLR_COLOR_GRAY;
    opts.lenient = 1;
    opts.max_side = 32;
    decode(data, size, &opts);

    opts.color = SIMCLR_COLOR_RGB;
    opts.alpha = SIMCLR_ALPHA_DROP;
    opts.apply_orientation = 0;
    opts.max_side = 0;
    decode(data, size, &opts);
    return 0;
}
