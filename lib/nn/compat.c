/*
 * oneDNN 2.x and 3.x primitive-descriptor creation behind one interface
 * (see compat.h). The 3.x branch follows the C API of oneDNN 3.0 and later.
 */
#include "compat.h"

#if DNNL_VERSION_MAJOR >= 3

/* ---- oneDNN 3.x -------------------------------------------------------- */

dnnl_status_t nn_md_init(nn_md *m, int ndims, const dnnl_dims_t dims,
                         dnnl_format_tag_t tag)
{
    m->md = NULL;
    return dnnl_memory_desc_create_with_tag(&m->md, ndims, dims, dnnl_f32, tag);
}

void nn_md_fini(nn_md *m)
{
    if (m->md)
        dnnl_memory_desc_destroy(m->md);
    m->md = NULL;
}

static dnnl_status_t nn_post_ops_append(dnnl_post_ops_t po, int sum, int relu)
{
    dnnl_status_t s = dnnl_success;

    if (sum)
        s = dnnl_post_ops_append_sum(po, 1.f, 0, dnnl_data_type_undef);
    if (s == dnnl_success && relu)
        s = dnnl_post_ops_append_eltwise(po, dnnl_eltwise_relu, 0.f, 0.f);
    return s;
}

dnnl_status_t nn_conv_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                             dnnl_prop_kind_t prop, const nn_md *src,
                             const nn_md *wei, const nn_md *bias,
                             const nn_md *dst, const dnnl_dims_t strides,
                             const dnnl_dims_t pad,
                             const_dnnl_primitive_attr_t attr)
{
    const dnnl_dims_t no_dilation = {0, 0};

    return dnnl_convolution_forward_primitive_desc_create(
        pd, eng, prop, dnnl_convolution_direct, src->md, wei->md,
        bias ? bias->md : NULL, dst->md, strides, no_dilation, pad, pad, attr);
}

dnnl_status_t nn_conv_bwd_data_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                  const nn_md *diff_src, const nn_md *wei,
                                  const nn_md *diff_dst,
                                  const dnnl_dims_t strides,
                                  const dnnl_dims_t pad,
                                  const_dnnl_primitive_desc_t hint,
                                  const_dnnl_primitive_attr_t attr)
{
    const dnnl_dims_t no_dilation = {0, 0};

    return dnnl_convolution_backward_data_primitive_desc_create(
        pd, eng, dnnl_convolution_direct, diff_src->md, wei->md, diff_dst->md,
        strides, no_dilation, pad, pad, hint, attr);
}

dnnl_status_t
nn_conv_bwd_weights_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                       const nn_md *src, const nn_md *diff_wei,
                       const nn_md *diff_dst, const dnnl_dims_t strides,
                       const dnnl_dims_t pad, const_dnnl_primitive_desc_t hint,
                       const_dnnl_primitive_attr_t attr)
{
    const dnnl_dims_t no_dilation = {0, 0};

    return dnnl_convolution_backward_weights_primitive_desc_create(
        pd, eng, dnnl_convolution_direct, src->md, diff_wei->md, NULL,
        diff_dst->md, strides, no_dilation, pad, pad, hint, attr);
}

dnnl_status_t nn_bnorm_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                              dnnl_prop_kind_t prop, const nn_md *data,
                              float eps, unsigned flags,
                              const_dnnl_primitive_attr_t attr)
{
    return dnnl_batch_normalization_forward_primitive_desc_create(
        pd, eng, prop, data->md, data->md, eps, flags, attr);
}

dnnl_status_t nn_bnorm_bwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                              const nn_md *data, float eps, unsigned flags,
                              const_dnnl_primitive_desc_t hint,
                              const_dnnl_primitive_attr_t attr)
{
    return dnnl_batch_normalization_backward_primitive_desc_create(
        pd, eng, dnnl_backward, data->md, data->md, data->md, eps, flags, hint,
        attr);
}

