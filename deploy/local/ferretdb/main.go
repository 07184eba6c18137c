// Command ferretdb runs FerretDB v1 on its SQLite backend for Ruta's local stack and tests.
//
// It embeds github.com/FerretDB/FerretDB/ferretdb because a plain `go install` of
// FerretDB's own cmd panics at start (its generated version.txt is missing).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "data", "directory for the SQLite databases")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	// WAL with synchronous=NORMAL syncs at checkpoints, not at every commit: a crash of the
	// process loses nothing, a power cut may lose the last commits. Right for a local
	// development and test server; production runs MongoDB.
	synchronous := flag.String("sqlite-synchronous", "normal", "SQLite synchronous pragma: off, normal or full")
	flag.Parse()

	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		fail(err)
	}
	if err = os.MkdirAll(dir, 0o700); err != nil {
		fail(err)
	}

	var level slog.Level
	if err = level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail(err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// FerretDB wants the SQLite URL to be a directory ending in "/".
	url := "file:" + strings.TrimSuffix(dir, "/") + "/?_pragma=synchronous(" + *synchronous + ")"
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: url,
		Logger:    logger,
	})
	if err != nil {
		fail(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger.Info("ferretdb starting", "listen", *listen, "data", dir)
	if err = f.Run(ctx); err != nil && ctx.Err() == nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ferretdb:", err)
	os.Exit(1)
}
