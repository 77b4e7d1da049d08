/*
 * The optimizers: a list of caller-owned parameter buffers with their
 * state, a finiteness check over every gradient, then one update pass per
 * parameter (two for LARS, whose trust ratio needs the norms first).
 */
#include <math.h>
#include <string.h>

#include "simclr/optim.h"
#include "common/common.h"
#include "common/threads_internal.h"

/* Buffers shorter than this are updated on the calling thread only. */
#define PARALLEL_MIN 32768

typedef struct param {
    char *name;
    float *value;      /* (count), caller's */
    const float *grad; /* (count), caller's */
    size_t count;
    unsigned flags;
    float *state; /* (states, count): momentum, or Adam m then v */
} param;

struct simclr_optim {
    simclr_optim_config cfg;
    param *params;
    size_t n_params;
    size_t states; /* state buffers per parameter */
    uint64_t steps;
    simclr__error err;
};

/* ---- config and lifetime --------------------------------------------- */

simclr_status simclr_optim_config_init(simclr_optim_config *cfg,
                                       simclr_optim_kind kind)
{
    if (!cfg)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim config: cfg is NULL");
    if (kind != SIMCLR_OPTIM_SGD && kind != SIMCLR_OPTIM_LARS &&
        kind != SIMCLR_OPTIM_ADAMW)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim config: unknown kind %d", (int)kind);
    memset(cfg, 0, sizeof(*cfg));
    cfg->size = sizeof(*cfg);
    cfg->kind = kind;
    cfg->momentum = 0.9;
    cfg->weight_decay = kind == SIMCLR_OPTIM_LARS    ? 1e-6
                        : kind == SIMCLR_OPTIM_ADAMW ? 0.01
                                                     : 0.0;
    cfg->trust_coefficient = 0.001;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->eps = 1e-8;
    return SIMCLR_OK;
}

/* NULL when every field is in range, else the name of the first that is
 * not. */
static const char *bad_field(const simclr_optim_config *cfg)
{
    if (!(cfg->momentum >= 0.0 && cfg->momentum < 1.0))
        return "momentum (must be in [0, 1))";
    if (!(cfg->weight_decay >= 0.0 && isfinite(cfg->weight_decay)))
        return "weight_decay (must be finite and >= 0)";
    if (!(cfg->trust_coefficient > 0.0 && isfinite(cfg->trust_coefficient)))
        return "trust_coefficient (must be finite and > 0)";
    if (!(cfg->beta1 >= 0.0 && cfg->beta1 < 1.0))
        return "beta1 (must be in [0, 1))";
    if (!(cfg->beta2 >= 0.0 && cfg->beta2 < 1.0))
        return "beta2 (must be in [0, 1))";
    if (!(cfg->eps > 0.0 && isfinite(cfg->eps)))
        return "eps (must be finite and > 0)";
    return NULL;
}

simclr_status simclr_optim_create(const simclr_optim_config *cfg,
                                  simclr_optim **out)
{
    simclr_optim *opt;
    const char *bad;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim: out is NULL");
    *out = NULL;
    if (!cfg)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim: cfg is NULL");
    if (cfg->size != sizeof(*cfg))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim config: size %zu is not %zu (use "
                            "simclr_optim_config_init)",
                            cfg->size, sizeof(*cfg));
    if (cfg->kind != SIMCLR_OPTIM_SGD && cfg->kind != SIMCLR_OPTIM_LARS &&
        cfg->kind != SIMCLR_OPTIM_ADAMW)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim config: unknown kind %d", (int)cfg->kind);
    bad = bad_field(cfg);
    if (bad)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim config: bad %s", bad);

    opt = simclr__calloc(1, sizeof(*opt));
    if (!opt)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM, "optim: out of memory");
    opt->cfg = *cfg;
    opt->states = cfg->kind == SIMCLR_OPTIM_ADAMW ? 2 : 1;
    *out = opt;
    return SIMCLR_OK;
}

void simclr_optim_destroy(simclr_optim *opt)
{
    if (!opt)
        return;
    for (size_t i = 0; i < opt->n_params; i++) {
        simclr__free(opt->params[i].name);
        simclr__free(opt->params[i].state);
    }
    simclr__free(opt->params);
    simclr__free(opt);
}

