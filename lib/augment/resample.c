/*
 * Separable antialiased resampling, tap for tap as Pillow computes it
 * (Resample.c: precompute_coeffs), with float weights and no rounding
 * between the two passes.
 */
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "ops.h"
#include "resample.h"

/* Tap positions are computed in int, as Pillow does; this keeps them
 * far from overflow. */
#define RESAMPLE_MAX_SIDE (1u << 28)

/* The filters, on distance in source pixels at scale 1. */
static double bilinear_filter(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double bicubic_filter(double x)
{
    const double a = -0.5;

    x = fabs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

/* The taps of one axis: output i reads source start[i] .. start[i] +
 * count[i] - 1 with weights w[i * ksize ...]. */
typedef struct axis_coeffs {
    uint32_t ksize;
    uint32_t *start;
    uint32_t *count;
    float *w;
} axis_coeffs;

static uint32_t axis_ksize(double in0, double in1, uint32_t out_size,
                           double support)
{
    double scale = (in1 - in0) / out_size;

    return (uint32_t)ceil(support * (scale < 1.0 ? 1.0 : scale)) * 2 + 1;
}

/*
 * Pillow's coefficients: output pixel i is centred at in0 + (i + 0.5) *
 * scale; the filter is stretched by max(scale, 1), evaluated at source
 * pixel centres within its support, and normalised to sum to @p gain.
 */
static void axis_compute(axis_coeffs *ax, uint32_t in_size, double in0,
                         double in1, uint32_t out_size, double support,
                         double (*filter)(double), double gain)
{
    double scale = (in1 - in0) / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double reach = support * filterscale;
    double ss = 1.0 / filterscale;
    uint32_t i, t;

    for (i = 0; i < out_size; i++) {
        double center = in0 + (i + 0.5) * scale;
        double sum = 0.0;
        int xmin = (int)(center - reach + 0.5);
        int xmax = (int)(center + reach + 0.5);
        float *w = ax->w + (size_t)i * ax->ksize;

        if (xmin < 0)
            xmin = 0;
        if (xmax > (int)in_size)
            xmax = (int)in_size;
        ax->start[i] = (uint32_t)xmin;
        ax->count[i] = (uint32_t)(xmax - xmin);
        for (t = 0; t < ax->count[i]; t++) {
            double v = filter((t + xmin - center + 0.5) * ss);

            w[t] = (float)v;
            sum += v;
        }
        for (t = 0; t < ax->count[i]; t++) {
            double v = w[t];

            w[t] = (float)(sum != 0.0 ? v / sum * gain : 0.0);
        }
        for (; t < ax->ksize; t++)
            w[t] = 0.0f;
    }
}

static inline float clip01(float v)
{
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

/* Horizontal pass over one source row, already in float: (W, C) -> C
 * rows of dst_w floats, each plane_stride floats apart. Clipped to
 * [0, 1] as Pillow clips its 8-bit intermediate, which matters for
 * bicubic overshoot. */
static void horizontal_row(const float *row, uint32_t channels,
                           const axis_coeffs *ax, uint32_t dst_w, float *dst,
                           size_t plane_stride)
{
    uint32_t i, t;

    if (channels == 1) {
        for (i = 0; i < dst_w; i++) {
            const float *s = row + ax->start[i];
            const float *w = ax->w + (size_t)i * ax->ksize;
            float acc = 0.0f;

            for (t = 0; t < ax->count[i]; t++)
                acc += w[t] * s[t];
            dst[i] = clip01(acc);
        }
        return;
    }
    for (i = 0; i < dst_w; i++) {
        const float *s = row + (size_t)ax->start[i] * 3;
        const float *w = ax->w + (size_t)i * ax->ksize;
        float r = 0.0f, g = 0.0f, b = 0.0f;

        for (t = 0; t < ax->count[i]; t++) {
            r += w[t] * s[3 * t + 0];
            g += w[t] * s[3 * t + 1];
            b += w[t] * s[3 * t + 2];
        }
        dst[i] = clip01(r);
        dst[plane_stride + i] = clip01(g);
        dst[2 * plane_stride + i] = clip01(b);
    }
}

/* Vertical pass of one output row: a weighted sum of whole rows, so the
 * inner loop runs along contiguous memory. Clips to [0, 1]. */
static void vertical_row(const float *tmp, size_t row_stride, const float *w,
                         uint32_t count, uint32_t dst_w, float *restrict dst)
{
    uint32_t x;

    simclr__aug_weighted_rows(dst, tmp, row_stride, w, count, dst_w);
#pragma omp simd
    for (x = 0; x < dst_w; x++)
        dst[x] = clip01(dst[x]);
}

static simclr_status check_args(const simclr_image *src, const double box[4],
                                uint32_t dst_w, uint32_t dst_h,
                                simclr_interp filter, const float *dst)
{
    if (!src || !box || !dst || !src->data)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "resample: NULL image, box or destination");
    if (src->width == 0 || src->height == 0 ||
        (src->channels != 1 && src->channels != 3) ||
        src->stride < (size_t)src->width * src->channels)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "resample: invalid image %ux%u, %u channels, "
                            "stride %zu",
                            src->width, src->height, src->channels,
                            src->stride);
    if (src->width > RESAMPLE_MAX_SIDE || src->height > RESAMPLE_MAX_SIDE ||
        dst_w > RESAMPLE_MAX_SIDE || dst_h > RESAMPLE_MAX_SIDE)
        return simclr__fail(NULL, SIMCLR_ERR_LIMIT,
                            "resample: %ux%u -> %ux%u exceeds the %u-pixel "
                            "side limit",
                            src->width, src->height, dst_w, dst_h,
                            RESAMPLE_MAX_SIDE);
    if (dst_w == 0 || dst_h == 0)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "resample: output size %ux%u is empty", dst_w,
                            dst_h);
    if (!(box[0] >= 0.0 && box[0] < box[2] && box[2] <= src->width &&
          box[1] >= 0.0 && box[1] < box[3] && box[3] <= src->height))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "resample: box (%g, %g, %g, %g) is not inside "
                            "the %ux%u image",
                            box[0], box[1], box[2], box[3], src->width,
                            src->height);
    if (filter != SIMCLR_INTERP_BILINEAR && filter != SIMCLR_INTERP_BICUBIC)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "resample: unknown filter %d", (int)filter);
    return SIMCLR_OK;
}

