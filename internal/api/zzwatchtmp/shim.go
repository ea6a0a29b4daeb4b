package v3rpc

const grpcOverheadBytes = 512 * 1024
