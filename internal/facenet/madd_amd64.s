#include "textflag.h"

// func maddAVX2(o, a, b *float32, n int)
// o[i] += a[i] * b[i] for i < n.
TEXT ·maddAVX2(SB), NOSPLIT, $0-32
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX

loop32:
	CMPQ CX, $32
	JLT  loop8
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VFMADD231PS (DX), Y4, Y0
	VFMADD231PS 32(DX), Y5, Y1
	VFMADD231PS 64(DX), Y6, Y2
	VFMADD231PS 96(DX), Y7, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	ADDQ $128, DX
	SUBQ $32, CX
	JMP  loop32

loop8:
	CMPQ CX, $8
	JLT  tail
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y4
	VFMADD231PS (DX), Y4, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP  loop8

tail:
	CMPQ CX, $0
	JEQ  done
	VMOVSS (DI), X0
	VMOVSS (SI), X4
	VFMADD231SS (DX), X4, X0
	VMOVSS X0, (DI)
	ADDQ $4, DI
	ADDQ $4, SI
	ADDQ $4, DX
	DECQ CX
	JMP  tail

done:
	VZEROUPPER
	RET

// func maxAVX2(o, a *float32, n int)
// o[i] = max(o[i], a[i]) for i < n.
TEXT ·maxAVX2(SB), NOSPLIT, $0-24
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ n+16(FP), CX

maxloop8:
	CMPQ CX, $8
	JLT  maxtail
	VMOVUPS (DI), Y0
	VMAXPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  maxloop8

maxtail:
	CMPQ CX, $0
	JEQ  maxdone
	VMOVSS (DI), X0
	VMAXSS (SI), X0, X0
	VMOVSS X0, (DI)
	ADDQ $4, DI
	ADDQ $4, SI
	DECQ CX
	JMP  maxtail

maxdone:
	VZEROUPPER
	RET

// func scaleMaxAVX2(x *float32, n int, s float32)
// x[i] = max(x[i], s*x[i]) for i < n: ReLU with s = 0, leaky ReLU with s = 0.1.
TEXT ·scaleMaxAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y2

smloop8:
	CMPQ CX, $8
	JLT  smtail
	VMOVUPS (DI), Y0
	VMULPS  Y0, Y2, Y1
	VMAXPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  smloop8

smtail:
	CMPQ CX, $0
	JEQ  smdone
	VMOVSS (DI), X0
	VMULSS X0, X2, X1
	VMAXSS X1, X0, X0
	VMOVSS X0, (DI)
	ADDQ $4, DI
	DECQ CX
	JMP  smtail

smdone:
	VZEROUPPER
	RET
