/*
 * Writing an image as PNG, atomically: the file is written under a
 * temporary name in the destination's folder, flushed to disk and then
 * renamed over the destination (common/atomic_file.h), so a reader never
 * sees half a file and a failure leaves an existing file as it was.
 */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "simclr/image.h"
#include "common/atomic_file.h"
#include "common/common.h"
#include "png_report.h"

typedef struct write_ctx {
    const simclr_image *image;
    FILE *file;
    png_structp png;
    png_infop info;
    simclr__png_report report; /* libpng's error text, NOMEM */
} write_ctx;

/* Encode every row; 0 on success, -1 after a libpng error. */
static int encode(write_ctx *ctx)
{
    const simclr_image *image = ctx->image;
    uint32_t y;

    if (setjmp(png_jmpbuf(ctx->png)))
        return -1;
    png_init_io(ctx->png, ctx->file);
    png_set_IHDR(ctx->png, ctx->info, image->width, image->height, 8,
                 image->channels == 1 ? PNG_COLOR_TYPE_GRAY
                                      : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(ctx->png, ctx->info);
    for (y = 0; y < image->height; y++)
        png_write_row(ctx->png, image->data + (size_t)y * image->stride);
    png_write_end(ctx->png, NULL);
    return 0;
}

static simclr_status write_to(write_ctx *ctx, const char *path)
{
    int failed;

    ctx->png = png_create_write_struct_2(
        PNG_LIBPNG_VER_STRING, &ctx->report, simclr__png_on_error,
        simclr__png_on_warning, &ctx->report, simclr__png_on_malloc,
        simclr__png_on_free);
    if (ctx->png)
        ctx->info = png_create_info_struct(ctx->png);
    if (!ctx->png || !ctx->info) {
        png_destroy_write_struct(ctx->png ? &ctx->png : NULL, NULL);
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "%s: PNG: cannot create the libpng encoder", path);
    }
    failed = encode(ctx);
    png_destroy_write_struct(&ctx->png, &ctx->info);
    if (failed)
        return simclr__fail(
            NULL, ctx->report.out_of_memory ? SIMCLR_ERR_NOMEM : SIMCLR_ERR_IO,
            "%s: PNG: %s", path, ctx->report.message);
    return SIMCLR_OK;
}

simclr_status simclr_image_write_png(const simclr_image *image,
                                     const char *path)
{
    simclr__atomic_file af;
    write_ctx ctx;
    simclr_status st;

    if (!image || !path)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "write PNG: %s is NULL", image ? "path" : "image");
    if (!image->data || image->width == 0 || image->height == 0 ||
        (image->channels != 1 && image->channels != 3) ||
        image->stride / image->channels < image->width)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "%s: PNG: cannot write a %ux%u image with %u "
                            "channels and stride %zu",
                            path, image->width, image->height, image->channels,
                            image->stride);

    st = simclr__atomic_open(&af, path, NULL);
    if (st != SIMCLR_OK)
        return st;
    memset(&ctx, 0, sizeof(ctx));
    ctx.image = image;
    ctx.file = af.file;
    st = write_to(&ctx, path);
    if (st != SIMCLR_OK) {
        simclr__atomic_discard(&af);
        return st;
    }
    return simclr__atomic_commit(&af, NULL);
}
