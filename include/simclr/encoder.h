/**
 * @file encoder.h
 * @brief The base encoder f: a ResNet that maps images to features h.
 *
 * The networks are those of torchvision (`torchvision.models.resnet`):
 * ResNet-18 and 34 with basic blocks, ResNet-50, 101 and 152 with
 * bottleneck blocks, the stride on the 3x3 convolution, a 1x1 convolution
 * plus batch norm as the projection shortcut, batch-norm epsilon 1e-5 and
 * momentum 0.1. There is no final fully connected layer: h is the output
 * of the global average pool.
 *
 * A width multiplier w scales every channel count: a stage whose
 * torchvision width is b channels gets max(1, round(b * w)) (round half
 * away from zero), and bottleneck blocks output 4 times that. The feature
 * size is D = round(512 w) for basic blocks and 4 round(512 w) for
 * bottleneck blocks (512 and 2048 at w = 1).
 *
 * Parameters use torchvision's names and PyTorch's layouts, so they move
 * between the two without conversion (see simclr_encoder_param()).
 *
 * Tensors are float32, NCHW, contiguous, in caller memory.
 */
#ifndef SIMCLR_ENCODER_H
#define SIMCLR_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "simclr/export.h"
#include "simclr/image.h"
#include "simclr/status.h"

/** @brief The ResNet depth. Since 0.1. */
typedef enum simclr_arch {
    SIMCLR_RESNET18 = 0,  /**< basic blocks, 2-2-2-2 */
    SIMCLR_RESNET34 = 1,  /**< basic blocks, 3-4-6-3 */
    SIMCLR_RESNET50 = 2,  /**< bottleneck blocks, 3-4-6-3 */
    SIMCLR_RESNET101 = 3, /**< bottleneck blocks, 3-4-23-3 */
    SIMCLR_RESNET152 = 4  /**< bottleneck blocks, 3-8-36-3 */
} simclr_arch;

/** @brief The first layers of the network. Since 0.1. */
typedef enum simclr_stem {
    /** 3x3 convolution, stride 1, padding 1, BN, ReLU, no pooling: a
     *  32 x 32 input stays 32 x 32 into the first stage. */
    SIMCLR_STEM_CIFAR = 0,
    /** 7x7 convolution, stride 2, padding 3, BN, ReLU, then 3x3 max
     *  pooling, stride 2, padding 1 (torchvision's stem). */
    SIMCLR_STEM_IMAGENET = 1
} simclr_stem;

/**
 * @brief How to build an encoder. Fill it with
 *        simclr_encoder_config_init(), then change any field.
 *
 * Fields may be added at the end in later versions; the size field tells
 * the library which ones the caller knows. Since 0.1.
 */
typedef struct simclr_encoder_config {
    size_t size; /**< sizeof(simclr_encoder_config), set by init */

    simclr_arch arch;       /**< depth and block type */
    double width;           /**< channel multiplier, 1/64 to 16 */
    simclr_stem stem;       /**< CIFAR or ImageNet stem */
    uint32_t in_channels;   /**< input channels C, 1 to 64 */
    uint32_t input_size;    /**< side S of the square input, 1 to 4096 */
    float mean[3];          /**< per-channel mean of the preprocessing
                                 (metadata; mean[0] for 1 channel) */
    float std[3];           /**< per-channel std of the preprocessing */
    uint64_t seed;          /**< keys the initial weights */
    int zero_init_residual; /**< nonzero: the last BN gamma of each block
                                 starts at 0 instead of 1 */
} simclr_encoder_config;

/** @brief An encoder. Opaque; made by simclr_encoder_create().
 *         Since 0.1. */
typedef struct simclr_encoder simclr_encoder;

