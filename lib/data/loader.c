/*
 * The batch loader: a permutation per epoch, worker threads that decode
 * (and, through the sample-transform hook, augment) items ahead of the
 * consumer, and batches handed out strictly in order.
 *
 * How the work is shared. An epoch is a sequence of positions 0, 1, ...;
 * position p holds dataset item order[p] and belongs to batch
 * p / batch_size. There are `prefetch` slots; batch b is assembled in
 * slot b % prefetch. Workers claim positions one at a time, in order,
 * but only within the window of batches [next, next + prefetch), where
 * `next` is the batch the consumer takes next. A worker decodes its item
 * outside the lock and stores the image at its place in the slot; the
 * batch is ready when every position of it is done. What a batch holds
 * depends only on (seed, epoch, batch number), never on which worker
 * decoded what, so any number of threads gives the same batches.
 *
 * The sample-transform hook (simclr__sample_transform in
 * data_internal.h) runs on the worker right after the decode, with the
 * loader's seed, the epoch and the dataset index, and its result travels
 * with the batch (simclr__batch_samples()). A public loader has one only
 * when its options name an augmenter: then it makes the two views.
 *
 * Restarting an epoch, or destroying the loader mid-epoch, first stops
 * new claims, waits until no worker is inside a decode, and only then
 * touches the slots.
 */
#include <stddef.h>
#include <string.h>

#include "simclr/augment.h"
#include "simclr/threads.h"
#include "common/rng.h"
#include "data_internal.h"

#define MAX_WORKERS 1024

/* Stream of the shuffle in the (seed, epoch, index, view) space: an
 * index no sample has, so it never coincides with a sample's stream. */
#define SHUFFLE_INDEX UINT64_MAX

typedef struct slot {
    size_t batch;          /* batch number it holds */
    size_t size;           /* positions in this batch */
    size_t done;           /* positions finished */
    simclr_image **images; /* slot_len entries; NULL for skipped items */
    void **samples;        /* transform results, slot_len entries */
    simclr_status status;  /* first failure, by position */
    size_t failed_at;      /* its position within the batch */
    char message[SIMCLR__ERROR_MAX];
} slot;

struct simclr_batch {
    size_t count;
    uint64_t epoch;
    simclr_image **images;
    int32_t *labels;
    size_t *indices;
    void **samples; /* NULL when the loader has no transform */
    simclr__sample_transform transform;
    float *views;         /* (2n, C, S, S) with an augmenter, else NULL */
    size_t view_shape[4]; /* {2n, C, S, S} */
};

struct simclr_loader {
    simclr__error err;
    simclr_dataset *ds;
    size_t batch_size, prefetch, num_batches, positions;
    size_t slot_len; /* the most items a batch can hold */
    uint64_t seed;
    int shuffle;
    simclr__sample_transform transform;
    bool has_transform;
    const simclr_augmenter *augmenter; /* views for every batch, or NULL */

    size_t *order; /* the current epoch's permutation of the dataset */
    slot *slots;   /* prefetch slots */
    pthread_t *threads;
    size_t num_threads;

    /* Everything below is guarded by lock. */
    pthread_mutex_t lock;
    pthread_cond_t work_cv;  /* workers wait for claimable positions */
    pthread_cond_t ready_cv; /* the consumer waits for a batch or idleness */
    uint64_t epoch;
    size_t next_batch;   /* the batch the consumer takes next */
    size_t next_claim;   /* the next position a worker may claim */
    size_t busy;         /* workers decoding right now */
    uint64_t generation; /* bumped on restart: late results are dropped */
    bool paused;
    bool stop;
    bool at_end; /* END_OF_DATA was returned for this epoch */
};

void simclr_loader_options_init(simclr_loader_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof(*opts));
    opts->size = sizeof(*opts);
    opts->batch_size = 256;
    opts->shuffle = 1;
    opts->prefetch = 2;
}

/* ---- slots --------------------------------------------------------------- */

static void release_sample(const simclr__sample_transform *t, void *sample)
{
    if (sample && t->release)
        t->release(t->user, sample);
}

