//go:build !race

package spam

// raceEnabled lets corpus tests shrink their sample under -race, where
// the detector makes each message several times slower.
const raceEnabled = false
