"""A fake `network.h`/`postprocess.h` implementation with a bit-exact Python mirror.

It follows docs/contracts.md so the real validation server compiles and runs against it; its
arithmetic is deliberately simple (byte shuffles) so the mirror is obviously right. Magic inputs make
it misbehave on purpose: FF FE FD... prints a HardFault report and hangs; FF FE FC... reboots the
process once (re-exec, so all RAM state is lost and the banner is printed again).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

H = W = 24
C = 3
NA = 300
MAX_DETECTIONS = 100
SCORE_LEVEL = 40
INPUT_BYTES = H * W * C
HARDFAULT_MAGIC = bytes([0xFF, 0xFE, 0xFD])
RESET_MAGIC = bytes([0xFF, 0xFE, 0xFC])
FAULT_LINE = "!HARDFAULT pc=0x08001234 lr=0x0800abcd r0=0x00000000 cfsr=0x00008200 hfsr=0x40000000 bfar=0xdeadbeef"

NETWORK_H = """\
#ifndef NETWORK_H
#define NETWORK_H
#include <stdint.h>
#define STM32GEN_DTYPE_INT8 1
#define STM32GEN_DTYPE_UINT8 2
typedef struct {
    const char *name;
    uint8_t dtype;
    uint8_t rank;
    int32_t dims[4];
    float scale;
    int32_t zero_point;
    void *data;
    uint32_t bytes;
} stm32gen_tensor_t;
void stm32gen_network_init(void);
stm32gen_tensor_t *stm32gen_network_input(void);
int stm32gen_network_run(void);
int stm32gen_network_num_outputs(void);
const stm32gen_tensor_t *stm32gen_network_output(int i);
extern const char stm32gen_model_sha256[65];
extern const char stm32gen_plan_hash[17];
#endif
"""

POSTPROCESS_H = f"""\
#ifndef POSTPROCESS_H
#define POSTPROCESS_H
#include <stdint.h>
#define STM32GEN_PP_MAX_DETECTIONS {MAX_DETECTIONS}
typedef struct {{
    uint16_t class_id;
    int16_t score;
    int16_t x1, y1, x2, y2;
}} stm32gen_detection_t;
int stm32gen_postprocess(const int8_t *scores, const int8_t *boxes, stm32gen_detection_t *out, int max_out);
#endif
"""

NETWORK_C = """\
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "network.h"
#include "postprocess.h"
#include "validation_server.h"

#define IN_BYTES {in_bytes}
#define NA {na}
extern char **environ;
static uint8_t in_buf[IN_BYTES];
static int8_t scores[NA * 2];
static int8_t boxes[NA * 4];
static int8_t anchors[NA * 4];
const char stm32gen_model_sha256[65] = "{sha}";
const char stm32gen_plan_hash[17] = "{plan}";
static stm32gen_tensor_t input_t = {{"input", STM32GEN_DTYPE_UINT8, 4, {{1, {h}, {w}, {c}}}, 0.007843138f, 127, in_buf, IN_BYTES}};
static const stm32gen_tensor_t outputs[3] = {{
    {{"scores", STM32GEN_DTYPE_INT8, 3, {{1, NA, 2, 0}}, 0.00390625f, -128, scores, NA * 2}},
    {{"boxes", STM32GEN_DTYPE_INT8, 3, {{1, NA, 4, 0}}, 0.009979919f, 17, boxes, NA * 4}},
    {{"anchors", STM32GEN_DTYPE_INT8, 3, {{1, NA, 4, 0}}, 0.008073905f, -62, anchors, NA * 4}},
}};

void stm32gen_network_init(void) {{ }}
stm32gen_tensor_t *stm32gen_network_input(void) {{ return &input_t; }}
int stm32gen_network_num_outputs(void) {{ return 3; }}
const stm32gen_tensor_t *stm32gen_network_output(int i) {{ return &outputs[i]; }}

