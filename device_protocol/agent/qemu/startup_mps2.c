/* Reset and vector table for the Cortex-M4 of mps2-an386: copy .data, clear .bss, paint the
 * stacks, then main() on the process stack (PSP), leaving the main stack (MSP) to the handlers.
 * Faults stop the board (QEMU keeps running; the station sees silence). */
#include <stdint.h>
#include <string.h>

#include "board.h"

extern uint32_t __data_start, __data_end, __data_load, __bss_start, __bss_end;
extern uint32_t __stack_bottom, __stack_top, __isr_stack_bottom, __isr_stack_top;
int main(void);

void reset_handler(void);
void systick_handler(void);
static void fault_handler(void);

static void fault_handler(void)
{
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__isr_stack_top,
    reset_handler,
    fault_handler, /* NMI */
    fault_handler, /* HardFault */
    fault_handler, /* MemManage */
    fault_handler, /* BusFault */
    fault_handler, /* UsageFault */
    0, 0, 0, 0,
    fault_handler, /* SVCall */
    fault_handler, /* DebugMon */
    0,
    fault_handler, /* PendSV */
    systick_handler,
};

void reset_handler(void)
{
    uint32_t *p;
    uintptr_t sp;
    memcpy(&__data_start, &__data_load, (size_t)((char *)&__data_end - (char *)&__data_start));
    memset(&__bss_start, 0, (size_t)((char *)&__bss_end - (char *)&__bss_start));
    for (p = &__stack_bottom; p < &__stack_top; p++) *p = BOARD_STACK_PAINT;
    /* the handlers' stack: below this function's own frame (with a margin) */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (p = &__isr_stack_bottom; (uintptr_t)p < sp - 64; p++) *p = BOARD_STACK_PAINT;
    /* thread mode on PSP (CONTROL.SPSEL), then main(), which never returns */
    __asm__ volatile("msr psp, %0\n\t"
                     "movs r1, #2\n\t"
                     "msr control, r1\n\t"
                     "isb\n\t"
                     "bl main\n\t"
                     "b ."
                     :
                     : "r"(&__stack_top)
                     : "r1", "memory");
}
