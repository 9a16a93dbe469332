package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Memory is what a run held in resident memory, in bytes, read from
// /proc (Linux only).
//
// The daemon runs in this process, beside the embedded S3 and SQS
// endpoints and the bench itself; its plugins run in processes of their
// own. Pixels cross to a plugin through shared-memory files that both the
// daemon and the plugin map, so a plugin's figures leave out its shared
// pages (RssShmem): they are counted once, in the daemon, which owns the
// files. Pages of the executable that the processes share are counted in
// each, but they are there before the run too and cancel out of PerJob.
type Memory struct {
	// Idle is the daemon's resident memory just before the run (after a
	// collection, with the run's sources already uploaded) plus the
	// plugins' as they started, before any job: what the processes need
	// without work.
	Idle int64 `json:"idle_bytes"`
	// Daemon is the peak of this process: the kernel's high-water mark
	// (VmHWM) when it could be reset before the run, else the largest
	// sample.
	Daemon int64 `json:"daemon_peak_bytes"`
	// Plugins is the largest sample of each plugin process, by name.
	Plugins map[string]int64 `json:"plugin_peak_bytes"`
	// Total is the largest sampled sum of the daemon and its plugins,
	// raised by any part of the daemon's high-water mark that the samples
	// missed.
	Total int64 `json:"total_peak_bytes"`
	// InFlight is how many jobs ran at once at most: min(workers, images).
	InFlight int `json:"in_flight"`
	// PerJob is (Total - Idle) / InFlight: the memory one more worker
	// needs.
	PerJob int64 `json:"per_in_flight_job_bytes"`
	// HWMReset says whether the daemon's high-water mark was reset before
	// the run (writing 5 to /proc/self/clear_refs); if not, Daemon is the
	// largest 10 ms sample and a shorter spike may be missed.
	HWMReset bool `json:"hwm_reset"`
}

// procMem is one reading of a process's /proc/PID/status.
type procMem struct {
	rss, hwm, shmem int64 // bytes
}

// private is what the process holds that no other process of the run
// counts too.
func (m procMem) private() int64 { return m.rss - m.shmem }

var errNoProc = errors.New("resident memory is unavailable: no /proc (Linux only)")

// readMem reads the memory figures of a process; pid 0 is this one.
func readMem(pid int) (procMem, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && pid == 0 {
			return procMem{}, errNoProc
		}
		return procMem{}, err
	}
	var m procMem
	found := false
	for line := range bytes.Lines(data) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(name) {
		case "VmRSS":
			dst, found = &m.rss, true
		case "VmHWM":
			dst = &m.hwm
		case "RssShmem":
			dst = &m.shmem
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(value)), " kB"), 10, 64)
		if err != nil {
			return procMem{}, fmt.Errorf("%s: %s: %w", path, name, err)
		}
		*dst = kb << 10
	}
	if !found {
		return procMem{}, fmt.Errorf("%s: no VmRSS line", path)
	}
	return m, nil
}

// resetPeak resets this process's VmHWM to its current VmRSS, where the
// kernel lets it (Linux 4.0 and later; some sandboxes refuse).
func resetPeak() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// process is one plugin process to watch.
type process struct {
	Name string
	PID  int
}

// memSampler reads the daemon's and its plugins' resident memory every
// interval, keeping the peaks. Plugin processes are looked up on every
// tick, so one that is restarted during the run is followed.
type memSampler struct {
	plugins  func() []process
	interval time.Duration
	stop     chan struct{}
	done     chan struct{}

	mu       sync.Mutex
	maxSelf  int64
	maxTotal int64
	peaks    map[string]int64
}

func startSampling(interval time.Duration, plugins func() []process) *memSampler {
	s := &memSampler{plugins: plugins, interval: interval, stop: make(chan struct{}),
		done: make(chan struct{}), peaks: map[string]int64{}}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				s.sample()
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *memSampler) sample() {
	self, err := readMem(0)
	if err != nil {
		return
	}
	total := self.rss
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.plugins() {
		m, err := readMem(p.PID)
		if err != nil {
			continue // between a crash and its restart
		}
		total += m.private()
		s.peaks[p.Name] = max(s.peaks[p.Name], m.private())
	}
	s.maxSelf = max(s.maxSelf, self.rss)
	s.maxTotal = max(s.maxTotal, total)
}

// finish stops sampling and returns the peaks. hwmReset says whether the
// daemon's high-water mark was reset when sampling started.
func (s *memSampler) finish(idle int64, inFlight int, hwmReset bool) Memory {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	m := Memory{Idle: idle, Daemon: s.maxSelf, Total: s.maxTotal, Plugins: s.peaks,
		InFlight: inFlight, HWMReset: hwmReset}
	if hwmReset {
		if now, err := readMem(0); err == nil && now.hwm > s.maxSelf {
			m.Daemon = now.hwm
			m.Total += now.hwm - s.maxSelf
		}
	}
	if inFlight > 0 {
		m.PerJob = max(m.Total-idle, 0) / int64(inFlight)
	}
	return m
}

// cpuTime is the CPU time (user and system) a process has used, from
// /proc/PID/stat; pid 0 is this process.
func cpuTime(pid int) (time.Duration, error) {
	path := "/proc/self/stat"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields
	// from the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: unexpected format", path)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("%s: unexpected format", path)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	// Linux reports clock ticks of USER_HZ, which is 100 on every
	// architecture Go supports.
	return time.Duration(utime+stime) * (time.Second / 100), nil
}

// cpuOf adds up the CPU time of this process and of the given ones,
// remembering it by pid, so that a run's share is the difference of two
// readings; a pid missing from before (a restarted plugin) counts whole.
func cpuOf(procs []process) map[int]time.Duration {
	out := map[int]time.Duration{}
	if d, err := cpuTime(0); err == nil {
		out[0] = d
	}
	for _, p := range procs {
		if d, err := cpuTime(p.PID); err == nil {
			out[p.PID] = d
		}
	}
	return out
}

func cpuUsed(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid]
	}
	return d
}
