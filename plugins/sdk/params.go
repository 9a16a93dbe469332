package sdk

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Params are the parameters of one step, by name. Values come from a recipe
// (YAML numbers, strings, booleans) or from the host; CheckParams accepts
// the spellings listed on each ParamType and ResolveParams turns them into
// the Go types the getters return.
//
// After ResolveParams (which the SDK runs for every request that arrives
// over gRPC) every declared parameter that has a default is present, so the
// getters apply defaults: a recipe that leaves out "fit" reads the declared
// default from p.String("fit"). An absent parameter without a default reads
// as the zero value; use Has to tell it apart.
type Params map[string]any

// Has reports whether the parameter is present.
func (p Params) Has(name string) bool {
	_, ok := p[name]
	return ok
}

// Int returns an int parameter, or 0.
func (p Params) Int(name string) int {
	v, _ := toInt(p[name])
	return v
}

// Float returns a float parameter, or 0.
func (p Params) Float(name string) float64 {
	v, _ := toFloat(p[name])
	return v
}

// Bool returns a bool parameter, or false.
func (p Params) Bool(name string) bool {
	v, _ := p[name].(bool)
	return v
}

// String returns a string or enum parameter, or "".
func (p Params) String(name string) string {
	v, _ := p[name].(string)
	return v
}

// Color returns a colour parameter, or transparent black.
func (p Params) Color(name string) color.NRGBA {
	v, _ := toColor(p[name])
	return v
}

// CheckParams checks params against the declaration of operation op in
// info: unknown operations and parameters, types, ranges, enum values and
// required parameters. It returns nil or a *ParamsError listing every
// problem. The host lints recipes with it and the SDK checks every request
// with it inside the plugin, so both sides agree by construction.
func CheckParams(info Info, op string, params Params) error {
	_, err := ResolveParams(info, op, params)
	return err
}

// ResolveParams checks params like CheckParams and returns a new Params in
// which every value has its declared Go type (int, float64, bool, string,
// color.NRGBA) and absent parameters with a default are filled in. It is
// idempotent.
func ResolveParams(info Info, op string, params Params) (Params, error) {
	spec, ok := info.Operation(op)
	if !ok {
		names := make([]string, 0, len(info.Operations))
		for _, o := range info.Operations {
			names = append(names, o.Name)
		}
		return nil, &ParamsError{Operation: op, Fields: []FieldError{{
			Message: fmt.Sprintf("unknown operation %q (plugin %q offers: %s)", op, info.Name, strings.Join(names, ", ")),
		}}}
	}
	out := make(Params, len(spec.Params))
	var errs []FieldError
	declared := make(map[string]bool, len(spec.Params))
	for _, param := range spec.Params {
		declared[param.Name] = true
		raw, present := params[param.Name]
		if !present || raw == nil {
			switch {
			case param.Required:
				errs = append(errs, FieldError{Field: param.Name, Message: "is required"})
			case param.Default != nil:
				v, msg := normalize(param, param.Default)
				if msg != "" {
					// A broken declaration; sdktest reports it to the author.
					errs = append(errs, FieldError{Field: param.Name, Message: "declared default " + msg})
					continue
				}
				out[param.Name] = v
			}
			continue
		}
		v, msg := normalize(param, raw)
		if msg != "" {
			errs = append(errs, FieldError{Field: param.Name, Message: msg})
			continue
		}
		out[param.Name] = v
	}
	for name := range params {
		if !declared[name] {
			errs = append(errs, FieldError{Field: name, Message: fmt.Sprintf("unknown parameter (%s accepts: %s)", op, paramNames(spec))})
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, &ParamsError{Operation: op, Fields: errs}
	}
	return out, nil
}

func paramNames(op Operation) string {
	names := make([]string, 0, len(op.Params))
	for _, p := range op.Params {
		names = append(names, p.Name)
	}
	if len(names) == 0 {
		return "no parameters"
	}
	return strings.Join(names, ", ")
}

// normalize converts v to the Go type of param.Type and checks it against
// the declaration. It returns a message for the user when v does not fit.
func normalize(param Param, v any) (any, string) {
	switch param.Type {
	case TypeInt:
		n, ok := toInt(v)
		if !ok {
			return nil, fmt.Sprintf("must be an integer, got %s", describe(v))
		}
		if msg := checkRange(param, float64(n)); msg != "" {
			return nil, msg
		}
		return n, ""
	case TypeFloat:
		f, ok := toFloat(v)
		if !ok {
			return nil, fmt.Sprintf("must be a number, got %s", describe(v))
		}
		if msg := checkRange(param, f); msg != "" {
			return nil, msg
		}
		return f, ""
	case TypeBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Sprintf("must be true or false, got %s", describe(v))
		}
		return b, ""
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Sprintf("must be a string, got %s", describe(v))
		}
		return s, ""
	case TypeEnum:
		s, ok := v.(string)
		if !ok || !slices.Contains(param.Enum, s) {
			return nil, fmt.Sprintf("must be one of %s, got %s", strings.Join(param.Enum, ", "), describe(v))
		}
		return s, ""
	case TypeColor:
		c, ok := toColor(v)
		if !ok {
			return nil, fmt.Sprintf(`must be a colour ("#rrggbb", "#rrggbbaa", "#rgb", "transparent", "white" or "black"), got %s`, describe(v))
		}
		return c, ""
	}
	return nil, fmt.Sprintf("has an invalid declared type %v", param.Type)
}

