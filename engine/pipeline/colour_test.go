package pipeline_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/seed62486500/resizer/engine/awslocal"
	"github.com/seed62486500/resizer/engine/config"
	"github.com/seed62486500/resizer/engine/daemon"
	"github.com/seed62486500/resizer/engine/imaging"
	"github.com/seed62486500/resizer/engine/local"
	"github.com/seed62486500/resizer/engine/outbox"
	"github.com/seed62486500/resizer/engine/pipeline"
	"github.com/seed62486500/resizer/engine/queue"
	"github.com/seed62486500/resizer/engine/recipe"
	"github.com/seed62486500/resizer/engine/storage"
	"github.com/seed62486500/resizer/plugins/resize"
	"github.com/seed62486500/resizer/plugins/sdk"
)

const imgBucket = "images"

// inProcessResize runs the built-in resize plugin in this process.
type inProcessResize struct{ resize.Transformer }

func (p inProcessResize) Operation(op string) (sdk.Operation, string, bool) {
	info, _ := p.Describe(context.Background())
	for _, o := range info.Operations {
		if o.Name == op {
			return o, info.Name, true
		}
	}
	return sdk.Operation{}, "", false
}

type colourHarness struct {
	s3  *s3.Client
	sqs *sqs.Client
	p   *pipeline.Pipeline
	out string
}

func newColourHarness(t *testing.T, recipeYAML string, opts pipeline.Options) colourHarness {
	t.Helper()
	ctx := context.Background()
	srv, err := awslocal.Start(ctx, awslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := config.Default()
	cfg.Endpoint = srv.URL()
	clients, err := daemon.NewClients(ctx, cfg, local.StaticCredentials())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(imgBucket)}); err != nil {
		t.Fatal(err)
	}
	q, err := clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String("out.fifo"), Attributes: map[string]string{"FifoQueue": "true"},
	})
	if err != nil {
		t.Fatal(err)
	}
	store, err := storage.New(clients.S3, filepath.Join(t.TempDir(), "tmp"), 1<<26)
	if err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Parse("test.yaml", []byte(recipeYAML))
	if err != nil {
		t.Fatal(err)
	}
	set, err := recipe.NewSet(r)
	if err != nil {
		t.Fatal(err)
	}
	opts.DefaultBucket, opts.OutputPrefix, opts.Plugins = imgBucket, "processed/", inProcessResize{}
	return colourHarness{
		s3: clients.S3, sqs: clients.SQS, out: aws.ToString(q.QueueUrl),
		p: pipeline.New(store, outbox.NewSender(clients.SQS, aws.ToString(q.QueueUrl), ""), set, opts),
	}
}

// process uploads src under key, runs the pipeline on it and returns the
// one output's body.
func (h colourHarness) process(t *testing.T, key string, src []byte) []byte {
	t.Helper()
	outs := h.processAll(t, key, src)
	if len(outs) != 1 {
		t.Fatalf("%d outputs, want 1", len(outs))
	}
	return outs[0]
}

