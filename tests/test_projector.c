/*
 * The projector module: the v1 and v2 heads' training forward, running
 * statistics, every gradient and the inference forward against PyTorch
 * in float64 (tests/ref/gen_projector.py, generated into the build tree),
 * a finite-difference check of the backward pass, the initialisation,
 * the parameter table, and bad input.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "simclr/simclr.h"

#define OUT_TOL  1e-4 /* relative L2 error of outputs and statistics */
#define GRAD_TOL 1e-3 /* relative L2 error of gradients */

/* ---- reference files ------------------------------------------------------
 */

typedef struct ref_tensor {
    char name[96];
    double pytorch_error; /* PyTorch float32 vs float64, or -1 */
    int is_i64;
    size_t offset;
    unsigned ndim;
    uint64_t shape[2];
    size_t numel;
} ref_tensor;

typedef struct ref_case {
    char kind[8];
    unsigned batch, in_dim, hidden_dim, out_dim;
    ref_tensor *tensors;
    size_t count;
    unsigned char *data;
    size_t size_bytes;
} ref_case;

static void ref_parse_tensor(ref_case *rc, const char *line)
{
    ref_tensor *t;
    char dtype[8];
    int pos = 0;
    unsigned i;

    rc->tensors = realloc(rc->tensors, (rc->count + 1) * sizeof(*t));
    assert_non_null(rc->tensors);
    t = &rc->tensors[rc->count++];
    memset(t, 0, sizeof(*t));
    t->pytorch_error = -1.0;
    assert_int_equal(sscanf(line, "tensor %95s %7s %zu %u%n", t->name, dtype,
                            &t->offset, &t->ndim, &pos),
                     4);
    assert_true(t->ndim <= 2);
    t->is_i64 = strcmp(dtype, "i64") == 0;
    t->numel = 1;
    for (i = 0; i < t->ndim; i++) {
        int more = 0;
        unsigned long d;

        assert_int_equal(sscanf(line + pos, " %lu%n", &d, &more), 1);
        t->shape[i] = d;
        pos += more;
        t->numel *= t->shape[i];
    }
}

static void ref_load(ref_case *rc, const char *name)
{
    char path[512], line[512];
    FILE *f;
    long bytes;

    memset(rc, 0, sizeof(*rc));
    snprintf(path, sizeof(path), SIMCLR_PROJECTOR_REF "/projector_%s.txt",
             name);
    f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "config ", 7) == 0) {
            assert_int_equal(sscanf(line + 7, "%7s %u %u %u %u", rc->kind,
                                    &rc->batch, &rc->in_dim, &rc->hidden_dim,
                                    &rc->out_dim),
                             5);
        } else if (strncmp(line, "pytorch_f32_error ", 18) == 0) {
            char key[96];
            double e;
            size_t i;

            assert_int_equal(sscanf(line + 18, "%95s %lf", key, &e), 2);
            for (i = 0; i < rc->count; i++)
                if (strcmp(rc->tensors[i].name, key) == 0)
                    rc->tensors[i].pytorch_error = e;
        } else {
            ref_parse_tensor(rc, line);
        }
    }
    fclose(f);

    snprintf(path, sizeof(path), SIMCLR_PROJECTOR_REF "/projector_%s.bin",
             name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(bytes > 0);
    rc->size_bytes = (size_t)bytes;
    rc->data = malloc(rc->size_bytes);
    assert_non_null(rc->data);
    assert_int_equal(fread(rc->data, 1, rc->size_bytes, f), rc->size_bytes);
    fclose(f);
}

static void ref_free(ref_case *rc)
{
    free(rc->tensors);
    free(rc->data);
}

