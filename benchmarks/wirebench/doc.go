// Command wirebench measures eddy's broker over the Kafka protocol: a
// franz-go producer with acks=all (fsync before acknowledgement) sending 100
// B and 1 KiB records over loopback, at full speed and at half of it
// (records/s, MB/s, p50/p99 latency), a franz-go consumer reading them back,
// and the broker process's peak RSS — each next to the disk and loopback
// bandwidth measured in the same run.
package main
