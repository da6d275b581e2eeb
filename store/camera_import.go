package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// ImportResult counts what ImportCameras wrote.
type ImportResult struct {
	Created, Updated int
	// Cameras are the written rows, in input order, and PrevStates their
	// states before the import ("" for a created camera).
	Cameras    []Camera
	PrevStates []string
}

// ImportCameras writes cams in one transaction: all or nothing. Without
// upsert a name that exists gives ErrConflict (wrapped with the name); with
// upsert a camera of the same name (case-insensitive) is updated in place,
// keeping its ID and health; a state change is recorded as an event. New
// cameras must have their ID set.
// seal is called for each row once its final ID is known (existing is nil
// for a new camera) to set its Credentials.
func ImportCameras(ctx context.Context, db bun.IDB, cams []Camera, upsert bool, seal func(c, existing *Camera) error) (ImportResult, error) {
	var res ImportResult
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res = ImportResult{}
		for i := range cams {
			c := cams[i]
			existing := new(Camera)
			err := tx.NewSelect().Model(existing).Where("lower(name) = lower(?)", c.Name).For("UPDATE").Scan(ctx)
			switch {
			case err == nil && !upsert:
				return fmt.Errorf("store: import camera %q: %w", c.Name, ErrConflict)
			case err == nil:
				c.ID = existing.ID
				if err := seal(&c, existing); err != nil {
					return err
				}
				state := c.State
				if err := UpdateCamera(ctx, tx, &c); err != nil {
					return err
				}
				if c.State = state; state != existing.State {
					if _, err := tx.NewUpdate().Model(&c).Column("state").WherePK().Exec(ctx); err != nil {
						return fmt.Errorf("store: import camera state: %w", err)
					}
					if err := insertCameraEvent(ctx, tx, c.ID, "state", existing.State, c.State, "import", c.UpdatedAt); err != nil {
						return err
					}
				}
				res.Updated++
				res.PrevStates = append(res.PrevStates, existing.State)
			default:
				if nf := notFound(err, "find camera"); !isNotFound(nf) {
					return nf
				}
				if err := seal(&c, nil); err != nil {
					return err
				}
				if err := CreateCamera(ctx, tx, &c); err != nil {
					return err
				}
				res.Created++
				res.PrevStates = append(res.PrevStates, "")
			}
			res.Cameras = append(res.Cameras, c)
		}
		return nil
	})
	return res, err
}
