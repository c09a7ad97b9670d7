package graph

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
)

// inputFingerprint fingerprints the mutation that ctx resolves: its field
// name and its arguments as decoded (so that an omitted field and an
// explicit null agree), without the clientMutationId. A command with the
// client's mutation ID carries it, which tells a retry (the same
// fingerprint) from the same ID reused for another request. It answers
// "" when ctx resolves no field or the arguments do not encode, which
// leaves the retry to the program's rules as before.
func inputFingerprint(ctx context.Context) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return ""
	}
	args := make(map[string]any, len(fc.Args))
	for name, v := range fc.Args {
		raw, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		var decoded any
		if err := json.Unmarshal(raw, &decoded); err != nil {
			return ""
		}
		if obj, ok := decoded.(map[string]any); ok {
			delete(obj, "clientMutationId")
		}
		args[name] = decoded
	}
	raw, err := json.Marshal(map[string]any{"field": fc.Field.Name, "args": args})
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(raw)
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}
