package reading

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// Git repositories users register are cloned by git itself: CheckRemote
// applies the reading policy to them before git runs, on the addresses
// their names resolve to.
func TestCheckRemote(t *testing.T) {
	gitea := &fakeReader{host: "127.0.0.1:3000"}
	m, dials := newMux(t, Config{Readers: []HostReader{gitea}, Allow: []AllowRule{
		{Host: "evil.test"}, {Host: "db.internal.test"}, {Host: "mixed.test"}, {Host: "git.example.test"}, {Host: "127.0.0.1:8080"},
	}})
	for _, c := range []struct {
		url, refused string // "" means allowed
	}{
		{"file:///srv/repos/secret.git", "only http and https"},
		{"ssh://git@git.example.test/x.git", "only http and https"},
		{"https://unlisted.test/x.git", "backend.reading.allow"},
		{"https://evil.test/x.git", "loopback"},
		{"https://db.internal.test/x.git", "private"},
		{"https://mixed.test/x.git", "loopback"},
		{"http://0x7f000001:9090/x.git", "backend.reading.allow"},
		{"http://0x7f000001:8080/x.git", ""},    // the same address and port as the allowed literal
		{"http://127.0.0.1:8080/x.git", ""},     // an IP literal the admin allowed
		{"http://127.0.0.1:3000/org/x.git", ""}, // an integration's host
	} {
		err := m.CheckRemote(context.Background(), c.url)
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s: refused: %v", c.url, err)
		case c.refused != "" && err == nil:
			t.Errorf("%s: allowed, want refused (%s)", c.url, c.refused)
		case c.refused != "" && !strings.Contains(err.Error(), c.refused):
			t.Errorf("%s: %v, want it to name %q", c.url, err, c.refused)
		case c.refused != "":
			var na *NotAllowedError
			if !errors.As(err, &na) {
				t.Errorf("%s: %T, want a *NotAllowedError", c.url, err)
			}
		}
	}
	dials.mu.Lock()
	n := len(dials.addrs)
	dials.mu.Unlock()
	if n != 0 {
		t.Errorf("CheckRemote connected %d times; it must only resolve", n)
	}
}