dnnl_status_t nn_eltwise_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                dnnl_prop_kind_t prop, dnnl_alg_kind_t alg,
                                const nn_md *data, float alpha, float beta,
                                const_dnnl_primitive_attr_t attr)
{
    return dnnl_eltwise_forward_primitive_desc_create(
        pd, eng, prop, alg, data->md, data->md, alpha, beta, attr);
}

dnnl_status_t nn_eltwise_bwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                dnnl_alg_kind_t alg, const nn_md *data,
                                float alpha, float beta,
                                const_dnnl_primitive_desc_t hint,
                                const_dnnl_primitive_attr_t attr)
{
    return dnnl_eltwise_backward_primitive_desc_create(
        pd, eng, alg, data->md, data->md, data->md, alpha, beta, hint, attr);
}

dnnl_status_t nn_pool_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                             dnnl_prop_kind_t prop, dnnl_alg_kind_t alg,
                             const nn_md *src, const nn_md *dst,
                             const dnnl_dims_t kernel,
                             const dnnl_dims_t strides, const dnnl_dims_t pad,
                             const_dnnl_primitive_attr_t attr)
{
    const dnnl_dims_t no_dilation = {0, 0};

    return dnnl_pooling_forward_primitive_desc_create(
        pd, eng, prop, alg, src->md, dst->md, strides, kernel, no_dilation, pad,
        pad, attr);
}

dnnl_status_t nn_pool_bwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                             dnnl_alg_kind_t alg, const nn_md *diff_src,
                             const nn_md *diff_dst, const dnnl_dims_t kernel,
                             const dnnl_dims_t strides, const dnnl_dims_t pad,
                             const_dnnl_primitive_desc_t hint,
                             const_dnnl_primitive_attr_t attr)
{
    const dnnl_dims_t no_dilation = {0, 0};

    return dnnl_pooling_backward_primitive_desc_create(
        pd, eng, alg, diff_src->md, diff_dst->md, strides, kernel, no_dilation,
        pad, pad, hint, attr);
}

dnnl_status_t nn_ip_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                           dnnl_prop_kind_t prop, const nn_md *src,
                           const nn_md *wei, const nn_md *bias,
                           const nn_md *dst, const_dnnl_primitive_attr_t attr)
{
    return dnnl_inner_product_forward_primitive_desc_create(
        pd, eng, prop, src->md, wei->md, bias ? bias->md : NULL, dst->md, attr);
}

dnnl_status_t nn_ip_bwd_data_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                const nn_md *diff_src, const nn_md *wei,
                                const nn_md *diff_dst,
                                const_dnnl_primitive_desc_t hint,
                                const_dnnl_primitive_attr_t attr)
{
    return dnnl_inner_product_backward_data_primitive_desc_create(
        pd, eng, diff_src->md, wei->md, diff_dst->md, hint, attr);
}

dnnl_status_t nn_ip_bwd_weights_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                   const nn_md *src, const nn_md *diff_wei,
                                   const nn_md *diff_bias,
                                   const nn_md *diff_dst,
                                   const_dnnl_primitive_desc_t hint,
                                   const_dnnl_primitive_attr_t attr)
{
    return dnnl_inner_product_backward_weights_primitive_desc_create(
        pd, eng, src->md, diff_wei->md, diff_bias ? diff_bias->md : NULL,
        diff_dst->md, hint, attr);
}

dnnl_status_t nn_binary_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                           dnnl_alg_kind_t alg, const nn_md *src0,
                           const nn_md *src1, const nn_md *dst,
                           const_dnnl_primitive_attr_t attr)
{
    return dnnl_binary_primitive_desc_create(pd, eng, alg, src0->md, src1->md,
                                             dst->md, attr);
}

#else

/* ---- oneDNN 2.x -------------------------------------------------------- */

dnnl_status_t nn_md_init(nn_md *m, int ndims, const dnnl_dims_t dims,
                         dnnl_format_tag_t tag)
{
    return dnnl_memory_desc_init_by_tag(&m->md, ndims, dims, dnnl_f32, tag);
}