/** @brief What a parameter tensor is for. Since 0.1. */
typedef enum simclr_param_kind {
    /** A convolution weight, (O, I, KH, KW); trained, usually with
     *  weight decay. */
    SIMCLR_PARAM_WEIGHT = 0,
    /** A batch-norm scale (gamma, `.weight`) or shift (beta, `.bias`),
     *  (C); trained, usually without weight decay. */
    SIMCLR_PARAM_NORM = 1,
    /** A batch-norm running statistic (`running_mean`, `running_var`,
     *  float32, (C)) or `num_batches_tracked` (int64, a scalar); not
     *  trained, no gradient. */
    SIMCLR_PARAM_BUFFER = 2
} simclr_param_kind;

/** @brief The element type of a parameter tensor. Since 0.1. */
typedef enum simclr_param_dtype {
    SIMCLR_PARAM_F32 = 0, /**< float32 */
    SIMCLR_PARAM_I64 = 1  /**< int64 (`num_batches_tracked`) */
} simclr_param_dtype;

/**
 * @brief One named tensor of an encoder, as simclr_encoder_param()
 *        describes it.
 *
 * The caller sets @c size to sizeof(simclr_param_info) before the call;
 * later versions may add fields at the end and fill only those the
 * caller's size covers. The pointers are the encoder's own memory, valid
 * until it is destroyed; writing through them changes the encoder (for an
 * optimizer step or loading weights). Since 0.1.
 */
typedef struct simclr_param_info {
    size_t size;              /**< set by the caller: sizeof this struct */
    const char *name;         /**< torchvision's name, e.g. "conv1.weight" */
    simclr_param_kind kind;   /**< weight, norm parameter or buffer */
    simclr_param_dtype dtype; /**< float32, or int64 for a step count */
    uint32_t ndim;            /**< 4, 1, or 0 for a scalar */
    uint64_t shape[4];        /**< the first ndim entries are used */
    size_t numel;             /**< elements (1 for a scalar) */
    float *value;             /**< float32 data, or NULL for int64 */
    int64_t *value_i64;       /**< int64 data, or NULL for float32 */
    float *grad;              /**< gradient (numel floats), or NULL for
                                   buffers */
} simclr_param_info;

SIMCLR_BEGIN_DECLS

/**
 * @brief Fill a config with the defaults: ResNet-50, width 1, ImageNet
 *        stem, 3 input channels, input 224, ImageNet mean
 *        (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225), seed 0, no
 *        zero-init of the residual BN.
 *
 * Thread-safe. Since 0.1.
 *
 * @param cfg The config to fill. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p cfg.
 */
SIMCLR_API simclr_status simclr_encoder_config_init(simclr_encoder_config *cfg);

/**
 * @brief Build an encoder with freshly initialised weights.
 *
 * As torchvision: convolution weights from a normal distribution with
 * std sqrt(2 / (out_channels * kh * kw)) (Kaiming, fan-out, ReLU gain),
 * BN gamma 1 (0 for the last BN of each block with zero_init_residual),
 * beta 0, running mean 0, running variance 1, num_batches_tracked 0. The
 * numbers come from the library's counter-based generator keyed by the
 * seed: the same seed gives the same weights on every machine and thread
 * count. All gradients start at 0. Since 0.1.
 *
 * @param cfg The config. Not NULL; copied.
 * @param out Receives the encoder; set to NULL on failure. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer, a
 *         config whose size field this library does not know, or a field
 *         out of range (the detail text names it); SIMCLR_ERR_NOMEM.
 *         The compute primitives are made later, on the first call with
 *         a batch size.
 */
SIMCLR_API simclr_status simclr_encoder_create(const simclr_encoder_config *cfg,
                                               simclr_encoder **out);

/**
 * @brief Release an encoder. NULL is ignored. Since 0.1.
 *
 * @param enc The encoder, or NULL. No call on it may be running.
 */
SIMCLR_API void simclr_encoder_destroy(simclr_encoder *enc);

/**
 * @brief Detail text of the encoder's last failure.
 *
 * When several threads fail in simclr_encode_tensor() at once, the text is
 * that of one of them; each thread's own text is also in
 * simclr_last_error(). Since 0.1.
 *
 * @param enc The encoder, or NULL.
 * @return A string owned by the encoder ("" for NULL or no failure).
 */
