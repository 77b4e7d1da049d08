/*
 * A plan runs the encoder for one batch size: the oneDNN objects of every
 * layer and the activations between them. A training plan also keeps the
 * batch statistics and the gradient buffers of the backward pass.
 *
 * The weights and gradients the primitives read and write are the
 * parameter table's own buffers (reordered inside lib/nn). An inference
 * plan folds each batch norm into its convolution (scaled weights and a
 * bias, computed at every call from the current parameters) and fuses the
 * ReLU and the residual sum into the convolution that precedes them.
 */
#include <math.h>
#include <string.h>

#include "encoder_internal.h"

#define BN_EPS      1e-5f
#define BN_MOMENTUM 0.1f

/* A conv-BN(-ReLU) unit at this batch size; the ReLU is fused into the
 * batch norm. */
typedef struct unit_run {
    simclr__nn_conv *conv;
    simclr__nn_bnorm *bn;
    simclr__nn_shape dst; /* (N, O, OH, OW) */
    const float *src;     /* input of the last forward */
    float *y;             /* conv output (N, O, OH, OW) */
    float *z;             /* BN (and ReLU) output */
    float *mean, *var;    /* training: batch statistics (O) */
    float *dy;            /* training: gradient of y */
    float *dsrc;          /* training: gradient of src (not the stem) */
} unit_run;

typedef struct block_run {
    size_t out_bytes;     /* of sum and out in the compute layout */
    simclr__nn_add *add;  /* main + shortcut, output shape */
    simclr__nn_add *dadd; /* training: the two input gradients */
    simclr__nn_relu *relu;
    float *sum, *out;   /* (N, C, H, W) */
    float *dsum, *dout; /* training (shared between blocks) */
} block_run;

struct simclr__plan {
    simclr_encoder *enc;
    size_t n;
    bool training;
    simclr__nn_ctx *ctx;
    unit_run *units;
    block_run *blocks;
    simclr__nn_pool *maxpool; /* ImageNet stem only */
    float *pool_out, *pool_dout;
    float *stem_dout;
    simclr__nn_pool *gap;
    float *fold_w, *fold_b; /* inference: one unit's folded weights, bias */
    void **bufs;            /* every buffer above, for release */
    size_t nbufs;
};

static simclr__nn_shape at_batch(simclr__nn_shape s, size_t n)
{
    s.n = (int64_t)n;
    return s;
}

/* A buffer of @p bytes owned by the plan. */
static float *plan_buf_bytes(simclr__plan *plan, size_t bytes,
                             simclr__error *err)
{
    void **grown;
    float *buf;

    grown = simclr__realloc_array(plan->bufs, plan->nbufs + 1, sizeof(*grown));
    if (!grown)
        goto nomem;
    plan->bufs = grown;
    buf = simclr__aligned_malloc(bytes, 64);
    if (!buf)
        goto nomem;
    plan->bufs[plan->nbufs++] = buf;
    return buf;

nomem:
    simclr__fail(err, SIMCLR_ERR_NOMEM,
                 "out of memory for %zu bytes of activations", bytes);
    return NULL;
}

/* A buffer for one activation of shape @p s in the compute layout. */
static float *plan_buf(simclr__plan *plan, simclr__nn_shape s,
                       simclr__error *err)
{
    size_t count, bytes;

    if (!simclr__mul4_size((size_t)s.n, (size_t)s.c, (size_t)s.h, (size_t)s.w,
                           &count) ||
        !simclr__mul_size(count, 2 * sizeof(float), &bytes)) {
        simclr__fail(err, SIMCLR_ERR_LIMIT,
                     "a batch of %zu: activations too large", plan->n);
        return NULL;
    }
    if (simclr__nn_act_bytes(plan->ctx, s, &bytes, err) != SIMCLR_OK)
        return NULL;
    return plan_buf_bytes(plan, bytes, err);
}

#define TRY(expr)                                                              \
    do {                                                                       \
        if ((st = (expr)) != SIMCLR_OK)                                        \
            goto fail;                                                         \
    } while (0)
