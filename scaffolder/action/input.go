package action

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

// Input accessors: rendered inputs hold JavaScript-like values (string,
// bool, float64, []any, *expr.Object or map[string]any).

func inStr(in map[string]any, key string) (string, error) {
	v, ok := in[key]
	if !ok || v == nil || expr.IsUndefined(v) {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("input %q must be a string, got %T", key, v)
	}
	return s, nil
}

func inBool(in map[string]any, key string) (bool, error) {
	v, ok := in[key]
	if !ok || v == nil || expr.IsUndefined(v) {
		return false, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("input %q must be a boolean, got %v", key, v)
}

func inNum(in map[string]any, key string) (float64, bool, error) {
	v, ok := in[key]
	if !ok || v == nil || expr.IsUndefined(v) {
		return 0, false, nil
	}
	switch x := v.(type) {
	case float64:
		return x, true, nil
	case int:
		return float64(x), true, nil
	case int64:
		return float64(x), true, nil
	case json.Number:
		f, err := x.Float64()
		return f, err == nil, err
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err == nil {
			return f, true, nil
		}
	}
	return 0, false, fmt.Errorf("input %q must be a number, got %v", key, v)
}

func inStrList(in map[string]any, key string) ([]string, error) {
	v, ok := in[key]
	if !ok || v == nil || expr.IsUndefined(v) {
		return nil, nil
	}
	switch x := v.(type) {
	case []string:
		return x, nil
	case string:
		return []string{x}, nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("input %q[%d] must be a string, got %T", key, i, e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("input %q must be an array of strings, got %T", key, v)
}

// asMap returns a shallow map view of an object value.
func asMap(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case *expr.Object:
		m := make(map[string]any, x.Len())
		for _, k := range x.Keys() {
			m[k], _ = x.Get(k)
		}
		return m, true
	}
	return nil, false
}

// JSON Schema helpers.

func schemaObj(required []string, props map[string]any) map[string]any {
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func sType(typ, title, desc string) map[string]any {
	s := map[string]any{"title": title, "description": desc}
	if typ != "" {
		s["type"] = typ
	}
	return s
}

func sStrArray(title, desc string) map[string]any {
	s := sType("array", title, desc)
	s["items"] = map[string]any{"type": "string"}
	return s
}
