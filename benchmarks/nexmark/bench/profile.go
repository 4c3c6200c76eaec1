package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
)

// queryProfile writes a CPU profile of one query's run to a file named
// after prefix and the query (prefix "cpu.pprof", query q5: "cpu.q5.pprof"),
// so the event generation and writing that precede the queries stay out of
// it. An empty prefix profiles nothing. The returned stop must be called
// when the query is done.
func queryProfile(prefix, query string) (stop func() error, err error) {
	return record("cpu profile", prefix, query, pprof.StartCPUProfile, pprof.StopCPUProfile)
}

// queryTrace writes an execution trace of one query's runs, to a file
// named as queryProfile names its files. An empty prefix traces nothing.
func queryTrace(prefix, query string) (stop func() error, err error) {
	return record("trace", prefix, query, trace.Start, trace.Stop)
}

// record runs start on a new file named after prefix and query, and
// returns what ends the recording and closes the file. An empty prefix
// records nothing.
func record(what, prefix, query string, start func(io.Writer) error, end func()) (stop func() error, err error) {
	if prefix == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(profileName(prefix, query))
	if err != nil {
		return nil, fmt.Errorf("%s of %s: %w", what, query, err)
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s of %s: %w", what, query, err)
	}
	return func() error {
		end()
		if err := f.Close(); err != nil {
			return fmt.Errorf("%s of %s: %w", what, query, err)
		}
		return nil
	}, nil
}

func profileName(prefix, query string) string {
	if base, ok := strings.CutSuffix(prefix, ".pprof"); ok {
		return base + "." + query + ".pprof"
	}
	return prefix + "." + query
}

// writeAllocProfile writes the allocations made since the previous call
// (or the start) to a file named as queryProfile names its files. An empty
// prefix writes nothing.
func writeAllocProfile(prefix, query string) error {
	if prefix == "" {
		return nil
	}
	f, err := os.Create(profileName(prefix, query))
	if err != nil {
		return fmt.Errorf("alloc profile of %s: %w", query, err)
	}
	runtime.GC() // the profile is as of the last GC
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("alloc profile of %s: %w", query, err)
	}
	return f.Close()
}
