// Package ceilings measures what the machine can do at best — sequential
// disk writes made durable, TCP over loopback — so the benchmarks can print
// their figures as fractions of it.
package ceilings
