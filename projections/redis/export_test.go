package redis

// Key returns the key of one of a projection's parts under prefix, for
// tests that read or damage what is stored.
func Key(prefix, projection string, parts ...string) string {
	rm := &ReadModels{opts: Options{Prefix: prefix}}
	var b base
	switch projection {
	case "members":
		b.init(rm, projection, membersLayout)
	default:
		b.init(rm, projection, matchesLayout)
	}
	return b.key(parts...)
}
