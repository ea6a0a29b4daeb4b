package v2keys

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Error codes of the v2 keys API. The numbers are part of the wire contract:
// v2 clients switch on them.
const (
	CodeKeyNotFound        = 100
	CodeTestFailed         = 101
	CodeNotFile            = 102
	CodeNotDir             = 104
	CodeNodeExist          = 105
	CodeRootROnly          = 107
	CodeDirNotEmpty        = 108
	CodeUnauthorized       = 110
	CodePrevValueRequired  = 201
	CodeTTLNaN             = 202
	CodeIndexNaN           = 203
	CodeInvalidField       = 209
	CodeInvalidForm        = 210
	CodeRefreshValue       = 211
	CodeRefreshTTLRequired = 212
	CodeRaftInternal       = 300
	CodeLeaderElect        = 301
	CodeWatcherCleared     = 400
	CodeEventIndexCleared  = 401
)

// messages are the fixed texts v2 pairs with each code; clients print them.
var messages = map[int]string{
	CodeKeyNotFound:        "Key not found",
	CodeTestFailed:         "Compare failed",
	CodeNotFile:            "Not a file",
	CodeNotDir:             "Not a directory",
	CodeNodeExist:          "Key already exists",
	CodeRootROnly:          "Root is read only",
	CodeDirNotEmpty:        "Directory not empty",
	CodeUnauthorized:       "The request requires user authentication",
	CodePrevValueRequired:  "PrevValue is Required in POST form",
	CodeTTLNaN:             "The given TTL in POST form is not a number",
	CodeIndexNaN:           "The given index in POST form is not a number",
	CodeInvalidField:       "Invalid field",
	CodeInvalidForm:        "Invalid POST form",
	CodeRefreshValue:       "Value provided on refresh",
	CodeRefreshTTLRequired: "A TTL must be provided on refresh",
	CodeRaftInternal:       "Raft Internal Error",
	CodeLeaderElect:        "During Leader Election",
	CodeWatcherCleared:     "watcher is cleared due to etcd recovery",
	CodeEventIndexCleared:  "The event in requested index is outdated and cleared",
}

// statuses maps codes to HTTP statuses; every code not listed is a 400, as
// in etcd.
var statuses = map[int]int{
	CodeKeyNotFound:    http.StatusNotFound,
	CodeNotFile:        http.StatusForbidden,
	CodeDirNotEmpty:    http.StatusForbidden,
	CodeUnauthorized:   http.StatusUnauthorized,
	CodeTestFailed:     http.StatusPreconditionFailed,
	CodeNodeExist:      http.StatusPreconditionFailed,
	CodeRaftInternal:   http.StatusInternalServerError,
	CodeLeaderElect:    http.StatusInternalServerError,
	CodeWatcherCleared: http.StatusInternalServerError,
}

// ErrV2 is matched by every *Error through errors.Is, so callers can tell a
// v2 protocol error from a transport failure without a type switch.
var ErrV2 = errors.New("v2keys: v2 error")

// Error is a v2 error response body. Index is the store revision when the
// error was found; request (form) errors carry 0, as etcd's do.
type Error struct {
	Code    int    `json:"errorCode"`
	Message string `json:"message"`
	Cause   string `json:"cause,omitempty"`
	Index   uint64 `json:"index"`
}

func newError(code int, cause string, index int64) *Error {
	if index < 0 {
		index = 0
	}
	return &Error{Code: code, Message: messages[code], Cause: cause, Index: uint64(index)}
}

func (e *Error) Error() string {
	return "v2keys: " + strconv.Itoa(e.Code) + ": " + e.Message + " (" + e.Cause + ") [" + strconv.FormatUint(e.Index, 10) + "]"
}

// Is makes errors.Is(err, ErrV2) true for every *Error.
func (e *Error) Is(target error) bool { return target == ErrV2 }

// Status is the HTTP status the error is sent with.
func (e *Error) Status() int {
	if s, ok := statuses[e.Code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// write sends e as etcd does: JSON body, X-Etcd-Index set to the error's
// index so that clients can resume watches from it.
func (e *Error) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Etcd-Index", strconv.FormatUint(e.Index, 10))
	w.WriteHeader(e.Status())
	b, _ := json.Marshal(e)
	_, _ = w.Write(append(b, '\n'))
}
