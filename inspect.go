package ets

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// I prints every live table of the process to w as an aligned text table,
// one line per table in ID order (ETS i/0): its ID, name ("-" for none,
// quoted as a Go string if it holds spaces or unprintable characters, is
// "-", starts with a quote or is not UTF-8, so that a name can neither break
// the layout, forge a line nor pass for another table's), kind, size in
// objects, memory in bytes, owner, heir ("none" for none), access, and key
// and value types. It reads Tables: every table's size is shown, a private
// table's too, and sizes are not a snapshot while writers run. It costs
// O(tables × shards) and writes no table. It returns w's error.
func I(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tKIND\tSIZE\tMEMORY\tOWNER\tHEIR\tACCESS\tKEY\tVALUE")
	for _, in := range Tables() {
		fmt.Fprintf(tw, "%d\t%s\t%v\t%d\t%d\t%v\t%v\t%v\t%s\t%s\n",
			in.ID, printedName(in.Name), in.Kind, in.Size, in.Memory, in.Owner, in.Heir, in.Access, in.KeyType, in.ValueType)
	}
	return tw.Flush()
}

// printedName is a table's name as I prints it: "-" for none, and quoted as
// a Go string when it could be mistaken for something else: a name that
// holds spaces or unprintable characters (it would break the columns or
// forge a line), "-" itself (no name), a name that starts with a quote (a
// quoted name), or one that is not valid UTF-8 (two such names would print
// alike).
func printedName(name string) string {
	switch {
	case name == "":
		return "-"
	case name == "-", strings.HasPrefix(name, `"`), !utf8.ValidString(name),
		strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }):
		return strconv.Quote(name)
	}
	return name
}
