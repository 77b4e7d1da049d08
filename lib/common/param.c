/*
 * The shared half of the encoder's and the projector's parameter tables.
 */
#include <math.h>
#include <string.h>

#include "param.h"

simclr_status simclr__param_describe(const simclr__param *params, size_t count,
                                     size_t i, const char *owner,
                                     simclr_param_info *out)
{
    const simclr__param *p = &params[i];
    uint32_t d;

    if (out->size < sizeof(simclr_param_info))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "simclr_param_info size %zu is below %zu",
                            out->size, sizeof(simclr_param_info));
    if (i >= count)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "%s parameter index %zu is not below %zu", owner,
                            i, count);
    out->name = p->name;
    out->kind = p->kind;
    out->dtype = p->dtype;
    out->ndim = p->ndim;
    for (d = 0; d < 4; d++)
        out->shape[d] = d < p->ndim ? p->shape[d] : 0;
    out->numel = p->numel;
    out->value = p->value;
    out->value_i64 = p->value_i64;
    out->grad = p->grad;
    return SIMCLR_OK;
}

size_t simclr__param_index(const simclr__param *params, size_t count,
                           const char *name)
{
    size_t i;

    for (i = 0; i < count; i++)
        if (strcmp(params[i].name, name) == 0)
            return i;
    return count;
}

simclr_status simclr__check_finite(simclr__error *err, const float *x,
                                   size_t count, const char *what)
{
    size_t i;

    for (i = 0; i < count; i++)
        if (!isfinite(x[i]))
            return simclr__fail(err, SIMCLR_ERR_NUMERIC,
                                "%s element %zu is not finite", what, i);
    return SIMCLR_OK;
}
