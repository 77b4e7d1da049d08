/**
 * @file eval.h
 * @brief Evaluation of frozen features: a linear probe (multinomial
 *        logistic regression) and a weighted k-nearest-neighbour
 *        classifier, both reporting top-1 accuracy.
 *
 * Features are float32 `(n, dim)` row-major matrices, such as the output
 * of simclr_encode(), with int32 labels `0` to `classes - 1`. This module
 * sees only the matrices.
 *
 * Linear probe: each feature is standardised with the mean and standard
 * deviation (population, divided by n) of the training set, and the same
 * transform is applied to every set it later classifies. A feature that is
 * constant on the training set is ignored (its standardised value is 0).
 * The weights W `(classes, dim)` and bias b `(classes)` minimise
 *
 *     (1 / n) sum_i cross_entropy(softmax(W x_i + b), y_i)
 *         + (l2 / 2) ||W||^2
 *
 * (the bias is not penalised), found from zero by full-batch L-BFGS with a
 * backtracking line search. The objective is strictly convex for l2 > 0, so
 * the solution does not depend on the start, and the computation is
 * deterministic: the same inputs give bit-identical weights for any number
 * of threads.
 *
 * k-NN: rows are L2-normalised, each test row takes the k training rows of
 * largest cosine similarity s, each of them votes for its label with weight
 * `exp(s / t)`, and the label with the largest sum wins (a tie goes to the
 * smaller label; among training rows of equal similarity the one with the
 * smaller index is taken first). Similarities are computed in blocks, so
 * memory does not grow with the product of the two set sizes.
 */
#ifndef SIMCLR_EVAL_H
#define SIMCLR_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "simclr/export.h"
#include "simclr/status.h"

/**
 * @brief Settings of a linear probe. Fill with simclr_probe_config_init(),
 *        then change any field.
 *
 * Fields may be added at the end in later versions; the size field tells
 * the library which ones the caller knows. Since 0.1.
 */
typedef struct simclr_probe_config {
    size_t size;      /**< sizeof(simclr_probe_config), set by init */
    double l2;        /**< L2 strength on W, positive and finite; default
                           1e-3 (on the mean cross-entropy) */
    size_t max_iter;  /**< L-BFGS iterations at most, at least 1; default
                           1000 */
    double tolerance; /**< stop when the largest gradient component is at
                           most this, positive and finite; default 1e-5 */
    size_t history;   /**< L-BFGS correction pairs kept, 1 to 100; default
                           10 */
} simclr_probe_config;

/** @brief A linear probe: standardisation and a softmax classifier.
 *         Opaque; made by simclr_probe_create(). Since 0.1. */
typedef struct simclr_probe simclr_probe;

/**
 * @brief Settings of the k-NN classifier. Fill with
 *        simclr_knn_config_init(), then change any field.
 *
 * Fields may be added at the end in later versions; the size field tells
 * the library which ones the caller knows. Since 0.1.
 */
typedef struct simclr_knn_config {
    size_t size;        /**< sizeof(simclr_knn_config), set by init */
    size_t k;           /**< neighbours, 1 to the training rows; default
                             200 */
    double temperature; /**< t in exp(s / t), positive and finite; default
                             0.1 */
} simclr_knn_config;

SIMCLR_BEGIN_DECLS

/**
 * @brief Fill a probe config with the defaults (l2 1e-3, 1000 iterations,
 *        tolerance 1e-5, history 10).
 *
 * Thread-safe. Since 0.1.
 *
 * @param cfg The config to fill. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p cfg.
 */
SIMCLR_API simclr_status simclr_probe_config_init(simclr_probe_config *cfg);

/**
 * @brief Make an untrained linear probe from a config.
 *
 * The config is copied. Thread-safe (the new handle is the caller's).
 * Since 0.1.
 *
 * @param cfg A filled config, or NULL for the defaults.
 * @param out Receives the probe; set to NULL on failure. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p out, an
 *         unknown config size or a setting out of its range (the detail
 *         text in simclr_last_error() names it); SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_probe_create(const simclr_probe_config *cfg,
                                             simclr_probe **out);

/**
 * @brief Release a probe. NULL is ignored. Since 0.1.
 *
 * @param probe The probe, or NULL. No call on it may be running.
 */
SIMCLR_API void simclr_probe_destroy(simclr_probe *probe);

