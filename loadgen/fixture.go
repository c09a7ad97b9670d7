package loadgen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// menteesPerMentor is how many of the fixture's matches one of its mentors
// takes; mentors get a capacity one higher, so that they stay available to
// requests.
const menteesPerMentor = 9

// user is an account the load generator registered.
type user struct {
	id    string
	token string
}

// pair is a mentee and a mentor in an active match.
type pair struct {
	mentee user
	mentor user
	match  string
	// date is the day the match was made, which every session of the load
	// is dated: not before the match and not after the server's today.
	date string
	// sessions counts the sessions the load logged on the match.
	sessions atomic.Int64
}

// Fixture holds the accounts and matches a load runs with. The load
// generator registers them through the API, as members would.
type Fixture struct {
	target *Target
	pairs  []*pair
	free   []user
	// mentors are the IDs of mentors taking requests, for the request
	// and cancel operations: found by a search, or the fixture's own.
	mentors []string
}

// FixtureOptions say how many accounts to create.
type FixtureOptions struct {
	// Pairs is how many mentee and mentor pairs in active matches to
	// create; mutation, mixed and subscriber loads need at least one per
	// client.
	Pairs int
	// Free is how many mentees without a match to create, for requests
	// and cancellations.
	Free int
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// NewFixture registers the accounts and makes the matches. Each account
// costs the server a password hash, so a few are created at a time.
func NewFixture(ctx context.Context, t *Target, opts FixtureOptions) (*Fixture, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	run := make([]byte, 4)
	_, _ = rand.Read(run)
	prefix := "loadgen-" + hex.EncodeToString(run)
	password := prefix + "-passphrase"
	fx := &Fixture{target: t}
	started := time.Now()

	nMentors := (opts.Pairs + menteesPerMentor - 1) / menteesPerMentor
	if opts.Free > 0 && nMentors == 0 {
		nMentors = 1
	}
	mentors := make([]user, nMentors)
	err := parallel(ctx, nMentors, func(ctx context.Context, i int) error {
		u, err := register(ctx, t, "Mentor", fmt.Sprintf("Load Mentor %d", i), fmt.Sprintf("%s-mentor-%d@loadgen.example.org", prefix, i), password)
		if err != nil {
			return err
		}
		mentors[i] = u
		return t.graphql(ctx, u.token, `mutation($in: UpdateProfileInput!) { updateProfile(input: $in) { userErrors { code message } } }`,
			map[string]any{"in": map[string]any{
				"name": fmt.Sprintf("Load Mentor %d", i), "discipline": "CIVIL", "capacity": menteesPerMentor + 1, "acceptingRequests": true,
				"biography": "Load generator mentor for pipeline integrity and geotechnical reviews.",
			}}, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("loadgen: mentors: %w", err)
	}
	for _, m := range mentors {
		fx.mentors = append(fx.mentors, m.id)
	}

	fx.pairs = make([]*pair, opts.Pairs)
	err = parallel(ctx, opts.Pairs, func(ctx context.Context, i int) error {
		mentee, err := register(ctx, t, "Mentee", fmt.Sprintf("Load Mentee %d", i), fmt.Sprintf("%s-mentee-%d@loadgen.example.org", prefix, i), password)
		if err != nil {
			return err
		}
		mentor := mentors[i/menteesPerMentor]
		var req struct {
			RequestMatch struct {
				Match struct{ ID string } `json:"match"`
			} `json:"requestMatch"`
		}
		if err := t.graphql(ctx, mentee.token, `mutation($m: ID!) { requestMatch(input: {mentorId: $m, message: "Load generator request"}) { match { id } userErrors { code message } } }`,
			map[string]any{"m": mentor.id}, &req); err != nil {
			return fmt.Errorf("request: %w", err)
		}
		var acc struct {
			AcceptMatch struct {
				Match struct{ AcceptedAt time.Time } `json:"match"`
			} `json:"acceptMatch"`
		}
		if err := t.graphql(ctx, mentor.token, `mutation($id: ID!) { acceptMatch(input: {matchId: $id}) { match { acceptedAt } userErrors { code message } } }`,
			map[string]any{"id": req.RequestMatch.Match.ID}, &acc); err != nil {
			return fmt.Errorf("accept: %w", err)
		}
		fx.pairs[i] = &pair{mentee: mentee, mentor: mentor, match: req.RequestMatch.Match.ID, date: acc.AcceptMatch.Match.AcceptedAt.UTC().Format(time.DateOnly)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loadgen: matches: %w", err)
	}

	fx.free = make([]user, opts.Free)
	err = parallel(ctx, opts.Free, func(ctx context.Context, i int) error {
		u, err := register(ctx, t, "Mentee", fmt.Sprintf("Load Free Mentee %d", i), fmt.Sprintf("%s-free-%d@loadgen.example.org", prefix, i), password)
		fx.free[i] = u
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("loadgen: free mentees: %w", err)
	}
	if opts.Free > 0 {
		if err := fx.findMentors(ctx, fx.free[0]); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(opts.Log, "registered %d mentors, %d matched mentees and %d free mentees in %v\n",
		nMentors, opts.Pairs, opts.Free, time.Since(started).Round(time.Millisecond))
	return fx, nil
}

// findMentors collects mentors who take requests, seeded ones first.
func (fx *Fixture) findMentors(ctx context.Context, as user) error {
	var res struct {
		SearchMentors struct {
			Edges []struct {
				Node struct{ ID string } `json:"node"`
			} `json:"edges"`
		} `json:"searchMentors"`
	}
	if err := fx.target.graphql(ctx, as.token, `{ searchMentors(input: {onlyAvailable: true}, first: 100) { edges { node { id } } } }`, nil, &res); err != nil {
		return fmt.Errorf("loadgen: finding mentors: %w", err)
	}
	var found []string
	for _, e := range res.SearchMentors.Edges {
		found = append(found, e.Node.ID)
	}
	fx.mentors = append(found, fx.mentors...)
	return nil
}

// register creates a mentee or mentor account; kind is "Mentee" or
// "Mentor".
func register(ctx context.Context, t *Target, kind, name, email, password string) (user, error) {
	var res map[string]struct {
		Token  string `json:"token"`
		Viewer struct {
			ID string `json:"id"`
		} `json:"viewer"`
	}
	err := t.graphql(ctx, "", `mutation($in: RegisterInput!) { register`+kind+`(input: $in) { token viewer { id } userErrors { code message } } }`,
		map[string]any{"in": map[string]any{"name": name, "email": email, "password": password}}, &res)
	if err != nil {
		return user{}, fmt.Errorf("register %s: %w", email, err)
	}
	p := res["register"+kind]
	if p.Token == "" {
		return user{}, fmt.Errorf("register %s: no token", email)
	}
	return user{id: p.Viewer.ID, token: p.Token}, nil
}

// parallel runs fn for 0..n-1, four at a time, and returns the first error.
func parallel(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, n)
	sem := make(chan struct{}, 4)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			if errs[i] = fn(ctx, i); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}
