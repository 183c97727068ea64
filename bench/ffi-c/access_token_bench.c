/*
 * The C side of the FFI benchmark of issue 9 §5: one blocking
 * zid_access_token() call (with zid_string_free of the result) with a valid
 * cached token, timed call by call.
 *
 * Usage: access_token_bench STORE_DIR OUT_FILE [N [WARMUP]]
 * STORE_DIR holds the session written by the Rust side
 * (ZID_BENCH_PREPARE_ONLY=1 cargo bench -p zitadel-sdk-ffi --bench
 * ffi_access_token); the client uses the same issuer and client id. Writes
 * one sample per line (nanoseconds) to OUT_FILE and prints the median.
 * Built and run by bench/ffi-speed.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include "zitadel_sdk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* One call: the token must come back (43 characters, as the Rust side wrote it). */
static int call(ZidClient client) {
    char *out = NULL;
    int32_t rc = zid_access_token(client, &out);
    int ok = rc == ZID_OK && out != NULL && strlen(out) == 43;
    zid_string_free(out);
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s STORE_DIR OUT_FILE [N [WARMUP]]\n", argv[0]);
        return 2;
    }
    long n = argc > 3 ? atol(argv[3]) : 10000;
    long warmup = argc > 4 ? atol(argv[4]) : 2000;
    if (n <= 0 || warmup < 0) return 2;

    char config[4096];
    /* The directory comes from the benchmark script: no quotes or backslashes in it. */
    if (strpbrk(argv[1], "\"\\") != NULL) return 2;
    snprintf(config, sizeof config,
             "{\"issuer\":\"https://idp.example\",\"client_id\":\"native-app\","
             "\"store_directory\":\"%s\"}",
             argv[1]);
    ZidClient client;
    char *error = NULL;
    if (zid_client_new(config, &client, &error) != ZID_OK) {
        fprintf(stderr, "zid_client_new failed: %s\n", error ? error : "?");
        zid_string_free(error);
        return 1;
    }

    for (long i = 0; i < warmup; i++) {
        if (!call(client)) {
            fprintf(stderr, "zid_access_token failed (is the store prepared?)\n");
            return 1;
        }
    }
    long long *samples = malloc(sizeof *samples * (size_t)n);
    if (samples == NULL) return 1;
    int ok = 1;
    for (long i = 0; i < n; i++) {
        long long t = now_ns();
        ok &= call(client);
        samples[i] = now_ns() - t;
    }
    zid_client_free(client);
    if (!ok) {
        fprintf(stderr, "a timed zid_access_token call failed\n");
        return 1;
    }

    FILE *f = fopen(argv[2], "w");
    if (f == NULL) return 1;
    for (long i = 0; i < n; i++) fprintf(f, "%lld\n", samples[i]);
    fclose(f);
    qsort(samples, (size_t)n, sizeof *samples, cmp);
    printf("c-blocking: median %.2f µs (p10 %.2f, p90 %.2f) over %ld calls\n",
           samples[n / 2] / 1000.0, samples[n / 10] / 1000.0, samples[n * 9 / 10] / 1000.0, n);
    free(samples);
    return 0;
}
