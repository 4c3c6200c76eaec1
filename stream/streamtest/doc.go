// Package streamtest runs an eddy topology in a unit test, without a broker:
// eddy's counterpart of Kafka Streams' TopologyTestDriver.
//
//	d, err := streamtest.New(b)                // b: the app's *stream.Builder
//	in := streamtest.Input(d, "clicks", serde.String, serde.JSON[Click]())
//	out := streamtest.Output(d, "page-views", serde.String, serde.Int64)
//	err = in.Pipe("alice", Click{Page: "/"}, ts)
//	rec, ok := out.Read()
//
// The driver runs the engine's own tasks — the processors the DSL built,
// their stores and caches, the error policies, the punctuations — in the
// calling goroutine. Only the transport is replaced: piped records go
// straight to the task of their partition, and what the tasks produce is
// kept in memory per topic, where Output reads it. Nothing runs in the
// background and nothing sleeps, so a test gives the same result every time
// and takes microseconds per record.
//
// # Semantics
//
//   - A piped record lands on the partition Kafka's default partitioner
//     picks for its serialized key (murmur2), or on partition 0 without a
//     key; so do the records the topology writes, unless a partitioner
//     (stream.WithPartitioner) decides. Input and output topics have one
//     partition unless Partitions says otherwise; repartition and changelog
//     topics get the counts the app would give them.
//   - Each piped record is processed to the end before Pipe returns,
//     including through repartition topics: a record a task sends to a topic
//     the topology reads is processed by the reading task right away, in the
//     order records were sent. The records on internal topics can be read
//     with Output too, under their real names ("<app id>-<name>-repartition",
//     "<app id>-<name>-changelog").
//   - After each piped record (and each wall-clock punctuation) the driver
//     runs the commit cycle's cache flush, so every table update reaches the
//     outputs at once, one output record per update: what Kafka Streams'
//     TopologyTestDriver effectively does with caching disabled. With
//     ManualCommit, caches flush only on Commit (or when full), and repeated
//     updates of a key between commits leave as one record, as they do in a
//     running app between commit intervals.
//   - Stream-time punctuations fire as piped records advance their task's
//     stream time. Wall-clock punctuations fire only on AdvanceWallClock,
//     each time it passes their schedule; the clock starts at the Unix epoch
//     unless WallClock sets it.
//   - The app's error policies (AppConfig's OnDeserializationError and
//     OnProcessingError) apply: under FailOnError the failing Pipe returns a
//     *stream.ProcessingError naming topic, partition and offset, and the
//     driver stops as the app would; dead-letter records can be read with
//     Output on the dead-letter topic, original bytes and error headers
//     included. PipeRaw sends bytes no serde produced, for poison-pill
//     tests.
//   - Stores start empty and are in memory unless StateDir puts them in
//     LevelDB. There is no changelog to restore from, no offset to commit
//     and no checkpoint.
//
// It is not a way to run an app in production (stream.App does), nor a
// broker for integration tests (broker.Open's embedded broker is), nor a
// model of several app instances sharing partitions: one driver owns every
// task. A Driver and its topics are meant for one test goroutine.
package streamtest
