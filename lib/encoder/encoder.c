/*
 * The ResNet encoder: the layer list and parameter table of torchvision's
 * networks, their initialisation, and the public calls. The compute lives
 * in plan.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/rng.h"
#include "encoder_internal.h"

#define BN_EPS          1e-5f
#define MIN_WIDTH       (1.0 / 64.0)
#define MAX_WIDTH       16.0
#define MAX_IN_CHANNELS 64
#define MAX_INPUT_SIZE  4096
/* The view number of the random streams of the initial weights: one
 * stream (seed, 0, tensor index, INIT_VIEW) per tensor. */
#define INIT_VIEW 0x454e4330u

/* Residual blocks per stage, and whether they are bottlenecks. */
static const struct {
    const char *name;
    int blocks[4];
    bool bottleneck;
} archs[] = {
    [SIMCLR_RESNET18] = {"resnet18", {2, 2, 2, 2}, false},
    [SIMCLR_RESNET34] = {"resnet34", {3, 4, 6, 3}, false},
    [SIMCLR_RESNET50] = {"resnet50", {3, 4, 6, 3}, true},
    [SIMCLR_RESNET101] = {"resnet101", {3, 4, 23, 3}, true},
    [SIMCLR_RESNET152] = {"resnet152", {3, 8, 36, 3}, true},
};

const char *simclr__encoder_arch_name(simclr_arch arch)
{
    return (unsigned)arch < SIMCLR__ARRAY_SIZE(archs) ? archs[arch].name
                                                       : NULL;
}

/* Channels of a torchvision width @p base at width multiplier @p w. */
static int64_t scaled(int64_t base, double w)
{
    double c = round((double)base * w);

    return c < 1.0 ? 1 : (int64_t)c;
}

/* ---- config -------------------------------------------------------------- */

simclr_status simclr_encoder_config_init(simclr_encoder_config *cfg)
{
    static const float mean[3] = {0.485f, 0.456f, 0.406f};
    static const float std[3] = {0.229f, 0.224f, 0.225f};

    if (!cfg)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder config is NULL");
    memset(cfg, 0, sizeof(*cfg));
    cfg->size = sizeof(*cfg);
    cfg->arch = SIMCLR_RESNET50;
    cfg->width = 1.0;
    cfg->stem = SIMCLR_STEM_IMAGENET;
    cfg->in_channels = 3;
    cfg->input_size = 224;
    memcpy(cfg->mean, mean, sizeof(mean));
    memcpy(cfg->std, std, sizeof(std));
    return SIMCLR_OK;
}

static simclr_status check_config(const simclr_encoder_config *cfg)
{
    int i;

    if (cfg->size != sizeof(*cfg))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder config size %zu is not %zu: fill it "
                            "with simclr_encoder_config_init()",
                            cfg->size, sizeof(*cfg));
    if ((unsigned)cfg->arch >= SIMCLR__ARRAY_SIZE(archs))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder arch %d is not a known ResNet",
                            (int)cfg->arch);
    if (!(cfg->width >= MIN_WIDTH && cfg->width <= MAX_WIDTH))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder width %g is not between 1/64 and 16",
                            cfg->width);
    if (cfg->stem != SIMCLR_STEM_CIFAR && cfg->stem != SIMCLR_STEM_IMAGENET)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder stem %d is neither CIFAR nor ImageNet",
                            (int)cfg->stem);
    if (cfg->in_channels < 1 || cfg->in_channels > MAX_IN_CHANNELS)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder in_channels %u is not between 1 and %d",
                            cfg->in_channels, MAX_IN_CHANNELS);
    if (cfg->input_size < 1 || cfg->input_size > MAX_INPUT_SIZE)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder input_size %u is not between 1 and %d",
                            cfg->input_size, MAX_INPUT_SIZE);
    for (i = 0; i < 3; i++)
        if (!isfinite(cfg->mean[i]) || !(cfg->std[i] > 0.f) ||
            !isfinite(cfg->std[i]))
            return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                                "encoder mean[%d] or std[%d] is not a "
                                "finite value (std > 0)",
                                i, i);
    return SIMCLR_OK;
}

