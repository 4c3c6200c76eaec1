// Package wire is the transport layer of eddy's Kafka protocol listener: it
// accepts TCP connections, frames and decodes Kafka requests with kmsg,
// dispatches each one to the handler registered for its API key, and writes
// the responses back in request order.
//
// # What it is for
//
// The embedded broker plugs one handler per API key into a Registry
// (produce.go, fetch.go, joingroup.go… in this package, later) and serves it
// with a Server. The package owns everything those handlers should not have
// to think about:
//
//   - Framing. A request is an int32 size followed by that many bytes. Sizes
//     below the smallest request header or above Config.MaxRequestSize close
//     the connection before anything of the claimed size is allocated; the
//     body buffer grows only as bytes actually arrive.
//   - The request header (api key, api version, correlation id, client id,
//     and the tagged fields of flexible versions) and the body, decoded by
//     kmsg. An unknown API key, a version outside the registered range or a
//     body that does not decode closes that connection only, with one log
//     line naming the cause. Nothing a client sends can stop the server.
//   - Pipelining. Requests on one connection run concurrently (a long-poll
//     Fetch does not hold up the requests behind it) but their responses are
//     written in request order. Config.MaxInFlightRequests and
//     Config.MaxInFlightBytes bound what one connection may hold.
//   - The response header: the correlation id, plus an empty tagged-field
//     section when the request was flexible — except for ApiVersions, whose
//     response header is always version 0.
//   - ApiVersions (key 18), built in: it advertises every registered key and
//     its version range, and answers a version it does not know with a
//     version 0 body carrying UNSUPPORTED_VERSION and the ranges, so clients
//     downgrade. A key registered with Unadvertised is served but not listed
//     (eddy never advertises ConsumerGroupHeartbeat, so clients stay on the
//     classic group protocol).
//   - Zero-copy responses. A handler returns a Response: either Message(m)
//     for a kmsg response, or a Pieces value made of byte slices and Spans of
//     files. Spans of files that have a descriptor are sent with sendfile(2)
//     at an explicit offset (never the file's shared position), so Fetch can
//     serve stored record batches without copying them through user space.
//     Other files are read with ReadAt and copied.
//
// # What it is not
//
// It holds no broker state: topics, partition logs, groups and producer ids
// live in the broker core, which handlers call. It has no SASL, TLS, quotas,
// request throttling or idle-connection timeouts of its own, and it is not a
// client. Spans go out with sendfile only on Linux and only over connections
// that expose a descriptor (plain TCP); elsewhere they are copied.
//
// # Handler contract
//
// A HandlerFunc runs on its own goroutine with a context that is cancelled
// when the connection closes or the server closes. It returns the response
// to write, nil to write nothing (Produce with acks=0), or an error, which
// closes the connection: Kafka errors belong inside response bodies, and an
// error return means no valid response can be produced. A Message response
// must be for the request's key and version (req.ResponseKind() gives one).
// A response implementing Releaser is released exactly once, after it has
// been written or when it is dropped because the connection closed, so a
// Span's file may be closed or reused only after Release.
package wire