static const ref_tensor *ref_find(const ref_case *rc, const char *name)
{
    size_t i;

    for (i = 0; i < rc->count; i++)
        if (strcmp(rc->tensors[i].name, name) == 0) {
            size_t width = rc->tensors[i].is_i64 ? 8 : 4;

            assert_true(rc->tensors[i].offset + rc->tensors[i].numel * width <=
                        rc->size_bytes);
            return &rc->tensors[i];
        }
    fail_msg("reference tensor %s is missing", name);
    return NULL;
}

static const float *ref_f32(const ref_case *rc, const char *name, size_t numel)
{
    const ref_tensor *t = ref_find(rc, name);

    if (t->is_i64 || t->numel != numel)
        fail_msg("reference %s has %zu elements, expected %zu", name, t->numel,
                 numel);
    return (const float *)(const void *)(rc->data + t->offset);
}

static int64_t ref_i64(const ref_case *rc, const char *name)
{
    const ref_tensor *t = ref_find(rc, name);
    int64_t v;

    assert_true(t->is_i64 && t->numel == 1);
    memcpy(&v, rc->data + t->offset, sizeof(v));
    return v;
}

/* ||a - b|| / ||b||, in double. */
static double rel_l2(const float *a, const float *b, size_t n)
{
    double num = 0.0, den = 0.0;
    size_t i;

    for (i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];

        num += d * d;
        den += (double)b[i] * (double)b[i];
    }
    return den > 0.0 ? sqrt(num / den) : sqrt(num);
}

/* The worst errors of the current case, printed at its end. */
static double worst_out, worst_grad;

static void expect_close(const ref_case *rc, const char *name, const float *got,
                         size_t n, double tol)
{
    double e = rel_l2(got, ref_f32(rc, name, n), n);
    double *worst = tol == GRAD_TOL ? &worst_grad : &worst_out;

    if (!(e <= tol))
        fail_msg("%s: relative L2 error %.3g exceeds %.3g (PyTorch "
                 "float32: %.3g)",
                 name, e, tol, ref_find(rc, name)->pytorch_error);
    if (e > *worst)
        *worst = e;
}

/* ---- helpers ---------------------------------------------------------------
 */

static simclr_param_info info_at(const simclr_projector *proj, size_t i)
{
    simclr_param_info p;

    memset(&p, 0, sizeof(p));
    p.size = sizeof(p);
    assert_int_equal(simclr_projector_param(proj, i, &p), SIMCLR_OK);
    return p;
}

static simclr_projector *make_projector(simclr_projector_kind kind, uint32_t d,
                                        uint32_t h, uint32_t o, uint64_t seed)
{
    simclr_projector_config cfg;
    simclr_projector *proj = NULL;

    assert_int_equal(simclr_projector_config_init(&cfg), SIMCLR_OK);
    cfg.kind = kind;
    cfg.in_dim = d;
    cfg.hidden_dim = h;
    cfg.out_dim = o;
    cfg.seed = seed;
    if (simclr_projector_create(&cfg, &proj) != SIMCLR_OK)
        fail_msg("projector: %s", simclr_last_error());
    return proj;
}

/* Copy the reference's initial tensors into the head. Every tensor of the
 * head must be in the reference with the same shape; the reference's one
 * extra tensor in v2, the frozen zero shift head.7.bias, must be zero. */
static void load_init(simclr_projector *proj, const ref_case *rc, bool v2)
{
    size_t i, count = simclr_projector_param_count(proj), extra = 0;
    char key[128];

    for (i = 0; i < count; i++) {
        simclr_param_info p = info_at(proj, i);
        const ref_tensor *t;

        snprintf(key, sizeof(key), "init.%s", p.name);
        t = ref_find(rc, key);
        assert_int_equal(t->ndim, p.ndim);
        assert_int_equal(t->numel, p.numel);
        if (p.ndim > 0)
            assert_int_equal(t->shape[0], p.shape[0]);
        if (p.ndim > 1)
            assert_int_equal(t->shape[1], p.shape[1]);
        if (p.dtype == SIMCLR_PARAM_I64)
            p.value_i64[0] = ref_i64(rc, key);
        else
            memcpy(p.value, ref_f32(rc, key, p.numel), p.numel * sizeof(float));
    }
    for (i = 0; i < rc->count; i++)
        if (strncmp(rc->tensors[i].name, "init.", 5) == 0)
            extra++;
    extra -= count;
    assert_int_equal(extra, v2 ? 1 : 0);
    if (v2) {
        const float *b = ref_f32(rc, "init.head.7.bias", rc->out_dim);

        for (i = 0; i < rc->out_dim; i++)
            assert_true(b[i] == 0.f);
    }
}

