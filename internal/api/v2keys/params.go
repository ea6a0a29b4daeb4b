package v2keys

import (
	"net/http"
	"net/url"
	"strconv"
)

// params are the request parameters of /v2/keys, decoded once. Pointer and
// *Set fields keep "absent" apart from "present but empty", which v2 gives
// different meanings (prevExist, prevValue).
type params struct {
	value            string
	valueSet         bool
	dir              bool
	ttl              *uint64 // nil: absent or empty, i.e. no TTL
	prevExist        *bool
	prevValue        string
	prevValueSet     bool
	prevIndex        uint64
	recursive        bool
	sorted           bool
	quorum           bool
	wait             bool
	waitIndex        uint64
	refresh          bool
	noValueOnSuccess bool
}

// parseParams decodes form (query merged with an urlencoded body) for a
// request with the given method. Every failure is a v2 request error
// (codes 2xx, HTTP 400, index 0) so a malformed request never becomes a 500.
func parseParams(method string, form url.Values) (params, *Error) {
	var p params
	var err *Error
	boolField := func(name string, dst *bool) {
		if err != nil {
			return
		}
		vs, ok := form[name]
		if !ok || len(vs) == 0 {
			return
		}
		b, perr := strconv.ParseBool(vs[0])
		if perr != nil {
			err = newError(CodeInvalidField, `invalid value for "`+name+`"`, 0)
			return
		}
		*dst = b
	}
	indexField := func(name string, dst *uint64) {
		if err != nil {
			return
		}
		vs, ok := form[name]
		if !ok || len(vs) == 0 {
			return
		}
		n, perr := strconv.ParseUint(vs[0], 10, 64)
		if perr != nil {
			err = newError(CodeIndexNaN, `invalid value for "`+name+`"`, 0)
			return
		}
		*dst = n
	}

	indexField("prevIndex", &p.prevIndex)
	indexField("waitIndex", &p.waitIndex)
	boolField("recursive", &p.recursive)
	boolField("sorted", &p.sorted)
	boolField("wait", &p.wait)
	boolField("dir", &p.dir)
	boolField("quorum", &p.quorum)
	boolField("noValueOnSuccess", &p.noValueOnSuccess)
	boolField("refresh", &p.refresh)
	if err != nil {
		return params{}, err
	}
	if _, ok := form["prevExist"]; ok {
		var b bool
		boolField("prevExist", &b)
		if err != nil {
			return params{}, err
		}
		p.prevExist = &b
	}
	if vs, ok := form["prevValue"]; ok {
		p.prevValueSet = true
		if len(vs) > 0 {
			p.prevValue = vs[0]
		}
		if p.prevValue == "" {
			return params{}, newError(CodePrevValueRequired, `"prevValue" cannot be empty`, 0)
		}
	}
	if vs, ok := form["value"]; ok {
		p.valueSet = true
		if len(vs) > 0 {
			p.value = vs[0]
		}
	}
	// An empty ttl is not an error: it is how a client asks for a node
	// without expiry (e.g. to clear the TTL of an existing key).
	if s := form.Get("ttl"); s != "" {
		n, perr := strconv.ParseUint(s, 10, 64)
		if perr != nil {
			return params{}, newError(CodeTTLNaN, `invalid value for "ttl"`, 0)
		}
		p.ttl = &n
	}
	if p.wait && method != http.MethodGet && method != http.MethodHead {
		return params{}, newError(CodeInvalidField, `"wait" can only be used with GET requests`, 0)
	}
	if p.refresh {
		if p.valueSet && p.value != "" {
			return params{}, newError(CodeRefreshValue, "A value was provided on a refresh", 0)
		}
		if p.ttl == nil {
			return params{}, newError(CodeRefreshTTLRequired, "No TTL value set", 0)
		}
	}
	return p, nil
}

// requestParams parses the query and, for PUT/POST/DELETE, an urlencoded
// body; a body that cannot be parsed is error 210.
func requestParams(r *http.Request) (params, *Error) {
	if err := r.ParseForm(); err != nil {
		return params{}, newError(CodeInvalidForm, err.Error(), 0)
	}
	return parseParams(r.Method, r.Form)
}
