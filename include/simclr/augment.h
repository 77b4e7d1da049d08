/**
 * @file augment.h
 * @brief SimCLR augmentations: two independently augmented views of every
 *        image, as float32 NCHW tensors.
 *
 * An augmenter is made once from a config and then turns images into
 * pairs of views. Each view goes through these steps, in this order; a
 * step whose probability is 0 is skipped (the defaults are those of the
 * `imagenet` preset):
 *
 * 1. random resized crop: area fraction U(0.08, 1), log-uniform aspect
 *    ratio in (3/4, 4/3), 10 attempts then a centre crop, resized to
 *    S x S with antialiased bilinear (or bicubic) filtering;
 * 2. horizontal flip, p = 0.5;
 * 3. rotation by 90, 180 or 270 degrees (chosen uniformly), p = 0;
 * 4. colour jitter, p = 0.8: brightness, contrast, saturation and hue in
 *    a random order, each result clipped to [0, 1];
 * 5. grayscale, p = 0.2;
 * 6. Gaussian blur, p = 0.5, kernel 10% of S (made odd), sigma
 *    U(0.1, 2), reflect padding;
 * 7. Sobel filter (gradient magnitude of the luma, clipped to [0, 1] and
 *    written to every channel), p = 0;
 * 8. additive Gaussian noise, clipped to [0, 1], p = 0;
 * 9. solarisation (values at or above a threshold t become 1 - value),
 *    p = 0;
 * 10. cutout (a square filled with 0 before normalisation), p = 0;
 * 11. normalisation: (value - mean[c]) / std[c].
 *
 * Grayscale (1-channel) images take the same path; saturation, hue and
 * grayscale leave them unchanged.
 *
 * Randomness comes from a counter-based generator keyed by (seed, epoch,
 * sample index, view): the views of a sample are the same whatever the
 * thread count, the batch order or what else ran before, and the same
 * seed gives byte-identical output.
 */
#ifndef SIMCLR_AUGMENT_H
#define SIMCLR_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "simclr/export.h"
#include "simclr/image.h"
#include "simclr/status.h"

/** @brief A recipe from the SimCLR paper to start a config from.
 *         Since 0.1. */
typedef enum simclr_augment_preset {
    /** ImageNet: colour strength 1.0, blur on, output 224. */
    SIMCLR_AUGMENT_PRESET_IMAGENET = 0,
    /** CIFAR-10: colour strength 0.5, no blur, output 32. */
    SIMCLR_AUGMENT_PRESET_CIFAR = 1
} simclr_augment_preset;

/** @brief The resampling filter of the crop's resize. Since 0.1. */
typedef enum simclr_interp {
    SIMCLR_INTERP_BILINEAR = 0, /**< antialiased triangle filter */
    SIMCLR_INTERP_BICUBIC = 1   /**< antialiased cubic, a = -0.5 */
} simclr_interp;

/**
 * @brief Everything an augmenter does. Fill it with
 *        simclr_augment_config_init(), then change any field.
 *
 * Probabilities are in [0, 1]. Ranges are [min, max] with min <= max.
 * Fields may be added at the end in later versions; the size field tells
 * the library which ones the caller knows. Since 0.1.
 */
typedef struct simclr_augment_config {
    size_t size; /**< sizeof(simclr_augment_config), set by init */

    uint32_t output_size; /**< S: views are S x S, 1 to 4096 */
    uint64_t seed;        /**< keys every random draw */
    float mean[3];        /**< subtracted per channel (mean[0] for gray) */
    float std[3];         /**< divides per channel, > 0 */

    double crop_scale_min;  /**< smallest crop area fraction, > 0 */
    double crop_scale_max;  /**< largest crop area fraction, <= 1 */
    double crop_ratio_min;  /**< smallest width/height ratio, > 0 */
    double crop_ratio_max;  /**< largest width/height ratio */
    uint32_t crop_attempts; /**< tries before the centre crop, >= 1 */
    simclr_interp interp;   /**< resize filter */

    double flip_p;   /**< horizontal flip probability */
    double rotate_p; /**< rotation by 90/180/270 degrees probability */

    double jitter_p;          /**< colour jitter probability */
    double jitter_brightness; /**< factor U(max(0, 1-b), 1+b), b >= 0 */
    double jitter_contrast;   /**< factor U(max(0, 1-c), 1+c), c >= 0 */
    double jitter_saturation; /**< factor U(max(0, 1-s), 1+s), s >= 0 */
    double jitter_hue;        /**< shift U(-h, h), 0 <= h <= 0.5 */

    double grayscale_p; /**< grayscale probability */

    double blur_p;           /**< Gaussian blur probability */
    double blur_kernel_frac; /**< kernel size as a fraction of S, > 0 */
    double blur_sigma_min;   /**< smallest sigma in pixels, > 0 */
    double blur_sigma_max;   /**< largest sigma in pixels */

    double sobel_p; /**< Sobel filter probability */

    double noise_p;       /**< additive Gaussian noise probability */
    double noise_std_min; /**< smallest noise std (on [0, 1] values), >= 0 */
    double noise_std_max; /**< largest noise std */

    double solarize_p;         /**< solarisation probability */
    double solarize_threshold; /**< in [0, 1] */

    double cutout_p;         /**< cutout probability */
    double cutout_size_frac; /**< square side as a fraction of S, (0, 1] */
} simclr_augment_config;

