/*
 * NT-Xent: normalise the rows, similarities over temperature, log-sum-exp
 * per anchor, and the exact gradient back through the normalisation.
 *
 * All arithmetic after reading the float32 input is in double: the
 * similarities reach 1 / tau = 100 at tau = 0.01, and float32 would leave
 * a relative error near 1e-5 in the value.
 */
#include <math.h>
#include <string.h>

#include "simclr/loss.h"
#include "common/common.h"
#include "common/threads_internal.h"
#include "loss_internal.h"

/* torch.nn.functional.normalize's default: rows are divided by
 * max(||z||, NORM_EPS). */
#define NORM_EPS 1e-12

struct simclr_loss {
    double tau;
    double *scratch; /* u, gu, norms and the G block, reused by calls */
    size_t scratch_len;
    simclr__error err;
};

/* ---- config and lifetime --------------------------------------------- */

simclr_status simclr_loss_config_init(simclr_loss_config *cfg)
{
    if (!cfg)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loss config: cfg is NULL");
    memset(cfg, 0, sizeof(*cfg));
    cfg->size = sizeof(*cfg);
    cfg->temperature = 0.5;
    return SIMCLR_OK;
}

simclr_status simclr_loss_create(const simclr_loss_config *cfg,
                                 simclr_loss **out)
{
    simclr_loss_config defaults;
    simclr_loss *loss;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loss: out is NULL");
    *out = NULL;
    if (!cfg) {
        simclr_loss_config_init(&defaults);
        cfg = &defaults;
    }
    if (cfg->size != sizeof(*cfg))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loss config: size %zu is not %zu (use "
                            "simclr_loss_config_init)",
                            cfg->size, sizeof(*cfg));
    if (!(cfg->temperature > 0.0 && isfinite(cfg->temperature)))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loss config: temperature %g is not positive "
                            "and finite",
                            cfg->temperature);

    loss = simclr__calloc(1, sizeof(*loss));
    if (!loss)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM, "loss: out of memory");
    loss->tau = cfg->temperature;
    *out = loss;
    return SIMCLR_OK;
}

void simclr_loss_destroy(simclr_loss *loss)
{
    if (!loss)
        return;
    simclr__free(loss->scratch);
    simclr__free(loss);
}

double simclr_loss_temperature(const simclr_loss *loss)
{
    return loss ? loss->tau : 0.0;
}

const char *simclr_loss_error(const simclr_loss *loss)
{
    return simclr__error_text(loss ? &loss->err : NULL);
}

/* ---- checks ------------------------------------------------------------ */

static simclr_status check_shape(simclr_loss *loss, size_t rows_all, size_t dim,
                                 size_t offset, size_t count)
{
    if (rows_all % 2 != 0)
        return simclr__fail(&loss->err, SIMCLR_ERR_SHAPE,
                            "loss: z has %zu rows; it must have two views "
                            "per image, an even count",
                            rows_all);
    if (rows_all < 4)
        return simclr__fail(&loss->err, SIMCLR_ERR_SHAPE,
                            "loss: z has %zu rows; NT-Xent needs at least "
                            "2 images (4 rows) to have negatives",
                            rows_all);
    if (dim == 0)
        return simclr__fail(&loss->err, SIMCLR_ERR_SHAPE,
                            "loss: z has dimension 0");
    if (count == 0 || offset > rows_all || count > rows_all - offset)
        return simclr__fail(&loss->err, SIMCLR_ERR_SHAPE,
                            "loss: anchor block [%zu, %zu + %zu) is not "
                            "inside the %zu rows",
                            offset, offset, count, rows_all);
    return SIMCLR_OK;
}

static simclr_status check_finite(simclr_loss *loss, const float *z,
                                  size_t rows, size_t dim)
{
    for (size_t r = 0; r < rows; r++) {
        const float *row = z + r * dim;

        for (size_t k = 0; k < dim; k++) {
            if (!isfinite(row[k]))
                return simclr__fail(&loss->err, SIMCLR_ERR_NUMERIC,
                                    "loss: z row %zu has a non-finite value "
                                    "(%g at column %zu)",
                                    r, (double)row[k], k);
        }
    }
    return SIMCLR_OK;
}

