package query

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/eddy-streams/eddy/internal/engine"
	"github.com/eddy-streams/eddy/storage"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// Queryable is a store the handler serves. Table makes one from a
// table.Table; other kinds of stores (windows) can implement it.
type Queryable interface {
	// Name is the store's name in URLs.
	Name() string
	// Get returns the JSON of the value of the key whose URL text is key,
	// found false when the key is absent. A key that cannot be read must
	// give an error wrapping ErrBadKey.
	Get(app *stream.App, key string) (value json.RawMessage, found bool, err error)
	// Range returns up to limit entries with keys from..to (URL texts, both
	// included; nil leaves a side open) in key order, and the URL text of
	// the key after the last one if there are more.
	Range(app *stream.App, from, to *string, limit int) (entries []Entry, next *string, err error)
}

// Entry is one entry of a range answer.
type Entry struct {
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
}

// Range answers hold at most MaxLimit entries, DefaultLimit unless the
// request's limit parameter says otherwise.
const (
	DefaultLimit = 1000
	MaxLimit     = 10_000
)

// Handler serves the interactive queries of app's stores:
//
//	GET /stores/{name}/keys/{key}          the key's value as JSON (404 if absent)
//	GET /stores/{name}/range?from=&to=     [{"key": ..., "value": ...}, ...] in key order
//
// See the package documentation for the parameters, the error answers and
// what a later multi-instance version adds. Registering two stores under
// one name is an error every request then reports (500, "misconfigured").
func Handler(app *stream.App, stores ...Queryable) http.Handler {
	h := &handler{app: app, stores: map[string]Queryable{}}
	for _, s := range stores {
		if _, dup := h.stores[s.Name()]; dup {
			h.misconfigured = fmt.Errorf("query: two stores are registered as %q", s.Name())
		}
		h.stores[s.Name()] = s
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stores/{name}/keys/{key...}", h.get)
	mux.HandleFunc("/stores/{name}/range", h.rangeOf)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, apiError{Code: "not_found", Message: "no such endpoint: " + r.URL.Path +
			"; use /stores/{name}/keys/{key} or /stores/{name}/range"})
	})
	h.mux = mux
	return h
}

type handler struct {
	app           *stream.App
	stores        map[string]Queryable
	misconfigured error
	mux           *http.ServeMux
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, apiError{Code: "method_not_allowed", Message: r.Method + " is not supported; use GET"})
		return
	}
	if h.misconfigured != nil {
		writeError(w, http.StatusInternalServerError, apiError{Code: "misconfigured", Message: h.misconfigured.Error()})
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *handler) store(w http.ResponseWriter, r *http.Request) (Queryable, bool) {
	name := r.PathValue("name")
	s, ok := h.stores[name]
	if !ok {
		writeError(w, http.StatusNotFound, apiError{Code: "store_not_found", Store: name, Message: fmt.Sprintf("no store %q is served here", name)})
	}
	return s, ok
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	s, ok := h.store(w, r)
	if !ok {
		return
	}
	key := r.PathValue("key")
	value, found, err := s.Get(h.app, key)
	if err != nil {
		writeFailure(w, r, apiError{Store: s.Name(), Key: &key}, err)
		return
	}
	if !found {
		writeError(w, http.StatusNotFound, apiError{Code: "key_not_found", Store: s.Name(), Key: &key,
			Message: fmt.Sprintf("store %s has no key %q", s.Name(), key)})
		return
	}
	writeJSON(w, http.StatusOK, value)
}

func (h *handler) rangeOf(w http.ResponseWriter, r *http.Request) {
	s, ok := h.store(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	bound := func(name string) *string {
		if !q.Has(name) {
			return nil
		}
		v := q.Get(name)
		return &v
	}
	from, to := bound("from"), bound("to")
	limit := DefaultLimit
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > MaxLimit {
			writeError(w, http.StatusBadRequest, apiError{Code: "bad_request", Store: s.Name(),
				Message: fmt.Sprintf("limit %q: want a number from 1 to %d", q.Get("limit"), MaxLimit)})
			return
		}
		limit = n
	}
	entries, next, err := s.Range(h.app, from, to, limit)
	if err != nil {
		writeFailure(w, r, apiError{Store: s.Name()}, err)
		return
	}
	if next != nil {
		// The rest of the range starts at the next key (from is inclusive).
		nq := url.Values{"from": {*next}, "limit": {strconv.Itoa(limit)}}
		if to != nil {
			nq.Set("to", *to)
		}
		link := url.URL{Path: r.URL.Path, RawQuery: nq.Encode()}
		w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", link.String()))
	}
	body, err := json.Marshal(entries)
	if err != nil {
		writeFailure(w, r, apiError{Store: s.Name()}, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// apiError is the body of every error answer: {"error": {...}}.
type apiError struct {
	// Code is a stable, machine-readable name of the error.
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Store   string  `json:"store,omitempty"`
	Key     *string `json:"key,omitempty"`
	// Owner names the instance that owns the key's partition (not_owner).
	Owner *owner `json:"owner,omitempty"`
}

type owner struct {
	Instance string `json:"instance"`
	Endpoint string `json:"endpoint,omitempty"`
}

// writeFailure answers an error from a store: 400 for a bad key, 421 when
// another instance owns the key's partition (with a Location on the owner
// when it has an application server), 503 while the app is not running,
// 500 otherwise.
func writeFailure(w http.ResponseWriter, r *http.Request, e apiError, err error) {
	e.Message = err.Error()
	var notLocal *engine.NotLocalError
	switch {
	case errors.As(err, &notLocal):
		e.Code = "not_owner"
		e.Owner = &owner{Instance: notLocal.Owner.ProcessID, Endpoint: notLocal.Owner.Endpoint}
		if ep := notLocal.Owner.Endpoint; ep != "" {
			if !strings.Contains(ep, "://") {
				ep = "http://" + ep
			}
			w.Header().Set("Location", strings.TrimSuffix(ep, "/")+r.URL.RequestURI())
		}
		writeError(w, http.StatusMisdirectedRequest, e)
	case errors.Is(err, ErrBadKey):
		e.Code = "bad_key"
		writeError(w, http.StatusBadRequest, e)
	case errors.Is(err, engine.ErrNotReady), errors.Is(err, storage.ErrClosed):
		e.Code = "not_ready"
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, e)
	case errors.Is(err, table.ErrNotQueryable):
		e.Code = "misconfigured"
		writeError(w, http.StatusInternalServerError, e)
	default:
		e.Code = "internal"
		writeError(w, http.StatusInternalServerError, e)
	}
}

func writeError(w http.ResponseWriter, status int, e apiError) {
	body, _ := json.Marshal(struct {
		Error apiError `json:"error"`
	}{e}) // strings only: cannot fail
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
