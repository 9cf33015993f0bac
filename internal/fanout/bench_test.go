package fanout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"shequ/internal/gate"
	"shequ/internal/testutil"
)

// BenchmarkAlarmAcrossInstances measures how long an alarm published on one
// process's hub takes to reach a subscriber of another process's hub over
// the same PostgreSQL database (fanout), and beside it the limit measured
// in the same run: the same round trip of a bare NOTIFY heard by a bare
// LISTEN with pgx, with a payload of the same size (bare_notify).
//
//	SHEQU_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -run '^$' -bench AlarmAcrossInstances -benchtime 2000x ./internal/fanout/
func BenchmarkAlarmAcrossInstances(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := testutil.DSN(b, "postgres")
	alarm := func(i int) gate.AlarmEvent {
		return gate.AlarmEvent{ID: fmt.Sprintf("01JBENCH%018d", i), Kind: "fever", GateID: "01JGATE0000000000000000000", Gate: "东门 1 号闸机",
			CommunityID: "01JCOMM0000000000000000000", Person: "张*", Status: "open", At: time.Now()}
	}

	b.Run("fanout", func(b *testing.B) {
		one, two := start(b, ctx, dsn), start(b, ctx, dsn)
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			e := alarm(i)
			t0 := time.Now()
			one.hub.Publish(e)
			for got := range two.got {
				if got.ID == e.ID {
					break
				}
			}
			lat = append(lat, time.Since(t0))
		}
		b.StopTimer()
		report(b, lat)
	})

	b.Run("bare_notify", func(b *testing.B) {
		listen, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer listen.Close(ctx)
		send, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer send.Close(ctx)
		channel := "bench_" + fmt.Sprint(time.Now().UnixNano())
		if _, err := listen.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			b.Fatal(err)
		}
		payload, _ := json.Marshal(map[string]any{"o": "0123456789abcdef", "t": "alarm", "d": alarm(0)})
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if _, err := send.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, string(payload)); err != nil {
				b.Fatal(err)
			}
			if _, err := listen.WaitForNotification(ctx); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		b.StopTimer()
		report(b, lat)
	})
}

// report adds the median and 99th percentile, in milliseconds.
func report(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}
