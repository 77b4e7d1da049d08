/*
 * The optim module: SGD and AdamW against torch.optim in float64, LARS
 * against the official SimCLR formula in float64, the learning-rate rules
 * and schedule against the official code (all from tests/ref/gen_optim.py),
 * and bad input.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "simclr/simclr.h"

#define DATA SIMCLR_TEST_DATA "/optim/"

#define MAX_PARAMS 8
#define MAX_STEPS  8
#define REF_STEPS  4 /* steps of every case in the manifest */
#define MAX_LINES  256

/* Values and state are float32; the reference is float64. */
#define VALUE_RTOL  1e-5
#define UPDATE_RTOL 1e-3

/* ---- the manifest ---------------------------------------------------- */

static char manifest[MAX_LINES][512];
static int n_lines;

static int load_manifest(void **state)
{
    FILE *f = fopen(DATA "cases.txt", "r");

    (void)state;
    if (!f)
        return -1;
    while (n_lines < MAX_LINES && fgets(manifest[n_lines], 512, f))
        n_lines++;
    fclose(f);
    return n_lines > 0 ? 0 : -1;
}

static float *read_f32(const char *name, size_t count)
{
    char path[512];
    FILE *f;
    float *buf;

    snprintf(path, sizeof(path), DATA "%s", name);
    f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    buf = malloc(count * sizeof(float));
    assert_non_null(buf);
    if (fread(buf, sizeof(float), count, f) != count || fgetc(f) != EOF)
        fail_msg("%s does not hold %zu float32 values", path, count);
    fclose(f);
    return buf;
}

typedef struct ref_param {
    char name[64];
    size_t count;
    unsigned flags;
    float *init;  /* (count) */
    float *grads; /* (steps, count) */
} ref_param;

static size_t load_params(ref_param *ps)
{
    size_t n = 0;

    for (int i = 0; i < n_lines; i++) {
        char init[128], grads[128];
        ref_param *p = &ps[n];

        if (strncmp(manifest[i], "param ", 6) != 0)
            continue;
        assert_true(n < MAX_PARAMS);
        if (sscanf(manifest[i], "param %63s %zu %u %127s %127s", p->name,
                   &p->count, &p->flags, init, grads) != 5)
            fail_msg("bad line: %s", manifest[i]);
        p->init = read_f32(init, p->count);
        p->grads = read_f32(grads, (size_t)REF_STEPS * p->count);
        n++;
    }
    assert_true(n >= 5);
    return n;
}

static void free_params(ref_param *ps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ps[i].init);
        free(ps[i].grads);
    }
}

/* max |a - b| over max(max |b|, floor) */
static double rel_error(const float *a, const double *b, size_t n, double floor)
{
    double diff = 0.0, scale = floor;

    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs(b[i]));
    }
    return diff / scale;
}

/* ---- optimizer steps ---------------------------------------------------- */

static simclr_optim_kind kind_of(const char *name)
{
    if (strcmp(name, "sgd") == 0)
        return SIMCLR_OPTIM_SGD;
    if (strcmp(name, "lars") == 0)
        return SIMCLR_OPTIM_LARS;
    assert_string_equal(name, "adamw");
    return SIMCLR_OPTIM_ADAMW;
}

