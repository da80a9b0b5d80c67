package roadie

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/greenroom-dev/greenroom/scaffolder/action"
)

// Caps of one zip, as the built-in actions cap their copies.
const (
	maxZipBytes = 100 << 20
	maxZipFiles = 10000
)

// ---- roadiehq:utils:zip

type zipAction struct{}

func (zipAction) ID() string          { return "roadiehq:utils:zip" }
func (zipAction) Description() string { return "Zips the content of the path" }
func (zipAction) Schema() (map[string]any, map[string]any) {
	return action.ObjectSchema([]string{"path", "outputPath"}, map[string]any{
			"path":       action.TypeSchema("string", "Path", "Relative path you would like to zip"),
			"outputPath": action.TypeSchema("string", "Output path", "The name of the result of the zip command"),
		}), action.ObjectSchema(nil, map[string]any{
			"outputPath": action.TypeSchema("string", "Output path", "The name of the result of the zip command"),
		})
}

// SupportsDryRun: the archive stays in the (dry run's) workspace.
func (zipAction) SupportsDryRun() bool { return true }

func (zipAction) Run(c *action.Context) error {
	rel, err := requiredString(c.Input, "path", true)
	if err != nil {
		return err
	}
	outRel, err := requiredString(c.Input, "outputPath", false)
	if err != nil {
		return err
	}
	src, err := action.ResolveWorkspacePath(c, rel)
	if err != nil {
		return fmt.Errorf("path: %w", err)
	}
	dst, err := action.ResolveWorkspacePath(c, outRel)
	if err != nil {
		return fmt.Errorf("outputPath: %w", err)
	}
	fi, err := os.Lstat(src)
	if err != nil {
		return fmt.Errorf("File %s does not exist. Can't zip it.", rel)
	}
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	z := &zipper{w: w, skip: dst}
	switch {
	case fi.IsDir():
		// adm-zip's addLocalFolder: the folder's contents at the root
		err = z.dir(src)
	case fi.Mode().IsRegular():
		// addLocalFile: the file by its name
		err = z.file(src, filepath.Base(src), fi)
	default:
		err = fmt.Errorf("%s is neither a regular file nor a directory", rel)
	}
	if err != nil {
		return fmt.Errorf("zip %s: %w", rel, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("zip %s: %w", rel, err)
	}
	if err := action.WriteWorkspaceFile(c, outRel, buf.Bytes()); err != nil {
		return fmt.Errorf("outputPath: %w", err)
	}
	c.Logf("Zipped %s into %s (%d files)", rel, outRel, z.files)
	c.SetOutput("outputPath", outRel)
	return nil
}

// zipper adds files to w within the caps; symbolic links are refused,
// so nothing outside the confined root is read.
type zipper struct {
	w     *zip.Writer
	skip  string // the archive's own path: a stale copy is not zipped into the new one
	files int
	bytes int64
}

func (z *zipper) dir(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == root {
			return nil
		}
		if p == z.skip {
			return nil
		}
		name, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name = filepath.ToSlash(name)
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link; symbolic links are not zipped", name)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			h, err := zip.FileInfoHeader(fi)
			if err != nil {
				return err
			}
			h.Name = name + "/"
			_, err = z.w.CreateHeader(h)
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", name)
		}
		return z.file(p, name, fi)
	})
}

func (z *zipper) file(p, name string, fi fs.FileInfo) error {
	z.files++
	z.bytes += fi.Size()
	if z.files > maxZipFiles {
		return fmt.Errorf("too many files: more than %d", maxZipFiles)
	}
	if z.bytes > maxZipBytes {
		return fmt.Errorf("too much data: more than %d bytes", maxZipBytes)
	}
	h, err := zip.FileInfoHeader(fi)
	if err != nil {
		return err
	}
	h.Name = name
	h.Method = zip.Deflate
	out, err := z.w.CreateHeader(h)
	if err != nil {
		return err
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	// the size was checked from Lstat; a file growing meanwhile is cut
	n, err := io.Copy(out, io.LimitReader(f, fi.Size()+1))
	if err != nil {
		return err
	}
	if n > fi.Size() {
		return errors.New(name + " changed while it was zipped")
	}
	return nil
}
