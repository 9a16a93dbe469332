package pipeline

import (
	"context"
	"fmt"
	"io"

	"github.com/seed62486500/resizer/engine/imaging"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/recipe"
)

// Rendered is one output made by Render: what the outbox would say of it,
// its bytes, and the Cache-Control it would be uploaded with.
type Rendered struct {
	outbox.Output
	Body         []byte
	CacheControl string
}

// Render decodes src and makes every output of r from it exactly as a job
// for key does (same steps through the same plugins, same encoding and
// keys), but touches neither S3 nor the outbox: it is what previews use.
// The source's dimensions and format come back in info.
func (p *Pipeline) Render(ctx context.Context, key string, r *recipe.Recipe, src io.ReadSeeker) (info imaging.Info, outs []Rendered, err error) {
	info, err = imaging.Probe(src, p.opts.Limits)
	if err == nil {
		_, err = src.Seek(0, io.SeekStart)
	}
	var decoded *imaging.Decoded
	if err == nil {
		decoded, err = imaging.DecodeWith(src, p.decodeOptions(r, info))
	}
	if err != nil {
		return info, nil, fmt.Errorf("decode %q: %w", key, err)
	}
	info = decoded.Info
	rec := outbox.Record{Source: outbox.Source{Key: key, Width: info.Width, Height: info.Height, Format: info.Format},
		Recipe: &outbox.RecipeRef{Name: r.Name, Digest: r.Digest()}}
	rendered, err := p.render(ctx, &rec, r, decoded, &Outcome{})
	if err != nil {
		return info, nil, err
	}
	for _, o := range rendered {
		o.Bytes = int64(len(o.body))
		outs = append(outs, Rendered{Output: o.Output, Body: o.body, CacheControl: o.cacheControl})
	}
	return info, outs, nil
}
