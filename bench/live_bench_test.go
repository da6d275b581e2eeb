package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/rollcall/rollcall/internal/live"
)

// liveCameras and livePerCamera are the live view the benchmark serves:
// 100 cameras' worth of recent detections.
const (
	liveCameras   = 100
	livePerCamera = 5
)

// BenchmarkLiveDetections measures GET /detections/live over 100 cameras'
// live detections under concurrent load, next to a bare net/http handler
// serving the same bytes, in the same run. Each sub-benchmark's load runs
// once for the load duration (b.N is not used), as in BenchmarkCameras.
func BenchmarkLiveDetections(b *testing.B) {
	s := newStack(b)
	rng := rand.New(rand.NewPCG(7, 11))
	now := time.Now()
	for i := range liveCameras {
		cam := benchUUID(rng)
		items := make([][]byte, livePerCamera)
		for j := range items {
			d := live.Detection{ID: benchUUID(rng), CameraID: cam, At: now.Add(-time.Duration(j) * time.Second), Known: j%2 == 0,
				Similarity: 0.5 + rng.Float64()/2, Confidence: 0.9, Box: [4]int{100 + j, 80, 120, 150}}
			if d.Known {
				d.FaceProfileID, d.EmployeeCode, d.Name = benchUUID(rng), fmt.Sprintf("EMP-%04d", i*10+j), "Bench Person"
			}
			items[j], _ = json.Marshal(d)
		}
		if err := s.recent.Add(context.Background(), cam, now, items); err != nil {
			b.Fatal(err)
		}
	}
	c := client()
	token := login(b, c, s.srv.URL, s.user, s.password)
	clients, d := loadConcurrency(b), loadDuration(b)

	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/api/v1/detections/live", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var view struct {
		Cameras []json.RawMessage `json:"cameras"`
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &view) != nil || len(view.Cameras) != liveCameras {
		b.Fatalf("live view: %d, %d cameras", res.StatusCode, len(view.Cameras))
	}
	bare := bareServer(b, body, res.Header)

	var api, plain *loadResult
	b.Run("bare", func(b *testing.B) {
		if plain == nil {
			plain = runLoad(b, c, bare.URL+"/", "", clients, d, len(body))
		} else {
			plain.lat.report(b, bare.URL, plain.elapsed)
		}
	})
	b.Run("api", func(b *testing.B) {
		if api == nil {
			api = runLoad(b, c, s.srv.URL+"/api/v1/detections/live", token, clients, d, len(body))
		} else {
			api.lat.report(b, "/api/v1/detections/live", api.elapsed)
		}
		if plain != nil && len(plain.lat.all) > 0 {
			b.ReportMetric(api.rps()/plain.rps(), "api/bare-rps")
		}
	})
	if api == nil || plain == nil {
		return
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }
	fmt.Printf("\nGET /api/v1/detections/live, %d cameras x %d detections (%d B), %d clients for %v, GOMAXPROCS=%d\n",
		liveCameras, livePerCamera, len(body), clients, d, runtime.GOMAXPROCS(0))
	for _, x := range []struct {
		name string
		r    *loadResult
	}{{"api", api}, {"bare", plain}} {
		fmt.Printf("  %-5s %7.0f req/s  p50 %s  p95 %s  p99 %s\n", x.name, x.r.rps(), ms(x.r.lat.pct(0.50)), ms(x.r.lat.pct(0.95)), ms(x.r.lat.pct(0.99)))
	}
	fmt.Printf("  api/bare req/s %.2f (issue 5 aims: p99 < 5ms at 2000 req/s, >= 0.60)\n", api.rps()/plain.rps())
}
