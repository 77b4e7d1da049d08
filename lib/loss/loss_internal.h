/*
 * The core of NT-Xent, written for a block of anchors so that a
 * data-parallel trainer can gather the projections of every process, run
 * its own anchors against all of them, and reduce the gradients back.
 */
#ifndef SIMCLR_LIB_LOSS_INTERNAL_H
#define SIMCLR_LIB_LOSS_INTERNAL_H

#include <stddef.h>

#include "simclr/loss.h"

/*
 * NT-Xent for the anchors [offset, offset + count) of the gathered batch
 * z_all (rows_all, dim), against all rows_all rows.
 *
 * loss_sum receives sum over the block's anchors of loss_i / rows_all, and
 * correct the number of them whose positive is strictly the most similar:
 * summed over blocks that cover every row, they give the mean loss and the
 * accuracy. dz_all (rows_all, dim), if not NULL, receives the gradient of
 * that partial sum with respect to every row of z_all; the sum over blocks
 * is dL/dz. Rows outside the block get the pull of the block's anchors on
 * them, so dz_all is not zero there.
 *
 * Checks the arguments and records failures in the loss's error text;
 * the outputs are written only on success.
 */
simclr_status simclr__loss_block(simclr_loss *loss, const float *z_all,
                                 size_t rows_all, size_t dim, size_t offset,
                                 size_t count, double *loss_sum,
                                 size_t *correct, float *dz_all);

#endif /* SIMCLR_LIB_LOSS_INTERNAL_H */
