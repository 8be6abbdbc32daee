#include "textflag.h"

// func indexPairSSE2(b []byte, d int, c0, m0, c1, m1 byte) int
TEXT ·indexPairSSE2(SB), NOSPLIT, $0-48
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	MOVQ d+24(FP), R8
	MOVQ SI, DI
	MOVQ $0x0101010101010101, CX
	MOVBQZX c0+32(FP), AX
	IMULQ CX, AX
	MOVQ AX, X1
	PUNPCKLQDQ X1, X1
	MOVBQZX m0+33(FP), AX
	IMULQ CX, AX
	MOVQ AX, X5
	PUNPCKLQDQ X5, X5
	MOVBQZX c1+34(FP), AX
	IMULQ CX, AX
	MOVQ AX, X2
	PUNPCKLQDQ X2, X2
	MOVBQZX m1+35(FP), AX
	IMULQ CX, AX
	MOVQ AX, X6
	PUNPCKLQDQ X6, X6
	// Windows start at SI while SI+d+16 <= base+len, i.e. SI < base+len-d-15.
	LEAQ -15(DI)(BX*1), DX
	SUBQ R8, DX
loop:
	CMPQ SI, DX
	JGE tail
	MOVOU (SI), X3
	MOVOU (SI)(R8*1), X4
	POR X5, X3
	POR X6, X4
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
	MOVQ AX, ret+40(FP)
	RET
tail:
	SUBQ DI, SI
	NOTQ SI
	MOVQ SI, ret+40(FP)
	RET

// func indexEitherSSE2(b []byte, c0, c1 byte) int
TEXT ·indexEitherSSE2(SB), NOSPLIT, $0-40
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
	// Windows start at SI while SI+16 <= base+len, i.e. SI < base+len-15.
	LEAQ -15(DI)(BX*1), DX
either_loop:
	CMPQ SI, DX
	JGE either_tail
	MOVOU (SI), X3
	MOVOU X3, X4
	PCMPEQB X1, X3
	PCMPEQB X2, X4
	POR X4, X3
	PMOVMSKB X3, AX
	TESTL AX, AX
	JNZ either_found
	ADDQ $16, SI
	JMP either_loop
either_found:
	BSFL AX, AX
	SUBQ DI, SI
	ADDQ SI, AX
	MOVQ AX, ret+32(FP)
	RET
either_tail:
	SUBQ DI, SI
	NOTQ SI
	MOVQ SI, ret+32(FP)
	RET
