package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// CheckTimeout bounds each readiness check.
const CheckTimeout = 3 * time.Second

// Check is one condition of readiness: Run returns nil when it holds.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Server serves /metrics, /healthz and /readyz.
//
// /healthz answers 200 while the process can answer at all (liveness: a
// failing one means restart it). /readyz runs every check and answers 200
// only when all pass, 503 otherwise, naming each check and its result, one
// per line (readiness: a failing one means send no work, look into it).
type Server struct {
	ln   net.Listener
	srv  *http.Server
	log  hclog.Logger
	done chan struct{}
	once sync.Once
}

// Listen binds addr and serves in the background until Close.
func Listen(addr string, g prometheus.Gatherer, checks []Check, log hclog.Logger) (*Server, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics_addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: errorLog{log}}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		report, ready := runChecks(r.Context(), checks)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprint(w, report)
	})
	s := &Server{
		ln:   ln,
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		log:  log,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "error", err)
		}
	}()
	log.Info("serving metrics and health", "addr", ln.Addr().String())
	return s, nil
}

// Addr is the bound address (with the port chosen when addr asked for 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, letting requests in progress finish for a moment.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = s.srv.Shutdown(ctx)
		<-s.done
	})
	return err
}

// runChecks runs every check concurrently, each under CheckTimeout, and
// reports "name: ok" or "name: error" lines in the order given.
func runChecks(ctx context.Context, checks []Check) (string, bool) {
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
			defer cancel()
			errs[i] = c.Run(cctx)
		}()
	}
	wg.Wait()
	var b strings.Builder
	ready := true
	for i, c := range checks {
		if errs[i] != nil {
			ready = false
			fmt.Fprintf(&b, "%s: %s\n", c.Name, oneLine(errs[i].Error()))
		} else {
			fmt.Fprintf(&b, "%s: ok\n", c.Name)
		}
	}
	return b.String(), ready
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// errorLog routes promhttp's errors to hclog.
type errorLog struct{ log hclog.Logger }

func (e errorLog) Println(v ...any) { e.log.Error("serving metrics", "error", fmt.Sprint(v...)) }
