package wire

// registerGroupAPIs registers the embedded broker's handlers for this group of APIs.
// Work in progress: filled in as the handlers are written.
func registerGroupAPIs(reg *Registry, h *brokerHandlers) error {
	return nil
}