SIMCLR_API const char *simclr_encoder_error(const simclr_encoder *enc);

/**
 * @brief The feature size D. Thread-safe. Since 0.1.
 *
 * @param enc The encoder. Not NULL.
 * @return D, or 0 for a NULL @p enc.
 */
SIMCLR_API size_t simclr_encoder_dim(const simclr_encoder *enc);

/**
 * @brief The input side S. Thread-safe. Since 0.1.
 *
 * @param enc The encoder. Not NULL.
 * @return S, or 0 for a NULL @p enc.
 */
SIMCLR_API uint32_t simclr_encoder_input_size(const simclr_encoder *enc);

/**
 * @brief The input channel count C. Thread-safe. Since 0.1.
 *
 * @param enc The encoder. Not NULL.
 * @return C, or 0 for a NULL @p enc.
 */
SIMCLR_API uint32_t simclr_encoder_in_channels(const simclr_encoder *enc);

/**
 * @brief The configuration the encoder was built from. Thread-safe.
 *        Since 0.1.
 *
 * @param enc The encoder. Not NULL.
 * @param cfg Receives a copy. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer.
 */
SIMCLR_API simclr_status simclr_encoder_config_get(const simclr_encoder *enc,
                                                   simclr_encoder_config *cfg);

/**
 * @brief Training forward: features of a batch with batch statistics.
 *
 * Batch norm normalises with the mean and biased variance of the batch
 * and updates its running statistics as PyTorch does:
 * running = 0.9 running + 0.1 batch, the variance term using the unbiased
 * batch variance, and num_batches_tracked += 1. The activations are kept
 * for simclr_encoder_backward(). Runs on the library's threads
 * (simclr_set_num_threads()). Not thread-safe: one training call at a
 * time, and no simclr_encode_tensor() running on the encoder meanwhile.
 * Since 0.1.
 *
 * @param enc The encoder. Not NULL.
 * @param src (n, C, S, S) float32. Not NULL. Must be finite.
 * @param n   Batch size, at least 1; every batch norm must see more than
 *            one value per channel (n * H * W > 1 at every layer).
 * @param channels C of @p src; must be the encoder's input channels.
 * @param height   H of @p src; must be the encoder's input size S.
 * @param width    W of @p src; must be S.
 * @param dst Receives h, (n, D) float32. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer, n of
 *         0, or a batch norm that would see one value per channel (the
 *         detail text names the layer); SIMCLR_ERR_NUMERIC if @p src holds
 *         a NaN or infinity (nothing is changed); SIMCLR_ERR_NOMEM;
 *         SIMCLR_ERR_SHAPE if the channels or sides are not the
 *         encoder's; SIMCLR_ERR_LIMIT if the batch's sizes overflow;
 *         SIMCLR_ERR_BACKEND if oneDNN fails.
 */
SIMCLR_API simclr_status simclr_encoder_forward_train(
    simclr_encoder *enc, const float *src, size_t n, uint32_t channels,
    uint32_t height, uint32_t width, float *dst);

/**
 * @brief Backward pass of the last training forward.
 *
 * Writes the gradient of every trained parameter (convolution weights, BN
 * gamma and beta) into the encoder's gradient buffers (see
 * simclr_encoder_param()), overwriting them: gradients are not
 * accumulated across calls. Not thread-safe (as the training forward).
 * Since 0.1.
 *
 * @param enc     The encoder. Not NULL.
 * @param diff_dst dL/dh, (n, D) float32 for the n of the last training
 *                forward. Not NULL. Must be finite.
 * @param diff_src Receives dL/dsrc, (n, C, S, S) float32; or NULL if not
 *                needed.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer;
 *         SIMCLR_ERR_STATE if no training forward came before (or the
 *         weights were reshaped since); SIMCLR_ERR_NUMERIC for a NaN or
 *         infinity in @p diff_dst; SIMCLR_ERR_NOMEM; SIMCLR_ERR_BACKEND.
 */
