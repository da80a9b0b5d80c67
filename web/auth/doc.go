// Package auth holds Greenroom's sign-in and identity: Backstage's auth
// routes (mounted at /api/auth) for OIDC with PKCE and the guest provider,
// the sign-in resolvers that map an IdP profile to a User entity,
// server-side sessions, Backstage-shaped user tokens (ES256, typ
// vnd.backstage.user) with their JWKS, backend.auth.externalAccess static
// tokens, and the middleware that puts the caller's Identity in the
// request context. Sign-in and sign-out are reported to an Auditor with
// Backstage's auditor event ids.
//
// Nothing secret leaves this package: session IDs are stored only as
// SHA-256 hashes, and no token, code, cookie or client secret is written to
// an error, a log line or an audit event.
package auth
