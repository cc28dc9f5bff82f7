/* Benchmark only: run one post-processing implementation on raw outputs read from a file.
 * usage: pp_bench fixed|float INPUT.bin   (INPUT = int8 scores [NA][NC+1] then int8 boxes [NA][4]) */
#include <stdio.h>
#include <string.h>

#include "postprocess.h"
#include "pp_float.h"

#define SCORE_BYTES (STM32GEN_PP_NUM_ANCHORS * (STM32GEN_PP_NUM_CLASSES + 1))
#define BOX_BYTES (STM32GEN_PP_NUM_ANCHORS * 4)
#define MAX_OUT 1000

static int8_t input[SCORE_BYTES + BOX_BYTES];
static stm32gen_detection_t fixed_out[MAX_OUT];
static pp_float_detection_t float_out[MAX_OUT];

int main(int argc, char **argv)
{
    FILE *f;
    int n, i;
    if (argc != 3 || (strcmp(argv[1], "fixed") && strcmp(argv[1], "float"))) {
        fprintf(stderr, "usage: %s fixed|float INPUT.bin\n", argv[0]);
        return 2;
    }
    f = fopen(argv[2], "rb");
    if (f == NULL || fread(input, 1, sizeof input, f) != sizeof input) {
        fprintf(stderr, "cannot read %zu bytes from %s\n", sizeof input, argv[2]);
        return 2;
    }
    fclose(f);
    if (argv[1][1] == 'i') {
        n = stm32gen_postprocess(input, input + SCORE_BYTES, fixed_out, MAX_OUT);
        for (i = 0; i < n; i++) {
            printf("%u %d %d %d %d %d\n", fixed_out[i].class_id, fixed_out[i].score, fixed_out[i].x1,
                   fixed_out[i].y1, fixed_out[i].x2, fixed_out[i].y2);
        }
    } else {
        n = pp_float_postprocess(input, input + SCORE_BYTES, float_out, MAX_OUT);
        for (i = 0; i < n; i++) {
            printf("%u %.9g %.9g %.9g %.9g %.9g\n", float_out[i].class_id, (double)float_out[i].score,
                   (double)float_out[i].x1, (double)float_out[i].y1, (double)float_out[i].x2, (double)float_out[i].y2);
        }
    }
    return 0;
}