SIMCLR_API simclr_status simclr_encoder_backward(simclr_encoder *enc,
                                                 const float *diff_dst,
                                                 float *diff_src);

/**
 * @brief Inference forward: features with the running statistics.
 *
 * Each image's features depend only on that image, and nothing in the
 * encoder changes. Several threads may call this on one encoder at once:
 * each call takes a private set of primitives and activation buffers from
 * a pool inside the encoder (made on first use for a batch size and
 * reused afterwards). It must not overlap a training call or a change of
 * the parameters. Runs on the library's threads. Since 0.1.
 *
 * @param enc The encoder. Not NULL.
 * @param src (n, C, S, S) float32, already preprocessed. Not NULL. Must
 *            be finite.
 * @param n   Batch size, at least 1.
 * @param channels C of @p src; must be the encoder's input channels.
 * @param height   H of @p src; must be the encoder's input size S.
 * @param width    W of @p src; must be S.
 * @param dst Receives h, (n, D) float32. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer or n
 *         of 0; SIMCLR_ERR_SHAPE if the channels or sides are not the
 *         encoder's; SIMCLR_ERR_NUMERIC if @p src holds a NaN or infinity;
 *         SIMCLR_ERR_NOMEM; SIMCLR_ERR_LIMIT if sizes overflow;
 *         SIMCLR_ERR_BACKEND.
 */
SIMCLR_API simclr_status simclr_encode_tensor(simclr_encoder *enc,
                                              const float *src, size_t n,
                                              uint32_t channels,
                                              uint32_t height, uint32_t width,
                                              float *dst);

/**
 * @brief How many named tensors the encoder has. Thread-safe.
 *        Since 0.1.
 *
 * @param enc The encoder. Not NULL.
 * @return The count, or 0 for a NULL @p enc.
 */
SIMCLR_API size_t simclr_encoder_param_count(const simclr_encoder *enc);

/**
 * @brief Describe tensor @p i of the encoder.
 *
 * Tensors come in the order of torchvision's `state_dict()`: `conv1`,
 * `bn1`, then `layer1.0.conv1`, `layer1.0.bn1`, ..., with
 * `layerL.B.downsample.0` (convolution) and `layerL.B.downsample.1` (BN)
 * last in a block; each BN has `weight`, `bias`, `running_mean`,
 * `running_var`, `num_batches_tracked`. Thread-safe. Since 0.1.
 *
 * @param enc The encoder. Not NULL.
 * @param i   Index, below simclr_encoder_param_count().
 * @param out Receives the description; its size field must be set. Not
 *            NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer, an
 *         index out of range or a size field smaller than the first
 *         version of the struct.
 */
SIMCLR_API simclr_status simclr_encoder_param(const simclr_encoder *enc,
                                              size_t i, simclr_param_info *out);

/**
 * @brief Find a tensor by its torchvision name. Thread-safe. Since 0.1.
 *
 * @param enc  The encoder. Not NULL.
 * @param name For example "layer2.0.downsample.1.running_var". Not NULL.
 * @param out  Receives the description; its size field must be set. Not
 *             NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer, a bad
 *         size field or a name the encoder does not have.
 */
SIMCLR_API simclr_status simclr_encoder_param_find(const simclr_encoder *enc,
                                                   const char *name,
                                                   simclr_param_info *out);

