package rbac

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Service holds the policy in force: loaded from the files the settings
// name, reloaded when they change (policyFileReload), and kept as it was
// when a change breaks a file — the error is kept for admins to see.
type Service struct {
	settings       Settings
	cfg            Config
	csvPath, yPath string
	log            *slog.Logger

	cur     atomic.Pointer[Policy]
	mu      sync.Mutex
	lastErr error
	stamp   string // the files' sizes and times at the last load
}

// NewService loads the policy files (paths relative to baseDir). With
// permission.enabled off it loads nothing and allows everything. A broken
// file at start is an error: the portal must not start with no policy.
func NewService(s Settings, baseDir string, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	svc := &Service{settings: s, cfg: s.Config(), log: log}
	if !s.Enabled {
		return svc, nil
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(baseDir, p)
	}
	svc.csvPath, svc.yPath = abs(s.RBAC.PoliciesCSVFile), abs(s.RBAC.ConditionalPoliciesFile)
	if svc.cfg.CSVFile == "" && svc.csvPath != "" {
		svc.cfg.CSVFile = filepath.Base(svc.csvPath)
	}
	if svc.cfg.ConditionalFile == "" && svc.yPath != "" {
		svc.cfg.ConditionalFile = filepath.Base(svc.yPath)
	}
	if err := svc.Reload(); err != nil {
		return nil, err
	}
	return svc, nil
}

// Enabled reports whether permissions are decided at all.
func (s *Service) Enabled() bool { return s.settings.Enabled }

// Policy is the policy in force (nil when permissions are off).
func (s *Service) Policy() *Policy { return s.cur.Load() }

// LastError is the last failed reload's error (nil: the files in force
// are the files on disk).
func (s *Service) LastError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// Decide decides with the policy in force; with permissions off, allows.
func (s *Service) Decide(user Identity, perm Permission) Decision {
	if !s.Enabled() {
		return Decision{Result: Allow, Explanation: Explanation{Reason: ReasonPermissionsDisabled}}
	}
	return s.cur.Load().Decide(user, perm)
}

func read(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	return b, nil
}

// Reload reads the files again; on error the policy in force stays.
func (s *Service) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	csv, err := read(s.csvPath)
	var y []byte
	if err == nil {
		y, err = read(s.yPath)
	}
	var p *Policy
	if err == nil {
		p, err = s.cfg.Load(csv, y)
	}
	s.stamp = stampOf(s.csvPath, s.yPath)
	if err != nil {
		s.lastErr = err
		if s.cur.Load() != nil {
			s.log.Error("permission: the policy files have errors; the last good policy stays in force", "error", err)
		}
		return err
	}
	s.cur.Store(p)
	s.lastErr = nil
	return nil
}

func stampOf(paths ...string) string {
	out := ""
	for _, p := range paths {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			out += fmt.Sprintf("%s:%d:%d;", p, fi.Size(), fi.ModTime().UnixNano())
		} else {
			out += p + ":missing;"
		}
	}
	return out
}

// Run reloads the files when they change, if permission.rbac.
// policyFileReload asks for it, until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	if !s.Enabled() || !s.settings.RBAC.PolicyFileReload {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		s.mu.Lock()
		changed := stampOf(s.csvPath, s.yPath) != s.stamp
		s.mu.Unlock()
		if changed {
			if err := s.Reload(); err == nil {
				s.log.Info("permission: policy reloaded")
			}
		}
	}
}

// ErrNoIdentity is a request with no user where the policy needs one.
var ErrNoIdentity = errors.New("no user")
