/* Placeholder entry point until node/cli.c lands (replaced in the next commit). */
#include <stdio.h>
int main(void) { fputs("credanchor: not built yet\n", stderr); return 2; }
