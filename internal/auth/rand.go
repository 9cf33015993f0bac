package auth

import (
	"crypto/rand"
	"math/big"
	"time"
)

func randInt(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		panic(err)
	}
	return v.Int64()
}

var timeZero time.Time
