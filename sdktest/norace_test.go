//go:build !race

package sdktest

// raceEnabled says the tests run with the race detector, so that programs
// they build use the same build cache.
const raceEnabled = false
