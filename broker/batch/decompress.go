package batch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// MaxDecompressedSize is the default bound on the decompressed size of one
// batch's records section (see [Iterator.SetDecompressLimit]).
const MaxDecompressedSize = 256 << 20

// errTooLarge is the cause reported when a records section would decompress
// past the limit.
var errTooLarge = errors.New("decompressed size exceeds the limit")

// decompressor decodes compressed records sections into a caller-owned
// buffer without ever growing it past a limit. It uses the same codec
// libraries franz-go does, but not franz-go's exported decompressor: that
// one can only be bounded at 2 GiB, and zstd and snappy allocate the size a
// frame claims up front, so a few crafted bytes could claim gigabytes.
// Codec readers are created on first use and kept for reuse.
type decompressor struct {
	src       bytes.Reader
	gzip      *gzip.Reader
	lz4       *lz4.Reader
	zstd      *zstd.Decoder
	zstdLimit int // the limit zstd was created with
}

// decompress decodes src, compressed with codec, into dst's capacity
// (growing it if needed, up to limit bytes) and returns the decoded bytes.
func (d *decompressor) decompress(dst, src []byte, codec Codec, limit int) ([]byte, error) {
	dst = dst[:0]
	switch codec {
	case Gzip:
		d.src.Reset(src)
		if d.gzip == nil {
			d.gzip = new(gzip.Reader)
		}
		if err := d.gzip.Reset(&d.src); err != nil {
			return nil, err
		}
		return readLimited(d.gzip, dst, limit)
	case LZ4:
		d.src.Reset(src)
		if d.lz4 == nil {
			d.lz4 = lz4.NewReader(&d.src)
		} else {
			d.lz4.Reset(&d.src)
		}
		return readLimited(d.lz4, dst, limit)
	case Snappy:
		if isXerial(src) {
			return decodeXerial(dst, src, limit)
		}
		return decodeSnappyBlock(dst, src, limit)
	case Zstd:
		z, err := d.zstdDecoder(limit)
		if err != nil {
			return nil, err
		}
		out, err := z.DecodeAll(src, dst)
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return nil, fmt.Errorf("%w (%d bytes): %w", errTooLarge, limit, err)
		}
		return out, err
	}
	return nil, fmt.Errorf("%w: %v", ErrBadCodec, codec)
}

func (d *decompressor) zstdDecoder(limit int) (*zstd.Decoder, error) {
	if d.zstd != nil && d.zstdLimit == limit {
		return d.zstd, nil
	}
	if d.zstd != nil {
		d.zstd.Close()
	}
	window := min(max(uint64(limit), zstd.MinWindowSize), zstd.MaxWindowSize)
	z, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1), // DecodeAll only: no goroutines
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(uint64(limit)),
		zstd.WithDecoderMaxWindow(window),
	)
	if err != nil {
		return nil, err
	}
	d.zstd, d.zstdLimit = z, limit
	return z, nil
}

// readLimited reads r to its end into dst, failing once more than limit
// bytes arrive. dst never grows past limit+1 bytes.
func readLimited(r io.Reader, dst []byte, limit int) ([]byte, error) {
	for {
		if len(dst) == min(cap(dst), limit+1) {
			if len(dst) > limit {
				return nil, fmt.Errorf("%w (%d bytes)", errTooLarge, limit)
			}
			grow := min(max(len(dst), 4096), limit+1-len(dst))
			dst = slices.Grow(dst, grow)
		}
		// Allocation rounds capacities up; never offer room past limit+1.
		n, err := r.Read(dst[len(dst):min(cap(dst), limit+1)])
		dst = dst[:len(dst)+n]
		if len(dst) > limit {
			return nil, fmt.Errorf("%w (%d bytes)", errTooLarge, limit)
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// The Java producer frames snappy the way the xerial library does: a magic
// header, two big-endian int32 versions, then blocks of a big-endian int32
// length followed by a raw snappy block.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const xerialHeaderSize = 16

func isXerial(src []byte) bool {
	return len(src) >= xerialHeaderSize && bytes.HasPrefix(src, xerialMagic)
}

var errXerialFraming = errors.New("malformed xerial snappy framing")

func decodeXerial(dst, src []byte, limit int) ([]byte, error) {
	body := src[xerialHeaderSize:]
	// Sum the claimed sizes first so that dst grows once and a claim past
	// the limit allocates nothing.
	total := 0
	for rest := body; len(rest) > 0; {
		block, next, err := xerialBlock(rest)
		if err != nil {
			return nil, err
		}
		n, err := s2.DecodedLen(block)
		if err != nil {
			return nil, err
		}
		if n > limit-total {
			return nil, fmt.Errorf("%w (%d bytes)", errTooLarge, limit)
		}
		total += n
		rest = next
	}
	dst = slices.Grow(dst, total)
	for rest := body; len(rest) > 0; {
		block, next, _ := xerialBlock(rest)
		out, err := s2.Decode(dst[len(dst):cap(dst)], block)
		if err != nil {
			return nil, err
		}
		dst = dst[:len(dst)+len(out)]
		rest = next
	}
	return dst, nil
}

func xerialBlock(b []byte) (block, rest []byte, err error) {
	if len(b) < 4 {
		return nil, nil, errXerialFraming
	}
	n := binary.BigEndian.Uint32(b)
	b = b[4:]
	if uint64(n) > uint64(len(b)) {
		return nil, nil, errXerialFraming
	}
	return b[:n], b[n:], nil
}

func decodeSnappyBlock(dst, src []byte, limit int) ([]byte, error) {
	n, err := s2.DecodedLen(src)
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%w (%d bytes)", errTooLarge, limit)
	}
	return s2.Decode(slices.Grow(dst, n), src)
}