simclr_status simclr__resample_box(const simclr_image *src, const double box[4],
                                   uint32_t dst_w, uint32_t dst_h,
                                   simclr_interp filter, float *dst)
{
    double support;
    double (*fn)(double);
    axis_coeffs hx, vy;
    size_t nh, nv, total = 0, plane, x, x0, x1;
    size_t row_floats = (size_t)src->width * src->channels;
    uint32_t y0, y1, y, c;
    float *tmp, *row;
    void *block;
    simclr_status st;

    st = check_args(src, box, dst_w, dst_h, filter, dst);
    if (st != SIMCLR_OK)
        return st;
    support = filter == SIMCLR_INTERP_BICUBIC ? 2.0 : 1.0;
    fn = filter == SIMCLR_INTERP_BICUBIC ? bicubic_filter : bilinear_filter;
    hx.ksize = axis_ksize(box[0], box[2], dst_w, support);
    vy.ksize = axis_ksize(box[1], box[3], dst_h, support);

    /* One block for both axes' taps. */
    if (!simclr__mul_size(dst_w, hx.ksize, &nh) ||
        !simclr__mul_size(dst_h, vy.ksize, &nv) ||
        !simclr__add_size(nh, nv, &total) ||
        !simclr__add_size(total, 2 * ((size_t)dst_w + dst_h), &total) ||
        !simclr__mul_size(total, sizeof(float), &total))
        return simclr__fail(NULL, SIMCLR_ERR_LIMIT,
                            "resample: %ux%u -> %ux%u needs too much memory",
                            src->width, src->height, dst_w, dst_h);
    block = simclr__malloc(total);
    if (!block)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "resample: cannot allocate %zu bytes", total);
    hx.w = block;
    vy.w = hx.w + nh;
    hx.start = (uint32_t *)(vy.w + nv);
    hx.count = hx.start + dst_w;
    vy.start = hx.count + dst_w;
    vy.count = vy.start + dst_h;

    /* Taps of both axes; the 1/255 that maps bytes to [0, 1] rides on the
     * horizontal weights. */
    axis_compute(&hx, src->width, box[0], box[2], dst_w, support, fn,
                 1.0 / 255.0);
    axis_compute(&vy, src->height, box[1], box[3], dst_h, support, fn, 1.0);

    /* The source rows the vertical taps read: y0 .. y1 - 1. */
    y0 = vy.start[0];
    y1 = vy.start[0] + vy.count[0];
    for (y = 1; y < dst_h; y++) {
        if (vy.start[y] < y0)
            y0 = vy.start[y];
        if (vy.start[y] + vy.count[y] > y1)
            y1 = vy.start[y] + vy.count[y];
    }
    plane = (size_t)(y1 - y0) * dst_w;
    tmp = NULL;
    if (simclr__mul_size(plane, src->channels, &total) &&
        simclr__add_size(total, row_floats, &total))
        tmp = simclr__malloc_array(total, sizeof(float));
    if (!tmp) {
        simclr__free(block);
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "resample: cannot allocate the %u x %zu "
                            "intermediate",
                            src->channels, plane);
    }
    row = tmp + plane * src->channels;
    x0 = (size_t)hx.start[0] * src->channels;
    x1 = ((size_t)hx.start[dst_w - 1] + hx.count[dst_w - 1]) * src->channels;

    /* Horizontal pass: rows y0..y1-1, the bytes the taps read (x0..x1-1,
     * taps start in increasing order) turned into floats once, -> tmp
     * (C, y1 - y0, dst_w). */
    for (y = y0; y < y1; y++) {
        const uint8_t *s = src->data + (size_t)y * src->stride;

#pragma omp simd
        for (x = x0; x < x1; x++)
            row[x] = (float)s[x];
        horizontal_row(row, src->channels, &hx, dst_w,
                       tmp + (size_t)(y - y0) * dst_w, plane);
    }

    /* Vertical pass: tmp -> dst (C, dst_h, dst_w). */
    for (c = 0; c < src->channels; c++)
        for (y = 0; y < dst_h; y++)
            vertical_row(tmp + c * plane + (size_t)(vy.start[y] - y0) * dst_w,
                         dst_w, vy.w + (size_t)y * vy.ksize, vy.count[y], dst_w,
                         dst + ((size_t)c * dst_h + y) * dst_w);

    simclr__free(tmp);
    simclr__free(block);
    return SIMCLR_OK;
}
