/*
 * Out-of-memory behaviour: every creation path is run with an allocator
 * that fails the N-th allocation, for N = 1, 2, ... until the call
 * succeeds. Each failure must return SIMCLR_ERR_NOMEM and leave no
 * allocation behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "simclr/simclr.h"
#include "io/safetensors.h"

/* Fail once this reaches zero; < 0: never. Atomic, because the loader's
 * worker threads allocate too. */
static atomic_long allocations_left;

static int take_allocation(void)
{
    long n = atomic_load(&allocations_left);

    do {
        if (n < 0)
            return 1;
        if (n == 0)
            return 0;
    } while (!atomic_compare_exchange_weak(&allocations_left, &n, n - 1));
    return 1;
}

static void *failing_malloc(void *user, size_t size)
{
    (void)user;
    return take_allocation() ? malloc(size) : NULL;
}

static void *failing_realloc(void *user, void *ptr, size_t size)
{
    (void)user;
    return take_allocation() ? realloc(ptr, size) : NULL;
}

static void failing_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

/* A creation path: make something, check it, release it. */
typedef simclr_status (*scenario_fn)(void);

static simclr_status make_image(void)
{
    simclr_image *image;
    simclr_status st = simclr_image_create(640, 480, 3, &image);

    if (st == SIMCLR_OK)
        simclr_image_destroy(image);
    return st;
}

/* Encoded test images, read before the failing allocator is installed. */
static struct {
    const char *rel;
    uint8_t *data;
    size_t size;
} encoded[] = {
    {"images/pngsuite/basi6a08.png", NULL, 0}, /* interlaced, alpha */
    {"images/pngsuite/basn3p04.png", NULL, 0}, /* palette */
    {"images/generated/exif_6.jpg", NULL, 0},  /* rotated */
    {"images/generated/cmyk.jpg", NULL, 0},
};

static void load_encoded(void)
{
    size_t i;

    for (i = 0; i < sizeof(encoded) / sizeof(encoded[0]); i++) {
        char path[512];
        FILE *f;
        long n;

        snprintf(path, sizeof(path), "%s/%s", SIMCLR_TEST_DATA, encoded[i].rel);
        f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        encoded[i].data = malloc((size_t)n);
        assert_non_null(encoded[i].data);
        assert_int_equal(fread(encoded[i].data, 1, (size_t)n, f), (size_t)n);
        encoded[i].size = (size_t)n;
        fclose(f);
    }
}

static simclr_status decode_encoded(size_t i, simclr_color_mode color)
{
    simclr_decode_options opts;
    simclr_image *image;
    simclr_status st;

    simclr_decode_options_init(&opts);
    opts.color = color;
    st = simclr_image_decode_memory(encoded[i].data, encoded[i].size, &opts,
                                    &image);
    if (st == SIMCLR_OK)
        simclr_image_destroy(image);
    return st;
}

static simclr_status decode_png_interlaced(void)
{
    return decode_encoded(0, SIMCLR_COLOR_GRAY);
}

static simclr_status decode_png_palette(void)
{
    return decode_encoded(1, SIMCLR_COLOR_KEEP);
}

static simclr_status decode_jpeg_rotated(void)
{
    return decode_encoded(2, SIMCLR_COLOR_RGB);
}

static simclr_status decode_jpeg_cmyk(void)
{
    return decode_encoded(3, SIMCLR_COLOR_KEEP);
}

static simclr_status make_augmenter(void)
{
    simclr_augment_config cfg;
    simclr_augmenter *aug;
    simclr_status st;

    simclr_augment_config_init(&cfg, SIMCLR_AUGMENT_PRESET_CIFAR);
    cfg.seed = 9;
    st = simclr_augmenter_create(&cfg, &aug);
    if (st == SIMCLR_OK)
        simclr_augmenter_destroy(aug);
    return st;
}

/* Creation, then two views with every scratch-using step switched on. */
static simclr_status augment_pair(void)
{
    static uint8_t pixels[40 * 30 * 3];
    static float views[2 * 3 * 32 * 32];
    simclr_image image = {pixels, 40, 30, 3, 40 * 3};
    simclr_augment_config cfg;
    simclr_augmenter *aug;
    simclr_status st;

    simclr_augment_config_init(&cfg, SIMCLR_AUGMENT_PRESET_IMAGENET);
    cfg.output_size = 32;
    cfg.blur_p = cfg.rotate_p = cfg.sobel_p = 1.0;
    st = simclr_augmenter_create(&cfg, &aug);
    if (st != SIMCLR_OK)
        return st;
    st = simclr_augment_pair(aug, &image, 0, 0, views);
    simclr_augmenter_destroy(aug);
    return st;
}

