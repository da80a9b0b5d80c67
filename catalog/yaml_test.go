package catalog

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// docWant is what one document of a stream should decode to: a value, or an
// error whose text starts with errPrefix.
type docWant struct {
	value       any
	errPrefix   string
	errContains string
}

type obj = map[string]any
type arr = []any

// Expected values were checked against the npm `yaml` package
// (parseAllDocuments with merge: false), which Backstage uses.
func TestParseDocuments(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []docWant
	}{
		{name: "two documents with indexes", in: "a: 1\n---\nb: 2\n",
			want: []docWant{{value: obj{"a": 1.0}}, {value: obj{"b": 2.0}}}},
		{name: "trailing marker makes an empty document", in: "a: 1\n---\n",
			want: []docWant{{value: obj{"a": 1.0}}, {value: nil}}},
		{name: "empty document between two", in: "a: 1\n---\n---\nb: 2\n",
			want: []docWant{{value: obj{"a": 1.0}}, {value: nil}, {value: obj{"b": 2.0}}}},
		{name: "only a marker", in: "---\n", want: []docWant{{value: nil}}},
		{name: "empty input has no documents", in: "", want: nil},
		{name: "only a comment has no documents", in: "# nothing here\n", want: nil},
		{name: "comments before the first marker belong to the first document", in: "# c\n# d\n---\na: 1\n",
			want: []docWant{{value: obj{"a": 1.0}}}},
		{name: "directive before the first marker", in: "%YAML 1.2\n---\na: 1\n",
			want: []docWant{{value: obj{"a": 1.0}}}},
		{name: "invalid UTF-8 is replaced, not an error", in: "a: caf\xe9\nb: \xff\xfe\n",
			want: []docWant{{value: obj{"a": "caf\ufffd", "b": "\ufffd\ufffd"}}}},
		{name: "byte order mark", in: "\xef\xbb\xbfa: 1\n", want: []docWant{{value: obj{"a": 1.0}}}},
		{name: "value on the marker line", in: "--- foo\n--- {a: 1}\n",
			want: []docWant{{value: "foo"}, {value: obj{"a": 1.0}}}},
		{name: "block scalar on the marker line", in: "--- |\n  text\n---\n",
			want: []docWant{{value: "text\n"}, {value: nil}}},
		{name: "anchor and tag on the marker line", in: "--- &x\na: 1\n--- !!map\nb: 2\n",
			want: []docWant{{value: obj{"a": 1.0}}, {value: obj{"b": 2.0}}}},
		{name: "block mapping on the marker line is an error", in: "--- a: 1\n--- - a\n--- ok\n",
			want: []docWant{{errPrefix: "mapping values are not allowed"}, {errPrefix: "block sequence entries are not allowed"}, {value: "ok"}}},
		{name: "comment on the marker line", in: "--- # first\na: 1\n",
			want: []docWant{{value: obj{"a": 1.0}}}},
		{name: "end marker separates documents", in: "a: 1\n...\nb: 2\n",
			want: []docWant{{value: obj{"a": 1.0}}, {value: obj{"b": 2.0}}}},
		{name: "end marker then start marker", in: "a: 1\n...\n---\nb: 2\n",
			want: []docWant{{value: obj{"a": 1.0}}, {value: obj{"b": 2.0}}}},
		{name: "CRLF line endings", in: "a: 1\r\n---\r\nb: 2\r\n",
			want: []docWant{{value: obj{"a": 1.0}}, {value: obj{"b": 2.0}}}},
		{name: "no trailing newline", in: "a: 1\n---\nb: 2",
			want: []docWant{{value: obj{"a": 1.0}}, {value: obj{"b": 2.0}}}},
		{name: "marker-like text indented is content", in: "a: |\n  ---\n  x\n",
			want: []docWant{{value: obj{"a": "---\nx\n"}}}},
		{name: "core schema: yes, on, NO and dates stay strings",
			in:   "a: yes\nb: on\nc: 2021-01-01\nd: NO\ne: off\nf: 2021-01-01T10:00:00Z\n",
			want: []docWant{{value: obj{"a": "yes", "b": "on", "c": "2021-01-01", "d": "NO", "e": "off", "f": "2021-01-01T10:00:00Z"}}}},
		{name: "core schema: booleans", in: "a: true\nb: True\nc: FALSE\n",
			want: []docWant{{value: obj{"a": true, "b": true, "c": false}}}},
		{name: "core schema: integers", in: "a: 0o17\nb: 0x1F\nc: 012\nd: +12\ne: -3\n",
			want: []docWant{{value: obj{"a": 15.0, "b": 31.0, "c": 12.0, "d": 12.0, "e": -3.0}}}},
		{name: "core schema: not integers", in: "a: 0b101\nb: 1_000\nc: 0o8\nd: 0X1F\n",
			want: []docWant{{value: obj{"a": "0b101", "b": "1_000", "c": "0o8", "d": "0X1F"}}}},
		{name: "core schema: floats", in: "a: 1.5\nb: .5\nc: 5.\nd: 1e3\ne: +.5e-2\n",
			want: []docWant{{value: obj{"a": 1.5, "b": 0.5, "c": 5.0, "d": 1000.0, "e": 0.005}}}},
		{name: "infinities and NaN become null", in: "a: .inf\nb: -.inf\nc: .NaN\n",
			want: []docWant{{value: obj{"a": nil, "b": nil, "c": nil}}}},
		{name: "numbers out of range become null, as JSON has no infinity",
			in:   "a: 1e400\nb: -1e400\nc: 1" + strings.Repeat("0", 400) + "\n",
			want: []docWant{{value: obj{"a": nil, "b": nil, "c": nil}}}},
		{name: "large integers lose precision like JavaScript numbers",
			in:   "c: 0x1FFFFFFFFFFFFFFFFF\nd: 0o7777777777777777777777777\ne: 123456789012345678901234567890\n",
			want: []docWant{{value: obj{"c": 590295810358705700000.0, "d": 3.777893186295716e+22, "e": 1.2345678901234568e+29}}}},
		{name: "null forms", in: "a: ~\nb: null\nc:\nd: Null\n",
			want: []docWant{{value: obj{"a": nil, "b": nil, "c": nil, "d": nil}}}},
		{name: "quoted numbers stay strings", in: "a: \"12\"\nb: '0x1F'\nc: \"true\"\nd: !!str 12\n",
			want: []docWant{{value: obj{"a": "12", "b": "0x1F", "c": "true", "d": "12"}}}},
		{name: "unknown local tag keeps the text", in: "a: !ENV x\n",
			want: []docWant{{value: obj{"a": "x"}}}},
		{name: "non-string keys are stringified", in: "1: a\ntrue: b\nnull: c\n1.5: d\n",
			want: []docWant{{value: obj{"1": "a", "true": "b", "": "c", "1.5": "d"}}}},
		{name: "merge key is a plain key", in: "a: {<<: {b: 1}, c: 2}\n",
			want: []docWant{{value: obj{"a": obj{"<<": obj{"b": 1.0}, "c": 2.0}}}}},
		{name: "merge key with alias is not merged", in: "base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n",
			want: []docWant{{value: obj{"base": obj{"x": 1.0}, "m": obj{"<<": obj{"x": 1.0}, "y": 2.0}}}}},
		{name: "anchors and aliases", in: "a: &n anchored\nb: *n\nc: [*n]\n",
			want: []docWant{{value: obj{"a": "anchored", "b": "anchored", "c": arr{"anchored"}}}}},
		{name: "duplicate keys", in: "a: 1\na: 2\n",
			want: []docWant{{errPrefix: "Map keys must be unique at line 2, column 1"}}},
		{name: "duplicate keys in a flow mapping", in: "m: {name: a, name: b}\n",
			want: []docWant{{errPrefix: "Map keys must be unique at line 1, column 14"}}},
		{name: "error lines count from the start of the file", in: "a: 1\nb: 2\n---\nx: 1\n\nx: 2\n",
			want: []docWant{{value: obj{"a": 1.0, "b": 2.0}}, {errPrefix: "Map keys must be unique at line 6, column 1"}}},
		{name: "one broken document does not hide the others", in: "a: 1\n---\nb: [\n---\nc: 3\n",
			want: []docWant{{value: obj{"a": 1.0}}, {errPrefix: "line 3:"}, {value: obj{"c": 3.0}}}},
		{name: "syntax error after a marker with a comment", in: "a: 1\n--- # two\nb: : :\n",
			want: []docWant{{value: obj{"a": 1.0}}, {errPrefix: "line 3:"}}},
		{name: "content after a flow collection is an error", in: "{a: 1}\nb: 2\n---\n[a]]\n",
			// yaml.v3 reports the line where the document's node ended.
			want: []docWant{{errContains: "did not find expected <document start>"}, {errContains: "did not find expected <document start>"}}},
		{name: "root may be a list or a scalar", in: "- a\n- b\n---\njust a string\n",
			want: []docWant{{value: arr{"a", "b"}}, {value: "just a string"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := ParseDocuments([]byte(tt.in))
			if len(docs) != len(tt.want) {
				t.Fatalf("got %d documents, want %d: %+v", len(docs), len(tt.want), docs)
			}
			for i, d := range docs {
				w := tt.want[i]
				if d.Index != i {
					t.Errorf("document %d has Index %d", i, d.Index)
				}
				if w.errPrefix != "" || w.errContains != "" {
					if d.Err == nil {
						t.Errorf("document %d: got %#v, want an error", i, d.Value)
					} else if !strings.HasPrefix(d.Err.Error(), w.errPrefix) || !strings.Contains(d.Err.Error(), w.errContains) {
						t.Errorf("document %d: error %q, want prefix %q containing %q", i, d.Err, w.errPrefix, w.errContains)
					}
					continue
				}
				if d.Err != nil {
					t.Errorf("document %d: unexpected error %v", i, d.Err)
					continue
				}
				if !reflect.DeepEqual(d.Value, w.value) {
					t.Errorf("document %d = %#v, want %#v", i, d.Value, w.value)
				}
			}
		})
	}
}

