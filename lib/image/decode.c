/*
 * The decoding entry points: resolve the options, read a file whole,
 * recognise the format from its first bytes and hand the job to the PNG
 * or JPEG decoder. Also the per-row pixel conversions both decoders share.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/decode_internal.h"

void simclr_decode_options_init(simclr_decode_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->size = sizeof(*opts);
    opts->color = SIMCLR_COLOR_KEEP;
    opts->alpha = SIMCLR_ALPHA_COMPOSITE;
    opts->background[0] = 255;
    opts->background[1] = 255;
    opts->background[2] = 255;
    opts->max_pixels = 0;
    opts->max_side = 0;
    opts->max_scans = 0;
    opts->apply_orientation = 1;
    opts->lenient = 0;
}

simclr_image_format simclr_image_detect(const void *data, size_t size)
{
    static const uint8_t png_signature[8] = {0x89, 'P',  'N',  'G',
                                             '\r', '\n', 0x1a, '\n'};
    const uint8_t *bytes = data;

    if (!bytes)
        return SIMCLR_FORMAT_UNKNOWN;
    if (size >= 8 && memcmp(bytes, png_signature, 8) == 0)
        return SIMCLR_FORMAT_PNG;
    /* SOI; libjpeg skips junk before the next marker, so the third byte
     * is not required to be 0xff. */
    if (size >= 2 && bytes[0] == 0xff && bytes[1] == 0xd8)
        return SIMCLR_FORMAT_JPEG;
    return SIMCLR_FORMAT_UNKNOWN;
}

const char *simclr_image_format_name(simclr_image_format f)
{
    switch (f) {
    case SIMCLR_FORMAT_PNG:
        return "PNG";
    case SIMCLR_FORMAT_JPEG:
        return "JPEG";
    default:
        return "unknown";
    }
}

simclr_status simclr__decode_fail(const simclr__decode_job *job,
                                  const char *format, simclr_status status,
                                  const char *fmt, ...)
{
    char reason[SIMCLR__ERROR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return simclr__fail(NULL, status, "%s: %s: %s", job->name, format, reason);
}

simclr_status simclr__check_size(const simclr__decode_job *job,
                                 const char *format, uint64_t width,
                                 uint64_t height)
{
    if (width == 0 || height == 0)
        return simclr__decode_fail(
            job, format, SIMCLR_ERR_CORRUPT, "invalid size %llux%llu",
            (unsigned long long)width, (unsigned long long)height);
    /* Both are below 2^32, so the product fits in 64 bits. */
    if (width * height > job->max_pixels)
        return simclr__decode_fail(
            job, format, SIMCLR_ERR_LIMIT,
            "%llux%llu is %llu pixels, more than the limit of %llu",
            (unsigned long long)width, (unsigned long long)height,
            (unsigned long long)(width * height),
            (unsigned long long)job->max_pixels);
    return SIMCLR_OK;
}

unsigned simclr__output_channels(const simclr__decode_job *job,
                                 int source_is_gray)
{
    switch (job->color) {
    case SIMCLR_COLOR_GRAY:
        return 1;
    case SIMCLR_COLOR_RGB:
        return 3;
    default:
        return source_is_gray ? 1 : 3;
    }
}

/* One pixel's colour over the background, or as it is when alpha is
 * dropped. */
static inline uint8_t blend(unsigned c, unsigned a, unsigned bg)
{
    return simclr__div255(c * a + bg * (255u - a));
}

void simclr__convert_row(const simclr__decode_job *job, const uint8_t *src,
                         unsigned src_channels, uint8_t *dst,
                         unsigned dst_channels, uint32_t width)
{
    const int composite = job->alpha == SIMCLR_ALPHA_COMPOSITE;
    const uint8_t *bg = job->background;
    uint32_t x;

    for (x = 0; x < width; x++, src += src_channels, dst += dst_channels) {
        unsigned r, g, b, a = 255;

        if (src_channels <= 2) {
            r = g = b = src[0];
            if (src_channels == 2)
                a = src[1];
        } else {
            r = src[0];
            g = src[1];
            b = src[2];
            if (src_channels == 4)
                a = src[3];
        }
        if (composite && a != 255) {
            if (src_channels <= 2 && dst_channels == 1) {
                dst[0] = blend(r, a, job->background_gray);
                continue;
            }
            r = blend(r, a, bg[0]);
            g = blend(g, a, bg[1]);
            b = blend(b, a, bg[2]);
        }
        if (dst_channels == 1) {
            dst[0] = src_channels <= 2 ? (uint8_t)r : simclr__luma(r, g, b);
        } else {
            dst[0] = (uint8_t)r;
            dst[1] = (uint8_t)g;
            dst[2] = (uint8_t)b;
        }
    }
}

/* Check the caller's options and fill in the defaults. */
static simclr_status resolve_options(const simclr_decode_options *opts,
                                     simclr__decode_job *job)
{
    simclr_decode_options defaults;

    simclr_decode_options_init(&defaults);
    if (!opts)
        opts = &defaults;
    if (opts->size < sizeof(simclr_decode_options))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "%s: decode options: size %zu is not %zu (call "
                            "simclr_decode_options_init)",
                            job->name, opts->size,
                            sizeof(simclr_decode_options));
    if (opts->color != SIMCLR_COLOR_KEEP && opts->color != SIMCLR_COLOR_GRAY &&
        opts->color != SIMCLR_COLOR_RGB)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "%s: decode options: invalid color mode %d",
                            job->name, (int)opts->color);
    if (opts->alpha != SIMCLR_ALPHA_COMPOSITE &&
        opts->alpha != SIMCLR_ALPHA_DROP)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "%s: decode options: invalid alpha mode %d",
                            job->name, (int)opts->alpha);
    job->color = opts->color;
    job->alpha = opts->alpha;
    memcpy(job->background, opts->background, 3);
    job->background_gray = simclr__luma(
        opts->background[0], opts->background[1], opts->background[2]);
    job->max_pixels =
        opts->max_pixels ? opts->max_pixels : SIMCLR_IMAGE_DEFAULT_MAX_PIXELS;
    job->max_side = opts->max_side;
    job->max_scans =
        opts->max_scans ? opts->max_scans : SIMCLR_IMAGE_DEFAULT_MAX_SCANS;
    job->apply_orientation = opts->apply_orientation != 0;
    job->lenient = opts->lenient != 0;
    return SIMCLR_OK;
}

