// Command clickcount is eddy's click counter, end to end on the embedded
// broker with nothing to install: it writes generated page clicks (JSON,
// keyed by user) into a "clicks" topic, runs a stream app that keeps the
// mobile ones, groups them by page and counts them into the table
// "views-per-page", whose updates go to the "page-views" topic, and
// checks the result against counts made directly from the input.
//
//	go run ./examples/clickcount -clicks 500000 -data ./data/clickcount
//
// It prints the topology, the most viewed pages and the throughput, and
// exits non-zero if a count (queried from the running app with
// table.Lookup, or read back from "page-views") differs from the direct
// count. Run it again with the same data directory and it adds a new
// batch of clicks to the old ones: the app resumes from its committed
// offsets and local state, and the counts keep growing.
//
// It is a demonstration of the DSL, not a benchmark harness (see
// benchmarks/streambench).
package main
