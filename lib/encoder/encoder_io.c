/*
 * Encoder files: the parameter table written to and read from a
 * safetensors file with torchvision's tensor names, and the configuration
 * in its metadata (docs/weights.md has the schema).
 *
 * Loading builds a new encoder from the metadata and then fills every
 * tensor from the file, each checked for its dtype, shape and finite
 * values before anything is copied, so a bad file never yields an
 * encoder.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder_internal.h"
#include "io/safetensors.h"

#define FORMAT_NAME "simclr-encoder"
#define NUMBER_MAX  48 /* one decimal number in the metadata */
#define LIST_MAX    (64 * NUMBER_MAX)

/* Tensor name prefixes a training checkpoint adds beside the encoder's
 * (the projection head, the optimizer and the loop's state); loading an
 * encoder from a checkpoint skips them. */
static const char *const checkpoint_prefixes[] = {"head.", "optim.",
                                                  "train."};

/* ---- numbers as text ---------------------------------------------------- */

/* The shortest decimal form that reads back as exactly @p v. */
static void format_double(char *buf, size_t size, double v)
{
    int digits;

    for (digits = 6; digits < 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
    snprintf(buf, size, "%.17g", v);
}

static void format_float(char *buf, size_t size, float v)
{
    int digits;

    for (digits = 6; digits < 9; digits++) {
        snprintf(buf, size, "%.*g", digits, (double)v);
        if (strtof(buf, NULL) == v)
            return;
    }
    snprintf(buf, size, "%.9g", (double)v);
}

/* One value per input channel: mean[c] (or std[c]) for a 3-channel
 * encoder, mean[0] repeated for any other channel count. */
static void format_channels(char *buf, size_t size, const float v[3],
                            uint32_t channels)
{
    size_t used = 0;
    uint32_t c;

    buf[0] = '\0';
    for (c = 0; c < channels && used + NUMBER_MAX < size; c++) {
        char number[NUMBER_MAX];

        format_float(number, sizeof(number), v[channels == 3 ? c : 0]);
        used += (size_t)snprintf(buf + used, size - used, "%s%s",
                                 c ? "," : "", number);
    }
}

/* ---- saving -------------------------------------------------------------- */

static simclr_status add_metadata(simclr__st_writer *w,
                                  const simclr_encoder *enc)
{
    const simclr_encoder_config *cfg = &enc->cfg;
    char number[NUMBER_MAX], list[LIST_MAX];
    simclr_status st;

    st = simclr__st_add_metadata(w, "format", FORMAT_NAME);
    if (st == SIMCLR_OK)
        st = simclr__st_add_metadata(w, "arch",
                                     simclr__encoder_arch_name(cfg->arch));
    format_double(number, sizeof(number), cfg->width);
    if (st == SIMCLR_OK)
        st = simclr__st_add_metadata(w, "width", number);
    if (st == SIMCLR_OK)
        st = simclr__st_add_metadata(w, "stem", cfg->stem == SIMCLR_STEM_CIFAR
                                                    ? "cifar"
                                                    : "imagenet");
    snprintf(number, sizeof(number), "%u", cfg->in_channels);
    if (st == SIMCLR_OK)
        st = simclr__st_add_metadata(w, "in_channels", number);
    snprintf(number, sizeof(number), "%u", cfg->input_size);
    if (st == SIMCLR_OK)
        st = simclr__st_add_metadata(w, "input_size", number);
    format_channels(list, sizeof(list), cfg->mean, cfg->in_channels);
    if (st == SIMCLR_OK)
        st = simclr__st_add_metadata(w, "mean", list);
    format_channels(list, sizeof(list), cfg->std, cfg->in_channels);
    if (st == SIMCLR_OK)
        st = simclr__st_add_metadata(w, "std", list);
    snprintf(number, sizeof(number), "%zu", enc->dim);
    if (st == SIMCLR_OK)
        st = simclr__st_add_metadata(w, "dim", number);
    return st;
}

simclr_status simclr_encoder_save(simclr_encoder *enc, const char *path)
{
    simclr__st_writer *w = NULL;
    simclr_status st;
    size_t i;

    if (!enc || !path)
        return simclr__fail(enc ? &enc->err : NULL,
                            SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder save: encoder or path is NULL");
    st = simclr__st_writer_create(&w);
    if (st == SIMCLR_OK)
        st = add_metadata(w, enc);
    for (i = 0; st == SIMCLR_OK && i < enc->nparams; i++) {
        const simclr__param *p = &enc->params[i];

        if (p->dtype == SIMCLR_PARAM_I64)
            st = simclr__st_add(w, p->name, SIMCLR__DTYPE_I64, p->ndim,
                                p->shape, p->value_i64);
        else
            st = simclr__st_add(w, p->name, SIMCLR__DTYPE_F32, p->ndim,
                                p->shape, p->value);
    }
    if (st == SIMCLR_OK)
        st = simclr__st_write(w, path, &enc->err);
    else
        simclr__error_adopt(&enc->err);
    simclr__st_writer_destroy(w);
    return st;
}

/* ---- loading: the configuration ------------------------------------------ */

/* A required metadata string, or a failure naming it. */
static simclr_status meta(const simclr__st_file *f, const char *key,
                          const char **out)
{
    *out = simclr__st_metadata(f, key);
    if (!*out)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "%s: metadata has no \"%s\" (not an encoder "
                            "file?)",
                            simclr__st_source(f), key);
    return SIMCLR_OK;
}

static simclr_status bad_meta(const simclr__st_file *f, const char *key,
                              const char *value, const char *want)
{
    return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                        "%s: metadata \"%s\" is \"%.64s\", expected %s",
                        simclr__st_source(f), key, value, want);
}

