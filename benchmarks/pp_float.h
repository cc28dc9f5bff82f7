/* Benchmark only: a float implementation of the same post-processing algorithm as the generated
 * integer code, for instruction-count comparison (benchmarks/pp_bench.py). */
#ifndef PP_FLOAT_H
#define PP_FLOAT_H

#include <stdint.h>

typedef struct {
    uint16_t class_id;
    float score;
    float x1, y1, x2, y2;
} pp_float_detection_t;

int pp_float_postprocess(const int8_t *scores, const int8_t *boxes, pp_float_detection_t *out, int max_out);

#endif
