/*
 * The one place where oneDNN 2.x and 3.x differ for this library: how
 * memory descriptors are made and how primitive descriptors are created.
 *
 * 2.x describes an operation in a descriptor struct (*_desc_init) and then
 * calls dnnl_primitive_desc_create(); its memory descriptors are structs
 * passed by address. 3.x creates each primitive descriptor in one call
 * (dnnl_*_primitive_desc_create) and its memory descriptors are handles
 * that must be destroyed. Everything else in lib/nn is written once.
 */
#ifndef SIMCLR_LIB_NN_COMPAT_H
#define SIMCLR_LIB_NN_COMPAT_H

#include <oneapi/dnnl/dnnl.h>

/* A memory descriptor owned by the caller; release with nn_md_fini(). */
typedef struct nn_md {
    dnnl_memory_desc_t md;
} nn_md;

#if DNNL_VERSION_MAJOR >= 3
typedef const_dnnl_memory_desc_t nn_md_arg;
#define NN_MD(m) ((m)->md)
#else
typedef const dnnl_memory_desc_t *nn_md_arg;
#define NN_MD(m) (&(m)->md)
#endif

/* Whether batch norm's backward pass takes the shift as an input: oneDNN
 * 2.x requires it (with dnnl_use_shift), 3.x refuses it. */
#if DNNL_VERSION_MAJOR >= 3
#define NN_BNORM_BWD_TAKES_SHIFT 0
#else
#define NN_BNORM_BWD_TAKES_SHIFT 1
#endif

/* A plain f32 descriptor: dims in (N, C, H, W) order of @p ndims entries. */
dnnl_status_t nn_md_init(nn_md *m, int ndims, const dnnl_dims_t dims,
                         dnnl_format_tag_t tag);
void nn_md_fini(nn_md *m);

/* Post-ops of a primitive: add the destination's old value (sum), then
 * ReLU, each if asked, in that order. */
dnnl_status_t nn_post_ops_set(dnnl_primitive_attr_t attr, int sum, int relu);

/* Convolution, no dilation, symmetric padding; @p bias may be NULL. */
dnnl_status_t nn_conv_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                             dnnl_prop_kind_t prop, const nn_md *src,
                             const nn_md *wei, const nn_md *bias,
                             const nn_md *dst, const dnnl_dims_t strides,
                             const dnnl_dims_t pad,
                             const_dnnl_primitive_attr_t attr);
dnnl_status_t nn_conv_bwd_data_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                  const nn_md *diff_src, const nn_md *wei,
                                  const nn_md *diff_dst,
                                  const dnnl_dims_t strides,
                                  const dnnl_dims_t pad,
                                  const_dnnl_primitive_desc_t hint,
                                  const_dnnl_primitive_attr_t attr);
dnnl_status_t
nn_conv_bwd_weights_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                       const nn_md *src, const nn_md *diff_wei,
                       const nn_md *diff_dst, const dnnl_dims_t strides,
                       const dnnl_dims_t pad, const_dnnl_primitive_desc_t hint,
                       const_dnnl_primitive_attr_t attr);

/* Batch normalisation; source and destination share @p data. */
dnnl_status_t nn_bnorm_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                              dnnl_prop_kind_t prop, const nn_md *data,
                              float eps, unsigned flags,
                              const_dnnl_primitive_attr_t attr);
dnnl_status_t nn_bnorm_bwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                              const nn_md *data, float eps, unsigned flags,
                              const_dnnl_primitive_desc_t hint,
                              const_dnnl_primitive_attr_t attr);

/* Element-wise; source and destination share @p data. */
dnnl_status_t nn_eltwise_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                dnnl_prop_kind_t prop, dnnl_alg_kind_t alg,
                                const nn_md *data, float alpha, float beta,
                                const_dnnl_primitive_attr_t attr);
dnnl_status_t nn_eltwise_bwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                dnnl_alg_kind_t alg, const nn_md *data,
                                float alpha, float beta,
                                const_dnnl_primitive_desc_t hint,
                                const_dnnl_primitive_attr_t attr);

/* Pooling, no dilation, symmetric padding. */
dnnl_status_t nn_pool_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                             dnnl_prop_kind_t prop, dnnl_alg_kind_t alg,
                             const nn_md *src, const nn_md *dst,
                             const dnnl_dims_t kernel,
                             const dnnl_dims_t strides, const dnnl_dims_t pad,
                             const_dnnl_primitive_attr_t attr);
dnnl_status_t nn_pool_bwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                             dnnl_alg_kind_t alg, const nn_md *diff_src,
                             const nn_md *diff_dst, const dnnl_dims_t kernel,
                             const dnnl_dims_t strides, const dnnl_dims_t pad,
                             const_dnnl_primitive_desc_t hint,
                             const_dnnl_primitive_attr_t attr);

/* Inner product (dense layer) on 2-D (N, I) data, weights (O, I); @p bias
 * may be NULL (no bias; for the weights' backward, no bias gradient). */
dnnl_status_t nn_ip_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                           dnnl_prop_kind_t prop, const nn_md *src,
                           const nn_md *wei, const nn_md *bias,
                           const nn_md *dst, const_dnnl_primitive_attr_t attr);
dnnl_status_t nn_ip_bwd_data_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                const nn_md *diff_src, const nn_md *wei,
                                const nn_md *diff_dst,
                                const_dnnl_primitive_desc_t hint,
                                const_dnnl_primitive_attr_t attr);
dnnl_status_t nn_ip_bwd_weights_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                   const nn_md *src, const nn_md *diff_wei,
                                   const nn_md *diff_bias,
                                   const nn_md *diff_dst,
                                   const_dnnl_primitive_desc_t hint,
                                   const_dnnl_primitive_attr_t attr);

/* Element-wise binary operation dst = src0 (op) src1. */
dnnl_status_t nn_binary_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                           dnnl_alg_kind_t alg, const nn_md *src0,
                           const nn_md *src1, const nn_md *dst,
                           const_dnnl_primitive_attr_t attr);

#endif /* SIMCLR_LIB_NN_COMPAT_H */
