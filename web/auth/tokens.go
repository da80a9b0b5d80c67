package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Backstage's user token type and audience (auth-node tokenTypes).
const (
	userTokenType = "vnd.backstage.user"
	tokenAudience = "backstage"
)

// tokenIssuer signs and verifies Backstage user tokens with one ECDSA
// P-256 key.
type tokenIssuer struct {
	key    *ecdsa.PrivateKey
	kid    string
	issuer string
	ttl    time.Duration
	now    func() time.Time
}

type userClaims struct {
	jwt.Claims
	Ent []string `json:"ent,omitempty"`
}

func newTokenIssuer(key *ecdsa.PrivateKey, issuer string, ttl time.Duration, now func() time.Time) (*tokenIssuer, error) {
	jwk := jose.JSONWebKey{Key: key.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing key thumbprint: %w", err)
	}
	return &tokenIssuer{key: key, kid: base64.RawURLEncoding.EncodeToString(tp), issuer: issuer, ttl: ttl, now: now}, nil
}

// issue signs a user token for sub owning ent.
func (t *tokenIssuer) issue(sub string, ent []string) (string, time.Time, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: t.key},
		(&jose.SignerOptions{}).WithType(userTokenType).WithHeader(jose.HeaderKey("kid"), t.kid))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token signer: %w", err)
	}
	now := t.now().Truncate(time.Second)
	exp := now.Add(t.ttl)
	c := userClaims{Claims: jwt.Claims{
		Issuer: t.issuer, Subject: sub, Audience: jwt.Audience{tokenAudience},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(exp),
	}, Ent: ent}
	tok, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("signing token: %w", err)
	}
	return tok, exp, nil
}

var errBadToken = errors.New("invalid token")

// verify checks a user token's signature (ES256 only, this key), typ,
// issuer, audience, iat and exp. Its errors never quote the token.
func (t *tokenIssuer) verify(raw string) (userClaims, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return userClaims{}, fmt.Errorf("%w: not a signed JWT", errBadToken)
	}
	if len(tok.Headers) != 1 {
		return userClaims{}, fmt.Errorf("%w: one signature expected", errBadToken)
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != userTokenType {
		return userClaims{}, fmt.Errorf("%w: typ is not %s", errBadToken, userTokenType)
	}
	if h.KeyID != t.kid {
		return userClaims{}, fmt.Errorf("%w: signed with an unknown key", errBadToken)
	}
	var c userClaims
	if err := tok.Claims(t.key.Public(), &c); err != nil {
		return userClaims{}, fmt.Errorf("%w: bad signature", errBadToken)
	}
	if c.Expiry == nil || c.IssuedAt == nil || c.Subject == "" {
		return userClaims{}, fmt.Errorf("%w: iat, exp and sub are required", errBadToken)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: t.issuer, AnyAudience: jwt.Audience{tokenAudience}, Time: t.now()}, 0); err != nil {
		if errors.Is(err, jwt.ErrExpired) {
			return userClaims{}, fmt.Errorf("%w: expired", errBadToken)
		}
		return userClaims{}, fmt.Errorf("%w: %v", errBadToken, err)
	}
	return c, nil
}

// jwks is the public key set served at /.well-known/jwks.json.
func (t *tokenIssuer) jwks() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: t.key.Public(), KeyID: t.kid, Algorithm: string(jose.ES256), Use: "sig"}}}
}

// loadOrCreateKey reads the PKCS#8 PEM signing key at path, creating it
// (mode 0600) on first start so tokens survive restarts. An empty path
// keeps a fresh key in memory only.
func loadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	if path == "" {
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	b, err := os.ReadFile(path)
	if err == nil {
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "PRIVATE KEY" {
			return nil, fmt.Errorf("signing key %s: not a PEM PRIVATE KEY", path)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", path, err)
		}
		ek, ok := k.(*ecdsa.PrivateKey)
		if !ok || ek.Curve != elliptic.P256() {
			return nil, fmt.Errorf("signing key %s: not an ECDSA P-256 key", path)
		}
		return ek, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	if err := writeKeyFile(path, der); err != nil {
		if errors.Is(err, os.ErrExist) {
			// Another instance created it first: use that one.
			return loadOrCreateKey(path)
		}
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

// writeKeyFile writes a new key file with mode 0600 from the start, and
// links it into place rather than renaming, so an existing key is never
// replaced.
func writeKeyFile(path string, der []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".signing-key-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		err = pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}
