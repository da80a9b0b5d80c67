package markdown

import (
	"strings"

	"github.com/yuin/goldmark/ast"
)

// AST node kinds added by this package.
var (
	kindAdmonition = ast.NewNodeKind("MkdocsAdmonition")
	kindTitle      = ast.NewNodeKind("MkdocsTitle")
	kindTab        = ast.NewNodeKind("MkdocsTab")
	kindTabSet     = ast.NewNodeKind("MkdocsTabSet")
	kindTabLabels  = ast.NewNodeKind("MkdocsTabLabels")
	kindTabContent = ast.NewNodeKind("MkdocsTabContent")
	kindAbbrDef    = ast.NewNodeKind("MkdocsAbbrDefinition")
	kindAbbr       = ast.NewNodeKind("MkdocsAbbr")
	kindTag        = ast.NewNodeKind("MkdocsTag")
	kindKeys       = ast.NewNodeKind("MkdocsKeys")
	kindIcon       = ast.NewNodeKind("MkdocsIcon")
)

// admonitionNode is `!!! type "title"` (a div) or `???[+] type "title"` (a
// details element). Its first child is a titleNode unless the title was
// explicitly empty.
type admonitionNode struct {
	ast.BaseBlock
	classes     []string // type first, then any extra classes
	collapsible bool
	open        bool
}

func (n *admonitionNode) Kind() ast.NodeKind { return kindAdmonition }
func (n *admonitionNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{
		"Classes":     strings.Join(n.classes, " "),
		"Collapsible": boolString(n.collapsible),
		"Open":        boolString(n.open),
	}, nil)
}

// titleRole says where a titleNode is rendered.
type titleRole int

const (
	roleAdmonitionTitle titleRole = iota // <p class="admonition-title"> or <summary>
	roleTabLabel                         // <label for="…">
)

// titleNode holds inline Markdown of an admonition title or a tab label.
type titleNode struct {
	ast.BaseBlock
	role  titleRole
	forID string // tab labels: the id of the radio input
	// fallback is the text used when the title has no Markdown of its own
	// (`!!! note` → "Note"). It becomes a String child after parsing: inline
	// nodes must not exist while goldmark is still parsing blocks.
	fallback string
}

func (n *titleNode) Kind() ast.NodeKind { return kindTitle }
func (n *titleNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"For": n.forID}, nil)
}

// tabNode is one `=== "Label"` block. While parsing its first child is the
// label (titleNode); groupTabs moves labels into a tabLabelsNode and the
// tabNode then renders as the panel.
type tabNode struct {
	ast.BaseBlock
	selected bool // ===+
	newSet   bool // ===!
}

func (n *tabNode) Kind() ast.NodeKind { return kindTab }
func (n *tabNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{
		"Selected": boolString(n.selected), "NewSet": boolString(n.newSet),
	}, nil)
}

// tabSetNode groups consecutive tabs: children are a tabLabelsNode and a
// tabContentNode. The radio inputs are written by its renderer.
type tabSetNode struct {
	ast.BaseBlock
	id      int // 1-based number of the set in the page
	count   int
	checked int // 1-based index of the initially selected tab
}

func (n *tabSetNode) Kind() ast.NodeKind         { return kindTabSet }
func (n *tabSetNode) Dump(src []byte, level int) { ast.DumpHelper(n, src, level, nil, nil) }

type tabLabelsNode struct{ ast.BaseBlock }

func (n *tabLabelsNode) Kind() ast.NodeKind         { return kindTabLabels }
func (n *tabLabelsNode) Dump(src []byte, level int) { ast.DumpHelper(n, src, level, nil, nil) }

type tabContentNode struct{ ast.BaseBlock }

func (n *tabContentNode) Kind() ast.NodeKind         { return kindTabContent }
func (n *tabContentNode) Dump(src []byte, level int) { ast.DumpHelper(n, src, level, nil, nil) }

// abbrDefNode is a `*[ABBR]: title` line; it is removed after parsing.
type abbrDefNode struct {
	ast.BaseBlock
	abbr, title string
}

func (n *abbrDefNode) Kind() ast.NodeKind { return kindAbbrDef }
func (n *abbrDefNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"Abbr": n.abbr, "Title": n.title}, nil)
}

// abbrNode wraps an occurrence of a defined abbreviation.
type abbrNode struct {
	ast.BaseInline
	title string
}

func (n *abbrNode) Kind() ast.NodeKind { return kindAbbr }
func (n *abbrNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"Title": n.title}, nil)
}

// tagNode is a simple inline element: mark, ins, del, sub or sup.
type tagNode struct {
	ast.BaseInline
	tag string
}

func (n *tagNode) Kind() ast.NodeKind { return kindTag }
func (n *tagNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"Tag": n.tag}, nil)
}

// keysNode is pymdownx.keys: ++ctrl+alt+del++.
type keysNode struct {
	ast.BaseInline
	keys []string
}

func (n *keysNode) Kind() ast.NodeKind { return kindKeys }
func (n *keysNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"Keys": strings.Join(n.keys, "+")}, nil)
}

// iconNode is a mkdocs-material icon shortcode such as :material-check:.
type iconNode struct {
	ast.BaseInline
	name string
}

func (n *iconNode) Kind() ast.NodeKind { return kindIcon }
func (n *iconNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"Name": n.name}, nil)
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