static simclr_status decode_job(simclr__decode_job *job, simclr_image **out)
{
    switch (simclr_image_detect(job->data, job->size)) {
    case SIMCLR_FORMAT_PNG:
        return simclr__decode_png(job, out);
    case SIMCLR_FORMAT_JPEG:
        return simclr__decode_jpeg(job, out);
    default:
        return simclr__fail(NULL, SIMCLR_ERR_UNSUPPORTED,
                            "%s: unknown format: the data starts with "
                            "neither the PNG signature nor a JPEG SOI "
                            "marker (%zu bytes)",
                            job->name, job->size);
    }
}

simclr_status simclr_image_decode_memory(const void *data, size_t size,
                                         const simclr_decode_options *opts,
                                         simclr_image **out)
{
    simclr__decode_job job = {.name = "memory buffer"};
    simclr_status st;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "memory buffer: out is NULL");
    *out = NULL;
    if (!data || size == 0)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "memory buffer: %s",
                            data ? "size is 0" : "data is NULL");
    st = resolve_options(opts, &job);
    if (st != SIMCLR_OK)
        return st;
    job.data = data;
    job.size = size;
    return decode_job(&job, out);
}

/* Read a regular file whole into a new buffer. */
static simclr_status read_file(const char *path, uint8_t **data, size_t *size)
{
    char why[128];
    struct stat info;
    uint8_t *buf = NULL;
    size_t got;
    FILE *f;
    int fd;

    *data = NULL;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; the file type
     * is checked right after, and regular files ignore the flag. */
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        int err = errno;

        if (fd >= 0)
            close(fd);
        return simclr__fail(NULL, SIMCLR_ERR_IO, "%s: cannot open: %s", path,
                            strerror_r(err, why, sizeof(why)));
    }
    if (fstat(fileno(f), &info) != 0 || !S_ISREG(info.st_mode)) {
        fclose(f);
        return simclr__fail(NULL, SIMCLR_ERR_IO,
                            "%s: cannot read: not a regular file", path);
    }
    if (info.st_size == 0 || (uint64_t)info.st_size > SIZE_MAX) {
        fclose(f);
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT, "%s: the file is %s",
                            path, info.st_size == 0 ? "empty" : "too large");
    }
    buf = simclr__malloc((size_t)info.st_size);
    if (!buf) {
        fclose(f);
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "%s: cannot allocate %lld bytes to read it", path,
                            (long long)info.st_size);
    }
    got = fread(buf, 1, (size_t)info.st_size, f);
    if (got != (size_t)info.st_size) {
        int failed = ferror(f);

        fclose(f);
        simclr__free(buf);
        return simclr__fail(NULL, SIMCLR_ERR_IO, "%s: cannot read: %s", path,
                            failed ? "read error" : "the file shrank");
    }
    fclose(f);
    *data = buf;
    *size = got;
    return SIMCLR_OK;
}

simclr_status simclr_image_decode_file(const char *path,
                                       const simclr_decode_options *opts,
                                       simclr_image **out)
{
    simclr__decode_job job = {.name = path};
    uint8_t *data;
    simclr_status st;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "decode file: out is NULL");
    *out = NULL;
    if (!path)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "decode file: path is NULL");
    st = resolve_options(opts, &job);
    if (st != SIMCLR_OK)
        return st;
    st = read_file(path, &data, &job.size);
    if (st != SIMCLR_OK)
        return st;
    job.data = data;
    st = decode_job(&job, out);
    simclr__free(data);
    return st;
}
