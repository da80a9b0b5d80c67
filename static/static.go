// Package static embeds the portal's CSS, icons and front-end assets.
// Third-party JavaScript is copied in from npm by the Makefile, never
// committed.
package static

import "embed"

// FS holds the static assets, served under /static/.
//
//go:embed css icons js vendor
var FS embed.FS
