/**
 * @file projector.h
 * @brief The projection head g: an MLP that maps features h to z.
 *
 * Two heads, with input width D (the encoder's feature size), hidden
 * width H and output width d:
 *
 * - SimCLR v1 (Chen et al. 2020): Linear(D, H) with bias, ReLU,
 *   Linear(H, d) with bias. As a PyTorch `nn.Sequential` its tensors are
 *   `head.0.weight` (H, D), `head.0.bias` (H), `head.2.weight` (d, H),
 *   `head.2.bias` (d); `head.1` is the ReLU.
 * - SimCLR v2 (Chen et al. 2020b): three linear layers without bias,
 *   D -> H -> H -> d, each followed by batch norm; a ReLU after the first
 *   two batch norms; the last batch norm has a scale (gamma) but no shift
 *   (beta), and no ReLU follows it. This is the official code's
 *   `ProjectionHead` in `nonlinear` mode with three layers: a dense layer
 *   without bias, then batch norm with `center=True` for the middle layers
 *   and `center=False` for the last. In PyTorch it is
 *   `nn.Sequential(Linear(D, H, bias=False), BatchNorm1d(H), ReLU(),
 *   Linear(H, H, bias=False), BatchNorm1d(H), ReLU(),
 *   Linear(H, d, bias=False), BatchNorm1d(d))` with the bias of the last
 *   batch norm held at zero and not trained. Its tensors are
 *   `head.0.weight`, `head.1.*` (batch norm), `head.3.weight`, `head.4.*`,
 *   `head.6.weight`, `head.7.*`, where a batch norm has `weight` (gamma),
 *   `bias` (beta; not for `head.7`), `running_mean`, `running_var` and
 *   `num_batches_tracked`.
 *
 * Batch norm follows PyTorch: epsilon 1e-5, momentum 0.1, the running
 * variance updated with the unbiased batch variance. The official
 * TensorFlow code uses the same epsilon and the same momentum (its decay
 * of 0.9), and initialises its dense weights from a normal distribution
 * with std 0.01; this library initialises them as PyTorch's `nn.Linear`
 * does.
 *
 * Tensors are float32, (N, width) row-major, contiguous, in caller memory.
 * Parameters use PyTorch's layout (out, in) and the names above, so they
 * move between the two without conversion.
 */
#ifndef SIMCLR_PROJECTOR_H
#define SIMCLR_PROJECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "simclr/encoder.h"
#include "simclr/export.h"
#include "simclr/status.h"

/** @brief Which projection head. Since 0.1. */
typedef enum simclr_projector_kind {
    /** Linear (bias) - ReLU - Linear (bias): SimCLR v1. */
    SIMCLR_PROJECTOR_V1 = 0,
    /** Three Linear (no bias) - BN layers, ReLU after the first two, the
     *  last BN without shift: SimCLR v2. */
    SIMCLR_PROJECTOR_V2 = 1
} simclr_projector_kind;

/**
 * @brief How to build a projection head. Fill it with
 *        simclr_projector_config_init(), then change any field.
 *
 * Fields may be added at the end in later versions; the size field tells
 * the library which ones the caller knows. Since 0.1.
 */
typedef struct simclr_projector_config {
    size_t size; /**< sizeof(simclr_projector_config), set by init */

    simclr_projector_kind kind; /**< v1 or v2 head */
    uint32_t in_dim;            /**< input width D, 1 to 65536; must be the
                                     encoder's feature size */
    uint32_t hidden_dim;        /**< hidden width H, 1 to 65536; 0 means D */
    uint32_t out_dim;           /**< output width d, 1 to 65536 */
    uint64_t seed;              /**< keys the initial weights */
} simclr_projector_config;

/** @brief A projection head. Opaque; made by simclr_projector_create().
 *         Since 0.1. */
typedef struct simclr_projector simclr_projector;

SIMCLR_BEGIN_DECLS

