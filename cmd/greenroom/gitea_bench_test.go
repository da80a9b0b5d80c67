package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/greenroom-dev/greenroom/catalog/generate"
	"github.com/greenroom-dev/greenroom/plugins/gitea/giteatest"
)

// BenchmarkGiteaWebhookToVisible measures the git plane's freshness: how
// long a commit pushed to a real Gitea takes to show in the catalog API of
// a server holding a big generated catalog (goal: webhook-to-visible p99
// under 1 s with 100k entities). Each push is measured twice: from just
// before the commit (Gitea's own webhook queue included) and from the
// moment the delivery reached the server, which a recording proxy in
// front of the events endpoint sees, since production code has no hook
// for it.
//
// The pushes run once, whatever b.N: the result is a distribution over
// GREENROOM_BENCH_PUSHES pushes (default 50) with
// GREENROOM_BENCH_ENTITIES generated entities (default 100000), not a
// per-op time. Run it with -benchtime 1x. The pushes take well under
// catalog.processingInterval (100 s), so no periodic re-crawl of the big
// catalog overlaps them unless GREENROOM_PROCESSING_INTERVAL (read by
// serve) is set shorter.
func BenchmarkGiteaWebhookToVisible(b *testing.B) {
	entities := benchEnv(b, "GREENROOM_BENCH_ENTITIES", 100000)
	pushes := benchEnv(b, "GREENROOM_BENCH_PUSHES", 50)

	g := giteatest.Start(b) // skips without GREENROOM_GITEA
	const org, repo, secret = "freshcart", "orders", "whsec-bench-3d9a71c0"
	if err := g.CreateOrg(org); err != nil {
		b.Fatal(err)
	}
	if _, err := g.CreateRepo(org, repo, true); err != nil {
		b.Fatal(err)
	}
	if _, err := g.PutFile(org, repo, "main", "catalog-info.yaml", componentInfo(repo, "rev initial"), "add catalog-info.yaml"); err != nil {
		b.Fatal(err)
	}

	catDir := filepath.Join(b.TempDir(), "catalog")
	st, err := generate.Write(catDir, entities, 1)
	if err != nil {
		b.Fatal(err)
	}
	cfg := giteaConfig(b, g, org, secret, filepath.Join(catDir, "all.yaml"))

	started := time.Now()
	base, logs := serveLogged(b, "--config", cfg, "--data-dir", b.TempDir())
	ready := time.Since(started)
	waitEntity(b, base, "component:default/"+repo, 60*time.Second, func(e map[string]any) bool { return description(e) == "rev initial" })
	firstCrawl := crawlTook(logs.String(), "file:"+filepath.Join(catDir, "all.yaml"))

	proxy := newDeliveryRecorder(b, base+"/api/events/http/gitea")
	if _, err := g.CreateOrgWebhook(org, proxy.URL, secret, []string{"push"}); err != nil {
		b.Fatal(err)
	}

	var push, hook, api, queue []time.Duration
	var arrivals []time.Time
	run := func() {
		client := &http.Client{Timeout: 5 * time.Second}
		byName := base + "/api/catalog/entities/by-name/component/default/" + repo
		for i := range pushes {
			want := fmt.Sprintf("rev %d", i)
			before := time.Now()
			sha, err := g.PutFile(org, repo, "main", "catalog-info.yaml", componentInfo(repo, want), "describe "+want)
			if err != nil {
				b.Fatalf("push %d: %v", i, err)
			}
			committed := time.Now()
			visible, last := pollDescription(client, byName, want, 30*time.Second)
			if visible.IsZero() {
				b.Fatalf("push %d (%s): %q not visible within 30s; last answer %s", i, sha, want, last)
			}
			arrived, ok := proxy.arrival(sha, 10*time.Second)
			if !ok {
				b.Fatalf("push %d (%s): visible, but no delivery for the commit reached the proxy", i, sha)
			}
			push = append(push, visible.Sub(before))
			hook = append(hook, visible.Sub(arrived))
			api = append(api, committed.Sub(before))
			queue = append(queue, arrived.Sub(committed))
			arrivals = append(arrivals, arrived)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i == 0 {
			run()
		}
	}
	b.StopTimer()

	pushP50, pushP99 := percentile(push, 50), percentile(push, 99)
	hookP50, hookP99 := percentile(hook, 50), percentile(hook, 99)
	b.ReportMetric(ms(pushP50), "push-p50-ms")
	b.ReportMetric(ms(pushP99), "push-p99-ms")
	b.ReportMetric(ms(hookP50), "webhook-p50-ms")
	b.ReportMetric(ms(hookP99), "webhook-p99-ms")
	b.Logf("%d entities generated (%d files); first crawl of all.yaml took %s (serve ready after %s)", st.Entities, st.Files, firstCrawl, ready.Round(time.Millisecond))
	b.Logf("%d pushes: push-to-visible p50 %s p99 %s max %s; webhook-to-visible p50 %s p99 %s max %s",
		len(push), pushP50, pushP99, slices.Max(push).Round(time.Millisecond), hookP50, hookP99, slices.Max(hook).Round(time.Millisecond))
	b.Logf("in Gitea: the contents API call (the commit) p50 %s p99 %s; from its answer to the delivery p50 %s p99 %s",
		percentile(api, 50), percentile(api, 99), percentile(queue, 50), percentile(queue, 99))

	// Where the time went, from the server's log: each push's re-crawl
	// of the repository's location, and the wait between the delivery's
	// arrival and that crawl's start (the queue and the engine's lock).
	crawls := urlCrawls(logs.String(), "url:"+g.URL+"/"+org+"/"+repo+"/")
	var took, wait []time.Duration
	for i, a := range arrivals {
		j := slices.IndexFunc(crawls, func(c logCrawl) bool { return c.end.After(a) })
		if j < 0 {
			continue
		}
		took = append(took, crawls[j].took)
		wait = append(wait, max(0, crawls[j].end.Add(-crawls[j].took).Sub(a)))
		if hook[i] > time.Second {
			b.Logf("push %d: webhook-to-visible %s: waited %s before its re-crawl, which took %s", i, hook[i].Round(time.Millisecond), wait[len(wait)-1].Round(time.Millisecond), crawls[j].took)
		}
		crawls = crawls[j+1:]
	}
	if len(took) > 0 {
		b.Logf("re-crawl of the repository's location: p50 %s p99 %s; wait before it: p50 %s p99 %s (%d of %d pushes matched in the log)",
			percentile(took, 50), percentile(took, 99), percentile(wait, 50), percentile(wait, 99), len(took), len(arrivals))
	}
	// A periodic re-crawl of the big catalog holds the engine while it
	// runs; a push arriving meanwhile waits for it.
	if big := urlCrawls(logs.String(), "file:"+filepath.Join(catDir, "all.yaml")); len(big) > 1 {
		var ds []string
		for _, c := range big[1:] {
			ds = append(ds, c.took.String())
		}
		b.Logf("re-crawls of all.yaml after the first: %s", strings.Join(ds, ", "))
	}
	if strings.Contains(logs.String(), secret) {
		b.Error("the webhook secret is in the server log")
	}
}

func benchEnv(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// pollDescription polls url every 5 ms until the entity's description is
// want; it returns the time it was first seen (zero after limit) and the
// last answer.
func pollDescription(c *http.Client, url, want string, limit time.Duration) (time.Time, string) {
	deadline := time.Now().Add(limit)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		now := time.Now()
		if err != nil {
			last = err.Error()
		} else {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e map[string]any
			if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &e) == nil && description(e) == want {
				return now, ""
			}
			last = fmt.Sprintf("%d %.300s", resp.StatusCode, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}, last
}

// deliveryRecorder is a reverse proxy in front of the events endpoint: it
// records when each push delivery arrived, by the pushed commit's SHA,
// and forwards it unchanged (body and headers, which carry the signature).
type deliveryRecorder struct {
	*httptest.Server
	mu      sync.Mutex
	arrived map[string]time.Time
	notify  chan struct{}
}

func newDeliveryRecorder(tb testing.TB, target string) *deliveryRecorder {
	d := &deliveryRecorder{arrived: map[string]time.Time{}, notify: make(chan struct{}, 1)}
	client := &http.Client{Timeout: 30 * time.Second}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, err := io.ReadAll(io.LimitReader(r.Body, 25<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		var p struct {
			After string `json:"after"`
		}
		if json.Unmarshal(body, &p) == nil && p.After != "" {
			d.mu.Lock()
			if _, seen := d.arrived[p.After]; !seen { // a redelivery is not an arrival
				d.arrived[p.After] = at
			}
			d.mu.Unlock()
			select {
			case d.notify <- struct{}{}:
			default:
			}
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, target, bytes.NewReader(body))
		if err != nil {
			http.Error(w, "forward", http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, "forward", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	tb.Cleanup(d.Close)
	return d
}

// arrival waits up to limit for the delivery of commit sha.
func (d *deliveryRecorder) arrival(sha string, limit time.Duration) (time.Time, bool) {
	deadline := time.After(limit)
	for {
		d.mu.Lock()
		at, ok := d.arrived[sha]
		d.mu.Unlock()
		if ok {
			return at, true
		}
		select {
		case <-d.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			return time.Time{}, false
		}
	}
}

// percentile is the nearest-rank p-th percentile (of 50 samples, p99 is
// the largest).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(k, 0), len(s)-1)].Round(time.Millisecond)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// logCrawl is one "crawled location" line of the server's log.
type logCrawl struct {
	end  time.Time
	took time.Duration
}

var crawlLineRe = regexp.MustCompile(`^time=(\S+) .*msg="crawled location" location=(\S+) .* took=(\S+)`)

// urlCrawls are the crawls of locations starting with prefix, in log order.
func urlCrawls(log, prefix string) []logCrawl {
	var out []logCrawl
	for line := range strings.Lines(log) {
		m := crawlLineRe.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil || !strings.HasPrefix(m[2], prefix) {
			continue
		}
		end, err1 := time.Parse(time.RFC3339Nano, m[1])
		took, err2 := time.ParseDuration(m[3])
		if err1 == nil && err2 == nil {
			out = append(out, logCrawl{end: end, took: took})
		}
	}
	return out
}

// crawlTook is the duration of the first crawl of location, from the log.
func crawlTook(log, location string) time.Duration {
	for line := range strings.Lines(log) {
		m := crawlLineRe.FindStringSubmatch(strings.TrimSpace(line))
		if m != nil && m[2] == location {
			d, _ := time.ParseDuration(m[3])
			return d
		}
	}
	return 0
}
