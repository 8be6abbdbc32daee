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

// func indexPairAVX2(b []byte, d int, c0, m0, c1, m1 byte) int
TEXT ·indexPairAVX2(SB), NOSPLIT, $0-48
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	MOVQ d+24(FP), R8
	MOVQ SI, DI
	VPBROADCASTB c0+32(FP), Y1
	VPBROADCASTB m0+33(FP), Y5
	VPBROADCASTB c1+34(FP), Y2
	VPBROADCASTB m1+35(FP), Y6
	// 64 starts per step while SI+d+64 <= base+len, i.e.
	// SI < base+len-d-63; then 32 while SI < base+len-d-31.
	LEAQ -63(DI)(BX*1), DX
	SUBQ R8, DX
loop64:
	CMPQ SI, DX
	JGE tail32
	VPOR (SI), Y5, Y3
	VPOR (SI)(R8*1), Y6, Y4
	VPCMPEQB Y1, Y3, Y3
	VPCMPEQB Y2, Y4, Y4
	VPAND Y4, Y3, Y3
	VPOR 32(SI), Y5, Y7
	VPOR 32(SI)(R8*1), Y6, Y8
	VPCMPEQB Y1, Y7, Y7
	VPCMPEQB Y2, Y8, Y8
	VPAND Y8, Y7, Y7
	VPOR Y3, Y7, Y9
	VPTEST Y9, Y9
	JNZ found64
	ADDQ $64, SI
	JMP loop64
found64:
	VPMOVMSKB Y3, AX
	TESTL AX, AX
	JNZ found
	VPMOVMSKB Y7, AX
	ADDQ $32, SI
	JMP found
tail32:
	ADDQ $32, DX
	CMPQ SI, DX
	JGE tail
	VPOR (SI), Y5, Y3
	VPOR (SI)(R8*1), Y6, Y4
	VPCMPEQB Y1, Y3, Y3
	VPCMPEQB Y2, Y4, Y4
	VPAND Y4, Y3, Y3
	VPMOVMSKB Y3, AX
	TESTL AX, AX
	JNZ found
	ADDQ $32, SI
tail:
	VZEROUPPER
	SUBQ DI, SI
	NOTQ SI
	MOVQ SI, ret+40(FP)
	RET
found:
	VZEROUPPER
	BSFL AX, AX
	SUBQ DI, SI
	ADDQ SI, AX
	MOVQ AX, ret+40(FP)
	RET

// func lastIndexByteSSE2(b []byte, c byte) int
TEXT ·lastIndexByteSSE2(SB), NOSPLIT, $0-40
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), BX
	MOVBQZX c+24(FP), AX
	MOVQ $0x0101010101010101, CX
	IMULQ CX, AX
	MOVQ AX, X1
	PUNPCKLQDQ X1, X1
	LEAQ (SI)(BX*1), DI // end of the unchecked bytes
loop:
	LEAQ -16(DI), DX
	CMPQ DX, SI
	JLT tail
	MOVOU (DX), X2
	PCMPEQB X1, X2
	PMOVMSKB X2, AX
	TESTL AX, AX
	JNZ found
	MOVQ DX, DI
	JMP loop
found:
	BSRL AX, AX
	SUBQ SI, DX
	ADDQ DX, AX
	MOVQ AX, ret+32(FP)
	RET
tail:
	SUBQ SI, DI
	NOTQ DI
	MOVQ DI, ret+32(FP)
	RET