/* A loss, then one call that allocates its scratch. */
static simclr_status loss_forward_backward(void)
{
    static float z[8 * 5], dz[8 * 5];
    simclr_loss *loss;
    simclr_status st;
    double value;

    for (size_t i = 0; i < 8 * 5; i++)
        z[i] = (float)((i * 7) % 11) - 5.0f;
    st = simclr_loss_create(NULL, &loss);
    if (st != SIMCLR_OK)
        return st;
    st = simclr_loss_forward_backward(loss, z, 8, 5, &value, NULL, dz);
    simclr_loss_destroy(loss);
    return st;
}

/* Features of 3 classes in 5 dimensions for the evaluation paths. */
static void eval_features(float *x, int32_t *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % 3);
        for (size_t j = 0; j < 5; j++) {
            float bump = (size_t)y[i] == j ? 4.0f : 0.0f;

            x[i * 5 + j] = (float)((i * 7 + j * 3) % 11) + bump;
        }
    }
}

/* A linear probe: fit, predict through the accuracy, weights. */
static simclr_status probe_fit(void)
{
    static float x[30 * 5], w[3 * 5], b[3];
    static int32_t y[30];
    simclr_probe *probe;
    simclr_status st;
    double acc;

    eval_features(x, y, 30);
    st = simclr_probe_create(NULL, &probe);
    if (st != SIMCLR_OK)
        return st;
    st = simclr_probe_fit(probe, x, y, 30, 5, 3);
    if (st == SIMCLR_OK)
        st = simclr_probe_accuracy(probe, x, y, 30, 5, &acc);
    if (st == SIMCLR_OK)
        st = simclr_probe_weights(probe, w, b);
    simclr_probe_destroy(probe);
    return st;
}

/* k-NN accuracy with k = 4. */
static simclr_status knn_accuracy(void)
{
    static float x[30 * 5];
    static int32_t y[30];
    simclr_knn_config cfg;
    double acc;

    eval_features(x, y, 30);
    simclr_knn_config_init(&cfg);
    cfg.k = 4;
    return simclr_knn_accuracy(&cfg, x, y, 30, x, y, 30, 5, 3, &acc);
}

/* An AdamW optimizer with two parameters, and one step. */
static simclr_status optim_step(void)
{
    static float w[6], g[6] = {1, 2, 3, 4, 5, 6}, b[2], gb[2] = {1, 1};
    simclr_optim_config cfg;
    simclr_optim *opt;
    simclr_status st;

    simclr_optim_config_init(&cfg, SIMCLR_OPTIM_ADAMW);
    st = simclr_optim_create(&cfg, &opt);
    if (st != SIMCLR_OK)
        return st;
    st = simclr_optim_add_param(opt, "fc.weight", w, g, 6, 0);
    if (st == SIMCLR_OK)
        st = simclr_optim_add_param(opt, "fc.bias", b, gb, 2,
                                    SIMCLR_PARAM_NO_DECAY);
    if (st == SIMCLR_OK)
        st = simclr_optim_step(opt, 0.1);
    simclr_optim_destroy(opt);
    return st;
}

/* A small IDX dataset (images and labels side by side), written once. */
static char idx_dir[] = "/tmp/simclr-oom-XXXXXX";
static char idx_images[64];

static void write_be32(FILE *f, uint32_t v)
{
    fputc((int)(v >> 24), f);
    fputc((int)(v >> 16) & 0xff, f);
    fputc((int)(v >> 8) & 0xff, f);
    fputc((int)v & 0xff, f);
}

static void write_idx_dataset(void)
{
    char labels[64];
    FILE *f;
    int i;

    assert_non_null(mkdtemp(idx_dir));
    snprintf(idx_images, sizeof(idx_images), "%s/t-images-idx3-ubyte", idx_dir);
    snprintf(labels, sizeof(labels), "%s/t-labels-idx1-ubyte", idx_dir);
    f = fopen(idx_images, "wb");
    assert_non_null(f);
    fwrite("\0\0\x08\x03", 1, 4, f);
    write_be32(f, 5);
    write_be32(f, 3);
    write_be32(f, 4);
    for (i = 0; i < 5 * 3 * 4; i++)
        fputc(i, f);
    fclose(f);
    f = fopen(labels, "wb");
    assert_non_null(f);
    fwrite("\0\0\x08\x01", 1, 4, f);
    write_be32(f, 5);
    for (i = 0; i < 5; i++)
        fputc(i % 3, f);
    fclose(f);
}

static void remove_idx_dataset(void)
{
    char labels[64];

    snprintf(labels, sizeof(labels), "%s/t-labels-idx1-ubyte", idx_dir);
    unlink(idx_images);
    unlink(labels);
    rmdir(idx_dir);
}