void nn_md_fini(nn_md *m)
{
    (void)m;
}

static dnnl_status_t nn_post_ops_append(dnnl_post_ops_t po, int sum, int relu)
{
    dnnl_status_t s = dnnl_success;

    if (sum)
        s = dnnl_post_ops_append_sum(po, 1.f);
    if (s == dnnl_success && relu)
        s = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.f, 0.f);
    return s;
}

dnnl_status_t nn_conv_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                             dnnl_prop_kind_t prop, const nn_md *src,
                             const nn_md *wei, const nn_md *bias,
                             const nn_md *dst, const dnnl_dims_t strides,
                             const dnnl_dims_t pad,
                             const_dnnl_primitive_attr_t attr)
{
    dnnl_convolution_desc_t d;
    dnnl_status_t s = dnnl_convolution_forward_desc_init(
        &d, prop, dnnl_convolution_direct, &src->md, &wei->md,
        bias ? &bias->md : NULL, &dst->md, strides, pad, pad);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, NULL);
}

dnnl_status_t nn_conv_bwd_data_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                  const nn_md *diff_src, const nn_md *wei,
                                  const nn_md *diff_dst,
                                  const dnnl_dims_t strides,
                                  const dnnl_dims_t pad,
                                  const_dnnl_primitive_desc_t hint,
                                  const_dnnl_primitive_attr_t attr)
{
    dnnl_convolution_desc_t d;
    dnnl_status_t s = dnnl_convolution_backward_data_desc_init(
        &d, dnnl_convolution_direct, &diff_src->md, &wei->md, &diff_dst->md,
        strides, pad, pad);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, hint);
}

dnnl_status_t
nn_conv_bwd_weights_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                       const nn_md *src, const nn_md *diff_wei,
                       const nn_md *diff_dst, const dnnl_dims_t strides,
                       const dnnl_dims_t pad, const_dnnl_primitive_desc_t hint,
                       const_dnnl_primitive_attr_t attr)
{
    dnnl_convolution_desc_t d;
    dnnl_status_t s = dnnl_convolution_backward_weights_desc_init(
        &d, dnnl_convolution_direct, &src->md, &diff_wei->md, NULL,
        &diff_dst->md, strides, pad, pad);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, hint);
}

dnnl_status_t nn_bnorm_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                              dnnl_prop_kind_t prop, const nn_md *data,
                              float eps, unsigned flags,
                              const_dnnl_primitive_attr_t attr)
{
    dnnl_batch_normalization_desc_t d;
    dnnl_status_t s = dnnl_batch_normalization_forward_desc_init(
        &d, prop, &data->md, eps, flags);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, NULL);
}

dnnl_status_t nn_bnorm_bwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                              const nn_md *data, float eps, unsigned flags,
                              const_dnnl_primitive_desc_t hint,
                              const_dnnl_primitive_attr_t attr)
{
    dnnl_batch_normalization_desc_t d;
    dnnl_status_t s = dnnl_batch_normalization_backward_desc_init(
        &d, dnnl_backward, &data->md, &data->md, eps, flags);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, hint);
}

dnnl_status_t nn_eltwise_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                dnnl_prop_kind_t prop, dnnl_alg_kind_t alg,
                                const nn_md *data, float alpha, float beta,
                                const_dnnl_primitive_attr_t attr)
{
    dnnl_eltwise_desc_t d;
    dnnl_status_t s =
        dnnl_eltwise_forward_desc_init(&d, prop, alg, &data->md, alpha, beta);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, NULL);
}

dnnl_status_t nn_eltwise_bwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                dnnl_alg_kind_t alg, const nn_md *data,
                                float alpha, float beta,
                                const_dnnl_primitive_desc_t hint,
                                const_dnnl_primitive_attr_t attr)
{
    dnnl_eltwise_desc_t d;
    dnnl_status_t s = dnnl_eltwise_backward_desc_init(&d, alg, &data->md,
                                                      &data->md, alpha, beta);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, hint);
}

