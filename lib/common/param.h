/*
 * Named parameter tensors, as the encoder and the projector keep them:
 * PyTorch's layout and names, a master value and its gradient. Both
 * modules describe theirs through simclr_param_info with the functions
 * here, so the public tables behave the same.
 */
#ifndef SIMCLR_LIB_COMMON_PARAM_H
#define SIMCLR_LIB_COMMON_PARAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "simclr/encoder.h"

#define SIMCLR__PARAM_NAME_MAX 64

/* One named tensor, stored in PyTorch's layout. */
typedef struct simclr__param {
    char name[SIMCLR__PARAM_NAME_MAX];
    simclr_param_kind kind;
    simclr_param_dtype dtype;
    uint32_t ndim;
    uint64_t shape[4];
    size_t numel;
    float *value;       /* F32 */
    int64_t *value_i64; /* I64 */
    float *grad;        /* trained tensors only */
} simclr__param;

/* Describe params[i] of @p count into @p out, after checking its size
 * field and the index; @p owner names the table in messages. */
simclr_status simclr__param_describe(const simclr__param *params, size_t count,
                                     size_t i, const char *owner,
                                     simclr_param_info *out);

/* The index of the tensor called @p name, or @p count if there is none. */
size_t simclr__param_index(const simclr__param *params, size_t count,
                           const char *name);

/* SIMCLR_ERR_NUMERIC naming @p what and the element if any of the
 * @p count values is NaN or infinite. */
simclr_status simclr__check_finite(simclr__error *err, const float *x,
                                   size_t count, const char *what);

#endif