// processAll is process for a recipe of several outputs: their bodies, in
// the recipe's order.
func (h colourHarness) processAll(t *testing.T, key string, src []byte) [][]byte {
	t.Helper()
	ctx := context.Background()
	if _, err := h.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(imgBucket), Key: aws.String(key), Body: bytes.NewReader(src)}); err != nil {
		t.Fatal(err)
	}
	if a := h.p.Handle(ctx, queue.Message{ID: "m-" + key, Body: key}); a != queue.Delete {
		t.Fatalf("action %v", a)
	}
	got, err := h.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(h.out), MaxNumberOfMessages: 10})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("want one outbox record: %v", err)
	}
	var rec outbox.Record
	if err := json.Unmarshal([]byte(aws.ToString(got.Messages[0].Body)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != outbox.StatusProcessed {
		t.Fatalf("record %+v", rec)
	}
	var bodies [][]byte
	for _, o := range rec.Outputs {
		obj, err := h.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(imgBucket), Key: aws.String(o.Key)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	return bodies
}

// linearSRGB is an ICC profile of sRGB primaries with linear tone curves
// ("linear-light sRGB"): converting its 8-bit value v to sRGB must give
// the sRGB encoding of v/255.
func linearSRGB() []byte {
	be := binary.BigEndian
	s15 := func(b []byte, v float64) []byte { return be.AppendUint32(b, uint32(int32(math.Round(v*65536)))) }
	xyz := func(x, y, z float64) []byte { return s15(s15(s15([]byte("XYZ \x00\x00\x00\x00"), x), y), z) }
	tags := []struct {
		sig  string
		data []byte
	}{
		{"rXYZ", xyz(0.4360747, 0.2225045, 0.0139322)},
		{"gXYZ", xyz(0.3850649, 0.7168786, 0.0971045)},
		{"bXYZ", xyz(0.1430804, 0.0606169, 0.7141733)},
		{"rTRC", []byte("curv\x00\x00\x00\x00\x00\x00\x00\x00")}, // no entries: identity
		{"gTRC", []byte("curv\x00\x00\x00\x00\x00\x00\x00\x00")},
		{"bTRC", []byte("curv\x00\x00\x00\x00\x00\x00\x00\x00")},
	}
	hdr := make([]byte, 128)
	copy(hdr[12:], "mntrRGB XYZ ")
	copy(hdr[36:], "acsp")
	table := be.AppendUint32(nil, uint32(len(tags)))
	var data []byte
	for _, tag := range tags {
		table = append(table, tag.sig...)
		table = be.AppendUint32(table, uint32(128+4+12*len(tags)+len(data)))
		table = be.AppendUint32(table, uint32(len(tag.data)))
		data = append(data, tag.data...)
	}
	out := append(append(hdr, table...), data...)
	be.PutUint32(out, uint32(len(out)))
	return out
}

func withICCP(p, icc []byte) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(icc)
	zw.Close()
	data := append([]byte("linear\x00\x00"), z.Bytes()...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(append(chunk, "iCCP"...), data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	return append(append(append([]byte{}, p[:33]...), chunk...), p[33:]...)
}

func pngBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func solidNRGBA(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

const pngRecipe = `name: t
match: ["**"]
outputs:
  - name: small
    width: 16
    format: png
`

func TestPipelineColourProfile(t *testing.T) {
	icc := linearSRGB()
	src := withICCP(pngBytes(t, solidNRGBA(32, 32, color.NRGBA{128, 64, 200, 255})), icc)
	enc := func(v float64) uint8 {
		v /= 255
		if v <= 0.0031308 {
			return uint8(math.Round(v * 12.92 * 255))
		}
		return uint8(math.Round((1.055*math.Pow(v, 1/2.4) - 0.055) * 255))
	}
	for _, tt := range []struct {
		name    string
		fields  string // added to the output in the recipe
		want    color.NRGBA
		wantICC bool
	}{
		{"default converts to sRGB", "", color.NRGBA{enc(128), enc(64), enc(200), 255}, false},
		{"srgb spelt out", "    color: srgb\n", color.NRGBA{enc(128), enc(64), enc(200), 255}, false},
		{"keep embeds the profile", "    color: keep\n", color.NRGBA{128, 64, 200, 255}, true},
		{"keep with the profile stripped", "    color: keep\n    metadata: {icc: strip}\n", color.NRGBA{128, 64, 200, 255}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newColourHarness(t, pngRecipe+tt.fields, pipeline.Options{})
			out := h.process(t, "photo.png", src)
			d, err := imaging.DecodeWith(bytes.NewReader(out), imaging.DecodeOptions{Color: imaging.KeepProfile})
			if err != nil {
				t.Fatal(err)
			}
			if d.Info.Width != 16 {
				t.Errorf("width %d, want 16", d.Info.Width)
			}
			got := color.NRGBAModel.Convert(d.Image.At(8, 8)).(color.NRGBA)
			if absDiff8(got.R, tt.want.R) > 1 || absDiff8(got.G, tt.want.G) > 1 || absDiff8(got.B, tt.want.B) > 1 {
				t.Errorf("pixel %v, want %v", got, tt.want)
			}
			if tt.wantICC != bytes.Equal(d.ICC, icc) {
				t.Errorf("output profile: %d bytes, want the source's: %v", len(d.ICC), tt.wantICC)
			}
		})
	}
}

// TestPipelineMixedColourPolicies: one output keeps the source's colours,
// the next converts them, from the same decoded source.
func TestPipelineMixedColourPolicies(t *testing.T) {
	const mixed = `name: t
match: ["**"]
outputs:
  - name: kept
    width: 16
    format: png
    color: keep
  - name: converted
    width: 16
    format: png
`
	icc := linearSRGB()
	src := withICCP(pngBytes(t, solidNRGBA(32, 32, color.NRGBA{128, 64, 200, 255})), icc)
	outs := newColourHarness(t, mixed, pipeline.Options{}).processAll(t, "mixed.png", src)
	if len(outs) != 2 {
		t.Fatalf("%d outputs, want 2", len(outs))
	}
	for i, want := range []struct {
		r       uint8
		withICC bool
	}{{128, true}, {188, false}} { // 188: sRGB encoding of linear 128/255
		d, err := imaging.DecodeWith(bytes.NewReader(outs[i]), imaging.DecodeOptions{Color: imaging.KeepProfile})
		if err != nil {
			t.Fatal(err)
		}
		got := color.NRGBAModel.Convert(d.Image.At(8, 8)).(color.NRGBA)
		if absDiff8(got.R, want.r) > 1 {
			t.Errorf("output %d: red %d, want %d", i, got.R, want.r)
		}
		if want.withICC != bytes.Equal(d.ICC, icc) {
			t.Errorf("output %d: profile of %d bytes; want the source's: %v", i, len(d.ICC), want.withICC)
		}
	}
}

func absDiff8(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }

func TestPipelineJPEGBackground(t *testing.T) {
	const jpegRecipe = `name: t
match: ["**"]
outputs:
  - name: small
    width: 16
    format: jpeg
    quality: 95
`
	src := pngBytes(t, solidNRGBA(32, 32, color.NRGBA{})) // fully transparent
	for _, tt := range []struct {
		name   string
		bg     color.Color // the pipeline's default
		fields string      // added to the output in the recipe
		want   color.NRGBA
	}{
		{"default white", nil, "", color.NRGBA{255, 255, 255, 255}},
		{"configured", color.NRGBA{200, 30, 40, 255}, "", color.NRGBA{200, 30, 40, 255}},
		{"the recipe's", color.NRGBA{200, 30, 40, 255}, "    background: \"#1e3cc8\"\n", color.NRGBA{30, 60, 200, 255}},
		{"the recipe's, short form", nil, "    background: \"#0f0\"\n", color.NRGBA{0, 255, 0, 255}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newColourHarness(t, jpegRecipe+tt.fields, pipeline.Options{Background: tt.bg})
			img, _, err := imaging.Decode(bytes.NewReader(h.process(t, "clear.png", src)), imaging.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got := color.NRGBAModel.Convert(img.At(8, 8)).(color.NRGBA)
			if absDiff8(got.R, tt.want.R) > 4 || absDiff8(got.G, tt.want.G) > 4 || absDiff8(got.B, tt.want.B) > 4 {
				t.Errorf("pixel %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPipelineAnimatedGIF(t *testing.T) {
	const gifRecipe = `name: t
match: ["**"]
outputs:
  - name: small
    width: 20
    format: gif
`
	pal := color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}}
	g := &gif.GIF{Delay: []int{5, 15, 25}, LoopCount: 0}
	for i := range 3 {
		f := image.NewPaletted(image.Rect(0, 0, 40, 30), pal)
		for j := range f.Pix {
			f.Pix[j] = uint8(i)
		}
		g.Image = append(g.Image, f)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		animate bool
		delays  []int
	}{
		{"first frame by default", false, []int{0}},
		{"animated", true, []int{5, 15, 25}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rcp := gifRecipe
			if tt.animate {
				rcp += "    animated: true\n"
			}
			h := newColourHarness(t, rcp, pipeline.Options{})
			out, err := gif.DecodeAll(bytes.NewReader(h.process(t, "anim.gif", buf.Bytes())))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out.Delay, tt.delays) {
				t.Errorf("delays %v, want %v", out.Delay, tt.delays)
			}
			for i, f := range out.Image {
				if f.Bounds().Size() != image.Pt(20, 15) {
					t.Errorf("frame %d is %v, want 20x15", i, f.Bounds().Size())
				}
				want := pal[i]
				if r, gg, b, _ := f.At(10, 7).RGBA(); [3]uint32{r >> 8, gg >> 8, b >> 8} != [3]uint32{uint32(want.(color.RGBA).R), uint32(want.(color.RGBA).G), uint32(want.(color.RGBA).B)} {
					t.Errorf("frame %d colour %v, want %v", i, f.At(10, 7), want)
				}
			}
		})
	}
}
