/*
 * PNG decoding through libpng.
 *
 * Our own look at the IHDR chunk comes first: it gives the exact reason
 * for a bad header and refuses an image above the pixel limit before
 * libpng is even set up. libpng then expands every colour type and bit
 * depth to 8-bit gray, gray+alpha, RGB or RGBA (palette and tRNS become
 * colours and alpha, 16-bit samples are scaled with rounding, Adam7 is
 * de-interlaced) and simclr__convert_row() makes the requested channels.
 *
 * libpng reports errors with longjmp. All state that changes after
 * setjmp lives in a png_ctx owned by the caller of the function that
 * calls setjmp, so nothing depends on the value of a local variable
 * after the jump, and the caller frees whatever the context holds.
 */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "image/decode_internal.h"
#include "image/png_report.h"

#define FORMAT "PNG"

/* A stored deflate block expands at most 1032:1, so a zlib stream of n
 * bytes holds at most about 1032 * n bytes of rows. */
#define DEFLATE_MAX_RATIO 1032u

/* Ancillary chunks (text, profiles) larger than this are skipped, and at
 * most this many of them are kept: libpng would otherwise allocate
 * whatever length a chunk header claims, before reading its data. */
#define MAX_CHUNK_BYTES (16u << 20)
#define MAX_CHUNK_COUNT 1000u

typedef struct png_ctx {
    const simclr__decode_job *job;
    png_structp png;
    png_infop info;
    size_t offset;        /* read position in job->data */
    simclr__png_report report; /* libpng's error text, NOMEM */
    simclr_status status; /* set before a png_error of our own */
    uint8_t *rows;        /* interlaced images: all rows, expanded */
    png_bytep *row_ptrs;  /* into rows */
    uint8_t *row;         /* non-interlaced images: one expanded row */
    simclr_image *image;  /* the result */
} png_ctx;

static uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

/*
 * Every chunk must fit in the data: libpng allocates a buffer of the
 * length a chunk header claims before it reads the chunk, so a few bytes
 * could otherwise ask for gigabytes.
 */
static simclr_status check_chunks(const simclr__decode_job *job)
{
    size_t offset = 8;

    while (job->size - offset >= 12) {
        uint32_t length = read_be32(job->data + offset);
        const uint8_t *type = job->data + offset + 4;

        if (length > job->size - offset - 12)
            return simclr__decode_fail(
                job, FORMAT, SIMCLR_ERR_CORRUPT,
                "truncated: chunk %.4s at byte %zu claims %u bytes, %zu "
                "remain",
                (const char *)type, offset, length, job->size - offset - 12);
        if (memcmp(type, "IEND", 4) == 0)
            return SIMCLR_OK;
        offset += 12 + (size_t)length;
    }
    return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_CORRUPT,
                               "truncated: no IEND chunk");
}

/* Validate the signature and IHDR ourselves, for clear messages and an
 * early size check. */
static simclr_status check_header(const simclr__decode_job *job)
{
    const uint8_t *p = job->data + 8;
    uint32_t length, width, height;
    unsigned depth, color;
    uint64_t raw_bits, row_bytes;

    if (job->size < 8 + 8 + 13 + 4)
        return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_CORRUPT,
                                   "truncated: %zu bytes cannot hold the "
                                   "IHDR chunk",
                                   job->size);
    length = read_be32(p);
    if (memcmp(p + 4, "IHDR", 4) != 0 || length != 13)
        return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_CORRUPT,
                                   "the first chunk is not a 13-byte IHDR");
    width = read_be32(p + 8);
    height = read_be32(p + 12);
    depth = p[16];
    color = p[17];
    if (width == 0 || width > PNG_UINT_31_MAX)
        return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_CORRUPT,
                                   "IHDR: invalid width %u", width);
    if (height == 0 || height > PNG_UINT_31_MAX)
        return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_CORRUPT,
                                   "IHDR: invalid height %u", height);
    if (color != 0 && color != 2 && color != 3 && color != 4 && color != 6)
        return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_CORRUPT,
                                   "IHDR: invalid colour type %u", color);
    if (depth != 1 && depth != 2 && depth != 4 && depth != 8 && depth != 16)
        return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_CORRUPT,
                                   "IHDR: invalid bit depth %u", depth);
    if ((color == 3 && depth == 16) ||
        ((color == 2 || color == 4 || color == 6) && depth < 8))
        return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_CORRUPT,
                                   "IHDR: bit depth %u is not allowed with "
                                   "colour type %u",
                                   depth, color);
    if (simclr__check_size(job, FORMAT, width, height) != SIMCLR_OK)
        return SIMCLR_ERR_LIMIT;
    if (check_chunks(job) != SIMCLR_OK)
        return SIMCLR_ERR_CORRUPT;

    /* Refuse a header that claims more rows than the file's bytes can
     * inflate to, before any pixel memory is allocated. */
    raw_bits = (uint64_t)width * depth *
               (color == 2   ? 3
                : color == 4 ? 2
                : color == 6 ? 4
                             : 1);
    row_bytes = (raw_bits + 7) / 8 + 1; /* + the filter byte */
    if (job->size < ((uint64_t)1 << 50) &&
        (uint64_t)job->size * DEFLATE_MAX_RATIO / height < row_bytes)
        return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_CORRUPT,
                                   "truncated: %ux%u pixels cannot be "
                                   "stored in %zu bytes",
                                   width, height, job->size);
    return SIMCLR_OK;
}

/* ---- libpng callbacks ------------------------------------------------ */

