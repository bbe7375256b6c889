/*
 * test_platform.c — the paths where PVM and hardware KVM differ (docs/architecture.md, "PVM and
 * hardware KVM"), checked with the rule each platform must follow. The CI stage .ci/nested-svm runs
 * this suite on hardware KVM (AMD SVM emulated by QEMU) as well as on the PVM build host.
 */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"

/* Only for the report: the checks hold on both. */
static bool on_pvm(void)
{
    return access("/sys/module/kvm_pvm", F_OK) == 0;
}

/* One exit per API call on every platform and either way of calling: the TSS's I/O bitmap lets a
 * ring-3 `out %eax, $0` exit directly (KVM_EXIT_IO) on hardware KVM and on PVM alike, and the API
 * page is an MMIO exit; neither goes through the trap stub. A system call does (`syscall` lands on a
 * ud2): one stub exit per call the host answers. */
static void exits_per_call(const char *guest)
{
    kvmf_program *p = load_guest(guest, NULL, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (!p)
        return;
    uint64_t total = 0;
    for (int n = 0; n <= 20; n += 10) {
        char arg[32];
        snprintf(arg, sizeof arg, "calls %d", n);
        struct result r = get(p, arg);
        char want[64];
        snprintf(want, sizeof want, "calls=%d debug=0", n);
        CHECK(r.error == KVMF_OK && !strcmp(r.body, want), "%s %s: %s %s", guest, arg, r.body, r.message);
        /* n calls and the response */
        CHECK(r.exits == (unsigned long long)n + 1, "%s %s: %llu exits, expected %d", guest, arg, r.exits, n + 1);
        CHECK(r.trap_exits == 0, "%s %s: %llu of %llu exits went through the trap stub, expected none", guest, arg,
              r.trap_exits, r.exits);
        total += r.exits;
    }
    struct result s = get(p, "syscalls 5");
    CHECK(s.error == KVMF_OK && !strcmp(s.body, "syscalls=5 ok=5"), "%s syscalls: %s %s", guest, s.body, s.message);
    CHECK(s.trap_exits <= 5 && s.exits == s.trap_exits + 1, "%s syscalls 5: %llu exits, %llu of them trap exits",
          guest, s.exits, s.trap_exits);
    total += s.exits;
    struct kvmf_program_stats ps;
    kvmf_program_stats(p, &ps);
    CHECK(ps.exits == total, "%s: the program counts %llu exits, the responses %llu", guest,
          (unsigned long long)ps.exits, (unsigned long long)total);
    struct kvmf_instance_stats is;
    CHECK(kvmf_instance_stats(p, 0, &is) == KVMF_OK && is.exits == total && is.trap_exits == ps.trap_exits,
          "%s: instance 0 counts %llu exits (%llu trap), the program %llu (%llu)", guest, (unsigned long long)is.exits,
          (unsigned long long)is.trap_exits, (unsigned long long)ps.exits, (unsigned long long)ps.trap_exits);
    kvmf_program_destroy(p);
}

/* SIMD libraries choose their code from CPUID: XCR0 must enable what CPUID advertises (hardware KVM
 * takes XCR0 from KVM_SET_XCRS, PVM runs the guest with the host's), and the instructions must run. */
static void cpu_features(const char *guest)
{
    kvmf_program *p = load_guest(guest, NULL, NULL);
    CHECK(p != NULL, "%s boots: %s", guest, kvmf_last_error());
    if (!p)
        return;
    struct result r = get(p, "cpu");
    CHECK(r.error == KVMF_OK && strstr(r.body, "consistent=1"), "%s cpu: %s %s", guest, r.body, r.message);
    bool avx = strstr(r.body, "avx=1") != NULL, avx512 = strstr(r.body, "avx512f=1") != NULL;
    char ran[16];
    snprintf(ran, sizeof ran, "ran=%d", (avx ? 1 : 0) | (avx512 ? 2 : 0));
    CHECK(strstr(r.body, ran) != NULL, "%s cpu: the advertised vector instructions ran: %s", guest, r.body);
    printf("platform   %s on %s: %s\n", guest, on_pvm() ? "PVM" : "hardware KVM", r.body);
    kvmf_program_destroy(p);
}

/* Guest memory above 4 GiB covers the address KVM_SET_TSS_ADDR names (0xfffbd000, used only by old
 * Intel CPUs): programs with that much memory must still run. */
static void large_memory(void)
{
    struct kvmf_config c;
    kvmf_config_defaults(&c);
    c.max_memory = 6ULL << 30;
    kvmf_program *p = load_guest("platform", &c, NULL);
    CHECK(p != NULL, "a program with 6 GiB of memory boots: %s", kvmf_last_error());
    if (!p)
        return;
    struct result r = get(p, "calls 1");
    CHECK(r.error == KVMF_OK && !strcmp(r.body, "calls=1 debug=0"), "6 GiB program answers: %s %s", r.body,
          r.message);
    kvmf_program_destroy(p);
}

void test_platform(void)
{
    exits_per_call("platform");
    exits_per_call("platform-page");
    cpu_features("platform");
    large_memory();
}
