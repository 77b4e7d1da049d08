/**
 * @file optim.h
 * @brief Optimizers (SGD with momentum, LARS, AdamW) over parameter
 *        buffers the caller registers, and the learning-rate schedule.
 *
 * The caller registers each parameter once: its float32 values, its
 * gradient buffer (both owned by the caller and kept by the optimizer
 * until it is destroyed), its element count, a name for messages and its
 * flags. Every call to simclr_optim_step() then updates all of them from
 * their gradients with the learning rate it is given.
 *
 * Parameters flagged ::SIMCLR_PARAM_NO_DECAY (biases and batch-norm
 * scales and shifts, by convention) get no weight decay and, with LARS, no
 * trust-ratio adaptation.
 *
 * The update rules, with `g` the gradient, `w` the value, `lr` the
 * learning rate, `mu` the momentum and `wd` the weight decay (0 for
 * excluded parameters):
 *
 * - **SGD** (PyTorch's `torch.optim.SGD`): `g' = g + wd w`,
 *   `b = mu b + g'`, `step = g' + mu b` with Nesterov or `b` without,
 *   `w -= lr step`. The buffer starts at zero, and stays zero when the
 *   momentum is 0.
 * - **LARS** (the official SimCLR TensorFlow code, classic momentum):
 *   `g' = g + wd w`; `ratio = eta ||w|| / ||g'||` if both norms are
 *   positive, else 1, and always 1 for excluded parameters;
 *   `v = mu v + lr ratio g'`; `update = mu v + lr ratio g'` with Nesterov
 *   or `v` without; `w -= update`. The learning rate is inside the
 *   momentum buffer, unlike SGD above.
 * - **AdamW** (PyTorch's `torch.optim.AdamW`): at step `t` (from 1),
 *   `w *= 1 - lr wd`; `m = b1 m + (1 - b1) g`; `v = b2 v + (1 - b2) g^2`;
 *   `w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
 *
 * Each step first checks every gradient for NaN and infinity, then
 * updates each parameter in one pass over its buffers (LARS: one pass for
 * the two norms, one for the update). The arithmetic of a step is in
 * double precision; values and state are stored as float32. The result
 * does not depend on the thread count.
 *
 * An optimizer is used by one thread at a time.
 */
#ifndef SIMCLR_OPTIM_H
#define SIMCLR_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "simclr/export.h"
#include "simclr/status.h"

/** @brief The update rule of an optimizer. Since 0.1. */
typedef enum simclr_optim_kind {
    SIMCLR_OPTIM_SGD = 0,  /**< SGD with momentum, optional Nesterov */
    SIMCLR_OPTIM_LARS = 1, /**< LARS as the official SimCLR code */
    SIMCLR_OPTIM_ADAMW = 2 /**< Adam with decoupled weight decay */
} simclr_optim_kind;

/**
 * @brief Settings of an optimizer. Fill with simclr_optim_config_init(),
 *        then change any field.
 *
 * Fields that do not apply to the chosen kind are ignored. Fields may be
 * added at the end in later versions; the size field tells the library
 * which ones the caller knows. Since 0.1.
 */
typedef struct simclr_optim_config {
    size_t size;            /**< sizeof(simclr_optim_config), set by init */
    simclr_optim_kind kind; /**< the update rule */
    double momentum;        /**< SGD, LARS: in [0, 1); default 0.9 */
    int nesterov;           /**< SGD, LARS: non-zero for Nesterov; 0 */
    /** >= 0; default 0 for SGD, 1e-6 for LARS, 0.01 for AdamW */
    double weight_decay;
    double trust_coefficient; /**< LARS eta, > 0; default 0.001 */
    double beta1;             /**< AdamW, in [0, 1); default 0.9 */
    double beta2;             /**< AdamW, in [0, 1); default 0.999 */
    double eps;               /**< AdamW, > 0; default 1e-8 */
} simclr_optim_config;

/** @brief Flag of simclr_optim_add_param(): no weight decay and no LARS
 *         adaptation for this parameter (biases, batch norm). Since 0.1. */
#define SIMCLR_PARAM_NO_DECAY 1u

/** @brief An optimizer. Opaque; made by simclr_optim_create().
 *         Since 0.1. */
typedef struct simclr_optim simclr_optim;

