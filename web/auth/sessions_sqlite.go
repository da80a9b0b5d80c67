package auth

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
)

// SQLiteSessions is a SessionStore in its own SQLite file. Rows are keyed
// by the SHA-256 of the session ID; the raw ID is never written.
type SQLiteSessions struct {
	db  *sql.DB
	now func() time.Time
}

type sqliteConnector struct {
	drv *sqlite3.SQLiteDriver
	dsn string
}

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c sqliteConnector) Driver() driver.Driver                        { return c.drv }

var sessionMigrations = []string{
	`CREATE TABLE sessions (
		key TEXT PRIMARY KEY,
		user_ref TEXT NOT NULL,
		ownership TEXT NOT NULL,
		display_name TEXT NOT NULL DEFAULT '',
		email TEXT NOT NULL DEFAULT '',
		picture TEXT NOT NULL DEFAULT '',
		provider TEXT NOT NULL DEFAULT '',
		from_catalog INTEGER NOT NULL DEFAULT 0,
		created INTEGER NOT NULL,
		expires INTEGER NOT NULL
	);
	CREATE INDEX sessions_expires ON sessions(expires);`,
}

// OpenSQLiteSessions opens (creating if needed) the session database at
// path, such as <data>/sessions.db.
func OpenSQLiteSessions(path string) (*SQLiteSessions, error) {
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_txlock=immediate&_secure_delete=1"
	db := sql.OpenDB(sqliteConnector{drv: &sqlite3.SQLiteDriver{}, dsn: dsn})
	db.SetMaxOpenConns(1)
	s := &SQLiteSessions{db: db, now: time.Now}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("session store %s: %w", path, err)
	}
	return s, nil
}

func (s *SQLiteSessions) migrate() error {
	var v int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	for i := v; i < len(sessionMigrations); i++ {
		tx, err := s.db.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(sessionMigrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
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
func (s *SQLiteSessions) Close() error { return s.db.Close() }

// Put stores a session and drops expired ones, so the table does not grow
// with sessions nobody signed out of.
func (s *SQLiteSessions) Put(ctx context.Context, key string, ss Session) error {
	own, err := json.Marshal(ss.OwnershipRefs)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires < ?`, s.now().UnixMilli()); err != nil {
		return fmt.Errorf("session store: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT OR REPLACE INTO sessions
		(key, user_ref, ownership, display_name, email, picture, provider, from_catalog, created, expires)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		key, ss.UserRef, string(own), ss.DisplayName, ss.Email, ss.Picture, ss.Provider, ss.FromCatalog,
		ss.Created.UnixMilli(), ss.Expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("session store: %w", err)
	}
	return nil
}

// Get returns the session stored under key.
func (s *SQLiteSessions) Get(ctx context.Context, key string) (Session, error) {
	var ss Session
	var own string
	var created, expires int64
	err := s.db.QueryRowContext(ctx, `SELECT user_ref, ownership, display_name, email, picture, provider, from_catalog, created, expires
		FROM sessions WHERE key = ?`, key).
		Scan(&ss.UserRef, &own, &ss.DisplayName, &ss.Email, &ss.Picture, &ss.Provider, &ss.FromCatalog, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("session store: %w", err)
	}
	if err := json.Unmarshal([]byte(own), &ss.OwnershipRefs); err != nil {
		return Session{}, fmt.Errorf("session store: ownership of %s: %w", ss.UserRef, err)
	}
	ss.Created, ss.Expires = time.UnixMilli(created), time.UnixMilli(expires)
	return ss, nil
}

// Delete removes a session (sign-out); an unknown key is not an error.
func (s *SQLiteSessions) Delete(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE key = ?`, key); err != nil {
		return fmt.Errorf("session store: %w", err)
	}
	return nil
}
