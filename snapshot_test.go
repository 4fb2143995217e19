package ets_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"

	"github.com/etsgo/ets"
)

type point struct{ X, Y int }

// saved saves t and returns the snapshot's bytes.
func saved(t testing.TB, tab ets.Table, opts ...ets.SnapshotOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, ets.Save(&buf, tab, opts...))
	return buf.Bytes()
}

func roundTrip[K comparable, V any](t *testing.T, n int, gen func(i int) (K, V)) {
	src, err := ets.NewSet[K, V]()
	require.NoError(t, err)
	defer src.Drop()
	want := make(map[K]V, n)
	for i := range n {
		k, v := gen(i)
		require.NoError(t, src.Insert(k, v))
		want[k] = v
	}
	data := saved(t, src)
	info, err := ets.SnapshotInfo(bytes.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, n, info.Count)
	require.Equal(t, ets.KindSet, info.Kind)

	got, err := ets.Load[*ets.Set[K, V]](bytes.NewReader(data))
	require.NoError(t, err)
	defer got.Drop()
	require.Equal(t, n, got.Size())
	seen := make(map[K]V, n)
	for k, v := range got.All() {
		seen[k] = v
	}
	require.Equal(t, want, seen)
}

func TestSnapshot_RoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 100_000} {
		t.Run(fmt.Sprintf("string/n=%d", n), func(t *testing.T) {
			roundTrip(t, n, func(i int) (string, int) { return "key-" + strconv.Itoa(i), i * 7 })
		})
		t.Run(fmt.Sprintf("int/n=%d", n), func(t *testing.T) {
			roundTrip(t, n, func(i int) (int, string) { return i - n/2, strconv.Itoa(i) })
		})
		t.Run(fmt.Sprintf("struct/n=%d", n), func(t *testing.T) {
			roundTrip(t, n, func(i int) (point, []byte) { return point{i, -i}, []byte{byte(i), 1} })
		})
	}
}

func TestSnapshot_OptionsAndNameRestored(t *testing.T) {
	src, err := ets.NewSet[string, int](ets.WithName("snap-opts"),
		ets.WithWriteConcurrency(ets.WriteConcurrencyOn), ets.WithShards(8),
		ets.WithDecentralizedCounters(false), ets.WithReadConcurrency(true))
	require.NoError(t, err)
	require.NoError(t, src.Insert("a", 1))
	data := saved(t, src)

	h, err := ets.SnapshotInfo(bytes.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, ets.SnapshotHeader{
		Version: ets.SnapshotVersion, Kind: ets.KindSet, KeyType: "string", ValueType: "int",
		Name: "snap-opts", Count: 1, Codec: "gob", Created: h.Created, Access: ets.Public,
		ReadConcurrency: true, WriteConcurrency: ets.WriteConcurrencyOn, Shards: 8,
	}, h)
	require.WithinDuration(t, time.Now(), h.Created, time.Minute)

	// While the original holds the name, Load fails, and WithName overrides.
	_, err = ets.Load[*ets.Set[string, int]](bytes.NewReader(data))
	require.ErrorIs(t, err, ets.ErrNameTaken)
	other, err := ets.Load[*ets.Set[string, int]](bytes.NewReader(data), ets.WithName("snap-opts-2"))
	require.NoError(t, err)
	require.Equal(t, "snap-opts-2", other.Info().Name)
	require.NoError(t, other.Drop())

	require.NoError(t, src.Drop())
	got, err := ets.Load[*ets.Set[string, int]](bytes.NewReader(data))
	require.NoError(t, err)
	defer got.Drop()
	want, gotInfo := src.Info(), got.Info()
	require.Equal(t, "snap-opts", gotInfo.Name)
	require.Equal(t, want.WriteConcurrency, gotInfo.WriteConcurrency)
	require.Equal(t, want.Shards, gotInfo.Shards)
	require.Equal(t, want.DecentralizedCounters, gotInfo.DecentralizedCounters)
	require.Equal(t, want.ReadConcurrency, gotInfo.ReadConcurrency)
	opened, err := ets.Open[*ets.Set[string, int]]("snap-opts")
	require.NoError(t, err)
	v, ok := opened.Lookup("a")
	require.True(t, ok)
	require.Equal(t, 1, v)
}

