//go:build race

package spam

const raceEnabled = true