// billionLaughs builds levels of anchors, each a list of `width` aliases of
// the previous one: width^levels nodes once expanded.
func billionLaughs(levels, width int) string {
	var b strings.Builder
	b.WriteString("l0: &l0 [lol]\n")
	for i := 1; i <= levels; i++ {
		prev := "*l" + itoa(i-1)
		b.WriteString("l" + itoa(i) + ": &l" + itoa(i) + " [")
		for j := 0; j < width; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(prev)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func itoa(i int) string { return FormatNumber(float64(i)) }

func TestParseDocumentsLimits(t *testing.T) {
	deepBlock := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(strings.Repeat("  ", i) + "a:\n")
		}
		return b.String()
	}
	tests := []struct {
		name      string
		in        string
		errPrefix string // "" means the document must parse
	}{
		{name: "alias bomb is refused", in: billionLaughs(9, 9),
			errPrefix: "Excessive alias count indicates a resource exhaustion attack"},
		{name: "alias bomb in a later document is refused", in: "a: 1\n---\n" + billionLaughs(9, 9),
			errPrefix: "Excessive alias count indicates a resource exhaustion attack"},
		{name: "modest aliasing is fine", in: billionLaughs(3, 9)},
		{name: "deep flow nesting is refused", in: strings.Repeat("[", 300) + strings.Repeat("]", 300),
			errPrefix: "line 1: document nested deeper than 200 levels"},
		{name: "very deep flow nesting is refused by the parser", in: strings.Repeat("[", 20000) + strings.Repeat("]", 20000)},
		{name: "deep block nesting is refused", in: deepBlock(300),
			errPrefix: "line 201: document nested deeper than 200 levels"},
		{name: "nesting within the limit is fine", in: strings.Repeat("[", 150) + strings.Repeat("]", 150)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			docs := ParseDocuments([]byte(tt.in))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("ParseDocuments took %v", d)
			}
			last := docs[len(docs)-1]
			wantErr := tt.errPrefix != "" || strings.Contains(tt.name, "refused")
			if !wantErr {
				if last.Err != nil {
					t.Fatalf("unexpected error %v", last.Err)
				}
				return
			}
			if last.Err == nil {
				t.Fatal("document was accepted")
			}
			if !strings.HasPrefix(last.Err.Error(), tt.errPrefix) {
				t.Errorf("error %q, want prefix %q", last.Err, tt.errPrefix)
			}
		})
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {12, "12"}, {-3, "-3"}, {1.5, "1.5"}, {1e20, "100000000000000000000"},
		{1e21, "1e+21"}, {1e-7, "1e-7"}, {0.005, "0.005"},
		// Checked against node's String(n).
		{math.Copysign(0, -1), "0"}, {0.000001, "0.000001"}, {0.0000012, "0.0000012"}, {1.23e-5, "0.0000123"},
		{-2.5e-9, "-2.5e-9"}, {1.5e300, "1.5e+300"}, {123456789012345680000, "123456789012345680000"},
		{0.30000000000000004, "0.30000000000000004"}, {5e-324, "5e-324"}, {math.MaxFloat64, "1.7976931348623157e+308"},
		{math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"}, {math.NaN(), "NaN"},
	}
	for _, tt := range tests {
		if got := FormatNumber(tt.in); got != tt.want {
			t.Errorf("FormatNumber(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
