package ets

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/etsgo/ets/internal/ordered"
	"github.com/etsgo/ets/internal/shard"
)

// Snapshots: Save writes a table to an io.Writer and Load makes a new table
// from what Save wrote (ETS tab2file/file2tab); SaveFile and LoadFile do the
// same with a file, replacing it atomically. SnapshotInfo reads a snapshot's
// header (ETS tabfile_info).
//
// # Format (version 1)
//
// All integers are little-endian. xxh64 is xxhash64 with seed 0; xxh32 is
// the low 32 bits of xxh64.
//
//	preamble  magic "ETSGOSNP" (8 bytes)
//	          version     u16   (1)
//	          fieldsLen   u32   (at most 1 MiB)
//	          xxh32 of the 14 bytes above
//	fields    kind u8, flags u8 (bit 0: custom comparator), access u8,
//	          write concurrency u8, read concurrency u8 (0/1),
//	          decentralized counters u8 (0 default, 1 off, 2 on),
//	          shards u32 (as asked with WithShards; 0: the default),
//	          object count u64, created i64 (Unix nanoseconds),
//	          then four strings, each a uvarint length and its bytes: the
//	          key type, the value type (reflect.Type.String()), the table's
//	          name ("" for none) and the codec's Name
//	          xxh64 of the preamble and the fields
//	body      frames, each: objects n u32 (≥ 1), payload size u32,
//	          xxh32 of those 8 bytes, the payload (the codec's encoding of a
//	          []K then a []V, both of length n, written by a fresh encoder),
//	          xxh64 of the payload
//	          an end frame: n = 0, size = 0, and its xxh32
//	          object count u64 (the sum of the frames' n)
//	          xxh64 of the whole body from the first frame through the
//	          count above
//
// Every length is checked against its checksum before it is used, and every
// buffer grows only as bytes actually arrive, so reading a corrupt or hostile
// input costs at most a small multiple of its own size. Decoding it does not:
// a codec may encode an object in far fewer bytes than it takes in memory
// (Gob leaves out zero fields), so the objects Load holds take up to about
// count × (the sizes of K and V, and what they point to), whatever the
// input's size. Load untrusted snapshots with that in mind.

// The errors of Load, LoadFile and SnapshotInfo, tested with errors.Is.
var (
	// ErrSnapshotCorrupt: the input is not an ets snapshot, or a checksum
	// does not match (a byte changed anywhere), or a field is invalid.
	ErrSnapshotCorrupt = errors.New("ets: snapshot corrupt")
	// ErrSnapshotTruncated: the input ended before the snapshot did.
	ErrSnapshotTruncated = errors.New("ets: snapshot truncated")
	// ErrSnapshotVersion: the snapshot has a format version this package
	// does not know (written by a newer one).
	ErrSnapshotVersion = errors.New("ets: unknown snapshot format version")
	// ErrSnapshotType: the snapshot holds a table of another kind, key type
	// or value type than the one Load was asked for. Such an error also
	// matches ErrWrongType.
	ErrSnapshotType = errors.New("ets: snapshot of another table type")
	// ErrSnapshotCount: the checksums match but the object counts of the
	// header, the frames and the trailer disagree (a faulty writer), or the
	// loaded table would hold fewer objects than the snapshot: keys saved
	// distinct decode equal (a struct field the codec drops, a comparator
	// that calls them equal), and Load refuses to lose objects silently. (A
	// DuplicateBag, or a Bag whose merged keys held different values, loses
	// no object then: their objects load under one key, unnoticed.)
	ErrSnapshotCount = errors.New("ets: snapshot object count mismatch")
	// ErrSnapshotCodec: the snapshot was written with another codec than
	// the one given to Load, or the codec could not decode verified data.
	ErrSnapshotCodec = errors.New("ets: snapshot codec mismatch")
)

// SnapshotVersion is the format version Save writes and Load reads.
const SnapshotVersion = 1

const (
	snapshotMagic   = "ETSGOSNP"
	preambleSize    = 8 + 2 + 4 + 4
	maxFieldsBytes  = 1 << 20
	frameHeaderSize = 4 + 4 + 4
	maxFrameBytes   = 1 << 30
	frameObjects    = 4096 // objects per frame, the writer's choice
	flagCustomOrder = 1 << 0
)

// Codec encodes the keys and values of a snapshot. Save encodes each frame
// of the body with a new Encoder: it calls Encode twice, with a []K and then
// a []V of the same length. Load decodes a frame with a new Decoder, calling
// Decode with a *[]K and then a *[]V. *gob.Encoder, *gob.Decoder,
// *json.Encoder and *json.Decoder have these methods, so a codec is often a
// few lines. Name identifies the codec in the header: Load refuses a
// snapshot whose codec name differs from its own (ErrSnapshotCodec). The
// default is Gob.
//
// An Encoder that buffers (over a bufio.Writer, a gzip.Writer) must write
// its frame out when Save is done with it: if it has a Flush() error
// method Save calls it after the two Encode calls, and then Close() error
// if it has one. A frame for which the encoder wrote nothing is an error of
// Save, rather than a file that Load would refuse.
type Codec interface {
	Name() string
	NewEncoder(w io.Writer) Encoder
	NewDecoder(r io.Reader) Decoder
}

// Encoder encodes values for a Codec: Save calls Encode once with a frame's
// keys (a []K) and once with its values (a []V), on a fresh Encoder per
// frame, with no lock held. An error it returns fails the Save, wrapped.
type Encoder interface{ Encode(v any) error }

// Decoder decodes values for a Codec: Load calls Decode with a pointer to a
// []K, then to a []V, on a fresh Decoder per frame, after the frame's
// checksum matched. An error it returns fails the Load, wrapped with
// ErrSnapshotCodec.
type Decoder interface{ Decode(v any) error }

