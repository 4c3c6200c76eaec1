// Command bench measures eddy on Nexmark: it writes N generated events into
// an embedded broker first, then runs each query in process over the stored
// events, one app at a time, and prints the records each read per second,
// overall and per core (GOMAXPROCS), next to the rate at which the events
// were generated and written. A query's time runs from its first record
// read until every stage has processed everything (nexmark.Run). Each
// query's output is then checked against its reference computed from the
// same events (-check=false skips that). Each query runs -runs times (3),
// each run a new app reading the topics from the start, and the median rate
// is printed with the range: the machines are shared and noisy.
// -cpuprofile and -allocprofile write a CPU and an allocation profile of
// each query's runs alone (go tool pprof reads them), -trace an execution
// trace of them (go tool trace); -cache sets the
// apps' store cache (10 MiB, Kafka Streams' default).
//
// The windowed queries (q5, q7, q8) close a window once their time passes
// its end plus -grace. The events are generated in order, but the app's
// tasks process partitions at their own pace and repartitioned records
// interleave, so a record can still arrive after its window closed; such
// late records are counted and reported, and a query that had any is
// reported as not comparable rather than checked.
package main
