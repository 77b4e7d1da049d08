/*
 * bench_augment: two SimCLR views per image on one thread, libsimclr
 * against torchvision's pipeline of the same recipe on PIL images
 * (bench/augment_peer.py, run in the same process tree).
 *
 *   (a) 32x32 RGB images, `cifar` preset (pixels in memory on both sides,
 *       as CIFAR's binary batches hold them);
 *   (b) the JPEG photos of a folder at 224, `imagenet` preset, decode
 *       included on both sides; then decoded up front on both sides, to
 *       show the augmentation alone.
 *
 *   bench_augment [--photos DIR] [--rounds R] [--cifar-n N]
 *
 * Prints the median time per image over R rounds and the ratio.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simclr/simclr.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Run the peer and read its "median_us_per_image" line. */
static double run_peer(const char *args)
{
    char cmd[2048], line[256];
    double us = -1.0;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "%s %s %s", BENCH_PYTHON3, BENCH_PEER, args);
    p = popen(cmd, "r");
    if (!p)
        return -1.0;
    while (fgets(line, sizeof(line), p))
        if (sscanf(line, "median_us_per_image %lf", &us) == 1)
            break;
    pclose(p);
    return us;
}

static simclr_augmenter *make(simclr_augment_preset preset)
{
    simclr_augment_config cfg;
    simclr_augmenter *aug = NULL;

    simclr_augment_config_init(&cfg, preset);
    if (simclr_augmenter_create(&cfg, &aug) != SIMCLR_OK) {
        fprintf(stderr, "bench_augment: %s\n", simclr_last_error());
        exit(1);
    }
    return aug;
}

static void report(const char *name, double ours, double theirs)
{
    printf("%-28s libsimclr %9.1f us/image   torchvision %9.1f us/image   "
           "ratio %.1fx\n",
           name, ours, theirs, theirs > 0 ? theirs / ours : 0.0);
}

/* (a) n random 32x32 RGB images. */
static void bench_cifar(int n, int rounds)
{
    simclr_augmenter *aug = make(SIMCLR_AUGMENT_PRESET_CIFAR);
    uint8_t *pixels = malloc((size_t)n * 32 * 32 * 3);
    float *views = malloc(sizeof(float) * 2 * 3 * 32 * 32);
    double *t = malloc(sizeof(double) * (size_t)rounds), theirs;
    char args[64];
    int r, i;

    if (!pixels || !views || !t)
        exit(1);
    srand(1);
    for (i = 0; i < n * 32 * 32 * 3; i++)
        pixels[i] = (uint8_t)(rand() >> 7);
    for (r = 0; r < rounds; r++) {
        double start = now();

        for (i = 0; i < n; i++) {
            simclr_image img = {pixels + (size_t)i * 3072, 32, 32, 3, 96};

            if (simclr_augment_pair(aug, &img, (uint64_t)r, (uint64_t)i,
                                    views) != SIMCLR_OK)
                exit(1);
        }
        t[r] = (now() - start) / n * 1e6;
    }
    snprintf(args, sizeof(args), "cifar %d %d", n, rounds);
    theirs = run_peer(args);
    report("(a) 32x32 cifar", median(t, rounds), theirs);
    simclr_augmenter_destroy(aug);
    free(pixels);
    free(views);
    free(t);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The JPEG files of a folder, sorted as the peer sorts them. */
static int list_photos(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        char **grown;

        if (len < 5 || (strcmp(e->d_name + len - 5, ".jpeg") != 0 &&
                        strcmp(e->d_name + len - 4, ".jpg") != 0))
            continue;
        grown = realloc(names, sizeof(char *) * (size_t)(n + 1));
        if (!grown)
            exit(1);
        names = grown;
        names[n] = malloc(strlen(dir) + len + 2);
        if (!names[n])
            exit(1);
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, (size_t)n, sizeof(char *), cmp_name);
    *out = names;
    return n;
}

static simclr_image *decode(const char *path)
{
    simclr_image *img;

    if (simclr_image_decode_file(path, NULL, &img) != SIMCLR_OK) {
        fprintf(stderr, "bench_augment: %s: %s\n", path, simclr_last_error());
        exit(1);
    }
    return img;
}

/* (b) the photos at 224: with decode inside the timed loop, and with the
 * images decoded up front (augmentation alone), on both sides. */
static void bench_photos(const char *dir, int rounds, int with_decode)
{
    simclr_augmenter *aug = make(SIMCLR_AUGMENT_PRESET_IMAGENET);
    float *views = malloc(sizeof(float) * 2 * 3 * 224 * 224);
    double *t = malloc(sizeof(double) * (size_t)rounds), theirs;
    char **paths = NULL, args[1200];
    int n = list_photos(dir, &paths), r, i;
    simclr_image **imgs = calloc((size_t)(n > 0 ? n : 1), sizeof(*imgs));

    if (n == 0 || !views || !t || !imgs) {
        fprintf(stderr, "bench_augment: no photos in %s\n", dir);
        exit(1);
    }
    for (i = 0; !with_decode && i < n; i++)
        imgs[i] = decode(paths[i]);
    for (r = 0; r < rounds; r++) {
        double start = now();

        for (i = 0; i < n; i++) {
            simclr_image *img = with_decode ? decode(paths[i]) : imgs[i];

            if (simclr_augment_pair(aug, img, (uint64_t)r, (uint64_t)i,
                                    views) != SIMCLR_OK)
                exit(1);
            if (with_decode)
                simclr_image_destroy(img);
        }
        t[r] = (now() - start) / n * 1e6;
    }
    snprintf(args, sizeof(args), "photos '%s' %d%s", dir, rounds,
             with_decode ? "" : " --no-decode");
    theirs = run_peer(args);
    report(with_decode ? "(b) photos 224, decode" : "(b) photos 224, no decode",
           median(t, rounds), theirs);
    for (i = 0; i < n; i++) {
        simclr_image_destroy(imgs[i]);
        free(paths[i]);
    }
    free(imgs);
    free(paths);
    simclr_augmenter_destroy(aug);
    free(views);
    free(t);
}

int main(int argc, char **argv)
{
    const char *photos = "/work/shared/data/images/photos";
    int rounds = 5, cifar_n = 2000, i;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--photos") == 0)
            photos = argv[i + 1];
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--cifar-n") == 0)
            cifar_n = atoi(argv[i + 1]);
    }
    if (rounds < 1 || cifar_n < 1 || i != argc) {
        fprintf(stderr, "usage: bench_augment [--photos DIR] [--rounds R] "
                        "[--cifar-n N]\n");
        return 2;
    }
    simclr_set_num_threads(1);
    printf("two views per image, one thread, median of %d rounds\n", rounds);
    bench_cifar(cifar_n, rounds);
    bench_photos(photos, rounds, 1);
    bench_photos(photos, rounds, 0);
    return 0;
}
