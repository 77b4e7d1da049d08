/*
 * The C side of the encoder interoperability test (run.py): makes encoder
 * files and computes features with the library, so that PyTorch can check
 * them and feed it its own.
 *
 *   tool make ARCH STEM WIDTH CHANNELS SIZE SEED OUT.safetensors
 *        a new encoder, one training forward on a fixed batch (so that the
 *        running statistics are not their initial 0 and 1), saved
 *   tool encode WEIGHTS INPUT.f32 N OUTPUT.f32
 *        simclr_encode_tensor() of N preprocessed inputs (N, C, S, S)
 *   tool encode-images WEIGHTS OUTPUT.f32 IMAGE...
 *        simclr_encode() of image files
 *
 * Exit status 0 on success, 1 with a message on standard error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simclr/simclr.h"

static int fail(const char *what)
{
    fprintf(stderr, "tool: %s: %s\n", what, simclr_last_error());
    return 1;
}

static int write_floats(const char *path, const float *v, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(v, sizeof(float), n, f) == n;

    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "tool: cannot write %s\n", path);
    return ok ? 0 : 1;
}

static int make(char **argv)
{
    static const char *const archs[] = {"resnet18", "resnet34", "resnet50",
                                        "resnet101", "resnet152"};
    simclr_encoder_config cfg;
    simclr_encoder *enc;
    size_t n = 4, count, i;
    float *x, *h;
    int a, rc;

    simclr_encoder_config_init(&cfg);
    for (a = 0; a < 5 && strcmp(argv[0], archs[a]) != 0; a++)
        ;
    cfg.arch = (simclr_arch)a;
    cfg.stem = strcmp(argv[1], "cifar") == 0 ? SIMCLR_STEM_CIFAR
                                             : SIMCLR_STEM_IMAGENET;
    cfg.width = atof(argv[2]);
    cfg.in_channels = (uint32_t)atoi(argv[3]);
    cfg.input_size = (uint32_t)atoi(argv[4]);
    cfg.seed = strtoull(argv[5], NULL, 10);
    if (simclr_encoder_create(&cfg, &enc) != SIMCLR_OK)
        return fail("create");

    count = n * cfg.in_channels * cfg.input_size * cfg.input_size;
    x = malloc(count * sizeof(float));
    h = malloc(n * simclr_encoder_dim(enc) * sizeof(float));
    if (!x || !h)
        return 1;
    for (i = 0; i < count; i++)
        x[i] = (float)(0.5 + sin(0.1 * (double)i) + 0.25 * cos(0.013 * i));
    rc = simclr_encoder_forward_train(enc, x, n, cfg.in_channels,
                                      cfg.input_size, cfg.input_size, h) ==
                 SIMCLR_OK
             ? 0
             : fail("training forward");
    if (rc == 0 && simclr_encoder_save(enc, argv[6]) != SIMCLR_OK)
        rc = fail(argv[6]);
    free(h);
    free(x);
    simclr_encoder_destroy(enc);
    return rc;
}

static int encode(char **argv)
{
    simclr_encoder *enc;
    size_t n = (size_t)atol(argv[2]), count;
    uint32_t c, s;
    float *x, *h;
    FILE *f;
    int rc;

    if (simclr_encoder_load(argv[0], &enc) != SIMCLR_OK)
        return fail("load");
    c = simclr_encoder_in_channels(enc);
    s = simclr_encoder_input_size(enc);
    count = n * c * s * s;
    x = malloc(count * sizeof(float));
    h = malloc(n * simclr_encoder_dim(enc) * sizeof(float));
    f = fopen(argv[1], "rb");
    if (!x || !h || !f || fread(x, sizeof(float), count, f) != count) {
        fprintf(stderr, "tool: cannot read %zu floats from %s\n", count,
                argv[1]);
        return 1;
    }
    fclose(f);
    rc = simclr_encode_tensor(enc, x, n, c, s, s, h) == SIMCLR_OK
             ? write_floats(argv[3], h, n * simclr_encoder_dim(enc))
             : fail("encode");
    free(h);
    free(x);
    simclr_encoder_destroy(enc);
    return rc;
}

static int encode_images(int count, char **argv)
{
    simclr_image **images = calloc((size_t)count, sizeof(*images));
    simclr_encoder *enc;
    float *h;
    int i, rc = 0;

    if (simclr_encoder_load(argv[0], &enc) != SIMCLR_OK)
        return fail("load");
    h = malloc((size_t)count * simclr_encoder_dim(enc) * sizeof(float));
    if (!images || !h)
        return 1;
    for (i = 0; i < count && rc == 0; i++)
        if (simclr_image_decode_file(argv[2 + i], NULL, &images[i]) !=
            SIMCLR_OK)
            rc = fail(argv[2 + i]);
    if (rc == 0)
        rc = simclr_encode(enc, (const simclr_image *const *)images,
                           (size_t)count, h) == SIMCLR_OK
                 ? write_floats(argv[1], h,
                                (size_t)count * simclr_encoder_dim(enc))
                 : fail("encode");
    for (i = 0; i < count; i++)
        simclr_image_destroy(images[i]);
    free(images);
    free(h);
    simclr_encoder_destroy(enc);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 9 && strcmp(argv[1], "make") == 0)
        return make(argv + 2);
    if (argc == 6 && strcmp(argv[1], "encode") == 0)
        return encode(argv + 2);
    if (argc >= 5 && strcmp(argv[1], "encode-images") == 0)
        return encode_images(argc - 4, argv + 2);
    fprintf(stderr, "usage: see the comment at the top of tool.c\n");
    return 1;
}
