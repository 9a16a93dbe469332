package recipe

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/seed62486500/resizer/plugins/sdk"
)

// Operations is what Check needs from the plugin host: each operation's
// declared spec, and the plugin's own validation.
type Operations interface {
	Operation(op string) (sdk.Operation, string, bool)
	Validate(ctx context.Context, op string, p sdk.Params) error
}

// OperationLister is what Check uses, when Operations offers it, to suggest
// an operation for a misspelt one.
type OperationLister interface {
	OperationNames() []string
}

// Check validates every step of every recipe in the set against the
// plugins: the operation exists, and its parameters pass the declared spec
// and the plugin's validate call. Problems are *Error values located at the
// step or parameter, joined with errors.Join.
func (s *Set) Check(ctx context.Context, ops Operations) error {
	var errs []error
	for _, r := range s.Recipes() {
		for _, o := range r.Outputs {
			for _, st := range o.Plan() {
				if err := checkStep(ctx, r, o, st, ops); err != nil {
					errs = append(errs, err...)
				}
			}
		}
	}
	return errors.Join(errs...)
}

func checkStep(ctx context.Context, r *Recipe, o Output, st Step, ops Operations) []error {
	at := st.Pos
	if at.File == "" {
		// The implicit resize of a width/height output has no position of
		// its own; point at the recipe file.
		at = Pos{File: r.File, Line: 1, Column: 1}
	}
	spec, _, ok := ops.Operation(st.Op)
	if !ok {
		msg := fmt.Sprintf("output %q: no plugin offers the operation %q", o.Name, st.Op)
		if l, ok := ops.(OperationLister); ok {
			names := l.OperationNames()
			if guess := closest(st.Op, names); guess != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", guess)
			} else {
				msg += fmt.Sprintf(" (known: %s)", strings.Join(names, ", "))
			}
		}
		return []error{at.Errorf("%s", msg)}
	}
	info := sdk.Info{Operations: []sdk.Operation{spec}}
	err := sdk.CheckParams(info, st.Op, sdk.Params(st.Params))
	if err == nil {
		err = ops.Validate(ctx, st.Op, sdk.Params(st.Params))
	}
	if err == nil {
		return nil
	}
	var pe *sdk.ParamsError
	if !errors.As(err, &pe) || len(pe.Fields) == 0 {
		return []error{at.Errorf("output %q: %s: %v", o.Name, st.Op, err)}
	}
	var out []error
	for _, f := range pe.Fields {
		pos, ok := st.ParamPos[f.Field]
		if !ok {
			pos = at
		}
		reason := f.Message
		if f.Field != "" {
			reason = fmt.Sprintf("%s: parameter %q %s", st.Op, f.Field, f.Message)
			if _, known := paramSpec(spec, f.Field); !known {
				names := strings.Split(paramList(spec), ", ")
				if guess := closest(f.Field, names); guess != "" {
					reason = fmt.Sprintf("%s: unknown parameter %q (did you mean %q?)", st.Op, f.Field, guess)
				} else {
					reason = fmt.Sprintf("%s: unknown parameter %q (known: %s)", st.Op, f.Field, paramList(spec))
				}
			}
		}
		out = append(out, pos.Errorf("output %q: %s", o.Name, reason))
	}
	return out
}

func paramSpec(op sdk.Operation, name string) (sdk.Param, bool) {
	for _, p := range op.Params {
		if p.Name == name {
			return p, true
		}
	}
	return sdk.Param{}, false
}

func paramList(op sdk.Operation) string {
	names := make([]string, len(op.Params))
	for i, p := range op.Params {
		names[i] = p.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
