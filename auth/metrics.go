package auth

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mentorship/mentorship/refusal"
)

// The limits whose refusals the metrics count, as their limit label.
const (
	// LimitSignIn covers guesses of a password: sign-ins and the current
	// password of a password change.
	LimitSignIn = "sign_in"
	// LimitPasswordReset covers password reset requests.
	LimitPasswordReset = "password_reset"
	// LimitSignUp covers sign-ups from one address.
	LimitSignUp = "sign_up"
)

func newRefusals() *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mentorship_rate_limited_total",
		Help: "Requests refused by a rate limit, by limit (sign_in, password_reset, sign_up, subscriptions).",
	}, []string{"limit"})
	for _, l := range []string{LimitSignIn, LimitPasswordReset, LimitSignUp} {
		v.WithLabelValues(l)
	}
	return v
}

// limited counts err against limit when it is a rate-limit refusal, and
// returns it.
func (s *Service) limited(limit string, err error) error {
	var e *refusal.Error
	if errors.As(err, &e) && e.Code == CodeRateLimited {
		s.refusals.WithLabelValues(limit).Inc()
	}
	return err
}

// RateLimited returns the counter of rate-limit refusals by limit, to
// register once and to count other limits' refusals in.
func (s *Service) RateLimited() *prometheus.CounterVec { return s.refusals }
