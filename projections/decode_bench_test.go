package projections_test

import (
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bytedance/sonic"
	jsonv2 "github.com/go-json-experiment/json"

	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/follow"
)

// decodeMix is the stored form of the first 100,000 events of the
// benchmark workload: the mix of types a rebuild reads.
var decodeMix = sync.OnceValues(func() ([]eventstore.EventData, error) {
	var out []eventstore.EventData
	err := generate(workload{Mentors: 2_500, Mentees: 7_500, Events: 100_000, Shards: 1, Seed: 1},
		func(_ string, _ eventstore.ExpectedRevision, events ...eventstore.EventData) error {
			out = append(out, events...)
			return nil
		})
	return out, err
})

// processCPU returns the CPU time the process has used so far. Beside the
// wall time it shows the work done when other processes share the cores.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// unmarshalDecoder decodes through a generic unmarshal function into a
// new value of the domain's type for the event's name.
func unmarshalDecoder(unmarshal func([]byte, any) error) func(typ string, version int, data []byte) (domain.Event, error) {
	return func(typ string, _ int, data []byte) (domain.Event, error) {
		zero, ok := domain.ZeroEvent(typ)
		if !ok {
			return nil, domain.ErrUnknownEventType
		}
		p := reflect.New(reflect.TypeOf(zero))
		if err := unmarshal(data, p.Interface()); err != nil {
			return nil, err
		}
		return p.Elem().Interface().(domain.Event), nil
	}
}

// BenchmarkDecode decodes a realistic mix of stored events with the
// hand-written decoder (falling back to domain.Decode where it gives up, as
// the runner does), with encoding/json (domain.Decode), with json v2 and
// with sonic, each into the domain's event types.
func BenchmarkDecode(b *testing.B) {
	events, err := decodeMix()
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range []struct {
		name   string
		decode func(typ string, version int, data []byte) (domain.Event, error)
	}{
		{"baseline=encoding-json", domain.Decode},
		{"hand", func(typ string, version int, data []byte) (domain.Event, error) {
			if e, ok := follow.FastDecode(typ, version, data); ok {
				return e, nil
			}
			return domain.Decode(typ, version, data)
		}},
		{"json-v2", unmarshalDecoder(func(b []byte, v any) error { return jsonv2.Unmarshal(b, v) })},
		{"sonic", unmarshalDecoder(sonic.Unmarshal)},
	} {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU(b)
			i := 0
			for b.Loop() {
				e := &events[i%len(events)]
				if _, err := d.decode(e.Type, e.SchemaVersion, e.Data); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/event")
		})
	}
}

// The decoders measured above agree with domain.Decode on the whole mix,
// so that the figures compare the same work.
func TestBenchmarkDecodersAgree(t *testing.T) {
	events, err := decodeMix()
	if err != nil {
		t.Fatal(err)
	}
	v2 := unmarshalDecoder(func(b []byte, v any) error { return jsonv2.Unmarshal(b, v) })
	so := unmarshalDecoder(sonic.Unmarshal)
	for i, ev := range events[:20_000] {
		want, err := domain.Decode(ev.Type, ev.SchemaVersion, ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		for name, dec := range map[string]func(string, int, []byte) (domain.Event, error){"json-v2": v2, "sonic": so} {
			got, err := dec(ev.Type, ev.SchemaVersion, ev.Data)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("event %d (%s): %s gives %#v, %v; want %#v", i, ev.Type, name, got, err, want)
			}
		}
		if got, ok := follow.FastDecode(ev.Type, ev.SchemaVersion, ev.Data); ok && !reflect.DeepEqual(got, want) {
			t.Fatalf("event %d (%s): the hand decoder gives %#v; want %#v", i, ev.Type, got, want)
		}
	}
}
