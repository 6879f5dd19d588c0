package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/listen"
	"github.com/gomilter/gomilter/internal/obs"
	"github.com/prometheus/client_golang/prometheus"
)

// piece is one daemon as serve runs it. Each piece's file registers a
// builder in pieceBuilders; serve knows nothing about the protocols.
type piece struct {
	listener config.Listener
	serve    func(net.Listener) error
	// extra are further sockets of the same daemon (the auth-userdb
	// socket of the auth piece), served with their own function.
	extra    []extraListener
	shutdown func(context.Context) error
	// reload applies a new, already validated config to new connections;
	// connections already open keep what they started with.
	reload func(*config.Config) error
}

type extraListener struct {
	listener config.Listener
	serve    func(net.Listener) error
}

// env is what every piece shares: one logger, one registry, one resolver.
type env struct {
	logger *slog.Logger
	reg    prometheus.Registerer
	shared *sharedDeps
}

type pieceBuilder struct {
	enabled  func(*config.Config) bool
	listener func(*config.Config) config.Listener
	build    func(*config.Config, *env) (*piece, error)
}

// pieceBuilders maps -only names to builders, filled by init functions.
var pieceBuilders = map[string]pieceBuilder{}

func registerPiece(name string, b pieceBuilder) { pieceBuilders[name] = b }

func init() {
	register("serve", "run the daemons (all enabled ones, or -only a subset)", runServe)
}

func runServe(args []string, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (default: the embedded default)")
	only := fs.String("only", "", "comma-separated subset of pieces: "+strings.Join(pieceNames(), ","))
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	names, err := selectPieces(cfg, *only)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter serve:", err)
		return 2
	}
	logger, err := obs.NewLogger(stderr, cfg.Log.Format, cfg.Log.Level)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	// Signals are caught before the pieces start: loading the spam rules
	// takes seconds, and a SIGHUP (a reload by a service manager) or
	// SIGTERM in that window must wait its turn, not kill the process.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	logger.Info("starting", "pieces", strings.Join(names, ","))
	s := &server{path: *path, cfg: cfg, logger: logger}
	if err := s.start(names); err != nil {
		logger.Error("start failed", "err", err)
		s.stop(context.Background())
		return 1
	}
	return s.wait(sigs)
}

func pieceNames() []string {
	var out []string
	for n := range pieceBuilders {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func selectPieces(cfg *config.Config, only string) ([]string, error) {
	if only == "" {
		var out []string
		for _, n := range pieceNames() {
			if pieceBuilders[n].enabled(cfg) {
				out = append(out, n)
			}
		}
		return out, nil
	}
	var out []string
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		if _, ok := pieceBuilders[n]; !ok {
			return nil, fmt.Errorf("-only: unknown piece %q (have %s)", n, strings.Join(pieceNames(), ", "))
		}
		out = append(out, n)
	}
	return out, nil
}

// server is one running serve process.
type server struct {
	path   string
	cfg    *config.Config
	logger *slog.Logger
	http   *obs.HTTPServer
	shared *sharedDeps
	mu     sync.Mutex
	pieces map[string]*piece
	wg     sync.WaitGroup
	failed chan error
}

func (s *server) start(names []string) error {
	reg := obs.NewRegistry()
	s.failed = make(chan error, len(names)+1)
	s.pieces = map[string]*piece{}
	shared, err := newSharedDeps(s.cfg, reg)
	if err != nil {
		return err
	}
	s.shared = shared
	e := &env{logger: s.logger, reg: reg, shared: shared}
	for _, n := range names {
		p, err := pieceBuilders[n].build(s.cfg, &env{logger: e.logger.With("piece", n), reg: reg, shared: shared})
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		s.pieces[n] = p
		all := append([]extraListener{{p.listener, p.serve}}, p.extra...)
		for _, x := range all {
			ln, err := listen.Open(x.listener)
			if err != nil {
				return fmt.Errorf("%s: %w", n, err)
			}
			s.goServe(n, func() error { return x.serve(ln) })
			s.logger.Info("listening", "piece", n, "addr", x.listener.String())
		}
	}
	if s.cfg.HTTP.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.HTTP.Listen)
		if err != nil {
			return fmt.Errorf("http: %w", err)
		}
		s.http = obs.NewHTTPServer(reg, s.logger)
		s.goServe("http", func() error { return s.http.Serve(ln) })
		s.http.SetReady(true)
		s.logger.Info("listening", "piece", "http", "addr", ln.Addr().String())
	}
	return nil
}

func (s *server) goServe(name string, serve func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := serve(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.failed <- fmt.Errorf("%s: %w", name, err)
		}
	}()
}

// wait handles signals until SIGTERM/SIGINT, then drains and exits 0.
func (s *server) wait(sigs <-chan os.Signal) int {
	for {
		select {
		case err := <-s.failed:
			s.logger.Error("daemon failed", "err", err)
			s.stop(context.Background())
			return 1
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				s.reload()
				continue
			}
			s.logger.Info("shutting down", "signal", sig.String(), "drain", s.cfg.ShutdownTimeout)
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
			s.stop(ctx)
			cancel()
			return 0
		}
	}
}

// reload re-reads the config; a bad file is refused and the old config
// keeps serving. Listener changes need a restart and are reported as such.
func (s *server) reload() {
	cfg, err := config.Load(s.path)
	if err != nil {
		s.logger.Error("reload refused: config invalid; keeping the running config", "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, p := range s.pieces {
		if l := pieceBuilders[n].listener(cfg); l != p.listener {
			s.logger.Warn("listener change needs a restart; keeping the old socket", "piece", n, "old", p.listener.String(), "new", l.String())
		}
		if err := p.reload(cfg); err != nil {
			s.logger.Error("reload refused", "piece", n, "err", err)
			return
		}
	}
	s.cfg = cfg
	s.logger.Info("config reloaded", "file", s.path)
}

func (s *server) stop(ctx context.Context) {
	var wg sync.WaitGroup
	for n, p := range s.pieces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.shutdown(ctx); err != nil {
				s.logger.Warn("shutdown", "piece", n, "err", err)
			}
		}()
	}
	wg.Wait()
	if s.http != nil {
		s.http.Shutdown(ctx)
	}
	if s.shared != nil {
		s.shared.Close()
	}
	s.wg.Wait()
}
