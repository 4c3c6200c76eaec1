// Package batch is the one place in eddy that knows the Kafka RecordBatch v2
// byte format: the format eddy's partition log stores on disk, byte for byte
// as it travels on the Kafka wire.
//
// It parses and validates batch headers ([ParseHeader], [Validate]), splits a
// buffer of concatenated batches ([Next]), stamps the fields the broker owns
// ([SetBaseOffset], [SetPartitionLeaderEpoch], [SetLogAppendTime]), encodes
// batches for in-process producers ([Builder]) and walks the records of a
// stored batch for in-process consumers ([Iterator]).
//
// It is not a log, not a protocol codec and not a client: it knows nothing of
// topics, partitions, segments, produce or fetch requests, producer state or
// transactions. Older message formats (magic 0 and 1) are rejected, not
// converted.
//
// # Batch layout
//
// All integers in the header are big endian. The header is [HeaderSize] (61)
// bytes; the records section follows it and runs to the end of the batch.
// The offsets below are exported as constants (OffsetBaseOffset, ...) and are
// part of the format.
//
//	offset size field                 notes
//	     0    8 baseOffset            first offset of the batch; stamped by the broker
//	     8    4 batchLength           bytes after this field: total size = 12 + batchLength
//	    12    4 partitionLeaderEpoch  stamped by the broker; -1 from producers
//	    16    1 magic                 always 2
//	    17    4 crc                   CRC-32C (Castagnoli) of bytes [21, end)
//	    21    2 attributes            see below
//	    23    4 lastOffsetDelta       last offset - baseOffset
//	    27    8 firstTimestamp        timestamp of the first record (ms since epoch)
//	    35    8 maxTimestamp          largest record timestamp, or the log append time
//	    43    8 producerId            -1 when the producer is not idempotent
//	    51    2 producerEpoch         -1 when the producer is not idempotent
//	    53    4 baseSequence          -1 when the producer is not idempotent
//	    57    4 recordCount           records in the records section
//	    61    - records               recordCount records, compressed as a whole
//
// Because the CRC starts at attributes, the broker can stamp baseOffset and
// partitionLeaderEpoch (and batchLength stays fixed) without recomputing it.
//
// Attributes (int16):
//
//	bits 0-2  compression: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
//	bit  3    timestamp type: 0 create time, 1 log append time
//	bit  4    transactional
//	bit  5    control batch (transaction markers)
//	bit  6    delete horizon set (compaction; firstTimestamp holds it)
//	bits 7-15 unused, zero
//
// When the codec is not none, the whole records section (everything after
// the header) is one compressed stream; recordCount stays uncompressed in the
// header. Snappy accepts both raw snappy and the xerial framing the Java
// producer writes; lz4 is the standard lz4 frame format.
//
// # Record layout
//
// Each record is a sequence of variable-length integers and byte strings.
// varint and varlong are zig-zag encoded base-128 varints (at most 5 and 10
// bytes); a length of -1 means null.
//
//	field           type      notes
//	length          varint    bytes of the record after this field
//	attributes      int8      unused, zero
//	timestampDelta  varlong   timestamp - firstTimestamp; may be negative
//	offsetDelta     varint    offset - baseOffset; strictly increasing in a batch
//	keyLength       varint    -1 for a null key
//	key             bytes
//	valueLength     varint    -1 for a null value (a tombstone)
//	value           bytes
//	headerCount     varint    >= 0
//	headers         headerCount times:
//	  keyLength     varint    >= 0: header keys are never null
//	  key           bytes     UTF-8 string
//	  valueLength   varint    -1 for a null value
//	  value         bytes
//
// # Limits
//
// Decompression is bounded by [MaxDecompressedSize] by default (see
// [Iterator.SetDecompressLimit]) so that a small crafted batch cannot make
// the broker allocate gigabytes.
package batch
