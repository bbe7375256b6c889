/*
 * kvm_abi.h — the program ABI of kvmfilter, the same as the Varnish TinyKVM VMOD's: call numbers, handler and
 * header-set numbers, and the layout of every structure guest and host exchange. One file for both sides: the
 * SDK (kvm_api.h), the sandbox core and the test guests include it, and every layout is checked here at compile
 * time against the offsets the ABI fixes, so neither side can drift.
 *
 * A guest includes it as it is (through kvm_api.h). The host defines KVM_ABI_HOST first: guest pointers are then
 * plain 64-bit guest addresses (uint64_t) and booleans plain bytes, with the same layout.
 */
#ifndef KVM_ABI_H
#define KVM_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef KVM_ABI_HOST
#define KVM_ABI_PTR(type) uint64_t
#define KVM_ABI_BOOL uint8_t /* any byte a guest wrote: a host bool may only hold 0 or 1 */
#else
#define KVM_ABI_PTR(type) type
#define KVM_ABI_BOOL bool
#endif

#ifdef __cplusplus
#define KVM_ABI_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define KVM_ABI_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* ---- call numbers (eax at the call); they never change ------------------------------------------------------ */

#define KVM_CALL_REGISTER_FUNC 0x10000
#define KVM_CALL_WAIT_FOR_REQUESTS 0x10001
#define KVM_CALL_WAIT_FOR_REQUESTS_PAUSED 0x10002
#define KVM_CALL_SET_CACHEABLE 0x10005
#define KVM_CALL_BACKEND_RESPONSE 0x10010
#define KVM_CALL_BEGIN_STREAMING_RESPONSE 0x10012
#define KVM_CALL_HTTP_APPEND 0x10020
#define KVM_CALL_HTTP_SET 0x10021
#define KVM_CALL_HTTP_FIND 0x10022
#define KVM_CALL_HTTP_METHOD 0x10023
#define KVM_CALL_STORAGE_RETURN 0x10011
#define KVM_CALL_STORAGE_NORETURN 0x10013
#define KVM_CALL_SOCKETS_WRITE 0x10500 /* wait_for_socket_events_paused is 0x10002, in a connection's VM */
#define KVM_CALL_SHARED_MEMORY_AREA 0x10700
#define KVM_CALL_MULTIPROCESS 0x10710
#define KVM_CALL_MULTIPROCESS_ARRAY 0x10711
#define KVM_CALL_MULTIPROCESS_CLONE 0x10712
#define KVM_CALL_MULTIPROCESS_WAIT 0x10713
#define KVM_CALL_MAKE_EPHEMERAL 0x10703
#define KVM_CALL_IS_STORAGE 0x10706
#define KVM_CALL_STORAGE_ALLOW 0x10707
#define KVM_CALL_STORAGE_CALLV 0x10708
#define KVM_CALL_STORAGE_TASK 0x10709
#define KVM_CALL_STOP_STORAGE_TASK 0x1070A
#define KVM_CALL_REGEX_COMPILE 0x10030
#define KVM_CALL_REGEX_FREE 0x10031
#define KVM_CALL_REGEX_MATCH 0x10032
#define KVM_CALL_REGEX_SUBST 0x10033
#define KVM_CALL_REGEX_COPYTO 0x10035
#define KVM_CALL_GET_MEMINFO 0x10A00
#define KVM_CALL_FETCH 0x20000
#define KVM_CALL_SELF_REQUEST 0x20001
#define KVM_CALL_LOG 0x7F000
#define KVM_CALL_IS_DEBUG 0x7FDEB
#define KVM_CALL_BREAKPOINT 0x7F7F7

/* The `which` values of register_func(). */
enum {
	KVM_HANDLER_FRONTEND = 0, /* the VMOD's frontend handler: answers like KVM_HANDLER_REQUEST when that is absent */
	KVM_HANDLER_GET = 1,
	KVM_HANDLER_POST = 2,
	KVM_HANDLER_REQUEST = 3,
	KVM_HANDLER_STREAM_POST = 4,
	KVM_HANDLER_ERROR = 5,
	KVM_HANDLER_LIVE_UPDATE_SERIALIZE = 6,
	KVM_HANDLER_LIVE_UPDATE_RESTORE = 7,
	KVM_HANDLER_SOCKET_PREPARE = 12, /* void (int): serves a taken-over connection (wait_for_socket_events_paused) */
};

/* The `where` values of the header calls. 4 and 5 are accepted as aliases of 0 and 1. */
enum {
	KVM_HTTP_REQUEST = 0,  /* the request's headers */
	KVM_HTTP_RESPONSE = 1, /* the response being built */
};

/* Bit in kvm_request.info_flags: the request is a warm-up request sent by the host before real traffic. */
#define KVM_REQUEST_WARMUP 0x1

/* ---- structures ------------------------------------------------------------------------------------------- */

/* One request header as `Name: value`, not NUL-terminated. */
struct kvm_request_header {
	KVM_ABI_PTR(const char *) field; /* the whole "Name: value" text */
	uint32_t field_colon;            /* index of ':' in field */
	uint32_t field_len;              /* length of the whole text */
};