const char *simclr_optim_error(const simclr_optim *opt)
{
    return simclr__error_text(opt ? &opt->err : NULL);
}

/* ---- parameters and state ---------------------------------------------- */

simclr_status simclr_optim_add_param(simclr_optim *opt, const char *name,
                                     float *value, const float *grad,
                                     size_t count, unsigned flags)
{
    param p = {0};
    param *grown;
    size_t state_len;

    if (!opt)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim: opt is NULL");
    if (!name || !value || !grad)
        return simclr__fail(&opt->err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim: parameter %s: %s is NULL",
                            name ? name : "(unnamed)",
                            !name    ? "name"
                            : !value ? "value"
                                     : "grad");
    if (count == 0 || (flags & ~SIMCLR_PARAM_NO_DECAY) != 0)
        return simclr__fail(&opt->err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim: parameter %s: %s", name,
                            count == 0 ? "no elements" : "unknown flags");
    if (!simclr__mul_size(count, opt->states, &state_len))
        return simclr__fail(&opt->err, SIMCLR_ERR_LIMIT,
                            "optim: parameter %s: %zu elements of state "
                            "overflow",
                            name, count);

    p.name = simclr__strdup(name);
    p.state = simclr__calloc(state_len, sizeof(float));
    grown =
        simclr__realloc_array(opt->params, opt->n_params + 1, sizeof(param));
    if (grown)
        opt->params = grown;
    if (!p.name || !p.state || !grown) {
        simclr__free(p.name);
        simclr__free(p.state);
        return simclr__fail(&opt->err, SIMCLR_ERR_NOMEM,
                            "optim: parameter %s: out of memory for %zu "
                            "elements of state",
                            name, state_len);
    }
    p.value = value;
    p.grad = grad;
    p.count = count;
    p.flags = flags;
    opt->params[opt->n_params++] = p;
    return SIMCLR_OK;
}

size_t simclr_optim_param_count(const simclr_optim *opt)
{
    return opt ? opt->n_params : 0;
}

size_t simclr_optim_state_count(const simclr_optim *opt)
{
    return opt ? opt->states : 0;
}

