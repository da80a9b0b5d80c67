package action

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/greenroom-dev/greenroom/scaffolder/expr"
)

// ---- fs:delete

type fsDelete struct{}

func (fsDelete) ID() string          { return "fs:delete" }
func (fsDelete) Description() string { return "Deletes files and directories from the workspace" }
func (fsDelete) Schema() (map[string]any, map[string]any) {
	return schemaObj([]string{"files"}, map[string]any{
		"files": sStrArray("Files", "A list of files and directories (glob patterns) that will be deleted"),
	}), schemaObj(nil, map[string]any{})
}
func (fsDelete) Run(c *Context) error {
	files, err := inStrList(c.Input, "files")
	if err != nil {
		return err
	}
	if _, ok := c.Input["files"]; !ok {
		return fmt.Errorf("input \"files\" is required")
	}
	for _, pat := range files {
		clean, err := cleanRel(pat)
		if err != nil {
			return fmt.Errorf("files: %w", err)
		}
		pat = filepath.ToSlash(clean)
		if !doublestar.ValidatePattern(pat) {
			return fmt.Errorf("files: bad glob pattern %q", pat)
		}
		matches, err := doublestar.Glob(os.DirFS(c.Workspace), pat, doublestar.WithNoFollow())
		if err != nil {
			return err
		}
		// deepest first, so a directory match after its children is harmless
		sort.Sort(sort.Reverse(sort.StringSlice(matches)))
		for _, m := range matches {
			if m == "." {
				return fmt.Errorf("files: %q matches the workspace itself", pat)
			}
			p, err := within(c.Workspace, m, false)
			if err != nil {
				return err
			}
			if c.DryRun {
				c.Logf("Would delete %s (dry run)", m)
				continue
			}
			if err := os.RemoveAll(p); err != nil {
				return fmt.Errorf("delete %s: %w", m, err)
			}
			c.Logf("File %s deleted successfully", m)
		}
	}
	return nil
}

// ---- fs:rename

type fsRename struct{}

