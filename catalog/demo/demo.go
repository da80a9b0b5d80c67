// Package demo holds the bundled demo catalog: a fictional organisation's
// Backstage descriptors, served when Greenroom starts without a config.
package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FS holds the demo catalog files; RootFile is the root Location file inside it.
//
//go:embed all:catalog
var FS embed.FS

// RootFile is the path, inside FS, of the Location that lists every other file.
const RootFile = "catalog/all.yaml"

// GitHost is the git host of the demo company: its golden-path template
// publishes there (the portal maps it to local bare repositories).
const GitHost = "git.freshcart.example"

// Write copies the demo catalog into dir (as dir/catalog/…) and returns
// the absolute path of its root Location file. Files already there with
// the same content are left alone, so a file watcher sees no change.
func Write(dir string) (string, error) {
	err := fs.WalkDir(FS, "catalog", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := FS.ReadFile(p)
		if err != nil {
			return err
		}
		if old, err := os.ReadFile(target); err == nil && string(old) == string(data) {
			return nil
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("write demo catalog: %w", err)
	}
	return filepath.Abs(filepath.Join(dir, filepath.FromSlash(RootFile)))
}
