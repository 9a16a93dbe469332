package pluginhost

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/seed62486500/resizer/plugins/sdk"
)

// builtin is a plugin that runs in the daemon's process. It cannot be
// killed or restarted, so the call deadline only reaches it through ctx;
// a panic is contained to the call.
type builtin struct {
	name    string
	tr      sdk.Transformer
	timeout time.Duration
}

func (b *builtin) call(ctx context.Context, what string, fn func(context.Context, sdk.Transformer) error) error {
	callCtx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	err := b.protect(callCtx, what, fn)
	if err != nil && ctx.Err() == nil && callCtx.Err() != nil {
		return fmt.Errorf("%w: built-in plugin %q: %s did not finish within %s", ErrUnavailable, b.name, what, b.timeout)
	}
	return err
}

func (b *builtin) protect(ctx context.Context, what string, fn func(context.Context, sdk.Transformer) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: built-in plugin %q panicked in %s: %v\n%s", sdk.ErrInternal, b.name, what, r, debug.Stack())
		}
	}()
	return fn(ctx, b.tr)
}