#define BUF(var, shape)                                                        \
    do {                                                                       \
        if (!((var) = plan_buf(plan, (shape), err))) {                         \
            st = SIMCLR_ERR_NOMEM;                                             \
            goto fail;                                                         \
        }                                                                      \
    } while (0)

/* @p last: the unit ends a block's main path; in an inference plan it
 * adds the shortcut and applies the block's ReLU itself. */
static simclr_status unit_init(simclr__plan *plan, const simclr__unit *u,
                               unit_run *r, bool stem, bool last,
                               simclr__error *err)
{
    simclr__nn_shape c1 = {1, u->out_c, 1, 1};
    bool infer = !plan->training;
    simclr__nn_conv_desc cd = {
        .src = at_batch(u->src, plan->n),
        .out_channels = u->out_c,
        .kernel = u->kernel,
        .stride = u->stride,
        .pad = u->pad,
        .training = plan->training,
        .need_src_grad = true,
        .plain_src = stem,
        .bias = infer,
        .post_sum = infer && last,
        .post_relu = infer && (u->relu || last),
        .dtype = SIMCLR__NN_F32,
    };
    simclr_status st;

    r->dst = at_batch(u->dst, plan->n);
    TRY(simclr__nn_conv_create(plan->ctx, &cd, err, &r->conv));
    if (infer) {
        if (stem)
            BUF(r->z, r->dst); /* the others: share_activations() */
        return SIMCLR_OK;
    }
    TRY(simclr__nn_bnorm_create(plan->ctx, r->dst, BN_EPS, true, u->relu, err,
                                &r->bn));
    BUF(r->y, r->dst);
    BUF(r->z, r->dst);
    BUF(r->mean, c1);
    BUF(r->var, c1);
    return SIMCLR_OK;

fail:
    return st;
}

static simclr_status block_init(simclr__plan *plan, const simclr__block *b,
                                block_run *r, simclr__error *err)
{
    simclr__nn_shape s =
        at_batch(plan->enc->units[b->first + b->count - 1].dst, plan->n);
    simclr_status st;

    TRY(simclr__nn_act_bytes(plan->ctx, s, &r->out_bytes, err));
    if (!plan->training)
        return SIMCLR_OK; /* out: share_activations() */
    BUF(r->out, s);
    TRY(simclr__nn_add_create(plan->ctx, s, err, &r->add));
    TRY(simclr__nn_relu_create(plan->ctx, s, true, err, &r->relu));
    BUF(r->sum, s);
    TRY(simclr__nn_add_create(plan->ctx,
                              at_batch(plan->enc->units[b->first].src, plan->n),
                              err, &r->dadd));
    return SIMCLR_OK;

fail:
    return st;
}

/*
 * Inference keeps nothing for a backward pass: inside a block two
 * alternating buffers serve the main path and one the shortcut, and two
 * alternating buffers carry the blocks' outputs. Each is as large as the
 * largest activation after the stem.
 */
static simclr_status share_activations(simclr__plan *plan, simclr__error *err)
{
    const simclr_encoder *enc = plan->enc;
    float *path[2], *shortcut, *between[2];
    size_t i, k, bytes, largest = 0;
    simclr_status st;

    for (i = 1; i < enc->nunits; i++) {
        TRY(simclr__nn_act_bytes(
            plan->ctx, at_batch(enc->units[i].dst, plan->n), &bytes, err));
        largest = bytes > largest ? bytes : largest;
    }
    if (!(path[0] = plan_buf_bytes(plan, largest, err)) ||
        !(path[1] = plan_buf_bytes(plan, largest, err)) ||
        !(shortcut = plan_buf_bytes(plan, largest, err)) ||
        !(between[0] = plan_buf_bytes(plan, largest, err)) ||
        !(between[1] = plan_buf_bytes(plan, largest, err)))
        return SIMCLR_ERR_NOMEM;

    for (i = 0; i < enc->nblocks; i++) {
        const simclr__block *blk = &enc->blocks[i];

        for (k = 0; k + 1 < blk->count; k++)
            plan->units[blk->first + k].z = path[k % 2];
        if (blk->down)
            plan->units[blk->first + blk->count].z = shortcut;
        plan->blocks[i].out = between[i % 2];
    }
    return SIMCLR_OK;

fail:
    return st;
}

