/*
 * Checks of the feature matrices and labels that both classifiers take,
 * each failure naming the matrix, the row and, for values, the column.
 */
#include <math.h>

#include "eval_internal.h"

simclr_status simclr__eval_check_finite(simclr__error *err, const char *what,
                                        const float *x, size_t n, size_t dim)
{
    for (size_t r = 0; r < n; r++) {
        const float *row = x + r * dim;

        for (size_t k = 0; k < dim; k++) {
            if (!isfinite(row[k]))
                return simclr__fail(err, SIMCLR_ERR_NUMERIC,
                                    "%s: row %zu has a non-finite value "
                                    "(%g at column %zu)",
                                    what, r, (double)row[k], k);
        }
    }
    return SIMCLR_OK;
}

simclr_status simclr__eval_check_labels(simclr__error *err, const char *what,
                                        const int32_t *labels, size_t n,
                                        size_t classes)
{
    for (size_t r = 0; r < n; r++) {
        if (labels[r] < 0 || (uint64_t)labels[r] >= classes)
            return simclr__fail(err, SIMCLR_ERR_INVALID_ARGUMENT,
                                "%s: label %d of row %zu is outside 0 to "
                                "%zu",
                                what, (int)labels[r], r, classes - 1);
    }
    return SIMCLR_OK;
}

simclr_status simclr__eval_check_shape(simclr__error *err, const char *what,
                                       size_t n, size_t dim, size_t classes)
{
    if (n == 0)
        return simclr__fail(err, SIMCLR_ERR_SHAPE, "%s: no rows", what);
    if (dim == 0)
        return simclr__fail(err, SIMCLR_ERR_SHAPE,
                            "%s: features of dimension 0", what);
    if (classes < 2)
        return simclr__fail(err, SIMCLR_ERR_SHAPE,
                            "%s: %zu classes; classification needs at "
                            "least 2",
                            what, classes);
    return SIMCLR_OK;
}