/** @brief How the base learning rate grows with the batch size.
 *         Since 0.1. */
typedef enum simclr_lr_scaling {
    SIMCLR_LR_SCALING_LINEAR = 0, /**< base * B / 256 (SimCLR: base 0.3) */
    SIMCLR_LR_SCALING_SQRT = 1    /**< base * sqrt(B) (SimCLR: 0.075) */
} simclr_lr_scaling;

SIMCLR_BEGIN_DECLS

/**
 * @brief Fill an optimizer config with the defaults of a kind.
 *
 * All kinds: momentum 0.9, no Nesterov, trust coefficient 0.001, betas
 * 0.9 and 0.999, eps 1e-8. Weight decay: 0 for SGD, 1e-6 for LARS (the
 * official SimCLR default), 0.01 for AdamW (PyTorch's). Thread-safe.
 * Since 0.1.
 *
 * @param cfg  The config to fill. Not NULL.
 * @param kind The update rule.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p cfg or an
 *         unknown kind.
 */
SIMCLR_API simclr_status simclr_optim_config_init(simclr_optim_config *cfg,
                                                  simclr_optim_kind kind);

/**
 * @brief Make an optimizer with no parameters from a config.
 *
 * The config is copied. Since 0.1.
 *
 * @param cfg A filled config. Not NULL.
 * @param out Receives the optimizer; set to NULL on failure. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL argument, an
 *         unknown config size or kind, or a field out of range (the detail
 *         text names it); SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_optim_create(const simclr_optim_config *cfg,
                                             simclr_optim **out);

/**
 * @brief Release an optimizer and its state buffers. NULL is ignored.
 *        The caller's parameter and gradient buffers are not touched.
 *        Since 0.1.
 *
 * @param opt The optimizer, or NULL.
 */
SIMCLR_API void simclr_optim_destroy(simclr_optim *opt);

/**
 * @brief Detail text of the optimizer's last failure. Since 0.1.
 *
 * @param opt The optimizer, or NULL.
 * @return A string owned by the optimizer ("" for NULL or no failure).
 */
SIMCLR_API const char *simclr_optim_error(const simclr_optim *opt);

/**
 * @brief Register a parameter buffer and its gradient.
 *
 * The optimizer keeps both pointers until it is destroyed; the caller
 * keeps them valid and writes the gradient before each step. The state
 * buffers of the parameter are allocated here and start at zero.
 * Parameters are numbered from 0 in the order they are added. Since 0.1.
 *
 * @param opt   The optimizer. Not NULL.
 * @param name  A name for messages, copied. Not NULL.
 * @param value The parameter's float32 values, updated by each step.
 *              Not NULL.
 * @param grad  Its gradient, float32, same count, read by each step. Not
 *              NULL; must not overlap @p value.
 * @param count Number of elements, at least 1.
 * @param flags 0 or ::SIMCLR_PARAM_NO_DECAY.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL argument, a
 *         zero count or unknown flags; SIMCLR_ERR_LIMIT when the state
 *         size overflows; SIMCLR_ERR_NOMEM (the optimizer is unchanged).
 */
SIMCLR_API simclr_status simclr_optim_add_param(simclr_optim *opt,
                                                const char *name, float *value,
                                                const float *grad, size_t count,
                                                unsigned flags);

/**
 * @brief Number of registered parameters. Since 0.1.
 *
 * @param opt The optimizer, or NULL (0).
 * @return The count.
 */
SIMCLR_API size_t simclr_optim_param_count(const simclr_optim *opt);

/**
 * @brief Number of state buffers each parameter has: 1 for SGD and LARS
 *        (the momentum buffer), 2 for AdamW (m, then v). Since 0.1.
 *
 * @param opt The optimizer, or NULL (0).
 * @return The count.
 */
SIMCLR_API size_t simclr_optim_state_count(const simclr_optim *opt);

/**
 * @brief A state buffer of one parameter, for checkpoints.
 *
 * The buffer is owned by the optimizer and stays valid until it is
 * destroyed. Between steps the caller may read it, or write it to restore
 * a saved state. Since 0.1.
 *
 * @param opt   The optimizer. Not NULL.
 * @param param Parameter index, below simclr_optim_param_count().
 * @param which State index, below simclr_optim_state_count().
 * @param buf   Receives the float32 buffer. Not NULL.
 * @param count Receives its element count (the parameter's). May be NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL argument or an
 *         index out of range.
 */