/*
 * The gradients of the activations are used only while the backward pass
 * goes through their layer, so a few buffers serve all layers: dy for
 * every batch norm, two alternating ones down each block's main path, one
 * for its shortcut, one for its sum, and two alternating ones between
 * blocks. Each is as large as the largest activation.
 */
static simclr_status share_gradients(simclr__plan *plan, simclr__error *err)
{
    const simclr_encoder *enc = plan->enc;
    float *dy, *path[2], *shortcut, *dsum, *between[2];
    size_t i, k, bytes, largest = 0;
    simclr_status st;

    for (i = 0; i < enc->nunits; i++) {
        TRY(simclr__nn_act_bytes(
            plan->ctx, at_batch(enc->units[i].src, plan->n), &bytes, err));
        largest = bytes > largest ? bytes : largest;
        TRY(simclr__nn_act_bytes(
            plan->ctx, at_batch(enc->units[i].dst, plan->n), &bytes, err));
        largest = bytes > largest ? bytes : largest;
    }
    if (!(dy = plan_buf_bytes(plan, largest, err)) ||
        !(path[0] = plan_buf_bytes(plan, largest, err)) ||
        !(path[1] = plan_buf_bytes(plan, largest, err)) ||
        !(shortcut = plan_buf_bytes(plan, largest, err)) ||
        !(dsum = plan_buf_bytes(plan, largest, err)) ||
        !(between[0] = plan_buf_bytes(plan, largest, err)) ||
        !(between[1] = plan_buf_bytes(plan, largest, err)))
        return SIMCLR_ERR_NOMEM;

    for (i = 0; i < enc->nunits; i++)
        plan->units[i].dy = dy;
    for (i = 0; i < enc->nblocks; i++) {
        const simclr__block *blk = &enc->blocks[i];

        for (k = 0; k < blk->count; k++)
            plan->units[blk->first + k].dsrc = path[k % 2];
        if (blk->down)
            plan->units[blk->first + blk->count].dsrc = shortcut;
        plan->blocks[i].dsum = dsum;
        plan->blocks[i].dout = between[i % 2];
    }
    return SIMCLR_OK;

fail:
    return st;
}

/* Whether unit @p i is the last of a block's main path. */
static bool ends_block(const simclr_encoder *enc, size_t i)
{
    size_t b;

    for (b = 0; b < enc->nblocks; b++)
        if (enc->blocks[b].first + enc->blocks[b].count - 1 == i)
            return true;
    return false;
}

