package redis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/projections"
)

// A commit groups its writes into one variadic command per key and kind.
// Over many random sequences of writes, some spanning more values than
// one script call takes, the grouped commit leaves Redis exactly as the
// same writes sent one command at a time, in order.
func TestGroupedCommitEqualsOneByOne(t *testing.T) {
	c, ns := redistest.Client(t)
	ctx := context.Background()
	rm := New(c, Options{Prefix: ns, Logger: zerolog.Nop()})
	p := &rm.Members.base
	tok, ok := acquire(t, rm, rm.Members)
	if !ok {
		t.Fatal("lease held")
	}
	r := rand.New(rand.NewPCG(7, 7))
	var pos eventstore.Position
	for round := range 40 {
		o := newOps(p)
		var want []func()
		// The expected state is written under keys of another prefix,
		// one plain command at a time.
		ref := func(k string) string { return ns + ":ref:" + k }
		n := 1 + r.IntN(60)
		if round%10 == 9 {
			n = 9000 // beyond one script call's 4,000 values
		}
		for range n {
			k := strconv.Itoa(r.IntN(4))
			v := strconv.Itoa(r.IntN(12))
			if n > 1000 {
				v = strconv.Itoa(r.IntN(20000))
			}
			switch r.IntN(4) {
			case 0:
				val := fmt.Sprint(r.IntN(1000))
				o.hset(p.key("h", k), v, []byte(val))
				want = append(want, func() { c.HSet(ctx, ref("h:"+k), v, val) })
			case 1:
				o.sadd(p.key("s", k), v)
				want = append(want, func() { c.SAdd(ctx, ref("s:"+k), v) })
			case 2:
				o.srem(p.key("s", k), v)
				want = append(want, func() { c.SRem(ctx, ref("s:"+k), v) })
			case 3:
				o.rpush(p.key("p", k), v)
				want = append(want, func() { c.RPush(ctx, ref("p:"+k), v) })
			}
		}
		for _, w := range want {
			w()
		}
		next := projections.Event{Position: pos + 1, ID: uuid.New()}
		if err := o.run(ctx, p, tok, pos, next); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		pos = next.Position
		for i := range 4 {
			k := strconv.Itoa(i)
			gotH, _ := c.HGetAll(ctx, p.key("h", k)).Result()
			wantH, _ := c.HGetAll(ctx, ref("h:"+k)).Result()
			gotS, _ := c.SMembers(ctx, p.key("s", k)).Result()
			wantS, _ := c.SMembers(ctx, ref("s:"+k)).Result()
			slices.Sort(gotS)
			slices.Sort(wantS)
			gotL, _ := c.LRange(ctx, p.key("p", k), 0, -1).Result()
			wantL, _ := c.LRange(ctx, ref("p:"+k), 0, -1).Result()
			for _, d := range []string{cmp.Diff(wantH, gotH), cmp.Diff(wantS, gotS), cmp.Diff(wantL, gotL)} {
				if d != "" {
					t.Fatalf("round %d, key %s (-one by one +grouped):\n%s", round, k, d)
				}
			}
		}
	}
}
