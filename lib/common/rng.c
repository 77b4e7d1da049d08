#include <math.h>

#include "rng.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static void mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo)
{
    uint64_t product = (uint64_t)a * b;

    *hi = (uint32_t)(product >> 32);
    *lo = (uint32_t)product;
}

void simclr__philox4x32_10(const uint32_t in[4], const uint32_t key_in[2],
                          uint32_t out[4])
{
    uint32_t c[4] = {in[0], in[1], in[2], in[3]};
    uint32_t k[2] = {key_in[0], key_in[1]};
    int round;

    for (round = 0; round < 10; round++) {
        uint32_t hi0, lo0, hi1, lo1;

        mulhilo(PHILOX_M0, c[0], &hi0, &lo0);
        mulhilo(PHILOX_M1, c[2], &hi1, &lo1);
        c[0] = hi1 ^ c[1] ^ k[0];
        c[1] = lo1;
        c[2] = hi0 ^ c[3] ^ k[1];
        c[3] = lo0;
        k[0] += PHILOX_W0;
        k[1] += PHILOX_W1;
    }
    out[0] = c[0];
    out[1] = c[1];
    out[2] = c[2];
    out[3] = c[3];
}

/* SplitMix64 finaliser: spreads (seed, epoch) over the 64-bit key. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

void simclr__rng_init(simclr__rng *rng, uint64_t seed, uint64_t epoch,
                      uint64_t index, uint32_t view)
{
    uint64_t key = mix64(seed ^ mix64(epoch));

    rng->key[0] = (uint32_t)key;
    rng->key[1] = (uint32_t)(key >> 32);
    rng->counter[0] = 0;
    rng->counter[1] = view;
    rng->counter[2] = (uint32_t)index;
    rng->counter[3] = (uint32_t)(index >> 32);
    rng->used = 4;
}

uint32_t simclr__rng_u32(simclr__rng *rng)
{
    if (rng->used == 4) {
        simclr__philox4x32_10(rng->counter, rng->key, rng->block);
        rng->counter[0]++;
        rng->used = 0;
    }
    return rng->block[rng->used++];
}

double simclr__rng_uniform(simclr__rng *rng)
{
    uint64_t hi = simclr__rng_u32(rng) >> 5; /* 27 bits */
    uint64_t lo = simclr__rng_u32(rng) >> 6; /* 26 bits */

    return (double)((hi << 26) | lo) * (1.0 / 9007199254740992.0);
}

double simclr__rng_range(simclr__rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * simclr__rng_uniform(rng);
}

uint64_t simclr__rng_below(simclr__rng *rng, uint64_t n)
{
    /* Rejection sampling over the largest multiple of n below 2^64. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;

    do {
        x = (uint64_t)simclr__rng_u32(rng) << 32 | simclr__rng_u32(rng);
    } while (x >= limit);
    return x % n;
}

int simclr__rng_bernoulli(simclr__rng *rng, double p)
{
    return simclr__rng_uniform(rng) < p;
}

double simclr__rng_normal(simclr__rng *rng)
{
    double u1 = 1.0 - simclr__rng_uniform(rng); /* (0, 1]: log is finite */
    double u2 = simclr__rng_uniform(rng);

    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
