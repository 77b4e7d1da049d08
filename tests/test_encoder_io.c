/*
 * Encoder files (simclr_encoder_save(), simclr_encoder_load()) and
 * simclr_encode() on decoded images.
 *
 * The numbers themselves are checked elsewhere: the encoder against
 * PyTorch in test_encoder.c, the preprocessing against Pillow in
 * test_augment.c, and the files against PyTorch by
 * tests/encoder_interop/run.py. Here: a saved file reloads to the same
 * encoder bit for bit, a damaged file is refused with a message naming
 * what is wrong, and simclr_encode() is the preprocessing followed by
 * simclr_encode_tensor(), one image at a time whatever the batch.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "simclr/simclr.h"
#include "augment/preprocess.h"
#include "common/common.h"
#include "io/safetensors.h"

#define S 8 /* input side of the small encoders */

static char dir[] = "/tmp/simclr_encoder_io_XXXXXX";

/* A path in the test's folder; the last four stay valid, so two can be
 * passed to one call. */
static const char *in_dir(const char *name)
{
    static char paths[4][256];
    static unsigned next;
    char *path = paths[next++ % 4];

    snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
    return path;
}

static void assert_error_mentions(const char *what)
{
    if (!strstr(simclr_last_error(), what))
        fail_msg("error \"%s\" does not mention \"%s\"", simclr_last_error(),
                 what);
}

/* ResNet-18, CIFAR stem, width 1/16: small enough to build in
 * milliseconds, with every kind of tensor (downsample units too). */
static simclr_encoder *make_encoder(uint32_t channels, uint64_t seed)
{
    simclr_encoder_config cfg;
    simclr_encoder *enc;

    simclr_encoder_config_init(&cfg);
    cfg.arch = SIMCLR_RESNET18;
    cfg.stem = SIMCLR_STEM_CIFAR;
    cfg.width = 1.0 / 16;
    cfg.in_channels = channels;
    cfg.input_size = S;
    cfg.mean[0] = 0.25f;
    cfg.std[1] = 0.5f;
    cfg.seed = seed;
    assert_int_equal(simclr_encoder_create(&cfg, &enc), SIMCLR_OK);
    return enc;
}

/* A deterministic input batch (n, C, S, S). */
static float *make_input(size_t n, uint32_t channels, uint64_t salt)
{
    size_t count = n * channels * S * S, i;
    float *x = malloc(count * sizeof(float));

    assert_non_null(x);
    for (i = 0; i < count; i++)
        x[i] = (float)sin(0.37 * (double)i + (double)salt);
    return x;
}

/* Move the running statistics away from their initial values. */
static void train_once(simclr_encoder *enc, uint32_t channels)
{
    float *x = make_input(4, channels, 1);
    float *h = malloc(4 * simclr_encoder_dim(enc) * sizeof(float));

    assert_non_null(h);
    assert_int_equal(simclr_encoder_forward_train(enc, x, 4, channels, S, S,
                                                  h),
                     SIMCLR_OK);
    free(h);
    free(x);
}

static void assert_same_params(const simclr_encoder *a,
                               const simclr_encoder *b)
{
    size_t i, count = simclr_encoder_param_count(a);

    assert_int_equal(count, simclr_encoder_param_count(b));
    for (i = 0; i < count; i++) {
        simclr_param_info pa, pb;

        pa.size = pb.size = sizeof(pa);
        assert_int_equal(simclr_encoder_param(a, i, &pa), SIMCLR_OK);
        assert_int_equal(simclr_encoder_param(b, i, &pb), SIMCLR_OK);
        assert_string_equal(pa.name, pb.name);
        assert_int_equal(pa.numel, pb.numel);
        if (pa.dtype == SIMCLR_PARAM_I64)
            assert_memory_equal(pa.value_i64, pb.value_i64,
                                pa.numel * sizeof(int64_t));
        else if (memcmp(pa.value, pb.value, pa.numel * sizeof(float)) != 0)
            fail_msg("tensor %s differs after the round trip", pa.name);
    }
}

/* ---- round trip ------------------------------------------------------------ */

