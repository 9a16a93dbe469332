package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report as tables for people.
func WriteText(w io.Writer, r *Report) error {
	in := r.Inputs
	what := fmt.Sprintf("%d images from %s", in.Count, in.Dir)
	if in.Generated {
		what = fmt.Sprintf("%d generated photo-like JPEGs", in.Count)
	}
	each := ""
	if in.Size != "mixed" && in.Count > 0 {
		each = fmt.Sprintf("%.1f MP each, ", in.Megapixels/float64(in.Count))
	}
	fmt.Fprintf(w, "resizer bench: %s, %s (%s%.1f MP and %.1f MB in all), %d %s per worker count\n",
		what, in.Size, each, in.Megapixels, float64(in.Bytes)/1e6, r.Rounds, plural(r.Rounds, "round", "rounds"))
	for _, rc := range r.Recipes {
		fmt.Fprintf(w, "recipe:  %s (%s)\n", rc.Name, strings.Join(rc.Outputs, ", "))
	}
	if r.InboxGroups == "one" {
		fmt.Fprintln(w, "inbox:   one message group for all images (as the default EventBridge rule feeds it)")
	} else {
		fmt.Fprintln(w, "inbox:   one message group per image (as InboxFeed=pipe and resizer backfill feed it)")
	}
	m := r.Machine
	cpu := m.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	load := ""
	if m.LoadAverage != "" {
		load = ", load average " + m.LoadAverage + " at the start"
	}
	fmt.Fprintf(w, "machine: %s, %d CPUs, GOMAXPROCS %d, %s/%s, %s%s\n\n", cpu, m.CPUs, m.GOMAXPROCS, m.OS, m.Arch, m.Go, load)

	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "Throughput, median of %d %s [lowest-highest]:\n", r.Rounds, plural(r.Rounds, "round", "rounds"))
	fmt.Fprintln(tw, "WORKERS\tIMAGES/S\tMP/S\tWALL S\tCPU MS/IMAGE")
	for _, wr := range r.Workers {
		cpu := "-" // /proc is Linux only
		if wr.CPUPerImageMs.Median > 0 {
			cpu = fmt.Sprintf("%.0f", wr.CPUPerImageMs.Median)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%.2f\t%s\n", wr.Workers, spread(wr.ImagesPerSecond, "%.2f"),
			spread(wr.MegapixelsPerSecond, "%.1f"), wr.WallSeconds.Median, cpu)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "  wall: first inbox message to last outbox record; CPU: this process (daemon, embedded S3 and SQS) and the plugins")

	fmt.Fprintln(w)
	n := 0
	if len(r.Workers) > 0 {
		n = r.Workers[0].Stage("total").N
	}
	fmt.Fprintf(tw, "Latency per stage, ms, from the outbox records' timings_ms (%d images per worker count):\n", n)
	fmt.Fprintln(tw, "WORKERS\tSTAGE\tP50\tP90\tP99\tMAX")
	for _, wr := range r.Workers {
		for i, s := range wr.Stages {
			workers := ""
			if i == 0 {
				workers = fmt.Sprint(wr.Workers)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", workers, s.Stage, ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "  transform and encode add up every output's time, and outputs are made concurrently: they can exceed")
	fmt.Fprintln(w, "  the wall time. render = total - download - decode - upload, the wall time of making the outputs.")

	fmt.Fprintln(w)
	if err := writeMemory(w, r.Workers); err != nil {
		return err
	}
	if r.Vips != nil {
		fmt.Fprintln(w)
		return writeVips(w, r)
	}
	return nil
}

func writeMemory(w io.Writer, workers []WorkersResult) error {
	var names []string
	for _, wr := range workers {
		if wr.Memory == nil {
			fmt.Fprintln(w, "Peak resident memory: unavailable (it is read from /proc, on Linux only)")
			return nil
		}
		for name := range wr.Memory.Plugins {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "Peak resident memory, MiB (of the round with the largest per-job figure):")
	fmt.Fprintln(tw, "\tIDLE\tPEAK")
	head := "WORKERS\tALL\tDAEMON"
	for _, n := range names {
		head += "\t" + strings.ToUpper(n)
	}
	fmt.Fprintln(tw, head+"\tALL\tIN FLIGHT\tPER IN-FLIGHT JOB")
	hwm := true
	for _, wr := range workers {
		mem := wr.Memory
		hwm = hwm && mem.HWMReset
		line := fmt.Sprintf("%d\t%s\t%s", wr.Workers, mb(mem.Idle), mb(mem.Daemon))
		for _, n := range names {
			line += "\t" + mb(mem.Plugins[n])
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", line, mb(mem.Total), mem.InFlight, mb(mem.PerJob))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "  daemon: this process (daemon, embedded S3 and SQS, bench), shared pixel files included;")
	fmt.Fprintln(w, "  plugins: each plugin process without those files; idle: all of them before the run, the plugins as started;")
	fmt.Fprintln(w, "  per in-flight job: (peak of all - idle) / in flight")
	if !hwm {
		fmt.Fprintln(w, "  the daemon's high-water mark could not be reset: its peak is the largest 10 ms sample")
	}
	return nil
}

func writeVips(w io.Writer, r *Report) error {
	v := r.Vips
	fmt.Fprintf(w, "libvips: %s (%s), the same sources; each output is a command of its own, an image's commands run one after the other:\n", v.Path, v.Version)
	for _, rc := range v.Recipes {
		tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
		fmt.Fprintf(tw, "  recipe %s:\n", rc.Recipe)
		for _, c := range rc.Commands {
			fmt.Fprintf(tw, "    %s\t%s\n", c.Output, c.String())
		}
		for _, u := range rc.Unmapped {
			fmt.Fprintf(tw, "    %s\tnot compared: %s\n", u.Output, u.Reason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "Ours against libvips, medians; vips runs as many images at once as we have workers:")
	head, sub := "", ""
	for _, vw := range v.Workers {
		head += fmt.Sprintf("\t%d %s\t\t", vw.Workers, plural(vw.Workers, "worker", "workers"))
		sub += "\tours\tvips\tours/vips"
	}
	fmt.Fprintln(tw, strings.TrimRight(head, "\t"))
	fmt.Fprintln(tw, sub)
	// Each row gives ours and vips's value of a figure; a negative one is
	// unknown.
	rows := []struct {
		name, format string
		values       func(o WorkersResult, vw VipsWorkers) (ours, vips float64)
	}{
		{"images/s", "%.2f", func(o WorkersResult, vw VipsWorkers) (float64, float64) {
			return o.ImagesPerSecond.Median, vw.ImagesPerSecond.Median
		}},
		{"ms per image (p50)", "%.0f", func(o WorkersResult, vw VipsWorkers) (float64, float64) {
			return o.Stage("total").P50, vw.PerImageMs.P50
		}},
		{"CPU ms per image", "%.0f", func(o WorkersResult, vw VipsWorkers) (float64, float64) {
			if o.CPUPerImageMs.Median == 0 {
				return -1, vw.CPUPerImageMs.Median
			}
			return o.CPUPerImageMs.Median, vw.CPUPerImageMs.Median
		}},
		{"MiB per job", "%.0f", func(o WorkersResult, vw VipsWorkers) (float64, float64) {
			ours, vips := -1.0, -1.0
			if o.Memory != nil {
				ours = float64(o.Memory.PerJob) / (1 << 20)
			}
			if vw.PeakRSS > 0 {
				vips = float64(vw.PeakRSS) / (1 << 20)
			}
			return ours, vips
		}},
	}
	for _, rw := range rows {
		line := rw.name
		for _, vw := range v.Workers {
			ours, vips := rw.values(oursFor(r, vw.Workers), vw)
			cells := [3]string{"-", "-", "-"}
			if ours >= 0 {
				cells[0] = fmt.Sprintf(rw.format, ours)
			}
			if vips >= 0 {
				cells[1] = fmt.Sprintf(rw.format, vips)
			}
			if ours >= 0 && vips > 0 {
				cells[2] = fmt.Sprintf("%.2f", ours/vips)
			}
			line += "\t" + strings.Join(cells[:], "\t")
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "  ours: S3 download to upload, from the outbox records (the total stage), and the daemon's memory per")
	fmt.Fprintln(w, "  in-flight job; vips: local files in and out, a process per output, its largest process's memory.")
	fmt.Fprintln(w, "  images/s: a ratio under 1 means ours makes fewer; ms, CPU and MiB: a ratio over 1 means ours needs more.")
	if len(v.SizeMismatches) > 0 {
		fmt.Fprintf(w, "warning: %d outputs differ in size between ours and vips:\n", len(v.SizeMismatches))
		for _, d := range v.SizeMismatches {
			fmt.Fprintf(w, "  %s\n", d)
		}
	} else {
		fmt.Fprintln(w, "  every compared output has the same width and height as ours")
	}
	return nil
}

func oursFor(r *Report, workers int) WorkersResult {
	for _, o := range r.Workers {
		if o.Workers == workers {
			return o
		}
	}
	return WorkersResult{}
}

// spread prints a median with its range, or the one value of one round.
func spread(s Spread, format string) string {
	if s.Min == s.Max {
		return fmt.Sprintf(format, s.Median)
	}
	return fmt.Sprintf(format+" ["+format+"-"+format+"]", s.Median, s.Min, s.Max)
}

// ms prints a duration in milliseconds with about three significant digits.
func ms(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func mb(bytes int64) string { return fmt.Sprintf("%.0f", float64(bytes)/(1<<20)) }