// Gob is the default Codec, encoding/gob, named "gob". Keys and values must
// be types gob can encode: exported struct fields (unexported ones are left
// out, so keys that differ only there load as one: see ErrSnapshotCount),
// no channels or functions, and no nil pointer among the values (gob refuses
// a slice holding one). A Codec is shared by every Save and Load that names
// it, at once: NewEncoder and NewDecoder must be safe for concurrent use.
var Gob Codec = gobCodec{}

type gobCodec struct{}

func (gobCodec) Name() string                   { return "gob" }
func (gobCodec) NewEncoder(w io.Writer) Encoder { return gob.NewEncoder(w) }
func (gobCodec) NewDecoder(r io.Reader) Decoder { return gob.NewDecoder(r) }

// A SnapshotOption configures Save and SaveFile.
type SnapshotOption struct {
	apply func(*saveConfig) error
}

type saveConfig struct{ codec Codec }

// WithCodec makes Save encode keys and values with c instead of Gob. Load
// the snapshot with WithLoadCodec(c). A nil c is ErrInvalidOption.
func WithCodec(c Codec) SnapshotOption {
	return SnapshotOption{func(s *saveConfig) error {
		if c == nil {
			return fmt.Errorf("%w: WithCodec(nil)", ErrInvalidOption)
		}
		s.codec = c
		return nil
	}}
}

// loadConfig holds the options only Load accepts; config.load is set while
// Load applies its options, and a constructor given one of them fails.
type loadConfig struct {
	codec   Codec
	compare any // func(a, b K) int, from WithComparator
}

func loadOnly(name string, c *config) error {
	if c.load == nil {
		return fmt.Errorf("%w: %s applies only to Load and LoadFile", ErrInvalidOption, name)
	}
	return nil
}

// WithLoadCodec makes Load decode with c, the codec the snapshot was saved
// with (WithCodec). It is an Option of Load and LoadFile only: a constructor
// given it returns ErrInvalidOption, as does a nil c.
func WithLoadCodec(c Codec) Option {
	return Option{func(cfg *config) error {
		if err := loadOnly("WithLoadCodec", cfg); err != nil {
			return err
		}
		if c == nil {
			return fmt.Errorf("%w: WithLoadCodec(nil)", ErrInvalidOption)
		}
		cfg.load.codec = c
		return nil
	}}
}

// WithComparator gives Load the key order of an OrderedSet: a snapshot
// cannot carry a function, so loading an OrderedSet made with
// NewOrderedSetFunc requires it (ErrInvalidOption without it). It must
// order keys as the saved table's function did. It is an Option of Load and
// LoadFile only, and only for an OrderedSet[K, V] with this K.
func WithComparator[K any](compare func(a, b K) int) Option {
	return Option{func(cfg *config) error {
		if err := loadOnly("WithComparator", cfg); err != nil {
			return err
		}
		if compare == nil {
			return fmt.Errorf("%w: WithComparator(nil)", ErrInvalidOption)
		}
		cfg.load.compare = compare
		return nil
	}}
}

// snapshotter is what Save and Load need of a table kind. Every kind
// implements it; the Set methods at the end of this file are the model.
//
//   - snapshotSpec is called on a nil receiver: it returns the kind and the
//     K and V types, as snapshotSpecOf[K, V](kind).
//   - snapshotObjects calls emit with consecutive batches of the table's
//     objects, keys a []K and values a []V of equal length (one element
//     per object), copying each batch as the table's walks do (a shard as
//     it was at one moment; from a base node without its lock, validated
//     by its counter, or under it; or from a Clone of a B-tree) and calling
//     emit after the copy, outside any lock. emit does not keep the slices, so they may be reused.
//     It returns the first error of emit, and the handle's Err if the
//     table is dropped or becomes unreadable midway.
//   - loadTable is called on a nil receiver once the whole snapshot is
//     verified: it fills a new engine with l.batches in order (b.keys is a
//     []K, b.values a []V), and only then calls newTable, which claims the
//     name and gives the table to its owner. On error it returns a nil
//     Table (not a typed nil pointer).
//
// What the other kinds implement (about twenty lines each):
//
//   - OrderedSet[K, V]: snapshotSpec with KindOrderedSet; snapshotObjects in
//     ascending key order, in batches (a Clone of the tree walked outside
//     the lock, or one base node at a time); snapshotCustomOrder (the
//     customOrdered interface) reporting true for a table made with
//     NewOrderedSetFunc, so the header's flag makes Load require
//     WithComparator. loadTable orders keys by l.compare if it is set (a
//     func(a, b K) int; any other type is ErrInvalidOption), else, when
//     l.custom is false, by naturalCompare[K]() (false there means the
//     snapshot is not loadable as this type: ErrInvalidOption); Load has
//     already refused l.custom without a comparator. Then it inserts the
//     batches (already in order) and calls newTable.
//   - Bag[K, V] and DuplicateBag[K, V]: snapshotSpec with KindBag or
//     KindDuplicateBag; snapshotObjects emits one element per object, a
//     key repeated for each of its values, each key's values in insertion
//     order and contiguous within a shard's batch (the header count is the
//     object count, as Size). loadTable appends each (key, value) in order,
//     so insertion order per key survives even when a key's objects span
//     two frames; a Bag keeps distinct values, a DuplicateBag every copy.
//     loadTable rejects l.compare != nil with ErrInvalidOption, as Set's.
type snapshotter interface {
	Table
	snapshotSpec() snapshotSpec
	snapshotObjects(emit func(keys, values any) error) error
	loadTable(l *snapshotLoad) (Table, error)
}

