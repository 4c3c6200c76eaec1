package topology

// PartitionsOfReader, as an InternalTopic's Partitions, gives the topic as
// many partitions as the sub-topology that reads it has tasks, a count its
// other input topics decide. Joins write such topics so that their records
// meet the other side's partitions: a stream re-keyed before a join with a
// table, a foreign-key join's subscription and response topics. (A
// repartition topic sized by its writer, the default, would break
// co-partitioning whenever the two sides' topics have different counts.)
const PartitionsOfReader int32 = -1