static void test_save_load_round_trip(void **state)
{
    simclr_encoder *enc = make_encoder(3, 7), *back;
    simclr_encoder_config a, b;
    simclr__st_file *f;
    float *x = make_input(3, 3, 2), h1[3 * 32], h2[3 * 32];
    simclr_param_info info;

    (void)state;
    train_once(enc, 3);
    assert_int_equal(simclr_encoder_save(enc, in_dir("enc.safetensors")),
                     SIMCLR_OK);
    assert_int_equal(simclr_encoder_load(in_dir("enc.safetensors"), &back),
                     SIMCLR_OK);

    assert_same_params(enc, back);
    simclr_encoder_config_get(enc, &a);
    simclr_encoder_config_get(back, &b);
    assert_int_equal(a.arch, b.arch);
    assert_true(a.width == b.width);
    assert_int_equal(a.stem, b.stem);
    assert_int_equal(a.in_channels, b.in_channels);
    assert_int_equal(a.input_size, b.input_size);
    assert_memory_equal(a.mean, b.mean, sizeof(a.mean));
    assert_memory_equal(a.std, b.std, sizeof(a.std));
    info.size = sizeof(info);
    assert_int_equal(simclr_encoder_param_find(back, "bn1.num_batches_tracked",
                                               &info),
                     SIMCLR_OK);
    assert_int_equal(info.value_i64[0], 1);

    /* The same weights give the same features, bit for bit. */
    assert_int_equal(simclr_encoder_dim(back), 32);
    assert_int_equal(simclr_encode_tensor(enc, x, 3, 3, S, S, h1), SIMCLR_OK);
    assert_int_equal(simclr_encode_tensor(back, x, 3, 3, S, S, h2),
                     SIMCLR_OK);
    assert_memory_equal(h1, h2, sizeof(h1));

    /* The metadata is the documented schema. */
    assert_int_equal(simclr__st_open(in_dir("enc.safetensors"), NULL, &f),
                     SIMCLR_OK);
    assert_string_equal(simclr__st_metadata(f, "format"), "simclr-encoder");
    assert_string_equal(simclr__st_metadata(f, "arch"), "resnet18");
    assert_string_equal(simclr__st_metadata(f, "width"), "0.0625");
    assert_string_equal(simclr__st_metadata(f, "stem"), "cifar");
    assert_string_equal(simclr__st_metadata(f, "in_channels"), "3");
    assert_string_equal(simclr__st_metadata(f, "input_size"), "8");
    assert_string_equal(simclr__st_metadata(f, "mean"), "0.25,0.456,0.406");
    assert_string_equal(simclr__st_metadata(f, "std"), "0.229,0.5,0.225");
    assert_string_equal(simclr__st_metadata(f, "dim"), "32");
    assert_int_equal(simclr__st_count(f), simclr_encoder_param_count(enc));
    simclr__st_close(f);

    free(x);
    simclr_encoder_destroy(back);
    simclr_encoder_destroy(enc);
}

/* A one-channel encoder keeps one mean and std per channel. */
static void test_gray_encoder_metadata(void **state)
{
    simclr_encoder *enc = make_encoder(1, 3), *back;
    simclr__st_file *f;

    (void)state;
    assert_int_equal(simclr_encoder_save(enc, in_dir("gray.safetensors")),
                     SIMCLR_OK);
    assert_int_equal(simclr__st_open(in_dir("gray.safetensors"), NULL, &f),
                     SIMCLR_OK);
    assert_string_equal(simclr__st_metadata(f, "mean"), "0.25");
    assert_string_equal(simclr__st_metadata(f, "std"), "0.229");
    simclr__st_close(f);
    assert_int_equal(simclr_encoder_load(in_dir("gray.safetensors"), &back),
                     SIMCLR_OK);
    assert_int_equal(simclr_encoder_in_channels(back), 1);
    assert_same_params(enc, back);
    simclr_encoder_destroy(back);
    simclr_encoder_destroy(enc);
}

/* ---- damaged files ----------------------------------------------------------- */

/* How to change a file on its way through rewrite(). */
typedef struct tamper {
    const char *drop;        /* leave this tensor out */
    const char *reshape;     /* give this tensor shape [numel] */
    const char *poison;      /* put a NaN in this tensor */
    const char *meta_key;    /* change this metadata entry ... */
    const char *meta_value;  /* ... to this value (NULL: remove it) */
    const char *extra;       /* add a 1-element F32 tensor of this name */
} tamper;