int stm32gen_network_run(void)
{{
    uint32_t i;
    if (in_buf[0] == 0xFF && in_buf[1] == 0xFE && in_buf[2] == 0xFD) {{
        static const char line[] = "\\r\\n{fault}\\r\\n";
        sg_port_uart_write((const uint8_t *)line, (uint32_t)strlen(line));
        for (;;) {{
            sleep(1);
        }}
    }}
    if (in_buf[0] == 0xFF && in_buf[1] == 0xFE && in_buf[2] == 0xFC && getenv("FAKE_RESET_DONE") == NULL) {{
        static char *argv[] = {{"{exe_name}", NULL}};
        setenv("FAKE_RESET_DONE", "1", 1);
        execve("/proc/self/exe", argv, environ);
        return -1;
    }}
    for (i = 0; i < NA * 2; i++) {{
        scores[i] = (int8_t)(uint8_t)((in_buf[(i * 7u) % IN_BYTES] + i) & 0xFFu);
    }}
    for (i = 0; i < NA * 4; i++) {{
        boxes[i] = (int8_t)(uint8_t)(in_buf[(i * 13u + 5u) % IN_BYTES] ^ 0x5Au);
        anchors[i] = (int8_t)(i & 0x7Fu);
    }}
    return 0;
}}

int stm32gen_postprocess(const int8_t *s, const int8_t *b, stm32gen_detection_t *out, int max_out)
{{
    int n = 0;
    int a;
    for (a = 0; a < NA && n < max_out && n < STM32GEN_PP_MAX_DETECTIONS; a++) {{
        if (s[a * 2 + 1] > {level}) {{
            out[n].class_id = 0;
            out[n].score = s[a * 2 + 1];
            out[n].x1 = (int16_t)(b[a * 4] * 100);
            out[n].y1 = (int16_t)(b[a * 4 + 1] * 100);
            out[n].x2 = (int16_t)(b[a * 4 + 2] * 100);
            out[n].y2 = (int16_t)(b[a * 4 + 3] * 100);
            n++;
        }}
    }}
    return n;
}}
"""


def write_fake_network(out_dir: Path, sha256: str, plan_hash: str, exe_name: str = "server") -> list[Path]:
    """Write network.h, postprocess.h and fake_network.c; return the C sources to compile."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "network.h").write_text(NETWORK_H)
    (out_dir / "postprocess.h").write_text(POSTPROCESS_H)
    src = out_dir / "fake_network.c"
    src.write_text(
        NETWORK_C.format(
            in_bytes=INPUT_BYTES,
            na=NA,
            sha=sha256,
            plan=plan_hash,
            h=H,
            w=W,
            c=C,
            fault=FAULT_LINE,
            exe_name=exe_name,
            level=SCORE_LEVEL,
        )
    )
    return [src]


@dataclass
class FakeResult:
    outputs: list[np.ndarray]  # raw int8, device order
    detections: list[tuple[int, int, int, int, int, int]]


def fake_compute(x: bytes) -> FakeResult:
    """What the fake network and post-processing produce for input bytes `x`."""
    a = np.frombuffer(x, np.uint8).astype(np.int64)
    n = len(a)
    i2 = np.arange(NA * 2)
    i4 = np.arange(NA * 4)
    scores = ((a[(i2 * 7) % n] + i2) & 0xFF).astype(np.uint8).view(np.int8)
    boxes = (a[(i4 * 13 + 5) % n] ^ 0x5A).astype(np.uint8).view(np.int8)
    anchors = (i4 & 0x7F).astype(np.int8)
    dets = []
    for k in range(NA):
        s = int(scores[k * 2 + 1])
        if s > SCORE_LEVEL and len(dets) < MAX_DETECTIONS:
            dets.append((0, s, *(int(v) * 100 for v in boxes[k * 4 : k * 4 + 4])))
    return FakeResult([scores.reshape(1, NA, 2), boxes.reshape(1, NA, 4), anchors.reshape(1, NA, 4)], dets)
