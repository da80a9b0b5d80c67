package roadie

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

// requiredString reads a string input that must be present (it may be
// empty only when emptyOK).
func requiredString(in map[string]any, key string, emptyOK bool) (string, error) {
	s, err := action.StringInput(in, key)
	if err != nil {
		return "", err
	}
	v, present := in[key]
	if !present || v == nil || expr.IsUndefined(v) || (s == "" && !emptyOK) {
		return "", fmt.Errorf("input %q is required", key)
	}
	return s, nil
}

// pathOutput is the absolute path Roadie's actions output (they resolve
// the input against the workspace); rel has been checked by the write.
func pathOutput(c *action.Context, rel string) string {
	p, err := action.ResolveWorkspacePath(c, rel)
	if err != nil {
		return rel
	}
	return p
}

// ---- roadiehq:utils:fs:append

type appendAction struct{}

func (appendAction) ID() string { return "roadiehq:utils:fs:append" }
func (appendAction) Description() string {
	return "Append content to the end of the given file, it will create the file if it does not exist."
}
func (appendAction) Schema() (map[string]any, map[string]any) {
	return action.ObjectSchema([]string{"path", "content"}, map[string]any{
			"path":    action.TypeSchema("string", "Path", "Path to existing file to append."),
			"content": action.TypeSchema("string", "Content", "This will be appended to the file"),
		}), action.ObjectSchema(nil, map[string]any{
			"path": action.TypeSchema("string", "Path", "Path to the file that was appended to"),
		})
}

// SupportsDryRun: the change stays in the (dry run's) workspace.
func (appendAction) SupportsDryRun() bool { return true }

func (appendAction) Run(c *action.Context) error {
	rel, err := requiredString(c.Input, "path", false)
	if err != nil {
		return err
	}
	content, err := requiredString(c.Input, "content", true)
	if err != nil {
		return err
	}
	old, err := action.ReadWorkspaceFile(c, rel)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("path: %w", err)
	}
	if err := action.UpdateWorkspaceFile(c, rel, append(old, content...)); err != nil {
		return fmt.Errorf("path: %w", err)
	}
	c.Logf("Appended %d bytes to %s", len(content), rel)
	c.SetOutput("path", pathOutput(c, rel))
	return nil
}

// ---- roadiehq:utils:fs:write

type writeAction struct{}

func (writeAction) ID() string          { return "roadiehq:utils:fs:write" }
func (writeAction) Description() string { return "Creates a file with the content on the given path" }
func (writeAction) Schema() (map[string]any, map[string]any) {
	return action.ObjectSchema([]string{"path", "content"}, map[string]any{
			"path":               action.TypeSchema("string", "Path", "Relative path"),
			"content":            action.TypeSchema("string", "Content", "This will be the content of the file"),
			"preserveFormatting": action.TypeSchema("boolean", "Preserve formatting", "Specify whether to preserve formatting for JSON content"),
		}), action.ObjectSchema(nil, map[string]any{
			"path": action.TypeSchema("string", "Path", "Path to the file that was written"),
		})
}

// SupportsDryRun: the file stays in the (dry run's) workspace.
func (writeAction) SupportsDryRun() bool { return true }

func (writeAction) Run(c *action.Context) error {
	rel, err := requiredString(c.Input, "path", false)
	if err != nil {
		return err
	}
	content, err := requiredString(c.Input, "content", true)
	if err != nil {
		return err
	}
	preserve, err := action.BoolInput(c.Input, "preserveFormatting")
	if err != nil {
		return err
	}
	if preserve {
		// JSON.stringify(JSON.parse(content), null, 2); content that is
		// not JSON is written as it is
		if v, err := parseJSON([]byte(content)); err == nil {
			content = stringifyJSON(v, "  ", nil)
		}
	}
	if err := action.WriteWorkspaceFile(c, rel, []byte(content)); err != nil {
		return fmt.Errorf("path: %w", err)
	}
	c.Logf("Wrote %s", rel)
	c.SetOutput("path", pathOutput(c, rel))
	return nil
}

// ---- roadiehq:utils:fs:replace

type replaceAction struct{}