/* ---- against PyTorch -------------------------------------------------------
 */

static void check_case(const char *name)
{
    simclr_projector *proj;
    ref_case rc;
    bool v2;
    size_t i, count, n, zn, hn;
    float *z, *dh, *grad_copy;
    char key[128];

    ref_load(&rc, name);
    v2 = strcmp(rc.kind, "v2") == 0;
    n = rc.batch;
    zn = n * rc.out_dim;
    hn = n * rc.in_dim;
    proj = make_projector(v2 ? SIMCLR_PROJECTOR_V2 : SIMCLR_PROJECTOR_V1,
                          rc.in_dim, rc.hidden_dim, rc.out_dim, 7);
    load_init(proj, &rc, v2);
    count = simclr_projector_param_count(proj);
    z = malloc(zn * sizeof(float));
    dh = malloc(hn * sizeof(float));
    assert_non_null(z);
    assert_non_null(dh);
    worst_out = worst_grad = 0.0;

    /* training forward and running statistics */
    assert_int_equal(simclr_projector_forward_train(
                         proj, ref_f32(&rc, "input", hn), n, rc.in_dim, z),
                     SIMCLR_OK);
    expect_close(&rc, "z_train", z, zn, OUT_TOL);
    for (i = 0; i < count; i++) {
        simclr_param_info p = info_at(proj, i);

        if (p.kind != SIMCLR_PARAM_BUFFER)
            continue;
        snprintf(key, sizeof(key), "after.%s", p.name);
        if (p.dtype == SIMCLR_PARAM_I64)
            assert_int_equal(p.value_i64[0], ref_i64(&rc, key));
        else
            expect_close(&rc, key, p.value, p.numel, OUT_TOL);
    }

    /* backward: every trained tensor and the input */
    assert_int_equal(
        simclr_projector_backward(proj, ref_f32(&rc, "dz", zn), dh), SIMCLR_OK);
    expect_close(&rc, "grad.input", dh, hn, GRAD_TOL);
    for (i = 0; i < count; i++) {
        simclr_param_info p = info_at(proj, i);

        if (p.kind == SIMCLR_PARAM_BUFFER)
            continue;
        snprintf(key, sizeof(key), "grad.%s", p.name);
        expect_close(&rc, key, p.grad, p.numel, GRAD_TOL);
    }

    /* a second backward overwrites the gradients with the same values */
    {
        simclr_param_info p = info_at(proj, 0);

        grad_copy = malloc(p.numel * sizeof(float));
        assert_non_null(grad_copy);
        memcpy(grad_copy, p.grad, p.numel * sizeof(float));
        assert_int_equal(
            simclr_projector_backward(proj, ref_f32(&rc, "dz", zn), NULL),
            SIMCLR_OK);
        assert_memory_equal(grad_copy, p.grad, p.numel * sizeof(float));
        free(grad_copy);
    }

    /* inference with the updated running statistics */
    assert_int_equal(simclr_projector_forward_infer(
                         proj, ref_f32(&rc, "input", hn), n, rc.in_dim, z),
                     SIMCLR_OK);
    expect_close(&rc, "z_eval", z, zn, OUT_TOL);

    print_message("projector %s: worst relative L2 error %.2e in outputs "
                  "and statistics, %.2e in gradients\n",
                  name, worst_out, worst_grad);
    free(z);
    free(dh);
    simclr_projector_destroy(proj);
    ref_free(&rc);
}

