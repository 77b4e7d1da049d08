/*
 * Linear probe: standardisation from the training set, then multinomial
 * logistic regression with an L2 penalty on the weights, fitted by
 * full-batch L-BFGS with a backtracking (Armijo) line search.
 *
 * Pixels and learned features are strongly correlated, which makes the
 * objective ill-conditioned: plain L-BFGS needs thousands of iterations on
 * Fashion-MNIST. The initial inverse Hessian of the L-BFGS recursion is
 * therefore (C + mu I)^-1 for every class, C the covariance of the
 * standardised features on up to PRECOND_ROWS evenly spaced training rows
 * and mu = l2 * classes (the Hessian of the cross-entropy at zero is
 * about C / classes per class). This changes the path, not the minimum.
 *
 * The parameters theta are (dim + 1, kp) doubles, kp being classes
 * rounded up to a multiple of LANES: row j holds the weights of feature j
 * for every class, the last row the biases; the padding stays zero. The
 * objective and its gradient are sums over rows taken in a fixed number
 * of contiguous groups, each summed in row order and the groups added in
 * group order, so the result is the same for any thread count.
 */
#include <math.h>
#include <string.h>

#include "simclr/eval.h"
#include "common/common.h"
#include "common/threads_internal.h"
#include "eval_internal.h"

/* Row groups of the objective: enough to keep two to eight threads busy,
 * fixed so that the sums do not depend on the thread count. */
#define GROUPS 16

/* Classes are padded to a multiple of LANES in theta, so that the loops
 * over classes have a fixed inner width the compiler can vectorise. */
#define LANES 4

/* Rows used for the covariance of the preconditioner */
#define PRECOND_ROWS 4096

/* Armijo's sufficient-decrease constant and the step halvings allowed */
#define ARMIJO       1e-4
#define MAX_HALVINGS 60

struct simclr_probe {
    simclr_probe_config cfg;
    int trained;
    size_t dim, classes, kp;
    double *mean;  /* (dim) */
    double *scale; /* (dim): 1 / std, 0 for a constant feature */
    double *theta; /* (dim + 1, kp) */
    size_t iterations;
    double objective, grad_max;
    simclr__error err;
};

/* What one fit works on; the buffers live only during the fit. */
typedef struct fit_state {
    const float *x;
    const int32_t *labels;
    size_t n, dim, classes, kp, params;
    const double *mean, *scale;
    double l2;
    double *group_grad; /* (GROUPS, params) */
    double *group_loss; /* (GROUPS) */
    double *row_buf;    /* (GROUPS, dim + 2 * kp) */
} fit_state;

/* ---- config and lifetime ----------------------------------------------- */

simclr_status simclr_probe_config_init(simclr_probe_config *cfg)
{
    if (!cfg)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe config: cfg is NULL");
    memset(cfg, 0, sizeof(*cfg));
    cfg->size = sizeof(*cfg);
    cfg->l2 = 1e-3;
    cfg->max_iter = 1000;
    cfg->tolerance = 1e-5;
    cfg->history = 10;
    return SIMCLR_OK;
}

static simclr_status check_config(const simclr_probe_config *cfg)
{
    if (cfg->size != sizeof(*cfg))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe config: size %zu is not %zu (use "
                            "simclr_probe_config_init)",
                            cfg->size, sizeof(*cfg));
    if (!(cfg->l2 > 0.0 && isfinite(cfg->l2)))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe config: l2 %g is not positive and finite",
                            cfg->l2);
    if (cfg->max_iter == 0)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe config: max_iter is 0");
    if (!(cfg->tolerance > 0.0 && isfinite(cfg->tolerance)))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe config: tolerance %g is not positive "
                            "and finite",
                            cfg->tolerance);
    if (cfg->history == 0 || cfg->history > 100)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe config: history %zu is not 1 to 100",
                            cfg->history);
    return SIMCLR_OK;
}

simclr_status simclr_probe_create(const simclr_probe_config *cfg,
                                  simclr_probe **out)
{
    simclr_probe_config defaults;
    simclr_probe *probe;
    simclr_status st;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe: out is NULL");
    *out = NULL;
    if (!cfg) {
        simclr_probe_config_init(&defaults);
        cfg = &defaults;
    }
    st = check_config(cfg);
    if (st != SIMCLR_OK)
        return st;

    probe = simclr__calloc(1, sizeof(*probe));
    if (!probe)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM, "probe: out of memory");
    probe->cfg = *cfg;
    *out = probe;
    return SIMCLR_OK;
}

