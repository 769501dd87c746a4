// tlog_peer reads a credanchor node's log as C2SP tlog-tiles (SPEC §8 "Static tiles") with
// Go's golang.org/x/mod/sumdb/tlog and sumdb/note, the implementation the Go checksum
// database runs, so the node's tiles are judged by code nobody here wrote (issue #19).
//
// Given the node's base URL it:
//   - reads <base>/tlog/checkpoint and verifies its signature with note.Open against the
//     verifier key the node publishes at <base>/v1/log/key (the C2SP note verifier format);
//   - parses the checkpoint body (origin, size, base64 root; C2SP tlog-checkpoint);
//   - reads tiles through tlog.TileHashReader with a TileReader over HTTP (Go names a tile
//     tile/8/<L>/<N>[.p/<W>], with the height; tlog-tiles drops it: tile/<L>/<N>[.p/<W>]),
//     which checks every tile it loads against the tree, and computes tlog.TreeHash;
//   - for each -leaf index, reads the entry bundle holding it, takes the entry (the 32-byte
//     digest), hashes it as an RFC 6962 leaf (tlog.RecordHash: SHA-256(0x00 || entry)) and
//     proves it with tlog.ProveRecord + tlog.CheckRecord against the checkpoint;
//   - with -old, an earlier checkpoint note of the same log (a file): verifies it, recomputes
//     its root from tiles of that smaller tree (partial tiles of the old widths) and proves
//     consistency with tlog.ProveTree + tlog.CheckTree.
//
// It prints one JSON object on stdout and exits 0 whenever it could report; the test judges
// the report (tests/integration/test_tlog_tiles.py). Exit 2: bad arguments.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const tileHeight = 8

// The largest body the peer reads: a full entry bundle is 256 * 34 bytes; a checkpoint or
// a key is far smaller.
const maxBody = 1 << 16

type checkpoint struct {
	Origin string `json:"origin"`
	Size   int64  `json:"size"`
	Root   string `json:"root"`
	hash   tlog.Hash
}

