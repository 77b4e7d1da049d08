/*
 * The projection head g: its layers and parameter table, the plans that
 * run it on oneDNN for one batch size, and the public calls.
 *
 * A head is a list of up to three layers. Each layer is a dense layer
 * (with a bias in v1), then in v2 a batch norm, then a ReLU for every
 * layer but the last. In v1 the ReLU is its own primitive; in v2 it is
 * fused into the batch norm. The last batch norm of v2 has no shift: it
 * runs with a shift of zeros whose gradient is thrown away.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "common/param.h"
#include "common/rng.h"
#include "nn/nn.h"
#include "simclr/projector.h"

#define BN_EPS      1e-5f
#define BN_MOMENTUM 0.1f
#define MAX_DIM     65536u
#define MAX_LAYERS  3
#define MAX_PARAMS  17
/* The view number of the random streams of the initial weights: one
 * stream (seed, 0, tensor index, INIT_VIEW) per tensor. */
#define INIT_VIEW 0x48454144u
#define NONE      ((size_t)-1)

/* One named tensor, stored in PyTorch's layout. */
/* One layer: dense, optional batch norm, optional ReLU. Parameter
 * indices are NONE for what the layer does not have. */
typedef struct head_layer {
    int64_t in, out;
    bool relu;
    size_t weight, bias;                  /* dense */
    size_t gamma, beta, mean, var, count; /* batch norm */
} head_layer;

/* The compute of one layer for one batch size, and its activations. */
typedef struct layer_run {
    simclr__nn_dense *dense;
    simclr__nn_bnorm *bn;
    simclr__nn_relu *relu;
    float *y;          /* dense output (n, out) */
    float *a;          /* layer output (n, out); y itself when neither BN
                          nor ReLU follows */
    float *dy, *da;    /* their gradients (training) */
    float *mean, *var; /* batch statistics (out) */
} layer_run;

typedef struct head_plan {
    size_t n;
    bool training;
    simclr__nn_ctx *ctx;
    float *src;   /* (n, D) copy of the input, for the backward */
    float *zeros; /* (d) the shift of a batch norm without one */
    float *dsink; /* (d) its gradient, discarded */
    layer_run runs[MAX_LAYERS];
} head_plan;

struct simclr_projector {
    simclr_projector_config cfg;
    simclr__error err;
    simclr__param params[MAX_PARAMS];
    size_t nparams;
    head_layer layers[MAX_LAYERS];
    size_t nlayers;
    head_plan *train, *infer;
    bool train_ready; /* a training forward succeeded on train */
};

/* ---- config ------------------------------------------------------------- */

simclr_status simclr_projector_config_init(simclr_projector_config *cfg)
{
    if (!cfg)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "projector config is NULL");
    memset(cfg, 0, sizeof(*cfg));
    cfg->size = sizeof(*cfg);
    cfg->kind = SIMCLR_PROJECTOR_V1;
    cfg->in_dim = 2048;
    cfg->hidden_dim = 0;
    cfg->out_dim = 128;
    return SIMCLR_OK;
}

static simclr_status check_dim(const char *what, uint32_t v, bool zero_ok)
{
    if ((v == 0 && !zero_ok) || v > MAX_DIM)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "projector %s %u is not between 1 and %u", what, v,
                            MAX_DIM);
    return SIMCLR_OK;
}

static simclr_status check_config(const simclr_projector_config *cfg)
{
    simclr_status st;

    if (cfg->size != sizeof(*cfg))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "projector config size %zu is not %zu: fill it "
                            "with simclr_projector_config_init()",
                            cfg->size, sizeof(*cfg));
    if (cfg->kind != SIMCLR_PROJECTOR_V1 && cfg->kind != SIMCLR_PROJECTOR_V2)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "projector kind %d is neither v1 nor v2",
                            (int)cfg->kind);
    if ((st = check_dim("in_dim", cfg->in_dim, false)) != SIMCLR_OK ||
        (st = check_dim("hidden_dim", cfg->hidden_dim, true)) != SIMCLR_OK ||
        (st = check_dim("out_dim", cfg->out_dim, false)) != SIMCLR_OK)
        return st;
    return SIMCLR_OK;
}

/* ---- the parameter table ------------------------------------------------ */

/* Add tensor "head.<module>.<suffix>" of @p ndim dims (0: the int64
 * scalar num_batches_tracked); returns its index. */
