// cgo_handler — a Go program in the VMOD's style, through cgo and the C SDK (kvm_api.h): its GET handler is a Go
// function exported to C and registered with register_func, and wait_for_requests() freezes the program with its
// state; every request starts from that state, with a handler call that runs below the frozen stack (where cgo's
// runtime expects its callbacks). It answers the request's URL and argument, and how often it has seen that URL.
//
//	cd src-native/sdk/go && CGO_ENABLED=1 go build -ldflags '-linkmode external -extldflags -static' \
//	    -o cgo_handler ./examples/cgo_handler
//	kvmrun --max-memory 1024 --arg hello cgo_handler
package main

// #cgo CFLAGS: -O2 -I${SRCDIR}/../../..
// #include <stdlib.h>
// #include "kvm_api.h"
// extern void on_get(char *url, char *arg);
// static void serve(void) { kvm_set_get_handler((kvm_get_handler)on_get); wait_for_requests(); }
// static void respond(int status, const char *type, const char *body, size_t len) {
//     sys_backend_response((int16_t)status, type, strlen(type), body, len, NULL);
// }
import "C"
import (
	"fmt"
	"os"
	"unsafe"
)

var seen = map[string]int{}

//export on_get
func on_get(url *C.char, arg *C.char) {
	u := C.GoString(url)
	seen[u]++ // the frozen map: every request starts from initialisation's
	body := C.CString(fmt.Sprintf("cgo handler: %s %s %d", u, C.GoString(arg), seen[u]))
	ctype := C.CString("text/plain")
	C.respond(200, ctype, body, C.strlen(body))
	C.free(unsafe.Pointer(body)) // (not reached: the response ends the request)
}

func main() {
	if os.Getenv("KVM_NAME") == "" {
		fmt.Println("cgo_handler runs in kvmfilter's sandbox (kvmrun); natively it only says so")
		return
	}
	C.serve()
}
