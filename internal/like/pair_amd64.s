#include "textflag.h"

// func indexPairSSE2(b []byte, c0, c1 byte) int
TEXT ·indexPairSSE2(SB), NOSPLIT, $0-40
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	MOVQ SI, DI
	MOVQ $0x0101010101010101, CX
	MOVBQZX c0+24(FP), AX
	IMULQ CX, AX
	MOVQ AX, X1
	PUNPCKLQDQ X1, X1
	MOVBQZX c1+25(FP), AX
	IMULQ CX, AX
	MOVQ AX, X2
	PUNPCKLQDQ X2, X2
	// Windows start at SI while SI+17 <= base+len, i.e. SI < base+len-16.
	LEAQ -16(DI)(BX*1), DX
loop:
	CMPQ SI, DX
	JGE tail
	MOVOU (SI), X3
	MOVOU 1(SI), X4
	PCMPEQB X1, X3
	PCMPEQB X2, X4
	PAND X4, X3
	PMOVMSKB X3, AX
	TESTL AX, AX
	JNZ found
	ADDQ $16, SI
	JMP loop
found:
	BSFL AX, AX
	SUBQ DI, SI
	ADDQ SI, AX
	MOVQ AX, ret+32(FP)
	RET
tail:
	SUBQ DI, SI
	NOTQ SI
	MOVQ SI, ret+32(FP)
	RET
