// Package workflows holds Rollcall's deterministic workflow code. Side
// effects live in package activities; workflows refer to them through
// method values of a nil *activities.Activities.
package workflows

import "github.com/rollcall/rollcall/activities"

// a is used only for activity method references; it is never dereferenced.
var a *activities.Activities

// CleanupWorkflowID is the ID the cleanup schedule starts its runs with.
const CleanupWorkflowID = "cleanup"