func checkRange(param Param, f float64) string {
	if param.Min != nil && f < *param.Min {
		return fmt.Sprintf("must be at least %g, got %g", *param.Min, f)
	}
	if param.Max != nil && f > *param.Max {
		return fmt.Sprintf("must be at most %g, got %g", *param.Max, f)
	}
	return ""
}

func describe(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case nil:
		return "nothing"
	default:
		return fmt.Sprintf("%v (%T)", v, v)
	}
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int8:
		return int(n), true
	case int16:
		return int(n), true
	case int32:
		return int(n), true
	case int64:
		if n < math.MinInt || n > math.MaxInt {
			return 0, false
		}
		return int(n), true
	case uint8:
		return int(n), true
	case uint16:
		return int(n), true
	case uint32:
		return int(n), true
	case uint:
		if uint64(n) > math.MaxInt {
			return 0, false
		}
		return int(n), true
	case uint64:
		if n > math.MaxInt {
			return 0, false
		}
		return int(n), true
	case float32:
		return toInt(float64(n))
	case float64:
		// JSON and some YAML decoders give whole numbers as float64.
		if n != math.Trunc(n) || n < math.MinInt64 || n >= math.MaxInt64 {
			return 0, false
		}
		return int(n), true
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	case float32:
		return toFloat(float64(n))
	}
	if i, ok := toInt(v); ok {
		return float64(i), true
	}
	return 0, false
}

func toColor(v any) (color.NRGBA, bool) {
	switch c := v.(type) {
	case color.NRGBA:
		return c, true
	case string:
		return parseColor(c)
	case color.Color:
		return color.NRGBAModel.Convert(c).(color.NRGBA), true
	}
	return color.NRGBA{}, false
}

func parseColor(s string) (color.NRGBA, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "transparent":
		return color.NRGBA{}, true
	case "white":
		return color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}, true
	case "black":
		return color.NRGBA{A: 0xff}, true
	}
	hex, ok := strings.CutPrefix(strings.TrimSpace(s), "#")
	if !ok {
		return color.NRGBA{}, false
	}
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	if len(hex) == 6 {
		hex += "ff"
	}
	if len(hex) != 8 {
		return color.NRGBA{}, false
	}
	n, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return color.NRGBA{}, false
	}
	return color.NRGBA{R: uint8(n >> 24), G: uint8(n >> 16), B: uint8(n >> 8), A: uint8(n)}, true
}
