// Package dsl is the typed machinery shared by eddy's DSL packages (stream,
// table, window): typed streams that know their serdes, per-task builders of
// typed processor chains, and the sources, sinks and repartition steps that
// connect them to the untyped topology the engine runs.
//
// Users never see it: stream.Stream, table.Table and window's types wrap
// its values. It exists so that those packages can share generic internals
// across package boundaries without exporting them to users.
package dsl