SIMCLR_API simclr_status simclr_optim_state(simclr_optim *opt, size_t param,
                                            size_t which, float **buf,
                                            size_t *count);

/**
 * @brief Number of steps taken so far (AdamW's bias correction uses it).
 *        Since 0.1.
 *
 * @param opt The optimizer, or NULL (0).
 * @return The count.
 */
SIMCLR_API uint64_t simclr_optim_step_count(const simclr_optim *opt);

/**
 * @brief Set the step count, when restoring a checkpoint. Since 0.1.
 *
 * @param opt   The optimizer. Not NULL.
 * @param steps Steps already taken.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p opt.
 */
SIMCLR_API simclr_status simclr_optim_set_step_count(simclr_optim *opt,
                                                     uint64_t steps);

/**
 * @brief Update every registered parameter from its gradient.
 *
 * Uses the library's thread budget. Since 0.1.
 *
 * @param opt The optimizer. Not NULL.
 * @param lr  Learning rate, finite and >= 0.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p opt or a
 *         bad @p lr; SIMCLR_ERR_STATE when no parameter is registered;
 *         SIMCLR_ERR_NUMERIC when a gradient holds NaN or infinity (the
 *         detail text names the parameter and the element). On failure no
 *         parameter, state or step count is changed.
 */
SIMCLR_API simclr_status simclr_optim_step(simclr_optim *opt, double lr);

/**
 * @brief The peak learning rate for a batch size.
 *
 * SimCLR uses base 0.3 with linear scaling and 0.075 with square-root
 * scaling. Thread-safe. Since 0.1.
 *
 * @param rule       How the rate grows with @p batch_size.
 * @param base       The base rate, finite and >= 0.
 * @param batch_size B, the number of images per step, at least 1.
 * @param out        Receives `base * B / 256` or `base * sqrt(B)`. Not
 *                   NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p out, an
 *         unknown rule, a bad base or a zero batch size.
 */
SIMCLR_API simclr_status simclr_lr_scaled(simclr_lr_scaling rule, double base,
                                          uint64_t batch_size, double *out);

/**
 * @brief Total steps of a run: epochs times steps per epoch.
 *
 * Steps per epoch are `floor(examples / B)` when the loader drops the
 * short last batch and `ceil(examples / B)` when it keeps it. Giving this
 * total to simclr_lr_warmup_cosine() makes the schedule end exactly with
 * the run. Thread-safe. Since 0.1.
 *
 * @param examples   Images in the dataset, at least 1.
 * @param batch_size B, at least 1.
 * @param epochs     At least 1.
 * @param drop_last  Non-zero when the short last batch is dropped.
 * @param out        Receives the total. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p out, a
 *         zero argument, or a dropped batch that leaves no step;
 *         SIMCLR_ERR_LIMIT when the total overflows.
 */
SIMCLR_API simclr_status simclr_lr_total_steps(uint64_t examples,
                                               uint64_t batch_size,
                                               uint64_t epochs, int drop_last,
                                               uint64_t *out);

/**
 * @brief The learning rate at a step: linear warm-up, then cosine decay.
 *
 * As the official SimCLR code: for `step < W`, `peak * step / W` (so the
 * first step runs at 0); from W on, `peak * (1 + cos(pi * (step - W) /
 * (T - W))) / 2`, which would reach 0 at step T. The last step, T - 1,
 * runs at `peak * (1 - cos(pi / (T - W))) / 2`, the smallest positive
 * value of the schedule (when W < T). Thread-safe. Since 0.1.
 *
 * @param peak         The rate after warm-up, finite and >= 0.
 * @param warmup_steps W, at most T; 0 for no warm-up.
 * @param total_steps  T, the number of steps of the run, at least 1.
 * @param step         The step, from 0 to T - 1.
 * @param out          Receives the rate. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p out, a bad
 *         peak, T = 0, W > T or step >= T.
 */
SIMCLR_API simclr_status simclr_lr_warmup_cosine(double peak,
                                                 uint64_t warmup_steps,
                                                 uint64_t total_steps,
                                                 uint64_t step, double *out);

SIMCLR_END_DECLS

#endif /* SIMCLR_OPTIM_H */
