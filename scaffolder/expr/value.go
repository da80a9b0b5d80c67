package expr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
)

// undefinedType is the JavaScript undefined value.
type undefinedType struct{}

func (undefinedType) String() string { return "undefined" }

// MarshalJSON renders undefined as null (JSON has no undefined).
func (undefinedType) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// Undefined is the JavaScript undefined value. RenderValue returns it when a
// sole expression evaluates to undefined (Backstage then drops the key).
var Undefined any = undefinedType{}

// IsUndefined reports whether v is the undefined value.
func IsUndefined(v any) bool { _, ok := v.(undefinedType); return ok }

// Object is an insertion-ordered JavaScript object.
type Object struct {
	keys []string
	vals map[string]any
}

// NewObject returns an empty object.
func NewObject() *Object { return &Object{vals: map[string]any{}} }

// Set sets a key, keeping the position of an existing key.
func (o *Object) Set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// Get returns the value of a key.
func (o *Object) Get(k string) (any, bool) { v, ok := o.vals[k]; return v, ok }

// Keys returns the keys in insertion order.
func (o *Object) Keys() []string { return append([]string(nil), o.keys...) }

// Len is the number of keys.
func (o *Object) Len() int { return len(o.keys) }

// MarshalJSON writes the object like JSON.stringify (undefined members dropped).
func (o *Object) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	writeJSON(&b, o, "", "")
	return []byte(b.String()), nil
}

// UnmarshalJSON reads a JSON object keeping key order.
func (o *Object) UnmarshalJSON(data []byte) error {
	v, err := DecodeJSON(data)
	if err != nil {
		return err
	}
	obj, ok := v.(*Object)
	if !ok {
		return fmt.Errorf("expr: JSON value is not an object")
	}
	*o = *obj
	return nil
}

// DecodeJSON decodes JSON into the engine's value model: objects become
// *Object (key order kept), numbers float64.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("expr: trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := NewObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.Set(k, v)
			}
			_, err := dec.Token()
			return o, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
		return nil, fmt.Errorf("expr: unexpected delimiter %v", t)
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		return f, err
	default:
		return t, nil // string, bool, nil
	}
}

// normalize converts Go input values to the engine's value model.
func normalize(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, *Object, undefinedType, *jsRegex, Func:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case uint:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := NewObject()
		for _, k := range keys {
			o.Set(k, normalize(x[k]))
		}
		return o
	case map[string]string:
		m := map[string]any{}
		for k, s := range x {
			m[k] = s
		}
		return normalize(m)
	case func(args ...any) any:
		return Func(func(c *callCtx, args []any, kw *Object) (any, error) { return x(args...), nil })
	}
	// Unknown Go types: round-trip through JSON.
	data, err := json.Marshal(v)
	if err != nil {
		return Undefined
	}
	out, err := DecodeJSON(data)
	if err != nil {
		return Undefined
	}
	return out
}

// ---- JavaScript conversions -------------------------------------------------

func truthy(v any) bool {
	switch x := v.(type) {
	case nil, undefinedType:
		return false
	case bool:
		return x
	case float64:
		return x != 0 && !math.IsNaN(x)
	case string:
		return x != ""
	}
	return true
}

func typeOf(v any) string {
	switch v.(type) {
	case undefinedType:
		return "undefined"
	case nil:
		return "object"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case Func:
		return "function"
	}
	return "object"
}

// formatNumber prints a float64 like JavaScript's Number.prototype.toString.
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	neg := f < 0
	if neg {
		f = -f
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expS, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expS)
	digits := strings.Replace(mant, ".", "", 1)
	k := len(digits)
	n := exp + 1
	var out string
	switch {
	case k <= n && n <= 21:
		out = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		out = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		out = "0." + strings.Repeat("0", -n) + digits
	default:
		e := n - 1
		sign := "+"
		if e < 0 {
			sign = "-"
			e = -e
		}
		m := digits[:1]
		if k > 1 {
			m += "." + digits[1:]
		}
		out = m + "e" + sign + strconv.Itoa(e)
	}
	if neg {
		out = "-" + out
	}
	return out
}

// jsString is JavaScript's String(v). Output beyond maxOutput bytes is cut
// (the caller's size checks then fail), so shared nested arrays cannot
// blow up.
func jsString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var b strings.Builder
		appendString(&b, x)
		return b.String()
	}
	return scalarString(v)
}

func scalarString(v any) string {
	switch x := v.(type) {
	case undefinedType:
		return "undefined"
	case nil:
		return "null"
	case bool:
		if x {
			return "true"
		}
		return "false"
	case float64:
		return formatNumber(x)
	case string:
		return x
	case *jsRegex:
		return "/" + x.source + "/" + x.flags
	case Func:
		return "function () { [native code] }"
	case []any:
		return jsString(x)
	}
	return "[object Object]"
}

func appendString(b *strings.Builder, arr []any) {
	for i, e := range arr {
		if b.Len() > maxOutput {
			return
		}
		if i > 0 {
			b.WriteByte(',')
		}
		switch y := e.(type) {
		case nil, undefinedType:
		case []any:
			appendString(b, y)
		default:
			b.WriteString(scalarString(y))
		}
	}
}

