package watch

// Stream is a set of watchers sharing one response channel, as the watchers
// of one gRPC Watch call. Its methods are safe for concurrent use; its
// fields are protected by Hub.mu.
type Stream struct {
	hub *Hub
	ch  chan Response

	closed   bool
	watchers map[int64]*watcher
	nextID   int64 // next candidate for an automatic ID
}

// Chan returns the channel of the stream's responses. It is closed by Close
// or by the hub's Close.
func (s *Stream) Chan() <-chan Response { return s.ch }

// Watch adds a watcher and returns its ID. Its events start at
// req.StartRev; a start revision already compacted yields one Response with
// CompactRevision set.
func (s *Stream) Watch(req WatchRequest) (id int64, err error) {
	kind, key, end, err := keyRange(req.Key, req.End)
	switch {
	case err != nil:
		return -1, err
	case req.StartRev < 0:
		return -1, ErrInvalidStartRev
	case req.ID < 0:
		return -1, ErrInvalidID
	}

	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed {
		return -1, ErrClosed
	}
	id = req.ID
	if id == AutoID {
		for s.watchers[s.nextID] != nil {
			s.nextID++
		}
		id = s.nextID
		s.nextID++
	} else if s.watchers[id] != nil {
		return -1, ErrDuplicateID
	}

	rev := h.mu.rev
	w := &watcher{
		id:             id,
		stream:         s,
		kind:           kind,
		key:            key,
		end:            end,
		noPut:          req.NoPut,
		noDelete:       req.NoDelete,
		prevKV:         req.PrevKV,
		progressNotify: req.ProgressNotify,
		createdRev:     rev,
	}
	if req.StartRev == 0 || req.StartRev > rev {
		w.minRev = max(req.StartRev, rev+1)
		w.state = stateSynced
		h.mu.synced.add(w)
	} else {
		w.minRev = req.StartRev
		w.state = stateUnsynced
		h.mu.unsynced[w] = struct{}{}
		h.wakeLocked()
	}
	s.watchers[id] = w
	if req.ProgressNotify {
		h.mu.progress[w] = struct{}{}
	}
	return id, nil
}

// CreatedRev returns the hub's revision when watcher id was created: the
// header revision of its creation response. It returns 0 for an unknown id.
func (s *Stream) CreatedRev(id int64) int64 {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if w := s.watchers[id]; w != nil {
		return w.createdRev
	}
	return 0
}

// Cancel removes watcher id; responses of it still queued become Stale.
func (s *Stream) Cancel(id int64) error {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	w := s.watchers[id]
	if w == nil {
		return ErrWatcherNotExist
	}
	h.removeLocked(w)
	delete(s.watchers, id)
	if _, ok := h.mu.progressWanted[s]; ok && h.streamProgressLocked(s) {
		delete(h.mu.progressWanted, s)
	}
	return nil
}

// RequestProgress asks for a Response with WatchID ProgressID and the hub's
// revision. It is sent once every watcher of the stream is synced (at once
// if they are), in order with the events; with no watcher nothing is sent.
// Requests made while one is waiting are merged into it.
func (s *Stream) RequestProgress() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed {
		return
	}
	if !h.streamProgressLocked(s) {
		h.mu.progressWanted[s] = struct{}{}
		h.wakeLocked()
	}
}

// Close removes every watcher of the stream and closes its channel.
func (s *Stream) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.closeStreamLocked(s)
}
