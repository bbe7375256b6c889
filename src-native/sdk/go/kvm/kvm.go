// Package kvm is the kvmfilter program API for Go, without cgo: each call is a few lines of assembly
// (calls_amd64.s) that leave the VM the way the C SDK's do. A Go program serves requests in the event-loop style
// of wait_for_requests_paused: NextRequest pauses the VM until a request comes and returns it, and Respond answers
// it. The Go runtime's threads, garbage collector and timers run in the sandbox (one thread at a time); give the
// program a max_memory of at least 1 GiB, the address space its runtime reserves (untouched memory costs nothing).
package kvm

import (
	"errors"
	"os"
	"unsafe"
)

// Request is one request, copied out of the VM's memory (Body is not copied: it is valid until Respond).
type Request struct {
	Method, URL, Arg, ContentType string
	Body                          []byte
	Headers                       []string // "Name: value" each
	Warmup                        bool     // the host's own warm-up request, not a client's
}

// request is struct kvm_request of kvm_abi.h (104 bytes).
type request struct {
	method, url, arg, contentType       *byte
	methodLen, urlLen, argLen, ctypeLen uint16
	content                             *byte
	contentLen                          uint64
	headers                             *requestHeader
	numHeaders, infoFlags               uint16
	reserved0                           uint32
	prng                                [2]uint64
	reserved1                           [2]uint64
}

// requestHeader is struct kvm_request_header (16 bytes).
type requestHeader struct {
	field                *byte
	fieldColon, fieldLen uint32
}

//go:noescape
func waitForRequestsPaused(req *request)

//go:noescape
func backendResponse(status int64, ctype *byte, ctypeLen int64, body *byte, bodyLen int64)

//go:noescape
func httpAppend(where int64, field *byte, fieldLen int64) int64

//go:noescape
func sysLog(text *byte, textLen int64)

// Sandboxed reports whether the program runs in a kvmfilter (or TinyKVM) VM; outside one, every other function
// of this package would crash the process (`out` is privileged).
func Sandboxed() bool {
	return os.Getenv("KVM_NAME") != ""
}

var current request

func text(p *byte, n uint16) string {
	if n == 0 {
		return ""
	}
	return string(unsafe.Slice(p, int(n)))
}

// NextRequest pauses the VM until the next request and returns it. The first call ends the program's
// initialisation: the VM is frozen there, and every request starts from that state.
func NextRequest() *Request {
	waitForRequestsPaused(&current)
	r := &Request{
		Method:      text(current.method, current.methodLen),
		URL:         text(current.url, current.urlLen),
		Arg:         text(current.arg, current.argLen),
		ContentType: text(current.contentType, current.ctypeLen),
		Warmup:      current.infoFlags&1 != 0,
	}
	if current.content != nil && current.contentLen > 0 {
		r.Body = unsafe.Slice(current.content, int(current.contentLen))
	}
	if current.headers != nil {
		for _, h := range unsafe.Slice(current.headers, int(current.numHeaders)) {
			r.Headers = append(r.Headers, string(unsafe.Slice(h.field, int(h.fieldLen))))
		}
	}
	return r
}

var empty = []byte{0}

func pointer(b []byte) *byte {
	if len(b) == 0 {
		return &empty[0]
	}
	return &b[0]
}

// Respond answers the current request; the VM does not come back from it (the next request starts afresh).
func Respond(status int, contentType string, body []byte) {
	ctype := []byte(contentType)
	backendResponse(int64(status), pointer(ctype), int64(len(ctype)), pointer(body), int64(len(body)))
	panic("kvm: sys_backend_response returned")
}

// AddHeader adds a response header field, "Name: value".
func AddHeader(field string) error {
	b := []byte(field)
	if httpAppend(1, pointer(b), int64(len(b))) < 0 {
		return errors.New("kvm: the host refused the header " + field)
	}
	return nil
}

// Log writes one line to the host's log of the request.
func Log(line string) {
	b := []byte(line)
	sysLog(pointer(b), int64(len(b)))
}
