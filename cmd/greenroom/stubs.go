package main

import (
	"context"
	"io"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int    { return 2 }
func cmdIngest(ctx context.Context, args []string, stdout, stderr io.Writer) int   { return 2 }
func cmdGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) int { return 2 }
