package wire

// registerDataAPIs registers the embedded broker's handlers for this group of APIs.
// Work in progress: filled in as the handlers are written.
func registerDataAPIs(reg *Registry, h *brokerHandlers) error {
	return nil
}