static void forget_fit(simclr_probe *probe)
{
    simclr__free(probe->mean);
    simclr__free(probe->scale);
    simclr__free(probe->theta);
    probe->mean = probe->scale = probe->theta = NULL;
    probe->trained = 0;
    probe->iterations = 0;
}

void simclr_probe_destroy(simclr_probe *probe)
{
    if (!probe)
        return;
    forget_fit(probe);
    simclr__free(probe);
}

const char *simclr_probe_error(const simclr_probe *probe)
{
    return simclr__error_text(probe ? &probe->err : NULL);
}

/* ---- standardisation --------------------------------------------------- */

/* mean (dim) and scale (dim) = 1 / std, population std; a feature whose
 * std is 0 gets scale 0, so its standardised value is 0 everywhere. */
static void standardisation(const float *x, size_t n, size_t dim, double *mean,
                            double *scale)
{
#pragma omp parallel for num_threads(simclr__num_threads())
    for (size_t k = 0; k < dim; k++) {
        double sum = 0.0, sq = 0.0, mu, sd;

        for (size_t r = 0; r < n; r++)
            sum += x[r * dim + k];
        mu = sum / (double)n;
        for (size_t r = 0; r < n; r++) {
            double c = x[r * dim + k] - mu;

            sq += c * c;
        }
        sd = sqrt(sq / (double)n);
        mean[k] = mu;
        scale[k] = sd > 0.0 ? 1.0 / sd : 0.0;
    }
}

/* dst (kp) += a * src (kp), kp a multiple of LANES */
static void axpy(double *restrict dst, const double *restrict src, double a,
                 size_t kp)
{
    for (size_t c = 0; c < kp; c += LANES) {
        for (size_t l = 0; l < LANES; l++)
            dst[c + l] += a * src[c + l];
    }
}

/* logits (kp) of one standardised row z (dim) */
static void logits_of(const double *theta, const double *z, size_t dim,
                      size_t kp, double *logits)
{
    memcpy(logits, theta + dim * kp, kp * sizeof(double));
    for (size_t j = 0; j < dim; j++) {
        if (z[j] != 0.0)
            axpy(logits, theta + j * kp, z[j], kp);
    }
}

static void standardise_row(const float *src, const double *mean,
                            const double *scale, size_t dim, double *dst)
{
    for (size_t j = 0; j < dim; j++)
        dst[j] = (src[j] - mean[j]) * scale[j];
}

/* ---- objective --------------------------------------------------------- */

/* Rows [r0, r1): adds the cross-entropies to *loss and their gradient
 * with respect to theta to grad (params). */
static void group_objective(const fit_state *fs, const double *theta, size_t r0,
                            size_t r1, double *z, double *loss, double *grad)
{
    size_t dim = fs->dim, classes = fs->classes, kp = fs->kp;
    double *logits = z + dim, *d = logits + kp;
    double *gbias = grad + dim * kp;
    double sum = 0.0;

    memset(grad, 0, fs->params * sizeof(double));
    for (size_t r = r0; r < r1; r++) {
        double top, total = 0.0, lse;
        size_t y = (size_t)fs->labels[r];

        /* z = standardised row, logits = W z + b */
        standardise_row(fs->x + r * dim, fs->mean, fs->scale, dim, z);
        logits_of(theta, z, dim, kp, logits);

        /* softmax and cross-entropy, largest logit factored out */
        top = logits[0];
        for (size_t c = 1; c < classes; c++)
            top = fmax(top, logits[c]);
        for (size_t c = 0; c < classes; c++) {
            d[c] = exp(logits[c] - top);
            total += d[c];
        }
        lse = top + log(total);
        sum += lse - logits[y];

        /* d = softmax - onehot(y); dtheta += z d^T, dbias += d */
        for (size_t c = 0; c < classes; c++)
            d[c] /= total;
        for (size_t c = classes; c < kp; c++)
            d[c] = 0.0;
        d[y] -= 1.0;
        for (size_t j = 0; j < dim; j++) {
            if (z[j] != 0.0)
                axpy(grad + j * kp, d, z[j], kp);
        }
        axpy(gbias, d, 1.0, kp);
    }
    *loss = sum;
}

