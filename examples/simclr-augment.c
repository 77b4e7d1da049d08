/*
 * simclr-augment: show what the network will see. Reads images, makes
 * two augmented views of each, and writes a PNG grid whose rows are an
 * original and its two views, denormalised back to 8-bit. The images are
 * files, or the first items of a dataset (an image folder, IDX, CIFAR or
 * STL-10 files: whatever simclr_dataset_open() reads).
 *
 *   simclr-augment [--preset imagenet|cifar] [--count N] [--seed N]
 *                  [--size S] [--out grid.png] IMAGE...
 *   simclr-augment [options] --data PATH
 *
 * Exit status: 0 success, 1 runtime error, 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simclr/simclr.h"

#define MARGIN     4u  /* pixels between cells and around the grid */
#define BACKGROUND 255 /* white */

typedef struct options {
    simclr_augment_preset preset;
    unsigned long count; /* rows; 0 = one per image */
    unsigned long long seed;
    unsigned long size; /* 0 = the preset's */
    const char *out;
    const char *data; /* a dataset instead of files, or NULL */
    char **files;
    int nfiles;
} options;

static void usage(FILE *f)
{
    fputs("usage: simclr-augment [options] IMAGE...\n"
          "       simclr-augment [options] --data PATH\n"
          "Write a PNG grid: each row an image and two augmented views.\n"
          "\n"
          "  --data PATH    take the images from a dataset (image folder,\n"
          "                 IDX, CIFAR or STL-10 files), from its first item\n"
          "  --preset NAME  imagenet (default) or cifar\n"
          "  --count N      rows; images are reused in turn (default: one\n"
          "                 row per image, 8 with --data)\n"
          "  --seed N       random seed (default 0)\n"
          "  --size S       view side in pixels (default: the preset's)\n"
          "  --out PATH     output PNG (default grid.png)\n"
          "  --help         this text\n",
          f);
}

static int parse_number(const char *flag, const char *text,
                        unsigned long long min, unsigned long long max,
                        unsigned long long *out)
{
    char *end;

    errno = 0;
    *out = strtoull(text, &end, 10);
    if (errno || *end || !*text || text[0] == '-' || *out < min ||
        *out > max) {
        fprintf(stderr,
                "simclr-augment: %s needs a number from %llu to %llu, "
                "not '%s'\n",
                flag, min, max, text);
        return 0;
    }
    return 1;
}

/* 0 on success, 2 on a usage error, -1 after --help. */
static int parse_args(int argc, char **argv, options *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->out = "grid.png";
    o->files = argv + argc;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        unsigned long long v;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        }
        if (a[0] != '-' || strcmp(a, "--") == 0) {
            i += strcmp(a, "--") == 0;
            break;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "simclr-augment: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--preset") == 0) {
            const char *p = argv[++i];

            if (strcmp(p, "imagenet") == 0)
                o->preset = SIMCLR_AUGMENT_PRESET_IMAGENET;
            else if (strcmp(p, "cifar") == 0)
                o->preset = SIMCLR_AUGMENT_PRESET_CIFAR;
            else {
                fprintf(stderr, "simclr-augment: unknown preset '%s'\n", p);
                return 2;
            }
        } else if (strcmp(a, "--count") == 0) {
            if (!parse_number(a, argv[++i], 1, 10000, &v))
                return 2;
            o->count = (unsigned long)v;
        } else if (strcmp(a, "--seed") == 0) {
            if (!parse_number(a, argv[++i], 0, UINT64_MAX, &v))
                return 2;
            o->seed = v;
        } else if (strcmp(a, "--size") == 0) {
            if (!parse_number(a, argv[++i], 1, 4096, &v))
                return 2;
            o->size = (unsigned long)v;
        } else if (strcmp(a, "--out") == 0) {
            o->out = argv[++i];
        } else if (strcmp(a, "--data") == 0) {
            o->data = argv[++i];
        } else {
            fprintf(stderr, "simclr-augment: unknown option '%s'\n", a);
            return 2;
        }
    }
    o->files = argv + i;
    o->nfiles = argc - i;
    /* After an explicit "--" every word is a file name. */
    for (; i < argc && strcmp(argv[i - 1], "--") != 0; i++)
        if (strncmp(argv[i], "--", 2) == 0) {
            fprintf(stderr,
                    "simclr-augment: '%s' after the images: options come "
                    "first\n",
                    argv[i]);
            return 2;
        }
    if (o->data && o->nfiles > 0) {
        fprintf(stderr, "simclr-augment: give image files or --data, not "
                        "both\n");
        return 2;
    }
    if (!o->data && o->nfiles == 0) {
        fprintf(stderr, "simclr-augment: no input images\n");
        usage(stderr);
        return 2;
    }
    if (o->count == 0)
        o->count = o->data ? 8 : (unsigned long)o->nfiles;
    return 0;
}

/* ---- the grid -------------------------------------------------------- */

/* The top-left pixel of cell (row, col) of a grid of s x s cells. */
static uint8_t *cell(simclr_image *grid, unsigned long row, unsigned col,
                     uint32_t s)
{
    size_t x = MARGIN + (size_t)col * (s + MARGIN);
    size_t y = MARGIN + (size_t)row * (s + MARGIN);

    return grid->data + y * grid->stride + x * 3;
}

/* The whole original, fitted into the cell by nearest neighbour (for
 * display only), centred. */
