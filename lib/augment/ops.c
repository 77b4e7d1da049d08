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

/*
 * Explicit eight-lane vectors (GNU vector extension, GCC and Clang) for
 * the kernels the compiler does not vectorise well by itself. On x86-64
 * those kernels are also built for AVX2 and chosen at load time; without
 * FMA contraction both builds round every operation alike, so the output
 * does not depend on the processor.
 */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) &&                                \
    (!defined(__clang__) || __clang_major__ >= 14)
#define WIDE_KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define WIDE_KERNEL
#endif

/* Helpers are macros: v8f arguments by value would change the ABI of
 * functions between the two builds. */
#define VBROADCAST(x)    ((v8f){(x), (x), (x), (x), (x), (x), (x), (x)})
#define VZERO            VBROADCAST(0.0f)
#define VSEL(mask, a, b) ((v8f)(((v8i)(a) & (mask)) | ((v8i)(b) & ~(mask))))
#define VCLIP01(v)                                                             \
    VSEL((v) > VBROADCAST(1.0f), VBROADCAST(1.0f),                             \
         VSEL((v) < VZERO, VZERO, (v)))

#define VLOAD(dst, p) memcpy(&(dst), (p), sizeof(v8f))
#define VSTORE(p, v)  memcpy((p), &(v), sizeof(v8f))

static WIDE_KERNEL void weighted_rows(float *restrict dst, const float *src,
                                      size_t stride, const float *k,
                                      uint32_t taps, uint32_t n)
{
    uint32_t i = 0, t;

    /* Sixteen outputs at a time in two registers, then one; every output
     * adds its taps in the same order. */
    for (; i + 16 <= n; i += 16) {
        v8f a0 = VZERO, a1 = VZERO, x0, x1;

        for (t = 0; t < taps; t++) {
            const float *s = src + t * stride + i;
            v8f kt = VBROADCAST(k[t]);

            VLOAD(x0, s);
            VLOAD(x1, s + 8);
            a0 += kt * x0;
            a1 += kt * x1;
        }
        VSTORE(dst + i, a0);
        VSTORE(dst + i + 8, a1);
    }
    for (; i < n; i++) {
        float acc = 0.0f;

        for (t = 0; t < taps; t++)
            acc += k[t] * src[t * stride + i];
        dst[i] = acc;
    }
}

/* The clones are static: a caller in another file then needs nothing
 * but this ordinary function, whatever the compiler. */
void simclr__aug_weighted_rows(float *restrict dst, const float *src,
                               size_t stride, const float *k, uint32_t taps,
                               uint32_t n)
{
    weighted_rows(dst, src, stride, k, taps, n);
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
 * on eight pixels at a time. The compiler will not turn the formulas'
 * many selects into vector code by itself, so they are written with the
 * vector types above: comparisons yield lane masks and selects are
 * bitwise blends. The floors act on values known to be
 * non-negative, where truncation is the floor, and the wraps on values
 * known to lie within one period.
 */
static inline void hue8(v8f *pr, v8f *pg, v8f *pb, float shift)
{
    const v8f one = VBROADCAST(1.0f);
    const v8i six = {6, 6, 6, 6, 6, 6, 6, 6};
    v8f r = *pr, g = *pg, b = *pb;
    v8f maxc, minc, cr, s, div, rc, gc, bc, hh, h6, f, v, p, q, t;
    v8i eqc, k;

    /* RGB -> (hue, saturation, value); grey pixels divide by 1. */
    maxc = VSEL(r > g, r, g);
    maxc = VSEL(maxc > b, maxc, b);
    minc = VSEL(r < g, r, g);
    minc = VSEL(minc < b, minc, b);
    eqc = maxc == minc;
    cr = maxc - minc;
    s = cr / VSEL(eqc, one, maxc);
    div = one / VSEL(eqc, one, cr); /* one division for three */
    rc = (maxc - r) * div;
    gc = (maxc - g) * div;
    bc = (maxc - b) * div;
    hh = VSEL(maxc == r, bc - gc,
              VSEL(maxc == g, 2.0f + rc - bc, 4.0f + gc - rc));

    /* fmod(hh / 6 + 1, 1), then the shift wrapped as Python's %. */
    hh = hh / 6.0f + 1.0f;
    hh = VSEL(hh >= one, hh - 1.0f, hh);
    hh = hh + shift;
    hh = VSEL(hh < VZERO, hh + 1.0f, VSEL(hh >= one, hh - 1.0f, hh));

    /* HSV -> RGB: sextant k, fraction f. */
    h6 = hh * 6.0f;
    k = __builtin_convertvector(h6, v8i);
    f = h6 - __builtin_convertvector(k, v8f);
    k -= (k >= six) & six;
    v = maxc;
    p = v * (1.0f - s);
    p = VCLIP01(p);
    q = v * (1.0f - s * f);
    q = VCLIP01(q);
    t = v * (1.0f - s * (1.0f - f));
    t = VCLIP01(t);
    *pr = VSEL((k == 0) | (k == 5), v, VSEL(k == 1, q, VSEL(k == 4, t, p)));
    *pg = VSEL((k == 1) | (k == 2), v, VSEL(k == 0, t, VSEL(k == 3, q, p)));
    *pb = VSEL((k == 3) | (k == 4), v, VSEL(k == 2, t, VSEL(k == 5, q, p)));
}

static WIDE_KERNEL void hue(float *x, uint32_t c, uint32_t h, uint32_t w,
                            float shift)
{
    size_t i, j, n = (size_t)h * w;
    float *pr = x, *pg = x + n, *pb = x + 2 * n;
    v8f r, g, b;

    if (c != 3)
        return;

    /* Eight pixels at a time, then the tail through the same code. */
    for (i = 0; i + 8 <= n; i += 8) {
        VLOAD(r, pr + i);
        VLOAD(g, pg + i);
        VLOAD(b, pb + i);
        hue8(&r, &g, &b, shift);
        VSTORE(pr + i, r);
        VSTORE(pg + i, g);
        VSTORE(pb + i, b);
    }
    if (i < n) {
        r = g = b = VZERO;
        for (j = 0; i + j < n; j++) {
            r[j] = pr[i + j];
            g[j] = pg[i + j];
            b[j] = pb[i + j];
        }
        hue8(&r, &g, &b, shift);
        for (j = 0; i + j < n; j++) {
            pr[i + j] = r[j];
            pg[i + j] = g[j];
            pb[i + j] = b[j];
        }
    }
}

void simclr__aug_hue(float *x, uint32_t c, uint32_t h, uint32_t w, float shift)
{
    hue(x, c, h, w, shift);
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
            simclr__aug_weighted_rows(out, padded + lo, 1, kernel + lo, hi - lo,
                                      w);
        }

        /* Vertical pass: tmp -> the plane. Rows whose taps stay inside
         * read tmp directly; the first and last pad rows reflect. Both
         * add the taps in the same order. */
        for (y = 0; y < h; y++) {
            float *restrict out = p + (size_t)y * w;

            if (y >= pad && y + pad < h) {
                simclr__aug_weighted_rows(out, tmp + (size_t)(y - pad + lo) * w,
                                          w, kernel + lo, hi - lo, w);
                continue;
            }
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
