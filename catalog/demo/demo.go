// Package demo holds the bundled demo catalog: a fictional organisation's
// Backstage descriptors, served when Greenroom starts without a config.
package demo

import "embed"

// FS holds the demo catalog files; RootFile is the root Location file inside it.
//
//go:embed all:catalog
var FS embed.FS

// RootFile is the path, inside FS, of the Location that lists every other file.
const RootFile = "catalog/all.yaml"
