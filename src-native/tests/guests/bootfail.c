/* bootfail — fails during initialisation in the way its main argument says. */
#define ABI_IMPLEMENTATION
#include "abi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "exit";
    printf("bootfail: failing with %s\n", how);
    fflush(stdout);
    if (!strcmp(how, "exit"))
        return 7;
    if (!strcmp(how, "crash"))
        *(volatile int *)0 = 1;
    if (!strcmp(how, "loop"))
        for (;;)
            __asm__ volatile("");
    if (!strcmp(how, "no-handler"))
        wait_for_requests();
    return 0;
}
