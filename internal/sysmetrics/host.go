package sysmetrics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
)

// cpuWindow is how long CPU use is measured over: long enough to be more
// than noise, short enough for an activity that runs every minute.
const cpuWindow = 500 * time.Millisecond

// Host measures this machine: CPU percent (all cores, over cpuWindow),
// memory used and total, used and total bytes of the file system holding
// dataDir, and the load averages. A figure that cannot be read is left out
// and its error joined into the returned one; the others are returned.
func Host(ctx context.Context, dataDir string) ([]Sample, error) {
	var out []Sample
	var errs []error
	if pct, err := cpu.PercentWithContext(ctx, cpuWindow, false); err != nil || len(pct) == 0 {
		errs = append(errs, fmt.Errorf("cpu: %w", errors.Join(err, errors.New("no figure"))))
	} else {
		out = append(out, Sample{Name: HostCPUPercent, Value: pct[0]})
	}
	if vm, err := mem.VirtualMemoryWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("memory: %w", err))
	} else {
		out = append(out, Sample{Name: HostMemoryUsedBytes, Value: float64(vm.Used)}, Sample{Name: HostMemoryTotalBytes, Value: float64(vm.Total)})
	}
	if du, err := disk.UsageWithContext(ctx, dataDir); err != nil {
		errs = append(errs, fmt.Errorf("disk %s: %w", dataDir, err))
	} else {
		out = append(out, Sample{Name: HostDiskUsedBytes, Value: float64(du.Used)}, Sample{Name: HostDiskTotalBytes, Value: float64(du.Total)})
	}
	if avg, err := load.AvgWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("load: %w", err))
	} else {
		out = append(out, Sample{Name: HostLoad1, Value: avg.Load1}, Sample{Name: HostLoad5, Value: avg.Load5}, Sample{Name: HostLoad15, Value: avg.Load15})
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("sysmetrics: host: %w", errors.Join(errs...))
	}
	return out, nil
}
