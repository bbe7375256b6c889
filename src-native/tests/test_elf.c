/*
 * test_elf.c — the ELF loader: each malformed file gets its own precise message and nothing
 * boots; a mutation fuzz loop never crashes the host.
 */
#include <elf.h>
#include <stdlib.h>

#include "harness.h"

static char *hello;
static size_t hello_len;

static void expect_rejected(const char *what, const char *elf, size_t len, const char *message)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_boot_time_ms = 500;
    kvmf_program *p = NULL;
    int rc = kvmf_program_create("mutant", elf, len, &c, &p);
    CHECK(rc == KVMF_INVALID_ARGUMENT && p == NULL, "%s: expected INVALID_ARGUMENT, got %s", what,
          kvmf_error_name(rc));
    CHECK(strstr(kvmf_last_error(), message) != NULL, "%s: message \"%s\" lacks \"%s\"", what, kvmf_last_error(),
          message);
    kvmf_program_destroy(p);
}

/* A copy of hello with one change applied by `mutate`. */
static void mutant(const char *what, void (*mutate)(char *elf), const char *message)
{
    char *copy = malloc(hello_len);
    memcpy(copy, hello, hello_len);
    mutate(copy);
    expect_rejected(what, copy, hello_len, message);
    free(copy);
}

static Elf64_Ehdr *eh(char *e) { return (Elf64_Ehdr *)e; }
static Elf64_Phdr *first_load(char *e)
{
    Elf64_Phdr *ph = (Elf64_Phdr *)(e + eh(e)->e_phoff);
    for (int i = 0; i < eh(e)->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD)
            return &ph[i];
    return ph;
}
static Elf64_Phdr *second_load(char *e)
{
    Elf64_Phdr *first = first_load(e);
    Elf64_Phdr *ph = (Elf64_Phdr *)(e + eh(e)->e_phoff);
    for (int i = 0; i < eh(e)->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && &ph[i] != first)
            return &ph[i];
    return first;
}

static void bad_magic(char *e) { e[1] = 'X'; }
static void class32(char *e) { e[EI_CLASS] = ELFCLASS32; }
static void big_endian(char *e) { e[EI_DATA] = ELFDATA2MSB; }
static void arm(char *e) { eh(e)->e_machine = EM_AARCH64; }
static void relocatable(char *e) { eh(e)->e_type = ET_REL; }
static void phentsize(char *e) { eh(e)->e_phentsize = 40; }
static void phoff_beyond(char *e) { eh(e)->e_phoff = 1ULL << 40; }
static void offset_beyond(char *e) { second_load(e)->p_offset = 1ULL << 40; }
static void filesz_gt_memsz(char *e) { first_load(e)->p_memsz = first_load(e)->p_filesz - 1; }
static void overlap(char *e) { second_load(e)->p_vaddr = first_load(e)->p_vaddr; }
static void low_address(char *e) { first_load(e)->p_vaddr = 0x1000; }
static void entry_outside(char *e) { eh(e)->e_entry = 0x10; }
static void huge_segment(char *e) { second_load(e)->p_memsz = 1ULL << 40; }

void test_elf(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/hello", guest_dir);
    hello = read_all(path, &hello_len);
    CHECK(hello != NULL, "the hello guest exists at %s", path);
    if (!hello)
        return;
    expect_rejected("empty file", hello, 0, "too short for an ELF header");
    expect_rejected("truncated header", hello, 40, "the file is 40 bytes");
    expect_rejected("truncated program headers", hello, 100, "extend past the end of the file");
    expect_rejected("text file", "#!/bin/sh\necho hi\n#############################################################\n",
                    80, "not an ELF file (starts with 23 21 2f 62");
    mutant("bad magic", bad_magic, "not an ELF file");
    mutant("32-bit", class32, "only 64-bit programs");
    mutant("big-endian", big_endian, "only little-endian");
    mutant("aarch64", arm, "ELF machine 183");
    mutant("relocatable", relocatable, "ELF type 1");
    mutant("phentsize", phentsize, "program header entry size 40");
    mutant("phoff", phoff_beyond, "program headers (offset 0x10000000000");
    mutant("segment offset", offset_beyond, "extends past the end of the file");
    mutant("filesz > memsz", filesz_gt_memsz, "is larger than its memory size");
    mutant("overlap", overlap, "overlap");
    mutant("low address", low_address, "reserved system area");
    mutant("entry", entry_outside, "entry point 0x10 is not inside an executable segment");
    mutant("huge segment", huge_segment, "raise max_memory");

    size_t dyn_len;
    snprintf(path, sizeof path, "%s/hello-dynamic", guest_dir);
    char *dyn = read_all(path, &dyn_len);
    CHECK(dyn != NULL, "the dynamic guest exists");
    if (dyn)
        expect_rejected("dynamic", dyn, dyn_len, "dynamically linked (program header");
    free(dyn);

    /* Fuzz: random bytes in the headers. Whatever comes out, the host survives and a valid
     * program still runs afterwards. */
    srand(12345);
    size_t header_bytes = eh(hello)->e_phoff + eh(hello)->e_phnum * sizeof(Elf64_Phdr);
    int survived = 0;
    for (int i = 0; i < 300; i++) {
        char *copy = malloc(hello_len);
        memcpy(copy, hello, hello_len);
        for (int flips = 1 + rand() % 4; flips > 0; flips--)
            copy[(size_t)rand() % header_bytes] = (char)rand();
        struct kvmf_config c;
        kvmf_config_defaults(&c);
        c.max_boot_time_ms = 200;
        kvmf_program *p = NULL;
        int rc = kvmf_program_create("fuzz", copy, hello_len, &c, &p);
        if (rc == KVMF_OK) {
            struct result r = get(p, "fuzz");
            (void)r;
            kvmf_program_destroy(p);
        }
        survived++;
        free(copy);
    }
    CHECK(survived == 300, "fuzz iterations");
    kvmf_program *p = NULL;
    CHECK(kvmf_program_create("hello", hello, hello_len, NULL, &p) == KVMF_OK, "hello still boots after the fuzz");
    kvmf_program_destroy(p);
    free(hello);
}
