package form

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/scaffolder/template"
)

var kindTemplateRe = regexp.MustCompile(`(?m)^kind:\s*["']?Template["']?\s*$`)

// TestCorpus parses every v1beta3 Template under $GREENROOM_TEMPLATE_CORPUS
// and renders each parameter page empty and with its defaults.
func TestCorpus(t *testing.T) {
	dir := os.Getenv("GREENROOM_TEMPLATE_CORPUS")
	if dir == "" {
		t.Skip("GREENROOM_TEMPLATE_CORPUS not set")
	}
	var files, found, parsed, pages, renders, validated, fields, roundTrips int
	failures := map[string][]string{}
	fail := func(reason, where string) { failures[reason] = append(failures[reason], where) }
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if ext := strings.ToLower(filepath.Ext(path)); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil || !kindTemplateRe.Match(data) {
			return nil
		}
		files++
		for _, r := range template.ParseAll(data) {
			where := fmt.Sprintf("%s#%d", path, r.Index)
			if r.Err != nil && strings.Contains(r.Err.Error(), "apiVersion must be") {
				fail("skipped: not v1beta3", where)
				continue
			}
			if r.Err != nil && strings.HasPrefix(r.Err.Error(), "invalid template: yaml:") {
				// Not known to be a v1beta3 Template (often a templated skeleton).
				fail("skipped: invalid YAML: "+firstLine(r.Err.Error()), where)
				continue
			}
			found++
			if r.Err != nil {
				reason := r.Err.Error()
				if strings.Contains(reason, "unresolved placeholder") {
					reason = "parse: unresolved $yaml/$json/$text placeholder"
				} else if strings.Contains(reason, "yaml:") {
					reason = "yaml: " + firstLine(reason)
				} else {
					reason = "parse: " + firstLine(reason)
				}
				fail(reason, where)
				continue
			}
			tpl := r.Template
			parsed++
			for pi, page := range tpl.Parameters {
				pages++
				for _, vals := range []map[string]any{nil, Defaults(page)} {
					if missing := missingFields(page, vals); missing != "" {
						fail("render: property without a control", fmt.Sprintf("%s page %d: %s", where, pi, missing))
					}
					fields += len(Build(page, vals, nil, Options{}))
					if err := renderSafe(page, vals); err != nil {
						fail("render: "+firstLine(err.Error()), fmt.Sprintf("%s page %d", where, pi))
						continue
					}
					renders++
				}
				// Round trip: what the browser submits for the defaults decodes
				// back to the defaults.
				d := Defaults(page)
				back, err := Decode(page, Submission(Build(page, d, nil, Options{})))
				if err != nil {
					fail("decode: "+firstLine(err.Error()), fmt.Sprintf("%s page %d", where, pi))
				} else if diff := roundTripDiff(page, d, back); diff != "" {
					fail("round trip: "+diff, fmt.Sprintf("%s page %d", where, pi))
				} else {
					roundTrips++
				}
				if errs := Validate(page, Defaults(page)); strings.HasPrefix(errs[""], "The template's parameter schema is invalid") {
					fail("schema: "+firstLine(errs[""]), fmt.Sprintf("%s page %d", where, pi))
				} else {
					validated++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("files with kind: Template: %d; v1beta3 templates: %d; parsed: %d; pages: %d; renders: %d (top-level fields: %d); round trips: %d; schemas compiled: %d", files, found, parsed, pages, renders, fields, roundTrips, validated)
	reasons := make([]string, 0, len(failures))
	for r := range failures {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	renderFailures := 0
	for _, r := range reasons {
		t.Logf("%4d × %s (e.g. %s)", len(failures[r]), r, failures[r][0])
		if strings.HasPrefix(r, "render:") {
			renderFailures += len(failures[r])
		}
	}
	if renderFailures > 0 {
		t.Errorf("%d page renders failed", renderFailures)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:160]
	}
	return s
}

func renderSafe(page, vals map[string]any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	var b bytes.Buffer
	if err := Page(page, vals, nil, Options{Prefix: ""}).Render(context.Background(), &b); err != nil {
		return err
	}
	if b.Len() == 0 && len(mapOf(page["properties"])) > 0 {
		return fmt.Errorf("empty output")
	}
	return nil
}

// missingFields names a top-level property of the page (as shown for
// vals) that got no form control.
func missingFields(page, vals map[string]any) string {
	var b bytes.Buffer
	if err := Page(page, vals, nil, Options{}).Render(context.Background(), &b); err != nil {
		return ""
	}
	h := b.String()
	for k := range mapOf(effective(page, vals)["properties"]) {
		n := `name="` + escapeSeg(k)
		if !strings.Contains(h, n+`"`) && !strings.Contains(h, n+`:`) && !strings.Contains(h, n+`.`) && !strings.Contains(h, `data-name="`+escapeSeg(k)+`"`) {
			return k
		}
	}
	return ""
}

// roundTripDiff compares defaults with their decoded submission, ignoring
// values a form cannot carry (empty strings, empty arrays and objects)
// and false booleans (a checkbox always submits true or false).
func roundTripDiff(page, want, got map[string]any) string {
	w, _ := prune(want).(map[string]any)
	g, _ := prune(got).(map[string]any)
	if reflect.DeepEqual(w, g) {
		return ""
	}
	for k := range w {
		if !reflect.DeepEqual(w[k], g[k]) {
			return fmt.Sprintf("%s: %#v became %#v", k, w[k], g[k])
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			return fmt.Sprintf("%s: appeared as %#v", k, g[k])
		}
	}
	return "differs"
}

func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			if p := prune(x); p != nil {
				out[k] = p
			}
		}
		if len(out) == 0 {
			return map[string]any{}
		}
		return out
	case []any:
		if len(t) == 0 {
			return nil
		}
		out := make([]any, 0, len(t))
		for _, x := range t {
			out = append(out, prune(x))
		}
		return out
	case string:
		if t == "" {
			return nil
		}
	case bool:
		// An unchecked checkbox submits false where the defaults had nothing.
		if !t {
			return nil
		}
	}
	return v
}