/* Empty slot @p s and prepare it for batch @p batch. */
static void slot_reset(simclr_loader *ld, slot *s, size_t batch)
{
    size_t i;

    for (i = 0; i < ld->slot_len; i++) {
        simclr_image_destroy(s->images[i]);
        s->images[i] = NULL;
        release_sample(&ld->transform, s->samples[i]);
        s->samples[i] = NULL;
    }
    s->done = 0;
    s->size = 0;
    if (batch < ld->num_batches) {
        size_t first = batch * ld->batch_size; /* < positions */
        size_t left = ld->positions - first;

        s->size = left < ld->batch_size ? left : ld->batch_size;
    }
    s->status = SIMCLR_OK;
    s->failed_at = SIZE_MAX;
    s->message[0] = '\0';
}

/* ---- epochs -------------------------------------------------------------- */

/* Fisher-Yates over one stream keyed by (seed, epoch). */
static void make_order(simclr_loader *ld, uint64_t epoch)
{
    size_t n = ld->ds->count, i;
    simclr__rng rng;

    for (i = 0; i < n; i++)
        ld->order[i] = i;
    if (!ld->shuffle)
        return;
    simclr__rng_init(&rng, ld->seed, epoch, SHUFFLE_INDEX, 0);
    for (i = n - 1; i > 0; i--) {
        size_t j = (size_t)simclr__rng_below(&rng, (uint64_t)i + 1);
        size_t t = ld->order[i];

        ld->order[i] = ld->order[j];
        ld->order[j] = t;
    }
}

/* Called with the lock held: stop claims, wait for the workers to leave
 * their decodes, then lay out epoch @p epoch. */
static void start_epoch(simclr_loader *ld, uint64_t epoch)
{
    size_t i;

    ld->paused = true;
    ld->generation++;
    while (ld->busy > 0)
        pthread_cond_wait(&ld->ready_cv, &ld->lock);

    make_order(ld, epoch);
    ld->epoch = epoch;
    ld->next_batch = 0;
    ld->next_claim = 0;
    ld->at_end = false;
    for (i = 0; i < ld->prefetch; i++)
        slot_reset(ld, &ld->slots[i], i);
    ld->paused = false;
    pthread_cond_broadcast(&ld->work_cv);
}

/* ---- workers ------------------------------------------------------------- */

static bool claimable(const simclr_loader *ld)
{
    return !ld->stop && !ld->paused && ld->next_claim < ld->positions &&
           /* claims never fall behind the consumer */
           ld->next_claim / ld->batch_size - ld->next_batch < ld->prefetch;
}

/* Decode one item (and transform it), outside the lock. */
static simclr_status produce(simclr_loader *ld, size_t index, uint64_t epoch,
                             simclr_image **image, void **sample, char *message)
{
    simclr_status st = simclr_dataset_get(ld->ds, index, image);

    if (st != SIMCLR_OK) {
        /* A bad file the dataset chose to skip leaves a hole. */
        if (!ld->ds->strict && simclr__status_is_bad_file(st))
            return SIMCLR_OK;
    } else if (ld->has_transform) {
        st = ld->transform.apply(ld->transform.user, *image, ld->seed, epoch,
                                 index, sample);
        if (st != SIMCLR_OK) {
            simclr_image_destroy(*image);
            *image = NULL;
            *sample = NULL;
        }
    }
    if (st != SIMCLR_OK)
        memcpy(message, simclr_last_error(), SIMCLR__ERROR_MAX);
    return st;
}

static void store(simclr_loader *ld, size_t pos, simclr_status st,
                  simclr_image *image, void *sample, const char *message)
{
    slot *s = &ld->slots[(pos / ld->batch_size) % ld->prefetch];
    size_t at = pos % ld->batch_size;

    s->images[at] = image;
    s->samples[at] = sample;
    if (st != SIMCLR_OK && at < s->failed_at) {
        s->status = st;
        s->failed_at = at;
        memcpy(s->message, message, SIMCLR__ERROR_MAX);
    }
    if (++s->done == s->size)
        pthread_cond_broadcast(&ld->ready_cv);
}

