/*
 * The oneDNN glue: every primitive the encoder uses, made once per shape
 * and run on caller buffers. See nn.h.
 *
 * Each primitive keeps its own scratchpad (user scratchpad mode), so two
 * objects made for the same shape can run on two threads at once without
 * sharing oneDNN's library-wide scratch memory.
 */
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include "common/threads_internal.h"
#include "compat.h"
#include "nn.h"

#define NN_MAX_ARGS 10
#define NN_ALIGN    64

/*
 * The checking macro: run a oneDNN call; on failure record its status
 * text and the call in @p err_, set the local `st` and jump to `fail`.
 */
#define NN_CHECK(err_, call)                                                   \
    do {                                                                       \
        dnnl_status_t nn_s_ = (call);                                          \
        if (nn_s_ != dnnl_success) {                                           \
            st = nn_fail((err_), nn_s_, #call);                                \
            goto fail;                                                         \
        }                                                                      \
    } while (0)

static simclr_status nn_fail(simclr__error *err, dnnl_status_t s,
                             const char *call)
{
    size_t len = strcspn(call, "(");

    return simclr__fail(err, SIMCLR_ERR_BACKEND, "oneDNN: %.*s failed: %s",
                        (int)len, call, dnnl_status2str(s));
}

struct simclr__nn_ctx {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_attr_t attr; /* user scratchpad */
    dnnl_format_tag_t act_tag;  /* layout of every activation inside */
};

/* One primitive with the memory objects of its arguments, bound to caller
 * buffers at each run. An argument the primitive does not use (its memory
 * descriptor is empty) has no memory object and is left out of the run. */
typedef struct nn_prim {
    dnnl_primitive_t prim;
    int nargs; /* as given at init, without the scratchpad */
    int ids[NN_MAX_ARGS];
    dnnl_memory_t mems[NN_MAX_ARGS];
    dnnl_memory_t scratch_mem;
    void *scratch;
} nn_prim;

void simclr__nn_threads_begin(void)
{
    omp_set_num_threads(simclr__num_threads());
}

/*
 * The activation layout: the one oneDNN's convolution prefers on this CPU
 * for a typical layer (channel blocks of 16 with AVX-512, of 8 with AVX2,
 * else channels last or plain). Every activation between layers uses it,
 * so batch norm, ReLU, pooling and the sums read what the convolutions
 * write without reorders; only the network's input and output are plain.
 */
static simclr_status nn_probe_layout(simclr__nn_ctx *ctx, simclr__error *err)
{
    static const dnnl_format_tag_t candidates[] = {dnnl_nChw16c, dnnl_nChw8c,
                                                   dnnl_nhwc};
    const dnnl_dims_t src_dims = {2, 64, 16, 16}, wei_dims = {64, 64, 3, 3};
    const dnnl_dims_t strides = {1, 1}, pad = {1, 1};
    simclr_status st = SIMCLR_OK;
    dnnl_primitive_desc_t pd = NULL;
    nn_md src = {0}, wei = {0}, dst = {0}, cand = {0};
    nn_md_arg chosen;
    size_t i;

    ctx->act_tag = dnnl_nchw;
    NN_CHECK(err, nn_md_init(&src, 4, src_dims, dnnl_format_tag_any));
    NN_CHECK(err, nn_md_init(&wei, 4, wei_dims, dnnl_format_tag_any));
    NN_CHECK(err, nn_md_init(&dst, 4, src_dims, dnnl_format_tag_any));
    NN_CHECK(err, nn_conv_fwd_pd(&pd, ctx->engine, dnnl_forward_training, &src,
                                 &wei, NULL, &dst, strides, pad, NULL));
    chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    for (i = 0; i < SIMCLR__ARRAY_SIZE(candidates); i++) {
        NN_CHECK(err, nn_md_init(&cand, 4, src_dims, candidates[i]));
        if (chosen && dnnl_memory_desc_equal(chosen, NN_MD(&cand))) {
            ctx->act_tag = candidates[i];
            break;
        }
        nn_md_fini(&cand);
    }

fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    nn_md_fini(&cand);
    nn_md_fini(&src);
    nn_md_fini(&wei);
    nn_md_fini(&dst);
    return st;
}

/* ---- context ----------------------------------------------------------- */

simclr_status simclr__nn_ctx_create(simclr__error *err, simclr__nn_ctx **out)
{
    simclr_status st = SIMCLR_OK;
    simclr__nn_ctx *ctx = simclr__calloc(1, sizeof(*ctx));

    *out = NULL;
    if (!ctx)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "out of memory for a compute context");
    NN_CHECK(err, dnnl_engine_create(&ctx->engine, dnnl_cpu, 0));
    NN_CHECK(err, dnnl_stream_create(&ctx->stream, ctx->engine,
                                     dnnl_stream_default_flags));
    NN_CHECK(err, dnnl_primitive_attr_create(&ctx->attr));
    NN_CHECK(err, dnnl_primitive_attr_set_scratchpad_mode(
                      ctx->attr, dnnl_scratchpad_mode_user));
    st = nn_probe_layout(ctx, err);
    if (st != SIMCLR_OK)
        goto fail;
    *out = ctx;
    return SIMCLR_OK;

fail:
    simclr__nn_ctx_destroy(ctx);
    return st;
}

void simclr__nn_ctx_destroy(simclr__nn_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->attr)
        dnnl_primitive_attr_destroy(ctx->attr);
    if (ctx->stream)
        dnnl_stream_destroy(ctx->stream);
    if (ctx->engine)
        dnnl_engine_destroy(ctx->engine);
    simclr__free(ctx);
}

