package ets_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/etsgo/ets"
)

const snapshotBenchObjects = 1_000_000

func snapshotBenchTable(b *testing.B) (*ets.Set[int64, int64], []byte) {
	b.Helper()
	s, err := ets.NewSet[int64, int64]()
	if err != nil {
		b.Fatal(err)
	}
	for i := range int64(snapshotBenchObjects) {
		_ = s.Insert(i*2654435761, i)
	}
	var buf bytes.Buffer
	if err := ets.Save(&buf, s); err != nil {
		b.Fatal(err)
	}
	return s, buf.Bytes()
}

// BenchmarkSnapshot_Save measures Save of 1e6 int64→int64 objects with the
// default gob codec; MB/s counts snapshot bytes.
func BenchmarkSnapshot_Save(b *testing.B) {
	b.Run("objects=1e6", func(b *testing.B) {
		s, data := snapshotBenchTable(b)
		defer s.Drop()
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if err := ets.Save(io.Discard, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSnapshot_Load measures Load of the same snapshot, building the
// table included.
func BenchmarkSnapshot_Load(b *testing.B) {
	b.Run("objects=1e6", func(b *testing.B) {
		s, data := snapshotBenchTable(b)
		_ = s.Drop()
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			t, err := ets.Load[*ets.Set[int64, int64]](bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			_ = t.Drop()
		}
	})
}
