// pingpong: Go's side of tether's peer comparison (issue 7), the workload of
// golang/go#21827 that the N:1 proposal measured: a client goroutine sends a
// request on an unbuffered channel to a server goroutine and waits for the
// reply on another, one request at a time.
//
//	GOMAXPROCS=2 pingpong -mode=locked   # the server calls runtime.LockOSThread
//	GOMAXPROCS=2 pingpong -mode=unlocked # the same goroutines, unlocked
//
// Each repetition is one testing.Benchmark (standard library only) and prints
// one JSON line: {"mode":..., "gomaxprocs":..., "iterations":..., "ns_per_op":...}.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// roundTrips runs b.N request/reply round trips against a fresh server
// goroutine. Starting the server is outside the timed region.
func roundTrips(b *testing.B, locked bool) {
	req := make(chan int)
	rep := make(chan int)
	ready := make(chan struct{})
	go func() {
		if locked {
			// What a thread-affine server does in Go: it owns its OS thread,
			// so every request and reply crosses threads.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		close(ready)
		for r := range req {
			rep <- r + 1
		}
	}()
	<-ready
	b.ResetTimer()
	sum := 0
	for i := 0; i < b.N; i++ {
		req <- i
		sum += <-rep
	}
	b.StopTimer()
	close(req)
	if sum == -1 { // keeps the replies observable
		fmt.Fprintln(os.Stderr, sum)
	}
}

func main() {
	mode := flag.String("mode", "locked", "locked: the server goroutine calls runtime.LockOSThread; unlocked: it does not")
	reps := flag.Int("reps", 1, "repetitions (one JSON line each)")
	benchtime := flag.Duration("benchtime", 500*time.Millisecond, "minimum measured time per repetition")
	testing.Init()
	flag.Parse()
	if *mode != "locked" && *mode != "unlocked" {
		fmt.Fprintf(os.Stderr, "pingpong: -mode must be locked or unlocked, not %q\n", *mode)
		os.Exit(2)
	}
	if *reps < 1 || *benchtime <= 0 {
		fmt.Fprintln(os.Stderr, "pingpong: -reps must be >= 1 and -benchtime > 0")
		os.Exit(2)
	}
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		fmt.Fprintln(os.Stderr, "pingpong:", err)
		os.Exit(2)
	}
	locked := *mode == "locked"
	enc := json.NewEncoder(os.Stdout)
	for i := 0; i < *reps; i++ {
		r := testing.Benchmark(func(b *testing.B) { roundTrips(b, locked) })
		if r.N == 0 {
			fmt.Fprintln(os.Stderr, "pingpong: the benchmark did not run")
			os.Exit(1)
		}
		enc.Encode(map[string]any{
			"mode":       *mode,
			"gomaxprocs": runtime.GOMAXPROCS(0),
			"iterations": r.N,
			"ns_per_op":  float64(r.T.Nanoseconds()) / float64(r.N),
		})
	}
}
