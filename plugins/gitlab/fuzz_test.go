package gitlab

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
)

// The parsers of untrusted input: browser URLs, webhook bodies and
// archives. They must not panic, and what they accept stays confined.

func FuzzParseWebURL(f *testing.F) {
	for _, s := range []string{
		"https://git.example.com/gitlab/g/sub/p/-/blob/main/docs/x.yaml",
		"https://git.example.com/gitlab/g/p/-/tree/main",
		"https://git.example.com/gitlab/g/p/blob/main/../x",
		"https://git.example.com/gitlab/g/p",
	} {
		f.Add(s)
	}
	p, _, err := tryPlugin(nil, "integrations: {gitlab: [{host: git.example.com, baseUrl: 'https://git.example.com/gitlab'}]}")
	if err != nil {
		f.Fatal(err)
	}
	in := p.integration("git.example.com")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		loc, err := in.parseWebURL(u)
		if err != nil {
			return
		}
		if checkProjectPath(loc.project) != nil || (loc.path != "" && checkRepoPath(loc.path) != nil) {
			t.Fatalf("accepted %q as %+v", s, loc)
		}
	})
}

func FuzzWebhookHandle(f *testing.F) {
	f.Add([]byte(`{"object_kind":"push","ref":"refs/heads/main","project":{"web_url":"https://git.example.com/g/p","path_with_namespace":"g/p","default_branch":"main"},"commits":[{"added":["catalog-info.yaml"],"modified":["a.yaml"],"removed":[]}]}`))
	f.Add([]byte(`{"event_name":"project_destroy","path_with_namespace":"g/p"}`))
	f.Add([]byte(`{"event_name":"project_rename","project_id":1,"path_with_namespace":"g/q","old_path_with_namespace":"g/p"}`))
	p, _, err := tryPlugin(nil, "integrations: {gitlab: [{host: git.example.com}]}")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		loc := newLocations()
		_, _ = p.handle(context.Background(), loc, nil, body)
		for _, urls := range loc.refreshed {
			for _, u := range urls {
				if !strings.HasPrefix(u, "https://git.example.com/") || strings.Contains(u, "/../") {
					t.Fatalf("refreshed %q", u)
				}
			}
		}
	})
}

func FuzzUntar(f *testing.F) {
	f.Add([]byte{}, "")
	f.Add(bytes.Repeat([]byte{0x1f, 0x8b}, 4), "docs")
	f.Fuzz(func(t *testing.T, data []byte, sub string) {
		files, err := untar(bytes.NewReader(data), sub)
		if err != nil {
			return
		}
		for _, fl := range files {
			if strings.HasPrefix(fl.Path, "/") || strings.Contains("/"+fl.Path+"/", "/../") {
				t.Fatalf("unpacked %q", fl.Path)
			}
		}
	})
}
