package message

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readFixture(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// recordJSON builds one record of an S3 notification as S3 writes it.
func recordJSON(eventName, bucket, rawKey string) map[string]any {
	return map[string]any{
		"eventVersion": "2.1",
		"eventSource":  "aws:s3",
		"eventTime":    "2024-03-14T19:02:45.087Z",
		"eventName":    eventName,
		"s3": map[string]any{
			"s3SchemaVersion": "1.0",
			"bucket":          map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket},
			"object": map[string]any{
				"key":       rawKey,
				"size":      42,
				"eTag":      "0123abcd",
				"versionId": "v1",
				"sequencer": "00AB",
			},
		},
	}
}

func s3Body(t testing.TB, records ...map[string]any) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// snsWrap puts a message in an SNS notification envelope, as SNS delivers it
// to SQS without raw message delivery.
func snsWrap(t testing.TB, message string) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{
		"Type":             "Notification",
		"MessageId":        "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
		"TopicArn":         "arn:aws:sns:us-east-1:123456789012:uploads",
		"Message":          message,
		"Timestamp":        "2024-03-14T19:02:46.000Z",
		"SignatureVersion": "1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		name string
		file string
		want Body
	}{
		{
			name: "s3 notification ObjectCreated:Put",
			file: "s3-notification.objectcreated-put.body.json",
			want: Body{Shape: ShapeS3, Events: []Event{{
				Kind:      KindCreated,
				Name:      "ObjectCreated:Put",
				Bucket:    "sqs-s3-unwrap-bucket-683517028648",
				Key:       "samconfig.toml",
				ETag:      "8f6c039f567cc53694be2a275e452743",
				Size:      221,
				Sequencer: "0065F349D4F05B5827",
				Time:      mustTime(t, "2024-03-14T19:02:45.087Z"),
			}}},
		},
		{
			name: "s3 notification with a form-encoded key and a placeholder time",
			file: "s3-notification.key-encoding.body.json",
			want: Body{Shape: ShapeS3, Events: []Event{{
				Kind:      KindCreated,
				Name:      "ObjectCreated:Put",
				Bucket:    "<resource:1>",
				Key:       "a@b",
				ETag:      "437b930db84b8079c2dd804a71936b5f",
				Size:      9,
				Sequencer: "sequencer",
			}}},
		},
		{
			name: "s3 test event",
			file: "s3-test-event.body.json",
			want: Body{Shape: ShapeS3Test, Events: []Event{{
				Kind:   KindTest,
				Name:   "s3:TestEvent",
				Bucket: "bucketname",
				Size:   -1,
				Time:   mustTime(t, "2014-10-13T15:57:02.089Z"),
			}}},
		},
		{
			name: "eventbridge Object Created",
			file: "eventbridge.object-created.body.json",
			want: Body{Shape: ShapeEventBridge, Events: []Event{{
				Kind:      KindCreated,
				Name:      "Object Created",
				Bucket:    "s3-eb-unwrap-sourcebucket-7mop1gqlyrzu",
				Key:       "__init__.py",
				ETag:      "d41d8cd98f00b204e9800998ecf8427e",
				Size:      0,
				Sequencer: "0066030E82E2A48DFE",
				Time:      mustTime(t, "2024-03-26T18:05:54Z"),
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(readFixture(t, tt.file), "default-bucket")
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestDecodeSNSEnvelope(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		wantShape Shape
	}{
		{name: "s3 notification", file: "s3-notification.objectcreated-put.body.json", wantShape: ShapeSNSS3},
		{name: "s3 test event", file: "s3-test-event.body.json", wantShape: ShapeSNSS3Test},
		{name: "eventbridge event", file: "eventbridge.object-created.body.json", wantShape: ShapeSNSEventBridge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := readFixture(t, tt.file)
			// Raw message delivery hands over the inner message itself.
			raw, err := Decode(inner, "")
			if err != nil {
				t.Fatalf("Decode(raw): %v", err)
			}
			got, err := Decode(snsWrap(t, inner), "")
			if err != nil {
				t.Fatalf("Decode(wrapped): %v", err)
			}
			if got.Shape != tt.wantShape {
				t.Errorf("Shape = %q, want %q", got.Shape, tt.wantShape)
			}
			if !reflect.DeepEqual(got.Events, raw.Events) {
				t.Errorf("wrapped events\n%+v\ndiffer from raw\n%+v", got.Events, raw.Events)
			}
		})
	}
}

func TestDecodeSeveralRecords(t *testing.T) {
	body := s3Body(t,
		recordJSON("ObjectCreated:Put", "b1", "uploads/one.jpg"),
		recordJSON("ObjectRemoved:Delete", "b1", "uploads/gone.jpg"),
		recordJSON("ObjectCreated:CompleteMultipartUpload", "b2", "uploads/two+words.png"),
		recordJSON("ObjectRestore:Completed", "b1", "archive/old.jpg"),
	)
	got, err := Decode(body, "")
	if err != nil {
		t.Fatal(err)
	}
	type short struct {
		Kind   Kind
		Name   string
		Bucket string
		Key    string
	}
	want := []short{
		{KindCreated, "ObjectCreated:Put", "b1", "uploads/one.jpg"},
		{KindRemoved, "ObjectRemoved:Delete", "b1", "uploads/gone.jpg"},
		{KindCreated, "ObjectCreated:CompleteMultipartUpload", "b2", "uploads/two words.png"},
		{KindOther, "ObjectRestore:Completed", "b1", "archive/old.jpg"},
	}
	if got.Shape != ShapeS3 {
		t.Errorf("Shape = %q, want %q", got.Shape, ShapeS3)
	}
	if len(got.Events) != len(want) {
		t.Fatalf("got %d events, want %d", len(got.Events), len(want))
	}
	for i, ev := range got.Events {
		s := short{ev.Kind, ev.Name, ev.Bucket, ev.Key}
		if s != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, s, want[i])
		}
		if ev.Size != 42 || ev.ETag != "0123abcd" || ev.VersionID != "v1" || ev.Sequencer != "00AB" {
			t.Errorf("event %d object fields = %d %q %q %q", i, ev.Size, ev.ETag, ev.VersionID, ev.Sequencer)
		}
	}
}

func TestDecodeKeyEncoding(t *testing.T) {
	tests := []struct {
		name   string
		rawKey string
		want   string
	}{
		{name: "plus is a space", rawKey: "a+b", want: "a b"},
		{name: "encoded plus", rawKey: "a%2Bb", want: "a+b"},
		{name: "utf-8 bytes", rawKey: "caf%C3%A9.jpg", want: "café.jpg"},
		{name: "at sign", rawKey: "a%40b", want: "a@b"},
		{name: "slashes stay", rawKey: "dir/sub/x.jpg", want: "dir/sub/x.jpg"},
		{name: "encoded percent", rawKey: "100%25.jpg", want: "100%.jpg"},
		{name: "space and parentheses", rawKey: "my+photo+%281%29.jpg", want: "my photo (1).jpg"},
		{name: "decoded once only", rawKey: "a%252B.jpg", want: "a%2B.jpg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(s3Body(t, recordJSON("ObjectCreated:Put", "bkt", tt.rawKey)), "")
			if err != nil {
				t.Fatal(err)
			}
			if k := got.Events[0].Key; k != tt.want {
				t.Errorf("key %q decoded to %q, want %q", tt.rawKey, k, tt.want)
			}
		})
	}
}