dnnl_status_t nn_pool_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                             dnnl_prop_kind_t prop, dnnl_alg_kind_t alg,
                             const nn_md *src, const nn_md *dst,
                             const dnnl_dims_t kernel,
                             const dnnl_dims_t strides, const dnnl_dims_t pad,
                             const_dnnl_primitive_attr_t attr)
{
    dnnl_pooling_desc_t d;
    dnnl_status_t s = dnnl_pooling_forward_desc_init(
        &d, prop, alg, &src->md, &dst->md, strides, kernel, pad, pad);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, NULL);
}

dnnl_status_t nn_pool_bwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                             dnnl_alg_kind_t alg, const nn_md *diff_src,
                             const nn_md *diff_dst, const dnnl_dims_t kernel,
                             const dnnl_dims_t strides, const dnnl_dims_t pad,
                             const_dnnl_primitive_desc_t hint,
                             const_dnnl_primitive_attr_t attr)
{
    dnnl_pooling_desc_t d;
    dnnl_status_t s = dnnl_pooling_backward_desc_init(
        &d, alg, &diff_src->md, &diff_dst->md, strides, kernel, pad, pad);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, hint);
}

dnnl_status_t nn_ip_fwd_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                           dnnl_prop_kind_t prop, const nn_md *src,
                           const nn_md *wei, const nn_md *bias,
                           const nn_md *dst, const_dnnl_primitive_attr_t attr)
{
    dnnl_inner_product_desc_t d;
    dnnl_status_t s = dnnl_inner_product_forward_desc_init(
        &d, prop, &src->md, &wei->md, bias ? &bias->md : NULL, &dst->md);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, NULL);
}

dnnl_status_t nn_ip_bwd_data_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                const nn_md *diff_src, const nn_md *wei,
                                const nn_md *diff_dst,
                                const_dnnl_primitive_desc_t hint,
                                const_dnnl_primitive_attr_t attr)
{
    dnnl_inner_product_desc_t d;
    dnnl_status_t s = dnnl_inner_product_backward_data_desc_init(
        &d, &diff_src->md, &wei->md, &diff_dst->md);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, hint);
}

dnnl_status_t nn_ip_bwd_weights_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                                   const nn_md *src, const nn_md *diff_wei,
                                   const nn_md *diff_bias,
                                   const nn_md *diff_dst,
                                   const_dnnl_primitive_desc_t hint,
                                   const_dnnl_primitive_attr_t attr)
{
    dnnl_inner_product_desc_t d;
    dnnl_status_t s = dnnl_inner_product_backward_weights_desc_init(
        &d, &src->md, &diff_wei->md, diff_bias ? &diff_bias->md : NULL,
        &diff_dst->md);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, hint);
}

dnnl_status_t nn_binary_pd(dnnl_primitive_desc_t *pd, dnnl_engine_t eng,
                           dnnl_alg_kind_t alg, const nn_md *src0,
                           const nn_md *src1, const nn_md *dst,
                           const_dnnl_primitive_attr_t attr)
{
    dnnl_binary_desc_t d;
    dnnl_status_t s =
        dnnl_binary_desc_init(&d, alg, &src0->md, &src1->md, &dst->md);

    return s != dnnl_success
               ? s
               : dnnl_primitive_desc_create(pd, &d, attr, eng, NULL);
}

#endif

/* ---- both ------------------------------------------------------------------
 */

dnnl_status_t nn_post_ops_set(dnnl_primitive_attr_t attr, int sum, int relu)
{
    dnnl_post_ops_t po;
    dnnl_status_t s = dnnl_post_ops_create(&po);

    if (s != dnnl_success)
        return s;
    s = nn_post_ops_append(po, sum, relu);
    if (s == dnnl_success)
        s = dnnl_primitive_attr_set_post_ops(attr, po);
    dnnl_post_ops_destroy(po);
    return s;
}
