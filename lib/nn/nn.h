/*
 * The compute layer: convolution, batch normalisation, ReLU, pooling, the
 * residual add and the dense layer, each a oneDNN primitive made once for
 * one shape and then run on caller buffers. Nothing outside lib/nn sees
 * oneDNN's types.
 *
 * Weights and per-channel vectors are float32 in PyTorch's plain layouts
 * (O, I, KH, KW) and (C); the layers reorder weights to the layouts their
 * primitives prefer and gradients back. Activations between layers are in
 * one layout a context picks for the CPU (for example channel blocks of
 * 16), sized by simclr__nn_act_bytes(); only the network's input (a
 * convolution with plain_src) and output (a pooling with plain_dst) are
 * plain (N, C, H, W). An object
 * keeps its primitives and the memory objects bound to them, so one object
 * is used by one thread at a time; several objects made for the same shape
 * may run at once (each has its own scratchpad).
 *
 * Every function that fails records a message in @p err (may be NULL) and
 * the thread's last error; oneDNN failures become SIMCLR_ERR_BACKEND with
 * oneDNN's own status text in the message.
 */
#ifndef SIMCLR_LIB_NN_H
#define SIMCLR_LIB_NN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* Element type of the activations a layer computes in. Master weights and
 * gradients stay float32; only F32 is built so far. */
typedef enum simclr__nn_dtype { SIMCLR__NN_F32 = 0 } simclr__nn_dtype;

/* An activation shape (N, C, H, W). */
typedef struct simclr__nn_shape {
    int64_t n, c, h, w;
} simclr__nn_shape;

