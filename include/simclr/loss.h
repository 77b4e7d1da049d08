/**
 * @file loss.h
 * @brief NT-Xent, the contrastive loss of SimCLR: value, gradient with
 *        respect to the projections, and contrastive accuracy.
 *
 * The input is the projection batch z, float32 `(2N, d)` row-major, in
 * which rows `2i` and `2i + 1` are the two views of image `i` (the layout
 * of the whole library). With `M = 2N` rows:
 *
 * 1. every row is L2-normalised, `u_r = z_r / max(||z_r||, 1e-12)`, as
 *    `torch.nn.functional.normalize` does (a zero row stays zero);
 * 2. similarities `s_ij = <u_i, u_j> / tau`;
 * 3. for anchor `i` the positive is its pair `p = i xor 1`, and
 *    `loss_i = log(sum_{j != i} exp(s_ij)) - s_ip`, computed with the
 *    largest term factored out (log-sum-exp), so that `tau = 0.01` cannot
 *    overflow;
 * 4. the value is the mean of `loss_i` over the M anchors.
 *
 * The official TensorFlow SimCLR code adds two cross-entropies (views a
 * against b, and b against a), each averaged over N anchors, so the loss it
 * reports is twice this value; the gradient scales the same way.
 *
 * The contrastive accuracy is the share of anchors whose positive is
 * strictly more similar than every other row `j != i`. A tie counts as a
 * miss, so a collapsed batch (all rows equal) has accuracy 0.
 *
 * Everything after the float32 input is computed in double precision.
 */
#ifndef SIMCLR_LOSS_H
#define SIMCLR_LOSS_H

#include <stddef.h>

#include "simclr/export.h"
#include "simclr/status.h"

/**
 * @brief Settings of the loss. Fill with simclr_loss_config_init(), then
 *        change any field.
 *
 * Fields may be added at the end in later versions; the size field tells
 * the library which ones the caller knows. Since 0.1.
 */
typedef struct simclr_loss_config {
    size_t size;        /**< sizeof(simclr_loss_config), set by init */
    double temperature; /**< tau, positive and finite; default 0.5 */
} simclr_loss_config;

/** @brief An NT-Xent loss. Opaque; made by simclr_loss_create().
 *         Since 0.1. */
typedef struct simclr_loss simclr_loss;

SIMCLR_BEGIN_DECLS

/**
 * @brief Fill a loss config with the defaults (temperature 0.5).
 *
 * Thread-safe. Since 0.1.
 *
 * @param cfg The config to fill. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p cfg.
 */
SIMCLR_API simclr_status simclr_loss_config_init(simclr_loss_config *cfg);

/**
 * @brief Make a loss from a config.
 *
 * The config is copied. The loss keeps scratch memory between calls, so
 * one loss is used by one thread at a time. Since 0.1.
 *
 * @param cfg A filled config, or NULL for the defaults.
 * @param out Receives the loss; set to NULL on failure. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p out, an
 *         unknown config size, or a temperature that is not positive and
 *         finite; SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_loss_create(const simclr_loss_config *cfg,
                                            simclr_loss **out);

/**
 * @brief Release a loss and its scratch memory. NULL is ignored.
 *        Since 0.1.
 *
 * @param loss The loss, or NULL. No call on it may be running.
 */
SIMCLR_API void simclr_loss_destroy(simclr_loss *loss);

/**
 * @brief The temperature tau of a loss. Thread-safe. Since 0.1.
 *
 * @param loss The loss. Not NULL.
 * @return tau, or 0 for a NULL @p loss.
 */
SIMCLR_API double simclr_loss_temperature(const simclr_loss *loss);

/**
 * @brief Detail text of the loss's last failure. Since 0.1.
 *
 * @param loss The loss, or NULL.
 * @return A string owned by the loss ("" for NULL or no failure).
 */
SIMCLR_API const char *simclr_loss_error(const simclr_loss *loss);

/**
 * @brief Value, gradient and contrastive accuracy of NT-Xent on one batch.
 *
 * Uses the library's thread budget (simclr_set_num_threads()); the
 * results are bit-identical for any thread count. Scratch memory of about
 * `8 * rows * (rows + 2 * dim)` bytes is kept by the loss and reused. One
 * thread at a time per loss. Since 0.1.
 *
 * @param loss     The loss. Not NULL.
 * @param z        Projections, float32 `(rows, dim)` row-major; rows `2i`
 *                 and `2i + 1` are the two views of image `i`. Not NULL.
 * @param rows     2N, even and at least 4 (N >= 2 images).
 * @param dim      d, at least 1.
 * @param value    Receives the mean loss over the rows. May be NULL.
 * @param accuracy Receives the contrastive accuracy in [0, 1]. May be
 *                 NULL.
 * @param dz       Receives dL/dz, float32 `(rows, dim)`, of the value
 *                 above. May be NULL (no gradient is computed). Must not
 *                 overlap @p z.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p loss or
 *         @p z; SIMCLR_ERR_SHAPE for an odd row count, fewer than 4 rows
 *         or a zero dim; SIMCLR_ERR_NUMERIC for a NaN or infinity in
 *         @p z (the detail text names the row); SIMCLR_ERR_LIMIT when the
 *         scratch size overflows; SIMCLR_ERR_NOMEM. On failure the outputs
 *         are left unchanged.
 */
SIMCLR_API simclr_status simclr_loss_forward_backward(
    simclr_loss *loss, const float *z, size_t rows, size_t dim, double *value,
    double *accuracy, float *dz);

SIMCLR_END_DECLS

#endif /* SIMCLR_LOSS_H */