func (replaceAction) ID() string          { return "roadiehq:utils:fs:replace" }
func (replaceAction) Description() string { return "Replaces content of a file with given values." }
func (replaceAction) Schema() (map[string]any, map[string]any) {
	item := action.ObjectSchema(nil, map[string]any{
		"file":            action.TypeSchema("string", "File", "The source location of the file to be used to run replace against (supports wildcards)"),
		"find":            action.TypeSchema("string", "Find", "A string to be replaced"),
		"matchRegex":      action.TypeSchema("boolean", "Match regex", "Use regex to match the find string"),
		"replaceWith":     action.TypeSchema("string", "Replace with", "Text to be used to replace the found lines with"),
		"includeDotFiles": action.TypeSchema("boolean", "Include dot files", "A configuration option to include dotfiles when globbing files. Defaults to false"),
	})
	files := action.TypeSchema("array", "Files", "A list of files and replacements to be done")
	files["items"] = item
	return action.ObjectSchema([]string{"files"}, map[string]any{"files": files}), action.ObjectSchema(nil, map[string]any{})
}

// SupportsDryRun: the changes stay in the (dry run's) workspace.
func (replaceAction) SupportsDryRun() bool { return true }

func (replaceAction) Run(c *action.Context) error {
	list, ok := c.Input["files"].([]any)
	if !ok {
		return errors.New("files must be an Array")
	}
	for i, it := range list {
		m, ok := objectMap(it)
		if !ok {
			return fmt.Errorf("files[%d] must be an object", i)
		}
		file, err := action.StringInput(m, "file")
		if err != nil {
			return fmt.Errorf("files[%d]: %w", i, err)
		}
		find, err := action.StringInput(m, "find")
		if err != nil {
			return fmt.Errorf("files[%d]: %w", i, err)
		}
		with, err := action.StringInput(m, "replaceWith")
		if err != nil {
			return fmt.Errorf("files[%d]: %w", i, err)
		}
		useRegex, err := action.BoolInput(m, "matchRegex")
		if err != nil {
			return fmt.Errorf("files[%d]: %w", i, err)
		}
		dot, err := action.BoolInput(m, "includeDotFiles")
		if err != nil {
			return fmt.Errorf("files[%d]: %w", i, err)
		}
		if file == "" {
			return errors.New("Path to file needs to be defined")
		}
		// Roadie's check: an empty replaceWith is refused too
		if find == "" || with == "" {
			return errors.New("each file must have a find and replaceWith property")
		}
		var re *regexp.Regexp
		if useRegex {
			if re, err = regexp.Compile(find); err != nil {
				return fmt.Errorf("files[%d].find: invalid regular expression %q: %w", i, find, err)
			}
		}
		matches, err := action.GlobWorkspace(c, file)
		if err != nil {
			return fmt.Errorf("files[%d].file: %w", i, err)
		}
		if !dot {
			matches = withoutDotFiles(matches, file)
		}
		if len(matches) == 0 {
			c.Logf("No file matches %s", file)
		}
		for _, rel := range matches {
			data, err := action.ReadWorkspaceFile(c, rel)
			if err != nil {
				return fmt.Errorf("files[%d]: %w", i, err)
			}
			out := replaceAll(string(data), find, re, with)
			if out == string(data) {
				continue
			}
			if err := action.UpdateWorkspaceFile(c, rel, []byte(out)); err != nil {
				return fmt.Errorf("files[%d]: %w", i, err)
			}
			c.Logf("Replaced in %s", rel)
		}
	}
	return nil
}

// objectMap is an input object (rendered inputs hold *expr.Object).
func objectMap(v any) (map[string]any, bool) {
	m, err := action.MapInput(map[string]any{"v": v}, "v")
	return m, err == nil && m != nil
}