/* ---- primitives -------------------------------------------------------- */

static size_t nn_md_bytes(nn_md_arg md)
{
    return md ? dnnl_memory_desc_get_size(md) : 0;
}

static void nn_prim_fini(nn_prim *p)
{
    int i;

    for (i = 0; i < NN_MAX_ARGS; i++)
        if (p->mems[i])
            dnnl_memory_destroy(p->mems[i]);
    if (p->scratch_mem)
        dnnl_memory_destroy(p->scratch_mem);
    if (p->prim)
        dnnl_primitive_destroy(p->prim);
    simclr__aligned_free(p->scratch);
    memset(p, 0, sizeof(*p));
}

/*
 * Make the primitive of @p pd with unbound memory objects for the
 * arguments @p ids (in that order) and its own scratchpad. @p pd stays the
 * caller's.
 */
static simclr_status nn_prim_init(simclr__nn_ctx *ctx, nn_prim *p,
                                  const_dnnl_primitive_desc_t pd,
                                  const int *ids, int nargs, simclr__error *err)
{
    simclr_status st = SIMCLR_OK;
    nn_md_arg md;
    size_t bytes;
    int i;

    assert(nargs <= NN_MAX_ARGS);
    memset(p, 0, sizeof(*p));
    NN_CHECK(err, dnnl_primitive_create(&p->prim, pd));
    for (i = 0; i < nargs; i++) {
        p->ids[i] = ids[i];
        md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, ids[i]);
        if (nn_md_bytes(md) == 0)
            continue;
        NN_CHECK(err, dnnl_memory_create(&p->mems[i], md, ctx->engine,
                                         DNNL_MEMORY_NONE));
    }
    p->nargs = nargs;
    md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    bytes = nn_md_bytes(md);
    if (bytes > 0) {
        p->scratch = simclr__aligned_malloc(bytes, NN_ALIGN);
        if (!p->scratch) {
            st = simclr__fail(err, SIMCLR_ERR_NOMEM,
                              "out of memory for %zu bytes of scratchpad",
                              bytes);
            goto fail;
        }
        NN_CHECK(err, dnnl_memory_create(&p->scratch_mem, md, ctx->engine,
                                         p->scratch));
    }
    return SIMCLR_OK;

fail:
    nn_prim_fini(p);
    return st;
}

/* Bind @p bufs to the arguments in the order given at init, and run. */
static simclr_status nn_prim_run(simclr__nn_ctx *ctx, nn_prim *p,
                                 void *const *bufs, simclr__error *err)
{
    dnnl_exec_arg_t args[NN_MAX_ARGS + 1];
    simclr_status st = SIMCLR_OK;
    int i, n = 0;

    for (i = 0; i < p->nargs; i++) {
        if (!p->mems[i])
            continue;
        NN_CHECK(err, dnnl_memory_set_data_handle(p->mems[i], bufs[i]));
        args[n].arg = p->ids[i];
        args[n++].memory = p->mems[i];
    }
    if (p->scratch_mem) {
        args[n].arg = DNNL_ARG_SCRATCHPAD;
        args[n++].memory = p->scratch_mem;
    }
    NN_CHECK(err, dnnl_primitive_execute(p->prim, ctx->stream, n, args));
    NN_CHECK(err, dnnl_stream_wait(ctx->stream));
fail:
    return st;
}

/* Pointers to read-only caller data, for binding: oneDNN takes void *. */
#define NN_IN(ptr) ((void *)(uintptr_t)(ptr))

static void nn_dims4(dnnl_dims_t d, simclr__nn_shape s)
{
    d[0] = s.n;
    d[1] = s.c;
    d[2] = s.h;
    d[3] = s.w;
}

/* An activation descriptor (N, C, H, W): plain NCHW for the network's
 * edges, else the context's layout. */
static dnnl_status_t nn_act_md(const simclr__nn_ctx *ctx, nn_md *md,
                               simclr__nn_shape s, bool plain)
{
    dnnl_dims_t dims;

    nn_dims4(dims, s);
    return nn_md_init(md, 4, dims, plain ? dnnl_nchw : ctx->act_tag);
}

simclr_status simclr__nn_act_bytes(const simclr__nn_ctx *ctx,
                                   simclr__nn_shape s, size_t *bytes,
                                   simclr__error *err)
{
    simclr_status st = SIMCLR_OK;
    nn_md md = {0};

    NN_CHECK(err, nn_act_md(ctx, &md, s, false));
    *bytes = dnnl_memory_desc_get_size(NN_MD(&md));
fail:
    nn_md_fini(&md);
    return st;
}

/*
 * A reorder between the plain layout @p plain and a primitive's layout
 * @p blocked, when they differ: to_blocked says which way. Leaves @p p
 * empty and @p buf NULL when the layouts are the same; else @p buf is a
 * buffer in the blocked layout.
 */
