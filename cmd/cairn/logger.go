package main

import (
	"fmt"

	"github.com/cairn-db/cairn/internal/config"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger builds the zap logger etcd's flags describe: --log-level,
// --log-outputs (default, stderr, stdout or file paths), --log-format.
func newLogger(cfg *config.Config) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.Sampling = nil
	zc.Encoding = "json"
	if cfg.LogFormat == "console" {
		zc.Encoding = "console"
	}
	zc.EncoderConfig.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	zc.OutputPaths = nil
	for _, o := range cfg.LogOutputs {
		switch o {
		case "default", "stderr":
			o = "stderr"
		case "stdout":
		}
		zc.OutputPaths = append(zc.OutputPaths, o)
	}
	if len(zc.OutputPaths) == 0 {
		zc.OutputPaths = []string{"stderr"}
	}
	zc.ErrorOutputPaths = []string{"stderr"}
	return zc.Build()
}
