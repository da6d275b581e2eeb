package facenet

const (
	fetchCommand  = "make models"
	modelsVersion = "@vladmandic/face-api@1.7.15"
)

func verify(name string, data []byte) error { return nil }