/* Copy @p src to @p dst through a safetensors writer, changed as
 * @p t says. */
static void rewrite(const char *src, const char *dst, const tamper *t)
{
    static const char *const keys[] = {"format", "arch", "width",
                                       "stem", "in_channels", "input_size",
                                       "mean", "std", "dim"};
    static const float one = 1.0f;
    static const uint64_t one_shape[1] = {1};
    simclr__st_file *f;
    simclr__st_writer *w;
    void *copies[512];
    size_t i, ncopies = 0;

    assert_int_equal(simclr__st_open(src, NULL, &f), SIMCLR_OK);
    assert_int_equal(simclr__st_writer_create(&w), SIMCLR_OK);
    for (i = 0; i < SIMCLR__ARRAY_SIZE(keys); i++) {
        const char *value = simclr__st_metadata(f, keys[i]);

        if (t->meta_key && strcmp(keys[i], t->meta_key) == 0)
            value = t->meta_value;
        if (value)
            assert_int_equal(simclr__st_add_metadata(w, keys[i], value),
                             SIMCLR_OK);
    }
    for (i = 0; i < simclr__st_count(f); i++) {
        const simclr__st_tensor *tensor = simclr__st_at(f, i);
        uint64_t shape[SIMCLR__ST_MAX_DIMS];
        uint32_t ndim = tensor->ndim;
        void *data = malloc(tensor->nbytes + 1);

        assert_non_null(data);
        assert_true(ncopies < SIMCLR__ARRAY_SIZE(copies));
        copies[ncopies++] = data;
        memcpy(data, tensor->data, tensor->nbytes);
        memcpy(shape, tensor->shape, sizeof(shape));
        if (t->drop && strcmp(tensor->name, t->drop) == 0)
            continue;
        if (t->reshape && strcmp(tensor->name, t->reshape) == 0) {
            shape[0] = tensor->nbytes / sizeof(float);
            ndim = 1;
        }
        if (t->poison && strcmp(tensor->name, t->poison) == 0) {
            float nan = NAN;

            memcpy((char *)data + sizeof(float), &nan, sizeof(nan));
        }
        assert_int_equal(simclr__st_add(w, tensor->name, tensor->dtype, ndim,
                                        shape, data),
                         SIMCLR_OK);
    }
    if (t->extra)
        assert_int_equal(simclr__st_add(w, t->extra, SIMCLR__DTYPE_F32, 1,
                                        one_shape, &one),
                         SIMCLR_OK);
    assert_int_equal(simclr__st_write(w, dst, NULL), SIMCLR_OK);
    simclr__st_writer_destroy(w);
    simclr__st_close(f);
    for (i = 0; i < ncopies; i++)
        free(copies[i]);
}

/* Load @p t's version of the good file: expect @p status and a message
 * naming @p what. */
static void expect_refused(const tamper *t, simclr_status status,
                           const char *what)
{
    simclr_encoder *enc = (simclr_encoder *)1;

    rewrite(in_dir("good.safetensors"), in_dir("bad.safetensors"), t);
    if (simclr_encoder_load(in_dir("bad.safetensors"), &enc) != status)
        fail_msg("expected %s, got: %s", simclr_status_name(status),
                 simclr_last_error());
    assert_null(enc);
    assert_error_mentions("bad.safetensors");
    assert_error_mentions(what);
}

