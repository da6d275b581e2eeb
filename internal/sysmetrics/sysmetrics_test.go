package sysmetrics

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestHostReadsEveryFigure(t *testing.T) {
	samples, err := Host(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, s := range samples {
		got[s.Name] = s.Value
	}
	for _, name := range []string{HostCPUPercent, HostMemoryUsedBytes, HostMemoryTotalBytes, HostDiskUsedBytes,
		HostDiskTotalBytes, HostLoad1, HostLoad5, HostLoad15} {
		if _, ok := got[name]; !ok {
			t.Errorf("no %s among %v", name, got)
		}
		if !Known(name) {
			t.Errorf("%s is not among Names()", name)
		}
	}
	if got[HostMemoryTotalBytes] <= 0 || got[HostMemoryUsedBytes] > got[HostMemoryTotalBytes] {
		t.Errorf("memory used %v of total %v", got[HostMemoryUsedBytes], got[HostMemoryTotalBytes])
	}
	if got[HostDiskTotalBytes] <= 0 || got[HostDiskUsedBytes] > got[HostDiskTotalBytes] {
		t.Errorf("disk used %v of total %v", got[HostDiskUsedBytes], got[HostDiskTotalBytes])
	}
	if p := got[HostCPUPercent]; p < 0 || p > 100 {
		t.Errorf("cpu percent %v", p)
	}
	t.Logf("host: %v", got)
}

func TestHostReportsAMissingDataDir(t *testing.T) {
	samples, err := Host(context.Background(), "/nonexistent/rollcall-data")
	if err == nil {
		t.Fatal("no error for a missing data directory")
	}
	for _, s := range samples {
		if s.Name == HostDiskTotalBytes {
			t.Errorf("disk figure %v for a missing directory", s.Value)
		}
	}
	if len(samples) == 0 {
		t.Error("the other figures were dropped too")
	}
}

func TestInfoField(t *testing.T) {
	info := "# Memory\r\nused_memory:1048576\r\nused_memory_human:1.00M\r\nused_memory_rss:2000\r\n"
	if v, ok := infoField(info, "used_memory"); !ok || v != 1048576 {
		t.Errorf("used_memory = %v, %v", v, ok)
	}
	if _, ok := infoField(info, "maxmemory"); ok {
		t.Error("found a missing field")
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func TestCheckServicesRunsInParallelWithinTheTimeout(t *testing.T) {
	addr := closedAddr(t)
	dial := func(ctx context.Context) error {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = c.Close()
		}
		return err
	}
	m := &Monitor{Timeout: 200 * time.Millisecond, Probes: []Probe{
		{Name: "postgres", Kind: KindDatabase, Check: func(context.Context) error { return nil }},
		{Name: "redis", Kind: KindCache, Check: dial},
		{Name: "minio", Kind: KindObjectStore, Check: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		{Name: "temporal", Kind: KindWorkflow, Check: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
	}}
	start := time.Now()
	got := m.CheckServices(context.Background())
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %s: checks not in parallel or not bounded", took)
	}
	want := []struct{ name, status, err string }{
		{"postgres", StatusUp, ""}, {"redis", StatusDown, "connection refused"},
		{"minio", StatusDown, "timeout"}, {"temporal", StatusDown, "timeout"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d services, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].Status != w.status || got[i].Error != w.err {
			t.Errorf("service %d = %s %s %q, want %s %s %q", i, got[i].Name, got[i].Status, got[i].Error, w.name, w.status, w.err)
		}
	}
}

func TestErrorTextRedactsCredentials(t *testing.T) {
	got := ErrorText(context.Background(), errors.New(`Get "http://admin:s3cret@odoo.local/web": bad gateway`))
	if got == "" || strings.Contains(got, "s3cret") {
		t.Errorf("ErrorText = %q", got)
	}
}