func TestSnapshot_AccessRestoredWithOwner(t *testing.T) {
	o := ets.NewOwner(context.Background())
	defer o.Stop(nil)
	src, err := ets.NewSet[int, int](ets.WithOwner(o), ets.WithAccess(ets.Private))
	require.NoError(t, err)
	require.NoError(t, src.Insert(1, 2))
	data := saved(t, src)

	// Save needs read access: a handle acting for nobody cannot read it.
	require.ErrorIs(t, ets.Save(io.Discard, src.As(nil)), ets.ErrAccess)

	o2 := ets.NewOwner(context.Background())
	defer o2.Stop(nil)
	owned, err := ets.Load[*ets.Set[int, int]](bytes.NewReader(data), ets.WithOwner(o2))
	require.NoError(t, err)
	require.Equal(t, ets.Private, owned.Info().Access)
	require.Equal(t, o2.ID(), owned.Info().Owner)

	loose, err := ets.Load[*ets.Set[int, int]](bytes.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, ets.Public, loose.Info().Access, "a table without owner is public")

	prot, err := ets.Load[*ets.Set[int, int]](bytes.NewReader(data), ets.WithOwner(o2), ets.WithAccess(ets.Protected))
	require.NoError(t, err)
	require.Equal(t, ets.Protected, prot.Info().Access)
	require.NoError(t, loose.Drop())
}

// patch rewrites a snapshot's header with edit and recomputes its checksums,
// as a faulty (or future) writer would produce it.
func patch(data []byte, edit func(pre, fields []byte)) []byte {
	out := bytes.Clone(data)
	n := int(binary.LittleEndian.Uint32(out[10:]))
	edit(out[:18], out[18:18+n])
	binary.LittleEndian.PutUint32(out[14:], uint32(xxhash.Sum64(out[:14])))
	binary.LittleEndian.PutUint64(out[18+n:], xxhash.Sum64(out[:18+n]))
	return out
}

func TestSnapshot_CorruptionIsDetected(t *testing.T) {
	src, err := ets.NewSet[string, int](ets.WithName("snap-corrupt"))
	require.NoError(t, err)
	for i := range 50 {
		require.NoError(t, src.Insert("k"+strconv.Itoa(i), i))
	}
	data := saved(t, src)
	require.NoError(t, src.Drop())

	before := len(ets.Tables())
	load := func(b []byte, opts ...ets.Option) error {
		got, err := ets.Load[*ets.Set[string, int]](bytes.NewReader(b), opts...)
		require.Nil(t, got)
		_, openErr := ets.Open[*ets.Set[string, int]]("snap-corrupt")
		require.ErrorIs(t, openErr, ets.ErrNotFound, "a failed Load takes no name")
		return err
	}
	sentinels := []error{ets.ErrSnapshotCorrupt, ets.ErrSnapshotTruncated, ets.ErrSnapshotVersion,
		ets.ErrSnapshotType, ets.ErrSnapshotCount, ets.ErrSnapshotCodec}
	only := func(t *testing.T, err, want error) {
		t.Helper()
		require.ErrorIs(t, err, want)
		for _, s := range sentinels {
			if s != want {
				require.NotErrorIs(t, err, s)
			}
		}
	}

	t.Run("truncated", func(t *testing.T) {
		for n := range len(data) {
			only(t, load(data[:n]), ets.ErrSnapshotTruncated)
		}
	})
	t.Run("flipped byte", func(t *testing.T) {
		for i := range data {
			for _, bit := range []byte{0x01, 0x80} {
				b := bytes.Clone(data)
				b[i] ^= bit
				err := load(b)
				require.Error(t, err, "byte %d", i)
				only(t, err, ets.ErrSnapshotCorrupt)
			}
		}
	})
	t.Run("wrong count", func(t *testing.T) {
		for _, count := range []uint64{0, 49, 51, 1 << 40} {
			b := patch(data, func(_, f []byte) { binary.LittleEndian.PutUint64(f[10:], count) })
			only(t, load(b), ets.ErrSnapshotCount)
		}
	})
	t.Run("unknown version", func(t *testing.T) {
		b := patch(data, func(p, _ []byte) { binary.LittleEndian.PutUint16(p[8:], 2) })
		only(t, load(b), ets.ErrSnapshotVersion)
		_, err := ets.SnapshotInfo(bytes.NewReader(b))
		require.ErrorIs(t, err, ets.ErrSnapshotVersion)
	})
	t.Run("type mismatch", func(t *testing.T) {
		_, err := ets.Load[*ets.Set[string, string]](bytes.NewReader(data))
		only(t, err, ets.ErrSnapshotType)
		require.ErrorIs(t, err, ets.ErrWrongType)
		_, err = ets.Load[*ets.Set[int, int]](bytes.NewReader(data))
		only(t, err, ets.ErrSnapshotType)
		b := patch(data, func(_, f []byte) { f[0] = byte(ets.KindBag) })
		only(t, load(b), ets.ErrSnapshotType)
	})
	t.Run("codec mismatch", func(t *testing.T) {
		only(t, load(data, ets.WithLoadCodec(jsonCodec{})), ets.ErrSnapshotCodec)
	})
	t.Run("not a table kind", func(t *testing.T) {
		_, err := ets.Load[ets.Table](bytes.NewReader(data))
		require.ErrorIs(t, err, ets.ErrInvalidOption)
	})
	require.LessOrEqual(t, len(ets.Tables()), before, "no failed Load left a table")

	got, err := ets.Load[*ets.Set[string, int]](bytes.NewReader(data))
	require.NoError(t, err, "the intact snapshot still loads")
	require.Equal(t, 50, got.Size())
	require.NoError(t, got.Drop())
}