static void *worker_main(void *arg)
{
    simclr_loader *ld = arg;
    char message[SIMCLR__ERROR_MAX];

    pthread_mutex_lock(&ld->lock);
    for (;;) {
        size_t pos, index;
        uint64_t generation, epoch;
        simclr_image *image = NULL;
        void *sample = NULL;
        simclr_status st;

        while (!ld->stop && !claimable(ld))
            pthread_cond_wait(&ld->work_cv, &ld->lock);
        if (ld->stop)
            break;
        pos = ld->next_claim++;
        index = ld->order[pos];
        generation = ld->generation;
        epoch = ld->epoch;
        ld->busy++;
        pthread_mutex_unlock(&ld->lock);

        st = produce(ld, index, epoch, &image, &sample, message);

        pthread_mutex_lock(&ld->lock);
        if (generation == ld->generation) {
            store(ld, pos, st, image, sample, message);
        } else {
            simclr_image_destroy(image);
            release_sample(&ld->transform, sample);
        }
        if (--ld->busy == 0)
            pthread_cond_broadcast(&ld->ready_cv);
    }
    pthread_mutex_unlock(&ld->lock);
    return NULL;
}

/* ---- create and destroy -------------------------------------------------- */

static simclr_status check_options(const simclr_dataset *ds,
                                   const simclr_loader_options *opts)
{
    if (opts->size != sizeof(*opts))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loader: options size %zu is not one this "
                            "library knows: call "
                            "simclr_loader_options_init()",
                            opts->size);
    if (opts->batch_size == 0 || opts->prefetch == 0)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loader: batch size (%zu) and prefetch depth "
                            "(%zu) must be at least 1",
                            opts->batch_size, opts->prefetch);
    if (opts->num_workers < 0 || opts->num_workers > MAX_WORKERS)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loader: worker count %d is not between 0 and "
                            "%d",
                            opts->num_workers, MAX_WORKERS);
    if (opts->drop_last && ds->count < opts->batch_size)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loader: with drop_last, %zu items make no "
                            "batch of %zu",
                            ds->count, opts->batch_size);
    return SIMCLR_OK;
}

static simclr_status alloc_slots(simclr_loader *ld)
{
    size_t i;

    ld->order = simclr__malloc_array(ld->ds->count, sizeof(size_t));
    ld->slots = simclr__calloc(ld->prefetch, sizeof(slot));
    ld->threads = simclr__calloc(ld->num_threads, sizeof(pthread_t));
    if (!ld->order || !ld->slots || !ld->threads)
        return SIMCLR_ERR_NOMEM;
    for (i = 0; i < ld->prefetch; i++) {
        ld->slots[i].images =
            simclr__calloc(ld->slot_len, sizeof(simclr_image *));
        ld->slots[i].samples = simclr__calloc(ld->slot_len, sizeof(void *));
        if (!ld->slots[i].images || !ld->slots[i].samples)
            return SIMCLR_ERR_NOMEM;
    }
    return SIMCLR_OK;
}

static void stop_workers(simclr_loader *ld)
{
    size_t i, started = ld->num_threads;

    pthread_mutex_lock(&ld->lock);
    ld->stop = true;
    pthread_cond_broadcast(&ld->work_cv);
    pthread_mutex_unlock(&ld->lock);
    for (i = 0; i < started; i++)
        pthread_join(ld->threads[i], NULL);
    ld->num_threads = 0;
}

static void free_loader(simclr_loader *ld)
{
    size_t i;

    if (ld->slots) {
        for (i = 0; i < ld->prefetch; i++) {
            if (ld->slots[i].images && ld->slots[i].samples)
                slot_reset(ld, &ld->slots[i], SIZE_MAX);
            simclr__free(ld->slots[i].images);
            simclr__free(ld->slots[i].samples);
        }
    }
    simclr__free(ld->slots);
    simclr__free(ld->threads);
    simclr__free(ld->order);
    pthread_cond_destroy(&ld->work_cv);
    pthread_cond_destroy(&ld->ready_cv);
    pthread_mutex_destroy(&ld->lock);
    simclr__free(ld);
}

static simclr_status start_workers(simclr_loader *ld, size_t wanted)
{
    size_t i;

    for (i = 0; i < wanted; i++) {
        int rc = pthread_create(&ld->threads[i], NULL, worker_main, ld);

        if (rc != 0) {
            ld->num_threads = i;
            return simclr__fail(NULL, SIMCLR_ERR_THREAD,
                                "loader: cannot start worker %zu of %zu: %s",
                                i + 1, wanted, strerror(rc));
        }
    }
    return SIMCLR_OK;
}

/* ---- augmented views ------------------------------------------------------ */

/*
 * With an augmenter in the options, the sample transform makes the two
 * views of each image on the worker that decoded it; the consumer then
 * only copies them into the batch's one contiguous tensor.
 */
typedef struct view_pair {
    uint32_t channels, side;
    float data[]; /* (2, C, S, S) */
} view_pair;

