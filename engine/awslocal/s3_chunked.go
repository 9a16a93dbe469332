package awslocal

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxDecodedBody bounds what one aws-chunked upload may hold in memory.
const maxDecodedBody = 5 << 30

// isAWSChunked reports whether r carries an aws-chunked body: SigV4
// streaming (signed chunks) or the unsigned variant with checksum trailers.
func isAWSChunked(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") ||
		strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-")
}

// decodeAWSChunked replaces an aws-chunked body with the plain bytes it
// carries and rewrites the headers as if the client had sent them plainly,
// so gofakes3 stores exactly the payload. gofakes3 only understands the
// signed variant and never the trailers, hence doing it here for all.
func decodeAWSChunked(r *http.Request) error {
	data, err := readAWSChunked(bufio.NewReader(r.Body))
	_ = r.Body.Close()
	if err != nil {
		return err
	}
	if want := r.Header.Get("X-Amz-Decoded-Content-Length"); want != "" {
		if n, err := strconv.ParseInt(want, 10, 64); err != nil || n != int64(len(data)) {
			return fmt.Errorf("aws-chunked body holds %d bytes, x-amz-decoded-content-length says %s", len(data), want)
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.ContentLength = int64(len(data))
	r.TransferEncoding = nil
	r.Header.Set("Content-Length", strconv.Itoa(len(data)))
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	r.Header.Del("X-Amz-Decoded-Content-Length")
	r.Header.Del("X-Amz-Trailer")
	var encodings []string
	for _, e := range strings.Split(r.Header.Get("Content-Encoding"), ",") {
		if e = strings.TrimSpace(e); e != "" && e != "aws-chunked" {
			encodings = append(encodings, e)
		}
	}
	if len(encodings) == 0 {
		r.Header.Del("Content-Encoding")
	} else {
		r.Header.Set("Content-Encoding", strings.Join(encodings, ","))
	}
	return nil
}

// readAWSChunked reads "<hex size>[;ext]\r\n<data>\r\n" chunks up to the
// zero-size chunk, then skips the trailer lines up to the blank line.
func readAWSChunked(br *bufio.Reader) ([]byte, error) {
	var out bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("aws-chunked: read chunk header: %w", err)
		}
		sizeField, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeField), 16, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("aws-chunked: bad chunk size %q", sizeField)
		}
		if size == 0 {
			break
		}
		if int64(out.Len())+size > maxDecodedBody {
			return nil, fmt.Errorf("aws-chunked: body larger than %d bytes", int64(maxDecodedBody))
		}
		if _, err := io.CopyN(&out, br, size); err != nil {
			return nil, fmt.Errorf("aws-chunked: read chunk: %w", err)
		}
		if crlf, err := br.ReadString('\n'); err != nil || strings.TrimRight(crlf, "\r\n") != "" {
			return nil, fmt.Errorf("aws-chunked: missing chunk terminator")
		}
	}
	for {
		line, err := br.ReadString('\n')
		if strings.TrimRight(line, "\r\n") == "" || err != nil {
			return out.Bytes(), nil
		}
	}
}
