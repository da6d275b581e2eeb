package config

// Engines of the built-in face provider (ROLLCALL_BUILTIN_ENGINE).
const (
	// BuiltinEngineFaceNet is real face recognition with the face-api
	// networks, whose weights `make models` puts in ROLLCALL_MODELS_DIR.
	BuiltinEngineFaceNet = "facenet"
	// BuiltinEngineSynthetic matches only the synthetic people of package
	// facegen: for tests and demos, refused in production.
	BuiltinEngineSynthetic = "synthetic"
)

// BuiltinConfig configures the built-in face provider's recognizer, in
// process (serve, worker, all) and in `rollcall provider`.
type BuiltinConfig struct {
	// Engine is BuiltinEngineFaceNet or BuiltinEngineSynthetic.
	Engine string
	// ModelsDir holds the face-api weights (engine facenet).
	ModelsDir string
	// FaceMinSize is the shortest side, in pixels, of a face worth
	// recognising; smaller faces are ignored.
	FaceMinSize int
	// FaceInputSize is the face detector's input side: larger finds
	// smaller faces, slower.
	FaceInputSize int
}

// LoadBuiltin reads only the built-in provider's variables (and
// ROLLCALL_ENV, for the production guardrail), for `rollcall provider`,
// which needs none of the rest.
func LoadBuiltin(getenv func(string) string) (BuiltinConfig, error) {
	e := env{get: getenv}
	c := loadBuiltin(&e)
	checkBuiltinProduction(e.str("ROLLCALL_ENV", "dev"), c, &e)
	return c, e.err()
}

func loadBuiltin(e *env) BuiltinConfig {
	c := BuiltinConfig{
		Engine:        e.str("ROLLCALL_BUILTIN_ENGINE", BuiltinEngineFaceNet),
		ModelsDir:     e.str("ROLLCALL_MODELS_DIR", ".local/models"),
		FaceMinSize:   e.int("ROLLCALL_FACE_MIN_SIZE", 40),
		FaceInputSize: e.int("ROLLCALL_FACE_INPUT_SIZE", 416),
	}
	if c.Engine != BuiltinEngineFaceNet && c.Engine != BuiltinEngineSynthetic {
		e.fail("ROLLCALL_BUILTIN_ENGINE", "must be facenet or synthetic (facegen test people only)")
	}
	if c.FaceMinSize < 8 || c.FaceMinSize > 1024 {
		e.fail("ROLLCALL_FACE_MIN_SIZE", "must be from 8 to 1024 (pixels)")
	}
	if c.FaceInputSize < 128 || c.FaceInputSize > 1024 || c.FaceInputSize%32 != 0 {
		e.fail("ROLLCALL_FACE_INPUT_SIZE", "must be a multiple of 32 from 128 to 1024")
	}
	return c
}