/* Runs the case on line @p at and compares with its "final" lines. */
static void run_case(const char *line, ref_param *ps, size_t n_params,
                     double *worst_value, double *worst_update)
{
    char name[64], kind[16];
    int nesterov, used, steps;
    double lrs[MAX_STEPS];
    simclr_optim_config cfg;
    simclr_optim *opt = NULL;
    float *values[MAX_PARAMS], *grads[MAX_PARAMS];
    const char *rest;
    int checked = 0;

    if (sscanf(line, "case %63s %15s", name, kind) != 2)
        fail_msg("bad line: %s", line);
    assert_int_equal(simclr_optim_config_init(&cfg, kind_of(kind)), SIMCLR_OK);
    if (sscanf(line, "case %*s %*s %lf %d %lf %lf %lf %lf %lf %d%n",
               &cfg.momentum, &nesterov, &cfg.weight_decay,
               &cfg.trust_coefficient, &cfg.beta1, &cfg.beta2, &cfg.eps, &steps,
               &used) != 8)
        fail_msg("bad line: %s", line);
    cfg.nesterov = nesterov;
    assert_true(steps == REF_STEPS);
    rest = line + used;
    for (int s = 0; s < steps; s++) {
        char *end;

        lrs[s] = strtod(rest, &end);
        assert_true(end != rest);
        rest = end;
    }

    /* register copies of the initial values */
    assert_int_equal(simclr_optim_create(&cfg, &opt), SIMCLR_OK);
    for (size_t i = 0; i < n_params; i++) {
        values[i] = malloc(ps[i].count * sizeof(float));
        grads[i] = malloc(ps[i].count * sizeof(float));
        assert_true(values[i] && grads[i]);
        memcpy(values[i], ps[i].init, ps[i].count * sizeof(float));
        assert_int_equal(simclr_optim_add_param(opt, ps[i].name, values[i],
                                                grads[i], ps[i].count,
                                                ps[i].flags),
                         SIMCLR_OK);
    }

    /* the steps, each with its gradient and learning rate */
    for (int s = 0; s < steps; s++) {
        for (size_t i = 0; i < n_params; i++)
            memcpy(grads[i], ps[i].grads + (size_t)s * ps[i].count,
                   ps[i].count * sizeof(float));
        assert_int_equal(simclr_optim_step(opt, lrs[s]), SIMCLR_OK);
    }
    assert_int_equal(simclr_optim_step_count(opt), (uint64_t)steps);

    for (int l = 0; l < n_lines; l++) {
        char cname[64], pname[64], vfile[128], sfile[128];
        size_t i, count, states = simclr_optim_state_count(opt);
        float *ref_f, *ref_state_f;
        double *ref, *upd_ref, *ref_state;
        float *upd, *state;
        double verr, uerr, serr;

        if (sscanf(manifest[l], "final %63s %63s %127s %127s", cname, pname,
                   vfile, sfile) != 4 ||
            strcmp(cname, name) != 0)
            continue;
        for (i = 0; i < n_params && strcmp(ps[i].name, pname) != 0; i++)
            ;
        assert_true(i < n_params);
        count = ps[i].count;
        ref_f = read_f32(vfile, count);
        ref_state_f = read_f32(sfile, states * count);
        ref = malloc(count * sizeof(double));
        upd_ref = malloc(count * sizeof(double));
        upd = malloc(count * sizeof(float));
        ref_state = malloc(states * count * sizeof(double));
        assert_true(ref && upd_ref && upd && ref_state);
        for (size_t k = 0; k < count; k++) {
            ref[k] = ref_f[k];
            upd_ref[k] = (double)ref_f[k] - ps[i].init[k];
            upd[k] = (float)((double)values[i][k] - ps[i].init[k]);
        }
        for (size_t k = 0; k < states * count; k++)
            ref_state[k] = ref_state_f[k];

        verr = rel_error(values[i], ref, count, 1e-30);
        /* the update itself, so that a tiny LARS step is checked too */
        uerr = rel_error(upd, upd_ref, count, 1e-30);
        serr = 0.0;
        for (size_t s = 0; s < states; s++) {
            size_t n;

            assert_int_equal(simclr_optim_state(opt, i, s, &state, &n),
                             SIMCLR_OK);
            assert_int_equal(n, count);
            serr = fmax(serr,
                        rel_error(state, ref_state + s * count, count, 1e-30));
        }
        if (verr > VALUE_RTOL || uerr > UPDATE_RTOL || serr > VALUE_RTOL)
            fail_msg("%s, %s: value rel %.3g, update rel %.3g, state rel "
                     "%.3g",
                     name, pname, verr, uerr, serr);
        *worst_value = fmax(*worst_value, fmax(verr, serr));
        *worst_update = fmax(*worst_update, uerr);
        checked++;
        free(ref_state);
        free(upd);
        free(upd_ref);
        free(ref);
        free(ref_state_f);
        free(ref_f);
    }
    assert_int_equal(checked, (int)n_params);

    simclr_optim_destroy(opt);
    for (size_t i = 0; i < n_params; i++) {
        free(values[i]);
        free(grads[i]);
    }
}