/* A request as seen by a generic handler or by wait_for_requests_paused(). Strings are NUL-terminated; the
 * lengths exclude the NUL. */
struct kvm_request {
	KVM_ABI_PTR(const char *) method;
	KVM_ABI_PTR(const char *) url;
	KVM_ABI_PTR(const char *) arg;
	KVM_ABI_PTR(const char *) content_type;
	uint16_t method_len;
	uint16_t url_len;
	uint16_t arg_len;
	uint16_t content_type_len;
	KVM_ABI_PTR(const uint8_t *) content; /* request body, may be NULL */
	uint64_t content_len;
	KVM_ABI_PTR(struct kvm_request_header *) headers;
	uint16_t num_headers;
	uint16_t info_flags; /* KVM_REQUEST_* bits */
	uint32_t reserved0;
	uint64_t prng[2]; /* fresh random bits from the host for this request */
	uint64_t reserved1[2];
};

/* One response header "Name: value", not NUL-terminated. */
struct ResponseHeader {
	KVM_ABI_PTR(const char *) field;
	uint64_t field_len;
};

/* Optional extras for sys_backend_response(): headers and caching hints (seconds). Zero-initialise it. */
struct BackendResponseExtra {
	KVM_ABI_PTR(const struct ResponseHeader *) headers;
	uint16_t num_headers;
	KVM_ABI_BOOL cached; /* the host may cache the response */
	float ttl;
	float grace;
	float keep;
	uint64_t reserved[4]; /* must be zero */
};

/* Memory limits and usage, in bytes. */
struct meminfo {
	uint64_t max_memory;     /* the VM's memory limit */
	uint64_t max_reqmem;     /* how much a request may dirty beyond the frozen state */
	uint64_t reqmem_upper;   /* high-water mark of request memory */
	uint64_t reqmem_current; /* request memory in use now */
};

/* What a streaming callback returns (in rax:rdx): the next piece of the body, 1 to `max` bytes. */
struct streaming_content {
	KVM_ABI_PTR(const void *) data;
	uint64_t len;
};

/* One buffer handed to a storage function by storage_callv(): copied into storage, so `data` points there. */
struct virtbuffer {
	KVM_ABI_PTR(const void *) data;
	uint64_t len;
};

/* The shared memory area, [ptr, end): returned in rax:rdx. Both 0 when the program has none. */
struct shared_memory_info {
	uint64_t ptr;
	uint64_t end;
};

/* sys_fetch() and sys_request(): one outbound request (in) and its answer (out). Zero-initialise it. */
struct curl_op {
	uint32_t status;                       /* out: the answer's HTTP status */
	uint32_t post_buflen;                  /* in: the POST body's length */
	KVM_ABI_PTR(const void *) post_buffer; /* in: a POST when not NULL, else a GET */
	KVM_ABI_PTR(char *) headers;           /* out: the answer's header lines, "Name: value\r\n" each, in memory the
	                                          host maps into the program; in: when headers and headers_length are both
	                                          set, a buffer the lines are written into instead (cut to fit) */
	uint32_t headers_length;               /* out: their length */
	uint32_t unused1;
	KVM_ABI_PTR(void *) content;           /* out: the body, in memory the host maps into the program (it counts
	                                          against the request's memory; munmap gives it back) */
	uint32_t content_length;               /* out: its length */
	uint32_t ctlen;                        /* out: the length of ctype */
	char ctype[128];                       /* out: the answer's Content-Type, NUL-terminated (cut to 127 bytes) */
};

/* Extra request header lines of sys_fetch(): "Name: value", not NUL-terminated; a NULL ptr ends the list. */
struct curl_fields {
	KVM_ABI_PTR(const char *) ptr[12];
	uint16_t len[12];
};

/* Options of sys_fetch(). Only follow_location is used; the others are accepted and ignored (interface and host
 * verification are the host's policy, not the program's). */
struct curl_options {
	KVM_ABI_PTR(const char *) interface;
	KVM_ABI_PTR(const char *) unused;
	int8_t follow_location; /* non-zero: follow redirects (each hop under the same policy) */
	int8_t dummy_fetch;
	int8_t tcp_fast_open;
	int8_t dont_verify_host;
	uint32_t unused_opt5;
};

/* What a taken-over connection's VM is told, and what it writes (the VMOD's names). */
enum kvm_socket_event_type {
	SOCKET_CONNECT = 0,    /* remote: the client's address; arg: what the host gave (the request's path) */
	SOCKET_READ = 1,       /* data, data_len: bytes the client sent */
	SOCKET_WRITABLE = 2,   /* the connection takes more output */
	SOCKET_DISCONNECT = 3, /* remote: why. Given to sys_sockets_write: close the connection after its data */
};

/* One event of a taken-over connection (wait_for_socket_events_paused), or one write (sys_sockets_write). */
struct kvm_socket_event {
	int32_t fd;                        /* the connection's descriptor: write() and close() take it too */
	int32_t event;                     /* enum kvm_socket_event_type */
	KVM_ABI_PTR(const char *) remote;
	KVM_ABI_PTR(const char *) arg;
	KVM_ABI_PTR(const uint8_t *) data;
	uint64_t data_len;
};

