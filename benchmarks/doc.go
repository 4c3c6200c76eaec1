// Package benchmarks holds eddy's benchmark programs. Each prints its
// figures next to the ceilings of the same machine measured in the same run
// (disk bandwidth, loopback, peers), because absolute numbers on shared
// machines mean little; ratios do. `make bench` runs them. Nothing here is
// imported by eddy itself.
package benchmarks
