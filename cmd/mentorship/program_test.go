package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The server runs the program the file describes: its lists and windows
// reach the API.
func TestServeRunsTheConfiguredProgram(t *testing.T) {
	path := filepath.Join(t.TempDir(), "program.yaml")
	if err := os.WriteFile(path, []byte("responseWindowDays: 21\ntermMonths: 6\nfocusAreas: [LICENSURE, LEADERSHIP]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, "", "--program-file", path)
	status, r := postGraphQL(t, ts.URL, `{ programOptions { focusAreas responseWindowDays termMonths } }`, nil, nil)
	if status != 200 || len(r.Errors) > 0 {
		t.Fatalf("status %d, errors %v", status, r.Errors)
	}
	want := `{"programOptions":{"focusAreas":["LICENSURE","LEADERSHIP"],"responseWindowDays":21,"termMonths":6}}`
	if string(r.Data) != want {
		t.Fatalf("got %s, want %s", r.Data, want)
	}
}

func TestProgramCommandPrintsTheEffectiveSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "program.yaml")
	if err := os.WriteFile(path, []byte("maxActiveMatches: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs strings.Builder
	if err := run(t.Context(), []string{"program", "--program-file", path}, func(string) string { return "" }, strings.NewReader(""), &out, &errs); err != nil {
		t.Fatalf("%v: %s", err, errs.String())
	}
	for _, want := range []string{"maxActiveMatches: 2\n", "responseWindowDays: 14\n", "termMonths: 12\n", "timeZone: UTC\n", "retentionYears: 0\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err := os.WriteFile(path, []byte("maxActiveMatches: none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"program", "--program-file", path}, func(string) string { return "" }, strings.NewReader(""), &out, &errs); err == nil {
		t.Error("a bad program file was accepted")
	}
}