simclr_status simclr__plan_create(simclr_encoder *enc, size_t n, bool training,
                                  simclr__error *err, simclr__plan **out)
{
    simclr__plan *plan;
    simclr_status st;
    size_t i;

    *out = NULL;
    plan = simclr__calloc(1, sizeof(*plan));
    if (!plan)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "out of memory for an encoder plan");
    plan->enc = enc;
    plan->n = n;
    plan->training = training;
    plan->units = simclr__calloc(enc->nunits, sizeof(*plan->units));
    plan->blocks = simclr__calloc(enc->nblocks, sizeof(*plan->blocks));
    if (!plan->units || !plan->blocks) {
        st = simclr__fail(err, SIMCLR_ERR_NOMEM,
                          "out of memory for an encoder plan");
        goto fail;
    }
    TRY(simclr__nn_ctx_create(err, &plan->ctx));
    for (i = 0; i < enc->nunits; i++)
        TRY(unit_init(plan, &enc->units[i], &plan->units[i], i == 0,
                      ends_block(enc, i), err));
    if (training)
        TRY(share_gradients(plan, err));
    else
        TRY(share_activations(plan, err));
    if (!training) {
        size_t wmax = 0, cmax = 0;

        for (i = 0; i < enc->nunits; i++) {
            const simclr__param *w = &enc->params[enc->units[i].conv];

            wmax = w->numel > wmax ? w->numel : wmax;
            cmax = (size_t)enc->units[i].out_c > cmax
                       ? (size_t)enc->units[i].out_c
                       : cmax;
        }
        plan->fold_w = simclr__aligned_malloc(wmax * sizeof(float), 64);
        plan->fold_b = simclr__aligned_malloc(cmax * sizeof(float), 64);
        if (!plan->fold_w || !plan->fold_b) {
            st = simclr__fail(err, SIMCLR_ERR_NOMEM,
                              "out of memory for folded weights");
            goto fail;
        }
    }
    for (i = 0; i < enc->nblocks; i++)
        TRY(block_init(plan, &enc->blocks[i], &plan->blocks[i], err));
    if (enc->cfg.stem == SIMCLR_STEM_IMAGENET) {
        TRY(simclr__nn_pool_create(plan->ctx, at_batch(enc->pool_src, n),
                                   SIMCLR__NN_POOL_MAX, 3, 2, 1, false,
                                   training, err, &plan->maxpool));
        BUF(plan->pool_out, at_batch(enc->pool_dst, n));
        if (training)
            BUF(plan->pool_dout, at_batch(enc->pool_dst, n));
    }
    if (training)
        BUF(plan->stem_dout, at_batch(enc->pool_src, n));
    TRY(simclr__nn_pool_create(plan->ctx, at_batch(enc->feat, n),
                               SIMCLR__NN_POOL_AVG, 0, 1, 0, true, training,
                               err, &plan->gap));
    *out = plan;
    return SIMCLR_OK;

fail:
    simclr__plan_destroy(plan);
    return st;
}

void simclr__plan_destroy(simclr__plan *plan)
{
    size_t i;

    if (!plan)
        return;
    if (plan->units) {
        for (i = 0; i < plan->enc->nunits; i++) {
            simclr__nn_conv_destroy(plan->units[i].conv);
            simclr__nn_bnorm_destroy(plan->units[i].bn);
        }
    }
    if (plan->blocks) {
        for (i = 0; i < plan->enc->nblocks; i++) {
            simclr__nn_add_destroy(plan->blocks[i].add);
            simclr__nn_add_destroy(plan->blocks[i].dadd);
            simclr__nn_relu_destroy(plan->blocks[i].relu);
        }
    }
    simclr__nn_pool_destroy(plan->maxpool);
    simclr__nn_pool_destroy(plan->gap);
    for (i = 0; i < plan->nbufs; i++)
        simclr__aligned_free(plan->bufs[i]);
    simclr__aligned_free(plan->fold_w);
    simclr__aligned_free(plan->fold_b);
    simclr__free(plan->bufs);
    simclr__free(plan->units);
    simclr__free(plan->blocks);
    simclr__nn_ctx_destroy(plan->ctx);
    simclr__free(plan);
}

size_t simclr__plan_batch(const simclr__plan *plan)
{
    return plan->n;
}

/* ---- forward ------------------------------------------------------------- */

static const float *unit_out(const unit_run *r)
{
    return r->z;
}

/* Training: y = conv(src); z = BN(y), or ReLU(BN(y)). */
static simclr_status unit_forward(simclr__plan *plan, size_t i,
                                  const float *src, simclr__error *err)
{
    const simclr__unit *u = &plan->enc->units[i];
    const simclr__param *p = plan->enc->params;
    unit_run *r = &plan->units[i];
    simclr_status st;

    r->src = src;
    TRY(simclr__nn_conv_forward(r->conv, src, p[u->conv].value, NULL, r->y,
                                err));
    TRY(simclr__nn_bnorm_forward_train(r->bn, r->y, p[u->bn].value,
                                       p[u->bn + 1].value, r->z, r->mean,
                                       r->var, err));
    return SIMCLR_OK;

fail:
    return st;
}

/*
 * Inference: the batch norm folded into the convolution with the running
 * statistics, s = gamma / sqrt(var + eps):
 *   weight'[o] = weight[o] * s[o],  bias'[o] = beta[o] - mean[o] * s[o].
 * dst gets conv(src) + bias' with the unit's fused post-ops.
 */
