// Package member is the client side of Kafka's classic group protocol for
// eddy's stream engine: it joins a group, runs the leader's assignment when
// this member leads, syncs, heartbeats, and tells its owner when a
// generation ends so the owner can commit and hand its work back before
// rejoining. It speaks through a kmsg.Requestor, so the same code runs
// against the embedded broker's coordinator in process
// ((*broker.Broker).GroupRequestor) and against any Kafka cluster through a
// client that sends raw requests.
//
// It is not a consumer: it fetches nothing and commits nothing; the engine
// decides what an assignment means (tasks, not partitions) and does both.
package member