static void test_damaged_files_refused(void **state)
{
    simclr_encoder *enc = make_encoder(3, 11), *back;
    tamper t;

    (void)state;
    assert_int_equal(simclr_encoder_save(enc, in_dir("good.safetensors")),
                     SIMCLR_OK);

    memset(&t, 0, sizeof(t));
    t.drop = "layer3.0.downsample.1.running_var";
    expect_refused(&t, SIMCLR_ERR_CORRUPT, t.drop);

    memset(&t, 0, sizeof(t));
    t.reshape = "layer2.1.conv2.weight";
    expect_refused(&t, SIMCLR_ERR_SHAPE, t.reshape);

    memset(&t, 0, sizeof(t));
    t.poison = "layer4.1.bn2.weight";
    expect_refused(&t, SIMCLR_ERR_NUMERIC, t.poison);

    memset(&t, 0, sizeof(t));
    t.extra = "fc.weight";
    expect_refused(&t, SIMCLR_ERR_CORRUPT, "fc.weight");

    /* Metadata naming another architecture: its first extra block. */
    memset(&t, 0, sizeof(t));
    t.meta_key = "arch";
    t.meta_value = "resnet34";
    expect_refused(&t, SIMCLR_ERR_CORRUPT, "layer1.2.conv1.weight");

    memset(&t, 0, sizeof(t));
    t.meta_key = "arch";
    t.meta_value = "resnet19";
    expect_refused(&t, SIMCLR_ERR_CORRUPT, "resnet19");

    memset(&t, 0, sizeof(t));
    t.meta_key = "format";
    t.meta_value = NULL;
    expect_refused(&t, SIMCLR_ERR_CORRUPT, "\"format\"");

    memset(&t, 0, sizeof(t));
    t.meta_key = "mean";
    t.meta_value = "0.5,0.5";
    expect_refused(&t, SIMCLR_ERR_CORRUPT, "mean");

    memset(&t, 0, sizeof(t));
    t.meta_key = "width";
    t.meta_value = "0.5";
    expect_refused(&t, SIMCLR_ERR_CORRUPT, "\"dim\" is \"32\"");

    memset(&t, 0, sizeof(t));
    t.meta_key = "dim";
    t.meta_value = "33";
    expect_refused(&t, SIMCLR_ERR_CORRUPT, "dim");

    /* The rest of a training checkpoint is skipped. */
    memset(&t, 0, sizeof(t));
    t.extra = "head.0.weight";
    rewrite(in_dir("good.safetensors"), in_dir("ckpt.safetensors"), &t);
    assert_int_equal(simclr_encoder_load(in_dir("ckpt.safetensors"), &back),
                     SIMCLR_OK);
    assert_same_params(enc, back);
    simclr_encoder_destroy(back);

    simclr_encoder_destroy(enc);
}

