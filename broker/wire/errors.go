package wire

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ErrServerClosed is returned by Serve once Close or Shutdown has been
// called, to tell a normal stop from a listener failure.
var ErrServerClosed = errors.New("wire: server closed")

// ErrShortSpan is returned by ConnWriter.WriteSpan when the file ends before
// the span does. The response's announced size can then no longer be met, so
// the connection is closed.
var ErrShortSpan = errors.New("wire: file shorter than span")

// Reasons a connection is closed for cause. They reach the log, wrapped with
// the details of the request that failed.
var (
	errFrameSize          = errors.New("wire: request size out of bounds")
	errTruncatedFrame     = errors.New("wire: connection closed inside a request")
	errMalformedHeader    = errors.New("wire: malformed request header")
	errMalformedBody      = errors.New("wire: request body does not decode")
	errUnknownAPIKey      = errors.New("wire: api key not served")
	errUnsupportedVersion = errors.New("wire: api version not served")
	errHandlerFailed      = errors.New("wire: handler failed")
	errBadResponse        = errors.New("wire: handler returned an unusable response")
)

// requestError ties a failure to the request it happened on, so the log line
// for the closed connection says which request caused it.
type requestError struct {
	apiKey        int16
	apiVersion    int16
	correlationID int32
	err           error
}

func (e *requestError) Error() string {
	return fmt.Sprintf("%s v%d (correlation id %d): %v",
		apiName(e.apiKey), e.apiVersion, e.correlationID, e.err)
}

func (e *requestError) Unwrap() error { return e.err }

func (e *requestError) logAttrs() []slog.Attr {
	return []slog.Attr{
		slog.Int("api_key", int(e.apiKey)),
		slog.String("api", apiName(e.apiKey)),
		slog.Int("api_version", int(e.apiVersion)),
		slog.Int("correlation_id", int(e.correlationID)),
	}
}

// apiName names a key for logs, including keys kmsg does not know.
func apiName(key int16) string {
	if name := kmsg.NameForKey(key); name != "Unknown" {
		return name
	}
	return fmt.Sprintf("ApiKey(%d)", key)
}
