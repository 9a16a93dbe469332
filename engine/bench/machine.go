package bench

import (
	"bufio"
	"os"
	"runtime"
	"strings"
)

// Machine describes where the bench ran: numbers from different machines,
// or from one machine under different load, do not compare.
type Machine struct {
	CPU        string `json:"cpu"` // model, from /proc/cpuinfo; "" when unknown
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	Go         string `json:"go"`
	// LoadAverage is /proc/loadavg's 1-minute figure when the bench
	// started: other work on the machine makes every number worse.
	LoadAverage string `json:"load_average,omitempty"`
}

func describeMachine() Machine {
	return Machine{
		CPU:         cpuModel(),
		CPUs:        runtime.NumCPU(),
		GOMAXPROCS:  runtime.GOMAXPROCS(0),
		OS:          runtime.GOOS,
		Arch:        runtime.GOARCH,
		Go:          runtime.Version(),
		LoadAverage: loadAverage(),
	}
}

// cpuModel reads the first processor's model from /proc/cpuinfo: "model
// name" on x86, "Model" or the "CPU part" number on some ARM kernels.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	found := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if _, seen := found[k]; !seen && v != "" {
			found[k] = v
		}
	}
	for _, k := range []string{"model name", "Model", "Hardware"} {
		if v := found[k]; v != "" {
			return v
		}
	}
	if v := found["CPU part"]; v != "" {
		return "CPU part " + v
	}
	return ""
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(data)); len(f) > 0 {
		return f[0]
	}
	return ""
}
