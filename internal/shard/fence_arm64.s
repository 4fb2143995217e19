#include "textflag.h"

// func loadFence()
TEXT ·loadFence(SB), NOSPLIT|NOFRAME, $0-0
	DMB $0x9 // DMB ISHLD: earlier loads before later loads and stores
	RET

// func storeFence()
TEXT ·storeFence(SB), NOSPLIT|NOFRAME, $0-0
	DMB $0xa // DMB ISHST: earlier stores before later stores
	RET
