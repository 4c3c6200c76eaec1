// Command nexmark-gen writes Nexmark events into an embedded broker's data
// directory — topics nexmark-person, nexmark-auction and nexmark-bid — or,
// with -json, prints them as JSON lines. `eddy broker --data DIR` can then
// serve that directory to any Kafka client, or an app open it in process.
//
//	go run ./benchmarks/nexmark/cmd/nexmark-gen -dir ./data/nexmark -events 1000000
package main