/* ---- the layouts the ABI fixes (x86-64) ------------------------------------------------------------------------ */

KVM_ABI_STATIC_ASSERT(sizeof(struct kvm_request_header) == 16, "kvm_request_header is 16 bytes");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request_header, field_colon) == 8, "field_colon @8");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request_header, field_len) == 12, "field_len @12");

KVM_ABI_STATIC_ASSERT(sizeof(struct kvm_request) == 104, "kvm_request is 104 bytes");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, url) == 8, "url @8");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, arg) == 16, "arg @16");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, content_type) == 24, "content_type @24");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, method_len) == 32, "method_len @32");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, url_len) == 34, "url_len @34");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, arg_len) == 36, "arg_len @36");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, content_type_len) == 38, "content_type_len @38");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, content) == 40, "content @40");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, content_len) == 48, "content_len @48");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, headers) == 56, "headers @56");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, num_headers) == 64, "num_headers @64");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, info_flags) == 66, "info_flags @66");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, reserved0) == 68, "reserved0 @68");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, prng) == 72, "prng @72");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_request, reserved1) == 88, "reserved1 @88");

KVM_ABI_STATIC_ASSERT(sizeof(struct ResponseHeader) == 16, "ResponseHeader is 16 bytes");
KVM_ABI_STATIC_ASSERT(offsetof(struct ResponseHeader, field_len) == 8, "field_len @8");

KVM_ABI_STATIC_ASSERT(sizeof(struct BackendResponseExtra) == 56, "BackendResponseExtra is 56 bytes");
KVM_ABI_STATIC_ASSERT(offsetof(struct BackendResponseExtra, num_headers) == 8, "num_headers @8");
KVM_ABI_STATIC_ASSERT(offsetof(struct BackendResponseExtra, cached) == 10, "cached @10");
KVM_ABI_STATIC_ASSERT(offsetof(struct BackendResponseExtra, ttl) == 12, "ttl @12");
KVM_ABI_STATIC_ASSERT(offsetof(struct BackendResponseExtra, grace) == 16, "grace @16");
KVM_ABI_STATIC_ASSERT(offsetof(struct BackendResponseExtra, keep) == 20, "keep @20");
KVM_ABI_STATIC_ASSERT(offsetof(struct BackendResponseExtra, reserved) == 24, "reserved @24");

KVM_ABI_STATIC_ASSERT(sizeof(struct meminfo) == 32, "meminfo is 32 bytes");
KVM_ABI_STATIC_ASSERT(sizeof(struct streaming_content) == 16, "streaming_content is 16 bytes (two registers)");
KVM_ABI_STATIC_ASSERT(sizeof(struct virtbuffer) == 16 && offsetof(struct virtbuffer, len) == 8, "virtbuffer: data @0, len @8");
KVM_ABI_STATIC_ASSERT(sizeof(struct shared_memory_info) == 16, "shared_memory_info is 16 bytes (two registers)");

KVM_ABI_STATIC_ASSERT(sizeof(struct curl_op) == 176, "curl_op is 176 bytes");
KVM_ABI_STATIC_ASSERT(offsetof(struct curl_op, post_buflen) == 4, "post_buflen @4");
KVM_ABI_STATIC_ASSERT(offsetof(struct curl_op, post_buffer) == 8, "post_buffer @8");
KVM_ABI_STATIC_ASSERT(offsetof(struct curl_op, headers) == 16, "headers @16");
KVM_ABI_STATIC_ASSERT(offsetof(struct curl_op, headers_length) == 24, "headers_length @24");
KVM_ABI_STATIC_ASSERT(offsetof(struct curl_op, content) == 32, "content @32");
KVM_ABI_STATIC_ASSERT(offsetof(struct curl_op, content_length) == 40, "content_length @40");
KVM_ABI_STATIC_ASSERT(offsetof(struct curl_op, ctlen) == 44, "ctlen @44");
KVM_ABI_STATIC_ASSERT(offsetof(struct curl_op, ctype) == 48, "ctype @48");
KVM_ABI_STATIC_ASSERT(sizeof(struct curl_fields) == 120 && offsetof(struct curl_fields, len) == 96,
                      "curl_fields: ptr[12] @0, len[12] @96");
KVM_ABI_STATIC_ASSERT(sizeof(struct curl_options) == 24 && offsetof(struct curl_options, follow_location) == 16,
                      "curl_options: follow_location @16");

KVM_ABI_STATIC_ASSERT(sizeof(struct kvm_socket_event) == 40, "kvm_socket_event is 40 bytes");
KVM_ABI_STATIC_ASSERT(offsetof(struct kvm_socket_event, event) == 4 && offsetof(struct kvm_socket_event, remote) == 8 &&
                      offsetof(struct kvm_socket_event, arg) == 16 && offsetof(struct kvm_socket_event, data) == 24 &&
                      offsetof(struct kvm_socket_event, data_len) == 32,
                      "kvm_socket_event: event @4, remote @8, arg @16, data @24, data_len @32");

#endif /* KVM_ABI_H */