func TestDecodeEventBridgeKeyIsRaw(t *testing.T) {
	tests := []struct {
		name string
		key  string
	}{
		{name: "plus", key: "a+b.jpg"},
		{name: "percent sequence", key: "a%2Bb.jpg"},
		{name: "unicode and space", key: "photos/café au lait.jpg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := eventBridgeBody(t, "Object Created", "bkt", tt.key)
			got, err := Decode(body, "")
			if err != nil {
				t.Fatal(err)
			}
			if k := got.Events[0].Key; k != tt.key {
				t.Errorf("key = %q, want %q unchanged", k, tt.key)
			}
		})
	}
}

func eventBridgeBody(t testing.TB, detailType, bucket, key string) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{
		"version":     "0",
		"id":          "17793124-05d4-b198-2fde-7ededc63b103",
		"detail-type": detailType,
		"source":      "aws.s3",
		"time":        "2024-03-26T18:05:54Z",
		"region":      "us-east-1",
		"detail": map[string]any{
			"bucket": map[string]any{"name": bucket},
			"object": map[string]any{"key": key, "version-id": "v7", "etag": `"abc"`},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestDecodeKinds(t *testing.T) {
	tests := []struct {
		name     string
		body     func(t *testing.T) string
		wantKind Kind
		wantName string
	}{
		{
			name:     "s3 ObjectRemoved is acknowledged, not work",
			body:     func(t *testing.T) string { return s3Body(t, recordJSON("ObjectRemoved:Delete", "b", "k.jpg")) },
			wantKind: KindRemoved,
			wantName: "ObjectRemoved:Delete",
		},
		{
			name: "s3 delete marker",
			body: func(t *testing.T) string {
				return s3Body(t, recordJSON("ObjectRemoved:DeleteMarkerCreated", "b", "k.jpg"))
			},
			wantKind: KindRemoved,
			wantName: "ObjectRemoved:DeleteMarkerCreated",
		},
		{
			name:     "s3 tagging event",
			body:     func(t *testing.T) string { return s3Body(t, recordJSON("ObjectTagging:Put", "b", "k.jpg")) },
			wantKind: KindOther,
			wantName: "ObjectTagging:Put",
		},
		{
			name:     "eventbridge Object Deleted",
			body:     func(t *testing.T) string { return eventBridgeBody(t, "Object Deleted", "b", "k.jpg") },
			wantKind: KindRemoved,
			wantName: "Object Deleted",
		},
		{
			name:     "eventbridge restore",
			body:     func(t *testing.T) string { return eventBridgeBody(t, "Object Restore Completed", "b", "k.jpg") },
			wantKind: KindOther,
			wantName: "Object Restore Completed",
		},
		{
			name: "sns-wrapped removal",
			body: func(t *testing.T) string {
				return snsWrap(t, s3Body(t, recordJSON("ObjectRemoved:Delete", "b", "k.jpg")))
			},
			wantKind: KindRemoved,
			wantName: "ObjectRemoved:Delete",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.body(t), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Events) != 1 {
				t.Fatalf("got %d events, want 1", len(got.Events))
			}
			if ev := got.Events[0]; ev.Kind != tt.wantKind || ev.Name != tt.wantName {
				t.Errorf("event = %v %q, want %v %q", ev.Kind, ev.Name, tt.wantKind, tt.wantName)
			}
		})
	}
}

