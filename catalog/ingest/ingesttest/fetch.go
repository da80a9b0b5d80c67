package ingesttest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"

	"github.com/greenroom-dev/greenroom/catalog/ingest"
)

// LoopbackFetcher is an ingest.Fetcher for tests: it reads http URLs of
// test servers on 127.0.0.1 or [::1] and nothing else, so a test catalog
// can never reach out of the machine. Servers use the reading policy of
// plugins/reading instead.
type LoopbackFetcher struct {
	Client *http.Client // nil: a client that follows no redirects
}

// Fetch GETs a loopback URL.
func (f LoopbackFetcher) Fetch(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("unsupported URL %q: only http and https can be read", rawURL)
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("the test fetcher reads only 127.0.0.1 and [::1], not %s", u.Host)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	client := f.Client
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, &ingest.NotFoundError{Target: rawURL}
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("could not read %s, %d %s", rawURL, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, ingest.MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > ingest.MaxFileSize {
		return nil, fmt.Errorf("%s is larger than the %d MiB limit", rawURL, ingest.MaxFileSize>>20)
	}
	return data, nil
}
