package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
)

// queryProfile writes a CPU profile of one query's run to a file named
// after prefix and the query (prefix "cpu.pprof", query q5: "cpu.q5.pprof"),
// so the event generation and writing that precede the queries stay out of
// it. An empty prefix profiles nothing. The returned stop must be called
// when the query is done.
func queryProfile(prefix, query string) (stop func() error, err error) {
	if prefix == "" {
		return func() error { return nil }, nil
	}
	name := prefix + "." + query
	if base, ok := strings.CutSuffix(prefix, ".pprof"); ok {
		name = base + "." + query + ".pprof"
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, fmt.Errorf("cpu profile of %s: %w", query, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile of %s: %w", query, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("cpu profile of %s: %w", query, err)
		}
		return nil
	}, nil
}
