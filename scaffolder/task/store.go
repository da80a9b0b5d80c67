package task

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// ListOptions filter Store.List. Empty slices match everything.
type ListOptions struct {
	Status    []string
	CreatedBy []string
	Limit     int // 0: no limit
	Offset    int
}

// Store keeps tasks and their events.
type Store interface {
	Create(ctx context.Context, t *Task) error
	Get(ctx context.Context, id string) (*Task, error)
	// List returns matching tasks newest first and the total number matching.
	List(ctx context.Context, o ListOptions) ([]*Task, int, error)
	// Update saves the status, steps, output, error and heartbeat of t.
	Update(ctx context.Context, t *Task) error
	SetStatus(ctx context.Context, id, status string) error
	Heartbeat(ctx context.Context, id string) error
	// AppendEvent stores an event, filling in its ID and CreatedAt.
	AppendEvent(ctx context.Context, e *Event) error
	// Events returns the task's events with an ID above after, oldest first.
	Events(ctx context.Context, taskID string, after int64) ([]Event, error)
	// RecoverInterrupted marks tasks left processing by a previous process
	// as failed, with a completion event explaining why; it returns their IDs.
	RecoverInterrupted(ctx context.Context) ([]string, error)
	Close() error
}

// SQLiteStore is the SQLite Store.
type SQLiteStore struct {
	db  *sql.DB
	now func() time.Time
}

type connector struct {
	drv *sqlite3.SQLiteDriver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }

var migrations = []string{
	`CREATE TABLE tasks (
		id TEXT PRIMARY KEY,
		spec TEXT NOT NULL,
		status TEXT NOT NULL,
		created_by TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		last_heartbeat INTEGER,
		steps TEXT NOT NULL DEFAULT '[]',
		output TEXT,
		error TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX tasks_status ON tasks(status);
	CREATE INDEX tasks_created ON tasks(created_at);
	CREATE TABLE task_events (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
		type TEXT NOT NULL,
		body TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE INDEX task_events_task ON task_events(task_id, id);`,
}

// OpenSQLite opens (creating if needed) the task database at path and
// applies pending migrations (tracked in PRAGMA user_version).
func OpenSQLite(path string) (*SQLiteStore, error) {
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_txlock=immediate&_foreign_keys=1"
	db := sql.OpenDB(connector{drv: &sqlite3.SQLiteDriver{}, dsn: dsn})
	// Task writes are small; one connection avoids SQLITE_BUSY altogether.
	db.SetMaxOpenConns(1)
	s := &SQLiteStore{db: db, now: time.Now}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *SQLiteStore) migrate() error {
	var v int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("task store: %w", err)
	}
	for i := v; i < len(migrations); i++ {
		tx, err := s.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("task store migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the database.
func (s *SQLiteStore) Close() error { return s.db.Close() }

func nanos(t time.Time) int64 { return t.UTC().UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func (s *SQLiteStore) Create(ctx context.Context, t *Task) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = s.now().UTC()
	}
	if t.Status == "" {
		t.Status = StatusOpen
	}
	t.CreatedBy = t.Spec.User.Ref
	spec, err := json.Marshal(t.Spec)
	if err != nil {
		return err
	}
	steps, out, err := encodeState(t)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO tasks (id, spec, status, created_by, created_at, last_heartbeat, steps, output, error)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.ID, string(spec), t.Status, t.CreatedBy, nanos(t.CreatedAt), heartbeat(t), steps, out, t.Error)
	return err
}

func heartbeat(t *Task) any {
	if t.LastHeartbeat == nil {
		return nil
	}
	return nanos(*t.LastHeartbeat)
}

func encodeState(t *Task) (steps string, out any, err error) {
	st := t.Steps
	if st == nil {
		st = []StepState{}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return "", nil, err
	}
	if t.Output != nil {
		o, err := json.Marshal(t.Output)
		if err != nil {
			return "", nil, err
		}
		out = string(o)
	}
	return string(b), out, nil
}

const taskCols = `id, spec, status, created_by, created_at, last_heartbeat, steps, output, error`