static simclr_status augment_apply(void *user, const simclr_image *src,
                                   uint64_t seed, uint64_t epoch,
                                   size_t index, void **dst)
{
    const simclr_augmenter *aug = user;
    uint32_t side = simclr_augmenter_output_size(aug);
    size_t floats, bytes;
    view_pair *pair;
    simclr_status st;

    (void)seed; /* the views use the augmenter's own seed */
    *dst = NULL;
    if (!simclr__mul4_size(2, src->channels, side, side, &floats) ||
        !simclr__mul_size(floats, sizeof(float), &bytes) ||
        !simclr__add_size(bytes, sizeof(*pair), &bytes))
        return simclr__fail(NULL, SIMCLR_ERR_LIMIT,
                            "loader: views of item %zu overflow", index);
    pair = simclr__malloc(bytes);
    if (!pair)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "loader: out of memory for the views of item %zu",
                            index);
    pair->channels = src->channels;
    pair->side = side;
    st = simclr_augment_pair(aug, src, epoch, index, pair->data);
    if (st != SIMCLR_OK) {
        simclr__free(pair);
        return simclr__fail(NULL, st, "loader: item %zu: %s", index,
                            simclr_last_error());
    }
    *dst = pair;
    return SIMCLR_OK;
}

static void augment_release(void *user, void *sample)
{
    (void)user;
    simclr__free(sample);
}

/* Copy the batch's view pairs into one (2n, C, S, S) tensor and drop the
 * pairs. Every image of the batch must have the same channel count. */
static simclr_status gather_views(simclr_loader *ld, simclr_batch *b)
{
    const view_pair *first = b->samples[0];
    uint32_t channels = first->channels, side = first->side;
    size_t pair_floats, total, i;

    for (i = 1; i < b->count; i++) {
        const view_pair *p = b->samples[i];

        if (p->channels != channels)
            return simclr__fail(&ld->err, SIMCLR_ERR_SHAPE,
                                "loader: item %zu has %u channels, item %zu "
                                "%u: open the dataset with a fixed channel "
                                "count",
                                b->indices[i], p->channels, b->indices[0],
                                channels);
    }
    /* Each pair was allocated with this size, so the product fits. */
    pair_floats = 2 * (size_t)channels * side * side;
    if (!simclr__mul_size(pair_floats, b->count, &total))
        return simclr__fail(&ld->err, SIMCLR_ERR_LIMIT,
                            "loader: a batch of %zu views overflows",
                            b->count);
    b->views = simclr__malloc_array(total, sizeof(float));
    if (!b->views)
        return simclr__fail(&ld->err, SIMCLR_ERR_NOMEM,
                            "loader: out of memory for %zu views",
                            2 * b->count);
    for (i = 0; i < b->count; i++) {
        const view_pair *p = b->samples[i];

        memcpy(b->views + i * pair_floats, p->data,
               pair_floats * sizeof(float));
        release_sample(&b->transform, b->samples[i]);
        b->samples[i] = NULL;
    }
    b->view_shape[0] = 2 * b->count;
    b->view_shape[1] = channels;
    b->view_shape[2] = side;
    b->view_shape[3] = side;
    return SIMCLR_OK;
}

