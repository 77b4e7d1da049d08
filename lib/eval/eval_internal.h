/* Input checks shared by the linear probe and the k-NN classifier. */
#ifndef SIMCLR_LIB_EVAL_INTERNAL_H
#define SIMCLR_LIB_EVAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* SIMCLR_ERR_NUMERIC naming @p what, the row and the column of the first
 * NaN or infinity in x (n, dim). */
simclr_status simclr__eval_check_finite(simclr__error *err, const char *what,
                                        const float *x, size_t n, size_t dim);

/* SIMCLR_ERR_INVALID_ARGUMENT naming @p what and the row of the first
 * label outside 0 .. classes - 1. */
simclr_status simclr__eval_check_labels(simclr__error *err, const char *what,
                                        const int32_t *labels, size_t n,
                                        size_t classes);

/* SIMCLR_ERR_SHAPE for zero rows, a zero dim or fewer than 2 classes. */
simclr_status simclr__eval_check_shape(simclr__error *err, const char *what,
                                       size_t n, size_t dim, size_t classes);

#endif