/**
 * @brief Features of decoded images of any size, in inference mode.
 *
 * Each image is preprocessed on its own, then encoded as
 * simclr_encode_tensor() does:
 *
 * 1. the centred square of side min(width, height) is resampled to
 *    S x S (S = simclr_encoder_input_size()) with antialiased bilinear
 *    filtering, as Pillow's `resize((S, S), BILINEAR, box=square)`; for
 *    a square image this is a plain resize, for another shape the same
 *    as resizing the shorter side to S and keeping the centre;
 * 2. pixels become values in [0, 1] (p / 255);
 * 3. a gray image given to a 3-channel encoder is repeated into the three
 *    channels; a colour image given to a 1-channel encoder is reduced to
 *    its luma 0.2989 R + 0.587 G + 0.114 B;
 * 4. channel c is normalised to (value - mean[c]) / std[c], with the
 *    encoder's mean and std (simclr_encoder_config_get()).
 *
 * Images are encoded in batches of up to 16. An image's features do not
 * depend on the other images of the call (up to float rounding of the
 * batched convolutions, below 1e-6 relative), and nothing in the encoder
 * changes. Several threads may call this on one encoder at once, as
 * simclr_encode_tensor(). Since 0.1.
 *
 * @param enc    The encoder; its input must have 1 or 3 channels. Not
 *               NULL.
 * @param images @p n images (1 or 3 channels, any size). Not NULL, nor
 *               any of the images.
 * @param n      How many, at least 1.
 * @param dst    Receives h, (n, D) float32. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer, n of
 *         0 or an empty image (the detail text names its index);
 *         SIMCLR_ERR_SHAPE for an image with 2 or 4 channels, or an
 *         encoder with other than 1 or 3 input channels;
 *         SIMCLR_ERR_LIMIT, SIMCLR_ERR_NOMEM, SIMCLR_ERR_BACKEND.
 */
SIMCLR_API simclr_status simclr_encode(simclr_encoder *enc,
                                       const simclr_image *const *images,
                                       size_t n, float *dst);

/**
 * @brief Write the encoder's weights to a safetensors file.
 *
 * Every tensor of simclr_encoder_param() under its torchvision name (F32,
 * and I64 for `num_batches_tracked`), and the architecture, width, stem,
 * input channels, input size, mean, std and feature size in the metadata
 * (`docs/weights.md`), so that PyTorch can load the file into
 * torchvision's ResNet and simclr_encoder_load() can rebuild the encoder.
 * The file is written atomically: a temporary file beside @p path,
 * fsync, rename over @p path, fsync of the folder; on failure @p path is
 * left as it was. A @p path that exists and is not a regular file (a
 * device, a FIFO, a folder) is refused, not replaced. Must not overlap a
 * training call on the encoder.
 * Since 0.1.
 *
 * @param enc  The encoder. Not NULL.
 * @param path The file to write; replaced if it exists. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer;
 *         SIMCLR_ERR_IO when the file cannot be written (the detail text
 *         names it); SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_encoder_save(simclr_encoder *enc,
                                             const char *path);

/**
 * @brief Make an encoder from a safetensors file.
 *
 * The configuration comes from the file's metadata (as
 * simclr_encoder_save() and `scripts/torchvision-to-simclr.py` write
 * it), then every tensor of that architecture must be in the file with
 * its exact dtype and shape and finite values. Tensors whose names begin
 * with `head.`, `optim.` or `train.` (the rest of a training checkpoint)
 * are skipped; any other tensor the architecture does not have is an
 * error. The seed of the returned encoder's config is 0. Thread-safe.
 * Since 0.1.
 *
 * @param path The file. Not NULL.
 * @param out  Receives the encoder; set to NULL on failure. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer;
 *         SIMCLR_ERR_IO when the file cannot be read; SIMCLR_ERR_CORRUPT
 *         for a damaged or truncated file, missing or bad metadata, a
 *         missing or unexpected tensor or one of the wrong dtype (the
 *         detail text names the file and the tensor); SIMCLR_ERR_SHAPE
 *         for a tensor of the wrong shape; SIMCLR_ERR_NUMERIC for a NaN
 *         or infinity in a tensor; SIMCLR_ERR_UNSUPPORTED,
 *         SIMCLR_ERR_LIMIT, SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_encoder_load(const char *path,
                                             simclr_encoder **out);

SIMCLR_END_DECLS

#endif /* SIMCLR_ENCODER_H */