/**
 * @brief Detail text of the probe's last failure. Since 0.1.
 *
 * @param probe The probe, or NULL.
 * @return A string owned by the probe ("" for NULL or no failure).
 */
SIMCLR_API const char *simclr_probe_error(const simclr_probe *probe);

/**
 * @brief Train the probe on labelled features, replacing any earlier fit.
 *
 * Computes the standardisation of @p x and runs L-BFGS until the
 * tolerance or the iteration limit is reached; reaching the limit is not
 * an error (simclr_probe_iterations() tells). Uses the library's thread
 * budget (simclr_set_num_threads()); the result is bit-identical for any
 * thread count. Keeps no pointer to @p x or @p labels. Memory: about
 * `8 * (history + 6) * classes * (dim + 1)` bytes. One thread at a time
 * per probe. Since 0.1.
 *
 * @param probe   The probe. Not NULL.
 * @param x       Training features, float32 `(n, dim)` row-major. Not
 *                NULL.
 * @param labels  Their labels, int32 `(n)`, each 0 to @p classes - 1. Not
 *                NULL.
 * @param n       Rows, at least 1.
 * @param dim     Features per row, at least 1.
 * @param classes Classes, at least 2.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer or a
 *         label out of range (the detail text names the row);
 *         SIMCLR_ERR_SHAPE for a zero @p n or @p dim or fewer than 2
 *         classes; SIMCLR_ERR_NUMERIC for a NaN or infinity in @p x (the
 *         detail text names row and column) or an objective that stops
 *         being finite; SIMCLR_ERR_LIMIT when the sizes overflow;
 *         SIMCLR_ERR_NOMEM. On failure the probe is left untrained.
 */
SIMCLR_API simclr_status simclr_probe_fit(simclr_probe *probe, const float *x,
                                          const int32_t *labels, size_t n,
                                          size_t dim, size_t classes);

/**
 * @brief Classify features with a trained probe.
 *
 * One thread at a time per probe. Since 0.1.
 *
 * @param probe       A trained probe. Not NULL.
 * @param x           Features, float32 `(n, dim)` with the @p dim of the
 *                    fit. Not NULL.
 * @param n           Rows, at least 1.
 * @param dim         Features per row; must equal the fit's.
 * @param predictions Receives the label of each row, int32 `(n)`. Not
 *                    NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer;
 *         SIMCLR_ERR_STATE for a probe that was not trained;
 *         SIMCLR_ERR_SHAPE for a zero @p n or a @p dim that differs from
 *         the fit's; SIMCLR_ERR_NUMERIC for a NaN or infinity in @p x.
 *         On failure @p predictions is left unchanged.
 */
SIMCLR_API simclr_status simclr_probe_predict(simclr_probe *probe,
                                              const float *x, size_t n,
                                              size_t dim, int32_t *predictions);

/**
 * @brief Top-1 accuracy of a trained probe on labelled features.
 *
 * One thread at a time per probe. Since 0.1.
 *
 * @param probe    A trained probe. Not NULL.
 * @param x        Features, float32 `(n, dim)`. Not NULL.
 * @param labels   Their labels, int32 `(n)`, each 0 to the fit's classes
 *                 - 1. Not NULL.
 * @param n        Rows, at least 1.
 * @param dim      Features per row; must equal the fit's.
 * @param accuracy Receives the share of rows classified right, in [0, 1].
 *                 Not NULL.
 * @return As simclr_probe_predict(), and SIMCLR_ERR_INVALID_ARGUMENT for
 *         a label out of range; SIMCLR_ERR_NOMEM.
 */
SIMCLR_API simclr_status simclr_probe_accuracy(simclr_probe *probe,
                                               const float *x,
                                               const int32_t *labels, size_t n,
                                               size_t dim, double *accuracy);

/**
 * @brief The trained classifier, expressed on the raw (unstandardised)
 *        features: `logits = weights x + bias`.
 *
 * One thread at a time per probe. Since 0.1.
 *
 * @param probe   A trained probe. Not NULL.
 * @param weights Receives W, float32 `(classes, dim)` row-major. May be
 *                NULL.
 * @param bias    Receives b, float32 `(classes)`. May be NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p probe;
 *         SIMCLR_ERR_STATE for a probe that was not trained.
 */
SIMCLR_API simclr_status simclr_probe_weights(simclr_probe *probe,
                                              float *weights, float *bias);

