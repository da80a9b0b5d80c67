package store

import (
	"context"
	"fmt"
)

// Change is one entry of the entity change log: the entity with this ref
// was added, changed or removed (read it to know which).
type Change struct {
	Seq int64
	Ref string
}

// Changes returns up to limit log entries after seq, oldest first.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]Change, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, ref FROM entity_changes WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("entity changes: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		if err := rows.Scan(&c.Seq, &c.Ref); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LastChange is the newest log entry's seq (0 for none): a reader that
// rebuilds from every entity starts following the log from here.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM entity_changes`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last entity change: %w", err)
	}
	return seq, nil
}

// PruneChanges drops log entries up to seq, which its reader has handled,
// but always keeps the newest entry: new seqs follow the largest one, and
// an empty table would start again from 1.
func (s *Store) PruneChanges(ctx context.Context, upTo int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM entity_changes WHERE seq <= ? AND seq < (SELECT MAX(seq) FROM entity_changes)`, upTo); err != nil {
		return fmt.Errorf("prune entity changes: %w", err)
	}
	return nil
}
