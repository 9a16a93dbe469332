//go:build race

package daemon_test

// raceEnabled: the race detector multiplies memory use several times.
const raceEnabled = true