static simclr_status add_param(simclr_projector *proj, int module,
                               const char *suffix, simclr_param_kind kind,
                               uint32_t ndim, uint64_t d0, uint64_t d1,
                               size_t *index)
{
    simclr__param *p = &proj->params[proj->nparams];
    size_t bytes;

    assert(proj->nparams < MAX_PARAMS);
    *index = proj->nparams++;
    snprintf(p->name, sizeof(p->name), "head.%d.%s", module, suffix);
    p->kind = kind;
    p->ndim = ndim;
    p->shape[0] = d0;
    p->shape[1] = d1;
    p->numel = ndim == 0 ? 1 : ndim == 1 ? (size_t)d0 : (size_t)(d0 * d1);
    if (ndim == 0) {
        p->dtype = SIMCLR_PARAM_I64;
        p->value_i64 = simclr__calloc(1, sizeof(int64_t));
        return p->value_i64 ? SIMCLR_OK : SIMCLR_ERR_NOMEM;
    }
    p->dtype = SIMCLR_PARAM_F32;
    bytes = p->numel * sizeof(float); /* at most 2^32 floats: no overflow */
    p->value = simclr__aligned_malloc(bytes, 64);
    if (!p->value)
        return SIMCLR_ERR_NOMEM;
    if (kind != SIMCLR_PARAM_BUFFER) {
        p->grad = simclr__aligned_malloc(bytes, 64);
        if (!p->grad)
            return SIMCLR_ERR_NOMEM;
        memset(p->grad, 0, bytes);
    }
    return SIMCLR_OK;
}

/* PyTorch's nn.Linear: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias. */
static void init_uniform(simclr_projector *proj, size_t index, int64_t in)
{
    simclr__param *p = &proj->params[index];
    double bound = 1.0 / sqrt((double)in);
    simclr__rng rng;
    size_t i;

    simclr__rng_init(&rng, proj->cfg.seed, 0, index, INIT_VIEW);
    for (i = 0; i < p->numel; i++)
        p->value[i] = (float)simclr__rng_range(&rng, -bound, bound);
}

static void fill(simclr__param *p, float v)
{
    size_t i;

    for (i = 0; i < p->numel; i++)
        p->value[i] = v;
}

/*
 * Add layer @p i: the dense layer as module @p module, in v2 its batch
 * norm as module + 1 (with a shift unless @p last).
 */
static simclr_status add_layer(simclr_projector *proj, size_t i, int module,
                               int64_t in, int64_t out, bool last)
{
    head_layer *l = &proj->layers[i];
    bool v2 = proj->cfg.kind == SIMCLR_PROJECTOR_V2;
    uint64_t o = (uint64_t)out;
    simclr_status st;

    l->in = in;
    l->out = out;
    l->relu = !last;
    l->bias = l->gamma = l->beta = l->mean = l->var = l->count = NONE;
    st = add_param(proj, module, "weight", SIMCLR_PARAM_WEIGHT, 2, o,
                   (uint64_t)in, &l->weight);
    if (st == SIMCLR_OK && !v2)
        st = add_param(proj, module, "bias", SIMCLR_PARAM_NORM, 1, o, 0,
                       &l->bias);
    if (st == SIMCLR_OK && v2)
        st = add_param(proj, module + 1, "weight", SIMCLR_PARAM_NORM, 1, o, 0,
                       &l->gamma);
    if (st == SIMCLR_OK && v2 && !last)
        st = add_param(proj, module + 1, "bias", SIMCLR_PARAM_NORM, 1, o, 0,
                       &l->beta);
    if (st == SIMCLR_OK && v2)
        st = add_param(proj, module + 1, "running_mean", SIMCLR_PARAM_BUFFER, 1,
                       o, 0, &l->mean);
    if (st == SIMCLR_OK && v2)
        st = add_param(proj, module + 1, "running_var", SIMCLR_PARAM_BUFFER, 1,
                       o, 0, &l->var);
    if (st == SIMCLR_OK && v2)
        st = add_param(proj, module + 1, "num_batches_tracked",
                       SIMCLR_PARAM_BUFFER, 0, 0, 0, &l->count);
    if (st != SIMCLR_OK)
        return simclr__fail(NULL, st, "out of memory for projector layer %d",
                            module);

    /* PyTorch's initial values */
    init_uniform(proj, l->weight, in);
    if (l->bias != NONE)
        init_uniform(proj, l->bias, in);
    if (v2) {
        fill(&proj->params[l->gamma], 1.f);
        if (l->beta != NONE)
            fill(&proj->params[l->beta], 0.f);
        fill(&proj->params[l->mean], 0.f);
        fill(&proj->params[l->var], 1.f);
    }
    return SIMCLR_OK;
}