static simclr_status open_idx_dataset(void)
{
    simclr_dataset *ds;
    simclr_image *image;
    simclr_status st = simclr_dataset_open(idx_images, NULL, &ds);

    if (st != SIMCLR_OK)
        return st;
    if (simclr_dataset_count(ds) != 5 || simclr_dataset_num_classes(ds) != 3)
        fail_msg("IDX dataset: %zu items, %zu classes",
                 simclr_dataset_count(ds), simclr_dataset_num_classes(ds));
    st = simclr_dataset_get(ds, 4, &image);
    if (st == SIMCLR_OK) {
        if (image->data[0] != 48)
            fail_msg("IDX dataset: item 4 starts with %u", image->data[0]);
        simclr_image_destroy(image);
    }
    simclr_dataset_destroy(ds);
    return st;
}

/* A loader over the same dataset: one worker thread, first batch. */
static simclr_status load_first_batch(void)
{
    simclr_loader_options o;
    simclr_dataset *ds;
    simclr_loader *ld;
    simclr_batch *b;
    simclr_status st = simclr_dataset_open(idx_images, NULL, &ds);

    if (st != SIMCLR_OK)
        return st;
    simclr_loader_options_init(&o);
    o.batch_size = 2;
    o.num_workers = 1;
    o.prefetch = 1;
    st = simclr_loader_create(ds, &o, &ld);
    if (st == SIMCLR_OK) {
        st = simclr_loader_next(ld, &b);
        if (st == SIMCLR_OK && simclr_batch_count(b) != 2)
            fail_msg("loader: first batch of %zu", simclr_batch_count(b));
        simclr_batch_destroy(b);
        simclr_loader_destroy(ld);
    }
    simclr_dataset_destroy(ds);
    return st;
}

/* A tiny encoder: ResNet-18, CIFAR stem, width 1/16, 1 channel, 8 x 8. */
static simclr_status make_tiny_encoder(simclr_encoder **enc)
{
    simclr_encoder_config cfg;

    simclr_encoder_config_init(&cfg);
    cfg.arch = SIMCLR_RESNET18;
    cfg.stem = SIMCLR_STEM_CIFAR;
    cfg.width = 1.0 / 16;
    cfg.in_channels = 1;
    cfg.input_size = 8;
    return simclr_encoder_create(&cfg, enc);
}

static simclr_status make_encoder(void)
{
    simclr_encoder *enc;
    simclr_status st = make_tiny_encoder(&enc);

    simclr_encoder_destroy(enc);
    return st;
}

/* A training step: its plan is made on the first forward. */
static simclr_status encoder_train_step(void)
{
    float x[2 * 64] = {0}, h[2 * 32], dx[2 * 64];
    simclr_encoder *enc;
    simclr_status st = make_tiny_encoder(&enc);

    if (st != SIMCLR_OK)
        return st;
    x[3] = 1.f;
    st = simclr_encoder_forward_train(enc, x, 2, 1, 8, 8, h);
    if (st == SIMCLR_OK)
        st = simclr_encoder_backward(enc, h, dx);
    simclr_encoder_destroy(enc);
    return st;
}

static simclr_status encoder_encode(void)
{
    float x[64] = {0}, h[32];
    simclr_encoder *enc;
    simclr_status st = make_tiny_encoder(&enc);

    if (st != SIMCLR_OK)
        return st;
    st = simclr_encode_tensor(enc, x, 1, 1, 8, 8, h);
    simclr_encoder_destroy(enc);
    return st;
}

/* A small v2 head (batch norm in every layer). */
static simclr_status make_tiny_projector(simclr_projector **proj)
{
    simclr_projector_config cfg;

    simclr_projector_config_init(&cfg);
    cfg.kind = SIMCLR_PROJECTOR_V2;
    cfg.in_dim = 8;
    cfg.hidden_dim = 6;
    cfg.out_dim = 4;
    return simclr_projector_create(&cfg, proj);
}

static simclr_status make_projector(void)
{
    simclr_projector *proj;
    simclr_status st = make_tiny_projector(&proj);

    simclr_projector_destroy(proj);
    return st;
}

/* A training step and an inference, each making its plan. */
static simclr_status projector_step(void)
{
    float h[2 * 8] = {0}, z[2 * 4], dh[2 * 8];
    simclr_projector *proj;
    simclr_status st = make_tiny_projector(&proj);

    if (st != SIMCLR_OK)
        return st;
    h[3] = 1.f;
    st = simclr_projector_forward_train(proj, h, 2, 8, z);
    if (st == SIMCLR_OK)
        st = simclr_projector_backward(proj, z, dh);
    if (st == SIMCLR_OK)
        st = simclr_projector_forward_infer(proj, h, 2, 8, z);
    simclr_projector_destroy(proj);
    return st;
}

