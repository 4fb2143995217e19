package ets

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
)

// I prints every live table of the process to w as an aligned text table,
// one line per table in ID order (ETS i/0): its ID, name ("-" for none,
// quoted as a Go string if it holds spaces or unprintable characters, so
// that a name cannot break the layout or forge a line),
// kind, size in objects, memory in bytes, owner, heir ("none" for none),
// access, and key and value types. It reads Tables, so sizes are as each
// table's owner would see them and are not a snapshot while writers run. It
// returns w's error.
func I(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tKIND\tSIZE\tMEMORY\tOWNER\tHEIR\tACCESS\tKEY\tVALUE")
	for _, in := range Tables() {
		name := in.Name
		switch {
		case name == "":
			name = "-"
		case strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }):
			name = strconv.Quote(name)
		}
		fmt.Fprintf(tw, "%d\t%s\t%v\t%d\t%d\t%v\t%v\t%v\t%s\t%s\n",
			in.ID, name, in.Kind, in.Size, in.Memory, in.Owner, in.Heir, in.Access, in.KeyType, in.ValueType)
	}
	return tw.Flush()
}
