package markdown

import (
	"os"
	"testing"
)

// BenchmarkRender renders a realistic ~30 KB page using every feature
// (testdata/bench.md).
func BenchmarkRender(b *testing.B) {
	src, err := os.ReadFile("testdata/bench.md")
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{ResolveLink: func(target string, image bool) (string, bool) {
		return target, target != "missing.md"
	}}
	if _, err := Render(src, opts); err != nil { // warm up lexers and policy
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Render(src, opts); err != nil {
			b.Fatal(err)
		}
	}
}
