package awslocal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestReadAWSChunked(t *testing.T) {
	sig := strings.Repeat("a", 64)
	cases := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "signed", in: "5;chunk-signature=" + sig + "\r\nhello\r\n6;chunk-signature=" + sig + "\r\n world\r\n0;chunk-signature=" + sig + "\r\n\r\n", want: "hello world"},
		{name: "unsigned with trailer", in: "4\r\nab\r\n\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", want: "ab\r\n"},
		{name: "no final blank line", in: "3\r\nabc\r\n0\r\n", want: "abc"},
		{name: "short chunk", in: "9\r\nabc", wantErr: true},
		{name: "bad size", in: "zz\r\nabc\r\n", wantErr: true},
		{name: "missing terminator", in: "3\r\nabcX0\r\n\r\n", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAWSChunked(bufio.NewReader(strings.NewReader(tc.in)))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && string(got) != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestAWSChunkedUpload sends what aws-sdk-go-v2 sends over TLS (unsigned
// aws-chunked with a checksum trailer) and the SigV4 streaming variant, and
// checks that the plain bytes are stored. (Over plain HTTP the SDK sends
// plain bodies, even unseekable ones once unsigned.)
func TestAWSChunkedUpload(t *testing.T) {
	srv := startLocal(t, "")
	s3c := newS3Client(srv.URL())
	data := bytes.Repeat([]byte("0123456789\r\n"), 9000)
	var chunked strings.Builder
	for rest := data; len(rest) > 0; {
		n := min(len(rest), 65536)
		fmt.Fprintf(&chunked, "%x\r\n%s\r\n", n, rest[:n])
		rest = rest[n:]
	}
	chunked.WriteString("0\r\nx-amz-checksum-crc32:" + crc32Base64(data) + "\r\n\r\n")

	for _, variant := range []struct{ name, sha, encoding string }{
		{"unsigned-trailer", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "aws-chunked"},
		{"sigv4-streaming", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", ""},
	} {
		t.Run(variant.name, func(t *testing.T) {
			key := "chunked/" + variant.name + ".bin"
			req, err := http.NewRequest(http.MethodPut, srv.URL()+"/"+testBucket+"/"+key, strings.NewReader(chunked.String()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Amz-Content-Sha256", variant.sha)
			if variant.encoding != "" {
				req.Header.Set("Content-Encoding", variant.encoding)
			}
			req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
			req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("PUT status %d", resp.StatusCode)
			}
			got, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := io.ReadAll(got.Body)
			got.Body.Close()
			if !bytes.Equal(stored, data) {
				t.Fatalf("stored %d bytes, want %d", len(stored), len(data))
			}
		})
	}
}

func crc32Base64(b []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(b))
	return base64.StdEncoding.EncodeToString(sum[:])
}
