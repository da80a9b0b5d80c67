package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"
)

// ErrNoSession is what a SessionStore returns for an unknown key.
var ErrNoSession = errors.New("no such session")

// Session is a signed-in person, kept server-side.
type Session struct {
	UserRef       string
	OwnershipRefs []string
	DisplayName   string
	Email         string
	Picture       string
	Provider      string // "oidc"
	// FromCatalog is true when a User entity matched at sign-in; such a
	// session is re-read from the catalog on each request, so removing
	// the entity or a membership takes effect at once.
	FromCatalog bool
	Created     time.Time
	Expires     time.Time
}

// SessionStore keeps sessions by key: the hex SHA-256 of the session ID.
// The raw ID exists only in the person's cookie; a store never sees it.
type SessionStore interface {
	Put(ctx context.Context, key string, s Session) error
	// Get returns ErrNoSession for an unknown key. It may return an
	// expired session; the caller checks Expires.
	Get(ctx context.Context, key string) (Session, error)
	Delete(ctx context.Context, key string) error
}

// newSessionID is 32 random bytes, base64url: unguessable, and new at
// every sign-in so a cookie planted before sign-in is never adopted.
func newSessionID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// sessionKey is what stores see: the SHA-256 of the raw session ID.
func sessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}
