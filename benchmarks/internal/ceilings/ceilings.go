package ceilings

import (
	"io"
	"net"
	"os"
	"time"
)

// DiskBandwidth writes volume bytes to path in 1 MiB writes, fdatasyncs
// once, removes the file and returns bytes per second.
func DiskBandwidth(path string, volume int64) (float64, error) {
	defer os.Remove(path)
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 13)
	}
	start := time.Now()
	for n := int64(0); n < volume; n += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return float64(volume) / time.Since(start).Seconds(), nil
}

// LoopbackBandwidth sends n bytes through a TCP connection on 127.0.0.1
// and returns bytes per second.
func LoopbackBandwidth(n int64) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	got := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		_, err = io.Copy(io.Discard, c)
		got <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 1<<20)
	start := time.Now()
	for sent := int64(0); sent < n; sent += int64(len(buf)) {
		if _, err := c.Write(buf); err != nil {
			return 0, err
		}
	}
	c.Close()
	if err := <-got; err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
