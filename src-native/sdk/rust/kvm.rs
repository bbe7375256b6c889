//! kvm.rs — the program API for Rust programs, our own small binding: the calls of kvm_api.h with the same numbers
//! (sdk/kvm_abi.h), each a tiny function `mov eax, N; out 0, eax; ret`, and safe wrappers around them.
//!
//! Use it from a program with `#[path = "PATH/TO/sdk/rust/kvm.rs"] mod kvm;` and build a static binary:
//!
//! ```text
//! rustc --edition 2021 -O -C target-feature=+crt-static -o program program.rs
//! ```
//!
//! The standard library works as it is (allocation, formatting, collections); the program has no threads, files
//! or network in the sandbox. As with C programs, `main()` initialises, registers its handlers and calls
//! [`wait_for_requests`]; every request then starts from that state. Outside the sandbox ([`is_sandboxed`] false)
//! the API must not be called: `out` is a privileged instruction there.
#![allow(dead_code)]

use std::arch::global_asm;
use std::ffi::CStr;
use std::os::raw::c_char;

// One stub per call. The names carry a prefix so that a program linking C code with kvm_api.h keeps both.
global_asm!(
    ".pushsection .text.kvm_rs_api,\"ax\",@progbits",
    ".global kvm_rs_register_func", "kvm_rs_register_func:", "mov eax, 0x10000", "out 0, eax", "ret",
    ".global kvm_rs_wait_for_requests", "kvm_rs_wait_for_requests:", "mov eax, 0x10001", "out 0, eax", "ret",
    ".global kvm_rs_set_cacheable", "kvm_rs_set_cacheable:", "mov eax, 0x10005", "out 0, eax", "ret",
    ".global kvm_rs_backend_response", "kvm_rs_backend_response:", "mov eax, 0x10010", "out 0, eax", "ret",
    ".global kvm_rs_http_append", "kvm_rs_http_append:", "mov eax, 0x10020", "out 0, eax", "ret",
    ".global kvm_rs_get_meminfo", "kvm_rs_get_meminfo:", "mov eax, 0x10A00", "out 0, eax", "ret",
    ".global kvm_rs_log", "kvm_rs_log:", "mov eax, 0x7F000", "out 0, eax", "ret",
    ".popsection",
);

/// A GET handler: the request's URL and the step's argument, as C strings.
pub type GetHandler = extern "C" fn(url: *const c_char, arg: *const c_char);
/// A POST handler: URL, argument, content type, and the body.
pub type PostHandler =
    extern "C" fn(url: *const c_char, arg: *const c_char, content_type: *const c_char, data: *const u8, len: usize);

/// The memory limits and use of the current request (get_meminfo).
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct MemInfo {
    pub max_memory: u64,
    pub max_request_memory: u64,
    pub request_memory_peak: u64,
    pub request_memory_now: u64,
}

extern "C" {
    fn kvm_rs_register_func(which: i32, handler: usize);
    fn kvm_rs_wait_for_requests();
    fn kvm_rs_set_cacheable(cached: bool, ttl_ms: i64, grace_ms: i64, keep_ms: i64) -> i64;
    fn kvm_rs_backend_response(status: i16, ctype: *const u8, ctype_len: usize, body: *const u8, body_len: usize,
                               extra: *const u8) -> !;
    fn kvm_rs_http_append(place: i32, field: *const u8, len: usize) -> i64;
    fn kvm_rs_get_meminfo(out: *mut MemInfo);
    fn kvm_rs_log(text: *const u8, len: usize);
}

const HANDLER_GET: i32 = 1;
const HANDLER_POST: i32 = 2;
const RESPONSE_HEADERS: i32 = 1;

/// Whether the program runs in the sandbox (the host sets KVM_NAME), so that the API may be called.
pub fn is_sandboxed() -> bool {
    std::env::var_os("KVM_NAME").is_some()
}

/// Registers the handler of requests without a body. During initialisation only.
pub fn set_get_handler(handler: GetHandler) {
    unsafe { kvm_rs_register_func(HANDLER_GET, handler as usize) }
}

/// Registers the handler of requests with a body. During initialisation only.
pub fn set_post_handler(handler: PostHandler) {
    unsafe { kvm_rs_register_func(HANDLER_POST, handler as usize) }
}

/// Ends initialisation: the VM is frozen here and every request starts from this state.
pub fn wait_for_requests() {
    unsafe { kvm_rs_wait_for_requests() }
}

/// Answers the request; it never returns (the host resets or reuses the VM).
pub fn respond(status: u16, content_type: &str, body: &[u8]) -> ! {
    unsafe {
        kvm_rs_backend_response(status as i16, content_type.as_ptr(), content_type.len(), body.as_ptr(), body.len(),
                                std::ptr::null())
    }
}

/// Adds a response header, "Name: value"; false when the host refused it.
pub fn append_header(field: &str) -> bool {
    unsafe { kvm_rs_http_append(RESPONSE_HEADERS, field.as_ptr(), field.len()) >= 0 }
}

/// Says how long the answer may be reused (sys_set_cacheable).
pub fn set_cacheable(cached: bool, ttl_ms: i64) {
    unsafe {
        kvm_rs_set_cacheable(cached, ttl_ms, 0, 0);
    }
}

/// The request's memory limits and use.
pub fn meminfo() -> MemInfo {
    let mut info = MemInfo::default();
    unsafe { kvm_rs_get_meminfo(&mut info) };
    info
}

/// A line in the program's log.
pub fn log(text: &str) {
    unsafe { kvm_rs_log(text.as_ptr(), text.len()) }
}

/// A C string from the host as text ("" when it is not UTF-8).
///
/// # Safety
/// `p` must be a NUL-terminated string the host passed to a handler.
pub unsafe fn text<'a>(p: *const c_char) -> &'a str {
    if p.is_null() {
        return "";
    }
    CStr::from_ptr(p).to_str().unwrap_or("")
}

/// A body from the host as bytes.
///
/// # Safety
/// `data` and `len` must be what the host passed to a POST handler.
pub unsafe fn bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if data.is_null() || len == 0 {
        return &[];
    }
    std::slice::from_raw_parts(data, len)
}
