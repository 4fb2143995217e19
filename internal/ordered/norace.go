//go:build !race

package ordered

// optimisticReads lets Get and Has read a base node without its lock,
// validated by its sequence counter (see seqRWMutex).
const optimisticReads = true