static void test_matches_reference(void **state)
{
    ref_param ps[MAX_PARAMS];
    size_t n_params = load_params(ps);
    double worst_value = 0.0, worst_update = 0.0;
    int cases = 0, kinds[3] = {0};

    (void)state;
    for (int l = 0; l < n_lines; l++) {
        char name[64], kind[16];

        if (sscanf(manifest[l], "case %63s %15s", name, kind) != 2)
            continue;
        run_case(manifest[l], ps, n_params, &worst_value, &worst_update);
        kinds[kind_of(kind)]++;
        cases++;
    }
    assert_true(kinds[0] >= 3 && kinds[1] >= 3 && kinds[2] >= 2);
    print_message("%d cases: max relative error %.3g values and state, "
                  "%.3g updates\n",
                  cases, worst_value, worst_update);
    free_params(ps, n_params);
}

/* ---- bad input ---------------------------------------------------------- */

static simclr_optim *make(simclr_optim_kind kind, float *w, float *g, float *b,
                          float *gb)
{
    simclr_optim_config cfg;
    simclr_optim *opt;

    assert_int_equal(simclr_optim_config_init(&cfg, kind), SIMCLR_OK);
    cfg.weight_decay = 0.1;
    assert_int_equal(simclr_optim_create(&cfg, &opt), SIMCLR_OK);
    assert_int_equal(simclr_optim_add_param(opt, "layer.weight", w, g, 4, 0),
                     SIMCLR_OK);
    assert_int_equal(simclr_optim_add_param(opt, "layer.bias", b, gb, 2,
                                            SIMCLR_PARAM_NO_DECAY),
                     SIMCLR_OK);
    return opt;
}

/* A NaN or infinity in any gradient: an error naming the parameter, and
 * no value, state or step count changes, even for parameters before it. */
static void test_non_finite_gradient(void **state)
{
    static const simclr_optim_kind kinds[] = {
        SIMCLR_OPTIM_SGD, SIMCLR_OPTIM_LARS, SIMCLR_OPTIM_ADAMW};

    (void)state;
    for (size_t k = 0; k < 3; k++) {
        float w[4] = {1, -2, 3, 0.5f}, g[4] = {0.1f, 0.2f, -0.3f, 0.4f};
        float b[2] = {0.5f, -0.5f}, gb[2] = {1, 2};
        float w0[4], b0[2], *st;
        simclr_optim *opt = make(kinds[k], w, g, b, gb);

        /* one good step so that the state is not zero */
        assert_int_equal(simclr_optim_step(opt, 0.1), SIMCLR_OK);
        memcpy(w0, w, sizeof(w));
        memcpy(b0, b, sizeof(b));
        assert_int_equal(simclr_optim_state(opt, 0, 0, &st, NULL), SIMCLR_OK);
        float st0 = st[0];

        gb[1] = k == 1 ? INFINITY : NAN;
        assert_int_equal(simclr_optim_step(opt, 0.1), SIMCLR_ERR_NUMERIC);
        assert_non_null(strstr(simclr_optim_error(opt), "layer.bias"));
        assert_non_null(strstr(simclr_last_error(), "element 1"));
        assert_memory_equal(w, w0, sizeof(w));
        assert_memory_equal(b, b0, sizeof(b));
        assert_true(st[0] == st0);
        assert_int_equal(simclr_optim_step_count(opt), 1);
        simclr_optim_destroy(opt);
    }
}

