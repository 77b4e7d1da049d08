/*
 * Loader throughput: images per second through simclr_loader for
 * Fashion-MNIST (IDX, in memory) and for a folder of JPEG files (decoded
 * on the workers), next to PyTorch's DataLoader doing the same work
 * (peer_loader.py, run here through /usr/bin/python3).
 *
 *   bench_loader [FASHION_MNIST_DIR] JPEG_FOLDER
 *
 * Reports the median over several epochs and the ratio to the peer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simclr/simclr.h"

#define WORKERS 2
#define BATCH   256

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Images per second of each of @p epochs epochs, into @p rate. */
static int run_ours(const char *path, const simclr_dataset_options *dopts,
                    int epochs, double *rate)
{
    simclr_loader_options lo;
    simclr_dataset *ds;
    simclr_loader *ld;
    simclr_batch *b;
    int e;

    if (simclr_dataset_open(path, dopts, &ds) != SIMCLR_OK) {
        fprintf(stderr, "bench_loader: %s\n", simclr_last_error());
        return -1;
    }
    simclr_loader_options_init(&lo);
    lo.batch_size = BATCH;
    lo.num_workers = WORKERS;
    lo.prefetch = 4;
    if (simclr_loader_create(ds, &lo, &ld) != SIMCLR_OK) {
        fprintf(stderr, "bench_loader: %s\n", simclr_last_error());
        simclr_dataset_destroy(ds);
        return -1;
    }
    for (e = 0; e < epochs; e++) {
        size_t images = 0;
        double start = now();
        simclr_status st;

        simclr_loader_set_epoch(ld, (uint64_t)e);
        while ((st = simclr_loader_next(ld, &b)) == SIMCLR_OK) {
            images += simclr_batch_count(b);
            simclr_batch_destroy(b);
        }
        if (st != SIMCLR_ERR_END_OF_DATA) {
            fprintf(stderr, "bench_loader: %s\n", simclr_loader_error(ld));
            break;
        }
        rate[e] = (double)images / (now() - start);
    }
    simclr_loader_destroy(ld);
    simclr_dataset_destroy(ds);
    return e == epochs ? 0 : -1;
}

static int run_peer(const char *kind, const char *path, int epochs,
                    double *rate)
{
    char cmd[4096];
    double seconds;
    size_t images;
    int e = 0;
    FILE *p;

    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 '%s/peer_loader.py' %s '%s' "
             "%d %d %d",
             SIMCLR_BENCH_DIR, kind, path, BATCH, WORKERS, epochs);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    while (e < epochs && fscanf(p, " epoch %lf %zu", &seconds, &images) == 2)
        rate[e++] = (double)images / seconds;
    pclose(p);
    return e == epochs ? 0 : -1;
}

static void report(const char *name, const char *kind, const char *path,
                   const simclr_dataset_options *dopts, int epochs)
{
    double ours[64], peer[64], a, b;

    if (run_ours(path, dopts, epochs, ours) != 0)
        return;
    if (run_peer(kind, path, epochs, peer) != 0) {
        fprintf(stderr, "bench_loader: the PyTorch peer failed\n");
        return;
    }
    a = median(ours, epochs);
    b = median(peer, epochs);
    printf("%-14s %d workers, batch %d, median of %d epochs: "
           "libsimclr %.0f img/s, PyTorch DataLoader %.0f img/s, "
           "ratio %.2f\n",
           name, WORKERS, BATCH, epochs, a, b, a / b);
}

int main(int argc, char **argv)
{
    const char *fashion = "/usr/share/datasets/fashion-mnist";
    const char *folder;
    char images[4096];
    simclr_dataset_options o;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s [FASHION_MNIST_DIR] JPEG_FOLDER\n", argv[0]);
        return 2;
    }
    if (argc == 3)
        fashion = argv[1];
    folder = argv[argc - 1];

    simclr_dataset_options_init(&o);
    snprintf(images, sizeof(images), "%s/train-images-idx3-ubyte.gz", fashion);
    report("fashion-mnist", "idx", images, &o, 5);

    simclr_dataset_options_init(&o);
    o.format = SIMCLR_DATASET_FOLDER;
    o.unlabeled = 1;
    o.channels = 3;
    report("jpeg-folder", "folder", folder, &o, 15);
    return 0;
}