// Save refuses what Load would refuse, or cannot make sense of: names of
// more than the header's megabyte (Save wrote them and Load called the
// snapshot corrupt), and a nil table (Save panicked). Found by a review.
func TestSave_RefusesWhatLoadCannotRead(t *testing.T) {
	long, err := ets.NewSet[int, int](ets.WithName(strings.Repeat("n", 1<<20)))
	require.NoError(t, err)
	defer long.Drop()
	var buf bytes.Buffer
	require.ErrorIs(t, ets.Save(&buf, long), ets.ErrInvalidOption)
	require.NoError(t, long.Rename(strings.Repeat("n", 1<<19)))
	buf.Reset()
	require.NoError(t, ets.Save(&buf, long))
	require.NoError(t, long.Drop())
	back, err := ets.Load[*ets.Set[int, int]](&buf)
	require.NoError(t, err)
	require.NoError(t, back.Drop())

	require.ErrorIs(t, ets.Save(&buf, (*ets.Set[int, int])(nil)), ets.ErrInvalidOption)
	require.ErrorIs(t, ets.Save(&buf, nil), ets.ErrInvalidOption)
}

// A payload whose checksums are all valid but whose frame holds fewer values
// than keys, or whose trailer's count disagrees with its frames, is refused
// (a checksum cannot tell a faulty writer). Mutation testing showed neither
// check had a test: without the first, Load panicked.
func TestLoad_RefusesInconsistentFrames(t *testing.T) {
	var p bytes.Buffer
	enc := gob.NewEncoder(&p)
	require.NoError(t, enc.Encode([]string{"a", "b"}))
	require.NoError(t, enc.Encode([]int{1}))
	_, err := ets.Load[*ets.Set[string, int]](bytes.NewReader(withPayload(t, p.Bytes(), 2)))
	require.ErrorIs(t, err, ets.ErrSnapshotCount)

	s, err := ets.NewSet[string, int]()
	require.NoError(t, err)
	require.NoError(t, s.Insert("a", 1))
	data := saved(t, s)
	require.NoError(t, s.Drop())
	// The trailer: count u64, then the body's xxh64. Claim 2, and sign it.
	hn := int(binary.LittleEndian.Uint32(data[10:]))
	body := slices.Clone(data[18+hn+8:])
	binary.LittleEndian.PutUint64(body[len(body)-16:], 2)
	binary.LittleEndian.PutUint64(body[len(body)-8:], xxhash.Sum64(body[:len(body)-8]))
	_, err = ets.Load[*ets.Set[string, int]](bytes.NewReader(append(slices.Clone(data[:18+hn+8]), body...)))
	require.ErrorIs(t, err, ets.ErrSnapshotCount)

	// A header asking for more shards than a table may have (a power of
	// two, signed): corrupt, not a table of 2³¹ locks.
	huge := patch(data, func(_, f []byte) { binary.LittleEndian.PutUint32(f[6:], 1<<31) })
	_, err = ets.Load[*ets.Set[string, int]](bytes.NewReader(huge))
	require.ErrorIs(t, err, ets.ErrSnapshotCorrupt)
}

func TestSnapshot_ErrorsOfSave(t *testing.T) {
	s, err := ets.NewSet[int, int]()
	require.NoError(t, err)
	require.NoError(t, s.Drop())
	require.ErrorIs(t, ets.Save(io.Discard, s), ets.ErrDeleted)
	require.ErrorIs(t, ets.Save(io.Discard, nil), ets.ErrInvalidOption)
	s, err = ets.NewSet[int, int]()
	require.NoError(t, err)
	require.ErrorIs(t, ets.Save(io.Discard, s, ets.SnapshotOption{}), ets.ErrInvalidOption)
	require.ErrorIs(t, ets.Save(io.Discard, s, ets.WithCodec(nil)), ets.ErrInvalidOption)
	_, err = ets.NewSet[int, int](ets.WithLoadCodec(ets.Gob))
	require.ErrorIs(t, err, ets.ErrInvalidOption, "load-only options are refused by constructors")
	_, err = ets.NewSet[int, int](ets.WithComparator(func(a, b int) int { return a - b }))
	require.ErrorIs(t, err, ets.ErrInvalidOption)
	_, err = ets.Load[*ets.Set[int, int]](bytes.NewReader(saved(t, s)), ets.WithComparator(func(a, b int) int { return a - b }))
	require.ErrorIs(t, err, ets.ErrInvalidOption, "a Set has no key order")
	require.ErrorIs(t, ets.Save(failAfter(10), s), errDisk)
}

