package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/etsgo/ets"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	require.NoError(t, run(&out, 1000))
	s := out.String()
	require.Contains(t, s, `reference: unnamed=true access=public; put hello, get hello: "world"`)
	require.Contains(t, s, "1000 lookups in a row: through the handle ")
	require.Contains(t, s, "service stopped: table ets: table deleted")
}

// BenchmarkSecretTable_Get compares three ways to reach the table for every
// lookup: a handle kept by the caller (the pattern), a name look-up with
// ets.Open before each lookup, and a request to the service before each
// lookup (the bottleneck the article warns about).
func BenchmarkSecretTable_Get(b *testing.B) {
	ctx := context.Background()
	secret, err := Start(ctx)
	require.NoError(b, err)
	defer secret.Stop()
	table, err := secret.Reference(ctx)
	require.NoError(b, err)
	require.NoError(b, Put(table, "hello", "world"))

	const name = "secrettable-bench"
	named, err := ets.NewSet[string, string](ets.WithName(name), ets.WithReadConcurrency(true))
	require.NoError(b, err)
	defer named.Drop()
	require.NoError(b, named.Insert("hello", "world"))

	b.Run("via=handle", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := Get(table, "hello"); !ok {
				b.Fatal("miss")
			}
		}
	})
	b.Run("via=open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			t, err := ets.Open[*ets.Set[string, string]](name)
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := Get(t, "hello"); !ok {
				b.Fatal("miss")
			}
		}
	})
	b.Run("via=service", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			t, err := secret.Reference(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := Get(t, "hello"); !ok {
				b.Fatal("miss")
			}
		}
	})
	b.Run("via=handle/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, ok := Get(table, "hello"); !ok {
					b.Fatal("miss")
				}
			}
		})
	})
	b.Run("via=open/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				t, err := ets.Open[*ets.Set[string, string]](name)
				if err != nil {
					b.Fatal(err)
				}
				if _, ok := Get(t, "hello"); !ok {
					b.Fatal("miss")
				}
			}
		})
	})
}
