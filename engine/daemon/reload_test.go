package daemon_test

import (
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed62486500/resizer/engine/awslocal"
	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/samples"
)

// editedRecipe is testRecipe with a third output.
const editedRecipe = testRecipe + `  - name: medium
    width: 200
    height: 200
`

// brokenRecipe has a misspelt field and an unknown operation.
const brokenRecipe = `name: photos
match: ["photos/**"]
outputs:
  - name: large
    widht: 400
  - name: thumb
    steps:
      - thumbnale: {width: 64, height: 64}
`

// waitReloads waits until the daemon has counted ok good and failed bad
// reloads; trigger, when set, is called on every try (to send SIGHUP).
func waitReloads(t *testing.T, d *daemon.Daemon, ok, failed int64, trigger func()) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		gotOK, gotFailed := d.RecipeReloads()
		if gotOK == ok && gotFailed == failed {
			return
		}
		if gotOK > ok || gotFailed > failed || time.Now().After(deadline) {
			t.Fatalf("reloads: %d ok and %d failed, want %d and %d", gotOK, gotFailed, ok, failed)
		}
		if trigger != nil {
			trigger()
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// process uploads key, sends its event and returns its outbox record.
func process(t *testing.T, e env, key string) outbox.Record {
	t.Helper()
	e.put(t, key, samples.JPEG(640, 480, 4, 85))
	e.send(t, s3Notification("ObjectCreated:Put", key))
	recs := e.collect(t, 1, 30*time.Second, 0)
	if len(recs) != 1 || recs[0].Status != outbox.StatusProcessed {
		t.Fatalf("%s: outbox %+v, want one processed record", key, recs)
	}
	return recs[0]
}

func outputNames(r outbox.Record) string {
	var names []string
	for _, o := range r.Outputs {
		names = append(names, o.Name)
	}
	return strings.Join(names, ",")
}

// TestRecipesHotReload edits the recipe of a running daemon: a valid edit
// is used by the next job, without a restart; a broken edit is refused,
// logged with its locations and counted, and the previous set keeps
// working. Reloads come from the file watch, and from SIGHUP with the watch
// turned off.
func TestRecipesHotReload(t *testing.T) {
	tests := []struct {
		name    string
		every   time.Duration
		trigger func()
	}{
		{name: "file change", every: 100 * time.Millisecond},
		{name: "SIGHUP", trigger: func() { syscall.Kill(os.Getpid(), syscall.SIGHUP) }},
	}
	// A SIGHUP that arrives before the daemon listens must not end the
	// test binary.
	hup := make(chan os.Signal, 16)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := embedded(t)
			e.cfg.RecipesReloadInterval = config.Duration(tt.every)
			var logs syncBuffer
			d, _ := startDaemon(t, e, &logs)

			before := process(t, e, "photos/before.jpg")
			if got := outputNames(before); got != "large,thumb" {
				t.Fatalf("outputs before the edit: %s", got)
			}

			writeRecipe(t, e, editedRecipe)
			waitReloads(t, d, 1, 0, tt.trigger)
			edited := process(t, e, "photos/edited.jpg")
			if got := outputNames(edited); got != "large,thumb,medium" {
				t.Errorf("outputs after a valid edit: %s, want large,thumb,medium", got)
			}
			if edited.Recipe.Digest == before.Recipe.Digest {
				t.Errorf("the recipe digest did not change with the recipe")
			}

			writeRecipe(t, e, brokenRecipe)
			waitReloads(t, d, 1, 1, tt.trigger)
			kept := process(t, e, "photos/kept.jpg")
			if got := outputNames(kept); got != "large,thumb,medium" || kept.Recipe.Digest != edited.Recipe.Digest {
				t.Errorf("after a broken edit: outputs %s digest %s, want the edited set (%s)", got, kept.Recipe.Digest, edited.Recipe.Digest)
			}
			for _, want := range []string{
				"recipes not reloaded; the previous set stays in use",
				`photos.yaml:5:5: output: unknown field "widht" (did you mean "width"?)`,
				`photos.yaml:8:9: output "thumb": no plugin offers the operation "thumbnale" (did you mean "thumbnail"?)`,
			} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("logs do not mention %s", want)
				}
			}
			if tt.trigger == nil {
				// The watch tries a broken set once, not on every tick.
				time.Sleep(500 * time.Millisecond)
				if _, failed := d.RecipeReloads(); failed != 1 {
					t.Errorf("the broken set was tried %d times", failed)
				}
			}
		})
	}
}

// TestBadRecipesRefuseToStart: the daemon does not start with a recipe set
// that fails its check, and says where every problem is.
func TestBadRecipesRefuseToStart(t *testing.T) {
	tests := []struct {
		name, recipe, defaultRecipe string
		want                        []string
	}{
		{name: "broken recipe", recipe: brokenRecipe, want: []string{
			`photos.yaml:5:5: output: unknown field "widht" (did you mean "width"?)`,
			`photos.yaml:8:9: output "thumb": no plugin offers the operation "thumbnale" (did you mean "thumbnail"?)`,
		}},
		{name: "unknown default recipe", recipe: testRecipe, defaultRecipe: "fallback", want: []string{
			`default_recipe "fallback": no recipe of that name`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := embedded(t)
			e.cfg.DefaultRecipe = tt.defaultRecipe
			writeRecipe(t, e, tt.recipe)
			d, err := daemon.New(t.Context(), e.cfg, e.clients, hclog.NewNullLogger())
			if err == nil {
				d.Close()
				t.Fatal("the daemon started with a bad recipe set")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// TestReloadLeavesJobsInFlightAlone swaps the recipes while a job is
// downloading its source (held up by a slow GetObject): the job finishes
// with the recipe it started with, and the next job uses the new one.
func TestReloadLeavesJobsInFlightAlone(t *testing.T) {
	faults := awslocal.NewFaults(1, awslocal.FaultRule{Service: "s3", Op: "GetObject", Rate: 1, Kind: awslocal.FaultLatency, Latency: 2 * time.Second})
	faults.SetEnabled(false)
	srv, err := awslocal.Start(t.Context(), awslocal.Options{Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := newEnv(t, srv.URL())
	e.cfg.RecipesReloadInterval = 0 // reloads come from this test only
	var logs syncBuffer
	d, _ := startDaemon(t, e, &logs)

	e.put(t, "photos/slow.jpg", samples.JPEG(640, 480, 8, 85))
	faults.SetEnabled(true)
	e.send(t, s3Notification("ObjectCreated:Put", "photos/slow.jpg"))
	deadline := time.Now().Add(20 * time.Second)
	for faults.Counts()["s3/GetObject/latency"] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the job never started its download")
		}
		time.Sleep(20 * time.Millisecond)
	}
	faults.SetEnabled(false)
	writeRecipe(t, e, editedRecipe)
	if err := d.ReloadRecipes(t.Context()); err != nil {
		t.Fatal(err)
	}
	slow := e.collect(t, 1, 30*time.Second, 0)
	if len(slow) != 1 || slow[0].Status != outbox.StatusProcessed {
		t.Fatalf("outbox %+v, want the slow job processed", slow)
	}
	if got := outputNames(slow[0]); got != "large,thumb" {
		t.Errorf("the job in flight made %s, want large,thumb (the recipe it started with)", got)
	}
	if got := outputNames(process(t, e, "photos/next.jpg")); got != "large,thumb,medium" {
		t.Errorf("the next job made %s, want large,thumb,medium", got)
	}
}
