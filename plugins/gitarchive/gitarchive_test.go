package gitarchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"reflect"
	"strings"
	"testing"

	"github.com/greenroom-dev/greenroom/plugins/reading"
)

type entry struct {
	name, body, link string
	typ              byte // 0: a regular file
	mode             int64
}

func archive(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Format: tar.FormatPAX}
		switch e.typ {
		case 0:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(e.body))
		case tar.TypeXGlobalHeader: // what git archive writes first
			hdr = &tar.Header{Typeflag: e.typ, PAXRecords: map[string]string{"comment": "0123abc"}}
		}
		if hdr.Mode == 0 && hdr.Typeflag != tar.TypeXGlobalHeader {
			hdr.Mode = 0o644
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	gz.Close()
	return buf.Bytes()
}

var roomy = Limits{ArchiveBytes: 1 << 20, Files: 100, TreeBytes: 1 << 20}

var repo = []entry{
	{name: "pax_global_header", typ: tar.TypeXGlobalHeader},
	{name: "svc-0123abc/", typ: tar.TypeDir},
	{name: "svc-0123abc/README.md", body: "root"},
	{name: "svc-0123abc/docs/", typ: tar.TypeDir},
	{name: "svc-0123abc/docs/index.md", body: "# Hi"},
	{name: "svc-0123abc/docs/run.sh", body: "#!/bin/sh", mode: 0o755},
	{name: "svc-0123abc/docs/link.md", link: "../../../etc/passwd", typ: tar.TypeSymlink},
	{name: "svc-0123abc/docs/hard.md", link: "svc-0123abc/README.md", typ: tar.TypeLink},
	{name: "svc-0123abc/docs/fifo", typ: tar.TypeFifo},
	{name: "svc-0123abc/docs/sub/deep.md", body: "deep"},
	{name: "svc-0123abc/docsx/other.md", body: "not docs"},
	{name: "beside.txt", body: "not in the top directory"},
}

func TestUnpack(t *testing.T) {
	docs := []reading.TreeFile{
		{Path: "index.md", Data: []byte("# Hi")},
		{Path: "run.sh", Data: []byte("#!/bin/sh"), Executable: true},
		{Path: "sub/deep.md", Data: []byte("deep")},
	}
	tests := []struct {
		name      string
		sub       string
		want      []reading.TreeFile
		wantFound bool
	}{
		{"a directory", "docs", docs, true},
		{"slashes around sub", "/docs/", docs, true},
		{"a nested directory", "docs/sub", []reading.TreeFile{{Path: "deep.md", Data: []byte("deep")}}, true},
		{"everything", "", []reading.TreeFile{
			{Path: "README.md", Data: []byte("root")},
			{Path: "docs/index.md", Data: []byte("# Hi")},
			{Path: "docs/run.sh", Data: []byte("#!/bin/sh"), Executable: true},
			{Path: "docs/sub/deep.md", Data: []byte("deep")},
			{Path: "docsx/other.md", Data: []byte("not docs")},
		}, true},
		{"a missing directory", "nope", nil, false},
		{"a file is no directory", "README.md", nil, true},
	}
	data := archive(t, repo)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files, found, err := Unpack(bytes.NewReader(data), tc.sub, roomy)
			if err != nil || found != tc.wantFound || !reflect.DeepEqual(files, tc.want) {
				t.Fatalf("Unpack(%q) = %+v, %v, %v; want %+v, %v", tc.sub, files, found, err, tc.want, tc.wantFound)
			}
		})
	}
}

func TestUnpackRefuses(t *testing.T) {
	top := func(names ...string) []entry {
		var es []entry
		for _, n := range names {
			es = append(es, entry{name: n, body: "12345678"})
		}
		return es
	}
	tests := []struct {
		name    string
		data    []byte
		lim     Limits
		wantErr string
	}{
		{"climbing", archive(t, top("svc/../../etc/passwd")), roomy, `unsafe path "svc/../../etc/passwd" in the archive: not a clean relative path`},
		{"absolute", archive(t, top("/etc/passwd")), roomy, `unsafe path "/etc/passwd"`},
		{"a dot segment", archive(t, top("svc/./x")), roomy, `unsafe path "svc/./x"`},
		{"an empty segment", archive(t, top("svc//x")), roomy, `unsafe path "svc//x"`},
		{"a backslash", archive(t, top(`svc\..\x`)), roomy, "unsafe path"},
		// a link's name is checked even though links are skipped
		{"a climbing link", archive(t, []entry{{name: "svc/../x", link: "y", typ: tar.TypeSymlink}}), roomy, "unsafe path"},
		{"outside sub too", archive(t, top("svc/a/x", "svc/b/../../x")), roomy, "unsafe path"},
		{"too many files", archive(t, top("svc/a", "svc/b", "svc/c")), Limits{ArchiveBytes: 1 << 20, Files: 2, TreeBytes: 1 << 20},
			"the tree has more than 2 files"},
		{"too many bytes", archive(t, top("svc/a", "svc/b")), Limits{ArchiveBytes: 1 << 20, Files: 10, TreeBytes: 15},
			"the tree is larger than 0 MiB"},
		{"too large compressed", archive(t, top("svc/a")), Limits{ArchiveBytes: 40, Files: 10, TreeBytes: 1 << 20},
			"the archive is larger than 0 MiB"},
		{"not gzip", []byte("PK\x03\x04 a zip"), roomy, "not a gzip archive: "},
		{"empty", nil, roomy, "not a gzip archive: "},
		{"cut off", archive(t, top("svc/a", "svc/b"))[:60], roomy, "corrupt archive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files, found, err := Unpack(bytes.NewReader(tc.data), "", tc.lim)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || files != nil || found {
				t.Fatalf("Unpack = %d files, %v, %v; want the error %q", len(files), found, err, tc.wantErr)
			}
		})
	}
}

// TestUnpackExactLimits checks that the caps are "at most": an archive of
// exactly the allowed size, count and bytes is read whole.
func TestUnpackExactLimits(t *testing.T) {
	data := archive(t, []entry{{name: "svc/a", body: "1234"}, {name: "svc/b", body: "5678"}})
	lim := Limits{ArchiveBytes: int64(len(data)), Files: 2, TreeBytes: 8}
	files, found, err := Unpack(bytes.NewReader(data), "", lim)
	if err != nil || !found || len(files) != 2 || string(files[1].Data) != "5678" {
		t.Fatalf("Unpack = %+v, %v, %v", files, found, err)
	}
}

func TestCleanRel(t *testing.T) {
	for in, want := range map[string]bool{
		"a": true, "a/b.yaml": true, "a/.hidden": true, "a..b/c": true,
		"": false, "/a": false, "a/": false, "a//b": false, "./a": false, "a/..": false, `a\b`: false, "a\x00": false,
	} {
		if got := CleanRel(in); got != want {
			t.Errorf("CleanRel(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzUnpack(f *testing.F) {
	f.Add(archive(f, repo), "docs")
	f.Add(archive(f, []entry{{name: "top/../x", body: "y"}}), "")
	f.Add([]byte{0x1f, 0x8b, 0, 0}, "")
	f.Fuzz(func(t *testing.T, data []byte, sub string) {
		files, _, err := Unpack(bytes.NewReader(data), sub, Limits{ArchiveBytes: 1 << 20, Files: 50, TreeBytes: 1 << 20})
		if err != nil {
			return
		}
		for _, tf := range files {
			if !CleanRel(tf.Path) {
				t.Fatalf("unpacked %q", tf.Path)
			}
		}
	})
}
