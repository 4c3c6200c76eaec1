// Command wordcount is the classic word count on eddy, end to end on the
// embedded broker with nothing to install: it writes lines drawn from a
// small built-in corpus into a "lines" topic, runs a stream app that
// splits them into words (FlatMapValues), groups them by word and counts
// them into the table "word-count-store", whose updates go to the
// "word-counts" topic, and checks every count against a direct count of
// the lines in the topic.
//
//	go run ./examples/wordcount -lines 20000 -data ./data/wordcount
//
// It prints the most frequent words and exits non-zero on any mismatch.
// Run it again with the same data directory and the new lines add to the
// old counts.
//
// It is a demonstration of the DSL, not a benchmark harness.
package main
