// Package soak holds long-running crash tests that use real processes:
// a child process writes with acknowledgements and is killed with SIGKILL
// at a random moment, and the parent checks that nothing acknowledged was
// lost. `make test` runs a few cycles; `make soak` runs many
// (EDDY_SOAK_CYCLES). It is test code only: nothing here is imported.
package soak
