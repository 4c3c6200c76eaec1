// Package serde converts the typed keys and values of eddy's DSL to and from
// the bytes of Kafka records.
//
// A [Serde] is a value handed to the DSL wherever a topic is read or written:
//
//	clicks := stream.From(b, "clicks", serde.String, serde.JSON[Click]())
//
// The package provides the serdes most topologies need: [String], [Bytes],
// [Int64], [Int32] and [Float64], byte-compatible with the Java client's
// StringSerde, ByteArraySerde, LongSerde, IntegerSerde and DoubleSerde so that
// eddy apps and Java (or librdkafka) apps can share topics; [JSON] for any
// type encoding/json handles; [Proto] for protobuf messages; and [Func] to
// build a serde from two plain functions.
//
// # Wire formats
//
//	serde    bytes                           Java counterpart
//	String   UTF-8 text, as is               StringSerializer (UTF-8)
//	Bytes    as is                           ByteArraySerializer
//	Int64    8 bytes, big endian             LongSerializer
//	Int32    4 bytes, big endian             IntegerSerializer
//	Float64  8 bytes, IEEE-754 big endian    DoubleSerializer
//	JSON     encoding/json text              none: plain JSON
//	Proto    protobuf binary, deterministic  none: no schema-registry header
//
// Float64 writes every NaN as 7F F8 00 00 00 00 00 00, as Java's
// Double.doubleToLongBits does, so equal values always produce equal bytes.
// String does not validate UTF-8: invalid bytes pass through unchanged in both
// directions (Java would replace them with U+FFFD).
//
// # Ownership of bytes
//
// Deserialize never keeps a reference to its input: the engine may hand it
// bytes that alias a fetch buffer or the broker's page cache, valid only
// during the call. Every serde here copies what it keeps (Bytes included).
// A serde built with [Func] must do the same.
//
// # Null records
//
// Kafka records may have a null key or value (keyless records, tombstones).
// Deciding what a null means is the engine's business, done before a serde is
// called; a serde given nil treats it as empty input (so Int64 reports a
// wrong length). [Bytes] is the one serde that can express null, and it maps
// nil to nil both ways, as Java's ByteArraySerde maps null to null. Every
// other serde here returns a non-nil slice from Serialize, even for an empty
// string or an empty message, so a value can never turn into a tombstone by
// accident.
//
// # Errors
//
// Failures wrap [ErrSerialize] or [ErrDeserialize] and name the topic, the
// type and what was wrong ("int64 needs 8 bytes, got 3"); the underlying
// error, if any (a *json.SyntaxError, a user function's error), is wrapped
// too, so both errors.Is and errors.As work. The engine routes deserialize
// failures to the configured bad-record handler.
//
// # What this package is not
//
// It is not a schema registry client: [Proto] and [JSON] write bare payloads,
// without the magic byte and schema id that registry-aware serializers
// prepend. It does not encode windowed keys or changelog framing; the window
// and table packages build those on top of these serdes. It holds no state
// and no configuration: every serde is an immutable value, safe for
// concurrent use.
package serde