// pair is a value whose two fields writers keep in step: Check is always
// check(key, Gen). A torn object would break that.
type pair struct{ Gen, Check int }

func check(k, gen int) int { return k*1_000_003 ^ gen }

func TestSnapshot_SaveWhileWriting(t *testing.T) {
	for _, wc := range []ets.WriteConcurrency{ets.WriteConcurrencyOn, ets.WriteConcurrencyOff} {
		t.Run(wc.String(), func(t *testing.T) {
			const stable, churn = 2000, 2000
			s, err := ets.NewSet[int, pair](ets.WithWriteConcurrency(wc))
			require.NoError(t, err)
			defer s.Drop()
			for k := range stable {
				require.NoError(t, s.Insert(k, pair{0, check(k, 0)}))
			}
			var stop atomic.Bool
			var wg sync.WaitGroup
			for w := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for gen := 1; !stop.Load(); gen++ {
						k := (gen*7919 + w) % (stable + churn)
						if k >= stable && gen%2 == 0 {
							_ = s.Delete(k)
							continue
						}
						_ = s.Insert(k, pair{gen, check(k, gen)})
						_, _, _ = s.Update((k+1)%stable, func(old pair, ok bool) (pair, ets.Op) {
							return pair{old.Gen + 1, check((k+1)%stable, old.Gen+1)}, ets.Store
						})
					}
				}()
			}
			for range 5 {
				data := saved(t, s)
				got, err := ets.Load[*ets.Set[int, pair]](bytes.NewReader(data))
				require.NoError(t, err)
				n := 0
				for k, v := range got.All() {
					require.Equal(t, check(k, v.Gen), v.Check, "object %d torn: %+v", k, v)
					if k < stable {
						n++
					}
				}
				require.Equal(t, stable, n, "every key present throughout is saved")
				require.NoError(t, got.Drop())
			}
			stop.Store(true)
			wg.Wait()
		})
	}
}

var errDisk = errors.New("disk full")

// failAfter is a writer that accepts n bytes and then fails.
func failAfter(n int) io.Writer { return &failingWriter{n: n} }

type failingWriter struct {
	w io.Writer
	n int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		if f.w != nil {
			_, _ = f.w.Write(p[:f.n])
		}
		f.n = 0
		return 0, errDisk
	}
	f.n -= len(p)
	if f.w != nil {
		return f.w.Write(p)
	}
	return len(p), nil
}

func TestSaveFile_TempAndRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.ets")
	s, err := ets.NewSet[string, int]()
	require.NoError(t, err)
	defer s.Drop()
	require.NoError(t, s.Insert("alice", 31))
	require.NoError(t, ets.SaveFile(path, s))
	good, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(path, 0o640))

	for i := range 1000 {
		require.NoError(t, s.Insert("user"+strconv.Itoa(i), i))
	}
	// The disk fails midway through the new file: the old one stays.
	err = ets.SaveFileThrough(path, s, func(w io.Writer) io.Writer { return &failingWriter{w: w, n: 300} })
	require.ErrorIs(t, err, errDisk)
	now, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, good, now)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the temporary file is removed")
	// A codec that fails midway leaves it too.
	require.Error(t, ets.SaveFile(path, s, ets.WithCodec(brokenCodec{})))
	now, err = os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, good, now)
	old, err := ets.LoadFile[*ets.Set[string, int]](path)
	require.NoError(t, err)
	require.Equal(t, 1, old.Size())
	require.NoError(t, old.Drop())

	require.NoError(t, ets.SaveFile(path, s))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "the replaced file's mode is kept")
	loaded, err := ets.LoadFile[*ets.Set[string, int]](path)
	require.NoError(t, err)
	require.Equal(t, 1001, loaded.Size())
	require.NoError(t, loaded.Drop())
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)

	_, err = ets.LoadFile[*ets.Set[string, int]](filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Error(t, ets.SaveFile(filepath.Join(dir, "no", "such", "dir"), s))
}