static void on_read(png_structp png, png_bytep dst, size_t length)
{
    png_ctx *ctx = png_get_io_ptr(png);
    const simclr__decode_job *job = ctx->job;

    if (length > job->size - ctx->offset) {
        ctx->status = SIMCLR_ERR_CORRUPT;
        png_error(png, "truncated: the data ends early");
    }
    memcpy(dst, job->data + ctx->offset, length);
    ctx->offset += length;
}

/* ---- decoding -------------------------------------------------------- */

/* Set up the expansions to 8-bit gray, GA, RGB or RGBA. */
static void set_transforms(png_ctx *ctx, int *source_is_gray, int *interlaced)
{
    png_structp png = ctx->png;
    png_infop info = ctx->info;
    int color = png_get_color_type(png, info);

    *source_is_gray = (color & PNG_COLOR_MASK_COLOR) == 0;
    *interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    png_set_expand(png);
    if (png_get_bit_depth(png, info) == 16)
        png_set_scale_16(png);
    if (*interlaced)
        png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

/* Everything from png_read_info to png_read_end; libpng may longjmp out
 * of it to run_libpng(). */
static SIMCLR__NOINLINE simclr_status decode_steps(png_ctx *ctx)
{
    const simclr__decode_job *job = ctx->job;
    int source_is_gray, interlaced;
    unsigned src_channels, dst_channels;
    uint32_t width, height, y;
    simclr_status st;

    png_set_read_fn(ctx->png, ctx, on_read);
    png_set_user_limits(ctx->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_set_chunk_malloc_max(ctx->png, MAX_CHUNK_BYTES);
    png_set_chunk_cache_max(ctx->png, MAX_CHUNK_COUNT);
    png_read_info(ctx->png, ctx->info);
    width = png_get_image_width(ctx->png, ctx->info);
    height = png_get_image_height(ctx->png, ctx->info);
    set_transforms(ctx, &source_is_gray, &interlaced);
    src_channels = png_get_channels(ctx->png, ctx->info);
    dst_channels = simclr__output_channels(job, source_is_gray);
    if (png_get_bit_depth(ctx->png, ctx->info) != 8 || src_channels < 1 ||
        src_channels > 4 ||
        png_get_rowbytes(ctx->png, ctx->info) != (size_t)width * src_channels)
        return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_UNSUPPORTED,
                                   "libpng did not expand to 8-bit samples");

    st = simclr_image_create(width, height, dst_channels, &ctx->image);
    if (st != SIMCLR_OK)
        return simclr__decode_fail(job, FORMAT, st, "%s", simclr_last_error());

    if (interlaced) {
        /* Adam7 needs every row in memory until the last pass. */
        size_t stride = (size_t)width * src_channels;

        ctx->rows = simclr__malloc_array(stride, height);
        ctx->row_ptrs = simclr__malloc_array(height, sizeof(png_bytep));
        if (!ctx->rows || !ctx->row_ptrs)
            return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_NOMEM,
                                       "cannot allocate %ux%u rows", width,
                                       height);
        for (y = 0; y < height; y++)
            ctx->row_ptrs[y] = ctx->rows + (size_t)y * stride;
        png_read_image(ctx->png, ctx->row_ptrs);
        for (y = 0; y < height; y++)
            simclr__convert_row(job, ctx->row_ptrs[y], src_channels,
                                ctx->image->data + y * ctx->image->stride,
                                dst_channels, width);
    } else {
        ctx->row = simclr__malloc_array(width, src_channels);
        if (!ctx->row)
            return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_NOMEM,
                                       "cannot allocate a row of %u pixels",
                                       width);
        for (y = 0; y < height; y++) {
            png_read_row(ctx->png, ctx->row, NULL);
            simclr__convert_row(job, ctx->row, src_channels,
                                ctx->image->data + y * ctx->image->stride,
                                dst_channels, width);
        }
    }
    /* The chunks after the image data must be intact too (CRCs, IEND). */
    png_read_end(ctx->png, NULL);
    return SIMCLR_OK;
}

static simclr_status run_libpng(png_ctx *ctx)
{
    if (setjmp(png_jmpbuf(ctx->png)))
        return ctx->status;
    return decode_steps(ctx);
}

simclr_status simclr__decode_png(const simclr__decode_job *job,
                                 simclr_image **out)
{
    png_ctx ctx;
    simclr_status st;

    st = check_header(job);
    if (st != SIMCLR_OK)
        return st;

    memset(&ctx, 0, sizeof(ctx));
    ctx.job = job;
    ctx.status = SIMCLR_ERR_CORRUPT;
    ctx.png = png_create_read_struct_2(
        PNG_LIBPNG_VER_STRING, &ctx.report, simclr__png_on_error,
        simclr__png_on_warning, &ctx.report, simclr__png_on_malloc,
        simclr__png_on_free);
    if (ctx.png)
        ctx.info = png_create_info_struct(ctx.png);
    if (!ctx.png || !ctx.info) {
        png_destroy_read_struct(ctx.png ? &ctx.png : NULL, NULL, NULL);
        return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_NOMEM,
                                   "cannot create the libpng decoder");
    }

    st = run_libpng(&ctx);
    if (st != SIMCLR_OK && ctx.report.message[0]) {
        if (ctx.report.out_of_memory)
            st = SIMCLR_ERR_NOMEM;
        simclr__decode_fail(job, FORMAT, st, "%s", ctx.report.message);
    }
    png_destroy_read_struct(&ctx.png, &ctx.info, NULL);
    simclr__free(ctx.row);
    simclr__free(ctx.row_ptrs);
    simclr__free(ctx.rows);
    if (st != SIMCLR_OK) {
        simclr_image_destroy(ctx.image);
        return st;
    }
    *out = ctx.image;
    return SIMCLR_OK;
}