/**
 * @brief Fill a config with the defaults: the v1 head, D = 2048 (the
 *        feature size of ResNet-50), H = D, d = 128, seed 0.
 *
 * Thread-safe. Since 0.1.
 *
 * @param cfg The config to fill. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p cfg.
 */
SIMCLR_API simclr_status
simclr_projector_config_init(simclr_projector_config *cfg);

/**
 * @brief Build a projection head with freshly initialised weights.
 *
 * As PyTorch's `nn.Linear`: every dense weight and bias drawn uniformly
 * from [-1/sqrt(in), 1/sqrt(in)], in = the layer's input width. Batch
 * norm gamma 1, beta 0, running mean 0, running variance 1,
 * num_batches_tracked 0. The numbers come from the library's
 * counter-based generator keyed by the seed: the same seed gives the same
 * weights on every machine. All gradients start at 0. Thread-safe.
 * Since 0.1.
 *
 * @param cfg The config. Not NULL; copied.
 * @param out Receives the head; set to NULL on failure. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer, a
 *         config whose size field this library does not know, or a field
 *         out of range (the detail text names it); SIMCLR_ERR_NOMEM.
 *         The compute primitives are made later, on the first call with
 *         a batch size.
 */
SIMCLR_API simclr_status simclr_projector_create(
    const simclr_projector_config *cfg, simclr_projector **out);

/**
 * @brief Release a projection head. NULL is ignored. Since 0.1.
 *
 * @param proj The head, or NULL. No call on it may be running.
 */
SIMCLR_API void simclr_projector_destroy(simclr_projector *proj);

/**
 * @brief Detail text of the head's last failure. Since 0.1.
 *
 * @param proj The head, or NULL.
 * @return A string owned by the head ("" for NULL or no failure).
 */
SIMCLR_API const char *simclr_projector_error(const simclr_projector *proj);

/**
 * @brief The configuration the head was built from, with hidden_dim
 *        resolved (never 0). Thread-safe. Since 0.1.
 *
 * @param proj The head. Not NULL.
 * @param cfg  Receives a copy. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer.
 */
SIMCLR_API simclr_status simclr_projector_config_get(
    const simclr_projector *proj, simclr_projector_config *cfg);

/**
 * @brief Training forward: z of a batch of features, batch norm (v2) with
 *        batch statistics.
 *
 * Batch norm normalises each channel with the mean and biased variance of
 * the batch and updates its running statistics as PyTorch does:
 * running = 0.9 running + 0.1 batch, the variance term using the unbiased
 * batch variance (times n / (n - 1)), and num_batches_tracked += 1, once
 * the whole forward has succeeded. The activations are kept for
 * simclr_projector_backward(). Runs on the library's threads
 * (simclr_set_num_threads()). Not thread-safe: one call on a head at a
 * time. Since 0.1.
 *
 * @param proj The head. Not NULL.
 * @param src  h, (n, dim) float32. Not NULL. Must be finite.
 * @param n    Batch size, at least 1; at least 2 for the v2 head (batch
 *             norm needs more than one value per channel).
 * @param dim  Width of @p src; must be the head's in_dim.
 * @param dst  Receives z, (n, out_dim) float32. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer, n of
 *         0, or n of 1 with the v2 head; SIMCLR_ERR_SHAPE if @p dim is not
 *         the head's input width; SIMCLR_ERR_NUMERIC if @p src holds a NaN
 *         or infinity (nothing is changed); SIMCLR_ERR_LIMIT if the
 *         batch's sizes overflow; SIMCLR_ERR_NOMEM; SIMCLR_ERR_BACKEND.
 */
SIMCLR_API simclr_status simclr_projector_forward_train(simclr_projector *proj,
                                                        const float *src,
                                                        size_t n, uint32_t dim,
                                                        float *dst);