/* A weights file: write it (atomically) in the IDX folder, read it back. */
static simclr_status safetensors_write_read(void)
{
    static const float weight[6] = {1, 2, 3, 4, 5, 6};
    static const int64_t count = 7;
    static const uint64_t shape[2] = {2, 3};
    simclr__st_writer *w;
    simclr__st_file *f;
    char path[96];
    float back[6];
    simclr_status st;

    snprintf(path, sizeof(path), "%s/w.safetensors", idx_dir);
    st = simclr__st_writer_create(&w);
    if (st != SIMCLR_OK)
        return st;
    st = simclr__st_add(w, "conv1.weight", SIMCLR__DTYPE_F32, 2, shape, weight);
    if (st == SIMCLR_OK)
        st = simclr__st_add(w, "bn1.num_batches_tracked", SIMCLR__DTYPE_I64, 0,
                            NULL, &count);
    if (st == SIMCLR_OK)
        st = simclr__st_add_metadata(w, "format", "simclr-encoder");
    if (st == SIMCLR_OK)
        st = simclr__st_write(w, path, NULL);
    simclr__st_writer_destroy(w);
    if (st != SIMCLR_OK)
        return st;

    st = simclr__st_open(path, NULL, &f);
    if (st != SIMCLR_OK)
        return st;
    st = simclr__st_read_f32(f, "conv1.weight", 2, shape, back, NULL);
    if (st == SIMCLR_OK &&
        (back[5] != 6.0f ||
         strcmp(simclr__st_metadata(f, "format"), "simclr-encoder") != 0))
        fail_msg("safetensors: the file read back differs");
    simclr__st_close(f);
    unlink(path);
    return st;
}

static const struct {
    const char *name;
    scenario_fn run;
} scenarios[] = {
    {"image_create", make_image},
    {"image_decode_memory png interlaced", decode_png_interlaced},
    {"image_decode_memory png palette", decode_png_palette},
    {"image_decode_memory jpeg rotated", decode_jpeg_rotated},
    {"image_decode_memory jpeg cmyk", decode_jpeg_cmyk},
    {"augmenter_create", make_augmenter},
    {"augment_pair", augment_pair},
    /* The loss starts OpenMP's worker pool. It runs before the loader so
     * that the pool does not take over the thread stacks glibc caches
     * after the loader's workers end: valgrind would then report their
     * thread-local blocks as possibly lost. */
    {"loss_forward_backward", loss_forward_backward},
    {"optim_step", optim_step},
    {"probe_fit", probe_fit},
    {"knn_accuracy", knn_accuracy},
    {"encoder_create", make_encoder},
    {"encoder_train_step", encoder_train_step},
    {"encode_tensor", encoder_encode},
    {"projector_create", make_projector},
    {"projector_step", projector_step},
    {"safetensors write and read", safetensors_write_read},
    {"dataset_open_idx", open_idx_dataset},
    {"loader_first_batch", load_first_batch},
};

static void run_until_success(const char *name, scenario_fn run)
{
    long n;

    for (n = 0; n < 100000; n++) {
        simclr_status st;

        allocations_left = n;
        st = run();
        if (simclr_live_allocations() != 0)
            fail_msg("%s: %zu allocations leaked after failing allocation "
                     "%ld",
                     name, simclr_live_allocations(), n + 1);
        if (st == SIMCLR_OK) {
            printf("# %s: succeeded once %ld allocations were allowed\n", name,
                   n);
            return;
        }
        if (st != SIMCLR_ERR_NOMEM)
            fail_msg("%s: failing allocation %ld gave %s (%s), not "
                     "SIMCLR_ERR_NOMEM",
                     name, n + 1, simclr_status_name(st), simclr_last_error());
    }
    fail_msg("%s: never succeeded", name);
}

static void test_every_scenario(void **state)
{
    size_t i;

    (void)state;
    write_idx_dataset();
    assert_int_equal(simclr_set_allocator(failing_malloc, failing_realloc,
                                          failing_free, NULL),
                     SIMCLR_OK);
    for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
        run_until_success(scenarios[i].name, scenarios[i].run);
    allocations_left = -1;
    assert_int_equal(simclr_set_allocator(NULL, NULL, NULL, NULL), SIMCLR_OK);
    remove_idx_dataset();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_scenario),
    };
    size_t i;
    int failed;

    allocations_left = -1;
    load_encoded();
    failed = cmocka_run_group_tests_name("oom", tests, NULL, NULL);
    for (i = 0; i < sizeof(encoded) / sizeof(encoded[0]); i++)
        free(encoded[i].data);
    return failed;
}