/* ---- the parameter table ----------------------------------------------- */

static simclr_status add_param(simclr_encoder *enc, const char *prefix,
                               const char *suffix, simclr_param_kind kind,
                               uint32_t ndim, const uint64_t *shape)
{
    simclr__param *p;
    simclr__param *grown;
    size_t numel = 1;
    uint32_t i;

    grown =
        simclr__realloc_array(enc->params, enc->nparams + 1, sizeof(*grown));
    if (!grown)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "out of memory for the parameter table");
    enc->params = grown;
    p = &enc->params[enc->nparams];
    memset(p, 0, sizeof(*p));
    enc->nparams++;

    snprintf(p->name, sizeof(p->name), "%s%s", prefix, suffix);
    p->kind = kind;
    p->ndim = ndim;
    for (i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        numel *= (size_t)shape[i]; /* at most 4096 x 4096 x 7 x 7 */
    }
    p->numel = numel;
    if (ndim == 0) {
        p->dtype = SIMCLR_PARAM_I64;
        p->value_i64 = simclr__calloc(1, sizeof(int64_t));
        if (!p->value_i64)
            goto nomem;
        return SIMCLR_OK;
    }
    p->dtype = SIMCLR_PARAM_F32;
    p->value = simclr__aligned_malloc(numel * sizeof(float), 64);
    if (!p->value)
        goto nomem;
    if (kind != SIMCLR_PARAM_BUFFER) {
        p->grad = simclr__aligned_malloc(numel * sizeof(float), 64);
        if (!p->grad)
            goto nomem;
        memset(p->grad, 0, numel * sizeof(float));
    }
    return SIMCLR_OK;

nomem:
    return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                        "out of memory for parameter %s", p->name);
}

/* Kaiming normal, fan-out, ReLU gain: std = sqrt(2 / (O * KH * KW)). */
static void init_conv(simclr_encoder *enc, size_t index)
{
    simclr__param *p = &enc->params[index];
    double std = sqrt(2.0 / (double)(p->shape[0] * p->shape[2] * p->shape[3]));
    simclr__rng rng;
    size_t i;

    simclr__rng_init(&rng, enc->cfg.seed, 0, index, INIT_VIEW);
    for (i = 0; i < p->numel; i++)
        p->value[i] = (float)(std * simclr__rng_normal(&rng));
}

static void fill(simclr__param *p, float v)
{
    size_t i;

    for (i = 0; i < p->numel; i++)
        p->value[i] = v;
}

/*
 * Add a convolution (name "<prefix>conv<k>" style given whole) and its
 * BN, and the unit that runs them on @p src (shape at batch 1).
 */
