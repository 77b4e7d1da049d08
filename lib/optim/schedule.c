/*
 * Learning-rate rules and the warm-up plus cosine schedule of the
 * official SimCLR code, stepped per iteration.
 */
#include <math.h>

#include "simclr/optim.h"
#include "common/common.h"

simclr_status simclr_lr_scaled(simclr_lr_scaling rule, double base,
                               uint64_t batch_size, double *out)
{
    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "lr: out is NULL");
    if (!(base >= 0.0 && isfinite(base)))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "lr: base rate %g is not finite and >= 0", base);
    if (batch_size == 0)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "lr: batch size is 0");

    switch (rule) {
    case SIMCLR_LR_SCALING_LINEAR:
        *out = base * (double)batch_size / 256.0;
        return SIMCLR_OK;
    case SIMCLR_LR_SCALING_SQRT:
        *out = base * sqrt((double)batch_size);
        return SIMCLR_OK;
    }
    return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                        "lr: unknown scaling rule %d", (int)rule);
}

simclr_status simclr_lr_total_steps(uint64_t examples, uint64_t batch_size,
                                    uint64_t epochs, int drop_last,
                                    uint64_t *out)
{
    uint64_t per_epoch;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "lr: out is NULL");
    if (examples == 0 || batch_size == 0 || epochs == 0)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT, "lr: %s is 0",
                            examples == 0     ? "the example count"
                            : batch_size == 0 ? "the batch size"
                                              : "the epoch count");

    per_epoch = examples / batch_size;
    if (!drop_last && examples % batch_size != 0)
        per_epoch++;
    if (per_epoch == 0)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "lr: %llu examples give no full batch of %llu "
                            "when the short batch is dropped",
                            (unsigned long long)examples,
                            (unsigned long long)batch_size);
    if (__builtin_mul_overflow(per_epoch, epochs, out))
        return simclr__fail(NULL, SIMCLR_ERR_LIMIT,
                            "lr: %llu steps per epoch times %llu epochs "
                            "overflows",
                            (unsigned long long)per_epoch,
                            (unsigned long long)epochs);
    return SIMCLR_OK;
}

simclr_status simclr_lr_warmup_cosine(double peak, uint64_t warmup_steps,
                                      uint64_t total_steps, uint64_t step,
                                      double *out)
{
    double progress;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "lr: out is NULL");
    if (!(peak >= 0.0 && isfinite(peak)))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "lr: peak rate %g is not finite and >= 0", peak);
    if (total_steps == 0 || warmup_steps > total_steps || step >= total_steps)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "lr: step %llu with %llu warm-up steps of %llu "
                            "(need warm-up <= total and step < total)",
                            (unsigned long long)step,
                            (unsigned long long)warmup_steps,
                            (unsigned long long)total_steps);

    /* linear warm-up from 0: the official code's step / W */
    if (step < warmup_steps) {
        *out = peak * (double)step / (double)warmup_steps;
        return SIMCLR_OK;
    }
    /* cosine from peak at W down to 0 at T */
    progress =
        (double)(step - warmup_steps) / (double)(total_steps - warmup_steps);
    *out = peak * 0.5 * (1.0 + cos(M_PI * progress));
    return SIMCLR_OK;
}
