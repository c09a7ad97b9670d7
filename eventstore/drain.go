package eventstore

// Drain returns first followed by whatever else the subscription has
// already delivered, up to max events in all, without waiting. Consumers
// use it to apply many events per lock or transaction.
func Drain(sub Subscription, first RecordedEvent, max int) []RecordedEvent {
	batch := append(make([]RecordedEvent, 0, 16), first)
	for len(batch) < max {
		select {
		case rec, ok := <-sub.Events():
			if !ok {
				return batch
			}
			batch = append(batch, rec)
		default:
			return batch
		}
	}
	return batch
}
