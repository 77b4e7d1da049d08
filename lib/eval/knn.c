/*
 * Weighted k-NN on cosine similarity: test rows are taken in blocks, the
 * training rows in tiles, and each test row keeps its k best neighbours
 * in a heap, so memory stays small whatever the set sizes.
 *
 * Dot products multiply in float32 with eight independent partial sums
 * and add those in double; the norms, the similarities and the votes are
 * double. Each test row is handled by one thread from the first training
 * row to the last, so the result does not depend on the thread count.
 */
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "simclr/eval.h"
#include "common/common.h"
#include "common/threads_internal.h"
#include "eval_internal.h"

/* torch.nn.functional.normalize's default: rows are divided by
 * max(||x||, NORM_EPS). */
#define NORM_EPS 1e-12

#define TEST_BLOCK 32  /* test rows sharing one pass over the train set */
#define TRAIN_TILE 128 /* train rows per similarity tile */
#define LANES      8   /* partial sums of a dot product */

typedef struct neighbour {
    double sim;
    size_t index;
} neighbour;

/* Per-thread scratch: the similarity tile (TEST_BLOCK, TRAIN_TILE), the
 * heaps (TEST_BLOCK, k) and their fill counts, the votes (classes). */
typedef struct knn_scratch {
    double *tile;
    neighbour *heap;
    size_t *fill;
    double *votes;
} knn_scratch;

simclr_status simclr_knn_config_init(simclr_knn_config *cfg)
{
    if (!cfg)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "k-NN config: cfg is NULL");
    memset(cfg, 0, sizeof(*cfg));
    cfg->size = sizeof(*cfg);
    cfg->k = 200;
    cfg->temperature = 0.1;
    return SIMCLR_OK;
}

/* ---- checks ------------------------------------------------------------ */

static simclr_status check_config(const simclr_knn_config *cfg, size_t n_train)
{
    if (cfg->size != sizeof(*cfg))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "k-NN config: size %zu is not %zu (use "
                            "simclr_knn_config_init)",
                            cfg->size, sizeof(*cfg));
    if (!(cfg->temperature > 0.0 && isfinite(cfg->temperature)))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "k-NN config: temperature %g is not positive "
                            "and finite",
                            cfg->temperature);
    if (cfg->k == 0 || cfg->k > n_train)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "k-NN config: k = %zu neighbours, but there are "
                            "%zu training rows (k must be 1 to that)",
                            cfg->k, n_train);
    return SIMCLR_OK;
}

static simclr_status check_inputs(const float *train,
                                  const int32_t *train_labels, size_t n_train,
                                  const float *test, size_t n_test, size_t dim,
                                  size_t classes, const void *dst)
{
    simclr_status st;
    size_t len;

    if (!train || !train_labels || !test || !dst)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "k-NN: %s is NULL",
                            !train          ? "train"
                            : !train_labels ? "train_labels"
                            : !test         ? "test"
                                            : "the output");
    st = simclr__eval_check_shape(NULL, "k-NN train", n_train, dim, classes);
    if (st == SIMCLR_OK)
        st = simclr__eval_check_shape(NULL, "k-NN test", n_test, dim, classes);
    if (st != SIMCLR_OK)
        return st;
    if (!simclr__mul_size(n_train, dim, &len) ||
        !simclr__mul_size(n_test, dim, &len) ||
        !simclr__mul_size(n_train, sizeof(float) * LANES, &len))
        return simclr__fail(NULL, SIMCLR_ERR_LIMIT,
                            "k-NN: %zu + %zu rows of dimension %zu overflow "
                            "the address space",
                            n_train, n_test, dim);
    return simclr__eval_check_labels(NULL, "k-NN train labels", train_labels,
                                     n_train, classes);
}

static simclr_status check_values(const float *train, size_t n_train,
                                  const float *test, size_t n_test, size_t dim)
{
    simclr_status st;

    st = simclr__eval_check_finite(NULL, "k-NN train features", train, n_train,
                                   dim);
    if (st == SIMCLR_OK)
        st = simclr__eval_check_finite(NULL, "k-NN test features", test, n_test,
                                       dim);
    return st;
}

/* ---- the kernel -------------------------------------------------------- */

static double dot(const float *a, const float *b, size_t dim)
{
    float lane[LANES] = {0};
    double sum = 0.0;
    size_t k = 0;

    for (; k + LANES <= dim; k += LANES) {
        for (size_t l = 0; l < LANES; l++)
            lane[l] += a[k + l] * b[k + l];
    }
    for (; k < dim; k++)
        sum += (double)a[k] * b[k];
    for (size_t l = 0; l < LANES; l++)
        sum += lane[l];
    return sum;
}

