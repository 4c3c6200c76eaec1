package query

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// TableQuery serves a materialized table (one made by table.From, Count,
// Reduce or Aggregate). Its methods change how keys are read from URLs and
// values written as JSON; each returns the TableQuery for chaining.
type TableQuery[K, V any] struct {
	t      table.Table[K, V]
	name   string
	parse  func(string) (K, error)
	format func(K) (string, error)
	encode func(V) ([]byte, error)
}

// Table registers a table under its store's name. Keys are read from their
// URL text as their type suggests: strings as they are; integers, floats
// and booleans as strconv writes them; types implementing
// encoding.TextUnmarshaler through it; anything else as JSON. Values and
// keys are written with encoding/json.
func Table[K, V any](t table.Table[K, V]) *TableQuery[K, V] {
	return &TableQuery[K, V]{
		t: t, name: t.StoreName(),
		parse: defaultParser[K](), format: defaultFormatter[K](),
		encode: func(v V) ([]byte, error) { return json.Marshal(v) },
	}
}

// As serves the table under name instead of its store's name.
func (q *TableQuery[K, V]) As(name string) *TableQuery[K, V] { q.name = name; return q }

// ParseKey sets how a key is read from its URL text, and format how a key
// is written into one (the next-page links of ranges): they must be each
// other's inverse.
func (q *TableQuery[K, V]) ParseKey(parse func(string) (K, error), format func(K) (string, error)) *TableQuery[K, V] {
	q.parse, q.format = parse, format
	return q
}

// EncodeValue sets how a value is written as JSON (default json.Marshal).
func (q *TableQuery[K, V]) EncodeValue(encode func(V) ([]byte, error)) *TableQuery[K, V] {
	q.encode = encode
	return q
}

// Name is the name the table is served under.
func (q *TableQuery[K, V]) Name() string { return q.name }

func (q *TableQuery[K, V]) check() error {
	if q.t.StoreName() == "" {
		return fmt.Errorf("%w: %s has no store of its own; register the table it was derived from", table.ErrNotQueryable, q.name)
	}
	return nil
}

func (q *TableQuery[K, V]) key(text string) (K, error) {
	k, err := q.parse(text)
	if err != nil {
		return k, fmt.Errorf("%w %q: %w", ErrBadKey, text, err)
	}
	return k, nil
}

// Get returns the JSON of the value of the key whose URL text is key.
func (q *TableQuery[K, V]) Get(app *stream.App, key string) (json.RawMessage, bool, error) {
	if err := q.check(); err != nil {
		return nil, false, err
	}
	k, err := q.key(key)
	if err != nil {
		return nil, false, err
	}
	v, ok, err := table.Lookup(app, q.t, k)
	if err != nil || !ok {
		return nil, false, err
	}
	b, err := q.encode(v)
	if err != nil {
		return nil, false, fmt.Errorf("query: %s: value of %q: %w", q.name, key, err)
	}
	return b, true, nil
}

// Range returns up to limit entries with keys from..to (URL texts, both
// included, nil for open), in key order, and the URL text of the key after
// them when the range holds more.
func (q *TableQuery[K, V]) Range(app *stream.App, from, to *string, limit int) ([]Entry, *string, error) {
	if err := q.check(); err != nil {
		return nil, nil, err
	}
	var lo, hi *K
	for _, b := range []struct {
		text *string
		key  **K
	}{{from, &lo}, {to, &hi}} {
		if b.text != nil {
			k, err := q.key(*b.text)
			if err != nil {
				return nil, nil, err
			}
			*b.key = &k
		}
	}
	it, err := table.Range(app, q.t, lo, hi)
	if err != nil {
		return nil, nil, err
	}
	defer it.Close()
	entries := []Entry{}
	for it.Next() {
		if len(entries) == limit {
			next, err := q.format(it.Key())
			if err != nil {
				return nil, nil, fmt.Errorf("query: %s: next key: %w", q.name, err)
			}
			return entries, &next, nil
		}
		kb, err := json.Marshal(it.Key())
		if err != nil {
			return nil, nil, fmt.Errorf("query: %s: key: %w", q.name, err)
		}
		vb, err := q.encode(it.Value())
		if err != nil {
			return nil, nil, fmt.Errorf("query: %s: value of %s: %w", q.name, kb, err)
		}
		entries = append(entries, Entry{Key: kb, Value: vb})
	}
	return entries, nil, it.Err()
}

// ErrBadKey wraps the error of a key, or range bound, that could not be
// read from its URL text; the handler answers 400.
var ErrBadKey = errors.New("query: bad key")
