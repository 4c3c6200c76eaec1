// Package kafka implements broker.Client over an Apache Kafka cluster
// through sarama: the scale-out backend of eddy (decision 10 of the design).
// A stream app points at a cluster instead of the embedded broker by
// handing a *Client to stream.Config.Client; the engine sees the same
// interface either way.
//
//	cfg, err := kafka.ConfigFromEnv() // or kafka.Config{Brokers: []string{"k1:9092"}}
//	client, err := kafka.New(cfg)
//	defer client.Close()
//
// # Environment
//
// ConfigFromEnv reads:
//
//	EDDY_KAFKA_BROKERS          bootstrap servers, comma separated (required)
//	EDDY_KAFKA_CLIENT_ID        client id (default "eddy")
//	EDDY_KAFKA_VERSION          newest Kafka version to assume, e.g. 3.9.0 (default: newest sarama knows)
//	EDDY_KAFKA_SASL_MECHANISM   PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
//	EDDY_KAFKA_SASL_USER        SASL user
//	EDDY_KAFKA_SASL_PASSWORD    SASL password
//	EDDY_KAFKA_TLS              true: TLS with the system's roots
//	EDDY_KAFKA_TLS_CA_FILE      PEM file of CAs to trust (turns TLS on)
//	EDDY_KAFKA_DIAL_TIMEOUT     one connection attempt (default 5s)
//	EDDY_KAFKA_CONNECT_TIMEOUT  New's bound on reaching the cluster (default 10s)
//
// # How each call maps to Kafka
//
//   - CreateTopics: sarama's ClusterAdmin (CreateTopics at the controller),
//     then waits until metadata shows a leader for every partition. An
//     existing topic must match the spec's partition count and, if the spec
//     sets it, cleanup.policy (DescribeConfigs).
//   - Partitions: metadata, never auto-creating a topic. A missing topic is
//     broker.ErrUnknownTopic.
//   - Append: one Produce request (acks=all) at the partition leader. Idempotent
//     by default: InitProducerId once per client, a sequence per partition,
//     appends to a partition serialised; a retried request is deduplicated
//     by the cluster. After an append whose outcome is unknown the client
//     takes a new producer id rather than reuse the sequence.
//   - Fetch: one Fetch request (v12 at most, read_uncommitted) with
//     MinBytes 1 and MaxWaitTime maxWait: the long poll happens at the
//     broker.
//   - ListOffset: ListOffsets at the leader.
//   - CommitOffsets, CommittedOffsets: OffsetCommit (generation -1, no
//     member: a simple commit) and OffsetFetch at the group coordinator.
//
// Request versions are the newest sarama has for Config.Version, capped by
// what each broker advertises (ApiVersions). The client keeps metadata for
// every topic (sarama's full metadata, refreshed every ten minutes): the
// admin API needs the controller, which only a full metadata request
// names. Metadata requests never create topics.
//
// # Connecting
//
// New returns once a bootstrap server has answered a metadata request. An
// unreachable cluster (refused, silent or unresolvable) fails within
// Config.ConnectTimeout with ErrUnreachable; refused SASL credentials fail
// with ErrAuthentication. SASL supports PLAIN and SCRAM-SHA-256/512 (the
// SCRAM client is this package's own, RFC 5802 and 7677); TLS takes a
// *tls.Config.
//
// # Record batches are re-encoded
//
// sarama's public API neither sends nor returns a record batch as bytes:
// produce requests encode sarama.RecordBatch values and fetch responses are
// decoded (and decompressed) into them. So Append decodes eddy's v2
// batches into one sarama.RecordBatch (same records, timestamps, headers
// and codec), and Fetch re-encodes sarama's decoded batches into v2
// batches, uncompressed, with their offsets, timestamps, producer fields
// and attribute bits (transactional, control, log-append time) kept and the
// CRC recomputed. This costs a decode and an encode per batch each way; the
// embedded broker's in-process Client has neither.
//
// # Connections
//
// A sarama.Broker runs one synchronous request at a time, so data requests
// (Produce, Fetch, ListOffsets, group offsets) take connections from a small
// pool per broker address: a fetch waiting at the broker does not hold up
// appends or commits. Metadata and admin requests use sarama's client.
//
// # Errors
//
// Kafka error codes come back as *Error, which matches both its
// sarama.KError and the sentinel of package broker or broker/log with the
// same meaning: broker.ErrUnknownTopic, broker.ErrInvalidPartitions,
// log.ErrOffsetOutOfRange and so on (see codeError's table, which also
// marks the retriable codes). Every error names the operation and its
// topic partition or group. Retriable errors (leader moved, connection
// broken) are retried Config.Retries times with a backoff after a metadata
// or coordinator refresh. Calls return when their context ends; sarama
// takes no context, so the request itself finishes in the background.
package kafka
