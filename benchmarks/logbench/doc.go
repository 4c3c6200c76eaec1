// Command logbench measures the partition log: append throughput for small
// and 1 KiB records in batches of 16 and 256, with fsync on acknowledgement
// and without syncing, and read throughput — each next to the raw
// sequential write bandwidth of the same disk, measured in the same run
// (plain writes of the same volume followed by one fdatasync).
package main
