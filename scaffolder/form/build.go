package form

import (
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/a-h/templ"
)

// Options tune how a page is rendered.
type Options struct {
	// Prefix is prepended (with a '.') to every field name, e.g. "parameters".
	Prefix string
	// IDPrefix is prepended to every element id (default "f").
	IDPrefix string
	// Suggest, when set, supplies the <datalist> options of a ui:field
	// picker (EntityPicker, OwnerPicker, …). Nil or empty: no datalist.
	Suggest func(p Picker) []Choice
	// SuggestURL, when set, gives a picker's typeahead URL: htmx fetches
	// it as the user types (the input's own name=value pair added) and
	// puts the answer, <option> elements, into the field's <datalist>.
	// "" for no typeahead on that picker.
	SuggestURL func(p Picker) string
	// RepoHosts are the hosts offered by RepoUrlPicker when the field has
	// no ui:options.allowedHosts (default: github.com).
	RepoHosts []string
}

// Picker describes a ui:field picker asking for suggestions.
type Picker struct {
	Name    string         // field name (path)
	Field   string         // ui:field, e.g. "OwnerPicker"
	Options map[string]any // ui:options
	Value   any            // current value
}

// Choice is one option of a select, radio group, checkbox group or datalist.
type Choice struct {
	Value    string
	Label    string
	Selected bool
}

// Field is one rendered form control (or group), computed from the schema.
type Field struct {
	Kind        string // input, textarea, select, radio, checkbox, checkboxes, hidden, object, objects, repourl, picker
	Name        string
	ID          string
	Label       string
	Description string
	Help        string
	Error       string
	Required    bool
	Value       string
	Choices     []Choice
	Attrs       templ.Attributes // extra attributes of the control
	Children    []Field          // object: nested fields; objects: one object per item
	Datalist    []Choice
	Repo        *RepoField
	HideLabel   bool
}

// RepoField holds the parts of a RepoUrlPicker.
type RepoField struct {
	Hosts         []Choice
	Owner, Repo   string
	OwnerChoices  []Choice
	Organization  string
	Workspace     string
	Project       string
	ShowAzure     bool
	ShowBitbucket bool
}