// customOrdered is implemented by an OrderedSet: true if it was made with
// NewOrderedSetFunc, so that Load must be given WithComparator.
type customOrdered interface{ snapshotCustomOrder() bool }

type snapshotSpec struct {
	kind       Kind
	key, value reflect.Type
}

func snapshotSpecOf[K, V any](kind Kind) snapshotSpec {
	return snapshotSpec{kind, reflect.TypeFor[K](), reflect.TypeFor[V]()}
}

// snapshotLoad is what Load hands a kind's loadTable.
type snapshotLoad struct {
	cfg     config          // the saved options, then Load's
	compare any             // WithComparator's func(a, b K) int, or nil
	custom  bool            // the saved OrderedSet had a custom comparator
	batches []snapshotBatch // keys []K and values []V, in saved order
}

type snapshotBatch struct{ keys, values any }

// checkLoaded returns nil if a table made from l holds all of l's objects,
// n of them, and otherwise an error wrapping ErrSnapshotCount.
func (l *snapshotLoad) checkLoaded(n int) error {
	saved := 0
	for _, b := range l.batches {
		saved += reflect.ValueOf(b.keys).Len()
	}
	if n == saved {
		return nil
	}
	return fmt.Errorf("%w: the snapshot's %d objects load as %d: keys saved distinct are equal once decoded (a field the codec drops, or a comparator that calls them equal)", ErrSnapshotCount, saved, n)
}

// SnapshotHeader describes a snapshot (ETS tabfile_info/1).
type SnapshotHeader struct {
	Version   int
	Kind      Kind
	KeyType   string // as reflect.Type.String(), like Info.KeyType
	ValueType string
	Name      string // the table's name when saved; "" for none
	Count     int    // objects in the snapshot
	Codec     string // the Codec's Name
	Created   time.Time

	Access                Access
	ReadConcurrency       bool
	WriteConcurrency      WriteConcurrency
	Shards                int // as asked with WithShards; 0: the default for WriteConcurrency
	DecentralizedCounters bool
	CustomOrder           bool // an OrderedSet made with NewOrderedSetFunc: Load needs WithComparator
}

// header is a snapshot header as stored.
type header struct {
	kind, flags, access, writeConc, readConc, decentral uint8
	shards                                              uint32
	count                                               uint64
	created                                             int64
	keyType, valueType, name, codec                     string
}

func (h *header) public() SnapshotHeader {
	dc := h.writeConc != uint8(WriteConcurrencyOff)
	if h.decentral != 0 {
		dc = h.decentral == 2
	}
	return SnapshotHeader{
		Version:               SnapshotVersion,
		Kind:                  Kind(h.kind),
		KeyType:               h.keyType,
		ValueType:             h.valueType,
		Name:                  h.name,
		Count:                 int(h.count),
		Codec:                 h.codec,
		Created:               time.Unix(0, h.created),
		Access:                Access(h.access),
		ReadConcurrency:       h.readConc == 1,
		WriteConcurrency:      WriteConcurrency(h.writeConc),
		Shards:                int(h.shards),
		DecentralizedCounters: dc,
		CustomOrder:           h.flags&flagCustomOrder != 0,
	}
}

// config is the base configuration Load applies its options to: the saved
// options and name. The saved access is applied later, and only if the
// loaded table has an owner.
func (h *header) config() config {
	c := config{
		readConcurrency:  h.readConc == 1,
		writeConcurrency: WriteConcurrency(h.writeConc),
		shards:           int(h.shards),
		name:             h.name,
	}
	if h.decentral != 0 {
		on := h.decentral == 2
		c.decentralized = &on
	}
	return c
}

func (h *header) marshal() []byte {
	b := make([]byte, preambleSize, 128+len(h.keyType)+len(h.valueType)+len(h.name)+len(h.codec))
	b = append(b, h.kind, h.flags, h.access, h.writeConc, h.readConc, h.decentral)
	b = binary.LittleEndian.AppendUint32(b, h.shards)
	b = binary.LittleEndian.AppendUint64(b, h.count)
	b = binary.LittleEndian.AppendUint64(b, uint64(h.created))
	for _, s := range []string{h.keyType, h.valueType, h.name, h.codec} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	copy(b, snapshotMagic)
	binary.LittleEndian.PutUint16(b[8:], SnapshotVersion)
	binary.LittleEndian.PutUint32(b[10:], uint32(len(b)-preambleSize))
	binary.LittleEndian.PutUint32(b[14:], uint32(xxhash.Sum64(b[:14])))
	return binary.LittleEndian.AppendUint64(b, xxhash.Sum64(b))
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSnapshotCorrupt, fmt.Sprintf(format, args...))
}

// readErr turns a read error into ErrSnapshotTruncated when the input ended.
func readErr(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: input ends in the %s", ErrSnapshotTruncated, what)
	}
	return fmt.Errorf("ets: reading snapshot %s: %w", what, err)
}

// readN reads exactly n bytes. Small reads allocate n at once; larger ones
// grow the buffer as bytes arrive, so a length that lies about the input
// costs no more memory than the input holds.
func readN(r io.Reader, n int, what string) ([]byte, error) {
	if n <= 64<<10 {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, readErr(err, what)
		}
		return b, nil
	}
	var buf bytes.Buffer
	m, err := io.CopyN(&buf, r, int64(n))
	if m < int64(n) {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, readErr(err, what)
	}
	return buf.Bytes(), nil
}

