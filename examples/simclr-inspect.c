/*
 * simclr-inspect: decode image files with libsimclr and print, for each,
 * its format, size and channel count, or the error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simclr/simclr.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: simclr-inspect [--gray | --rgb] [--no-orientation]\n"
            "                      [--lenient] [--max-side N] FILE...\n"
            "       simclr-inspect [options] --png OUT FILE\n"
            "\n"
            "For each FILE prints 'PATH: FORMAT WIDTHxHEIGHT CHANNELS' (the\n"
            "size after EXIF orientation) or 'PATH: error: MESSAGE'.\n"
            "With --png, writes the decoded pixels of the one FILE to OUT.\n"
            "Exits 0 if every file decoded, 1 if any failed, 2 on a usage\n"
            "error.\n");
}

/* Print one file's line; 0 if it decoded (and, with out_png, was
 * written). */
static int inspect(const char *path, const simclr_decode_options *opts,
                   const char *out_png)
{
    simclr_image *image;
    unsigned char head[16];
    size_t got = 0;
    FILE *f;
    simclr_status st;

    st = simclr_image_decode_file(path, opts, &image);
    if (st != SIMCLR_OK) {
        printf("%s: error: %s\n", path, simclr_last_error());
        return 1;
    }
    f = fopen(path, "rb");
    if (f) {
        got = fread(head, 1, sizeof(head), f);
        fclose(f);
    }
    printf("%s: %s %ux%u %u\n", path,
           simclr_image_format_name(simclr_image_detect(head, got)),
           image->width, image->height, image->channels);
    if (out_png && simclr_image_write_png(image, out_png) != SIMCLR_OK) {
        fprintf(stderr, "simclr-inspect: %s\n", simclr_last_error());
        simclr_image_destroy(image);
        return 1;
    }
    simclr_image_destroy(image);
    return 0;
}

int main(int argc, char **argv)
{
    simclr_decode_options opts;
    const char *out_png = NULL;
    int i, first_file = argc, failed = 0;

    simclr_decode_options_init(&opts);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--gray") == 0) {
            opts.color = SIMCLR_COLOR_GRAY;
        } else if (strcmp(a, "--rgb") == 0) {
            opts.color = SIMCLR_COLOR_RGB;
        } else if (strcmp(a, "--no-orientation") == 0) {
            opts.apply_orientation = 0;
        } else if (strcmp(a, "--lenient") == 0) {
            opts.lenient = 1;
        } else if ((strcmp(a, "--max-side") == 0 ||
                    strcmp(a, "--png") == 0) &&
                   i + 1 >= argc) {
            fprintf(stderr, "simclr-inspect: %s needs a value\n", a);
            return 2;
        } else if (strcmp(a, "--max-side") == 0) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);

            if (*end || !*argv[i] || v > 0xffffffffUL) {
                fprintf(stderr, "simclr-inspect: bad --max-side %s\n", argv[i]);
                return 2;
            }
            opts.max_side = (uint32_t)v;
        } else if (strcmp(a, "--png") == 0) {
            out_png = argv[++i];
        } else if (strcmp(a, "--") == 0) {
            first_file = i + 1;
            break;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "simclr-inspect: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else {
            first_file = i;
            break;
        }
    }
    if (first_file >= argc || (out_png && argc - first_file != 1)) {
        fprintf(stderr, "simclr-inspect: %s\n",
                first_file >= argc ? "no input files"
                                   : "--png takes exactly one FILE");
        usage(stderr);
        return 2;
    }
    for (i = first_file; i < argc; i++)
        failed |= inspect(argv[i], &opts, out_png);
    return failed ? 1 : 0;
}
