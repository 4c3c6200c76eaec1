package wire

// registerAdminAPIs registers the embedded broker's handlers for this group of APIs.
// Work in progress: filled in as the handlers are written.
func registerAdminAPIs(reg *Registry, h *brokerHandlers) error {
	return nil
}
