package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The kinds of failure a transformer reports. Each crosses the process
// boundary as a gRPC status code and comes back as an error for which
// errors.Is still holds:
//
//	ErrInvalidParams     codes.InvalidArgument (field detail kept)
//	ErrUnsupportedInput  codes.FailedPrecondition (Unimplemented also maps here)
//	ErrInternal          codes.Internal (and any error of no other kind)
//
// The host treats the first two as permanent for the job and a crashed or
// unreachable plugin (codes.Unavailable, kept as a gRPC status error) as
// transient.
var (
	// ErrInvalidParams: the parameters do not fit the operation's
	// declaration. Usually returned as a *ParamsError.
	ErrInvalidParams = errors.New("invalid parameters")
	// ErrUnsupportedInput: the parameters are fine but this image cannot be
	// processed (too small for the operation, a pixel layout the plugin
	// does not handle, ...).
	ErrUnsupportedInput = errors.New("unsupported input")
	// ErrInternal: the plugin failed.
	ErrInternal = errors.New("internal plugin error")
)

// FieldError is one problem with one parameter.
type FieldError struct {
	// Field is the parameter name; empty when the problem is the
	// operation itself (for example an unknown operation).
	Field   string
	Message string
}

// ParamsError lists what is wrong with the parameters of an operation. It
// matches ErrInvalidParams with errors.Is.
type ParamsError struct {
	Operation string
	Fields    []FieldError
}

func (e *ParamsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v for %q", ErrInvalidParams, e.Operation)
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if f.Field != "" {
			b.WriteString(f.Field + " ")
		}
		b.WriteString(f.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidParams) true.
func (e *ParamsError) Is(target error) bool { return target == ErrInvalidParams }

// remoteError is an error that came back from a plugin process: the
// plugin's message, matching the kind it was sent as.
type remoteError struct {
	kind error
	msg  string
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

// toStatus turns a transformer's error into the gRPC status the client
// side turns back with fromStatus.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, ErrInvalidParams):
		st := status.New(codes.InvalidArgument, err.Error())
		var pe *ParamsError
		if errors.As(err, &pe) {
			br := &errdetails.BadRequest{}
			for _, f := range pe.Fields {
				br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: f.Field, Description: f.Message})
			}
			// The operation name rides along as the reason of an
			// ErrorInfo so that the client can rebuild the ParamsError.
			if withDetails, derr := st.WithDetails(br, &errdetails.ErrorInfo{Reason: "INVALID_PARAMS", Domain: "resizer.plugin.v1", Metadata: map[string]string{"operation": pe.Operation}}); derr == nil {
				st = withDetails
			}
		}
		return st.Err()
	case errors.Is(err, ErrUnsupportedInput):
		return status.Error(codes.FailedPrecondition, err.Error())
	default:
		return status.Error(codes.Internal, err.Error())
	}
}

// fromStatus turns an error from a gRPC call back into the SDK's kinds.
// ctx is the caller's: when it has ended, its error wins, whatever the
// transport made of it.
func fromStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("plugin call: %w", ctxErr)
	}
	st, ok := status.FromError(err)
	if !ok {
		return &remoteError{kind: ErrInternal, msg: err.Error()}
	}
	switch st.Code() {
	case codes.InvalidArgument:
		pe := &ParamsError{}
		for _, d := range st.Details() {
			switch d := d.(type) {
			case *errdetails.BadRequest:
				for _, v := range d.GetFieldViolations() {
					pe.Fields = append(pe.Fields, FieldError{Field: v.GetField(), Message: v.GetDescription()})
				}
			case *errdetails.ErrorInfo:
				pe.Operation = d.GetMetadata()["operation"]
			}
		}
		if len(pe.Fields) > 0 {
			return pe
		}
		return &remoteError{kind: ErrInvalidParams, msg: st.Message()}
	case codes.FailedPrecondition, codes.Unimplemented:
		return &remoteError{kind: ErrUnsupportedInput, msg: st.Message()}
	case codes.Canceled:
		return fmt.Errorf("plugin: %s: %w", st.Message(), context.Canceled)
	case codes.DeadlineExceeded:
		return fmt.Errorf("plugin: %s: %w", st.Message(), context.DeadlineExceeded)
	case codes.Internal, codes.Unknown:
		return &remoteError{kind: ErrInternal, msg: st.Message()}
	default:
		// Unavailable and friends: the plugin process is gone or
		// unreachable. Keep the status so the host can tell it apart
		// (status.Code works through the wrapping).
		return fmt.Errorf("plugin unreachable: %w", err)
	}
}
