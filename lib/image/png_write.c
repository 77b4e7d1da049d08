/*
 * Writing an image as PNG, atomically: the file is written under a
 * temporary name in the destination's folder, flushed to disk and then
 * renamed over the destination, so a reader never sees half a file and a
 * failure leaves an existing file as it was.
 */
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simclr/image.h"
#include "common/common.h"

typedef struct write_ctx {
    const simclr_image *image;
    FILE *file;
    png_structp png;
    png_infop info;
    int out_of_memory;
    char message[256];
} write_ctx;

static void on_error(png_structp png, png_const_charp msg)
{
    write_ctx *ctx = png_get_error_ptr(png);

    snprintf(ctx->message, sizeof(ctx->message), "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static png_voidp on_malloc(png_structp png, png_alloc_size_t size)
{
    write_ctx *ctx = png_get_mem_ptr(png);
    void *p = simclr__malloc(size);

    if (!p)
        ctx->out_of_memory = 1;
    return p;
}

static void on_free(png_structp png, png_voidp ptr)
{
    (void)png;
    simclr__free(ptr);
}

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

static simclr_status write_to(write_ctx *ctx, const char *path, const char *tmp)
{
    char why[128];
    int failed;

    ctx->png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, ctx, on_error,
                                         on_warning, ctx, on_malloc, on_free);
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
            NULL, ctx->out_of_memory ? SIMCLR_ERR_NOMEM : SIMCLR_ERR_IO,
            "%s: PNG: %s", path, ctx->message);
    if (fflush(ctx->file) != 0 || fsync(fileno(ctx->file)) != 0)
        return simclr__fail(NULL, SIMCLR_ERR_IO, "%s: cannot write %s: %s",
                            path, tmp, strerror_r(errno, why, sizeof(why)));
    return SIMCLR_OK;
}

simclr_status simclr_image_write_png(const simclr_image *image,
                                     const char *path)
{
    static const char suffix[] = ".tmp.XXXXXX";
    char why[128];
    struct stat old;
    write_ctx ctx;
    size_t len;
    char *tmp;
    int fd;
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

    /* The rename would replace a device, FIFO or folder entry with a
     * regular file (as root, /dev/null itself). */
    if (stat(path, &old) == 0 && !S_ISREG(old.st_mode))
        return simclr__fail(NULL, SIMCLR_ERR_IO,
                            "%s: exists and is not a regular file; not "
                            "replaced",
                            path);

    len = strlen(path);
    tmp = simclr__malloc(len + sizeof(suffix));
    if (!tmp)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "%s: cannot allocate a temporary name", path);
    memcpy(tmp, path, len);
    memcpy(tmp + len, suffix, sizeof(suffix));
    fd = mkstemp(tmp);
    if (fd < 0) {
        st = simclr__fail(NULL, SIMCLR_ERR_IO, "%s: cannot create %s: %s", path,
                          tmp, strerror_r(errno, why, sizeof(why)));
        simclr__free(tmp);
        return st;
    }

    /* mkstemp makes the file private; give it the replaced file's mode,
     * or the usual one for a new file. */
    fchmod(fd, stat(path, &old) == 0 ? old.st_mode & 07777 : 0644);

    memset(&ctx, 0, sizeof(ctx));
    ctx.image = image;
    ctx.file = fdopen(fd, "wb");
    if (!ctx.file) {
        st = simclr__fail(NULL, SIMCLR_ERR_IO, "%s: cannot open %s: %s", path,
                          tmp, strerror_r(errno, why, sizeof(why)));
        close(fd);
    } else {
        st = write_to(&ctx, path, tmp);
        if (fclose(ctx.file) != 0 && st == SIMCLR_OK)
            st = simclr__fail(NULL, SIMCLR_ERR_IO, "%s: cannot close %s: %s",
                              path, tmp, strerror_r(errno, why, sizeof(why)));
    }
    if (st == SIMCLR_OK && rename(tmp, path) != 0)
        st = simclr__fail(NULL, SIMCLR_ERR_IO, "%s: cannot rename %s: %s", path,
                          tmp, strerror_r(errno, why, sizeof(why)));
    if (st != SIMCLR_OK)
        unlink(tmp);
    simclr__free(tmp);
    return st;
}