static simclr_status unit_infer(simclr__plan *plan, size_t i, const float *src,
                                float *dst, simclr__error *err)
{
    const simclr__unit *u = &plan->enc->units[i];
    const simclr__param *p = plan->enc->params;
    const simclr__param *w = &p[u->conv];
    size_t per_out = w->numel / (size_t)u->out_c, k;
    int64_t o;

    for (o = 0; o < u->out_c; o++) {
        float scale = p[u->bn].value[o] / sqrtf(p[u->bn + 3].value[o] + BN_EPS);
        const float *from = w->value + (size_t)o * per_out;
        float *to = plan->fold_w + (size_t)o * per_out;

        for (k = 0; k < per_out; k++)
            to[k] = from[k] * scale;
        plan->fold_b[o] = p[u->bn + 1].value[o] - p[u->bn + 2].value[o] * scale;
    }
    return simclr__nn_conv_forward(plan->units[i].conv, src, plan->fold_w,
                                   plan->fold_b, dst, err);
}

static simclr_status plan_infer(simclr__plan *plan, const float *src,
                                float *dst, simclr__error *err)
{
    const simclr_encoder *enc = plan->enc;
    const float *x;
    simclr_status st;
    size_t b, k;

    /* stem, then the max pool for the ImageNet stem */
    TRY(unit_infer(plan, 0, src, plan->units[0].z, err));
    x = plan->units[0].z;
    if (plan->maxpool) {
        TRY(simclr__nn_pool_forward(plan->maxpool, x, plan->pool_out, err));
        x = plan->pool_out;
    }

    /* blocks: out starts as the shortcut; the last convolution of the
     * main path adds itself to it and applies the ReLU */
    for (b = 0; b < enc->nblocks; b++) {
        const simclr__block *blk = &enc->blocks[b];
        block_run *r = &plan->blocks[b];
        const float *h = x;

        if (blk->down) {
            size_t s = blk->first + blk->count;

            TRY(unit_infer(plan, s, x, plan->units[s].z, err));
            memcpy(r->out, plan->units[s].z, r->out_bytes);
        } else {
            memcpy(r->out, x, r->out_bytes);
        }
        for (k = 0; k + 1 < blk->count; k++) {
            TRY(unit_infer(plan, blk->first + k, h,
                           plan->units[blk->first + k].z, err));
            h = plan->units[blk->first + k].z;
        }
        TRY(unit_infer(plan, blk->first + k, h, r->out, err));
        x = r->out;
    }

    /* global average pool: (N, D, 1, 1) is h (N, D) */
    TRY(simclr__nn_pool_forward(plan->gap, x, dst, err));
    return SIMCLR_OK;

fail:
    return st;
}

simclr_status simclr__plan_forward(simclr__plan *plan, const float *src,
                                   float *dst, simclr__error *err)
{
    const simclr_encoder *enc = plan->enc;
    const float *x;
    simclr_status st;
    size_t b, k;

    if (!plan->training)
        return plan_infer(plan, src, dst, err);

    /* stem (N, C0, H, W), then the max pool for the ImageNet stem */
    TRY(unit_forward(plan, 0, src, err));
    x = unit_out(&plan->units[0]);
    if (plan->maxpool) {
        TRY(simclr__nn_pool_forward(plan->maxpool, x, plan->pool_out, err));
        x = plan->pool_out;
    }

    /* residual blocks: out = ReLU(main(x) + shortcut(x)) */
    for (b = 0; b < enc->nblocks; b++) {
        const simclr__block *blk = &enc->blocks[b];
        block_run *r = &plan->blocks[b];
        const float *h = x, *shortcut = x;

        for (k = 0; k < blk->count; k++) {
            TRY(unit_forward(plan, blk->first + k, h, err));
            h = unit_out(&plan->units[blk->first + k]);
        }
        if (blk->down) {
            TRY(unit_forward(plan, blk->first + blk->count, x, err));
            shortcut = unit_out(&plan->units[blk->first + blk->count]);
        }
        TRY(simclr__nn_add_forward(r->add, h, shortcut, r->sum, err));
        TRY(simclr__nn_relu_forward(r->relu, r->sum, r->out, err));
        x = r->out;
    }

    /* global average pool: (N, D, 1, 1) is h (N, D) */
    TRY(simclr__nn_pool_forward(plan->gap, x, dst, err));
    return SIMCLR_OK;

fail:
    return st;
}

