// Package builtin is Rollcall's built-in face provider, in-process or
// served over Rollcall's http provider protocol by `rollcall provider`.
//
// The Engine keeps the enrolled images and matches faces against them; a
// Recognizer finds and describes the faces: NewFaceNet, real face
// recognition with the face-api networks of package facenet, or, for
// tests and demos with facegen people only, package synthetic.
package builtin

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"slices"
	"strings"
	"sync"

	"github.com/rollcall/rollcall/internal/provider"
)

// DefaultSimilarityThreshold is the similarity at or above which a face is
// best taken as its best-matching subject, for either recognizer: it is
// FaceNetThreshold (Rollcall's 0.5 distance cut), and the synthetic
// recognizer's similarity is scaled so that the same value separates
// facegen people (see TestRecognizesEnrolledPeople for the margins).
const DefaultSimilarityThreshold = FaceNetThreshold

// Options configure an Engine.
type Options struct {
	// DataDir is where enrolled descriptors are kept (in builtin-provider.json,
	// rewritten atomically on every change); empty keeps them in memory.
	DataDir string
	// Recognizer finds and describes faces (required).
	Recognizer Recognizer
}

// Engine is the built-in provider. It implements provider.Provider and is
// safe for concurrent use.
type Engine struct {
	dataDir string
	rec     Recognizer

	mu     sync.RWMutex
	images []enrolled // sorted by subject, then image ID
}

// enrolled is one enrolled image: who, which, and its descriptor.
type enrolled struct {
	subject, imageID string
	descriptor       []float32
}

var _ provider.Provider = (*Engine)(nil)

