package search

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/greenroom-dev/greenroom/catalog/store"
)

// Source is what the catalog's feeder reads from the store: every entity
// (to rebuild) and the change log (to follow).
type Source interface {
	EachEntity(ctx context.Context, fn func(ref string, final []byte) error) error
	ByRefs(ctx context.Context, refs []string, filter store.Predicate) ([][]byte, error)
	Changes(ctx context.Context, after int64, limit int) ([]store.Change, error)
	LastChange(ctx context.Context) (int64, error)
	PruneChanges(ctx context.Context, upTo int64) error
}

// Syncer keeps the index's catalog documents in step with the store: it
// rebuilds them all when the index is fresh, then follows the store's
// entity change log. The log position is stored inside the index with the
// documents it brought, so a crash never loses or skips a change.
type Syncer struct {
	ix  *Index
	src Source
	Log *slog.Logger
}

// NewSyncer feeds the index from a store.
func NewSyncer(ix *Index, src Source) *Syncer {
	return &Syncer{ix: ix, src: src, Log: slog.New(slog.DiscardHandler)}
}

const (
	rebuildBatch = 1000
	changesBatch = 2000
)

// Rebuild indexes every entity of the store, then positions the index at
// the change log's end (changes made meanwhile are replayed by Sync).
func (s *Syncer) Rebuild(ctx context.Context) error {
	start := time.Now()
	last, err := s.src.LastChange(ctx)
	if err != nil {
		return err
	}
	var batch []Document
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.ix.Put(batch...)
		n += len(batch)
		batch = batch[:0]
		return err
	}
	err = s.src.EachEntity(ctx, func(ref string, final []byte) error {
		d, err := EntityDocument(final)
		if err != nil {
			s.Log.Warn("search: entity not indexed", "ref", ref, "error", err)
			return nil
		}
		batch = append(batch, d)
		if len(batch) == rebuildBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("rebuild search index: %w", err)
	}
	if err := s.ix.Apply(nil, nil, keySeq, []byte(strconv.FormatInt(last, 10))); err != nil {
		return err
	}
	s.ix.Fresh = false
	s.Log.Info("search index built", "entities", n, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Sync brings the index up to date: a rebuild if it is fresh, then every
// change logged since its position.
func (s *Syncer) Sync(ctx context.Context) error {
	if s.ix.Fresh {
		if err := s.Rebuild(ctx); err != nil {
			return err
		}
	}
	seq, err := s.ix.internalInt(keySeq)
	if err != nil {
		return fmt.Errorf("search index position: %w", err)
	}
	start := seq
	for {
		changes, err := s.src.Changes(ctx, seq, changesBatch)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			break
		}
		seen := map[string]bool{}
		var refs []string
		for _, c := range changes {
			if !seen[c.Ref] {
				seen[c.Ref] = true
				refs = append(refs, c.Ref)
			}
		}
		finals, err := s.src.ByRefs(ctx, refs, store.All{})
		if err != nil {
			return err
		}
		var puts []Document
		var deletes []string
		for i, ref := range refs {
			if finals[i] == nil {
				deletes = append(deletes, EntityID(ref))
				continue
			}
			d, err := EntityDocument(finals[i])
			if err != nil {
				s.Log.Warn("search: entity not indexed", "ref", ref, "error", err)
				deletes = append(deletes, EntityID(ref))
				continue
			}
			puts = append(puts, d)
		}
		seq = changes[len(changes)-1].Seq
		if err := s.ix.Apply(puts, deletes, keySeq, []byte(strconv.FormatInt(seq, 10))); err != nil {
			return fmt.Errorf("update search index: %w", err)
		}
	}
	if seq > start {
		// The index is the log's only reader.
		if err := s.src.PruneChanges(ctx, seq); err != nil {
			s.Log.Warn("search: pruning the change log", "error", err)
		}
	}
	return nil
}

// Run syncs at start and whenever the change log grows (checked every
// interval), until ctx ends.
func (s *Syncer) Run(ctx context.Context, interval time.Duration) error {
	if err := s.Sync(ctx); err != nil {
		s.Log.Error("search: sync", "error", err)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		last, err := s.src.LastChange(ctx)
		if err != nil {
			continue
		}
		if seq, err := s.ix.internalInt(keySeq); err == nil && last > seq {
			if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
				s.Log.Error("search: sync", "error", err)
			}
		}
	}
}
