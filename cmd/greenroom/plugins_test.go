package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog/search"
	"github.com/greenroom-dev/greenroom/plugins"
	"github.com/greenroom-dev/greenroom/plugins/example"
)

// The plugins' search documents reach the index, are replaced on the next
// sync, and leave it when the plugin no longer offers them.
func TestPluginSearchDocuments(t *testing.T) {
	ix, err := search.Open(filepath.Join(t.TempDir(), "search"))
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	find := func(term string) int {
		t.Helper()
		res, err := ix.Search(context.Background(), search.Query{Term: term, Types: []string{"example-greeting"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}
	withGreeting := func(g string) pluginSearch {
		cfg := plugins.NewConfig(map[string]any{"plugins": map[string]any{"example.hello": map[string]any{"greeting": g}}})
		h, err := plugins.NewHost([]plugins.Info{example.Info()}, cfg, plugins.HostOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return pluginSearch{host: h, index: ix}
	}
	if err := withGreeting("Kia ora").sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := find("kia ora"); n != 1 {
		t.Fatalf("found %d documents for the greeting, want 1", n)
	}
	if err := withGreeting("Talofa").sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if find("talofa") != 1 || find("kia ora") != 0 {
		t.Errorf("after the greeting changed: talofa %d, kia ora %d (want 1, 0)", find("talofa"), find("kia ora"))
	}
	off, err := plugins.NewHost([]plugins.Info{example.Info()}, plugins.NewConfig(nil), plugins.HostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := (pluginSearch{host: off, index: ix}).sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	// a disabled plugin offers nothing, but its old documents are only
	// dropped by a sync in which it answered: keep them until then
	if find("talofa") != 1 {
		t.Errorf("a plugin that did not answer lost its documents")
	}
}
