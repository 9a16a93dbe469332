package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/recipe"
)

// VipsInstallHint says how to get vipsthumbnail.
const VipsInstallHint = "install libvips-tools (Debian, Ubuntu: sudo apt-get install libvips-tools)"

// ErrNoVips is FindVips's error when vipsthumbnail is not on PATH.
var ErrNoVips = errors.New("--compare vips needs vipsthumbnail, which is not on PATH: " + VipsInstallHint)

// FindVips returns the path of vipsthumbnail, or ErrNoVips.
func FindVips() (string, error) {
	path, err := exec.LookPath("vipsthumbnail")
	if err != nil {
		return "", ErrNoVips
	}
	return path, nil
}

// vipsVersion asks vipsthumbnail for its libvips version.
func vipsVersion(ctx context.Context, path string) string {
	out, err := exec.CommandContext(ctx, path, "--vips-version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// VipsCommand is one recipe output as a vipsthumbnail command.
type VipsCommand struct {
	Output    string `json:"output"`              // the recipe output's name
	Size      string `json:"size"`                // --size: a box, and ">" for shrink only, "!" to stretch
	Smartcrop string `json:"smartcrop,omitempty"` // --smartcrop: fill the box and crop
	Ext       string `json:"ext"`                 // of the output file, which picks the format
	Save      string `json:"save"`                // save options, in brackets after the file name
}

// Args are the command's arguments for one input, writing to out (a path
// without its extension).
func (c VipsCommand) Args(in, out string) []string {
	args := []string{in, "--size", c.Size}
	if c.Smartcrop != "" {
		args = append(args, "--smartcrop", c.Smartcrop)
	}
	return append(args, "-o", out+c.Ext+"["+c.Save+"]")
}

// String is the command line with IN and OUT for the files.
func (c VipsCommand) String() string {
	return "vipsthumbnail " + strings.Join(c.Args("IN", "OUT"), " ")
}

// Unmapped is a recipe output that vipsthumbnail cannot make, and why.
type Unmapped struct {
	Output string `json:"output"`
	Reason string `json:"reason"`
}

// MapRecipe turns each output of r that vipsthumbnail can make the same
// way (the same box, crop and format) into a command, and says why the
// others cannot be. vipsthumbnail reads the source once per command, as
// the daemon does not, and resamples with its own kernel (lanczos3, after
// shrink-on-load), so only geometry and encoding are matched.
func MapRecipe(r *recipe.Recipe) ([]VipsCommand, []Unmapped) {
	var cmds []VipsCommand
	var unmapped []Unmapped
	for _, o := range r.Outputs {
		c, err := mapOutput(o)
		if err != nil {
			unmapped = append(unmapped, Unmapped{Output: o.Name, Reason: err.Error()})
			continue
		}
		cmds = append(cmds, c)
	}
	return cmds, unmapped
}

func mapOutput(o recipe.Output) (VipsCommand, error) {
	c := VipsCommand{Output: o.Name}
	plan := o.Plan()
	if len(plan) != 1 {
		ops := make([]string, len(plan))
		for i, st := range plan {
			ops[i] = st.Op
		}
		return c, fmt.Errorf("%d steps (%s); vipsthumbnail makes one resize or crop", len(plan), strings.Join(ops, ", "))
	}
	st := plan[0]
	w, h := intParam(st, "width"), intParam(st, "height")
	switch st.Op {
	case "resize":
		fit, upscale := stringParam(st, "fit", "inside"), boolParam(st, "upscale", false)
		switch fit {
		case "inside":
			c.Size = box(w, h)
			if !upscale {
				c.Size += ">"
			}
		case "cover", "exact":
			if w == 0 || h == 0 {
				return c, fmt.Errorf("resize fit %s without both width and height", fit)
			}
			// Without upscale the two may differ on sources smaller than
			// the box; the size check after the first pass says so.
			c.Size = box(w, h)
			if fit == "cover" {
				c.Smartcrop = "centre"
			} else {
				c.Size += "!"
			}
		default:
			return c, fmt.Errorf("resize fit %s has no vipsthumbnail equivalent", fit)
		}
	case "thumbnail":
		switch g := stringParam(st, "gravity", "center"); g {
		case "center":
			c.Smartcrop = "centre"
		case "smart":
			// Both keep the part that draws the eye: ours by detail,
			// libvips's attention by edges, skin tones and saturation.
			c.Smartcrop = "attention"
		default:
			return c, fmt.Errorf("thumbnail gravity %s has no vipsthumbnail equivalent (it crops at the centre or by attention)", g)
		}
		c.Size = box(w, h)
	default:
		return c, fmt.Errorf("operation %s has no vipsthumbnail equivalent", st.Op)
	}
	// Outputs keep no EXIF, XMP or comments; strip drops them in libvips
	// 8.14 (later versions still take it).
	switch o.Format {
	case recipe.FormatJPEG:
		c.Ext, c.Save = ".jpg", fmt.Sprintf("Q=%d,strip", o.QualityFor(o.Format))
	case recipe.FormatWebP:
		c.Ext, c.Save = ".webp", fmt.Sprintf("Q=%d,strip", o.QualityFor(o.Format))
	case recipe.FormatPNG:
		c.Ext, c.Save = ".png", "strip"
	default:
		return c, fmt.Errorf("format %s is not compared", o.Format)
	}
	return c, nil
}

// box is a vipsthumbnail size: WxH, or Wx and xH for one bound.
func box(w, h int) string {
	switch {
	case w > 0 && h > 0:
		return fmt.Sprintf("%dx%d", w, h)
	case w > 0:
		return fmt.Sprintf("%dx", w)
	default:
		return fmt.Sprintf("x%d", h)
	}
}

func intParam(st recipe.Step, name string) int {
	switch v := st.Params[name].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return 0
}

func stringParam(st recipe.Step, name, def string) string {
	if v, ok := st.Params[name].(string); ok {
		return v
	}
	return def
}

func boolParam(st recipe.Step, name string, def bool) bool {
	if v, ok := st.Params[name].(bool); ok {
		return v
	}
	return def
}

// vipsJob is one input and the commands that make its outputs.
type vipsJob struct {
	input Input
	cmds  []VipsCommand
}

// vipsRun is one pass of vipsthumbnail over the inputs.
type vipsRun struct {
	wall     time.Duration
	perImage []time.Duration // an input's commands, one after the other, by input
	cpu      time.Duration   // user and system time of every process
	maxRSS   int64           // the largest process, in bytes; 0 where unknown
}

// runVips makes every job's outputs into dir, concurrency jobs at a time;
// each job runs its commands one after the other, as one daemon worker
// makes an image's outputs.
func runVips(ctx context.Context, path string, jobs []vipsJob, dir string, concurrency int) (vipsRun, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return vipsRun{}, err
	}
	res := vipsRun{perImage: make([]time.Duration, len(jobs))}
	var mu sync.Mutex
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range max(concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				for _, c := range jobs[i].cmds {
					cmd := exec.CommandContext(ctx, path, c.Args(jobs[i].input.Path, vipsOutput(dir, jobs[i].input, c))...)
					var stderr bytes.Buffer
					cmd.Stderr = &stderr
					peak, err := runWatched(cmd)
					if err != nil {
						errs[i] = fmt.Errorf("%s %s: %w: %s", path, strings.Join(cmd.Args[1:], " "), err, strings.TrimSpace(stderr.String()))
						break
					}
					mu.Lock()
					res.cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
					res.maxRSS = max(res.maxRSS, peak)
					mu.Unlock()
				}
				res.perImage[i] = time.Since(t)
			}
		}()
	}
	for i := range jobs {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	res.wall = time.Since(start)
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return vipsRun{}, err
	}
	return res, nil
}

