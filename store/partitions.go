package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// DayPartitioned is a table RANGE-partitioned by one UTC day per partition
// (migration 20261204000020): partitions are named <table>_pYYYYMMDD and a
// DEFAULT partition <table>_default holds rows outside them.
type DayPartitioned struct {
	Table  string // the partitioned parent
	Column string // its timestamptz partition key
}

// The day-partitioned tables.
var (
	DetectionsPartitioned     = DayPartitioned{Table: "detections", Column: "detected_at"}
	PipelineEventsPartitioned = DayPartitioned{Table: "detection_event_logs", Column: "occurred_at"}
)

// DefaultPartitionsAhead is how many days after today EnsurePartitions
// creates unless told otherwise.
const DefaultPartitionsAhead = 7

// partitionLock serialises partition changes across workers (an advisory
// lock key, the same in every process).
const partitionLock = "rollcall-partitions"

// dropLockTimeout bounds how long a DROP or ATTACH waits for the parent's
// lock: waiting longer would queue every insert behind it.
const dropLockTimeout = "5s"

// DayPartition is one day's partition of a table.
type DayPartition struct {
	Name string
	Day  time.Time // midnight UTC: the partition holds [Day, Day+24h)
}

// End is the partition's exclusive upper bound.
func (p DayPartition) End() time.Time { return p.Day.AddDate(0, 0, 1) }

// PartitionName is the name of t's partition for the UTC day of day.
func (t DayPartitioned) PartitionName(day time.Time) string {
	return t.Table + "_p" + day.UTC().Format("20060102")
}

// DefaultPartition is the name of t's DEFAULT partition.
func (t DayPartitioned) DefaultPartition() string { return t.Table + "_default" }

// UTCDay is the midnight (UTC) that starts t's day.
func UTCDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// EnsurePartitions creates the missing day partitions of every
// day-partitioned table from the day before now through ahead days after
// it, and returns how many it created. Rows of such a day already in the
// DEFAULT partition move into the new partition. Safe to run concurrently
// and repeatedly: a second run creates nothing.
func EnsurePartitions(ctx context.Context, db *bun.DB, now time.Time, ahead int) (int, error) {
	if ahead < 0 {
		return 0, fmt.Errorf("store: ensure partitions: negative days ahead %d", ahead)
	}
	created := 0
	today := UTCDay(now)
	for _, t := range []DayPartitioned{DetectionsPartitioned, PipelineEventsPartitioned} {
		for d := -1; d <= ahead; d++ {
			ok, err := t.ensureDay(ctx, db, today.AddDate(0, 0, d))
			if err != nil {
				return created, err
			}
			if ok {
				created++
			}
		}
	}
	return created, nil
}

// ensureDay creates day's partition unless it exists and reports whether
// it did.
func (t DayPartitioned) ensureDay(ctx context.Context, db *bun.DB, day time.Time) (bool, error) {
	name := t.PartitionName(day)
	if exists, err := relationExists(ctx, db, name); err != nil || exists {
		return false, err
	}
	from, to := day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339)
	created := false
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", partitionLock); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '"+dropLockTimeout+"'"); err != nil {
			return err
		}
		if exists, err := relationExists(ctx, tx, name); err != nil || exists {
			return err // another worker made it meanwhile
		}
		var stray bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM ? WHERE ? >= ? AND ? < ?)",
			bun.Ident(t.DefaultPartition()), bun.Ident(t.Column), from, bun.Ident(t.Column), to).Scan(&stray); err != nil {
			return err
		}
		if !stray {
			_, err := tx.ExecContext(ctx, "CREATE TABLE ? PARTITION OF ? FOR VALUES FROM (?) TO (?)",
				bun.Ident(name), bun.Ident(t.Table), from, to)
			created = err == nil
			return err
		}
		// The DEFAULT partition holds rows of this day (written while the
		// partition was missing): a partition cannot be created over them,
		// so they move into a table that is then attached.
		if _, err := tx.ExecContext(ctx, "CREATE TABLE ? (LIKE ? INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
			bun.Ident(name), bun.Ident(t.Table)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "WITH moved AS (DELETE FROM ? WHERE ? >= ? AND ? < ? RETURNING *) INSERT INTO ? SELECT * FROM moved",
			bun.Ident(t.DefaultPartition()), bun.Ident(t.Column), from, bun.Ident(t.Column), to, bun.Ident(name)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "ALTER TABLE ? ATTACH PARTITION ? FOR VALUES FROM (?) TO (?)",
			bun.Ident(t.Table), bun.Ident(name), from, to); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: create partition %s: %w", name, err)
	}
	return created, nil
}

func relationExists(ctx context.Context, db bun.IDB, name string) (bool, error) {
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT to_regclass(?) IS NOT NULL", name).Scan(&exists); err != nil {
		return false, fmt.Errorf("store: find relation %s: %w", name, err)
	}
	return exists, nil
}

