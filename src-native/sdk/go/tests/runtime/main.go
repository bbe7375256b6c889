// runtime — what the Go runtime needs of the sandbox, one check per GET argument: goroutines (100 goroutines, a
// WaitGroup and a channel), gc (allocation and a forced collection), sleep (time.Sleep: the runtime's timers, its
// epoll and wake-up pipe), state (a map changed by a request is as initialisation left it in the next), headers
// (the request's header fields). Each answers "<check> ok" or what went wrong.
package main

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"kvmfilter.io/sdk/kvm"
)

var seen = map[string]int{"boot": 1}

func check(r *kvm.Request) string {
	switch r.Arg {
	case "goroutines":
		var wg sync.WaitGroup
		results := make(chan int, 100)
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func(i int) { defer wg.Done(); results <- i * i }(i)
		}
		wg.Wait()
		close(results)
		sum := 0
		for v := range results {
			sum += v
		}
		if sum != 328350 {
			return fmt.Sprintf("goroutines: sum %d", sum)
		}
	case "gc":
		var keep [][]byte
		for i := 0; i < 5000; i++ {
			keep = append(keep, make([]byte, 10000))
			if len(keep) > 50 {
				keep = keep[1:]
			}
		}
		before := readGCs()
		runtime.GC()
		if readGCs() <= before {
			return "gc: no collection ran"
		}
	case "sleep":
		start := time.Now()
		done := make(chan bool)
		go func() { time.Sleep(2 * time.Millisecond); done <- true }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			return "sleep: the timer never fired"
		}
		if time.Since(start) < 2*time.Millisecond {
			return "sleep: woke early"
		}
	case "state":
		seen["request"]++
		if seen["request"] != 1 || seen["boot"] != 1 {
			return fmt.Sprintf("state: %v", seen)
		}
	case "headers":
		for _, h := range r.Headers {
			if strings.EqualFold(h, "X-Test: go") {
				return "headers ok"
			}
		}
		return fmt.Sprintf("headers: %q", r.Headers)
	default:
		return "unknown check " + r.Arg
	}
	return r.Arg + " ok"
}

func readGCs() uint32 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.NumGC
}

func main() {
	for {
		r := kvm.NextRequest()
		kvm.Respond(200, "text/plain", []byte(check(r)))
	}
}
