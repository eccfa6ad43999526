/* The x86_64 power and crash registers (x86_platform.c). */
#ifndef BHV_X86_PLATFORM_H
#define BHV_X86_PLATFORM_H

#include "vm.h"

int x86_platform_init(struct vm *vm);

#endif
