/*
 * A counter-based random generator (Philox-4x32-10, Salmon et al., SC'11).
 *
 * A stream is named by (seed, epoch, sample index, view): any stream can
 * be opened directly, in any order, on any thread, and always yields the
 * same numbers. That is what makes augmentation and shuffling independent
 * of thread count and batch order.
 */
#ifndef SIMCLR_LIB_RNG_H
#define SIMCLR_LIB_RNG_H

#include <stdint.h>

typedef struct simclr__rng {
    uint32_t key[2];
    uint32_t counter[4]; /* counter[0] counts blocks within the stream */
    uint32_t block[4];   /* the current block of output */
    int used;            /* words of block already handed out */
} simclr__rng;

/* One Philox-4x32-10 block: exposed for the known-answer test. */
void simclr__philox4x32_10(const uint32_t counter[4], const uint32_t key[2],
                          uint32_t out[4]);

/* Open the stream (seed, epoch, index, view) at its beginning. */
void simclr__rng_init(simclr__rng *rng, uint64_t seed, uint64_t epoch,
                      uint64_t index, uint32_t view);

uint32_t simclr__rng_u32(simclr__rng *rng);

/* Uniform in [0, 1) with 53 random bits. */
double simclr__rng_uniform(simclr__rng *rng);

/* Uniform in [lo, hi). */
double simclr__rng_range(simclr__rng *rng, double lo, double hi);

/* Uniform integer in [0, n), n >= 1, without modulo bias. */
uint64_t simclr__rng_below(simclr__rng *rng, uint64_t n);

/* True with probability p. */
int simclr__rng_bernoulli(simclr__rng *rng, double p);

/* Standard normal (Box-Muller). */
double simclr__rng_normal(simclr__rng *rng);

#endif