static simclr_status nn_reorder_init(simclr__nn_ctx *ctx, nn_prim *p,
                                     void **buf, const nn_md *plain,
                                     nn_md_arg blocked, bool to_blocked,
                                     simclr__error *err)
{
    static const int ids[] = {DNNL_ARG_FROM, DNNL_ARG_TO};
    simclr_status st = SIMCLR_OK;
    dnnl_primitive_desc_t pd = NULL;
    size_t bytes = nn_md_bytes(blocked);

    *buf = NULL;
    if (dnnl_memory_desc_equal(NN_MD(plain), blocked))
        return SIMCLR_OK;
    if (to_blocked)
        NN_CHECK(err, dnnl_reorder_primitive_desc_create(
                          &pd, NN_MD(plain), ctx->engine, blocked, ctx->engine,
                          ctx->attr));
    else
        NN_CHECK(err, dnnl_reorder_primitive_desc_create(
                          &pd, blocked, ctx->engine, NN_MD(plain), ctx->engine,
                          ctx->attr));
    st = nn_prim_init(ctx, p, pd, ids, 2, err);
    if (st != SIMCLR_OK)
        goto fail;
    *buf = simclr__aligned_malloc(bytes, NN_ALIGN);
    if (!*buf)
        st = simclr__fail(err, SIMCLR_ERR_NOMEM,
                          "out of memory for %zu bytes of weights", bytes);
fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    return st;
}

/* ---- convolution --------------------------------------------------------- */

struct simclr__nn_conv {
    simclr__nn_ctx *ctx;
    simclr__nn_shape src, dst;
    nn_prim fwd, bwd_data, bwd_weights;
    /* weights in the layouts the primitives chose, and the reorders from
     * and to the plain (O, I, KH, KW) master copy; unused when equal */
    nn_prim to_fwd, to_bwd, from_diff;
    void *w_fwd, *w_bwd, *dw;
};

simclr_status simclr__nn_conv_create(simclr__nn_ctx *ctx,
                                     const simclr__nn_conv_desc *desc,
                                     simclr__error *err, simclr__nn_conv **out)
{
    static const int fwd_ids[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS,
                                  DNNL_ARG_DST};
    static const int data_ids[] = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS,
                                   DNNL_ARG_DIFF_SRC};
    static const int wei_ids[] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST,
                                  DNNL_ARG_DIFF_WEIGHTS};
    simclr_status st = SIMCLR_OK;
    simclr__nn_conv *c;
    dnnl_primitive_desc_t fwd_pd = NULL, pd = NULL;
    dnnl_primitive_attr_t attr = NULL;
    nn_md src = {0}, wei = {0}, wei_any = {0}, dst = {0}, bias = {0};
    dnnl_dims_t dims, strides = {desc->stride, desc->stride},
                      pad = {desc->pad, desc->pad};

    *out = NULL;
    c = simclr__calloc(1, sizeof(*c));
    if (!c)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "out of memory for a convolution");
    c->ctx = ctx;
    c->src = desc->src;
    c->dst = (simclr__nn_shape){
        desc->src.n, desc->out_channels,
        (desc->src.h + 2 * desc->pad - desc->kernel) / desc->stride + 1,
        (desc->src.w + 2 * desc->pad - desc->kernel) / desc->stride + 1};

    /* activations in the context's layout (plain for the network's input);
     * weights in whatever layout each primitive prefers */
    NN_CHECK(err, nn_act_md(ctx, &src, c->src, desc->plain_src));
    NN_CHECK(err, nn_act_md(ctx, &dst, c->dst, false));
    dims[0] = desc->out_channels;
    dims[1] = desc->src.c;
    dims[2] = dims[3] = desc->kernel;
    NN_CHECK(err, nn_md_init(&wei, 4, dims, dnnl_oihw));
    NN_CHECK(err, nn_md_init(&wei_any, 4, dims, dnnl_format_tag_any));
    NN_CHECK(err, nn_md_init(&bias, 1, dims, dnnl_a));

    /* the user scratchpad, and the fused bias, sum and ReLU if asked */
    assert(!desc->training ||
           (!desc->bias && !desc->post_sum && !desc->post_relu));
    NN_CHECK(err, dnnl_primitive_attr_clone(&attr, ctx->attr));
    NN_CHECK(err, nn_post_ops_set(attr, desc->post_sum, desc->post_relu));
    NN_CHECK(err, nn_conv_fwd_pd(&fwd_pd, ctx->engine,
                                 desc->training ? dnnl_forward_training
                                                : dnnl_forward_inference,
                                 &src, &wei_any, desc->bias ? &bias : NULL,
                                 &dst, strides, pad, attr));
    st = nn_prim_init(ctx, &c->fwd, fwd_pd, fwd_ids, 4, err);
    if (st == SIMCLR_OK)
        st = nn_reorder_init(
            ctx, &c->to_fwd, &c->w_fwd, &wei,
            dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_weights_md, 0),
            true, err);
    if (st != SIMCLR_OK)
        goto fail;
    if (desc->training) {
        NN_CHECK(err,
                 nn_conv_bwd_weights_pd(&pd, ctx->engine, &src, &wei_any, &dst,
                                        strides, pad, fwd_pd, ctx->attr));
        st = nn_prim_init(ctx, &c->bwd_weights, pd, wei_ids, 3, err);
        if (st == SIMCLR_OK)
            st = nn_reorder_init(
                ctx, &c->from_diff, &c->dw, &wei,
                dnnl_primitive_desc_query_md(pd, dnnl_query_diff_weights_md, 0),
                false, err);
        dnnl_primitive_desc_destroy(pd);
        pd = NULL;
        if (st != SIMCLR_OK)
            goto fail;
    }
    if (desc->training && desc->need_src_grad) {
        NN_CHECK(err,
                 nn_conv_bwd_data_pd(&pd, ctx->engine, &src, &wei_any, &dst,
                                     strides, pad, fwd_pd, ctx->attr));
        st = nn_prim_init(ctx, &c->bwd_data, pd, data_ids, 3, err);
        if (st == SIMCLR_OK)
            st = nn_reorder_init(
                ctx, &c->to_bwd, &c->w_bwd, &wei,
                dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0),
                true, err);
        if (st != SIMCLR_OK)
            goto fail;
    }
    *out = c;
    c = NULL;

fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (fwd_pd)
        dnnl_primitive_desc_destroy(fwd_pd);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    nn_md_fini(&src);
    nn_md_fini(&wei);
    nn_md_fini(&wei_any);
    nn_md_fini(&bias);
    nn_md_fini(&dst);
    simclr__nn_conv_destroy(c);
    return st;
}

void simclr__nn_conv_destroy(simclr__nn_conv *c)
{
    if (!c)
        return;
    nn_prim_fini(&c->fwd);
    nn_prim_fini(&c->bwd_data);
    nn_prim_fini(&c->bwd_weights);
    nn_prim_fini(&c->to_fwd);
    nn_prim_fini(&c->to_bwd);
    nn_prim_fini(&c->from_diff);
    simclr__aligned_free(c->w_fwd);
    simclr__aligned_free(c->w_bwd);
    simclr__aligned_free(c->dw);
    simclr__free(c);
}

simclr__nn_shape simclr__nn_conv_dst_shape(const simclr__nn_conv *c)
{
    return c->dst;
}

/* The plain weights @p weight in the layout of @p reorder's target, or
 * @p weight itself when no reorder is needed. */
static simclr_status nn_weights_in(simclr__nn_ctx *ctx, nn_prim *reorder,
                                   void *buf, const float *weight,
                                   const void **out, simclr__error *err)
{
    void *bufs[2] = {NN_IN(weight), buf};

    *out = weight;
    if (!reorder->prim)
        return SIMCLR_OK;
    *out = buf;
    return nn_prim_run(ctx, reorder, bufs, err);
}

simclr_status simclr__nn_conv_forward(simclr__nn_conv *c, const float *src,
                                      const float *weight, const float *bias,
                                      float *dst, simclr__error *err)
{
    const void *w;
    simclr_status st =
        nn_weights_in(c->ctx, &c->to_fwd, c->w_fwd, weight, &w, err);
    void *bufs[] = {NN_IN(src), NN_IN(w), NN_IN(bias), dst};

    return st != SIMCLR_OK ? st : nn_prim_run(c->ctx, &c->fwd, bufs, err);
}

simclr_status simclr__nn_conv_backward(simclr__nn_conv *c, const float *src,
                                       const float *weight,
                                       const float *diff_dst, float *diff_src,
                                       float *diff_weight, simclr__error *err)
{
    void *dw = c->dw ? c->dw : diff_weight;
    void *wbufs[] = {NN_IN(src), NN_IN(diff_dst), dw};
    void *back[] = {dw, diff_weight};
    simclr_status st;
    const void *w;

    /* dL/dweight, then back to the plain layout */
    assert(c->bwd_weights.prim);
    st = nn_prim_run(c->ctx, &c->bwd_weights, wbufs, err);
    if (st == SIMCLR_OK && c->from_diff.prim)
        st = nn_prim_run(c->ctx, &c->from_diff, back, err);
    if (st != SIMCLR_OK || !diff_src)
        return st;

    /* dL/dsrc */
    assert(c->bwd_data.prim);
    st = nn_weights_in(c->ctx, &c->to_bwd, c->w_bwd, weight, &w, err);
    if (st == SIMCLR_OK) {
        void *dbufs[] = {NN_IN(diff_dst), NN_IN(w), diff_src};

        st = nn_prim_run(c->ctx, &c->bwd_data, dbufs, err);
    }
    return st;
}

/* ---- batch normalisation ------------------------------------------------- */

struct simclr__nn_bnorm {
    simclr__nn_ctx *ctx;
    nn_prim fwd, bwd;
    void *workspace; /* fused ReLU in training: its mask */
};

/* A batch norm over @p data (activations or plain (N, C) rows). */
static simclr_status nn_bnorm_init(simclr__nn_ctx *ctx, const nn_md *data,
                                   float eps, bool training, bool fuse_relu,
                                   simclr__error *err, simclr__nn_bnorm **out)
{
    static const int fwd_ids[] = {
        DNNL_ARG_SRC,  DNNL_ARG_SCALE,    DNNL_ARG_SHIFT,    DNNL_ARG_DST,
        DNNL_ARG_MEAN, DNNL_ARG_VARIANCE, DNNL_ARG_WORKSPACE};
    /* The shift comes last: only oneDNN 2.x takes it. */
    static const int bwd_ids[] = {DNNL_ARG_SRC,        DNNL_ARG_SCALE,
                                  DNNL_ARG_MEAN,       DNNL_ARG_VARIANCE,
                                  DNNL_ARG_DIFF_DST,   DNNL_ARG_DIFF_SRC,
                                  DNNL_ARG_DIFF_SCALE, DNNL_ARG_DIFF_SHIFT,
                                  DNNL_ARG_WORKSPACE,  DNNL_ARG_SHIFT};
    size_t ws_bytes;
    unsigned flags = dnnl_use_scale | dnnl_use_shift;
    simclr_status st = SIMCLR_OK;
    simclr__nn_bnorm *bn;
    dnnl_primitive_desc_t fwd_pd = NULL, pd = NULL;

    *out = NULL;
    bn = simclr__calloc(1, sizeof(*bn));
    if (!bn)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "out of memory for a batch norm");
    bn->ctx = ctx;
    if (!training)
        flags |= dnnl_use_global_stats;
    if (fuse_relu)
        flags |= dnnl_fuse_norm_relu;
    NN_CHECK(err, nn_bnorm_fwd_pd(&fwd_pd, ctx->engine,
                                  training ? dnnl_forward_training
                                           : dnnl_forward_inference,
                                  data, eps, flags, ctx->attr));
    ws_bytes = nn_md_bytes(
        dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_workspace_md, 0));
    if (ws_bytes > 0) {
        bn->workspace = simclr__aligned_malloc(ws_bytes, NN_ALIGN);
        if (!bn->workspace) {
            st = simclr__fail(err, SIMCLR_ERR_NOMEM,
                              "out of memory for a batch norm workspace");
            goto fail;
        }
    }
    st = nn_prim_init(ctx, &bn->fwd, fwd_pd, fwd_ids, 7, err);
    if (st != SIMCLR_OK)
        goto fail;
    if (training) {
        NN_CHECK(err, nn_bnorm_bwd_pd(&pd, ctx->engine, data, eps, flags,
                                      fwd_pd, ctx->attr));
        st = nn_prim_init(ctx, &bn->bwd, pd, bwd_ids,
                          9 + NN_BNORM_BWD_TAKES_SHIFT, err);
        if (st != SIMCLR_OK)
            goto fail;
    }
    *out = bn;
    bn = NULL;

fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (fwd_pd)
        dnnl_primitive_desc_destroy(fwd_pd);
    simclr__nn_bnorm_destroy(bn);
    return st;
}

simclr_status simclr__nn_bnorm_create(simclr__nn_ctx *ctx,
                                      simclr__nn_shape shape, float eps,
                                      bool training, bool fuse_relu,
                                      simclr__error *err,
                                      simclr__nn_bnorm **out)
{
    simclr_status st = SIMCLR_OK;
    nn_md data = {0};

    *out = NULL;
    NN_CHECK(err, nn_act_md(ctx, &data, shape, false));
    st = nn_bnorm_init(ctx, &data, eps, training, fuse_relu, err, out);
fail:
    nn_md_fini(&data);
    return st;
}

simclr_status simclr__nn_bnorm_rows_create(simclr__nn_ctx *ctx, int64_t n,
                                           int64_t c, float eps, bool training,
                                           bool fuse_relu, simclr__error *err,
                                           simclr__nn_bnorm **out)
{
    const dnnl_dims_t dims = {n, c};
    simclr_status st = SIMCLR_OK;
    nn_md data = {0};

    *out = NULL;
    NN_CHECK(err, nn_md_init(&data, 2, dims, dnnl_ab));
    st = nn_bnorm_init(ctx, &data, eps, training, fuse_relu, err, out);
fail:
    nn_md_fini(&data);
    return st;
}

void simclr__nn_bnorm_destroy(simclr__nn_bnorm *bn)
{
    if (!bn)
        return;
    nn_prim_fini(&bn->fwd);
    nn_prim_fini(&bn->bwd);
    simclr__aligned_free(bn->workspace);
    simclr__free(bn);
}

simclr_status simclr__nn_bnorm_forward_train(
    simclr__nn_bnorm *bn, const float *src, const float *scale,
    const float *shift, float *dst, float *mean, float *var, simclr__error *err)
{
    void *bufs[] = {NN_IN(src), NN_IN(scale), NN_IN(shift), dst,
                    mean,       var,          bn->workspace};

    return nn_prim_run(bn->ctx, &bn->fwd, bufs, err);
}

simclr_status
simclr__nn_bnorm_forward_infer(simclr__nn_bnorm *bn, const float *src,
                               const float *scale, const float *shift,
                               const float *mean, const float *var, float *dst,
                               simclr__error *err)
{
    void *bufs[] = {NN_IN(src),  NN_IN(scale), NN_IN(shift), dst,
                    NN_IN(mean), NN_IN(var),   bn->workspace};

    return nn_prim_run(bn->ctx, &bn->fwd, bufs, err);
}

simclr_status simclr__nn_bnorm_backward(simclr__nn_bnorm *bn, const float *src,
                                        const float *scale, const float *shift,
                                        const float *mean, const float *var,
                                        const float *diff_dst, float *diff_src,
                                        float *diff_scale, float *diff_shift,
                                        simclr__error *err)
{
    void *bufs[] = {NN_IN(src), NN_IN(scale),    NN_IN(mean),
                    NN_IN(var), NN_IN(diff_dst), diff_src,
                    diff_scale, diff_shift,      bn->workspace,
                    NN_IN(shift)};

    assert(bn->bwd.prim);
    return nn_prim_run(bn->ctx, &bn->bwd, bufs, err);
}

/* ---- ReLU ------------------------------------------------------------------
 */

struct simclr__nn_relu {
    simclr__nn_ctx *ctx;
    nn_prim fwd, bwd;
};

/* A ReLU over @p data (activations or plain (N, C) rows). */
static simclr_status nn_relu_init(simclr__nn_ctx *ctx, const nn_md *data,
                                  bool training, simclr__error *err,
                                  simclr__nn_relu **out)
{
    static const int fwd_ids[] = {DNNL_ARG_SRC, DNNL_ARG_DST};
    static const int bwd_ids[] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST,
                                  DNNL_ARG_DIFF_SRC};
    simclr_status st = SIMCLR_OK;
    simclr__nn_relu *r;
    dnnl_primitive_desc_t fwd_pd = NULL, pd = NULL;

    *out = NULL;
    r = simclr__calloc(1, sizeof(*r));
    if (!r)
        return simclr__fail(err, SIMCLR_ERR_NOMEM, "out of memory for a ReLU");
    r->ctx = ctx;
    NN_CHECK(err, nn_eltwise_fwd_pd(
                      &fwd_pd, ctx->engine,
                      training ? dnnl_forward_training : dnnl_forward_inference,
                      dnnl_eltwise_relu, data, 0.f, 0.f, ctx->attr));
    st = nn_prim_init(ctx, &r->fwd, fwd_pd, fwd_ids, 2, err);
    if (st != SIMCLR_OK)
        goto fail;
    if (training) {
        NN_CHECK(err, nn_eltwise_bwd_pd(&pd, ctx->engine, dnnl_eltwise_relu,
                                        data, 0.f, 0.f, fwd_pd, ctx->attr));
        st = nn_prim_init(ctx, &r->bwd, pd, bwd_ids, 3, err);
        if (st != SIMCLR_OK)
            goto fail;
    }
    *out = r;
    r = NULL;

fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (fwd_pd)
        dnnl_primitive_desc_destroy(fwd_pd);
    simclr__nn_relu_destroy(r);
    return st;
}

simclr_status simclr__nn_relu_create(simclr__nn_ctx *ctx,
                                     simclr__nn_shape shape, bool training,
                                     simclr__error *err, simclr__nn_relu **out)
{
    simclr_status st = SIMCLR_OK;
    nn_md data = {0};

    *out = NULL;
    NN_CHECK(err, nn_act_md(ctx, &data, shape, false));
    st = nn_relu_init(ctx, &data, training, err, out);
fail:
    nn_md_fini(&data);
    return st;
}

simclr_status simclr__nn_relu_rows_create(simclr__nn_ctx *ctx, int64_t n,
                                          int64_t c, bool training,
                                          simclr__error *err,
                                          simclr__nn_relu **out)
{
    const dnnl_dims_t dims = {n, c};
    simclr_status st = SIMCLR_OK;
    nn_md data = {0};

    *out = NULL;
    NN_CHECK(err, nn_md_init(&data, 2, dims, dnnl_ab));
    st = nn_relu_init(ctx, &data, training, err, out);
fail:
    nn_md_fini(&data);
    return st;
}

void simclr__nn_relu_destroy(simclr__nn_relu *r)
{
    if (!r)
        return;
    nn_prim_fini(&r->fwd);
    nn_prim_fini(&r->bwd);
    simclr__free(r);
}

simclr_status simclr__nn_relu_forward(simclr__nn_relu *r, const float *src,
                                      float *dst, simclr__error *err)
{
    void *bufs[] = {NN_IN(src), dst};

    return nn_prim_run(r->ctx, &r->fwd, bufs, err);
}

simclr_status simclr__nn_relu_backward(simclr__nn_relu *r, const float *src,
                                       const float *diff_dst, float *diff_src,
                                       simclr__error *err)
{
    void *bufs[] = {NN_IN(src), NN_IN(diff_dst), diff_src};

    assert(r->bwd.prim);
    return nn_prim_run(r->ctx, &r->bwd, bufs, err);
}

/* ---- pooling ----------------------------------------------------------------
 */

struct simclr__nn_pool {
    simclr__nn_ctx *ctx;
    simclr__nn_shape src, dst;
    nn_prim fwd, bwd;
    void *workspace; /* max pooling in training: where each max came from */
};

simclr_status simclr__nn_pool_create(simclr__nn_ctx *ctx,
                                     simclr__nn_shape src_shape,
                                     simclr__nn_pool_kind kind, int64_t kernel,
                                     int64_t stride, int64_t pad,
                                     bool plain_dst, bool training,
                                     simclr__error *err, simclr__nn_pool **out)
{
    static const int fwd_ids[] = {DNNL_ARG_SRC, DNNL_ARG_DST,
                                  DNNL_ARG_WORKSPACE};
    static const int bwd_ids[] = {DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC,
                                  DNNL_ARG_WORKSPACE};
    dnnl_alg_kind_t alg = kind == SIMCLR__NN_POOL_MAX
                              ? dnnl_pooling_max
                              : dnnl_pooling_avg_exclude_padding;
    simclr_status st = SIMCLR_OK;
    simclr__nn_pool *p;
    dnnl_primitive_desc_t fwd_pd = NULL, pd = NULL;
    nn_md src = {0}, dst = {0};
    dnnl_dims_t kernels, strides, pads;
    size_t ws_bytes;
    int nargs;

    *out = NULL;
    p = simclr__calloc(1, sizeof(*p));
    if (!p)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "out of memory for a pooling layer");
    p->ctx = ctx;
    p->src = src_shape;
    if (kernel == 0) {
        kernels[0] = src_shape.h;
        kernels[1] = src_shape.w;
        stride = 1;
        pad = 0;
    } else {
        kernels[0] = kernels[1] = kernel;
    }
    strides[0] = strides[1] = stride;
    pads[0] = pads[1] = pad;
    p->dst =
        (simclr__nn_shape){src_shape.n, src_shape.c,
                           (src_shape.h + 2 * pad - kernels[0]) / stride + 1,
                           (src_shape.w + 2 * pad - kernels[1]) / stride + 1};

    NN_CHECK(err, nn_act_md(ctx, &src, p->src, false));
    NN_CHECK(err, nn_act_md(ctx, &dst, p->dst, plain_dst));
    NN_CHECK(err, nn_pool_fwd_pd(
                      &fwd_pd, ctx->engine,
                      training ? dnnl_forward_training : dnnl_forward_inference,
                      alg, &src, &dst, kernels, strides, pads, ctx->attr));
    ws_bytes = nn_md_bytes(
        dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_workspace_md, 0));
    nargs = ws_bytes > 0 ? 3 : 2;
    if (ws_bytes > 0) {
        p->workspace = simclr__aligned_malloc(ws_bytes, NN_ALIGN);
        if (!p->workspace) {
            st = simclr__fail(err, SIMCLR_ERR_NOMEM,
                              "out of memory for a pooling workspace");
            goto fail;
        }
    }
    st = nn_prim_init(ctx, &p->fwd, fwd_pd, fwd_ids, nargs, err);
    if (st != SIMCLR_OK)
        goto fail;
    if (training) {
        NN_CHECK(err, nn_pool_bwd_pd(&pd, ctx->engine, alg, &src, &dst, kernels,
                                     strides, pads, fwd_pd, ctx->attr));
        st = nn_prim_init(ctx, &p->bwd, pd, bwd_ids, nargs, err);
        if (st != SIMCLR_OK)
            goto fail;
    }
    *out = p;
    p = NULL;

fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (fwd_pd)
        dnnl_primitive_desc_destroy(fwd_pd);
    nn_md_fini(&src);
    nn_md_fini(&dst);
    simclr__nn_pool_destroy(p);
    return st;
}

void simclr__nn_pool_destroy(simclr__nn_pool *p)
{
    if (!p)
        return;
    nn_prim_fini(&p->fwd);
    nn_prim_fini(&p->bwd);
    simclr__aligned_free(p->workspace);
    simclr__free(p);
}

simclr__nn_shape simclr__nn_pool_dst_shape(const simclr__nn_pool *p)
{
    return p->dst;
}

simclr_status simclr__nn_pool_forward(simclr__nn_pool *p, const float *src,
                                      float *dst, simclr__error *err)
{
    void *bufs[] = {NN_IN(src), dst, p->workspace};

    return nn_prim_run(p->ctx, &p->fwd, bufs, err);
}

simclr_status simclr__nn_pool_backward(simclr__nn_pool *p,
                                       const float *diff_dst, float *diff_src,
                                       simclr__error *err)
{
    void *bufs[] = {NN_IN(diff_dst), diff_src, p->workspace};

    assert(p->bwd.prim);
    return nn_prim_run(p->ctx, &p->bwd, bufs, err);
}

/* ---- element-wise sum
 * -------------------------------------------------------- */

struct simclr__nn_add {
    simclr__nn_ctx *ctx;
    nn_prim prim;
};

simclr_status simclr__nn_add_create(simclr__nn_ctx *ctx, simclr__nn_shape shape,
                                    simclr__error *err, simclr__nn_add **out)
{
    static const int ids[] = {DNNL_ARG_SRC_0, DNNL_ARG_SRC_1, DNNL_ARG_DST};
    simclr_status st = SIMCLR_OK;
    simclr__nn_add *a;
    dnnl_primitive_desc_t pd = NULL;
    nn_md data = {0};

    *out = NULL;
    a = simclr__calloc(1, sizeof(*a));
    if (!a)
        return simclr__fail(err, SIMCLR_ERR_NOMEM, "out of memory for a sum");
    a->ctx = ctx;
    NN_CHECK(err, nn_act_md(ctx, &data, shape, false));
    NN_CHECK(err, nn_binary_pd(&pd, ctx->engine, dnnl_binary_add, &data, &data,
                               &data, ctx->attr));
    st = nn_prim_init(ctx, &a->prim, pd, ids, 3, err);
    if (st != SIMCLR_OK)
        goto fail;
    *out = a;
    a = NULL;

fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    nn_md_fini(&data);
    simclr__nn_add_destroy(a);
    return st;
}

void simclr__nn_add_destroy(simclr__nn_add *a)
{
    if (!a)
        return;
    nn_prim_fini(&a->prim);
    simclr__free(a);
}

simclr_status simclr__nn_add_forward(simclr__nn_add *a, const float *x,
                                     const float *y, float *dst,
                                     simclr__error *err)
{
    void *bufs[] = {NN_IN(x), NN_IN(y), dst};

    return nn_prim_run(a->ctx, &a->prim, bufs, err);
}

/* ---- dense layer ----------------------------------------------------------
 */

struct simclr__nn_dense {
    simclr__nn_ctx *ctx;
    nn_prim fwd, bwd_data, bwd_weights;
    /* weights in the layouts the primitives chose, and the reorders from
     * and to the plain (O, I) master copy; unused when equal */
    nn_prim to_fwd, to_bwd, from_diff;
    void *w_fwd, *w_bwd, *dw;
};

