/*
 * JPEG decoding through libjpeg-turbo.
 *
 * libjpeg-turbo converts YCbCr, RGB and gray to the requested channels
 * itself; CMYK and YCCK come out as CMYK and are converted here, with
 * Adobe's inverted convention when the APP14 marker says so. The EXIF
 * Orientation tag is read from APP1 and applied after decoding.
 *
 * libjpeg reports errors by calling error_exit, which must not return:
 * ours longjmps back. Warnings (corrupt or truncated data that libjpeg
 * patches over) arrive through emit_message; unless the caller asked for
 * lenient decoding they are errors too. As in png.c, everything that
 * changes after setjmp lives in a context owned by the caller of the
 * function that calls setjmp.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
/* jpeglib.h needs FILE and size_t first. */
#include <jerror.h>
#include <jpeglib.h>
#include <setjmp.h>

#include "image/decode_internal.h"

#define FORMAT "JPEG"

/* Lenient decoding still stops after this many warnings: a damaged file
 * can otherwise make libjpeg report one per block. */
#define MAX_WARNINGS 10000u

#define JPEG_APP1 (JPEG_APP0 + 1)

typedef struct jpeg_ctx {
    const simclr__decode_job *job;
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr err;
    struct jpeg_progress_mgr progress;
    jmp_buf jmp;
    int created;           /* cinfo needs jpeg_destroy_decompress */
    unsigned warnings;
    simclr_status status;  /* of the failure that longjmp'd */
    char message[JMSG_LENGTH_MAX + 64];
    uint8_t *row;          /* CMYK output: one row of 4 samples */
    simclr_image *decoded; /* as stored, before orientation */
    simclr_image *image;   /* the result */
} jpeg_ctx;

static jpeg_ctx *ctx_of(j_common_ptr cinfo)
{
    return (jpeg_ctx *)cinfo->client_data;
}

/* ---- libjpeg callbacks ---------------------------------------------- */

static simclr_status status_of_code(int code)
{
    switch (code) {
    case JERR_OUT_OF_MEMORY:
        return SIMCLR_ERR_NOMEM;
    case JERR_NO_BACKING_STORE:
        return SIMCLR_ERR_LIMIT;
    case JERR_BAD_PRECISION:
    case JERR_SOF_UNSUPPORTED:
    case JERR_NOT_COMPILED:
    case JERR_ARITH_NOTIMPL:
        return SIMCLR_ERR_UNSUPPORTED;
    default:
        return SIMCLR_ERR_CORRUPT;
    }
}

static void on_error_exit(j_common_ptr cinfo)
{
    jpeg_ctx *ctx = ctx_of(cinfo);
    char text[JMSG_LENGTH_MAX];

    (*cinfo->err->format_message)(cinfo, text);
    if (cinfo->err->msg_code == JERR_NO_BACKING_STORE)
        snprintf(ctx->message, sizeof(ctx->message),
                 "decoding needs more memory than the pixel limit allows");
    else
        snprintf(ctx->message, sizeof(ctx->message), "%s", text);
    ctx->status = status_of_code(cinfo->err->msg_code);
    longjmp(ctx->jmp, 1);
}

static void on_emit_message(j_common_ptr cinfo, int msg_level)
{
    jpeg_ctx *ctx = ctx_of(cinfo);
    char text[JMSG_LENGTH_MAX];

    if (msg_level >= 0)
        return; /* trace output */
    ctx->warnings++;
    if (ctx->job->lenient && ctx->warnings <= MAX_WARNINGS)
        return;
    (*cinfo->err->format_message)(cinfo, text);
    if (ctx->job->lenient)
        snprintf(ctx->message, sizeof(ctx->message),
                 "more than %u warnings, the last: %s", MAX_WARNINGS, text);
    else if (cinfo->err->msg_code == JWRN_JPEG_EOF)
        snprintf(ctx->message, sizeof(ctx->message), "truncated: %s", text);
    else
        snprintf(ctx->message, sizeof(ctx->message), "%s", text);
    ctx->status = SIMCLR_ERR_CORRUPT;
    longjmp(ctx->jmp, 1);
}