/* ---- plans -------------------------------------------------------------- */

static void plan_destroy(head_plan *plan)
{
    size_t i;

    if (!plan)
        return;
    for (i = 0; i < MAX_LAYERS; i++) {
        layer_run *r = &plan->runs[i];

        simclr__nn_dense_destroy(r->dense);
        simclr__nn_bnorm_destroy(r->bn);
        simclr__nn_relu_destroy(r->relu);
        if (r->a != r->y)
            simclr__free(r->a);
        if (r->da != r->dy)
            simclr__free(r->da);
        simclr__free(r->y);
        simclr__free(r->dy);
        simclr__free(r->mean);
        simclr__free(r->var);
    }
    simclr__free(plan->src);
    simclr__free(plan->zeros);
    simclr__free(plan->dsink);
    simclr__nn_ctx_destroy(plan->ctx);
    simclr__free(plan);
}

/* The primitives and buffers of layer @p i for the plan's batch size. */
static simclr_status layer_run_init(simclr_projector *proj, head_plan *plan,
                                    size_t i, simclr__error *err)
{
    const head_layer *l = &proj->layers[i];
    layer_run *r = &plan->runs[i];
    bool bn = l->gamma != NONE, train = plan->training;
    simclr__nn_dense_desc desc = {(int64_t)plan->n, l->in, l->out,
                                  l->bias != NONE,  train, train};
    size_t rows = plan->n;
    simclr_status st;

    st = simclr__nn_dense_create(plan->ctx, &desc, err, &r->dense);
    if (st == SIMCLR_OK && bn)
        st = simclr__nn_bnorm_rows_create(plan->ctx, desc.n, l->out, BN_EPS,
                                          train, l->relu, err, &r->bn);
    if (st == SIMCLR_OK && !bn && l->relu)
        st = simclr__nn_relu_rows_create(plan->ctx, desc.n, l->out, train, err,
                                         &r->relu);
    if (st != SIMCLR_OK)
        return st;

    /* (n, out) activations: rows * out fits, as n * 65536 was checked
     * and no width is larger */
    r->y = simclr__malloc_array(rows * (size_t)l->out, sizeof(float));
    r->a = bn || l->relu
               ? simclr__malloc_array(rows * (size_t)l->out, sizeof(float))
               : r->y;
    if (train) {
        r->dy = simclr__malloc_array(rows * (size_t)l->out, sizeof(float));
        r->da = bn || l->relu
                    ? simclr__malloc_array(rows * (size_t)l->out, sizeof(float))
                    : r->dy;
    }
    if (bn) {
        r->mean = simclr__malloc_array((size_t)l->out, sizeof(float));
        r->var = simclr__malloc_array((size_t)l->out, sizeof(float));
    }
    if (!r->y || !r->a || (train && (!r->dy || !r->da)) ||
        (bn && (!r->mean || !r->var)))
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "out of memory for the activations of a batch "
                            "of %zu in the projector",
                            plan->n);
    return SIMCLR_OK;
}

static simclr_status plan_create(simclr_projector *proj, size_t n,
                                 bool training, head_plan **out)
{
    size_t d = proj->cfg.out_dim, in_count, i;
    simclr__error *err = &proj->err;
    simclr_status st;
    head_plan *plan;

    *out = NULL;
    if (!simclr__mul_size(n, (size_t)MAX_DIM, &in_count) ||
        n > (uint64_t)INT64_MAX)
        return simclr__fail(err, SIMCLR_ERR_LIMIT,
                            "a batch of %zu rows is too large", n);
    plan = simclr__calloc(1, sizeof(*plan));
    if (!plan)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "out of memory for a projector plan");
    plan->n = n;
    plan->training = training;
    st = simclr__nn_ctx_create(err, &plan->ctx);
    for (i = 0; st == SIMCLR_OK && i < proj->nlayers; i++)
        st = layer_run_init(proj, plan, i, err);
    if (st != SIMCLR_OK)
        goto fail;
    plan->zeros = simclr__calloc(d, sizeof(float));
    plan->dsink = simclr__calloc(d, sizeof(float));
    if (training)
        plan->src = simclr__malloc_array(n * proj->cfg.in_dim, sizeof(float));
    if (!plan->zeros || !plan->dsink || (training && !plan->src)) {
        st = simclr__fail(err, SIMCLR_ERR_NOMEM,
                          "out of memory for a projector plan");
        goto fail;
    }
    *out = plan;
    return SIMCLR_OK;