/* Elements of a shape (no overflow: shapes are checked when made). */
static inline size_t simclr__nn_numel(simclr__nn_shape s)
{
    return (size_t)s.n * (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

/* The CPU engine and a stream on it. One context per thread of use. */
typedef struct simclr__nn_ctx simclr__nn_ctx;

simclr_status simclr__nn_ctx_create(simclr__error *err, simclr__nn_ctx **out);
void simclr__nn_ctx_destroy(simclr__nn_ctx *ctx);

/* Run a stretch of compute with the library's thread budget. */
void simclr__nn_threads_begin(void);

/* Bytes of an activation of shape @p s in the context's layout. */
simclr_status simclr__nn_act_bytes(const simclr__nn_ctx *ctx,
                                   simclr__nn_shape s, size_t *bytes,
                                   simclr__error *err);

/* ---- convolution (no bias) ---------------------------------------------- */

typedef struct simclr__nn_conv simclr__nn_conv;

typedef struct simclr__nn_conv_desc {
    simclr__nn_shape src; /* (N, C, H, W) */
    int64_t out_channels;
    int64_t kernel, stride, pad; /* square kernel, same on both sides */
    bool training;               /* also make the backward primitives */
    bool need_src_grad;          /* training: make backward-data too */
    bool plain_src;              /* src is plain NCHW (the network input) */
    /* inference only: a bias (C), then dst += the result instead of
     * dst = (sum), then ReLU, fused into the convolution */
    bool bias, post_sum, post_relu;
    simclr__nn_dtype dtype;
} simclr__nn_conv_desc;

simclr_status simclr__nn_conv_create(simclr__nn_ctx *ctx,
                                     const simclr__nn_conv_desc *desc,
                                     simclr__error *err, simclr__nn_conv **out);
void simclr__nn_conv_destroy(simclr__nn_conv *conv);
simclr__nn_shape simclr__nn_conv_dst_shape(const simclr__nn_conv *conv);

/* dst (N, O, OH, OW) = conv(src (N, C, H, W), weight (O, C, K, K)) +
 * bias (O), with the post-ops; @p bias is NULL without one. */
simclr_status simclr__nn_conv_forward(simclr__nn_conv *conv, const float *src,
                                      const float *weight, const float *bias,
                                      float *dst, simclr__error *err);
/* diff_weight = dL/dweight (overwritten); diff_src = dL/dsrc when not
 * NULL (needs need_src_grad). */
simclr_status simclr__nn_conv_backward(simclr__nn_conv *conv, const float *src,
                                       const float *weight,
                                       const float *diff_dst, float *diff_src,
                                       float *diff_weight, simclr__error *err);

/* ---- batch normalisation ------------------------------------------------ */

typedef struct simclr__nn_bnorm simclr__nn_bnorm;

/* With @p fuse_relu the layer computes ReLU(BN(src)) in one pass; its
 * backward then takes the gradient of that output, and a training
 * forward keeps the ReLU's mask inside the object for the backward of the
 * same batch. */
simclr_status simclr__nn_bnorm_create(simclr__nn_ctx *ctx,
                                      simclr__nn_shape shape, float eps,
                                      bool training, bool fuse_relu,
                                      simclr__error *err,
                                      simclr__nn_bnorm **out);
void simclr__nn_bnorm_destroy(simclr__nn_bnorm *bn);

/* The same over plain rows (N, C): batch norm of a dense layer's output
 * (PyTorch's BatchNorm1d), statistics over the N rows. */
simclr_status simclr__nn_bnorm_rows_create(simclr__nn_ctx *ctx, int64_t n,
                                           int64_t c, float eps, bool training,
                                           bool fuse_relu, simclr__error *err,
                                           simclr__nn_bnorm **out);

/* Training: normalise with the batch statistics, which are written to
 * mean and var (C each; var is the biased variance). */
simclr_status simclr__nn_bnorm_forward_train(simclr__nn_bnorm *bn,
                                             const float *src,
                                             const float *scale,
                                             const float *shift, float *dst,
                                             float *mean, float *var,
                                             simclr__error *err);
/* Inference: normalise with the given (running) statistics. */
simclr_status
simclr__nn_bnorm_forward_infer(simclr__nn_bnorm *bn, const float *src,
                               const float *scale, const float *shift,
                               const float *mean, const float *var, float *dst,
                               simclr__error *err);
/* Gradients of a training forward: diff_src, diff_scale, diff_shift. */
simclr_status simclr__nn_bnorm_backward(simclr__nn_bnorm *bn, const float *src,
                                        const float *scale, const float *shift,
                                        const float *mean, const float *var,
                                        const float *diff_dst, float *diff_src,
                                        float *diff_scale, float *diff_shift,
                                        simclr__error *err);

/* ---- ReLU ---------------------------------------------------------------- */

typedef struct simclr__nn_relu simclr__nn_relu;

simclr_status simclr__nn_relu_create(simclr__nn_ctx *ctx,
                                     simclr__nn_shape shape, bool training,
                                     simclr__error *err, simclr__nn_relu **out);
/* The same over plain rows (N, C). */
simclr_status simclr__nn_relu_rows_create(simclr__nn_ctx *ctx, int64_t n,
                                          int64_t c, bool training,
                                          simclr__error *err,
                                          simclr__nn_relu **out);
void simclr__nn_relu_destroy(simclr__nn_relu *relu);
simclr_status simclr__nn_relu_forward(simclr__nn_relu *relu, const float *src,
                                      float *dst, simclr__error *err);
/* diff_src = diff_dst where src > 0, else 0. */
simclr_status simclr__nn_relu_backward(simclr__nn_relu *relu, const float *src,
                                       const float *diff_dst, float *diff_src,
                                       simclr__error *err);

/* ---- pooling ---------------------------------------------------------------
 */

typedef enum simclr__nn_pool_kind {
    SIMCLR__NN_POOL_MAX = 0,
    SIMCLR__NN_POOL_AVG = 1 /* padding excluded from the average */
} simclr__nn_pool_kind;

typedef struct simclr__nn_pool simclr__nn_pool;

/* kernel 0 means the whole H x W (global pooling, stride 1, no pad). */
simclr_status simclr__nn_pool_create(simclr__nn_ctx *ctx, simclr__nn_shape src,
                                     simclr__nn_pool_kind kind, int64_t kernel,
                                     int64_t stride, int64_t pad,
                                     bool plain_dst, bool training,
                                     simclr__error *err, simclr__nn_pool **out);
void simclr__nn_pool_destroy(simclr__nn_pool *pool);
simclr__nn_shape simclr__nn_pool_dst_shape(const simclr__nn_pool *pool);
/* Max pooling in training keeps the arg-max inside the object for the
 * backward of the same batch. */
simclr_status simclr__nn_pool_forward(simclr__nn_pool *pool, const float *src,
                                      float *dst, simclr__error *err);
simclr_status simclr__nn_pool_backward(simclr__nn_pool *pool,
                                       const float *diff_dst, float *diff_src,
                                       simclr__error *err);

/* ---- element-wise sum ------------------------------------------------------
 */

typedef struct simclr__nn_add simclr__nn_add;

simclr_status simclr__nn_add_create(simclr__nn_ctx *ctx, simclr__nn_shape shape,
                                    simclr__error *err, simclr__nn_add **out);
void simclr__nn_add_destroy(simclr__nn_add *add);
/* dst = a + b; dst may be a or b. */
simclr_status simclr__nn_add_forward(simclr__nn_add *add, const float *a,
                                     const float *b, float *dst,
                                     simclr__error *err);

/* ---- dense layer (inner product) ------------------------------------------
 */

typedef struct simclr__nn_dense simclr__nn_dense;

/* Caller buffers are plain: src (N, I), dst (N, O), weight (O, I) as
 * PyTorch's Linear, bias (O). The layer reorders the weights into the
 * layout its primitives prefer (blocked on AVX-512) and the weight
 * gradient back; the plain-weight GEMM path of oneDNN 2.6 reads past its
 * own packing buffers, which valgrind reports. */
typedef struct simclr__nn_dense_desc {
    int64_t n, in, out;
    bool bias;          /* with a bias (O) */
    bool training;      /* also make the backward primitives */
    bool need_src_grad; /* training: make backward-data too */
} simclr__nn_dense_desc;

simclr_status simclr__nn_dense_create(simclr__nn_ctx *ctx,
                                      const simclr__nn_dense_desc *desc,
                                      simclr__error *err,
                                      simclr__nn_dense **out);
void simclr__nn_dense_destroy(simclr__nn_dense *dense);
/* dst = src weight^T + bias; @p bias is NULL without one. */
simclr_status simclr__nn_dense_forward(simclr__nn_dense *dense,
                                       const float *src, const float *weight,
                                       const float *bias, float *dst,
                                       simclr__error *err);
/* diff_weight and diff_bias (when the layer has one) overwritten;
 * diff_src = dL/dsrc when not NULL (needs need_src_grad). */
simclr_status simclr__nn_dense_backward(simclr__nn_dense *dense,
                                        const float *src, const float *weight,
                                        const float *diff_dst, float *diff_src,
                                        float *diff_weight, float *diff_bias,
                                        simclr__error *err);

#endif /* SIMCLR_LIB_NN_H */