static void test_v1_batch2(void **state)
{
    (void)state;
    check_case("v1_n2_d16");
}

static void test_v1_batch8_wide_hidden(void **state)
{
    (void)state;
    check_case("v1_n8_d16_h32");
}

static void test_v1_batch64_d512(void **state)
{
    (void)state;
    check_case("v1_n64_d512");
}

static void test_v2_batch2(void **state)
{
    (void)state;
    check_case("v2_n2_d16");
}

static void test_v2_batch8_wide_hidden(void **state)
{
    (void)state;
    check_case("v2_n8_d16_h24");
}

static void test_v2_batch64_d512(void **state)
{
    (void)state;
    check_case("v2_n64_d512");
}

/* ---- finite differences ---------------------------------------------------
 */

/* <z_train, dz> in double for the current parameters. A training forward
 * updates the running statistics, which the training output does not
 * read, so repeated calls see the same function. */
static double fd_loss(simclr_projector *proj, const float *x, size_t n,
                      uint32_t d, const float *dz, float *z, size_t zn)
{
    double s = 0.0;
    size_t i;

    assert_int_equal(simclr_projector_forward_train(proj, x, n, d, z),
                     SIMCLR_OK);
    for (i = 0; i < zn; i++)
        s += (double)z[i] * (double)dz[i];
    return s;
}

/*
 * Central differences with a step of 1e-3 against the analytic gradient
 * of a few entries of every trained tensor of a small v2 head (batch 6),
 * and of v1's, and of the input. The loss is rounded to float32 before
 * it is differenced, which leaves an absolute error of a few 1e-4 in
 * each difference; the check asks for 2e-2 relative agreement (or 2e-3
 * absolute) on each entry. A small step also keeps the ReLUs from
 * switching inside it.
 */
static void check_fd(simclr_projector_kind kind)
{
    enum { N = 6, D = 5, H = 7, O = 4 };
    simclr_projector *proj = make_projector(kind, D, H, O, 11);
    float x[N * D], dz[N * O], z[N * O], dh[N * D];
    size_t i, j, count = simclr_projector_param_count(proj);
    const double eps = 1e-3;
    unsigned long r = 12345;

    for (i = 0; i < N * D; i++) {
        r = r * 6364136223846793005ul + 1442695040888963407ul;
        x[i] = (float)((double)(r >> 40) / (double)(1ul << 24) * 4.0 - 2.0);
    }
    for (i = 0; i < N * O; i++) {
        r = r * 6364136223846793005ul + 1442695040888963407ul;
        dz[i] = (float)((double)(r >> 40) / (double)(1ul << 24) * 2.0 - 1.0);
    }
    fd_loss(proj, x, N, D, dz, z, N * O);
    assert_int_equal(simclr_projector_backward(proj, dz, dh), SIMCLR_OK);

    for (i = 0; i < count; i++) {
        simclr_param_info p = info_at(proj, i);
        float *grad;

        if (p.kind == SIMCLR_PARAM_BUFFER)
            continue;
        grad = malloc(p.numel * sizeof(float));
        assert_non_null(grad);
        memcpy(grad, p.grad, p.numel * sizeof(float));
        for (j = 0; j < p.numel; j += 1 + p.numel / 5) {
            float keep = p.value[j];
            double up, down, fd;

            p.value[j] = keep + (float)eps;
            up = fd_loss(proj, x, N, D, dz, z, N * O);
            p.value[j] = keep - (float)eps;
            down = fd_loss(proj, x, N, D, dz, z, N * O);
            p.value[j] = keep;
            fd = (up - down) / (2.0 * eps);
            if (!(fabs(fd - grad[j]) <= 2e-2 * fabs(fd) + 2e-3))
                fail_msg("%s[%zu]: finite difference %.6g, backward %.6g",
                         p.name, j, fd, (double)grad[j]);
        }
        free(grad);
    }
    for (j = 0; j < N * D; j += 3) {
        float keep = x[j];
        double up, down, fd;

        x[j] = keep + (float)eps;
        up = fd_loss(proj, x, N, D, dz, z, N * O);
        x[j] = keep - (float)eps;
        down = fd_loss(proj, x, N, D, dz, z, N * O);
        x[j] = keep;
        fd = (up - down) / (2.0 * eps);
        if (!(fabs(fd - dh[j]) <= 2e-2 * fabs(fd) + 2e-3))
            fail_msg("input[%zu]: finite difference %.6g, backward %.6g", j, fd,
                     (double)dh[j]);
    }
    simclr_projector_destroy(proj);
}