static void draw_original(simclr_image *grid, uint8_t *dst, uint32_t s,
                          const simclr_image *src)
{
    double scale =
        (double)s / (src->width > src->height ? src->width : src->height);
    uint32_t w = (uint32_t)(src->width * scale + 0.5);
    uint32_t h = (uint32_t)(src->height * scale + 0.5);
    uint32_t x, y, c, ox, oy;

    w = w < 1 ? 1 : w > s ? s : w;
    h = h < 1 ? 1 : h > s ? s : h;
    ox = (s - w) / 2;
    oy = (s - h) / 2;
    for (y = 0; y < h; y++) {
        uint32_t sy = (uint32_t)((y + 0.5) / scale);
        uint8_t *row = dst + (size_t)(oy + y) * grid->stride + ox * 3;

        sy = sy >= src->height ? src->height - 1 : sy;
        for (x = 0; x < w; x++) {
            uint32_t sx = (uint32_t)((x + 0.5) / scale);
            const uint8_t *p;

            sx = sx >= src->width ? src->width - 1 : sx;
            p = src->data + (size_t)sy * src->stride +
                (size_t)sx * src->channels;
            for (c = 0; c < 3; c++)
                row[x * 3 + c] = p[src->channels == 3 ? c : 0];
        }
    }
}

/* One view (C, S, S), normalised, back to 8-bit RGB in its cell. */
static void draw_view(simclr_image *grid, uint8_t *dst, uint32_t s,
                      const float *view, uint32_t channels,
                      const simclr_augment_config *cfg)
{
    size_t plane = (size_t)s * s, i;
    uint32_t c;

    for (i = 0; i < plane; i++) {
        uint8_t *p = dst + (i / s) * grid->stride + (i % s) * 3;

        for (c = 0; c < 3; c++) {
            uint32_t k = channels == 3 ? c : 0;
            float v = view[k * plane + i] * cfg->std[k] + cfg->mean[k];
            float b = v * 255.0f + 0.5f;

            p[c] = (uint8_t)(b < 0.0f ? 0.0f : b > 255.0f ? 255.0f : b);
        }
    }
}

/* The image of row @p row: a file, or a dataset item (the dataset's
 * items are reused in turn when there are fewer than rows). Prints the
 * error and returns 0 on failure. */
static int load_row(const options *o, simclr_dataset *ds, unsigned long row,
                    simclr_image **img)
{
    simclr_status st;

    if (ds) {
        size_t index = row % simclr_dataset_count(ds);

        st = simclr_dataset_get(ds, index, img);
        if (st != SIMCLR_OK)
            fprintf(stderr, "simclr-augment: %s: item %zu: %s\n", o->data,
                    index, simclr_dataset_error(ds));
        return st == SIMCLR_OK;
    }
    /* The decoder's message already names the file. */
    st = simclr_image_decode_file(o->files[row % (unsigned long)o->nfiles],
                                  NULL, img);
    if (st != SIMCLR_OK)
        fprintf(stderr, "simclr-augment: %s\n", simclr_last_error());
    return st == SIMCLR_OK;
}

static int run(const options *o)
{
    simclr_augment_config cfg;
    simclr_augmenter *aug = NULL;
    simclr_dataset *ds = NULL;
    simclr_image *grid = NULL, *img = NULL;
    float *views = NULL;
    simclr_status st;
    unsigned long row;
    uint32_t s;
    int rc = 1;

    simclr_augment_config_init(&cfg, o->preset);
    cfg.seed = o->seed;
    if (o->size)
        cfg.output_size = (uint32_t)o->size;
    st = simclr_augmenter_create(&cfg, &aug);
    if (st != SIMCLR_OK) {
        fprintf(stderr, "simclr-augment: %s\n", simclr_last_error());
        return 1;
    }
    if (o->data) {
        st = simclr_dataset_open(o->data, NULL, &ds);
        if (st != SIMCLR_OK) {
            fprintf(stderr, "simclr-augment: %s\n", simclr_last_error());
            goto done;
        }
        if (simclr_dataset_count(ds) == 0) {
            fprintf(stderr, "simclr-augment: %s: no images\n", o->data);
            goto done;
        }
    }
    s = cfg.output_size;
    views = malloc(sizeof(float) * 2 * 3 * s * s);
    st = simclr_image_create(MARGIN + 3 * (s + MARGIN),
                             (uint32_t)(MARGIN + o->count * (s + MARGIN)), 3,
                             &grid);
    if (!views || st != SIMCLR_OK) {
        fprintf(stderr, "simclr-augment: cannot allocate a %lu-row grid\n",
                o->count);
        goto done;
    }
    memset(grid->data, BACKGROUND, grid->stride * grid->height);

    /* Row r shows image r (mod the number of images) as sample r, so
     * repeated images get fresh views. */
    for (row = 0; row < o->count; row++) {
        if (!load_row(o, ds, row, &img))
            goto done;
        st = simclr_augment_pair(aug, img, 0, row, views);
        if (st != SIMCLR_OK) {
            fprintf(stderr, "simclr-augment: row %lu: %s\n", row,
                    simclr_augmenter_error(aug));
            goto done;
        }
        draw_original(grid, cell(grid, row, 0, s), s, img);
        draw_view(grid, cell(grid, row, 1, s), s, views, img->channels, &cfg);
        draw_view(grid, cell(grid, row, 2, s), s,
                  views + (size_t)img->channels * s * s, img->channels, &cfg);
        simclr_image_destroy(img);
        img = NULL;
    }
    st = simclr_image_write_png(grid, o->out);
    if (st != SIMCLR_OK) {
        fprintf(stderr, "simclr-augment: %s: %s\n", o->out,
                simclr_last_error());
        goto done;
    }
    printf("wrote %s: %lu rows of %ux%u views\n", o->out, o->count, s, s);
    rc = 0;

done:
    simclr_image_destroy(img);
    simclr_image_destroy(grid);
    simclr_dataset_destroy(ds);
    simclr_augmenter_destroy(aug);
    free(views);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse_args(argc, argv, &o);

    if (rc < 0)
        return 0;
    if (rc > 0)
        return rc;
    return run(&o);
}
