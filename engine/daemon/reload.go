package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/seed62486500/resizer/engine/recipe"
)

// reloader is the daemon's recipe reload state.
type reloader struct {
	mu   sync.Mutex // one reload at a time
	last string     // fingerprint of the files last loaded or tried

	ok, failed atomic.Int64
}

// ReloadRecipes loads and checks the recipes again and, if the new set is
// valid, swaps it in: jobs that start from now on use it, jobs in flight
// finish with the recipe they started with. An invalid set is kept out:
// the error is logged and counted, and the previous set stays in use.
func (d *Daemon) ReloadRecipes(ctx context.Context) error {
	d.recipes.mu.Lock()
	defer d.recipes.mu.Unlock()
	return d.reloadLocked(ctx)
}

func (d *Daemon) reloadLocked(ctx context.Context) error {
	log := d.log.Named("recipes")
	d.recipes.last, _ = recipesFingerprint(d.cfg.RecipesDir)
	set, err := LoadRecipes(ctx, d.cfg, d.host)
	if err != nil {
		n := d.recipes.failed.Add(1)
		log.Error("recipes not reloaded; the previous set stays in use", "dir", d.cfg.RecipesDir, "refused_reloads", n, "error", err)
		return err
	}
	d.pipeline.SetRecipes(set)
	n := d.recipes.ok.Add(1)
	for _, r := range set.Recipes() {
		log.Info("recipe loaded", "recipe", r.Name, "file", r.File, "digest", r.Digest(), "outputs", len(r.Outputs))
	}
	log.Info("recipes reloaded", "dir", d.cfg.RecipesDir, "recipes", len(set.Recipes()), "reloads", n)
	return nil
}

// RecipeReloads counts the reloads since start: swapped in, and refused
// (for metrics; the log lines carry the same counts).
func (d *Daemon) RecipeReloads() (ok, failed int64) {
	return d.recipes.ok.Load(), d.recipes.failed.Load()
}

// watchRecipes reloads on SIGHUP, and when the recipe files change (looked
// for every recipes_reload_interval), until ctx ends.
func (d *Daemon) watchRecipes(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	var seen string // the fingerprint at the last tick
	if every := time.Duration(d.cfg.RecipesReloadInterval); every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			d.log.Named("recipes").Info("SIGHUP: reloading recipes")
			d.ReloadRecipes(ctx)
		case <-tick:
			// A change is loaded once the files have stayed the same for a
			// whole interval: an editor or a deploy that writes in several
			// steps is not caught half-way (an empty or cut-off file would
			// be refused and logged for nothing).
			fp, _ := recipesFingerprint(d.cfg.RecipesDir)
			settled := fp == seen
			seen = fp
			d.recipes.mu.Lock()
			if settled && fp != d.recipes.last {
				d.log.Named("recipes").Info("recipe files changed: reloading")
				d.reloadLocked(ctx)
			}
			d.recipes.mu.Unlock()
		}
	}
}

// recipesFingerprint is a hash of the names and contents of the recipe
// files of dir, so that an edit is seen whatever it does to mtimes.
func recipesFingerprint(dir string) (string, error) {
	files, err := recipe.Files(dir)
	if err != nil {
		return "error: " + err.Error(), err
	}
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "error: " + err.Error(), err
		}
		sum := sha256.Sum256(data)
		h.Write([]byte(filepath.Base(f) + "\x00"))
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
