/*
 * bench_encoder: the ResNet encoder against PyTorch on the same number of
 * threads, in the same run (bench/encoder_peer.py under Debian's
 * interpreter, torchvision's ResNets).
 *
 *   train   ResNet-18, CIFAR stem, 3x32x32, width 1, a batch of 128
 *           views: simclr_encoder_forward_train() then
 *           simclr_encoder_backward() with a fixed dL/dh (PyTorch:
 *           forward and backward of every parameter's gradient); views/s.
 *   encode  ResNet-50, ImageNet stem, 3x224x224, a batch of 16:
 *           simclr_encode_tensor() (PyTorch: eval mode, no_grad);
 *           images/s.
 *
 * PyTorch runs both memory layouts, NCHW and channels_last, each in its
 * own child process that keeps its model between blocks. Every side
 * first runs two warm-up steps; then the sides take turns, BLOCKS blocks
 * of STEPS steps each (the order rotating from block to block), so that
 * a busy spell on a shared machine falls on all of them. Each step is
 * timed alone; the table gives each side's median step, its throughput,
 * and the ratio of our throughput to the best PyTorch layout's (above 1:
 * libsimclr is faster), overall and per block.
 *
 *   bench_encoder [--threads T] [--steps S] [--blocks B]
 *                 [--only train|encode] [--side both|ours|torch]
 *                 [--layout both|nchw|channels_last]
 *
 * Defaults: 2 threads, 3 steps, 2 blocks, both workloads, both sides,
 * both layouts. `--side ours` runs only libsimclr; `--side torch` (with
 * --only and one --layout) replaces this process by the PyTorch peer, so
 * that each side can run alone for a peak-memory measurement
 * (bench/encoder_memory.sh). With DNNL_VERBOSE or ONEDNN_VERBOSE set in
 * the environment, lines "bench_encoder: begin WORKLOAD STEPS" and
 * "bench_encoder: end WORKLOAD" enclose our timed steps for
 * bench/verbose_summary.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "simclr/simclr.h"

#define MAX_STEPS  64
#define MAX_BLOCKS 16
#define MAX_SIDES  3 /* ours, PyTorch NCHW, PyTorch channels_last */

typedef enum { WORK_TRAIN, WORK_ENCODE } work_kind;

/* One workload on our side: the encoder and its tensors. */
typedef struct workload {
    work_kind kind;
    const char *name; /* "train" or "encode", as the peer names it */
    const char *unit; /* "views/s" or "images/s" */
    size_t batch;
    simclr_encoder *enc;
    float *src; /* (batch, 3, S, S) */
    float *h;   /* (batch, D) */
    float *dh;  /* (batch, D), dL/dh of the training step */
} workload;

/* A PyTorch child in serve mode: we write step counts, it writes times. */
typedef struct peer {
    const char *layout;
    pid_t pid;
    FILE *to;
    FILE *from;
} peer;

typedef struct options {
    int threads, steps, blocks;
    int train, encode;       /* which workloads */
    int ours, torch;         /* which sides */
    const char *layouts[2];  /* PyTorch layouts to run */
    int nlayouts;
    int mark;                /* print the begin/end lines for the summary */
} options;

static const char *layout_names[2] = {"nchw", "channels_last"};

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