// outputString is how a ${{ }} output is printed: null and undefined are "".
func outputString(v any) string {
	if v == nil || IsUndefined(v) {
		return ""
	}
	return jsString(v)
}

func toNumber(v any) float64 {
	switch x := v.(type) {
	case undefinedType:
		return math.NaN()
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case float64:
		return x
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0
		}
		if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
			n, err := strconv.ParseInt(s[2:], 16, 64)
			if err != nil {
				return math.NaN()
			}
			return float64(n)
		}
		if s == "Infinity" || s == "+Infinity" {
			return math.Inf(1)
		}
		if s == "-Infinity" {
			return math.Inf(-1)
		}
		if strings.ContainsAny(s, "abcdfghijklmnopqrstuvwxyzABCDFGHIJKLMNOPQRSTUVWXYZ_") {
			return math.NaN()
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return math.NaN()
		}
		return f
	case []any:
		return toNumber(jsString(x))
	}
	return math.NaN()
}

func isPrimitiveString(v any) bool {
	switch v.(type) {
	case string, []any, *Object, *jsRegex, Func:
		return true
	}
	return false
}

// jsAdd is JavaScript's binary +.
func jsAdd(a, b any) any {
	if isPrimitiveString(a) || isPrimitiveString(b) {
		x, y := jsString(a), jsString(b)
		if len(x)+len(y) > maxOutput {
			return x // cut; the caller reports the oversized result
		}
		return x + y
	}
	return toNumber(a) + toNumber(b)
}

func looseEqual(a, b any) bool {
	if a == nil || IsUndefined(a) {
		return b == nil || IsUndefined(b)
	}
	if b == nil || IsUndefined(b) {
		return false
	}
	switch x := a.(type) {
	case string:
		switch y := b.(type) {
		case string:
			return x == y
		case float64, bool:
			return toNumber(x) == toNumber(y)
		case []any, *Object:
			return x == jsString(y)
		}
		return false
	case float64:
		switch y := b.(type) {
		case float64:
			return x == y
		case string, bool:
			return x == toNumber(y)
		case []any:
			return x == toNumber(jsString(y))
		}
		return false
	case bool:
		return looseEqual(toNumber(x), b)
	}
	if _, ok := b.(bool); ok {
		return looseEqual(a, toNumber(b))
	}
	switch b.(type) {
	case string, float64:
		return looseEqual(b, a)
	}
	return strictEqual(a, b)
}

func strictEqual(a, b any) bool {
	switch x := a.(type) {
	case undefinedType:
		return IsUndefined(b)
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case *Object:
		y, ok := b.(*Object)
		return ok && x == y
	case *jsRegex:
		y, ok := b.(*jsRegex)
		return ok && x == y
	}
	return false
}

// jsLess compares like JavaScript's < (strings by code unit, else numbers).
func jsCompare(a, b any) (int, bool) {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return strings.Compare(as, bs), true
	}
	if _, ok := a.([]any); ok && bok {
		return strings.Compare(jsString(a), bs), true
	}
	x, y := toNumber(a), toNumber(b)
	if math.IsNaN(x) || math.IsNaN(y) {
		return 0, false
	}
	switch {
	case x < y:
		return -1, true
	case x > y:
		return 1, true
	}
	return 0, true
}

// jsLength returns the JavaScript length of a string (UTF-16 code units).
func jsLength(s string) int { return len(utf16.Encode([]rune(s))) }

// ---- JSON.stringify ---------------------------------------------------------

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func jsonSkippable(v any) bool {
	switch v.(type) {
	case undefinedType, Func:
		return true
	}
	return false
}

// writeJSON is JSON.stringify(v, null, indent); returns false when v is undefined.
func writeJSON(b *strings.Builder, v any, indent, cur string) bool {
	if b.Len() > maxOutput {
		return true
	}
	switch x := v.(type) {
	case undefinedType, Func:
		return false
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(jsString(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null")
		} else {
			b.WriteString(formatNumber(x))
		}
	case string:
		b.WriteString(jsonString(x))
	case *jsRegex:
		b.WriteString("{}")
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return true
		}
		inner := cur + indent
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if indent != "" {
				b.WriteString("\n" + inner)
			}
			if !writeJSON(b, e, indent, inner) {
				b.WriteString("null")
			}
		}
		if indent != "" {
			b.WriteString("\n" + cur)
		}
		b.WriteByte(']')
	case *Object:
		inner := cur + indent
		b.WriteByte('{')
		n := 0
		for _, k := range x.keys {
			e := x.vals[k]
			if jsonSkippable(e) {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			if indent != "" {
				b.WriteString("\n" + inner)
			}
			b.WriteString(jsonString(k))
			b.WriteByte(':')
			if indent != "" {
				b.WriteByte(' ')
			}
			writeJSON(b, e, indent, inner)
		}
		if indent != "" && n > 0 {
			b.WriteString("\n" + cur)
		}
		b.WriteByte('}')
	default:
		data, err := json.Marshal(x)
		if err != nil {
			b.WriteString("null")
		} else {
			b.Write(data)
		}
	}
	return true
}

// ToJSON serialises a value like JSON.stringify (ok=false for undefined).
func ToJSON(v any) (string, bool) {
	var b strings.Builder
	ok := writeJSON(&b, v, "", "")
	return b.String(), ok
}
