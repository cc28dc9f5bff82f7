/* The MPS2/MPS3 images QEMU models need no clock, power or memory set-up: every RAM is usable at
 * reset and the clocks are fixed. */
#include "sg_system.h"

void sg_system_init(void) {}
