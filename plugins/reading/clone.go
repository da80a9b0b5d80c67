package reading

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// CheckRemote decides whether a URL the server will reach by other means
// than this Mux — a git repository that a user registers as a git
// location is cloned by the git command line — may be reached at all: it
// must be http(s), its host an integration's or admitted by
// backend.reading.allow, and (unless it is an integration's host, which
// the admin configured) every address it resolves to must pass the same
// check as a read. The check runs before git does its own resolution, so
// unlike a read it cannot rule out a name that changes its answer in
// between; reads through the Mux do not have that gap.
func (m *Mux) CheckRemote(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &NotAllowedError{URL: redactRaw(rawURL), Reason: fmt.Sprintf("Reading from '%s' is not allowed: only http and https repositories may be registered", redactRaw(rawURL))}
	}
	c, err := canonicalURL(u)
	if err != nil {
		return err
	}
	r, err := m.policy(c)
	if err != nil {
		return err
	}
	if r != nil {
		return nil // an integration's host
	}
	host := strings.Trim(hostOnly(c.Host), "[]")
	ips, err := m.guard.resolve(ctx, host)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", host, err)
	}
	for _, ip := range ips {
		if err := m.guard.permitted(hostOnly(c.Host), ip); err != nil {
			return &NotAllowedError{URL: redactURL(c), Reason: fmt.Sprintf("Reading from '%s' is not allowed: %v", redactURL(c), err)}
		}
	}
	return nil
}
