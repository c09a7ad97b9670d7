// Package notify sends the program's emails through an outbox. A Notifier
// follows the event log in order and derives each email from one event:
// the new request to the mentor, the answer to the mentee, the response
// window, nudges, the match introduction with both partners' preferred
// contact information (the only email that carries it), the first-meeting
// reminder, the end of a match and the profile review prompt. Names and
// addresses come from a directory fed by the same events, so an email
// says what was true when its event happened. The outbox file also saves
// that directory with the last event it reflects, so that a restart loads
// it and reads only the events after that one instead of the whole log.
//
// Each email's ID derives from its event, its kind and its recipient. It
// is the outbox's idempotency key and the local part of the Message-ID:
// the outbox (an OutboxStore: a bbolt file, outbox.db, in the data
// directory, or notify/redis, shared by instances that run the notifier in
// turn under a fenced lease) keeps every ID it has taken, so a restart, a
// replay of the log or a rebuilt read model composes nothing twice. Each
// email is claimed in the outbox just before it is sent, so a notifier
// that lost its lease sends nothing. Delivery is at least once: an email
// stays pending until the mail.Sender accepts it, with exponential backoff
// while the relay is down, and staff see each match's emails with
// ForMatch. An attempt cut short between the relay's acceptance and its
// record is made again with the same Message-ID, which the receiving side
// can drop.
//
// Subjects and bodies, plain text and HTML, come from the embedded
// templates in templates/: layout.txt and layout.html frame every email,
// and each kind has a .txt file defining "subject" and "body" and an .html
// file defining "body".
//
// Password reset emails, which the accounts service asks for, take
// another path: Resets renders them from password-reset.txt and .html
// and retries them with the same doubling backoff, but keeps them in
// memory only, until the relay accepts them or their link expires,
// because they carry a live token that the outbox file would keep on
// disk.
package notify
