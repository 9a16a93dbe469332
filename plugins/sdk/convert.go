package sdk

import (
	"fmt"
	"image/color"

	pluginv1 "github.com/seed62486500/resizer/proto/resizer/plugin/v1"
)

// Conversions between the SDK's plain Go types and the generated protobuf
// types, which never leave this package.

func infoToProto(info Info) *pluginv1.DescribeResponse {
	resp := &pluginv1.DescribeResponse{Name: info.Name, Version: info.Version}
	for _, op := range info.Operations {
		pop := &pluginv1.Operation{Name: op.Name, Doc: op.Doc}
		for _, p := range op.Params {
			pp := &pluginv1.Param{
				Name:     p.Name,
				Type:     pluginv1.ParamType(p.Type),
				Doc:      p.Doc,
				Min:      p.Min,
				Max:      p.Max,
				Allowed:  p.Enum,
				Required: p.Required,
				Asset:    p.Asset,
			}
			if p.Default != nil {
				def := p.Default
				// Send the default as its declared type (a float declared
				// as 1 travels as 1.0); a broken one travels as it is and
				// the host's checks report it.
				if v, msg := normalize(p, def); msg == "" {
					def = v
				}
				pp.Default, _ = valueToProto(def)
			}
			pop.Params = append(pop.Params, pp)
		}
		resp.Operations = append(resp.Operations, pop)
	}
	return resp
}

func infoFromProto(resp *pluginv1.DescribeResponse) Info {
	info := Info{Name: resp.GetName(), Version: resp.GetVersion()}
	for _, pop := range resp.GetOperations() {
		op := Operation{Name: pop.GetName(), Doc: pop.GetDoc()}
		for _, pp := range pop.GetParams() {
			p := Param{
				Name:     pp.GetName(),
				Type:     ParamType(pp.GetType()),
				Doc:      pp.GetDoc(),
				Min:      pp.Min,
				Max:      pp.Max,
				Enum:     pp.GetAllowed(),
				Required: pp.GetRequired(),
				Asset:    pp.GetAsset(),
			}
			if pp.Default != nil {
				p.Default, _ = valueFromProto(pp.Default)
			}
			op.Params = append(op.Params, p)
		}
		info.Operations = append(info.Operations, op)
	}
	return info
}

// paramsToProto converts the host's values. A value of a Go type that has
// no wire form is an invalid parameter, reported like any other.
func paramsToProto(op string, p Params) (map[string]*pluginv1.Value, error) {
	out := make(map[string]*pluginv1.Value, len(p))
	var errs []FieldError
	for name, v := range p {
		if v == nil {
			continue
		}
		pv, ok := valueToProto(v)
		if !ok {
			errs = append(errs, FieldError{Field: name, Message: fmt.Sprintf("has a value of unsupported type %T", v)})
			continue
		}
		out[name] = pv
	}
	if len(errs) > 0 {
		return nil, &ParamsError{Operation: op, Fields: errs}
	}
	return out, nil
}

func paramsFromProto(op string, in map[string]*pluginv1.Value) (Params, error) {
	out := make(Params, len(in))
	var errs []FieldError
	for name, pv := range in {
		v, ok := valueFromProto(pv)
		if !ok {
			errs = append(errs, FieldError{Field: name, Message: "has a malformed value"})
			continue
		}
		out[name] = v
	}
	if len(errs) > 0 {
		return nil, &ParamsError{Operation: op, Fields: errs}
	}
	return out, nil
}

func valueToProto(v any) (*pluginv1.Value, bool) {
	switch v := v.(type) {
	case bool:
		return &pluginv1.Value{Kind: &pluginv1.Value_BoolValue{BoolValue: v}}, true
	case string:
		return &pluginv1.Value{Kind: &pluginv1.Value_StringValue{StringValue: v}}, true
	case float64:
		return &pluginv1.Value{Kind: &pluginv1.Value_FloatValue{FloatValue: v}}, true
	case float32:
		return &pluginv1.Value{Kind: &pluginv1.Value_FloatValue{FloatValue: float64(v)}}, true
	case color.Color:
		c := color.NRGBAModel.Convert(v).(color.NRGBA)
		return &pluginv1.Value{Kind: &pluginv1.Value_ColorValue{ColorValue: &pluginv1.Color{
			R: uint32(c.R), G: uint32(c.G), B: uint32(c.B), A: uint32(c.A),
		}}}, true
	}
	if n, ok := toInt(v); ok {
		return &pluginv1.Value{Kind: &pluginv1.Value_IntValue{IntValue: int64(n)}}, true
	}
	return nil, false
}

func valueFromProto(v *pluginv1.Value) (any, bool) {
	switch k := v.GetKind().(type) {
	case *pluginv1.Value_BoolValue:
		return k.BoolValue, true
	case *pluginv1.Value_StringValue:
		return k.StringValue, true
	case *pluginv1.Value_FloatValue:
		return k.FloatValue, true
	case *pluginv1.Value_IntValue:
		return toInt(k.IntValue)
	case *pluginv1.Value_ColorValue:
		c := k.ColorValue
		if c.GetR() > 255 || c.GetG() > 255 || c.GetB() > 255 || c.GetA() > 255 {
			return nil, false
		}
		return color.NRGBA{R: uint8(c.GetR()), G: uint8(c.GetG()), B: uint8(c.GetB()), A: uint8(c.GetA())}, true
	}
	return nil, false
}

func sharedToProto(d sharedImage) *pluginv1.SharedImage {
	return &pluginv1.SharedImage{
		Path:   d.Path,
		Width:  uint32(d.Width),
		Height: uint32(d.Height),
		Stride: uint32(d.Stride),
		Format: pluginv1.PixelFormat_PIXEL_FORMAT_NRGBA8,
	}
}

func sharedFromProto(p *pluginv1.SharedImage) (sharedImage, error) {
	if p == nil {
		return sharedImage{}, fmt.Errorf("no image descriptor")
	}
	if p.GetFormat() != pluginv1.PixelFormat_PIXEL_FORMAT_NRGBA8 {
		return sharedImage{}, fmt.Errorf("unsupported pixel format %v", p.GetFormat())
	}
	d := sharedImage{Path: p.GetPath(), Width: int(p.GetWidth()), Height: int(p.GetHeight()), Stride: int(p.GetStride())}
	return d, d.check()
}
