/* bench.h — the native `--bench` mode of the minify program (see bench.c). */
#ifndef MINIFY_BENCH_H
#define MINIFY_BENCH_H

/* Runs `PROGRAM --bench ITERATIONS TYPE < input`; returns the exit code. */
int minify_bench(int argc, char **argv);

#endif
