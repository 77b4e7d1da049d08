/*
 * libFuzzer harness for the safetensors reader: every input is opened from
 * memory. The reader must return a status for anything, and a file it
 * accepts must hold only tensors whose bytes lie inside it and whose
 * shapes match their byte counts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t dtype_size[] = {4, 8, 2};

static void check_tensor(const simclr__st_file *f, const simclr__st_tensor *t)
{
    uint64_t elements = 1;
    unsigned sum = 0;
    float *dst;
    uint32_t d;
    size_t i;

    /* Touch every byte so the sanitizer sees reads outside the file. */
    for (i = 0; i < t->nbytes; i++)
        sum += ((const uint8_t *)t->data)[i];
    (void)sum;
    for (d = 0; d < t->ndim; d++)
        elements *= t->shape[d];
    if (t->ndim > SIMCLR__ST_MAX_DIMS ||
        elements * dtype_size[t->dtype] != t->nbytes ||
        simclr__st_find(f, t->name) != t)
        __builtin_trap();
    if (t->dtype != SIMCLR__DTYPE_F32 || t->nbytes > (1u << 20))
        return;
    dst = malloc(t->nbytes + 1);
    if (!dst)
        return;
    if (simclr__st_read_f32(f, t->name, t->ndim, t->shape, dst, NULL) !=
            SIMCLR_OK ||
        memcmp(dst, t->data, t->nbytes) != 0)
        __builtin_trap();
    free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    simclr__st_file *f;
    const uint8_t *prev_end = NULL;
    size_t i;

    if (simclr__st_open_memory(data, size, "fuzz", NULL, &f) != SIMCLR_OK)
        return 0;
    for (i = 0; i < simclr__st_count(f); i++) {
        const simclr__st_tensor *t = simclr__st_at(f, i);

        /* In offset order, each right after the previous one. */
        if (prev_end && (const uint8_t *)t->data != prev_end)
            __builtin_trap();
        prev_end = (const uint8_t *)t->data + t->nbytes;
        check_tensor(f, t);
    }
    (void)simclr__st_metadata(f, "format");
    simclr__st_close(f);
    return 0;
}
