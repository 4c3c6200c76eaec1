// Package group is the group coordinator of eddy's embedded broker: it runs
// Kafka's classic consumer-group protocol (JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup) and stores committed offsets, so that every standard Kafka
// client can use eddy for group management and offset storage.
//
// The API takes and returns kmsg request and response structs and honours
// their Version: the wire listener (broker/wire) hands decoded requests
// straight to a Coordinator, and the in-process runtime calls the same
// methods. Fields that do not exist in a request's version are neither read
// nor filled. The request header's client id and client host are passed
// through the context with WithClientInfo.
//
// # Group life cycle
//
// A group moves through Kafka's states:
//
//	Empty ──join──▶ PreparingRebalance ──all rejoined / rebalance timeout──▶ CompletingRebalance
//	  ▲                 ▲        │                                                 │ leader's SyncGroup,
//	  │                 │        └──no members left──▶ Empty (generation+1)          │ journaled
//	  │                 └──join, leave, session expiry, metadata change──── Stable ◀┘
//	  └──DeleteGroups / offsets expired──▶ Dead
//
// The first rebalance of an empty group waits Config.InitialRebalanceDelay
// (extended while members keep arriving, up to the rebalance timeout). From
// JoinGroup v4 a member without an id first gets MEMBER_ID_REQUIRED and its
// id. Members that do not rejoin within the rebalance timeout, or do not
// send SyncGroup within it after the join phase, are removed; so are members
// whose session expires. Static members (group.instance.id, KIP-345) keep
// their place across restarts of the client: a new incarnation fences the
// old member id and, in a stable group, takes over its assignment without a
// rebalance.
//
// # Durability
//
// Every change that Kafka persists goes through the Journal before the
// client hears of it: offset commits and deletions, the group metadata when
// the leader's assignment is accepted, when a group becomes empty, and
// tombstones when a group or offsets are deleted or expire. Records use
// Kafka's __consumer_offsets encodings (OffsetCommitKey v1 with
// OffsetCommitValue v3, or v1 for commits carrying their own expiry;
// GroupMetadataKey v2 with GroupMetadataValue v3), so Kafka's tooling can
// read the topic. Replay rebuilds the coordinator from those records at
// startup; groups come back Empty with their last generation and protocol
// type, and members rejoin.
//
// # Concurrency
//
// Each group has two locks: journalMu orders its journal appends, mu guards
// its state. JoinGroup and SyncGroup never hold a lock while they wait for
// the rebalance; they wait on a channel that the completing transition
// answers. Timeouts run on the injected Clock, so tests drive them without
// sleeping.
//
// # What it is not
//
// It is not a KIP-848 consumer-group coordinator (ConsumerGroupHeartbeat),
// not a transaction coordinator (TxnOffsetCommit belongs to the broker's
// transactions), and it does not authorize requests or decide whether it is
// the coordinator for a group: the broker does that before calling it. It
// knows about topics only through the optional TopicIndex.
package group
