// Package seed generates realistic mentoring programs: members with
// Canadian cities, engineering and geoscience disciplines, biographies,
// focus areas, rated skills, preferences and contact details; matches in
// every state; sessions over months. Everything is written through
// command.Service, so every event is decided by the program's rules and the
// log is one the server could have written.
//
// # Demo program
//
// Demo writes a small program whose accounts sign in, for trying the API
// or the frontend. The server loads it into an empty data directory; the
// CLI writes it with
//
//	mentorship seed --demo --data-dir ./data
//
// Every demo account has the password DemoPassword, "mentorship-demo-2026":
//
//	staff@demo.example.org                             loginStaff    Morgan Lee
//	auditor@demo.example.org                           loginAuditor  Jordan Blake
//	mentor01@demo.example.org … mentor12@demo.example.org  loginMentor
//	mentee01@demo.example.org … mentee10@demo.example.org  loginMentee
//
// Their matches: mentee01 completed a one-year term with mentor01 and now
// waits on mentor02, nudged by staff; mentee02 had a Graceful Exit and a
// decline and is now matched with mentor05; mentee03's match ended with
// its goals concluded, mentee04's because the mentee moved (and mentee04
// later withdrew a request), mentee05's for another reason; mentee06 and
// mentee07 are in active matches (mentee07 has not met yet and got the
// first-meeting reminder); mentee08 was declined and waits on mentor12;
// mentee09 withdrew one request and waits on another; mentee10 has not
// asked anyone yet. With a clock that cannot be set, as on a running
// server, the term, the nudge and the reminder are left out and mentee01
// stays matched with mentor01.
//
// # Simulated programs
//
// Generate simulates a large program day by day, for benchmarks and
// capacity tests:
//
//	mentorship seed --mentors 100000 --mentees 50000 --events 1000000 --seed 1
//
// The same seed and sizes give the same streams, event for event (the
// interleaving of streams in the global log varies with the number of
// workers). Simulated members have no accounts and cannot sign in; combine
// --demo with the sizes to have both.
package seed