fail:
    plan_destroy(plan);
    return st;
}

/* The batch norm shift of layer @p l: beta, or zeros for the last v2
 * layer; and where its gradient goes. */
static float *shift_of(const simclr_projector *proj, const head_plan *plan,
                       const head_layer *l, bool grad)
{
    if (l->beta == NONE)
        return grad ? plan->dsink : plan->zeros;
    return grad ? proj->params[l->beta].grad : proj->params[l->beta].value;
}

#define TRY(call)                                                              \
    do {                                                                       \
        if ((st = (call)) != SIMCLR_OK)                                        \
            return st;                                                         \
    } while (0)

/* src (n, D) -> z (n, d) through every layer; the result is in the last
 * layer's a. */
static simclr_status plan_forward(simclr_projector *proj, head_plan *plan,
                                  const float *src)
{
    const simclr__param *p = proj->params;
    simclr__error *err = &proj->err;
    simclr_status st;
    size_t i;

    for (i = 0; i < proj->nlayers; i++) {
        const head_layer *l = &proj->layers[i];
        layer_run *r = &plan->runs[i];
        const float *x = i == 0 ? src : plan->runs[i - 1].a;
        const float *bias = l->bias != NONE ? p[l->bias].value : NULL;

        /* y (n, out) = x (n, in) W^T (+ b) */
        TRY(simclr__nn_dense_forward(r->dense, x, p[l->weight].value, bias,
                                     r->y, err));
        /* a = [ReLU](BN(y)) or ReLU(y) */
        if (r->bn && plan->training)
            TRY(simclr__nn_bnorm_forward_train(r->bn, r->y, p[l->gamma].value,
                                               shift_of(proj, plan, l, false),
                                               r->a, r->mean, r->var, err));
        else if (r->bn)
            TRY(simclr__nn_bnorm_forward_infer(
                r->bn, r->y, p[l->gamma].value, shift_of(proj, plan, l, false),
                p[l->mean].value, p[l->var].value, r->a, err));
        else if (r->relu)
            TRY(simclr__nn_relu_forward(r->relu, r->y, r->a, err));
    }
    return SIMCLR_OK;
}

/* Fold the batch statistics into the running ones, as PyTorch does. */
static void plan_update_running(simclr_projector *proj, head_plan *plan)
{
    float unbias;
    size_t i;
    int64_t c;

    if (plan->n < 2)
        return; /* no batch norm: the v2 head refuses a batch of 1 */
    unbias = (float)plan->n / (float)(plan->n - 1);

    for (i = 0; i < proj->nlayers; i++) {
        const head_layer *l = &proj->layers[i];
        const layer_run *r = &plan->runs[i];
        float *rm, *rv;

        if (l->gamma == NONE)
            continue;
        rm = proj->params[l->mean].value;
        rv = proj->params[l->var].value;
        for (c = 0; c < l->out; c++) {
            rm[c] = (1.f - BN_MOMENTUM) * rm[c] + BN_MOMENTUM * r->mean[c];
            rv[c] =
                (1.f - BN_MOMENTUM) * rv[c] + BN_MOMENTUM * r->var[c] * unbias;
        }
        proj->params[l->count].value_i64[0] += 1;
    }
}

/* From dL/dz (n, d) back to every parameter gradient and dL/dsrc. */
static simclr_status plan_backward(simclr_projector *proj, head_plan *plan,
                                   const float *diff_dst, float *diff_src)
{
    const simclr__param *p = proj->params;
    simclr__error *err = &proj->err;
    size_t i = proj->nlayers, count;
    simclr_status st;

    count = plan->n * (size_t)proj->layers[i - 1].out;
    memcpy(plan->runs[i - 1].da, diff_dst, count * sizeof(float));
    while (i-- > 0) {
        const head_layer *l = &proj->layers[i];
        layer_run *r = &plan->runs[i];
        const float *x = i == 0 ? plan->src : plan->runs[i - 1].a;
        float *dx = i == 0 ? diff_src : plan->runs[i - 1].da;
        float *dbias = l->bias != NONE ? p[l->bias].grad : NULL;

        /* da -> dy through the batch norm (and its fused ReLU) or ReLU */
        if (r->bn)
            TRY(simclr__nn_bnorm_backward(
                r->bn, r->y, p[l->gamma].value, shift_of(proj, plan, l, false),
                r->mean, r->var, r->da, r->dy, p[l->gamma].grad,
                shift_of(proj, plan, l, true), err));
        else if (r->relu)
            TRY(simclr__nn_relu_backward(r->relu, r->y, r->da, r->dy, err));
        /* dy -> dW, db and dx */
        TRY(simclr__nn_dense_backward(r->dense, x, p[l->weight].value, r->dy,
                                      dx, p[l->weight].grad, dbias, err));
    }
    return SIMCLR_OK;
}

