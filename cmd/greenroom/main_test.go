package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
`), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc2}
spec: {type: service, lifecycle: production}
`), 0o644)

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"validate", "--format", "jsonl", good}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out.String())
	}
	var first struct {
		File      string                             `json:"file"`
		Index     int                                `json:"index"`
		Ref       string                             `json:"ref"`
		OK        bool                               `json:"ok"`
		Entity    map[string]any                     `json:"entity"`
		Relations []struct{ Type, TargetRef string } `json:"relations"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if !first.OK || first.Ref != "component:default/svc" || first.Index != 0 || first.File != good {
		t.Errorf("first line: %+v", first)
	}
	if len(first.Relations) != 1 || first.Relations[0].Type != "ownedBy" || first.Relations[0].TargetRef != "group:default/team-a" {
		t.Errorf("relations: %+v", first.Relations)
	}
	md := first.Entity["metadata"].(map[string]any)
	if _, has := md["annotations"]; has {
		t.Errorf("location annotations should be stripped: %v", md)
	}

	out.Reset()
	if code := run(context.Background(), []string{"validate", bad}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d for an invalid file", code)
	}
	if !strings.Contains(out.String(), "bad.yaml#0") || !strings.Contains(out.String(), "/spec must have required property 'owner'") {
		t.Errorf("text output does not name the file, document and field: %s", out.String())
	}

	out.Reset()
	if code := run(context.Background(), []string{"validate", "--rules", "default", good}, &out, &errOut); code != 1 {
		t.Errorf("a Group under default rules must be rejected, exit %d: %s", code, out.String())
	}
	if code := run(context.Background(), []string{"validate", "--format", "xml", good}, io.Discard, io.Discard); code != 2 {
		t.Errorf("unknown format: exit %d", code)
	}
}

// TestServeDemo starts the real serve command with no config and checks it
// serves the demo catalog.
func TestServeDemo(t *testing.T) {
	t.Setenv("GREENROOM_CONFIG", "")
	base := startServe(t, "--data-dir", t.TempDir())
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
	if !strings.Contains(string(body), `href="/catalog?kind=component"`) || strings.Contains(string(body), "processing error") {
		t.Errorf("demo catalog not served cleanly:\n%s", body)
	}
}

// reindex rebuilds the search index of the demo catalog from its database.
func TestReindexCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"ingest", "--data-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("ingest: %d %s", code, errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"reindex", "--data-dir", dir}, &out, &errOut); code != 0 {
		t.Fatalf("reindex: %d %s", code, errOut.String())
	}
	// 96 entities and the 13 pages of the demo's five docs sites.
	if !strings.Contains(out.String(), "109 documents indexed") {
		t.Errorf("reindex said %q", out.String())
	}
}