static simclr_status add_unit(simclr_encoder *enc, const char *conv_name,
                              const char *bn_name, int64_t in_c, int64_t out_c,
                              int64_t kernel, int64_t stride, int64_t pad,
                              bool relu, float gamma, simclr__nn_shape src)
{
    uint64_t wshape[4] = {(uint64_t)out_c, (uint64_t)in_c, (uint64_t)kernel,
                          (uint64_t)kernel};
    uint64_t cshape[1] = {(uint64_t)out_c};
    simclr__unit *grown, *u;
    simclr_status st;
    size_t conv;

    grown = simclr__realloc_array(enc->units, enc->nunits + 1, sizeof(*u));
    if (!grown)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "out of memory for the layer list");
    enc->units = grown;
    u = &enc->units[enc->nunits];
    memset(u, 0, sizeof(*u));
    snprintf(u->name, sizeof(u->name), "%s", bn_name);
    u->in_c = in_c;
    u->out_c = out_c;
    u->kernel = kernel;
    u->stride = stride;
    u->pad = pad;
    u->relu = relu;
    u->src = src;
    u->dst =
        (simclr__nn_shape){1, out_c, (src.h + 2 * pad - kernel) / stride + 1,
                           (src.w + 2 * pad - kernel) / stride + 1};
    /* every kernel is at most 2 pad + 1: no map of a side >= 1 empties */
    assert(u->dst.h >= 1 && u->dst.w >= 1);
    enc->nunits++;

    conv = enc->nparams;
    if ((st = add_param(enc, conv_name, ".weight", SIMCLR_PARAM_WEIGHT, 4,
                        wshape)) != SIMCLR_OK)
        return st;
    init_conv(enc, conv);
    u->conv = conv;
    u->bn = enc->nparams;
    if ((st = add_param(enc, bn_name, ".weight", SIMCLR_PARAM_NORM, 1,
                        cshape)) != SIMCLR_OK ||
        (st = add_param(enc, bn_name, ".bias", SIMCLR_PARAM_NORM, 1, cshape)) !=
            SIMCLR_OK ||
        (st = add_param(enc, bn_name, ".running_mean", SIMCLR_PARAM_BUFFER, 1,
                        cshape)) != SIMCLR_OK ||
        (st = add_param(enc, bn_name, ".running_var", SIMCLR_PARAM_BUFFER, 1,
                        cshape)) != SIMCLR_OK ||
        (st = add_param(enc, bn_name, ".num_batches_tracked",
                        SIMCLR_PARAM_BUFFER, 0, NULL)) != SIMCLR_OK)
        return st;
    fill(&enc->params[u->bn], gamma);
    fill(&enc->params[u->bn + 1], 0.f);
    fill(&enc->params[u->bn + 2], 0.f);
    fill(&enc->params[u->bn + 3], 1.f);
    return SIMCLR_OK;
}

/* One residual block of stage @p stage (0-3), number @p index in it. */
static simclr_status add_block(simclr_encoder *enc, int stage, int index,
                               int64_t *inplanes, int64_t planes,
                               int64_t stride, simclr__nn_shape *x)
{
    bool bottleneck = archs[enc->cfg.arch].bottleneck;
    float last_gamma = enc->cfg.zero_init_residual ? 0.f : 1.f;
    int64_t out_c = bottleneck ? 4 * planes : planes;
    char conv[SIMCLR__PARAM_NAME_MAX], bn[SIMCLR__PARAM_NAME_MAX];
    char pre[32];
    simclr__block *grown, *b;
    simclr__nn_shape in = *x;
    simclr_status st;

    grown = simclr__realloc_array(enc->blocks, enc->nblocks + 1, sizeof(*b));
    if (!grown)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "out of memory for the block list");
    enc->blocks = grown;
    b = &enc->blocks[enc->nblocks++];
    b->first = enc->nunits;
    b->count = bottleneck ? 3 : 2;
    b->down = stride != 1 || *inplanes != out_c;
    snprintf(pre, sizeof(pre), "layer%d.%d.", stage + 1, index);

#define NAMES(c, n)                                                            \
    (snprintf(conv, sizeof(conv), "%s" c, pre),                                \
     snprintf(bn, sizeof(bn), "%s" n, pre))

    if (bottleneck) {
        /* 1x1 reduce, 3x3 with the stride, 1x1 expand */
        NAMES("conv1", "bn1");
        if ((st = add_unit(enc, conv, bn, *inplanes, planes, 1, 1, 0, true, 1.f,
                           in)) != SIMCLR_OK)
            return st;
        NAMES("conv2", "bn2");
        if ((st = add_unit(enc, conv, bn, planes, planes, 3, stride, 1, true,
                           1.f, enc->units[enc->nunits - 1].dst)) != SIMCLR_OK)
            return st;
        NAMES("conv3", "bn3");
        if ((st = add_unit(enc, conv, bn, planes, out_c, 1, 1, 0, false,
                           last_gamma, enc->units[enc->nunits - 1].dst)) !=
            SIMCLR_OK)
            return st;
    } else {
        NAMES("conv1", "bn1");
        if ((st = add_unit(enc, conv, bn, *inplanes, planes, 3, stride, 1, true,
                           1.f, in)) != SIMCLR_OK)
            return st;
        NAMES("conv2", "bn2");
        if ((st = add_unit(enc, conv, bn, planes, planes, 3, 1, 1, false,
                           last_gamma, enc->units[enc->nunits - 1].dst)) !=
            SIMCLR_OK)
            return st;
    }
    if (b->down) {
        NAMES("downsample.0", "downsample.1");
        if ((st = add_unit(enc, conv, bn, *inplanes, out_c, 1, stride, 0, false,
                           1.f, in)) != SIMCLR_OK)
            return st;
    }