func readHeader(r io.Reader) (*header, error) {
	var pre [preambleSize]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, readErr(err, "header")
	}
	if string(pre[:8]) != snapshotMagic {
		return nil, corrupt("not an ets snapshot (bad magic)")
	}
	if uint32(xxhash.Sum64(pre[:14])) != binary.LittleEndian.Uint32(pre[14:]) {
		return nil, corrupt("header preamble checksum mismatch")
	}
	if v := binary.LittleEndian.Uint16(pre[8:]); v != SnapshotVersion {
		return nil, fmt.Errorf("%w: %d (this package reads %d)", ErrSnapshotVersion, v, SnapshotVersion)
	}
	n := binary.LittleEndian.Uint32(pre[10:])
	if n > maxFieldsBytes {
		return nil, corrupt("header of %d bytes", n)
	}
	rest, err := readN(r, int(n)+8, "header")
	if err != nil {
		return nil, err
	}
	d := xxhash.New()
	_, _ = d.Write(pre[:])
	_, _ = d.Write(rest[:n])
	if d.Sum64() != binary.LittleEndian.Uint64(rest[n:]) {
		return nil, corrupt("header checksum mismatch")
	}
	return parseFields(rest[:n])
}

func parseFields(b []byte) (*header, error) {
	const fixed = 6 + 4 + 8 + 8
	if len(b) < fixed {
		return nil, corrupt("header fields too short")
	}
	h := &header{kind: b[0], flags: b[1], access: b[2], writeConc: b[3], readConc: b[4], decentral: b[5]}
	h.shards = binary.LittleEndian.Uint32(b[6:])
	h.count = binary.LittleEndian.Uint64(b[10:])
	h.created = int64(binary.LittleEndian.Uint64(b[18:]))
	b = b[fixed:]
	for _, s := range []*string{&h.keyType, &h.valueType, &h.name, &h.codec} {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return nil, corrupt("header string overruns the header")
		}
		*s, b = string(b[w:w+int(n)]), b[w+int(n):]
	}
	switch {
	case len(b) != 0:
		return nil, corrupt("%d stray bytes in the header", len(b))
	case h.kind < uint8(KindSet) || h.kind > uint8(KindDuplicateBag):
		return nil, corrupt("unknown kind %d", h.kind)
	case h.flags&^flagCustomOrder != 0:
		return nil, corrupt("unknown flags %#x", h.flags)
	case h.access < uint8(Public) || h.access > uint8(Private):
		return nil, corrupt("unknown access %d", h.access)
	case h.writeConc > uint8(WriteConcurrencyOn), h.readConc > 1, h.decentral > 2:
		return nil, corrupt("invalid concurrency options")
	case h.shards > shard.MaxShards || h.shards&(h.shards-1) != 0:
		return nil, corrupt("invalid shard count %d", h.shards)
	case h.count > math.MaxInt:
		return nil, corrupt("object count %d", h.count)
	}
	return h, nil
}

// SnapshotInfo reads and verifies the header of the snapshot r holds and
// describes it (ETS tabfile_info/1), without reading the body: r is left
// positioned at the start of the body. Its errors are those of Load for the
// header: ErrSnapshotTruncated, ErrSnapshotCorrupt, ErrSnapshotVersion.
func SnapshotInfo(r io.Reader) (SnapshotHeader, error) {
	h, err := readHeader(r)
	if err != nil {
		return SnapshotHeader{}, err
	}
	return h.public(), nil
}