simclr_status simclr__loader_create(simclr_dataset *ds,
                                    const simclr_loader_options *opts,
                                    const simclr__sample_transform *transform,
                                    simclr_loader **out)
{
    simclr_loader_options defaults;
    simclr_loader *ld;
    simclr_status st;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loader: out is NULL");
    *out = NULL;
    if (!ds)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loader: dataset is NULL");
    /* A caller built against an older header passes a smaller struct:
     * the fields it knows come from it, the rest keep their defaults. */
    simclr_loader_options_init(&defaults);
    if (opts && opts->size >= offsetof(simclr_loader_options, augmenter) &&
        opts->size < sizeof(defaults)) {
        memcpy(&defaults, opts, opts->size);
        defaults.size = sizeof(defaults);
        opts = &defaults;
    } else if (!opts) {
        opts = &defaults;
    }
    if ((st = check_options(ds, opts)) != SIMCLR_OK)
        return st;
    if (transform && !transform->apply)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loader: sample transform without a function");
    if (transform && opts->augmenter)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loader: a sample transform and an augmenter "
                            "cannot be combined");

    ld = simclr__calloc(1, sizeof(*ld));
    if (!ld)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM, "loader: out of memory");
    pthread_mutex_init(&ld->lock, NULL);
    pthread_cond_init(&ld->work_cv, NULL);
    pthread_cond_init(&ld->ready_cv, NULL);
    ld->ds = ds;
    ld->batch_size = opts->batch_size;
    ld->seed = opts->seed;
    ld->shuffle = opts->shuffle;
    /* count >= 1, and with drop_last count >= batch_size: no batch is
     * empty, and nothing here can overflow. */
    ld->num_batches = ds->count / opts->batch_size;
    if (!opts->drop_last && ds->count % opts->batch_size != 0)
        ld->num_batches++;
    ld->positions =
        opts->drop_last ? ld->num_batches * opts->batch_size : ds->count;
    ld->slot_len = opts->batch_size < ds->count ? opts->batch_size : ds->count;
    /* More slots than batches would never be used. */
    ld->prefetch =
        opts->prefetch < ld->num_batches ? opts->prefetch : ld->num_batches;
    if (transform) {
        ld->transform = *transform;
        ld->has_transform = true;
    } else if (opts->augmenter) {
        ld->transform.apply = augment_apply;
        ld->transform.release = augment_release;
        ld->transform.user = (void *)opts->augmenter;
        ld->has_transform = true;
        ld->augmenter = opts->augmenter;
    }
    ld->num_threads = opts->num_workers ? (size_t)opts->num_workers
                                        : (size_t)simclr_get_num_threads();

    if (alloc_slots(ld) != SIMCLR_OK) {
        ld->num_threads = 0;
        free_loader(ld);
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM, "loader: out of memory");
    }
    pthread_mutex_lock(&ld->lock);
    start_epoch(ld, 0);
    pthread_mutex_unlock(&ld->lock);
    st = start_workers(ld, ld->num_threads);
    if (st != SIMCLR_OK) {
        stop_workers(ld);
        free_loader(ld);
        return st;
    }
    *out = ld;
    return SIMCLR_OK;
}

simclr_status simclr_loader_create(simclr_dataset *ds,
                                   const simclr_loader_options *opts,
                                   simclr_loader **out)
{
    return simclr__loader_create(ds, opts, NULL, out);
}

void simclr_loader_destroy(simclr_loader *loader)
{
    if (!loader)
        return;
    stop_workers(loader);
    free_loader(loader);
}

/* ---- the consumer -------------------------------------------------------- */

size_t simclr_loader_num_batches(const simclr_loader *loader)
{
    return loader ? loader->num_batches : 0;
}

uint64_t simclr_loader_epoch(const simclr_loader *loader)
{
    return loader ? loader->epoch : 0;
}

const char *simclr_loader_error(const simclr_loader *loader)
{
    return loader ? simclr__error_text(&loader->err) : "";
}

simclr_status simclr_loader_set_epoch(simclr_loader *loader, uint64_t epoch)
{
    if (!loader)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loader: loader is NULL");
    pthread_mutex_lock(&loader->lock);
    start_epoch(loader, epoch);
    pthread_mutex_unlock(&loader->lock);
    return SIMCLR_OK;
}

static simclr_batch *batch_alloc(size_t count, bool samples)
{
    simclr_batch *b = simclr__calloc(1, sizeof(*b));

    if (!b)
        return NULL;
    b->images = simclr__calloc(count, sizeof(simclr_image *));
    b->labels = simclr__malloc_array(count, sizeof(int32_t));
    b->indices = simclr__malloc_array(count, sizeof(size_t));
    b->samples = samples ? simclr__calloc(count, sizeof(void *)) : NULL;
    if (!b->images || !b->labels || !b->indices || (samples && !b->samples)) {
        simclr_batch_destroy(b);
        return NULL;
    }
    return b;
}

/*
 * Move the finished slot of batch ld->next_batch into a batch (lock
 * held). Holes left by skipped items close up. Returns the slot's failure
 * if it had one; either way the slot is reset for a later batch.
 */