// runWatched runs cmd and returns the peak resident memory of its process,
// read from its VmHWM every 5 ms until it exits (0 where /proc
// is not there). The rusage of a finished child will not do: Go starts
// children sharing its memory until they exec, and Linux carries that
// memory's high-water mark into the child's ru_maxrss, so every child
// would report the bench's own size.
func runWatched(cmd *exec.Cmd) (int64, error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		var hwm int64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			// The mark only rises, so the last reading before the process
			// exits is the best one; an exited process has none.
			if m, err := readMem(cmd.Process.Pid); err == nil {
				hwm = max(hwm, m.hwm)
			}
			select {
			case <-done:
				peak <- hwm
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	return <-peak, err
}

// vipsOutput is where a command writes an input's output, without the
// extension.
func vipsOutput(dir string, in Input, c VipsCommand) string {
	return filepath.Join(dir, strings.TrimSuffix(in.Name, filepath.Ext(in.Name))+"-"+c.Output)
}

// compareSizes reads the size of every output vipsthumbnail wrote into dir
// and says where it differs from the daemon's output of the same name.
func compareSizes(dir string, jobs []vipsJob, ours map[string]outbox.Record) []string {
	var diffs []string
	for _, j := range jobs {
		rec := ours[j.input.Name]
		for _, c := range j.cmds {
			file := vipsOutput(dir, j.input, c) + c.Ext
			f, err := os.Open(file)
			if err != nil {
				diffs = append(diffs, fmt.Sprintf("%s %s: %v", j.input.Name, c.Output, err))
				continue
			}
			cfg, _, err := image.DecodeConfig(f)
			f.Close()
			if err != nil {
				diffs = append(diffs, fmt.Sprintf("%s %s: cannot read vips output: %v", j.input.Name, c.Output, err))
				continue
			}
			found := false
			for _, o := range rec.Outputs {
				if o.Name != c.Output {
					continue
				}
				found = true
				if o.Width != cfg.Width || o.Height != cfg.Height {
					diffs = append(diffs, fmt.Sprintf("%s %s: ours %dx%d, vips %dx%d",
						j.input.Name, c.Output, o.Width, o.Height, cfg.Width, cfg.Height))
				}
			}
			if !found {
				diffs = append(diffs, fmt.Sprintf("%s %s: the daemon wrote no output of that name", j.input.Name, c.Output))
			}
		}
	}
	return diffs
}
