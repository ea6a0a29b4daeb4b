package e2e

import (
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// txnLease is the lease the txn script attaches t/y to.
const txnLease = 0x7000

// scriptTxn covers Txn: every compare target and result, compares over a
// range and on missing keys, every op kind in both branches, nested txns,
// and the request errors (duplicate key, too many ops, empty key).
func scriptTxn(s *session) {
	s.grant("txn: grant the lease of t/y", txnLease, 600)
	s.do("txn: put t/x", clientv3.OpPut("t/x", "10"))
	s.do("txn: put t/y with a lease", clientv3.OpPut("t/y", "a", clientv3.WithLease(txnLease)))
	xCreate := s.rev() - 1

	type cmpCase struct {
		name string
		cmp  clientv3.Cmp
	}
	get := []clientv3.Op{clientv3.OpGet("t/", clientv3.WithPrefix())}
	for _, c := range []cmpCase{
		{"value = (true)", clientv3.Compare(clientv3.Value("t/x"), "=", "10")},
		{"value = (false)", clientv3.Compare(clientv3.Value("t/x"), "=", "11")},
		{"value != (true)", clientv3.Compare(clientv3.Value("t/x"), "!=", "11")},
		{"value > (bytewise, true)", clientv3.Compare(clientv3.Value("t/x"), ">", "1")},
		{"value < (bytewise, false)", clientv3.Compare(clientv3.Value("t/x"), "<", "1")},
		{"version =", clientv3.Compare(clientv3.Version("t/x"), "=", 1)},
		{"version >", clientv3.Compare(clientv3.Version("t/x"), ">", 1)},
		{"version <", clientv3.Compare(clientv3.Version("t/x"), "<", 2)},
		{"version !=", clientv3.Compare(clientv3.Version("t/x"), "!=", 1)},
		{"create_revision =", clientv3.Compare(clientv3.CreateRevision("t/x"), "=", xCreate)},
		{"create_revision >", clientv3.Compare(clientv3.CreateRevision("t/x"), ">", xCreate)},
		{"mod_revision <", clientv3.Compare(clientv3.ModRevision("t/x"), "<", xCreate+1)},
		{"mod_revision !=", clientv3.Compare(clientv3.ModRevision("t/y"), "!=", xCreate+1)},
		{"lease =", clientv3.Compare(clientv3.LeaseValue("t/y"), "=", txnLease)},
		{"lease > on a key without lease", clientv3.Compare(clientv3.LeaseValue("t/x"), ">", 0)},
		{"missing key: version = 0", clientv3.Compare(clientv3.Version("t/missing"), "=", 0)},
		{"missing key: create_revision = 0", clientv3.Compare(clientv3.CreateRevision("t/missing"), "=", 0)},
		{"missing key: mod_revision < 5", clientv3.Compare(clientv3.ModRevision("t/missing"), "<", 5)},
		{"missing key: lease = 0", clientv3.Compare(clientv3.LeaseValue("t/missing"), "=", 0)},
		{"missing key: value = empty", clientv3.Compare(clientv3.Value("t/missing"), "=", "")},
		{"missing key: value != x", clientv3.Compare(clientv3.Value("t/missing"), "!=", "x")},
		{"range: version > 0 over the prefix", clientv3.Compare(clientv3.Version("t/"), ">", 0).WithPrefix()},
		{"range: value = 10 over the prefix", clientv3.Compare(clientv3.Value("t/"), "=", "10").WithPrefix()},
		{"range: mod_revision < big over [t/x, t/z)", clientv3.Compare(clientv3.ModRevision("t/x"), "<", 1<<40).WithRange("t/z")},
		{"range: value = x over an empty range", clientv3.Compare(clientv3.Value("u/"), "=", "x").WithPrefix()},
		{"range: version = 0 over an empty range", clientv3.Compare(clientv3.Version("u/"), "=", 0).WithPrefix()},
		{"range: from key t/y, create_revision > 0", clientv3.Compare(clientv3.CreateRevision("t/y"), ">", 0).WithRange("\x00")},
	} {
		s.txn("txn: compare "+c.name, []clientv3.Cmp{c.cmp}, get, []clientv3.Op{clientv3.OpGet("t/x", clientv3.WithKeysOnly())})
	}

	s.txn("txn: two compares, second false", []clientv3.Cmp{
		clientv3.Compare(clientv3.Value("t/x"), "=", "10"),
		clientv3.Compare(clientv3.Version("t/y"), "=", 7),
	}, get, nil)
	s.txn("txn: empty", nil, nil, nil)
	s.txn("txn: read-only, every range shape", nil, []clientv3.Op{
		clientv3.OpGet("t/x"),
		clientv3.OpGet("t/", clientv3.WithPrefix(), clientv3.WithCountOnly()),
		clientv3.OpGet("t/", clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(1)),
		clientv3.OpGet("t/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByValue, clientv3.SortDescend)),
	}, nil)
	s.txn("txn: success branch with every op kind", []clientv3.Cmp{
		clientv3.Compare(clientv3.Version("t/x"), "=", 1),
	}, []clientv3.Op{
		clientv3.OpPut("t/x", "11", clientv3.WithPrevKV()),
		clientv3.OpPut("t/z", "new"),
		clientv3.OpDelete("t/y", clientv3.WithPrevKV()),
		clientv3.OpGet("t/", clientv3.WithPrefix()),
	}, nil)
	s.txn("txn: failure branch with every op kind", []clientv3.Cmp{
		clientv3.Compare(clientv3.Version("t/x"), "=", 1),
	}, nil, []clientv3.Op{
		clientv3.OpPut("t/x", "12", clientv3.WithPrevKV()),
		clientv3.OpDelete("t/z", clientv3.WithPrevKV()),
		clientv3.OpGet("t/", clientv3.WithPrefix()),
	})
	s.txn("txn: nested txn in the success branch", nil, []clientv3.Op{
		clientv3.OpTxn(
			[]clientv3.Cmp{clientv3.Compare(clientv3.Value("t/x"), "=", "12")},
			[]clientv3.Op{clientv3.OpPut("t/n", "then")},
			[]clientv3.Op{clientv3.OpPut("t/n", "else")},
		),
		clientv3.OpGet("t/n"),
	}, nil)
	s.txn("txn: nested twice, in the failure branch", []clientv3.Cmp{
		clientv3.Compare(clientv3.Value("t/n"), "=", "nope"),
	}, nil, []clientv3.Op{
		clientv3.OpTxn(nil, []clientv3.Op{
			clientv3.OpTxn(
				[]clientv3.Cmp{clientv3.Compare(clientv3.Version("t/n"), ">", 0)},
				[]clientv3.Op{clientv3.OpPut("t/deep", "1", clientv3.WithPrevKV()), clientv3.OpGet("t/n")},
				nil,
			),
		}, nil),
	})
	s.txn("txn: same key in the two branches of a nested txn", nil, []clientv3.Op{
		clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpPut("t/b", "1")}, []clientv3.Op{clientv3.OpPut("t/b", "2")}),
	}, nil)
	s.txn("txn: same key in the two branches of the txn", nil,
		[]clientv3.Op{clientv3.OpPut("t/b", "3")}, []clientv3.Op{clientv3.OpPut("t/b", "4")})

	// Request errors.
	s.txn("txn: duplicate put", nil, []clientv3.Op{clientv3.OpPut("t/d", "1"), clientv3.OpPut("t/d", "2")}, nil)
	s.txn("txn: put and delete of one key", nil, []clientv3.Op{clientv3.OpPut("t/d", "1"), clientv3.OpDelete("t/d")}, nil)
	s.txn("txn: put inside a deleted range", nil, []clientv3.Op{clientv3.OpDelete("t/", clientv3.WithPrefix()), clientv3.OpPut("t/d", "1")}, nil)
	s.txn("txn: duplicate put across nesting", nil, []clientv3.Op{
		clientv3.OpPut("t/d", "1"),
		clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpPut("t/d", "2")}, nil),
	}, nil)
	s.txn("txn: two overlapping deletes", nil, []clientv3.Op{
		clientv3.OpDelete("t/d", clientv3.WithRange("t/f")),
		clientv3.OpDelete("t/e", clientv3.WithRange("t/g")),
	}, nil)
	s.txn("txn: empty key in a put", nil, []clientv3.Op{clientv3.OpPut("", "1")}, nil)
	s.txn("txn: empty key in a range", nil, []clientv3.Op{clientv3.OpGet("")}, nil)
	s.txn("txn: empty key in a compare", []clientv3.Cmp{clientv3.Compare(clientv3.Version(""), "=", 0)}, nil, nil)
	s.txn("txn: put with an unknown lease", nil, []clientv3.Op{clientv3.OpPut("t/l", "1", clientv3.WithLease(4242))}, nil)
	s.txn("txn: ignore_value on a missing key", nil, []clientv3.Op{clientv3.OpPut("t/missing", "", clientv3.WithIgnoreValue())}, nil)
	s.txn("txn: range at a future revision", nil, []clientv3.Op{clientv3.OpGet("t/x", clientv3.WithRev(1<<40))}, nil)

	many := func(n int) []clientv3.Op {
		ops := make([]clientv3.Op, n)
		for i := range ops {
			ops[i] = clientv3.OpPut(fmt.Sprintf("t/many/%03d", i), "v")
		}
		return ops
	}
	manyCmps := make([]clientv3.Cmp, 129)
	for i := range manyCmps {
		manyCmps[i] = clientv3.Compare(clientv3.Version("t/x"), ">", 0)
	}
	s.txn("txn: 128 ops (the default limit)", nil, many(128), nil)
	s.txn("txn: 129 ops", nil, many(129), nil)
	s.txn("txn: 129 ops in the failure branch", nil, nil, many(129))
	s.txn("txn: 129 compares", manyCmps, nil, nil)
	s.do("txn: state after the txns", clientv3.OpGet("t/", clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithCountOnly()))
}
