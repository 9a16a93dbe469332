package awslocal

import (
	"fmt"
	"net/http"
)

// APIError is an SQS error as the AWS JSON 1.0 protocol carries it: the
// shape name goes into "__type" (aws-sdk-go-v2 maps it to a typed error such
// as *types.QueueDoesNotExist) and the legacy query-protocol code goes into
// the x-amzn-query-error header (the SDK reports it from ErrorCode()).
//
// A FaultFunc may return an *APIError to make an operation fail with a
// chosen AWS error; any other error is answered as an internal failure.
type APIError struct {
	Shape     string // e.g. "QueueDoesNotExist"
	QueryCode string // e.g. "AWS.SimpleQueueService.NonExistentQueue"; "" = Shape
	Status    int    // HTTP status; 0 = 400
	Message   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %s", e.Shape, e.Message)
}

func (e *APIError) status() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

func (e *APIError) queryCode() string {
	if e.QueryCode == "" {
		return e.Shape
	}
	return e.QueryCode
}

func errQueueDoesNotExist() *APIError {
	return &APIError{Shape: "QueueDoesNotExist", QueryCode: "AWS.SimpleQueueService.NonExistentQueue",
		Message: "The specified queue does not exist."}
}

func errQueueNameExists(name string) *APIError {
	return &APIError{Shape: "QueueNameExists", QueryCode: "QueueAlreadyExists",
		Message: fmt.Sprintf("A queue already exists with the same name and a different value for attribute(s): %s", name)}
}

func errInvalidReceiptHandle(msg string) *APIError {
	return &APIError{Shape: "ReceiptHandleIsInvalid", Message: msg}
}

func errMessageNotInflight() *APIError {
	return &APIError{Shape: "MessageNotInflight", QueryCode: "AWS.SimpleQueueService.MessageNotInflight",
		Message: "The message referred to isn't in flight."}
}

func errInvalidParameter(format string, args ...any) *APIError {
	return &APIError{Shape: "InvalidParameterValue", Message: fmt.Sprintf(format, args...)}
}

func errMissingParameter(name string) *APIError {
	return &APIError{Shape: "MissingParameter",
		Message: fmt.Sprintf("The request must contain the parameter %s.", name)}
}

func errInvalidAttributeName(name string) *APIError {
	return &APIError{Shape: "InvalidAttributeName", Message: fmt.Sprintf("Unknown Attribute %s.", name)}
}

func errInvalidAttributeValue(format string, args ...any) *APIError {
	return &APIError{Shape: "InvalidAttributeValue", Message: fmt.Sprintf(format, args...)}
}

func errBatch(shape, message string) *APIError {
	return &APIError{Shape: shape, QueryCode: "AWS.SimpleQueueService." + shape, Message: message}
}

func errUnknownOperation(op string) *APIError {
	return &APIError{Shape: "UnknownOperationException", Message: fmt.Sprintf("Unknown operation %s", op)}
}

func errInternal(err error) *APIError {
	return &APIError{Shape: "InternalFailure", Status: http.StatusInternalServerError, Message: err.Error()}
}
