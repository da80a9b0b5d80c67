package gitea

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

var isoDurationRe = regexp.MustCompile(`^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseDuration reads the duration forms of Backstage's schedules: an
// object such as {minutes: 30} (Luxon's units), an ISO 8601 duration
// ("PT30M", "P1D") or a Go duration ("30m"). A cron object is refused:
// the host runs providers on an interval.
func parseDuration(v any) (time.Duration, error) {
	switch t := v.(type) {
	case string:
		if m := isoDurationRe.FindStringSubmatch(t); m != nil && t != "P" && t != "PT" {
			units := []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
			var d time.Duration
			for i, u := range units {
				if m[i+1] != "" {
					f, _ := strconv.ParseFloat(m[i+1], 64)
					d += time.Duration(f * float64(u))
				}
			}
			return positive(d, t)
		}
		d, err := time.ParseDuration(t)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (such as PT30M, 30m or {minutes: 30})", t)
		}
		return positive(d, t)
	case map[string]any:
		if _, ok := t["cron"]; ok {
			return 0, fmt.Errorf("cron schedules are not supported; give a duration such as {minutes: 30}")
		}
		units := map[string]time.Duration{
			"milliseconds": time.Millisecond, "seconds": time.Second, "minutes": time.Minute,
			"hours": time.Hour, "days": 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
		}
		var d time.Duration
		for k, val := range t {
			u, ok := units[k]
			if !ok {
				return 0, fmt.Errorf("unknown duration unit %q (use milliseconds, seconds, minutes, hours, days or weeks)", k)
			}
			switch n := val.(type) {
			case int:
				d += time.Duration(n) * u
			case float64:
				d += time.Duration(n * float64(u))
			default:
				return 0, fmt.Errorf("duration %s must be a number", k)
			}
		}
		return positive(d, fmt.Sprint(v))
	}
	return 0, fmt.Errorf("expected a duration such as {minutes: 30}, PT30M or 30m, got %v", v)
}

func positive(d time.Duration, src string) (time.Duration, error) {
	if d <= 0 {
		return 0, fmt.Errorf("duration %s must be positive", src)
	}
	return d, nil
}