func (fsRename) ID() string { return "fs:rename" }
func (fsRename) Description() string {
	return "Renames files and directories within the workspace"
}
func (fsRename) Schema() (map[string]any, map[string]any) {
	item := schemaObj([]string{"from", "to"}, map[string]any{
		"from":      sType("string", "From", "The source location of the file to be renamed"),
		"to":        sType("string", "To", "The destination of the new file"),
		"overwrite": sType("boolean", "Overwrite", "Overwrite existing file or directory, default is false"),
	})
	files := sType("array", "Files", "A list of file and directory names that will be renamed")
	files["items"] = item
	return schemaObj([]string{"files"}, map[string]any{"files": files}), schemaObj(nil, map[string]any{})
}
func (fsRename) Run(c *Context) error {
	raw, ok := c.Input["files"].([]any)
	if !ok {
		return fmt.Errorf("input \"files\" must be an array of {from, to, overwrite}")
	}
	for i, it := range raw {
		m, ok := asMap(it)
		if !ok {
			return fmt.Errorf("files[%d] must be an object", i)
		}
		from, err := inStr(m, "from")
		if err != nil {
			return err
		}
		to, err := inStr(m, "to")
		if err != nil {
			return err
		}
		if from == "" || to == "" {
			return fmt.Errorf("files[%d]: both from and to are required", i)
		}
		overwrite, err := inBool(m, "overwrite")
		if err != nil {
			return err
		}
		src, err := within(c.Workspace, from, false)
		if err != nil {
			return fmt.Errorf("files[%d].from: %w", i, err)
		}
		dst, err := within(c.Workspace, to, false)
		if err != nil {
			return fmt.Errorf("files[%d].to: %w", i, err)
		}
		if src == c.Workspace || dst == c.Workspace {
			return fmt.Errorf("files[%d]: can not rename the workspace itself", i)
		}
		if !exists(src) {
			return fmt.Errorf("files[%d]: %s does not exist", i, from)
		}
		if exists(dst) {
			if !overwrite {
				return fmt.Errorf("files[%d]: %s already exists", i, to)
			}
			if c.DryRun {
				c.Logf("Would replace %s (dry run)", to)
			} else if err := os.RemoveAll(dst); err != nil {
				return err
			}
		}
		if c.DryRun {
			c.Logf("Would rename %s to %s (dry run)", from, to)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Rename(src, dst); err != nil {
			return fmt.Errorf("rename %s to %s: %w", from, to, err)
		}
		c.Logf("File %s renamed to %s successfully", from, to)
	}
	return nil
}

// ---- fs:read

type fsRead struct{ o BuiltinOptions }

func (fsRead) ID() string          { return "fs:read" }
func (fsRead) Description() string { return "Reads a file from the workspace and outputs its content" }
func (fsRead) Schema() (map[string]any, map[string]any) {
	return schemaObj([]string{"path"}, map[string]any{
			"path": sType("string", "Path", "Path to the file to read, relative to the workspace"),
		}), schemaObj([]string{"content"}, map[string]any{
			"content": sType("string", "Content", "The file's content"),
		})
}
func (a fsRead) Run(c *Context) error {
	p, err := inStr(c.Input, "path")
	if err != nil {
		return err
	}
	if p == "" {
		return fmt.Errorf("input \"path\" is required")
	}
	full, err := within(c.Workspace, p, true)
	if err != nil {
		return fmt.Errorf("path: %w", err)
	}
	data, err := readCapped(full, a.o.limits().maxBytes)
	if err != nil {
		return err
	}
	c.out("content", string(data))
	return nil
}

// ---- debug:log

type debugLog struct{ o BuiltinOptions }

func (debugLog) ID() string { return "debug:log" }
func (debugLog) Description() string {
	return "Writes a message into the log and/or lists all files in the workspace."
}
func (debugLog) Schema() (map[string]any, map[string]any) {
	lw := map[string]any{
		"title":       "List all files in the workspace",
		"description": "If set to true, all files in the workspace are logged; \"with-filenames\" lists names, \"with-contents\" also logs contents.",
		"oneOf": []any{
			map[string]any{"type": "boolean"},
			map[string]any{"type": "string", "enum": []any{"with-filenames", "with-contents"}},
		},
	}
	return schemaObj(nil, map[string]any{
		"message":       sType("string", "Message to output.", "Message to output."),
		"listWorkspace": lw,
		"extra":         sType("", "Extra info", "Extra info to log as JSON"),
	}), schemaObj(nil, map[string]any{})
}
func (a debugLog) Run(c *Context) error {
	msg, err := inStr(c.Input, "message")
	if err != nil {
		return err
	}
	if msg != "" {
		c.Logf("%s", msg)
	}
	if x, ok := c.Input["extra"]; ok && x != nil {
		if s, ok := expr.ToJSON(x); ok {
			c.Logf("%s", s)
		}
	}
	mode := ""
	switch x := c.Input["listWorkspace"].(type) {
	case bool:
		if x {
			mode = "with-filenames"
		}
	case string:
		mode = x
	}
	if mode == "" || mode == "false" {
		return nil
	}
	var lines []string
	l := a.o.limits()
	err = filepath.WalkDir(c.Workspace, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != c.Workspace {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(c.Workspace, p)
		rel = filepath.ToSlash(rel)
		if mode == "with-contents" && d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			if err := l.add(info.Size()); err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			lines = append(lines, rel+":\n"+string(data))
		} else {
			lines = append(lines, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.Logf("Workspace:\n%s", strings.Join(lines, "\n"))
	return nil
}

// ---- debug:wait

type debugWait struct{}

const maxWait = 10 * time.Minute

func (debugWait) ID() string          { return "debug:wait" }
func (debugWait) Description() string { return "Waits for a certain period of time." }
func (debugWait) Schema() (map[string]any, map[string]any) {
	return schemaObj(nil, map[string]any{
		"minutes":      sType("number", "Waiting period in minutes.", "Waiting period in minutes."),
		"seconds":      sType("number", "Waiting period in seconds.", "Waiting period in seconds."),
		"milliseconds": sType("number", "Waiting period in milliseconds.", "Waiting period in milliseconds."),
	}), schemaObj(nil, map[string]any{})
}
func (debugWait) Run(c *Context) error {
	var d time.Duration
	for _, u := range []struct {
		k string
		d time.Duration
	}{{"minutes", time.Minute}, {"seconds", time.Second}, {"milliseconds", time.Millisecond}} {
		n, ok, err := inNum(c.Input, u.k)
		if err != nil {
			return err
		}
		if ok {
			if n < 0 {
				return fmt.Errorf("input %q must not be negative", u.k)
			}
			if n > float64(maxWait/u.d) {
				return fmt.Errorf("waiting duration is longer than the maximum threshold of %v", maxWait)
			}
			d += time.Duration(n * float64(u.d))
		}
	}
	if d > maxWait {
		return fmt.Errorf("waiting duration is longer than the maximum threshold of %v", maxWait)
	}
	c.Logf("Waiting %v", d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-c.ctx().Done():
		return c.ctx().Err()
	}
}