/**
 * @brief What the last fit did: iterations run, final objective and the
 *        largest gradient component. Thread-safe. Since 0.1.
 *
 * @param probe      The probe. Not NULL.
 * @param iterations Receives the L-BFGS iterations (0 before a fit). May
 *                   be NULL.
 * @param objective  Receives the objective at the solution. May be NULL.
 * @param grad_max   Receives the largest absolute gradient component at
 *                   the solution; at most the tolerance when the fit
 *                   converged. May be NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p probe;
 *         SIMCLR_ERR_STATE for a probe that was not trained.
 */
SIMCLR_API simclr_status simclr_probe_fit_info(const simclr_probe *probe,
                                               size_t *iterations,
                                               double *objective,
                                               double *grad_max);

/**
 * @brief Fill a k-NN config with the defaults (k 200, temperature 0.1).
 *
 * Thread-safe. Since 0.1.
 *
 * @param cfg The config to fill. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL @p cfg.
 */
SIMCLR_API simclr_status simclr_knn_config_init(simclr_knn_config *cfg);

/**
 * @brief Classify test features by weighted vote of their k most similar
 *        training features.
 *
 * Uses the library's thread budget; the predictions are the same for any
 * thread count. Memory: about `4 * (n_train + n_test)` bytes plus a few
 * hundred kilobytes per thread, whatever the set sizes. Thread-safe.
 * Errors are recorded in simclr_last_error(). Since 0.1.
 *
 * @param cfg          A filled config, or NULL for the defaults.
 * @param train        Training features, float32 `(n_train, dim)`. Not
 *                     NULL.
 * @param train_labels Their labels, int32 `(n_train)`, each 0 to
 *                     @p classes - 1. Not NULL.
 * @param n_train      Training rows, at least k.
 * @param test         Features to classify, float32 `(n_test, dim)`. Not
 *                     NULL.
 * @param n_test       Test rows, at least 1.
 * @param dim          Features per row, at least 1.
 * @param classes      Classes, at least 2.
 * @param predictions  Receives the label of each test row, int32
 *                     `(n_test)`. Not NULL.
 * @return SIMCLR_OK; SIMCLR_ERR_INVALID_ARGUMENT for a NULL pointer, an
 *         unknown config size, a temperature that is not positive and
 *         finite, k = 0 or more than @p n_train, or a label out of range;
 *         SIMCLR_ERR_SHAPE for a zero @p n_train, @p n_test or @p dim or
 *         fewer than 2 classes; SIMCLR_ERR_NUMERIC for a NaN or infinity
 *         in either matrix (the detail text names it, the row and the
 *         column); SIMCLR_ERR_LIMIT when the sizes overflow;
 *         SIMCLR_ERR_NOMEM. On failure @p predictions is left unchanged.
 */
SIMCLR_API simclr_status simclr_knn_predict(
    const simclr_knn_config *cfg, const float *train,
    const int32_t *train_labels, size_t n_train, const float *test,
    size_t n_test, size_t dim, size_t classes, int32_t *predictions);

/**
 * @brief Top-1 accuracy of the weighted k-NN classifier on labelled test
 *        features.
 *
 * As simclr_knn_predict(), then compares with @p test_labels.
 * Thread-safe. Since 0.1.
 *
 * @param cfg          A filled config, or NULL for the defaults.
 * @param train        Training features, float32 `(n_train, dim)`. Not
 *                     NULL.
 * @param train_labels Their labels, int32 `(n_train)`. Not NULL.
 * @param n_train      Training rows, at least k.
 * @param test         Test features, float32 `(n_test, dim)`. Not NULL.
 * @param test_labels  Their labels, int32 `(n_test)`, each 0 to
 *                     @p classes - 1. Not NULL.
 * @param n_test       Test rows, at least 1.
 * @param dim          Features per row, at least 1.
 * @param classes      Classes, at least 2.
 * @param accuracy     Receives the share of test rows classified right,
 *                     in [0, 1]. Not NULL.
 * @return As simclr_knn_predict().
 */
SIMCLR_API simclr_status simclr_knn_accuracy(const simclr_knn_config *cfg,
                                             const float *train,
                                             const int32_t *train_labels,
                                             size_t n_train, const float *test,
                                             const int32_t *test_labels,
                                             size_t n_test, size_t dim,
                                             size_t classes, double *accuracy);

SIMCLR_END_DECLS

#endif /* SIMCLR_EVAL_H */