// A file holds one snapshot and nothing else: LoadFile refuses bytes after
// its end (a file appended to, or two snapshots in one), where Load, which
// reads a stream, leaves them to the caller.
func TestLoadFile_RefusesTrailingBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.ets")
	s, err := ets.NewSet[string, int](ets.WithName("trailing"))
	require.NoError(t, err)
	require.NoError(t, s.Insert("a", 1))
	require.NoError(t, ets.SaveFile(path, s))
	require.NoError(t, s.Drop())
	good, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(good, 0), 0o600))
	_, err = ets.LoadFile[*ets.Set[string, int]](path)
	require.ErrorIs(t, err, ets.ErrSnapshotCorrupt)
	_, err = ets.Open[*ets.Set[string, int]]("trailing")
	require.ErrorIs(t, err, ets.ErrNotFound, "no table is made")

	r := bytes.NewReader(append(good, good...))
	for range 2 {
		loaded, err := ets.Load[*ets.Set[string, int]](r)
		require.NoError(t, err)
		require.NoError(t, loaded.Drop())
	}
	require.Zero(t, r.Len())
}

// jsonCodec is a user's Codec: encoding/json.
type jsonCodec struct{}

func (jsonCodec) Name() string                       { return "json" }
func (jsonCodec) NewEncoder(w io.Writer) ets.Encoder { return json.NewEncoder(w) }
func (jsonCodec) NewDecoder(r io.Reader) ets.Decoder { return json.NewDecoder(r) }

type brokenCodec struct{ jsonCodec }

func (brokenCodec) NewEncoder(io.Writer) ets.Encoder { return brokenEncoder{} }

type brokenEncoder struct{}

func (brokenEncoder) Encode(any) error { return errDisk }

func TestSnapshot_CustomCodec(t *testing.T) {
	s, err := ets.NewSet[point, string]()
	require.NoError(t, err)
	defer s.Drop()
	for i := range 10_000 {
		require.NoError(t, s.Insert(point{i, i % 7}, "v"+strconv.Itoa(i)))
	}
	data := saved(t, s, ets.WithCodec(jsonCodec{}))
	require.Contains(t, string(data), `{"X":9999,"Y":3}`, "the body is the codec's")
	h, err := ets.SnapshotInfo(bytes.NewReader(data))
	require.NoError(t, err)
	require.Equal(t, "json", h.Codec)

	_, err = ets.Load[*ets.Set[point, string]](bytes.NewReader(data))
	require.ErrorIs(t, err, ets.ErrSnapshotCodec, "the default codec refuses a json snapshot")
	got, err := ets.Load[*ets.Set[point, string]](bytes.NewReader(data), ets.WithLoadCodec(jsonCodec{}))
	require.NoError(t, err)
	defer got.Drop()
	require.Equal(t, 10_000, got.Size())
	v, ok := got.Lookup(point{1234, 1234 % 7})
	require.True(t, ok)
	require.Equal(t, "v1234", v)
}

func TestLoad_ReadsExactlyOneSnapshot(t *testing.T) {
	a, err := ets.NewSet[int, int]()
	require.NoError(t, err)
	defer a.Drop()
	require.NoError(t, a.Insert(1, 1))
	var buf bytes.Buffer
	require.NoError(t, ets.Save(&buf, a))
	require.NoError(t, a.Insert(2, 2))
	require.NoError(t, ets.Save(&buf, a))
	first, err := ets.Load[*ets.Set[int, int]](&buf)
	require.NoError(t, err)
	second, err := ets.Load[*ets.Set[int, int]](&buf)
	require.NoError(t, err)
	require.Equal(t, 1, first.Size())
	require.Equal(t, 2, second.Size())
	require.Zero(t, buf.Len())
}

func TestI_PrintsLiveTables(t *testing.T) {
	o := ets.NewOwner(context.Background())
	defer o.Stop(nil)
	s, err := ets.NewSet[string, int](ets.WithName("i-users"), ets.WithOwner(o))
	require.NoError(t, err)
	require.NoError(t, s.Insert("alice", 1))
	anon, err := ets.NewSet[int, bool]()
	require.NoError(t, err)
	defer anon.Drop()

	var buf bytes.Buffer
	require.NoError(t, ets.I(&buf))
	out := buf.String()
	require.Regexp(t, `(?m)^ID +NAME +KIND +SIZE +MEMORY +OWNER +HEIR +ACCESS +KEY +VALUE$`, out)
	require.Regexp(t, fmt.Sprintf(`(?m)^%d +i-users +set +1 +\d+ +%s +none +protected +string +int$`, s.Info().ID, o), out)
	require.Regexp(t, fmt.Sprintf(`(?m)^%d +- +set +0 +\d+ +none +none +public +int +bool$`, anon.Info().ID), out)
	require.ErrorIs(t, ets.I(failAfter(0)), errDisk)
}

