package form

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/catalog"
)

// DecodeErrors maps field names to problems met while decoding (a number
// that does not parse). The raw text is kept in the values so that it is
// shown again.
type DecodeErrors map[string]string

func (e DecodeErrors) Error() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k + ": " + e[k])
	}
	return b.String()
}

// Decode turns a submitted page back into typed values (numbers, booleans,
// arrays, nested objects), following the schema the page was rendered
// from. Empty inputs are left out, as react-jsonschema-form does. The
// error, when not nil, is a DecodeErrors.
func Decode(schema map[string]any, form url.Values) (map[string]any, error) {
	return DecodeOpts(schema, form, Options{})
}

// DecodeOpts is Decode for a page rendered with opts (its Prefix).
func DecodeOpts(schema map[string]any, form url.Values, opts Options) (map[string]any, error) {
	var out map[string]any
	var errs DecodeErrors
	// Dependencies and oneOf branches depend on the values: decode until
	// the set of fields is stable.
	prev := -1
	for i := 0; i < 6; i++ {
		d := &decoder{form: form, errs: DecodeErrors{}}
		out = d.object(schema, opts.Prefix, out, 0)
		errs = d.errs
		if n := countKeys(out); n == prev {
			break
		} else {
			prev = n
		}
	}
	if len(errs) > 0 {
		return out, errs
	}
	return out, nil
}

func countKeys(v any) int {
	n := 0
	switch t := v.(type) {
	case map[string]any:
		for _, x := range t {
			n += 1 + countKeys(x)
		}
	case []any:
		for _, x := range t {
			n += 1 + countKeys(x)
		}
	}
	return n
}

type decoder struct {
	form url.Values
	errs DecodeErrors
}

