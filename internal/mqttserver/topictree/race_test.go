//go:build race

package topictree

const raceEnabled = true
