package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/wire"
)

// runBrokerChild serves the embedded broker until SIGINT, printing
// "listening ADDR" once ready.
func runBrokerChild(dir, addr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := broker.Open(broker.Config{Dir: dir, Logger: logger})
	if err != nil {
		return err
	}
	defer b.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	host, port, err := wire.SplitHostPort(ln.Addr().String())
	if err != nil {
		return err
	}
	srv, err := wire.NewBrokerServer(wire.BrokerConfig{Broker: b, AdvertisedHost: host, AdvertisedPort: port, Logger: logger})
	if err != nil {
		return err
	}
	go srv.Serve(ln)
	fmt.Printf("listening %s\n", ln.Addr())
	<-ctx.Done()
	return srv.Close()
}
