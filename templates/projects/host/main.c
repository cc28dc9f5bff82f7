/* stm32gen host runner: the generated network as a native filter process.
 *
 *   stm32gen_host              read inputs from stdin until EOF; for each, run the network and
 *                              write every output's raw bytes (model order), then, when the
 *                              project has post-processing, a uint32 count and that many 12-byte
 *                              detection records (little-endian, docs/contracts.md).
 *   stm32gen_host --bench N    read one input, run it N times, print milliseconds per run.
 *
 * Built with -DSTM32GEN_DEBUG_DUMP it also appends every intermediate tensor to the file named by
 * $STM32GEN_DUMP_FILE as records: int32 op, uint32 name length, name, uint32 bytes, data. */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_config.h"
#include "network.h"
#ifdef STM32GEN_HAS_POSTPROCESS
#include "postprocess.h"
#endif

#ifdef STM32GEN_HAS_POSTPROCESS
#ifndef STM32GEN_MAX_DETECTIONS
#define STM32GEN_MAX_DETECTIONS 100
#endif
static stm32gen_detection_t detections[STM32GEN_MAX_DETECTIONS];
#endif

#ifdef STM32GEN_DEBUG_DUMP
static FILE *dump_file;

static void put_u32(FILE *f, uint32_t v)
{
    unsigned char b[4];
    b[0] = (unsigned char)(v & 0xffu);
    b[1] = (unsigned char)((v >> 8) & 0xffu);
    b[2] = (unsigned char)((v >> 16) & 0xffu);
    b[3] = (unsigned char)((v >> 24) & 0xffu);
    fwrite(b, 1, 4, f);
}

void stm32gen_debug_dump(int op_index, const char *name, const void *data, uint32_t bytes)
{
    size_t len = strlen(name);
    if (dump_file == NULL) {
        return;
    }
    put_u32(dump_file, (uint32_t)op_index);
    put_u32(dump_file, (uint32_t)len);
    fwrite(name, 1, len, dump_file);
    put_u32(dump_file, bytes);
    fwrite(data, 1, bytes, dump_file);
}
#endif

static int read_input(stm32gen_tensor_t *in)
{
    size_t got = fread(in->data, 1, in->bytes, stdin);
    if (got == 0 && feof(stdin)) {
        return 0;
    }
    if (got != in->bytes) {
        fprintf(stderr, "stm32gen_host: truncated input: %lu of %lu bytes\n", (unsigned long)got,
                (unsigned long)in->bytes);
        return -1;
    }
    return 1;
}

static int write_results(void)
{
    int i;
    for (i = 0; i < stm32gen_network_num_outputs(); ++i) {
        const stm32gen_tensor_t *out = stm32gen_network_output(i);
        if (fwrite(out->data, 1, out->bytes, stdout) != out->bytes) {
            return -1;
        }
    }
#ifdef STM32GEN_HAS_POSTPROCESS
    {
        int n = stm32gen_postprocess(STM32GEN_PP_SCORES, STM32GEN_PP_BOXES, detections, STM32GEN_MAX_DETECTIONS);
        uint32_t count = n < 0 ? 0u : (uint32_t)n;
        unsigned char rec[12];
        uint32_t k;
        rec[0] = (unsigned char)(count & 0xffu);
        rec[1] = (unsigned char)((count >> 8) & 0xffu);
        rec[2] = (unsigned char)((count >> 16) & 0xffu);
        rec[3] = (unsigned char)((count >> 24) & 0xffu);
        fwrite(rec, 1, 4, stdout);
        for (k = 0; k < count; ++k) {
            const stm32gen_detection_t *d = &detections[k];
            uint16_t v[6];
            int j;
            v[0] = d->class_id;
            v[1] = (uint16_t)d->score;
            v[2] = (uint16_t)d->x1;
            v[3] = (uint16_t)d->y1;
            v[4] = (uint16_t)d->x2;
            v[5] = (uint16_t)d->y2;
            for (j = 0; j < 6; ++j) {
                rec[2 * j] = (unsigned char)(v[j] & 0xffu);
                rec[2 * j + 1] = (unsigned char)(v[j] >> 8);
            }
            fwrite(rec, 1, 12, stdout);
        }
    }
#endif
    return fflush(stdout) == 0 ? 0 : -1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int bench(long runs)
{
    long i;
    double start;
    if (read_input(stm32gen_network_input()) != 1) {
        fprintf(stderr, "stm32gen_host: --bench needs one input on stdin\n");
        return 1;
    }
    if (stm32gen_network_run() != 0) { /* warm-up, also checks the run works */
        return 1;
    }
    start = now_ms();
    for (i = 0; i < runs; ++i) {
        (void)stm32gen_network_run();
    }
    printf("%.4f\n", (now_ms() - start) / (double)runs);
    return 0;
}

int main(int argc, char **argv)
{
    int status;
    stm32gen_network_init();
#ifdef STM32GEN_DEBUG_DUMP
    {
        const char *path = getenv("STM32GEN_DUMP_FILE");
        dump_file = path != NULL ? fopen(path, "wb") : NULL;
    }
#endif
    if (argc == 3 && strcmp(argv[1], "--bench") == 0) {
        long runs = strtol(argv[2], NULL, 10);
        return bench(runs > 0 ? runs : 1);
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--bench N] < inputs > outputs\n", argv[0]);
        return 2;
    }
    while ((status = read_input(stm32gen_network_input())) == 1) {
        if (stm32gen_network_run() != 0) {
            fprintf(stderr, "stm32gen_host: network run failed\n");
            return 1;
        }
        if (write_results() != 0) {
            fprintf(stderr, "stm32gen_host: cannot write results\n");
            return 1;
        }
    }
#ifdef STM32GEN_DEBUG_DUMP
    if (dump_file != NULL) {
        fclose(dump_file);
    }
#endif
    return status == 0 ? 0 : 1;
}