/* Called between scans and rows; enforces the scan cap. */
static void on_progress(j_common_ptr cinfo)
{
    jpeg_ctx *ctx = ctx_of(cinfo);
    j_decompress_ptr d = (j_decompress_ptr)cinfo;

    if (d->input_scan_number > 0 &&
        (unsigned)d->input_scan_number > ctx->job->max_scans) {
        snprintf(ctx->message, sizeof(ctx->message),
                 "more than %u scans (the max_scans limit)",
                 ctx->job->max_scans);
        ctx->status = SIMCLR_ERR_LIMIT;
        longjmp(ctx->jmp, 1);
    }
}

/* ---- EXIF orientation ------------------------------------------------ */

static unsigned read_u16(const uint8_t *p, int little)
{
    return little ? (unsigned)p[0] | (unsigned)p[1] << 8
                  : (unsigned)p[0] << 8 | p[1];
}

static uint32_t read_u32(const uint8_t *p, int little)
{
    return little ? (uint32_t)read_u16(p, 1) | (uint32_t)read_u16(p + 2, 1)
                                                   << 16
                  : (uint32_t)read_u16(p, 0) << 16 | read_u16(p + 2, 0);
}

/* The Orientation tag (0x0112) of IFD0 in an APP1 "Exif" payload; 1 when
 * absent or malformed. */
static int exif_orientation(const uint8_t *p, size_t size)
{
    const uint8_t *tiff = p + 6;
    size_t len, i, count;
    uint32_t ifd;
    int little;

    if (size < 6 + 8 || memcmp(p, "Exif\0\0", 6) != 0)
        return 1;
    len = size - 6;
    if (tiff[0] == 'I' && tiff[1] == 'I')
        little = 1;
    else if (tiff[0] == 'M' && tiff[1] == 'M')
        little = 0;
    else
        return 1;
    if (read_u16(tiff + 2, little) != 42)
        return 1;
    ifd = read_u32(tiff + 4, little);
    if (ifd < 8 || ifd > len - 2)
        return 1;
    count = read_u16(tiff + ifd, little);
    for (i = 0; i < count && ifd + 2 + 12 * (i + 1) <= len; i++) {
        const uint8_t *entry = tiff + ifd + 2 + 12 * i;

        if (read_u16(entry, little) == 0x0112) {
            unsigned value = read_u16(entry + 8, little);

            /* Type 3 is SHORT; count 1. */
            if (read_u16(entry + 2, little) != 3 || value < 1 || value > 8)
                return 1;
            return (int)value;
        }
    }
    return 1;
}

static int find_orientation(j_decompress_ptr cinfo)
{
    jpeg_saved_marker_ptr m;

    for (m = cinfo->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP1 && m->data_length >= 6 &&
            memcmp(m->data, "Exif\0\0", 6) == 0)
            return exif_orientation(m->data, m->data_length);
    return 1;
}

/*
 * Write @p src turned upright into @p dst. For orientations 5 to 8 the
 * sides swap. Each case gives the source pixel of destination (x, y).
 */
static void apply_orientation(const simclr_image *src, int orientation,
                              simclr_image *dst)
{
    const uint32_t w = src->width, h = src->height, c = src->channels;
    uint32_t x, y, k;

    for (y = 0; y < dst->height; y++) {
        uint8_t *out = dst->data + (size_t)y * dst->stride;

        for (x = 0; x < dst->width; x++, out += c) {
            uint32_t sx, sy;
            const uint8_t *in;

            switch (orientation) {
            case 2: /* mirrored */
                sx = w - 1 - x, sy = y;
                break;
            case 3: /* turned 180 degrees */
                sx = w - 1 - x, sy = h - 1 - y;
                break;
            case 4: /* flipped upside down */
                sx = x, sy = h - 1 - y;
                break;
            case 5: /* transposed */
                sx = y, sy = x;
                break;
            case 6: /* needs a quarter turn clockwise */
                sx = y, sy = h - 1 - x;
                break;
            case 7: /* transversed */
                sx = w - 1 - y, sy = h - 1 - x;
                break;
            default: /* 8: needs a quarter turn anticlockwise */
                sx = w - 1 - y, sy = x;
                break;
            }
            in = src->data + (size_t)sy * src->stride + (size_t)sx * c;
            for (k = 0; k < c; k++)
                out[k] = in[k];
        }
    }
}

