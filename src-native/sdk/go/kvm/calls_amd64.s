// The program API calls for Go (ABI0: arguments on the stack), each as the C SDK's: the number in EAX, the
// arguments in RDI, RSI, RDX, RCX, R8, R9, then `out %eax, $0` (bytes E7 00), which leaves the VM; the result
// comes back in RAX. The numbers are those of ../../kvm_abi.h.

#include "textflag.h"

// func waitForRequestsPaused(req *request)
TEXT ·waitForRequestsPaused(SB), NOSPLIT, $0-8
	MOVQ req+0(FP), DI
	MOVL $0x10002, AX
	BYTE $0xE7; BYTE $0x00
	RET

// func backendResponse(status int64, ctype *byte, ctypeLen int64, body *byte, bodyLen int64)
TEXT ·backendResponse(SB), NOSPLIT, $0-40
	MOVQ status+0(FP), DI
	MOVQ ctype+8(FP), SI
	MOVQ ctypeLen+16(FP), DX
	MOVQ body+24(FP), CX
	MOVQ bodyLen+32(FP), R8
	XORQ R9, R9
	MOVL $0x10010, AX
	BYTE $0xE7; BYTE $0x00
	RET

// func httpAppend(where int64, field *byte, fieldLen int64) int64
TEXT ·httpAppend(SB), NOSPLIT, $0-32
	MOVQ where+0(FP), DI
	MOVQ field+8(FP), SI
	MOVQ fieldLen+16(FP), DX
	MOVL $0x10020, AX
	BYTE $0xE7; BYTE $0x00
	MOVQ AX, ret+24(FP)
	RET

// func sysLog(text *byte, textLen int64)
TEXT ·sysLog(SB), NOSPLIT, $0-16
	MOVQ text+0(FP), DI
	MOVQ textLen+8(FP), SI
	MOVL $0x7F000, AX
	BYTE $0xE7; BYTE $0x00
	RET
