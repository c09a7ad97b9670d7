package projections

import (
	"errors"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/uuid"
)

// The search index is saved with the members rather than built again from
// their profiles on load: splitting every biography into words and filling
// the postings was most of the cost of loading the members, whereas the
// postings read back as they were written. The index is saved whole, with
// its mentor numbers, so that a loaded index is the one that was saved.

// encodeIndex writes the index: the mentors by number, then each term
// with its postings, by term number, then the sets of every mentor and of
// the open ones.
func encodeIndex(e *snapEncoder, ix *frozenIndex) {
	e.uvarint(uint64(len(ix.docs)))
	for _, id := range ix.docs {
		e.uuid(id)
	}
	e.uvarint(uint64(len(ix.posts)))
	for t, b := range ix.posts {
		e.str(ix.names[t])
		encodeBitmap(e, b)
	}
	encodeBitmap(e, ix.all)
	encodeBitmap(e, ix.open)
}

func encodeBitmap(e *snapEncoder, b *roaring.Bitmap) {
	buf, err := b.ToBytes()
	if err != nil && e.err == nil {
		e.err = err
	}
	e.uvarint(uint64(len(buf)))
	e.raw(buf)
}

// decodeIndex reads an index written by encodeIndex, over the members
// read with it, and checks that it names only mentors it has.
func decodeIndex(d *snapDecoder, members map[uuid.UUID]*MemberView) (*searchIndex, error) {
	n := d.count()
	if n > len(members) {
		return nil, errors.New("search index of more mentors than members")
	}
	ix := &searchIndex{docs: make([]*MemberView, n), num: make(map[uuid.UUID]uint32, n)}
	for i := range ix.docs {
		id := d.uuid()
		m := members[id]
		if m == nil {
			return nil, fmt.Errorf("search index names unknown member %s", id)
		}
		if _, dup := ix.num[id]; dup {
			return nil, fmt.Errorf("search index names member %s twice", id)
		}
		ix.docs[i] = m
		ix.num[id] = uint32(i)
	}
	k := d.count()
	ix.terms = make(map[string]uint32, k)
	ix.posts = make([]*roaring.Bitmap, k)
	for t := range ix.posts {
		term := d.str()
		if _, dup := ix.terms[term]; dup {
			return nil, fmt.Errorf("search term %q saved twice", term)
		}
		ix.terms[term] = uint32(t)
		ix.posts[t] = decodeBitmap(d, n)
	}
	ix.all = decodeBitmap(d, n)
	ix.open = decodeBitmap(d, n)
	return ix, d.err
}

// decodeBitmap reads a set of mentor numbers, all below n.
func decodeBitmap(d *snapDecoder, n int) *roaring.Bitmap {
	b := roaring.New()
	raw := d.take(d.count())
	if d.err != nil {
		return b
	}
	// UnmarshalBinary copies: the bitmap keeps nothing of the snapshot's
	// bytes, which are dropped once loaded.
	if err := b.UnmarshalBinary(raw); err != nil {
		d.fail(fmt.Errorf("search postings: %w", err))
		return roaring.New()
	}
	if !b.IsEmpty() && int(b.Maximum()) >= n {
		d.fail(errors.New("search postings name an unknown mentor"))
	}
	return b
}