static void test_finite_differences(void **state)
{
    (void)state;
    check_fd(SIMCLR_PROJECTOR_V1);
    check_fd(SIMCLR_PROJECTOR_V2);
}

/* ---- the parameter table and the initial values ---------------------------
 */

static void test_names_and_shapes(void **state)
{
    static const struct {
        const char *name;
        simclr_param_kind kind;
        uint32_t ndim;
        uint64_t d0, d1;
    } v1[] =
        {
            {"head.0.weight", SIMCLR_PARAM_WEIGHT, 2, 48, 32},
            {"head.0.bias", SIMCLR_PARAM_NORM, 1, 48, 0},
            {"head.2.weight", SIMCLR_PARAM_WEIGHT, 2, 16, 48},
            {"head.2.bias", SIMCLR_PARAM_NORM, 1, 16, 0},
        },
      v2[] = {
          {"head.0.weight", SIMCLR_PARAM_WEIGHT, 2, 48, 32},
          {"head.1.weight", SIMCLR_PARAM_NORM, 1, 48, 0},
          {"head.1.bias", SIMCLR_PARAM_NORM, 1, 48, 0},
          {"head.1.running_mean", SIMCLR_PARAM_BUFFER, 1, 48, 0},
          {"head.1.running_var", SIMCLR_PARAM_BUFFER, 1, 48, 0},
          {"head.1.num_batches_tracked", SIMCLR_PARAM_BUFFER, 0, 0, 0},
          {"head.3.weight", SIMCLR_PARAM_WEIGHT, 2, 48, 48},
          {"head.4.weight", SIMCLR_PARAM_NORM, 1, 48, 0},
          {"head.4.bias", SIMCLR_PARAM_NORM, 1, 48, 0},
          {"head.4.running_mean", SIMCLR_PARAM_BUFFER, 1, 48, 0},
          {"head.4.running_var", SIMCLR_PARAM_BUFFER, 1, 48, 0},
          {"head.4.num_batches_tracked", SIMCLR_PARAM_BUFFER, 0, 0, 0},
          {"head.6.weight", SIMCLR_PARAM_WEIGHT, 2, 16, 48},
          {"head.7.weight", SIMCLR_PARAM_NORM, 1, 16, 0},
          {"head.7.running_mean", SIMCLR_PARAM_BUFFER, 1, 16, 0},
          {"head.7.running_var", SIMCLR_PARAM_BUFFER, 1, 16, 0},
          {"head.7.num_batches_tracked", SIMCLR_PARAM_BUFFER, 0, 0, 0},
      };
    simclr_projector *a = make_projector(SIMCLR_PROJECTOR_V1, 32, 48, 16, 1);
    simclr_projector *b = make_projector(SIMCLR_PROJECTOR_V2, 32, 48, 16, 1);
    simclr_projector_config cfg;
    simclr_param_info p;
    size_t i;

    (void)state;
    assert_int_equal(simclr_projector_param_count(a), 4);
    for (i = 0; i < 4; i++) {
        p = info_at(a, i);
        assert_string_equal(p.name, v1[i].name);
        assert_int_equal(p.kind, v1[i].kind);
        assert_int_equal(p.ndim, v1[i].ndim);
        assert_int_equal(p.shape[0], v1[i].d0);
        assert_int_equal(p.shape[1], v1[i].d1);
        assert_non_null(p.grad);
    }
    assert_int_equal(simclr_projector_param_count(b), 17);
    for (i = 0; i < 17; i++) {
        p = info_at(b, i);
        assert_string_equal(p.name, v2[i].name);
        assert_int_equal(p.kind, v2[i].kind);
        assert_int_equal(p.ndim, v2[i].ndim);
        assert_int_equal(p.shape[0], v2[i].d0);
        assert_int_equal(p.shape[1], v2[i].d1);
        assert_int_equal(p.dtype,
                         v2[i].ndim == 0 ? SIMCLR_PARAM_I64 : SIMCLR_PARAM_F32);
        assert_true((p.grad != NULL) == (v2[i].kind != SIMCLR_PARAM_BUFFER));
    }
    memset(&p, 0, sizeof(p));
    p.size = sizeof(p);
    assert_int_equal(simclr_projector_param_find(b, "head.4.running_var", &p),
                     SIMCLR_OK);
    assert_string_equal(p.name, "head.4.running_var");
    assert_int_equal(simclr_projector_param_find(b, "head.7.bias", &p),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(simclr_last_error(), "head.7.bias"));

    /* the hidden width defaults to the input width */
    assert_int_equal(simclr_projector_config_init(&cfg), SIMCLR_OK);
    assert_int_equal(cfg.in_dim, 2048);
    assert_int_equal(cfg.out_dim, 128);
    assert_int_equal(cfg.kind, SIMCLR_PROJECTOR_V1);
    simclr_projector_destroy(a);
    a = make_projector(SIMCLR_PROJECTOR_V1, 24, 0, 128, 1);
    assert_int_equal(simclr_projector_config_get(a, &cfg), SIMCLR_OK);
    assert_int_equal(cfg.hidden_dim, 24);
    p = info_at(a, 2);
    assert_int_equal(p.shape[0], 128);
    assert_int_equal(p.shape[1], 24);
    simclr_projector_destroy(a);
    simclr_projector_destroy(b);
}

