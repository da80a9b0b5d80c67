package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// testFile is the file location the unit tests pretend to read from.
var testFile = LocationRef{Type: "file", Target: "/srv/catalog/catalog-info.yaml"}

var testSource = Source{Location: testFile, Origin: testFile}

// processCase is one document run through Envelope and Process, and what
// should come of it: wantErr is the exact error text ("" means accepted).
type processCase struct {
	name    string
	yaml    string
	wantErr string
}

// processYAML parses a single-document YAML string and runs it through
// Envelope and Process, as the ingester does.
func processYAML(t *testing.T, p *Processor, src Source, doc string) (*Result, error) {
	t.Helper()
	docs := ParseDocuments([]byte(doc))
	if len(docs) != 1 {
		t.Fatalf("test YAML has %d documents, want 1", len(docs))
	}
	if docs[0].Err != nil {
		t.Fatalf("test YAML does not parse: %v", docs[0].Err)
	}
	raw, err := Envelope(docs[0].Value, src)
	if err != nil {
		return nil, err
	}
	if p == nil {
		p = &Processor{}
	}
	return p.Process(context.Background(), raw, src)
}

// runProcessCases runs a table of processCase through processYAML.
func runProcessCases(t *testing.T, tests []processCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := processYAML(t, nil, testSource, tt.yaml)
			checkProcessError(t, res, err, tt.wantErr)
		})
	}
}

func checkProcessError(t *testing.T, res *Result, err error, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("rejected: %v", err)
		}
		if res == nil || res.Entity == nil {
			t.Fatal("accepted without an entity")
		}
		// An accepted entity must serialise (JSON has no NaN or infinity).
		_ = res.Entity.Map()
		return
	}
	if err == nil {
		t.Fatalf("accepted, want error %q", wantErr)
	}
	var re *RejectError
	if !errors.As(err, &re) {
		t.Errorf("error is %T, not a *RejectError", err)
	}
	if err.Error() != wantErr {
		t.Fatalf("error differs\n got: %s\nwant: %s", err, wantErr)
	}
}

// component is a valid Component document with extra metadata lines (each
// indented by two spaces) after its name.
func component(name string, metadata ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: " + name + "\n")
	for _, m := range metadata {
		b.WriteString("  " + m + "\n")
	}
	b.WriteString("spec: {type: service, lifecycle: production, owner: team-a}\n")
	return b.String()
}

// policyErr is the message of a failed policy check.
func policyErr(ref, cause string) string {
	return "InputError: Policy check failed for " + ref + "; caused by Error: " + cause
}

// formatErr is FieldFormatEntityPolicy's message.
func formatErr(field, expectation, value string) string {
	return `"` + field + `" is not valid; expected ` + expectation + ` but found "` + value + `". To learn more about catalog file format, visit: https://github.com/backstage/backstage/blob/master/docs/architecture-decisions/adr002-default-catalog-file-format.md`
}

// kindErr is the message of a failed kind validator.
func kindErr(processor, ref, cause string) string {
	return "InputError: Processor " + processor + " threw an error while validating the entity " + ref + "; caused by TypeError: " + cause
}

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
