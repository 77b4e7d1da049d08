/*
 * The encoder's private structures: the parameter table, the layer list
 * (a ResNet as a sequence of conv-BN units grouped into residual blocks)
 * and the plans that run it on oneDNN for one batch size.
 */
#ifndef SIMCLR_LIB_ENCODER_INTERNAL_H
#define SIMCLR_LIB_ENCODER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "common/common.h"
#include "common/param.h"
#include "nn/nn.h"
#include "simclr/encoder.h"

/* Idle inference plans kept for reuse by simclr_encode_tensor(). */
#define SIMCLR__ENCODER_POOL_MAX 8

/* A convolution followed by batch norm and, if relu, a ReLU. */
typedef struct simclr__unit {
    char name[SIMCLR__PARAM_NAME_MAX]; /* the BN's name, for messages */
    int64_t in_c, out_c, kernel, stride, pad;
    bool relu;
    size_t conv; /* parameter index of the convolution weight */
    size_t bn;   /* of the BN weight; bias, running mean, running var and
                    num_batches_tracked follow it */
    simclr__nn_shape src; /* input shape at batch size 1 */
    simclr__nn_shape dst; /* output shape at batch size 1 */
} simclr__unit;

/* A residual block: its main-path units, then its shortcut unit (if it
 * has a projection). Output relu(main + shortcut). */
typedef struct simclr__block {
    size_t first; /* index of the first main unit */
    size_t count; /* main units: 2 (basic) or 3 (bottleneck) */
    bool down;    /* unit first + count is the projection shortcut */
} simclr__block;

typedef struct simclr__plan simclr__plan;

struct simclr_encoder {
    simclr_encoder_config cfg;
    simclr__error err;
    size_t dim;
    simclr__nn_shape pool_src, pool_dst; /* stem max pool at batch 1 */
    simclr__nn_shape feat;               /* last block output at batch 1 */

    simclr__param *params;
    size_t nparams;
    simclr__unit *units; /* units[0] is the stem */
    size_t nunits;
    simclr__block *blocks;
    size_t nblocks;

    simclr__plan *train; /* the training plan, for its batch size */
    bool train_ready;    /* a training forward was run on it */

    pthread_mutex_t lock; /* guards idle and err during encoding */
    simclr__plan *idle[SIMCLR__ENCODER_POOL_MAX];
    size_t nidle;
};

/* "resnet18" ... "resnet152", or NULL for an unknown value. */
const char *simclr__encoder_arch_name(simclr_arch arch);

/* Plans (plan.c). */
simclr_status simclr__plan_create(simclr_encoder *enc, size_t n, bool training,
                                  simclr__error *err, simclr__plan **out);
void simclr__plan_destroy(simclr__plan *plan);
size_t simclr__plan_batch(const simclr__plan *plan);
simclr_status simclr__plan_forward(simclr__plan *plan, const float *src,
                                   float *dst, simclr__error *err);
/* After a training forward: fold the batch statistics into the running
 * ones, as PyTorch does. */
void simclr__plan_update_running(simclr__plan *plan);
simclr_status simclr__plan_backward(simclr__plan *plan, const float *diff_dst,
                                    float *diff_src, simclr__error *err);

#endif /* SIMCLR_LIB_ENCODER_INTERNAL_H */