void simclr__plan_update_running(simclr__plan *plan)
{
    const simclr_encoder *enc = plan->enc;
    size_t i;
    int64_t c;

    assert(plan->training);
    for (i = 0; i < enc->nunits; i++) {
        const simclr__unit *u = &enc->units[i];
        const unit_run *r = &plan->units[i];
        simclr__param *p = &enc->params[u->bn];
        float count = (float)plan->n * (float)(u->dst.h * u->dst.w);
        float unbias = count / (count - 1.f);

        for (c = 0; c < u->out_c; c++) {
            p[2].value[c] =
                (1.f - BN_MOMENTUM) * p[2].value[c] + BN_MOMENTUM * r->mean[c];
            p[3].value[c] = (1.f - BN_MOMENTUM) * p[3].value[c] +
                            BN_MOMENTUM * r->var[c] * unbias;
        }
        p[4].value_i64[0] += 1;
    }
}

/* ---- backward ------------------------------------------------------------ */

/* From dL/d(unit output) to the parameter gradients and, if @p dsrc is
 * not NULL, dL/dsrc. */
static simclr_status unit_backward(simclr__plan *plan, size_t i,
                                   const float *ddst, float *dsrc,
                                   simclr__error *err)
{
    const simclr__unit *u = &plan->enc->units[i];
    const simclr__param *p = plan->enc->params;
    unit_run *r = &plan->units[i];
    simclr_status st;

    TRY(simclr__nn_bnorm_backward(
        r->bn, r->y, p[u->bn].value, p[u->bn + 1].value, r->mean, r->var, ddst,
        r->dy, p[u->bn].grad, p[u->bn + 1].grad, err));
    TRY(simclr__nn_conv_backward(r->conv, r->src, p[u->conv].value, r->dy, dsrc,
                                 p[u->conv].grad, err));
    return SIMCLR_OK;

fail:
    return st;
}

simclr_status simclr__plan_backward(simclr__plan *plan, const float *diff_dst,
                                    float *diff_src, simclr__error *err)
{
    const simclr_encoder *enc = plan->enc;
    simclr_status st;
    size_t b, k;

    assert(plan->training);
    /* the pool spreads dL/dh evenly over the last feature map */
    TRY(simclr__nn_pool_backward(plan->gap, diff_dst,
                                 plan->blocks[enc->nblocks - 1].dout, err));

    for (b = enc->nblocks; b-- > 0;) {
        const simclr__block *blk = &enc->blocks[b];
        block_run *r = &plan->blocks[b];
        const float *d = r->dsum, *dshort = r->dsum;
        float *din = b > 0           ? plan->blocks[b - 1].dout
                     : plan->maxpool ? plan->pool_dout
                                     : plan->stem_dout;

        /* through the ReLU after the sum; both branches get dsum */
        TRY(simclr__nn_relu_backward(r->relu, r->sum, r->dout, r->dsum, err));
        for (k = blk->count; k-- > 0;) {
            unit_run *u = &plan->units[blk->first + k];

            TRY(unit_backward(plan, blk->first + k, d, u->dsrc, err));
            d = u->dsrc;
        }
        if (blk->down) {
            size_t s = blk->first + blk->count;

            TRY(unit_backward(plan, s, r->dsum, plan->units[s].dsrc, err));
            dshort = plan->units[s].dsrc;
        }
        /* the block input fed both branches: add their gradients */
        TRY(simclr__nn_add_forward(r->dadd, d, dshort, din, err));
    }

    if (plan->maxpool)
        TRY(simclr__nn_pool_backward(plan->maxpool, plan->pool_dout,
                                     plan->stem_dout, err));
    TRY(unit_backward(plan, 0, plan->stem_dout, diff_src, err));
    return SIMCLR_OK;

fail:
    return st;
}
