// Command plot draws benchstat's CSV output as an SVG bar chart of ns/op by
// workload and implementation. It expects tables pivoted on the
// implementation (`benchstat -col /impl -format csv`): one row per workload,
// one column group per implementation. Time is drawn on a log scale, one
// group of bars per row; rows whose name matches -skip (by default the
// memory benchmarks, whose ns/op is a build time) are left out.
//
//	go run ./plot -in results/benchstat.csv -out results/plot.svg
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

func main() {
	in := flag.String("in", "results/benchstat.csv", "benchstat CSV (-col /impl -format csv)")
	out := flag.String("out", "results/plot.svg", "SVG file to write")
	skip := flag.String("skip", "Memory", "regexp of rows to leave out")
	match := flag.String("match", "", "regexp: plot only the rows it matches")
	title := flag.String("title", "ns/op by workload and implementation (log scale, lower is better)", "chart title")
	unit := flag.String("unit", "sec/op", "benchstat unit to draw, in ns: sec/op (wall) or cpu-sec/op (the cpu-ns/op metric)")
	table := flag.String("table", "", "also write Markdown tables of ns/op, cpu-ns/op and B/entry with each peer's ratio to the first implementation")
	flag.Parse()
	log.SetFlags(0)

	f, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		log.Fatal(err)
	}
	rows, impls, err := parse(strings.NewReader(string(data)), *unit, 1e9)
	if err != nil {
		log.Fatal(err)
	}
	if *table != "" {
		md := "×" + impls[0] + " is each peer's figure over " + impls[0] + "'s: above 1, " + impls[0] + " is faster (or smaller).\n\n"
		md += markdown(filter(rows, *skip, ""), impls, "ns/op (wall)")
		for _, unit := range []string{"cpu-sec/op", "B/entry"} {
			scale := 1.0
			if unit == "cpu-sec/op" {
				scale = 1e9 // benchstat turns cpu-ns/op into cpu-sec/op
			}
			more, moreImpls, err := parse(strings.NewReader(string(data)), unit, scale)
			if err != nil {
				log.Fatal(err)
			}
			if unit != "B/entry" {
				more = filter(more, *skip, "")
			}
			if len(more) > 0 {
				md += "\n" + markdown(more, moreImpls, strings.Replace(unit, "sec/op", "ns/op", 1))
			}
		}
		if err := os.WriteFile(*table, []byte(md), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	rows = filter(rows, *skip, *match)
	if len(rows) == 0 { // a run of Memory alone, say: its tables are written, there is nothing to draw
		log.Printf("plot: no %s rows to draw in %s; %s not written", *unit, *in, *out)
		return
	}
	w, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := draw(w, *title, rows, impls); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
}

// row is one workload: its name and ns/op per implementation (absent
// implementations are missing from the map).
type row struct {
	name string
	ns   map[string]float64
}

// parse reads the tables of benchstat's CSV in unit, scaling values by
// scale (1e9 turns sec/op into ns/op). Each table starts with a
// header row naming the implementations (one name per column group) and a
// row of units; data rows follow until the next header.
func parse(r io.Reader, unit string, scale float64) ([]row, []string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var (
		rows     []row
		impls    []string
		seen     = map[string]bool{}
		byName   = map[string]int{}
		names    []string // implementation per column of the current table
		units    []string // unit per column of the current table
		inHeader bool
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, impls, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if len(rec) == 0 {
			continue
		}
		if rec[0] == "" && !inHeader {
			// Implementation names; a name spans the columns up to the next.
			names = make([]string, len(rec))
			cur := ""
			for i, c := range rec {
				if c != "" {
					cur = c
				}
				names[i] = cur
			}
			inHeader = true
			continue
		}
		if rec[0] == "" {
			units = rec
			inHeader = false
			continue
		}
		inHeader = false
		if rec[0] == "geomean" || units == nil {
			continue
		}
		for i := 1; i < len(rec) && i < len(units) && i < len(names); i++ {
			if units[i] != unit || rec[i] == "" {
				continue
			}
			v, err := strconv.ParseFloat(rec[i], 64)
			if err != nil {
				continue
			}
			j, ok := byName[rec[0]]
			if !ok {
				j = len(rows)
				byName[rec[0]] = j
				rows = append(rows, row{name: rec[0], ns: map[string]float64{}})
			}
			rows[j].ns[names[i]] = v * scale
			if !seen[names[i]] {
				seen[names[i]] = true
				impls = append(impls, names[i])
			}
		}
	}
}

func filter(rows []row, skip, match string) []row {
	var skipRe, matchRe *regexp.Regexp
	if skip != "" {
		skipRe = regexp.MustCompile(skip)
	}
	if match != "" {
		matchRe = regexp.MustCompile(match)
	}
	var out []row
	for _, r := range rows {
		if skipRe != nil && skipRe.MatchString(r.name) {
			continue
		}
		if matchRe != nil && !matchRe.MatchString(r.name) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// markdown is a table of one row per workload: the first implementation's
// figure, then each other implementation's figure and its ratio to the
// first (above 1: the first is faster).
func markdown(rows []row, impls []string, unit string) string {
	if len(rows) == 0 || len(impls) == 0 {
		return ""
	}
	var b strings.Builder
	base := impls[0]
	fmt.Fprintf(&b, "| %s, median | %s |", unit, base)
	for _, name := range impls[1:] {
		fmt.Fprintf(&b, " %s | ×%s |", name, base)
	}
	b.WriteString("\n|---|---:|" + strings.Repeat("---:|---:|", len(impls)-1) + "\n")
	for _, r := range rows {
		bv, ok := r.ns[base]
		fmt.Fprintf(&b, "| %s | %s |", r.name, cell(bv, ok))
		for _, name := range impls[1:] {
			v, ok2 := r.ns[name]
			ratio := ""
			if ok && ok2 && bv > 0 {
				ratio = strconv.FormatFloat(v/bv, 'f', 2, 64)
			}
			fmt.Fprintf(&b, " %s | %s |", cell(v, ok2), ratio)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func cell(v float64, ok bool) string {
	if !ok {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

var palette = []string{"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"}

const (
	labelW   = 260 // row labels
	plotW    = 640 // bars
	valueW   = 70  // value labels after the longest bar
	barH     = 9
	groupGap = 8
	top      = 60
)

func draw(w io.Writer, title string, rows []row, impls []string) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rows {
		for _, v := range r.ns {
			if v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	x := func(v float64) float64 {
		return plotW * (math.Log10(v) - math.Log10(lo)) / (math.Log10(hi) - math.Log10(lo))
	}
	groupH := len(impls)*barH + groupGap
	height := top + len(rows)*groupH + 30
	width := labelW + plotW + valueW

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="10">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="16" font-size="13" font-weight="bold">%s</text>`+"\n", 10, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="35" fill="#555">rows ending in -2: -cpu 2 (GOMAXPROCS 2)</text>`+"\n", 10)
	for i, name := range impls {
		lx := labelW + i*90
		fmt.Fprintf(&b, `<rect x="%d" y="26" width="10" height="10" fill="%s"/><text x="%d" y="35">%s</text>`+"\n",
			lx, palette[i%len(palette)], lx+14, html.EscapeString(name))
	}
	// Decade grid lines.
	for d := lo; d <= hi*1.0001; d *= 10 {
		gx := float64(labelW) + x(d)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", gx, top-8, gx, height-25)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", gx, height-12, ns(d))
	}
	for ri, r := range rows {
		y0 := top + ri*groupH
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n",
			labelW-6, y0+len(impls)*barH/2+3, html.EscapeString(r.name))
		for i, name := range impls {
			v, ok := r.ns[name]
			if !ok || v <= 0 {
				continue
			}
			y := y0 + i*barH
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
				labelW, y, math.Max(x(v), 1), barH-1, palette[i%len(palette)],
				html.EscapeString(r.name), html.EscapeString(name), ns(v))
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="8">%s</text>`+"\n", float64(labelW)+x(v)+3, y+barH-2, ns(v))
		}
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// ns formats a duration in nanoseconds with a unit that keeps it short.
func ns(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "ms"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "µs"
	}
	return strconv.FormatFloat(v, 'g', 3, 64) + "ns"
}
