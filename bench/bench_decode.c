/*
 * Decode throughput on a folder of JPEG/PNG photos: libsimclr against
 * Pillow on the same files, one thread each, in the same run.
 *
 * Each round decodes every file once (from its path, to 8-bit RGB). The
 * two sides take turns, BLOCKS times ROUNDS rounds each, so that a busy
 * spell on a shared machine falls on both; the report gives each side's
 * median round and the median of the per-block ratios.
 *
 * usage: bench_decode PHOTO_DIR [ROUNDS] [PYTHON3] [BLOCKS]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simclr/simclr.h"

#define MAX_FILES  4096
#define MAX_ROUNDS 101
#define MAX_BLOCKS 21

static const char pillow_script[] =
    "import sys, time\n"
    "from PIL import Image\n"
    "rounds = int(sys.argv[1])\n"
    "files = sys.stdin.read().split('\\n')[:-1]\n"
    "for r in range(rounds):\n"
    "    t = time.perf_counter()\n"
    "    for f in files:\n"
    "        im = Image.open(f)\n"
    "        im = im.convert('RGB')\n"
    "        im.load()\n"
    "    print(time.perf_counter() - t)\n";

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int list_files(const char *dir, char **files)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d) {
        perror(dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL && n < MAX_FILES) {
        const char *dot = strrchr(e->d_name, '.');
        size_t len;

        if (!dot || (strcmp(dot, ".jpg") && strcmp(dot, ".jpeg") &&
                     strcmp(dot, ".png")))
            continue;
        len = strlen(dir) + strlen(e->d_name) + 2;
        files[n] = malloc(len);
        if (!files[n])
            break;
        snprintf(files[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(files, (size_t)n, sizeof(*files), cmp_str);
    return n;
}

/* Pillow's round times, from a child interpreter fed the file list. */
static int run_pillow(const char *python, char **files, int n, int rounds,
                      double *times)
{
    char cmd[4096], tmp[] = "/tmp/bench_decode_XXXXXX";
    FILE *list, *p;
    int i, got = 0, fd = mkstemp(tmp);

    if (fd < 0 || !(list = fdopen(fd, "w")))
        return -1;
    for (i = 0; i < n; i++)
        fprintf(list, "%s\n", files[i]);
    fclose(list);
    snprintf(cmd, sizeof(cmd), "%s -c \"$BENCH_PILLOW\" %d < %s", python,
             rounds, tmp);
    setenv("BENCH_PILLOW", pillow_script, 1);
    p = popen(cmd, "r");
    if (p) {
        while (got < rounds && fscanf(p, "%lf", &times[got]) == 1)
            got++;
        pclose(p);
    }
    remove(tmp);
    return got == rounds ? 0 : -1;
}

/* One round of libsimclr: every file decoded once. Seconds, or -1. */
static double decode_round(char **files, int n,
                           const simclr_decode_options *opts, double *pixels)
{
    double t = now();
    int i;

    *pixels = 0;
    for (i = 0; i < n; i++) {
        simclr_image *im;

        if (simclr_image_decode_file(files[i], opts, &im) != SIMCLR_OK) {
            fprintf(stderr, "bench_decode: %s\n", simclr_last_error());
            return -1;
        }
        *pixels += (double)im->width * im->height;
        simclr_image_destroy(im);
    }
    return now() - t;
}

int main(int argc, char **argv)
{
    static char *files[MAX_FILES];
    static double ours[MAX_ROUNDS * MAX_BLOCKS],
        pillow[MAX_ROUNDS * MAX_BLOCKS];
    double ratios[MAX_BLOCKS], pixels = 0;
    const char *python = argc > 3 ? argv[3] : "/usr/bin/python3";
    simclr_decode_options opts;
    int n, rounds, blocks, b, r, i;

    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: bench_decode PHOTO_DIR [ROUNDS] [PYTHON3] "
                        "[BLOCKS]\n");
        return 2;
    }
    rounds = argc > 2 ? atoi(argv[2]) : 7;
    if (rounds < 1 || rounds > MAX_ROUNDS)
        rounds = 7;
    blocks = argc > 4 ? atoi(argv[4]) : 5;
    if (blocks < 1 || blocks > MAX_BLOCKS)
        blocks = 5;
    n = list_files(argv[1], files);
    if (n <= 0) {
        fprintf(stderr, "bench_decode: no .jpg, .jpeg or .png in %s\n",
                argv[1]);
        return 1;
    }

    simclr_set_num_threads(1);
    simclr_decode_options_init(&opts);
    opts.color = SIMCLR_COLOR_RGB;
    for (b = 0; b < blocks; b++) {
        double *mine = ours + b * rounds, *theirs = pillow + b * rounds;
        double block_ours[MAX_ROUNDS], block_pillow[MAX_ROUNDS];

        for (r = 0; r < rounds; r++)
            if ((mine[r] = decode_round(files, n, &opts, &pixels)) < 0)
                return 1;
        if (run_pillow(python, files, n, rounds, theirs) != 0) {
            fprintf(stderr, "bench_decode: Pillow run failed (%s)\n", python);
            return 1;
        }
        memcpy(block_ours, mine, sizeof(double) * (size_t)rounds);
        memcpy(block_pillow, theirs, sizeof(double) * (size_t)rounds);
        ratios[b] = median(block_pillow, rounds) / median(block_ours, rounds);
    }

    {
        int total = rounds * blocks;
        double a = median(ours, total), p = median(pillow, total);

        printf("files: %d, %.2f megapixels per round, %d blocks of %d "
               "rounds, 1 thread\n",
               n, pixels / 1e6, blocks, rounds);
        printf("libsimclr: median %.2f ms per round, %.0f images/s, "
               "%.1f MP/s\n",
               1e3 * a, n / a, pixels / 1e6 / a);
        printf("Pillow:    median %.2f ms per round, %.0f images/s, "
               "%.1f MP/s\n",
               1e3 * p, n / p, pixels / 1e6 / p);
        printf("ratio (Pillow time / libsimclr time): median of blocks "
               "%.2fx, of medians %.2fx\n",
               median(ratios, blocks), p / a);
    }
    for (i = 0; i < n; i++)
        free(files[i]);
    return 0;
}
