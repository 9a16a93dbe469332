package mototest

import (
	"net/http"
	"testing"
)

func TestStartAnswers(t *testing.T) {
	endpoint := Start(t)
	resp, err := http.Get(endpoint + "/moto-api/")
	if err != nil {
		t.Fatalf("GET moto-api: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("moto-api status %d", resp.StatusCode)
	}
}
