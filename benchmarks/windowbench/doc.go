// Command windowbench measures eddy's windowed counts in process on the
// embedded broker: events are written to a topic first, then a tumbling
// (1 min) and a hopping (5 min advancing 1 min) window.Count each run over
// them as its own app, timed from its first record to its last, and printed
// as records/s. Each run's windows of a sample of keys are then checked
// against counts made directly from the events.
//
// It does not measure session or sliding windows, joins, or a broker over
// the network; streambench and the nexmark bench cover those paths.
package main
