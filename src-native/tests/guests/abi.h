/*
 * abi.h — the TinyKVM VMOD program ABI written out by hand for the test guests, independent of
 * our SDK (src-native/sdk): if these guests run, programs built against the VMOD's ABI do too.
 * Each call: `mov $NUMBER, %eax; out %eax, $0; ret`, arguments in rdi, rsi, rdx, rcx, r8, r9.
 */
#ifndef TEST_ABI_H
#define TEST_ABI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef ABI_API_PAGE
#define ABI_CALL(name, number)                                                                  \
    __asm__(".global " #name "\n.type " #name ", @function\n" #name ":\n"                       \
            "  mov $" #number ", %eax\n  out %eax, $0\n  ret\n")
#else
/* The same guests built with -DABI_API_PAGE make every call through kvmfilter's own fast path: a
 * 4-byte store of the number to the API page (layout.h), written out by hand here too. */
#define ABI_CALL(name, number)                                                                  \
    __asm__(".global " #name "\n.type " #name ", @function\n" #name ":\n"                       \
            "  movl $" #number ", 0x3ff000\n  ret\n")
#endif

struct kvm_request_header { const char *field; uint32_t field_colon; uint32_t field_len; };
struct kvm_request {
    const char *method, *url, *arg, *content_type;
    uint16_t method_len, url_len, arg_len, content_type_len;
    const uint8_t *content;
    size_t content_len;
    struct kvm_request_header *headers;
    uint16_t num_headers, info_flags;
    uint32_t reserved0;
    uint64_t prng[2];
    uint64_t reserved1[2];
};
struct ResponseHeader { const char *field; size_t field_len; };
struct BackendResponseExtra {
    const struct ResponseHeader *headers;
    uint16_t num_headers;
    bool cached;
    float ttl, grace, keep;
    uint64_t reserved[4];
};
struct meminfo { uint64_t max_memory, max_reqmem, reqmem_upper, reqmem_current; };

void register_func(int which, void *fn);
void wait_for_requests(void);
void wait_for_requests_paused(struct kvm_request *req);
long sys_set_cacheable(bool cached, long ttl_ms, long grace_ms, long keep_ms);
void sys_backend_response(int16_t status, const void *ctype, size_t ctype_len, const void *body, size_t body_len,
                          const struct BackendResponseExtra *extra);
long sys_http_append(int where, const char *field, size_t len);
long sys_http_set(int where, const char *field, size_t len);
unsigned sys_http_find(int where, const char *key, size_t key_len, char *out, size_t out_len);
unsigned long sys_http_method(char *out, size_t out_len);
void get_meminfo(struct meminfo *out);
void sys_log(const char *text, size_t len);
int sys_is_debug(void);
void sys_breakpoint(void);
long sys_unknown_call(long a);

#ifdef ABI_IMPLEMENTATION
ABI_CALL(register_func, 0x10000);
ABI_CALL(wait_for_requests, 0x10001);
ABI_CALL(wait_for_requests_paused, 0x10002);
ABI_CALL(sys_set_cacheable, 0x10005);
ABI_CALL(sys_backend_response, 0x10010);
ABI_CALL(sys_http_append, 0x10020);
ABI_CALL(sys_http_set, 0x10021);
ABI_CALL(sys_http_find, 0x10022);
ABI_CALL(sys_http_method, 0x10023);
ABI_CALL(get_meminfo, 0x10A00);
ABI_CALL(sys_log, 0x7F000);
ABI_CALL(sys_is_debug, 0x7FDEB);
ABI_CALL(sys_breakpoint, 0x7F7F7);
ABI_CALL(sys_unknown_call, 0x10777);
#endif

static inline void respond(int status, const char *ctype, const void *body, size_t len)
{
    sys_backend_response((int16_t)status, ctype, strlen(ctype), body, len, NULL);
}
static inline void respond_text(int status, const char *text)
{
    respond(status, "text/plain", text, strlen(text));
}
#endif