func TestDecodeEventBridgeFields(t *testing.T) {
	got, err := Decode(eventBridgeBody(t, "Object Created", "bkt", "k.jpg"), "")
	if err != nil {
		t.Fatal(err)
	}
	ev := got.Events[0]
	if ev.VersionID != "v7" || ev.ETag != "abc" || ev.Size != -1 {
		t.Errorf("VersionID, ETag, Size = %q, %q, %d; want v7, abc (unquoted), -1", ev.VersionID, ev.ETag, ev.Size)
	}
}

func TestDecodeOwnShapes(t *testing.T) {
	tests := []struct {
		name          string
		body          string
		defaultBucket string
		want          Body
	}{
		{
			name: "json with bucket, key and version",
			body: `{"bucket":"b1","key":"uploads/a b+c.jpg","version_id":"3HL4kqtJ"}`,
			want: Body{Shape: ShapeJSON, Events: []Event{{Kind: KindCreated, Bucket: "b1", Key: "uploads/a b+c.jpg", VersionID: "3HL4kqtJ", Size: -1}}},
		},
		{
			name:          "json without bucket takes the default",
			body:          `{"key":"uploads/x.jpg"}`,
			defaultBucket: "def",
			want:          Body{Shape: ShapeJSON, Events: []Event{{Kind: KindCreated, Bucket: "def", Key: "uploads/x.jpg", Size: -1}}},
		},
		{
			name:          "json with extra fields",
			body:          `{"key":"x.jpg","producer":"batch-7","attempt":2}`,
			defaultBucket: "def",
			want:          Body{Shape: ShapeJSON, Events: []Event{{Kind: KindCreated, Bucket: "def", Key: "x.jpg", Size: -1}}},
		},
		{
			name:          "json key is raw, not form-decoded",
			body:          `{"key":"a%2Bb+c.jpg"}`,
			defaultBucket: "def",
			want:          Body{Shape: ShapeJSON, Events: []Event{{Kind: KindCreated, Bucket: "def", Key: "a%2Bb+c.jpg", Size: -1}}},
		},
		{
			name:          "bare key",
			body:          "uploads/cat.jpg",
			defaultBucket: "def",
			want:          Body{Shape: ShapeKey, Events: []Event{{Kind: KindCreated, Bucket: "def", Key: "uploads/cat.jpg", Size: -1}}},
		},
		{
			name:          "bare key is trimmed",
			body:          "  uploads/my cat.jpg\n",
			defaultBucket: "def",
			want:          Body{Shape: ShapeKey, Events: []Event{{Kind: KindCreated, Bucket: "def", Key: "uploads/my cat.jpg", Size: -1}}},
		},
		{
			name:          "bare unicode key",
			body:          "фото/café.jpg",
			defaultBucket: "def",
			want:          Body{Shape: ShapeKey, Events: []Event{{Kind: KindCreated, Bucket: "def", Key: "фото/café.jpg", Size: -1}}},
		},
		{
			name:          "bare key of exactly 1024 bytes",
			body:          strings.Repeat("k", MaxKeyBytes),
			defaultBucket: "def",
			want:          Body{Shape: ShapeKey, Events: []Event{{Kind: KindCreated, Bucket: "def", Key: strings.Repeat("k", MaxKeyBytes), Size: -1}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.body, tt.defaultBucket)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	record := func(mutate func(r map[string]any)) string {
		r := recordJSON("ObjectCreated:Put", "b", "k.jpg")
		mutate(r)
		data, _ := json.Marshal(map[string]any{"Records": []any{r}})
		return string(data)
	}
	object := func(r map[string]any) map[string]any { return r["s3"].(map[string]any)["object"].(map[string]any) }
	bucket := func(r map[string]any) map[string]any { return r["s3"].(map[string]any)["bucket"].(map[string]any) }

	tests := []struct {
		name       string
		body       string
		wantReason string // a part of the reason
		noDefault  bool   // decode without a default bucket
	}{
		{name: "empty body", body: "", wantReason: "empty"},
		{name: "only whitespace", body: " \n\t ", wantReason: "empty"},
		{name: "too large", body: strings.Repeat("a", MaxBodyBytes+1), wantReason: "more than the"},
		{name: "invalid json", body: `{"Records": [`, wantReason: "invalid JSON"},
		{name: "trailing garbage", body: `{"key":"a"} x`, wantReason: "invalid JSON"},
		{name: "json array", body: `[{"key":"a"}]`, wantReason: "array"},
		{name: "unknown object", body: `{"hello":"world"}`, wantReason: "unknown shape"},
		{name: "empty object", body: `{}`, wantReason: "no members"},
		{name: "member names are case-sensitive", body: `{"records":[]}`, wantReason: "unknown shape"},
		{name: "Records empty", body: `{"Records":[]}`, wantReason: "Records is empty"},
		{name: "Records null", body: `{"Records":null}`, wantReason: "Records is null"},
		{name: "Records not a list", body: `{"Records":{"a":1}}`, wantReason: "JSON"},
		{name: "record without bucket", body: record(func(r map[string]any) { delete(bucket(r), "name") }), wantReason: "Records[0]: missing s3.bucket.name"},
		{name: "record without key", body: record(func(r map[string]any) { delete(object(r), "key") }), wantReason: "Records[0]: missing s3.object.key"},
		{name: "record without eventName", body: record(func(r map[string]any) { delete(r, "eventName") }), wantReason: "missing eventName"},
		{name: "record with empty key", body: record(func(r map[string]any) { object(r)["key"] = "" }), wantReason: "key is empty"},
		{name: "record key with bad escape", body: record(func(r map[string]any) { object(r)["key"] = "a%zz" }), wantReason: "form encoding"},
		{name: "record key decoding to invalid utf-8", body: record(func(r map[string]any) { object(r)["key"] = "a%FF.jpg" }), wantReason: "UTF-8"},
		{name: "record key over 1024 bytes", body: record(func(r map[string]any) { object(r)["key"] = strings.Repeat("%C3%A9", 513) }), wantReason: "1026 bytes"},
		{name: "record with size as string", body: record(func(r map[string]any) { object(r)["size"] = "12" }), wantReason: "size"},
		{name: "record with negative size", body: record(func(r map[string]any) { object(r)["size"] = -1 }), wantReason: "negative"},
		{name: "record bucket with slash", body: record(func(r map[string]any) { bucket(r)["name"] = "a/b" }), wantReason: "slash"},
		{name: "second record bad", body: `{"Records":[` + strings.TrimSuffix(strings.TrimPrefix(record(func(map[string]any) {}), `{"Records":[`), `]}`) + `,{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"}}}]}`, wantReason: "Records[1]: missing s3.object.key"},
		{name: "unknown service event", body: `{"Service":"Amazon S3","Event":"s3:Other"}`, wantReason: "unknown S3 service event"},
		{name: "sns message not a string", body: `{"Type":"Notification","Message":{"Records":[]}}`, wantReason: "not a string"},
		{name: "sns message not json", body: `{"Type":"Notification","Message":"uploads/a.jpg"}`, wantReason: "not a JSON object"},
		{name: "sns wrapping our plain json", body: `{"Type":"Notification","Message":"{\"bucket\":\"b\",\"key\":\"k\"}"}`, wantReason: "SNS Message: JSON object of unknown shape"},
		{name: "sns inside sns", body: `{"Type":"Notification","Message":"{\"Type\":\"Notification\",\"Message\":\"{}\"}"}`, wantReason: "inside an SNS"},
		{name: "eventbridge from another source", body: `{"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{}}`, wantReason: "aws.ec2"},
		{name: "eventbridge without detail", body: `{"source":"aws.s3","detail-type":"Object Created"}`, wantReason: "without detail"},
		{name: "eventbridge without key", body: `{"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"b"},"object":{}}}`, wantReason: "missing detail.object.key"},
		{name: "eventbridge without bucket", body: `{"source":"aws.s3","detail-type":"Object Created","detail":{"object":{"key":"k"}}}`, wantReason: "missing detail.bucket.name"},
		{name: "plain json key not a string", body: `{"key":7}`, wantReason: "key"},
		{name: "plain json null key", body: `{"key":null}`, wantReason: "key is null"},
		{name: "plain json empty key", body: `{"bucket":"b","key":""}`, wantReason: "key is empty"},
		{name: "plain json without any bucket", body: `{"key":"k.jpg"}`, wantReason: "no default bucket", noDefault: true},
		{name: "bare key without default bucket", body: "k.jpg", wantReason: "no default bucket", noDefault: true},
		{name: "plain json invalid utf-8 key", body: "{\"bucket\":\"b\",\"key\":\"a\xffb\"}", wantReason: "UTF-8"},
		{name: "bare key over two lines", body: "a.jpg\nb.jpg", wantReason: "more than one line"},
		{name: "bare key with control character", body: "a\x00b.jpg", wantReason: "control"},
		{name: "bare key invalid utf-8", body: "caf\xe9.jpg", wantReason: "UTF-8"},
		{name: "bare key too long", body: strings.Repeat("k", MaxKeyBytes+1), wantReason: "1025 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defaultBucket := "def"
			if tt.noDefault {
				defaultBucket = ""
			}
			got, err := Decode(tt.body, defaultBucket)
			if err == nil {
				t.Fatalf("Decode succeeded with %+v, want an error", got)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("errors.Is(%v, ErrMalformed) = false", err)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DecodeError", err)
			}
			if !strings.Contains(de.Reason, tt.wantReason) {
				t.Errorf("reason %q does not contain %q", de.Reason, tt.wantReason)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || len(msg) > 400 {
				t.Errorf("error is not one short line: %q", msg)
			}
			if len(got.Events) != 0 || got.Shape != "" {
				t.Errorf("Decode returned %+v alongside an error", got)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{KindCreated, "created"},
		{KindRemoved, "removed"},
		{KindTest, "test"},
		{KindOther, "other"},
		{Kind(99), "other"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.kind.String(); got != tt.want {
				t.Errorf("Kind(%d).String() = %q, want %q", int(tt.kind), got, tt.want)
			}
		})
	}
}
