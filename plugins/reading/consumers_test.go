package reading_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/greenroom-dev/greenroom/catalog/ingest"
	"github.com/greenroom-dev/greenroom/plugins/reading"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/techdocs"
)

// The Mux fits each consumer's own interface, so cmd/ passes it as is.
var (
	_ ingest.Fetcher      = (*reading.Mux)(nil)
	_ techdocs.TreeReader = (*reading.Mux)(nil)
	_ action.Reader       = reading.PlainReader{}
)

type treeHost struct{}

func (treeHost) Host() string { return "git.example" }
func (treeHost) ReadURL(context.Context, *url.URL, reading.Options) (*reading.File, error) {
	return &reading.File{Data: []byte("file")}, nil
}
func (treeHost) ReadTree(context.Context, *url.URL, reading.Options) (*reading.Tree, error) {
	return &reading.Tree{ETag: "sha", Files: []reading.TreeFile{{Path: "a", Data: []byte("1")}, {Path: "b/c", Data: []byte("2"), Executable: true}}}, nil
}

func TestPlainReader(t *testing.T) {
	m, err := reading.New(reading.Config{Readers: []reading.HostReader{treeHost{}}})
	if err != nil {
		t.Fatal(err)
	}
	p := m.Plain()
	ctx := context.Background()
	if b, err := p.ReadURL(ctx, "https://git.example/o/r/blob/main/x"); err != nil || string(b) != "file" {
		t.Errorf("ReadURL: %q %v", b, err)
	}
	var got []string
	err = p.ReadTree(ctx, "https://git.example/o/r/tree/main", func(path string, data []byte, exec bool) error {
		got = append(got, path+"="+string(data)+map[bool]string{true: "x", false: ""}[exec])
		return nil
	})
	if err != nil || len(got) != 2 || got[0] != "a=1" || got[1] != "b/c=2x" {
		t.Errorf("ReadTree: %v %v", got, err)
	}
	stop := errors.New("stop")
	if err := p.ReadTree(ctx, "https://git.example/o/r/tree/main", func(string, []byte, bool) error { return stop }); err != stop {
		t.Errorf("visit error: %v", err)
	}
	var na *reading.NotAllowedError
	if _, err := p.ReadURL(ctx, "https://elsewhere.example/x"); !errors.As(err, &na) {
		t.Errorf("elsewhere: %v", err)
	}
}