/* Grows the scratch to hold u, gu, the norms, the G block and the
 * per-anchor losses and hits. */
static simclr_status reserve(simclr_loss *loss, size_t rows_all, size_t dim,
                             size_t count)
{
    size_t u_len, g_len, len;
    double *p;

    if (!simclr__mul_size(rows_all, dim, &u_len) ||
        !simclr__mul_size(count, rows_all, &g_len) ||
        !simclr__mul_size(u_len, 2, &len) ||
        !simclr__add_size(len, g_len, &len) ||
        !simclr__add_size(len, rows_all, &len) ||
        !simclr__add_size(len, 2 * count, &len))
        return simclr__fail(&loss->err, SIMCLR_ERR_LIMIT,
                            "loss: scratch for %zu rows of dimension %zu "
                            "overflows the address space",
                            rows_all, dim);
    if (len <= loss->scratch_len)
        return SIMCLR_OK;
    p = simclr__malloc_array(len, sizeof(double));
    if (!p)
        return simclr__fail(&loss->err, SIMCLR_ERR_NOMEM,
                            "loss: out of memory for %zu doubles of scratch",
                            len);
    simclr__free(loss->scratch);
    loss->scratch = p;
    loss->scratch_len = len;
    return SIMCLR_OK;
}

/* ---- the kernel --------------------------------------------------------- */

/* u (rows, dim) = z / max(||z||, eps); norm (rows) keeps the divisor. */
static void normalize_rows(const float *z, size_t rows, size_t dim, double *u,
                           double *norm)
{
#pragma omp parallel for num_threads(simclr__num_threads())
    for (size_t r = 0; r < rows; r++) {
        const float *src = z + r * dim;
        double *dst = u + r * dim;
        double sq = 0.0;

        for (size_t k = 0; k < dim; k++)
            sq += (double)src[k] * src[k];
        norm[r] = fmax(sqrt(sq), NORM_EPS);
        for (size_t k = 0; k < dim; k++)
            dst[k] = src[k] / norm[r];
    }
}

static double dot(const double *a, const double *b, size_t dim)
{
    double sum = 0.0;

    for (size_t k = 0; k < dim; k++)
        sum += a[k] * b[k];
    return sum;
}

/*
 * One anchor i: fills grow (rows) with dL_block/ds_ij = (softmax_j -
 * [j == pos]) / rows, 0 at j == i; returns loss_i and sets *hit.
 */
static double anchor(const double *u, size_t rows, size_t dim, double tau,
                     size_t i, double *grow, int *hit)
{
    size_t pos = i ^ 1u;
    const double *ui = u + i * dim;
    size_t jmax = pos;
    double smax, rest = 0.0, lse, s_pos;

    /* s_ij = <u_i, u_j> / tau, then the largest for log-sum-exp */
    for (size_t j = 0; j < rows; j++)
        grow[j] = j == i ? 0.0 : dot(ui, u + j * dim, dim) / tau;
    for (size_t j = 0; j < rows; j++) {
        if (j != i && grow[j] > grow[jmax])
            jmax = j;
    }
    smax = grow[jmax];
    s_pos = grow[pos];
    *hit = 1;
    for (size_t j = 0; j < rows; j++) {
        if (j != i && j != pos && grow[j] >= s_pos)
            *hit = 0;
    }

    /* log sum_{j != i} exp(s_ij), largest term factored out; log1p keeps
     * the loss accurate when the positive dominates and loss_i is tiny */
    for (size_t j = 0; j < rows; j++) {
        if (j != i && j != jmax)
            rest += exp(grow[j] - smax);
    }
    lse = smax + log1p(rest);

    /* dloss_i/ds_ij = softmax_j - [j == pos], scaled by the mean */
    for (size_t j = 0; j < rows; j++)
        grow[j] = j == i ? 0.0 : exp(grow[j] - lse) / (double)rows;
    grow[pos] -= 1.0 / (double)rows;
    return (smax - s_pos) + log1p(rest);
}

/*
 * gu_j = dL/du_j = (sum_a G[a][j] u_anchor(a) + sum_k G[j][k] u_k) / tau,
 * the second sum only when j is one of the block's anchors; then
 * dz_j = (gu_j - u_j <u_j, gu_j>) / ||z_j||, or gu_j / eps for a row
 * shorter than eps (the divisor is then constant).
 */
