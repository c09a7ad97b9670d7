package auth

// cheapParams hash in microseconds. Tests that do not measure the cost of
// hashing use them; the production settings have their own tests.
var cheapParams = Params{Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}

// WithCheapHashing returns o with argon2id settings far below production,
// which New otherwise refuses.
func WithCheapHashing(o Options) Options {
	o.Params = cheapParams
	o.anyParams = true
	return o
}

// HashPassword exposes the hashing of stored passwords to the tests.
func HashPassword(p Params, password string) string { return hashPassword(p, password) }

// CheapParams returns the settings of WithCheapHashing.
func CheapParams() Params { return cheapParams }

// Watchers counts the live contexts Watch handed out.
func (s *Service) Watchers() int {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	n := 0
	for _, ws := range s.hub.bySession {
		n += len(ws)
	}
	return n
}