/* nn.Linear's default: U(-1/sqrt(in), 1/sqrt(in)); mean 0 and variance
 * bound^2 / 3 within a few standard errors of the sample moments. */
static void check_uniform(const simclr_param_info *p, double bound)
{
    double sum = 0.0, sq = 0.0, mean, var, n = (double)p->numel;
    size_t i;

    for (i = 0; i < p->numel; i++) {
        double v = p->value[i];

        assert_true(v >= -bound && v <= bound);
        sum += v;
        sq += v * v;
    }
    mean = sum / n;
    var = sq / n - mean * mean;
    assert_true(fabs(mean) <= 5.0 * bound / sqrt(3.0 * n));
    assert_true(fabs(var / (bound * bound / 3.0) - 1.0) <= 5.0 * 0.9 / sqrt(n));
}

static void test_initialisation(void **state)
{
    simclr_projector *a = make_projector(SIMCLR_PROJECTOR_V1, 256, 64, 32, 5);
    simclr_projector *b = make_projector(SIMCLR_PROJECTOR_V1, 256, 64, 32, 5);
    simclr_projector *c = make_projector(SIMCLR_PROJECTOR_V1, 256, 64, 32, 6);
    simclr_projector *v2 = make_projector(SIMCLR_PROJECTOR_V2, 64, 64, 32, 5);
    simclr_param_info pa, pb, pc;
    size_t i, j;

    (void)state;
    for (i = 0; i < 4; i++) {
        pa = info_at(a, i);
        pb = info_at(b, i);
        pc = info_at(c, i);
        check_uniform(&pa, 1.0 / sqrt(i < 2 ? 256.0 : 64.0));
        /* the same seed gives the same numbers, another seed others */
        assert_memory_equal(pa.value, pb.value, pa.numel * sizeof(float));
        assert_memory_not_equal(pa.value, pc.value, pa.numel * sizeof(float));
        for (j = 0; j < pa.numel; j++)
            assert_true(pa.grad[j] == 0.f);
    }
    for (i = 0; i < simclr_projector_param_count(v2); i++) {
        simclr_param_info p = info_at(v2, i);
        const char *dot = strrchr(p.name, '.');
        float want = strcmp(dot, ".running_var") == 0 ? 1.f : 0.f;

        if (p.kind == SIMCLR_PARAM_WEIGHT) {
            check_uniform(&p, 1.0 / sqrt((double)p.shape[1]));
            continue;
        }
        if (p.dtype == SIMCLR_PARAM_I64) {
            assert_int_equal(p.value_i64[0], 0);
            continue;
        }
        if (strcmp(dot, ".weight") == 0)
            want = 1.f;
        for (j = 0; j < p.numel; j++)
            assert_true(p.value[j] == want);
    }
    simclr_projector_destroy(a);
    simclr_projector_destroy(b);
    simclr_projector_destroy(c);
    simclr_projector_destroy(v2);
}