/* inv (n) = 1 / max(||x_r||, eps) */
static void inverse_norms(const float *x, size_t n, size_t dim, double *inv)
{
#pragma omp parallel for num_threads(simclr__num_threads())
    for (size_t r = 0; r < n; r++) {
        const float *row = x + r * dim;
        double sq = 0.0;

        for (size_t k = 0; k < dim; k++)
            sq += (double)row[k] * row[k];
        inv[r] = 1.0 / fmax(sqrt(sq), NORM_EPS);
    }
}

/* a ranks below b: smaller similarity, or equal and a later row */
static int worse(const neighbour *a, const neighbour *b)
{
    return a->sim < b->sim || (a->sim == b->sim && a->index > b->index);
}

/* Offers a candidate to a min-heap (the worst neighbour at the root) of
 * capacity k holding *fill entries. */
static void heap_offer(neighbour *heap, size_t *fill, size_t k, neighbour cand)
{
    size_t i;

    if (*fill < k) {
        /* sift up from the new leaf */
        i = (*fill)++;
        while (i > 0 && worse(&cand, &heap[(i - 1) / 2])) {
            heap[i] = heap[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        heap[i] = cand;
        return;
    }
    if (!worse(&heap[0], &cand))
        return;
    /* replace the root and sift down */
    i = 0;
    for (;;) {
        size_t child = 2 * i + 1;

        if (child >= k)
            break;
        if (child + 1 < k && worse(&heap[child + 1], &heap[child]))
            child++;
        if (!worse(&heap[child], &cand))
            break;
        heap[i] = heap[child];
        i = child;
    }
    heap[i] = cand;
}

/* The label with the largest sum of exp(sim / t); a tie goes to the
 * smaller label. */
static int32_t vote(const neighbour *heap, size_t k, const int32_t *labels,
                    size_t classes, double t, double *votes)
{
    size_t best = 0;

    memset(votes, 0, classes * sizeof(double));
    for (size_t i = 0; i < k; i++)
        votes[labels[heap[i].index]] += exp(heap[i].sim / t);
    for (size_t c = 1; c < classes; c++) {
        if (votes[c] > votes[best])
            best = c;
    }
    return (int32_t)best;
}

/* Test rows [q0, q0 + nq) against every training row. */
static void knn_block(const simclr_knn_config *cfg, const float *train,
                      const int32_t *train_labels, const double *inv_train,
                      size_t n_train, const float *test, const double *inv_test,
                      size_t q0, size_t nq, size_t dim, size_t classes,
                      knn_scratch *s, int32_t *dst)
{
    size_t k = cfg->k;

    memset(s->fill, 0, nq * sizeof(size_t));
    for (size_t t0 = 0; t0 < n_train; t0 += TRAIN_TILE) {
        size_t nt = n_train - t0 < TRAIN_TILE ? n_train - t0 : TRAIN_TILE;

        /* tile (nq, nt) of cosine similarities */
        for (size_t i = 0; i < nq; i++) {
            const float *q = test + (q0 + i) * dim;

            for (size_t j = 0; j < nt; j++)
                s->tile[i * TRAIN_TILE + j] =
                    dot(q, train + (t0 + j) * dim, dim) * inv_test[q0 + i] *
                    inv_train[t0 + j];
        }
        /* each test row keeps its k best */
        for (size_t i = 0; i < nq; i++) {
            for (size_t j = 0; j < nt; j++) {
                neighbour cand = {s->tile[i * TRAIN_TILE + j], t0 + j};

                heap_offer(s->heap + i * k, &s->fill[i], k, cand);
            }
        }
    }
    for (size_t i = 0; i < nq; i++)
        dst[q0 + i] = vote(s->heap + i * k, k, train_labels, classes,
                           cfg->temperature, s->votes);
}

/* ---- scratch ----------------------------------------------------------- */

static void free_scratch(knn_scratch *s, size_t count)
{
    if (!s)
        return;
    for (size_t i = 0; i < count; i++) {
        simclr__free(s[i].tile);
        simclr__free(s[i].heap);
        simclr__free(s[i].fill);
        simclr__free(s[i].votes);
    }
    simclr__free(s);
}

static knn_scratch *make_scratch(size_t count, size_t k, size_t classes)
{
    knn_scratch *s = simclr__calloc(count, sizeof(*s));
    size_t heap_len;

    if (!s || !simclr__mul_size(k, TEST_BLOCK, &heap_len)) {
        simclr__free(s);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        s[i].tile =
            simclr__malloc_array(TEST_BLOCK * TRAIN_TILE, sizeof(double));
        s[i].heap = simclr__malloc_array(heap_len, sizeof(neighbour));
        s[i].fill = simclr__malloc_array(TEST_BLOCK, sizeof(size_t));
        s[i].votes = simclr__malloc_array(classes, sizeof(double));
        if (!s[i].tile || !s[i].heap || !s[i].fill || !s[i].votes) {
            free_scratch(s, count);
            return NULL;
        }
    }
    return s;
}

/* ---- public ------------------------------------------------------------ */

simclr_status simclr_knn_predict(const simclr_knn_config *cfg,
                                 const float *train,
                                 const int32_t *train_labels, size_t n_train,
                                 const float *test, size_t n_test, size_t dim,
                                 size_t classes, int32_t *predictions)
{
    simclr_knn_config defaults;
    double *inv_train, *inv_test;
    knn_scratch *scratch;
    size_t blocks = 0;
    int threads = simclr__num_threads();
    simclr_status st;

    if (!cfg) {
        simclr_knn_config_init(&defaults);
        cfg = &defaults;
    }
    st = check_inputs(train, train_labels, n_train, test, n_test, dim, classes,
                      predictions);
    if (st == SIMCLR_OK)
        st = check_config(cfg, n_train);
    if (st == SIMCLR_OK)
        st = check_values(train, n_train, test, n_test, dim);
    if (st != SIMCLR_OK)
        return st;

    inv_train = simclr__malloc_array(n_train, sizeof(double));
    inv_test = simclr__malloc_array(n_test, sizeof(double));
    scratch = make_scratch((size_t)threads, cfg->k, classes);
    if (!inv_train || !inv_test || !scratch) {
        simclr__free(inv_train);
        simclr__free(inv_test);
        free_scratch(scratch, (size_t)threads);
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "k-NN: out of memory for the norms of %zu + %zu "
                            "rows and the neighbour heaps (k = %zu)",
                            n_train, n_test, cfg->k);
    }
    inverse_norms(train, n_train, dim, inv_train);
    inverse_norms(test, n_test, dim, inv_test);

    /* blocks of test rows, each from start to end on one thread */
    blocks = (n_test + TEST_BLOCK - 1) / TEST_BLOCK;
#pragma omp parallel num_threads(threads)
    {
        int me = 0;

#ifdef _OPENMP
        me = omp_get_thread_num();
#endif
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < blocks; b++) {
            size_t q0 = b * TEST_BLOCK;
            size_t nq = n_test - q0 < TEST_BLOCK ? n_test - q0 : TEST_BLOCK;

            knn_block(cfg, train, train_labels, inv_train, n_train, test,
                      inv_test, q0, nq, dim, classes, &scratch[me],
                      predictions);
        }
    }

    free_scratch(scratch, (size_t)threads);
    simclr__free(inv_train);
    simclr__free(inv_test);
    return SIMCLR_OK;
}

simclr_status simclr_knn_accuracy(const simclr_knn_config *cfg,
                                  const float *train,
                                  const int32_t *train_labels, size_t n_train,
                                  const float *test, const int32_t *test_labels,
                                  size_t n_test, size_t dim, size_t classes,
                                  double *accuracy)
{
    int32_t *pred;
    size_t right = 0;
    simclr_status st;

    if (!test_labels || !accuracy)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "k-NN: %s is NULL",
                            !test_labels ? "test_labels" : "accuracy");
    if (n_test > 0) {
        st = simclr__eval_check_labels(NULL, "k-NN test labels", test_labels,
                                       n_test, classes);
        if (st != SIMCLR_OK)
            return st;
    }
    pred = simclr__malloc_array(n_test ? n_test : 1, sizeof(int32_t));
    if (!pred)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "k-NN: out of memory for %zu predictions", n_test);

    st = simclr_knn_predict(cfg, train, train_labels, n_train, test, n_test,
                            dim, classes, pred);
    if (st == SIMCLR_OK) {
        for (size_t i = 0; i < n_test; i++)
            right += pred[i] == test_labels[i];
        *accuracy = (double)right / (double)n_test;
    }
    simclr__free(pred);
    return st;
}
