package outbox

import (
	"strings"
	"testing"
	"time"
)

func TestDedupID(t *testing.T) {
	base := DedupID("b", "k", "etag1", "d1")
	if len(base) != 64 {
		t.Fatalf("DedupID length = %d, want 64 (SQS allows up to 128)", len(base))
	}
	if again := DedupID("b", "k", "etag1", "d1"); again != base {
		t.Fatalf("DedupID is not stable: %s vs %s", base, again)
	}
	differs := map[string][4]string{
		"bucket":       {"b2", "k", "etag1", "d1"},
		"key":          {"b", "k2", "etag1", "d1"},
		"version":      {"b", "k", "etag2", "d1"},
		"recipe":       {"b", "k", "etag1", "d2"},
		"part shifted": {"b", "ke", "tag1", "d1"},
	}
	for name, p := range differs {
		if DedupID(p[0], p[1], p[2], p[3]) == base {
			t.Errorf("%s: DedupID did not change", name)
		}
	}
}

func TestGroupID(t *testing.T) {
	rec := func(key string) Record { return Record{Source: Source{Bucket: "bkt", Key: key}} }
	tests := []struct {
		name     string
		template string
		rec      Record
		want     string
		hashed   bool
	}{
		{"key", "{key}", rec("uploads/a.jpg"), "uploads/a.jpg", false},
		{"bucket", "{bucket}", rec("uploads/a.jpg"), "bkt", false},
		{"static", "all", rec("uploads/a.jpg"), "all", false},
		{"space hashed", "{key}", rec("uploads/a b.jpg"), "", true},
		{"unicode hashed", "{key}", rec("café.jpg"), "", true},
		{"long hashed", "{key}", rec(strings.Repeat("k", 200)), "", true},
		{"empty template", "", rec("x"), "resizer", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := GroupID(tt.template, tt.rec)
			if tt.hashed {
				if !strings.HasPrefix(got, "sha256-") || len(got) > 128 {
					t.Fatalf("GroupID = %q, want a sha256- digest of at most 128 chars", got)
				}
				if GroupID(tt.template, tt.rec) != got {
					t.Fatal("hashed GroupID is not stable")
				}
				return
			}
			if got != tt.want {
				t.Fatalf("GroupID = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMillis(t *testing.T) {
	if got := Millis(1234567 * time.Nanosecond); got != 1.2 {
		t.Fatalf("Millis = %v, want 1.2", got)
	}
}
