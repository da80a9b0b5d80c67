package markdown

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/yuin/goldmark/ast"
)

// Code blocks are the bulk of a technical page's markup (one span per
// token) and are generated entirely by renderCode, which escapes every byte
// of text and only emits fixed class names. To keep the sanitizer's work
// proportional to what can actually be unsafe, they are replaced in the
// HTML by a placeholder, rendered separately (concurrently with the rest of
// the page), and put back after sanitizing:
//
//	U+E000 <16 hex digits of per-render randomness> <index> U+E001
//
// The placeholder is plain text, which the HTML parser and bluemonday keep
// as is. Authors cannot forge one: they cannot know the random part.
// Everything else — including all raw HTML — goes through the sanitizer.

const (
	attrTrusted = "_gr_trusted"
	markOpen    = "\ue000"
	markClose   = "\ue001"
)

type codeJob struct {
	ci   codeInfo
	code []byte
}

// trust registers a code block for rendering and leaves a placeholder on
// the node for the renderer.
func (t *transformer) trust(n ast.Node, ci codeInfo) {
	if t.nonce == "" {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return // render in place, through the sanitizer
		}
		t.nonce = hex.EncodeToString(b[:])
	}
	mark := markOpen + t.nonce + strconv.Itoa(len(t.jobs)) + markClose
	t.jobs = append(t.jobs, codeJob{ci: ci, code: codeLines(n, t.source)})
	n.SetAttributeString(attrTrusted, []byte(mark))
}

// startCode renders the registered code blocks in the background (chroma
// is the most expensive part of a page, so it overlaps with rendering and
// sanitizing the rest) and returns a function that waits for them.
func (t *transformer) startCode() (wait func()) {
	t.trusted = make([]string, len(t.jobs))
	if len(t.jobs) == 0 {
		return func() {}
	}
	workers := min(runtime.GOMAXPROCS(0)-1, len(t.jobs), 4)
	if workers < 1 {
		t.renderJobs(0, 1)
		return func() {}
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			t.renderJobs(w, workers)
		}(w)
	}
	return wg.Wait
}

// renderJobs renders jobs w, w+step, w+2*step, …
func (t *transformer) renderJobs(w, step int) {
	for i := w; i < len(t.jobs); i += step {
		t.trusted[i] = renderCodeSafe(t.jobs[i])
	}
}

// renderCodeSafe never panics: a failure degrades to an escaped block.
func renderCodeSafe(job codeJob) (html string) {
	defer func() {
		if recover() != nil {
			var buf bytes.Buffer
			buf.WriteString(`<pre class="chroma"><code>`)
			writeEscaped(&buf, string(job.code))
			buf.WriteString("</code></pre>\n")
			html = buf.String()
		}
	}()
	var buf bytes.Buffer
	buf.Grow(len(job.code) * 4)
	renderCode(&buf, job.ci, job.code)
	return buf.String()
}

// restoreTrusted replaces the placeholders in sanitized HTML. A placeholder
// the sanitizer dropped (code inside an element whose content is removed)
// simply does not come back.
func (t *transformer) restoreTrusted(html string) string {
	if len(t.trusted) == 0 {
		return html
	}
	prefix := markOpen + t.nonce
	var b strings.Builder
	b.Grow(len(html) + len(t.trusted)*256)
	for {
		i := strings.Index(html, prefix)
		if i < 0 {
			b.WriteString(html)
			return b.String()
		}
		rest := html[i+len(prefix):]
		j := strings.Index(rest, markClose)
		idx, err := strconv.Atoi(rest[:max(j, 0)])
		if j < 0 || err != nil || idx < 0 || idx >= len(t.trusted) {
			// not one of ours after all; keep the text
			b.WriteString(html[:i+len(prefix)])
			html = rest
			continue
		}
		b.WriteString(html[:i])
		b.WriteString(t.trusted[idx])
		html = rest[j+len(markClose):]
		// drop the newline the renderer wrote after the placeholder
		html = strings.TrimPrefix(html, "\n")
	}
}
