// Package domain holds the rules of the mentoring program as pure
// functions, in the decider style: each aggregate's state is folded from its
// events by an Evolve function (EvolveMember, EvolveMatch, EvolveResource),
// and a Decide function (DecideMember, DecideMatch, DecideResource) turns a
// command and the current state into new events or a refusal, a
// *refusal.Error with a stable code. Nothing here reads the clock, draws
// random numbers or touches storage: time and IDs arrive in commands, and
// the command side loads a stream, decides, and appends the decided events
// to that one stream with the exact revision it loaded.
//
// # Streams
//
// A match stream (MatchStream) holds the lifecycle of one match: request,
// accept, decline, cancel, nudges, the time marks of the process managers,
// the end, sessions and documents. Two commands racing on one match (an
// accept and a cancel) are settled by the stream's revision: the loser
// reloads, decides again and is refused with MATCH_NOT_PENDING or
// TERMINAL_STATE.
//
// A member stream (MemberStream) holds an account, its profile, a mentor's
// capacity and switch, and the slots that enforce the limits spanning
// several matches: a mentee's pending and active matches, a mentor's
// capacity. Slots are taken on the member stream before the match stream
// records the request or the acceptance, and every slot counts as taken
// until the match releases it, so the limits are conservative and hold under
// any interleaving.
//
// # Two-step commands
//
// Requesting a match:
//
//  1. DecideMember(p, mentee, ReserveRequestSlot{Request: req, Mentor: mentor})
//     on the mentee's stream, with the mentor's state loaded from the
//     mentor's stream; append RequestSlotTaken.
//  2. DecideMatch(p, Match{}, req) on the new match stream; append
//     MatchRequested expecting no stream.
//
// Accepting a match:
//
//  1. DecideMember(p, mentor, ReserveCapacitySlot{Accept: acc, Match: match})
//     on the mentor's stream; append CapacitySlotReserved (or nothing when
//     the slot is already held).
//  2. DecideMatch(p, match, acc) on the match stream; append MatchAccepted
//     expecting the revision at which match was loaded. When it is refused,
//     decide SyncSlot on the mentor's stream, which releases the slot once
//     the match is over.
//
// After every match event, a process manager decides SyncSlot on both
// partners' streams: a mentee's pending slot becomes active once the match
// is accepted, and slots are released once the match is declined, cancelled
// or ended. SyncSlot is idempotent and never releases a slot that an active
// or pending match holds, so it is safe to run at any time and again after a
// crash. A crash between the two steps leaves a slot without its match
// event; RequestSlotTaken and CapacitySlotReserved carry what a process
// manager needs to finish the second step.
//
// Repeating the command that produced the current state (accepting an
// active match, cancelling a cancelled one, registering the same account)
// decides no events and no error, so retried and double-submitted commands
// succeed without duplicating anything. EventID derives event IDs from a
// command's cause for the same purpose at the store.
package domain