type userID string
type level int8

func TestLoad_NaturalCompareMatchesCmpCompare(t *testing.T) {
	c1, ok := ets.NaturalCompare[userID]()
	require.True(t, ok)
	require.Equal(t, -1, c1("alice", "bob"))
	require.Equal(t, 0, c1("bob", "bob"))
	c2, ok := ets.NaturalCompare[level]()
	require.True(t, ok)
	require.Equal(t, 1, c2(3, -4))
	c3, ok := ets.NaturalCompare[float64]()
	require.True(t, ok)
	nan := math.NaN()
	for _, p := range [][2]float64{{nan, 1}, {1, nan}, {nan, nan}, {-1, 2}, {math.Inf(1), 0}} {
		require.Equal(t, cmp.Compare(p[0], p[1]), c3(p[0], p[1]), "%v", p)
	}
	c4, ok := ets.NaturalCompare[uint64]()
	require.True(t, ok)
	require.Equal(t, 1, c4(math.MaxUint64, 0))
	_, ok = ets.NaturalCompare[point]()
	require.False(t, ok)
}

// snapBag is what the bag round trip needs of Bag and DuplicateBag.
type snapBag interface {
	ets.Table
	Insert(int, string) error
	Lookup(int) []string
}

func TestSnapshot_BagRoundTrip(t *testing.T) {
	fill := func(t *testing.T, b snapBag) {
		for i := range 3000 {
			k := i % 50 // many objects per key, in an order to keep
			require.NoError(t, b.Insert(k, fmt.Sprint("v", i%70)))
			require.NoError(t, b.Insert(k, fmt.Sprint("v", i%70))) // a copy
		}
	}
	check := func(t *testing.T, src, got snapBag, kind ets.Kind) {
		require.Equal(t, src.Size(), got.Size())
		require.Equal(t, kind, got.Info().Kind)
		for k := range 50 {
			require.Equal(t, src.Lookup(k), got.Lookup(k), "key %d keeps its objects in insertion order", k)
		}
	}
	t.Run("Bag", func(t *testing.T) {
		src, err := ets.NewBag[int, string]()
		require.NoError(t, err)
		fill(t, src)
		data := saved(t, src)
		info, err := ets.SnapshotInfo(bytes.NewReader(data))
		require.NoError(t, err)
		require.Equal(t, src.Size(), info.Count, "the header counts objects")
		got, err := ets.Load[*ets.Bag[int, string]](bytes.NewReader(data))
		require.NoError(t, err)
		check(t, src, got, ets.KindBag)
		_, err = ets.Load[*ets.DuplicateBag[int, string]](bytes.NewReader(data))
		require.ErrorIs(t, err, ets.ErrSnapshotType)
	})
	t.Run("DuplicateBag", func(t *testing.T) {
		src, err := ets.NewDuplicateBag[int, string]()
		require.NoError(t, err)
		fill(t, src)
		require.Equal(t, 6000, src.Size())
		got, err := ets.Load[*ets.DuplicateBag[int, string]](bytes.NewReader(saved(t, src)))
		require.NoError(t, err)
		check(t, src, got, ets.KindDuplicateBag)
		_, err = ets.Load[*ets.Set[int, string]](bytes.NewReader(saved(t, src)))
		require.ErrorIs(t, err, ets.ErrSnapshotType)
	})
}