/* Median of n values; sorts a copy, so v keeps its order. */
static double median(const double *v, int n)
{
    double s[MAX_STEPS * MAX_BLOCKS];

    memcpy(s, v, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_encoder: %s: %s\n", what, detail);
    exit(1);
}

static void *alloc_floats(size_t n)
{
    float *p = malloc(sizeof(float) * n);

    if (!p)
        die("out of memory", "tensor");
    return p;
}

/* Standard normal numbers from a fixed seed (xorshift64*, Box-Muller). */
static void fill_normal(float *v, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15u + 1;
    size_t i;

    for (i = 0; i < n; i++) {
        double u1, u2;

        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        u1 = ((double)((s * 0x2545F4914F6CDD1Du) >> 11) + 1.0) / 0x1p53;
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        u2 = (double)((s * 0x2545F4914F6CDD1Du) >> 11) / 0x1p53;
        v[i] = (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
}

/* ---- our side ---------------------------------------------------------- */

static void ours_setup(workload *w)
{
    simclr_encoder_config cfg;
    size_t side, dim;

    simclr_encoder_config_init(&cfg);
    if (w->kind == WORK_TRAIN) {
        cfg.arch = SIMCLR_RESNET18;
        cfg.stem = SIMCLR_STEM_CIFAR;
        cfg.input_size = 32;
    } else {
        cfg.arch = SIMCLR_RESNET50;
        cfg.stem = SIMCLR_STEM_IMAGENET;
        cfg.input_size = 224;
    }
    if (simclr_encoder_create(&cfg, &w->enc) != SIMCLR_OK)
        die("encoder", simclr_last_error());

    side = cfg.input_size;
    dim = simclr_encoder_dim(w->enc);
    w->src = alloc_floats(w->batch * 3 * side * side);
    w->h = alloc_floats(w->batch * dim);
    w->dh = alloc_floats(w->batch * dim);
    fill_normal(w->src, w->batch * 3 * side * side, 1);
    fill_normal(w->dh, w->batch * dim, 2);
}

static void ours_teardown(workload *w)
{
    simclr_encoder_destroy(w->enc);
    free(w->src);
    free(w->h);
    free(w->dh);
}

/* One step of the workload; seconds. */
static double ours_step(workload *w)
{
    uint32_t s = simclr_encoder_input_size(w->enc);
    simclr_status st;
    double t = now();

    if (w->kind == WORK_TRAIN) {
        st = simclr_encoder_forward_train(w->enc, w->src, w->batch, 3, s, s,
                                          w->h);
        if (st == SIMCLR_OK)
            st = simclr_encoder_backward(w->enc, w->dh, NULL);
    } else {
        st = simclr_encode_tensor(w->enc, w->src, w->batch, 3, s, s, w->h);
    }
    if (st != SIMCLR_OK)
        die(w->name, simclr_encoder_error(w->enc));
    return now() - t;
}

static void ours_run(workload *w, int steps, double *times, int mark)
{
    int i;

    if (mark) {
        printf("bench_encoder: begin %s %d\n", w->name, steps);
        fflush(stdout);
    }
    for (i = 0; i < steps; i++)
        times[i] = ours_step(w);
    if (mark) {
        printf("bench_encoder: end %s\n", w->name);
        fflush(stdout);
    }
}

/* ---- the PyTorch side -------------------------------------------------- */

/* Start a serve-mode peer and wait until its warm-up is done. */
static void peer_start(peer *p, const workload *w, int threads)
{
    char threads_s[16], batch_s[32], line[64];
    int to_child[2], from_child[2];

    snprintf(threads_s, sizeof(threads_s), "%d", threads);
    snprintf(batch_s, sizeof(batch_s), "%zu", w->batch);
    /* Close-on-exec, so that a later peer does not hold this one's
     * input open; dup2 clears the flag on the child's own copies. */
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0)
        die("pipe", strerror(errno));
    fflush(stdout);
    p->pid = fork();
    if (p->pid < 0)
        die("fork", strerror(errno));
    if (p->pid == 0) {
        dup2(to_child[0], STDIN_FILENO);
        dup2(from_child[1], STDOUT_FILENO);
        close(to_child[0]), close(to_child[1]);
        close(from_child[0]), close(from_child[1]);
        execl(BENCH_PYTHON3, BENCH_PYTHON3, BENCH_PEER, "serve", w->name,
              threads_s, batch_s, p->layout, (char *)NULL);
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    p->to = fdopen(to_child[1], "w");
    p->from = fdopen(from_child[0], "r");
    if (!p->to || !p->from)
        die("fdopen", strerror(errno));
    if (!fgets(line, sizeof(line), p->from) || strcmp(line, "ready\n") != 0)
        die("PyTorch peer did not start", BENCH_PEER);
}

/* Ask the peer for steps steps; their times in seconds. */
static void peer_run(peer *p, int steps, double *times)
{
    char line[MAX_STEPS * 24 + 16], *cur, *end;
    int i;

    fprintf(p->to, "%d\n", steps);
    fflush(p->to);
    if (!fgets(line, sizeof(line), p->from) || strncmp(line, "times", 5))
        die("PyTorch peer stopped", p->layout);
    cur = line + 5;
    for (i = 0; i < steps; i++, cur = end) {
        times[i] = strtod(cur, &end);
        if (end == cur)
            die("PyTorch peer sent a short line", p->layout);
    }
}

static void peer_stop(peer *p)
{
    int status;

    fclose(p->to);
    fclose(p->from);
    waitpid(p->pid, &status, 0);
}

/* Replace this process by a one-shot peer (for --side torch). */
static void peer_exec(const workload *w, const options *o)
{
    char threads_s[16], batch_s[32], steps_s[16];

    snprintf(threads_s, sizeof(threads_s), "%d", o->threads);
    snprintf(batch_s, sizeof(batch_s), "%zu", w->batch);
    snprintf(steps_s, sizeof(steps_s), "%d", o->steps * o->blocks);
    fflush(stdout);
    execl(BENCH_PYTHON3, BENCH_PYTHON3, BENCH_PEER, w->name, threads_s,
          batch_s, steps_s, o->layouts[0], (char *)NULL);
    die(BENCH_PYTHON3, strerror(errno));
}

/* ---- both, in turns ---------------------------------------------------- */

static void report(const workload *w, const options *o, const char **names,
                   double (*times)[MAX_STEPS * MAX_BLOCKS], int nsides)
{
    int total = o->steps * o->blocks, best = -1, k, b;
    double med[MAX_SIDES];

    printf("\n%s: batch %zu, %d threads, %d blocks of %d steps after 2 "
           "warm-up steps\n",
           w->name, w->batch, o->threads, o->blocks, o->steps);
    printf("  %-24s %12s %12s\n", "side", "median s", w->unit);
    for (k = 0; k < nsides; k++) {
        med[k] = median(times[k], total);
        printf("  %-24s %12.4f %12.1f\n", names[k], med[k],
               (double)w->batch / med[k]);
        if (k > 0 && (best < 0 || med[k] < med[best]))
            best = k;
    }
    if (!o->ours || best < 0)
        return;
    printf("  PyTorch best: %s\n", names[best]);
    printf("  ratio ours / PyTorch best (throughput): %.2f   per block:",
           med[best] / med[0]);
    for (b = 0; b < o->blocks; b++) {
        double mine = median(times[0] + b * o->steps, o->steps), theirs = -1;

        for (k = 1; k < nsides; k++) {
            double m = median(times[k] + b * o->steps, o->steps);

            if (theirs < 0 || m < theirs)
                theirs = m;
        }
        printf(" %.2f", theirs / mine);
    }
    printf("\n");
}

static void bench(work_kind kind, const options *o)
{
    static double times[MAX_SIDES][MAX_STEPS * MAX_BLOCKS];
    const char *names[MAX_SIDES];
    workload w = {kind, kind == WORK_TRAIN ? "train" : "encode",
                  kind == WORK_TRAIN ? "views/s" : "images/s",
                  kind == WORK_TRAIN ? 128 : 16, NULL, NULL, NULL, NULL};
    peer peers[2];
    double warm[2];
    int nsides = 0, k, b;

    if (o->torch && !o->ours)
        peer_exec(&w, o);

    /* Every side warms up alone before the first block. */
    names[nsides++] = "libsimclr";
    for (k = 0; o->torch && k < o->nlayouts; k++) {
        peers[k].layout = o->layouts[k];
        peer_start(&peers[k], &w, o->threads);
        names[nsides++] = strcmp(o->layouts[k], "nchw") == 0
                              ? "PyTorch nchw"
                              : "PyTorch channels_last";
    }
    ours_setup(&w);
    ours_run(&w, 2, warm, 0);

    for (b = 0; b < o->blocks; b++) {
        for (k = 0; k < nsides; k++) {
            int side = (b + k) % nsides;
            double *dst = times[side] + b * o->steps;

            if (side == 0)
                ours_run(&w, o->steps, dst, o->mark);
            else
                peer_run(&peers[side - 1], o->steps, dst);
        }
    }

    for (k = 0; k + 1 < nsides; k++)
        peer_stop(&peers[k]);
    ours_teardown(&w);
    report(&w, o, names, times, nsides);
}

/* ---- command line ------------------------------------------------------ */

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_encoder [--threads T] [--steps S] [--blocks B]\n"
            "                     [--only train|encode] "
            "[--side both|ours|torch]\n"
            "                     [--layout both|nchw|channels_last]\n");
    exit(2);
}

static int parse_int(const char *s, int lo, int hi)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        usage();
    return (int)v;
}