/* f = mean cross-entropy + l2 / 2 ||W||^2 and its gradient (params) */
static double objective(const fit_state *fs, const double *theta, double *grad)
{
    size_t groups = fs->n < GROUPS ? fs->n : GROUPS;
    size_t wlen = fs->dim * fs->kp;
    size_t row_len = fs->dim + 2 * fs->kp;
    double loss = 0.0, penalty = 0.0;

#pragma omp parallel for num_threads(simclr__num_threads()) schedule(dynamic)
    for (size_t g = 0; g < groups; g++) {
        size_t r0 = fs->n * g / groups, r1 = fs->n * (g + 1) / groups;

        group_objective(fs, theta, r0, r1, fs->row_buf + g * row_len,
                        &fs->group_loss[g], fs->group_grad + g * fs->params);
    }

    /* groups added in order, then divided by n */
    memcpy(grad, fs->group_grad, fs->params * sizeof(double));
    loss = fs->group_loss[0];
    for (size_t g = 1; g < groups; g++) {
        const double *gg = fs->group_grad + g * fs->params;

        loss += fs->group_loss[g];
        for (size_t p = 0; p < fs->params; p++)
            grad[p] += gg[p];
    }
    for (size_t p = 0; p < fs->params; p++)
        grad[p] /= (double)fs->n;
    for (size_t p = 0; p < wlen; p++) {
        penalty += theta[p] * theta[p];
        grad[p] += fs->l2 * theta[p];
    }
    return loss / (double)fs->n + 0.5 * fs->l2 * penalty;
}

/* ---- L-BFGS ------------------------------------------------------------ */

static double vdot(const double *a, const double *b, size_t len)
{
    double sum = 0.0;

    for (size_t i = 0; i < len; i++)
        sum += a[i] * b[i];
    return sum;
}

