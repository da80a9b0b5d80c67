package gitlab

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

var isoDurationRe = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseSchedule reads a Backstage task schedule ({frequency, timeout,
// initialDelay, scope}) and returns its frequency. The frequency is an
// object ({minutes: 30}), an ISO 8601 duration ("PT30M") or a Go duration;
// cron frequencies are not supported.
func parseSchedule(v any) (time.Duration, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return 0, fmt.Errorf("must be an object with a frequency")
	}
	for k := range m {
		switch k {
		case "frequency", "timeout", "initialDelay", "scope":
		default:
			return 0, fmt.Errorf("unknown key %q (expected frequency, timeout, initialDelay, scope)", k)
		}
	}
	f, ok := m["frequency"]
	if !ok {
		return 0, fmt.Errorf("frequency is required")
	}
	if fm, ok := f.(map[string]any); ok {
		if _, cron := fm["cron"]; cron {
			return 0, fmt.Errorf("cron frequencies are not supported; use a duration such as {minutes: 30}")
		}
		if _, trigger := fm["trigger"]; trigger {
			return 0, fmt.Errorf("manual triggers are not supported; use a duration such as {minutes: 30}")
		}
	}
	d, err := parseDuration(f)
	if err != nil {
		return 0, fmt.Errorf("frequency: %v", err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("frequency must be positive")
	}
	return d, nil
}

func parseDuration(v any) (time.Duration, error) {
	switch t := v.(type) {
	case string:
		if m := isoDurationRe.FindStringSubmatch(t); m != nil && t != "P" && t != "PT" {
			var d time.Duration
			units := []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second}
			for i, u := range units {
				if m[i+1] != "" {
					f, _ := strconv.ParseFloat(m[i+1], 64)
					d += time.Duration(f * float64(u))
				}
			}
			return d, nil
		}
		return time.ParseDuration(t)
	case map[string]any:
		units := map[string]time.Duration{"milliseconds": time.Millisecond, "seconds": time.Second,
			"minutes": time.Minute, "hours": time.Hour, "days": 24 * time.Hour, "weeks": 7 * 24 * time.Hour}
		var d time.Duration
		for k, val := range t {
			u, ok := units[k]
			if !ok {
				return 0, fmt.Errorf("unknown duration unit %q", k)
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
		return d, nil
	}
	return 0, fmt.Errorf("expected a duration such as {minutes: 30} or PT30M, got %v", v)
}