static simclr_status take_batch(simclr_loader *ld, simclr_batch **out)
{
    slot *s = &ld->slots[ld->next_batch % ld->prefetch];
    size_t first = ld->next_batch * ld->batch_size, i, n = 0;
    simclr_status st = s->status;
    simclr_batch *b = NULL;

    if (st == SIMCLR_OK) {
        for (i = 0; i < s->size; i++)
            n += s->images[i] != NULL;
        b = batch_alloc(n, ld->has_transform);
        if (!b)
            st = simclr__fail(&ld->err, SIMCLR_ERR_NOMEM,
                              "loader: out of memory for a batch of %zu", n);
    } else {
        st = simclr__fail(&ld->err, st, "%s", s->message);
    }
    for (i = 0; b && i < s->size; i++) {
        size_t index = ld->order[first + i];

        if (!s->images[i])
            continue;
        b->images[b->count] = s->images[i];
        b->indices[b->count] = index;
        b->labels[b->count] = ld->ds->labels ? ld->ds->labels[index] : -1;
        if (b->samples)
            b->samples[b->count] = s->samples[i];
        s->images[i] = NULL;
        s->samples[i] = NULL;
        b->count++;
    }
    if (b) {
        b->epoch = ld->epoch;
        b->transform = ld->transform;
    }

    slot_reset(ld, s, ld->next_batch + ld->prefetch);
    ld->next_batch++;
    pthread_cond_broadcast(&ld->work_cv);
    *out = b;
    return st;
}

simclr_status simclr_loader_next(simclr_loader *loader, simclr_batch **out)
{
    simclr_status st = SIMCLR_OK;
    simclr_batch *b = NULL;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loader next: out is NULL");
    *out = NULL;
    if (!loader)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "loader next: loader is NULL");

    pthread_mutex_lock(&loader->lock);
    if (loader->at_end)
        start_epoch(loader, loader->epoch + 1);
    for (;;) {
        slot *s;

        if (loader->next_batch == loader->num_batches) {
            loader->at_end = true;
            st = SIMCLR_ERR_END_OF_DATA;
            break;
        }
        s = &loader->slots[loader->next_batch % loader->prefetch];
        while (s->done < s->size)
            pthread_cond_wait(&loader->ready_cv, &loader->lock);
        st = take_batch(loader, &b);
        if (st != SIMCLR_OK || b->count > 0)
            break;
        simclr_batch_destroy(b);
        b = NULL;
    }
    pthread_mutex_unlock(&loader->lock);

    /* The copy into one tensor runs outside the lock, so the workers go
     * on preparing the next batches meanwhile. */
    if (st == SIMCLR_OK && loader->augmenter)
        st = gather_views(loader, b);
    if (st == SIMCLR_ERR_END_OF_DATA)
        simclr__fail(&loader->err, st, "loader: end of epoch %llu",
                     (unsigned long long)loader->epoch);
    if (st != SIMCLR_OK)
        simclr_batch_destroy(b);
    else
        *out = b;
    return st;
}

/* ---- batches ------------------------------------------------------------- */

size_t simclr_batch_count(const simclr_batch *batch)
{
    return batch ? batch->count : 0;
}

const simclr_image *const *simclr_batch_images(const simclr_batch *batch)
{
    return batch ? (const simclr_image *const *)batch->images : NULL;
}

const int32_t *simclr_batch_labels(const simclr_batch *batch)
{
    return batch ? batch->labels : NULL;
}

const size_t *simclr_batch_indices(const simclr_batch *batch)
{
    return batch ? batch->indices : NULL;
}

uint64_t simclr_batch_epoch(const simclr_batch *batch)
{
    return batch ? batch->epoch : 0;
}

const float *simclr_batch_views(const simclr_batch *batch, size_t shape[4])
{
    bool has = batch && batch->views;

    if (shape) {
        shape[0] = has ? batch->view_shape[0] : 0;
        shape[1] = has ? batch->view_shape[1] : 0;
        shape[2] = has ? batch->view_shape[2] : 0;
        shape[3] = has ? batch->view_shape[3] : 0;
    }
    return has ? batch->views : NULL;
}

void *const *simclr__batch_samples(const simclr_batch *batch)
{
    return batch ? batch->samples : NULL;
}

void simclr_batch_destroy(simclr_batch *batch)
{
    size_t i;

    if (!batch)
        return;
    for (i = 0; i < batch->count; i++) {
        simclr_image_destroy(batch->images[i]);
        if (batch->samples)
            release_sample(&batch->transform, batch->samples[i]);
    }
    simclr__free(batch->images);
    simclr__free(batch->labels);
    simclr__free(batch->indices);
    simclr__free(batch->samples);
    simclr__free(batch->views);
    simclr__free(batch);
}
