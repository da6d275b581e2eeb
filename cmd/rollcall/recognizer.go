package main

import (
	"fmt"

	"github.com/rollcall/rollcall/internal/config"
	"github.com/rollcall/rollcall/internal/provider/builtin"
	"github.com/rollcall/rollcall/internal/provider/builtin/synthetic"
)

// newRecognizer returns the built-in provider's recognizer c selects. For
// engine facenet it loads the models from c.ModelsDir, and failing to is
// an error: a process that cannot recognise faces must not start as if it
// could.
func newRecognizer(c config.BuiltinConfig) (builtin.Recognizer, error) {
	if c.Engine == config.BuiltinEngineSynthetic {
		return synthetic.New(), nil
	}
	nets, err := loadFaceNets(c.ModelsDir)
	if err != nil {
		return nil, fmt.Errorf("built-in face engine %s: %w", c.Engine, err)
	}
	return builtin.NewFaceNet(nets, builtin.FaceNetOptions{InputSize: c.FaceInputSize, MinFaceSize: c.FaceMinSize}), nil
}