simclr_status simclr_optim_state(simclr_optim *opt, size_t index, size_t which,
                                 float **buf, size_t *count)
{
    if (!opt)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim: opt is NULL");
    if (!buf)
        return simclr__fail(&opt->err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim: buf is NULL");
    if (index >= opt->n_params || which >= opt->states)
        return simclr__fail(&opt->err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim: state %zu of parameter %zu does not "
                            "exist (%zu parameters, %zu states each)",
                            which, index, opt->n_params, opt->states);
    *buf = opt->params[index].state + which * opt->params[index].count;
    if (count)
        *count = opt->params[index].count;
    return SIMCLR_OK;
}

uint64_t simclr_optim_step_count(const simclr_optim *opt)
{
    return opt ? opt->steps : 0;
}

simclr_status simclr_optim_set_step_count(simclr_optim *opt, uint64_t steps)
{
    if (!opt)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim: opt is NULL");
    opt->steps = steps;
    return SIMCLR_OK;
}

/* ---- update rules -------------------------------------------------------- */

/* b = mu b + (g + wd w); w -= lr (nesterov ? g' + mu b : b) */
static void sgd_update(const param *p, double lr, double mu, double wd,
                       int nesterov)
{
    float *w = p->value, *b = p->state;
    const float *g = p->grad;

#pragma omp parallel for if (p->count >= PARALLEL_MIN)                         \
    num_threads(simclr__num_threads())
    for (size_t k = 0; k < p->count; k++) {
        double gk = g[k] + wd * w[k];
        double bk = mu * b[k] + gk;

        if (mu != 0.0) /* PyTorch keeps no buffer without momentum */
            b[k] = (float)bk;
        w[k] = (float)(w[k] - lr * (nesterov ? gk + mu * bk : bk));
    }
}

/* Trust ratio eta ||w|| / ||g + wd w||, or 1 when a norm is zero. The
 * sums run in a fixed order, so the ratio does not depend on threads. */
static double lars_ratio(const param *p, double wd, double eta)
{
    const float *w = p->value, *g = p->grad;
    double w_sq = 0.0, g_sq = 0.0;

    for (size_t k = 0; k < p->count; k++) {
        double gk = g[k] + wd * w[k];

        w_sq += (double)w[k] * w[k];
        g_sq += gk * gk;
    }
    if (w_sq > 0.0 && g_sq > 0.0)
        return eta * sqrt(w_sq) / sqrt(g_sq);
    return 1.0;
}

/* v = mu v + lr ratio g'; w -= (nesterov ? mu v + lr ratio g' : v) */
static void lars_update(const param *p, double scaled_lr, double mu, double wd,
                        int nesterov)
{
    float *w = p->value, *v = p->state;
    const float *g = p->grad;

#pragma omp parallel for if (p->count >= PARALLEL_MIN)                         \
    num_threads(simclr__num_threads())
    for (size_t k = 0; k < p->count; k++) {
        double gk = scaled_lr * (g[k] + wd * w[k]);
        double vk = mu * v[k] + gk;

        v[k] = (float)vk;
        w[k] = (float)(w[k] - (nesterov ? mu * vk + gk : vk));
    }
}

/* PyTorch's AdamW at step t (from 1). */
static void adamw_update(const param *p, const simclr_optim_config *cfg,
                         double lr, double wd, uint64_t t)
{
    float *w = p->value, *m = p->state, *v = p->state + p->count;
    const float *g = p->grad;
    double b1 = cfg->beta1, b2 = cfg->beta2;
    double step_size = lr / (1.0 - pow(b1, (double)t));
    double bc2_sqrt = sqrt(1.0 - pow(b2, (double)t));
    double decay = 1.0 - lr * wd;

#pragma omp parallel for if (p->count >= PARALLEL_MIN)                         \
    num_threads(simclr__num_threads())
    for (size_t k = 0; k < p->count; k++) {
        double wk = w[k] * decay;
        double mk = b1 * m[k] + (1.0 - b1) * g[k];
        double vk = b2 * v[k] + (1.0 - b2) * (double)g[k] * g[k];

        m[k] = (float)mk;
        v[k] = (float)vk;
        w[k] = (float)(wk - step_size * mk / (sqrt(vk) / bc2_sqrt + cfg->eps));
    }
}

/* ---- the step ------------------------------------------------------------ */

static simclr_status check_gradients(simclr_optim *opt)
{
    for (size_t i = 0; i < opt->n_params; i++) {
        const param *p = &opt->params[i];

        for (size_t k = 0; k < p->count; k++) {
            if (!isfinite(p->grad[k]))
                return simclr__fail(&opt->err, SIMCLR_ERR_NUMERIC,
                                    "optim: gradient of %s has %g at "
                                    "element %zu; no parameter was updated",
                                    p->name, (double)p->grad[k], k);
        }
    }
    return SIMCLR_OK;
}

simclr_status simclr_optim_step(simclr_optim *opt, double lr)
{
    const simclr_optim_config *cfg;
    simclr_status st;

    if (!opt)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim: opt is NULL");
    if (!(lr >= 0.0 && isfinite(lr)))
        return simclr__fail(&opt->err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "optim: learning rate %g is not finite and >= 0",
                            lr);
    if (opt->n_params == 0)
        return simclr__fail(&opt->err, SIMCLR_ERR_STATE,
                            "optim: no parameter is registered");
    st = check_gradients(opt);
    if (st != SIMCLR_OK)
        return st;

    cfg = &opt->cfg;
    for (size_t i = 0; i < opt->n_params; i++) {
        const param *p = &opt->params[i];
        int excluded = (p->flags & SIMCLR_PARAM_NO_DECAY) != 0;
        double wd = excluded ? 0.0 : cfg->weight_decay;

        switch (cfg->kind) {
        case SIMCLR_OPTIM_SGD:
            sgd_update(p, lr, cfg->momentum, wd, cfg->nesterov);
            break;
        case SIMCLR_OPTIM_LARS: {
            double ratio =
                excluded ? 1.0 : lars_ratio(p, wd, cfg->trust_coefficient);

            lars_update(p, lr * ratio, cfg->momentum, wd, cfg->nesterov);
            break;
        }
        case SIMCLR_OPTIM_ADAMW:
            adamw_update(p, cfg, lr, wd, opt->steps + 1);
            break;
        }
    }
    opt->steps++;
    return SIMCLR_OK;
}
