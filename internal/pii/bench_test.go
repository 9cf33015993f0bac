package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// Each benchmark also times a bare baseline on the same machine in the same
// run and reports the ratio, so the number is comparable across machines.

func BenchmarkEncryptString(b *testing.B) {
	key := make([]byte, 32)
	k := NewKeyring(key)
	const v, ctx = "11010519491231002X", "person.id_number"
	for b.Loop() {
		if _, err := k.EncryptString(v, ctx); err != nil {
			b.Fatal(err)
		}
	}
	perOp := b.Elapsed() / time.Duration(b.N)

	// Baseline: one AES-256-GCM seal with a fixed nonce, no framing and no
	// nonce generation.
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	buf := make([]byte, 0, 64)
	start := time.Now()
	for i := 0; i < b.N; i++ {
		buf = gcm.Seal(buf[:0], nonce, []byte(v), []byte(ctx))
	}
	base := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(perOp)/float64(max(base, 1)), "x-bare-gcm")
}

func BenchmarkBlindIndex(b *testing.B) {
	k := NewKeyring(make([]byte, 32))
	const v, ctx = "11010519491231002X", "person.id_number"
	for b.Loop() {
		_ = k.BlindIndex(v, ctx)
	}
	perOp := b.Elapsed() / time.Duration(b.N)

	// Baseline: one unkeyed SHA-256 of the same input.
	in := []byte(ctx + "\x00" + v)
	var sink [32]byte
	start := time.Now()
	for i := 0; i < b.N; i++ {
		sink = sha256.Sum256(in)
	}
	base := time.Since(start) / time.Duration(b.N)
	_ = sink
	b.ReportMetric(float64(perOp)/float64(max(base, 1)), "x-sha256")
}

func BenchmarkEncryptStringSM4(b *testing.B) {
	key := make([]byte, 32)
	k := NewKeyring(key).WithSuite(SuiteSM)
	const v, ctx = "11010519491231002X", "person.id_number"
	for b.Loop() {
		if _, err := k.EncryptString(v, ctx); err != nil {
			b.Fatal(err)
		}
	}
	perOp := b.Elapsed() / time.Duration(b.N)

	// Baseline: one SM4-GCM seal with a fixed nonce, no framing and no
	// nonce generation.
	block, _ := sm4.NewCipher(key[:16])
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	buf := make([]byte, 0, 64)
	start := time.Now()
	for i := 0; i < b.N; i++ {
		buf = gcm.Seal(buf[:0], nonce, []byte(v), []byte(ctx))
	}
	base := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(perOp)/float64(max(base, 1)), "x-bare-gcm")
}

func BenchmarkBlindIndexSM3(b *testing.B) {
	k := NewKeyring(make([]byte, 32)).WithSuite(SuiteSM)
	const v, ctx = "11010519491231002X", "person.id_number"
	for b.Loop() {
		_ = k.BlindIndex(v, ctx)
	}
	perOp := b.Elapsed() / time.Duration(b.N)

	// Baseline: one unkeyed SM3 of the same input.
	in := []byte(ctx + "\x00" + v)
	var sink [32]byte
	start := time.Now()
	for i := 0; i < b.N; i++ {
		sink = sm3.Sum(in)
	}
	base := time.Since(start) / time.Duration(b.N)
	_ = sink
	b.ReportMetric(float64(perOp)/float64(max(base, 1)), "x-sm3")
}
