// Package contract holds what api, workflows and activities exchange: the
// inputs and results of workflows and activities, the status a stream
// workflow answers, and the error types, states and codes they share. It
// changes only in wire-compatible ways: these types are encoded as JSON in
// Temporal's histories, so a field may be added but not renamed, and an
// error type keeps its spelling (legacy spellings are mapped by ErrorType).
package contract
