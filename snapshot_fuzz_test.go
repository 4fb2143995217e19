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
// one of the documented errors (or a table) and never panic. (What reading
// allocates is TestLoad_LyingLengthsAllocateLittle's; what decoding
// allocates is the codec's, see the package's format notes.) The seeds in
// testdata/fuzz/FuzzLoad are valid snapshots and damaged ones.
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

// withPayload builds a snapshot of a Set[string, int] whose single frame
// holds payload and claims n objects, with every checksum valid: what a
// hostile writer that computes xxhash can produce.
func withPayload(t testing.TB, payload []byte, n uint32) []byte {
	s, err := ets.NewSet[string, int]()
	require.NoError(t, err)
	empty := saved(t, s)
	require.NoError(t, s.Drop())
	hn := int(binary.LittleEndian.Uint32(empty[10:]))
	out := patch(empty[:18+hn+8], func(_, f []byte) { binary.LittleEndian.PutUint64(f[10:], uint64(n)) })
	body := func(n, size uint32) []byte {
		var fh [12]byte
		binary.LittleEndian.PutUint32(fh[0:], n)
		binary.LittleEndian.PutUint32(fh[4:], size)
		binary.LittleEndian.PutUint32(fh[8:], uint32(xxhash.Sum64(fh[:8])))
		return fh[:]
	}
	var b []byte
	if n > 0 {
		b = append(b, body(n, uint32(len(payload)))...)
		b = append(b, payload...)
		b = binary.LittleEndian.AppendUint64(b, xxhash.Sum64(payload))
	}
	b = append(b, body(0, 0)...)
	b = binary.LittleEndian.AppendUint64(b, uint64(n))
	b = binary.LittleEndian.AppendUint64(b, xxhash.Sum64(b))
	return append(out, b...)
}

// FuzzLoadPayload gets past the checksums: it feeds arbitrary frame
// payloads, wrapped in a snapshot whose checksums are all valid, to the
// codec (gob). Load must return a table or a documented error.
func FuzzLoadPayload(f *testing.F) {
	s, _ := ets.NewSet[string, int]()
	for i := range 5 {
		_ = s.Insert("k"+strconv.Itoa(i), i)
	}
	data := saved(f, s)
	_ = s.Drop()
	hn := int(binary.LittleEndian.Uint32(data[10:]))
	frame := data[18+hn+8:]
	size := binary.LittleEndian.Uint32(frame[4:])
	f.Add(frame[12:12+size], uint16(5))
	f.Add([]byte{}, uint16(1))
	f.Fuzz(func(t *testing.T, payload []byte, n uint16) {
		if len(payload) == 0 && n > 0 {
			return // a frame with objects has a payload: that path is FuzzLoad's
		}
		loadAny[*ets.Set[string, int]](t, withPayload(t, payload, uint32(n)))
	})
}

func TestLoad_ChecksummedGarbagePayload(t *testing.T) {
	for _, p := range [][]byte{{1}, []byte("not gob at all"), bytes.Repeat([]byte{0xff}, 100)} {
		_, err := ets.Load[*ets.Set[string, int]](bytes.NewReader(withPayload(t, p, 3)))
		require.ErrorIs(t, err, ets.ErrSnapshotCodec)
	}
	good, err := ets.Load[*ets.Set[string, int]](bytes.NewReader(withPayload(t, nil, 0)))
	require.NoError(t, err)
	require.NoError(t, good.Drop())
}
