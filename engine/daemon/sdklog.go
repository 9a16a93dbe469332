package daemon

import (
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
	"github.com/hashicorp/go-hclog"
)

// SDKLogger sends the AWS SDK's own log lines (retries, checksum notes)
// into the daemon's logger under "aws", instead of the SDK's default of
// plain lines on stderr. Warnings stay warnings; the rest is debug.
func SDKLogger(log hclog.Logger) func(*awsconfig.LoadOptions) error {
	return awsconfig.WithLogger(sdkLogger{log.Named("aws")})
}

type sdkLogger struct{ log hclog.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if c == logging.Warn {
		l.log.Warn(msg)
		return
	}
	l.log.Debug(msg)
}
