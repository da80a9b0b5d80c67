// Command greenroom is a Backstage-compatible developer portal in one binary.
//
//	greenroom serve     run the portal (the bundled demo catalog without --config)
//	greenroom ingest    crawl the configured locations once and exit
//	greenroom validate  lint descriptor files the way Backstage would ingest them
//	greenroom generate  write a synthetic catalog for benchmarks
//	greenroom create    run a software template, on a portal or in-process
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// GREENROOM_CPUPROFILE=file writes a CPU profile, for performance work.
	if path := os.Getenv("GREENROOM_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer f.Close()
		}
	}
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	stop()
	os.Exit(code)
}

const usage = `usage: greenroom <command> [flags]

commands:
  serve      run the portal (serves the bundled demo catalog without --config)
  ingest     crawl the configured locations once into the database and exit
  validate   lint catalog descriptor files the way Backstage would ingest them
  generate   write a synthetic catalog (for benchmarks and load tests)
  reindex    rebuild the search index from the catalog database
  create     run a software template (on a portal with --server, or in-process)

Run 'greenroom <command> -h' for the flags of a command.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "ingest":
		return cmdIngest(ctx, args[1:], stdout, stderr)
	case "validate":
		return cmdValidate(ctx, args[1:], stdout, stderr)
	case "generate":
		return cmdGenerate(ctx, args[1:], stdout, stderr)
	case "reindex":
		return cmdReindex(ctx, args[1:], stdout, stderr)
	case "create":
		return cmdCreate(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "greenroom: unknown command %q\n\n%s", args[0], usage)
	return 2
}