static void backward(const double *u, const double *norm, const double *g,
                     size_t rows, size_t dim, size_t offset, size_t count,
                     double tau, double *gu, float *dz)
{
#pragma omp parallel for num_threads(simclr__num_threads())
    for (size_t j = 0; j < rows; j++) {
        double *gj = gu + j * dim;
        const double *uj = u + j * dim;
        double proj;

        memset(gj, 0, dim * sizeof(double));
        /* pull of each anchor a on row j */
        for (size_t a = 0; a < count; a++) {
            double w = g[a * rows + j] / tau;
            const double *ua = u + (offset + a) * dim;

            for (size_t k = 0; k < dim; k++)
                gj[k] += w * ua[k];
        }
        /* row j as an anchor, pulled by every row */
        if (j >= offset && j - offset < count) {
            const double *grow = g + (j - offset) * rows;

            for (size_t r = 0; r < rows; r++) {
                double w = grow[r] / tau;
                const double *ur = u + r * dim;

                for (size_t k = 0; k < dim; k++)
                    gj[k] += w * ur[k];
            }
        }
        /* back through u = z / max(||z||, eps) */
        proj = norm[j] > NORM_EPS ? dot(uj, gj, dim) : 0.0;
        for (size_t k = 0; k < dim; k++)
            dz[j * dim + k] = (float)((gj[k] - uj[k] * proj) / norm[j]);
    }
}

simclr_status simclr__loss_block(simclr_loss *loss, const float *z_all,
                                 size_t rows_all, size_t dim, size_t offset,
                                 size_t count, double *loss_sum,
                                 size_t *correct, float *dz_all)
{
    double *u, *gu, *norm, *g, *anchor_loss, *anchor_hit;
    double sum = 0.0;
    size_t hits = 0;
    simclr_status st;

    if (!loss)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loss: loss is NULL");
    if (!z_all)
        return simclr__fail(&loss->err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loss: z is NULL");
    st = check_shape(loss, rows_all, dim, offset, count);
    if (st == SIMCLR_OK)
        st = check_finite(loss, z_all, rows_all, dim);
    if (st == SIMCLR_OK)
        st = reserve(loss, rows_all, dim, count);
    if (st != SIMCLR_OK)
        return st;

    u = loss->scratch;                  /* (rows_all, dim) */
    gu = u + rows_all * dim;            /* (rows_all, dim) */
    norm = gu + rows_all * dim;         /* (rows_all) */
    g = norm + rows_all;                /* (count, rows_all) */
    anchor_loss = g + count * rows_all; /* (count) */
    anchor_hit = anchor_loss + count;   /* (count) */

    normalize_rows(z_all, rows_all, dim, u, norm);

    /* each anchor: loss, hit, and its row of dL/ds */
#pragma omp parallel for num_threads(simclr__num_threads())
    for (size_t a = 0; a < count; a++) {
        int hit;

        anchor_loss[a] = anchor(u, rows_all, dim, loss->tau, offset + a,
                                g + a * rows_all, &hit);
        anchor_hit[a] = hit;
    }
    /* summed in anchor order, so the value is the same for any number
     * of threads and from run to run */
    for (size_t a = 0; a < count; a++) {
        sum += anchor_loss[a];
        hits += anchor_hit[a] != 0.0;
    }

    if (dz_all)
        backward(u, norm, g, rows_all, dim, offset, count, loss->tau, gu,
                 dz_all);
    if (loss_sum)
        *loss_sum = sum / (double)rows_all;
    if (correct)
        *correct = hits;
    return SIMCLR_OK;
}

simclr_status simclr_loss_forward_backward(simclr_loss *loss, const float *z,
                                           size_t rows, size_t dim,
                                           double *value, double *accuracy,
                                           float *dz)
{
    double sum;
    size_t hits;
    simclr_status st;

    st = simclr__loss_block(loss, z, rows, dim, 0, rows, &sum, &hits, dz);
    if (st != SIMCLR_OK)
        return st;
    if (value)
        *value = sum;
    if (accuracy)
        *accuracy = (double)hits / (double)rows;
    return SIMCLR_OK;
}
