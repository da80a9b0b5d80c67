package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Document is one YAML document of a descriptor file, decoded the way
// Backstage's parser (the npm `yaml` package, core schema, merge keys off)
// decodes it: plain JSON-like values (map[string]any, []any, string,
// float64, bool, nil).
type Document struct {
	Index int   // 0-based position of the document in its file
	Value any   // nil for an empty document, which the catalog ignores
	Err   error // set when the document cannot be parsed
}

// Limits that keep one hostile file from exhausting the process. Backstage's
// YAML parser refuses documents whose aliases expand too far; we bound the
// expanded node count instead, which catches the same "billion laughs" bombs.
const (
	maxExpandedNodes = 250_000
	maxDepth         = 200
)

var errAliasBomb = errors.New("Excessive alias count indicates a resource exhaustion attack")

// ParseDocuments splits a multi-document YAML stream and decodes each
// document on its own, so one broken document does not hide the others
// (Backstage reports an error for that document and keeps the rest).
func ParseDocuments(data []byte) []Document {
	chunks := splitDocuments(toValidUTF8(data))
	docs := make([]Document, 0, len(chunks))
	for i, chunk := range chunks {
		d := Document{Index: i}
		d.Value, d.Err = decodeDocument(chunk.text)
		if d.Err != nil {
			d.Err = shiftLine(d.Err, chunk.line)
		}
		docs = append(docs, d)
	}
	return docs
}

// toValidUTF8 replaces each invalid byte with U+FFFD, as Backstage's
// buffer.toString('utf8') does before parsing, so a Latin-1 file still
// parses instead of failing in the YAML parser.
func toValidUTF8(data []byte) []byte {
	if utf8.Valid(data) {
		return data
	}
	out := make([]byte, 0, len(data)+16)
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, data[:size]...)
		}
		data = data[size:]
	}
	return out
}

type chunk struct {
	text []byte
	line int // line offset of the chunk in the file, for error messages
}

// splitDocuments cuts the stream at document markers ("---" at column 0) and
// end markers ("..."). Leading content that is only comments, blank lines or
// directives belongs to the first document, as in YAML itself.
func splitDocuments(data []byte) []chunk {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var chunks []chunk
	var cur bytes.Buffer
	curLine, line := 0, 0
	started := false // the current chunk has seen a "---" or content
	hasContent := false
	flush := func(force bool) {
		if force || hasContent || started {
			chunks = append(chunks, chunk{text: append([]byte(nil), cur.Bytes()...), line: curLine})
		}
		cur.Reset()
		hasContent, started = false, false
	}
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n')
		var l []byte
		if end < 0 {
			l, data = data, nil
		} else {
			l, data = data[:end+1], data[end+1:]
		}
		trimmed := bytes.TrimRight(l, "\r\n")
		switch {
		case isMarker(trimmed, "---"):
			if hasContent || started {
				flush(true)
			} else {
				cur.Reset() // comments before the first marker carry no data
			}
			started = true
			curLine = line
			// The marker stays in the chunk, so that the parser handles
			// "--- value" and rejects a block collection on the marker
			// line ("--- a: 1"), as Backstage's parser does.
			cur.Write(trimmed)
			cur.WriteByte('\n')
			if rest := bytes.TrimLeft(trimmed[3:], " \t"); len(rest) > 0 && rest[0] != '#' {
				hasContent = true
			}
		case isMarker(trimmed, "..."):
			flush(false)
			curLine = line + 1
		default:
			t := bytes.TrimSpace(trimmed)
			if len(t) > 0 && t[0] != '#' && !(t[0] == '%' && !started && !hasContent) {
				hasContent = true
			}
			cur.Write(l)
			if end < 0 {
				cur.WriteByte('\n')
			}
		}
		line++
	}
	if hasContent || started {
		flush(true)
	}
	return chunks
}

func isMarker(l []byte, m string) bool {
	if !bytes.HasPrefix(l, []byte(m)) {
		return false
	}
	return len(l) == 3 || l[3] == ' ' || l[3] == '\t'
}

var lineRe = regexp.MustCompile(`line (\d+)`)

// shiftLine rewrites "line N" in a yaml.v3 error to count from the start of
// the file rather than the start of the document.
func shiftLine(err error, offset int) error {
	if offset == 0 {
		return err
	}
	msg := lineRe.ReplaceAllStringFunc(err.Error(), func(s string) string {
		n, _ := strconv.Atoi(s[5:])
		return "line " + strconv.Itoa(n+offset)
	})
	return errors.New(msg)
}