/* ---- decoding -------------------------------------------------------- */

/* The smallest n/8 scale (n = 1..8) that keeps the longer side at least
 * max_side. */
static void choose_scale(j_decompress_ptr cinfo, uint32_t max_side)
{
    unsigned n;

    cinfo->scale_denom = 8;
    for (n = 1; n <= 8; n++) {
        cinfo->scale_num = n;
        jpeg_calc_output_dimensions(cinfo);
        if (cinfo->output_width >= max_side ||
            cinfo->output_height >= max_side)
            return;
    }
}

/* CMYK (Adobe-inverted or not) to RGB or gray, as Pillow converts. */
static void convert_cmyk_row(const uint8_t *src, int inverted, uint8_t *dst,
                             unsigned dst_channels, uint32_t width)
{
    uint32_t x;

    for (x = 0; x < width; x++, src += 4, dst += dst_channels) {
        unsigned c = src[0], m = src[1], y = src[2], k = src[3], r, g, b;

        if (inverted) {
            c = 255 - c, m = 255 - m, y = 255 - y;
        } else {
            k = 255 - k;
        }
        /* k is now the light that black lets through. */
        r = k - simclr__div255(c * k);
        g = k - simclr__div255(m * k);
        b = k - simclr__div255(y * k);
        if (dst_channels == 1) {
            dst[0] = simclr__luma(r, g, b);
        } else {
            dst[0] = (uint8_t)r;
            dst[1] = (uint8_t)g;
            dst[2] = (uint8_t)b;
        }
    }
}

static simclr_status read_pixels(jpeg_ctx *ctx, simclr_image *dst, int cmyk)
{
    j_decompress_ptr cinfo = &ctx->cinfo;
    const int inverted = cinfo->saw_Adobe_marker;

    if (cmyk) {
        ctx->row = simclr__malloc_array(cinfo->output_width, 4);
        if (!ctx->row)
            return simclr__decode_fail(ctx->job, FORMAT, SIMCLR_ERR_NOMEM,
                                       "cannot allocate a CMYK row");
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW rows[16];
        JDIMENSION y = cinfo->output_scanline, n, i;

        if (cmyk) {
            rows[0] = ctx->row;
            n = jpeg_read_scanlines(cinfo, rows, 1);
            if (n == 1)
                convert_cmyk_row(ctx->row, inverted,
                                 dst->data + (size_t)y * dst->stride,
                                 dst->channels, dst->width);
        } else {
            n = cinfo->output_height - y;
            if (n > SIMCLR__ARRAY_SIZE(rows))
                n = SIMCLR__ARRAY_SIZE(rows);
            for (i = 0; i < n; i++)
                rows[i] = dst->data + (size_t)(y + i) * dst->stride;
            n = jpeg_read_scanlines(cinfo, rows, n);
        }
        if (n == 0)
            return simclr__decode_fail(ctx->job, FORMAT, SIMCLR_ERR_CORRUPT,
                                       "no rows after row %u", y);
    }
    return SIMCLR_OK;
}

/* Pick libjpeg's output colour space; *cmyk when we convert ourselves. */
static simclr_status choose_color(jpeg_ctx *ctx, unsigned *channels,
                                  int *cmyk)
{
    j_decompress_ptr cinfo = &ctx->cinfo;

    *cmyk = 0;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
        *channels = simclr__output_channels(ctx->job, 1);
        cinfo->out_color_space = *channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
        return SIMCLR_OK;
    case JCS_YCbCr:
    case JCS_RGB:
        *channels = simclr__output_channels(ctx->job, 0);
        cinfo->out_color_space = *channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
        return SIMCLR_OK;
    case JCS_CMYK:
    case JCS_YCCK:
        *channels = simclr__output_channels(ctx->job, 0);
        cinfo->out_color_space = JCS_CMYK;
        *cmyk = 1;
        return SIMCLR_OK;
    default:
        return simclr__decode_fail(ctx->job, FORMAT, SIMCLR_ERR_UNSUPPORTED,
                                   "unsupported colour space with %d "
                                   "components",
                                   cinfo->num_components);
    }
}

/* Everything from jpeg_create_decompress to the upright image; libjpeg
 * may longjmp out of it to run_libjpeg(). */
