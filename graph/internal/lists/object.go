package lists

import (
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// Object is an object's answer as gqlgen's graphql.FieldSet writes it: its
// fields' aliases and values in order, a field whose alias was already
// written left out. gqlgen's FieldSet writes through an iterator that
// copies every field to the heap and keeps a map of the aliases written,
// for every object of every response; Object does neither. The values are
// read when the object is written, as gqlgen's are, so values filled in
// after Object returns are written too.
//
// `go generate` has the generated executor answer its objects through
// Object (see graph/internal/generate).
func Object(fields []graphql.CollectedField, values []graphql.Marshaler) graphql.Marshaler {
	return &object{fields: fields, values: values}
}

type object struct {
	fields []graphql.CollectedField
	values []graphql.Marshaler
}

var (
	openBrace  = []byte{'{'}
	closeBrace = []byte{'}'}
	comma      = []byte{','}
	colon      = []byte{':'}
	quote      = []byte{'"'}
)

// manyFields is how many fields an object has before the aliases written
// are looked up in a map rather than among the fields before.
const manyFields = 16

func (o *object) MarshalGQL(w io.Writer) {
	w.Write(openBrace)
	var written map[string]struct{}
	if len(o.fields) > manyFields {
		written = make(map[string]struct{}, len(o.fields))
	}
	first := true
	for i := range o.fields {
		alias := o.fields[i].Alias
		if o.seen(written, i, alias) {
			continue
		}
		if !first {
			w.Write(comma)
		}
		first = false
		writeAlias(w, alias)
		w.Write(colon)
		o.values[i].MarshalGQL(w)
	}
	w.Write(closeBrace)
}

// seen reports whether alias, the alias of field i, was written before
// (gqlgen writes the first field of an alias only), and remembers it.
func (o *object) seen(written map[string]struct{}, i int, alias string) bool {
	if written != nil {
		if _, ok := written[alias]; ok {
			return true
		}
		written[alias] = struct{}{}
		return false
	}
	for j := range i {
		if o.fields[j].Alias == alias {
			return true
		}
	}
	return false
}

// writeAlias writes an alias as a JSON string. An alias is a GraphQL name,
// which never needs escaping; anything else is written by gqlgen.
func writeAlias(w io.Writer, alias string) {
	for i := 0; i < len(alias); i++ {
		if c := alias[i]; c < 0x20 || c == '\\' || c == '"' || c >= 0x80 {
			graphql.MarshalString(alias).MarshalGQL(w)
			return
		}
	}
	w.Write(quote)
	io.WriteString(w, alias)
	w.Write(quote)
}
