package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// A git repository registered through the API is cloned by git, outside
// the URL reader: the server checks it first, so a user cannot make it
// clone its own disk, its loopback or an address nobody allowed.
func TestRegisteredGitLocationsAreChecked(t *testing.T) {
	t.Setenv("GREENROOM_CONFIG", "")
	base := startServe(t, "--data-dir", t.TempDir())
	for target, want := range map[string]string{
		"file:///etc/blob/main/catalog-info.yaml":                    "only http and https",
		"/var/lib/repos/x.git/blob/main/catalog-info.yaml":           "only http and https",
		"http://127.0.0.1:9/x.git/blob/main/catalog-info.yaml":       "backend.reading.allow",
		"https://git.example.test/x.git/blob/main/catalog-info.yaml": "backend.reading.allow",
	} {
		for _, q := range []string{"", "?dryRun=true"} {
			body, _ := json.Marshal(map[string]string{"type": "git", "target": target})
			resp, err := http.Post(base+"/api/catalog/locations"+q, "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), want) {
				t.Errorf("POST git %s%s: %d %s, want 403 naming %q", target, q, resp.StatusCode, b, want)
			}
		}
	}
}