// Save writes a snapshot of t to w (ETS tab2file/2): a header with t's kind,
// key and value types, name, options and object count, then its objects,
// encoded with Gob unless WithCodec says otherwise, with checksums. Load
// makes a table from it. The owner and heir are not saved: they are
// goroutines of this process.
//
// Consistency: Save copies t one shard at a time under the shard's read
// lock, as All does (an OrderedSet: one batch of up to 1024 objects at a
// time), and encodes each copy after releasing the lock, so writers wait at
// most for one shard's copy, never for the whole save. Each object is saved
// as it was either before or after any concurrent write to it, never torn,
// and a key present for the whole save is saved exactly once; but shards are
// copied at different moments, so while writers run the snapshot is not a
// point-in-time image of the whole table (batch inserts spanning shards may
// be partly saved). A Set, Bag or DuplicateBag made with WriteConcurrencyOff
// has one shard, and its snapshot is point-in-time; an OrderedSet's never
// is, beyond one batch.
//
// Save encodes the whole body in memory before writing (the header states
// the exact object count), so it needs memory about the size of the
// snapshot. It needs read access (t.Err is returned: ErrAccess, ErrDeleted,
// also when t is dropped during the save); codec errors are returned
// wrapped (errors.Is and errors.As see them), w's as they are. A nil table,
// a codec that writes nothing for a batch, a batch of 4096 objects that
// encodes to more than 1 GiB, and names of more than 1 MiB are
// ErrInvalidOption. Codecs run with no lock held and may call the table. On
// error, w may hold part of a snapshot, which Load rejects; SaveFile never
// leaves one in place of a good file.
func Save(w io.Writer, t Table, opts ...SnapshotOption) error {
	sc := saveConfig{codec: Gob}
	for i, o := range opts {
		if o.apply == nil {
			return fmt.Errorf("%w: snapshot option %d is the zero SnapshotOption", ErrInvalidOption, i)
		}
		if err := o.apply(&sc); err != nil {
			return err
		}
	}
	s, ok := t.(snapshotter)
	if !ok {
		return fmt.Errorf("%w: Save of %T: not a table this package can save", ErrInvalidOption, t)
	}
	if nilTable(t) {
		return fmt.Errorf("%w: Save of a nil %T", ErrInvalidOption, t)
	}
	if err := t.Err(); err != nil {
		return err
	}
	fw := frameWriter{codec: sc.codec}
	if err := s.snapshotObjects(fw.add); err != nil {
		return err
	}
	if err := t.Err(); err != nil {
		return err
	}
	c := t.tableCore()
	st := c.st.Load()
	spec := s.snapshotSpec()
	h := header{
		kind:      uint8(spec.kind),
		access:    uint8(st.access),
		writeConc: uint8(c.cfg.writeConcurrency),
		shards:    uint32(c.cfg.shards),
		count:     fw.count,
		created:   time.Now().UnixNano(),
		keyType:   spec.key.String(),
		valueType: spec.value.String(),
		name:      st.name,
		codec:     sc.codec.Name(),
	}
	if c.cfg.readConcurrency {
		h.readConc = 1
	}
	if d := c.cfg.decentralized; d != nil {
		h.decentral = 1
		if *d {
			h.decentral = 2
		}
	}
	if o, ok := t.(customOrdered); ok && o.snapshotCustomOrder() {
		h.flags |= flagCustomOrder
	}
	fields := h.marshal()
	if len(fields)-preambleSize-8 > maxFieldsBytes {
		// Load would refuse it: a name (or type name) of a megabyte.
		return fmt.Errorf("%w: Save: the header's names take %d bytes, more than the %d a snapshot holds", ErrInvalidOption, len(fields)-preambleSize-8, maxFieldsBytes)
	}
	body := fw.finish()
	if _, err := w.Write(fields); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// frameWriter encodes batches of objects into the body's frames.
type frameWriter struct {
	codec   Codec
	body    bytes.Buffer
	payload bytes.Buffer
	count   uint64
}

func (fw *frameWriter) add(keys, values any) error {
	n := reflect.ValueOf(keys).Len()
	if n <= frameObjects {
		return fw.frame(n, keys, values)
	}
	ks, vs := reflect.ValueOf(keys), reflect.ValueOf(values)
	for i := 0; i < n; i += frameObjects {
		j := min(i+frameObjects, n)
		if err := fw.frame(j-i, ks.Slice(i, j).Interface(), vs.Slice(i, j).Interface()); err != nil {
			return err
		}
	}
	return nil
}

func (fw *frameWriter) frame(n int, keys, values any) error {
	if n == 0 {
		return nil
	}
	fw.payload.Reset()
	enc := fw.codec.NewEncoder(&fw.payload)
	if err := enc.Encode(keys); err != nil {
		return fmt.Errorf("ets: Save: encoding keys with %s: %w", fw.codec.Name(), err)
	}
	if err := enc.Encode(values); err != nil {
		return fmt.Errorf("ets: Save: encoding values with %s: %w", fw.codec.Name(), err)
	}
	if f, ok := enc.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("ets: Save: flushing the %s encoder: %w", fw.codec.Name(), err)
		}
	}
	if c, ok := enc.(io.Closer); ok {
		if err := c.Close(); err != nil {
			return fmt.Errorf("ets: Save: closing the %s encoder: %w", fw.codec.Name(), err)
		}
	}
	if fw.payload.Len() == 0 {
		return fmt.Errorf("%w: Save: the %s encoder wrote nothing for %d objects: an Encoder that buffers needs a Flush or Close method (see Codec)", ErrInvalidOption, fw.codec.Name(), n)
	}
	if fw.payload.Len() > maxFrameBytes {
		return fmt.Errorf("%w: Save: %d objects encode to %d bytes, more than a frame holds", ErrInvalidOption, n, fw.payload.Len())
	}
	fw.writeFrameHeader(uint32(n), uint32(fw.payload.Len()))
	fw.body.Write(fw.payload.Bytes())
	fw.body.Write(binary.LittleEndian.AppendUint64(nil, xxhash.Sum64(fw.payload.Bytes())))
	fw.count += uint64(n)
	return nil
}

func (fw *frameWriter) writeFrameHeader(n, size uint32) {
	var b [frameHeaderSize]byte
	binary.LittleEndian.PutUint32(b[0:], n)
	binary.LittleEndian.PutUint32(b[4:], size)
	binary.LittleEndian.PutUint32(b[8:], uint32(xxhash.Sum64(b[:8])))
	fw.body.Write(b[:])
}

// finish appends the end frame and the trailer and returns the body.
func (fw *frameWriter) finish() []byte {
	fw.writeFrameHeader(0, 0)
	fw.body.Write(binary.LittleEndian.AppendUint64(nil, fw.count))
	fw.body.Write(binary.LittleEndian.AppendUint64(nil, xxhash.Sum64(fw.body.Bytes())))
	return fw.body.Bytes()
}

// Load reads a snapshot written by Save and makes a new table of it (ETS
// file2tab/2). T names the kind and types, as in
// ets.Load[*ets.Set[string, int]](r); a snapshot of another kind or types is
// ErrSnapshotType (which matches ErrWrongType too).
//
// The table gets the saved options (write and read concurrency, shards,
// decentralized counters) and name, then opts on top: WithName to load under
// another name, WithOwner to give it an owner, and so on. The saved access
// level applies only if the table has an owner (a table without owner is
// public) and WithAccess does not override it. Load-only options:
// WithLoadCodec for a snapshot saved WithCodec, WithComparator for an
// OrderedSet made with NewOrderedSetFunc. A saved name cannot be left off
// (WithName("") is ErrInvalidOption, as in a constructor): to load a copy
// while the saved table lives, give it another name, as ETS's file2tab
// needs. Nor can a saved lock count (WithShards): a table saved with one
// keeps it fixed.
//
// Load verifies everything before it makes the table: the header and every
// frame against their checksums (ErrSnapshotCorrupt), the input's length
// (ErrSnapshotTruncated), the format version (ErrSnapshotVersion), the types
// (ErrSnapshotType), the codec (ErrSnapshotCodec) and the object counts
// (ErrSnapshotCount). On any error no table is made and no name is taken.
// The constructor's errors apply too (ErrNameTaken, ErrInvalidOption,
// ErrOwnerDone); an error reading r other than its end is returned wrapped.
// Load reads exactly the snapshot from r, nothing after it. It holds the
// decoded objects in memory while it verifies, then builds the table in O(n)
// (an OrderedSet in O(n log n)). Types are matched by name, as Go prints them
// (reflect.Type.String): two types of that name in different packages, or
// two local types of one name, are not told apart, and a struct type whose
// fields changed loads as the codec decodes it. A table saved without owner
// is public, and saves that access: loaded WithOwner, it stays public unless
// WithAccess says otherwise.
func Load[T Table](r io.Reader, opts ...Option) (T, error) {
	return load[T](r, false, opts)
}

