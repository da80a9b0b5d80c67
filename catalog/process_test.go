package catalog

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fakeReader serves placeholder reads from a map keyed by the placeholder
// value, and records what it was asked for.
type fakeReader struct {
	files map[string]string
	calls []string
}

func (f *fakeReader) read(_ context.Context, base LocationRef, value string) ([]byte, error) {
	f.calls = append(f.calls, base.String()+" "+value)
	switch value {
	case "broken":
		return nil, errors.New("connection refused")
	case "outside":
		return nil, &ResolveError{Err: errors.New("TypeError: Invalid URL")}
	}
	s, ok := f.files[value]
	if !ok {
		return nil, errors.New("NotFoundError: " + value + " does not exist")
	}
	return []byte(s), nil
}

func apiWithDefinition(definition string) string {
	return "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: x}\nspec:\n  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition: " + definition + "\n"
}

// placeholderErr is how a failing placeholder fails the entity.
func placeholderErr(cause string) string {
	return "InputError: Processor PlaceholderProcessor threw an error while preprocessing; caused by Error: " + cause
}

func TestPlaceholders(t *testing.T) {
	files := map[string]string{
		"openapi.yaml":   "openapi: 3.0.0\ninfo: {title: x}\n",
		"data.json":      `{"a": [1, "b"], "c": null}`,
		"bad.json":       `{"a": `,
		"one.yaml":       "a: [1, b]\nc: yes\n",
		"two.yaml":       "a: 1\n---\nb: 2\n",
		"empty.yaml":     "",
		"broken.yaml":    "a: [\n",
		"marker.yaml":    "---\na: 1\n",
		"nul.txt":        "caf\xe9",
		"description.md": "# Hello\n",
	}
	tests := []struct {
		name string
		yaml string
		// path into the processed entity and the JSON expected there
		path          []string
		want          string
		wantErr       string
		wantErrPrefix string
	}{
		{name: "$text", yaml: apiWithDefinition("{$text: openapi.yaml}"),
			path: []string{"spec", "definition"}, want: `"openapi: 3.0.0\ninfo: {title: x}\n"`},
		{name: "$text invalid UTF-8 is replaced", yaml: apiWithDefinition("{$text: nul.txt}"),
			path: []string{"spec", "definition"}, want: "\"caf\ufffd\""},
		{name: "$json", yaml: component("x", "customField: {$json: data.json}"),
			path: []string{"metadata", "customField"}, want: `{"a":[1,"b"],"c":null}`},
		{name: "$yaml", yaml: component("x", "customField: {$yaml: one.yaml}"),
			path: []string{"metadata", "customField"}, want: `{"a":[1,"b"],"c":"yes"}`},
		{name: "$yaml with a leading marker is one document", yaml: component("x", "customField: {$yaml: marker.yaml}"),
			path: []string{"metadata", "customField"}, want: `{"a":1}`},
		{name: "placeholders nested in arrays", yaml: component("x", "customField: [a, [{$text: description.md}], {k: {$json: data.json}}]"),
			path: []string{"metadata", "customField"}, want: `["a",["# Hello\n"],{"k":{"a":[1,"b"],"c":null}}]`},
		{name: "placeholders are replaced before validation", yaml: "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: x}\nspec: {targets: [{$text: description.md}]}\n",
			path: []string{"spec", "targets"}, want: `["# Hello\n"]`},
		{name: "multi-key object is left alone", yaml: apiWithDefinition("{$text: a, $json: b}"),
			wantErr: "InputError: Processor BuiltinKindsEntityProcessor threw an error while validating the entity api:default/x; caused by TypeError: /spec/definition must be string - type: string"},
		{name: "$ref is left alone", yaml: component("x", "customField: {$ref: '#/definitions/node'}"),
			path: []string{"metadata", "customField"}, want: `{"$ref":"#/definitions/node"}`},
		{name: "$ref with siblings is left alone", yaml: component("x", "customField: {$ref: a, type: object}"),
			path: []string{"metadata", "customField"}, want: `{"$ref":"a","type":"object"}`},
		{name: "non-string value", yaml: apiWithDefinition("{$text: [a]}"),
			wantErr: placeholderErr("Placeholder $text expected a string value parameter, in the form of an absolute URL or a relative path")},
		{name: "null value", yaml: apiWithDefinition("{$json: null}"),
			wantErr: placeholderErr("Placeholder $json expected a string value parameter, in the form of an absolute URL or a relative path")},
		{name: "read error", yaml: apiWithDefinition("{$text: broken}"),
			wantErr: placeholderErr("Placeholder $text could not read location broken, connection refused")},
		{name: "missing file", yaml: apiWithDefinition("{$text: nope.yaml}"),
			wantErr: placeholderErr("Placeholder $text could not read location nope.yaml, NotFoundError: nope.yaml does not exist")},
		{name: "resolve error", yaml: apiWithDefinition("{$text: outside}"),
			wantErr: placeholderErr("Placeholder $text could not form a URL out of /srv/catalog/catalog-info.yaml and outside, TypeError: Invalid URL")},
		{name: "$json that does not parse", yaml: apiWithDefinition("{$json: bad.json}"),
			wantErrPrefix: placeholderErr("Placeholder $json failed to parse JSON data at bad.json, SyntaxError: ")},
		{name: "$yaml with two documents", yaml: component("x", "customField: {$yaml: two.yaml}"),
			wantErr: placeholderErr("Placeholder $yaml expected to find exactly one document of data at two.yaml, found 2")},
		{name: "$yaml with no document", yaml: component("x", "customField: {$yaml: empty.yaml}"),
			wantErr: placeholderErr("Placeholder $yaml expected to find exactly one document of data at empty.yaml, found 0")},
		{name: "$yaml that does not parse", yaml: component("x", "customField: {$yaml: broken.yaml}"),
			wantErrPrefix: placeholderErr("Placeholder $yaml found an error in the data at broken.yaml, ")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := &fakeReader{files: files}
			res, err := processYAML(t, &Processor{ReadPlaceholder: fr.read}, testSource, tt.yaml)
			switch {
			case tt.wantErrPrefix != "":
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErrPrefix) {
					t.Fatalf("err = %v, want prefix %q", err, tt.wantErrPrefix)
				}
				return
			case tt.wantErr != "":
				checkProcessError(t, res, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var v any = res.Entity.Map()
			for _, k := range tt.path {
				v = v.(map[string]any)[k]
			}
			if got := toJSON(v); got != tt.want {
				t.Errorf("%s = %s, want %s", strings.Join(tt.path, "."), got, tt.want)
			}
			for _, c := range fr.calls {
				if !strings.HasPrefix(c, testFile.String()+" ") {
					t.Errorf("reader called with base %q, want the entity's location", c)
				}
			}
		})
	}
}

