// Package demo holds what eddy's example programs share besides the
// library itself: writing generated input into a topic, reading a topic
// back, waiting for a running app's counts, and printing a ranking.
//
// It is scaffolding for examples/, not part of eddy's API: a real
// application gets its input from its own producers and has no expected
// counts to check against.
package demo
