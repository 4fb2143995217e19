#include "textflag.h"

// func LoadFence()
TEXT ·LoadFence(SB), NOSPLIT|NOFRAME, $0-0
	DMB $0x9 // DMB ISHLD: earlier loads before later loads and stores
	RET

// func StoreFence()
TEXT ·StoreFence(SB), NOSPLIT|NOFRAME, $0-0
	DMB $0xa // DMB ISHST: earlier stores before later stores
	RET