func TestPlaceholderWithoutReader(t *testing.T) {
	_, err := processYAML(t, &Processor{}, testSource, apiWithDefinition("{$text: x.yaml}"))
	want := placeholderErr("Placeholder $text could not read location x.yaml, no reader is configured for placeholders")
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

// TestPlaceholderDoesNotModifyInput checks that substitution copies what it
// changes, so a document can be processed twice.
func TestPlaceholderDoesNotModifyInput(t *testing.T) {
	docs := ParseDocuments([]byte(component("x", "customField: [{k: {$text: a}}]")))
	raw, err := Envelope(docs[0].Value, testSource)
	if err != nil {
		t.Fatal(err)
	}
	before := toJSON(raw)
	fr := &fakeReader{files: map[string]string{"a": "A"}}
	p := &Processor{ReadPlaceholder: fr.read}
	for i := 0; i < 2; i++ {
		res, err := p.Process(context.Background(), raw, testSource)
		if err != nil {
			t.Fatal(err)
		}
		if got := toJSON(res.Entity.Metadata.Extra["customField"]); got != `[{"k":"A"}]` {
			t.Errorf("pass %d: customField = %s", i, got)
		}
	}
	if after := toJSON(raw); after != before {
		t.Errorf("Process modified its input:\n%s\n%s", before, after)
	}
}

// TestLocationTargets checks how a Location's targets are resolved against
// the location that named it (oracle README §4.1 step 5).
func TestLocationTargets(t *testing.T) {
	fileSrc := testSource
	// A host with no SCM integration: Backstage resolves relative targets as
	// plain URLs (GitHub's integration would rewrite blob to tree).
	urlLoc := LocationRef{"url", "https://example.com/o/r/catalog/catalog-info.yaml"}
	urlSrc := Source{Location: urlLoc, Origin: urlLoc}
	loc := func(spec string) string { return entityDoc(APIVersionV1alpha1, "Location", spec) }
	tests := []struct {
		name    string
		src     Source
		allowed []string
		yaml    string
		want    []LocationSpec
		wantErr string
	}{
		{name: "relative file target joins the file's directory", src: fileSrc, yaml: loc("{target: ./x.yaml}"),
			want: []LocationSpec{{"file", "/srv/catalog/x.yaml", "required"}}},
		{name: "parent directory target", src: fileSrc, yaml: loc("{targets: [../other/org.yaml, ./a/../b.yaml]}"),
			want: []LocationSpec{{"file", "/srv/other/org.yaml", "required"}, {"file", "/srv/catalog/b.yaml", "required"}}},
		{name: "target and targets together, target first", src: fileSrc, yaml: loc("{target: ./t.yaml, targets: [./a.yaml]}"),
			want: []LocationSpec{{"file", "/srv/catalog/t.yaml", "required"}, {"file", "/srv/catalog/a.yaml", "required"}}},
		{name: "absolute file target is kept", src: fileSrc, yaml: loc("{target: /etc/catalog/all.yaml}"),
			want: []LocationSpec{{"file", "/etc/catalog/all.yaml", "required"}}},
		{name: "bare relative file target is kept as written", src: fileSrc, yaml: loc("{target: x.yaml}"),
			want: []LocationSpec{{"file", "x.yaml", "required"}}},
		{name: "explicit file type", src: fileSrc, yaml: loc("{type: file, target: ./x.yaml, presence: optional}"),
			want: []LocationSpec{{"file", "/srv/catalog/x.yaml", "optional"}}},
		{name: "file target ending with a slash", src: fileSrc, yaml: loc("{target: ./dir/}"),
			wantErr: "InputError: LocationEntityProcessor cannot handle file type location with target /srv/catalog/catalog-info.yaml that ends with a path separator"},
		{name: "url target from a file location is allowed", src: fileSrc, yaml: loc("{type: url, target: 'https://example.com/catalog-info.yaml'}"),
			want: []LocationSpec{{"url", "https://example.com/catalog-info.yaml", "required"}}},
		{name: "url target is not resolved against a file", src: fileSrc, yaml: loc("{type: url, target: ./x.yaml}"),
			want: []LocationSpec{{"url", "./x.yaml", "required"}}},
		{name: "other type is not allowed", src: fileSrc, yaml: loc("{type: github-org, target: 'https://github.com/o'}"),
			wantErr: `InputError: Registered locations must be of an allowed type ["url"]`},
		{name: "other type allowed by configuration", src: fileSrc, allowed: []string{"url", "github-org"}, yaml: loc("{type: github-org, target: 'https://github.com/o'}"),
			want: []LocationSpec{{"github-org", "https://github.com/o", "required"}}},
		{name: "file type from a url location is not allowed", src: urlSrc, yaml: loc("{type: file, target: /etc/passwd}"),
			wantErr: `InputError: Registered locations must be of an allowed type ["url"]`},
		{name: "relative url target", src: urlSrc, yaml: loc("{target: ./components/a.yaml}"),
			want: []LocationSpec{{"url", "https://example.com/o/r/catalog/components/a.yaml", "required"}}},
		{name: "parent url target", src: urlSrc, yaml: loc("{targets: [../b.yaml, c/d.yaml]}"),
			want: []LocationSpec{{"url", "https://example.com/o/r/b.yaml", "required"}, {"url", "https://example.com/o/r/catalog/c/d.yaml", "required"}}},
		{name: "absolute url target", src: urlSrc, yaml: loc("{target: 'https://gitlab.com/g/p/-/blob/main/x.yaml'}"),
			want: []LocationSpec{{"url", "https://gitlab.com/g/p/-/blob/main/x.yaml", "required"}}},
		{name: "url target ending with a slash is fine", src: urlSrc, yaml: loc("{target: ./dir/}"),
			want: []LocationSpec{{"url", "https://example.com/o/r/catalog/dir/", "required"}}},
		{name: "no targets", src: fileSrc, yaml: loc("{}"), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := processYAML(t, &Processor{AllowedLocationTypes: tt.allowed}, tt.src, tt.yaml)
			if tt.wantErr != "" {
				checkProcessError(t, res, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Targets, tt.want) {
				t.Errorf("targets = %+v, want %+v", res.Targets, tt.want)
			}
		})
	}
}

// TestResolveTarget calls ResolveTarget directly for the types Process does
// not reach.
func TestResolveTarget(t *testing.T) {
	tests := []struct {
		name    string
		base    LocationRef
		typ, in string
		want    string
	}{
		{"file relative", LocationRef{"file", "/a/b/c.yaml"}, "file", "./d.yaml", "/a/b/d.yaml"},
		{"file dot-dot", LocationRef{"file", "/a/b/c.yaml"}, "file", "../d.yaml", "/a/d.yaml"},
		{"file hidden name starts with a dot", LocationRef{"file", "/a/b/c.yaml"}, "file", ".hidden.yaml", "/a/b/.hidden.yaml"},
		{"url relative", LocationRef{"url", "https://h/x/y.yaml"}, "url", "z.yaml", "https://h/x/z.yaml"},
		{"different type is kept", LocationRef{"file", "/a/b.yaml"}, "url", "./c.yaml", "./c.yaml"},
		{"custom type relative", LocationRef{"git", "repo/dir/c.yaml"}, "git", "./d.yaml", "repo/dir/d.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ResolveTarget(tt.base, tt.typ, tt.in); got != tt.want {
				t.Errorf("ResolveTarget(%v, %q, %q) = %q, want %q", tt.base, tt.typ, tt.in, got, tt.want)
			}
		})
	}
}