static simclr_status meta_uint(const simclr__st_file *f, const char *key,
                               uint32_t *out)
{
    const char *text;
    char *end;
    unsigned long v;
    simclr_status st = meta(f, key, &text);

    if (st != SIMCLR_OK)
        return st;
    errno = 0;
    v = strtoul(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v > UINT32_MAX)
        return bad_meta(f, key, text, "a whole number");
    *out = (uint32_t)v;
    return SIMCLR_OK;
}

/* "m1,m2,...": @p channels finite numbers into v[0..2] (the first three;
 * for one channel v[0]). */
static simclr_status meta_channels(const simclr__st_file *f, const char *key,
                                   uint32_t channels, float v[3])
{
    const char *text, *at;
    uint32_t c;
    simclr_status st = meta(f, key, &text);

    if (st != SIMCLR_OK)
        return st;
    at = text;
    for (c = 0; c < channels; c++) {
        char *end;
        float x;

        errno = 0;
        x = strtof(at, &end);
        if (errno || end == at || !isfinite(x) ||
            (*end != (c + 1 < channels ? ',' : '\0')))
            return bad_meta(f, key, text,
                            "one number per input channel, comma-separated");
        if (c < 3)
            v[c] = x;
        at = end + 1;
    }
    if (channels == 1)
        v[1] = v[2] = v[0];
    return SIMCLR_OK;
}

static simclr_status read_config(const simclr__st_file *f,
                                 simclr_encoder_config *cfg)
{
    const char *text;
    char *end;
    simclr_status st;
    int a;

    simclr_encoder_config_init(cfg);
    if ((st = meta(f, "format", &text)) != SIMCLR_OK)
        return st;
    if (strcmp(text, FORMAT_NAME) != 0)
        return bad_meta(f, "format", text, "\"" FORMAT_NAME "\"");

    if ((st = meta(f, "arch", &text)) != SIMCLR_OK)
        return st;
    for (a = SIMCLR_RESNET18; a <= SIMCLR_RESNET152; a++)
        if (strcmp(text, simclr__encoder_arch_name((simclr_arch)a)) == 0)
            break;
    if (a > SIMCLR_RESNET152)
        return bad_meta(f, "arch", text, "resnet18, 34, 50, 101 or 152");
    cfg->arch = (simclr_arch)a;

    if ((st = meta(f, "width", &text)) != SIMCLR_OK)
        return st;
    errno = 0;
    cfg->width = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(cfg->width))
        return bad_meta(f, "width", text, "a number");

    if ((st = meta(f, "stem", &text)) != SIMCLR_OK)
        return st;
    if (strcmp(text, "cifar") == 0)
        cfg->stem = SIMCLR_STEM_CIFAR;
    else if (strcmp(text, "imagenet") == 0)
        cfg->stem = SIMCLR_STEM_IMAGENET;
    else
        return bad_meta(f, "stem", text, "cifar or imagenet");

    if ((st = meta_uint(f, "in_channels", &cfg->in_channels)) != SIMCLR_OK ||
        (st = meta_uint(f, "input_size", &cfg->input_size)) != SIMCLR_OK)
        return st;
    if (cfg->in_channels < 1 || cfg->in_channels > 64)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "%s: metadata in_channels %u is not between 1 "
                            "and 64",
                            simclr__st_source(f), cfg->in_channels);
    if ((st = meta_channels(f, "mean", cfg->in_channels, cfg->mean)) !=
            SIMCLR_OK ||
        (st = meta_channels(f, "std", cfg->in_channels, cfg->std)) !=
            SIMCLR_OK)
        return st;
    return SIMCLR_OK;
}

/* ---- loading: the tensors ------------------------------------------------ */

static bool is_checkpoint_extra(const char *name)
{
    size_t i;

    for (i = 0; i < SIMCLR__ARRAY_SIZE(checkpoint_prefixes); i++)
        if (strncmp(name, checkpoint_prefixes[i],
                    strlen(checkpoint_prefixes[i])) == 0)
            return true;
    return false;
}

