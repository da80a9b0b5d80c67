package apidoc

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/styles"
)

var update = flag.Bool("update", false, "rewrite the generated part of static/css/apidoc.css")

// stylesheet is the repository's stylesheet for this package.
const stylesheet = "../../static/css/apidoc.css"

const (
	cssBegin = "/* BEGIN chroma (generated: go test ./web/apidoc -run TestChromaCSS -update) */\n"
	cssEnd   = "/* END chroma */\n"
)

// chromaCSS writes the highlighting rules: the light style for every page,
// the dark style under html[data-theme="dark"], and under
// prefers-color-scheme: dark unless the page forces the light theme. Dark
// rules reset what the light rule of the same class sets and the dark
// style does not, so no light colour leaks into the dark theme.
func chromaCSS() string {
	light, dark := styles.Get(lightStyle), styles.Get(darkStyle)
	lbg, dbg := light.Get(chroma.Background), dark.Get(chroma.Background)
	var tts []int
	for tt := range chroma.StandardTypes {
		if tt >= 0 && chroma.StandardTypes[tt] != "" {
			tts = append(tts, int(tt))
		}
	}
	sort.Ints(tts)
	var lightRules, darkRules []string
	for _, ti := range tts {
		tt := chroma.TokenType(ti)
		class := chroma.StandardTypes[tt]
		le, de := light.Get(tt).Sub(lbg), dark.Get(tt).Sub(dbg)
		if l := declarations(le, chroma.StyleEntry{}); l != "" {
			lightRules = append(lightRules, fmt.Sprintf(".chroma .%s { %s }", class, l))
		}
		if d := declarations(de, le); d != "" {
			darkRules = append(darkRules, fmt.Sprintf(".chroma .%s { %s }", class, d))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "/* Light: chroma style %q. */\n", lightStyle)
	for _, r := range lightRules {
		b.WriteString(r + "\n")
	}
	fmt.Fprintf(&b, "/* Dark: chroma style %q. */\n", darkStyle)
	for _, r := range darkRules {
		b.WriteString(`html[data-theme="dark"] ` + r + "\n")
	}
	b.WriteString("@media (prefers-color-scheme: dark) {\n")
	for _, r := range darkRules {
		b.WriteString(`  html:not([data-theme="light"]) ` + r + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// declarations is the CSS for style entry e, plus resets for what other
// (the rule it overrides) sets and e does not.
func declarations(e, other chroma.StyleEntry) string {
	var d []string
	switch {
	case e.Colour.IsSet():
		d = append(d, "color: "+e.Colour.String())
	case other.Colour.IsSet():
		d = append(d, "color: inherit")
	}
	switch {
	case e.Background.IsSet():
		d = append(d, "background-color: "+e.Background.String())
	case other.Background.IsSet():
		d = append(d, "background-color: transparent")
	}
	switch {
	case e.Bold == chroma.Yes:
		d = append(d, "font-weight: bold")
	case other.Bold == chroma.Yes:
		d = append(d, "font-weight: inherit")
	}
	switch {
	case e.Italic == chroma.Yes:
		d = append(d, "font-style: italic")
	case other.Italic == chroma.Yes:
		d = append(d, "font-style: inherit")
	}
	switch {
	case e.Underline == chroma.Yes:
		d = append(d, "text-decoration: underline")
	case other.Underline == chroma.Yes:
		d = append(d, "text-decoration: inherit")
	}
	return strings.Join(d, "; ")
}

// TestChromaCSS checks that the generated part of the stylesheet matches
// the chroma styles; -update rewrites it.
func TestChromaCSS(t *testing.T) {
	b, err := os.ReadFile(stylesheet)
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	i, j := strings.Index(css, cssBegin), strings.Index(css, cssEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q section", stylesheet, cssBegin, cssEnd)
	}
	want := chromaCSS()
	got := css[i+len(cssBegin) : j]
	if got == want {
		return
	}
	if !*update {
		t.Fatalf("the chroma rules in %s are out of date: run go test ./web/apidoc -run TestChromaCSS -update", stylesheet)
	}
	if err := os.WriteFile(stylesheet, []byte(css[:i+len(cssBegin)]+want+css[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStylesheetCoversClasses checks that every class the components use
// has a rule, and that the theme selectors are there.
func TestStylesheetCoversClasses(t *testing.T) {
	b, err := os.ReadFile(stylesheet)
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	for _, want := range []string{
		`html[data-theme="dark"] .chroma .k {`,
		`@media (prefers-color-scheme: dark)`,
		`html:not([data-theme="light"]) .chroma .k {`,
		".apidoc-method-get", ".apidoc-method-post", ".apidoc-method-put",
		".apidoc-method-delete", ".apidoc-method-patch",
		".apidoc-op", ".apidoc-props", ".apidoc-required", ".apidoc-notice",
		".apidoc-code", ".apidoc-status-ok", ".apidoc-enum", ".apidoc-outline",
	} {
		if !strings.Contains(css, want) {
			t.Errorf("stylesheet lacks %q", want)
		}
	}
	for _, v := range []string{"--bg", "--surface", "--fg", "--muted", "--border", "--accent", "--danger", "--warn", "--ok", "--code-bg", "--radius"} {
		if strings.Contains(css, v+":") {
			t.Errorf("stylesheet defines %s; it must only use the main stylesheet's", v)
		}
	}
}