// DayPartitions lists t's day partitions, oldest first.
func DayPartitions(ctx context.Context, db bun.IDB, t DayPartitioned) ([]DayPartition, error) {
	var names []string
	err := db.NewSelect().TableExpr("pg_inherits AS i").ColumnExpr("c.relname").
		Join("JOIN pg_class AS c ON c.oid = i.inhrelid").
		Where("i.inhparent = to_regclass(?)", t.Table).Scan(ctx, &names)
	if err != nil {
		return nil, fmt.Errorf("store: partitions of %s: %w", t.Table, err)
	}
	var out []DayPartition
	for _, n := range names {
		day, err := time.Parse("20060102", strings.TrimPrefix(n, t.Table+"_p"))
		if err != nil || !strings.HasPrefix(n, t.Table+"_p") {
			continue // the DEFAULT partition, or one not made here
		}
		out = append(out, DayPartition{Name: n, Day: day})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day.Before(out[j].Day) })
	return out, nil
}

// ExpiredPartitions lists t's day partitions whose every row is older than
// before (their day ends at or before it), oldest first.
func ExpiredPartitions(ctx context.Context, db bun.IDB, t DayPartitioned, before time.Time) ([]DayPartition, error) {
	all, err := DayPartitions(ctx, db, t)
	if err != nil {
		return nil, err
	}
	var out []DayPartition
	for _, p := range all {
		if !p.End().After(before) {
			out = append(out, p)
		}
	}
	return out, nil
}

// CountRows counts the rows of one table or partition.
func CountRows(ctx context.Context, db bun.IDB, table string) (int64, error) {
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM ?", bun.Ident(table)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", table, err)
	}
	return n, nil
}

// DropPartition drops one partition of t with every row in it. A partition
// already gone is not an error (a re-run after a crash).
func DropPartition(ctx context.Context, db *bun.DB, t DayPartitioned, name string) error {
	if !strings.HasPrefix(name, t.Table+"_p") {
		return fmt.Errorf("store: drop partition %s: not a day partition of %s", name, t.Table)
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", partitionLock); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '"+dropLockTimeout+"'"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS ?", bun.Ident(name))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: drop partition %s: %w", name, err)
	}
	return nil
}

// RowRef is one row's keyset position in a day-partitioned table, with
// the snapshot object it keeps ("" for none).
type RowRef struct {
	At          time.Time
	ID          string
	SnapshotKey string
}

// ExpiredRows returns up to limit rows of table (a partition of t) in
// [from, before) (a zero from: no lower bound), after the keyset position
// (nil: from the start), oldest first. withSnapshot keeps only rows that
// hold a snapshot. Callers bound the window so that a statement reads a
// bounded part of the index whatever the rows hold.
func ExpiredRows(ctx context.Context, db bun.IDB, t DayPartitioned, table string, from, before time.Time, after *RowRef, withSnapshot bool, limit int) ([]RowRef, error) {
	q := db.NewSelect().TableExpr("?", bun.Ident(table)).ColumnExpr("?, id::text", bun.Ident(t.Column)).
		Where("? < ?", bun.Ident(t.Column), before)
	if !from.IsZero() {
		q = q.Where("? >= ?", bun.Ident(t.Column), from)
	}
	if t == DetectionsPartitioned {
		q = q.ColumnExpr("snapshot_key")
		if withSnapshot {
			q = q.Where("snapshot_key <> ''")
		}
	} else {
		q = q.ColumnExpr("''")
	}
	if after != nil {
		q = q.Where("(?, id) > (?, ?)", bun.Ident(t.Column), after.At, after.ID)
	}
	rows, err := q.OrderExpr("? ASC, id ASC", bun.Ident(t.Column)).Limit(int64(limit)).Rows(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: expired rows of %s: %w", table, err)
	}
	defer rows.Close()
	var out []RowRef
	for rows.Next() {
		var r RowRef
		if err := rows.Scan(&r.At, &r.ID, &r.SnapshotKey); err != nil {
			return nil, fmt.Errorf("store: expired rows of %s: %w", table, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: expired rows of %s: %w", table, err)
	}
	return out, nil
}

// DeleteRows deletes the given rows of t (by key, through the parent) and
// returns how many it deleted.
func DeleteRows(ctx context.Context, db bun.IDB, t DayPartitioned, rows []RowRef) (int64, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	ats := make([]time.Time, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		ats[i], ids[i] = r.At, r.ID
	}
	idType := "uuid"
	if t == PipelineEventsPartitioned {
		idType = "bigint"
	}
	res, err := db.ExecContext(ctx, "DELETE FROM ? AS x USING unnest(?::timestamptz[], ?::text[]) AS k(at, id) WHERE x.? = k.at AND x.id = k.id::"+idType,
		bun.Ident(t.Table), pgdialect.Array(ats), pgdialect.Array(ids), bun.Ident(t.Column))
	if err != nil {
		return 0, fmt.Errorf("store: delete rows of %s: %w", t.Table, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// AttendanceSnapshotKeys returns which of keys are kept by attendance logs
// written in [from, to): a check-in keeps its detection's frame after the
// detection is retired.
func AttendanceSnapshotKeys(ctx context.Context, db bun.IDB, keys []string, from, to time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	if len(keys) == 0 {
		return out, nil
	}
	var kept []string
	err := db.NewSelect().Model((*AttendanceLog)(nil)).Column("snapshot_key").
		Where("logged_at >= ? AND logged_at < ?", from, to).Where("snapshot_key IN (?)", bun.List(keys)).Scan(ctx, &kept)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: attendance snapshot keys: %w", err)
	}
	for _, k := range kept {
		out[k] = true
	}
	return out, nil
}
