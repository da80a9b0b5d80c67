package catalog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func dumpCase(t *testing.T, yaml, wantErr string) {
	dir := os.Getenv("DUMP_DIR")
	if dir == "" {
		return
	}
	name := strings.ReplaceAll(t.Name(), "/", "__")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(yaml), 0o644)
	b, _ := json.Marshal(map[string]string{"file": name + ".yaml", "want": wantErr})
	f, _ := os.OpenFile(filepath.Join(dir, "want.jsonl"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	f.Write(append(b, '\n'))
	f.Close()
}