/* ---- bad input -------------------------------------------------------------
 */

static void test_bad_config(void **state)
{
    simclr_projector_config cfg;
    simclr_projector *proj = (simclr_projector *)&cfg;

    (void)state;
    assert_int_equal(simclr_projector_config_init(NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_projector_create(NULL, &proj),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_null(proj);
    assert_int_equal(simclr_projector_config_init(&cfg), SIMCLR_OK);
    assert_int_equal(simclr_projector_create(&cfg, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    cfg.size = 4;
    assert_int_equal(simclr_projector_create(&cfg, &proj),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(simclr_last_error(), "size"));
    assert_int_equal(simclr_projector_config_init(&cfg), SIMCLR_OK);
    cfg.kind = (simclr_projector_kind)7;
    assert_int_equal(simclr_projector_create(&cfg, &proj),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(simclr_last_error(), "kind"));
    assert_int_equal(simclr_projector_config_init(&cfg), SIMCLR_OK);
    cfg.in_dim = 0;
    assert_int_equal(simclr_projector_create(&cfg, &proj),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(simclr_last_error(), "in_dim"));
    assert_int_equal(simclr_projector_config_init(&cfg), SIMCLR_OK);
    cfg.out_dim = 70000;
    assert_int_equal(simclr_projector_create(&cfg, &proj),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(simclr_last_error(), "out_dim"));
    assert_int_equal(simclr_projector_config_init(&cfg), SIMCLR_OK);
    cfg.hidden_dim = 65537;
    assert_int_equal(simclr_projector_create(&cfg, &proj),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(simclr_last_error(), "hidden_dim"));
    assert_null(proj);
    simclr_projector_destroy(NULL);
    assert_string_equal(simclr_projector_error(NULL), "");
}

static void test_bad_calls(void **state)
{
    simclr_projector *proj = make_projector(SIMCLR_PROJECTOR_V2, 8, 8, 4, 3);
    float x[3 * 8] = {0}, z[3 * 4], dz[3 * 4] = {0}, dh[3 * 8];
    float mean_before[8];
    simclr_param_info p;
    size_t i;

    (void)state;
    for (i = 0; i < 3 * 8; i++)
        x[i] = (float)i * 0.1f - 1.f;

    /* NULL pointers and empty batches */
    assert_int_equal(simclr_projector_forward_train(NULL, x, 3, 8, z),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_projector_forward_train(proj, NULL, 3, 8, z),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_projector_forward_train(proj, x, 3, 8, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_projector_forward_train(proj, x, 0, 8, z),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_projector_forward_infer(proj, x, 0, 8, z),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_projector_forward_infer(proj, NULL, 3, 8, z),
                     SIMCLR_ERR_INVALID_ARGUMENT);

    /* the backward needs a training forward first */
    assert_int_equal(simclr_projector_backward(proj, dz, dh), SIMCLR_ERR_STATE);
    assert_non_null(strstr(simclr_projector_error(proj), "no training"));
    assert_int_equal(simclr_projector_backward(proj, NULL, dh),
                     SIMCLR_ERR_INVALID_ARGUMENT);

    /* wrong width */
    assert_int_equal(simclr_projector_forward_train(proj, x, 3, 6, z),
                     SIMCLR_ERR_SHAPE);
    assert_non_null(strstr(simclr_projector_error(proj), "width 6"));
    assert_int_equal(simclr_projector_forward_infer(proj, x, 3, 9, z),
                     SIMCLR_ERR_SHAPE);

    /* batch norm in training needs two rows; v1 has none */
    assert_int_equal(simclr_projector_forward_train(proj, x, 1, 8, z),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(simclr_projector_error(proj), "one value"));
    assert_int_equal(simclr_projector_forward_infer(proj, x, 1, 8, z),
                     SIMCLR_OK);

    /* NaN in the input: refused, running statistics unchanged */
    memset(&p, 0, sizeof(p));
    p.size = sizeof(p);
    assert_int_equal(
        simclr_projector_param_find(proj, "head.1.running_mean", &p),
        SIMCLR_OK);
    memcpy(mean_before, p.value, sizeof(mean_before));
    x[5] = NAN;
    assert_int_equal(simclr_projector_forward_train(proj, x, 3, 8, z),
                     SIMCLR_ERR_NUMERIC);
    assert_non_null(strstr(simclr_projector_error(proj), "element 5"));
    assert_memory_equal(mean_before, p.value, sizeof(mean_before));
    assert_int_equal(simclr_projector_forward_infer(proj, x, 3, 8, z),
                     SIMCLR_ERR_NUMERIC);
    x[5] = INFINITY;
    assert_int_equal(simclr_projector_forward_train(proj, x, 3, 8, z),
                     SIMCLR_ERR_NUMERIC);
    x[5] = 0.f;

    /* NaN in the upstream gradient */
    assert_int_equal(simclr_projector_forward_train(proj, x, 3, 8, z),
                     SIMCLR_OK);
    dz[2] = NAN;
    assert_int_equal(simclr_projector_backward(proj, dz, dh),
                     SIMCLR_ERR_NUMERIC);
    dz[2] = 0.f;
    assert_int_equal(simclr_projector_backward(proj, dz, dh), SIMCLR_OK);

    /* the parameter table */
    assert_int_equal(simclr_projector_param(proj, 17, &p),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_projector_param(NULL, 0, &p),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_projector_param(proj, 0, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    p.size = 8;
    assert_int_equal(simclr_projector_param(proj, 0, &p),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_projector_param_find(proj, "head.0.weight", &p),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    p.size = sizeof(p);
    assert_int_equal(simclr_projector_param_find(proj, NULL, &p),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_projector_param_count(NULL), 0);
    simclr_projector_destroy(proj);

    /* v1 has no batch norm: a training batch of 1 is fine */
    proj = make_projector(SIMCLR_PROJECTOR_V1, 8, 8, 4, 3);
    assert_int_equal(simclr_projector_forward_train(proj, x, 1, 8, z),
                     SIMCLR_OK);
    assert_int_equal(simclr_projector_backward(proj, z, dh), SIMCLR_OK);
    simclr_projector_destroy(proj);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_batch2),
        cmocka_unit_test(test_v1_batch8_wide_hidden),
        cmocka_unit_test(test_v1_batch64_d512),
        cmocka_unit_test(test_v2_batch2),
        cmocka_unit_test(test_v2_batch8_wide_hidden),
        cmocka_unit_test(test_v2_batch64_d512),
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_names_and_shapes),
        cmocka_unit_test(test_initialisation),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_bad_calls),
    };

    simclr_set_num_threads(2);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