static void test_bad_arguments(void **state)
{
    float w[4] = {1, 2, 3, 4}, g[4] = {0}, b[2] = {0}, gb[2] = {0};
    simclr_optim_config cfg;
    simclr_optim *opt = (simclr_optim *)&cfg;
    float *buf;

    (void)state;
    assert_int_equal(simclr_optim_config_init(NULL, SIMCLR_OPTIM_SGD),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_optim_config_init(&cfg, (simclr_optim_kind)9),
                     SIMCLR_ERR_INVALID_ARGUMENT);

    /* each field out of range is named */
    {
        static const char *fields[] = {
            "momentum", "weight_decay", "trust_coefficient",
            "beta1",    "beta2",        "eps"};

        for (size_t i = 0; i < 6; i++) {
            simclr_optim_config_init(&cfg, SIMCLR_OPTIM_LARS);
            switch (i) {
            case 0:
                cfg.momentum = 1.0;
                break;
            case 1:
                cfg.weight_decay = NAN;
                break;
            case 2:
                cfg.trust_coefficient = 0.0;
                break;
            case 3:
                cfg.beta1 = -0.1;
                break;
            case 4:
                cfg.beta2 = 1.0;
                break;
            default:
                cfg.eps = 0.0;
                break;
            }
            assert_int_equal(simclr_optim_create(&cfg, &opt),
                             SIMCLR_ERR_INVALID_ARGUMENT);
            assert_null(opt);
            assert_non_null(strstr(simclr_last_error(), fields[i]));
        }
    }
    simclr_optim_config_init(&cfg, SIMCLR_OPTIM_SGD);
    cfg.size = 8;
    assert_int_equal(simclr_optim_create(&cfg, &opt),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_optim_create(NULL, &opt),
                     SIMCLR_ERR_INVALID_ARGUMENT);

    /* no parameter yet */
    simclr_optim_config_init(&cfg, SIMCLR_OPTIM_ADAMW);
    assert_int_equal(simclr_optim_create(&cfg, &opt), SIMCLR_OK);
    assert_int_equal(simclr_optim_step(opt, 0.1), SIMCLR_ERR_STATE);
    assert_int_equal(simclr_optim_add_param(opt, "w", w, NULL, 4, 0),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_optim_add_param(opt, "w", w, g, 0, 0),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_optim_add_param(opt, "w", w, g, 4, 6),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_optim_add_param(opt, "w", w, g, 4, 0), SIMCLR_OK);
    assert_int_equal(simclr_optim_add_param(opt, "b", b, gb, 2, 1), SIMCLR_OK);
    assert_int_equal(simclr_optim_param_count(opt), 2);
    assert_int_equal(simclr_optim_state_count(opt), 2);

    /* learning rate */
    assert_int_equal(simclr_optim_step(opt, -0.1), SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_optim_step(opt, NAN), SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_optim_step(opt, INFINITY),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_optim_step_count(opt), 0);

    /* state access */
    assert_int_equal(simclr_optim_state(opt, 2, 0, &buf, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_optim_state(opt, 0, 2, &buf, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_optim_state(opt, 0, 0, NULL, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_optim_set_step_count(opt, 7), SIMCLR_OK);
    assert_int_equal(simclr_optim_step_count(opt), 7);
    simclr_optim_destroy(opt);
    simclr_optim_destroy(NULL);
    assert_int_equal(simclr_optim_step(NULL, 0.1), SIMCLR_ERR_INVALID_ARGUMENT);
}

/* Restoring the state and step count of a checkpoint continues exactly. */
static void test_state_restore(void **state)
{
    float w1[4] = {1, -2, 3, 0.5f}, w2[4], g[4] = {0.1f, 0.2f, -0.3f, 0.4f};
    float b1[2] = {0.5f, -0.5f}, b2[2], gb[2] = {1, 2};
    simclr_optim *a = make(SIMCLR_OPTIM_ADAMW, w1, g, b1, gb);
    simclr_optim *b;

    (void)state;
    assert_int_equal(simclr_optim_step(a, 0.1), SIMCLR_OK);
    assert_int_equal(simclr_optim_step(a, 0.05), SIMCLR_OK);
    memcpy(w2, w1, sizeof(w1));
    memcpy(b2, b1, sizeof(b1));
    b = make(SIMCLR_OPTIM_ADAMW, w2, g, b2, gb);
    for (size_t p = 0; p < 2; p++) {
        for (size_t s = 0; s < 2; s++) {
            float *src, *dst;
            size_t n;

            assert_int_equal(simclr_optim_state(a, p, s, &src, &n), SIMCLR_OK);
            assert_int_equal(simclr_optim_state(b, p, s, &dst, NULL),
                             SIMCLR_OK);
            memcpy(dst, src, n * sizeof(float));
        }
    }
    assert_int_equal(simclr_optim_set_step_count(b, 2), SIMCLR_OK);
    assert_int_equal(simclr_optim_step(a, 0.02), SIMCLR_OK);
    assert_int_equal(simclr_optim_step(b, 0.02), SIMCLR_OK);
    assert_memory_equal(w1, w2, sizeof(w1));
    assert_memory_equal(b1, b2, sizeof(b1));
    simclr_optim_destroy(a);
    simclr_optim_destroy(b);
}

/* ---- the schedule ----------------------------------------------------- */

static void test_schedule_matches_reference(void **state)
{
    int scales = 0, totals = 0, lrs = 0;

    (void)state;
    for (int l = 0; l < n_lines; l++) {
        const char *line = manifest[l];
        char rule[16];
        double base, peak, expect, got;
        unsigned long long a, b, c, d, e;

        if (sscanf(line, "scale %15s %lf %llu %lf", rule, &base, &a, &expect) ==
            4) {
            assert_int_equal(simclr_lr_scaled(strcmp(rule, "sqrt") == 0
                                                  ? SIMCLR_LR_SCALING_SQRT
                                                  : SIMCLR_LR_SCALING_LINEAR,
                                              base, a, &got),
                             SIMCLR_OK);
            if (fabs(got - expect) > 1e-15 * expect)
                fail_msg("%s: %.17g", line, got);
            scales++;
        } else if (sscanf(line, "total %llu %llu %llu %llu %llu", &a, &b, &c,
                          &d, &e) == 5) {
            uint64_t total;

            assert_int_equal(simclr_lr_total_steps(a, b, c, (int)d, &total),
                             SIMCLR_OK);
            if (total != e)
                fail_msg("%s: %llu", line, (unsigned long long)total);
            totals++;
        } else if (sscanf(line, "lr %lf %llu %llu %llu %lf", &peak, &a, &b, &c,
                          &expect) == 5) {
            assert_int_equal(simclr_lr_warmup_cosine(peak, a, b, c, &got),
                             SIMCLR_OK);
            if (fabs(got - expect) > 1e-12 * peak)
                fail_msg("%s: %.17g", line, got);
            lrs++;
        }
    }
    assert_true(scales >= 5 && totals >= 5 && lrs >= 30);
}

static void test_schedule_boundaries(void **state)
{
    const uint64_t w = 980, t = 9800;
    const double peak = 1.2;
    double lr, prev;

    (void)state;
    /* warm-up starts at 0 and rises by peak / W a step */
    assert_int_equal(simclr_lr_warmup_cosine(peak, w, t, 0, &lr), SIMCLR_OK);
    assert_true(lr == 0.0);
    assert_int_equal(simclr_lr_warmup_cosine(peak, w, t, w, &lr), SIMCLR_OK);
    assert_true(lr == peak);
    /* never rises after the warm-up, positive to the last step */
    prev = peak;
    for (uint64_t s = w; s < t; s++) {
        assert_int_equal(simclr_lr_warmup_cosine(peak, w, t, s, &lr),
                         SIMCLR_OK);
        assert_true(lr <= prev && lr > 0.0);
        prev = lr;
    }
    /* the last step: peak (1 - cos(pi / (T - W))) / 2, about 3.8e-8 here,
     * computed by the schedule as 1 + cos(pi - x), hence the tolerance */
    prev = peak * 0.5 * (1.0 - cos(M_PI / (double)(t - w)));
    assert_true(fabs(lr - prev) < 1e-6 * prev);

    /* bad values */
    assert_int_equal(simclr_lr_warmup_cosine(peak, w, t, t, &lr),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_lr_warmup_cosine(peak, 0, 0, 0, &lr),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_lr_warmup_cosine(peak, 11, 10, 0, &lr),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_lr_warmup_cosine(-1.0, 1, 10, 0, &lr),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_lr_warmup_cosine(NAN, 1, 10, 0, &lr),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_lr_warmup_cosine(peak, 1, 10, 0, NULL),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_lr_scaled(SIMCLR_LR_SCALING_LINEAR, 0.3, 0, &lr),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_lr_scaled(SIMCLR_LR_SCALING_SQRT, -0.3, 4, &lr),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    assert_int_equal(simclr_lr_scaled((simclr_lr_scaling)5, 0.3, 4, &lr),
                     SIMCLR_ERR_INVALID_ARGUMENT);
    {
        uint64_t total;

        assert_int_equal(simclr_lr_total_steps(7, 8, 5, 1, &total),
                         SIMCLR_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(simclr_last_error(), "no full batch"));
        assert_int_equal(simclr_lr_total_steps(0, 8, 5, 0, &total),
                         SIMCLR_ERR_INVALID_ARGUMENT);
        assert_int_equal(simclr_lr_total_steps(10, 8, 0, 0, &total),
                         SIMCLR_ERR_INVALID_ARGUMENT);
        assert_int_equal(simclr_lr_total_steps(UINT64_MAX, 1, 2, 0, &total),
                         SIMCLR_ERR_LIMIT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_non_finite_gradient),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_state_restore),
        cmocka_unit_test(test_schedule_matches_reference),
        cmocka_unit_test(test_schedule_boundaries),
    };

    return cmocka_run_group_tests(tests, load_manifest, NULL);
}
