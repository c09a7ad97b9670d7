package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// RawFanOut is the fan-out's baseline: a trivial WebSocket server in this
// process, with a goroutine and a small queue per connection as the real
// hub has, sends one short message to n connected clients, timed the way
// Subscribers times the real server (from the send to each arrival). What
// it measures is what the machine, the WebSocket library and the loopback
// network cost without GraphQL or the program. Both ends live in this
// process, so each subscriber takes two descriptors and n is lowered to
// what the open-files limit allows.
func RawFanOut(ctx context.Context, n, updates int) (SubscriberResult, error) {
	if updates <= 0 {
		updates = 20
	}
	half, note := fdBudget(2 * n)
	if half < 2*n {
		n = max(half/2, 1)
		note = fmt.Sprintf("%d subscribers held: both ends of each are in this process and the open-files limit allows that many", n)
	}
	res := SubscriberResult{Note: note}
	b := &broadcaster{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		b.closeAll()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()

	// One more message than timed: the first shows every client is live.
	url := "ws://" + ln.Addr().String() + "/"
	subs, err := rawClients(ctx, url, n, updates+1)
	defer func() {
		for _, s := range subs {
			s.conn.CloseNow()
		}
	}()
	if err != nil {
		return res, err
	}
	for b.count() < len(subs) {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		time.Sleep(time.Millisecond)
	}
	res.Subscribers = len(subs)
	b.send([]byte("0"))
	if live := waitAll(ctx, subs, 0, time.Now(), 30*time.Second); len(live) < len(subs) {
		res.Failed = len(subs) - len(live)
		subs = live
	}
	err = timeUpdates(ctx, &res, subs, 1, updates, 10*time.Second, func(u int) error {
		b.send([]byte(strconv.Itoa(u)))
		return nil
	})
	return res, err
}

// broadcaster is the baseline's server: every connection gets each message
// through its own queue and goroutine.
type broadcaster struct {
	mu    sync.Mutex
	conns []chan []byte
}

func (b *broadcaster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx := conn.CloseRead(r.Context())
	q := make(chan []byte, 16)
	b.mu.Lock()
	b.conns = append(b.conns, q)
	b.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-q:
			if !ok {
				return
			}
			if err := conn.Write(ctx, websocket.MessageText, msg); err != nil {
				return
			}
		}
	}
}

func (b *broadcaster) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.conns)
}

// send queues msg for every connection, dropping it for a full queue as
// the real hub drops slow subscribers.
func (b *broadcaster) send(msg []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, q := range b.conns {
		select {
		case q <- msg:
		default:
		}
	}
}

func (b *broadcaster) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, q := range b.conns {
		close(q)
	}
	b.conns = nil
}

// rawClients connects n clients; each records when message k arrives in
// got[k].
func rawClients(ctx context.Context, url string, n, messages int) ([]*subscriber, error) {
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	return connectMany(n, "raw clients", func() (*subscriber, error) {
		dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(dialCtx, url, &websocket.DialOptions{HTTPClient: hc})
		if err != nil {
			return nil, err
		}
		s := &subscriber{conn: conn, got: make([]atomic.Int64, messages)}
		go func() {
			for {
				_, b, err := conn.Read(context.WithoutCancel(ctx))
				if err != nil {
					return
				}
				now := time.Now().UnixNano()
				if k, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && k >= 0 && k < messages {
					s.got[k].Store(now)
				}
			}
		}()
		return s, nil
	})
}
