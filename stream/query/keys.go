package query

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
)

// defaultParser returns how a key of type K is read from its URL text:
// strings as they are, numbers and booleans as Go's strconv writes them,
// encoding.TextUnmarshaler types through UnmarshalText, anything else as
// JSON text.
func defaultParser[K any]() func(string) (K, error) {
	typ := reflect.TypeFor[K]()
	if reflect.PointerTo(typ).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) {
		return func(s string) (K, error) {
			var k K
			err := any(&k).(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
			return k, err
		}
	}
	return func(s string) (K, error) {
		var k K
		v := reflect.ValueOf(&k).Elem()
		var err error
		switch typ.Kind() {
		case reflect.String:
			v.SetString(s)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			var n int64
			if n, err = strconv.ParseInt(s, 10, typ.Bits()); err == nil {
				v.SetInt(n)
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			var n uint64
			if n, err = strconv.ParseUint(s, 10, typ.Bits()); err == nil {
				v.SetUint(n)
			}
		case reflect.Float32, reflect.Float64:
			var f float64
			if f, err = strconv.ParseFloat(s, typ.Bits()); err == nil {
				v.SetFloat(f)
			}
		case reflect.Bool:
			var b bool
			if b, err = strconv.ParseBool(s); err == nil {
				v.SetBool(b)
			}
		default:
			err = json.Unmarshal([]byte(s), &k)
		}
		if err != nil {
			return k, fmt.Errorf("not a %v: %w", typ, err)
		}
		return k, nil
	}
}

// defaultFormatter is defaultParser's inverse: the URL text of a key.
func defaultFormatter[K any]() func(K) (string, error) {
	typ := reflect.TypeFor[K]()
	if typ.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
		return func(k K) (string, error) {
			b, err := any(k).(encoding.TextMarshaler).MarshalText()
			return string(b), err
		}
	}
	return func(k K) (string, error) {
		v := reflect.ValueOf(k)
		switch typ.Kind() {
		case reflect.String:
			return v.String(), nil
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return strconv.FormatInt(v.Int(), 10), nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return strconv.FormatUint(v.Uint(), 10), nil
		case reflect.Float32, reflect.Float64:
			return strconv.FormatFloat(v.Float(), 'g', -1, typ.Bits()), nil
		case reflect.Bool:
			return strconv.FormatBool(v.Bool()), nil
		}
		b, err := json.Marshal(k)
		return string(b), err
	}
}