// load is Load; whole says r holds the snapshot and nothing else (a file),
// so that bytes after the trailer are ErrSnapshotCorrupt.
func load[T Table](r io.Reader, whole bool, opts []Option) (T, error) {
	var zero T
	s, ok := any(zero).(snapshotter)
	if !ok {
		return zero, fmt.Errorf("%w: Load into %T: T must be a table kind that supports snapshots, such as *ets.Set[K, V]", ErrInvalidOption, zero)
	}
	h, err := readHeader(r)
	if err != nil {
		return zero, err
	}
	spec := s.snapshotSpec()
	if Kind(h.kind) != spec.kind || h.keyType != spec.key.String() || h.valueType != spec.value.String() {
		return zero, fmt.Errorf("%w (%w): the snapshot holds a %v of %s to %s, not %T",
			ErrSnapshotType, ErrWrongType, Kind(h.kind), h.keyType, h.valueType, zero)
	}
	base := h.config()
	base.load = &loadConfig{codec: Gob}
	cfg, err := configFrom(base, opts)
	if err != nil {
		return zero, err
	}
	lc := cfg.load
	cfg.load = nil
	if cfg.access == 0 && cfg.owner != nil {
		cfg.access = Access(h.access)
	}
	if lc.codec.Name() != h.codec {
		return zero, fmt.Errorf("%w: saved with codec %q, loading with %q", ErrSnapshotCodec, h.codec, lc.codec.Name())
	}
	custom := h.flags&flagCustomOrder != 0
	if custom && lc.compare == nil {
		return zero, fmt.Errorf("%w: the snapshot's %v was ordered by a function: Load it WithComparator", ErrInvalidOption, Kind(h.kind))
	}
	batches, err := readBody(r, h, spec, lc.codec)
	if err != nil {
		return zero, err
	}
	if whole {
		var b [1]byte
		if n, err := io.ReadFull(r, b[:]); n != 0 {
			return zero, corrupt("bytes after the snapshot's trailer")
		} else if err != io.EOF {
			return zero, readErr(err, "end")
		}
	}
	t, err := s.loadTable(&snapshotLoad{cfg: cfg, compare: lc.compare, custom: custom, batches: batches})
	if err != nil {
		return zero, err
	}
	return t.(T), nil
}

// readBody reads, verifies and decodes the frames and the trailer.
func readBody(r io.Reader, h *header, spec snapshotSpec, codec Codec) ([]snapshotBatch, error) {
	d := xxhash.New()
	tr := io.TeeReader(r, d)
	var batches []snapshotBatch
	var got uint64
	for {
		var fh [frameHeaderSize]byte
		if _, err := io.ReadFull(tr, fh[:]); err != nil {
			return nil, readErr(err, "body")
		}
		if uint32(xxhash.Sum64(fh[:8])) != binary.LittleEndian.Uint32(fh[8:]) {
			return nil, corrupt("frame %d: header checksum mismatch", len(batches))
		}
		n, size := binary.LittleEndian.Uint32(fh[0:]), binary.LittleEndian.Uint32(fh[4:])
		if n == 0 {
			if size != 0 {
				return nil, corrupt("end frame with a payload")
			}
			break
		}
		if size == 0 || size > maxFrameBytes {
			return nil, corrupt("frame %d: payload of %d bytes", len(batches), size)
		}
		if uint64(n) > h.count-got {
			return nil, fmt.Errorf("%w: frames hold more than the header's %d objects", ErrSnapshotCount, h.count)
		}
		payload, err := readN(tr, int(size)+8, "body")
		if err != nil {
			return nil, err
		}
		if xxhash.Sum64(payload[:size]) != binary.LittleEndian.Uint64(payload[size:]) {
			return nil, corrupt("frame %d: checksum mismatch", len(batches))
		}
		b, err := decodeFrame(payload[:size], int(n), spec, codec)
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", len(batches), err)
		}
		batches = append(batches, b)
		got += uint64(n)
	}
	var trailer [16]byte
	if _, err := io.ReadFull(tr, trailer[:8]); err != nil {
		return nil, readErr(err, "trailer")
	}
	sum := d.Sum64()
	if _, err := io.ReadFull(r, trailer[8:]); err != nil {
		return nil, readErr(err, "trailer")
	}
	if binary.LittleEndian.Uint64(trailer[8:]) != sum {
		return nil, corrupt("body checksum mismatch")
	}
	if tc := binary.LittleEndian.Uint64(trailer[:8]); got != h.count || tc != got {
		return nil, fmt.Errorf("%w: the header says %d objects, the frames hold %d, the trailer says %d",
			ErrSnapshotCount, h.count, got, tc)
	}
	return batches, nil
}

