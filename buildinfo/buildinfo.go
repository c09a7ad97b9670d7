// Package buildinfo tells which build of the server is running, from the
// version control facts the Go toolchain stamps into the binary.
package buildinfo

import "runtime/debug"

// Info describes the running build.
type Info struct {
	// Version is the module version, or the commit for a development build.
	Version string
}

// Read returns the running binary's build facts.
func Read() Info {
	info := Info{Version: "devel"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		info.Version = v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			info.Version = s.Value[:12]
		}
	}
	return info
}
