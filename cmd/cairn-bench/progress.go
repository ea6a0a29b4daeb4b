package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// isTerminal reports whether w is a terminal, where a redrawn progress bar
// makes sense; anywhere else (a file, a pipe, a CI log) it would be noise.
// A character device that is not /dev/null is taken for a terminal, which
// needs no dependency beyond os.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

// progressInterval is how often the progress bar is redrawn.
const progressInterval = 200 * time.Millisecond

// showProgress draws a progress bar of done() out of total on stderr
// until the returned function is called, which draws it one last time and
// ends the line. Without a terminal it does nothing.
func (b *bench) showProgress(label string, total int, done func() int64) (stop func()) {
	if !b.progress || total <= 0 {
		return func() {}
	}
	w := b.g.stderr
	draw := func() {
		n := min(done(), int64(total))
		const width = 40
		filled := int(n * width / int64(total))
		fmt.Fprintf(w, "\r%-14s [%s%s] %d/%d", label, strings.Repeat("#", filled), strings.Repeat(".", width-filled), n, total)
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				draw()
			case <-quit:
				return
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
		draw()
		fmt.Fprintln(w)
	}
}