static SIMCLR__NOINLINE simclr_status decode_steps(jpeg_ctx *ctx)
{
    const simclr__decode_job *job = ctx->job;
    j_decompress_ptr cinfo = &ctx->cinfo;
    unsigned channels = 3;
    int orientation, cmyk, swap;
    uint64_t memory;
    simclr_status st;

    cinfo->err = jpeg_std_error(&ctx->err);
    ctx->err.error_exit = on_error_exit;
    ctx->err.emit_message = on_emit_message;
    /* jpeg_create_decompress keeps err and client_data, and the error
     * handlers need both from the start. */
    cinfo->client_data = ctx;
    ctx->created = 1;
    jpeg_create_decompress(cinfo);
    ctx->progress.progress_monitor = on_progress;
    cinfo->progress = &ctx->progress;
    jpeg_mem_src(cinfo, job->data, (unsigned long)job->size);
    jpeg_save_markers(cinfo, JPEG_APP1, 0xffff);
    jpeg_read_header(cinfo, TRUE);

    st = simclr__check_size(job, FORMAT, cinfo->image_width,
                            cinfo->image_height);
    if (st != SIMCLR_OK)
        return st;
    /* libjpeg's whole-image coefficient buffers (progressive and
     * multi-scan files) take about 2 bytes per sample; a file needing
     * more than the pixel limit implies is refused instead of served. */
    memory = job->max_pixels * 8u + ((uint64_t)64 << 20);
    cinfo->mem->max_memory_to_use =
        memory > (uint64_t)LONG_MAX ? LONG_MAX : (long)memory;

    st = choose_color(ctx, &channels, &cmyk);
    if (st != SIMCLR_OK)
        return st;
    if (job->max_side)
        choose_scale(cinfo, job->max_side);
    orientation = job->apply_orientation ? find_orientation(cinfo) : 1;

    jpeg_start_decompress(cinfo);
    st = simclr_image_create(cinfo->output_width, cinfo->output_height,
                             channels, &ctx->decoded);
    if (st != SIMCLR_OK)
        return simclr__decode_fail(job, FORMAT, st, "%s",
                                   simclr_last_error());
    st = read_pixels(ctx, ctx->decoded, cmyk);
    if (st != SIMCLR_OK)
        return st;
    jpeg_finish_decompress(cinfo);

    if (orientation == 1) {
        ctx->image = ctx->decoded;
        ctx->decoded = NULL;
        return SIMCLR_OK;
    }
    swap = orientation >= 5;
    st = simclr_image_create(swap ? ctx->decoded->height : ctx->decoded->width,
                             swap ? ctx->decoded->width : ctx->decoded->height,
                             channels, &ctx->image);
    if (st != SIMCLR_OK)
        return simclr__decode_fail(job, FORMAT, st, "%s",
                                   simclr_last_error());
    apply_orientation(ctx->decoded, orientation, ctx->image);
    return SIMCLR_OK;
}

static simclr_status run_libjpeg(jpeg_ctx *ctx)
{
    if (setjmp(ctx->jmp))
        return ctx->status;
    return decode_steps(ctx);
}

simclr_status simclr__decode_jpeg(const simclr__decode_job *job,
                                  simclr_image **out)
{
    jpeg_ctx *ctx;
    simclr_status st;

    /* The context is large (libjpeg's structs): keep it off the stack. */
    ctx = simclr__calloc(1, sizeof(*ctx));
    if (!ctx)
        return simclr__decode_fail(job, FORMAT, SIMCLR_ERR_NOMEM,
                                   "cannot allocate the decoder");
    ctx->job = job;
    ctx->status = SIMCLR_ERR_CORRUPT;
    st = run_libjpeg(ctx);
    if (st != SIMCLR_OK && ctx->message[0])
        simclr__decode_fail(job, FORMAT, st, "%s", ctx->message);
    if (ctx->created)
        jpeg_destroy_decompress(&ctx->cinfo);
    simclr__free(ctx->row);
    simclr_image_destroy(ctx->decoded);
    if (st != SIMCLR_OK)
        simclr_image_destroy(ctx->image);
    else
        *out = ctx->image;
    simclr__free(ctx);
    return st;
}
