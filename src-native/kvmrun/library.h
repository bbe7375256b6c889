/*
 * library.h — kvmrun's reading of a program library (library.c).
 */
#ifndef KVMRUN_LIBRARY_H
#define KVMRUN_LIBRARY_H

#include "../include/kvmfilter.h"

/* What a library says about one program. The strings are owned (library_free). */
struct library_settings {
    struct kvmf_config config; /* the defaults, then the program's group, then the program */
    char *program;             /* the ELF's path, relative paths resolved against the library's directory */
    char *state_file, *arguments, *environment, *allowed_paths, *egress; /* owned blobs the config points to */
    uint64_t address_space;    /* the VMOD's "address_space" (bytes): max_memory is made at least this */
    char error[600];
};

/* Fills *out (whose config holds the defaults) from program `name` of `library`; -1 with out->error on failure. */
int library_load(const char *library, const char *name, struct library_settings *out);
void library_free(struct library_settings *s);

#endif
