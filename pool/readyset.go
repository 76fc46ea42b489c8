package pool

import "math/bits"

// readySet is the set of account positions that can serve a request now
// (enabled, not waiting for a login, not cooling down as a whole). A
// second level of bits, one per word, makes finding the next ready
// position after i cost a few word operations even when thousands of
// accounts ahead of it are cooling: this is what keeps Acquire from
// walking the whole pool.
type readySet struct {
	n     int
	words []uint64
	sum   []uint64 // bit j set when words[j] != 0
}

// reset empties the set and sizes it for n positions.
func (r *readySet) reset(n int) {
	nw := (n + 63) / 64
	ns := (nw + 63) / 64
	r.n = n
	r.words = resize(r.words, nw)
	r.sum = resize(r.sum, ns)
}

func resize(s []uint64, n int) []uint64 {
	if cap(s) < n {
		return make([]uint64, n)
	}
	s = s[:n]
	clear(s)
	return s
}

func (r *readySet) set(i int) {
	w := i >> 6
	r.words[w] |= 1 << (uint(i) & 63)
	r.sum[w>>6] |= 1 << (uint(w) & 63)
}

func (r *readySet) clear(i int) {
	w := i >> 6
	r.words[w] &^= 1 << (uint(i) & 63)
	if r.words[w] == 0 {
		r.sum[w>>6] &^= 1 << (uint(w) & 63)
	}
}

func (r *readySet) has(i int) bool {
	return i >= 0 && i < r.n && r.words[i>>6]&(1<<(uint(i)&63)) != 0
}

// next returns the smallest position >= i in the set, or -1.
func (r *readySet) next(i int) int {
	if i < 0 {
		i = 0
	}
	if i >= r.n {
		return -1
	}
	w := i >> 6
	if b := r.words[w] & (^uint64(0) << (uint(i) & 63)); b != 0 {
		return w<<6 + bits.TrailingZeros64(b)
	}
	// Find the next non-empty word through the summary.
	w++
	if w >= len(r.words) {
		return -1
	}
	s := w >> 6
	b := r.sum[s] & (^uint64(0) << (uint(w) & 63))
	for b == 0 {
		s++
		if s >= len(r.sum) {
			return -1
		}
		b = r.sum[s]
	}
	j := s<<6 + bits.TrailingZeros64(b)
	return j<<6 + bits.TrailingZeros64(r.words[j])
}
