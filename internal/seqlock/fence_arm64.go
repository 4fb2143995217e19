package seqlock

// Fenced: the lock-free reader and the writer call LoadFence and StoreFence.
const Fenced = true

// LoadFence orders the caller's earlier loads before its later loads: a
// lock-free reader calls it between its plain copy of a slot and its
// load of the counter that validates the copy. On arm64 an atomic load is a
// load-acquire, which orders only the loads after it, so without the fence
// the copy could be satisfied after the validating load, from a writer
// that had already moved the counter (Linux's read_seqcount_retry has the
// same barrier, smp_rmb).
//
//go:noescape
func LoadFence()

// StoreFence orders the caller's earlier stores before its later stores: a
// writer calls it after the compare-and-swap that makes the counter odd, so
// that no reader sees a store of the critical section without the odd
// counter. On arm64 the swap's store is a store-release, which orders only
// the stores before it (Linux's write_seqcount_begin: smp_wmb).
//
//go:noescape
func StoreFence()
