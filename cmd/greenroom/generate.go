package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/greenroom-dev/greenroom/catalog/generate"
)

func cmdGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("generate", flag.ContinueOnError)
	fl.SetOutput(stderr)
	n := fl.Int("entities", 10000, "number of entities")
	seed := fl.Uint64("seed", 1, "random seed; the same seed gives the same catalog")
	out := fl.String("out", "", "directory to write (all.yaml is its root Location)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "usage: greenroom generate --out DIR [--entities N] [--seed S]")
		return 2
	}
	st, err := generate.Write(*out, *n, *seed)
	if err != nil {
		fmt.Fprintf(stderr, "greenroom generate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %d entities in %d files (%d bytes) to %s: %v\n", st.Entities, st.Files, st.Bytes, *out, st.Kinds)
	return 0
}
