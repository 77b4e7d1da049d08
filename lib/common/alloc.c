/*
 * Every library allocation goes through here, so that a host can supply
 * its own allocator and tests can count, and fail, allocations.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static void *default_malloc(void *user, size_t size)
{
    (void)user;
    return malloc(size);
}

static void *default_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    return realloc(ptr, size);
}

static void default_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

static simclr_malloc_fn hook_malloc = default_malloc;
static simclr_realloc_fn hook_realloc = default_realloc;
static simclr_free_fn hook_free = default_free;
static void *hook_user;

static atomic_size_t live_allocations;

simclr_status simclr_set_allocator(simclr_malloc_fn malloc_fn,
                                   simclr_realloc_fn realloc_fn,
                                   simclr_free_fn free_fn, void *user)
{
    bool none = !malloc_fn && !realloc_fn && !free_fn;
    bool all = malloc_fn && realloc_fn && free_fn;

    if (!none && !all)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "allocator hooks: give all three functions, "
                            "or none to restore the defaults");
    if (atomic_load(&live_allocations) != 0)
        return simclr__fail(NULL, SIMCLR_ERR_STATE,
                            "allocator hooks: %zu allocations of the "
                            "current allocator are still live",
                            atomic_load(&live_allocations));

    hook_malloc = all ? malloc_fn : default_malloc;
    hook_realloc = all ? realloc_fn : default_realloc;
    hook_free = all ? free_fn : default_free;
    hook_user = all ? user : NULL;
    return SIMCLR_OK;
}

size_t simclr_live_allocations(void)
{
    return atomic_load(&live_allocations);
}

void *simclr__malloc(size_t size)
{
    void *p = hook_malloc(hook_user, size ? size : 1);

    if (p)
        atomic_fetch_add(&live_allocations, 1);
    return p;
}

void *simclr__calloc(size_t count, size_t size)
{
    size_t bytes;
    void *p;

    if (!simclr__mul_size(count, size, &bytes))
        return NULL;
    p = simclr__malloc(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void *simclr__realloc(void *ptr, size_t size)
{
    void *p;

    if (!ptr)
        return simclr__malloc(size);
    p = hook_realloc(hook_user, ptr, size ? size : 1);
    return p;
}

void simclr__free(void *ptr)
{
    if (!ptr)
        return;
    atomic_fetch_sub(&live_allocations, 1);
    hook_free(hook_user, ptr);
}

void *simclr__malloc_array(size_t count, size_t size)
{
    size_t bytes;

    if (!simclr__mul_size(count, size, &bytes))
        return NULL;
    return simclr__malloc(bytes);
}

void *simclr__realloc_array(void *ptr, size_t count, size_t size)
{
    size_t bytes;

    if (!simclr__mul_size(count, size, &bytes))
        return NULL;
    return simclr__realloc(ptr, bytes);
}

/*
 * Aligned blocks are carved from an ordinary allocation: the pointer the
 * hook returned is stored just below the aligned address.
 */
void *simclr__aligned_malloc(size_t size, size_t align)
{
    size_t total;
    uintptr_t raw, aligned;

    if (align < sizeof(void *) || (align & (align - 1)) != 0 || align > 4096)
        return NULL;
    if (!simclr__add_size(size, align + sizeof(void *), &total))
        return NULL;
    raw = (uintptr_t)simclr__malloc(total);
    if (!raw)
        return NULL;
    aligned = (raw + sizeof(void *) + align - 1) & ~(uintptr_t)(align - 1);
    ((void **)aligned)[-1] = (void *)raw;
    return (void *)aligned;
}

void simclr__aligned_free(void *ptr)
{
    if (ptr)
        simclr__free(((void **)ptr)[-1]);
}

char *simclr__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = simclr__malloc(n);

    if (copy)
        memcpy(copy, s, n);
    return copy;
}
