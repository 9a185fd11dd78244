/* Halide's lesson 21 run step in C: both libraries on the same input; the
 * outputs must agree, and the times are printed (best of 5 runs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "auto_schedule_false.h"
#include "auto_schedule_true.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static halide_buffer_t make(float *host, halide_dimension_t *dim, int dims) {
    halide_buffer_t b;
    memset(&b, 0, sizeof b);
    b.host = (uint8_t *)host;
    b.type.code = halide_type_float; b.type.bits = 32; b.type.lanes = 1;
    b.dimensions = dims; b.dim = dim;
    return b;
}

int main(void) {
    enum { N = 1024 };
    float *in = malloc(sizeof(float) * N * N * 3);
    float *o[4];
    for (int i = 0; i < 4; i++) o[i] = malloc(sizeof(float) * N * N);
    srand(1);
    for (int i = 0; i < N * N * 3; i++) in[i] = (float)(rand() % 1000) / 1000.0f;
    halide_dimension_t din[3] = {{0, N, 1, 0}, {0, N, N, 0}, {0, 3, N * N, 0}};
    halide_dimension_t dout[2] = {{0, N, 1, 0}, {0, N, N, 0}};
    halide_buffer_t bin = make(in, din, 3), b[4];
    for (int i = 0; i < 4; i++) b[i] = make(o[i], dout, 2);
    double best[2] = {1e9, 1e9};
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        if (auto_schedule_false(&bin, 2.0f, &b[0], &b[1])) return 1;
        double t1 = now();
        if (auto_schedule_true(&bin, 2.0f, &b[2], &b[3])) return 1;
        double t2 = now();
        if (t1 - t0 < best[0]) best[0] = t1 - t0;
        if (t2 - t1 < best[1]) best[1] = t2 - t1;
    }
    printf("Manual schedule: %gms\nAuto schedule: %gms\n", best[0] * 1e3, best[1] * 1e3);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < N * N; i++) {
            float a = o[k][i], c = o[k + 2][i];
            if (fabsf(a - c) > 1e-3f * (1.0f + fabsf(a))) {
                printf("Mismatch in output%d at %d: %g vs %g\n", k + 1, i, a, c);
                return 1;
            }
        }
    printf("Success!\n");
    return 0;
}
