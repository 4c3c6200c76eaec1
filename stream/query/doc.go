// Package query serves a running app's tables over HTTP: interactive
// queries, Kafka Streams' name for reading an application's state from
// outside while it runs.
//
//	counts := table.Count(grouped, table.Named("counts"))
//	app, _ := stream.NewApp(b, cfg)
//	go app.Run(ctx)
//	http.ListenAndServe(":8080", query.Handler(app, query.Table(counts)))
//
// # Endpoints
//
// GET /stores/{name}/keys/{key} answers the key's current value as JSON
// (200), or 404 when the store has no such key. The value is the one the
// task owning the key's partition holds, updates not yet committed
// included (table.Lookup). The key is the rest of the path, URL-escaped;
// escape "/" in keys as %2F.
//
// GET /stores/{name}/range?from=&to=&limit= answers a JSON array of
// {"key": ..., "value": ...} objects with keys from from to to, both
// included, in the byte order of the serialized keys (table.Range), merged
// across partitions. An absent from or to leaves that side open (an empty
// one is the empty key). At most limit entries come back (1000 by default,
// 10,000 at most); when the range holds more, the answer carries a Link
// header to the rest, rel="next", whose from is the first key not sent.
//
// How keys are read from URLs and values written is per store
// (TableQuery's ParseKey and EncodeValue): by default strings as they are,
// numbers and booleans in Go's strconv syntax, encoding.TextUnmarshaler
// types through it, other types as JSON text; values with encoding/json.
//
// # Errors
//
// Every error answer is JSON, {"error": {"code": ..., "message": ...,
// "store": ..., "key": ...}}, with a stable code:
//
//	400 bad_key             the key or a range bound cannot be read as the store's key type
//	400 bad_request         a bad limit
//	404 store_not_found     no store of that name is served
//	404 key_not_found       the store has no such key
//	404 not_found           not one of the endpoints above
//	405 method_not_allowed  anything but GET and HEAD
//	421 not_owner           another instance owns the key's partition (see below)
//	500 misconfigured       two stores registered under one name, a table without a store
//	500 internal            a store failed
//	503 not_ready           the app is not running (yet, or any more); Retry-After says when to retry
//
// # Several instances
//
// When instances of an app share partitions through consumer-group
// assignment (stream.Config.ApplicationServer names each instance's
// endpoint), an instance asked for a key whose partition another instance
// owns answers 421 Misdirected Request with code "not_owner", an "owner" member
// in the error object ({"instance": ..., "endpoint": "http://host:port"})
// and a Location header with the same path on the owner, so that clients
// can retry there or cache the owner. A range over partitions other
// instances own answers the same way (gathering their parts is not done). Clients
// should treat unknown codes by their HTTP status.
//
// It is not a general admin API (topics, offsets), nor a way to write to
// stores, nor authentication: put it behind what the deployment uses.
package query
