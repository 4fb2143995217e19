package ets_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strconv"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"

	"github.com/etsgo/ets"
)

// loadErrors are the errors Load may return for bad input.
var loadErrors = []error{ets.ErrSnapshotCorrupt, ets.ErrSnapshotTruncated, ets.ErrSnapshotVersion,
	ets.ErrSnapshotType, ets.ErrSnapshotCount, ets.ErrSnapshotCodec, ets.ErrNameTaken, ets.ErrInvalidOption}

func knownLoadError(err error) bool {
	for _, e := range loadErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func loadAny[T interface {
	ets.Table
	comparable
}](t *testing.T, data []byte) {
	tab, err := ets.Load[T](bytes.NewReader(data))
	var zero T
	if err != nil {
		if tab != zero {
			t.Fatalf("Load returned a table and %v", err)
		}
		if !knownLoadError(err) {
			t.Fatalf("Load: unexpected error %v", err)
		}
		return
	}
	if err := tab.Drop(); err != nil {
		t.Fatal(err)
	}
}

// FuzzLoad feeds arbitrary bytes to Load and SnapshotInfo: they must return
// one of the documented errors (or a table), never panic, and never allocate
// more than the input justifies. The seeds in testdata/fuzz/FuzzLoad are
// valid snapshots and damaged ones.
func FuzzLoad(f *testing.F) {
	s, _ := ets.NewSet[string, int]()
	for i := range 20 {
		_ = s.Insert("k"+strconv.Itoa(i), i)
	}
	var buf bytes.Buffer
	_ = ets.Save(&buf, s)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		loadAny[*ets.Set[string, int]](t, data)
		loadAny[*ets.Set[int64, int64]](t, data)
		_, _ = ets.SnapshotInfo(bytes.NewReader(data))
	})
}

// TestLoad_LyingLengthsAllocateLittle gives Load a valid header followed by
// a frame that claims a 1 GiB payload, and a header claiming 1 MiB of
// fields, each with valid checksums but no data behind them: Load must fail
// as truncated having allocated a small amount, not what was claimed.
func TestLoad_LyingLengthsAllocateLittle(t *testing.T) {
	s, err := ets.NewSet[int64, int64]()
	require.NoError(t, err)
	require.NoError(t, s.Insert(1, 1))
	data := saved(t, s)
	require.NoError(t, s.Drop())
	n := int(binary.LittleEndian.Uint32(data[10:]))
	hdr := data[:18+n+8]

	var fh [12]byte
	binary.LittleEndian.PutUint32(fh[0:], 1)
	binary.LittleEndian.PutUint32(fh[4:], 1<<30)
	binary.LittleEndian.PutUint32(fh[8:], uint32(xxhash.Sum64(fh[:8])))
	bigFrame := append(bytes.Clone(hdr), fh[:]...)
	bigFrame = append(bigFrame, make([]byte, 1000)...)

	bigHeader := bytes.Clone(data[:18])
	binary.LittleEndian.PutUint32(bigHeader[10:], 1<<20)
	binary.LittleEndian.PutUint32(bigHeader[14:], uint32(xxhash.Sum64(bigHeader[:14])))
	bigHeader = append(bigHeader, make([]byte, 1000)...)

	for name, in := range map[string][]byte{"frame": bigFrame, "header": bigHeader} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = ets.Load[*ets.Set[int64, int64]](bytes.NewReader(in))
		runtime.ReadMemStats(&after)
		require.ErrorIs(t, err, ets.ErrSnapshotTruncated, name)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(256<<10), "%s: allocated %d bytes", name, after.TotalAlloc-before.TotalAlloc)
	}
}
