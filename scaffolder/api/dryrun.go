package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	catalogapi "github.com/greenroom-dev/greenroom/catalog/api"
	"github.com/greenroom-dev/greenroom/scaffolder/action"
	"github.com/greenroom-dev/greenroom/scaffolder/task"
	"github.com/greenroom-dev/greenroom/scaffolder/template"
)

// dryRunTimeout bounds one dry run.
const dryRunTimeout = 5 * time.Minute

// dryRunMaxBytes caps the workspace contents returned by a dry run.
const dryRunMaxBytes = 50 << 20

type dirEntry struct {
	Path          string `json:"path"`
	Base64Content string `json:"base64Content"`
	Executable    bool   `json:"executable,omitempty"`
}

type dryRunBody struct {
	Template          json.RawMessage   `json:"template"`
	Values            map[string]any    `json:"values"`
	Secrets           map[string]string `json:"secrets"`
	DirectoryContents []dirEntry        `json:"directoryContents"`
	// TemplatePath (Greenroom's) is where the template's descriptor sits
	// within directoryContents, for a template that shares skeletons up
	// its repository (url: ../../skeletons/x): its relative fetch URLs
	// resolve from that directory and may climb to the contents' root, as
	// when the repository is registered in the catalog. Empty: the root.
	TemplatePath string `json:"templatePath,omitempty"`
}

// snapshot keeps the last seen workspace contents of a dry run.
type snapshot struct {
	mu    sync.Mutex
	files []dirEntry
	err   error
}

func (sn *snapshot) take(ws string) {
	var files []dirEntry
	var total int64
	err := filepath.WalkDir(ws, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		if total > dryRunMaxBytes {
			return fmt.Errorf("dry-run workspace exceeds %d bytes", dryRunMaxBytes)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(ws, p)
		if err != nil {
			return err
		}
		files = append(files, dirEntry{Path: filepath.ToSlash(rel), Base64Content: base64.StdEncoding.EncodeToString(b), Executable: info.Mode()&0o111 != 0})
		return nil
	})
	sn.mu.Lock()
	defer sn.mu.Unlock()
	sn.files, sn.err = files, err
}

// dryAction runs an action with Context.DryRun set and snapshots the
// workspace after it.
type dryAction struct {
	action.Action
	snap *snapshot
}

// SupportsDryRun is the wrapped action's answer, so the runner skips what
// Backstage skips.
func (a dryAction) SupportsDryRun() bool { return action.SupportsDryRun(a.Action) }

func (a dryAction) Run(c *action.Context) error {
	c.DryRun = true
	err := a.Action.Run(c)
	a.snap.take(c.Workspace)
	return err
}

