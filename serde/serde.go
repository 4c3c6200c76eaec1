package serde

// Serde converts values of T to and from record bytes.
//
// topic is the topic the record is read from or written to. Most serdes
// ignore it; it exists for serdes whose encoding varies by topic (schema
// registries) and to name the topic in errors.
//
// Implementations must be safe for concurrent use and must not retain the
// data passed to Deserialize (see the package documentation).
type Serde[T any] interface {
	Serialize(topic string, v T) ([]byte, error)
	Deserialize(topic string, data []byte) (T, error)
}

// Appender is implemented by serdes that can encode into a buffer they are
// given. The engine reuses one buffer per task for such serdes, where
// Serialize costs an allocation per record.
//
// AppendSerialize appends v's encoding to dst and returns the extended
// slice; the appended bytes must be exactly what Serialize returns. It must
// not keep dst.
type Appender[T any] interface {
	AppendSerialize(dst []byte, topic string, v T) ([]byte, error)
}
