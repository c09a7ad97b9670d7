package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mentorship/mentorship/config"
	"github.com/mentorship/mentorship/domain"
	"github.com/mentorship/mentorship/eventstore"
	"github.com/mentorship/mentorship/eventstore/kurrent"
	"github.com/mentorship/mentorship/eventstore/kurrent/kurrenttest"
	"github.com/mentorship/mentorship/internal/redistest"
	"github.com/mentorship/mentorship/projections"
)

// With two instances on one KurrentDB and one Redis, an erasure made
// through the instance that runs no workers reaches the other: the member
// shows as erased there, their sign-in stops working everywhere, and their
// texts in KurrentDB can no longer be opened with the shared keys (the
// key's stream is tombstoned), while the log holds none of them in the
// clear.
func TestErasureReachesEveryInstance(t *testing.T) {
	_, ns := redistest.Client(t)
	kdb := kurrenttest.New(t)
	shared := []string{"--kurrentdb-url", kdb.ConnectionString(), "--redis-url", redistest.URL(), "--redis-prefix", ns}
	var out strings.Builder
	settings := map[string]string{"MENTORSHIP_MASTER_KEY_URL": testMasterKey, "MENTORSHIP_REDIS_URL": redistest.URL(), "MENTORSHIP_REDIS_PREFIX": ns}
	err := run(context.Background(), []string{"users", "create", "--role", "staff", "--email", "staff@example.org", "--name", "Staff Person",
		"--data-dir", t.TempDir(), "--kurrentdb-url", kdb.ConnectionString()},
		func(k string) string { return settings[k] }, strings.NewReader(storyPassword+"\n"), &out, io.Discard)
	if err != nil {
		t.Fatalf("users create: %v\n%s", err, out.String())
	}
	a := startChild(t, shared...)
	b := startChild(t, append(shared, "--workers=false")...)

	mentee := &client{t: t, url: a.URL}
	d := mentee.gql(`mutation { registerMentee(input: {name: "Zephyrine Quillfeather", email: "zephyrine.q@example.org", password: "`+storyPassword+`"}) { token viewer { id } } }`, nil)
	mentee.token = dig(d, "registerMentee", "token").(string)
	id := dig(d, "registerMentee", "viewer", "id").(string)
	mentee.gql(`mutation { updateProfile(input: {biography: "Glaciology and permafrost."}) { userErrors { code } } }`, nil)

	staffB := &client{t: t, url: b.URL}
	staffB.login("Staff", "staff@example.org")
	d = staffB.gql(`mutation($id: ID!) { eraseMember(input: {memberId: $id, reason: "asked to close the account"}) { member { erased } userErrors { code } } }`, map[string]any{"id": id})
	if dig(d, "eraseMember", "member", "erased") != true {
		t.Fatalf("erase through the second instance: %v", d)
	}
	staffA := &client{t: t, url: a.URL}
	staffA.login("Staff", "staff@example.org")
	d = staffA.gql(`query($id: ID!) { node(id: $id) { ... on Member { name erased biography } } }`, map[string]any{"id": id})
	if dig(d, "node", "erased") != true || dig(d, "node", "name") != domain.ErasedName || dig(d, "node", "biography") != nil {
		t.Fatalf("the first instance's view of the erased member: %v", d)
	}
	for _, url := range []string{a.URL, b.URL} {
		_, res := postGraphQL(t, url, `{ viewer { id } }`, nil, map[string][]string{"Authorization": {"Bearer " + mentee.token}})
		if len(res.Errors) == 0 || res.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
			t.Errorf("the erased member's token on %s: %s", url, res.Data)
		}
	}

	// Each instance keeps a members read model of its own for the search,
	// saved in its data directory: both rewrite it once the erasure
	// reaches them, whichever instance ran it, and the saved copies hold
	// none of the member's texts.
	for _, s := range []*childServer{a, b} {
		snapshot := projections.SnapshotPath(filepath.Join(s.dir, "snapshots"), projections.NewMembers())
		deadline := time.Now().Add(10 * time.Second)
		for {
			data, err := os.ReadFile(snapshot)
			if err == nil && !bytes.Contains(data, []byte("Zephyrine")) && !bytes.Contains(data, []byte("permafrost")) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the members snapshot of %s after the erasure: %v, holds the texts: %v", s.URL, err, err == nil)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	store, err := kurrent.Open(context.Background(), kdb.ConnectionString(), kurrent.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs, err := store.ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		for _, s := range []string{"Zephyrine", "zephyrine", "permafrost"} {
			if strings.Contains(string(r.Data), s) {
				t.Errorf("KurrentDB holds %q in the clear in %s", s, r.Type)
			}
		}
	}
	keys, closeKeys, err := openKeys(context.Background(), config.Config{MasterKeyURL: testMasterKey}, store, false)
	if err != nil {
		t.Fatal(err)
	}
	defer closeKeys()
	opened, err := sealStore(store, keys).ReadAll(context.Background(), eventstore.Start, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range opened {
		e, err := domain.Decode(r.Type, r.SchemaVersion, r.Data)
		if err != nil {
			continue
		}
		if reg, ok := e.(domain.MemberRegistered); ok && reg.Role == domain.RoleMentee {
			found = true
			if reg.Name != "" || reg.Email != "" {
				t.Errorf("the erased member's registration opens to %q %q", reg.Name, reg.Email)
			}
		}
	}
	if !found {
		t.Error("the mentee's registration is not in the log")
	}
}
