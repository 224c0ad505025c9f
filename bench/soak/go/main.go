// The Go twin of bench/soak/soak.cpp: the same routes, the same work per
// request, the same CSV samples (timers is empty: Go does not count them).
//
//	usage: soak [-addr 127.0.0.1:18500] [-csv FILE] [-write-timeout-ms 2000]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

var requests atomic.Uint64

// /proc/self/statm and /proc/self/fd are opened once, at start, so that a
// sample needs no new descriptor: it still works while a flood of
// connections has taken them all (both are in the idle baseline).
var statm, fdDir *os.File

func rssKB() int64 {
	buf := make([]byte, 128)
	n, err := statm.ReadAt(buf, 0)
	if n <= 0 && err != nil {
		return -1
	}
	f := strings.Fields(string(buf[:n]))
	if len(f) < 2 {
		return -1
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize()) / 1024
}

func openFDs() int {
	if _, err := fdDir.Seek(0, 0); err != nil {
		return -1
	}
	names, err := fdDir.Readdirnames(-1)
	if err != nil {
		return -1
	}
	return len(names)
}

func sample(w *bufio.Writer, kind string) {
	fmt.Fprintf(w, "%d,%s,%d,%d,%d,,%d\n", time.Now().UnixMilli(), kind, rssKB(), openFDs(),
		runtime.NumGoroutine(), requests.Load())
	w.Flush()
}

// GET /: a per-request context with a timeout, a timer, a short-lived
// goroutine handing a value over a channel.
func work(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	handoff := make(chan int)
	n := requests.Load()
	go func() {
		select {
		case handoff <- int(n % 1000):
		case <-ctx.Done():
		}
	}()
	guard := time.NewTimer(10 * time.Second)
	v := -1
	select {
	case v = <-handoff:
	case <-ctx.Done():
	case <-guard.C:
	}
	guard.Stop()
	cancel()
	requests.Add(1)
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "ok %d\n", v)
}

var chunk = []byte(strings.Repeat("x", 64*1024))

func big(w http.ResponseWriter, r *http.Request) {
	mb, _ := strconv.ParseInt(r.URL.Query().Get("mb"), 10, 64)
	if mb <= 0 || mb > 4096 {
		mb = 1
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(mb*1024*1024, 10))
	for i := int64(0); i < mb*16; i++ {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18500", "listen address")
	csv := flag.String("csv", "", "CSV file (default stdout)")
	wt := flag.Int("write-timeout-ms", 2000, "write timeout")
	flag.Parse()
	out := os.Stdout
	if *csv != "" {
		f, err := os.Create(*csv)
		if err != nil {
			log.Fatal(err)
		}
		out = f
	}
	var err error
	if statm, err = os.Open("/proc/self/statm"); err != nil {
		log.Fatal(err)
	}
	if fdDir, err = os.Open("/proc/self/fd"); err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(out)
	fmt.Fprintln(w, "unix_ms,kind,rss_kb,fds,goroutines,timers,requests")
	w.Flush()

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			work(rw, r)
		case "/big":
			big(rw, r)
		case "/throw":
			panic("soak: a handler threw")
		default:
			http.NotFound(rw, r)
		}
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout: time.Duration(*wt) * time.Millisecond, IdleTimeout: 30 * time.Second}

	stop, _ := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	probes := make(chan os.Signal, 4)
	signal.Notify(probes, syscall.SIGUSR1)
	samplerDone := make(chan struct{})
	go func() {
		defer close(samplerDone)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				sample(w, "tick")
			case <-probes:
				sample(w, "probe")
			case <-stop.Done():
				return
			}
		}
	}()
	shutdownDone := make(chan struct{})
	go func() {
		defer close(shutdownDone)
		<-stop.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "soak: shutdown:", err)
		}
	}()
	fmt.Fprintln(os.Stderr, "soak: serving on", *addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	<-shutdownDone
	<-samplerDone
	fmt.Fprintf(os.Stderr, "soak: served %d requests, shut down\n", requests.Load())
}
