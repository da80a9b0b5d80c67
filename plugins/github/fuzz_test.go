package github

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The parsers of untrusted input: tarballs from the network, webhook
// payloads, browser URLs from catalog files.

func FuzzUntar(f *testing.F) {
	t := &testing.T{}
	f.Add(tarball(t, []tarEntry{{name: "top/a/b.txt", body: "x"}, {name: "top/../x", body: "y"}}), "a")
	f.Add([]byte{0x1f, 0x8b, 0, 0}, "")
	f.Fuzz(func(t *testing.T, data []byte, sub string) {
		files, err := untar(bytes.NewReader(data), sub)
		if err != nil {
			return
		}
		for _, tf := range files {
			if strings.HasPrefix(tf.Path, "/") || hasDotDot(tf.Path) {
				t.Fatalf("unsafe path %q", tf.Path)
			}
		}
	})
}

func FuzzWebhook(f *testing.F) {
	f.Add("push", []byte(`{"ref":"refs/heads/main","repository":{"name":"r","html_url":"https://github.com/o/r","owner":{"login":"o"}},"commits":[{"modified":["catalog-info.yaml"]}]}`))
	f.Add("repository", []byte(`{"action":"renamed","repository":{"name":"r","html_url":"https://github.com/o/r"},"changes":{"repository":{"name":{"from":"../x"}}}}`))
	p := &Plugin{log: slog.New(slog.DiscardHandler), integrations: []*integration{{host: "github.com", api: publicAPI}},
		providers: []*providerSettings{{id: "x", host: "github.com", org: "o", catalogPath: "catalog-info.yaml", allowForks: true}}}
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		if event != "push" && event != "repository" {
			return
		}
		loc := newLocations()
		h := http.Header{}
		h.Set("X-GitHub-Event", event)
		p.handle(context.Background(), loc, h, body)
		all := append([]string(nil), loc.refreshed...)
		for _, l := range loc.added {
			all = append(all, l...)
		}
		for _, l := range loc.removed {
			all = append(all, l...)
		}
		for _, s := range all {
			u, err := url.Parse(s)
			if err != nil || u.Host != "github.com" || hasDotDot(u.Path) {
				t.Fatalf("unsafe URL %q", s)
			}
		}
	})
}

func FuzzParseBrowserURL(f *testing.F) {
	f.Add("https://github.com/o/r/blob/main/a/b.yaml")
	f.Add("https://github.com/o/r/tree/main/../../x")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		g, err := parseBrowserURL(u)
		if err == nil && (hasDotDot(g.path) || !validName(g.owner) || !validName(g.repo)) {
			t.Fatalf("accepted %q as %+v", s, g)
		}
	})
}