#undef NAMES
    *x = enc->units[b->first + b->count - 1].dst;
    *inplanes = out_c;
    return SIMCLR_OK;
}

/* The whole network, in torchvision's state_dict order. */
static simclr_status build(simclr_encoder *enc)
{
    const simclr_encoder_config *cfg = &enc->cfg;
    bool imagenet = cfg->stem == SIMCLR_STEM_IMAGENET;
    simclr__nn_shape x = {1, cfg->in_channels, cfg->input_size,
                          cfg->input_size};
    int64_t inplanes = scaled(64, cfg->width);
    simclr_status st;
    int stage, i;

    /* stem: conv1, bn1, relu (and the max pool) */
    st = add_unit(enc, "conv1", "bn1", cfg->in_channels, inplanes,
                  imagenet ? 7 : 3, imagenet ? 2 : 1, imagenet ? 3 : 1, true,
                  1.f, x);
    if (st != SIMCLR_OK)
        return st;
    x = enc->units[0].dst;
    enc->pool_src = x;
    if (imagenet) {
        x.h = (x.h + 2 - 3) / 2 + 1;
        x.w = (x.w + 2 - 3) / 2 + 1;
    }
    enc->pool_dst = x;

    for (stage = 0; stage < 4; stage++) {
        int64_t planes = scaled((int64_t)64 << stage, cfg->width);

        for (i = 0; i < archs[cfg->arch].blocks[stage]; i++) {
            st = add_block(enc, stage, i, &inplanes, planes,
                           stage > 0 && i == 0 ? 2 : 1, &x);
            if (st != SIMCLR_OK)
                return st;
        }
    }
    enc->feat = x;
    enc->dim = (size_t)inplanes;
    return SIMCLR_OK;
}

/* ---- lifetime ------------------------------------------------------------ */

simclr_status simclr_encoder_create(const simclr_encoder_config *cfg,
                                    simclr_encoder **out)
{
    simclr_encoder *enc;
    simclr_status st;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder output pointer is NULL");
    *out = NULL;
    if (!cfg)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder config is NULL");
    if ((st = check_config(cfg)) != SIMCLR_OK)
        return st;

    enc = simclr__calloc(1, sizeof(*enc));
    if (!enc)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "out of memory for an encoder");
    enc->cfg = *cfg;
    if (pthread_mutex_init(&enc->lock, NULL) != 0) {
        simclr__free(enc);
        return simclr__fail(NULL, SIMCLR_ERR_THREAD,
                            "cannot create the encoder's lock");
    }
    st = build(enc);
    if (st != SIMCLR_OK) {
        simclr_encoder_destroy(enc);
        return st;
    }
    *out = enc;
    return SIMCLR_OK;
}

void simclr_encoder_destroy(simclr_encoder *enc)
{
    size_t i;

    if (!enc)
        return;
    simclr__plan_destroy(enc->train);
    for (i = 0; i < enc->nidle; i++)
        simclr__plan_destroy(enc->idle[i]);
    for (i = 0; i < enc->nparams; i++) {
        simclr__aligned_free(enc->params[i].value);
        simclr__aligned_free(enc->params[i].grad);
        simclr__free(enc->params[i].value_i64);
    }
    simclr__free(enc->params);
    simclr__free(enc->units);
    simclr__free(enc->blocks);
    pthread_mutex_destroy(&enc->lock);
    simclr__free(enc);
}

