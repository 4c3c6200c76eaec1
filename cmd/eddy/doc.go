// Command eddy is eddy's command-line tool: it runs the embedded broker and
// small demonstrations of the storage underneath.
package main