func decodeFrame(payload []byte, n int, spec snapshotSpec, codec Codec) (snapshotBatch, error) {
	dec := codec.NewDecoder(bytes.NewReader(payload))
	ks := reflect.New(reflect.SliceOf(spec.key))
	vs := reflect.New(reflect.SliceOf(spec.value))
	if err := dec.Decode(ks.Interface()); err != nil {
		return snapshotBatch{}, fmt.Errorf("%w: decoding keys with %s: %w", ErrSnapshotCodec, codec.Name(), err)
	}
	if err := dec.Decode(vs.Interface()); err != nil {
		return snapshotBatch{}, fmt.Errorf("%w: decoding values with %s: %w", ErrSnapshotCodec, codec.Name(), err)
	}
	if ks.Elem().Len() != n || vs.Elem().Len() != n {
		return snapshotBatch{}, fmt.Errorf("%w: frame declares %d objects, decodes to %d keys and %d values",
			ErrSnapshotCount, n, ks.Elem().Len(), vs.Elem().Len())
	}
	return snapshotBatch{ks.Elem().Interface(), vs.Elem().Interface()}, nil
}

// SaveFile saves t to the file at path (ETS tab2file/2), atomically: it
// writes a temporary file in the same directory, syncs it to disk, renames
// it over path and syncs the directory, so that a crash or an error at any
// point leaves either the old file or the new one at path, never a
// truncated one. The file gets the mode of the file it replaces (of a
// symbolic link's target), or 0o600. A symbolic link at path is replaced by
// the file, not followed. See Save for the rest; on error the temporary file
// (named ".NAME.tmp-" and digits, beside path) is removed, but a crash may
// leave one behind. If syncing the directory fails after the rename, the new
// file is in place and SaveFile still returns the error: its rename may not
// survive a crash.
func SaveFile(path string, t Table, opts ...SnapshotOption) error {
	return saveFile(path, t, nil, opts)
}

// saveFile is SaveFile with a hook that wraps the temporary file's writer,
// for tests to inject write failures.
func saveFile(path string, t Table, wrap func(io.Writer) io.Writer, opts []SnapshotOption) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if len(base) > 200 { // leave room for the dot and the suffix in a 255-byte name
		base = base[:200]
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if fi, statErr := os.Stat(path); statErr == nil {
		if err = f.Chmod(fi.Mode().Perm()); err != nil {
			return err
		}
	}
	var w io.Writer = f
	if wrap != nil {
		w = wrap(f)
	}
	if err = Save(w, t, opts...); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory
// (its renames are made durable by the file system), so it is skipped there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// LoadFile loads the snapshot in the file at path (ETS file2tab/1): Load on
// the file's contents, with the same options and errors. The file must hold
// the snapshot and nothing else: bytes after its end are
// ErrSnapshotCorrupt, as a file that SaveFile wrote never has them.
func LoadFile[T Table](path string, opts ...Option) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return load[T](bufio.NewReaderSize(f, 64<<10), true, opts)
}

// Set's snapshot hooks: the model for every kind (see snapshotter).

func (*Set[K, V]) snapshotSpec() snapshotSpec { return snapshotSpecOf[K, V](KindSet) }

func (t *Set[K, V]) snapshotObjects(emit func(keys, values any) error) error {
	return emitShards(t.handle, t.m.CollectInto, emit)
}

// emitShards is snapshotObjects for the hash kinds: it copies one shard at a
// time with collect, as the shard was at one moment, and emits the copy
// once collect has returned.
func emitShards[K, V any](h handle, collect collector[K, V], emit func(keys, values any) error) error {
	var buf []shard.Entry[K, V]
	var ks []K
	var vs []V
	for pos, more := uint64(0), true; more; {
		if err := h.Err(); err != nil {
			return err
		}
		buf, pos, more = collect(pos, buf[:0])
		if len(buf) == 0 {
			continue
		}
		ks, vs = ks[:0], vs[:0]
		for _, e := range buf {
			ks = append(ks, e.Key)
			vs = append(vs, e.Value)
		}
		if err := emit(ks, vs); err != nil {
			return err
		}
	}
	return nil
}

// checkKeys returns an error if a saved key is not equal to itself (see
// nanKey): a snapshot that no table of this version saves, which a hash
// table cannot hold.
func checkKeys[K comparable, V any](l *snapshotLoad) error {
	if !mayHoldNaN(reflect.TypeFor[K]()) {
		return nil
	}
	var err error
	eachLoaded(l, func(k K, _ V) {
		if k != k {
			err = errNaNKey
		}
	})
	return err
}

// eachLoaded calls fn for every saved object, in saved order.
func eachLoaded[K, V any](l *snapshotLoad, fn func(k K, v V)) {
	for _, b := range l.batches {
		vs := b.values.([]V)
		for i, k := range b.keys.([]K) {
			fn(k, vs[i])
		}
	}
}

func (*Set[K, V]) loadTable(l *snapshotLoad) (Table, error) {
	if l.compare != nil {
		return nil, fmt.Errorf("%w: WithComparator applies to an OrderedSet, not a Set", ErrInvalidOption)
	}
	if err := checkKeys[K, V](l); err != nil {
		return nil, err
	}
	m := shard.New[K, V](l.cfg.engine())
	eachLoaded(l, func(k K, v V) { m.Put(k, v, nil) }) // a new Map admits every writer
	if err := l.checkLoaded(m.Len()); err != nil {
		return nil, err
	}
	t, err := newTable[K, V](KindSet, l.cfg, m, func(h handle) *Set[K, V] { return newSetHandle(h, m) })
	if err != nil {
		return nil, err
	}
	return t, nil
}

