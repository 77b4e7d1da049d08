/*
 * The per-pixel and filtering steps of the augmentation pipeline. Loops
 * run along contiguous planes with no branches in the inner body where
 * the formula allows, so the compiler can vectorise them.
 */
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "ops.h"

#define LUMA_R 0.2989f
#define LUMA_G 0.587f
#define LUMA_B 0.114f

static inline float clip01(float v)
{
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

void simclr__aug_brightness(float *x, uint32_t c, uint32_t h, uint32_t w,
                            float f)
{
    size_t i, n = (size_t)c * h * w;

#pragma omp simd
    for (i = 0; i < n; i++)
        x[i] = clip01(f * x[i]);
}

void simclr__aug_contrast(float *x, uint32_t c, uint32_t h, uint32_t w, float f)
{
    size_t i, n = (size_t)h * w;
    double sum = 0.0;
    float mean, offset;

    /* The mean luma of the whole image, summed in double so that large
     * images lose no precision. */
    if (c == 3) {
#pragma omp simd reduction(+ : sum)
        for (i = 0; i < n; i++)
            sum += LUMA_R * x[i] + LUMA_G * x[n + i] + LUMA_B * x[2 * n + i];
    } else {
#pragma omp simd reduction(+ : sum)
        for (i = 0; i < n; i++)
            sum += x[i];
    }
    mean = (float)(sum / (double)n);

    /* Blend every value with that mean. */
    offset = (1.0f - f) * mean;
    n *= c;
#pragma omp simd
    for (i = 0; i < n; i++)
        x[i] = clip01(f * x[i] + offset);
}

void simclr__aug_saturation(float *x, uint32_t c, uint32_t h, uint32_t w,
                            float f)
{
    size_t i, n = (size_t)h * w;
    float *restrict r = x, *restrict g = x + n, *restrict b = x + 2 * n;

    if (c != 3)
        return;
#pragma omp simd
    for (i = 0; i < n; i++) {
        float gray =
            (1.0f - f) * (LUMA_R * r[i] + LUMA_G * g[i] + LUMA_B * b[i]);

        r[i] = clip01(f * r[i] + gray);
        g[i] = clip01(f * g[i] + gray);
        b[i] = clip01(f * b[i] + gray);
    }
}

/*
 * Hue rotation with torchvision's formulas (_rgb2hsv, remainder, _hsv2rgb)
 * on four pixels at a time. The compiler will not turn the formulas'
 * many selects into vector code by itself, so they are written with the
 * GNU vector extension (GCC and Clang): comparisons yield lane masks and
 * selects are bitwise blends. The floors act on values known to be
 * non-negative, where truncation is the floor, and the wraps on values
 * known to lie within one period.
 */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static inline v4f vsel(v4i mask, v4f a, v4f b)
{
    return (v4f)(((v4i)a & mask) | ((v4i)b & ~mask));
}

static inline v4f vclip01(v4f v)
{
    const v4f zero = {0.0f, 0.0f, 0.0f, 0.0f}, one = zero + 1.0f;

    v = vsel(v < zero, zero, v);
    return vsel(v > one, one, v);
}

static inline void hue4(v4f *pr, v4f *pg, v4f *pb, float shift)
{
    const v4f zero = {0.0f, 0.0f, 0.0f, 0.0f}, one = zero + 1.0f;
    const v4i six = {6, 6, 6, 6};
    v4f r = *pr, g = *pg, b = *pb;
    v4f maxc, minc, cr, s, div, rc, gc, bc, hh, h6, f, v, p, q, t;
    v4i eqc, k;

    /* RGB -> (hue, saturation, value); grey pixels divide by 1. */
    maxc = vsel(r > g, r, g);
    maxc = vsel(maxc > b, maxc, b);
    minc = vsel(r < g, r, g);
    minc = vsel(minc < b, minc, b);
    eqc = maxc == minc;
    cr = maxc - minc;
    s = cr / vsel(eqc, one, maxc);
    div = one / vsel(eqc, one, cr); /* one division for three */
    rc = (maxc - r) * div;
    gc = (maxc - g) * div;
    bc = (maxc - b) * div;
    hh = vsel(maxc == r, bc - gc,
              vsel(maxc == g, 2.0f + rc - bc, 4.0f + gc - rc));

    /* fmod(hh / 6 + 1, 1), then the shift wrapped as Python's %. */
    hh = hh / 6.0f + 1.0f;
    hh = vsel(hh >= one, hh - 1.0f, hh);
    hh = hh + shift;
    hh = vsel(hh < zero, hh + 1.0f, vsel(hh >= one, hh - 1.0f, hh));

    /* HSV -> RGB: sextant k, fraction f. */
    h6 = hh * 6.0f;
    k = __builtin_convertvector(h6, v4i);
    f = h6 - __builtin_convertvector(k, v4f);
    k -= (k >= six) & six;
    v = maxc;
    p = vclip01(v * (1.0f - s));
    q = vclip01(v * (1.0f - s * f));
    t = vclip01(v * (1.0f - s * (1.0f - f)));
    *pr = vsel((k == 0) | (k == 5), v, vsel(k == 1, q, vsel(k == 4, t, p)));
    *pg = vsel((k == 1) | (k == 2), v, vsel(k == 0, t, vsel(k == 3, q, p)));
    *pb = vsel((k == 3) | (k == 4), v, vsel(k == 2, t, vsel(k == 5, q, p)));
}

void simclr__aug_hue(float *x, uint32_t c, uint32_t h, uint32_t w, float shift)
{
    size_t i, j, n = (size_t)h * w;
    float *pr = x, *pg = x + n, *pb = x + 2 * n;
    v4f r, g, b;

    if (c != 3)
        return;

    /* Four pixels at a time, then the tail through the same code. */
    for (i = 0; i + 4 <= n; i += 4) {
        memcpy(&r, pr + i, sizeof(r));
        memcpy(&g, pg + i, sizeof(g));
        memcpy(&b, pb + i, sizeof(b));
        hue4(&r, &g, &b, shift);
        memcpy(pr + i, &r, sizeof(r));
        memcpy(pg + i, &g, sizeof(g));
        memcpy(pb + i, &b, sizeof(b));
    }
    if (i < n) {
        r = g = b = (v4f){0.0f, 0.0f, 0.0f, 0.0f};
        for (j = 0; i + j < n; j++) {
            r[j] = pr[i + j];
            g[j] = pg[i + j];
            b[j] = pb[i + j];
        }
        hue4(&r, &g, &b, shift);
        for (j = 0; i + j < n; j++) {
            pr[i + j] = r[j];
            pg[i + j] = g[j];
            pb[i + j] = b[j];
        }
    }
}

void simclr__aug_grayscale(float *x, uint32_t c, uint32_t h, uint32_t w)
{
    size_t i, n = (size_t)h * w;

    if (c != 3)
        return;
#pragma omp simd
    for (i = 0; i < n; i++) {
        float gray = LUMA_R * x[i] + LUMA_G * x[n + i] + LUMA_B * x[2 * n + i];

        x[i] = gray;
        x[n + i] = gray;
        x[2 * n + i] = gray;
    }
}

void simclr__aug_flip(float *x, uint32_t c, uint32_t h, uint32_t w)
{
    size_t rows = (size_t)c * h, y;
    uint32_t i;

    for (y = 0; y < rows; y++) {
        float *row = x + y * w;

        for (i = 0; i < w / 2; i++) {
            float t = row[i];

            row[i] = row[w - 1 - i];
            row[w - 1 - i] = t;
        }
    }
}

void simclr__aug_rotate90(float *x, uint32_t c, uint32_t s, int k, float *tmp)
{
    size_t plane = (size_t)s * s;
    uint32_t ch, i, j;

    k = ((k % 4) + 4) % 4;
    if (k == 0)
        return;
    for (ch = 0; ch < c; ch++) {
        float *p = x + ch * plane;

        memcpy(tmp, p, plane * sizeof(float));
        /* out[i][j] reads the source pixel that lands on (i, j). */
        for (i = 0; i < s; i++)
            for (j = 0; j < s; j++) {
                size_t from;

                if (k == 1)
                    from = (size_t)j * s + (s - 1 - i);
                else if (k == 2)
                    from = (size_t)(s - 1 - i) * s + (s - 1 - j);
                else
                    from = (size_t)(s - 1 - j) * s + i;
                p[(size_t)i * s + j] = tmp[from];
            }
    }
}

void simclr__aug_gaussian_kernel(float *k, uint32_t ksize, double sigma)
{
    double half = (ksize - 1) * 0.5, sum = 0.0;
    uint32_t i;

    for (i = 0; i < ksize; i++) {
        double t = (-half + i) / sigma;

        sum += (k[i] = (float)exp(-0.5 * t * t));
    }
    for (i = 0; i < ksize; i++)
        k[i] = (float)(k[i] / sum);
}

/* Index into [0, n) after reflecting about the end pixels (no repeat),
 * folding as often as needed. */
static inline uint32_t reflect(int64_t i, uint32_t n)
{
    int64_t period;

    if (n == 1)
        return 0;
    period = 2 * (int64_t)(n - 1);
    i %= period;
    if (i < 0)
        i += period;
    return (uint32_t)(i < n ? i : period - i);
}

size_t simclr__aug_blur_scratch(uint32_t h, uint32_t w, uint32_t ksize)
{
    return (size_t)h * w + w + ksize + 2 * (size_t)ksize;
}

void simclr__aug_blur(float *x, uint32_t c, uint32_t h, uint32_t w,
                      uint32_t ksize, double sigma, float *tmp)
{
    size_t plane = (size_t)h * w;
    uint32_t pad = ksize / 2, ch, y, t, lo = 0, hi = ksize, i;
    float *restrict kernel = tmp + plane, *restrict padded = kernel + ksize;

    /* Taps below 2^-24 move no float result by more than rounding: a
     * small sigma leaves only a few taps of the 10%-of-S kernel. */
    simclr__aug_gaussian_kernel(kernel, ksize, sigma);
    while (lo < pad && kernel[lo] < 0x1p-24f) {
        lo++;
        hi--;
    }

    for (ch = 0; ch < c; ch++) {
        float *p = x + ch * plane;

        /* Horizontal pass: each row, reflect-padded, -> tmp (H, W). */
        for (y = 0; y < h; y++) {
            const float *row = p + (size_t)y * w;
            float *restrict out = tmp + (size_t)y * w;

            for (i = 0; i < pad; i++) {
                padded[i] = row[reflect((int64_t)i - pad, w)];
                padded[pad + w + i] = row[reflect((int64_t)w + i, w)];
            }
            memcpy(padded + pad, row, (size_t)w * sizeof(float));
#pragma omp simd
            for (i = 0; i < w; i++)
                out[i] = 0.0f;
            for (t = lo; t < hi; t++) {
                float kt = kernel[t];
                const float *restrict src = padded + t;

#pragma omp simd
                for (i = 0; i < w; i++)
                    out[i] += kt * src[i];
            }
        }

        /* Vertical pass: whole reflected rows of tmp -> the plane. */
        for (y = 0; y < h; y++) {
            float *restrict out = p + (size_t)y * w;

#pragma omp simd
            for (i = 0; i < w; i++)
                out[i] = 0.0f;
            for (t = lo; t < hi; t++) {
                const float *restrict row =
                    tmp + (size_t)reflect((int64_t)y + t - pad, h) * w;
                float kt = kernel[t];

#pragma omp simd
                for (i = 0; i < w; i++)
                    out[i] += kt * row[i];
            }
        }
    }
}

void simclr__aug_sobel(float *x, uint32_t c, uint32_t h, uint32_t w, float *tmp)
{
    size_t plane = (size_t)h * w;
    uint32_t y, i, ch;

    /* Luma -> tmp (H, W). */
    for (i = 0; i < plane; i++)
        tmp[i] = c == 3 ? LUMA_R * x[i] + LUMA_G * x[plane + i] +
                              LUMA_B * x[2 * plane + i]
                        : x[i];

    /* 3x3 Sobel on the reflect-padded luma; magnitude / 4 maps a full
     * black-to-white step to 1. */
    for (y = 0; y < h; y++) {
        const float *up = tmp + (size_t)reflect((int64_t)y - 1, h) * w;
        const float *mid = tmp + (size_t)y * w;
        const float *dn = tmp + (size_t)reflect((int64_t)y + 1, h) * w;

        for (i = 0; i < w; i++) {
            uint32_t l = reflect((int64_t)i - 1, w);
            uint32_t r = reflect((int64_t)i + 1, w);
            float gx = (up[r] + 2.0f * mid[r] + dn[r]) -
                       (up[l] + 2.0f * mid[l] + dn[l]);
            float gy =
                (dn[l] + 2.0f * dn[i] + dn[r]) - (up[l] + 2.0f * up[i] + up[r]);

            x[(size_t)y * w + i] = clip01(0.25f * sqrtf(gx * gx + gy * gy));
        }
    }
    for (ch = 1; ch < c; ch++)
        memcpy(x + ch * plane, x, plane * sizeof(float));
}

void simclr__aug_noise(float *x, uint32_t c, uint32_t h, uint32_t w, double std,
                       simclr__rng *rng)
{
    size_t i, n = (size_t)c * h * w;

    for (i = 0; i < n; i++)
        x[i] = clip01(x[i] + (float)(std * simclr__rng_normal(rng)));
}

void simclr__aug_solarize(float *x, uint32_t c, uint32_t h, uint32_t w,
                          float threshold)
{
    size_t i, n = (size_t)c * h * w;

#pragma omp simd
    for (i = 0; i < n; i++)
        x[i] = x[i] >= threshold ? 1.0f - x[i] : x[i];
}

void simclr__aug_cutout(float *x, uint32_t c, uint32_t h, uint32_t w,
                        int64_t x0, int64_t y0, uint32_t side)
{
    int64_t xa = x0 < 0 ? 0 : x0, ya = y0 < 0 ? 0 : y0;
    int64_t xb = x0 + side > w ? w : x0 + side;
    int64_t yb = y0 + side > h ? h : y0 + side;
    uint32_t ch;
    int64_t y;

    if (xa >= xb || ya >= yb)
        return;
    for (ch = 0; ch < c; ch++)
        for (y = ya; y < yb; y++)
            memset(x + ((size_t)ch * h + (size_t)y) * w + xa, 0,
                   (size_t)(xb - xa) * sizeof(float));
}

void simclr__aug_normalize(float *x, uint32_t c, uint32_t h, uint32_t w,
                           const float *mean, const float *std)
{
    size_t i, n = (size_t)h * w;
    uint32_t ch;

    for (ch = 0; ch < c; ch++) {
        float *p = x + ch * n, m = mean[ch], inv = 1.0f / std[ch];

#pragma omp simd
        for (i = 0; i < n; i++)
            p[i] = (p[i] - m) * inv;
    }
}