const char *simclr_encoder_error(const simclr_encoder *enc)
{
    return enc ? simclr__error_text(&enc->err) : "";
}

size_t simclr_encoder_dim(const simclr_encoder *enc)
{
    return enc ? enc->dim : 0;
}

uint32_t simclr_encoder_input_size(const simclr_encoder *enc)
{
    return enc ? enc->cfg.input_size : 0;
}

uint32_t simclr_encoder_in_channels(const simclr_encoder *enc)
{
    return enc ? enc->cfg.in_channels : 0;
}

simclr_status simclr_encoder_config_get(const simclr_encoder *enc,
                                        simclr_encoder_config *cfg)
{
    if (!enc || !cfg)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder or config is NULL");
    *cfg = enc->cfg;
    return SIMCLR_OK;
}

/* ---- parameters ------------------------------------------------------------
 */

size_t simclr_encoder_param_count(const simclr_encoder *enc)
{
    return enc ? enc->nparams : 0;
}

simclr_status simclr_encoder_param(const simclr_encoder *enc, size_t i,
                                   simclr_param_info *out)
{
    if (!enc || !out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder or parameter info is NULL");
    return simclr__param_describe(enc->params, enc->nparams, i, "encoder",
                                  out);
}

simclr_status simclr_encoder_param_find(const simclr_encoder *enc,
                                        const char *name,
                                        simclr_param_info *out)
{
    size_t i;

    if (!enc || !name || !out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder, name or parameter info is NULL");
    i = simclr__param_index(enc->params, enc->nparams, name);
    if (i == enc->nparams)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "the %s encoder has no tensor %s",
                            archs[enc->cfg.arch].name, name);
    return simclr__param_describe(enc->params, enc->nparams, i, "encoder",
                                  out);
}

/* ---- compute --------------------------------------------------------------
 */

/* Check an (n, C, H, W) input against the config; its element count. */
static simclr_status input_count(simclr_encoder *enc, simclr__error *err,
                                 size_t n, uint32_t c, uint32_t h, uint32_t w,
                                 size_t *count)
{
    if (n == 0)
        return simclr__fail(err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "batch size is 0");
    if (c != enc->cfg.in_channels || h != enc->cfg.input_size ||
        w != enc->cfg.input_size)
        return simclr__fail(err, SIMCLR_ERR_SHAPE,
                            "input is %u x %u x %u (C x H x W), the encoder "
                            "takes %u x %u x %u",
                            c, h, w, enc->cfg.in_channels, enc->cfg.input_size,
                            enc->cfg.input_size);
    if (!simclr__mul4_size(n, enc->cfg.in_channels, enc->cfg.input_size,
                           enc->cfg.input_size, count))
        return simclr__fail(err, SIMCLR_ERR_LIMIT,
                            "a batch of %zu inputs is too large", n);
    return SIMCLR_OK;
}

simclr_status simclr_encoder_forward_train(simclr_encoder *enc,
                                           const float *src, size_t n,
                                           uint32_t channels, uint32_t height,
                                           uint32_t width, float *dst)
{
    simclr_status st;
    size_t count, i;

    if (!enc || !src || !dst)
        return simclr__fail(enc ? &enc->err : NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "training forward: encoder, src or dst is NULL");
    if ((st = input_count(enc, &enc->err, n, channels, height, width,
                          &count)) != SIMCLR_OK)
        return st;
    /* batch norm in training needs two values per channel or more */
    for (i = 0; i < enc->nunits; i++) {
        const simclr__unit *u = &enc->units[i];

        if (n * (size_t)u->dst.h * (size_t)u->dst.w < 2)
            return simclr__fail(
                &enc->err, SIMCLR_ERR_INVALID_ARGUMENT,
                "training forward: batch norm %s would see one value per "
                "channel (batch %zu at %lld x %lld); use a larger batch",
                u->name, n, (long long)u->dst.h, (long long)u->dst.w);
    }
    if ((st = simclr__check_finite(&enc->err, src, count, "training input")) !=
        SIMCLR_OK)
        return st;

    enc->train_ready = false;
    if (enc->train && simclr__plan_batch(enc->train) != n) {
        simclr__plan_destroy(enc->train);
        enc->train = NULL;
    }
    if (!enc->train) {
        st = simclr__plan_create(enc, n, true, &enc->err, &enc->train);
        if (st != SIMCLR_OK)
            return st;
    }
    simclr__nn_threads_begin();
    st = simclr__plan_forward(enc->train, src, dst, &enc->err);
    if (st != SIMCLR_OK)
        return st;
    simclr__plan_update_running(enc->train);
    enc->train_ready = true;
    return SIMCLR_OK;
}

simclr_status simclr_encoder_backward(simclr_encoder *enc,
                                      const float *diff_dst, float *diff_src)
{
    simclr_status st;
    size_t n;

    if (!enc || !diff_dst)
        return simclr__fail(enc ? &enc->err : NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "backward: encoder or diff_dst is NULL");
    if (!enc->train_ready)
        return simclr__fail(&enc->err, SIMCLR_ERR_STATE,
                            "backward: no training forward to go back "
                            "through");
    n = simclr__plan_batch(enc->train);
    if ((st = simclr__check_finite(&enc->err, diff_dst, n * enc->dim,
                           "gradient of the features")) != SIMCLR_OK)
        return st;
    simclr__nn_threads_begin();
    return simclr__plan_backward(enc->train, diff_dst, diff_src, &enc->err);
}

/* Take an idle inference plan for batch @p n, or make one. */
static simclr_status take_plan(simclr_encoder *enc, size_t n,
                               simclr__error *err, simclr__plan **out)
{
    size_t i;

    pthread_mutex_lock(&enc->lock);
    for (i = 0; i < enc->nidle; i++) {
        if (simclr__plan_batch(enc->idle[i]) == n) {
            *out = enc->idle[i];
            enc->idle[i] = enc->idle[--enc->nidle];
            pthread_mutex_unlock(&enc->lock);
            return SIMCLR_OK;
        }
    }
    pthread_mutex_unlock(&enc->lock);
    return simclr__plan_create(enc, n, false, err, out);
}

/* Give a plan back to the pool; when full, the oldest idle one goes. */
static void give_plan(simclr_encoder *enc, simclr__plan *plan)
{
    simclr__plan *evicted = NULL;

    pthread_mutex_lock(&enc->lock);
    if (enc->nidle == SIMCLR__ENCODER_POOL_MAX) {
        evicted = enc->idle[0];
        memmove(enc->idle, enc->idle + 1,
                (enc->nidle - 1) * sizeof(enc->idle[0]));
        enc->nidle--;
    }
    enc->idle[enc->nidle++] = plan;
    pthread_mutex_unlock(&enc->lock);
    simclr__plan_destroy(evicted);
}

simclr_status simclr_encode_tensor(simclr_encoder *enc, const float *src,
                                   size_t n, uint32_t channels, uint32_t height,
                                   uint32_t width, float *dst)
{
    simclr__error err = {{0}};
    simclr__plan *plan = NULL;
    simclr_status st;
    size_t count;

    if (!enc || !src || !dst)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encode: encoder, src or dst is NULL");
    st = input_count(enc, &err, n, channels, height, width, &count);
    if (st == SIMCLR_OK)
        st = simclr__check_finite(&err, src, count, "encoder input");
    if (st == SIMCLR_OK)
        st = take_plan(enc, n, &err, &plan);
    if (st == SIMCLR_OK) {
        simclr__nn_threads_begin();
        st = simclr__plan_forward(plan, src, dst, &err);
        give_plan(enc, plan);
    }
    if (st != SIMCLR_OK) {
        pthread_mutex_lock(&enc->lock);
        enc->err = err;
        pthread_mutex_unlock(&enc->lock);
    }
    return st;
}
