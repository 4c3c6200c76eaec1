package main

import (
	"strings"
	"unicode"
)

// corpus is the text the generator draws lines from, written for this
// example.
var corpus = []string{
	"A river never stops to count its water, yet every eddy remembers a little of it.",
	"The log keeps every record in order, and the order is the truth of the log.",
	"A stream is a table in motion; a table is a stream at rest.",
	"Count the words, group the words, and the words will tell you what the text is about.",
	"Every partition is a small river with its own current and its own time.",
	"When the machine stops, the changelog remembers what the store forgot.",
	"Windows open and close with the time of the events, not the time of the clock.",
	"A late record is still a record; it deserves a handler, not silence.",
	"The broker writes the batch, syncs the file, and only then says yes.",
	"Keys decide where records go, and records with one key meet in one task.",
	"Caches fold many updates of a key into one, and the commit sends it on.",
	"The same input, read again, gives the same counts: that is the promise.",
	"Small tables fit in memory; large tables live on disk and come back after a crash.",
	"An eddy turns in place while the river runs past it, and so does a stream processor.",
	"Read the topic, map the values, filter the noise, and write what remains.",
	"Time moves forward in every task, one record at a time, never backwards.",
}

// words splits a line into lower-case words: runs of letters, digits and
// apostrophes.
func words(line string) []string {
	return strings.FieldsFunc(strings.ToLower(line), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}
