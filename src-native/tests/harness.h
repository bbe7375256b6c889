/*
 * harness.h — the C test suite's tiny harness: checks that count, and helpers to load the test
 * guests (built into $(BUILD)/tests/guests by tests.mk) and run requests against them.
 */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../include/kvmfilter.h"

extern int tests_passed, tests_failed;
extern const char *guest_dir;
/* Time limits in tests are multiplied by this (environment variable KVMFILTER_TEST_TIME_SCALE, default
 * 1): emulated hardware (the CI's nested SVM stage) runs guests tens of times slower. */
extern int time_scale;

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (cond) {                                                                        \
            tests_passed++;                                                                \
        } else {                                                                           \
            tests_failed++;                                                                \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                         \
            printf(__VA_ARGS__);                                                           \
            printf("\n");                                                                  \
        }                                                                                  \
    } while (0)

/* A response copied out of the instance, so it survives the release. */
struct result {
    int error;
    long status;
    char content_type[128];
    char body[4096];
    size_t body_len;
    char headers[1024];
    char message[600];
    char log[1024];
    bool on_error_used;
    unsigned long long dirty_pages;
    unsigned long long exits, trap_exits;
};

/* Loads guest `name` (a file in guest_dir) with `config` (NULL: defaults); NULL on failure, with
 * the error kind in *error when given. */
kvmf_program *load_guest(const char *name, const struct kvmf_config *config, int *error);
/* Creates an empty file named NAME-XXXXXX in TMPDIR (or /tmp), its path in path[size]; its fd, or -1. */
int temp_file(char *path, size_t size, const char *name);
/* Reads a whole file; NULL when absent. */
char *read_all(const char *path, size_t *len);
/* Runs one request on an acquired instance and copies the response. */
struct result run_on(kvmf_instance *in, const char *method, const char *arg, const char *body, size_t body_len,
                     const char *headers);
/* Acquires, runs a GET with `arg`, releases. */
struct result get(kvmf_program *p, const char *arg);
/* Checks that a GET with `arg` answers 200 with exactly `want` (guest names the program in the message). */
void expect_answer(kvmf_program *p, const char *guest, const char *arg, const char *want);
/* Monotonic milliseconds. */
uint64_t now_ms(void);
/* The same, flagged as a warm-up request (KVMF_RUN_WARMUP: the instance may learn its hot pages). */
struct result get_warmup(kvmf_program *p, const char *arg);

void test_elf(void);
void test_hostile(void);
void test_isolation(void);
void test_api(void);
void test_pool(void);
void test_boundary(void);
void test_platform(void);
void test_shared(void);
void test_storage(void);
void test_stream(void);
void test_fetch(void);
void test_egress(void);
void test_socket(void);
void test_threads(void);
void test_multiprocess(void);
void test_files(void);
#endif
