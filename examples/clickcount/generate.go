package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/examples/internal/demo"
)

// Click is one page view, as the website's front end reports it.
type Click struct {
	User   string `json:"user"`
	Page   string `json:"page"`
	Device string `json:"device"` // "mobile", "desktop" or "tablet"
}

// startTime is the event time of the first generated click (2025-01-01
// UTC); clicks follow each other by a millisecond, so runs are repeatable.
const startTime = 1_735_689_600_000

// pageName names page i: a few fixed pages, then products. Page 0 is the
// most visited (the generator draws pages from a Zipf distribution).
func pageName(i int) string {
	fixed := []string{"/", "/search", "/cart", "/checkout", "/deals", "/account"}
	if i < len(fixed) {
		return fixed[i]
	}
	return fmt.Sprintf("/product/%04d", i-len(fixed))
}

// generate writes n clicks drawn with a fixed seed into the clicks topic,
// spreading users over its partitions, and returns how many mobile clicks
// each page received.
func generate(ctx context.Context, client broker.Client, n int, seed uint64, pages, users int) (map[string]int64, error) {
	w, err := demo.NewWriter(ctx, client, clicksTopic)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	zipf := rand.NewZipf(rng, 1.2, 4, uint64(pages-1))
	mobile := map[string]int64{}
	for i := range n {
		u := rng.IntN(users)
		c := Click{User: fmt.Sprintf("user-%05d", u), Page: pageName(int(zipf.Uint64()))}
		switch d := rng.IntN(10); {
		case d < 6:
			c.Device = "mobile"
		case d < 9:
			c.Device = "desktop"
		default:
			c.Device = "tablet"
		}
		value, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("clickcount: encode click: %w", err)
		}
		if err := w.Add(int32(u%int(w.Partitions())), []byte(c.User), value, startTime+int64(i)); err != nil {
			return nil, err
		}
		if c.Device == "mobile" {
			mobile[c.Page]++
		}
	}
	return mobile, w.Flush()
}

// countExisting counts the mobile clicks per page already in the clicks
// topic, written by earlier runs.
func countExisting(ctx context.Context, client broker.Client) (map[string]int64, int64, error) {
	mobile := map[string]int64{}
	var total int64
	err := demo.ForEachRecord(ctx, client, clicksTopic, func(p int32, r batch.Record) error {
		var c Click
		if err := json.Unmarshal(r.Value, &c); err != nil {
			return fmt.Errorf("clickcount: %s-%d at %d: %w", clicksTopic, p, r.Offset, err)
		}
		total++
		if c.Device == "mobile" {
			mobile[c.Page]++
		}
		return nil
	})
	return mobile, total, err
}