static void format_shape(char *buf, size_t size, uint32_t ndim,
                         const uint64_t *shape)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    uint32_t d;

    for (d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%llu",
                                 d ? ", " : "", (unsigned long long)shape[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

/* Check that tensor @p t of the file can fill parameter @p p. */
static simclr_status check_tensor(const simclr__st_file *f,
                                  const simclr__param *p,
                                  const simclr__st_tensor *t)
{
    simclr__dtype want = p->dtype == SIMCLR_PARAM_I64 ? SIMCLR__DTYPE_I64
                                                      : SIMCLR__DTYPE_F32;
    char have[96], expect[96];
    size_t i;

    if (!t)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "%s: tensor %s is missing (a file for another "
                            "architecture?)",
                            simclr__st_source(f), p->name);
    if (t->dtype != want)
        return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                            "%s: tensor %s is not %s", simclr__st_source(f),
                            p->name, want == SIMCLR__DTYPE_I64 ? "I64" : "F32");
    if (t->ndim != p->ndim ||
        memcmp(t->shape, p->shape, p->ndim * sizeof(p->shape[0])) != 0) {
        format_shape(have, sizeof(have), t->ndim, t->shape);
        format_shape(expect, sizeof(expect), p->ndim, p->shape);
        return simclr__fail(NULL, SIMCLR_ERR_SHAPE,
                            "%s: tensor %s has shape %s, expected %s",
                            simclr__st_source(f), p->name, have, expect);
    }
    if (want == SIMCLR__DTYPE_F32) {
        const unsigned char *bytes = t->data;

        for (i = 0; i < p->numel; i++) {
            float v;

            memcpy(&v, bytes + i * sizeof(v), sizeof(v));
            if (!isfinite(v))
                return simclr__fail(NULL, SIMCLR_ERR_NUMERIC,
                                    "%s: tensor %s holds a non-finite value "
                                    "at element %zu",
                                    simclr__st_source(f), p->name, i);
        }
    }
    return SIMCLR_OK;
}

/* Every tensor of the file is an encoder tensor or a checkpoint's extra. */
static simclr_status check_no_strangers(const simclr__st_file *f,
                                        const simclr_encoder *enc)
{
    simclr_param_info info;
    size_t i;

    info.size = sizeof(info);
    for (i = 0; i < simclr__st_count(f); i++) {
        const char *name = simclr__st_at(f, i)->name;

        if (!is_checkpoint_extra(name) &&
            simclr_encoder_param_find(enc, name, &info) != SIMCLR_OK)
            return simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                                "%s: tensor %s is not part of a %s encoder "
                                "(a file for another architecture?)",
                                simclr__st_source(f), name,
                                simclr__encoder_arch_name(enc->cfg.arch));
    }
    return SIMCLR_OK;
}

static simclr_status fill_params(const simclr__st_file *f,
                                 simclr_encoder *enc)
{
    simclr_status st = check_no_strangers(f, enc);
    size_t i;

    for (i = 0; st == SIMCLR_OK && i < enc->nparams; i++)
        st = check_tensor(f, &enc->params[i],
                          simclr__st_find(f, enc->params[i].name));
    for (i = 0; st == SIMCLR_OK && i < enc->nparams; i++) {
        simclr__param *p = &enc->params[i];
        const simclr__st_tensor *t = simclr__st_find(f, p->name);

        /* The file's bytes are little-endian, as this machine is. */
        memcpy(p->dtype == SIMCLR_PARAM_I64 ? (void *)p->value_i64
                                            : (void *)p->value,
               t->data, t->nbytes);
    }
    return st;
}

simclr_status simclr_encoder_load(const char *path, simclr_encoder **out)
{
    simclr_encoder_config cfg;
    simclr__st_file *f = NULL;
    simclr_encoder *enc = NULL;
    simclr_status st;
    const char *dim;

    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder load: out is NULL");
    *out = NULL;
    if (!path)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "encoder load: path is NULL");

    st = simclr__st_open(path, NULL, &f);
    if (st == SIMCLR_OK)
        st = read_config(f, &cfg);
    if (st == SIMCLR_OK) {
        st = simclr_encoder_create(&cfg, &enc);
        if (st != SIMCLR_OK)
            st = simclr__fail(NULL, SIMCLR_ERR_CORRUPT, "%s: %s", path,
                              simclr_last_error());
    }
    if (st == SIMCLR_OK && (dim = simclr__st_metadata(f, "dim")) != NULL) {
        char want[NUMBER_MAX];

        snprintf(want, sizeof(want), "%zu", enc->dim);
        if (strcmp(dim, want) != 0)
            st = bad_meta(f, "dim", dim, want);
    }
    if (st == SIMCLR_OK)
        st = fill_params(f, enc);
    simclr__st_close(f);
    if (st != SIMCLR_OK) {
        simclr_encoder_destroy(enc);
        return st;
    }
    *out = enc;
    return SIMCLR_OK;
}
