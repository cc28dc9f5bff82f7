/* Benchmark only: the post-processing algorithm as a float implementation would write it:
 * dequantize each score and offset, threshold in float, sort the candidates (qsort, score then
 * anchor index), decode lazily, greedy class-aware NMS with a float IoU. Constants come from the
 * generated pp_float_params.h (same model, same parameters as the integer build). */
#include <stdlib.h>

#include "pp_float.h"
#include "pp_float_params.h"

typedef struct {
    float score;
    uint32_t index; /* anchor * NUM_CLASSES + class */
} candidate_t;

static candidate_t candidates[PPF_NUM_ANCHORS * PPF_NUM_CLASSES];

static int by_score_then_index(const void *pa, const void *pb)
{
    const candidate_t *a = (const candidate_t *)pa, *b = (const candidate_t *)pb;
    if (a->score != b->score) {
        return a->score > b->score ? -1 : 1;
    }
    return a->index < b->index ? -1 : (a->index > b->index);
}

static float clip01(float v)
{
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

static float extent(float lo, float hi)
{
    return hi > lo ? hi - lo : 0.0f;
}

static int iou_exceeds(const pp_float_detection_t *a, const pp_float_detection_t *b)
{
    float iw = (a->x2 < b->x2 ? a->x2 : b->x2) - (a->x1 > b->x1 ? a->x1 : b->x1);
    float ih = (a->y2 < b->y2 ? a->y2 : b->y2) - (a->y1 > b->y1 ? a->y1 : b->y1);
    float inter, uni;
    if (iw <= 0.0f || ih <= 0.0f) {
        return 0;
    }
    inter = iw * ih;
    uni = extent(a->x1, a->x2) * extent(a->y1, a->y2) + extent(b->x1, b->x2) * extent(b->y1, b->y2) - inter;
    return uni > 0.0f && inter / uni > PPF_IOU_THRESHOLD;
}

int pp_float_postprocess(const int8_t *scores, const int8_t *boxes, pp_float_detection_t *out, int max_out)
{
    int limit = max_out < PPF_MAX_DETECTIONS ? max_out : PPF_MAX_DETECTIONS;
    uint32_t a, n = 0, i;
    int kept = 0;
    for (a = 0; a < PPF_NUM_ANCHORS; a++) {
        uint32_t c;
        for (c = 0; c < PPF_NUM_CLASSES; c++) {
            float s = PPF_SCORE_SCALE * (float)(scores[a * (PPF_NUM_CLASSES + 1) + 1 + c] - PPF_SCORE_ZERO_POINT);
            if (s >= PPF_SCORE_THRESHOLD) {
                candidates[n].score = s;
                candidates[n].index = a * PPF_NUM_CLASSES + c;
                n++;
            }
        }
    }
    qsort(candidates, n, sizeof candidates[0], by_score_then_index);
    for (i = 0; i < n && kept < limit; i++) {
        uint32_t anchor = candidates[i].index / PPF_NUM_CLASSES;
        const float *an = ppf_anchors[anchor];
        const int8_t *bx = &boxes[anchor * 4];
        float w = an[2] - an[0], h = an[3] - an[1];
        pp_float_detection_t *d = &out[kept];
        int k, suppressed = 0;
        d->x1 = clip01(PPF_BOX_SCALE * (float)(bx[0] - PPF_BOX_ZERO_POINT) * w + an[0]);
        d->y1 = clip01(PPF_BOX_SCALE * (float)(bx[1] - PPF_BOX_ZERO_POINT) * h + an[1]);
        d->x2 = clip01(PPF_BOX_SCALE * (float)(bx[2] - PPF_BOX_ZERO_POINT) * w + an[2]);
        d->y2 = clip01(PPF_BOX_SCALE * (float)(bx[3] - PPF_BOX_ZERO_POINT) * h + an[3]);
        d->class_id = (uint16_t)(candidates[i].index % PPF_NUM_CLASSES);
        for (k = 0; k < kept; k++) {
            if (out[k].class_id == d->class_id && iou_exceeds(&out[k], d)) {
                suppressed = 1;
                break;
            }
        }
        if (!suppressed) {
            d->score = candidates[i].score;
            kept++;
        }
    }
    return kept;
}