// The bags' snapshot hooks: one object per element, each key's objects in
// insertion order, which loading by appending in saved order preserves.

func (*Bag[K, V]) snapshotSpec() snapshotSpec { return snapshotSpecOf[K, V](KindBag) }

func (*DuplicateBag[K, V]) snapshotSpec() snapshotSpec {
	return snapshotSpecOf[K, V](KindDuplicateBag)
}

func (t *bag[K, V]) snapshotObjects(emit func(keys, values any) error) error {
	return emitShards(t.handle, t.e.CollectInto, emit)
}

func (*Bag[K, V]) loadTable(l *snapshotLoad) (Table, error) {
	return loadBag(l, KindBag, func(b bag[K, V]) *Bag[K, V] { return &Bag[K, V]{b} })
}

func (*DuplicateBag[K, V]) loadTable(l *snapshotLoad) (Table, error) {
	return loadBag(l, KindDuplicateBag, func(b bag[K, V]) *DuplicateBag[K, V] { return &DuplicateBag[K, V]{b} })
}

func loadBag[K, V comparable, T Table](l *snapshotLoad, kind Kind, wrap func(bag[K, V]) T) (Table, error) {
	if l.compare != nil {
		return nil, fmt.Errorf("%w: WithComparator applies to an OrderedSet, not a %v", ErrInvalidOption, kind)
	}
	if err := checkKeys[K, V](l); err != nil {
		return nil, err
	}
	if check, nan := bagChecks[V](); check || nan {
		var err error
		eachLoaded(l, func(_ K, v V) {
			if err == nil {
				err = checkBagValue(check, nan, kind, v)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	e := shard.NewBag[K, V](l.cfg.engine(), kind == KindDuplicateBag)
	eachLoaded(l, func(k K, v V) { e.Insert(e.Hash(k), k, v, nil) })
	if err := l.checkLoaded(e.Len()); err != nil {
		return nil, err
	}
	t, err := makeBag(kind, l.cfg, e, wrap)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// OrderedSet's snapshot hooks: objects in ascending key order, in batches
// taken as its walks take them (a bounded batch at a time, as Tree.Walk
// copies them).

func (*OrderedSet[K, V]) snapshotSpec() snapshotSpec {
	return snapshotSpecOf[K, V](KindOrderedSet)
}

func (t *OrderedSet[K, V]) snapshotCustomOrder() bool { return t.custom }

func (t *OrderedSet[K, V]) snapshotObjects(emit func(keys, values any) error) error {
	const batch = 4096
	ks := make([]K, 0, batch)
	vs := make([]V, 0, batch)
	for k, v := range t.All() {
		ks, vs = append(ks, k), append(vs, v)
		if len(ks) == batch {
			if err := emit(ks, vs); err != nil {
				return err
			}
			ks, vs = ks[:0], vs[:0]
		}
	}
	if err := t.Err(); err != nil {
		return err
	}
	if len(ks) > 0 {
		return emit(ks, vs)
	}
	return nil
}

func (*OrderedSet[K, V]) loadTable(l *snapshotLoad) (Table, error) {
	var compare func(a, b K) int
	switch c := l.compare.(type) {
	case nil:
		natural, ok := naturalCompare[K]()
		if !ok {
			return nil, fmt.Errorf("%w: Load of an OrderedSet of %v needs WithComparator", ErrInvalidOption, reflect.TypeFor[K]())
		}
		compare = natural
	case func(a, b K) int:
		compare = c
	default:
		return nil, fmt.Errorf("%w: WithComparator(%T) does not compare %v", ErrInvalidOption, l.compare, reflect.TypeFor[K]())
	}
	tr := ordered.NewCompare[K, V](compare, l.cfg.adaptive())
	eachLoaded(l, func(k K, v V) { tr.Put(k, v, nil) })
	if err := l.checkLoaded(tr.Len()); err != nil {
		return nil, err
	}
	t, err := makeOrderedSet[K, V](l.cfg, tr, l.compare != nil)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// naturalCompare returns cmp.Compare for K when K's underlying type is
// ordered (an integer, a float or a string kind), and false otherwise. An
// OrderedSet[K, V any] made with NewOrderedSet[K cmp.Ordered] has no
// comparator to save, and its nil-receiver loadTable cannot name cmp.Compare[K]
// with K unconstrained: it gets the natural order from here.
func naturalCompare[K any]() (func(a, b K) int, bool) {
	switch reflect.TypeFor[K]().Kind() {
	case reflect.Int:
		return compareAs[K, int], true
	case reflect.Int8:
		return compareAs[K, int8], true
	case reflect.Int16:
		return compareAs[K, int16], true
	case reflect.Int32:
		return compareAs[K, int32], true
	case reflect.Int64:
		return compareAs[K, int64], true
	case reflect.Uint:
		return compareAs[K, uint], true
	case reflect.Uint8:
		return compareAs[K, uint8], true
	case reflect.Uint16:
		return compareAs[K, uint16], true
	case reflect.Uint32:
		return compareAs[K, uint32], true
	case reflect.Uint64:
		return compareAs[K, uint64], true
	case reflect.Uintptr:
		return compareAs[K, uintptr], true
	case reflect.Float32:
		return compareAs[K, float32], true
	case reflect.Float64:
		return compareAs[K, float64], true
	case reflect.String:
		return compareAs[K, string], true
	}
	return nil, false
}

// compareAs compares two K as their underlying type U; naturalCompare calls
// it only when K's kind is U's, so the two have the same memory layout.
func compareAs[K any, U cmp.Ordered](a, b K) int {
	return cmp.Compare(*(*U)(unsafe.Pointer(&a)), *(*U)(unsafe.Pointer(&b)))
}