// TestURLLocationAnnotations checks the annotations added for url locations
// (checked against Backstage's AnnotateLocationEntityProcessor with no
// integrations configured) and that the author's own annotations win.
func TestURLLocationAnnotations(t *testing.T) {
	tests := []struct {
		name   string
		target string
		own    string // extra metadata line
		want   map[string]string
	}{
		{name: "github blob", target: "https://github.com/o/r/blob/main/svc/catalog-info.yaml", want: map[string]string{
			AnnotationViewURL:        "https://github.com/o/r/blob/main/svc/catalog-info.yaml",
			AnnotationEditURL:        "https://github.com/o/r/edit/main/svc/catalog-info.yaml",
			AnnotationSourceLocation: "url:https://github.com/o/r/tree/main/svc/"}},
		{name: "github tree", target: "https://github.com/o/r/tree/main/svc/catalog-info.yaml", want: map[string]string{
			AnnotationViewURL:        "https://github.com/o/r/tree/main/svc/catalog-info.yaml",
			AnnotationEditURL:        "https://github.com/o/r/edit/main/svc/catalog-info.yaml",
			AnnotationSourceLocation: "url:https://github.com/o/r/tree/main/svc/"}},
		{name: "github at a commit has no edit-url", target: "https://github.com/o/r/blob/0123456789abcdef0123456789abcdef01234567/a.yaml", want: map[string]string{
			AnnotationViewURL:        "https://github.com/o/r/blob/0123456789abcdef0123456789abcdef01234567/a.yaml",
			AnnotationSourceLocation: "url:https://github.com/o/r/tree/0123456789abcdef0123456789abcdef01234567/"}},
		{name: "gitlab", target: "https://gitlab.com/g/p/-/blob/main/svc/catalog-info.yaml", want: map[string]string{
			AnnotationViewURL:        "https://gitlab.com/g/p/-/blob/main/svc/catalog-info.yaml",
			AnnotationEditURL:        "https://gitlab.com/g/p/-/edit/main/svc/catalog-info.yaml",
			AnnotationSourceLocation: "url:https://gitlab.com/g/p/-/blob/main/svc/"}},
		{name: "gitlab tree", target: "https://gitlab.com/g/p/-/tree/main/a.yaml", want: map[string]string{
			AnnotationViewURL:        "https://gitlab.com/g/p/-/tree/main/a.yaml",
			AnnotationEditURL:        "https://gitlab.com/g/p/-/edit/main/a.yaml",
			AnnotationSourceLocation: "url:https://gitlab.com/g/p/-/tree/main/"}},
		{name: "raw.githubusercontent.com matches no integration", target: "https://raw.githubusercontent.com/o/r/main/svc/catalog-info.yaml", want: map[string]string{
			AnnotationViewURL: "https://raw.githubusercontent.com/o/r/main/svc/catalog-info.yaml"}},
		{name: "unknown host gets only view-url", target: "https://example.com/a/catalog-info.yaml", want: map[string]string{
			AnnotationViewURL: "https://example.com/a/catalog-info.yaml"}},
		{name: "author's annotation wins", target: "https://github.com/o/r/blob/main/a.yaml", own: "annotations: {backstage.io/edit-url: 'https://mine'}", want: map[string]string{
			AnnotationViewURL:        "https://github.com/o/r/blob/main/a.yaml",
			AnnotationEditURL:        "https://mine",
			AnnotationSourceLocation: "url:https://github.com/o/r/tree/main/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := LocationRef{"url", tt.target}
			var extra []string
			if tt.own != "" {
				extra = append(extra, tt.own)
			}
			res, err := processYAML(t, nil, Source{Location: loc, Origin: testFile}, component("x", extra...))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{AnnotationLocation: loc.String(), AnnotationOriginLocation: testFile.String()}
			for k, v := range tt.want {
				want[k] = v
			}
			if got := res.Entity.Metadata.Annotations; !reflect.DeepEqual(got, want) {
				t.Errorf("annotations = %v\nwant          %v", got, want)
			}
		})
	}
	t.Run("file locations get no url annotations", func(t *testing.T) {
		res, err := processYAML(t, nil, testSource, component("x"))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{AnnotationLocation: testFile.String(), AnnotationOriginLocation: testFile.String()}
		if got := res.Entity.Metadata.Annotations; !reflect.DeepEqual(got, want) {
			t.Errorf("annotations = %v", got)
		}
	})
}