/** @brief An augmenter. Opaque; made by simclr_augmenter_create().
 *         Since 0.1. */
typedef struct simclr_augmenter simclr_augmenter;

SIMCLR_BEGIN_DECLS

/**
 * @brief Fill a config with a preset of the SimCLR paper.
 *
 * Both presets: crop scale (0.08, 1), ratio (3/4, 4/3), 10 attempts,
 * bilinear, flip 0.5, jitter 0.8, grayscale 0.2, seed 0, ImageNet mean
 * (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), the optional steps
 * at p = 0 (noise std U(0.05, 0.2), solarisation threshold 0.5, cutout
 * side 0.5 S). `imagenet`: S = 224, colour strength 1.0, blur 0.5 with
 * sigma U(0.1, 2) and kernel 0.1 S. `cifar`: S = 32, strength 0.5, no
 * blur. Thread-safe. Since 0.1.
 *
 * @param cfg    The config to fill. Not NULL.
 * @param preset Which recipe.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p cfg or an
 *         unknown preset.
 */
SIMCLR_API simclr_status simclr_augment_config_init(
    simclr_augment_config *cfg, simclr_augment_preset preset);

/**
 * @brief Set the four jitter magnitudes from the paper's colour strength.
 *
 * brightness = contrast = saturation = 0.8 s, hue = 0.2 s. Thread-safe.
 * Since 0.1.
 *
 * @param cfg      A config from simclr_augment_config_init(). Not NULL.
 * @param strength s, from 0 to 2.5 (so that the hue stays within 0.5).
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p cfg or a
 *         strength out of range or NaN.
 */
SIMCLR_API simclr_status
simclr_augment_config_set_strength(simclr_augment_config *cfg, double strength);

/**
 * @brief Make an augmenter from a config.
 *
 * The config is copied; it may be freed afterwards. The augmenter is
 * read-only once made, so any number of threads may call
 * simclr_augment_pair() and simclr_augment_batch() on it at once. Since
 * 0.1.
 *
 * @param cfg A filled config, or NULL for the `imagenet` preset.
 * @param out Receives the augmenter; set to NULL on failure. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p out, a
 *         config whose size field is not one this library knows, or any
 *         field out of range (the detail text names it);
 *         SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_augmenter_create(
    const simclr_augment_config *cfg, simclr_augmenter **out);

/**
 * @brief Release an augmenter. NULL is ignored. Since 0.1.
 *
 * @param aug The augmenter, or NULL. No call on it may be running.
 */
SIMCLR_API void simclr_augmenter_destroy(simclr_augmenter *aug);

/**
 * @brief The output side S of the views. Thread-safe. Since 0.1.
 *
 * @param aug The augmenter. Not NULL.
 * @return S, or 0 for a NULL @p aug.
 */
SIMCLR_API uint32_t simclr_augmenter_output_size(const simclr_augmenter *aug);

/**
 * @brief Detail text of the augmenter's last failure.
 *
 * When several threads fail at once, the text is that of one of them;
 * each thread's own text is also in simclr_last_error(). Since 0.1.
 *
 * @param aug The augmenter, or NULL.
 * @return A string owned by the augmenter ("" for NULL or no failure).
 */
SIMCLR_API const char *simclr_augmenter_error(const simclr_augmenter *aug);

/**
 * @brief Two augmented views of one image.
 *
 * Runs on the calling thread. Thread-safe. Since 0.1.
 *
 * @param aug   The augmenter. Not NULL.
 * @param src   The image, 1 or 3 channels, at least 1 x 1. Not NULL.
 * @param epoch Keys the random draws together with the seed.
 * @param index The sample index keying the random draws.
 * @param dst   Receives the views, shape (2, C, S, S) float32, C the
 *              image's channel count. Not NULL. Caller-owned.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer, an
 *         empty image, a channel count other than 1 or 3, or a stride
 *         below width * channels; SIMCLR_ERR_LIMIT for an image side
 *         above 2^28 pixels; SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_augment_pair(const simclr_augmenter *aug,
                                             const simclr_image *src,
                                             uint64_t epoch, uint64_t index,
                                             float *dst);

/**
 * @brief Two augmented views of each of n images, on the library's
 *        threads (simclr_set_num_threads()).
 *
 * Views 2i and 2i + 1 of @p dst are the two views of image i, so the
 * result is the (2N, C, S, S) batch the contrastive loss takes. Image i
 * uses sample index `indices[i]` if @p indices is given, else
 * `base_index + i`. The output does not depend on the thread count.
 * Thread-safe. Since 0.1.
 *
 * @param aug        The augmenter. Not NULL.
 * @param images     n images, all with the same channel count C. Not NULL.
 * @param n          Number of images, at least 1.
 * @param epoch      Keys the random draws together with the seed.
 * @param base_index Sample index of image 0 when @p indices is NULL.
 * @param indices    n sample indices, or NULL.
 * @param dst        Receives (2n, C, S, S) float32. Not NULL.
 *                   Caller-owned.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer, n of
 *         0, an invalid image (the detail text gives its number), or
 *         images with different channel counts; SIMCLR_ERR_LIMIT if the
 *         output size overflows or an image side exceeds 2^28 pixels;
 *         SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_augment_batch(
    const simclr_augmenter *aug, const simclr_image *const *images, size_t n,
    uint64_t epoch, uint64_t base_index, const uint64_t *indices, float *dst);

SIMCLR_END_DECLS

#endif /* SIMCLR_AUGMENT_H */