static double max_abs(const double *a, size_t len)
{
    double m = 0.0;

    for (size_t i = 0; i < len; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* The L-BFGS memory: pairs s (history, params), y (history, params),
 * rho = 1 / <s, y>, in a ring starting at `first`. */
typedef struct lbfgs {
    double *s, *y, *rho, *alpha;
    size_t history, count, first, params;
    size_t dim, kp;
    const double *chol; /* (dim, dim) lower Cholesky factor of C + mu I */
} lbfgs;

/* q (dim + 1, kp) <- H0 q: for each class column, the feature rows are
 * solved with (L L^T); the bias row is left as it is (its curvature is
 * that of a feature of variance 1). */
static void precondition(const lbfgs *m, double *q)
{
    size_t dim = m->dim, kp = m->kp;
    const double *chol = m->chol;

    /* forward: L x = q, row by row, all classes at once */
    for (size_t j = 0; j < dim; j++) {
        double *qj = q + j * kp;

        for (size_t i = 0; i < j; i++)
            axpy(qj, q + i * kp, -chol[j * dim + i], kp);
        for (size_t c = 0; c < kp; c++)
            qj[c] /= chol[j * dim + j];
    }
    /* backward: L^T x = y */
    for (size_t j = dim; j-- > 0;) {
        double *qj = q + j * kp;

        for (size_t i = j + 1; i < dim; i++)
            axpy(qj, q + i * kp, -chol[i * dim + j], kp);
        for (size_t c = 0; c < kp; c++)
            qj[c] /= chol[j * dim + j];
    }
}

/* dir = -H grad by the two-loop recursion; H0 = gamma P with P the
 * preconditioner and gamma = <s, y> / <y, P y> of the newest pair, or
 * 1 / max|P grad| (at most 1) with no pairs yet. tmp holds params. */
static void lbfgs_direction(const lbfgs *m, const double *grad, double *dir,
                            double *tmp)
{
    size_t len = m->params;
    double gamma;

    for (size_t p = 0; p < len; p++)
        dir[p] = -grad[p];
    for (size_t i = m->count; i-- > 0;) {
        size_t slot = (m->first + i) % m->history;
        const double *s = m->s + slot * len, *y = m->y + slot * len;
        double a = m->rho[slot] * vdot(s, dir, len);

        m->alpha[slot] = a;
        for (size_t p = 0; p < len; p++)
            dir[p] -= a * y[p];
    }
    precondition(m, dir);
    if (m->count > 0) {
        size_t slot = (m->first + m->count - 1) % m->history;
        const double *y = m->y + slot * len;

        memcpy(tmp, y, len * sizeof(double));
        precondition(m, tmp);
        gamma = 1.0 / (m->rho[slot] * vdot(y, tmp, len));
    } else {
        gamma = 1.0 / fmax(1.0, max_abs(dir, len));
    }
    for (size_t p = 0; p < len; p++)
        dir[p] *= gamma;
    for (size_t i = 0; i < m->count; i++) {
        size_t slot = (m->first + i) % m->history;
        const double *s = m->s + slot * len, *y = m->y + slot * len;
        double b = m->rho[slot] * vdot(y, dir, len);

        for (size_t p = 0; p < len; p++)
            dir[p] += (m->alpha[slot] - b) * s[p];
    }
}

/* Keeps the pair s = x1 - x0, y = g1 - g0 when <s, y> > 0 (always for a
 * strictly convex objective, barring rounding). */
static void lbfgs_push(lbfgs *m, const double *x0, const double *x1,
                       const double *g0, const double *g1)
{
    size_t len = m->params, slot;
    double *s, *y, sy;

    slot =
        m->count < m->history ? (m->first + m->count) % m->history : m->first;
    s = m->s + slot * len;
    y = m->y + slot * len;
    for (size_t p = 0; p < len; p++) {
        s[p] = x1[p] - x0[p];
        y[p] = g1[p] - g0[p];
    }
    sy = vdot(s, y, len);
    if (!(sy > 1e-300))
        return;
    m->rho[slot] = 1.0 / sy;
    if (m->count < m->history)
        m->count++;
    else
        m->first = (m->first + 1) % m->history;
}

/*
 * Minimises the objective from theta = 0. work holds 5 vectors of params
 * (gradient, new point, new gradient, direction, scratch). Stops when max|grad|
 * <= tolerance, after max_iter iterations, or when the line search can
 * no longer decrease the objective (the rounding floor).
 */
static simclr_status lbfgs_run(simclr_probe *probe, const fit_state *fs,
                               lbfgs *m, double *theta, double *work)
{
    size_t len = fs->params;
    double *grad = work, *next = grad + len, *next_grad = next + len;
    double *dir = next_grad + len, *tmp = dir + len;
    double f, f_next = 0.0;
    size_t it;

    memset(theta, 0, len * sizeof(double));
    f = objective(fs, theta, grad);
    for (it = 0; it < probe->cfg.max_iter; it++) {
        double slope, step = 1.0;
        int accepted = 0;

        if (max_abs(grad, len) <= probe->cfg.tolerance)
            break;
        lbfgs_direction(m, grad, dir, tmp);
        slope = vdot(grad, dir, len);
        if (!(slope < 0.0)) {
            /* not a descent direction: forget the pairs, go downhill */
            m->count = 0;
            lbfgs_direction(m, grad, dir, tmp);
            slope = vdot(grad, dir, len);
        }

        /* halve the step until the decrease is sufficient */
        for (int h = 0; h < MAX_HALVINGS && !accepted; h++, step *= 0.5) {
            for (size_t p = 0; p < len; p++)
                next[p] = theta[p] + step * dir[p];
            f_next = objective(fs, next, next_grad);
            if (!isfinite(f_next))
                continue;
            accepted = f_next <= f + ARMIJO * step * slope;
        }
        if (!accepted)
            break;

        lbfgs_push(m, theta, next, grad, next_grad);
        memcpy(theta, next, len * sizeof(double));
        memcpy(grad, next_grad, len * sizeof(double));
        f = f_next;
    }
    if (!isfinite(f))
        return simclr__fail(&probe->err, SIMCLR_ERR_NUMERIC,
                            "probe: the objective is not finite (%g) after "
                            "%zu iterations",
                            f, it);
    probe->iterations = it;
    probe->objective = f;
    probe->grad_max = max_abs(grad, len);
    return SIMCLR_OK;
}

/* ---- preconditioner --------------------------------------------------- */

/*
 * chol (dim, dim) = lower Cholesky factor of C + mu I, C the covariance
 * of the standardised features over up to PRECOND_ROWS evenly spaced
 * rows. The rows are standardised in batches into buf (buf_len doubles).
 */
static simclr_status
covariance_cholesky(simclr_probe *probe, const float *x, size_t n, size_t dim,
                    const double *mean, const double *scale, double mu,
                    double *chol, double *buf, size_t buf_len)
{
    size_t rows = n < PRECOND_ROWS ? n : PRECOND_ROWS;
    size_t batch = buf_len / dim;

    memset(chol, 0, dim * dim * sizeof(double));
    /* lower triangle of sum z z^T, batch by batch */
    for (size_t b0 = 0; b0 < rows; b0 += batch) {
        size_t nb = rows - b0 < batch ? rows - b0 : batch;

        for (size_t i = 0; i < nb; i++)
            standardise_row(x + (b0 + i) * n / rows * dim, mean, scale, dim,
                            buf + i * dim);
#pragma omp parallel for num_threads(simclr__num_threads()) schedule(dynamic)
        for (size_t j = 0; j < dim; j++) {
            double *cj = chol + j * dim;

            for (size_t i = 0; i < nb; i++) {
                const double *z = buf + i * dim;
                double zj = z[j];

                for (size_t k = 0; k <= j; k++)
                    cj[k] += zj * z[k];
            }
        }
    }
    for (size_t j = 0; j < dim; j++) {
        for (size_t k = 0; k <= j; k++)
            chol[j * dim + k] /= (double)rows;
        chol[j * dim + j] += mu;
    }

    /* in place, row by row: L_jk = (A_jk - sum_i L_ji L_ki) / L_kk */
    for (size_t j = 0; j < dim; j++) {
        double *lj = chol + j * dim;

        for (size_t k = 0; k <= j; k++) {
            const double *lk = chol + k * dim;
            double sum = lj[k];

            for (size_t i = 0; i < k; i++)
                sum -= lj[i] * lk[i];
            if (k < j) {
                lj[k] = sum / lk[k];
            } else if (sum > 0.0) {
                lj[j] = sqrt(sum);
            } else {
                return simclr__fail(&probe->err, SIMCLR_ERR_NUMERIC,
                                    "probe fit: the feature covariance is "
                                    "not positive definite at feature %zu "
                                    "(%g)",
                                    j, sum);
            }
        }
    }
    return SIMCLR_OK;
}

/* ---- fit ---------------------------------------------------------------- */

static simclr_status check_fit_inputs(simclr_probe *probe, const float *x,
                                      const int32_t *labels, size_t n,
                                      size_t dim, size_t classes)
{
    simclr_status st;

    if (!x || !labels)
        return simclr__fail(&probe->err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe fit: %s is NULL", !x ? "x" : "labels");
    st = simclr__eval_check_shape(&probe->err, "probe fit", n, dim, classes);
    if (st == SIMCLR_OK)
        st = simclr__eval_check_labels(&probe->err, "probe fit labels", labels,
                                       n, classes);
    if (st == SIMCLR_OK)
        st = simclr__eval_check_finite(&probe->err, "probe fit features", x, n,
                                       dim);
    return st;
}

simclr_status simclr_probe_fit(simclr_probe *probe, const float *x,
                               const int32_t *labels, size_t n, size_t dim,
                               size_t classes)
{
    fit_state fs = {0};
    lbfgs m = {0};
    size_t kp = (classes + LANES - 1) / LANES * LANES, params, pairs,
           groups_len, row_len, rows_len, work_len;
    double *mean, *scale, *theta, *work, *chol;
    size_t chol_len;
    simclr_status st;

    if (!probe)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe: probe is NULL");
    fs.x = x;
    fs.labels = labels;
    fs.n = n;
    fs.dim = dim;
    fs.classes = classes;
    forget_fit(probe);
    st = check_fit_inputs(probe, x, labels, n, dim, classes);
    if (st != SIMCLR_OK)
        return st;
    if (kp < classes || !simclr__mul_size(dim + 1, kp, &params) ||
        dim + 1 == 0 || !simclr__mul_size(params, probe->cfg.history, &pairs) ||
        !simclr__mul_size(params, GROUPS, &groups_len) ||
        !simclr__add_size(dim, 2 * kp, &row_len) ||
        !simclr__mul_size(row_len, GROUPS, &rows_len) ||
        !simclr__mul_size(params, 5, &work_len) ||
        !simclr__mul_size(dim, dim, &chol_len) ||
        !simclr__mul_size(n, dim, &(size_t){0}))
        return simclr__fail(&probe->err, SIMCLR_ERR_LIMIT,
                            "probe fit: %zu classes of dimension %zu "
                            "overflow the address space",
                            classes, dim);

    mean = simclr__malloc_array(dim, sizeof(double));
    scale = simclr__malloc_array(dim, sizeof(double));
    theta = simclr__malloc_array(params, sizeof(double));
    work = simclr__malloc_array(work_len, sizeof(double));
    fs.group_grad = simclr__malloc_array(groups_len, sizeof(double));
    fs.group_loss = simclr__malloc_array(GROUPS, sizeof(double));
    fs.row_buf = simclr__malloc_array(rows_len, sizeof(double));
    chol = simclr__malloc_array(chol_len, sizeof(double));
    m.s = simclr__malloc_array(pairs, sizeof(double));
    m.y = simclr__malloc_array(pairs, sizeof(double));
    m.rho = simclr__malloc_array(probe->cfg.history, sizeof(double));
    m.alpha = simclr__malloc_array(probe->cfg.history, sizeof(double));
    if (!mean || !scale || !theta || !work || !fs.group_grad ||
        !fs.group_loss || !fs.row_buf || !chol || !m.s || !m.y || !m.rho ||
        !m.alpha)
        st = simclr__fail(&probe->err, SIMCLR_ERR_NOMEM,
                          "probe fit: out of memory for %zu parameters "
                          "and %zu correction pairs",
                          params, probe->cfg.history);

    if (st == SIMCLR_OK) {
        /* standardise, then minimise from zero */
        standardisation(x, n, dim, mean, scale);
        st = covariance_cholesky(probe, x, n, dim, mean, scale,
                                 probe->cfg.l2 * (double)classes, chol,
                                 fs.row_buf, rows_len);
    }
    if (st == SIMCLR_OK) {
        fs.kp = kp;
        fs.params = m.params = params;
        fs.mean = mean;
        fs.scale = scale;
        fs.l2 = probe->cfg.l2;
        m.history = probe->cfg.history;
        m.dim = dim;
        m.kp = kp;
        m.chol = chol;
        st = lbfgs_run(probe, &fs, &m, theta, work);
    }

    simclr__free(work);
    simclr__free(chol);
    simclr__free(fs.group_grad);
    simclr__free(fs.group_loss);
    simclr__free(fs.row_buf);
    simclr__free(m.s);
    simclr__free(m.y);
    simclr__free(m.rho);
    simclr__free(m.alpha);
    if (st != SIMCLR_OK) {
        simclr__free(mean);
        simclr__free(scale);
        simclr__free(theta);
        probe->iterations = 0;
        return st;
    }
    probe->mean = mean;
    probe->scale = scale;
    probe->theta = theta;
    probe->dim = dim;
    probe->classes = classes;
    probe->kp = kp;
    probe->trained = 1;
    return SIMCLR_OK;
}

/* ---- use --------------------------------------------------------------- */

static simclr_status check_use(simclr_probe *probe, const float *x, size_t n,
                               size_t dim, const void *dst)
{
    if (!x || !dst)
        return simclr__fail(&probe->err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe: %s is NULL", !x ? "x" : "the output");
    if (!probe->trained)
        return simclr__fail(&probe->err, SIMCLR_ERR_STATE,
                            "probe: not trained (call simclr_probe_fit "
                            "first)");
    if (n == 0)
        return simclr__fail(&probe->err, SIMCLR_ERR_SHAPE, "probe: no rows");
    if (dim != probe->dim)
        return simclr__fail(&probe->err, SIMCLR_ERR_SHAPE,
                            "probe: features of dimension %zu, but the "
                            "probe was trained on dimension %zu",
                            dim, probe->dim);
    if (!simclr__mul_size(n, dim, &(size_t){0}))
        return simclr__fail(&probe->err, SIMCLR_ERR_LIMIT,
                            "probe: %zu rows of dimension %zu overflow the "
                            "address space",
                            n, dim);
    return simclr__eval_check_finite(&probe->err, "probe features", x, n, dim);
}

simclr_status simclr_probe_predict(simclr_probe *probe, const float *x,
                                   size_t n, size_t dim, int32_t *predictions)
{
    size_t classes, kp, row_len, len;
    double *buf;
    simclr_status st;

    if (!probe)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe: probe is NULL");
    st = check_use(probe, x, n, dim, predictions);
    if (st != SIMCLR_OK)
        return st;
    classes = probe->classes;
    kp = probe->kp;
    row_len = dim + kp;
    if (!simclr__mul_size(row_len, GROUPS, &len))
        return simclr__fail(&probe->err, SIMCLR_ERR_LIMIT,
                            "probe: scratch overflows the address space");
    buf = simclr__malloc_array(len, sizeof(double));
    if (!buf)
        return simclr__fail(&probe->err, SIMCLR_ERR_NOMEM,
                            "probe: out of memory for %zu doubles", len);

        /* the label of the largest logit; a tie goes to the smaller label */
#pragma omp parallel for num_threads(simclr__num_threads())
    for (size_t g = 0; g < GROUPS; g++) {
        double *z = buf + g * row_len, *logits = z + dim;

        for (size_t r = n * g / GROUPS; r < n * (g + 1) / GROUPS; r++) {
            size_t best = 0;

            standardise_row(x + r * dim, probe->mean, probe->scale, dim, z);
            logits_of(probe->theta, z, dim, kp, logits);
            for (size_t c = 1; c < classes; c++) {
                if (logits[c] > logits[best])
                    best = c;
            }
            predictions[r] = (int32_t)best;
        }
    }

    simclr__free(buf);
    return SIMCLR_OK;
}

simclr_status simclr_probe_accuracy(simclr_probe *probe, const float *x,
                                    const int32_t *labels, size_t n, size_t dim,
                                    double *accuracy)
{
    int32_t *pred;
    size_t right = 0;
    simclr_status st;

    if (!probe)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe: probe is NULL");
    if (!labels || !accuracy)
        return simclr__fail(&probe->err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe: %s is NULL",
                            !labels ? "labels" : "accuracy");
    st = check_use(probe, x, n, dim, accuracy);
    if (st == SIMCLR_OK)
        st = simclr__eval_check_labels(&probe->err, "probe labels", labels, n,
                                       probe->classes);
    if (st != SIMCLR_OK)
        return st;
    pred = simclr__malloc_array(n, sizeof(int32_t));
    if (!pred)
        return simclr__fail(&probe->err, SIMCLR_ERR_NOMEM,
                            "probe: out of memory for %zu predictions", n);

    st = simclr_probe_predict(probe, x, n, dim, pred);
    if (st == SIMCLR_OK) {
        for (size_t i = 0; i < n; i++)
            right += pred[i] == labels[i];
        *accuracy = (double)right / (double)n;
    }
    simclr__free(pred);
    return st;
}

simclr_status simclr_probe_weights(simclr_probe *probe, float *weights,
                                   float *bias)
{
    size_t dim, classes, kp;

    if (!probe)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe: probe is NULL");
    if (!probe->trained)
        return simclr__fail(&probe->err, SIMCLR_ERR_STATE,
                            "probe: not trained (call simclr_probe_fit "
                            "first)");
    dim = probe->dim;
    classes = probe->classes;
    kp = probe->kp;

    /* W z + b with z = (x - mean) * scale is (W scale) x + (b - W scale
     * mean) */
    for (size_t c = 0; c < classes; c++) {
        double b = probe->theta[dim * kp + c];

        for (size_t j = 0; j < dim; j++) {
            double w = probe->theta[j * kp + c] * probe->scale[j];

            if (weights)
                weights[c * dim + j] = (float)w;
            b -= w * probe->mean[j];
        }
        if (bias)
            bias[c] = (float)b;
    }
    return SIMCLR_OK;
}

simclr_status simclr_probe_fit_info(const simclr_probe *probe,
                                    size_t *iterations, double *objective,
                                    double *grad_max)
{
    if (!probe)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "probe: probe is NULL");
    if (!probe->trained)
        return simclr__fail(NULL, SIMCLR_ERR_STATE,
                            "probe: not trained (call simclr_probe_fit "
                            "first)");
    if (iterations)
        *iterations = probe->iterations;
    if (objective)
        *objective = probe->objective;
    if (grad_max)
        *grad_max = probe->grad_max;
    return SIMCLR_OK;
}
