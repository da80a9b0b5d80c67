// Package giteatest runs a real Gitea server for tests: the git host,
// webhook sender and REST API that Greenroom's Gitea plugin and the
// end-to-end tests talk to.
//
// The Gitea binary is built once per machine by .ci/gitea/build.sh, which
// prints a directory holding the `gitea` binary and a `static-root` file
// (the path of Gitea's templates and locales: a build without the bindata
// tag reads them from its module source). Tests find that directory through
// the GREENROOM_GITEA environment variable; without it they are skipped,
// unless GREENROOM_REQUIRE_GITEA=1, when they fail instead (for CI, so a
// missing binary cannot pass silently).
//
// A server takes a few seconds to start, so a test binary should start one
// and share it, through a Shared in the test package:
//
//	var gitea giteatest.Shared
//
//	func TestMain(m *testing.M) { os.Exit(gitea.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		srv := gitea.Server(t) // started on first use; skips without GREENROOM_GITEA
//		...
//	}
//
// Start gives a test a server of its own instead, and New/Close are the
// lower-level pair both are built on.
package giteatest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables the package reads.
const (
	// EnvDir names the directory .ci/gitea/build.sh prints.
	EnvDir = "GREENROOM_GITEA"
	// EnvRequire, set to 1, turns the skip without EnvDir into a failure.
	EnvRequire = "GREENROOM_REQUIRE_GITEA"
)

// Server is a running Gitea. Its fields are read-only.
type Server struct {
	// URL is the root URL, without a trailing slash
	// ("http://127.0.0.1:41234"); the API is at URL + "/api/v1".
	URL string
	// Host is host:port as a Greenroom integration configures it.
	Host string
	// AdminUser and AdminPassword are the site administrator, who owns
	// the organisations the helpers create.
	AdminUser, AdminPassword string
	// Token is an access token of AdminUser with all scopes.
	Token string
	// Dir holds app.ini, the database, the repositories and the log.
	Dir string
	// StartupTime is how long New took (migrate, user, web until the API
	// answered).
	StartupTime time.Duration

	http    *http.Client
	cmd     *exec.Cmd
	done    chan struct{} // closed when the web process has exited
	waitErr error
	logPath string
	closed  sync.Once
}

// Install is the Gitea build New runs.
type Install struct {
	Binary     string // path of the gitea binary
	StaticRoot string // Gitea's STATIC_ROOT_PATH
}

// FindInstall reads EnvDir. It returns an error naming .ci/gitea/build.sh
// when the variable is unset or the directory is not a Gitea build.
func FindInstall() (Install, error) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		return Install{}, fmt.Errorf("%s is not set: build Gitea with .ci/gitea/build.sh and set %s to the directory it prints", EnvDir, EnvDir)
	}
	in := Install{Binary: filepath.Join(dir, "gitea")}
	if fi, err := os.Stat(in.Binary); err != nil || fi.IsDir() {
		return Install{}, fmt.Errorf("%s=%s holds no gitea binary: run .ci/gitea/build.sh", EnvDir, dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, "static-root"))
	if err != nil {
		return Install{}, fmt.Errorf("%s=%s: %v (run .ci/gitea/build.sh, which writes it)", EnvDir, dir, err)
	}
	in.StaticRoot = strings.TrimSpace(string(b))
	return in, nil
}

// New starts a Gitea whose state lives in dir (an empty directory the
// caller owns and removes). The caller must Close it. On failure the
// error holds the end of Gitea's log.
func New(in Install, dir string) (*Server, error) {
	start := time.Now()
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("giteatest: free port: %w", err)
	}
	s := &Server{
		Host:          "127.0.0.1:" + strconv.Itoa(port),
		AdminUser:     "gitadmin",
		AdminPassword: "pw-" + randomHex(12),
		Dir:           dir,
		http:          &http.Client{Timeout: 30 * time.Second},
		logPath:       filepath.Join(dir, "gitea.log"),
		done:          make(chan struct{}),
	}
	s.URL = "http://" + s.Host
	ini := filepath.Join(dir, "app.ini")
	if err := os.WriteFile(ini, []byte(appINI(in, dir, port, s.URL)), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()

	env := append(os.Environ(), "GITEA_WORK_DIR="+dir, "HOME="+dir, "USER=root")
	run := func(args ...string) (string, error) {
		cmd := exec.Command(in.Binary, append([]string{"--config", ini, "--work-path", dir}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		logf.Write(out.Bytes())
		if err != nil {
			return "", fmt.Errorf("giteatest: gitea %s: %v\n%s", args[0], err, s.tailLog())
		}
		return out.String(), nil
	}
	if _, err := run("migrate"); err != nil {
		return nil, err
	}
	out, err := run("admin", "user", "create", "--username", s.AdminUser, "--password", s.AdminPassword,
		"--email", s.AdminUser+"@example.test", "--admin", "--must-change-password=false", "--access-token")
	if err != nil {
		return nil, err
	}
	m := tokenRe.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("giteatest: no access token in the output of gitea admin user create\n%s", s.tailLog())
	}
	s.Token = m[1]

	s.cmd = exec.Command(in.Binary, "--config", ini, "--work-path", dir, "web")
	s.cmd.Dir, s.cmd.Env = dir, env
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("giteatest: start gitea web: %w", err)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(60 * time.Second); err != nil {
		s.Close()
		return nil, err
	}
	s.StartupTime = time.Since(start)
	return s, nil
}

var tokenRe = regexp.MustCompile(`Access token was successfully created\.\.\. ([0-9a-f]{20,})`)

func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/version", nil)
		resp, err := s.http.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("giteatest: gitea web exited at start: %v\n%s", s.waitErr, s.tailLog())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("giteatest: gitea did not answer GET /api/v1/version within %s\n%s", limit, s.tailLog())
		}
	}
}