func (d *decoder) last(name string) (string, bool) {
	vs, ok := d.form[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[len(vs)-1], true
}

func (d *decoder) object(schema map[string]any, base string, guess map[string]any, depth int) map[string]any {
	out := map[string]any{}
	if depth > 12 || schema == nil {
		return out
	}
	if guess == nil {
		guess = map[string]any{}
	}
	s := effective(schema, guess)
	props := mapOf(s["properties"])
	for _, k := range orderKeys(propOrder(s), props, nil) {
		p := mapOf(props[k])
		if p == nil {
			continue
		}
		if v, ok := d.value(p, joinPath(base, k), mapOf(guess[k]), depth); ok {
			out[k] = v
		}
	}
	return out
}

func (d *decoder) value(p map[string]any, name string, guess map[string]any, depth int) (any, bool) {
	opts := uiOptions(p)
	widget := firstString(p["ui:widget"], opts["widget"])
	typ := typeOf(p)
	switch str(p["ui:field"]) {
	case "RepoUrlPicker":
		if host, ok := d.last(name + ":host"); ok {
			q := url.Values{}
			for _, part := range []string{"owner", "repo", "organization", "workspace", "project"} {
				if v, _ := d.last(name + ":" + part); strings.TrimSpace(v) != "" {
					q.Set(part, strings.TrimSpace(v))
				}
			}
			if q.Get("owner") == "" && q.Get("repo") == "" && q.Get("workspace") == "" && q.Get("project") == "" {
				return nil, false
			}
			return host + "?" + encodeQuery(q), true
		}
		raw, ok := d.last(name)
		return raw, ok && raw != ""
	case "EntityPicker", "OwnerPicker", "OwnedEntityPicker":
		raw, ok := d.last(name)
		raw = strings.TrimSpace(raw)
		if !ok || raw == "" {
			return nil, false
		}
		return fullRef(raw, opts), true
	case "MultiEntityPicker", "EntityTagsPicker":
		raw, ok := d.last(name)
		if !ok {
			return nil, false
		}
		var out []any
		for _, s := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
			if str(p["ui:field"]) == "MultiEntityPicker" {
				s = fullRef(s, opts)
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil, false
		}
		return out, true
	}
	switch typ {
	case "object":
		if widget == "hidden" {
			return nil, false
		}
		o := d.object(p, name, guess, depth+1)
		if len(o) == 0 {
			return nil, false
		}
		return o, true
	case "array":
		return d.array(p, name, depth)
	}
	raw, ok := d.last(name)
	if !ok {
		return nil, false
	}
	return d.scalar(typ, raw, name, opts)
}

// encodeQuery encodes q in a fixed order: owner, repo, then the others,
// matching Backstage's RepoUrlPicker serialisation.
func encodeQuery(q url.Values) string {
	var parts []string
	for _, k := range []string{"owner", "repo", "organization", "workspace", "project"} {
		if v := q.Get(k); v != "" {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

func (d *decoder) scalar(typ, raw, name string, opts map[string]any) (any, bool) {
	switch typ {
	case "boolean":
		switch strings.ToLower(strings.TrimSpace(raw)) {
		case "true", "on", "yes", "1":
			return true, true
		case "false", "off", "no", "0":
			return false, true
		case "":
			return nil, false
		}
		d.errs[name] = "Must be true or false."
		return raw, true
	case "number", "integer":
		t := strings.TrimSpace(raw)
		if t == "" {
			return nil, false
		}
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			d.errs[name] = "Must be a number."
			return raw, true
		}
		return f, true
	case "null":
		return nil, true
	default:
		if raw == "" {
			if ev, ok := opts["emptyValue"]; ok {
				return ev, true
			}
			return nil, false
		}
		return raw, true
	}
}

func (d *decoder) array(p map[string]any, name string, depth int) (any, bool) {
	items := mapOf(p["items"])
	if items == nil {
		items = map[string]any{"type": "string"}
	}
	ityp := typeOf(items)
	if len(listOf(items["enum"])) > 0 || constChoices(listOf(items["oneOf"])) != nil {
		var out []any
		for i, raw := range d.form[name] {
			if raw == "" {
				continue
			}
			if v, ok := d.scalar(ityp, raw, name+"."+strconv.Itoa(i), nil); ok {
				out = append(out, v)
			}
		}
		if len(out) == 0 {
			return nil, false
		}
		return out, true
	}
	if ityp == "object" {
		var out []any
		for i := 0; i < 1000; i++ {
			prefix := name + "." + strconv.Itoa(i)
			if !d.hasPrefix(prefix + ".") {
				break
			}
			o := d.object(items, prefix, nil, depth+1)
			if !blankItem(o) {
				out = append(out, o)
			}
		}
		if len(out) == 0 {
			return nil, false
		}
		return out, true
	}
	raws, ok := d.form[name]
	if !ok {
		return nil, false
	}
	var out []any
	for _, raw := range raws {
		for i, line := range strings.Split(strings.ReplaceAll(raw, "\r\n", "\n"), "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if v, ok := d.scalar(ityp, line, name+"."+strconv.Itoa(i), nil); ok {
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		return nil, false
	}
	return out, true
}

func (d *decoder) hasPrefix(prefix string) bool {
	for k := range d.form {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// blankItem reports whether an array item decoded to nothing but unchecked
// checkboxes: the spare empty item every object array is rendered with.
func blankItem(o map[string]any) bool {
	for _, v := range o {
		switch t := v.(type) {
		case bool:
			if t {
				return false
			}
		case map[string]any:
			if !blankItem(t) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// fullRef completes what was typed into an entity picker the way
// Backstage's pickers do on blur: parsed with the field's defaultKind and
// defaultNamespace and written as kind:namespace/name. Text that is not a
// ref (no kind and no defaultKind) is kept as typed.
func fullRef(s string, opts map[string]any) string {
	kind, _ := opts["defaultKind"].(string)
	ns, _ := opts["defaultNamespace"].(string)
	r, err := catalog.ParseRef(s, catalog.RefDefaults{Kind: kind, Namespace: ns})
	if err != nil || r.Kind == "" {
		return s
	}
	if r.Namespace == "" {
		r.Namespace = catalog.DefaultNamespace
	}
	return strings.ToLower(r.Kind) + ":" + r.Namespace + "/" + r.Name
}
