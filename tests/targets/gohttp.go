// SPDX-License-Identifier: MIT
//
// gohttp: a Go HTTP server for tests/e2e/test_go.py (built by the Makefile
// with Debian's golang when it is installed).
//
//	gohttp [-spin US] [-depth N]
//
// Prints "ready PID PORT" once it listens on 127.0.0.1 (a free port).
//
//	GET /order   handleOrder -> priceOrder (spins -spin us) -> growStack
//	             (recurses -depth frames of 1 KiB each, so that the
//	             goroutine's stack has to grow and be copied), then
//	             answers "ok"
//	GET /hold    enters holdCall and waits there until /release: a call in
//	             progress while the test does something to flowprof; then
//	             growStack runs, inside the call
//	GET /release lets every holdCall go on
//	GET /stats   the server's own counts and times, as JSON: per handler
//	             {"calls", "total_ns"}, each call timed by its own body
//	GET /quit    exits 0
//
// Each handler is a real function (never inlined) whose body times itself
// with the monotonic clock: total_ns is what the calls took, probes' time
// of nested calls included (priceOrder nests none, so its is the truth).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type stat struct {
	calls   int64
	totalNs int64
}

var (
	spinUs  = flag.Int("spin", 200, "priceOrder's work, in microseconds")
	depth   = flag.Int("depth", 64, "growStack's recursion depth (1 KiB frames)")
	stats   = map[string]*stat{"handleOrder": {}, "priceOrder": {}, "growStack": {}, "holdCall": {}}
	release = make(chan struct{})
	relOnce sync.Mutex
)

func add(name string, t0 time.Time) {
	s := stats[name]
	atomic.AddInt64(&s.calls, 1)
	atomic.AddInt64(&s.totalNs, int64(time.Since(t0)))
}

//go:noinline
func priceOrder(us int) int {
	t0 := time.Now()
	n := 0
	for time.Since(t0) < time.Duration(us)*time.Microsecond {
		n++
	}
	add("priceOrder", t0)
	return n
}

// One KiB of locals per frame: depth frames outgrow a new goroutine's stack.
//
//go:noinline
func grow(n int) int {
	var pad [1024]byte
	pad[n%1024] = byte(n)
	if n <= 0 {
		return int(pad[0])
	}
	return grow(n-1) + int(pad[n%1024])
}

//go:noinline
func growStack(n int) int {
	t0 := time.Now()
	r := grow(n)
	add("growStack", t0)
	return r
}

//go:noinline
func handleOrder(w http.ResponseWriter) {
	t0 := time.Now()
	priceOrder(*spinUs)
	growStack(*depth)
	add("handleOrder", t0)
	fmt.Fprint(w, "ok\n")
}

//go:noinline
func holdCall(w http.ResponseWriter) {
	t0 := time.Now()
	relOnce.Lock()
	ch := release
	relOnce.Unlock()
	<-ch
	growStack(*depth * 4)
	add("holdCall", t0)
	fmt.Fprint(w, "released\n")
}

func main() {
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gohttp:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/order", func(w http.ResponseWriter, r *http.Request) { handleOrder(w) })
	mux.HandleFunc("/hold", func(w http.ResponseWriter, r *http.Request) { holdCall(w) })
	mux.HandleFunc("/release", func(w http.ResponseWriter, r *http.Request) {
		relOnce.Lock()
		close(release)
		release = make(chan struct{})
		relOnce.Unlock()
		fmt.Fprint(w, "ok\n")
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		out := map[string]map[string]int64{}
		for name, s := range stats {
			out[name] = map[string]int64{"calls": atomic.LoadInt64(&s.calls),
				"total_ns": atomic.LoadInt64(&s.totalNs)}
		}
		json.NewEncoder(w).Encode(map[string]interface{}{"pid": os.Getpid(), "handlers": out})
	})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "bye\n")
		go func() { time.Sleep(50 * time.Millisecond); os.Exit(0) }()
	})
	fmt.Printf("ready %d %d\n", os.Getpid(), ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintln(os.Stderr, "gohttp:", err)
		os.Exit(1)
	}
}
