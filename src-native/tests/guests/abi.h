/*
 * abi.h — the test guests' API calls, written out by hand rather than taken from our SDK's
 * kvm_api.h: if these guests run, programs built against the VMOD's ABI do too. Only the
 * declarations are the SDK's (kvm_api.h with KVM_API_NO_DEFINITIONS); the numbers and structures
 * come from sdk/kvm_abi.h, whose compile-time checks pin every layout to the ABI.
 * Each call: `mov $NUMBER, %eax; out %eax, $0; ret`, arguments in rdi, rsi, rdx, rcx, r8, r9.
 */
#ifndef TEST_ABI_H
#define TEST_ABI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../sdk/kvm_abi.h"

#define ABI_STRING(x) #x
#define ABI_NUMBER(x) ABI_STRING(x)
#ifndef ABI_API_PAGE
#define ABI_CALL(name, number)                                                                  \
    __asm__(".global " #name "\n.type " #name ", @function\n" #name ":\n"                       \
            "  mov $" ABI_NUMBER(number) ", %eax\n  out %eax, $0\n  ret\n")
#else
/* The same guests built with -DABI_API_PAGE make every call through kvmfilter's own fast path: a
 * 4-byte store of the number to the API page (layout.h), written out by hand here too. */
#define ABI_CALL(name, number)                                                                  \
    __asm__(".global " #name "\n.type " #name ", @function\n" #name ":\n"                       \
            "  movl $" ABI_NUMBER(number) ", 0xff000\n  ret\n")
#endif

/* The prototypes are the SDK's (declarations only); the definitions below are this file's own. */
#define KVM_API_NO_DEFINITIONS
#include "../../sdk/kvm_api.h"
long sys_unknown_call(long a);

#ifdef ABI_IMPLEMENTATION
ABI_CALL(register_func, KVM_CALL_REGISTER_FUNC);
ABI_CALL(wait_for_requests, KVM_CALL_WAIT_FOR_REQUESTS);
ABI_CALL(wait_for_requests_paused, KVM_CALL_WAIT_FOR_REQUESTS_PAUSED);
ABI_CALL(wait_for_socket_events_paused, KVM_CALL_WAIT_FOR_REQUESTS_PAUSED);
ABI_CALL(sys_sockets_write, KVM_CALL_SOCKETS_WRITE);
ABI_CALL(sys_set_cacheable, KVM_CALL_SET_CACHEABLE);
ABI_CALL(sys_backend_response, KVM_CALL_BACKEND_RESPONSE);
ABI_CALL(begin_streaming_response, KVM_CALL_BEGIN_STREAMING_RESPONSE);
ABI_CALL(sys_http_append, KVM_CALL_HTTP_APPEND);
ABI_CALL(sys_http_set, KVM_CALL_HTTP_SET);
ABI_CALL(sys_http_find, KVM_CALL_HTTP_FIND);
ABI_CALL(sys_http_method, KVM_CALL_HTTP_METHOD);
ABI_CALL(shared_memory_area, KVM_CALL_SHARED_MEMORY_AREA);
ABI_CALL(sys_make_ephemeral, KVM_CALL_MAKE_EPHEMERAL);
ABI_CALL(sys_is_storage, KVM_CALL_IS_STORAGE);
ABI_CALL(sys_storage_allow, KVM_CALL_STORAGE_ALLOW);
ABI_CALL(storage_callv, KVM_CALL_STORAGE_CALLV);
ABI_CALL(storage_return, KVM_CALL_STORAGE_RETURN);
ABI_CALL(storage_noreturn, KVM_CALL_STORAGE_NORETURN);
ABI_CALL(sys_storage_task, KVM_CALL_STORAGE_TASK);
ABI_CALL(stop_storage_task, KVM_CALL_STOP_STORAGE_TASK);
ABI_CALL(sys_regex_compile, KVM_CALL_REGEX_COMPILE);
ABI_CALL(sys_regex_free, KVM_CALL_REGEX_FREE);
ABI_CALL(sys_regex_match, KVM_CALL_REGEX_MATCH);
ABI_CALL(sys_regex_subst, KVM_CALL_REGEX_SUBST);
ABI_CALL(sys_regex_copyto, KVM_CALL_REGEX_COPYTO);
ABI_CALL(get_meminfo, KVM_CALL_GET_MEMINFO);
ABI_CALL(sys_fetch, KVM_CALL_FETCH);
ABI_CALL(sys_request, KVM_CALL_SELF_REQUEST);
ABI_CALL(multiprocess, KVM_CALL_MULTIPROCESS);
ABI_CALL(multiprocess_array, KVM_CALL_MULTIPROCESS_ARRAY);
ABI_CALL(multiprocess_clone, KVM_CALL_MULTIPROCESS_CLONE);
ABI_CALL(multiprocess_wait, KVM_CALL_MULTIPROCESS_WAIT);
ABI_CALL(sys_log, KVM_CALL_LOG);
ABI_CALL(sys_is_debug, KVM_CALL_IS_DEBUG);
ABI_CALL(sys_breakpoint, KVM_CALL_BREAKPOINT);
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