func (s *Server) dryRun(w http.ResponseWriter, r *http.Request) {
	var b dryRunBody
	if err := s.decodeBody(w, r, &b, false); err != nil {
		writeError(w, r, err)
		return
	}
	tp, err := parseTemplateBody(b.Template)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if b.Values == nil {
		b.Values = map[string]any{}
	}
	tmp, err := os.MkdirTemp("", "greenroom-dry-run-")
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer os.RemoveAll(tmp)
	tdir := filepath.Join(tmp, "template")
	if err := writeContents(tdir, b.DirectoryContents); err != nil {
		writeError(w, r, err)
		return
	}
	root, dir := tdir, tdir
	if b.TemplatePath != "" {
		rel := path.Clean(b.TemplatePath)
		if path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") || strings.Contains(rel, "\\") {
			writeError(w, r, catalogapi.InputError("templatePath %q must be a relative path inside directoryContents", b.TemplatePath))
			return
		}
		dir = filepath.Join(tdir, filepath.FromSlash(path.Dir(rel)))
	}
	st, err := task.OpenSQLite(filepath.Join(tmp, "tasks.db"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer st.Close()

	snap := &snapshot{}
	reg := action.NewRegistry()
	if s.Actions != nil {
		for _, a := range s.Actions.List() {
			reg.Register(dryAction{Action: a, snap: snap})
		}
	}
	runner := &task.Runner{
		Store:        st,
		Actions:      reg,
		WorkDir:      filepath.Join(tmp, "work"),
		TemplateDir:  func(*template.Template) string { return dir },
		TemplateRoot: func(*template.Template) string { return root },
		DryRun:       true,
	}
	if s.Runner != nil {
		runner.Integrations = s.Runner.Integrations
	}
	ctx, cancel := context.WithTimeout(r.Context(), dryRunTimeout)
	defer cancel()
	t := &task.Task{
		ID:     "dry-run-" + randHex(),
		Status: task.StatusOpen,
		Spec:   task.Spec{Template: tp, Parameters: b.Values, Secrets: b.Secrets},
	}
	if s.User != nil {
		t.Spec.User = s.User(r)
	}
	if err := st.Create(ctx, t); err != nil {
		writeError(w, r, err)
		return
	}
	runner.Run(ctx, t)

	evs, err := st.Events(context.WithoutCancel(ctx), t.ID, 0)
	if err != nil {
		writeError(w, r, err)
		return
	}
	log := make([]map[string]any, 0, len(evs))
	for _, e := range evs {
		log = append(log, map[string]any{"body": e.Body, "type": e.Type, "id": e.ID, "createdAt": e.CreatedAt})
	}
	steps := make([]map[string]any, 0, len(tp.Steps))
	for i, s := range tp.Steps {
		id, name := s.ID, s.Name
		if i < len(t.Steps) {
			id, name = t.Steps[i].ID, t.Steps[i].Name
		}
		steps = append(steps, map[string]any{"id": id, "name": name, "action": s.Action})
	}
	snap.mu.Lock()
	files, serr := snap.files, snap.err
	snap.mu.Unlock()
	if serr != nil {
		writeError(w, r, serr)
		return
	}
	if files == nil {
		files = []dirEntry{}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	var output any = map[string]any{}
	if t.Output != nil {
		output = t.Output
	}
	catalogapi.WriteJSON(w, http.StatusOK, map[string]any{
		"log":               log,
		"directoryContents": files,
		"output":            output,
		"steps":             steps,
		"status":            t.Status,
		"error":             t.Error,
	})
}

func parseTemplateBody(raw json.RawMessage) (*template.Template, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, catalogapi.InputError("template is required")
	}
	var src any
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, catalogapi.InputError("malformed template: %v", err)
		}
		src = s
	} else {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, catalogapi.InputError("template must be an entity object: %v", err)
		}
		src = m
	}
	tp, err := template.Parse(src)
	if err != nil {
		return nil, catalogapi.InputError("invalid template: %v", err)
	}
	return tp, nil
}

// writeContents builds the template directory from directoryContents,
// refusing absolute paths and ".." segments.
func writeContents(dir string, entries []dirEntry) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var total int
	for _, e := range entries {
		p := strings.ReplaceAll(e.Path, "\\", "/")
		if p == "" || strings.HasPrefix(p, "/") || filepath.IsAbs(e.Path) {
			return catalogapi.InputError("directoryContents path %q must be relative", e.Path)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == ".." {
				return catalogapi.InputError("directoryContents path %q may not contain '..'", e.Path)
			}
		}
		clean := path.Clean(p)
		if clean == "." {
			return catalogapi.InputError("directoryContents path %q names no file", e.Path)
		}
		data, err := base64.StdEncoding.DecodeString(e.Base64Content)
		if err != nil {
			return catalogapi.InputError("directoryContents %q: invalid base64Content: %v", e.Path, err)
		}
		total += len(data)
		if total > dryRunMaxBytes {
			return catalogapi.InputError("directoryContents exceed %d bytes", dryRunMaxBytes)
		}
		full := filepath.Join(dir, filepath.FromSlash(clean))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if e.Executable {
			mode = 0o755
		}
		if err := os.WriteFile(full, data, mode); err != nil {
			return err
		}
	}
	return nil
}

func randHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}