type inclusion struct {
	Index  int64  `json:"index"`
	Digest string `json:"digest,omitempty"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
}

type consistency struct {
	From           int64  `json:"from"`
	To             int64  `json:"to"`
	OldSigned      bool   `json:"oldSignatureVerified"`
	OldRootMatches bool   `json:"oldRootMatchesTiles"`
	OK             bool   `json:"ok"`
	Error          string `json:"error,omitempty"`
}

type report struct {
	Base              string       `json:"base"`
	Key               string       `json:"key"`
	SignatureVerified bool         `json:"signatureVerified"`
	Checkpoint        *checkpoint  `json:"checkpoint,omitempty"`
	TreeHash          string       `json:"treeHash,omitempty"`
	RootMatches       bool         `json:"rootMatches"`
	Inclusion         []inclusion  `json:"inclusion"`
	Consistency       *consistency `json:"consistency,omitempty"`
	TilesFetched      []string     `json:"tilesFetched"`
	Errors            []string     `json:"errors"`
}

type client struct {
	base string
	http *http.Client
	mu   sync.Mutex
	got  []string
}

// get fetches base + "/" + path and insists on 200 and, when want >= 0, that many bytes.
func (c *client) get(path string, want int) ([]byte, error) {
	resp, err := c.http.Get(c.base + "/" + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	if len(body) > maxBody || (want >= 0 && len(body) != want) {
		return nil, fmt.Errorf("GET %s: %d bytes, want %d", path, len(body), want)
	}
	c.mu.Lock()
	c.got = append(c.got, path)
	c.mu.Unlock()
	return body, nil
}

// tilesPath maps Go's tile path (tile/8/<L>/<N>...) to tlog-tiles' (tile/<L>/<N>...).
func tilesPath(t tlog.Tile) string {
	p := t.Path()
	prefix := "tile/" + strconv.Itoa(tileHeight) + "/"
	if !strings.HasPrefix(p, prefix) {
		panic("unexpected tile path " + p)
	}
	return "tile/" + strings.TrimPrefix(p, prefix)
}

// bundlePath is the entry bundle beside level-0 tile t: tile/entries/<N>[.p/<W>].
func bundlePath(t tlog.Tile) string {
	return "tile/entries/" + strings.TrimPrefix(tilesPath(t), "tile/0/")
}

// tileReader serves tlog.TileHashReader from the node over HTTP.
type tileReader struct{ c *client }

func (r tileReader) Height() int { return tileHeight }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		b, err := r.c.get("tlog/"+tilesPath(t), t.W*tlog.HashSize)
		if err != nil {
			return nil, err
		}
		data[i] = b
	}
	return data, nil
}

func (r tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

// parseCheckpoint opens a signed note with the log's verifier and reads its body.
func parseCheckpoint(text []byte, verifiers note.Verifiers) (*checkpoint, bool, error) {
	signed := false
	n, err := note.Open(text, verifiers)
	if err == nil {
		signed = true
	} else if e, ok := err.(*note.UnverifiedNoteError); ok {
		n = e.Note
	} else {
		return nil, false, fmt.Errorf("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return nil, signed, fmt.Errorf("checkpoint body has %d lines", len(lines)-1)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return nil, signed, fmt.Errorf("checkpoint size %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		return nil, signed, fmt.Errorf("checkpoint root %q", lines[2])
	}
	cp := &checkpoint{Origin: lines[0], Size: size, Root: lines[2]}
	copy(cp.hash[:], raw)
	return cp, signed, nil
}

// entryAt reads the entry bundle holding leaf index in a tree of size leaves and returns
// that entry, checking every length prefix of the bundle.
func entryAt(c *client, index, size int64) ([]byte, error) {
	t := tlog.Tile{H: tileHeight, L: 0, N: index / 256, W: 256}
	if (t.N+1)*256 > size {
		t.W = int(size - t.N*256) // the partial bundle of the tree's last leaves
	}
	b, err := c.get("tlog/"+bundlePath(t), -1)
	if err != nil {
		return nil, err
	}
	var entries [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("bundle %d: a truncated length prefix", t.N)
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, fmt.Errorf("bundle %d: entry %d runs past the end", t.N, len(entries))
		}
		entries = append(entries, b[2:2+n])
		b = b[2+n:]
	}
	if len(entries) != t.W {
		return nil, fmt.Errorf("bundle %d: %d entries, want %d", t.N, len(entries), t.W)
	}
	return entries[index-t.N*256], nil
}

func prove(c *client, hr tlog.HashReader, cp *checkpoint, index int64) inclusion {
	res := inclusion{Index: index}
	entry, err := entryAt(c, index, cp.Size)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Digest = hex.EncodeToString(entry)
	leaf := tlog.RecordHash(entry)
	// The bundle's entry hashes to the level-0 tile's hash (tlog-tiles, "Log entries").
	hashes, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
	if err != nil {
		res.Error = "level-0 tile: " + err.Error()
		return res
	}
	if hashes[0] != leaf {
		res.Error = "the entry does not hash to the level-0 tile's leaf hash"
		return res
	}
	p, err := tlog.ProveRecord(cp.Size, index, hr)
	if err == nil {
		err = tlog.CheckRecord(p, cp.Size, cp.hash, index, leaf)
	}
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.OK = true
	return res
}

func consistent(c *client, verifiers note.Verifiers, hr tlog.HashReader, cp *checkpoint,
	oldFile string) *consistency {
	res := &consistency{To: cp.Size}
	text, err := os.ReadFile(oldFile)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	old, signed, err := parseCheckpoint(text, verifiers)
	if err != nil {
		res.Error = "old checkpoint: " + err.Error()
		return res
	}
	res.From, res.OldSigned = old.Size, signed
	// The old tree's root from the old tree's own tiles (partial ones of the old widths,
	// which the node still serves after the tree grew).
	oldHR := tlog.TileHashReader(tlog.Tree{N: old.Size, Hash: old.hash}, tileReader{c})
	if th, err := tlog.TreeHash(old.Size, oldHR); err != nil {
		res.Error = "old tree hash: " + err.Error()
		return res
	} else {
		res.OldRootMatches = th == old.hash
	}
	p, err := tlog.ProveTree(cp.Size, old.Size, hr)
	if err == nil {
		err = tlog.CheckTree(p, cp.Size, cp.hash, old.Size, old.hash)
	}
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.OK = true
	return res
}

func main() {
	base := flag.String("base", "", "the node's public URL (tiles are under <base>/tlog/)")
	leaves := flag.String("leaf", "", "comma-separated leaf indexes to prove")
	oldFile := flag.String("old", "", "a file holding an earlier checkpoint note")
	flag.Parse()
	if *base == "" {
		fmt.Fprintln(os.Stderr, "usage: tlog_peer -base URL [-leaf i,j,...] [-old FILE]")
		os.Exit(2)
	}
	c := &client{base: strings.TrimSuffix(*base, "/"),
		http: &http.Client{Timeout: 30 * time.Second}}
	rep := &report{Base: c.base, Inclusion: []inclusion{}, Errors: []string{}}
	defer func() {
		rep.TilesFetched = c.got
		out, _ := json.Marshal(rep)
		fmt.Println(string(out))
	}()
	fail := func(format string, a ...interface{}) {
		rep.Errors = append(rep.Errors, fmt.Sprintf(format, a...))
	}

	key, err := c.get("v1/log/key", -1)
	if err != nil {
		fail("key: %v", err)
		return
	}
	rep.Key = string(bytes.TrimSpace(key))
	v, err := note.NewVerifier(rep.Key)
	if err != nil {
		fail("note.NewVerifier(%q): %v", rep.Key, err)
		return
	}
	verifiers := note.VerifierList(v)
	text, err := c.get("tlog/checkpoint", -1)
	if err != nil {
		fail("checkpoint: %v", err)
		return
	}
	cp, signed, err := parseCheckpoint(text, verifiers)
	rep.SignatureVerified = signed
	if err != nil {
		fail("checkpoint: %v", err)
		return
	}
	rep.Checkpoint = cp
	tree := tlog.Tree{N: cp.Size, Hash: cp.hash}
	hr := tlog.TileHashReader(tree, tileReader{c})
	th, err := tlog.TreeHash(cp.Size, hr)
	if err != nil {
		fail("TreeHash: %v", err)
		return
	}
	rep.TreeHash = base64.StdEncoding.EncodeToString(th[:])
	rep.RootMatches = th == cp.hash
	for _, s := range strings.Split(*leaves, ",") {
		if s == "" {
			continue
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil || i < 0 || i >= cp.Size {
			rep.Inclusion = append(rep.Inclusion, inclusion{Index: i,
				Error: "not a leaf index of the checkpoint's tree: " + s})
			continue
		}
		rep.Inclusion = append(rep.Inclusion, prove(c, hr, cp, i))
	}
	if *oldFile != "" {
		rep.Consistency = consistent(c, verifiers, hr, cp, *oldFile)
	}
}
