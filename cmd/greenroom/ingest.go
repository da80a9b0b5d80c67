package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

func cmdIngest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a, _, code := startCommand(ctx, "ingest", args, stderr)
	if a == nil {
		return code
	}
	defer a.close()
	if isTerminal(stderr) {
		last := time.Now()
		a.engine.Crawler.Progress = func(files, entities int) {
			if time.Since(last) > 100*time.Millisecond {
				last = time.Now()
				fmt.Fprintf(stderr, "\r%d files, %d entities", files, entities)
			}
		}
	}
	start := time.Now()
	err := a.engine.CrawlAll(ctx)
	if isTerminal(stderr) {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		fmt.Fprintf(stderr, "greenroom ingest: %v\n", err)
		return 1
	}
	counts, err := a.store.Count(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "greenroom ingest: %v\n", err)
		return 1
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	errs, _ := a.store.Errors(ctx, "")
	fmt.Fprintf(stdout, "%d entities, %d errors, in %s\n", total, len(errs), time.Since(start).Round(time.Millisecond))
	for _, e := range errs {
		about := ""
		if e.EntityRef != "" {
			about = " [" + e.EntityRef + "]"
		}
		fmt.Fprintf(stdout, "error: %s%s: %s\n", e.Location, about, e.Message)
	}
	return 0
}