simclr_status simclr__nn_dense_create(simclr__nn_ctx *ctx,
                                      const simclr__nn_dense_desc *desc,
                                      simclr__error *err,
                                      simclr__nn_dense **out)
{
    static const int fwd_ids[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS,
                                  DNNL_ARG_DST};
    static const int data_ids[] = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS,
                                   DNNL_ARG_DIFF_SRC};
    static const int wei_ids[] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST,
                                  DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_BIAS};
    const dnnl_dims_t src_dims = {desc->n, desc->in},
                      dst_dims = {desc->n, desc->out},
                      wei_dims = {desc->out, desc->in}, bias_dims = {desc->out};
    simclr_status st = SIMCLR_OK;
    simclr__nn_dense *d;
    dnnl_primitive_desc_t fwd_pd = NULL, pd = NULL;
    nn_md src = {0}, wei = {0}, wei_any = {0}, bias = {0}, dst = {0};
    const nn_md *bias_md = desc->bias ? &bias : NULL;

    *out = NULL;
    d = simclr__calloc(1, sizeof(*d));
    if (!d)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "out of memory for a dense layer");
    d->ctx = ctx;

    /* rows (N, I) and (N, O) plain; weights in whatever layout each
     * primitive prefers, reordered from and to PyTorch's (O, I) */
    NN_CHECK(err, nn_md_init(&src, 2, src_dims, dnnl_ab));
    NN_CHECK(err, nn_md_init(&dst, 2, dst_dims, dnnl_ab));
    NN_CHECK(err, nn_md_init(&wei, 2, wei_dims, dnnl_ab));
    NN_CHECK(err, nn_md_init(&wei_any, 2, wei_dims, dnnl_format_tag_any));
    NN_CHECK(err, nn_md_init(&bias, 1, bias_dims, dnnl_a));
    NN_CHECK(err, nn_ip_fwd_pd(&fwd_pd, ctx->engine,
                               desc->training ? dnnl_forward_training
                                              : dnnl_forward_inference,
                               &src, &wei_any, bias_md, &dst, ctx->attr));
    st = nn_prim_init(ctx, &d->fwd, fwd_pd, fwd_ids, 4, err);
    if (st == SIMCLR_OK)
        st = nn_reorder_init(
            ctx, &d->to_fwd, &d->w_fwd, &wei,
            dnnl_primitive_desc_query_md(fwd_pd, dnnl_query_weights_md, 0),
            true, err);
    if (st != SIMCLR_OK)
        goto fail;
    if (desc->training) {
        NN_CHECK(err, nn_ip_bwd_weights_pd(&pd, ctx->engine, &src, &wei_any,
                                           bias_md, &dst, fwd_pd, ctx->attr));
        st = nn_prim_init(ctx, &d->bwd_weights, pd, wei_ids, 4, err);
        if (st == SIMCLR_OK)
            st = nn_reorder_init(
                ctx, &d->from_diff, &d->dw, &wei,
                dnnl_primitive_desc_query_md(pd, dnnl_query_diff_weights_md, 0),
                false, err);
        dnnl_primitive_desc_destroy(pd);
        pd = NULL;
        if (st != SIMCLR_OK)
            goto fail;
    }
    if (desc->training && desc->need_src_grad) {
        NN_CHECK(err, nn_ip_bwd_data_pd(&pd, ctx->engine, &src, &wei_any, &dst,
                                        fwd_pd, ctx->attr));
        st = nn_prim_init(ctx, &d->bwd_data, pd, data_ids, 3, err);
        if (st == SIMCLR_OK)
            st = nn_reorder_init(
                ctx, &d->to_bwd, &d->w_bwd, &wei,
                dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0),
                true, err);
        if (st != SIMCLR_OK)
            goto fail;
    }
    *out = d;
    d = NULL;

fail:
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (fwd_pd)
        dnnl_primitive_desc_destroy(fwd_pd);
    nn_md_fini(&src);
    nn_md_fini(&wei);
    nn_md_fini(&wei_any);
    nn_md_fini(&bias);
    nn_md_fini(&dst);
    simclr__nn_dense_destroy(d);
    return st;
}

void simclr__nn_dense_destroy(simclr__nn_dense *d)
{
    if (!d)
        return;
    nn_prim_fini(&d->fwd);
    nn_prim_fini(&d->bwd_data);
    nn_prim_fini(&d->bwd_weights);
    nn_prim_fini(&d->to_fwd);
    nn_prim_fini(&d->to_bwd);
    nn_prim_fini(&d->from_diff);
    simclr__aligned_free(d->w_fwd);
    simclr__aligned_free(d->w_bwd);
    simclr__aligned_free(d->dw);
    simclr__free(d);
}

simclr_status simclr__nn_dense_forward(simclr__nn_dense *d, const float *src,
                                       const float *weight, const float *bias,
                                       float *dst, simclr__error *err)
{
    const void *w;
    simclr_status st =
        nn_weights_in(d->ctx, &d->to_fwd, d->w_fwd, weight, &w, err);
    void *bufs[] = {NN_IN(src), NN_IN(w), NN_IN(bias), dst};

    return st != SIMCLR_OK ? st : nn_prim_run(d->ctx, &d->fwd, bufs, err);
}

simclr_status simclr__nn_dense_backward(simclr__nn_dense *d, const float *src,
                                        const float *weight,
                                        const float *diff_dst, float *diff_src,
                                        float *diff_weight, float *diff_bias,
                                        simclr__error *err)
{
    void *dw = d->dw ? d->dw : diff_weight;
    void *wbufs[] = {NN_IN(src), NN_IN(diff_dst), dw, diff_bias};
    void *back[] = {dw, diff_weight};
    simclr_status st;
    const void *w;

    /* dL/dweight and dL/dbias, then the weights' back to (O, I) */
    assert(d->bwd_weights.prim);
    st = nn_prim_run(d->ctx, &d->bwd_weights, wbufs, err);
    if (st == SIMCLR_OK && d->from_diff.prim)
        st = nn_prim_run(d->ctx, &d->from_diff, back, err);
    if (st != SIMCLR_OK || !diff_src)
        return st;

    /* dL/dsrc */
    assert(d->bwd_data.prim);
    st = nn_weights_in(d->ctx, &d->to_bwd, d->w_bwd, weight, &w, err);
    if (st == SIMCLR_OK) {
        void *dbufs[] = {NN_IN(diff_dst), NN_IN(w), diff_src};

        st = nn_prim_run(d->ctx, &d->bwd_data, dbufs, err);
    }
    return st;
}
