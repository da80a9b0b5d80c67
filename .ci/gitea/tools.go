//go:build tools

// Package tools pins Gitea as a dependency of this tools module.
package tools

import _ "code.gitea.io/gitea"