// DescribedBy is the aria-describedby value of the field's control.
func (f Field) DescribedBy() string {
	var ids []string
	if f.Description != "" {
		ids = append(ids, f.ID+"-desc")
	}
	if f.Help != "" {
		ids = append(ids, f.ID+"-help")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// ControlAttrs are the common attributes of the field's main control.
func (f Field) ControlAttrs() templ.Attributes {
	a := templ.Attributes{}
	for k, v := range f.Attrs {
		a[k] = v
	}
	if d := f.DescribedBy(); d != "" {
		a["aria-describedby"] = d
	}
	if f.Error != "" {
		a["aria-invalid"] = "true"
	}
	if f.Required && f.Kind != "checkboxes" && f.Kind != "radio" {
		a["required"] = true
		a["aria-required"] = "true"
	}
	return a
}

type builder struct {
	opts Options
	errs map[string]string
}

// Build computes the fields of a page: what Page renders.
func Build(schema map[string]any, values map[string]any, errs map[string]string, opts Options) []Field {
	if opts.IDPrefix == "" {
		opts.IDPrefix = "f"
	}
	b := &builder{opts: opts, errs: errs}
	return b.object(schema, values, opts.Prefix, 0)
}

func (b *builder) object(schema map[string]any, values map[string]any, base string, depth int) []Field {
	if depth > 12 || schema == nil {
		return nil
	}
	if values == nil {
		values = map[string]any{}
	}
	s := effective(schema, values)
	props := mapOf(s["properties"])
	required := stringList(s["required"])
	var out []Field
	for _, k := range orderKeys(propOrder(s), props, stringList(schema["ui:order"])) {
		p := mapOf(props[k])
		if p == nil {
			continue
		}
		v, has := values[k]
		if !has {
			v = nil
		}
		out = append(out, b.field(p, k, v, joinPath(base, k), contains(required, k), depth))
	}
	return out
}

// orderKeys applies ui:order (with an optional "*" wildcard) to keys.
func orderKeys(keys []string, props map[string]any, order []string) []string {
	// keys may miss properties (e.g. when x-order is partial): add them sorted.
	var extra []string
	for k := range props {
		if !contains(keys, k) {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	keys = append(append([]string{}, keys...), extra...)
	if len(order) == 0 {
		return keys
	}
	var before, after []string
	star := -1
	for i, o := range order {
		if o == "*" {
			star = i
			continue
		}
		if _, ok := props[o]; !ok {
			continue
		}
		if star >= 0 {
			after = append(after, o)
		} else {
			before = append(before, o)
		}
	}
	var rest []string
	for _, k := range keys {
		if !contains(before, k) && !contains(after, k) {
			rest = append(rest, k)
		}
	}
	out := append(before, rest...)
	return append(out, after...)
}

func (b *builder) id(name string) string {
	r := strings.NewReplacer(".", "-", "~", "_", " ", "_")
	return b.opts.IDPrefix + "-" + r.Replace(name)
}

func (b *builder) field(p map[string]any, key string, v any, name string, required bool, depth int) Field {
	opts := uiOptions(p)
	f := Field{
		Name:     name,
		ID:       b.id(name),
		Label:    firstString(p["ui:title"], opts["title"], p["title"], key),
		Required: required,
		Error:    b.errs[name],
		Attrs:    templ.Attributes{},
	}
	f.Description = firstString(p["ui:description"], opts["description"], p["description"])
	f.Help = firstString(p["ui:help"], opts["help"])
	if l, ok := opts["label"].(bool); ok && !l {
		f.HideLabel = true
	}
	if ph := firstString(uiKey(p, "placeholder")); ph != "" {
		f.Attrs["placeholder"] = ph
	}
	if af, _ := uiKey(p, "autofocus").(bool); af {
		f.Attrs["autofocus"] = true
	}
	if ro, _ := uiKey(p, "readonly").(bool); ro || p["readOnly"] == true {
		f.Attrs["readonly"] = true
	}
	if d, _ := uiKey(p, "disabled").(bool); d {
		f.Attrs["disabled"] = true
	}
	widget := firstString(p["ui:widget"], opts["widget"])
	uiField := str(p["ui:field"])
	typ := typeOf(p)

	if widget == "hidden" {
		f.Kind = "hidden"
		f.Value = scalarString(v)
		return f
	}
	switch uiField {
	case "RepoUrlPicker":
		return b.repoURL(f, p, v)
	case "EntityPicker", "OwnerPicker", "OwnedEntityPicker", "EntityNamePicker", "MyGroupsPicker", "RepoOwnerPicker", "RepoBranchPicker":
		f.Kind = "picker"
		f.Value = scalarString(v)
		b.picker(&f, uiField, opts, v)
		b.stringAttrs(&f, p)
		return f
	case "MultiEntityPicker", "EntityTagsPicker":
		f.Kind = "picker"
		var parts []string
		for _, x := range listOf(v) {
			parts = append(parts, scalarString(x))
		}
		if s, ok := v.(string); ok {
			parts = []string{s}
		}
		f.Value = strings.Join(parts, ", ")
		f.Attrs["data-multiple"] = "true"
		if _, ok := f.Attrs["placeholder"]; !ok {
			f.Attrs["placeholder"] = "Separate values with commas"
		}
		b.picker(&f, uiField, opts, v)
		return f
	case "Secret":
		f.Kind = "input"
		f.Attrs["type"] = "password"
		f.Attrs["autocomplete"] = "off"
		f.Value = scalarString(v)
		return f
	}

	if uiField != "" {
		// A custom field extension this renderer does not know: render by
		// type, leaving a hook for a client-side enhancement.
		f.Attrs["data-ui-field"] = uiField
	}
	switch typ {
	case "object":
		f.Kind = "object"
		f.Children = b.object(p, mapOf(v), name, depth+1)
		return f
	case "array":
		return b.array(f, p, v, widget, depth)
	case "boolean":
		cur := v == true
		switch widget {
		case "radio", "select":
			f.Kind = widget
			labels := stringList(p["enumNames"])
			yes, no := "Yes", "No"
			if len(labels) == 2 {
				yes, no = labels[0], labels[1]
			}
			f.Choices = []Choice{{Value: "true", Label: yes, Selected: v == true}, {Value: "false", Label: no, Selected: v == false}}
			if widget == "select" && !required {
				f.Choices = append([]Choice{{Value: "", Label: ""}}, f.Choices...)
			}
		default:
			f.Kind = "checkbox"
			if cur {
				f.Attrs["checked"] = true
			}
		}
		return f
	}

	// Scalars: string, number, integer.
	if enum := listOf(p["enum"]); len(enum) > 0 {
		f.Choices = enumChoices(p, enum, func(x any) bool { return v != nil && scalarString(x) == scalarString(v) })
		if widget == "radio" {
			f.Kind = "radio"
		} else {
			f.Kind = "select"
			if !required || v == nil {
				f.Choices = append([]Choice{{Value: "", Label: ""}}, f.Choices...)
			}
		}
		return f
	}
	if br := listOf(p["oneOf"]); len(br) > 0 && constChoices(br) != nil {
		f.Choices = constChoices(br)
		for i := range f.Choices {
			f.Choices[i].Selected = v != nil && f.Choices[i].Value == scalarString(v)
		}
		if widget == "radio" {
			f.Kind = "radio"
		} else {
			f.Kind = "select"
			f.Choices = append([]Choice{{Value: "", Label: ""}}, f.Choices...)
		}
		return f
	}
	f.Value = scalarString(v)
	if typ == "number" || typ == "integer" {
		f.Kind = "input"
		f.Attrs["type"] = "number"
		if widget == "range" {
			f.Attrs["type"] = "range"
		}
		if typ == "integer" {
			f.Attrs["step"] = "1"
		} else {
			f.Attrs["step"] = "any"
		}
		if m, ok := p["multipleOf"]; ok {
			f.Attrs["step"] = scalarString(m)
		}
		if m, ok := p["minimum"]; ok {
			f.Attrs["min"] = scalarString(m)
		}
		if m, ok := p["maximum"]; ok {
			f.Attrs["max"] = scalarString(m)
		}
		f.Attrs["inputmode"] = "decimal"
		if typ == "integer" {
			f.Attrs["inputmode"] = "numeric"
		}
		return f
	}
	if widget == "textarea" {
		f.Kind = "textarea"
		if r, ok := opts["rows"].(float64); ok && r > 0 {
			f.Attrs["rows"] = strconv.Itoa(int(r))
		}
		b.lengthAttrs(&f, p)
		return f
	}
	f.Kind = "input"
	f.Attrs["type"] = inputType(str(p["format"]), widget, str(opts["inputType"]))
	b.stringAttrs(&f, p)
	return f
}

func (b *builder) lengthAttrs(f *Field, p map[string]any) {
	if m, ok := p["minLength"].(float64); ok {
		f.Attrs["minlength"] = strconv.Itoa(int(m))
	}
	if m, ok := p["maxLength"].(float64); ok {
		f.Attrs["maxlength"] = strconv.Itoa(int(m))
	}
}

func (b *builder) stringAttrs(f *Field, p map[string]any) {
	b.lengthAttrs(f, p)
	if pat := str(p["pattern"]); pat != "" {
		// JSON Schema patterns are unanchored; HTML patterns are anchored.
		f.Attrs["pattern"] = ".*(?:" + pat + ").*"
		f.Attrs["data-pattern"] = pat
	}
}

func inputType(format, widget, override string) string {
	if override != "" {
		return override
	}
	switch widget {
	case "password", "email", "url", "date", "color", "tel":
		return widget
	case "uri":
		return "url"
	case "datetime":
		return "datetime-local"
	}
	switch format {
	case "email", "idn-email":
		return "email"
	case "uri", "url", "iri":
		return "url"
	case "date":
		return "date"
	case "date-time":
		return "datetime-local"
	case "time":
		return "time"
	}
	return "text"
}

func firstString(vals ...any) string {
	for _, v := range vals {
		if s, ok := v.(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func enumChoices(p map[string]any, enum []any, sel func(any) bool) []Choice {
	names := stringList(p["enumNames"])
	if len(names) != len(enum) {
		names = nil
	}
	out := make([]Choice, 0, len(enum))
	for i, x := range enum {
		c := Choice{Value: scalarString(x), Label: scalarString(x), Selected: sel(x)}
		if names != nil {
			c.Label = names[i]
		}
		out = append(out, c)
	}
	return out
}

// constChoices turns a oneOf of {const, title} branches into choices.
func constChoices(br []any) []Choice {
	var out []Choice
	for _, x := range br {
		m := mapOf(x)
		c, ok := m["const"]
		if !ok {
			return nil
		}
		out = append(out, Choice{Value: scalarString(c), Label: firstString(m["title"], scalarString(c))})
	}
	return out
}

func (b *builder) array(f Field, p map[string]any, v any, widget string, depth int) Field {
	items := mapOf(p["items"])
	cur := listOf(v)
	if items == nil {
		items = map[string]any{"type": "string"}
	}
	if enum := listOf(items["enum"]); len(enum) > 0 || constChoices(listOf(items["oneOf"])) != nil {
		selected := map[string]bool{}
		for _, x := range cur {
			selected[scalarString(x)] = true
		}
		if len(enum) > 0 {
			f.Choices = enumChoices(items, enum, func(x any) bool { return selected[scalarString(x)] })
		} else {
			f.Choices = constChoices(listOf(items["oneOf"]))
			for i := range f.Choices {
				f.Choices[i].Selected = selected[f.Choices[i].Value]
			}
		}
		if widget == "select" {
			f.Kind = "select"
			f.Attrs["multiple"] = true
		} else {
			f.Kind = "checkboxes"
		}
		return f
	}
	if typeOf(items) == "object" {
		f.Kind = "objects"
		n := len(cur) + 1
		if m, ok := p["minItems"].(float64); ok && int(m) > n {
			n = int(m)
		}
		if m, ok := p["maxItems"].(float64); ok && n > int(m) && int(m) >= len(cur) {
			n = int(m)
		}
		for i := 0; i < n; i++ {
			var iv map[string]any
			if i < len(cur) {
				iv = mapOf(cur[i])
			}
			name := f.Name + "." + strconv.Itoa(i)
			f.Children = append(f.Children, Field{
				Kind:     "object",
				Name:     name,
				ID:       b.id(name),
				Label:    f.Label + " #" + strconv.Itoa(i+1),
				Children: b.object(items, iv, name, depth+1),
				Attrs:    templ.Attributes{},
			})
		}
		return f
	}
	// Arrays of scalars: one value per line.
	f.Kind = "textarea"
	f.Attrs["data-array"] = "lines"
	var lines []string
	for _, x := range cur {
		lines = append(lines, scalarString(x))
	}
	f.Value = strings.Join(lines, "\n")
	f.Attrs["rows"] = strconv.Itoa(max(3, len(lines)+1))
	if f.Help == "" {
		f.Help = "One value per line."
	}
	return f
}

func (b *builder) picker(f *Field, uiField string, opts map[string]any, v any) {
	f.Attrs["type"] = "text"
	f.Attrs["data-ui-field"] = uiField
	f.Attrs["autocomplete"] = "off"
	if len(opts) > 0 {
		if js, err := json.Marshal(opts); err == nil {
			f.Attrs["data-ui-options"] = string(js)
		}
	}
	if b.opts.Suggest != nil {
		f.Datalist = b.opts.Suggest(Picker{Name: f.Name, Field: uiField, Options: opts, Value: v})
	}
	// The list attribute is the hook for suggestions, even when the server
	// supplied none (a client script may fill the datalist).
	f.Attrs["list"] = f.ID + "-list"
	if b.opts.SuggestURL != nil {
		if u := b.opts.SuggestURL(Picker{Name: f.Name, Field: uiField, Options: opts, Value: v}); u != "" {
			f.Attrs["hx-get"] = u
			f.Attrs["hx-trigger"] = "input changed delay:200ms, focus once"
			f.Attrs["hx-target"] = "#" + f.ID + "-list"
			f.Attrs["hx-swap"] = "innerHTML"
			f.Attrs["hx-sync"] = "this:replace"
		}
	}
}

// ParseRepoURL splits "host?owner=o&repo=r" into its parts.
func ParseRepoURL(s string) (host string, q url.Values) {
	host, rawQ, _ := strings.Cut(s, "?")
	q, _ = url.ParseQuery(rawQ)
	if q == nil {
		q = url.Values{}
	}
	return host, q
}

func (b *builder) repoURL(f Field, p map[string]any, v any) Field {
	f.Kind = "repourl"
	opts := uiOptions(p)
	hosts := stringList(opts["allowedHosts"])
	if len(hosts) == 0 {
		hosts = b.opts.RepoHosts
	}
	if len(hosts) == 0 {
		hosts = []string{"github.com"}
	}
	host, q := ParseRepoURL(scalarString(v))
	if host != "" && !contains(hosts, host) {
		hosts = append(hosts, host)
	}
	r := &RepoField{Owner: q.Get("owner"), Repo: q.Get("repo"), Organization: q.Get("organization"), Workspace: q.Get("workspace"), Project: q.Get("project")}
	for i, h := range hosts {
		r.Hosts = append(r.Hosts, Choice{Value: h, Label: h, Selected: h == host || (host == "" && i == 0)})
		if strings.Contains(h, "azure") {
			r.ShowAzure = true
		}
		if strings.Contains(h, "bitbucket") {
			r.ShowBitbucket = true
		}
	}
	if owners := stringList(opts["allowedOwners"]); len(owners) > 0 {
		for _, o := range owners {
			r.OwnerChoices = append(r.OwnerChoices, Choice{Value: o, Label: o, Selected: o == r.Owner})
		}
	}
	f.Repo = r
	return f
}