func scanTask(sc interface{ Scan(...any) error }) (*Task, error) {
	var (
		t           Task
		spec, steps string
		created     int64
		hb          sql.NullInt64
		out         sql.NullString
	)
	if err := sc.Scan(&t.ID, &spec, &t.Status, &t.CreatedBy, &created, &hb, &steps, &out, &t.Error); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(spec), &t.Spec); err != nil {
		return nil, fmt.Errorf("task %s: spec: %w", t.ID, err)
	}
	if err := json.Unmarshal([]byte(steps), &t.Steps); err != nil {
		return nil, fmt.Errorf("task %s: steps: %w", t.ID, err)
	}
	if out.Valid {
		t.Output = &Output{}
		if err := json.Unmarshal([]byte(out.String), t.Output); err != nil {
			return nil, fmt.Errorf("task %s: output: %w", t.ID, err)
		}
	}
	t.CreatedAt = fromNanos(created)
	if hb.Valid {
		h := fromNanos(hb.Int64)
		t.LastHeartbeat = &h
	}
	return &t, nil
}

func (s *SQLiteStore) Get(ctx context.Context, id string) (*Task, error) {
	t, err := scanTask(s.db.QueryRowContext(ctx, `SELECT `+taskCols+` FROM tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return t, err
}

func in(col string, vals []string, where *[]string, args *[]any) {
	if len(vals) == 0 {
		return
	}
	*where = append(*where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
	for _, v := range vals {
		*args = append(*args, v)
	}
}

func (s *SQLiteStore) List(ctx context.Context, o ListOptions) ([]*Task, int, error) {
	var where []string
	var args []any
	in("status", o.Status, &where, &args)
	in("created_by", o.CreatedBy, &where, &args)
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM tasks`+w, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	q := `SELECT ` + taskCols + ` FROM tasks` + w + ` ORDER BY created_at DESC, rowid DESC`
	if o.Limit > 0 || o.Offset > 0 {
		lim := o.Limit
		if lim <= 0 {
			lim = -1
		}
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", lim, max(o.Offset, 0))
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, t)
	}
	return out, total, rows.Err()
}

func affected(r sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *SQLiteStore) Update(ctx context.Context, t *Task) error {
	steps, out, err := encodeState(t)
	if err != nil {
		return err
	}
	return affected(s.db.ExecContext(ctx, `UPDATE tasks SET status = ?, last_heartbeat = ?, steps = ?, output = ?, error = ? WHERE id = ?`,
		t.Status, heartbeat(t), steps, out, t.Error, t.ID))
}

func (s *SQLiteStore) SetStatus(ctx context.Context, id, status string) error {
	return affected(s.db.ExecContext(ctx, `UPDATE tasks SET status = ? WHERE id = ?`, status, id))
}

func (s *SQLiteStore) Heartbeat(ctx context.Context, id string) error {
	return affected(s.db.ExecContext(ctx, `UPDATE tasks SET last_heartbeat = ? WHERE id = ?`, nanos(s.now()), id))
}

func (s *SQLiteStore) AppendEvent(ctx context.Context, e *Event) error {
	if e.Body == nil {
		e.Body = map[string]any{}
	}
	b, err := json.Marshal(e.Body)
	if err != nil {
		return err
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now().UTC()
	}
	r, err := s.db.ExecContext(ctx, `INSERT INTO task_events (task_id, type, body, created_at) VALUES (?, ?, ?, ?)`,
		e.TaskID, e.Type, string(b), nanos(e.CreatedAt))
	if err != nil {
		return err
	}
	e.ID, err = r.LastInsertId()
	return err
}

func (s *SQLiteStore) Events(ctx context.Context, taskID string, after int64) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, task_id, type, body, created_at FROM task_events WHERE task_id = ? AND id > ? ORDER BY id`, taskID, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var body string
		var created int64
		if err := rows.Scan(&e.ID, &e.TaskID, &e.Type, &body, &created); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(body), &e.Body); err != nil {
			return nil, fmt.Errorf("event %d: %w", e.ID, err)
		}
		e.CreatedAt = fromNanos(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecoverInterruptedMessage is the message of the event RecoverInterrupted
// appends.
const RecoverInterruptedMessage = "The task was interrupted: the scaffolder restarted while it was processing"

func (s *SQLiteStore) RecoverInterrupted(ctx context.Context) ([]string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id FROM tasks WHERE status = ? ORDER BY created_at`, StatusProcessing)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := nanos(s.now())
	body, _ := json.Marshal(map[string]any{"message": RecoverInterruptedMessage, "status": StatusFailed,
		"error": map[string]any{"name": "Error", "message": RecoverInterruptedMessage}})
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `UPDATE tasks SET status = ?, error = ? WHERE id = ?`, StatusFailed, RecoverInterruptedMessage, id); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO task_events (task_id, type, body, created_at) VALUES (?, ?, ?, ?)`,
			id, EventCompletion, string(body), now); err != nil {
			return nil, err
		}
	}
	return ids, tx.Commit()
}
