package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// CameraCount is one bucket of the camera summary.
type CameraCount struct {
	Key   string `bun:"key"`
	Count int    `bun:"count"`
}

// CameraSummary counts cameras by state, by health and by site.
type CameraSummary struct {
	Total    int
	ByState  []CameraCount
	ByHealth []CameraCount
	BySite   []CameraCount
}

// SummarizeCameras counts cameras by state, health and site in one scan.
func SummarizeCameras(ctx context.Context, db bun.IDB) (CameraSummary, error) {
	var rows []struct {
		Dim   string `bun:"dim"`
		Key   string `bun:"key"`
		Count int    `bun:"count"`
	}
	err := db.NewRaw(`SELECT 'state' AS dim, state AS key, count(*) AS count FROM cameras GROUP BY state
		UNION ALL SELECT 'health', health, count(*) FROM cameras GROUP BY health
		UNION ALL SELECT 'site', site, count(*) FROM cameras GROUP BY site
		ORDER BY 1, 2`).Scan(ctx, &rows)
	if err != nil {
		return CameraSummary{}, fmt.Errorf("store: summarize cameras: %w", err)
	}
	var s CameraSummary
	for _, r := range rows {
		c := CameraCount{Key: r.Key, Count: r.Count}
		switch r.Dim {
		case "state":
			s.ByState = append(s.ByState, c)
			s.Total += r.Count
		case "health":
			s.ByHealth = append(s.ByHealth, c)
		case "site":
			s.BySite = append(s.BySite, c)
		}
	}
	return s, nil
}