/**
 * @brief Backward pass of the last training forward.
 *
 * Writes the gradient of every trained parameter (dense weights and
 * biases, batch-norm gamma and beta) into the head's gradient buffers
 * (see simclr_projector_param()), overwriting them: gradients are not
 * accumulated across calls. Not thread-safe (as the training forward).
 * Since 0.1.
 *
 * @param proj     The head. Not NULL.
 * @param diff_dst dL/dz, (n, out_dim) float32 for the n of the last
 *                 training forward. Not NULL. Must be finite.
 * @param diff_src Receives dL/dh, (n, in_dim) float32, the gradient to
 *                 pass to simclr_encoder_backward(); or NULL if not
 *                 needed.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer;
 *         SIMCLR_ERR_STATE if no successful training forward came before;
 *         SIMCLR_ERR_NUMERIC for a NaN or infinity in @p diff_dst;
 *         SIMCLR_ERR_BACKEND.
 */
SIMCLR_API simclr_status simclr_projector_backward(simclr_projector *proj,
                                                   const float *diff_dst,
                                                   float *diff_src);

/**
 * @brief Inference forward: z with the running statistics.
 *
 * Each row's output depends only on that row, and nothing in the head
 * changes. Not thread-safe: one call on a head at a time. A later
 * simclr_projector_backward() still goes back through the last training
 * forward. Since 0.1.
 *
 * @param proj The head. Not NULL.
 * @param src  h, (n, dim) float32. Not NULL. Must be finite.
 * @param n    Batch size, at least 1.
 * @param dim  Width of @p src; must be the head's in_dim.
 * @param dst  Receives z, (n, out_dim) float32. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer or n
 *         of 0; SIMCLR_ERR_SHAPE for a wrong @p dim; SIMCLR_ERR_NUMERIC
 *         for a NaN or infinity in @p src; SIMCLR_ERR_LIMIT,
 *         SIMCLR_ERR_NOMEM, SIMCLR_ERR_BACKEND.
 */
SIMCLR_API simclr_status simclr_projector_forward_infer(simclr_projector *proj,
                                                        const float *src,
                                                        size_t n, uint32_t dim,
                                                        float *dst);

/**
 * @brief How many named tensors the head has. Thread-safe. Since 0.1.
 *
 * @param proj The head. Not NULL.
 * @return The count (4 for v1, 17 for v2), or 0 for a NULL @p proj.
 */
SIMCLR_API size_t simclr_projector_param_count(const simclr_projector *proj);

/**
 * @brief Describe tensor @p i of the head.
 *
 * Tensors come in the order of the PyTorch module's `state_dict()` (see
 * the file description): for v1 `head.0.weight`, `head.0.bias`,
 * `head.2.weight`, `head.2.bias`; for v2 `head.0.weight`, then
 * `head.1.weight`, `head.1.bias`, `head.1.running_mean`,
 * `head.1.running_var`, `head.1.num_batches_tracked`, and so on, with
 * `head.7.bias` absent. Dense weights are SIMCLR_PARAM_WEIGHT (out, in);
 * dense biases and batch-norm gamma and beta are SIMCLR_PARAM_NORM
 * (trained, usually without weight decay); running statistics and
 * `num_batches_tracked` are SIMCLR_PARAM_BUFFER. Thread-safe. Since 0.1.
 *
 * @param proj The head. Not NULL.
 * @param i    Index, below simclr_projector_param_count().
 * @param out  Receives the description; its size field must be set. Not
 *             NULL. Its pointers are the head's own memory, valid until
 *             it is destroyed.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer, an
 *         index out of range or a size field smaller than the first
 *         version of the struct.
 */
SIMCLR_API simclr_status simclr_projector_param(const simclr_projector *proj,
                                                size_t i,
                                                simclr_param_info *out);

/**
 * @brief Find a tensor of the head by name. Thread-safe. Since 0.1.
 *
 * @param proj The head. Not NULL.
 * @param name For example "head.4.running_var". Not NULL.
 * @param out  Receives the description; its size field must be set. Not
 *             NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer, a bad
 *         size field or a name the head does not have.
 */
SIMCLR_API simclr_status simclr_projector_param_find(
    const simclr_projector *proj, const char *name, simclr_param_info *out);

SIMCLR_END_DECLS

#endif /* SIMCLR_PROJECTOR_H */