// NewEngine returns an engine holding the images stored in o.DataDir, if
// any; an error (kind provider.ErrProvider) when there is no Recognizer or
// the images cannot be read or were described by another recognizer.
func NewEngine(o Options) (*Engine, error) {
	if o.Recognizer == nil {
		return nil, &provider.Error{Kind: provider.ErrProvider, Msg: "builtin: an engine needs a Recognizer"}
	}
	e := &Engine{dataDir: o.DataDir, rec: o.Recognizer}
	if o.DataDir != "" {
		var err error
		if e.images, err = load(o.DataDir, o.Recognizer.Name()); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Recognize finds every face in image and the enrolled subject whose image
// is most similar to it. Subject and Similarity are the best match however
// low (the caller applies its threshold); Subject is "" only when nothing
// is enrolled. The frame's source (provider.SourceFrom(ctx)) goes to the
// Recognizer, which may track faces across a camera's frames. An
// unreadable image is provider.ErrBadImage.
func (e *Engine) Recognize(ctx context.Context, image []byte) (provider.Result, error) {
	if err := e.ready(ctx); err != nil {
		return provider.Result{}, err
	}
	img, err := decode(image)
	if err != nil {
		return provider.Result{}, err
	}
	found, err := e.find(ctx, img, provider.SourceFrom(ctx))
	if err != nil {
		return provider.Result{}, err
	}
	faces := make([]provider.Face, 0, len(found))
	for _, f := range found {
		subject, sim := e.best(f.Descriptor)
		faces = append(faces, provider.Face{Box: f.Box, DetectionConfidence: f.Confidence, Subject: subject, Similarity: sim})
	}
	return provider.Result{Faces: faces}, nil
}

// find runs the Recognizer, giving its errors a provider kind.
func (e *Engine) find(ctx context.Context, img image.Image, source string) ([]Found, error) {
	found, err := e.rec.Find(ctx, img, source)
	switch {
	case err == nil:
		return found, nil
	case errors.Is(err, provider.ErrBadImage), errors.Is(err, provider.ErrProvider), errors.Is(err, provider.ErrTimeout):
		return nil, err
	case ctx.Err() != nil:
		return nil, &provider.Error{Kind: provider.ErrTimeout, Msg: "builtin: " + err.Error()}
	}
	return nil, &provider.Error{Kind: provider.ErrProvider, Msg: "builtin: " + e.rec.Name() + ": " + err.Error()}
}

// best is the enrolled subject most similar to desc; ties go to the
// subject that sorts first.
func (e *Engine) best(desc []float32) (string, float64) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	subject, best := "", -1.0
	for _, im := range e.images {
		if s := e.rec.Similarity(desc, im.descriptor); s > best {
			subject, best = im.subject, s
		}
	}
	return subject, max(0, best)
}

// Enroll registers images for subject; each must hold exactly one face,
// else the call fails with provider.ErrBadImage and enrolls nothing. An
// image's provider ID is its Image.ID, or a hash of its bytes when ID is
// empty; enrolling an ID the subject already has changes nothing and
// returns the same ID.
func (e *Engine) Enroll(ctx context.Context, subject string, images []provider.Image) ([]string, error) {
	if err := e.ready(ctx); err != nil {
		return nil, err
	}
	if subject == "" {
		return nil, &provider.Error{Kind: provider.ErrProvider, Msg: "builtin: enroll: subject is required"}
	}
	ids := make([]string, len(images))
	var added []enrolled
	for i, img := range images {
		ids[i] = img.ID
		if ids[i] == "" {
			sum := sha256.Sum256(img.Data)
			ids[i] = hex.EncodeToString(sum[:16])
		}
		if e.has(subject, ids[i]) {
			continue
		}
		decoded, err := decode(img.Data)
		if err != nil {
			return nil, badImage("enroll image %d: %s", i+1, strings.TrimPrefix(err.Error(), "builtin: "))
		}
		faces, err := e.find(ctx, decoded, "") // an enrollment photo stands alone
		if err != nil {
			return nil, err
		}
		if len(faces) != 1 {
			return nil, badImage("enroll image %d: found %d faces; an enrollment image must show exactly one", i+1, len(faces))
		}
		added = append(added, enrolled{subject: subject, imageID: ids[i], descriptor: faces[0].Descriptor})
	}
	if len(added) == 0 {
		return ids, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	next := slices.Clone(e.images)
	for _, a := range added {
		if i, found := find(next, a.subject, a.imageID); !found {
			next = slices.Insert(next, i, a)
		}
	}
	if err := e.commit(next); err != nil {
		return nil, err
	}
	return ids, nil
}

// DeleteImage removes one enrolled image; a missing one is not an error.
func (e *Engine) DeleteImage(ctx context.Context, subject, providerImageID string) error {
	return e.remove(ctx, func(im enrolled) bool { return im.subject == subject && im.imageID == providerImageID })
}

// DeleteSubject removes subject and all its images; a missing one is not
// an error.
func (e *Engine) DeleteSubject(ctx context.Context, subject string) error {
	return e.remove(ctx, func(im enrolled) bool { return im.subject == subject })
}

func (e *Engine) remove(ctx context.Context, match func(enrolled) bool) error {
	if err := e.ready(ctx); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(e.images), match)
	if len(next) == len(e.images) {
		return nil
	}
	return e.commit(next)
}

// Health is nil: an in-process engine always answers.
func (e *Engine) Health(ctx context.Context) error { return e.ready(ctx) }

// Capabilities: images are enrolled one by one, idempotently on Image.ID.
func (e *Engine) Capabilities() provider.Capabilities {
	return provider.Capabilities{IdempotentEnroll: true}
}

// Subjects returns how many subjects and images are enrolled.
func (e *Engine) Subjects() (subjects, images int) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	for i, im := range e.images {
		if i == 0 || im.subject != e.images[i-1].subject {
			subjects++
		}
	}
	return subjects, len(e.images)
}

func (e *Engine) ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &provider.Error{Kind: provider.ErrTimeout, Msg: "builtin: " + err.Error()}
	}
	return nil
}

func (e *Engine) has(subject, imageID string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	_, found := find(e.images, subject, imageID)
	return found
}

// find is where (subject, imageID) is or would be in the sorted images.
func find(images []enrolled, subject, imageID string) (int, bool) {
	return slices.BinarySearchFunc(images, enrolled{subject: subject, imageID: imageID}, compareEnrolled)
}

func compareEnrolled(a, b enrolled) int {
	return cmp.Or(cmp.Compare(a.subject, b.subject), cmp.Compare(a.imageID, b.imageID))
}

// commit stores next and then makes it current; e.mu must be held.
func (e *Engine) commit(next []enrolled) error {
	if e.dataDir != "" {
		if err := save(e.dataDir, e.rec.Name(), next); err != nil {
			return err
		}
	}
	e.images = next
	return nil
}
