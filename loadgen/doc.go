// Package loadgen drives a running server over real HTTP and WebSocket
// connections and measures it: throughput and latency percentiles of a
// workload, with a fixed number of clients (a closed loop) or at a fixed
// arrival rate (an open loop, timed from when each request was due, so
// that queueing shows), and the fan-out of one match update to many idle
// subscribers, with the server's memory per subscriber.
//
// It sets itself up through the API, as members would: NewFixture
// registers mentors and mentees and makes their matches, and the loads act
// as them. It sends load only to loopback addresses.
package loadgen