/* ---- lifetime ------------------------------------------------------------ */

simclr_status simclr_projector_create(const simclr_projector_config *cfg,
                                      simclr_projector **out)
{
    simclr_projector *proj;
    simclr_status st;
    int64_t d, h, o;

    if (out)
        *out = NULL;
    if (!cfg || !out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "projector config or output is NULL");
    if ((st = check_config(cfg)) != SIMCLR_OK)
        return st;
    proj = simclr__calloc(1, sizeof(*proj));
    if (!proj)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "out of memory for a projector");
    proj->cfg = *cfg;
    if (proj->cfg.hidden_dim == 0)
        proj->cfg.hidden_dim = cfg->in_dim;
    d = cfg->in_dim;
    h = proj->cfg.hidden_dim;
    o = cfg->out_dim;

    /* nn.Sequential numbering: v1 Linear 0, ReLU 1, Linear 2; v2 Linear 0,
     * BN 1, ReLU 2, Linear 3, BN 4, ReLU 5, Linear 6, BN 7 */
    if (cfg->kind == SIMCLR_PROJECTOR_V1) {
        proj->nlayers = 2;
        st = add_layer(proj, 0, 0, d, h, false);
        if (st == SIMCLR_OK)
            st = add_layer(proj, 1, 2, h, o, true);
    } else {
        proj->nlayers = 3;
        st = add_layer(proj, 0, 0, d, h, false);
        if (st == SIMCLR_OK)
            st = add_layer(proj, 1, 3, h, h, false);
        if (st == SIMCLR_OK)
            st = add_layer(proj, 2, 6, h, o, true);
    }
    if (st != SIMCLR_OK) {
        simclr_projector_destroy(proj);
        return st;
    }
    *out = proj;
    return SIMCLR_OK;
}

void simclr_projector_destroy(simclr_projector *proj)
{
    size_t i;

    if (!proj)
        return;
    plan_destroy(proj->train);
    plan_destroy(proj->infer);
    for (i = 0; i < proj->nparams; i++) {
        simclr__aligned_free(proj->params[i].value);
        simclr__aligned_free(proj->params[i].grad);
        simclr__free(proj->params[i].value_i64);
    }
    simclr__free(proj);
}

const char *simclr_projector_error(const simclr_projector *proj)
{
    return proj ? simclr__error_text(&proj->err) : "";
}

simclr_status simclr_projector_config_get(const simclr_projector *proj,
                                          simclr_projector_config *cfg)
{
    if (!proj || !cfg)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "projector or config is NULL");
    *cfg = proj->cfg;
    return SIMCLR_OK;
}

/* ---- parameters ---------------------------------------------------------- */

size_t simclr_projector_param_count(const simclr_projector *proj)
{
    return proj ? proj->nparams : 0;
}

simclr_status simclr_projector_param(const simclr_projector *proj, size_t i,
                                     simclr_param_info *out)
{
    if (!proj || !out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "projector or parameter info is NULL");
    return simclr__param_describe(proj->params, proj->nparams, i, "projector",
                                  out);
}

simclr_status simclr_projector_param_find(const simclr_projector *proj,
                                          const char *name,
                                          simclr_param_info *out)
{
    size_t i;

    if (!proj || !name || !out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "projector, name or parameter info is NULL");
    i = simclr__param_index(proj->params, proj->nparams, name);
    if (i == proj->nparams)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "the %s projector has no tensor %s",
                            proj->cfg.kind == SIMCLR_PROJECTOR_V1 ? "v1"
                                                                  : "v2",
                            name);
    return simclr__param_describe(proj->params, proj->nparams, i, "projector",
                                  out);
}

