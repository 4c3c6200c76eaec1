// Package nexmark is the Nexmark benchmark for eddy: a generator of the
// auction site's Person, Auction and Bid events, a writer that puts them
// into the broker, and the Nexmark queries written in eddy's DSL, each with
// a reference computed directly from the events to check it against.
//
// # Events
//
// The generator follows the Nexmark generators of Apache Beam and Flink
// (nexmark-flink), with their defaults:
//
//   - Events come in cycles of 50 by event id: 1 person, then 3 auctions,
//     then 46 bids (Proportions). Persons and auctions are numbered from
//     1000 in creation order, so an event's id alone decides its kind and
//     the id of the entity it creates.
//   - A bid is on the hot auction — the first of the latest batch of 100
//     auctions — with probability 1 - 1/2, otherwise on one of the 100
//     latest auctions or the 10 not created yet. An auction's seller is the
//     hot seller (first person of the latest batch of 100) with probability
//     1 - 1/4, a bid's bidder the hot bidder (the second) with probability
//     1 - 1/4, otherwise one of the 1,000 latest persons or the 10 next
//     (HotRatios, ActivePeople, InFlightAuctions). References to an entity
//     not created yet are part of the design: joins must wait for it.
//   - Prices are in cents, log-uniform from $1 to $1,000,000; an auction's
//     reserve is its initial bid plus another such price. Categories are
//     10 to 14; states AZ, CA, ID, OR, WA, WY and ten cities; names,
//     e-mails, item names and descriptions random letters.
//   - Half of the bids come through one of four hot channels (Google,
//     Facebook, Baidu, Apple), each with its URL, the others through
//     "channel-N" for N below 10,000, whose URL carries channel_id=N's bit
//     reversal nine times in ten.
//   - Each event is padded by its Extra field to 200 (person), 500
//     (auction) or 100 (bid) bytes on average (AverageSizes).
//   - Event n happens n/rate seconds after the base time (EventRate,
//     BaseTime; 10,000 events/s from 2024-01-01 UTC by default). An auction
//     expires after a uniform draw from 1 ms to twice the event time in
//     which 100 more auctions are created.
//
// Two options make the stream out of order, as real sources are: events
// are shuffled within consecutive groups (OutOfOrderGroup: the event in
// position p takes the id and timestamp of event p - p%n + (p*953)%n), and
// a fraction of them is held back by a random delay (DelayedEvents) while
// keeping its timestamp. MaxLateness bounds the resulting lateness.
//
// Generation is deterministic: each event's fields come from a random
// stream seeded by the seed and the event's id, its delay from one seeded
// by the seed and its position, so the same Seed and options give the same
// events in the same order, and an event does not depend on the ones
// before it. The differences from the reference generators are on purpose:
// the base time is fixed rather than the wall clock; channel URLs derive
// from the seed rather than from an unseeded random source; bidders are
// offset by 1000 once, not twice as in nexmark-flink; the rate is constant
// (no sine or square rate shapes); and the random streams are Go's PCG, not
// java.util.Random, so the events are not byte-identical to theirs.
//
// # Topics
//
// Writer puts persons in nexmark-person keyed by id, auctions in
// nexmark-auction keyed by id and bids in nexmark-bid keyed by auction:
// int64 keys (8 bytes big endian) placed by Kafka's default partitioner,
// values in a compact binary encoding (PersonSerde, AuctionSerde,
// BidSerde: JSON cost q0 three quarters of its time), event time as the
// record timestamp. One topic per kind,
// rather than Flink's single topic of tagged events, so that each query
// reads only what it needs and every record's type follows from its topic.
// cmd/nexmark-gen writes them into an embedded broker's directory.
//
// # Queries
//
// Queries lists the queries implemented, after Flink's SQL versions where
// Beam's and Flink's differ:
//
//   - q0, pass-through: every bid read, decoded, encoded and written, as
//     Flink's q0.sql selects it (auction, bidder, price, dateTime, extra:
//     BidRow, read skipping the channel and url).
//   - q1, currency conversion: bid prices times 0.89 (Beam's rate).
//   - q2, selection: bids on auctions whose id is a multiple of 123.
//   - q3, local item suggestion: auctions of category 10 by sellers from
//     OR, ID or CA, with the seller's name, city and state — a foreign-key
//     join of the auction table on the person table, unwindowed.
//   - q4, average price per category: each auction's highest bid made
//     between its opening and its expiry, averaged per category, kept up
//     to date as bids arrive (a custom processor that holds bids arriving
//     before their auction, then a table per category).
//   - q5, hot items: per window of 10 s starting every 2 s, the auctions
//     with the most bids.
//   - q7, highest bid: per tumbling window of 10 s, the highest bid.
//   - q8, monitor new users: persons who opened an auction in the
//     tumbling window of 10 s in which they joined, written in binary
//     (NewUserSerde): a window in ten makes an output record. It reads
//     the auctions as Listings, skipping their text, as a columnar source
//     reads only the columns a query projects.
//
// q6 (average selling price by seller) is not implemented: it needs the
// closed-auction state of q4's Beam version and a per-seller window of the
// last 10 auctions.
//
// Each query builds onto a topology through Sources, which reads each
// topic at most once, and writes its results to a topic keyed by an int64;
// Check compares those records with the query's reference (RefQ0 ...
// RefQ8), computed directly from the events. The windowed queries (q5, q7,
// q8) send each window's result once it has closed (window.EmitFinal): a
// window closes when its operator's time passes its end plus
// Params.Grace, and the records arriving after that are late and left
// out. Run runs a query over the events already stored, waits until every
// stage has processed everything, closes the last windows by moving the
// app's clock, and measures it; the bench program runs each query so.
//
// It is not a load generator paced by the wall clock (it produces events
// as fast as they are asked for), nor part of eddy's library: nothing in
// eddy imports it.
package nexmark