// withoutDotFiles drops matches that reach a dot file or directory the
// pattern does not name literally, as fast-glob does without its dot
// option (a "*" or "**" does not match a leading dot).
func withoutDotFiles(matches []string, pattern string) []string {
	literal := map[string]bool{}
	for _, seg := range strings.Split(strings.ReplaceAll(pattern, `\`, "/"), "/") {
		if strings.HasPrefix(seg, ".") {
			literal[seg] = true
		}
	}
	out := matches[:0]
next:
	for _, m := range matches {
		for _, seg := range strings.Split(m, "/") {
			if strings.HasPrefix(seg, ".") && !literal[seg] {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

// replaceAll is JavaScript's s.replaceAll(find, with), find a string or,
// with re, a global regular expression; with's $ patterns ($$, $&, $`,
// $', $1, $<name>) are expanded as JavaScript expands them.
func replaceAll(s, find string, re *regexp.Regexp, with string) string {
	var matches [][]int
	var names []string
	if re != nil {
		matches = re.FindAllStringSubmatchIndex(s, -1)
		names = re.SubexpNames()
	} else {
		for off := 0; ; {
			i := strings.Index(s[off:], find)
			if i < 0 {
				break
			}
			matches = append(matches, []int{off + i, off + i + len(find)})
			off += i + len(find)
		}
	}
	if len(matches) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		b.WriteString(s[last:m[0]])
		expandJS(&b, with, s, m, names)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// expandJS writes repl with JavaScript's GetSubstitution rules; m holds
// the match's and its groups' offsets (-1 for a group that did not
// take part), names the groups' names.
func expandJS(b *strings.Builder, repl, s string, m []int, names []string) {
	groups := len(m)/2 - 1
	group := func(n int) string {
		if m[2*n] < 0 {
			return ""
		}
		return s[m[2*n]:m[2*n+1]]
	}
	hasNames := false
	for _, n := range names {
		if n != "" {
			hasNames = true
		}
	}
	for i := 0; i < len(repl); i++ {
		ch := repl[i]
		if ch != '$' || i+1 == len(repl) {
			b.WriteByte(ch)
			continue
		}
		next := repl[i+1]
		switch {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '&':
			b.WriteString(s[m[0]:m[1]])
			i++
		case next == '`':
			b.WriteString(s[:m[0]])
			i++
		case next == '\'':
			b.WriteString(s[m[1]:])
			i++
		case next >= '0' && next <= '9':
			if i+2 < len(repl) && repl[i+2] >= '0' && repl[i+2] <= '9' {
				if n, _ := strconv.Atoi(repl[i+1 : i+3]); n >= 1 && n <= groups {
					b.WriteString(group(n))
					i += 2
					continue
				}
			}
			if n := int(next - '0'); n >= 1 && n <= groups {
				b.WriteString(group(n))
				i++
				continue
			}
			b.WriteByte('$')
		case next == '<' && hasNames:
			end := strings.IndexByte(repl[i+2:], '>')
			if end < 0 {
				b.WriteByte('$')
				continue
			}
			name := repl[i+2 : i+2+end]
			for gi, n := range names {
				if gi > 0 && n == name {
					b.WriteString(group(gi))
					break
				}
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
}

// ---- roadiehq:utils:fs:parse

type parseAction struct{}

func (parseAction) ID() string { return "roadiehq:utils:fs:parse" }
func (parseAction) Description() string {
	return "Reads a file from the workspace and optionally parses it"
}
func (parseAction) Schema() (map[string]any, map[string]any) {
	parser := action.TypeSchema("string", "Parse", "Optionally parse the content to an object.")
	parser["enum"] = []any{"yaml", "json", "multiyaml"}
	content := action.TypeSchema("", "Content", "Content of the file")
	content["type"] = []any{"string", "object"}
	return action.ObjectSchema([]string{"path"}, map[string]any{
		"path":   action.TypeSchema("string", "Path", "Path to the file to read."),
		"parser": parser,
	}), action.ObjectSchema(nil, map[string]any{"content": content})
}

// SupportsDryRun: it only reads the workspace.
func (parseAction) SupportsDryRun() bool { return true }

func (parseAction) Run(c *action.Context) error {
	rel, err := requiredString(c.Input, "path", false)
	if err != nil {
		return err
	}
	parser, err := action.StringInput(c.Input, "parser")
	if err != nil {
		return err
	}
	data, err := action.ReadWorkspaceFile(c, rel)
	if err != nil {
		return fmt.Errorf("path: %w", err)
	}
	var content any
	switch parser {
	case "":
		content = string(data)
	case "json":
		content, err = parseJSON(data)
	case "yaml":
		content, err = parseYAML(data)
	case "multiyaml":
		docs, perr := parseYAMLDocuments(data)
		if perr != nil {
			return fmt.Errorf("%s: %w", rel, perr)
		}
		list := make([]any, 0, len(docs))
		for _, d := range docs {
			v, verr := yamlValue(d)
			if verr != nil {
				return fmt.Errorf("%s: %w", rel, verr)
			}
			list = append(list, v)
		}
		content = list
	default:
		return fmt.Errorf("input \"parser\" must be one of yaml, json, multiyaml, got %q", parser)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	c.SetOutput("content", content)
	return nil
}