/* ---- compute ------------------------------------------------------------- */

/* Check the arguments of a forward call; @p count gets n * D. */
static simclr_status check_forward(simclr_projector *proj, const float *src,
                                   size_t n, uint32_t dim, const float *dst,
                                   const char *call, size_t *count)
{
    if (!proj || !src || !dst)
        return simclr__fail(
            proj ? &proj->err : NULL, SIMCLR_ERR_INVALID_ARGUMENT,
            "projector %s: projector, src or dst is NULL", call);
    if (n == 0)
        return simclr__fail(&proj->err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "projector %s: batch size is 0", call);
    if (dim != proj->cfg.in_dim)
        return simclr__fail(&proj->err, SIMCLR_ERR_SHAPE,
                            "projector %s: input has width %u, the head "
                            "takes %u",
                            call, dim, proj->cfg.in_dim);
    if (!simclr__mul_size(n, (size_t)MAX_DIM, count) || n > (uint64_t)INT64_MAX)
        return simclr__fail(&proj->err, SIMCLR_ERR_LIMIT,
                            "projector %s: a batch of %zu rows is too large",
                            call, n);
    *count = n * dim;
    return simclr__check_finite(&proj->err, src, *count, "projector input");
}

/* The plan in @p slot for batch @p n, made anew if it is for another. */
static simclr_status plan_for(simclr_projector *proj, head_plan **slot,
                              size_t n, bool training)
{
    if (*slot && (*slot)->n == n)
        return SIMCLR_OK;
    plan_destroy(*slot);
    *slot = NULL;
    return plan_create(proj, n, training, slot);
}

simclr_status simclr_projector_forward_train(simclr_projector *proj,
                                             const float *src, size_t n,
                                             uint32_t dim, float *dst)
{
    simclr_status st;
    size_t count;

    st = check_forward(proj, src, n, dim, dst, "training forward", &count);
    if (st != SIMCLR_OK)
        return st;
    if (n < 2 && proj->cfg.kind == SIMCLR_PROJECTOR_V2)
        return simclr__fail(&proj->err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "projector training forward: batch norm head.1 "
                            "would see one value per channel (batch of 1); "
                            "use a larger batch");

    proj->train_ready = false;
    if ((st = plan_for(proj, &proj->train, n, true)) != SIMCLR_OK)
        return st;
    memcpy(proj->train->src, src, count * sizeof(float));
    simclr__nn_threads_begin();
    st = plan_forward(proj, proj->train, proj->train->src);
    if (st != SIMCLR_OK)
        return st;
    plan_update_running(proj, proj->train);
    memcpy(dst, proj->train->runs[proj->nlayers - 1].a,
           n * proj->cfg.out_dim * sizeof(float));
    proj->train_ready = true;
    return SIMCLR_OK;
}

simclr_status simclr_projector_backward(simclr_projector *proj,
                                        const float *diff_dst, float *diff_src)
{
    simclr_status st;

    if (!proj || !diff_dst)
        return simclr__fail(proj ? &proj->err : NULL,
                            SIMCLR_ERR_INVALID_ARGUMENT,
                            "projector backward: projector or diff_dst is "
                            "NULL");
    if (!proj->train_ready)
        return simclr__fail(&proj->err, SIMCLR_ERR_STATE,
                            "projector backward: no training forward to go "
                            "back through");
    st = simclr__check_finite(&proj->err, diff_dst, proj->train->n * proj->cfg.out_dim,
                      "projector gradient dL/dz");
    if (st != SIMCLR_OK)
        return st;
    simclr__nn_threads_begin();
    return plan_backward(proj, proj->train, diff_dst, diff_src);
}

simclr_status simclr_projector_forward_infer(simclr_projector *proj,
                                             const float *src, size_t n,
                                             uint32_t dim, float *dst)
{
    simclr_status st;
    size_t count;

    st = check_forward(proj, src, n, dim, dst, "inference", &count);
    if (st != SIMCLR_OK)
        return st;
    if ((st = plan_for(proj, &proj->infer, n, false)) != SIMCLR_OK)
        return st;
    simclr__nn_threads_begin();
    st = plan_forward(proj, proj->infer, src);
    if (st != SIMCLR_OK)
        return st;
    memcpy(dst, proj->infer->runs[proj->nlayers - 1].a,
           n * proj->cfg.out_dim * sizeof(float));
    return SIMCLR_OK;
}
