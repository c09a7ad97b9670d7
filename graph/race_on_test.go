//go:build race

package graph_test

// raceEnabled tells the tests that time CPU work that the race detector
// slows them.
const raceEnabled = true