func TestSnapshot_OrderedSetRoundTrip(t *testing.T) {
	src, err := ets.NewOrderedSet[int, string](ets.WithName("snap-ordered"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Drop() }) // frees the names for -count > 1
	for i := range 10_000 {
		require.NoError(t, src.Insert(i*7%10_007, fmt.Sprint(i)))
	}
	data := saved(t, src)
	_, err = ets.Load[*ets.OrderedSet[int, string]](bytes.NewReader(data))
	require.ErrorIs(t, err, ets.ErrNameTaken, "the saved name is restored, and it is taken")
	got, err := ets.Load[*ets.OrderedSet[int, string]](bytes.NewReader(data), ets.WithName("snap-ordered-2"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = got.Drop() })
	require.Equal(t, slices.Collect(src.Keys()), slices.Collect(got.Keys()), "key order survives")
	require.Equal(t, ets.KindOrderedSet, got.Info().Kind)
	_, err = ets.Load[*ets.Set[int, string]](bytes.NewReader(data))
	require.ErrorIs(t, err, ets.ErrSnapshotType)

	// A custom order is not in the snapshot: Load needs the comparator again.
	byLen := func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b)) }
	custom, err := ets.NewOrderedSetFunc[string, int](byLen)
	require.NoError(t, err)
	for _, k := range []string{"ccc", "a", "bb", "dddd"} {
		require.NoError(t, custom.Insert(k, len(k)))
	}
	data = saved(t, custom)
	_, err = ets.Load[*ets.OrderedSet[string, int]](bytes.NewReader(data))
	require.ErrorIs(t, err, ets.ErrInvalidOption)
	back, err := ets.Load[*ets.OrderedSet[string, int]](bytes.NewReader(data), ets.WithComparator(byLen))
	require.NoError(t, err)
	require.Equal(t, []string{"a", "bb", "ccc", "dddd"}, slices.Collect(back.Keys()))

	// A table loaded with a comparator is saved again as one of a custom
	// order, which Load again refuses without it (a review found no test
	// that would fail if the loaded table forgot its order was custom).
	again := saved(t, back)
	h, err := ets.SnapshotInfo(bytes.NewReader(again))
	require.NoError(t, err)
	require.True(t, h.CustomOrder)
	_, err = ets.Load[*ets.OrderedSet[string, int]](bytes.NewReader(again))
	require.ErrorIs(t, err, ets.ErrInvalidOption)
}

// keyWithHidden has a field gob does not encode: two keys that differ only
// there are saved as two objects and decode equal.
type keyWithHidden struct {
	ID     int
	tenant string
}

// Load refuses a snapshot whose objects would not all survive in the table:
// keys saved distinct that decode equal (a field the codec drops), or that
// Load's comparator calls equal. It used to return a smaller table and a nil
// error.
func TestLoad_RefusesToLoseObjects(t *testing.T) {
	set, err := ets.NewSet[keyWithHidden, int]()
	require.NoError(t, err)
	require.NoError(t, set.Insert(keyWithHidden{1, "a"}, 1))
	require.NoError(t, set.Insert(keyWithHidden{1, "b"}, 2))
	_, err = ets.Load[*ets.Set[keyWithHidden, int]](bytes.NewReader(saved(t, set)))
	require.ErrorIs(t, err, ets.ErrSnapshotCount)
	require.ErrorContains(t, err, "2 objects load as 1")

	bag, err := ets.NewBag[keyWithHidden, int]()
	require.NoError(t, err)
	require.NoError(t, bag.Insert(keyWithHidden{1, "a"}, 1))
	require.NoError(t, bag.Insert(keyWithHidden{1, "b"}, 1))
	_, err = ets.Load[*ets.Bag[keyWithHidden, int]](bytes.NewReader(saved(t, bag)))
	require.ErrorIs(t, err, ets.ErrSnapshotCount)

	ord, err := ets.NewOrderedSet[string, int]()
	require.NoError(t, err)
	for _, k := range []string{"a", "b", "cc"} {
		require.NoError(t, ord.Insert(k, len(k)))
	}
	byLen := func(a, b string) int { return cmp.Compare(len(a), len(b)) }
	_, err = ets.Load[*ets.OrderedSet[string, int]](bytes.NewReader(saved(t, ord)), ets.WithComparator(byLen))
	require.ErrorIs(t, err, ets.ErrSnapshotCount, "a and b are one key under byLen")
	back, err := ets.Load[*ets.OrderedSet[string, int]](bytes.NewReader(saved(t, ord)))
	require.NoError(t, err, "and load as three under the natural order")
	require.Equal(t, 3, back.Size())
}

// I quotes a name that holds spaces or control characters, so that a name
// cannot forge a line of its table or break its columns.
func TestI_QuotesOddNames(t *testing.T) {
	name := "evil\n999\tfake\tset\t0"
	s, err := ets.NewSet[int, int](ets.WithName(name))
	require.NoError(t, err)
	defer s.Drop()
	var buf bytes.Buffer
	require.NoError(t, ets.I(&buf))
	require.Contains(t, buf.String(), strconv.Quote(name))
	require.NotContains(t, buf.String(), "\n999")
}

// I prints no two names alike, and no name like no name: "-", a name that
// starts with a quote, and names that are not UTF-8 are quoted too. Found by
// a review: `"a\tb"` printed as the quoted a<TAB>b, and "-" as an unnamed
// table.
func TestI_NamesCannotPassForOthers(t *testing.T) {
	for _, name := range []string{"-", `"a\tb"`, "a\tb", "rv\xff", "rv\xfe", "plain"} {
		s, err := ets.NewSet[int, int](ets.WithName(name))
		require.NoError(t, err)
		defer s.Drop()
	}
	var buf bytes.Buffer
	require.NoError(t, ets.I(&buf))
	out := buf.String()
	for _, want := range []string{`"-"`, strconv.Quote(`"a\tb"`), strconv.Quote("a\tb"), `"rv\xff"`, `"rv\xfe"`, " plain "} {
		require.Contains(t, out, want)
	}
}