/* Every truncation of a file is refused cleanly. */
static void test_truncated_files_refused(void **state)
{
    simclr_encoder *enc = make_encoder(1, 5), *back;
    FILE *f;
    char *bytes;
    long size, cut;

    (void)state;
    assert_int_equal(simclr_encoder_save(enc, in_dir("whole.safetensors")),
                     SIMCLR_OK);
    f = fopen(in_dir("whole.safetensors"), "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    bytes = malloc((size_t)size);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, (size_t)size, f), (size_t)size);
    fclose(f);

    for (cut = 0; cut < size; cut += 1 + cut / 3) {
        f = fopen(in_dir("cut.safetensors"), "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(bytes, 1, (size_t)cut, f), (size_t)cut);
        fclose(f);
        back = (simclr_encoder *)1;
        assert_int_not_equal(simclr_encoder_load(in_dir("cut.safetensors"),
                                                 &back),
                             SIMCLR_OK);
        assert_null(back);
        assert_error_mentions("cut.safetensors");
    }
    free(bytes);
    simclr_encoder_destroy(enc);
}

static void test_bad_arguments(void **state)
{
    simclr_encoder *enc = make_encoder(3, 1), *back;

    (void)state;
    assert_int_equal(simclr_encoder_save(NULL, in_dir("x")),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_encoder_save(enc, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_encoder_load(NULL, &back),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_encoder_load(in_dir("x"), NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_encoder_load(in_dir("missing"), &back),
                     SIMCLR_ERR_IO);
    assert_error_mentions("missing");
    /* A folder that does not exist: nothing written, the path named. */
    assert_int_equal(simclr_encoder_save(enc, in_dir("no/such/w.st")),
                     SIMCLR_ERR_IO);
    assert_error_mentions("no/such");
    assert_string_not_equal(simclr_encoder_error(enc), "");
    simclr_encoder_destroy(enc);
}

/* ---- simclr_encode() --------------------------------------------------------- */

/* A w x h image with a smooth pattern that differs per @p salt. */
static simclr_image *make_image(uint32_t w, uint32_t h, uint32_t channels,
                                unsigned salt)
{
    simclr_image *img;
    uint32_t x, y, c;

    assert_int_equal(simclr_image_create(w, h, channels, &img), SIMCLR_OK);
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++)
            for (c = 0; c < channels; c++)
                img->data[y * img->stride + x * channels + c] = (uint8_t)(
                    127.5 + 127.0 * sin(0.3 * x + 0.21 * y + 1.7 * c + salt));
    return img;
}

/* simclr_encode() is the documented preprocessing, then the encoder. */
static void test_encode_is_preprocess_then_encoder(void **state)
{
    simclr_encoder *enc = make_encoder(3, 2);
    simclr_encoder_config cfg;
    simclr_image *img = make_image(23, 12, 3, 1);
    float x[3 * S * S], want[32], got[32];

    (void)state;
    simclr_encoder_config_get(enc, &cfg);
    assert_int_equal(simclr__preprocess_center(img, S, cfg.mean, cfg.std, x),
                     SIMCLR_OK);
    assert_int_equal(simclr_encode_tensor(enc, x, 1, 3, S, S, want),
                     SIMCLR_OK);
    assert_int_equal(simclr_encode_tensor(enc, x, 1, 3, S, S, got),
                     SIMCLR_OK);
    assert_memory_equal(want, got, sizeof(want));
    assert_int_equal(simclr_encode(enc, (const simclr_image *const *)&img, 1,
                                   got),
                     SIMCLR_OK);
    assert_memory_equal(want, got, sizeof(want));
    simclr_image_destroy(img);
    simclr_encoder_destroy(enc);
}

static float max_rel_diff(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return (float)sqrt(num / (den > 0 ? den : 1));
}

/* Image A alone, in a batch with others (crossing the internal batch of
 * 16), and alone again: the same features, and no state changes. */
static void test_encode_one_image_at_a_time(void **state)
{
    enum { N = 21, D = 32 };
    simclr_encoder *enc = make_encoder(3, 4), *copy;
    simclr_image *imgs[N];
    float alone[D], again[D], *batch = malloc(N * D * sizeof(float));
    size_t i;

    (void)state;
    assert_non_null(batch);
    train_once(enc, 3);
    assert_int_equal(simclr_encoder_save(enc, in_dir("before.safetensors")),
                     SIMCLR_OK);
    for (i = 0; i < N; i++)
        imgs[i] = make_image(9 + (uint32_t)i, 30 - (uint32_t)i,
                             i % 3 ? 3 : 1, (unsigned)i);

    assert_int_equal(simclr_encode(enc, (const simclr_image *const *)imgs, N,
                                   batch),
                     SIMCLR_OK);
    for (i = 0; i < N; i++) {
        assert_int_equal(simclr_encode(enc,
                                       (const simclr_image *const *)&imgs[i],
                                       1, alone),
                         SIMCLR_OK);
        if (max_rel_diff(batch + i * D, alone, D) > 1e-6f)
            fail_msg("image %zu: features in a batch differ from alone by "
                     "%g",
                     i, (double)max_rel_diff(batch + i * D, alone, D));
    }
    assert_int_equal(simclr_encode(enc, (const simclr_image *const *)imgs, 1,
                                   again),
                     SIMCLR_OK);
    assert_int_equal(simclr_encode(enc, (const simclr_image *const *)imgs, 1,
                                   alone),
                     SIMCLR_OK);
    assert_memory_equal(alone, again, sizeof(alone));

    /* Encoding changed no weight and no running statistic. */
    assert_int_equal(simclr_encoder_load(in_dir("before.safetensors"), &copy),
                     SIMCLR_OK);
    assert_same_params(enc, copy);
    simclr_encoder_destroy(copy);

    for (i = 0; i < N; i++)
        simclr_image_destroy(imgs[i]);
    free(batch);
    simclr_encoder_destroy(enc);
}

/* A gray image given to a colour encoder is its three equal channels; a
 * colour image given to a gray encoder is its luma. (Up to rounding: the
 * converted path normalises after the resize, the direct one during.) */
static void test_encode_converts_channels(void **state)
{
    simclr_encoder *rgb_enc = make_encoder(3, 6), *gray_enc = make_encoder(1, 6);
    simclr_image *gray = make_image(10, 10, 1, 3), *rgb, *luma;
    float a[32], b[32];
    uint32_t x, y, c;

    (void)state;
    assert_int_equal(simclr_image_create(10, 10, 3, &rgb), SIMCLR_OK);
    assert_int_equal(simclr_image_create(10, 10, 1, &luma), SIMCLR_OK);
    for (y = 0; y < 10; y++)
        for (x = 0; x < 10; x++)
            for (c = 0; c < 3; c++)
                rgb->data[y * rgb->stride + x * 3 + c] =
                    gray->data[y * gray->stride + x];
    assert_int_equal(simclr_encode(rgb_enc, (const simclr_image *const *)&gray,
                                   1, a),
                     SIMCLR_OK);
    assert_int_equal(simclr_encode(rgb_enc, (const simclr_image *const *)&rgb,
                                   1, b),
                     SIMCLR_OK);
    assert_true(max_rel_diff(a, b, 32) < 1e-5f);

    /* An RGB image whose channels are equal has its gray level as luma
     * (the weights sum to 0.9999), so it matches the gray image. */
    memcpy(luma->data, gray->data, 100);
    assert_int_equal(simclr_encode(gray_enc, (const simclr_image *const *)&rgb,
                                   1, a),
                     SIMCLR_OK);
    assert_int_equal(simclr_encode(gray_enc, (const simclr_image *const *)&luma,
                                   1, b),
                     SIMCLR_OK);
    assert_true(max_rel_diff(a, b, 32) < 1e-3f);

    simclr_image_destroy(luma);
    simclr_image_destroy(rgb);
    simclr_image_destroy(gray);
    simclr_encoder_destroy(gray_enc);
    simclr_encoder_destroy(rgb_enc);
}

static void test_encode_bad_input(void **state)
{
    simclr_encoder *enc = make_encoder(3, 1), *two = make_encoder(2, 1);
    simclr_image *img = make_image(5, 5, 3, 0);
    simclr_image odd = *img, empty = *img;
    const simclr_image *list[2] = {img, NULL};
    float h[2 * 32];

    (void)state;
    assert_int_equal(simclr_encode(NULL, list, 1, h),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_encode(enc, NULL, 1, h),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_encode(enc, list, 1, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_encode(enc, list, 0, h),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_encode(enc, list, 2, h),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_error_mentions("image 1");
    assert_string_not_equal(simclr_encoder_error(enc), "");

    odd.channels = 2;
    list[1] = &odd;
    assert_int_equal(simclr_encode(enc, list, 2, h), SIMCLR_ERR_SHAPE);
    assert_error_mentions("image 1 has 2 channels");

    empty.width = 0;
    list[1] = &empty;
    assert_int_equal(simclr_encode(enc, list, 2, h),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_error_mentions("empty image");

    assert_int_equal(simclr_encode(two, list, 1, h), SIMCLR_ERR_SHAPE);
    assert_error_mentions("2 channels");

    simclr_image_destroy(img);
    simclr_encoder_destroy(two);
    simclr_encoder_destroy(enc);
}

static int make_dir(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    static const char *const names[] = {
        "enc.safetensors",  "gray.safetensors",   "good.safetensors",
        "bad.safetensors",  "ckpt.safetensors",   "whole.safetensors",
        "cut.safetensors",  "before.safetensors",
    };
    size_t i;

    (void)state;
    for (i = 0; i < SIMCLR__ARRAY_SIZE(names); i++)
        unlink(in_dir(names[i]));
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_gray_encoder_metadata),
        cmocka_unit_test(test_damaged_files_refused),
        cmocka_unit_test(test_truncated_files_refused),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_encode_is_preprocess_then_encoder),
        cmocka_unit_test(test_encode_one_image_at_a_time),
        cmocka_unit_test(test_encode_converts_channels),
        cmocka_unit_test(test_encode_bad_input),
    };

    return cmocka_run_group_tests_name("encoder files and encode", tests,
                                       make_dir, remove_dir);
}