// Close stops the server (kill, then wait). It is safe to call twice.
func (s *Server) Close() error {
	s.closed.Do(func() {
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		s.cmd.Process.Kill()
		<-s.done
	})
	return nil
}

// Log returns Gitea's log so far (for a failing test's output).
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

func (s *Server) tailLog() string {
	l := s.Log()
	if len(l) > 8000 {
		l = "…" + l[len(l)-8000:]
	}
	return "gitea log (" + s.logPath + "):\n" + l
}

// Start starts a server for one test (or benchmark) in tb.TempDir(),
// stopped in tb.Cleanup. Without EnvDir it skips tb (fails it under
// EnvRequire=1).
func Start(tb testing.TB) *Server {
	tb.Helper()
	in := need(tb)
	s, err := New(in, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Log(s.tailLog())
		}
		s.Close()
	})
	return s
}

func need(tb testing.TB) Install {
	tb.Helper()
	in, err := FindInstall()
	switch {
	case err == nil:
	case os.Getenv(EnvRequire) == "1":
		tb.Fatalf("%v (%s=1)", err, EnvRequire)
	default:
		tb.Skip(err)
	}
	return in
}

// Shared is one server for a whole test binary, started on the first
// Server call and stopped by Main. Declare it as a variable of the test
// package and call Main from TestMain. Its zero value is ready to use.
type Shared struct {
	once sync.Once
	srv  *Server
	err  error
	dir  string
}

// Server returns the shared server, starting it on first use. Without
// EnvDir it skips tb (fails it under EnvRequire=1); if the server could
// not start, every caller fails with the reason.
func (sh *Shared) Server(tb testing.TB) *Server {
	tb.Helper()
	in := need(tb)
	sh.once.Do(func() {
		sh.dir, sh.err = os.MkdirTemp("", "giteatest-")
		if sh.err == nil {
			sh.srv, sh.err = New(in, sh.dir)
		}
	})
	if sh.err != nil {
		tb.Fatal(sh.err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Log(sh.srv.tailLog())
		}
	})
	return sh.srv
}

// Main runs the tests, then stops the shared server (if one was started)
// and removes its directory. It returns m.Run's exit code.
func (sh *Shared) Main(m *testing.M) int {
	code := m.Run()
	sh.Close()
	return code
}

// Close stops the shared server and removes its directory.
func (sh *Shared) Close() {
	if sh.srv != nil {
		sh.srv.Close()
	}
	if sh.dir != "" {
		os.RemoveAll(sh.dir)
	}
}

func appINI(in Install, dir string, port int, rootURL string) string {
	data := filepath.Join(dir, "data")
	return fmt.Sprintf(`I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true
APP_NAME = giteatest
RUN_MODE = prod
WORK_PATH = %[1]s

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[2]d
DOMAIN = 127.0.0.1
ROOT_URL = %[3]s/
APP_DATA_PATH = %[4]s
OFFLINE_MODE = true
DISABLE_SSH = true
START_SSH_SERVER = false
LFS_START_SERVER = false
STATIC_ROOT_PATH = %[5]s

[database]
DB_TYPE = sqlite3
PATH = %[4]s/gitea.db
SQLITE_JOURNAL_MODE = WAL

[security]
INSTALL_LOCK = true
SECRET_KEY = %[6]s
INTERNAL_TOKEN = %[7]s
; every basic-auth API call hashes the password: keep that cheap in tests
PASSWORD_HASH_ALGO = pbkdf2$1000$50

[repository]
ROOT = %[4]s/repositories
DEFAULT_BRANCH = main

[webhook]
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 5

[oauth2]
ENABLED = true

[log]
MODE = console
LEVEL = Warn
ROOT_PATH = %[4]s/log

[mailer]
ENABLED = false

[service]
DISABLE_REGISTRATION = true
REQUIRE_SIGNIN_VIEW = false
ENABLE_CAPTCHA = false
REGISTER_EMAIL_CONFIRM = false
ENABLE_NOTIFY_MAIL = false
DEFAULT_KEEP_EMAIL_PRIVATE = false
ENABLE_BASIC_AUTHENTICATION = true

[session]
PROVIDER = memory

[cache]
ADAPTER = memory

[queue]
TYPE = channel

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[cron]
ENABLED = false

[cron.update_checker]
ENABLED = false

[picture]
DISABLE_GRAVATAR = true
ENABLE_FEDERATED_AVATAR = false

[actions]
ENABLED = false
`, dir, port, rootURL, data, in.StaticRoot, randomHex(32), randomHex(32))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