// bufferedCodec is a Codec whose encoder writes through a bufio.Writer:
// with flush, its encoder has the Flush method Save calls; without, it holds
// a small frame back.
type bufferedCodec struct{ flush bool }

func (bufferedCodec) Name() string                       { return "buffered-gob" }
func (bufferedCodec) NewDecoder(r io.Reader) ets.Decoder { return gob.NewDecoder(r) }
func (c bufferedCodec) NewEncoder(w io.Writer) ets.Encoder {
	bw := bufio.NewWriter(w)
	if c.flush {
		return flushingEncoder{gob.NewEncoder(bw), bw}
	}
	return gob.NewEncoder(bw)
}

type flushingEncoder struct {
	*gob.Encoder
	bw *bufio.Writer
}

func (e flushingEncoder) Flush() error { return e.bw.Flush() }

// Save flushes an encoder that has a Flush method, and refuses one that
// buffered a frame and wrote nothing, where it used to write a file Load
// refused.
func TestSave_BufferingEncoders(t *testing.T) {
	s, err := ets.NewSet[int, int]()
	require.NoError(t, err)
	for k := range 10 {
		require.NoError(t, s.Insert(k, k))
	}
	data := saved(t, s, ets.WithCodec(bufferedCodec{flush: true}))
	back, err := ets.Load[*ets.Set[int, int]](bytes.NewReader(data), ets.WithLoadCodec(bufferedCodec{flush: true}))
	require.NoError(t, err)
	require.Equal(t, 10, back.Size())
	err = ets.Save(io.Discard, s, ets.WithCodec(bufferedCodec{}))
	require.ErrorIs(t, err, ets.ErrInvalidOption)
	require.ErrorContains(t, err, "wrote nothing")
}

// nanCodec is gob, under gob's name, whose decoder turns the first float64
// key of each batch into a NaN: a snapshot no table of this version saves.
type nanCodec struct{}

func (nanCodec) Name() string                       { return ets.Gob.Name() }
func (nanCodec) NewEncoder(w io.Writer) ets.Encoder { return ets.Gob.NewEncoder(w) }
func (nanCodec) NewDecoder(r io.Reader) ets.Decoder { return nanDecoder{ets.Gob.NewDecoder(r)} }

type nanDecoder struct{ ets.Decoder }

func (d nanDecoder) Decode(v any) error {
	err := d.Decoder.Decode(v)
	if ks, ok := v.(*[]float64); ok && err == nil && len(*ks) > 0 {
		(*ks)[0] = math.NaN()
	}
	return err
}

// Load refuses a NaN key into a hash table (see TestHashTables_RefuseNaNKeys)
// and makes no table.
func TestLoad_RefusesNaNKeys(t *testing.T) {
	s, err := ets.NewSet[float64, int]()
	require.NoError(t, err)
	require.NoError(t, s.Insert(1, 1))
	require.ErrorIs(t, loadThroughNaNCodec(t, s, ets.WithName("nan-load")), ets.ErrInvalidOption)
	_, err = ets.Open[*ets.Set[float64, int]]("nan-load")
	require.ErrorIs(t, err, ets.ErrNotFound)

	b, err := ets.NewBag[float64, int]()
	require.NoError(t, err)
	require.NoError(t, b.Insert(1, 1))
	require.ErrorIs(t, loadThroughNaNCodec(t, b), ets.ErrInvalidOption)

	// A bag refuses NaN values too (TestBag_RefusesNaNValues).
	bv, err := ets.NewDuplicateBag[int, float64]()
	require.NoError(t, err)
	require.NoError(t, bv.Insert(1, 1))
	require.ErrorIs(t, loadThroughNaNCodec(t, bv), ets.ErrInvalidOption)
}

// loadThroughNaNCodec saves tab, drops it, and returns the error of loading
// the snapshot back into a table of tab's type through nanCodec, which
// makes the first float64 of each decoded batch of keys or values a NaN.
func loadThroughNaNCodec[T ets.Table](t *testing.T, tab T, opts ...ets.Option) error {
	t.Helper()
	data := saved(t, tab)
	require.NoError(t, tab.Drop())
	_, err := ets.Load[T](bytes.NewReader(data), append([]ets.Option{ets.WithLoadCodec(nanCodec{})}, opts...)...)
	return err
}