func decodeDocument(text []byte) (any, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(text))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	// yaml.Unmarshal stops after the first node and would ignore trailing
	// content such as "{}\n{}"; Backstage's parser rejects it.
	var rest yaml.Node
	if err := dec.Decode(&rest); !errors.Is(err, io.EOF) {
		if err == nil {
			err = fmt.Errorf("line %d: unexpected content after the document", rest.Line)
		}
		return nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, nil
	}
	c := converter{}
	return c.value(root.Content[0], 0)
}

type converter struct {
	nodes int
}

func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	c.nodes++
	if c.nodes > maxExpandedNodes {
		return nil, errAliasBomb
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: document nested deeper than %d levels", n.Line, maxDepth)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return c.value(n.Alias, depth+1)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0], depth)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := c.value(item, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			k, err := c.key(kn, depth)
			if err != nil {
				return nil, err
			}
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("Map keys must be unique at line %d, column %d: %q", kn.Line, kn.Column, k)
			}
			v, err := c.value(vn, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// key turns a mapping key into the string JavaScript would use for it.
func (c *converter) key(n *yaml.Node, depth int) (string, error) {
	v, err := c.value(n, depth+1)
	if err != nil {
		return "", err
	}
	switch t := v.(type) {
	case string:
		return t, nil
	case nil:
		return "", nil
	case bool:
		return strconv.FormatBool(t), nil
	case float64:
		return FormatNumber(t), nil
	}
	return n.Value, nil
}

var (
	intRe   = regexp.MustCompile(`^[-+]?[0-9]+$`)
	octRe   = regexp.MustCompile(`^0o[0-7]+$`)
	hexRe   = regexp.MustCompile(`^0x[0-9a-fA-F]+$`)
	floatRe = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
)

// YAMLScalar resolves a scalar node as the catalog does (YAML 1.2 core
// schema, JSON types), for other decoders of Backstage files.
func YAMLScalar(n *yaml.Node) (any, error) { return scalar(n) }

// MaxYAMLNodes bounds how many nodes one document may expand to through
// aliases, in every decoder of untrusted YAML.
const MaxYAMLNodes = maxExpandedNodes

// ErrYAMLAliasBomb is the error for a document over MaxYAMLNodes.
var ErrYAMLAliasBomb = errAliasBomb

// scalar resolves a scalar with the YAML 1.2 core schema, which is what
// Backstage's parser uses: "yes", "on" and dates stay strings.
func scalar(n *yaml.Node) (any, error) {
	explicit := n.Style&yaml.TaggedStyle != 0
	if explicit {
		switch n.Tag {
		case "!!str", "!!binary", "!!timestamp":
			return n.Value, nil
		case "!!null":
			return nil, nil
		case "!!bool", "!!int", "!!float":
			// resolved below from the text
		default:
			// Unknown local tags (e.g. !ENV) are kept as their text.
			return n.Value, nil
		}
	} else if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Value, nil
	}
	v := n.Value
	switch v {
	case "", "~", "null", "Null", "NULL":
		return nil, nil
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN":
		// JSON has no infinities or NaN: Backstage stores them as null.
		return nil, nil
	}
	switch {
	case intRe.MatchString(v), floatRe.MatchString(v):
		f, _ := strconv.ParseFloat(v, 64)
		return jsonNumber(f), nil
	case octRe.MatchString(v):
		return parseBigInt(v[2:], 8), nil
	case hexRe.MatchString(v):
		return parseBigInt(v[2:], 16), nil
	}
	return v, nil
}

// jsonNumber maps what JSON cannot hold (an out-of-range literal parses to
// ±Inf) to null, as Backstage's JSON round trip does.
func jsonNumber(f float64) any {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil
	}
	return f
}

// parseBigInt parses digits of any length to the nearest float64, as
// JavaScript's parseInt does, instead of saturating at 64 bits.
func parseBigInt(digits string, base int) any {
	if i, err := strconv.ParseUint(digits, base, 64); err == nil {
		return float64(i)
	}
	n, ok := new(big.Int).SetString(digits, base)
	if !ok {
		return nil
	}
	f, _ := new(big.Float).SetInt(n).Float64()
	return jsonNumber(f)
}

// FormatNumber prints a number the way JavaScript's String(n) does for the
// values YAML produces.
func FormatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if f == 0 {
		return "0" // JavaScript prints -0 as "0"
	}
	// JavaScript uses plain notation for 1e-6 <= |f| < 1e21 and otherwise
	// an exponent without leading zeros ("1e-7", "1e+21").
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
	return mant + "e" + exp[:1] + strings.TrimLeft(exp[1:], "0")
}