static void parse(int argc, char **argv, options *o)
{
    int i;

    *o = (options){2, 3, 2, 1, 1, 1, 1, {NULL, NULL}, 2, 0};
    o->layouts[0] = layout_names[0];
    o->layouts[1] = layout_names[1];
    for (i = 1; i + 1 < argc; i += 2) {
        const char *key = argv[i], *val = argv[i + 1];

        if (strcmp(key, "--threads") == 0)
            o->threads = parse_int(val, 1, 1024);
        else if (strcmp(key, "--steps") == 0)
            o->steps = parse_int(val, 1, MAX_STEPS);
        else if (strcmp(key, "--blocks") == 0)
            o->blocks = parse_int(val, 1, MAX_BLOCKS);
        else if (strcmp(key, "--only") == 0 && strcmp(val, "train") == 0)
            o->encode = 0;
        else if (strcmp(key, "--only") == 0 && strcmp(val, "encode") == 0)
            o->train = 0;
        else if (strcmp(key, "--side") == 0 && strcmp(val, "ours") == 0)
            o->torch = 0;
        else if (strcmp(key, "--side") == 0 && strcmp(val, "torch") == 0)
            o->ours = 0;
        else if (strcmp(key, "--layout") == 0 && strcmp(val, "nchw") == 0)
            o->nlayouts = 1;
        else if (strcmp(key, "--layout") == 0 &&
                 strcmp(val, "channels_last") == 0)
            o->layouts[0] = layout_names[1], o->nlayouts = 1;
        else if (!(strcmp(val, "both") == 0 &&
                   (strcmp(key, "--side") == 0 ||
                    strcmp(key, "--layout") == 0)))
            usage();
    }
    if (i != argc)
        usage();
    if (!o->ours && (o->train == o->encode || o->nlayouts != 1)) {
        fprintf(stderr, "bench_encoder: --side torch runs one workload in "
                        "one layout: give --only and --layout\n");
        exit(2);
    }
    o->mark = getenv("DNNL_VERBOSE") || getenv("ONEDNN_VERBOSE");
}

int main(int argc, char **argv)
{
    options o;

    parse(argc, argv, &o);
    if (simclr_set_num_threads(o.threads) != SIMCLR_OK)
        die("threads", simclr_last_error());
    printf("libsimclr %s against PyTorch (%s), %d threads\n",
           simclr_version_string(), BENCH_PEER, o.threads);
    if (o.train)
        bench(WORK_TRAIN, &o);
    if (o.encode)
        bench(WORK_ENCODE, &o);
    return 0;
}
